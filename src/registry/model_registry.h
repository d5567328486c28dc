#pragma once

#include <cstdint>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "metastore/database.h"
#include "registry/registry_entities.h"
#include "tracking/artifact_store.h"
#include "tracking/tracking_store.h"

namespace lakeml::registry {

struct CreateModelVersionRequest {
  std::string name;
  std::string source;
  std::string run_id;  // optional
  std::vector<Tag> tags;
  std::string run_link;
  std::string description;
  std::string model_id;  // optional (MLflow 3 logged model)
};

struct SearchRegisteredModelsRequest {
  std::string filter;
  int64_t max_results = 100;  // 1..1000
  std::vector<std::string> order_by;
  std::string page_token;
};

struct SearchModelVersionsRequest {
  std::string filter;
  int64_t max_results = 10000;  // 1..200000
  std::vector<std::string> order_by;
  std::string page_token;
};

struct ModelRegistryOptions {
  // MLflow's MLFLOW_CREATE_MODEL_VERSION_SOURCE_VALIDATION_REGEX: when set, a new version's
  // source must also match it (std::regex_search, ECMAScript). It only narrows the built-in
  // rules, never widens them.
  std::optional<std::regex> source_validation_regex;
};

// Canonical stage for `stage` matched case-insensitively ("staging" -> "Staging"). The internal
// deleted stage is not accepted. Errors: kInvalidArgument "Invalid Model Version stage: ...".
core::Result<std::string> CanonicalStage(std::string_view stage);

// Parses a version given as text. Errors: kInvalidArgument "Model version must be an integer...".
core::Result<int64_t> ParseVersion(std::string_view version);

// MLflow's model registry semantics over the metadata database: registered models, versions,
// stages, aliases and tags, with MLflow 2.x limits, error codes and search grammar.
//
// Sources of new versions are validated so that a version can only ever point inside the
// artifact store (see ValidateVersionSource); the rules do not depend on tags.
//
// Thread-safe: all state is in the database; `db`, `clock`, `tracking` and `artifacts` must
// outlive the registry. Errors (besides those listed per method): kInvalidArgument for bad
// input (names, versions, stages, aliases, tag limits, filters, page tokens, sources),
// kNotFound for an unknown model, version, alias or run, kAlreadyExists for a duplicate model
// name, kInternal/kUnavailable from the database.
class ModelRegistry {
 public:
  ModelRegistry(metastore::Database& db, const core::Clock& clock,
                tracking::TrackingStore& tracking, const tracking::ArtifactStore& artifacts,
                ModelRegistryOptions options = {});

  // Registered models.
  // Errors: kAlreadyExists "registered model 'x' already exists".
  core::Result<RegisteredModel> CreateRegisteredModel(const std::string& name,
                                                      const std::vector<Tag>& tags,
                                                      const std::string& description);
  core::Result<RegisteredModel> GetRegisteredModel(const std::string& name);
  // Versions, tags and aliases move with the model. Errors: kAlreadyExists if `new_name` is
  // taken by another model.
  core::Result<RegisteredModel> RenameRegisteredModel(const std::string& name,
                                                      const std::string& new_name);
  core::Result<RegisteredModel> UpdateRegisteredModel(const std::string& name,
                                                      const std::string& description);
  // Removes the model with all its versions, tags and aliases.
  core::Status DeleteRegisteredModel(const std::string& name);
  // Prompts are left out unless the filter names the `mlflow.prompt.is_prompt` tag. Order:
  // the order_by items (name, creation_timestamp/timestamp, last_updated_timestamp), then name.
  core::Result<Page<RegisteredModel>> SearchRegisteredModels(
      const SearchRegisteredModelsRequest& request);
  // The latest version in each of `stages` (any case); all stages, "None" included, when empty.
  core::Result<std::vector<ModelVersion>> GetLatestVersions(const std::string& name,
                                                            const std::vector<std::string>& stages);
  // Upsert. Key: MLflow's name rules, <= 250 characters; value <= 5000.
  core::Status SetRegisteredModelTag(const std::string& name, const Tag& tag);
  // Deleting a key the model does not have succeeds (as in MLflow's SQL store).
  core::Status DeleteRegisteredModelTag(const std::string& name, const std::string& key);

