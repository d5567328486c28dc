#include "tracking/search_filter.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace lakeml::tracking {
namespace {

std::string EntityText(EntityType entity) {
  switch (entity) {
    case EntityType::kMetric:
      return "metric";
    case EntityType::kParam:
      return "param";
    case EntityType::kTag:
      return "tag";
    case EntityType::kAttribute:
      return "attr";
    case EntityType::kDataset:
      return "dataset";
  }
  return "?";
}

// Renders a clause compactly so table rows can state the expected AST as one string:
// `entity[key] OP value`, strings in single quotes (not escaped), lists as ('a','b').
std::string Render(const FilterClause& clause) {
  std::string value;
  if (const auto* number = std::get_if<double>(&clause.value)) {
    value = fmt::format("{}", *number);
  } else if (const auto* text = std::get_if<std::string>(&clause.value)) {
    value = "'" + *text + "'";
  } else {
    value = "(";
    for (const std::string& item : std::get<std::vector<std::string>>(clause.value)) {
      if (value.size() > 1) value += ",";
      value += "'" + item + "'";
    }
    value += ")";
  }
  return fmt::format("{}[{}] {} {}", EntityText(clause.entity), clause.key,
                     ComparatorSql(clause.comparator), value);
}

std::vector<std::string> RenderAll(const std::vector<FilterClause>& clauses) {
  std::vector<std::string> rendered;
  for (const FilterClause& clause : clauses) rendered.push_back(Render(clause));
  return rendered;
}

std::string_view KindName(SearchKind kind) {
  switch (kind) {
    case SearchKind::kRuns:
      return "runs";
    case SearchKind::kExperiments:
      return "experiments";
    case SearchKind::kRegisteredModels:
      return "registered-models";
    case SearchKind::kModelVersions:
      return "model-versions";
  }
  return "?";
}

constexpr SearchKind kRuns = SearchKind::kRuns;
constexpr SearchKind kExperiments = SearchKind::kExperiments;
constexpr SearchKind kModels = SearchKind::kRegisteredModels;
constexpr SearchKind kVersions = SearchKind::kModelVersions;

struct OkCase {
  SearchKind kind;
  std::string filter;
  std::vector<std::string> expected;
};

const std::vector<OkCase>& OkCases() {
  static const std::vector<OkCase> cases = {
      // Empty and blank filters mean "no clauses".
      {kRuns, "", {}},
      {kRuns, "   \t\n ", {}},
      {kExperiments, "", {}},

      // Every example in reference §6.
      {kRuns,
       "metrics.rmse < 1 and params.model_class = 'LogisticRegression'",
       {"metric[rmse] < 1", "param[model_class] = 'LogisticRegression'"}},
      {kRuns,
       "attributes.status = 'FINISHED' AND tags.mlflow.runName ILIKE '%cv%'",
       {"attr[status] = 'FINISHED'", "tag[mlflow.runName] ILIKE '%cv%'"}},
      {kRuns, "attributes.run_id IN ('a1b2c3','c3d4e5')", {"attr[run_id] IN ('a1b2c3','c3d4e5')"}},
      {kRuns, "datasets.context = 'training'", {"dataset[context] = 'training'"}},
      {kExperiments,
       "name LIKE 'test-%' AND tags.team = 'ml'",
       {"attr[name] LIKE 'test-%'", "tag[team] = 'ml'"}},
      {kVersions,
       "name = 'churn' AND tags.validated = 'true' AND version_number > 3",
       {"attr[name] = 'churn'", "tag[validated] = 'true'", "attr[version_number] > 3"}},
      // MLflow documentation examples.
      {kRuns, "metrics.accuracy > 0.92", {"metric[accuracy] > 0.92"}},
      {kRuns,
       "params.model = \"LogisticRegression\" and params.lambda = \"0.001\" and "
       "metrics.error <= 0.05",
       {"param[model] = 'LogisticRegression'", "param[lambda] = '0.001'", "metric[error] <= 0.05"}},
      {kRuns, "attributes.status = \"FAILED\"", {"attr[status] = 'FAILED'"}},
      {kRuns, "params.\"model-type\" = 'x'", {"param[model-type] = 'x'"}},
      {kRuns, "metrics.\"error rate\" > 1", {"metric[error rate] > 1"}},
      {kRuns, "metrics.\"2019-04-02 error rate\" < 1", {"metric[2019-04-02 error rate] < 1"}},

      // Entity aliases.
      {kRuns, "metric.a = 1", {"metric[a] = 1"}},
      {kRuns, "metrics.a = 1", {"metric[a] = 1"}},
      {kRuns, "param.a = 'x'", {"param[a] = 'x'"}},
      {kRuns, "params.a = 'x'", {"param[a] = 'x'"}},
      {kRuns, "parameter.a = 'x'", {"param[a] = 'x'"}},
      {kRuns, "parameters.a = 'x'", {"param[a] = 'x'"}},
      {kRuns, "tag.a = 'x'", {"tag[a] = 'x'"}},
      {kRuns, "tags.a = 'x'", {"tag[a] = 'x'"}},
      {kRuns, "attribute.status = 'x'", {"attr[status] = 'x'"}},
      {kRuns, "attributes.status = 'x'", {"attr[status] = 'x'"}},
      {kRuns, "attr.status = 'x'", {"attr[status] = 'x'"}},
      {kRuns, "run.status = 'x'", {"attr[status] = 'x'"}},
      {kRuns, "status = 'x'", {"attr[status] = 'x'"}},
      {kRuns, "dataset.name = 'x'", {"dataset[name] = 'x'"}},
      {kRuns, "datasets.digest = 'x'", {"dataset[digest] = 'x'"}},
      {kExperiments, "tag.a = 'x' and attribute.name = 'n'", {"tag[a] = 'x'", "attr[name] = 'n'"}},
      {kModels, "tags.a = 'x' and attributes.name = 'n'", {"tag[a] = 'x'", "attr[name] = 'n'"}},

      // Quoting of entities and keys.
      {kRuns, "tags.`user-name` = 'x'", {"tag[user-name] = 'x'"}},
      {kRuns, "`tags`.`user-name` = 'x'", {"tag[user-name] = 'x'"}},
      {kRuns, "`metrics`.rmse < 2", {"metric[rmse] < 2"}},
      {kRuns, "metrics.\"model class\" > 0", {"metric[model class] > 0"}},
      {kRuns, "tags.`a.b` = 'x'", {"tag[a.b] = 'x'"}},
      {kRuns, "tags.\"a\"\"b\" = 'x'", {"tag[a\"b] = 'x'"}},
      {kRuns, "tags.`a``b` = 'x'", {"tag[a`b] = 'x'"}},
      {kRuns, "metrics.train.loss < 0.5", {"metric[train.loss] < 0.5"}},
      {kRuns, "tags.a.b.c = 'x'", {"tag[a.b.c] = 'x'"}},
      {kRuns, "tags.1st = 'x'", {"tag[1st] = 'x'"}},
      {kRuns, "`status` = 'x'", {"attr[status] = 'x'"}},
      {kRuns, "\"status\" = 'x'", {"attr[status] = 'x'"}},
      {kRuns, "params.ünïcödé = 'välue'", {"param[ünïcödé] = 'välue'"}},
      {kRuns, "tags.`日本語 key` = '値'", {"tag[日本語 key] = '値'"}},

      // Attribute aliases are canonicalised.
      {kRuns, "attributes.created > 5", {"attr[start_time] > 5"}},
      {kRuns, "Created >= 5", {"attr[start_time] >= 5"}},
      {kRuns, "attributes.`Run name` = 'x'", {"attr[run_name] = 'x'"}},
      {kRuns, "\"run name\" LIKE 'x%'", {"attr[run_name] LIKE 'x%'"}},
      {kRuns, "attributes.\"Run Name\" != 'x'", {"attr[run_name] != 'x'"}},
      {kRuns, "run_name ILIKE '%x%'", {"attr[run_name] ILIKE '%x%'"}},
      {kRuns, "user_id = 'u'", {"attr[user_id] = 'u'"}},
      {kRuns, "artifact_uri LIKE 's3://%'", {"attr[artifact_uri] LIKE 's3://%'"}},
      {kRuns, "end_time < 100", {"attr[end_time] < 100"}},
      {kRuns, "attributes.start_time >= 1700000000000", {"attr[start_time] >= 1700000000000"}},

      // Comparators, case-insensitive keywords, and spacing.
      {kRuns, "metrics.a=1", {"metric[a] = 1"}},
      {kRuns, "metrics.a!=1", {"metric[a] != 1"}},
      {kRuns, "metrics.a <> 1", {"metric[a] != 1"}},
      {kRuns, "metrics.a>1", {"metric[a] > 1"}},
      {kRuns, "metrics.a>=1", {"metric[a] >= 1"}},
      {kRuns, "metrics.a<1", {"metric[a] < 1"}},
      {kRuns, "metrics.a<=1", {"metric[a] <= 1"}},
      {kRuns, "params.a like 'x'", {"param[a] LIKE 'x'"}},
      {kRuns, "params.a Like 'x'", {"param[a] LIKE 'x'"}},
      {kRuns, "params.a iLiKe 'x'", {"param[a] ILIKE 'x'"}},
      {kRuns, "run_id in ('abc')", {"attr[run_id] IN ('abc')"}},
      {kRuns, "run_id not in ('abc')", {"attr[run_id] NOT IN ('abc')"}},
      {kRuns, "run_id NOT\t  IN ('abc')", {"attr[run_id] NOT IN ('abc')"}},
      {kRuns, "run_id IN('a','b')", {"attr[run_id] IN ('a','b')"}},
      {kRuns, "tags.x='y'AND tags.z='w'", {"tag[x] = 'y'", "tag[z] = 'w'"}},
      {kRuns, "\n metrics.a > 1\tAnD\r\nmetrics.b < 2 ", {"metric[a] > 1", "metric[b] < 2"}},

      // Numbers.
      {kRuns, "metrics.a > -1", {"metric[a] > -1"}},
      {kRuns, "metrics.a > +1.5", {"metric[a] > 1.5"}},
      {kRuns, "metrics.a > 1e3", {"metric[a] > 1000"}},
      {kRuns, "metrics.a > 2.5E-1", {"metric[a] > 0.25"}},
      {kRuns, "metrics.a > .5", {"metric[a] > 0.5"}},
      {kRuns, "metrics.a > 5.", {"metric[a] > 5"}},
      {kRuns, "metrics.a > -0.0", {"metric[a] > -0"}},

      // String values: quoting and escapes.
      {kRuns, "params.a = 'it''s'", {"param[a] = 'it's'"}},
      {kRuns, "params.a = ''", {"param[a] = ''"}},
      {kRuns, "params.a = ''''", {"param[a] = '''"}},
      {kRuns, "params.a = \"say \"\"hi\"\"\"", {"param[a] = 'say \"hi\"'"}},
      {kRuns, "params.a = 'a\\'", {"param[a] = 'a\\'"}},
      {kRuns, "params.a = 'AND metrics.x > 1'", {"param[a] = 'AND metrics.x > 1'"}},
      {kRuns, "params.a = 'x; DROP TABLE runs'", {"param[a] = 'x; DROP TABLE runs'"}},
      {kRuns, "params.a = '  spaced  '", {"param[a] = '  spaced  '"}},
      {kRuns, "params.a = '1'", {"param[a] = '1'"}},
      {kRuns, "params.a = 'line\nbreak'", {"param[a] = 'line\nbreak'"}},

      // IN lists: double quotes, spacing, doubled quotes; uppercase run ids dropped.
      {kRuns, "run_id IN ( 'a' , \"b\" ,'c''d' )", {"attr[run_id] IN ('a','b','c'd')"}},
      {kRuns, "run_id IN ('abc', 'ABC', 'aBc', '123')", {"attr[run_id] IN ('abc','123')"}},
      {kRuns, "run_id IN ('ABC')", {"attr[run_id] IN ()"}},
      {kRuns, "run_id NOT IN ('Xyz', 'xyz')", {"attr[run_id] NOT IN ('xyz')"}},
      {kRuns, "datasets.name IN ('Custom', 'x')", {"dataset[name] IN ('Custom','x')"}},
      {kRuns, "datasets.digest NOT IN ('d1')", {"dataset[digest] NOT IN ('d1')"}},
      {kRuns, "datasets.context LIKE 'train%'", {"dataset[context] LIKE 'train%'"}},

      // Experiments.
      {kExperiments, "creation_time > 100", {"attr[creation_time] > 100"}},
      {kExperiments, "attribute.last_update_time <= 100", {"attr[last_update_time] <= 100"}},
      {kExperiments, "name ILIKE '%Prod%'", {"attr[name] ILIKE '%Prod%'"}},
      {kExperiments, "tags.`owner.email` != 'a@b'", {"tag[owner.email] != 'a@b'"}},

      // Registered models.
      {kModels, "name LIKE 'churn%'", {"attr[name] LIKE 'churn%'"}},
      {kModels, "name != 'x' AND tags.k ILIKE 'v'", {"attr[name] != 'x'", "tag[k] ILIKE 'v'"}},

      // Model versions.
      {kVersions, "run_id = 'abc'", {"attr[run_id] = 'abc'"}},
      {kVersions, "run_id != 'abc'", {"attr[run_id] != 'abc'"}},
      {kVersions, "run_id IN ('abc', 'DEF')", {"attr[run_id] IN ('abc')"}},
      {kVersions, "source_path = 's3://b/m'", {"attr[source_path] = 's3://b/m'"}},
      {kVersions, "source_path LIKE '%/model'", {"attr[source_path] LIKE '%/model'"}},
      {kVersions, "version_number >= 2.0", {"attr[version_number] >= 2"}},
      {kVersions, "tags.stage IN ('a', 'B')", {"tag[stage] IN ('a','B')"}},
      {kVersions, "tags.stage LIKE 'p%'", {"tag[stage] LIKE 'p%'"}},
  };
  return cases;
}

TEST(SearchFilterTest, ParsesValidFilters) {
  for (const OkCase& test_case : OkCases()) {
    SCOPED_TRACE(fmt::format("[{}] {}", KindName(test_case.kind), test_case.filter));
    auto parsed = ParseFilter(test_case.filter, test_case.kind);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(RenderAll(*parsed), test_case.expected);
  }
}

TEST(SearchFilterTest, NumbersAreDoublesAndStringsAreStrings) {
  auto parsed = ParseFilter("metrics.a > 10 AND params.b = '10'", kRuns);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->size(), 2u);
  EXPECT_TRUE(std::holds_alternative<double>((*parsed)[0].value));
  EXPECT_DOUBLE_EQ(std::get<double>((*parsed)[0].value), 10.0);
  EXPECT_TRUE(std::holds_alternative<std::string>((*parsed)[1].value));
  EXPECT_EQ(std::get<std::string>((*parsed)[1].value), "10");
}

