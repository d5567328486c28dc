#include "server/logged_models_api.h"

#include "server/artifacts_api.h"
#include "server/tracking_json.h"

namespace lakeml::server {
namespace {

using nlohmann::json;


json ModelResponse(const tracking::LoggedModel& model) {
  return json{{"model", LoggedModelToJson(model)}};
}

}  // namespace

LoggedModelsApi::LoggedModelsApi(tracking::TrackingStore& store,
                                 tracking::ArtifactStore& artifacts)
    : store_(store), artifacts_(artifacts) {}

void LoggedModelsApi::RegisterRoutes(HttpServer& server) {
  using Method = core::Result<json> (LoggedModelsApi::*)(const Request&);
  auto add = [&](HttpMethod method, std::string_view path, Method handler) {
    for (std::string_view prefix : {"/api/2.0/mlflow", "/ajax-api/2.0/mlflow", "/api/3.0/mlflow",
                                    "/ajax-api/3.0/mlflow"}) {
      server.AddJson(method, fmt::format("{}/logged-models{}", prefix, path),
                     [this, handler](const Request& request) { return (this->*handler)(request); });
    }
  };
  add(HttpMethod::kPost, "", &LoggedModelsApi::Create);
  add(HttpMethod::kPost, "/search", &LoggedModelsApi::Search);
  add(HttpMethod::kGet, "/{model_id}", &LoggedModelsApi::Get);
  add(HttpMethod::kDelete, "/{model_id}", &LoggedModelsApi::Delete);
  add(HttpMethod::kPatch, "/{model_id}", &LoggedModelsApi::Finalize);
  add(HttpMethod::kPatch, "/{model_id}/tags", &LoggedModelsApi::SetTags);
  // Tag keys may contain '/', so the key is the rest of the path.
  add(HttpMethod::kDelete, "/{model_id}/tags/{tag_key...}", &LoggedModelsApi::DeleteTag);
  add(HttpMethod::kPost, "/{model_id}/params", &LoggedModelsApi::LogParams);
  add(HttpMethod::kGet, "/{model_id}/artifacts/directories",
      &LoggedModelsApi::ListArtifactDirectory);
  server.AddRaw(HttpMethod::kGet, "/ajax-api/2.0/mlflow/logged-models/{model_id}/artifacts/files",
                [this](HttpExchange& exchange) { DownloadArtifactFile(exchange); });
}

core::Result<json> LoggedModelsApi::Create(const Request& request) {
  tracking::CreateLoggedModelRequest create;
  LAKEML_ASSIGN_OR_RETURN(create.experiment_id, request.RequiredString("experiment_id"));
  LAKEML_ASSIGN_OR_RETURN(create.name, request.StringOrEmpty("name"));
  LAKEML_ASSIGN_OR_RETURN(create.model_type, request.StringOrEmpty("model_type"));
  LAKEML_ASSIGN_OR_RETURN(create.source_run_id, request.StringOrEmpty("source_run_id"));
  LAKEML_ASSIGN_OR_RETURN(create.params, DecodeParams(request, "params"));
  LAKEML_ASSIGN_OR_RETURN(create.tags, DecodeTags(request, "tags"));
  LAKEML_ASSIGN_OR_RETURN(tracking::LoggedModel model, store_.CreateLoggedModel(create));
  return ModelResponse(model);
}

core::Result<json> LoggedModelsApi::Get(const Request& request) {
  LAKEML_ASSIGN_OR_RETURN(std::string model_id, request.RequiredString("model_id"));
  LAKEML_ASSIGN_OR_RETURN(tracking::LoggedModel model, store_.GetLoggedModel(model_id));
  return ModelResponse(model);
}

core::Result<json> LoggedModelsApi::Delete(const Request& request) {
  LAKEML_ASSIGN_OR_RETURN(std::string model_id, request.RequiredString("model_id"));
  LAKEML_RETURN_IF_ERROR(store_.DeleteLoggedModel(model_id));
  return Empty();
}

core::Result<json> LoggedModelsApi::Finalize(const Request& request) {
  LAKEML_ASSIGN_OR_RETURN(std::string model_id, request.RequiredString("model_id"));
  LAKEML_ASSIGN_OR_RETURN(std::optional<tracking::LoggedModelStatus> status,
                          DecodeLoggedModelStatus(request, "status"));
  if (!status) return request.MissingError("status");
  LAKEML_ASSIGN_OR_RETURN(tracking::LoggedModel model,
                          store_.FinalizeLoggedModel(model_id, *status));
  return ModelResponse(model);
}

core::Result<json> LoggedModelsApi::Search(const Request& request) {
  tracking::SearchLoggedModelsRequest search;
  LAKEML_ASSIGN_OR_RETURN(search.experiment_ids, request.RepeatedString("experiment_ids"));
  LAKEML_ASSIGN_OR_RETURN(std::optional<int64_t> max_results, request.OptionalInt64("max_results"));
  if (max_results) search.max_results = *max_results;
  LAKEML_ASSIGN_OR_RETURN(search.page_token, request.StringOrEmpty("page_token"));
  // Ignoring a filter would return wrong models; refuse it plainly (501 is not retried).
  LAKEML_ASSIGN_OR_RETURN(std::string filter, request.StringOrEmpty("filter"));
  if (!filter.empty()) {
    return core::Unimplemented("filtering logged models is not supported yet");
  }
  LAKEML_ASSIGN_OR_RETURN(std::vector<Request> datasets, request.RepeatedObject("datasets"));
  if (!datasets.empty()) {
    return core::Unimplemented("filtering logged models by dataset is not supported yet");
  }
  LAKEML_ASSIGN_OR_RETURN(std::vector<Request> order_by, request.RepeatedObject("order_by"));
  for (const Request& item : order_by) {
    tracking::LoggedModelOrder order;
    LAKEML_ASSIGN_OR_RETURN(order.field_name, item.RequiredString("field_name"));
    // Ordering by a metric needs per-dataset metric storage, which logged models lack so far.
    if (order.field_name.starts_with("metrics.")) {
      return core::Unimplemented("ordering logged models by metrics is not supported yet");
    }
    LAKEML_ASSIGN_OR_RETURN(std::optional<bool> ascending, item.OptionalBool("ascending"));
    order.ascending = ascending.value_or(true);
    search.order_by.push_back(std::move(order));
  }
  LAKEML_ASSIGN_OR_RETURN(tracking::Page<tracking::LoggedModel> page,
                          store_.SearchLoggedModels(search));
  return PageToJson(page, "models", LoggedModelToJson);
}

core::Result<json> LoggedModelsApi::SetTags(const Request& request) {
  LAKEML_ASSIGN_OR_RETURN(std::string model_id, request.RequiredString("model_id"));
  LAKEML_ASSIGN_OR_RETURN(std::vector<tracking::Tag> tags, DecodeTags(request, "tags"));
  LAKEML_ASSIGN_OR_RETURN(tracking::LoggedModel model, store_.SetLoggedModelTags(model_id, tags));
  return ModelResponse(model);
}

core::Result<json> LoggedModelsApi::DeleteTag(const Request& request) {
  LAKEML_ASSIGN_OR_RETURN(std::string model_id, request.RequiredString("model_id"));
  LAKEML_ASSIGN_OR_RETURN(std::string tag_key, request.RequiredString("tag_key"));
  LAKEML_RETURN_IF_ERROR(store_.DeleteLoggedModelTag(model_id, tag_key));
  return Empty();
}

core::Result<json> LoggedModelsApi::LogParams(const Request& request) {
  LAKEML_ASSIGN_OR_RETURN(std::string model_id, request.RequiredString("model_id"));
  LAKEML_ASSIGN_OR_RETURN(std::vector<tracking::Param> params, DecodeParams(request, "params"));
  LAKEML_RETURN_IF_ERROR(store_.LogLoggedModelParams(model_id, params));
  return Empty();
}

core::Result<json> LoggedModelsApi::ListArtifactDirectory(const Request& request) {
  LAKEML_ASSIGN_OR_RETURN(std::string model_id, request.RequiredString("model_id"));
  LAKEML_ASSIGN_OR_RETURN(std::string user_path, request.StringOrEmpty("artifact_directory_path"));
  std::string safe_path;
  if (!user_path.empty()) {
    LAKEML_ASSIGN_OR_RETURN(safe_path, SafeArtifactPath(user_path));
    while (!safe_path.empty() && safe_path.back() == '/') safe_path.pop_back();
  }
  LAKEML_ASSIGN_OR_RETURN(tracking::LoggedModel model, store_.GetLoggedModel(model_id));
  LAKEML_ASSIGN_OR_RETURN(std::string directory, ResolveArtifactPath(model.artifact_uri, safe_path));
  LAKEML_ASSIGN_OR_RETURN(std::vector<tracking::FileInfo> files, artifacts_.List(directory));
  json out = {{"root_uri", model.artifact_uri}};
  if (!files.empty()) {
    json list = json::array();
    for (tracking::FileInfo& file : files) {
      if (!safe_path.empty()) file.path = safe_path + "/" + file.path;
      list.push_back(FileInfoToJson(file));
    }
    out["files"] = std::move(list);
  }
  return out;
}

void LoggedModelsApi::DownloadArtifactFile(HttpExchange& exchange) {
  auto resolve = [&]() -> core::Result<std::string> {
    Request request = Request::FromQuery(exchange.request.params);
    LAKEML_ASSIGN_OR_RETURN(std::string path, request.RequiredString("artifact_file_path"));
    LAKEML_ASSIGN_OR_RETURN(tracking::LoggedModel model,
                            store_.GetLoggedModel(exchange.PathParam("model_id")));
    return ResolveArtifactPath(model.artifact_uri, path);
  };
  core::Result<std::string> relative_path = resolve();
  if (!relative_path.ok()) {
    WriteError(exchange.response, relative_path.status());
    return;
  }
  ServeArtifactFile(artifacts_, *relative_path, exchange.response);
}

}  // namespace lakeml::server
