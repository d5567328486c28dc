#include "server/registry_json.h"

#include <optional>
#include <vector>

#include "server/tracking_json.h"

namespace lakeml::server {
namespace {

using nlohmann::json;

json TagsToJson(const std::vector<registry::Tag>& tags) {
  json list = json::array();
  for (const registry::Tag& tag : tags) list.push_back({{"key", tag.key}, {"value", tag.value}});
  return list;
}

}  // namespace

std::string_view ModelVersionStatusName(registry::ModelVersionStatus status) {
  switch (status) {
    case registry::ModelVersionStatus::kPendingRegistration:
      return "PENDING_REGISTRATION";
    case registry::ModelVersionStatus::kFailedRegistration:
      return "FAILED_REGISTRATION";
    case registry::ModelVersionStatus::kReady:
      return "READY";
  }
  return "READY";
}

json ModelVersionToJson(const registry::ModelVersion& version) {
  json out = {
      {"name", version.name},
      {"version", version.version},
      {"creation_timestamp", version.creation_timestamp},
      {"last_updated_timestamp", version.last_updated_timestamp},
      {"current_stage", version.current_stage},
      {"source", version.source},
      {"status", ModelVersionStatusName(version.status)},
  };
  SetIfNotEmpty(out, "user_id", version.user_id);
  SetIfNotEmpty(out, "description", version.description);
  SetIfNotEmpty(out, "run_id", version.run_id);
  SetIfNotEmpty(out, "status_message", version.status_message);
  SetIfNotEmpty(out, "run_link", version.run_link);
  SetIfNotEmpty(out, "model_id", version.model_id);
  if (!version.tags.empty()) out["tags"] = TagsToJson(version.tags);
  if (!version.aliases.empty()) out["aliases"] = version.aliases;
  return out;
}

json RegisteredModelToJson(const registry::RegisteredModel& model) {
  json out = {
      {"name", model.name},
      {"creation_timestamp", model.creation_timestamp},
      {"last_updated_timestamp", model.last_updated_timestamp},
  };
  SetIfNotEmpty(out, "description", model.description);
  if (!model.latest_versions.empty()) {
    json versions = json::array();
    for (const registry::ModelVersion& version : model.latest_versions) {
      versions.push_back(ModelVersionToJson(version));
    }
    out["latest_versions"] = std::move(versions);
  }
  if (!model.tags.empty()) out["tags"] = TagsToJson(model.tags);
  if (!model.aliases.empty()) {
    json aliases = json::array();
    for (const registry::RegisteredModelAlias& alias : model.aliases) {
      aliases.push_back({{"alias", alias.alias}, {"version", alias.version}});
    }
    out["aliases"] = std::move(aliases);
  }
  return out;
}

core::Result<std::string> DecodeVersionField(const Request& request, std::string_view name) {
  core::Result<std::string> text = request.RequiredString(name);
  if (text.ok()) return text;
  // Only a number gets a second chance; a missing field or another type keeps the first error.
  core::Result<std::optional<int64_t>> number = request.OptionalInt64(name);
  if (number.ok() && number->has_value()) return std::to_string(**number);
  return text.status();
}

}  // namespace lakeml::server