struct ErrorCase {
  SearchKind kind;
  std::string filter;
  std::string message_part;  // a substring the error message must contain
};

const std::vector<ErrorCase>& ErrorCases() {
  static const std::vector<ErrorCase> cases = {
      // Structure: OR, grouping, several statements, trailing garbage, dangling AND.
      {kRuns, "metrics.a > 1 OR metrics.b < 2",
       "Invalid clause(s) in filter string: 'OR metrics.b < 2' (only AND is supported)"},
      {kRuns, "metrics.a > 1 or metrics.b < 2", "Invalid clause(s) in filter string: 'or"},
      {kRuns, "(metrics.a > 1)", "Invalid clause(s) in filter string: '(metrics.a > 1)'"},
      {kRuns, "metrics.a > 1 AND (metrics.b < 2)", "Invalid clause(s) in filter string: '("},
      {kRuns, "metrics.a > 1; metrics.b < 2", "multiple expressions"},
      {kRuns, "metrics.a > 1;", "multiple expressions"},
      {kRuns, "metrics.a > 1 metrics.b < 2", "Invalid clause(s) in filter string: 'metrics.b"},
      {kRuns, "metrics.a > 1 AND", "Invalid clause(s) in filter string: 'AND'"},
      {kRuns, "metrics.a > 1 AND AND metrics.b < 2", "Invalid clause(s) in filter string: 'AND"},
      {kRuns, "AND metrics.a > 1", "Invalid clause(s) in filter string: 'AND metrics.a > 1'"},
      {kRuns, "NOT metrics.a > 1", "Invalid clause(s)"},
      {kRuns, "metrics.a", "Invalid clause(s) in filter string: 'metrics.a'"},
      {kRuns, "metrics.a >", "Invalid clause(s) in filter string: 'metrics.a >'"},
      {kRuns, "metrics.a > 1 2", "Invalid clause(s) in filter string: '2'"},
      {kRuns, "= 1", "Invalid clause(s) in filter string: '= 1'"},
      {kRuns, "'tags.a' = 'x'", "Invalid clause(s)"},
      {kRuns, "1 = 1", "Invalid clause(s)"},
      {kRuns, "metrics.a > 1 AND 1 = 1", "Invalid clause(s)"},

      // Comparators.
      {kRuns, "metrics.a == 1", "Invalid comparator '=='"},
      {kRuns, "metrics.a => 1", "Invalid comparator '=>'"},
      {kRuns, "metrics.a ! 1", "Invalid comparator '!'"},
      {kRuns, "params.a IS 'x'", "Invalid comparator 'IS'"},
      {kRuns, "params.a NOT LIKE 'x'", "Invalid comparator 'NOT LIKE'"},
      {kRuns, "params.a REGEXP 'x'", "Invalid comparator 'REGEXP'"},
      {kRuns, "params.a ~ 'x'", "Invalid comparator '~'"},
      {kRuns, "metrics.a LIKE 'x'", "Invalid comparator 'LIKE' for metric 'a'"},
      {kRuns, "metrics.a IN ('x')", "Invalid comparator 'IN' for metric"},
      {kRuns, "params.a > 'x'", "Invalid comparator '>' for parameter 'a'"},
      {kRuns, "params.a IN ('x')", "Invalid comparator 'IN' for parameter"},
      {kRuns, "tags.a NOT IN ('x')", "Invalid comparator 'NOT IN' for tag"},
      {kRuns, "tags.a < 'x'", "Invalid comparator '<' for tag"},
      {kRuns, "status IN ('FINISHED')", "Only the 'run_id' attribute supports comparison"},
      {kRuns, "run_name NOT IN ('x')", "Only the 'run_id' attribute supports comparison"},
      {kRuns, "start_time LIKE '1%'", "Invalid comparator 'LIKE' for attribute 'start_time'"},
      {kRuns, "created IN ('1')", "Invalid comparator 'IN' for attribute 'start_time'"},
      {kRuns, "status > 'A'", "Invalid comparator '>' for attribute 'status'"},
      {kRuns, "datasets.name > 'x'", "Invalid comparator '>' for dataset"},

      // Value types.
      {kRuns, "metrics.a > 'x'", "Expected numeric value type for metric. Found 'x'"},
      {kRuns, "metrics.a > x", "Expected numeric value type for metric. Found x"},
      {kRuns, "metrics.a > NaN", "Expected numeric value type for metric. Found NaN"},
      {kRuns, "metrics.a > inf", "Expected numeric value type for metric"},
      {kRuns, "params.a = x",
       "Expected a quoted string value for parameter (e.g. 'my-value'). "
       "Got value x"},
      {kRuns, "params.a = 1", "Expected a quoted string value for parameter"},
      {kRuns, "tags.a = TRUE", "Expected a quoted string value for tag"},
      {kRuns, "status = FINISHED", "Expected a quoted string value for attribute"},
      {kRuns, "start_time > '1'", "Expected numeric value type for numeric attribute: start_time"},
      {kRuns, "created > 'x'", "Expected numeric value type for numeric attribute: start_time"},
      {kRuns, "run_id = ('a')", "Expected a quoted string value for attribute"},
      {kRuns, "run_id IN 'a'", "Expected a parenthesised list of quoted strings for IN"},
      {kRuns, "datasets.name IN 'a'", "Expected a parenthesised list"},
      {kRuns, "datasets.name = 1", "Expected a quoted string value for dataset"},
      {kRuns, "metrics.a > 1abc", "Invalid numeric value '1abc'"},
      {kRuns, "metrics.a > 1.2.3", "Invalid numeric value '1.2.3'"},
      {kRuns, "metrics.a > 1e", "Invalid numeric value '1e'"},
      {kRuns, "metrics.a > 0x10", "Invalid numeric value '0x10'"},
      {kRuns, "metrics.a > 1e999", "out of range"},
      {kRuns, "metrics.a > - 1", "Expected numeric value type for metric. Found -"},

      // Lists.
      {kRuns, "run_id IN ()", "expected a non-empty list of string values, but got empty list"},
      {kRuns, "run_id IN (  )", "got empty list"},
      {kRuns, "run_id IN ('a',)", "ill-formed list"},
      {kRuns, "run_id IN ('a' 'b')", "ill-formed list"},
      {kRuns, "run_id IN ('a', 1)", "ill-formed list"},
      {kRuns, "run_id IN (a)", "ill-formed list"},
      {kRuns, "run_id IN (('a'))", "ill-formed list"},
      {kRuns, "run_id IN ('a'", "ill-formed list"},
      {kRuns, "run_id IN ('a',", "ill-formed list"},
      {kRuns, "run_id IN (", "ill-formed list"},

      // Quotes.
      {kRuns, "params.a = 'x", "Unterminated quoted string: ''x'"},
      {kRuns, "params.a = \"x", "Unterminated quoted string"},
      {kRuns, "params.a = 'it''", "Unterminated quoted string"},
      {kRuns, "tags.`a = 'x'", "Unterminated quoted string"},
      {kRuns, "tags.\"a = 'x'", "Unterminated quoted string"},
      {kRuns, "'", "Invalid clause(s)"},
      {kRuns, "`", "Unterminated quoted string"},
      {kRuns, "run_id IN ('a", "Unterminated quoted string"},

      // Identifiers.
      {kRuns, "foo.a = 'x'", "Invalid entity type 'foo'"},
      {kRuns, "Metrics.a > 1", "Invalid entity type 'Metrics'"},
      {kRuns, "\"tags\".a = 'x'", "Invalid entity type 'tags'"},
      {kRuns, "lifecycle_stage = 'active'", "Invalid attribute key 'lifecycle_stage'"},
      {kRuns, "attributes.experiment_id = '1'", "Invalid attribute key 'experiment_id'"},
      {kRuns, "attributes.run_uuid = 'x'", "Invalid attribute key 'run_uuid'"},
      {kRuns, "name = 'x'", "Invalid attribute key 'name'"},
      {kRuns, "STATUS = 'x'", "Invalid attribute key 'STATUS'"},
      {kRuns, "rmse < 1", "Invalid attribute key 'rmse' specified. Valid keys are run_id"},
      {kRuns, "datasets.source = 'x'", "Invalid dataset key 'source'"},
      {kRuns, "metrics. > 1", "Invalid identifier 'metrics. '"},
      {kRuns, "metrics.", "Invalid identifier 'metrics.'"},
      {kRuns, "tags.`` = 'x'", "the key is empty"},
      {kRuns, "tags.mlflow.\"run name\" = 'x'", "Quote the whole key"},
      {kRuns, "tags.\"a\"b = 'x'", "Invalid identifier"},
      {kRuns, "tags.a-b = 'x'", "Invalid comparator '-b'"},
      {kRuns, "tags.a-b = 'x'", "keys with special characters must be quoted"},
      {kRuns, "tags.a:b = 'x'", "keys with special characters must be quoted"},
      {kRuns, "tags.a/b = 'x'", "Invalid comparator '/b'"},

      // Per-kind restrictions.
      {kExperiments, "metrics.a > 1",
       "Invalid entity type 'metrics'. Valid values are attribute, tag"},
      {kExperiments, "params.a = 'x'", "Invalid entity type 'params'"},
      {kExperiments, "datasets.name = 'x'", "Invalid entity type 'datasets'"},
      {kExperiments, "status = 'x'", "Invalid attribute key 'status'"},
      {kExperiments, "experiment_id = '1'", "Invalid attribute key 'experiment_id'"},
      {kExperiments, "name IN ('a')", "Only the 'run_id' attribute supports comparison"},
      {kExperiments, "creation_time LIKE 'x'", "Invalid comparator 'LIKE'"},
      {kExperiments, "creation_time > 'x'", "Expected numeric value type for numeric attribute"},
      {kExperiments, "tags.a IN ('x')", "Invalid comparator 'IN' for tag"},
      {kExperiments, "name = 1", "Expected a quoted string value for attribute"},
      {kModels, "metrics.a > 1", "Invalid entity type 'metrics'"},
      {kModels, "run_id = 'x'", "Invalid attribute key 'run_id'"},
      {kModels, "creation_timestamp > 1", "Invalid attribute key 'creation_timestamp'"},
      {kModels, "name > 'x'", "Invalid comparator '>'"},
      {kModels, "name IN ('x')", "Only the 'run_id' attribute supports comparison"},
      {kModels, "tags.a IN ('x')", "Invalid comparator 'IN' for tag"},
      {kVersions, "params.a = 'x'", "Invalid entity type 'params'"},
      {kVersions, "run_id NOT IN ('a')", "Only the 'run_id' attribute supports comparison"},
      {kVersions, "name IN ('a')", "Only the 'run_id' attribute supports comparison"},
      {kVersions, "version_number LIKE '1'", "Invalid comparator 'LIKE'"},
      {kVersions, "version_number = '1'",
       "Expected numeric value type for numeric attribute: "
       "version_number"},
      {kVersions, "source_path = 1", "Expected a quoted string value for attribute"},
      {kVersions, "creation_timestamp > 1", "Invalid attribute key 'creation_timestamp'"},
      {kVersions, "tags.a NOT IN ('x')", "Invalid comparator 'NOT IN' for tag"},
      {kVersions, "version > 1", "Invalid attribute key 'version'"},
  };
  return cases;
}

