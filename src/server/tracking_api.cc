#include "server/tracking_api.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "server/artifacts_api.h"
#include "server/tracking_json.h"

namespace lakeml::server {
namespace {

using nlohmann::json;
using tracking::Tag;

constexpr std::array<std::string_view, 2> kClassicPrefixes = {"/api/2.0/mlflow",
                                                              "/ajax-api/2.0/mlflow"};
// MLflow's MAX_BATCH_LOG_REQUEST_SIZE, enforced on the body bytes as the docs promise.
constexpr size_t kMaxLogBatchBodyBytes = 1000000;
constexpr int64_t kMaxBulkHistoryRuns = 100;
constexpr int64_t kMaxBulkHistoryPoints = 25000;


// (timestamp, step, value) with NaN after every number, so the order is strict-weak even for
// NaN values (std::sort needs that).
bool MetricOrder(const tracking::Metric& a, const tracking::Metric& b) {
  if (a.timestamp != b.timestamp) return a.timestamp < b.timestamp;
  if (a.step != b.step) return a.step < b.step;
  const bool a_nan = std::isnan(a.value);
  const bool b_nan = std::isnan(b.value);
  if (a_nan || b_nan) return !a_nan && b_nan;
  return a.value < b.value;
}

// "model/" and "model" name the same directory; keep listed paths free of "//".
std::string TrimTrailingSlashes(std::string path) {
  while (!path.empty() && path.back() == '/') path.pop_back();
  return path;
}

}  // namespace

TrackingApi::TrackingApi(tracking::TrackingStore& store, tracking::ArtifactStore& artifacts)
    : store_(store), artifacts_(artifacts) {}

void TrackingApi::RegisterRoutes(HttpServer& server) {
  using Method = core::Result<json> (TrackingApi::*)(const Request&);
  auto add = [&](HttpMethod method, std::string_view path, Method handler,
                 size_t max_body_bytes = 0) {
    for (std::string_view prefix : kClassicPrefixes) {
      server.AddJson(
          method, fmt::format("{}{}", prefix, path),
          [this, handler](const Request& request) { return (this->*handler)(request); },
          max_body_bytes);
    }
  };
  constexpr HttpMethod kGet = HttpMethod::kGet;
  constexpr HttpMethod kPost = HttpMethod::kPost;

  add(kPost, "/experiments/create", &TrackingApi::CreateExperiment);
  add(kGet, "/experiments/get", &TrackingApi::GetExperiment);
  add(kGet, "/experiments/get-by-name", &TrackingApi::GetExperimentByName);
  add(kGet, "/experiments/search", &TrackingApi::SearchExperiments);
  add(kPost, "/experiments/search", &TrackingApi::SearchExperiments);
  add(kPost, "/experiments/update", &TrackingApi::UpdateExperiment);
  add(kPost, "/experiments/delete", &TrackingApi::DeleteExperiment);
  add(kPost, "/experiments/restore", &TrackingApi::RestoreExperiment);
  add(kPost, "/experiments/set-experiment-tag", &TrackingApi::SetExperimentTag);
  add(kPost, "/experiments/delete-experiment-tag", &TrackingApi::DeleteExperimentTag);

  add(kPost, "/runs/create", &TrackingApi::CreateRun);
  add(kGet, "/runs/get", &TrackingApi::GetRun);
  add(kPost, "/runs/update", &TrackingApi::UpdateRun);
  add(kPost, "/runs/delete", &TrackingApi::DeleteRun);
  add(kPost, "/runs/restore", &TrackingApi::RestoreRun);
  add(kPost, "/runs/search", &TrackingApi::SearchRuns);
  add(kPost, "/runs/log-metric", &TrackingApi::LogMetric);
  add(kPost, "/runs/log-parameter", &TrackingApi::LogParam);
  add(kPost, "/runs/set-tag", &TrackingApi::SetTag);
  add(kPost, "/runs/delete-tag", &TrackingApi::DeleteTag);
  add(kPost, "/runs/log-batch", &TrackingApi::LogBatch, kMaxLogBatchBodyBytes);
  add(kPost, "/runs/log-model", &TrackingApi::LogModel);
  add(kPost, "/runs/log-inputs", &TrackingApi::LogInputs);

  add(kGet, "/metrics/get-history", &TrackingApi::GetMetricHistory);
  add(kGet, "/metrics/get-history-bulk-interval", &TrackingApi::GetMetricHistoryBulkInterval);
  add(kGet, "/artifacts/list", &TrackingApi::ListArtifacts);
  server.AddJson(kGet, "/ajax-api/2.0/mlflow/metrics/get-history-bulk",
                 [this](const Request& request) { return GetMetricHistoryBulk(request); });
  // Served on the ajax prefix only, as MLflow does (its proto path lacks the leading slash).
  server.AddJson(kPost, "/ajax-api/2.0/mlflow/experiments/search-datasets",
                 [this](const Request& request) { return SearchDatasets(request); });

  // MLflow 3 RPCs: served on both major versions, since clients differ in which they call.
  for (std::string_view prefix : {"/api/2.0/mlflow", "/ajax-api/2.0/mlflow", "/api/3.0/mlflow",
                                  "/ajax-api/3.0/mlflow"}) {
    server.AddJson(kPost, fmt::format("{}/runs/outputs", prefix),
                   [this](const Request& request) { return LogOutputs(request); });
  }
  for (std::string_view prefix : {"/api/3.0/mlflow", "/ajax-api/3.0/mlflow"}) {
    server.AddJson(kGet, fmt::format("{}/server-info", prefix), [](const Request&) {
      return core::Result<json>(json{{"store_type", "SqlStore"},
                                     {"workspaces_enabled", false},
                                     {"multipart_uploads_enabled", false},
                                     {"multipart_downloads_enabled", false},
                                     {"trace_archival_enabled", false}});
    });
  }
}

// ---- experiments ----

core::Result<json> TrackingApi::CreateExperiment(const Request& request) {
  LAKEML_ASSIGN_OR_RETURN(std::string name, request.RequiredString("name"));
  LAKEML_ASSIGN_OR_RETURN(std::string artifact_location, request.StringOrEmpty("artifact_location"));
  LAKEML_ASSIGN_OR_RETURN(std::vector<Tag> tags, DecodeTags(request, "tags"));
  LAKEML_ASSIGN_OR_RETURN(std::string experiment_id,
                          store_.CreateExperiment(name, artifact_location, tags));
  return json{{"experiment_id", experiment_id}};
}

core::Result<json> TrackingApi::GetExperiment(const Request& request) {
  LAKEML_ASSIGN_OR_RETURN(std::string experiment_id, request.RequiredString("experiment_id"));
  LAKEML_ASSIGN_OR_RETURN(tracking::Experiment experiment, store_.GetExperiment(experiment_id));
  return json{{"experiment", ExperimentToJson(experiment)}};
}

core::Result<json> TrackingApi::GetExperimentByName(const Request& request) {
  LAKEML_ASSIGN_OR_RETURN(std::string name, request.RequiredString("experiment_name"));
  LAKEML_ASSIGN_OR_RETURN(tracking::Experiment experiment, store_.GetExperimentByName(name));
  return json{{"experiment", ExperimentToJson(experiment)}};
}

core::Result<json> TrackingApi::SearchExperiments(const Request& request) {
  tracking::SearchExperimentsRequest search;
  LAKEML_ASSIGN_OR_RETURN(std::optional<int64_t> max_results, request.OptionalInt64("max_results"));
  if (max_results) search.max_results = *max_results;
  LAKEML_ASSIGN_OR_RETURN(search.page_token, request.StringOrEmpty("page_token"));
  LAKEML_ASSIGN_OR_RETURN(search.filter, request.StringOrEmpty("filter"));
  LAKEML_ASSIGN_OR_RETURN(search.order_by, request.RepeatedString("order_by"));
  LAKEML_ASSIGN_OR_RETURN(std::optional<tracking::ViewType> view_type,
                          DecodeViewType(request, "view_type"));
  if (view_type) search.view_type = *view_type;
  LAKEML_ASSIGN_OR_RETURN(tracking::Page<tracking::Experiment> page,
                          store_.SearchExperiments(search));
  return PageToJson(page, "experiments", ExperimentToJson);
}

core::Result<json> TrackingApi::UpdateExperiment(const Request& request) {
  LAKEML_ASSIGN_OR_RETURN(std::string experiment_id, request.RequiredString("experiment_id"));
  LAKEML_ASSIGN_OR_RETURN(std::string new_name, request.RequiredString("new_name"));
  LAKEML_RETURN_IF_ERROR(store_.RenameExperiment(experiment_id, new_name));
  return Empty();
}

core::Result<json> TrackingApi::DeleteExperiment(const Request& request) {
  LAKEML_ASSIGN_OR_RETURN(std::string experiment_id, request.RequiredString("experiment_id"));
  LAKEML_RETURN_IF_ERROR(store_.DeleteExperiment(experiment_id));
  return Empty();
}

core::Result<json> TrackingApi::RestoreExperiment(const Request& request) {
  LAKEML_ASSIGN_OR_RETURN(std::string experiment_id, request.RequiredString("experiment_id"));
  LAKEML_RETURN_IF_ERROR(store_.RestoreExperiment(experiment_id));
  return Empty();
}

core::Result<json> TrackingApi::SetExperimentTag(const Request& request) {
  LAKEML_ASSIGN_OR_RETURN(std::string experiment_id, request.RequiredString("experiment_id"));
  Tag tag;
  LAKEML_ASSIGN_OR_RETURN(tag.key, request.RequiredString("key"));
  LAKEML_ASSIGN_OR_RETURN(tag.value, request.StringOrEmpty("value"));
  LAKEML_RETURN_IF_ERROR(store_.SetExperimentTag(experiment_id, tag));
  return Empty();
}

core::Result<json> TrackingApi::DeleteExperimentTag(const Request& request) {
  LAKEML_ASSIGN_OR_RETURN(std::string experiment_id, request.RequiredString("experiment_id"));
  LAKEML_ASSIGN_OR_RETURN(std::string key, request.RequiredString("key"));
  LAKEML_RETURN_IF_ERROR(store_.DeleteExperimentTag(experiment_id, key));
  return Empty();
}

// ---- runs ----

core::Result<json> TrackingApi::CreateRun(const Request& request) {
  tracking::CreateRunRequest create;
  LAKEML_ASSIGN_OR_RETURN(create.experiment_id, request.StringOrEmpty("experiment_id"));
  LAKEML_ASSIGN_OR_RETURN(create.user_id, request.StringOrEmpty("user_id"));
  LAKEML_ASSIGN_OR_RETURN(create.run_name, request.OptionalString("run_name"));
  LAKEML_ASSIGN_OR_RETURN(create.start_time, request.OptionalInt64("start_time"));
  LAKEML_ASSIGN_OR_RETURN(create.tags, DecodeTags(request, "tags"));
  LAKEML_ASSIGN_OR_RETURN(tracking::Run run, store_.CreateRun(create));
  return json{{"run", RunToJson(run)}};
}

core::Result<json> TrackingApi::GetRun(const Request& request) {
  LAKEML_ASSIGN_OR_RETURN(std::string run_id, request.RequiredRunId());
  LAKEML_ASSIGN_OR_RETURN(tracking::Run run, store_.GetRun(run_id));
  return json{{"run", RunToJson(run)}};
}

core::Result<json> TrackingApi::UpdateRun(const Request& request) {
  tracking::UpdateRunRequest update;
  LAKEML_ASSIGN_OR_RETURN(update.run_id, request.RequiredRunId());
  LAKEML_ASSIGN_OR_RETURN(update.status, DecodeRunStatus(request, "status"));
  LAKEML_ASSIGN_OR_RETURN(update.end_time, request.OptionalInt64("end_time"));
  LAKEML_ASSIGN_OR_RETURN(update.run_name, request.OptionalString("run_name"));
  LAKEML_ASSIGN_OR_RETURN(tracking::RunInfo info, store_.UpdateRun(update));
  return json{{"run_info", RunInfoToJson(info)}};
}

core::Result<json> TrackingApi::DeleteRun(const Request& request) {
  LAKEML_ASSIGN_OR_RETURN(std::string run_id, request.RequiredRunId());
  LAKEML_RETURN_IF_ERROR(store_.DeleteRun(run_id));
  return Empty();
}

core::Result<json> TrackingApi::RestoreRun(const Request& request) {
  LAKEML_ASSIGN_OR_RETURN(std::string run_id, request.RequiredRunId());
  LAKEML_RETURN_IF_ERROR(store_.RestoreRun(run_id));
  return Empty();
}

core::Result<json> TrackingApi::SearchRuns(const Request& request) {
  tracking::SearchRunsRequest search;
  LAKEML_ASSIGN_OR_RETURN(search.experiment_ids, request.RepeatedString("experiment_ids"));
  LAKEML_ASSIGN_OR_RETURN(search.filter, request.StringOrEmpty("filter"));
  LAKEML_ASSIGN_OR_RETURN(std::optional<tracking::ViewType> view_type,
                          DecodeViewType(request, "run_view_type"));
  if (view_type) search.run_view_type = *view_type;
  LAKEML_ASSIGN_OR_RETURN(std::optional<int64_t> max_results, request.OptionalInt64("max_results"));
  if (max_results) search.max_results = *max_results;
  LAKEML_ASSIGN_OR_RETURN(search.order_by, request.RepeatedString("order_by"));
  LAKEML_ASSIGN_OR_RETURN(search.page_token, request.StringOrEmpty("page_token"));
  LAKEML_ASSIGN_OR_RETURN(tracking::Page<tracking::Run> page, store_.SearchRuns(search));
  return PageToJson(page, "runs", RunToJson);
}

core::Result<json> TrackingApi::LogMetric(const Request& request) {
  LAKEML_ASSIGN_OR_RETURN(std::string run_id, request.RequiredRunId());
  LAKEML_ASSIGN_OR_RETURN(tracking::Metric metric, DecodeMetric(request));
  LAKEML_RETURN_IF_ERROR(store_.LogMetric(run_id, metric));
  return Empty();
}

core::Result<json> TrackingApi::LogParam(const Request& request) {
  LAKEML_ASSIGN_OR_RETURN(std::string run_id, request.RequiredRunId());
  tracking::Param param;
  LAKEML_ASSIGN_OR_RETURN(param.key, request.RequiredString("key"));
  LAKEML_ASSIGN_OR_RETURN(param.value, request.StringOrEmpty("value"));
  LAKEML_RETURN_IF_ERROR(store_.LogParam(run_id, param));
  return Empty();
}

core::Result<json> TrackingApi::SetTag(const Request& request) {
  LAKEML_ASSIGN_OR_RETURN(std::string run_id, request.RequiredRunId());
  Tag tag;
  LAKEML_ASSIGN_OR_RETURN(tag.key, request.RequiredString("key"));
  LAKEML_ASSIGN_OR_RETURN(tag.value, request.StringOrEmpty("value"));
  LAKEML_RETURN_IF_ERROR(store_.SetTag(run_id, tag));
  return Empty();
}

core::Result<json> TrackingApi::DeleteTag(const Request& request) {
  LAKEML_ASSIGN_OR_RETURN(std::string run_id, request.RequiredRunId());
  LAKEML_ASSIGN_OR_RETURN(std::string key, request.RequiredString("key"));
  LAKEML_RETURN_IF_ERROR(store_.DeleteTag(run_id, key));
  return Empty();
}

core::Result<json> TrackingApi::LogBatch(const Request& request) {
  LAKEML_ASSIGN_OR_RETURN(std::string run_id, request.RequiredRunId());
  LAKEML_ASSIGN_OR_RETURN(std::vector<Request> metric_items, request.RepeatedObject("metrics"));
  std::vector<tracking::Metric> metrics;
  metrics.reserve(metric_items.size());
  for (const Request& item : metric_items) {
    LAKEML_ASSIGN_OR_RETURN(tracking::Metric metric, DecodeMetric(item));
    metrics.push_back(std::move(metric));
  }
  LAKEML_ASSIGN_OR_RETURN(std::vector<tracking::Param> params, DecodeParams(request, "params"));
  LAKEML_ASSIGN_OR_RETURN(std::vector<Tag> tags, DecodeTags(request, "tags"));
  LAKEML_RETURN_IF_ERROR(store_.LogBatch(run_id, metrics, params, tags));
  return Empty();
}

core::Result<json> TrackingApi::LogModel(const Request& request) {
  LAKEML_ASSIGN_OR_RETURN(std::string run_id, request.RequiredRunId());
  LAKEML_ASSIGN_OR_RETURN(std::string model_json, request.RequiredString("model_json"));
  LAKEML_RETURN_IF_ERROR(store_.LogModel(run_id, model_json));
  return Empty();
}

core::Result<json> TrackingApi::LogInputs(const Request& request) {
  LAKEML_ASSIGN_OR_RETURN(std::string run_id, request.RequiredRunId());
  LAKEML_ASSIGN_OR_RETURN(std::vector<tracking::DatasetInput> datasets,
                          DecodeDatasetInputs(request, "datasets"));
  LAKEML_ASSIGN_OR_RETURN(std::vector<Request> model_items, request.RepeatedObject("models"));
  std::vector<std::string> model_ids;
  model_ids.reserve(model_items.size());
  for (const Request& item : model_items) {
    LAKEML_ASSIGN_OR_RETURN(std::string model_id, item.RequiredString("model_id"));
    model_ids.push_back(std::move(model_id));
  }
  LAKEML_RETURN_IF_ERROR(store_.LogInputs(run_id, datasets, model_ids));
  return Empty();
}

core::Result<json> TrackingApi::SearchDatasets(const Request& request) {
  LAKEML_ASSIGN_OR_RETURN(std::vector<std::string> experiment_ids,
                          request.RepeatedString("experiment_ids"));
  LAKEML_ASSIGN_OR_RETURN(std::vector<tracking::DatasetSummary> summaries,
                          store_.SearchDatasets(experiment_ids));
  json out = json::array();
  for (const tracking::DatasetSummary& summary : summaries) {
    json item = {{"experiment_id", summary.experiment_id},
                 {"name", summary.name},
                 {"digest", summary.digest}};
    if (!summary.context.empty()) item["context"] = summary.context;
    out.push_back(std::move(item));
  }
  return json{{"dataset_summaries", std::move(out)}};
}

core::Result<json> TrackingApi::LogOutputs(const Request& request) {
  LAKEML_ASSIGN_OR_RETURN(std::string run_id, request.RequiredRunId());
  if (!request.Has("models")) return request.MissingError("models");
  LAKEML_ASSIGN_OR_RETURN(std::vector<Request> model_items, request.RepeatedObject("models"));
  std::vector<tracking::ModelOutput> outputs;
  outputs.reserve(model_items.size());
  for (const Request& item : model_items) {
    tracking::ModelOutput output;
    LAKEML_ASSIGN_OR_RETURN(output.model_id, item.RequiredString("model_id"));
    LAKEML_ASSIGN_OR_RETURN(output.step, item.RequiredInt64("step"));
    outputs.push_back(std::move(output));
  }
  LAKEML_RETURN_IF_ERROR(store_.LogOutputs(run_id, outputs));
  return Empty();
}

// ---- metrics ----

core::Result<json> TrackingApi::GetMetricHistory(const Request& request) {
  tracking::MetricHistoryRequest history;
  LAKEML_ASSIGN_OR_RETURN(history.run_id, request.RequiredRunId());
  LAKEML_ASSIGN_OR_RETURN(history.metric_key, request.RequiredString("metric_key"));
  LAKEML_ASSIGN_OR_RETURN(history.max_results, request.OptionalInt64("max_results"));
  LAKEML_ASSIGN_OR_RETURN(history.page_token, request.StringOrEmpty("page_token"));
  LAKEML_ASSIGN_OR_RETURN(tracking::Page<tracking::Metric> page, store_.GetMetricHistory(history));
  return PageToJson(page, "metrics", MetricToJson);
}

core::Result<json> TrackingApi::GetMetricHistoryBulkInterval(const Request& request) {
  tracking::BulkIntervalRequest bulk;
  LAKEML_ASSIGN_OR_RETURN(bulk.run_ids, request.RepeatedString("run_ids"));
  if (bulk.run_ids.empty()) return request.MissingError("run_ids");
  LAKEML_ASSIGN_OR_RETURN(bulk.metric_key, request.RequiredString("metric_key"));
  LAKEML_ASSIGN_OR_RETURN(bulk.start_step, request.OptionalInt64("start_step"));
  LAKEML_ASSIGN_OR_RETURN(bulk.end_step, request.OptionalInt64("end_step"));
  LAKEML_ASSIGN_OR_RETURN(std::optional<int64_t> max_results, request.OptionalInt64("max_results"));
  if (max_results) bulk.max_results = *max_results;
  LAKEML_ASSIGN_OR_RETURN(std::vector<tracking::MetricWithRunId> points,
                          store_.GetMetricHistoryBulkInterval(bulk));
  json metrics = json::array();
  for (const tracking::MetricWithRunId& point : points) {
    metrics.push_back(MetricWithRunIdToJson(point.metric, point.run_id));
  }
  json out = Empty();
  if (!metrics.empty()) out["metrics"] = std::move(metrics);
  return out;
}

// The UI's older bulk call: MLflow implements it in the handler over get-history, so we do too.
core::Result<json> TrackingApi::GetMetricHistoryBulk(const Request& request) {
  LAKEML_ASSIGN_OR_RETURN(std::vector<std::string> run_ids, request.RepeatedString("run_id"));
  if (run_ids.empty()) {
    return core::InvalidArgument("GetMetricHistoryBulk request must specify at least one run_id.");
  }
  if (static_cast<int64_t>(run_ids.size()) > kMaxBulkHistoryRuns) {
    return core::InvalidArgument(
        "GetMetricHistoryBulk request cannot specify more than {} run_ids. Received {} run_ids.",
        kMaxBulkHistoryRuns, run_ids.size());
  }
  LAKEML_ASSIGN_OR_RETURN(std::string metric_key, request.RequiredString("metric_key"));
  LAKEML_ASSIGN_OR_RETURN(std::optional<int64_t> requested, request.OptionalInt64("max_results"));
  const int64_t max_results = requested.value_or(kMaxBulkHistoryPoints);
  if (max_results < 1 || max_results > kMaxBulkHistoryPoints) {
    return core::InvalidArgument("max_results must be between 1 and {}, got {}",
                                 kMaxBulkHistoryPoints, max_results);
  }
  std::sort(run_ids.begin(), run_ids.end());
  json metrics = json::array();
  for (const std::string& run_id : run_ids) {
    tracking::MetricHistoryRequest history;
    history.run_id = run_id;
    history.metric_key = metric_key;
    history.max_results = max_results;
    LAKEML_ASSIGN_OR_RETURN(tracking::Page<tracking::Metric> page,
                            store_.GetMetricHistory(history));
    std::sort(page.items.begin(), page.items.end(), MetricOrder);
    for (const tracking::Metric& metric : page.items) {
      if (static_cast<int64_t>(metrics.size()) >= max_results) break;
      metrics.push_back(MetricWithRunIdToJson(metric, run_id));
    }
  }
  return json{{"metrics", std::move(metrics)}};
}

// ---- artifacts ----

core::Result<json> TrackingApi::ListArtifacts(const Request& request) {
  LAKEML_ASSIGN_OR_RETURN(std::string run_id, request.RequiredRunId());
  LAKEML_ASSIGN_OR_RETURN(std::string user_path, request.StringOrEmpty("path"));
  std::string safe_path;
  if (!user_path.empty()) {
    LAKEML_ASSIGN_OR_RETURN(safe_path, SafeArtifactPath(user_path));
    safe_path = TrimTrailingSlashes(std::move(safe_path));
  }
  LAKEML_ASSIGN_OR_RETURN(tracking::Run run, store_.GetRun(run_id));
  LAKEML_ASSIGN_OR_RETURN(std::string directory,
                          ResolveArtifactPath(run.info.artifact_uri, safe_path));
  LAKEML_ASSIGN_OR_RETURN(std::vector<tracking::FileInfo> files, artifacts_.List(directory));
  json out = {{"root_uri", run.info.artifact_uri}};
  if (!files.empty()) {
    json list = json::array();
    for (tracking::FileInfo& file : files) {
      // The store gives basenames; MLflow lists paths relative to the run's artifact root.
      if (!safe_path.empty()) file.path = safe_path + "/" + file.path;
      list.push_back(FileInfoToJson(file));
    }
    out["files"] = std::move(list);
  }
  return out;
}

}  // namespace lakeml::server
