#include "registry/model_uri.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <system_error>
#include <utility>
#include <vector>

#include "core/text.h"

namespace lakeml::registry {
namespace {

core::Status InvalidUri(std::string_view uri, std::string_view why) {
  return core::InvalidArgument("invalid model uri '{}': {}", core::EscapeForMessage(uri), why);
}

bool StartsWithIgnoreCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

bool IsBlank(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c == ' ' || c == '\t'; });
}

bool IsDigits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool IsRunIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

// Adds the URI to a lookup error, keeping its code, so callers can tell which URI failed.
core::Status NameUri(const core::Status& status, std::string_view uri) {
  return {status.code(),
          fmt::format("{} (model uri '{}')", status.message(), core::EscapeForMessage(uri))};
}

constexpr std::string_view kModelsUriForms =
    "expected models:/<name>/<version|stage|latest> or models:/<name>@<alias>";

core::Result<ModelUri> ParseModelsUri(std::string_view uri, std::string_view rest) {
  if (rest.empty() || rest.front() != '/' || rest.substr(0, 2) == "//") {
    return InvalidUri(uri, kModelsUriForms);
  }
  rest.remove_prefix(1);
  std::vector<std::string_view> parts;
  while (true) {
    const size_t slash = rest.find('/');
    parts.push_back(rest.substr(0, slash));
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  if (parts.size() > 2 || IsBlank(parts[0])) {
    return InvalidUri(uri, kModelsUriForms);
  }
  ModelUri parsed;
  if (parts.size() == 2) {
    const std::string_view suffix = parts[1];
    if (IsBlank(suffix)) return InvalidUri(uri, "the version or stage is empty");
    if (parts[0].find('@') != std::string_view::npos) {
      return InvalidUri(uri, "a models uri cannot combine an alias with a version or stage");
    }
    parsed.name = std::string(parts[0]);
    if (IsDigits(suffix)) {
      const auto [end, error] =
          std::from_chars(suffix.data(), suffix.data() + suffix.size(), parsed.version);
      if (error != std::errc() || end != suffix.data() + suffix.size()) {
        return InvalidUri(uri, "the version is out of range");
      }
      parsed.kind = ModelUriKind::kVersion;
    } else if (StartsWithIgnoreCase(suffix, "latest") && suffix.size() == 6) {
      parsed.kind = ModelUriKind::kLatest;
    } else {
      auto stage = CanonicalStage(suffix);
      if (!stage.ok()) return InvalidUri(uri, stage.status().message());
      parsed.kind = ModelUriKind::kStage;
      parsed.stage = std::move(stage).value();
    }
    return parsed;
  }
  const std::string_view single = parts[0];
  const size_t at = single.rfind('@');
  if (at == std::string_view::npos || IsBlank(single.substr(at + 1))) {
    parsed.kind = ModelUriKind::kLoggedModel;
    parsed.model_id = std::string(single);
    return parsed;
  }
  if (IsBlank(single.substr(0, at))) return InvalidUri(uri, "the model name is empty");
  parsed.kind = ModelUriKind::kAlias;
  parsed.name = std::string(single.substr(0, at));
  parsed.alias = std::string(single.substr(at + 1));
  return parsed;
}

core::Result<ModelUri> ParseRunsUri(std::string_view uri, std::string_view rest) {
  if (rest.empty() || rest.front() != '/' || rest.substr(0, 2) == "//") {
    return InvalidUri(uri, "expected runs:/<run_id>/<path>");
  }
  rest.remove_prefix(1);
  const size_t slash = rest.find('/');
  const std::string_view run_id = rest.substr(0, slash);
  if (run_id.empty() || !std::all_of(run_id.begin(), run_id.end(), IsRunIdChar)) {
    return InvalidUri(uri, "expected runs:/<run_id>/<path>");
  }
  ModelUri parsed;
  parsed.kind = ModelUriKind::kRun;
  parsed.run_id = std::string(run_id);
  const std::string_view path =
      slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  auto safe = tracking::ValidatePathIsSafe(path);
  if (!safe.ok()) return InvalidUri(uri, "the artifact path is not safe");
  parsed.path = std::move(safe).value();
  return parsed;
}

}  // namespace

