#include "server/http_server.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include <spdlog/spdlog.h>

#include "server/error_mapping.h"

namespace lakeml::server {
namespace {

std::optional<std::string> Header(const httplib::Request& request, const char* name) {
  if (!request.has_header(name)) return std::nullopt;
  return request.get_header_value(name);
}

std::optional<std::string_view> AsView(const std::optional<std::string>& value) {
  if (!value) return std::nullopt;
  return std::string_view(*value);
}

int DefaultThreadCount() {
  int cores = static_cast<int>(std::thread::hardware_concurrency());
  // httplib parks one thread on each idle keep-alive connection (for up to 5 s), so the pool
  // bounds concurrent clients, not CPU use: a 17th client of a 16-thread pool would stall.
  return std::max(64, 8 * std::max(cores, 1));
}

}  // namespace

// ---- RequestBody ----

RequestBody::RequestBody(const httplib::Request& request, const httplib::ContentReader* reader)
    : request_(request), reader_(reader) {}

bool RequestBody::Stream(const Sink& sink) {
  if (consumed_) return false;
  consumed_ = true;
  if (reader_ == nullptr) return true;
  // RFC 9112: no Content-Length and no Transfer-Encoding means an empty body. httplib would
  // instead wait for the client to close the connection.
  if (!request_.has_header("Content-Length") && !request_.has_header("Transfer-Encoding")) {
    return true;
  }
  if (request_.is_multipart_form_data()) {
    // httplib can only hand out multipart bodies part by part; parse and drop them so the
    // connection stays framed, and refuse the request.
    (*reader_)([](const httplib::MultipartFormData&) { return true; },
               [](const char*, size_t) { return true; });
    return false;
  }
  bool sink_ok = true;
  bool transport_ok = (*reader_)([&](const char* data, size_t size) {
    if (sink_ok) sink_ok = sink(data, size);
    return true;  // keep reading even after the sink refused: see the class comment
  });
  return transport_ok && sink_ok;
}

core::Result<std::string> RequestBody::ReadAll(size_t max_bytes) {
  if (request_.is_multipart_form_data()) {
    Drain();
    return core::InvalidArgument("multipart/form-data request bodies are not supported");
  }
  std::string body;
  if (request_.has_header("Content-Length")) {
    uint64_t declared = request_.get_header_value<uint64_t>("Content-Length");
    if (declared <= max_bytes) body.reserve(declared);
  }
  bool too_large = false;
  bool ok = Stream([&](const char* data, size_t size) {
    if (body.size() + size > max_bytes) {
      too_large = true;
      return false;
    }
    body.append(data, size);
    return true;
  });
  if (too_large) {
    return core::InvalidArgument("request body is larger than the limit of {} bytes", max_bytes);
  }
  if (!ok) return core::InvalidArgument("failed to read the request body");
  return body;
}

void RequestBody::Drain() {
  if (consumed_) return;
  if (!Stream([](const char*, size_t) { return true; })) {
    spdlog::debug("could not drain the body of {} {}", request_.method, request_.path);
  }
}

std::string HttpExchange::PathParam(std::string_view name) const {
  for (const auto& [key, value] : path_params) {
    if (key == name) return value;
  }
  return "";
}

// ---- responses ----

void WriteJson(httplib::Response& response, const nlohmann::json& body, int http_status) {
  response.status = http_status;
  response.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                       "application/json");
}

void WriteError(httplib::Response& response, const core::Status& status) {
  MlflowError error = ToMlflowError(status.code());
  WriteMlflowError(response, error.error_code, error.http_status, status.message());
}

void WriteMlflowError(httplib::Response& response, std::string_view error_code, int http_status,
                      std::string_view message) {
  response.status = http_status;
  response.set_content(ErrorBody(error_code, message), "application/json");
}

// ---- HttpServer ----

