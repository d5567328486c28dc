#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "registry/registry_entities.h"
#include "server/request.h"

namespace lakeml::server {

// JSON codecs for the model registry entities, matching MLflow's `message_to_json` of
// model_registry.proto (reference §3.1, §1.3): `version` as decimal text, timestamps as JSON
// numbers, `current_stage` canonical, `status` by name ("READY"), tags as [{key, value}],
// registered-model aliases as [{alias, version}] and version aliases as [str]; empty strings and
// empty lists are omitted (MLflow leaves those fields unset). `storage_location` is not part of
// the message and never written. Pure and thread-safe.

std::string_view ModelVersionStatusName(registry::ModelVersionStatus status);

nlohmann::json ModelVersionToJson(const registry::ModelVersion& version);
nlohmann::json RegisteredModelToJson(const registry::RegisteredModel& model);

// The `version` field of a registry request: text, as the proto declares it, or a JSON integer
// (some clients send numbers). Whether it is a valid version number is the registry's call.
// Errors: kInvalidArgument "Missing value for required parameter 'version'..." or "Invalid
// value ..." for other types.
core::Result<std::string> DecodeVersionField(const Request& request, std::string_view name);

}  // namespace lakeml::server