core::Result<ModelUri> ParseModelUri(std::string_view uri) {
  // MLflow parses model URIs without fragments; neither a fragment nor a query can mean anything
  // for a model, and both have hidden traversals before (CVE-2024-1594).
  if (uri.find_first_of("?#") != std::string_view::npos) {
    return InvalidUri(uri, "queries and fragments are not allowed");
  }
  if (StartsWithIgnoreCase(uri, "models:")) return ParseModelsUri(uri, uri.substr(7));
  if (StartsWithIgnoreCase(uri, "runs:")) return ParseRunsUri(uri, uri.substr(5));
  return InvalidUri(uri, "expected a models:/ or runs:/ uri");
}

core::Result<std::filesystem::path> ArtifactUriToLocalPath(
    std::string_view artifact_uri, const tracking::ArtifactStore& artifacts) {
  LAKEML_ASSIGN_OR_RETURN(std::string relative, tracking::ArtifactUriToRelativePath(artifact_uri));
  return artifacts.Resolve(relative);
}

ModelUriResolver::ModelUriResolver(ModelRegistry& registry, tracking::TrackingStore& tracking,
                                   const tracking::ArtifactStore& artifacts)
    : registry_(registry), tracking_(tracking), artifacts_(artifacts) {}

core::Result<ModelVersion> ModelUriResolver::ResolveVersion(std::string_view uri) {
  LAKEML_ASSIGN_OR_RETURN(ModelUri parsed, ParseModelUri(uri));
  switch (parsed.kind) {
    case ModelUriKind::kVersion: {
      auto version = registry_.GetModelVersion(parsed.name, std::to_string(parsed.version));
      if (!version.ok()) return NameUri(version.status(), uri);
      return version;
    }
    case ModelUriKind::kAlias: {
      auto version = registry_.GetModelVersionByAlias(parsed.name, parsed.alias);
      if (!version.ok()) return NameUri(version.status(), uri);
      return version;
    }
    case ModelUriKind::kStage:
    case ModelUriKind::kLatest: {
      std::vector<std::string> stages;
      if (parsed.kind == ModelUriKind::kStage) stages.push_back(parsed.stage);
      auto latest = registry_.GetLatestVersions(parsed.name, stages);
      if (!latest.ok()) return NameUri(latest.status(), uri);
      if (latest->empty()) {
        return core::NotFound("registered model '{}' has no version{} (model uri '{}')",
                              core::EscapeForMessage(parsed.name),
                              parsed.kind == ModelUriKind::kStage
                                  ? fmt::format(" in stage '{}'", parsed.stage)
                                  : std::string(),
                              core::EscapeForMessage(uri));
      }
      // `latest` is the highest version over every stage's latest.
      const auto number = [](const ModelVersion& version) {
        return ParseVersion(version.version).ok() ? *ParseVersion(version.version) : 0;
      };
      auto highest = std::max_element(
          latest->begin(), latest->end(),
          [&](const ModelVersion& a, const ModelVersion& b) { return number(a) < number(b); });
      return std::move(*highest);
    }
    case ModelUriKind::kLoggedModel:
    case ModelUriKind::kRun:
      break;
  }
  return InvalidUri(uri, "it does not name a registered model version");
}

core::Result<std::string> ModelUriResolver::ResolveArtifactUri(std::string_view uri) {
  LAKEML_ASSIGN_OR_RETURN(ModelUri parsed, ParseModelUri(uri));
  if (parsed.kind == ModelUriKind::kRun) {
    auto run = tracking_.GetRun(parsed.run_id);
    if (!run.ok()) return NameUri(run.status(), uri);
    std::string location = run->info.artifact_uri;
    if (!parsed.path.empty()) {
      while (!location.empty() && location.back() == '/') location.pop_back();
      location += "/" + parsed.path;
    }
    return location;
  }
  if (parsed.kind == ModelUriKind::kLoggedModel) {
    auto logged = tracking_.GetLoggedModel(parsed.model_id);
    if (!logged.ok()) return NameUri(logged.status(), uri);
    return logged->artifact_uri;
  }
  LAKEML_ASSIGN_OR_RETURN(ModelVersion version, ResolveVersion(uri));
  return version.storage_location;
}

core::Result<std::filesystem::path> ModelUriResolver::ResolveLocalDirectory(std::string_view uri) {
  LAKEML_ASSIGN_OR_RETURN(std::string artifact_uri, ResolveArtifactUri(uri));
  auto local = ArtifactUriToLocalPath(artifact_uri, artifacts_);
  if (!local.ok()) return NameUri(local.status(), uri);
  std::error_code ec;
  if (!std::filesystem::is_directory(*local, ec)) {
    return core::NotFound("model directory of '{}' does not exist", core::EscapeForMessage(uri));
  }
  return local;
}

}  // namespace lakeml::registry
