#pragma once

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "server/http_server.h"
#include "server/request.h"
#include "tracking/artifact_store.h"
#include "tracking/tracking_store.h"

namespace lakeml::server {

// MLflow 3's LoggedModel RPCs (reference §2.2), which 3.x `log_model()` calls, under
// /api/{2,3}.0/mlflow and /ajax-api/{2,3}.0/mlflow:
//   POST logged-models · GET/DELETE/PATCH(finalize) logged-models/{model_id}
//   POST logged-models/search · PATCH logged-models/{model_id}/tags
//   DELETE logged-models/{model_id}/tags/{tag_key} · POST logged-models/{model_id}/params
//   GET logged-models/{model_id}/artifacts/directories
//   GET /ajax-api/2.0/mlflow/logged-models/{model_id}/artifacts/files (the UI's file download)
// Search supports experiment_ids and paging; a `filter` or `datasets` answers 501.
// Holds references only; the stores must outlive it. Thread-safe.
class LoggedModelsApi {
 public:
  LoggedModelsApi(tracking::TrackingStore& store, tracking::ArtifactStore& artifacts);

  void RegisterRoutes(HttpServer& server);

 private:
  core::Result<nlohmann::json> Create(const Request& request);
  core::Result<nlohmann::json> Get(const Request& request);
  core::Result<nlohmann::json> Delete(const Request& request);
  core::Result<nlohmann::json> Finalize(const Request& request);
  core::Result<nlohmann::json> Search(const Request& request);
  core::Result<nlohmann::json> SetTags(const Request& request);
  core::Result<nlohmann::json> DeleteTag(const Request& request);
  core::Result<nlohmann::json> LogParams(const Request& request);
  core::Result<nlohmann::json> ListArtifactDirectory(const Request& request);
  void DownloadArtifactFile(HttpExchange& exchange);

  tracking::TrackingStore& store_;
  tracking::ArtifactStore& artifacts_;
};

}  // namespace lakeml::server
