#include "tracking/validation.h"

#include <cctype>
#include <nlohmann/json.hpp>
#include <string>

namespace lakeml::tracking {
namespace {

std::string JoinPath(std::string_view prefix, std::string_view field) {
  if (prefix.empty()) return std::string(field);
  return fmt::format("{}.{}", prefix, field);
}

// json.dumps-style quoting so messages read like MLflow's; replacement of invalid UTF-8 keeps
// nlohmann from throwing on hostile input.
std::string Quoted(std::string_view value) {
  return nlohmann::json(std::string(value))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

core::Status InvalidValue(std::string_view path, std::string_view value, std::string_view why) {
  return core::InvalidArgument("Invalid value {} for parameter '{}' supplied: {}", Quoted(value),
                               path, why);
}

core::Status CheckLength(std::string_view what, size_t limit, std::string_view value) {
  if (value.size() <= limit || CharLength(value) <= limit) return core::Status::Ok();
  return core::InvalidArgument("'{}' exceeds the maximum length of {} characters", what, limit);
}

bool IsAllowedNameChar(unsigned char c) {
  if (c >= 0x80) return true;  // part of a non-ASCII code point; \w accepts Unicode letters
  if (std::isalnum(c)) return true;
  switch (c) {
    case '_':
    case '/':
    case '.':
    case '-':
    case ' ':
    case ':':
      return true;
    default:
      return false;
  }
}

bool IsValidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    size_t extra = 0;
    if (lead < 0x80) {
      extra = 0;
    } else if ((lead & 0xE0) == 0xC0 && lead >= 0xC2) {
      extra = 1;
    } else if ((lead & 0xF0) == 0xE0) {
      extra = 2;
    } else if ((lead & 0xF8) == 0xF0 && lead <= 0xF4) {
      extra = 3;
    } else {
      return false;
    }
    if (i + extra >= text.size() && extra > 0) return false;
    for (size_t k = 1; k <= extra; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return false;
    }
    i += extra + 1;
  }
  return true;
}

}  // namespace

size_t CharLength(std::string_view text) {
  size_t count = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++count;
  }
  return count;
}

std::string NormalizePosixPath(std::string_view path) {
  if (path.empty()) return ".";
  size_t initial_slashes = 0;
  if (path.front() == '/') {
    // POSIX lets exactly two leading slashes mean something implementation-defined, so
    // normpath keeps them; three or more collapse to one.
    initial_slashes =
        (path.size() >= 2 && path[1] == '/' && (path.size() < 3 || path[2] != '/')) ? 2 : 1;
  }
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    start = end + 1;
    if (part.empty() || part == ".") continue;
    if (part != ".." || (initial_slashes == 0 && parts.empty()) ||
        (!parts.empty() && parts.back() == "..")) {
      parts.push_back(part);
    } else if (!parts.empty()) {
      parts.pop_back();
    }
  }
  std::string normalized(initial_slashes, '/');
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) normalized += '/';
    normalized += parts[i];
  }
  return normalized.empty() ? "." : normalized;
}

core::Status ValidateEntityName(std::string_view path, const std::string& name) {
  bool chars_ok = IsValidUtf8(name);
  for (char c : name) {
    if (!chars_ok) break;
    chars_ok = IsAllowedNameChar(static_cast<unsigned char>(c));
  }
  if (!chars_ok) {
    return InvalidValue(path, name,
                        "Names may only contain alphanumerics, underscores (_), dashes (-), "
                        "periods (.), spaces ( ), colon(:) and slashes (/).");
  }
  const std::string normalized = NormalizePosixPath(name);
  if (normalized != name || normalized == "." || normalized.starts_with("..") ||
      normalized.starts_with("/")) {
    return InvalidValue(path, name,
                        fmt::format("Names may be treated as files in certain cases, and must "
                                    "not resolve to other names when treated as such. This name "
                                    "would resolve to '{}'",
                                    normalized));
  }
  return core::Status::Ok();
}

core::Status ValidateMetric(const Metric& metric, std::string_view path_prefix) {
  LAKEML_RETURN_IF_ERROR(ValidateEntityName(JoinPath(path_prefix, "name"), metric.key));
  if (metric.timestamp < 0) {
    return core::InvalidArgument(
        "Invalid value {} for parameter '{}' supplied: metric '{}' (value={}). Timestamp must be "
        "a nonnegative long (64-bit integer) ",
        metric.timestamp, JoinPath(path_prefix, "timestamp"), metric.key, metric.value);
  }
  return CheckLength("Metric name", kMaxEntityKeyLength, metric.key);
}

core::Status ValidateParam(const Param& param, std::string_view path_prefix) {
  LAKEML_RETURN_IF_ERROR(ValidateEntityName(JoinPath(path_prefix, "key"), param.key));
  LAKEML_RETURN_IF_ERROR(CheckLength("Param key", kMaxEntityKeyLength, param.key));
  return CheckLength("Param value", kMaxParamValueLength, param.value);
}

core::Status ValidateRunTag(const Tag& tag, std::string_view path_prefix) {
  LAKEML_RETURN_IF_ERROR(ValidateEntityName(JoinPath(path_prefix, "key"), tag.key));
  LAKEML_RETURN_IF_ERROR(CheckLength(JoinPath(path_prefix, "key"), kMaxEntityKeyLength, tag.key));
  return CheckLength(JoinPath(path_prefix, "value"), kMaxRunTagValueLength, tag.value);
}

core::Status ValidateExperimentTag(const Tag& tag) {
  LAKEML_RETURN_IF_ERROR(ValidateEntityName("key", tag.key));
  LAKEML_RETURN_IF_ERROR(CheckLength("key", kMaxExperimentTagKeyLength, tag.key));
  return CheckLength("value", kMaxExperimentTagValueLength, tag.value);
}

