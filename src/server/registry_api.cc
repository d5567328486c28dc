#include "server/registry_api.h"

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "server/artifacts_api.h"
#include "server/registry_json.h"
#include "server/tracking_json.h"

namespace lakeml::server {
namespace {

using nlohmann::json;
using registry::ModelVersion;
using registry::RegisteredModel;
using registry::Tag;

constexpr std::array<std::string_view, 2> kClassicPrefixes = {"/api/2.0/mlflow",
                                                              "/ajax-api/2.0/mlflow"};

json VersionsToJson(const std::vector<ModelVersion>& versions) {
  json list = json::array();
  for (const ModelVersion& version : versions) list.push_back(ModelVersionToJson(version));
  return list;
}

}  // namespace

RegistryApi::RegistryApi(registry::ModelRegistry& registry,
                         const tracking::ArtifactStore& artifacts)
    : registry_(registry), artifacts_(artifacts) {}

void RegistryApi::RegisterRoutes(HttpServer& server) {
  using Method = core::Result<json> (RegistryApi::*)(const Request&);
  auto add = [&](HttpMethod method, std::string_view path, Method handler) {
    for (std::string_view prefix : kClassicPrefixes) {
      server.AddJson(method, fmt::format("{}{}", prefix, path),
                     [this, handler](const Request& request) { return (this->*handler)(request); });
    }
  };
  constexpr HttpMethod kGet = HttpMethod::kGet;
  constexpr HttpMethod kPost = HttpMethod::kPost;
  constexpr HttpMethod kPatch = HttpMethod::kPatch;
  constexpr HttpMethod kDelete = HttpMethod::kDelete;

  add(kPost, "/registered-models/create", &RegistryApi::CreateRegisteredModel);
  add(kGet, "/registered-models/get", &RegistryApi::GetRegisteredModel);
  add(kPost, "/registered-models/rename", &RegistryApi::RenameRegisteredModel);
  add(kPatch, "/registered-models/update", &RegistryApi::UpdateRegisteredModel);
  add(kDelete, "/registered-models/delete", &RegistryApi::DeleteRegisteredModel);
  add(kGet, "/registered-models/search", &RegistryApi::SearchRegisteredModels);
  // The Python client tries POST first and falls back to GET on ENDPOINT_NOT_FOUND.
  add(kPost, "/registered-models/get-latest-versions", &RegistryApi::GetLatestVersions);
  add(kGet, "/registered-models/get-latest-versions", &RegistryApi::GetLatestVersions);
  add(kPost, "/registered-models/set-tag", &RegistryApi::SetRegisteredModelTag);
  add(kDelete, "/registered-models/delete-tag", &RegistryApi::DeleteRegisteredModelTag);
  // One path, three RPCs told apart by the method.
  add(kPost, "/registered-models/alias", &RegistryApi::SetRegisteredModelAlias);
  add(kDelete, "/registered-models/alias", &RegistryApi::DeleteRegisteredModelAlias);
  add(kGet, "/registered-models/alias", &RegistryApi::GetModelVersionByAlias);

  add(kPost, "/model-versions/create", &RegistryApi::CreateModelVersion);
  add(kGet, "/model-versions/get", &RegistryApi::GetModelVersion);
  add(kPatch, "/model-versions/update", &RegistryApi::UpdateModelVersion);
  add(kDelete, "/model-versions/delete", &RegistryApi::DeleteModelVersion);
  add(kGet, "/model-versions/search", &RegistryApi::SearchModelVersions);
  add(kPost, "/model-versions/transition-stage", &RegistryApi::TransitionModelVersionStage);
  add(kGet, "/model-versions/get-download-uri", &RegistryApi::GetModelVersionDownloadUri);
  add(kPost, "/model-versions/set-tag", &RegistryApi::SetModelVersionTag);
  add(kDelete, "/model-versions/delete-tag", &RegistryApi::DeleteModelVersionTag);

  // A root route like /get-artifact: the UI links to it directly.
  server.AddRaw(kGet, "/model-versions/get-artifact",
                [this](HttpExchange& exchange) { GetModelVersionArtifact(exchange); });
}

// ---- registered models ----

core::Result<json> RegistryApi::CreateRegisteredModel(const Request& request) {
  LAKEML_ASSIGN_OR_RETURN(std::string name, request.RequiredString("name"));
  LAKEML_ASSIGN_OR_RETURN(std::vector<Tag> tags, DecodeTags(request, "tags"));
  LAKEML_ASSIGN_OR_RETURN(std::string description, request.StringOrEmpty("description"));
  LAKEML_ASSIGN_OR_RETURN(RegisteredModel model,
                          registry_.CreateRegisteredModel(name, tags, description));
  return json{{"registered_model", RegisteredModelToJson(model)}};
}

core::Result<json> RegistryApi::GetRegisteredModel(const Request& request) {
  LAKEML_ASSIGN_OR_RETURN(std::string name, request.RequiredString("name"));
  LAKEML_ASSIGN_OR_RETURN(RegisteredModel model, registry_.GetRegisteredModel(name));
  return json{{"registered_model", RegisteredModelToJson(model)}};
}

core::Result<json> RegistryApi::RenameRegisteredModel(const Request& request) {
  LAKEML_ASSIGN_OR_RETURN(std::string name, request.RequiredString("name"));
  LAKEML_ASSIGN_OR_RETURN(std::string new_name, request.RequiredString("new_name"));
  LAKEML_ASSIGN_OR_RETURN(RegisteredModel model, registry_.RenameRegisteredModel(name, new_name));
  return json{{"registered_model", RegisteredModelToJson(model)}};
}

core::Result<json> RegistryApi::UpdateRegisteredModel(const Request& request) {
  LAKEML_ASSIGN_OR_RETURN(std::string name, request.RequiredString("name"));
  LAKEML_ASSIGN_OR_RETURN(std::string description, request.StringOrEmpty("description"));
  LAKEML_ASSIGN_OR_RETURN(RegisteredModel model,
                          registry_.UpdateRegisteredModel(name, description));
  return json{{"registered_model", RegisteredModelToJson(model)}};
}

core::Result<json> RegistryApi::DeleteRegisteredModel(const Request& request) {
  LAKEML_ASSIGN_OR_RETURN(std::string name, request.RequiredString("name"));
  LAKEML_RETURN_IF_ERROR(registry_.DeleteRegisteredModel(name));
  return Empty();
}

core::Result<json> RegistryApi::SearchRegisteredModels(const Request& request) {
  registry::SearchRegisteredModelsRequest search;
  LAKEML_ASSIGN_OR_RETURN(search.filter, request.StringOrEmpty("filter"));
  LAKEML_ASSIGN_OR_RETURN(std::optional<int64_t> max_results, request.OptionalInt64("max_results"));
  if (max_results) search.max_results = *max_results;
  LAKEML_ASSIGN_OR_RETURN(search.order_by, request.RepeatedString("order_by"));
  LAKEML_ASSIGN_OR_RETURN(search.page_token, request.StringOrEmpty("page_token"));
  LAKEML_ASSIGN_OR_RETURN(registry::Page<RegisteredModel> page,
                          registry_.SearchRegisteredModels(search));
  return PageToJson(page, "registered_models", RegisteredModelToJson);
}

core::Result<json> RegistryApi::GetLatestVersions(const Request& request) {
  LAKEML_ASSIGN_OR_RETURN(std::string name, request.RequiredString("name"));
  LAKEML_ASSIGN_OR_RETURN(std::vector<std::string> stages, request.RepeatedString("stages"));
  LAKEML_ASSIGN_OR_RETURN(std::vector<ModelVersion> versions,
                          registry_.GetLatestVersions(name, stages));
  json out = Empty();
  if (!versions.empty()) out["model_versions"] = VersionsToJson(versions);
  return out;
}

core::Result<json> RegistryApi::SetRegisteredModelTag(const Request& request) {
  LAKEML_ASSIGN_OR_RETURN(std::string name, request.RequiredString("name"));
  Tag tag;
  LAKEML_ASSIGN_OR_RETURN(tag.key, request.RequiredString("key"));
  LAKEML_ASSIGN_OR_RETURN(tag.value, request.StringOrEmpty("value"));
  LAKEML_RETURN_IF_ERROR(registry_.SetRegisteredModelTag(name, tag));
  return Empty();
}

core::Result<json> RegistryApi::DeleteRegisteredModelTag(const Request& request) {
  LAKEML_ASSIGN_OR_RETURN(std::string name, request.RequiredString("name"));
  LAKEML_ASSIGN_OR_RETURN(std::string key, request.RequiredString("key"));
  LAKEML_RETURN_IF_ERROR(registry_.DeleteRegisteredModelTag(name, key));
  return Empty();
}

core::Result<json> RegistryApi::SetRegisteredModelAlias(const Request& request) {
  LAKEML_ASSIGN_OR_RETURN(std::string name, request.RequiredString("name"));
  LAKEML_ASSIGN_OR_RETURN(std::string alias, request.RequiredString("alias"));
  LAKEML_ASSIGN_OR_RETURN(std::string version, DecodeVersionField(request, "version"));
  LAKEML_RETURN_IF_ERROR(registry_.SetRegisteredModelAlias(name, alias, version));
  return Empty();
}

core::Result<json> RegistryApi::DeleteRegisteredModelAlias(const Request& request) {
  LAKEML_ASSIGN_OR_RETURN(std::string name, request.RequiredString("name"));
  LAKEML_ASSIGN_OR_RETURN(std::string alias, request.RequiredString("alias"));
  LAKEML_RETURN_IF_ERROR(registry_.DeleteRegisteredModelAlias(name, alias));
  return Empty();
}

core::Result<json> RegistryApi::GetModelVersionByAlias(const Request& request) {
  LAKEML_ASSIGN_OR_RETURN(std::string name, request.RequiredString("name"));
  LAKEML_ASSIGN_OR_RETURN(std::string alias, request.RequiredString("alias"));
  LAKEML_ASSIGN_OR_RETURN(ModelVersion version, registry_.GetModelVersionByAlias(name, alias));
  return json{{"model_version", ModelVersionToJson(version)}};
}

// ---- model versions ----

core::Result<json> RegistryApi::CreateModelVersion(const Request& request) {
  registry::CreateModelVersionRequest create;
  LAKEML_ASSIGN_OR_RETURN(create.name, request.RequiredString("name"));
  LAKEML_ASSIGN_OR_RETURN(create.source, request.RequiredString("source"));
  LAKEML_ASSIGN_OR_RETURN(create.run_id, request.StringOrEmpty("run_id"));
  LAKEML_ASSIGN_OR_RETURN(create.tags, DecodeTags(request, "tags"));
  LAKEML_ASSIGN_OR_RETURN(create.run_link, request.StringOrEmpty("run_link"));
  LAKEML_ASSIGN_OR_RETURN(create.description, request.StringOrEmpty("description"));
  LAKEML_ASSIGN_OR_RETURN(create.model_id, request.StringOrEmpty("model_id"));
  LAKEML_ASSIGN_OR_RETURN(ModelVersion version, registry_.CreateModelVersion(create));
  return json{{"model_version", ModelVersionToJson(version)}};
}

core::Result<json> RegistryApi::GetModelVersion(const Request& request) {
  LAKEML_ASSIGN_OR_RETURN(std::string name, request.RequiredString("name"));
  LAKEML_ASSIGN_OR_RETURN(std::string version_text, DecodeVersionField(request, "version"));
  LAKEML_ASSIGN_OR_RETURN(ModelVersion version, registry_.GetModelVersion(name, version_text));
  return json{{"model_version", ModelVersionToJson(version)}};
}

core::Result<json> RegistryApi::UpdateModelVersion(const Request& request) {
  LAKEML_ASSIGN_OR_RETURN(std::string name, request.RequiredString("name"));
  LAKEML_ASSIGN_OR_RETURN(std::string version_text, DecodeVersionField(request, "version"));
  LAKEML_ASSIGN_OR_RETURN(std::string description, request.StringOrEmpty("description"));
  LAKEML_ASSIGN_OR_RETURN(ModelVersion version,
                          registry_.UpdateModelVersion(name, version_text, description));
  return json{{"model_version", ModelVersionToJson(version)}};
}

core::Result<json> RegistryApi::DeleteModelVersion(const Request& request) {
  LAKEML_ASSIGN_OR_RETURN(std::string name, request.RequiredString("name"));
  LAKEML_ASSIGN_OR_RETURN(std::string version_text, DecodeVersionField(request, "version"));
  LAKEML_RETURN_IF_ERROR(registry_.DeleteModelVersion(name, version_text));
  return Empty();
}

core::Result<json> RegistryApi::SearchModelVersions(const Request& request) {
  registry::SearchModelVersionsRequest search;
  LAKEML_ASSIGN_OR_RETURN(search.filter, request.StringOrEmpty("filter"));
  LAKEML_ASSIGN_OR_RETURN(std::optional<int64_t> max_results, request.OptionalInt64("max_results"));
  if (max_results) search.max_results = *max_results;
  LAKEML_ASSIGN_OR_RETURN(search.order_by, request.RepeatedString("order_by"));
  LAKEML_ASSIGN_OR_RETURN(search.page_token, request.StringOrEmpty("page_token"));
  LAKEML_ASSIGN_OR_RETURN(registry::Page<ModelVersion> page, registry_.SearchModelVersions(search));
  return PageToJson(page, "model_versions", ModelVersionToJson);
}

core::Result<json> RegistryApi::TransitionModelVersionStage(const Request& request) {
  LAKEML_ASSIGN_OR_RETURN(std::string name, request.RequiredString("name"));
  LAKEML_ASSIGN_OR_RETURN(std::string version_text, DecodeVersionField(request, "version"));
  LAKEML_ASSIGN_OR_RETURN(std::string stage, request.RequiredString("stage"));
  // The proto marks it required, but MLflow's handler only type-checks it; absent means false.
  LAKEML_ASSIGN_OR_RETURN(std::optional<bool> archive_existing,
                          request.OptionalBool("archive_existing_versions"));
  LAKEML_ASSIGN_OR_RETURN(ModelVersion version,
                          registry_.TransitionModelVersionStage(name, version_text, stage,
                                                                archive_existing.value_or(false)));
  return json{{"model_version", ModelVersionToJson(version)}};
}

core::Result<json> RegistryApi::GetModelVersionDownloadUri(const Request& request) {
  LAKEML_ASSIGN_OR_RETURN(std::string name, request.RequiredString("name"));
  LAKEML_ASSIGN_OR_RETURN(std::string version_text, DecodeVersionField(request, "version"));
  LAKEML_ASSIGN_OR_RETURN(std::string artifact_uri,
                          registry_.GetModelVersionDownloadUri(name, version_text));
  return json{{"artifact_uri", artifact_uri}};
}

core::Result<json> RegistryApi::SetModelVersionTag(const Request& request) {
  LAKEML_ASSIGN_OR_RETURN(std::string name, request.RequiredString("name"));
  LAKEML_ASSIGN_OR_RETURN(std::string version_text, DecodeVersionField(request, "version"));
  Tag tag;
  LAKEML_ASSIGN_OR_RETURN(tag.key, request.RequiredString("key"));
  LAKEML_ASSIGN_OR_RETURN(tag.value, request.StringOrEmpty("value"));
  LAKEML_RETURN_IF_ERROR(registry_.SetModelVersionTag(name, version_text, tag));
  return Empty();
}

core::Result<json> RegistryApi::DeleteModelVersionTag(const Request& request) {
  LAKEML_ASSIGN_OR_RETURN(std::string name, request.RequiredString("name"));
  LAKEML_ASSIGN_OR_RETURN(std::string version_text, DecodeVersionField(request, "version"));
  LAKEML_ASSIGN_OR_RETURN(std::string key, request.RequiredString("key"));
  LAKEML_RETURN_IF_ERROR(registry_.DeleteModelVersionTag(name, version_text, key));
  return Empty();
}

void RegistryApi::GetModelVersionArtifact(HttpExchange& exchange) {
  auto resolve = [&]() -> core::Result<std::string> {
    Request request = Request::FromQuery(exchange.request.params);
    LAKEML_ASSIGN_OR_RETURN(std::string name, request.RequiredString("name"));
    LAKEML_ASSIGN_OR_RETURN(std::string version, DecodeVersionField(request, "version"));
    LAKEML_ASSIGN_OR_RETURN(std::string path, request.RequiredString("path"));
    // MLflow's wording for a bad path, before the registry is asked anything; the registry
    // checks it again, with the stored source, in ModelVersionArtifactPath.
    LAKEML_RETURN_IF_ERROR(SafeArtifactPath(path).status());
    return registry_.ModelVersionArtifactPath(name, version, path);
  };
  core::Result<std::string> relative_path = resolve();
  if (!relative_path.ok()) {
    WriteError(exchange.response, relative_path.status());
    return;
  }
  ServeArtifactFile(artifacts_, *relative_path, exchange.response);
}

}  // namespace lakeml::server
