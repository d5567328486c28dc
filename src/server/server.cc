#include "server/server.h"

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <thread>

#include <spdlog/spdlog.h>

#include "server/artifacts_api.h"
#include "server/embedded_stores.h"
#include "server/http_server.h"
#include "server/logged_models_api.h"
#include "server/registry_api.h"
#include "server/tracking_api.h"

#ifndef LAKEML_VERSION
#define LAKEML_VERSION "0.0.0"
#endif

namespace lakeml::server {

std::string_view Version() { return LAKEML_VERSION; }

core::Result<std::unique_ptr<Server>> Server::Create(const ServerOptions& options) {
  std::unique_ptr<Server> server(new Server());
  server->options_ = options;

  StoreLocations locations;
  locations.data_dir = options.data_dir;
  locations.backend_store_uri = options.backend_store_uri;
  locations.artifacts_destination = options.artifacts_destination;
  LAKEML_ASSIGN_OR_RETURN(server->stores_, OpenEmbeddedStores(locations));
  EmbeddedStores& stores = *server->stores_;

  HttpServerOptions http_options;
  http_options.host = options.host;
  http_options.port = options.port;
  http_options.threads = options.threads;
  http_options.allowed_hosts = options.allowed_hosts;
  http_options.keep_alive_timeout_seconds = options.keep_alive_timeout_seconds;
  server->http_ = std::make_unique<HttpServer>(std::move(http_options));

  server->tracking_api_ = std::make_unique<TrackingApi>(*stores.tracking, *stores.artifacts);
  server->artifacts_api_ = std::make_unique<ArtifactsApi>(*stores.tracking, *stores.artifacts);
  server->logged_models_api_ =
      std::make_unique<LoggedModelsApi>(*stores.tracking, *stores.artifacts);
  server->registry_api_ = std::make_unique<RegistryApi>(*stores.registry, *stores.artifacts);
  server->tracking_api_->RegisterRoutes(*server->http_);
  server->artifacts_api_->RegisterRoutes(*server->http_);
  server->logged_models_api_->RegisterRoutes(*server->http_);
  server->registry_api_->RegisterRoutes(*server->http_);
  server->http_->AddRaw(HttpMethod::kGet, "/health", [](HttpExchange& exchange) {
    exchange.response.set_content("OK", "text/plain");
  });
  server->http_->AddRaw(HttpMethod::kGet, "/version", [](HttpExchange& exchange) {
    exchange.response.set_content(std::string(Version()), "text/plain");
  });

  LAKEML_ASSIGN_OR_RETURN(server->port_, server->http_->Bind());
  if (!server->http_->host_allowlist().allows_all() &&
      (options.host == "0.0.0.0" || options.host == "::") && options.allowed_hosts.empty()) {
    spdlog::warn(
        "listening on all interfaces, but only localhost Host headers are allowed; pass "
        "--allowed-hosts with the names clients use");
  }
  spdlog::info("lakeml {} tracking server: database {}, artifacts {}", Version(),
               stores.database_uri, stores.artifacts_root.string());
  return server;
}

Server::~Server() {
  if (http_) http_->Stop();
}

std::string Server::url() const {
  const bool ipv6 = options_.host.find(':') != std::string::npos;
  return ipv6 ? fmt::format("http://[{}]:{}", options_.host, port_)
              : fmt::format("http://{}:{}", options_.host, port_);
}

core::Status Server::Run() { return http_->Listen(); }

void Server::Stop() { http_->Stop(); }

core::Status RunServer(const ServerOptions& options) {
  // Block the stop signals before any thread exists, so every thread inherits the mask and only
  // the watcher below receives them (synchronously, outside signal-handler restrictions).
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigset_t previous_mask;
  pthread_sigmask(SIG_BLOCK, &stop_signals, &previous_mask);

  core::Result<std::unique_ptr<Server>> created = Server::Create(options);
  if (!created.ok()) {
    pthread_sigmask(SIG_SETMASK, &previous_mask, nullptr);
    return created.status();
  }
  std::unique_ptr<Server> owned_server = std::move(created).value();
  Server& server = *owned_server;
  std::fprintf(stdout, "lakeml server listening on %s\n", server.url().c_str());
  std::fflush(stdout);

  std::atomic<bool> finished{false};
  std::thread watcher([&] {
    const timespec poll_interval{0, 200 * 1000 * 1000};
    while (!finished.load()) {
      int signal_number = sigtimedwait(&stop_signals, nullptr, &poll_interval);
      if (signal_number == SIGINT || signal_number == SIGTERM) {
        spdlog::info("received signal {}, shutting down", signal_number);
        server.Stop();
        return;
      }
    }
  });
  core::Status status = server.Run();
  finished.store(true);
  watcher.join();
  owned_server.reset();
  pthread_sigmask(SIG_SETMASK, &previous_mask, nullptr);
  return status;
}

}  // namespace lakeml::server
