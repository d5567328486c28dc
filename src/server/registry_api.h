#pragma once

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "registry/model_registry.h"
#include "server/http_server.h"
#include "server/request.h"
#include "tracking/artifact_store.h"

namespace lakeml::server {

// MLflow's model registry RPCs (reference §3.2) under /api/2.0/mlflow and /ajax-api/2.0/mlflow,
// with MLflow's methods (PATCH and DELETE carry JSON bodies):
//   registered-models/  create (POST), get (GET), rename (POST), update (PATCH),
//                       delete (DELETE), search (GET), get-latest-versions (POST and GET),
//                       set-tag (POST), delete-tag (DELETE), alias (POST set, DELETE delete,
//                       GET get-model-version-by-alias)
//   model-versions/     create (POST), get (GET), update (PATCH), delete (DELETE), search (GET),
//                       transition-stage (POST), get-download-uri (GET), set-tag (POST),
//                       delete-tag (DELETE)
// plus the root route `GET /model-versions/get-artifact?name=&version=&path=` (§7.5), which
// streams one file of a version after ModelRegistry::ModelVersionArtifactPath has re-checked the
// stored source and the path. Handlers decode and type-check requests, call the ModelRegistry
// (which owns every rule: names, stages, aliases, sources) and encode with registry_json.h;
// errors map through error_mapping.h. Holds references only; the registry and artifact store
// must outlive it. Thread-safe.
class RegistryApi {
 public:
  RegistryApi(registry::ModelRegistry& registry, const tracking::ArtifactStore& artifacts);

  void RegisterRoutes(HttpServer& server);

 private:
  core::Result<nlohmann::json> CreateRegisteredModel(const Request& request);
  core::Result<nlohmann::json> GetRegisteredModel(const Request& request);
  core::Result<nlohmann::json> RenameRegisteredModel(const Request& request);
  core::Result<nlohmann::json> UpdateRegisteredModel(const Request& request);
  core::Result<nlohmann::json> DeleteRegisteredModel(const Request& request);
  core::Result<nlohmann::json> SearchRegisteredModels(const Request& request);
  core::Result<nlohmann::json> GetLatestVersions(const Request& request);
  core::Result<nlohmann::json> SetRegisteredModelTag(const Request& request);
  core::Result<nlohmann::json> DeleteRegisteredModelTag(const Request& request);
  core::Result<nlohmann::json> SetRegisteredModelAlias(const Request& request);
  core::Result<nlohmann::json> DeleteRegisteredModelAlias(const Request& request);
  core::Result<nlohmann::json> GetModelVersionByAlias(const Request& request);

  core::Result<nlohmann::json> CreateModelVersion(const Request& request);
  core::Result<nlohmann::json> GetModelVersion(const Request& request);
  core::Result<nlohmann::json> UpdateModelVersion(const Request& request);
  core::Result<nlohmann::json> DeleteModelVersion(const Request& request);
  core::Result<nlohmann::json> SearchModelVersions(const Request& request);
  core::Result<nlohmann::json> TransitionModelVersionStage(const Request& request);
  core::Result<nlohmann::json> GetModelVersionDownloadUri(const Request& request);
  core::Result<nlohmann::json> SetModelVersionTag(const Request& request);
  core::Result<nlohmann::json> DeleteModelVersionTag(const Request& request);

  void GetModelVersionArtifact(HttpExchange& exchange);

  registry::ModelRegistry& registry_;
  const tracking::ArtifactStore& artifacts_;
};

}  // namespace lakeml::server
