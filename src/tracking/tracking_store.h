#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "metastore/database.h"
#include "tracking/entities.h"

namespace lakeml::tracking {

struct CreateRunRequest {
  std::string experiment_id;  // "" means the Default experiment "0"
  std::string user_id;
  std::optional<std::string> run_name;
  std::optional<int64_t> start_time;  // ms; now when absent
  std::vector<Tag> tags;
};

// Only the fields that are set are applied (protobuf HasField semantics).
struct UpdateRunRequest {
  std::string run_id;
  std::optional<RunStatus> status;
  std::optional<int64_t> end_time;
  std::optional<std::string> run_name;
};

struct SearchExperimentsRequest {
  int64_t max_results = 1000;  // 1..50000
  std::string page_token;
  std::string filter;
  std::vector<std::string> order_by;
  ViewType view_type = ViewType::kActiveOnly;
};

struct SearchRunsRequest {
  std::vector<std::string> experiment_ids;
  std::string filter;
  ViewType run_view_type = ViewType::kActiveOnly;
  int64_t max_results = 1000;  // 1..50000
  std::vector<std::string> order_by;
  std::string page_token;
};

struct MetricHistoryRequest {
  std::string run_id;
  std::string metric_key;
  std::optional<int64_t> max_results;  // absent: the whole history (old clients expect that)
  std::string page_token;
};

struct BulkIntervalRequest {
  std::vector<std::string> run_ids;  // 1..100
  std::string metric_key;
  std::optional<int64_t> start_step;  // both or neither, start <= end
  std::optional<int64_t> end_step;
  int64_t max_results = 2500;  // 1..2500 points per run, down-sampled by step
};

struct CreateLoggedModelRequest {
  std::string experiment_id;
  std::string name;  // generated when empty
  std::string model_type;
  std::string source_run_id;
  std::vector<Param> params;
  std::vector<Tag> tags;
};

struct LoggedModelOrder {
  std::string field_name;  // creation_timestamp, last_updated_timestamp, name or model_id
  bool ascending = true;
};

struct SearchLoggedModelsRequest {
  std::vector<std::string> experiment_ids;
  int64_t max_results = 50;  // 1..50
  std::string page_token;
  std::vector<LoggedModelOrder> order_by;  // empty: newest first
};

// MLflow tracking semantics over the metadata database: experiments, runs, params, metrics,
// tags, dataset inputs, logged models. Validates every limit and rule of MLflow 2.x (key
// lengths and characters, write-once params, batch sizes, lifecycle rules) so that every caller
// (REST server, CLI, AutoML) gets the same behaviour.
//
// Thread-safe: all state is in the database. Errors: kInvalidArgument (bad input, limits,
// param overwrite, writes to deleted runs, bad filter or page token), kNotFound (unknown
// experiment/run/tag), kAlreadyExists (duplicate experiment name), kInternal/kUnavailable from
// the database.
class TrackingStore {
 public:
  // `default_artifact_root` prefixes new experiments' artifact locations, e.g.
  // "mlflow-artifacts:/" gives "mlflow-artifacts:/<experiment_id>".
  TrackingStore(metastore::Database& db, const core::Clock& clock,
                std::string default_artifact_root);

  // Creates the Default experiment ("0") if missing. Idempotent.
  core::Status Initialize();

  // Experiments.
  core::Result<std::string> CreateExperiment(const std::string& name,
                                             const std::string& artifact_location,
                                             const std::vector<Tag>& tags);
  core::Result<Experiment> GetExperiment(const std::string& experiment_id);
  // An active experiment wins over a deleted one with the same name.
  core::Result<Experiment> GetExperimentByName(const std::string& name);
  core::Result<Page<Experiment>> SearchExperiments(const SearchExperimentsRequest& request);
  core::Status RenameExperiment(const std::string& experiment_id, const std::string& new_name);
  // Soft delete; the experiment's runs are marked deleted too. Restore undoes both.
  core::Status DeleteExperiment(const std::string& experiment_id);
  core::Status RestoreExperiment(const std::string& experiment_id);
  core::Status SetExperimentTag(const std::string& experiment_id, const Tag& tag);
  core::Status DeleteExperimentTag(const std::string& experiment_id, const std::string& key);

  // Runs.
  core::Result<Run> CreateRun(const CreateRunRequest& request);
  core::Result<Run> GetRun(const std::string& run_id);
  core::Result<RunInfo> UpdateRun(const UpdateRunRequest& request);
  core::Status DeleteRun(const std::string& run_id);
  core::Status RestoreRun(const std::string& run_id);
  core::Result<Page<Run>> SearchRuns(const SearchRunsRequest& request);

  // Run data. All writes fail with kInvalidArgument on a deleted run.
  core::Status LogMetric(const std::string& run_id, const Metric& metric);
  core::Status LogParam(const std::string& run_id, const Param& param);
  core::Status SetTag(const std::string& run_id, const Tag& tag);
  core::Status DeleteTag(const std::string& run_id, const std::string& key);
  // One transaction: everything is written or nothing is.
  core::Status LogBatch(const std::string& run_id, const std::vector<Metric>& metrics,
                        const std::vector<Param>& params, const std::vector<Tag>& tags);
  // Appends the MLmodel dict (JSON text) to the run tag `mlflow.log-model.history`.
  core::Status LogModel(const std::string& run_id, const std::string& model_json);
  core::Status LogInputs(const std::string& run_id, const std::vector<DatasetInput>& datasets,
                         const std::vector<std::string>& model_ids);
  core::Status LogOutputs(const std::string& run_id, const std::vector<ModelOutput>& models);
  // Distinct (dataset, context) pairs logged to runs of 1..20 experiments, at most 1000.
  core::Result<std::vector<DatasetSummary>> SearchDatasets(
      const std::vector<std::string>& experiment_ids);

  core::Result<Page<Metric>> GetMetricHistory(const MetricHistoryRequest& request);
  core::Result<std::vector<MetricWithRunId>> GetMetricHistoryBulkInterval(
      const BulkIntervalRequest& request);

  // Logged models (MLflow 3).
  core::Result<LoggedModel> CreateLoggedModel(const CreateLoggedModelRequest& request);
  core::Result<LoggedModel> GetLoggedModel(const std::string& model_id);
  core::Status DeleteLoggedModel(const std::string& model_id);
  core::Result<LoggedModel> FinalizeLoggedModel(const std::string& model_id,
                                                LoggedModelStatus status);
  core::Result<LoggedModel> SetLoggedModelTags(const std::string& model_id,
                                               const std::vector<Tag>& tags);
  core::Status DeleteLoggedModelTag(const std::string& model_id, const std::string& key);
  core::Status LogLoggedModelParams(const std::string& model_id,
                                    const std::vector<Param>& params);
  core::Result<Page<LoggedModel>> SearchLoggedModels(const SearchLoggedModelsRequest& request);

 private:
  metastore::Database& db_;
  const core::Clock& clock_;
  std::string default_artifact_root_;
};

}  // namespace lakeml::tracking