TEST(SearchFilterTest, RejectsInvalidFilters) {
  for (const ErrorCase& test_case : ErrorCases()) {
    SCOPED_TRACE(fmt::format("[{}] {}", KindName(test_case.kind), test_case.filter));
    auto parsed = ParseFilter(test_case.filter, test_case.kind);
    ASSERT_FALSE(parsed.ok()) << "parsed as "
                              << fmt::format("{}", fmt::join(RenderAll(*parsed), " AND "));
    EXPECT_EQ(parsed.status().code(), core::StatusCode::kInvalidArgument);
    EXPECT_NE(parsed.status().message().find(test_case.message_part), std::string::npos)
        << "message: " << parsed.status().message();
  }
}

TEST(SearchFilterTest, HostileInputIsRejectedCleanly) {
  const auto expect_invalid = [](std::string_view filter, std::string_view message_part) {
    auto parsed = ParseFilter(filter, kRuns);
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.status().code(), core::StatusCode::kInvalidArgument);
    EXPECT_NE(parsed.status().message().find(message_part), std::string::npos)
        << parsed.status().message();
    // Error messages quote input, but only an excerpt of it.
    EXPECT_LT(parsed.status().message().size(), 1000u);
  };

  expect_invalid(std::string(kMaxSearchStringBytes + 1, ' '), "too long");
  expect_invalid(std::string("params.a = 'x\0y'", 16), "NUL byte");
  expect_invalid(std::string("\0", 1), "NUL byte");
  expect_invalid("params.a = '\xff'", "not valid UTF-8");
  expect_invalid("params.a = '\xc0\xaf'", "not valid UTF-8");      // overlong '/'
  expect_invalid("params.a = '\xed\xa0\x80'", "not valid UTF-8");  // surrogate
  expect_invalid("params.a = '\xe2\x82'", "not valid UTF-8");      // truncated sequence
  expect_invalid(std::string(10000, '('), "Invalid clause(s)");
  expect_invalid("run_id IN " + std::string(10000, '('), "ill-formed list");
  expect_invalid("params.a = '" + std::string(60000, 'x'), "Unterminated quoted string");
  expect_invalid("tags." + std::string(60000, '`'), "Invalid clause(s)");
  expect_invalid("tags." + std::string(59999, '`'), "Unterminated quoted string");
  expect_invalid("metrics.a > " + std::string(60000, '9') + "e99999", "out of range");

  // An excerpt is never cut inside a UTF-8 sequence.
  std::string long_unicode = "params.a = '";
  for (int i = 0; i < 1000; ++i) long_unicode += "é";
  auto parsed = ParseFilter(long_unicode, kRuns);
  ASSERT_FALSE(parsed.ok());
  const std::string& message = parsed.status().message();
  ASSERT_GE(message.size(), 5u);
  EXPECT_EQ(message.substr(message.size() - 4), "...'");
  EXPECT_NE(static_cast<unsigned char>(message[message.size() - 5]), 0xC3);
}