  // Model versions. `version` arguments are decimal text.
  // The new version is max(existing, deleted included) + 1, starting at 1, READY at once; safe
  // under concurrent callers on both backends.
  core::Result<ModelVersion> CreateModelVersion(const CreateModelVersionRequest& request);
  core::Result<ModelVersion> GetModelVersion(const std::string& name, const std::string& version);
  core::Result<ModelVersion> UpdateModelVersion(const std::string& name, const std::string& version,
                                                const std::string& description);
  // Soft delete: the version moves to the hidden stage, its source, run id and run link are
  // redacted and its aliases removed; its number is never reused.
  core::Status DeleteModelVersion(const std::string& name, const std::string& version);
  // Order: the order_by items (name, version_number, creation_timestamp,
  // last_updated_timestamp), then name ASC, then version DESC.
  core::Result<Page<ModelVersion>> SearchModelVersions(const SearchModelVersionsRequest& request);
  // `stage` is matched case-insensitively. With `archive_existing_versions` (only for Staging or
  // Production targets) the other versions in the target stage move to Archived in the same
  // transaction.
  core::Result<ModelVersion> TransitionModelVersionStage(const std::string& name,
                                                         const std::string& version,
                                                         const std::string& stage,
                                                         bool archive_existing_versions);
  // The version's storage location (see ModelVersion::storage_location).
  core::Result<std::string> GetModelVersionDownloadUri(const std::string& name,
                                                       const std::string& version);
  core::Status SetModelVersionTag(const std::string& name, const std::string& version,
                                  const Tag& tag);
  core::Status DeleteModelVersionTag(const std::string& name, const std::string& version,
                                     const std::string& key);

  // Aliases. Names match `^[\w\-]*$`, are non-empty, <= 255 characters; `latest` (any case) and
  // `v<digits>` are reserved. Setting an existing alias moves it to `version`, which must exist.
  core::Status SetRegisteredModelAlias(const std::string& name, const std::string& alias,
                                       const std::string& version);
  // Deleting an alias the model does not have succeeds (as in MLflow's SQL store).
  // Errors: kNotFound for an unknown model.
  core::Status DeleteRegisteredModelAlias(const std::string& name, const std::string& alias);
  core::Result<ModelVersion> GetModelVersionByAlias(const std::string& name,
                                                    const std::string& alias);

  // Checks a model version source and returns its storage location. Accepted forms:
  //   - `mlflow-artifacts:/<path>` (with or without host) or an http(s) URL of this server's
  //     artifact endpoint (`.../api/2.0/mlflow-artifacts/artifacts/<path>`): returned as given;
  //   - `runs:/<run_id>/<path>`: the run must exist; its artifact_uri + path is returned;
  //   - `models:/<name>/<version|stage|latest>`, `models:/<name>@<alias>`, `models:/<model_id>`:
  //     the referenced version (or logged model) must exist; its storage location is returned;
  //   - a local absolute path or `file:` URI, only when `run_id` (or `model_id`) is given and the
  //     path, with symlinks resolved, lies inside that run's (logged model's) artifact directory
  //     in the artifact store: the equivalent artifact URI is returned.
  // Every form is refused if, after repeated percent-decoding, it holds `..` or `.` segments,
  // backslashes, NUL or other control characters, `#` or `?`, or its path changes under
  // normalisation. Other schemes (s3:, gs:, dbfs:, ...) are refused: lakeml serves artifacts from
  // its own store only. Tags play no part. Also used to re-check stored sources before serving
  // their files. Errors: kInvalidArgument "Invalid model version source: ...", kNotFound for an
  // unknown run, logged model or referenced version.
  core::Result<std::string> ValidateVersionSource(const std::string& source,
                                                  const std::string& run_id,
                                                  const std::string& model_id);

  // For get-artifact: the artifact-store relative path of `path` ("" = the model directory)
  // inside version `version` of `name`, for ArtifactStore::Get/List. The stored source is
  // re-checked with ValidateVersionSource's form rules (so a row written before a fix, or by
  // hand, cannot be served), the storage location must be in this artifact store, and `path`
  // must pass ValidatePathIsSafe. Errors: kNotFound (model or version), kInvalidArgument (unsafe
  // source or path, or files outside the artifact store).
  core::Result<std::string> ModelVersionArtifactPath(const std::string& name,
                                                     const std::string& version,
                                                     std::string_view path);

 private:
  core::Result<std::string> ResolveModelsUriSource(const std::string& source);

  metastore::Database& db_;
  const core::Clock& clock_;
  tracking::TrackingStore& tracking_;
  const tracking::ArtifactStore& artifacts_;
  ModelRegistryOptions options_;
};

}  // namespace lakeml::registry