HttpServer::HttpServer(HttpServerOptions options)
    : options_(std::move(options)), host_allowlist_(options_.allowed_hosts, options_.host) {
  server_.set_tcp_nodelay(true);
  // Replaces httplib's default options, which on Linux set SO_REUSEPORT (letting a second server
  // bind the same port and silently take half the connections). SO_REUSEADDR only allows a
  // restart to bind while old connections linger in TIME_WAIT. Called on the listening socket
  // only, which is how Bind() finds it.
  server_.set_socket_options([this](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    listen_socket_ = sock;
  });
  server_.set_keep_alive_max_count(options_.keep_alive_max_requests);
  server_.set_keep_alive_timeout(options_.keep_alive_timeout_seconds);
  server_.set_read_timeout(options_.read_timeout_seconds, 0);
  server_.set_write_timeout(options_.write_timeout_seconds, 0);
  const int threads = options_.threads > 0 ? options_.threads : DefaultThreadCount();
  // httplib owns the queue it gets from this factory and deletes it when listening ends.
  server_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };

  server_.Get(".*", [this](const httplib::Request& request, httplib::Response& response) {
    Dispatch(request, response, nullptr);
  });
  server_.Options(".*", [this](const httplib::Request& request, httplib::Response& response) {
    Dispatch(request, response, nullptr);
  });
  auto with_body = [this](const httplib::Request& request, httplib::Response& response,
                          const httplib::ContentReader& reader) {
    Dispatch(request, response, &reader);
  };
  server_.Post(".*", with_body);
  server_.Put(".*", with_body);
  server_.Patch(".*", with_body);
  server_.Delete(".*", with_body);

  // Errors httplib produces itself (malformed request line, URI too long, ...) get a JSON body
  // too; ours already have one.
  server_.set_error_handler(httplib::Server::HandlerWithResponse(
      [](const httplib::Request&, httplib::Response& response) {
        if (!response.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        WriteMlflowError(
            response, "BAD_REQUEST", response.status,
            fmt::format("the HTTP request was rejected with status {}", response.status));
        return httplib::Server::HandlerResponse::Handled;
      }));
  server_.set_exception_handler(
      [](const httplib::Request& request, httplib::Response& response, std::exception_ptr error) {
        std::string what = "unknown exception";
        try {
          if (error) std::rethrow_exception(error);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        spdlog::error("exception while serving {} {}: {}", request.method, request.path, what);
        WriteMlflowError(response, "INTERNAL_ERROR", 500, "internal server error");
      });
  server_.set_logger([](const httplib::Request& request, const httplib::Response& response) {
    spdlog::debug("{} {} -> {}", request.method, request.path, response.status);
  });
}

HttpServer::~HttpServer() { Stop(); }

bool HttpServer::AddJson(HttpMethod method, std::string_view pattern, JsonHandler handler,
                         size_t max_body_bytes) {
  Route route;
  route.json_handler = std::move(handler);
  route.max_body_bytes = max_body_bytes == 0 ? options_.max_json_body_bytes : max_body_bytes;
  return router_.Add(method, pattern, std::move(route));
}

bool HttpServer::AddRaw(HttpMethod method, std::string_view pattern, RawHandler handler) {
  Route route;
  route.raw_handler = std::move(handler);
  return router_.Add(method, pattern, std::move(route));
}

core::Result<int> HttpServer::Bind() {
  int port = options_.port;
  if (port == 0) {
    port = server_.bind_to_any_port(options_.host);
    if (port <= 0) return core::Unavailable("cannot bind to {}:<any port>", options_.host);
  } else if (!server_.bind_to_port(options_.host, port)) {
    return core::Unavailable("cannot bind to {}:{}", options_.host, port);
  }
  // The packaged httplib listens with a backlog of 5: more clients connecting at once than that
  // overflow the accept queue and wait for a SYN retransmit (~1 s). Listening again on the
  // bound socket only raises the backlog.
  if (listen_socket_ >= 0 && ::listen(listen_socket_, SOMAXCONN) != 0) {
    spdlog::warn("cannot raise the listen backlog: {}", std::strerror(errno));
  }
  return port;
}

core::Status HttpServer::Listen() {
  listen_entered_.store(true);
  if (!stop_requested_.load()) {
    if (!server_.listen_after_bind() && !stop_requested_.load()) {
      listen_returned_.store(true);
      return core::Unavailable("the HTTP server stopped unexpectedly");
    }
  }
  listen_returned_.store(true);
  return core::Status::Ok();
}

void HttpServer::Stop() {
  stop_requested_.store(true);
  // httplib ignores stop() until listen_after_bind() has marked itself running; wait for that so
  // a Stop() racing with Listen() is not lost. (Listen() checks stop_requested_ after announcing
  // itself, so one of the two always sees the other.)
  while (listen_entered_.load() && !listen_returned_.load() && !server_.is_running()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  server_.stop();
}

void HttpServer::Dispatch(const httplib::Request& request, httplib::Response& response,
                          const httplib::ContentReader* reader) {
  RequestBody body(request, reader);
  // The one last-resort catch: handlers return Status, but a bug must not kill the worker.
  try {
    DispatchChecked(request, response, body);
  } catch (const std::exception& e) {
    spdlog::error("exception while serving {} {}: {}", request.method, request.path, e.what());
    WriteMlflowError(response, "INTERNAL_ERROR", 500, "internal server error");
  } catch (...) {
    spdlog::error("unknown exception while serving {} {}", request.method, request.path);
    WriteMlflowError(response, "INTERNAL_ERROR", 500, "internal server error");
  }
  try {
    body.Drain();
  } catch (...) {
    spdlog::error("exception while draining the body of {} {}", request.method, request.path);
  }
}

void HttpServer::DispatchChecked(const httplib::Request& request, httplib::Response& response,
                                 RequestBody& body) {
  const std::optional<std::string> host = Header(request, "Host");
  if (!host_allowlist_.IsHostAllowed(AsView(host))) {
    WriteMlflowError(response, "PERMISSION_DENIED", 403, "Invalid Host header");
    return;
  }
  std::optional<HttpMethod> method = ParseHttpMethod(request.method);
  if (method && *method != HttpMethod::kGet &&
      !host_allowlist_.IsOriginAllowed(AsView(Header(request, "Origin")), AsView(host))) {
    WriteMlflowError(response, "PERMISSION_DENIED", 403, "Cross-origin request blocked");
    return;
  }
  auto match = method ? router_.Find(*method, request.path) : std::nullopt;
  if (!match) {
    WriteMlflowError(response, "ENDPOINT_NOT_FOUND", 404,
                     fmt::format("No endpoint for {} {}", request.method, request.path));
    return;
  }
  const Route& route = *match->handler;
  if (route.raw_handler) {
    HttpExchange exchange{request, response, body, std::move(match->path_params)};
    route.raw_handler(exchange);
    return;
  }
  core::Result<nlohmann::json> result = RunJsonRoute(route, request, body, match->path_params);
  if (!result.ok()) {
    WriteError(response, result.status());
    return;
  }
  WriteJson(response, *result);
}

core::Result<nlohmann::json> HttpServer::RunJsonRoute(const Route& route,
                                                      const httplib::Request& request,
                                                      RequestBody& body,
                                                      const PathParams& path_params) {
  Request fields;
  if (request.method == "GET" || request.method == "HEAD") {
    fields = Request::FromQuery(request.params);
  } else {
    if (request.method == "POST" || request.method == "PUT") {
      LAKEML_RETURN_IF_ERROR(Request::CheckJsonContentType(AsView(Header(request, "Content-Type"))));
    }
    LAKEML_ASSIGN_OR_RETURN(std::string text, body.ReadAll(route.max_body_bytes));
    LAKEML_ASSIGN_OR_RETURN(fields, Request::FromJsonBody(text));
  }
  for (const auto& [name, value] : path_params) fields.SetField(name, value);
  return route.json_handler(fields);
}

}  // namespace lakeml::server