TEST(SearchFilterTest, AcceptsInputUpToTheLengthLimit) {
  std::string filter = "params.a = '";
  filter += std::string(kMaxSearchStringBytes - filter.size() - 1, 'x');
  filter += "'";
  ASSERT_EQ(filter.size(), kMaxSearchStringBytes);
  auto parsed = ParseFilter(filter, kRuns);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(std::get<std::string>((*parsed)[0].value).size(), kMaxSearchStringBytes - 13);
}

TEST(SearchFilterTest, ManyClauses) {
  std::string filter;
  for (int i = 0; i < 2000; ++i) {
    if (i > 0) filter += " AND ";
    filter += fmt::format("metrics.m{} > {}", i, i);
  }
  auto parsed = ParseFilter(filter, kRuns);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->size(), 2000u);
  EXPECT_EQ(Render(parsed->back()), "metric[m1999] > 1999");
}

// A cheap in-test fuzzer until tests/fuzz/ has a libFuzzer target: random strings over the
// grammar's alphabet must never crash, and any success must only yield well-formed clauses.
TEST(SearchFilterTest, RandomInputNeverCrashes) {
  static constexpr std::string_view kPieces[] = {"metrics.",
                                                 "params.",
                                                 "tags.",
                                                 "attributes.",
                                                 "datasets.",
                                                 "run_id",
                                                 "status",
                                                 "name",
                                                 "start_time",
                                                 "a",
                                                 "`",
                                                 "\"",
                                                 "'",
                                                 "''",
                                                 "(",
                                                 ")",
                                                 ",",
                                                 ".",
                                                 " ",
                                                 "AND",
                                                 "and",
                                                 "OR",
                                                 "NOT",
                                                 "IN",
                                                 "LIKE",
                                                 "ILIKE",
                                                 "=",
                                                 "!=",
                                                 "<>",
                                                 "<",
                                                 ">=",
                                                 "1",
                                                 "-2.5e3",
                                                 ";",
                                                 "é",
                                                 "\xff",
                                                 "x",
                                                 "version_number",
                                                 "creation_time",
                                                 "%",
                                                 "\n"};
  std::mt19937 rng(12345);
  std::uniform_int_distribution<std::size_t> piece_idx(0, std::size(kPieces) - 1);
  std::uniform_int_distribution<int> length(0, 24);
  for (int iteration = 0; iteration < 20000; ++iteration) {
    std::string filter;
    const int pieces = length(rng);
    for (int i = 0; i < pieces; ++i) filter += kPieces[piece_idx(rng)];
    for (SearchKind kind : {kRuns, kExperiments, kModels, kVersions}) {
      auto order_by = ParseOrderBy(filter, kind);
      if (!order_by.ok()) {
        EXPECT_EQ(order_by.status().code(), core::StatusCode::kInvalidArgument) << filter;
      }
      auto parsed = ParseFilter(filter, kind);
      if (!parsed.ok()) {
        EXPECT_EQ(parsed.status().code(), core::StatusCode::kInvalidArgument) << filter;
        continue;
      }
      for (const FilterClause& clause : *parsed) EXPECT_FALSE(clause.key.empty()) << filter;
    }
  }
}

