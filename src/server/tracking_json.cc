#include "server/tracking_json.h"

#include <cmath>

namespace lakeml::server {
namespace {

using nlohmann::json;
using tracking::LoggedModelStatus;
using tracking::RunStatus;
using tracking::ViewType;

const std::vector<std::pair<std::string_view, int>>& RunStatusValues() {
  static const std::vector<std::pair<std::string_view, int>> kValues = {
      {"RUNNING", 1}, {"SCHEDULED", 2}, {"FINISHED", 3}, {"FAILED", 4}, {"KILLED", 5}};
  return kValues;
}

const std::vector<std::pair<std::string_view, int>>& ViewTypeValues() {
  static const std::vector<std::pair<std::string_view, int>> kValues = {
      {"ACTIVE_ONLY", 1}, {"DELETED_ONLY", 2}, {"ALL", 3}};
  return kValues;
}

const std::vector<std::pair<std::string_view, int>>& LoggedModelStatusValues() {
  static const std::vector<std::pair<std::string_view, int>> kValues = {
      {"LOGGED_MODEL_PENDING", 1}, {"LOGGED_MODEL_READY", 2}, {"LOGGED_MODEL_UPLOAD_FAILED", 3}};
  return kValues;
}

json KeyValuesToJson(const std::vector<tracking::Tag>& tags) {
  json list = json::array();
  for (const tracking::Tag& tag : tags) list.push_back({{"key", tag.key}, {"value", tag.value}});
  return list;
}

json ParamsToJson(const std::vector<tracking::Param>& params) {
  json list = json::array();
  for (const tracking::Param& param : params) {
    list.push_back({{"key", param.key}, {"value", param.value}});
  }
  return list;
}

}  // namespace

json DoubleToJson(double value) {
  // JSON has no NaN or infinity; protobuf's JSON mapping spells them as strings.
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  return value;
}

std::string_view RunStatusName(RunStatus status) {
  for (const auto& [name, number] : RunStatusValues()) {
    if (number == static_cast<int>(status)) return name;
  }
  return "RUNNING";
}

std::string_view LifecycleStageName(tracking::LifecycleStage stage) {
  return stage == tracking::LifecycleStage::kDeleted ? "deleted" : "active";
}

std::string_view ViewTypeName(ViewType view_type) {
  for (const auto& [name, number] : ViewTypeValues()) {
    if (number == static_cast<int>(view_type)) return name;
  }
  return "ACTIVE_ONLY";
}

std::string_view LoggedModelStatusName(LoggedModelStatus status) {
  for (const auto& [name, number] : LoggedModelStatusValues()) {
    if (number == static_cast<int>(status)) return name;
  }
  return "LOGGED_MODEL_PENDING";
}

void SetIfNotEmpty(json& object, std::string_view key, const std::string& text) {
  if (!text.empty()) object[std::string(key)] = text;
}

json ExperimentToJson(const tracking::Experiment& experiment) {
  json out = {
      {"experiment_id", experiment.experiment_id},
      {"name", experiment.name},
      {"artifact_location", experiment.artifact_location},
      {"lifecycle_stage", LifecycleStageName(experiment.lifecycle_stage)},
      {"last_update_time", experiment.last_update_time},
      {"creation_time", experiment.creation_time},
  };
  if (!experiment.tags.empty()) out["tags"] = KeyValuesToJson(experiment.tags);
  return out;
}

json RunInfoToJson(const tracking::RunInfo& info) {
  json out = {
      {"run_id", info.run_id},
      {"run_uuid", info.run_id},
      {"run_name", info.run_name},
      {"experiment_id", info.experiment_id},
      {"user_id", info.user_id},
      {"status", RunStatusName(info.status)},
      {"start_time", info.start_time},
      {"artifact_uri", info.artifact_uri},
      {"lifecycle_stage", LifecycleStageName(info.lifecycle_stage)},
  };
  if (info.end_time) out["end_time"] = *info.end_time;
  return out;
}

json MetricToJson(const tracking::Metric& metric) {
  return {{"key", metric.key},
          {"value", DoubleToJson(metric.value)},
          {"timestamp", metric.timestamp},
          {"step", metric.step}};
}

json MetricWithRunIdToJson(const tracking::Metric& metric, const std::string& run_id) {
  json out = MetricToJson(metric);
  out["run_id"] = run_id;
  return out;
}

json RunToJson(const tracking::Run& run) {
  json data = json::object();
  if (!run.data.metrics.empty()) {
    json metrics = json::array();
    for (const tracking::Metric& metric : run.data.metrics) metrics.push_back(MetricToJson(metric));
    data["metrics"] = std::move(metrics);
  }
  if (!run.data.params.empty()) data["params"] = ParamsToJson(run.data.params);
  if (!run.data.tags.empty()) data["tags"] = KeyValuesToJson(run.data.tags);

  // MLflow always sets `inputs` (possibly empty) and `outputs` only when there are some.
  json inputs = json::object();
  if (!run.dataset_inputs.empty()) {
    json datasets = json::array();
    for (const tracking::DatasetInput& input : run.dataset_inputs) {
      json dataset = {{"name", input.dataset.name},
                      {"digest", input.dataset.digest},
                      {"source_type", input.dataset.source_type},
                      {"source", input.dataset.source}};
      if (input.dataset.schema) dataset["schema"] = *input.dataset.schema;
      if (input.dataset.profile) dataset["profile"] = *input.dataset.profile;
      json entry = {{"dataset", std::move(dataset)}};
      if (!input.tags.empty()) entry["tags"] = KeyValuesToJson(input.tags);
      datasets.push_back(std::move(entry));
    }
    inputs["dataset_inputs"] = std::move(datasets);
  }
  if (!run.model_inputs.empty()) {
    json models = json::array();
    for (const std::string& model_id : run.model_inputs) models.push_back({{"model_id", model_id}});
    inputs["model_inputs"] = std::move(models);
  }

  json out = {{"info", RunInfoToJson(run.info)}, {"data", std::move(data)},
              {"inputs", std::move(inputs)}};
  if (!run.model_outputs.empty()) {
    json models = json::array();
    for (const tracking::ModelOutput& output : run.model_outputs) {
      models.push_back({{"model_id", output.model_id}, {"step", output.step}});
    }
    out["outputs"] = {{"model_outputs", std::move(models)}};
  }
  return out;
}

json FileInfoToJson(const tracking::FileInfo& file) {
  json out = {{"path", file.path}, {"is_dir", file.is_dir}};
  if (file.file_size) out["file_size"] = *file.file_size;
  return out;
}

json LoggedModelToJson(const tracking::LoggedModel& model) {
  json info = {
      {"model_id", model.model_id},
      {"experiment_id", model.experiment_id},
      {"name", model.name},
      {"creation_timestamp_ms", model.creation_timestamp_ms},
      {"last_updated_timestamp_ms", model.last_updated_timestamp_ms},
      {"artifact_uri", model.artifact_uri},
      {"status", LoggedModelStatusName(model.status)},
  };
  SetIfNotEmpty(info, "model_type", model.model_type);
  SetIfNotEmpty(info, "source_run_id", model.source_run_id);
  SetIfNotEmpty(info, "status_message", model.status_message);
  if (!model.tags.empty()) info["tags"] = KeyValuesToJson(model.tags);

  json data = json::object();
  if (!model.params.empty()) data["params"] = ParamsToJson(model.params);
  if (!model.metrics.empty()) {
    json metrics = json::array();
    for (const tracking::Metric& metric : model.metrics) metrics.push_back(MetricToJson(metric));
    data["metrics"] = std::move(metrics);
  }
  return {{"info", std::move(info)}, {"data", std::move(data)}};
}

core::Result<std::optional<RunStatus>> DecodeRunStatus(const Request& request,
                                                       std::string_view name) {
  LAKEML_ASSIGN_OR_RETURN(std::optional<int> number, request.OptionalEnum(name, RunStatusValues()));
  if (!number) return std::optional<RunStatus>();
  return std::optional<RunStatus>(static_cast<RunStatus>(*number));
}

core::Result<std::optional<ViewType>> DecodeViewType(const Request& request,
                                                     std::string_view name) {
  LAKEML_ASSIGN_OR_RETURN(std::optional<int> number, request.OptionalEnum(name, ViewTypeValues()));
  if (!number) return std::optional<ViewType>();
  return std::optional<ViewType>(static_cast<ViewType>(*number));
}

core::Result<std::optional<LoggedModelStatus>> DecodeLoggedModelStatus(const Request& request,
                                                                       std::string_view name) {
  LAKEML_ASSIGN_OR_RETURN(std::optional<int> number,
                          request.OptionalEnum(name, LoggedModelStatusValues()));
  if (!number) return std::optional<LoggedModelStatus>();
  return std::optional<LoggedModelStatus>(static_cast<LoggedModelStatus>(*number));
}

core::Result<std::vector<tracking::Tag>> DecodeTags(const Request& request,
                                                    std::string_view name) {
  LAKEML_ASSIGN_OR_RETURN(std::vector<Request> items, request.RepeatedObject(name));
  std::vector<tracking::Tag> tags;
  tags.reserve(items.size());
  for (const Request& item : items) {
    tracking::Tag tag;
    LAKEML_ASSIGN_OR_RETURN(tag.key, item.RequiredString("key"));
    LAKEML_ASSIGN_OR_RETURN(tag.value, item.StringOrEmpty("value"));
    tags.push_back(std::move(tag));
  }
  return tags;
}

core::Result<std::vector<tracking::Param>> DecodeParams(const Request& request,
                                                        std::string_view name) {
  LAKEML_ASSIGN_OR_RETURN(std::vector<Request> items, request.RepeatedObject(name));
  std::vector<tracking::Param> params;
  params.reserve(items.size());
  for (const Request& item : items) {
    tracking::Param param;
    LAKEML_ASSIGN_OR_RETURN(param.key, item.RequiredString("key"));
    LAKEML_ASSIGN_OR_RETURN(param.value, item.StringOrEmpty("value"));
    params.push_back(std::move(param));
  }
  return params;
}

core::Result<tracking::Metric> DecodeMetric(const Request& request) {
  tracking::Metric metric;
  LAKEML_ASSIGN_OR_RETURN(metric.key, request.RequiredString("key"));
  LAKEML_ASSIGN_OR_RETURN(metric.value, request.RequiredDouble("value"));
  LAKEML_ASSIGN_OR_RETURN(metric.timestamp, request.RequiredInt64("timestamp"));
  LAKEML_ASSIGN_OR_RETURN(std::optional<int64_t> step, request.OptionalInt64("step"));
  metric.step = step.value_or(0);
  return metric;
}

core::Result<std::vector<tracking::DatasetInput>> DecodeDatasetInputs(const Request& request,
                                                                      std::string_view name) {
  LAKEML_ASSIGN_OR_RETURN(std::vector<Request> items, request.RepeatedObject(name));
  std::vector<tracking::DatasetInput> inputs;
  inputs.reserve(items.size());
  for (const Request& item : items) {
    tracking::DatasetInput input;
    LAKEML_ASSIGN_OR_RETURN(input.tags, DecodeTags(item, "tags"));
    LAKEML_ASSIGN_OR_RETURN(std::optional<Request> dataset, item.OptionalObject("dataset"));
    if (!dataset) return item.MissingError("dataset");
    LAKEML_ASSIGN_OR_RETURN(input.dataset.name, dataset->RequiredString("name"));
    LAKEML_ASSIGN_OR_RETURN(input.dataset.digest, dataset->RequiredString("digest"));
    LAKEML_ASSIGN_OR_RETURN(input.dataset.source_type, dataset->RequiredString("source_type"));
    LAKEML_ASSIGN_OR_RETURN(input.dataset.source, dataset->RequiredString("source"));
    LAKEML_ASSIGN_OR_RETURN(input.dataset.schema, dataset->OptionalString("schema"));
    LAKEML_ASSIGN_OR_RETURN(input.dataset.profile, dataset->OptionalString("profile"));
    inputs.push_back(std::move(input));
  }
  return inputs;
}

}  // namespace lakeml::server
