#include "tracking/search_sql.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <utility>

namespace lakeml::tracking {
namespace {

using metastore::Dialect;
using metastore::Value;

enum class ColumnKind { kText, kInteger, kReal };

bool IsOrdering(Comparator comparator) {
  return comparator == Comparator::kGt || comparator == Comparator::kGe ||
         comparator == Comparator::kLt || comparator == Comparator::kLe;
}

// Metrics are stored like MLflow stores them: +-Inf clamped to the largest finite double.
double ClampInfinity(double value) {
  if (std::isinf(value)) {
    return value > 0 ? std::numeric_limits<double>::max() : -std::numeric_limits<double>::max();
  }
  return value;
}

// "<column> <op> <placeholder(s)>" with the value bound. Only `column` (our own SQL) and
// operators are pasted; every user value becomes a parameter.
core::Result<std::string> CompareSql(const std::string& column, ColumnKind kind,
                                     Comparator comparator, const FilterValue& value,
                                     Dialect dialect, std::vector<Value>& params,
                                     std::string_view what) {
  if (kind != ColumnKind::kText) {
    const double* number = std::get_if<double>(&value);
    if (number == nullptr) {
      return core::InvalidArgument("Expected a numeric value for {}", what);
    }
    if (comparator == Comparator::kLike || comparator == Comparator::kILike ||
        comparator == Comparator::kIn || comparator == Comparator::kNotIn) {
      return core::InvalidArgument(
          "Invalid comparator '{}' for {}; only '=', '!=', '>', '>=', "
          "'<', '<=' are supported",
          ComparatorSql(comparator), what);
    }
    if (std::isnan(*number)) return core::InvalidArgument("Invalid NaN value for {}", what);
    std::string placeholder = "?";
    if (kind == ColumnKind::kReal) {
      params.emplace_back(ClampInfinity(*number));
    } else if (std::trunc(*number) == *number && std::fabs(*number) < 9.2e18) {
      params.emplace_back(static_cast<int64_t>(*number));
    } else {
      // PostgreSQL would reject "1.5" for a BIGINT parameter; compare as a double instead.
      params.emplace_back(*number);
      placeholder = "CAST(? AS DOUBLE PRECISION)";
    }
    return fmt::format("{} {} {}", column, ComparatorSql(comparator), placeholder);
  }

  if (IsOrdering(comparator)) {
    return core::InvalidArgument(
        "Invalid comparator '{}' for {}; only '=', '!=', 'LIKE', "
        "'ILIKE' are supported",
        ComparatorSql(comparator), what);
  }
  if (comparator == Comparator::kIn || comparator == Comparator::kNotIn) {
    const auto* list = std::get_if<std::vector<std::string>>(&value);
    if (list == nullptr || list->empty()) {
      return core::InvalidArgument("Expected a non-empty list of strings for {}", what);
    }
    std::string placeholders;
    for (const std::string& item : *list) {
      if (!placeholders.empty()) placeholders += ", ";
      placeholders += "?";
      params.emplace_back(item);
    }
    return fmt::format("{} {} ({})", column, ComparatorSql(comparator), placeholders);
  }
  const auto* text = std::get_if<std::string>(&value);
  if (text == nullptr) return core::InvalidArgument("Expected a quoted string value for {}", what);
  params.emplace_back(*text);
  if (comparator == Comparator::kILike && dialect == Dialect::kSqlite) {
    // SQLite has no ILIKE and its LIKE is made case-sensitive by the connection.
    return fmt::format("LOWER({}) LIKE LOWER(?)", column);
  }
  return fmt::format("{} {} ?", column, ComparatorSql(comparator));
}

struct RunAttribute {
  std::string column;
  ColumnKind kind;
  bool nullable;
};

core::Result<RunAttribute> LookupRunAttribute(const std::string& key) {
  if (key == "run_id") return RunAttribute{"r.run_id", ColumnKind::kText, false};
  if (key == "run_name") return RunAttribute{"r.name", ColumnKind::kText, false};
  if (key == "status") return RunAttribute{"r.status", ColumnKind::kText, false};
  if (key == "user_id") return RunAttribute{"r.user_id", ColumnKind::kText, false};
  if (key == "artifact_uri") return RunAttribute{"r.artifact_uri", ColumnKind::kText, false};
  if (key == "start_time") return RunAttribute{"r.start_time", ColumnKind::kInteger, false};
  if (key == "end_time") return RunAttribute{"r.end_time", ColumnKind::kInteger, true};
  return core::InvalidArgument("Invalid attribute key '{}' specified", key);
}

core::Result<RunAttribute> LookupExperimentAttribute(const std::string& key) {
  if (key == "name") return RunAttribute{"e.name", ColumnKind::kText, false};
  if (key == "experiment_id") return RunAttribute{"e.experiment_id", ColumnKind::kInteger, false};
  if (key == "creation_time") return RunAttribute{"e.creation_time", ColumnKind::kInteger, false};
  if (key == "last_update_time") {
    return RunAttribute{"e.last_update_time", ColumnKind::kInteger, false};
  }
  return core::InvalidArgument("Invalid attribute key '{}' specified", key);
}

SortValueType ToSortValueType(ColumnKind kind) {
  switch (kind) {
    case ColumnKind::kText:
      return SortValueType::kText;
    case ColumnKind::kInteger:
      return SortValueType::kInteger;
    case ColumnKind::kReal:
      return SortValueType::kReal;
  }
  return SortValueType::kText;
}

std::string_view EntityName(EntityType entity) {
  switch (entity) {
    case EntityType::kMetric:
      return "metric";
    case EntityType::kParam:
      return "parameter";
    case EntityType::kTag:
      return "tag";
    case EntityType::kAttribute:
      return "attribute";
    case EntityType::kDataset:
      return "dataset";
  }
  return "attribute";
}

}  // namespace

core::Result<SqlFragment> RunFilterSql(const std::vector<FilterClause>& clauses, Dialect dialect) {
  SqlFragment out;
  for (const FilterClause& clause : clauses) {
    const std::string what = fmt::format("{} '{}'", EntityName(clause.entity), clause.key);
    switch (clause.entity) {
      case EntityType::kAttribute: {
        LAKEML_ASSIGN_OR_RETURN(RunAttribute attribute, LookupRunAttribute(clause.key));
        if ((clause.comparator == Comparator::kIn || clause.comparator == Comparator::kNotIn) &&
            clause.key != "run_id") {
          return core::InvalidArgument(
              "'IN' and 'NOT IN' are only supported for run_id, not "
              "for attribute '{}'",
              clause.key);
        }
        LAKEML_ASSIGN_OR_RETURN(std::string condition,
                                CompareSql(attribute.column, attribute.kind, clause.comparator,
                                           clause.value, dialect, out.params, what));
        out.sql += " AND " + condition;
        break;
      }
      case EntityType::kMetric: {
        out.params.emplace_back(clause.key);
        std::vector<Value> value_params;
        LAKEML_ASSIGN_OR_RETURN(std::string condition,
                                CompareSql("m.value", ColumnKind::kReal, clause.comparator,
                                           clause.value, dialect, value_params, what));
        // NaN is stored as value 0 with is_nan = 1. Like IEEE comparisons (and MLflow's
        // in-memory matcher), NaN satisfies only '!='.
        const std::string nan_guard = clause.comparator == Comparator::kNotEq
                                          ? fmt::format("(m.is_nan = 1 OR {})", condition)
                                          : fmt::format("m.is_nan = 0 AND {}", condition);
        out.sql += fmt::format(
            " AND EXISTS (SELECT 1 FROM latest_metrics m WHERE m.run_id = r.run_id AND "
            "m.key = ? AND {})",
            nan_guard);
        out.params.insert(out.params.end(), value_params.begin(), value_params.end());
        break;
      }
      case EntityType::kParam:
      case EntityType::kTag: {
        if (clause.comparator == Comparator::kIn || clause.comparator == Comparator::kNotIn) {
          return core::InvalidArgument("'IN' and 'NOT IN' are not supported for {}", what);
        }
        const std::string_view table = clause.entity == EntityType::kParam ? "params" : "tags";
        out.params.emplace_back(clause.key);
        LAKEML_ASSIGN_OR_RETURN(std::string condition,
                                CompareSql("p.value", ColumnKind::kText, clause.comparator,
                                           clause.value, dialect, out.params, what));
        out.sql += fmt::format(
            " AND EXISTS (SELECT 1 FROM {} p WHERE p.run_id = r.run_id AND p.key = ? AND {})",
            table, condition);
        break;
      }
      case EntityType::kDataset: {
        if (clause.key == "context") {
          LAKEML_ASSIGN_OR_RETURN(std::string condition,
                                  CompareSql("t.value", ColumnKind::kText, clause.comparator,
                                             clause.value, dialect, out.params, what));
          out.sql += fmt::format(
              " AND EXISTS (SELECT 1 FROM inputs i JOIN input_tags t ON t.input_uuid = "
              "i.input_uuid WHERE i.destination_type = 'RUN' AND i.destination_id = r.run_id "
              "AND i.source_type = 'DATASET' AND t.name = 'mlflow.data.context' AND {})",
              condition);
        } else if (clause.key == "name" || clause.key == "digest") {
          LAKEML_ASSIGN_OR_RETURN(
              std::string condition,
              CompareSql("d." + clause.key, ColumnKind::kText, clause.comparator, clause.value,
                         dialect, out.params, what));
          out.sql += fmt::format(
              " AND EXISTS (SELECT 1 FROM inputs i JOIN datasets d ON d.dataset_uuid = "
              "i.source_id WHERE i.destination_type = 'RUN' AND i.destination_id = r.run_id "
              "AND i.source_type = 'DATASET' AND {})",
              condition);
        } else {
          return core::InvalidArgument("Invalid dataset key '{}' specified", clause.key);
        }
        break;
      }
    }
  }
  return out;
}

core::Result<SqlFragment> ExperimentFilterSql(const std::vector<FilterClause>& clauses,
                                              Dialect dialect) {
  SqlFragment out;
  for (const FilterClause& clause : clauses) {
    const std::string what = fmt::format("{} '{}'", EntityName(clause.entity), clause.key);
    if (clause.comparator == Comparator::kIn || clause.comparator == Comparator::kNotIn) {
      return core::InvalidArgument("'IN' and 'NOT IN' are not supported for {}", what);
    }
    if (clause.entity == EntityType::kAttribute) {
      LAKEML_ASSIGN_OR_RETURN(RunAttribute attribute, LookupExperimentAttribute(clause.key));
      LAKEML_ASSIGN_OR_RETURN(std::string condition,
                              CompareSql(attribute.column, attribute.kind, clause.comparator,
                                         clause.value, dialect, out.params, what));
      out.sql += " AND " + condition;
    } else if (clause.entity == EntityType::kTag) {
      out.params.emplace_back(clause.key);
      LAKEML_ASSIGN_OR_RETURN(std::string condition,
                              CompareSql("t.value", ColumnKind::kText, clause.comparator,
                                         clause.value, dialect, out.params, what));
      out.sql += fmt::format(
          " AND EXISTS (SELECT 1 FROM experiment_tags t WHERE t.experiment_id = "
          "e.experiment_id AND t.key = ? AND {})",
          condition);
    } else {
      return core::InvalidArgument("Invalid entity type '{}' for searching experiments",
                                   EntityName(clause.entity));
    }
  }
  return out;
}

core::Result<SortSpec> RunSortSpec(const std::vector<std::string>& order_by) {
  SortSpec spec;
  std::set<std::pair<int, std::string>> seen;
  bool has_start_time = false;
  int join_idx = 0;
  for (const std::string& text : order_by) {
    LAKEML_ASSIGN_OR_RETURN(OrderByItem item, ParseOrderBy(text, SearchKind::kRuns));
    if (!seen.emplace(static_cast<int>(item.entity), item.key).second) {
      return core::InvalidArgument("`order_by` contains duplicate fields: {}", text);
    }
    spec.description.push_back(fmt::format("{}:{}:{}", static_cast<int>(item.entity), item.key,
                                           item.ascending ? "asc" : "desc"));
    SortKey key;
    key.ascending = item.ascending;
    switch (item.entity) {
      case EntityType::kAttribute: {
        LAKEML_ASSIGN_OR_RETURN(RunAttribute attribute, LookupRunAttribute(item.key));
        key.value_sql = attribute.column;
        key.value_type = ToSortValueType(attribute.kind);
        if (attribute.nullable) {
          key.rank_sql = fmt::format("CASE WHEN {} IS NULL THEN 1 ELSE 0 END", attribute.column);
        }
        if (item.key == "start_time") has_start_time = true;
        break;
      }
      case EntityType::kMetric:
      case EntityType::kParam:
      case EntityType::kTag: {
        const std::string alias = fmt::format("o{}", join_idx++);
        const std::string_view table = item.entity == EntityType::kMetric  ? "latest_metrics"
                                       : item.entity == EntityType::kParam ? "params"
                                                                           : "tags";
        const std::string join = fmt::format(
            " LEFT JOIN {0} {1} ON {1}.run_id = r.run_id AND {1}.key = ?", table, alias);
        spec.joins.sql += join;
        spec.joins.params.emplace_back(item.key);
        if (spec.keys.empty() && item.entity == EntityType::kMetric) {
          spec.leading_metric = item.key;
        } else {
          spec.trailing_joins.sql += join;
          spec.trailing_joins.params.emplace_back(item.key);
        }
        key.value_sql = alias + ".value";
        key.value_type =
            item.entity == EntityType::kMetric ? SortValueType::kReal : SortValueType::kText;
        // Missing last in both directions; for metrics NaN sorts just before missing.
        key.rank_sql = item.entity == EntityType::kMetric
                           ? fmt::format(
                                 "CASE WHEN {0}.run_id IS NULL THEN 2 WHEN {0}.is_nan = 1 "
                                 "THEN 1 ELSE 0 END",
                                 alias)
                           : fmt::format("CASE WHEN {0}.value IS NULL THEN 1 ELSE 0 END", alias);
        break;
      }
      case EntityType::kDataset:
        return core::InvalidArgument("Invalid order_by entity 'dataset' in '{}'", text);
    }
    spec.keys.push_back(std::move(key));
  }
  if (!has_start_time) {
    spec.keys.push_back(SortKey{"", "r.start_time", false, SortValueType::kInteger});
  }
  spec.keys.push_back(SortKey{"", "r.run_id", true, SortValueType::kText});
  return spec;
}

core::Result<SortSpec> ExperimentSortSpec(const std::vector<std::string>& order_by) {
  SortSpec spec;
  std::set<std::string> seen;
  for (const std::string& text : order_by) {
    LAKEML_ASSIGN_OR_RETURN(OrderByItem item, ParseOrderBy(text, SearchKind::kExperiments));
    if (item.entity != EntityType::kAttribute) {
      return core::InvalidArgument(
          "Invalid order_by entity in '{}'; only attributes are "
          "supported",
          text);
    }
    LAKEML_ASSIGN_OR_RETURN(RunAttribute attribute, LookupExperimentAttribute(item.key));
    if (!seen.insert(item.key).second) {
      return core::InvalidArgument("`order_by` contains duplicate fields: {}", text);
    }
    spec.description.push_back(fmt::format("{}:{}", item.key, item.ascending ? "asc" : "desc"));
    spec.keys.push_back(
        SortKey{"", attribute.column, item.ascending, ToSortValueType(attribute.kind)});
  }
  if (order_by.empty()) {
    spec.keys.push_back(SortKey{"", "e.creation_time", false, SortValueType::kInteger});
  }
  if (!seen.contains("experiment_id")) {
    spec.keys.push_back(SortKey{"", "e.experiment_id", true, SortValueType::kInteger});
  }
  return spec;
}

std::string OrderBySql(const std::vector<SortKey>& keys) {
  std::string sql = " ORDER BY ";
  for (size_t i = 0; i < keys.size(); ++i) {
    if (i > 0) sql += ", ";
    if (!keys[i].rank_sql.empty()) sql += keys[i].rank_sql + " ASC, ";
    sql += keys[i].value_sql + (keys[i].ascending ? " ASC" : " DESC");
  }
  return sql;
}

std::vector<SqlFragment> RunSearchStatements(const RunSearchQuery& query) {
  const SortSpec& sort = *query.sort;
  const std::vector<SortPosition> no_positions;
  const std::vector<SortPosition>& after = query.after != nullptr ? *query.after : no_positions;
  const std::string experiments = [&] {
    std::string placeholders;
    for (size_t i = 0; i < query.experiment_ids->size(); ++i) {
      placeholders += i == 0 ? "?" : ", ?";
    }
    return placeholders;
  }();
  auto add_experiment_ids = [&](std::vector<Value>& params) {
    for (int64_t id : *query.experiment_ids) params.emplace_back(id);
  };
  auto add_params = [](std::vector<Value>& params, const std::vector<Value>& more) {
    params.insert(params.end(), more.begin(), more.end());
  };
  const std::string select =
      fmt::format("SELECT {}{} FROM ", query.select_columns, SortColumnsSql(sort.keys));

  if (!sort.leading_metric) {
    const SqlFragment keyset = KeysetSql(sort.keys, after);
    SqlFragment statement;
    statement.sql = fmt::format(
        "{}runs r{} WHERE r.experiment_id IN ({}) AND r.lifecycle_stage IN "
        "{}{}{}{} LIMIT ?",
        select, sort.joins.sql, experiments, query.stages_sql, query.filter->sql, keyset.sql,
        OrderBySql(sort.keys));
    statement.params = sort.joins.params;
    add_experiment_ids(statement.params);
    add_params(statement.params, query.filter->params);
    add_params(statement.params, keyset.params);
    return {std::move(statement)};
  }

  // The first key splits the runs into three ranks (0: a number, 1: NaN, 2: missing; see
  // RunSortSpec) read in that order; within a rank the order is the remaining keys', after the
  // metric value for rank 0. The page token's rank says where to resume: earlier ranks are done,
  // its own rank continues after the token's position, later ranks start from their beginning.
  const SortKey& metric = sort.keys.front();
  const std::vector<SortKey> rest(sort.keys.begin() + 1, sort.keys.end());
  const std::vector<SortPosition> rest_after =
      after.empty() ? std::vector<SortPosition>()
                    : std::vector<SortPosition>(after.begin() + 1, after.end());
  const int64_t resume_rank = after.empty() ? 0 : after.front().rank;
  const std::string rest_order = OrderBySql(rest).substr(std::string_view(" ORDER BY ").size());

  std::vector<SqlFragment> statements;
  for (int64_t rank = std::max<int64_t>(resume_rank, 0); rank <= 2; ++rank) {
    const bool resuming = !after.empty() && rank == resume_rank;
    SqlFragment keyset;
    if (resuming) keyset = KeysetSql(rest, rest_after);
    std::string order = rest_order;
    if (rank == 0) {
      order = fmt::format("{} {}, {}", metric.value_sql, metric.ascending ? "ASC" : "DESC", order);
      if (resuming) {
        // The bound on the value alone lets the index walk start at the token's position.
        const Value& position = after.front().value;
        SqlFragment rest_keyset = std::move(keyset);
        keyset.sql = fmt::format(" AND {0} {1}= ? AND ({0} {1} ? OR ({0} = ?{2}))",
                                 metric.value_sql, metric.ascending ? ">" : "<", rest_keyset.sql);
        keyset.params = {position, position, position};
        add_params(keyset.params, rest_keyset.params);
      }
    }
    SqlFragment statement;
    if (rank < 2) {
      // CROSS JOIN keeps SQLite from reordering the join: latest_metrics_order drives it.
      statement.sql = fmt::format(
          "{}latest_metrics o0 CROSS JOIN runs r{} WHERE o0.experiment_id IN ({}) AND o0.key = ? "
          "AND o0.is_nan = {} AND r.run_id = o0.run_id AND r.lifecycle_stage IN {}{}{} ORDER BY "
          "{} LIMIT ?",
          select, sort.trailing_joins.sql, experiments, rank, query.stages_sql, query.filter->sql,
          keyset.sql, order);
      statement.params = sort.trailing_joins.params;
      add_experiment_ids(statement.params);
      statement.params.emplace_back(*sort.leading_metric);
    } else {
      statement.sql = fmt::format(
          "{}runs r{} WHERE r.experiment_id IN ({}) AND r.lifecycle_stage IN {} AND o0.run_id IS "
          "NULL{}{} ORDER BY {} LIMIT ?",
          select, sort.joins.sql, experiments, query.stages_sql, query.filter->sql, keyset.sql,
          order);
      statement.params = sort.joins.params;
      add_experiment_ids(statement.params);
    }
    add_params(statement.params, query.filter->params);
    add_params(statement.params, keyset.params);
    statements.push_back(std::move(statement));
  }
  return statements;
}

std::string SortColumnsSql(const std::vector<SortKey>& keys) {
  std::string sql;
  for (const SortKey& key : keys) {
    sql += ", ";
    sql += key.rank_sql.empty() ? "0" : key.rank_sql;
    sql += ", ";
    sql += key.value_sql;
  }
  return sql;
}

SqlFragment KeysetSql(const std::vector<SortKey>& keys,
                      const std::vector<SortPosition>& positions) {
  // row > cursor  <=>  OR over i of (keys before i equal AND key i after). The rank is known
  // from the cursor, so each piece specialises to a few simple comparisons.
  SqlFragment out;
  std::string equal_prefix;
  std::vector<Value> equal_params;
  std::string disjuncts;
  for (size_t i = 0; i < keys.size() && i < positions.size(); ++i) {
    const SortKey& key = keys[i];
    const SortPosition& position = positions[i];
    const std::string_view after_op = key.ascending ? ">" : "<";
    std::string after;
    std::vector<Value> after_params;
    std::string equal;
    std::vector<Value> equal_item_params;
    if (key.rank_sql.empty()) {
      after = fmt::format("{} {} ?", key.value_sql, after_op);
      after_params.push_back(position.value);
      equal = fmt::format("{} = ?", key.value_sql);
      equal_item_params.push_back(position.value);
    } else if (position.rank == 0) {
      after = fmt::format("({} > 0 OR {} {} ?)", key.rank_sql, key.value_sql, after_op);
      after_params.push_back(position.value);
      equal = fmt::format("{} = 0 AND {} = ?", key.rank_sql, key.value_sql);
      equal_item_params.push_back(position.value);
    } else {
      after = fmt::format("{} > {}", key.rank_sql, position.rank);
      equal = fmt::format("{} = {}", key.rank_sql, position.rank);
    }
    if (!disjuncts.empty()) disjuncts += " OR ";
    disjuncts += "(" + equal_prefix + after + ")";
    out.params.insert(out.params.end(), equal_params.begin(), equal_params.end());
    out.params.insert(out.params.end(), after_params.begin(), after_params.end());
    equal_prefix += equal + " AND ";
    equal_params.insert(equal_params.end(), equal_item_params.begin(), equal_item_params.end());
  }
  if (!disjuncts.empty()) out.sql = " AND (" + disjuncts + ")";
  return out;
}

}  // namespace lakeml::tracking