struct OrderCase {
  SearchKind kind;
  std::string order_by;
  EntityType entity;
  std::string key;
  bool ascending;
};

TEST(SearchFilterTest, ParsesOrderBy) {
  const std::vector<OrderCase> cases = {
      // Reference example list.
      {kRuns, "metrics.rmse ASC", EntityType::kMetric, "rmse", true},
      {kRuns, "params.alpha", EntityType::kParam, "alpha", true},
      {kRuns, "attributes.start_time DESC", EntityType::kAttribute, "start_time", false},
      // Directions are case-insensitive; spacing is free.
      {kRuns, "metrics.rmse desc", EntityType::kMetric, "rmse", false},
      {kRuns, "metrics.rmse Asc", EntityType::kMetric, "rmse", true},
      {kRuns, "  metrics.rmse\tDESC  ", EntityType::kMetric, "rmse", false},
      // Quoting and dotted keys.
      {kRuns, "metrics.`model loss` DESC", EntityType::kMetric, "model loss", false},
      {kRuns, "metrics.\"model loss\"", EntityType::kMetric, "model loss", true},
      {kRuns, "`tags`.`mlflow.runName`", EntityType::kTag, "mlflow.runName", true},
      {kRuns, "tags.mlflow.runName DESC", EntityType::kTag, "mlflow.runName", false},
      {kRuns, "metric.m", EntityType::kMetric, "m", true},
      {kRuns, "parameters.p", EntityType::kParam, "p", true},
      {kRuns, "tag.t", EntityType::kTag, "t", true},
      // Run attributes and aliases.
      {kRuns, "start_time", EntityType::kAttribute, "start_time", true},
      {kRuns, "end_time DESC", EntityType::kAttribute, "end_time", false},
      {kRuns, "created DESC", EntityType::kAttribute, "start_time", false},
      {kRuns, "attributes.Created", EntityType::kAttribute, "start_time", true},
      {kRuns, "run_id", EntityType::kAttribute, "run_id", true},
      {kRuns, "attr.run_name", EntityType::kAttribute, "run_name", true},
      {kRuns, "`Run Name` DESC", EntityType::kAttribute, "run_name", false},
      {kRuns, "status", EntityType::kAttribute, "status", true},
      {kRuns, "user_id", EntityType::kAttribute, "user_id", true},
      {kRuns, "run.artifact_uri", EntityType::kAttribute, "artifact_uri", true},
      // Experiments.
      {kExperiments, "name", EntityType::kAttribute, "name", true},
      {kExperiments, "experiment_id DESC", EntityType::kAttribute, "experiment_id", false},
      {kExperiments, "attribute.creation_time", EntityType::kAttribute, "creation_time", true},
      {kExperiments, "last_update_time desc", EntityType::kAttribute, "last_update_time", false},
      // Registered models.
      {kModels, "name DESC", EntityType::kAttribute, "name", false},
      {kModels, "timestamp", EntityType::kAttribute, "creation_timestamp", true},
      {kModels, "timestamp DESC", EntityType::kAttribute, "creation_timestamp", false},
      {kModels, "creation_timestamp", EntityType::kAttribute, "creation_timestamp", true},
      {kModels, "last_updated_timestamp ASC", EntityType::kAttribute, "last_updated_timestamp",
       true},
      // Model versions.
      {kVersions, "name", EntityType::kAttribute, "name", true},
      {kVersions, "version_number DESC", EntityType::kAttribute, "version_number", false},
      {kVersions, "creation_timestamp", EntityType::kAttribute, "creation_timestamp", true},
      {kVersions, "last_updated_timestamp", EntityType::kAttribute, "last_updated_timestamp", true},
  };
  for (const OrderCase& test_case : cases) {
    SCOPED_TRACE(fmt::format("[{}] {}", KindName(test_case.kind), test_case.order_by));
    auto parsed = ParseOrderBy(test_case.order_by, test_case.kind);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(parsed->entity, test_case.entity);
    EXPECT_EQ(parsed->key, test_case.key);
    EXPECT_EQ(parsed->ascending, test_case.ascending);
  }
}

