#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "core/status.h"
#include "server/host_allowlist.h"
#include "server/request.h"
#include "server/router.h"

namespace lakeml::server {

// The body of one HTTP request, read from the connection at most once. Whatever a handler does
// not read, the server drains after the handler returns: a body left in the socket would be
// parsed as the next request on a keep-alive connection (request smuggling behind a proxy).
// Not thread-safe; lives for one request.
class RequestBody {
 public:
  using Sink = std::function<bool(const char* data, size_t size)>;

  // `reader` is null for methods without a body (GET).
  RequestBody(const httplib::Request& request, const httplib::ContentReader* reader);

  // Streams the body into `sink`. If `sink` returns false, the rest is read and discarded.
  // Returns false if the body was already read, is multipart/form-data, the sink refused a
  // chunk, or the connection failed.
  bool Stream(const Sink& sink);

  // The whole body, refusing more than `max_bytes`. Errors: kInvalidArgument (too large,
  // multipart, unreadable).
  core::Result<std::string> ReadAll(size_t max_bytes);

  // Reads and discards anything not yet read. Idempotent.
  void Drain();

 private:
  const httplib::Request& request_;
  const httplib::ContentReader* reader_;
  bool consumed_ = false;
};

// One request being served: the raw request, the response to fill, its body and the values of
// `{name}` path segments.
struct HttpExchange {
  const httplib::Request& request;
  httplib::Response& response;
  RequestBody& body;
  PathParams path_params;

  // The path parameter `name`, or "".
  std::string PathParam(std::string_view name) const;
};

// A handler for an RPC: receives the decoded fields (query string for GET, JSON body otherwise,
// plus path parameters), returns the JSON response object or an error Status.
using JsonHandler = std::function<core::Result<nlohmann::json>(const Request& request)>;
// A handler that reads the body and writes the response itself (artifact up/downloads).
using RawHandler = std::function<void(HttpExchange& exchange)>;

// Writes a 200 (or `http_status`) JSON response in one piece with Content-Length.
void WriteJson(httplib::Response& response, const nlohmann::json& body, int http_status = 200);
// Writes `status` as an MLflow error through the table in error_mapping.h.
void WriteError(httplib::Response& response, const core::Status& status);
// Writes an MLflow error with an explicit code, e.g. ENDPOINT_NOT_FOUND.
void WriteMlflowError(httplib::Response& response, std::string_view error_code, int http_status,
                      std::string_view message);

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 5000;  // 0 picks a free port (see HttpServer::Bind)
  int threads = 0;  // 0 → max(64, 8 × hardware threads)
  std::vector<std::string> allowed_hosts;  // see HostAllowlist; empty → defaults
  size_t max_json_body_bytes = 16u << 20;
  int read_timeout_seconds = 60;
  int write_timeout_seconds = 60;
  int keep_alive_timeout_seconds = 5;
  size_t keep_alive_max_requests = 1000000;
};

// An HTTP/1.1 server on cpp-httplib with our own router: one catch-all handler per method looks
// up (method, path) in a Router, so unknown paths get MLflow's JSON 404 ENDPOINT_NOT_FOUND. It
// sets TCP_NODELAY (else each response waits ~40 ms for a delayed ACK), keeps connections alive
// for many requests, checks the Host header (HostAllowlist) before any route runs, applies a
// body cap to JSON routes and catches any exception a handler lets escape (→ INTERNAL_ERROR).
//
// Usage: Add*() routes, Bind(), then Listen() on one thread and Stop() from another.
// Add*() is not thread-safe and must precede Bind(); Stop() is thread-safe and idempotent.
class HttpServer {
 public:
  explicit HttpServer(HttpServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // An RPC route. `max_body_bytes` 0 means options.max_json_body_bytes. Returns false if the
  // route already exists.
  bool AddJson(HttpMethod method, std::string_view pattern, JsonHandler handler,
               size_t max_body_bytes = 0);
  bool AddRaw(HttpMethod method, std::string_view pattern, RawHandler handler);

  // Binds the listening socket; returns the bound port (useful with port 0).
  // Errors: kUnavailable if the address cannot be bound.
  core::Result<int> Bind();

  // Serves until Stop(). Precondition: Bind() succeeded.
  core::Status Listen();

  // Stops accepting, lets in-flight requests finish and makes Listen() return.
  void Stop();

  const HostAllowlist& host_allowlist() const { return host_allowlist_; }

 private:
  struct Route {
    JsonHandler json_handler;  // exactly one of the two is set
    RawHandler raw_handler;
    size_t max_body_bytes = 0;
  };

  void Dispatch(const httplib::Request& request, httplib::Response& response,
                const httplib::ContentReader* reader);
  void DispatchChecked(const httplib::Request& request, httplib::Response& response,
                       RequestBody& body);
  core::Result<nlohmann::json> RunJsonRoute(const Route& route, const httplib::Request& request,
                                            RequestBody& body, const PathParams& path_params);

  HttpServerOptions options_;
  HostAllowlist host_allowlist_;
  Router<Route> router_;
  httplib::Server server_;
  // The listening socket, captured when httplib creates it during Bind(); -1 before that.
  int listen_socket_ = -1;
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> listen_entered_{false};
  std::atomic<bool> listen_returned_{false};
};

}  // namespace lakeml::server
