#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace lakeml::server {

class HttpServer;
class TrackingApi;
class ArtifactsApi;
class LoggedModelsApi;
class RegistryApi;
struct EmbeddedStores;

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 5000;  // 0 picks a free port; Server::port() tells which
  std::string data_dir = "./lakeml-data";
  std::string backend_store_uri;      // default: <data_dir>/lakeml.db (SQLite)
  std::string artifacts_destination;  // default: <data_dir>/artifacts
  std::vector<std::string> allowed_hosts;  // Host allowlist; empty → localhost + bind host; "*" off
  int threads = 0;                         // 0 → max(64, 8 × cores)
  int keep_alive_timeout_seconds = 5;
};

// The lakeml version string (the CMake project version).
std::string_view Version();

// The tracking server: opens the metadata database, the artifact store and the model registry
// named by the options (OpenEmbeddedStores), registers the MLflow tracking, logged-model,
// registry and artifact routes plus `GET /health` and `GET /version`, and binds the port.
// Run() serves until Stop().
// Create(), Run() and the destructor are called from one thread; Stop() from any thread.
class Server {
 public:
  // Errors: the database's (kInvalidArgument bad URI, kUnavailable, kFailedPrecondition), the
  // store's Initialize(), kInternal if a directory cannot be created, kUnavailable if the port
  // cannot be bound.
  static core::Result<std::unique_ptr<Server>> Create(const ServerOptions& options);

  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The bound port (the real one when options.port was 0).
  int port() const { return port_; }
  // "http://<host>:<port>".
  std::string url() const;

  // Serves requests until Stop(). Errors: kUnavailable if the listener fails.
  core::Status Run();
  // Thread-safe, idempotent; in-flight requests finish.
  void Stop();

 private:
  Server() = default;

  ServerOptions options_;
  int port_ = 0;
  std::unique_ptr<EmbeddedStores> stores_;
  std::unique_ptr<TrackingApi> tracking_api_;
  std::unique_ptr<ArtifactsApi> artifacts_api_;
  std::unique_ptr<LoggedModelsApi> logged_models_api_;
  std::unique_ptr<RegistryApi> registry_api_;
  // Last: destroyed (and stopped) first, while the stores its handlers use still exist.
  std::unique_ptr<HttpServer> http_;
};

// Creates a Server, prints its URL, and serves until SIGINT or SIGTERM, then shuts down
// cleanly (no detached threads). Call from the main thread before starting other threads: it
// blocks those signals in the threads it creates. Errors: as Server::Create and Server::Run.
core::Status RunServer(const ServerOptions& options);

}  // namespace lakeml::server
