#pragma once

#include <string>
#include <string_view>

#include <httplib.h>

#include "core/status.h"
#include "server/http_server.h"
#include "tracking/artifact_store.h"
#include "tracking/tracking_store.h"

namespace lakeml::server {

// MLflow's proxied artifact service (reference §7.2, §7.5) over an ArtifactStore:
//   PUT/GET/DELETE  {/api,/ajax-api}/2.0/mlflow-artifacts/artifacts/<path>   (streamed both ways)
//   GET             {/api,/ajax-api}/2.0/mlflow-artifacts/artifacts?path=    (basenames)
//   POST            .../mlflow-artifacts/mpu/{create,complete,abort}/<path>  → 501
//   GET             /get-artifact?run_id=&path=
//   POST            /ajax-api/2.0/mlflow/upload-artifact?run_uuid=&path=     (≤ 10 MB)
// Every path passes ValidatePathIsSafe (400 INVALID_PARAMETER_VALUE "Invalid path"). The upload
// PUT takes any Content-Type: its body is the file. Holds references only; the stores must
// outlive it. Thread-safe (the stores are).
class ArtifactsApi {
 public:
  ArtifactsApi(tracking::TrackingStore& store, tracking::ArtifactStore& artifacts);

  void RegisterRoutes(HttpServer& server);

 private:
  void PutArtifact(HttpExchange& exchange);
  void GetArtifact(HttpExchange& exchange);
  void DeleteArtifact(HttpExchange& exchange);
  core::Result<nlohmann::json> ListArtifacts(const Request& request);
  void GetRunArtifact(HttpExchange& exchange);
  void UploadRunArtifact(HttpExchange& exchange);

  tracking::TrackingStore& store_;
  tracking::ArtifactStore& artifacts_;
};

// The Content-Type for a file name, as MLflow guesses it: text-like extensions (and MLmodel)
// are text/plain, known binary types by extension, anything else application/octet-stream.
std::string GuessContentType(std::string_view file_name);

// Validates `user_path` (ValidatePathIsSafe) and joins it under the store-relative directory of
// `artifact_uri` (a run's or logged model's). Empty `user_path` gives the root itself.
// Errors: kInvalidArgument "Invalid path", or ArtifactUriToRelativePath's errors.
core::Result<std::string> ResolveArtifactPath(std::string_view artifact_uri,
                                              std::string_view user_path);

// Validates `user_path` alone; returns the decoded safe path. Errors: kInvalidArgument
// "Invalid path".
core::Result<std::string> SafeArtifactPath(std::string_view user_path);

// Streams the file at `relative_path` as an attachment: Content-Length, a Content-Type guessed
// from the extension, `Content-Disposition: attachment; filename=<basename>` and
// `X-Content-Type-Options: nosniff`. Missing file → 404 RESOURCE_DOES_NOT_EXIST. The store
// must outlive the response.
void ServeArtifactFile(const tracking::ArtifactStore& artifacts, const std::string& relative_path,
                       httplib::Response& response);

}  // namespace lakeml::server
