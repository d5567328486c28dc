#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "metastore/database.h"
#include "tracking/page_token.h"
#include "tracking/search_filter.h"

namespace lakeml::tracking {

// Translates parsed search filters and order_by items into SQL with bound parameters only (user
// text never reaches the SQL string), portable across SQLite and PostgreSQL. Pure functions,
// thread-safe. Errors: kInvalidArgument for clauses that do not apply (unknown attribute, wrong
// value type, comparator not allowed, duplicate order_by fields).

struct SqlFragment {
  std::string sql;
  std::vector<metastore::Value> params;
};

// One ORDER BY column. `rank_sql` is empty when the column is never missing; otherwise it
// yields 0 (present), 1 (NaN) or 2/1 (missing), so missing values sort last in both directions.
enum class SortValueType { kText, kInteger, kReal };

struct SortKey {
  std::string rank_sql;
  std::string value_sql;
  bool ascending = true;
  SortValueType value_type = SortValueType::kText;  // how to read the value back for tokens
};

// An ORDER BY spec plus the LEFT JOINs it needs (one row per run at most: joins are on the
// primary key), and a canonical description for page-token fingerprints.
struct SortSpec {
  SqlFragment joins;
  std::vector<SortKey> keys;
  std::vector<std::string> description;
  // Set when the first order_by item is a metric (its key, joined as `o0`); then
  // `trailing_joins` holds `joins` without o0's, for statements that read o0 themselves.
  std::optional<std::string> leading_metric;
  SqlFragment trailing_joins;
};

// search-runs: conditions (each starting with " AND ") over the runs table aliased `r`; one
// EXISTS semi-join per metric/param/tag/dataset clause.
core::Result<SqlFragment> RunFilterSql(const std::vector<FilterClause>& clauses,
                                       metastore::Dialect dialect);
// search-runs order: the given items, then `start_time DESC` unless given, then `run_id ASC`.
core::Result<SortSpec> RunSortSpec(const std::vector<std::string>& order_by);

// What one runs/search page selects from: runs of `experiment_ids` (non-empty) in the
// lifecycle stages `stages_sql` (an SQL "(...)" list), matching `filter`, ordered by `sort`,
// after `after` (the page token's positions; empty on the first page).
struct RunSearchQuery {
  std::string_view select_columns;  // over `r`; the sort columns follow them
  const std::vector<int64_t>* experiment_ids = nullptr;
  std::string_view stages_sql;
  const SqlFragment* filter = nullptr;
  const SortSpec* sort = nullptr;
  const std::vector<SortPosition>* after = nullptr;
};

// The statements that together yield the page's rows in order: run them one after another,
// each with a row limit bound as its last parameter (its SQL ends in "LIMIT ?"), until enough
// rows are read. One statement, unless the first sort key is a metric: then up to three, for
// runs whose metric is a number, NaN, and missing (that order in both directions). The first
// two walk latest_metrics_order for the experiment in sort order, so a page reads about as many
// index entries as the filter needs to fill it instead of every run of the experiment.
std::vector<SqlFragment> RunSearchStatements(const RunSearchQuery& query);

// search-experiments: conditions over the experiments table aliased `e`.
core::Result<SqlFragment> ExperimentFilterSql(const std::vector<FilterClause>& clauses,
                                              metastore::Dialect dialect);
// search-experiments order: default `creation_time DESC`, always ending in `experiment_id`.
core::Result<SortSpec> ExperimentSortSpec(const std::vector<std::string>& order_by);

// "ORDER BY ..." for the keys.
std::string OrderBySql(const std::vector<SortKey>& keys);
// The select-list expressions "rank, value" for each key (rank is 0 when the key has none).
std::string SortColumnsSql(const std::vector<SortKey>& keys);
// " AND (...)": rows strictly after `positions` in the order of `keys` (lexicographic).
SqlFragment KeysetSql(const std::vector<SortKey>& keys, const std::vector<SortPosition>& positions);

}  // namespace lakeml::tracking
