#include "registry/model_registry.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <unordered_map>
#include <utility>

#include "core/text.h"
#include "registry/model_uri.h"
#include "tracking/page_token.h"
#include "tracking/search_sql.h"
#include "tracking/validation.h"
#include "tracking/search_filter.h"

namespace lakeml::registry {
namespace fs = std::filesystem;

namespace {

using metastore::Dialect;
using metastore::Row;
using metastore::Transaction;
using metastore::Value;
using tracking::Comparator;
using tracking::EntityType;
using tracking::FilterClause;
using tracking::FilterValue;

constexpr int64_t kMaxSearchModelsResults = 1000;
constexpr int64_t kMaxSearchVersionsResults = 200000;
constexpr size_t kMaxModelNameLength = 256;
constexpr size_t kMaxTagKeyLength = 250;
constexpr size_t kMaxTagValueLength = 5000;
constexpr size_t kMaxDescriptionLength = 5000;
constexpr size_t kMaxAliasLength = 255;
constexpr size_t kMaxRunIdLength = 256;
// Each round peels one layer of percent-encoding; a source still changing after this many is an
// attack, not a location.
constexpr int kMaxDecodeRounds = 10;
// IN lists are chunked well below SQLite's and PostgreSQL's parameter limits.
constexpr size_t kNamesPerQuery = 500;

constexpr std::string_view kStatusReady = "READY";
constexpr std::string_view kRedactedSource = "REDACTED-SOURCE-PATH";
constexpr std::string_view kRedactedRunId = "REDACTED-RUN-ID";
constexpr std::string_view kRedactedRunLink = "REDACTED-RUN-LINK";

constexpr std::string_view kAllStages[] = {kStageNone, kStageStaging, kStageProduction,
                                           kStageArchived};

std::string ToLowerAscii(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// RFC 3986 scheme of `uri`, lower-cased, or "" when it has none.
std::string SchemeOf(std::string_view uri) {
  const size_t colon = uri.find(':');
  if (colon == std::string_view::npos || colon == 0) return "";
  const auto is_alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (!is_alpha(uri[0])) return "";
  for (size_t i = 1; i < colon; ++i) {
    const char c = uri[i];
    if (!is_alpha(c) && !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.') return "";
  }
  return ToLowerAscii(uri.substr(0, colon));
}

// Component-wise, so "/root-evil" is not mistaken for being inside "/root".
bool IsInside(const fs::path& candidate, const fs::path& root) {
  auto candidate_it = candidate.begin();
  for (auto root_it = root.begin(); root_it != root.end(); ++root_it) {
    if (root_it->empty()) continue;  // a trailing separator
    if (candidate_it == candidate.end() || *candidate_it != *root_it) return false;
    ++candidate_it;
  }
  return true;
}

std::string JoinUri(std::string_view base, std::string_view relative) {
  std::string joined(base);
  if (relative.empty()) return joined;
  while (!joined.empty() && joined.back() == '/') joined.pop_back();
  return joined + "/" + std::string(relative);
}

core::Status InvalidSource(std::string_view source, std::string_view why) {
  return core::InvalidArgument("Invalid model version source: '{}'. {}", core::EscapeForMessage(source),
                               why);
}

constexpr std::string_view kTraversalHint =
    "A source must name a location inside the artifact store without relative path references, "
    "encoded separators, backslashes, control characters, fragments or queries.";

// The checks every source form must pass, on the fully percent-decoded text (so `..%2f` and
// `%252e%252e` are seen as the `../` they become).
core::Status CheckNoTraversal(std::string_view source) {
  std::string decoded(source);
  bool stable = false;
  for (int round = 0; round < kMaxDecodeRounds; ++round) {
    std::string next = core::PercentDecodeOnce(decoded);
    if (next == decoded) {
      stable = true;
      break;
    }
    decoded = std::move(next);
  }
  if (!stable) return InvalidSource(source, kTraversalHint);
  for (char c : decoded) {
    if (core::IsControlChar(c) || c == '\\' || c == '#' || c == '?') {
      return InvalidSource(source, kTraversalHint);
    }
  }
  std::string_view rest = decoded;
  while (true) {
    const size_t slash = rest.find('/');
    const std::string_view segment = rest.substr(0, slash);
    if (segment == ".." || segment == ".") return InvalidSource(source, kTraversalHint);
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  return core::Status::Ok();
}

// The absolute local path a `file:` URI or plain path names, refusing hosts other than
// localhost and paths that change under normalisation (`//etc`, `/a/./b`, `/a//b`).
core::Result<std::string> LocalSourcePath(std::string_view source, const std::string& scheme) {
  std::string_view path = source;
  if (scheme == "file") {
    path.remove_prefix(5);  // "file:"
    if (path.substr(0, 2) == "//") {
      path.remove_prefix(2);
      const size_t slash = path.find('/');
      const std::string_view authority = path.substr(0, slash);
      if (!authority.empty() && ToLowerAscii(authority) != "localhost") {
        return InvalidSource(source, "A file: source may not name a host.");
      }
      path = slash == std::string_view::npos ? std::string_view() : path.substr(slash);
    }
  }
  std::string decoded(path);
  for (int round = 0; round < kMaxDecodeRounds; ++round) {
    std::string next = core::PercentDecodeOnce(decoded);
    if (next == decoded) break;
    decoded = std::move(next);
  }
  if (decoded.empty() || decoded.front() != '/') {
    return InvalidSource(source, "A local source must be an absolute path.");
  }
  if (decoded.size() > 1 && decoded.back() == '/') decoded.pop_back();
  if (decoded.find("//") != std::string::npos ||
      fs::path(decoded).lexically_normal().generic_string() != decoded) {
    return InvalidSource(source, kTraversalHint);
  }
  return decoded;
}

core::Status ValidateModelName(const std::string& name) {
  if (name.empty()) return core::InvalidArgument("Missing value for required parameter 'name'");
  if (name.size() > kMaxModelNameLength &&
      tracking::CharLength(name) > kMaxModelNameLength) {
    return core::InvalidArgument("Registered model name exceeds the maximum length of {}",
                                 kMaxModelNameLength);
  }
  return core::Status::Ok();
}

core::Status CheckLength(std::string_view what, std::string_view value, size_t limit) {
  if (value.size() <= limit || tracking::CharLength(value) <= limit) {
    return core::Status::Ok();
  }
  return core::InvalidArgument("{} had length {}, which exceeded length limit of {}", what,
                               tracking::CharLength(value), limit);
}

// `what` is "Registered model" or "Model version", as in MLflow's messages.
core::Status ValidateTagKey(std::string_view what, const std::string& key) {
  if (key.empty()) return core::InvalidArgument("Missing value for required parameter 'key'");
  LAKEML_RETURN_IF_ERROR(tracking::ValidateEntityName("key", key));
  return CheckLength(fmt::format("{} key '{}'", what, core::EscapeForMessage(key)), key,
                     kMaxTagKeyLength);
}

core::Status ValidateTag(std::string_view what, const Tag& tag) {
  LAKEML_RETURN_IF_ERROR(ValidateTagKey(what, tag.key));
  return CheckLength(fmt::format("{} value", what), tag.value, kMaxTagValueLength);
}

core::Status ValidateDescription(const std::string& description) {
  return CheckLength("Description", description, kMaxDescriptionLength);
}

core::Status ValidateAlias(const std::string& alias) {
  if (alias.empty()) return core::InvalidArgument("Registered model alias name cannot be empty.");
  for (char c : alias) {
    const auto byte = static_cast<unsigned char>(c);
    const bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '-' || byte >= 0x80;
    if (!word) {
      return core::InvalidArgument(
          "Invalid alias name: '{}'. Names may only contain alphanumerics, underscores, and "
          "dashes.",
          core::EscapeForMessage(alias));
    }
  }
  LAKEML_RETURN_IF_ERROR(CheckLength("Registered model alias name", alias, kMaxAliasLength));
  if (ToLowerAscii(alias) == "latest") {
    return core::InvalidArgument("'latest' alias name (case insensitive) is reserved.");
  }
  if (alias.size() > 1 && (alias[0] == 'v' || alias[0] == 'V') &&
      std::all_of(alias.begin() + 1, alias.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return core::InvalidArgument("Version alias name '{}' is reserved.", alias);
  }
  return core::Status::Ok();
}

core::Status ModelNotFound(const std::string& name) {
  return core::NotFound("registered model '{}' not found", core::EscapeForMessage(name));
}

core::Status VersionNotFound(const std::string& name, int64_t version) {
  return core::NotFound("model version {} of registered model '{}' not found", version,
                        core::EscapeForMessage(name));
}

// Last value wins for repeated keys, as a dict built from the request does in MLflow.
std::vector<Tag> DedupeTags(const std::vector<Tag>& tags) {
  std::map<std::string, std::string> by_key;
  for (const Tag& tag : tags) by_key[tag.key] = tag.value;
  std::vector<Tag> out;
  for (auto& [key, value] : by_key) out.push_back(Tag{key, value});
  return out;
}

// ---- Row mapping and loading -------------------------------------------------------------

constexpr std::string_view kVersionColumns =
    "v.name, v.version, v.creation_time, v.last_updated_time, v.description, v.user_id, "
    "v.current_stage, v.source, v.run_id, v.run_link, v.status, v.status_message, v.model_id, "
    "v.storage_location";
constexpr size_t kVersionColumnCount = 14;

constexpr std::string_view kModelColumns =
    "m.name, m.creation_time, m.last_updated_time, m.description";
constexpr size_t kModelColumnCount = 4;

ModelVersionStatus StatusFromText(const std::string& text) {
  if (text == "PENDING_REGISTRATION") return ModelVersionStatus::kPendingRegistration;
  if (text == "FAILED_REGISTRATION") return ModelVersionStatus::kFailedRegistration;
  return ModelVersionStatus::kReady;
}

ModelVersion VersionFromRow(const Row& row) {
  ModelVersion version;
  version.name = row.Text(0);
  version.version = std::to_string(row.Int(1));
  version.creation_timestamp = row.Int(2);
  version.last_updated_timestamp = row.Int(3);
  version.description = row.Text(4);
  version.user_id = row.Text(5);
  version.current_stage = row.Text(6);
  version.source = row.Text(7);
  version.run_id = row.Text(8);
  version.run_link = row.Text(9);
  version.status = StatusFromText(row.Text(10));
  version.status_message = row.Text(11);
  version.model_id = row.Text(12);
  version.storage_location = row.Text(13);
  return version;
}

RegisteredModel ModelFromRow(const Row& row) {
  RegisteredModel model;
  model.name = row.Text(0);
  model.creation_timestamp = row.Int(1);
  model.last_updated_timestamp = row.Int(2);
  model.description = row.Text(3);
  return model;
}

Value NullIfEmpty(const std::string& text) {
  if (text.empty()) return std::monostate{};
  return text;
}

std::string VersionKey(const std::string& name, const std::string& version) {
  return name + '\0' + version;
}

std::string Placeholders(size_t count) {
  std::string out;
  for (size_t i = 0; i < count; ++i) out += i == 0 ? "?" : ", ?";
  return out;
}

// Calls `fn(in_list, params)` for the names in chunks; `in_list` is the "?, ?, ..." of one chunk.
template <typename Fn>
core::Status ForNameChunks(const std::vector<std::string>& names, Fn&& fn) {
  for (size_t begin = 0; begin < names.size(); begin += kNamesPerQuery) {
    const size_t end = std::min(names.size(), begin + kNamesPerQuery);
    std::vector<Value> params;
    for (size_t i = begin; i < end; ++i) params.emplace_back(names[i]);
    LAKEML_RETURN_IF_ERROR(fn(Placeholders(end - begin), params));
  }
  return core::Status::Ok();
}

template <typename T>
std::vector<std::string> DistinctNames(const std::vector<T>& items) {
  std::set<std::string> names;
  for (const T& item : items) names.insert(item.name);
  return {names.begin(), names.end()};
}

// Fills tags and aliases of `versions`.
core::Status AttachVersionDetails(Transaction& tx, std::vector<ModelVersion>& versions) {
  if (versions.empty()) return core::Status::Ok();
  std::unordered_map<std::string, ModelVersion*> by_key;
  for (ModelVersion& version : versions) {
    version.tags.clear();
    version.aliases.clear();
    by_key[VersionKey(version.name, version.version)] = &version;
  }
  return ForNameChunks(
      DistinctNames(versions),
      [&](const std::string& in_list, const std::vector<Value>& params) -> core::Status {
        LAKEML_ASSIGN_OR_RETURN(
            auto tag_rows,
            tx.Query(fmt::format("SELECT name, version, key, value FROM model_version_tags "
                                 "WHERE name IN ({}) ORDER BY name, version, key",
                                 in_list),
                     params));
        for (const Row& row : tag_rows) {
          auto found = by_key.find(VersionKey(row.Text(0), std::to_string(row.Int(1))));
          if (found != by_key.end()) found->second->tags.push_back(Tag{row.Text(2), row.Text(3)});
        }
        LAKEML_ASSIGN_OR_RETURN(
            auto alias_rows,
            tx.Query(fmt::format("SELECT name, version, alias FROM registered_model_aliases "
                                 "WHERE name IN ({}) ORDER BY name, alias",
                                 in_list),
                     params));
        for (const Row& row : alias_rows) {
          auto found = by_key.find(VersionKey(row.Text(0), std::to_string(row.Int(1))));
          if (found != by_key.end()) found->second->aliases.push_back(row.Text(2));
        }
        return core::Status::Ok();
      });
}

// Fills tags, aliases and latest_versions of `models`.
core::Status AttachModelDetails(Transaction& tx, std::vector<RegisteredModel>& models) {
  if (models.empty()) return core::Status::Ok();
  std::unordered_map<std::string, RegisteredModel*> by_name;
  for (RegisteredModel& model : models) {
    model.tags.clear();
    model.aliases.clear();
    model.latest_versions.clear();
    by_name[model.name] = &model;
  }
  std::vector<ModelVersion> latest;
  LAKEML_RETURN_IF_ERROR(ForNameChunks(
      DistinctNames(models),
      [&](const std::string& in_list, const std::vector<Value>& params) -> core::Status {
        LAKEML_ASSIGN_OR_RETURN(
            auto tag_rows,
            tx.Query(fmt::format("SELECT name, key, value FROM registered_model_tags "
                                 "WHERE name IN ({}) ORDER BY name, key",
                                 in_list),
                     params));
        for (const Row& row : tag_rows) {
          auto found = by_name.find(row.Text(0));
          if (found != by_name.end()) found->second->tags.push_back(Tag{row.Text(1), row.Text(2)});
        }
        LAKEML_ASSIGN_OR_RETURN(
            auto alias_rows,
            tx.Query(fmt::format("SELECT name, alias, version FROM registered_model_aliases "
                                 "WHERE name IN ({}) ORDER BY name, alias",
                                 in_list),
                     params));
        for (const Row& row : alias_rows) {
          auto found = by_name.find(row.Text(0));
          if (found != by_name.end()) {
            found->second->aliases.push_back(
                RegisteredModelAlias{row.Text(1), std::to_string(row.Int(2))});
          }
        }
        // The correlated MAX is answered from the (name, current_stage, version) index.
        LAKEML_ASSIGN_OR_RETURN(
            auto version_rows,
            tx.Query(fmt::format("SELECT {} FROM model_versions v WHERE v.name IN ({}) AND "
                                 "v.current_stage <> 'Deleted_Internal' AND v.status = 'READY' AND "
                                 "v.version = (SELECT MAX(w.version) FROM model_versions w WHERE "
                                 "w.name = v.name AND w.current_stage = v.current_stage AND "
                                 "w.status = 'READY') ORDER BY v.name, v.version",
                                 kVersionColumns, in_list),
                     params));
        for (const Row& row : version_rows) latest.push_back(VersionFromRow(row));
        return core::Status::Ok();
      }));
  LAKEML_RETURN_IF_ERROR(AttachVersionDetails(tx, latest));
  for (ModelVersion& version : latest) {
    auto found = by_name.find(version.name);
    if (found != by_name.end()) found->second->latest_versions.push_back(std::move(version));
  }
  return core::Status::Ok();
}

core::Result<std::optional<RegisteredModel>> LoadModel(Transaction& tx, const std::string& name) {
  LAKEML_ASSIGN_OR_RETURN(
      auto rows,
      tx.Query(fmt::format("SELECT {} FROM registered_models m WHERE m.name = ?", kModelColumns),
               {name}));
  if (rows.empty()) return std::optional<RegisteredModel>();
  std::vector<RegisteredModel> models = {ModelFromRow(rows[0])};
  LAKEML_RETURN_IF_ERROR(AttachModelDetails(tx, models));
  return std::optional<RegisteredModel>(std::move(models[0]));
}

core::Result<bool> ModelExists(Transaction& tx, const std::string& name) {
  LAKEML_ASSIGN_OR_RETURN(auto rows,
                          tx.Query("SELECT 1 FROM registered_models WHERE name = ?", {name}));
  return !rows.empty();
}

// A live (not soft-deleted) version with its tags and aliases.
core::Result<std::optional<ModelVersion>> LoadVersion(Transaction& tx, const std::string& name,
                                                      int64_t version) {
  LAKEML_ASSIGN_OR_RETURN(
      auto rows,
      tx.Query(fmt::format("SELECT {} FROM model_versions v WHERE v.name = ? AND v.version = ? "
                           "AND v.current_stage <> 'Deleted_Internal'",
                           kVersionColumns),
               {name, version}));
  if (rows.empty()) return std::optional<ModelVersion>();
  std::vector<ModelVersion> versions = {VersionFromRow(rows[0])};
  LAKEML_RETURN_IF_ERROR(AttachVersionDetails(tx, versions));
  return std::optional<ModelVersion>(std::move(versions[0]));
}

core::Result<ModelVersion> RequireVersion(Transaction& tx, const std::string& name,
                                          int64_t version) {
  LAKEML_ASSIGN_OR_RETURN(auto loaded, LoadVersion(tx, name, version));
  if (loaded) return std::move(*loaded);
  LAKEML_ASSIGN_OR_RETURN(bool model_exists, ModelExists(tx, name));
  if (!model_exists) return ModelNotFound(name);
  return VersionNotFound(name, version);
}

// ---- Search SQL --------------------------------------------------------------------------

// "<column> <op> <placeholders>" for a text column; every user value becomes a parameter.
core::Result<std::string> TextCondition(const std::string& column, const FilterClause& clause,
                                        Dialect dialect, std::vector<Value>& params) {
  switch (clause.comparator) {
    case Comparator::kIn:
    case Comparator::kNotIn: {
      const auto* list = std::get_if<std::vector<std::string>>(&clause.value);
      if (list == nullptr) {
        return core::InvalidArgument("Expected a list of strings for '{}'", clause.key);
      }
      // `run_id IN (...)` can lose every item to the uppercase rule; IN () matches nothing.
      if (list->empty()) {
        return std::string(clause.comparator == Comparator::kIn ? "1 = 0" : "1 = 1");
      }
      for (const std::string& item : *list) params.emplace_back(item);
      return fmt::format("{} {} ({})", column, ComparatorSql(clause.comparator),
                         Placeholders(list->size()));
    }
    case Comparator::kEq:
    case Comparator::kNotEq:
    case Comparator::kLike:
    case Comparator::kILike: {
      const auto* text = std::get_if<std::string>(&clause.value);
      if (text == nullptr) {
        return core::InvalidArgument("Expected a quoted string value for '{}'", clause.key);
      }
      params.emplace_back(*text);
      if (clause.comparator == Comparator::kILike && dialect == Dialect::kSqlite) {
        return fmt::format("LOWER({}) LIKE LOWER(?)", column);
      }
      return fmt::format("{} {} ?", column, ComparatorSql(clause.comparator));
    }
    default:
      return core::InvalidArgument("Invalid comparator '{}' for '{}'",
                                   ComparatorSql(clause.comparator), clause.key);
  }
}

core::Result<std::string> NumberCondition(const std::string& column, const FilterClause& clause,
                                          std::vector<Value>& params) {
  const double* number = std::get_if<double>(&clause.value);
  if (number == nullptr) {
    return core::InvalidArgument("Expected a numeric value for '{}'", clause.key);
  }
  switch (clause.comparator) {
    case Comparator::kEq:
    case Comparator::kNotEq:
    case Comparator::kGt:
    case Comparator::kGe:
    case Comparator::kLt:
    case Comparator::kLe:
      break;
    default:
      return core::InvalidArgument("Invalid comparator '{}' for '{}'",
                                   ComparatorSql(clause.comparator), clause.key);
  }
  if (std::isnan(*number)) return core::InvalidArgument("Invalid NaN value for '{}'", clause.key);
  if (std::trunc(*number) == *number && std::fabs(*number) < 9.2e18) {
    params.emplace_back(static_cast<int64_t>(*number));
    return fmt::format("{} {} ?", column, ComparatorSql(clause.comparator));
  }
  // PostgreSQL rejects "1.5" for a BIGINT parameter; compare as a double instead.
  params.emplace_back(*number);
  return fmt::format("{} {} CAST(? AS DOUBLE PRECISION)", column, ComparatorSql(clause.comparator));
}

// MLflow reads `tags.mlflow.prompt.is_prompt != 'true'` and `= 'false'` as "not a prompt", which
// also matches entities that lack the tag.
bool IsNotPromptClause(const FilterClause& clause) {
  const auto* text = std::get_if<std::string>(&clause.value);
  if (text == nullptr || clause.key != kIsPromptTagKey) return false;
  return (clause.comparator == Comparator::kNotEq && *text == "true") ||
         (clause.comparator == Comparator::kEq && *text == "false");
}

struct FilterSql {
  std::string sql;  // conditions, each starting with " AND "
  std::vector<Value> params;
};

// Tag subqueries differ only in their tag table and how it joins the outer row; `owner` is that
// "FROM <tags> t WHERE <join>" part, so every tag condition is written once.
constexpr std::string_view kModelTagsOfModel = "FROM registered_model_tags t WHERE t.name = m.name";
constexpr std::string_view kVersionTagsOfVersion =
    "FROM model_version_tags t WHERE t.name = v.name AND t.version = v.version";
constexpr std::string_view kModelTagsOfVersion =
    "FROM registered_model_tags t WHERE t.name = v.name";

std::string NotPromptSql(std::string_view owner) {
  return fmt::format(
      " AND NOT EXISTS (SELECT 1 {} AND t.key = 'mlflow.prompt.is_prompt' AND t.value = 'true')",
      owner);
}

core::Status AppendTagClause(const FilterClause& clause, std::string_view owner, Dialect dialect,
                             FilterSql& out) {
  if (IsNotPromptClause(clause)) {
    out.sql += NotPromptSql(owner);
    return core::Status::Ok();
  }
  out.params.emplace_back(clause.key);
  LAKEML_ASSIGN_OR_RETURN(std::string condition,
                          TextCondition("t.value", clause, dialect, out.params));
  out.sql += fmt::format(" AND EXISTS (SELECT 1 {} AND t.key = ? AND {})", owner, condition);
  return core::Status::Ok();
}

core::Result<FilterSql> ModelFilterSql(const std::vector<FilterClause>& clauses, Dialect dialect) {
  FilterSql out;
  bool names_prompt_tag = false;
  for (const FilterClause& clause : clauses) {
    if (clause.entity == EntityType::kAttribute) {
      if (clause.key != "name") {
        return core::InvalidArgument("Invalid attribute name: {}", clause.key);
      }
      LAKEML_ASSIGN_OR_RETURN(std::string condition,
                              TextCondition("m.name", clause, dialect, out.params));
      out.sql += " AND " + condition;
    } else if (clause.entity == EntityType::kTag) {
      if (clause.key == kIsPromptTagKey) names_prompt_tag = true;
      LAKEML_RETURN_IF_ERROR(AppendTagClause(clause, kModelTagsOfModel, dialect, out));
    } else {
      return core::InvalidArgument("Invalid entity type for searching registered models");
    }
  }
  if (!names_prompt_tag) out.sql += NotPromptSql(kModelTagsOfModel);
  return out;
}

core::Result<FilterSql> VersionFilterSql(const std::vector<FilterClause>& clauses,
                                         Dialect dialect) {
  FilterSql out;
  bool names_prompt_tag = false;
  for (const FilterClause& clause : clauses) {
    if (clause.entity == EntityType::kAttribute) {
      std::string condition;
      if (clause.key == "version_number") {
        LAKEML_ASSIGN_OR_RETURN(condition, NumberCondition("v.version", clause, out.params));
      } else if (clause.key == "name" || clause.key == "run_id" || clause.key == "source_path") {
        if ((clause.comparator == Comparator::kIn || clause.comparator == Comparator::kNotIn) &&
            clause.key != "run_id") {
          return core::InvalidArgument("Invalid comparator for attribute: {}",
                                       ComparatorSql(clause.comparator));
        }
        const std::string column = clause.key == "source_path" ? "v.source" : "v." + clause.key;
        LAKEML_ASSIGN_OR_RETURN(condition, TextCondition(column, clause, dialect, out.params));
      } else {
        return core::InvalidArgument("Invalid attribute name: {}", clause.key);
      }
      out.sql += " AND " + condition;
    } else if (clause.entity == EntityType::kTag) {
      if (clause.key == kIsPromptTagKey) names_prompt_tag = true;
      LAKEML_RETURN_IF_ERROR(AppendTagClause(clause, kVersionTagsOfVersion, dialect, out));
    } else {
      return core::InvalidArgument("Invalid entity type for searching model versions");
    }
  }
  if (!names_prompt_tag) {
    // Prompt versions carry the tag themselves and belong to a model that carries it.
    out.sql += NotPromptSql(kVersionTagsOfVersion) + NotPromptSql(kModelTagsOfVersion);
  }
  return out;
}

using tracking::SortKey;
using tracking::SortValueType;

struct SortSpec {
  std::vector<SortKey> keys;
  std::vector<std::string> description;  // for page-token fingerprints
};

core::Result<SortSpec> ModelSortSpec(const std::vector<std::string>& order_by) {
  SortSpec spec;
  std::set<std::string> seen;
  for (const std::string& text : order_by) {
    LAKEML_ASSIGN_OR_RETURN(tracking::OrderByItem item,
                            tracking::ParseOrderBy(text, tracking::SearchKind::kRegisteredModels));
    SortKey key;
    key.ascending = item.ascending;
    if (item.entity != EntityType::kAttribute) {
      return core::InvalidArgument("Invalid order by key '{}' specified", text);
    }
    if (item.key == "name") {
      key.value_sql = "m.name";
      key.value_type = SortValueType::kText;
    } else if (item.key == "creation_timestamp") {
      key.value_sql = "m.creation_time";
      key.value_type = SortValueType::kInteger;
    } else if (item.key == "last_updated_timestamp") {
      key.value_sql = "m.last_updated_time";
      key.value_type = SortValueType::kInteger;
    } else {
      return core::InvalidArgument("Invalid order by key '{}' specified", text);
    }
    if (!seen.insert(item.key).second) {
      return core::InvalidArgument("`order_by` contains duplicate fields: {}", text);
    }
    spec.description.push_back(fmt::format("{}:{}", item.key, item.ascending ? "asc" : "desc"));
    spec.keys.push_back(std::move(key));
  }
  if (!seen.contains("name")) {
    spec.keys.push_back(SortKey{"", "m.name", true, SortValueType::kText});
  }
  return spec;
}

core::Result<SortSpec> VersionSortSpec(const std::vector<std::string>& order_by) {
  SortSpec spec;
  std::set<std::string> seen;
  for (const std::string& text : order_by) {
    LAKEML_ASSIGN_OR_RETURN(tracking::OrderByItem item,
                            tracking::ParseOrderBy(text, tracking::SearchKind::kModelVersions));
    SortKey key;
    key.ascending = item.ascending;
    key.value_type = SortValueType::kInteger;
    if (item.entity != EntityType::kAttribute) {
      return core::InvalidArgument("Invalid order by key '{}' specified", text);
    }
    if (item.key == "name") {
      key.value_sql = "v.name";
      key.value_type = SortValueType::kText;
    } else if (item.key == "version_number") {
      key.value_sql = "v.version";
    } else if (item.key == "creation_timestamp") {
      key.value_sql = "v.creation_time";
    } else if (item.key == "last_updated_timestamp") {
      key.value_sql = "v.last_updated_time";
    } else {
      return core::InvalidArgument("Invalid order by key '{}' specified", text);
    }
    if (!seen.insert(item.key).second) {
      return core::InvalidArgument("`order_by` contains duplicate fields: {}", text);
    }
    spec.description.push_back(fmt::format("{}:{}", item.key, item.ascending ? "asc" : "desc"));
    spec.keys.push_back(std::move(key));
  }
  if (!seen.contains("name")) {
    spec.keys.push_back(SortKey{"", "v.name", true, SortValueType::kText});
  }
  if (!seen.contains("version_number")) {
    spec.keys.push_back(SortKey{"", "v.version", false, SortValueType::kInteger});
  }
  return spec;
}

tracking::SortPosition ReadSortPosition(const Row& row, size_t column_idx,
                                                  const SortKey& key) {
  tracking::SortPosition position;
  position.rank = row.Int(column_idx);
  if (key.value_type == SortValueType::kText) {
    position.value = row.Text(column_idx + 1);
  } else {
    position.value = row.Int(column_idx + 1);
  }
  return position;
}

struct PagedQuery {
  std::string sql;
  std::vector<Value> params;
  uint64_t fingerprint = 0;
};

// "SELECT <columns><sort columns> FROM <from> WHERE <base><filter><keyset> ORDER BY ... LIMIT ?"
core::Result<PagedQuery> BuildPagedQuery(std::string_view kind, std::string_view columns,
                                         std::string_view from, std::string_view base_where,
                                         const std::string& filter_text, const FilterSql& filter,
                                         const SortSpec& sort, const std::string& page_token,
                                         int64_t max_results) {
  std::vector<std::string> parts = {std::string(kind), filter_text};
  parts.insert(parts.end(), sort.description.begin(), sort.description.end());
  PagedQuery query;
  query.fingerprint = tracking::Fingerprint(parts);
  tracking::SqlFragment keyset;
  if (!page_token.empty()) {
    LAKEML_ASSIGN_OR_RETURN(
        tracking::PageCursor cursor,
        tracking::DecodePageToken(page_token, query.fingerprint, sort.keys.size()));
    keyset = tracking::KeysetSql(sort.keys, cursor.positions);
  }
  query.sql = fmt::format("SELECT {}{} FROM {} WHERE {}{}{}{} LIMIT ?", columns,
                          tracking::SortColumnsSql(sort.keys), from, base_where,
                          filter.sql, keyset.sql, tracking::OrderBySql(sort.keys));
  query.params = filter.params;
  query.params.insert(query.params.end(), keyset.params.begin(), keyset.params.end());
  query.params.emplace_back(max_results + 1);
  return query;
}

// Trims the extra row fetched to detect a next page and encodes the token from the last kept
// row's sort columns (which follow the entity's `column_count` columns).
std::string TrimAndMakeToken(std::vector<Row>& rows, int64_t max_results, size_t column_count,
                             const SortSpec& sort, uint64_t fingerprint) {
  if (rows.size() <= static_cast<size_t>(max_results)) return "";
  rows.erase(rows.begin() + max_results, rows.end());
  tracking::PageCursor cursor;
  cursor.fingerprint = fingerprint;
  for (size_t k = 0; k < sort.keys.size(); ++k) {
    cursor.positions.push_back(ReadSortPosition(rows.back(), column_count + 2 * k, sort.keys[k]));
  }
  return tracking::EncodePageToken(cursor);
}

core::Status CheckMaxResults(int64_t max_results, int64_t limit) {
  if (max_results < 1 || max_results > limit) {
    return core::InvalidArgument(
        "Invalid value for request parameter max_results. It must be at most {}, but got value "
        "{}",
        limit, max_results);
  }
  return core::Status::Ok();
}

}  // namespace

core::Result<std::string> CanonicalStage(std::string_view stage) {
  const std::string lower = ToLowerAscii(stage);
  for (std::string_view canonical : kAllStages) {
    if (ToLowerAscii(canonical) == lower) return std::string(canonical);
  }
  return core::InvalidArgument(
      "Invalid Model Version stage: {}. Value must be one of None, Staging, Production, "
      "Archived.",
      core::EscapeForMessage(stage));
}

core::Result<int64_t> ParseVersion(std::string_view version) {
  std::string_view digits = version;
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  int64_t parsed = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), parsed);
  if (digits.empty() || error != std::errc() || end != digits.data() + digits.size()) {
    return core::InvalidArgument("Model version must be an integer, got '{}'",
                                 core::EscapeForMessage(version));
  }
  return parsed;
}

ModelRegistry::ModelRegistry(metastore::Database& db, const core::Clock& clock,
                             tracking::TrackingStore& tracking,
                             const tracking::ArtifactStore& artifacts, ModelRegistryOptions options)
    : db_(db),
      clock_(clock),
      tracking_(tracking),
      artifacts_(artifacts),
      options_(std::move(options)) {}

// ---- Registered models -------------------------------------------------------------------

core::Result<RegisteredModel> ModelRegistry::CreateRegisteredModel(const std::string& name,
                                                                   const std::vector<Tag>& tags,
                                                                   const std::string& description) {
  LAKEML_RETURN_IF_ERROR(ValidateModelName(name));
  for (const Tag& tag : tags) LAKEML_RETURN_IF_ERROR(ValidateTag("Registered model", tag));
  LAKEML_RETURN_IF_ERROR(ValidateDescription(description));
  const std::vector<Tag> unique_tags = DedupeTags(tags);
  const int64_t now = clock_.NowMillis();
  const auto already_exists = [&] {
    return core::AlreadyExists("registered model '{}' already exists", core::EscapeForMessage(name));
  };
  core::Status status = db_.Write([&](Transaction& tx) -> core::Status {
    LAKEML_ASSIGN_OR_RETURN(bool exists, ModelExists(tx, name));
    if (exists) return already_exists();
    LAKEML_RETURN_IF_ERROR(tx.Execute("INSERT INTO registered_models (name, creation_time, "
                                      "last_updated_time, description) VALUES (?, ?, ?, ?)",
                                      {name, now, now, description})
                               .status());
    for (const Tag& tag : unique_tags) {
      LAKEML_RETURN_IF_ERROR(
          tx.Execute("INSERT INTO registered_model_tags (name, key, value) VALUES (?, ?, ?)",
                     {name, tag.key, tag.value})
              .status());
    }
    return core::Status::Ok();
  });
  // A concurrent creator can win between the check and the insert (PostgreSQL).
  if (status.code() == core::StatusCode::kAlreadyExists) return already_exists();
  if (!status.ok()) return status;
  RegisteredModel model;
  model.name = name;
  model.creation_timestamp = now;
  model.last_updated_timestamp = now;
  model.description = description;
  model.tags = unique_tags;
  return model;
}

core::Result<RegisteredModel> ModelRegistry::GetRegisteredModel(const std::string& name) {
  LAKEML_RETURN_IF_ERROR(ValidateModelName(name));
  std::optional<RegisteredModel> model;
  const core::Status db_status = db_.Read([&](Transaction& tx) -> core::Status {
    LAKEML_ASSIGN_OR_RETURN(model, LoadModel(tx, name));
    return core::Status::Ok();
  });
  if (!db_status.ok()) return db_status;
  if (!model) return ModelNotFound(name);
  return std::move(*model);
}

core::Result<RegisteredModel> ModelRegistry::RenameRegisteredModel(const std::string& name,
                                                                   const std::string& new_name) {
  LAKEML_RETURN_IF_ERROR(ValidateModelName(name));
  LAKEML_RETURN_IF_ERROR(ValidateModelName(new_name));
  const int64_t now = clock_.NowMillis();
  const auto already_exists = [&] {
    return core::AlreadyExists("registered model '{}' already exists", core::EscapeForMessage(new_name));
  };
  std::optional<RegisteredModel> model;
  core::Status status = db_.Write([&](Transaction& tx) -> core::Status {
    LAKEML_ASSIGN_OR_RETURN(bool exists, ModelExists(tx, name));
    if (!exists) return ModelNotFound(name);
    if (new_name != name) {
      LAKEML_ASSIGN_OR_RETURN(bool taken, ModelExists(tx, new_name));
      if (taken) return already_exists();
    }
    // ON UPDATE CASCADE carries versions, their tags, model tags and aliases to the new name.
    LAKEML_RETURN_IF_ERROR(
        tx.Execute("UPDATE registered_models SET name = ?, last_updated_time = ? WHERE name = ?",
                   {new_name, now, name})
            .status());
    LAKEML_RETURN_IF_ERROR(
        tx.Execute("UPDATE model_versions SET last_updated_time = ? WHERE name = ?",
                   {now, new_name})
            .status());
    LAKEML_ASSIGN_OR_RETURN(model, LoadModel(tx, new_name));
    return core::Status::Ok();
  });
  if (status.code() == core::StatusCode::kAlreadyExists) return already_exists();
  if (!status.ok()) return status;
  if (!model) return ModelNotFound(new_name);
  return std::move(*model);
}

core::Result<RegisteredModel> ModelRegistry::UpdateRegisteredModel(const std::string& name,
                                                                   const std::string& description) {
  LAKEML_RETURN_IF_ERROR(ValidateModelName(name));
  LAKEML_RETURN_IF_ERROR(ValidateDescription(description));
  const int64_t now = clock_.NowMillis();
  std::optional<RegisteredModel> model;
  const core::Status db_status = db_.Write([&](Transaction& tx) -> core::Status {
    LAKEML_ASSIGN_OR_RETURN(
        int64_t changed,
        tx.Execute("UPDATE registered_models SET description = ?, last_updated_time = ? "
                   "WHERE name = ?",
                   {description, now, name}));
    if (changed == 0) return ModelNotFound(name);
    LAKEML_ASSIGN_OR_RETURN(model, LoadModel(tx, name));
    return core::Status::Ok();
  });
  if (!db_status.ok()) return db_status;
  if (!model) return ModelNotFound(name);
  return std::move(*model);
}

core::Status ModelRegistry::DeleteRegisteredModel(const std::string& name) {
  LAKEML_RETURN_IF_ERROR(ValidateModelName(name));
  return db_.Write([&](Transaction& tx) -> core::Status {
    LAKEML_ASSIGN_OR_RETURN(bool exists, ModelExists(tx, name));
    if (!exists) return ModelNotFound(name);
    // Children first, explicitly, so the result does not depend on foreign-key enforcement.
    for (std::string_view table :
         {"model_version_tags", "registered_model_aliases", "model_versions",
          "registered_model_tags", "registered_models"}) {
      LAKEML_RETURN_IF_ERROR(
          tx.Execute(fmt::format("DELETE FROM {} WHERE name = ?", table), {name}).status());
    }
    return core::Status::Ok();
  });
}

core::Result<Page<RegisteredModel>> ModelRegistry::SearchRegisteredModels(
    const SearchRegisteredModelsRequest& request) {
  LAKEML_RETURN_IF_ERROR(CheckMaxResults(request.max_results, kMaxSearchModelsResults));
  LAKEML_ASSIGN_OR_RETURN(
      auto clauses, tracking::ParseFilter(request.filter, tracking::SearchKind::kRegisteredModels));
  LAKEML_ASSIGN_OR_RETURN(FilterSql filter, ModelFilterSql(clauses, db_.dialect()));
  LAKEML_ASSIGN_OR_RETURN(SortSpec sort, ModelSortSpec(request.order_by));
  LAKEML_ASSIGN_OR_RETURN(
      PagedQuery query,
      BuildPagedQuery("registered_models", kModelColumns, "registered_models m", "1 = 1",
                      request.filter, filter, sort, request.page_token, request.max_results));
  Page<RegisteredModel> page;
  const core::Status db_status = db_.Read([&](Transaction& tx) -> core::Status {
    page = Page<RegisteredModel>();
    LAKEML_ASSIGN_OR_RETURN(auto rows, tx.Query(query.sql, query.params));
    page.next_page_token =
        TrimAndMakeToken(rows, request.max_results, kModelColumnCount, sort, query.fingerprint);
    for (const Row& row : rows) page.items.push_back(ModelFromRow(row));
    return AttachModelDetails(tx, page.items);
  });
  if (!db_status.ok()) return db_status;
  return page;
}

core::Result<std::vector<ModelVersion>> ModelRegistry::GetLatestVersions(
    const std::string& name, const std::vector<std::string>& stages) {
  LAKEML_RETURN_IF_ERROR(ValidateModelName(name));
  std::set<std::string> wanted;
  for (const std::string& stage : stages) {
    LAKEML_ASSIGN_OR_RETURN(std::string canonical, CanonicalStage(stage));
    wanted.insert(std::move(canonical));
  }
  LAKEML_ASSIGN_OR_RETURN(RegisteredModel model, GetRegisteredModel(name));
  std::vector<ModelVersion> out;
  // Canonical stage order, so the answer does not depend on version numbers.
  for (std::string_view stage : kAllStages) {
    if (!wanted.empty() && !wanted.contains(std::string(stage))) continue;
    for (ModelVersion& version : model.latest_versions) {
      if (version.current_stage == stage) out.push_back(std::move(version));
    }
  }
  return out;
}

core::Status ModelRegistry::SetRegisteredModelTag(const std::string& name, const Tag& tag) {
  LAKEML_RETURN_IF_ERROR(ValidateModelName(name));
  LAKEML_RETURN_IF_ERROR(ValidateTag("Registered model", tag));
  return db_.Write([&](Transaction& tx) -> core::Status {
    LAKEML_ASSIGN_OR_RETURN(bool exists, ModelExists(tx, name));
    if (!exists) return ModelNotFound(name);
    return tx
        .Execute(
            "INSERT INTO registered_model_tags (name, key, value) VALUES (?, ?, ?) "
            "ON CONFLICT (name, key) DO UPDATE SET value = excluded.value",
            {name, tag.key, tag.value})
        .status();
  });
}

core::Status ModelRegistry::DeleteRegisteredModelTag(const std::string& name,
                                                     const std::string& key) {
  LAKEML_RETURN_IF_ERROR(ValidateModelName(name));
  LAKEML_RETURN_IF_ERROR(ValidateTagKey("Registered model", key));
  return db_.Write([&](Transaction& tx) -> core::Status {
    LAKEML_ASSIGN_OR_RETURN(bool exists, ModelExists(tx, name));
    if (!exists) return ModelNotFound(name);
    return tx.Execute("DELETE FROM registered_model_tags WHERE name = ? AND key = ?", {name, key})
        .status();
  });
}

// ---- Model versions ----------------------------------------------------------------------

core::Result<ModelVersion> ModelRegistry::CreateModelVersion(
    const CreateModelVersionRequest& request) {
  LAKEML_RETURN_IF_ERROR(ValidateModelName(request.name));
  for (const Tag& tag : request.tags) LAKEML_RETURN_IF_ERROR(ValidateTag("Model version", tag));
  LAKEML_RETURN_IF_ERROR(ValidateDescription(request.description));
  if (request.run_id.size() > kMaxRunIdLength) {
    return core::InvalidArgument("run_id exceeds the maximum length of {}", kMaxRunIdLength);
  }
  if (!request.model_id.empty()) {
    // MLflow links the logged model to the new version, which fails for an unknown id.
    LAKEML_RETURN_IF_ERROR(tracking_.GetLoggedModel(request.model_id).status());
  }
  LAKEML_ASSIGN_OR_RETURN(std::string storage_location,
                          ValidateVersionSource(request.source, request.run_id, request.model_id));
  const std::vector<Tag> unique_tags = DedupeTags(request.tags);
  const int64_t now = clock_.NowMillis();
  int64_t version = 0;
  const core::Status db_status = db_.Write([&](Transaction& tx) -> core::Status {
    // The UPDATE locks the model's row first (PostgreSQL) or runs alone (SQLite's single
    // writer), so concurrent creators read MAX(version) one after another.
    LAKEML_ASSIGN_OR_RETURN(
        int64_t changed,
        tx.Execute("UPDATE registered_models SET last_updated_time = ? WHERE name = ?",
                   {now, request.name}));
    if (changed == 0) return ModelNotFound(request.name);
    LAKEML_ASSIGN_OR_RETURN(
        auto rows,
        tx.Query("SELECT MAX(version) FROM model_versions WHERE name = ?", {request.name}));
    version = rows.empty() || rows[0].IsNull(0) ? 1 : rows[0].Int(0) + 1;
    // Absent optional ids are NULL, as in MLflow, so `run_id != 'x'` does not match them.
    const std::vector<Value> params = {request.name,
                                       version,
                                       now,
                                       now,
                                       request.description,
                                       std::string(kStageNone),
                                       request.source,
                                       storage_location,
                                       NullIfEmpty(request.run_id),
                                       NullIfEmpty(request.run_link),
                                       std::string(kStatusReady),
                                       NullIfEmpty(request.model_id)};
    core::Status inserted =
        tx.Execute(
              "INSERT INTO model_versions (name, version, creation_time, last_updated_time, "
              "description, current_stage, source, storage_location, run_id, run_link, "
              "status, model_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
              params)
            .status();
    // Only reachable if the row lock did not serialise creators; Database::Write retries
    // kAborted with a fresh transaction.
    if (inserted.code() == core::StatusCode::kAlreadyExists) {
      return core::Aborted("concurrent creation of model version {} of '{}'", version,
                           core::EscapeForMessage(request.name));
    }
    LAKEML_RETURN_IF_ERROR(inserted);
    for (const Tag& tag : unique_tags) {
      LAKEML_RETURN_IF_ERROR(tx.Execute("INSERT INTO model_version_tags (name, version, key, "
                                        "value) VALUES (?, ?, ?, ?)",
                                        {request.name, version, tag.key, tag.value})
                                 .status());
    }
    return core::Status::Ok();
  });
  if (!db_status.ok()) return db_status;
  ModelVersion created;
  created.name = request.name;
  created.version = std::to_string(version);
  created.creation_timestamp = now;
  created.last_updated_timestamp = now;
  created.current_stage = std::string(kStageNone);
  created.description = request.description;
  created.source = request.source;
  created.run_id = request.run_id;
  created.run_link = request.run_link;
  created.status = ModelVersionStatus::kReady;
  created.tags = unique_tags;
  created.model_id = request.model_id;
  created.storage_location = storage_location;
  return created;
}

core::Result<ModelVersion> ModelRegistry::GetModelVersion(const std::string& name,
                                                          const std::string& version) {
  LAKEML_RETURN_IF_ERROR(ValidateModelName(name));
  LAKEML_ASSIGN_OR_RETURN(int64_t number, ParseVersion(version));
  std::optional<ModelVersion> loaded;
  const core::Status db_status = db_.Read([&](Transaction& tx) -> core::Status {
    LAKEML_ASSIGN_OR_RETURN(loaded, RequireVersion(tx, name, number));
    return core::Status::Ok();
  });
  if (!db_status.ok()) return db_status;
  return std::move(*loaded);
}

core::Result<ModelVersion> ModelRegistry::UpdateModelVersion(const std::string& name,
                                                             const std::string& version,
                                                             const std::string& description) {
  LAKEML_RETURN_IF_ERROR(ValidateModelName(name));
  LAKEML_ASSIGN_OR_RETURN(int64_t number, ParseVersion(version));
  LAKEML_RETURN_IF_ERROR(ValidateDescription(description));
  const int64_t now = clock_.NowMillis();
  std::optional<ModelVersion> updated;
  const core::Status db_status = db_.Write([&](Transaction& tx) -> core::Status {
    LAKEML_RETURN_IF_ERROR(RequireVersion(tx, name, number).status());
    LAKEML_RETURN_IF_ERROR(
        tx.Execute("UPDATE model_versions SET description = ?, last_updated_time = ? "
                   "WHERE name = ? AND version = ?",
                   {description, now, name, number})
            .status());
    LAKEML_ASSIGN_OR_RETURN(updated, RequireVersion(tx, name, number));
    return core::Status::Ok();
  });
  if (!db_status.ok()) return db_status;
  return std::move(*updated);
}

core::Status ModelRegistry::DeleteModelVersion(const std::string& name,
                                               const std::string& version) {
  LAKEML_RETURN_IF_ERROR(ValidateModelName(name));
  LAKEML_ASSIGN_OR_RETURN(int64_t number, ParseVersion(version));
  const int64_t now = clock_.NowMillis();
  return db_.Write([&](Transaction& tx) -> core::Status {
    LAKEML_RETURN_IF_ERROR(RequireVersion(tx, name, number).status());
    // Redacted like MLflow does, so a deleted version no longer points at any files.
    LAKEML_RETURN_IF_ERROR(
        tx.Execute("UPDATE model_versions SET current_stage = ?, last_updated_time = ?, "
                   "description = NULL, user_id = NULL, source = ?, storage_location = ?, "
                   "run_id = ?, run_link = ?, status_message = NULL "
                   "WHERE name = ? AND version = ?",
                   {std::string(kStageDeletedInternal), now, std::string(kRedactedSource),
                    std::string(kRedactedSource), std::string(kRedactedRunId),
                    std::string(kRedactedRunLink), name, number})
            .status());
    LAKEML_RETURN_IF_ERROR(
        tx.Execute("DELETE FROM registered_model_aliases WHERE name = ? AND version = ?",
                   {name, number})
            .status());
    return tx
        .Execute("UPDATE registered_models SET last_updated_time = ? WHERE name = ?", {now, name})
        .status();
  });
}

core::Result<Page<ModelVersion>> ModelRegistry::SearchModelVersions(
    const SearchModelVersionsRequest& request) {
  LAKEML_RETURN_IF_ERROR(CheckMaxResults(request.max_results, kMaxSearchVersionsResults));
  LAKEML_ASSIGN_OR_RETURN(
      auto clauses, tracking::ParseFilter(request.filter, tracking::SearchKind::kModelVersions));
  LAKEML_ASSIGN_OR_RETURN(FilterSql filter, VersionFilterSql(clauses, db_.dialect()));
  LAKEML_ASSIGN_OR_RETURN(SortSpec sort, VersionSortSpec(request.order_by));
  LAKEML_ASSIGN_OR_RETURN(PagedQuery query,
                          BuildPagedQuery("model_versions", kVersionColumns, "model_versions v",
                                          "v.current_stage <> 'Deleted_Internal'", request.filter,
                                          filter, sort, request.page_token, request.max_results));
  Page<ModelVersion> page;
  const core::Status db_status = db_.Read([&](Transaction& tx) -> core::Status {
    page = Page<ModelVersion>();
    LAKEML_ASSIGN_OR_RETURN(auto rows, tx.Query(query.sql, query.params));
    page.next_page_token =
        TrimAndMakeToken(rows, request.max_results, kVersionColumnCount, sort, query.fingerprint);
    for (const Row& row : rows) page.items.push_back(VersionFromRow(row));
    return AttachVersionDetails(tx, page.items);
  });
  if (!db_status.ok()) return db_status;
  return page;
}

core::Result<ModelVersion> ModelRegistry::TransitionModelVersionStage(
    const std::string& name, const std::string& version, const std::string& stage,
    bool archive_existing_versions) {
  LAKEML_RETURN_IF_ERROR(ValidateModelName(name));
  LAKEML_ASSIGN_OR_RETURN(int64_t number, ParseVersion(version));
  LAKEML_ASSIGN_OR_RETURN(std::string target, CanonicalStage(stage));
  if (archive_existing_versions && target != kStageStaging && target != kStageProduction) {
    return core::InvalidArgument(
        "Model version transition cannot archive existing model versions because '{}' is not "
        "an Active stage. Valid stages are Staging, Production",
        target);
  }
  const int64_t now = clock_.NowMillis();
  std::optional<ModelVersion> transitioned;
  const core::Status db_status = db_.Write([&](Transaction& tx) -> core::Status {
    LAKEML_RETURN_IF_ERROR(RequireVersion(tx, name, number).status());
    if (archive_existing_versions) {
      LAKEML_RETURN_IF_ERROR(
          tx.Execute("UPDATE model_versions SET current_stage = ?, last_updated_time = ? "
                     "WHERE name = ? AND version <> ? AND current_stage = ?",
                     {std::string(kStageArchived), now, name, number, target})
              .status());
    }
    LAKEML_RETURN_IF_ERROR(
        tx.Execute("UPDATE model_versions SET current_stage = ?, last_updated_time = ? "
                   "WHERE name = ? AND version = ?",
                   {target, now, name, number})
            .status());
    LAKEML_RETURN_IF_ERROR(
        tx.Execute("UPDATE registered_models SET last_updated_time = ? WHERE name = ?", {now, name})
            .status());
    LAKEML_ASSIGN_OR_RETURN(transitioned, RequireVersion(tx, name, number));
    return core::Status::Ok();
  });
  if (!db_status.ok()) return db_status;
  return std::move(*transitioned);
}

core::Result<std::string> ModelRegistry::GetModelVersionDownloadUri(const std::string& name,
                                                                    const std::string& version) {
  LAKEML_ASSIGN_OR_RETURN(ModelVersion loaded, GetModelVersion(name, version));
  return loaded.storage_location;
}

core::Status ModelRegistry::SetModelVersionTag(const std::string& name, const std::string& version,
                                               const Tag& tag) {
  LAKEML_RETURN_IF_ERROR(ValidateModelName(name));
  LAKEML_ASSIGN_OR_RETURN(int64_t number, ParseVersion(version));
  LAKEML_RETURN_IF_ERROR(ValidateTag("Model version", tag));
  return db_.Write([&](Transaction& tx) -> core::Status {
    LAKEML_RETURN_IF_ERROR(RequireVersion(tx, name, number).status());
    return tx
        .Execute(
            "INSERT INTO model_version_tags (name, version, key, value) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (name, version, key) DO UPDATE SET value = excluded.value",
            {name, number, tag.key, tag.value})
        .status();
  });
}

core::Status ModelRegistry::DeleteModelVersionTag(const std::string& name,
                                                  const std::string& version,
                                                  const std::string& key) {
  LAKEML_RETURN_IF_ERROR(ValidateModelName(name));
  LAKEML_ASSIGN_OR_RETURN(int64_t number, ParseVersion(version));
  LAKEML_RETURN_IF_ERROR(ValidateTagKey("Model version", key));
  return db_.Write([&](Transaction& tx) -> core::Status {
    LAKEML_RETURN_IF_ERROR(RequireVersion(tx, name, number).status());
    return tx
        .Execute("DELETE FROM model_version_tags WHERE name = ? AND version = ? AND key = ?",
                 {name, number, key})
        .status();
  });
}

// ---- Aliases -----------------------------------------------------------------------------

core::Status ModelRegistry::SetRegisteredModelAlias(const std::string& name,
                                                    const std::string& alias,
                                                    const std::string& version) {
  LAKEML_RETURN_IF_ERROR(ValidateModelName(name));
  LAKEML_RETURN_IF_ERROR(ValidateAlias(alias));
  LAKEML_ASSIGN_OR_RETURN(int64_t number, ParseVersion(version));
  return db_.Write([&](Transaction& tx) -> core::Status {
    LAKEML_RETURN_IF_ERROR(RequireVersion(tx, name, number).status());
    return tx
        .Execute(
            "INSERT INTO registered_model_aliases (name, alias, version) VALUES (?, ?, ?) "
            "ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version",
            {name, alias, number})
        .status();
  });
}

core::Status ModelRegistry::DeleteRegisteredModelAlias(const std::string& name,
                                                       const std::string& alias) {
  LAKEML_RETURN_IF_ERROR(ValidateModelName(name));
  LAKEML_RETURN_IF_ERROR(ValidateAlias(alias));
  return db_.Write([&](Transaction& tx) -> core::Status {
    LAKEML_ASSIGN_OR_RETURN(bool exists, ModelExists(tx, name));
    if (!exists) return ModelNotFound(name);
    return tx
        .Execute("DELETE FROM registered_model_aliases WHERE name = ? AND alias = ?", {name, alias})
        .status();
  });
}

core::Result<ModelVersion> ModelRegistry::GetModelVersionByAlias(const std::string& name,
                                                                 const std::string& alias) {
  LAKEML_RETURN_IF_ERROR(ValidateModelName(name));
  if (alias.empty()) return core::InvalidArgument("Registered model alias name cannot be empty.");
  std::optional<ModelVersion> loaded;
  const core::Status db_status = db_.Read([&](Transaction& tx) -> core::Status {
    LAKEML_ASSIGN_OR_RETURN(
        auto rows,
        tx.Query("SELECT version FROM registered_model_aliases WHERE name = ? AND alias = ?",
                 {name, alias}));
    if (rows.empty()) {
      LAKEML_ASSIGN_OR_RETURN(bool exists, ModelExists(tx, name));
      if (!exists) return ModelNotFound(name);
      return core::NotFound("alias '{}' of registered model '{}' not found",
                            core::EscapeForMessage(alias), core::EscapeForMessage(name));
    }
    LAKEML_ASSIGN_OR_RETURN(loaded, RequireVersion(tx, name, rows[0].Int(0)));
    return core::Status::Ok();
  });
  if (!db_status.ok()) return db_status;
  return std::move(*loaded);
}

// ---- Source validation -------------------------------------------------------------------

core::Result<std::string> ModelRegistry::ValidateVersionSource(const std::string& source,
                                                               const std::string& run_id,
                                                               const std::string& model_id) {
  if (source.empty()) return core::InvalidArgument("Missing value for required parameter 'source'");
  if (options_.source_validation_regex &&
      !std::regex_search(source, *options_.source_validation_regex)) {
    return InvalidSource(source, "It does not match the configured source validation pattern.");
  }
  // These hold for every form, before any form-specific parsing, so no parser quirk can let a
  // traversal through.
  LAKEML_RETURN_IF_ERROR(CheckNoTraversal(source));

  const std::string scheme = SchemeOf(source);
  if (scheme == "mlflow-artifacts" || scheme == "http" || scheme == "https") {
    auto relative = tracking::ArtifactUriToRelativePath(source);
    if (!relative.ok()) {
      return InvalidSource(source, "It is not a location in this server's artifact store.");
    }
    if (relative->empty()) {
      return InvalidSource(source, "It names the artifact store root, not a model inside it.");
    }
    return source;
  }
  if (scheme == "runs") {
    LAKEML_ASSIGN_OR_RETURN(ModelUri uri, ParseModelUri(source));
    LAKEML_ASSIGN_OR_RETURN(tracking::Run run, tracking_.GetRun(uri.run_id));
    return JoinUri(run.info.artifact_uri, uri.path);
  }
  if (scheme == "models") return ResolveModelsUriSource(source);
  if (!scheme.empty() && scheme != "file") {
    return InvalidSource(source,
                         "Only mlflow-artifacts:, runs:, models: sources or a local path inside "
                         "the run's artifact directory are accepted.");
  }

  if (run_id.empty() && model_id.empty()) {
    return InvalidSource(
        source,
        "To use a local path as a model version source, the run_id request parameter has to be "
        "specified and the local path has to be contained within the artifact directory of the "
        "run specified by the run_id.");
  }
  LAKEML_ASSIGN_OR_RETURN(std::string local_path, LocalSourcePath(source, scheme));
  std::string artifact_uri;
  if (!model_id.empty()) {
    LAKEML_ASSIGN_OR_RETURN(tracking::LoggedModel logged, tracking_.GetLoggedModel(model_id));
    artifact_uri = logged.artifact_uri;
  } else {
    LAKEML_ASSIGN_OR_RETURN(tracking::Run run, tracking_.GetRun(run_id));
    artifact_uri = run.info.artifact_uri;
  }
  const auto outside = [&] {
    return InvalidSource(source,
                         "A local path must be contained within the artifact directory of the "
                         "run specified by the run_id.");
  };
  auto artifact_dir = ArtifactUriToLocalPath(artifact_uri, artifacts_);
  if (!artifact_dir.ok()) return outside();
  // Symlinks resolved on both sides: a link inside the run's directory that points elsewhere
  // is outside.
  std::error_code ec;
  const fs::path canonical_dir = fs::weakly_canonical(*artifact_dir, ec);
  if (ec) return outside();
  const fs::path canonical_source = fs::weakly_canonical(fs::path(local_path), ec);
  if (ec || !IsInside(canonical_source, canonical_dir)) return outside();
  std::string relative = canonical_source.lexically_relative(canonical_dir).generic_string();
  if (relative == ".") relative.clear();
  auto safe_relative = tracking::ValidatePathIsSafe(relative);
  if (!safe_relative.ok()) return outside();
  return JoinUri(artifact_uri, *safe_relative);
}

core::Result<std::string> ModelRegistry::ModelVersionArtifactPath(const std::string& name,
                                                                  const std::string& version,
                                                                  std::string_view path) {
  LAKEML_ASSIGN_OR_RETURN(ModelVersion loaded, GetModelVersion(name, version));
  // Only the form rules matter here: a runs:/ or models:/ reference that has since gone away
  // does not make the already-resolved storage location unsafe.
  auto revalidated = ValidateVersionSource(loaded.source, loaded.run_id, loaded.model_id);
  if (!revalidated.ok() && revalidated.status().code() == core::StatusCode::kInvalidArgument) {
    return revalidated.status();
  }
  auto model_root = tracking::ArtifactUriToRelativePath(loaded.storage_location);
  if (!model_root.ok() || model_root->empty()) {
    return core::InvalidArgument(
        "the files of model version {} of '{}' are not in this "
        "server's artifact store",
        loaded.version, core::EscapeForMessage(name));
  }
  LAKEML_ASSIGN_OR_RETURN(std::string safe_path, tracking::ValidatePathIsSafe(path));
  return JoinUri(*model_root, safe_path);
}

core::Result<std::string> ModelRegistry::ResolveModelsUriSource(const std::string& source) {
  LAKEML_ASSIGN_OR_RETURN(ModelUri uri, ParseModelUri(source));
  if (uri.kind == ModelUriKind::kLoggedModel) {
    LAKEML_ASSIGN_OR_RETURN(tracking::LoggedModel logged, tracking_.GetLoggedModel(uri.model_id));
    return logged.artifact_uri;
  }
  if (uri.kind == ModelUriKind::kRun) {
    return InvalidSource(source, "It is not a models:/ URI.");
  }
  ModelUriResolver resolver(*this, tracking_, artifacts_);
  LAKEML_ASSIGN_OR_RETURN(ModelVersion version, resolver.ResolveVersion(source));
  return version.storage_location;
}

}  // namespace lakeml::registry
