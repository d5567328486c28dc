#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tracking/entities.h"

namespace lakeml::registry {

// Plain values mirroring MLflow's model_registry.proto messages. JSON codecs live in src/server;
// these types carry no wire format.

using Tag = tracking::Tag;
template <typename T>
using Page = tracking::Page<T>;

// Canonical stage names, as MLflow writes them on the wire.
inline constexpr std::string_view kStageNone = "None";
inline constexpr std::string_view kStageStaging = "Staging";
inline constexpr std::string_view kStageProduction = "Production";
inline constexpr std::string_view kStageArchived = "Archived";
// The hidden stage of a soft-deleted version; never returned to callers.
inline constexpr std::string_view kStageDeletedInternal = "Deleted_Internal";

// A registered model tagged `mlflow.prompt.is_prompt = 'true'` is a prompt (MLflow 3); registry
// searches hide prompts unless the filter names this tag.
inline constexpr std::string_view kIsPromptTagKey = "mlflow.prompt.is_prompt";

enum class ModelVersionStatus { kPendingRegistration = 1, kFailedRegistration = 2, kReady = 3 };

// One alias of a registered model and the version it points to (decimal text).
struct RegisteredModelAlias {
  std::string alias;
  std::string version;
};

struct ModelVersion {
  std::string name;
  std::string version;                 // decimal text, as on the wire
  int64_t creation_timestamp = 0;      // ms since epoch
  int64_t last_updated_timestamp = 0;  // ms since epoch
  std::string user_id;
  std::string current_stage;  // one of the canonical stages above
  std::string description;
  std::string source;  // as registered
  std::string run_id;
  ModelVersionStatus status = ModelVersionStatus::kReady;
  std::string status_message;
  std::vector<Tag> tags;  // sorted by key
  std::string run_link;
  std::vector<std::string> aliases;  // sorted
  std::string model_id;              // MLflow 3 logged model, may be empty
  // Where the files really are: `source` with runs:/ and models:/ references resolved, or a
  // local path turned into its mlflow-artifacts: URI. Not part of the MLflow message; it is what
  // get-download-uri returns.
  std::string storage_location;
};

struct RegisteredModel {
  std::string name;
  int64_t creation_timestamp = 0;
  int64_t last_updated_timestamp = 0;
  std::string description;
  // The highest non-deleted READY version in each stage that has one, by ascending version.
  std::vector<ModelVersion> latest_versions;
  std::vector<Tag> tags;                      // sorted by key
  std::vector<RegisteredModelAlias> aliases;  // sorted by alias
};

}  // namespace lakeml::registry
