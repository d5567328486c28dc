#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace lakeml::tracking {

// Plain values mirroring MLflow's protobuf messages (service.proto). JSON codecs live in
// src/server; these types carry no wire format.

enum class LifecycleStage { kActive, kDeleted };
enum class ViewType { kActiveOnly = 1, kDeletedOnly = 2, kAll = 3 };
enum class RunStatus { kRunning = 1, kScheduled = 2, kFinished = 3, kFailed = 4, kKilled = 5 };

struct Tag {
  std::string key;
  std::string value;
};

struct Experiment {
  std::string experiment_id;  // decimal text; "0" is Default
  std::string name;
  std::string artifact_location;
  LifecycleStage lifecycle_stage = LifecycleStage::kActive;
  int64_t creation_time = 0;     // ms since epoch
  int64_t last_update_time = 0;  // ms since epoch
  std::vector<Tag> tags;
};

struct Metric {
  std::string key;
  double value = 0;  // may be NaN or +-Inf
  int64_t timestamp = 0;
  int64_t step = 0;
};

struct MetricWithRunId {
  Metric metric;
  std::string run_id;
};

struct Param {
  std::string key;
  std::string value;
};

struct RunInfo {
  std::string run_id;  // 32 lowercase hex
  std::string run_name;
  std::string experiment_id;
  std::string user_id;
  RunStatus status = RunStatus::kRunning;
  int64_t start_time = 0;
  std::optional<int64_t> end_time;
  std::string artifact_uri;
  LifecycleStage lifecycle_stage = LifecycleStage::kActive;
};

struct RunData {
  std::vector<Metric> metrics;  // latest value per key
  std::vector<Param> params;
  std::vector<Tag> tags;
};

struct Dataset {
  std::string name;
  std::string digest;
  std::string source_type;
  std::string source;
  std::optional<std::string> schema;   // JSON text
  std::optional<std::string> profile;  // JSON text
};

struct DatasetInput {
  std::vector<Tag> tags;  // e.g. mlflow.data.context = training
  Dataset dataset;
};

// One (dataset, context) pair used by runs of an experiment; the UI's dataset filter lists these.
struct DatasetSummary {
  std::string experiment_id;
  std::string name;
  std::string digest;
  std::string context;  // value of the input tag mlflow.data.context; "" when absent
};

struct ModelOutput {
  std::string model_id;
  int64_t step = 0;
};

struct Run {
  RunInfo info;
  RunData data;
  std::vector<DatasetInput> dataset_inputs;
  std::vector<std::string> model_inputs;  // logged-model ids (MLflow 3)
  std::vector<ModelOutput> model_outputs;  // MLflow 3
};

// MLflow 3 LoggedModel.
enum class LoggedModelStatus { kPending = 1, kReady = 2, kUploadFailed = 3 };

struct LoggedModel {
  std::string model_id;  // "m-" + 32 hex
  std::string experiment_id;
  std::string name;
  int64_t creation_timestamp_ms = 0;
  int64_t last_updated_timestamp_ms = 0;
  std::string artifact_uri;
  LoggedModelStatus status = LoggedModelStatus::kPending;
  std::string model_type;
  std::string source_run_id;
  std::string status_message;
  std::vector<Tag> tags;
  std::vector<Param> params;
  std::vector<Metric> metrics;
};

// One page of a listing and the opaque token for the next one ("" at the end).
template <typename T>
struct Page {
  std::vector<T> items;
  std::string next_page_token;
};

}  // namespace lakeml::tracking