TEST(SearchFilterTest, RejectsInvalidOrderBy) {
  const std::vector<ErrorCase> cases = {
      {kRuns, "", "Invalid order_by clause ''"},
      {kRuns, "   ", "Invalid order_by clause"},
      {kRuns, "metrics.rmse UP", "Invalid order_by clause 'metrics.rmse UP'"},
      {kRuns, "metrics.rmse DESC ASC", "Invalid order_by clause"},
      {kRuns, "metrics.rmse DESC, params.a", "Invalid order_by clause"},
      {kRuns, "metrics.rmse DESC;", "Invalid order_by clause"},
      {kRuns, "DESC", "Invalid order_by clause"},
      {kRuns, "(metrics.rmse)", "Invalid order_by clause"},
      {kRuns, "metrics.`rmse", "Unterminated quoted string"},
      {kRuns, "metrics.", "Invalid order_by clause"},
      {kRuns, "foo.bar", "Invalid entity type 'foo'"},
      {kRuns, "datasets.name", "Invalid entity type 'datasets'"},
      {kRuns, "lifecycle_stage", "Invalid attribute key 'lifecycle_stage'"},
      {kRuns, "experiment_id", "Invalid attribute key 'experiment_id'"},
      {kRuns, "rmse DESC", "Invalid attribute key 'rmse'"},
      {kExperiments, "tags.a", "Invalid entity type 'tags'"},
      {kExperiments, "status", "Invalid attribute key 'status'"},
      {kExperiments, "start_time", "Invalid attribute key 'start_time'"},
      {kModels, "version_number", "Invalid attribute key 'version_number'"},
      {kModels, "tags.a", "Invalid entity type 'tags'"},
      {kModels, "last_update_time", "Invalid attribute key 'last_update_time'"},
      {kVersions, "timestamp", "Invalid attribute key 'timestamp'"},
      {kVersions, "run_id", "Invalid attribute key 'run_id'"},
      {kVersions, "metrics.a", "Invalid entity type 'metrics'"},
  };
  for (const ErrorCase& test_case : cases) {
    SCOPED_TRACE(fmt::format("[{}] {}", KindName(test_case.kind), test_case.filter));
    auto parsed = ParseOrderBy(test_case.filter, test_case.kind);
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.status().code(), core::StatusCode::kInvalidArgument);
    EXPECT_NE(parsed.status().message().find(test_case.message_part), std::string::npos)
        << "message: " << parsed.status().message();
  }
  auto too_long = ParseOrderBy(std::string(kMaxSearchStringBytes + 1, 'a'), kRuns);
  ASSERT_FALSE(too_long.ok());
  EXPECT_NE(too_long.status().message().find("too long"), std::string::npos);
}

TEST(SearchFilterTest, ComparatorSql) {
  EXPECT_EQ(ComparatorSql(Comparator::kEq), "=");
  EXPECT_EQ(ComparatorSql(Comparator::kNotEq), "!=");
  EXPECT_EQ(ComparatorSql(Comparator::kGt), ">");
  EXPECT_EQ(ComparatorSql(Comparator::kGe), ">=");
  EXPECT_EQ(ComparatorSql(Comparator::kLt), "<");
  EXPECT_EQ(ComparatorSql(Comparator::kLe), "<=");
  EXPECT_EQ(ComparatorSql(Comparator::kLike), "LIKE");
  EXPECT_EQ(ComparatorSql(Comparator::kILike), "ILIKE");
  EXPECT_EQ(ComparatorSql(Comparator::kIn), "IN");
  EXPECT_EQ(ComparatorSql(Comparator::kNotIn), "NOT IN");
}

}  // namespace
}  // namespace lakeml::tracking
