#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/status.h"

namespace lakeml::tracking {

// Parser for MLflow's search grammar (mlflow/utils/search_utils.py): an AND-only conjunction of
// `<entity>.<key> <comparator> <value>` clauses, and `order_by` items. It produces a typed AST;
// translating it to SQL with bound parameters is the store's job. Pure functions, thread-safe.

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

// Parses one order_by item such as "metrics.rmse DESC" or "attributes.start_time".
core::Result<OrderByItem> ParseOrderBy(std::string_view order_by, SearchKind kind);

std::string_view ComparatorSql(Comparator comparator);  // "=", "!=", ">", ..., "LIKE", "IN"

}  // namespace lakeml::tracking
