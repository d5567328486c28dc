#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/status.h"

namespace lakeml::tracking {

// Parser for MLflow's search grammar (mlflow/utils/search_utils.py): an AND-only conjunction of
// `<entity>.<key> <comparator> <value>` clauses, and `order_by` items. It produces a typed AST;
// translating it to SQL with bound parameters is the store's job. Pure functions, thread-safe.
//
// AST conventions (what a SQL translator can rely on):
// - `key` is unquoted: ``tags.`user-name` `` gives "user-name", `tags.mlflow.runName` gives
//   "mlflow.runName" (everything after the first dot).
// - Attribute keys are canonical per SearchKind:
//     kRuns: run_id, run_name, status, user_id, artifact_uri (strings); start_time, end_time
//       (numbers). "created"/"Created" -> start_time; "run name"/"Run name"/"Run Name" -> run_name.
//     kExperiments: name (string); creation_time, last_update_time (numbers).
//     kRegisteredModels: name.
//     kModelVersions: name, run_id, source_path (strings; source_path means the `source` column);
//       version_number (number; the `version` column).
//   Dataset keys (kRuns only): name, digest, context.
// - Value types are already checked: numeric keys (metrics, numeric attributes) carry a double;
//   IN / NOT IN carry a std::vector<std::string>; every other clause carries a std::string with
//   quotes removed and doubled quotes ('' or "") collapsed. LIKE/ILIKE patterns are passed through
//   unchanged (SQL `%` and `_` wildcards).
// - `attributes.run_id IN (...)` drops ids containing an uppercase ASCII letter (MLflow does the
//   same, because MySQL compares case-insensitively). The list can therefore be empty: IN () must
//   match nothing and NOT IN () everything.
// - Comparators are validated for the entity and key; `<>` is returned as kNotEq.

// Longest filter or order_by string accepted; longer input is rejected with kInvalidArgument.
inline constexpr std::size_t kMaxSearchStringBytes = std::size_t{64} * 1024;

enum class EntityType { kMetric, kParam, kTag, kAttribute, kDataset };

enum class Comparator {
  kEq, kNotEq, kGt, kGe, kLt, kLe, kLike, kILike, kIn, kNotIn
};

// A clause's right-hand side: a number, a quoted string, or a parenthesised list of strings.
using FilterValue = std::variant<double, std::string, std::vector<std::string>>;

struct FilterClause {
  EntityType entity;
  std::string key;  // unquoted, attribute names canonicalised (e.g. "created" -> "start_time")
  Comparator comparator;
  FilterValue value;
};

struct OrderByItem {
  EntityType entity;
  std::string key;
  bool ascending = true;
};

// Which search a filter belongs to; each allows different entities, keys and comparators.
enum class SearchKind { kRuns, kExperiments, kRegisteredModels, kModelVersions };

// Parses `filter` ("" means no clauses). Errors: kInvalidArgument with MLflow-like messages
// ("Invalid clause(s) in filter string: ...", "Invalid attribute key '...'", ...).
core::Result<std::vector<FilterClause>> ParseFilter(std::string_view filter, SearchKind kind);

// Parses one order_by item such as "metrics.rmse DESC" or "attributes.start_time". Keys are
// canonicalised ("created" -> "start_time", registered models' "timestamp" ->
// "creation_timestamp"). Errors: kInvalidArgument ("Invalid order_by clause '...'...").
core::Result<OrderByItem> ParseOrderBy(std::string_view order_by, SearchKind kind);

std::string_view ComparatorSql(Comparator comparator);  // "=", "!=", ">", ..., "LIKE", "IN"

}  // namespace lakeml::tracking