core::Status ValidateExperimentName(const std::string& name) {
  if (name.empty()) return core::InvalidArgument("Invalid experiment name: '{}'", name);
  return CheckLength("name", kMaxExperimentNameLength, name);
}

core::Status ValidateArtifactLocation(const std::string& artifact_location) {
  if (artifact_location.empty()) return core::Status::Ok();
  if (artifact_location.size() > kMaxArtifactLocationLength) {
    return core::InvalidArgument(
        "Invalid artifact path length. The length of the artifact path cannot be greater than {} "
        "characters.",
        kMaxArtifactLocationLength);
  }
  if (artifact_location.starts_with("runs:")) {
    return core::InvalidArgument("Artifact location cannot be a runs:/ URI. Given: '{}'",
                                 artifact_location);
  }
  // urlparse semantics: the fragment follows '#', the query follows '?', and ';' in the path
  // starts the (rarely used) params component.
  if (artifact_location.find('#') != std::string::npos) {
    return core::InvalidArgument("'artifact_location' URL can't include fragments or params.");
  }
  const size_t query_start = artifact_location.find('?');
  const std::string_view before_query = std::string_view(artifact_location).substr(0, query_start);
  if (before_query.find(';') != std::string_view::npos) {
    return core::InvalidArgument("'artifact_location' URL can't include fragments or params.");
  }
  if (query_start != std::string::npos) {
    // Decode repeatedly so double-encoded dots ("%252e") are caught too.
    std::string query = artifact_location.substr(query_start + 1);
    for (int round = 0; round < 5; ++round) {
      std::string decoded;
      decoded.reserve(query.size());
      for (size_t i = 0; i < query.size(); ++i) {
        if (query[i] == '%' && i + 2 < query.size() &&
            std::isxdigit(static_cast<unsigned char>(query[i + 1])) &&
            std::isxdigit(static_cast<unsigned char>(query[i + 2]))) {
          decoded += static_cast<char>(std::stoi(query.substr(i + 1, 2), nullptr, 16));
          i += 2;
        } else {
          decoded += query[i];
        }
      }
      if (decoded == query) break;
      query = std::move(decoded);
    }
    if (query.find("..") != std::string::npos) {
      return core::InvalidArgument("'artifact_location' URL can't include '..' in the query.");
    }
  }
  return core::Status::Ok();
}

core::Status ValidateRunName(const std::string& run_name) {
  return CheckLength("run_name", kMaxRunNameLength, run_name);
}

core::Status ValidateBatchLimits(size_t num_metrics, size_t num_params, size_t num_tags) {
  auto check = [](std::string_view entity, size_t limit, size_t length) {
    if (length <= limit) return core::Status::Ok();
    return core::InvalidArgument(
        "A batch logging request can contain at most {} {}. Got {} {}. Please split up {} across "
        "multiple requests and try again.",
        limit, entity, length, entity, entity);
  };
  LAKEML_RETURN_IF_ERROR(check("metrics", kMaxMetricsPerBatch, num_metrics));
  LAKEML_RETURN_IF_ERROR(check("params", kMaxParamsTagsPerBatch, num_params));
  LAKEML_RETURN_IF_ERROR(check("tags", kMaxParamsTagsPerBatch, num_tags));
  return check("metrics, params, and tags", kMaxEntitiesPerBatch,
               num_metrics + num_params + num_tags);
}

core::Status ValidateDatasetInput(const DatasetInput& input) {
  const Dataset& dataset = input.dataset;
  if (dataset.name.empty()) return core::InvalidArgument("Dataset name cannot be empty");
  if (dataset.digest.empty()) return core::InvalidArgument("Dataset digest cannot be empty");
  if (dataset.source_type.empty()) {
    return core::InvalidArgument("Dataset source_type cannot be empty");
  }
  LAKEML_RETURN_IF_ERROR(CheckLength("name", kMaxDatasetNameLength, dataset.name));
  LAKEML_RETURN_IF_ERROR(CheckLength("digest", kMaxDatasetDigestLength, dataset.digest));
  // The schema stores source_type in VARCHAR(36); reject longer values here rather than let
  // PostgreSQL fail the insert.
  LAKEML_RETURN_IF_ERROR(CheckLength("source_type", 36, dataset.source_type));
  LAKEML_RETURN_IF_ERROR(CheckLength("source", kMaxDatasetSourceLength, dataset.source));
  if (dataset.schema) {
    LAKEML_RETURN_IF_ERROR(CheckLength("schema", kMaxDatasetSchemaLength, *dataset.schema));
  }
  if (dataset.profile) {
    LAKEML_RETURN_IF_ERROR(CheckLength("profile", kMaxDatasetProfileLength, *dataset.profile));
  }
  for (const Tag& tag : input.tags) {
    if (tag.key.empty()) return core::InvalidArgument("InputTag key cannot be empty");
    LAKEML_RETURN_IF_ERROR(CheckLength("key", kMaxInputTagKeyLength, tag.key));
    LAKEML_RETURN_IF_ERROR(CheckLength("value", kMaxInputTagValueLength, tag.value));
  }
  return core::Status::Ok();
}

core::Status ValidateLoggedModelName(const std::string& name) {
  if (name.find_first_of("/:.%\"'") != std::string::npos) {
    return core::InvalidArgument(
        "Invalid model name ('{}') provided. Model name must be a non-empty string and cannot "
        "contain the following characters: ('/', ':', '.', '%', '\"', \"'\")",
        name);
  }
  return CheckLength("name", 500, name);
}

}  // namespace lakeml::tracking
