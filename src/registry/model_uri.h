#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/status.h"
#include "registry/model_registry.h"
#include "registry/registry_entities.h"
#include "tracking/artifact_store.h"
#include "tracking/tracking_store.h"

namespace lakeml::registry {

enum class ModelUriKind {
  kVersion,      // models:/<name>/<version>
  kStage,        // models:/<name>/<stage>       (latest version in that stage)
  kLatest,       // models:/<name>/latest        (highest version, any stage)
  kAlias,        // models:/<name>@<alias>
  kLoggedModel,  // models:/<model_id>           (MLflow 3 logged model)
  kRun,          // runs:/<run_id>/<path>
};

// A parsed model URI. Only the fields of its kind are set.
struct ModelUri {
  ModelUriKind kind = ModelUriKind::kVersion;
  std::string name;      // registered model name (kVersion, kStage, kLatest, kAlias)
  int64_t version = 0;   // kVersion
  std::string stage;     // kStage, canonical ("Staging")
  std::string alias;     // kAlias
  std::string model_id;  // kLoggedModel
  std::string run_id;    // kRun
  std::string path;      // kRun: safe relative path inside the run's artifacts, "" = the root
};

// Parses `models:/...` and `runs:/...` URIs the way MLflow's client does (`latest` and stage
// names any case; a single segment without `@` is a logged-model id), and refuses anything that
// could address files outside the artifact store: a host part (`models://x/...`), fragments and
// queries, and unsafe run paths (checked with ValidatePathIsSafe). Pure, thread-safe.
// Errors: kInvalidArgument naming the URI.
core::Result<ModelUri> ParseModelUri(std::string_view uri);

// Maps an artifact URI of this server (`mlflow-artifacts:/...` or its http(s) form) to the
// absolute local path in `artifacts`, symlinks checked (ArtifactUriToRelativePath, then
// ArtifactStore::Resolve). Errors: kInvalidArgument for other schemes or unsafe paths.
core::Result<std::filesystem::path> ArtifactUriToLocalPath(
    std::string_view artifact_uri, const tracking::ArtifactStore& artifacts);

// Turns the model URIs that AutoML, batch prediction and serving accept into model versions,
// artifact URIs and local model directories. Thread-safe (its parts are); the registry, tracking
// store and artifact store must outlive it.
class ModelUriResolver {
 public:
  ModelUriResolver(ModelRegistry& registry, tracking::TrackingStore& tracking,
                   const tracking::ArtifactStore& artifacts);

  // The registered model version a `models:/` URI names (version, stage, latest or alias form).
  // Errors: kInvalidArgument (malformed URI, a runs:/ or logged-model URI, bad stage),
  // kNotFound naming the URI (unknown model, version, alias, or no version in the stage).
  core::Result<ModelVersion> ResolveVersion(std::string_view uri);

  // The artifact URI where the model's files are: the version's storage location, the logged
  // model's artifact location, or the run's artifact URI joined with the path.
  // Errors: as ResolveVersion, plus kNotFound for an unknown run or logged model.
  core::Result<std::string> ResolveArtifactUri(std::string_view uri);

  // The absolute local directory of the model inside the artifact store.
  // Errors: as ResolveArtifactUri; kInvalidArgument if the location is not in this artifact
  // store; kNotFound naming the URI if the directory does not exist.
  core::Result<std::filesystem::path> ResolveLocalDirectory(std::string_view uri);

 private:
  ModelRegistry& registry_;
  tracking::TrackingStore& tracking_;
  const tracking::ArtifactStore& artifacts_;
};

}  // namespace lakeml::registry
