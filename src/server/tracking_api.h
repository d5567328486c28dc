#pragma once

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "server/http_server.h"
#include "server/request.h"
#include "tracking/artifact_store.h"
#include "tracking/tracking_store.h"

namespace lakeml::server {

// MLflow's tracking RPCs (reference §2.2) under /api/2.0/mlflow and /ajax-api/2.0/mlflow:
// experiments (create, get, get-by-name, search GET+POST, update, delete, restore,
// set/delete-experiment-tag), runs (create, get, update, delete, restore, search, log-metric,
// log-parameter, set-tag, delete-tag, log-batch, log-model, log-inputs, outputs), metrics
// (get-history, get-history-bulk-interval, ajax get-history-bulk), artifacts/list, and
// /api/3.0/mlflow/server-info. Handlers decode and type-check requests, call the TrackingStore
// (which owns every MLflow limit and rule) and encode the result; store errors map through
// error_mapping.h. Holds references only; the stores must outlive it. Thread-safe.
class TrackingApi {
 public:
  TrackingApi(tracking::TrackingStore& store, tracking::ArtifactStore& artifacts);

  void RegisterRoutes(HttpServer& server);

 private:
  core::Result<nlohmann::json> CreateExperiment(const Request& request);
  core::Result<nlohmann::json> GetExperiment(const Request& request);
  core::Result<nlohmann::json> GetExperimentByName(const Request& request);
  core::Result<nlohmann::json> SearchExperiments(const Request& request);
  core::Result<nlohmann::json> UpdateExperiment(const Request& request);
  core::Result<nlohmann::json> DeleteExperiment(const Request& request);
  core::Result<nlohmann::json> RestoreExperiment(const Request& request);
  core::Result<nlohmann::json> SetExperimentTag(const Request& request);
  core::Result<nlohmann::json> DeleteExperimentTag(const Request& request);

  core::Result<nlohmann::json> CreateRun(const Request& request);
  core::Result<nlohmann::json> GetRun(const Request& request);
  core::Result<nlohmann::json> UpdateRun(const Request& request);
  core::Result<nlohmann::json> DeleteRun(const Request& request);
  core::Result<nlohmann::json> RestoreRun(const Request& request);
  core::Result<nlohmann::json> SearchRuns(const Request& request);
  core::Result<nlohmann::json> LogMetric(const Request& request);
  core::Result<nlohmann::json> LogParam(const Request& request);
  core::Result<nlohmann::json> SetTag(const Request& request);
  core::Result<nlohmann::json> DeleteTag(const Request& request);
  core::Result<nlohmann::json> LogBatch(const Request& request);
  core::Result<nlohmann::json> LogModel(const Request& request);
  core::Result<nlohmann::json> LogInputs(const Request& request);
  core::Result<nlohmann::json> LogOutputs(const Request& request);
  core::Result<nlohmann::json> SearchDatasets(const Request& request);

  core::Result<nlohmann::json> GetMetricHistory(const Request& request);
  core::Result<nlohmann::json> GetMetricHistoryBulkInterval(const Request& request);
  core::Result<nlohmann::json> GetMetricHistoryBulk(const Request& request);
  core::Result<nlohmann::json> ListArtifacts(const Request& request);

  tracking::TrackingStore& store_;
  tracking::ArtifactStore& artifacts_;
};

}  // namespace lakeml::server
