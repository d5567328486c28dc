#include "server/artifacts_api.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

#include "server/tracking_json.h"

namespace lakeml::server {
namespace {

using nlohmann::json;

constexpr size_t kMaxUiUploadBytes = 10u * 1024 * 1024;
constexpr std::array<std::string_view, 2> kArtifactPrefixes = {"/api/2.0/mlflow-artifacts",
                                                               "/ajax-api/2.0/mlflow-artifacts"};

std::string_view Basename(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string ToLower(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower;
}

std::string JoinRelative(std::string_view root, std::string_view child) {
  if (root.empty()) return std::string(child);
  if (child.empty()) return std::string(root);
  std::string joined(root);
  if (joined.back() != '/') joined.push_back('/');
  joined.append(child);
  return joined;
}

// `attachment; filename=x` for plain names, a quoted (and RFC 5987 encoded, for non-ASCII) form
// otherwise; control characters never reach the header.
std::string ContentDisposition(std::string_view file_name) {
  bool plain = !file_name.empty();
  bool ascii = true;
  for (unsigned char c : file_name) {
    if (c >= 0x80) ascii = false;
    if (!(std::isalnum(c) || c == '.' || c == '-' || c == '_')) plain = false;
  }
  if (plain) return fmt::format("attachment; filename={}", file_name);
  std::string quoted;
  std::string encoded;
  for (unsigned char c : file_name) {
    if (c < 0x20 || c == 0x7f) continue;
    if (c < 0x80) {
      if (c == '"' || c == '\\') quoted.push_back('\\');
      quoted.push_back(static_cast<char>(c));
    } else {
      quoted.push_back('_');
    }
    if (std::isalnum(c) || c == '.' || c == '-' || c == '_') {
      encoded.push_back(static_cast<char>(c));
    } else {
      encoded += fmt::format("%{:02X}", c);
    }
  }
  if (ascii) return fmt::format("attachment; filename=\"{}\"", quoted);
  return fmt::format("attachment; filename=\"{}\"; filename*=UTF-8''{}", quoted, encoded);
}

}  // namespace

std::string GuessContentType(std::string_view file_name) {
  std::string_view name = Basename(file_name);
  size_t dot = name.rfind('.');
  // Files without an extension (MLmodel, MLproject) are judged by their whole name.
  std::string extension = ToLower(dot == std::string_view::npos ? name : name.substr(dot + 1));
  static constexpr std::array<std::string_view, 26> kTextExtensions = {
      "txt", "log",  "err", "cfg", "conf", "cnf",  "cf",  "ini", "properties",
      "prop", "hocon", "toml", "yaml", "yml", "xml", "js", "py",
      "py3", "csv", "tsv", "md", "rst", "mlmodel", "mlproject", "jsonl", "sh"};
  // JSON keeps its own type (MLflow guesses types with Python's mimetypes); it cannot run
  // script in a browser, unlike the HTML and SVG types below, which nosniff does not defuse.
  if (extension == "json") return "application/json";
  if (std::find(kTextExtensions.begin(), kTextExtensions.end(), extension) !=
      kTextExtensions.end()) {
    return "text/plain";
  }
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 16> kBinaryTypes = {{
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},
      {"bmp", "image/bmp"},
      {"svg", "image/svg+xml"},
      {"webp", "image/webp"},
      {"html", "text/html"},
      {"htm", "text/html"},
      {"pdf", "application/pdf"},
      {"zip", "application/zip"},
      {"gz", "application/gzip"},
      {"tar", "application/x-tar"},
      {"mp4", "video/mp4"},
      {"wav", "audio/x-wav"},
      {"geojson", "application/geo+json"},
  }};
  for (const auto& [known, type] : kBinaryTypes) {
    if (extension == known) return std::string(type);
  }
  return "application/octet-stream";
}

core::Result<std::string> SafeArtifactPath(std::string_view user_path) {
  core::Result<std::string> safe = tracking::ValidatePathIsSafe(user_path);
  // MLflow's exact wording; the offending path is not echoed back.
  if (!safe.ok()) return core::InvalidArgument("Invalid path");
  return std::move(safe).value();
}

core::Result<std::string> ResolveArtifactPath(std::string_view artifact_uri,
                                              std::string_view user_path) {
  LAKEML_ASSIGN_OR_RETURN(std::string root, tracking::ArtifactUriToRelativePath(artifact_uri));
  if (user_path.empty()) return root;
  LAKEML_ASSIGN_OR_RETURN(std::string safe, SafeArtifactPath(user_path));
  return JoinRelative(root, safe);
}

void ServeArtifactFile(const tracking::ArtifactStore& artifacts, const std::string& relative_path,
                       httplib::Response& response) {
  core::Result<int64_t> file_size = artifacts.FileSize(relative_path);
  if (!file_size.ok()) {
    WriteError(response, file_size.status());
    return;
  }
  std::string_view name = Basename(relative_path);
  // The status stays unset so httplib answers 206 for a Range request and 200 otherwise.
  response.set_header("Content-Disposition", ContentDisposition(name));
  response.set_header("X-Content-Type-Options", "nosniff");
  // httplib sends neither Content-Length nor chunked framing for a zero-length provider, which
  // leaves keep-alive clients waiting for a body; an empty file is plain empty content.
  if (*file_size == 0) {
    response.set_content("", GuessContentType(name));
    return;
  }
  // httplib asks for [offset, offset + length) — the whole file, or one range of it. The store
  // pushes the file front to back, so skip up to `offset` and stop after `length` bytes.
  response.set_content_provider(
      static_cast<size_t>(*file_size), GuessContentType(name),
      [&artifacts, relative_path](size_t offset, size_t length, httplib::DataSink& sink) {
        size_t position = 0;
        size_t written = 0;
        core::Status status = artifacts.Get(relative_path, [&](const char* data, size_t size) {
          size_t chunk_begin = position;
          position += size;
          if (position <= offset) return true;
          size_t skip = offset > chunk_begin ? offset - chunk_begin : 0;
          size_t take = std::min(size - skip, length - written);
          if (!sink.write(data + skip, take)) return false;
          written += take;
          return written < length;
        });
        // Stopping early after `length` bytes makes Get report an abort; only the byte count
        // tells success.
        status.IgnoreError();
        return written == length;
      });
}

ArtifactsApi::ArtifactsApi(tracking::TrackingStore& store, tracking::ArtifactStore& artifacts)
    : store_(store), artifacts_(artifacts) {}

void ArtifactsApi::RegisterRoutes(HttpServer& server) {
  for (std::string_view prefix : kArtifactPrefixes) {
    const std::string files = fmt::format("{}/artifacts", prefix);
    const std::string file = fmt::format("{}/artifacts/{{artifact_path...}}", prefix);
    server.AddRaw(HttpMethod::kPut, file, [this](HttpExchange& e) { PutArtifact(e); });
    server.AddRaw(HttpMethod::kGet, file, [this](HttpExchange& e) { GetArtifact(e); });
    server.AddRaw(HttpMethod::kDelete, file, [this](HttpExchange& e) { DeleteArtifact(e); });
    server.AddJson(HttpMethod::kGet, files, [this](const Request& r) { return ListArtifacts(r); });
    for (std::string_view action : {"create", "complete", "abort"}) {
      server.AddJson(HttpMethod::kPost,
                     fmt::format("{}/mpu/{}/{{artifact_path...}}", prefix, action),
                     [](const Request&) -> core::Result<json> {
                       return core::Unimplemented(
                           "Multipart upload is not supported for the current artifact "
                           "repository");
                     });
    }
  }
  server.AddRaw(HttpMethod::kGet, "/get-artifact", [this](HttpExchange& e) { GetRunArtifact(e); });
  server.AddRaw(HttpMethod::kPost, "/ajax-api/2.0/mlflow/upload-artifact",
                [this](HttpExchange& e) { UploadRunArtifact(e); });
}

void ArtifactsApi::PutArtifact(HttpExchange& exchange) {
  core::Result<std::string> path = SafeArtifactPath(exchange.PathParam("artifact_path"));
  if (!path.ok()) {
    WriteError(exchange.response, path.status());
    return;
  }
  if (exchange.request.is_multipart_form_data()) {
    WriteError(exchange.response,
               core::InvalidArgument("send the file as the raw request body, not multipart"));
    return;
  }
  bool body_ok = true;
  core::Status status = artifacts_.Put(*path, [&](const tracking::ChunkSink& sink) {
    body_ok = exchange.body.Stream([&](const char* data, size_t size) { return sink(data, size); });
    return body_ok;
  });
  if (!status.ok()) {
    WriteError(exchange.response, status);
    return;
  }
  WriteJson(exchange.response, json::object());
}

void ArtifactsApi::GetArtifact(HttpExchange& exchange) {
  core::Result<std::string> path = SafeArtifactPath(exchange.PathParam("artifact_path"));
  if (!path.ok()) {
    WriteError(exchange.response, path.status());
    return;
  }
  ServeArtifactFile(artifacts_, *path, exchange.response);
}

void ArtifactsApi::DeleteArtifact(HttpExchange& exchange) {
  core::Result<std::string> path = SafeArtifactPath(exchange.PathParam("artifact_path"));
  if (!path.ok()) {
    WriteError(exchange.response, path.status());
    return;
  }
  core::Status status = artifacts_.Delete(*path);
  if (!status.ok()) {
    WriteError(exchange.response, status);
    return;
  }
  WriteJson(exchange.response, json::object());
}

core::Result<json> ArtifactsApi::ListArtifacts(const Request& request) {
  LAKEML_ASSIGN_OR_RETURN(std::string user_path, request.StringOrEmpty("path"));
  std::string directory;
  if (!user_path.empty()) {
    LAKEML_ASSIGN_OR_RETURN(directory, SafeArtifactPath(user_path));
  }
  LAKEML_ASSIGN_OR_RETURN(std::vector<tracking::FileInfo> files, artifacts_.List(directory));
  json out = json::object();
  if (!files.empty()) {
    json list = json::array();
    for (const tracking::FileInfo& file : files) list.push_back(FileInfoToJson(file));
    out["files"] = std::move(list);
  }
  return out;
}

void ArtifactsApi::GetRunArtifact(HttpExchange& exchange) {
  auto resolve = [&]() -> core::Result<std::string> {
    Request request = Request::FromQuery(exchange.request.params);
    LAKEML_ASSIGN_OR_RETURN(std::string run_id, request.RequiredRunId());
    LAKEML_ASSIGN_OR_RETURN(std::string path, request.RequiredString("path"));
    LAKEML_ASSIGN_OR_RETURN(tracking::Run run, store_.GetRun(run_id));
    return ResolveArtifactPath(run.info.artifact_uri, path);
  };
  core::Result<std::string> relative_path = resolve();
  if (!relative_path.ok()) {
    WriteError(exchange.response, relative_path.status());
    return;
  }
  ServeArtifactFile(artifacts_, *relative_path, exchange.response);
}

void ArtifactsApi::UploadRunArtifact(HttpExchange& exchange) {
  auto upload = [&]() -> core::Status {
    Request request = Request::FromQuery(exchange.request.params);
    LAKEML_ASSIGN_OR_RETURN(std::string run_id, request.RequiredRunId());
    LAKEML_ASSIGN_OR_RETURN(std::string path, request.RequiredString("path"));
    LAKEML_ASSIGN_OR_RETURN(tracking::Run run, store_.GetRun(run_id));
    LAKEML_ASSIGN_OR_RETURN(std::string relative_path,
                            ResolveArtifactPath(run.info.artifact_uri, path));
    if (exchange.request.has_header("Content-Length") &&
        exchange.request.get_header_value<uint64_t>("Content-Length") > kMaxUiUploadBytes) {
      return core::InvalidArgument("Artifact size is too large. Max size is 10MB.");
    }
    size_t total_bytes = 0;
    bool too_large = false;
    core::Status status = artifacts_.Put(relative_path, [&](const tracking::ChunkSink& sink) {
      return exchange.body.Stream([&](const char* data, size_t size) {
        total_bytes += size;
        // Chunked bodies carry no length up front; the cap is enforced while streaming.
        if (total_bytes > kMaxUiUploadBytes) {
          too_large = true;
          return false;
        }
        return sink(data, size);
      });
    });
    if (too_large) return core::InvalidArgument("Artifact size is too large. Max size is 10MB.");
    return status;
  };
  core::Status status = upload();
  if (!status.ok()) {
    WriteError(exchange.response, status);
    return;
  }
  WriteJson(exchange.response, json::object());
}

}  // namespace lakeml::server
