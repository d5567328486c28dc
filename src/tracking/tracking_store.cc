#include "tracking/tracking_store.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>
#include <utility>

#include "core/ids.h"
#include "tracking/page_token.h"
#include "tracking/search_sql.h"
#include "tracking/validation.h"
#include "tracking/search_filter.h"

namespace lakeml::tracking {
namespace {

using metastore::Row;
using metastore::Transaction;
using metastore::Value;

constexpr std::string_view kActive = "active";
constexpr std::string_view kDeleted = "deleted";
constexpr std::string_view kRunNameTag = "mlflow.runName";
constexpr std::string_view kLoggedModelsTag = "mlflow.log-model.history";
constexpr int64_t kMaxSearchResults = 50000;
constexpr int64_t kMaxMetricHistoryPage = 25000;
constexpr size_t kMaxBulkIntervalRuns = 100;
constexpr int64_t kMaxBulkIntervalResults = 2500;
constexpr int64_t kMaxLoggedModelResults = 50;
// Keeps IN lists well below SQLite's and PostgreSQL's bound-parameter limits.
constexpr size_t kInListChunk = 500;

std::string_view RunStatusName(RunStatus status) {
  switch (status) {
    case RunStatus::kRunning:
      return "RUNNING";
    case RunStatus::kScheduled:
      return "SCHEDULED";
    case RunStatus::kFinished:
      return "FINISHED";
    case RunStatus::kFailed:
      return "FAILED";
    case RunStatus::kKilled:
      return "KILLED";
  }
  return "RUNNING";
}

RunStatus ParseRunStatus(const std::string& name) {
  if (name == "SCHEDULED") return RunStatus::kScheduled;
  if (name == "FINISHED") return RunStatus::kFinished;
  if (name == "FAILED") return RunStatus::kFailed;
  if (name == "KILLED") return RunStatus::kKilled;
  return RunStatus::kRunning;
}

LifecycleStage ParseStage(const std::string& stage) {
  return stage == kDeleted ? LifecycleStage::kDeleted : LifecycleStage::kActive;
}

std::string_view StagesSql(ViewType view_type) {
  switch (view_type) {
    case ViewType::kActiveOnly:
      return "('active')";
    case ViewType::kDeletedOnly:
      return "('deleted')";
    case ViewType::kAll:
      return "('active', 'deleted')";
  }
  return "('active')";
}

core::Result<int64_t> ParseExperimentId(const std::string& experiment_id) {
  const std::string& text = experiment_id.empty() ? std::string("0") : experiment_id;
  int64_t id = 0;
  size_t consumed = 0;
  bool ok = !text.empty() && text.size() <= 18 &&
            std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (ok) {
    id = std::stoll(text, &consumed);
    ok = consumed == text.size();
  }
  if (!ok) {
    return core::InvalidArgument(
        "Invalid experiment ID '{}'. Experiment ID must be a valid integer.", experiment_id);
  }
  return id;
}

// MLflow's append_to_uri_path: exactly one '/' between the parts.
std::string AppendUriPath(std::string base, std::string_view child) {
  if (base.empty()) return std::string(child);
  if (base.back() != '/') base += '/';
  while (!child.empty() && child.front() == '/') child.remove_prefix(1);
  base += child;
  return base;
}

// SQL cannot portably hold NaN or +-Inf: NaN is stored as 0 with is_nan = 1 and +-Inf as the
// largest finite double, exactly as MLflow stores them, so ordering stays correct.
std::pair<double, int64_t> EncodeMetricValue(double value) {
  if (std::isnan(value)) return {0.0, 1};
  if (std::isinf(value)) {
    return {value > 0 ? std::numeric_limits<double>::max() : -std::numeric_limits<double>::max(),
            0};
  }
  return {value, 0};
}

double DecodeMetricValue(double stored, bool is_nan) {
  if (is_nan) return std::numeric_limits<double>::quiet_NaN();
  if (stored == std::numeric_limits<double>::max()) return std::numeric_limits<double>::infinity();
  if (stored == -std::numeric_limits<double>::max()) {
    return -std::numeric_limits<double>::infinity();
  }
  return stored;
}

std::string Placeholders(size_t count) {
  std::string out;
  for (size_t i = 0; i < count; ++i) out += i == 0 ? "?" : ", ?";
  return out;
}

// Runs `head VALUES (row), (row), ... tail` over `values` (rows of `width` cells) in chunks of
// 100, 10 and 1 rows: few round trips, and at most three SQL texts per statement for the
// prepared-statement cache. Returns the total number of rows changed.
core::Result<int64_t> ExecuteChunked(Transaction& tx, std::string_view head, std::string_view tail,
                                     size_t width, const std::vector<Value>& values) {
  const std::string row = "(" + Placeholders(width) + ")";
  const size_t num_rows = values.size() / width;
  int64_t changed = 0;
  size_t next = 0;
  for (size_t chunk : {size_t{100}, size_t{10}, size_t{1}}) {
    if (num_rows - next < chunk) continue;
    std::string sql = fmt::format("{} VALUES {}", head, row);
    for (size_t i = 1; i < chunk; ++i) sql += ", " + row;
    sql += tail;
    while (num_rows - next >= chunk) {
      std::vector<Value> params(values.begin() + next * width,
                                values.begin() + (next + chunk) * width);
      LAKEML_ASSIGN_OR_RETURN(int64_t rows_changed, tx.Execute(sql, params));
      changed += rows_changed;
      next += chunk;
    }
  }
  return changed;
}

core::Status RunNotFound(const std::string& run_id) {
  return core::NotFound("Run with id={} not found", run_id);
}

struct RunState {
  int64_t experiment_id = 0;
  std::string lifecycle_stage;
};

core::Result<RunState> LoadRunState(Transaction& tx, const std::string& run_id) {
  LAKEML_ASSIGN_OR_RETURN(
      auto rows,
      tx.Query("SELECT experiment_id, lifecycle_stage FROM runs WHERE run_id = ?", {run_id}));
  if (rows.empty()) return RunNotFound(run_id);
  return RunState{rows[0].Int(0), rows[0].Text(1)};
}

core::Result<RunState> CheckRunActive(Transaction& tx, const std::string& run_id) {
  LAKEML_ASSIGN_OR_RETURN(RunState state, LoadRunState(tx, run_id));
  if (state.lifecycle_stage != kActive) {
    return core::InvalidArgument("The run {} must be in the 'active' state. Current state is {}.",
                                 run_id, state.lifecycle_stage);
  }
  return state;
}

constexpr std::string_view kExperimentColumns =
    "e.experiment_id, e.name, e.artifact_location, e.lifecycle_stage, e.creation_time, "
    "e.last_update_time";
constexpr size_t kExperimentColumnCount = 6;

Experiment ExperimentFromRow(const Row& row) {
  Experiment experiment;
  experiment.experiment_id = std::to_string(row.Int(0));
  experiment.name = row.Text(1);
  experiment.artifact_location = row.Text(2);
  experiment.lifecycle_stage = ParseStage(row.Text(3));
  experiment.creation_time = row.Int(4);
  experiment.last_update_time = row.Int(5);
  return experiment;
}

core::Result<std::optional<Experiment>> LoadExperiment(Transaction& tx, int64_t experiment_id) {
  LAKEML_ASSIGN_OR_RETURN(
      auto rows, tx.Query(fmt::format("SELECT {} FROM experiments e WHERE e.experiment_id = ?",
                                      kExperimentColumns),
                          {experiment_id}));
  if (rows.empty()) return std::optional<Experiment>();
  return std::optional<Experiment>(ExperimentFromRow(rows[0]));
}

core::Status ExperimentNotFound(int64_t experiment_id) {
  return core::NotFound("No Experiment with id={} exists", experiment_id);
}

core::Status ExperimentNotActive(const Experiment& experiment) {
  return core::InvalidArgument(
      "The experiment {} must be in the 'active' state. Current state is deleted.",
      experiment.experiment_id);
}

// Fills each experiment's tags with one query per chunk of ids.
core::Status LoadExperimentTags(Transaction& tx, std::vector<Experiment>& experiments) {
  std::unordered_map<std::string, Experiment*> by_id;
  for (Experiment& experiment : experiments) by_id[experiment.experiment_id] = &experiment;
  for (size_t start = 0; start < experiments.size(); start += kInListChunk) {
    const size_t count = std::min(kInListChunk, experiments.size() - start);
    std::vector<Value> ids;
    for (size_t i = 0; i < count; ++i) {
      ids.emplace_back(std::stoll(experiments[start + i].experiment_id));
    }
    LAKEML_ASSIGN_OR_RETURN(
        auto rows, tx.Query(fmt::format("SELECT experiment_id, key, value FROM experiment_tags "
                                        "WHERE experiment_id IN ({}) ORDER BY experiment_id, key",
                                        Placeholders(count)),
                            ids));
    for (const Row& row : rows) {
      auto it = by_id.find(std::to_string(row.Int(0)));
      if (it != by_id.end()) it->second->tags.push_back(Tag{row.Text(1), row.Text(2)});
    }
  }
  return core::Status::Ok();
}

constexpr std::string_view kRunColumns =
    "r.run_id, r.name, r.experiment_id, r.user_id, r.status, r.start_time, r.end_time, "
    "r.artifact_uri, r.lifecycle_stage";
constexpr size_t kRunColumnCount = 9;

RunInfo RunInfoFromRow(const Row& row) {
  RunInfo info;
  info.run_id = row.Text(0);
  info.run_name = row.Text(1);
  info.experiment_id = std::to_string(row.Int(2));
  info.user_id = row.Text(3);
  info.status = ParseRunStatus(row.Text(4));
  info.start_time = row.Int(5);
  info.end_time = row.OptionalInt(6);
  info.artifact_uri = row.Text(7);
  info.lifecycle_stage = ParseStage(row.Text(8));
  return info;
}

// Loads metrics, params, tags, inputs and outputs of `runs` with a fixed number of queries per
// chunk of run ids (never one query per run).
core::Status LoadRunDetails(Transaction& tx, std::vector<Run>& runs) {
  std::unordered_map<std::string, Run*> by_id;
  for (Run& run : runs) by_id[run.info.run_id] = &run;
  for (size_t start = 0; start < runs.size(); start += kInListChunk) {
    const size_t count = std::min(kInListChunk, runs.size() - start);
    std::vector<Value> ids;
    for (size_t i = 0; i < count; ++i) ids.emplace_back(runs[start + i].info.run_id);
    const std::string in_list = Placeholders(count);

    LAKEML_ASSIGN_OR_RETURN(
        auto metric_rows,
        tx.Query(fmt::format("SELECT run_id, key, value, is_nan, timestamp, step FROM "
                             "latest_metrics WHERE run_id IN ({}) ORDER BY run_id, key",
                             in_list),
                 ids));
    for (const Row& row : metric_rows) {
      Run* run = by_id[row.Text(0)];
      run->data.metrics.push_back(Metric{
          row.Text(1), DecodeMetricValue(row.Double(2), row.Int(3) != 0), row.Int(4), row.Int(5)});
    }
    LAKEML_ASSIGN_OR_RETURN(
        auto param_rows,
        tx.Query(fmt::format("SELECT run_id, key, value FROM params WHERE run_id IN ({}) "
                             "ORDER BY run_id, key",
                             in_list),
                 ids));
    for (const Row& row : param_rows) {
      by_id[row.Text(0)]->data.params.push_back(Param{row.Text(1), row.Text(2)});
    }
    LAKEML_ASSIGN_OR_RETURN(
        auto tag_rows,
        tx.Query(fmt::format("SELECT run_id, key, value FROM tags WHERE run_id IN ({}) "
                             "ORDER BY run_id, key",
                             in_list),
                 ids));
    for (const Row& row : tag_rows) {
      by_id[row.Text(0)]->data.tags.push_back(Tag{row.Text(1), row.Text(2)});
    }

    LAKEML_ASSIGN_OR_RETURN(
        auto input_rows,
        tx.Query(fmt::format(
                     "SELECT i.destination_id, i.input_uuid, i.source_type, i.source_id, d.name, "
                     "d.digest, d.source_type, d.source, d.schema, d.profile FROM inputs i "
                     "LEFT JOIN datasets d ON i.source_type = 'DATASET' AND d.dataset_uuid = "
                     "i.source_id WHERE i.destination_type = 'RUN' AND i.destination_id IN ({}) "
                     "ORDER BY i.destination_id, i.source_type, d.name, d.digest, i.source_id",
                     in_list),
                 ids));
    std::unordered_map<std::string, DatasetInput*> inputs_by_uuid;
    // Reserve first so the pointers taken below stay valid.
    std::unordered_map<std::string, size_t> dataset_counts;
    for (const Row& row : input_rows) {
      if (row.Text(2) == "DATASET") ++dataset_counts[row.Text(0)];
    }
    for (auto& [run_id, dataset_count] : dataset_counts) {
      by_id[run_id]->dataset_inputs.reserve(dataset_count);
    }
    for (const Row& row : input_rows) {
      Run* run = by_id[row.Text(0)];
      if (row.Text(2) == "MODEL") {
        run->model_inputs.push_back(row.Text(3));
        continue;
      }
      if (row.Text(2) != "DATASET" || row.IsNull(4)) continue;
      DatasetInput input;
      input.dataset.name = row.Text(4);
      input.dataset.digest = row.Text(5);
      input.dataset.source_type = row.Text(6);
      input.dataset.source = row.Text(7);
      input.dataset.schema = row.OptionalText(8);
      input.dataset.profile = row.OptionalText(9);
      run->dataset_inputs.push_back(std::move(input));
      inputs_by_uuid[row.Text(1)] = &run->dataset_inputs.back();
    }
    if (!inputs_by_uuid.empty()) {
      LAKEML_ASSIGN_OR_RETURN(
          auto input_tag_rows,
          tx.Query(fmt::format("SELECT t.input_uuid, t.name, t.value FROM input_tags t JOIN "
                               "inputs i ON i.input_uuid = t.input_uuid WHERE "
                               "i.destination_type = 'RUN' AND i.destination_id IN ({}) "
                               "ORDER BY t.input_uuid, t.name",
                               in_list),
                   ids));
      for (const Row& row : input_tag_rows) {
        auto it = inputs_by_uuid.find(row.Text(0));
        if (it != inputs_by_uuid.end()) it->second->tags.push_back(Tag{row.Text(1), row.Text(2)});
      }
    }

    LAKEML_ASSIGN_OR_RETURN(
        auto output_rows,
        tx.Query(fmt::format("SELECT run_id, model_id, step FROM run_model_outputs WHERE run_id "
                             "IN ({}) ORDER BY run_id, step, model_id",
                             in_list),
                 ids));
    for (const Row& row : output_rows) {
      by_id[row.Text(0)]->model_outputs.push_back(ModelOutput{row.Text(1), row.Int(2)});
    }
  }
  return core::Status::Ok();
}

SortPosition ReadSortPosition(const Row& row, size_t column_idx,
                                        const SortKey& key) {
  SortPosition position;
  position.rank = row.Int(column_idx);
  if (position.rank != 0 || row.IsNull(column_idx + 1)) return position;
  switch (key.value_type) {
    case SortValueType::kText:
      position.value = row.Text(column_idx + 1);
      break;
    case SortValueType::kInteger:
      position.value = row.Int(column_idx + 1);
      break;
    case SortValueType::kReal:
      position.value = row.Double(column_idx + 1);
      break;
  }
  return position;
}

std::string ParamConflictMessage(const std::string& run_id, const std::string& key,
                                 const std::string& old_value, const std::string& new_value) {
  return fmt::format(
      "Changing param values is not allowed. Param with key='{}' was already logged with "
      "value='{}' for run ID='{}'. Attempted logging new value '{}'.",
      key, old_value, run_id, new_value);
}

// Checks and normalises one batch of run data before any database work: validation, limits,
// duplicate params (same key with different values is an error, identical pairs collapse),
// duplicate tags (last value wins, as MLflow does).
struct RunDataBatch {
  std::vector<Metric> metrics;
  std::vector<Param> params;
  std::vector<Tag> tags;
};

core::Result<RunDataBatch> PrepareBatch(const std::vector<Metric>& metrics,
                                        const std::vector<Param>& params,
                                        const std::vector<Tag>& tags, bool indexed_paths) {
  auto path = [indexed_paths](std::string_view kind, size_t idx) {
    return indexed_paths ? fmt::format("{}[{}]", kind, idx) : std::string();
  };
  for (size_t i = 0; i < metrics.size(); ++i) {
    LAKEML_RETURN_IF_ERROR(ValidateMetric(metrics[i], path("metrics", i)));
  }
  for (size_t i = 0; i < params.size(); ++i) {
    LAKEML_RETURN_IF_ERROR(ValidateParam(params[i], path("params", i)));
  }
  for (size_t i = 0; i < tags.size(); ++i) {
    LAKEML_RETURN_IF_ERROR(ValidateRunTag(tags[i], path("tags", i)));
    if (tags[i].key == kRunNameTag) {
      LAKEML_RETURN_IF_ERROR(ValidateRunName(tags[i].value));
    }
  }
  RunDataBatch batch;
  std::map<std::string, const std::string*> param_values;
  for (const Param& param : params) {
    auto [it, inserted] = param_values.emplace(param.key, &param.value);
    if (inserted) {
      batch.params.push_back(param);
    } else if (*it->second != param.value) {
      return core::InvalidArgument(
          "Duplicate parameter keys have been submitted: ['{}']. Please ensure the request "
          "contains only one param value per param key.",
          param.key);
    }
  }
  std::map<std::string, size_t> tag_index;
  for (const Tag& tag : tags) {
    auto [it, inserted] = tag_index.emplace(tag.key, batch.tags.size());
    if (inserted) {
      batch.tags.push_back(tag);
    } else {
      batch.tags[it->second].value = tag.value;
    }
  }
  batch.metrics = metrics;
  return batch;
}

// Writes a prepared batch to an active run of experiment `experiment_id` inside the caller's
// transaction.
core::Status WriteRunData(Transaction& tx, const std::string& run_id, int64_t experiment_id,
                          const RunDataBatch& batch) {
  if (!batch.params.empty()) {
    std::map<std::string, std::string> existing;
    if (batch.params.size() == 1) {
      LAKEML_ASSIGN_OR_RETURN(auto rows,
                              tx.Query("SELECT key, value FROM params WHERE run_id = ? AND key = ?",
                                       {run_id, batch.params[0].key}));
      for (const Row& row : rows) existing[row.Text(0)] = row.Text(1);
    } else {
      LAKEML_ASSIGN_OR_RETURN(auto rows,
                              tx.Query("SELECT key, value FROM params WHERE run_id = ?", {run_id}));
      for (const Row& row : rows) existing[row.Text(0)] = row.Text(1);
    }
    std::vector<Value> values;
    size_t new_count = 0;
    for (const Param& param : batch.params) {
      auto it = existing.find(param.key);
      if (it != existing.end()) {
        if (it->second != param.value) {
          return core::InvalidArgument(
              "{}", ParamConflictMessage(run_id, param.key, it->second, param.value));
        }
        continue;
      }
      values.insert(values.end(), {run_id, param.key, param.value});
      ++new_count;
    }
    if (new_count > 0) {
      LAKEML_ASSIGN_OR_RETURN(int64_t inserted,
                              ExecuteChunked(tx, "INSERT INTO params (run_id, key, value)",
                                             " ON CONFLICT DO NOTHING", 3, values));
      // Fewer rows means a concurrent writer logged one of these keys after our read; retry so
      // the rerun compares against its value.
      if (inserted != static_cast<int64_t>(new_count)) {
        return core::Aborted("concurrent param write on run '{}'", run_id);
      }
    }
  }

  if (!batch.metrics.empty()) {
    std::vector<Value> history;
    history.reserve(batch.metrics.size() * 6);
    // Newest point per key by (step, timestamp, stored value), as MLflow's latest_metrics.
    std::map<std::string, std::tuple<int64_t, int64_t, double, int64_t>> latest;
    for (const Metric& metric : batch.metrics) {
      const auto [stored, is_nan] = EncodeMetricValue(metric.value);
      history.insert(history.end(),
                     {run_id, metric.key, stored, is_nan, metric.timestamp, metric.step});
      auto candidate = std::make_tuple(metric.step, metric.timestamp, stored, is_nan);
      auto [it, inserted] = latest.emplace(metric.key, candidate);
      if (!inserted && std::make_tuple(metric.step, metric.timestamp, stored) >
                           std::make_tuple(std::get<0>(it->second), std::get<1>(it->second),
                                           std::get<2>(it->second))) {
        it->second = candidate;
      }
    }
    // Exact duplicates (same key, step, timestamp, value) collapse onto the primary key.
    LAKEML_RETURN_IF_ERROR(
        ExecuteChunked(tx, "INSERT INTO metrics (run_id, key, value, is_nan, timestamp, step)",
                       " ON CONFLICT DO NOTHING", 6, history)
            .status());
    std::vector<Value> latest_values;
    for (const auto& [key, point] : latest) {
      latest_values.insert(latest_values.end(),
                           {run_id, experiment_id, key, std::get<2>(point), std::get<3>(point),
                            std::get<1>(point), std::get<0>(point)});
    }
    LAKEML_RETURN_IF_ERROR(
        ExecuteChunked(
            tx,
            "INSERT INTO latest_metrics (run_id, experiment_id, key, value, is_nan, timestamp, "
            "step)",
            " ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value, is_nan = "
            "excluded.is_nan, timestamp = excluded.timestamp, step = excluded.step WHERE "
            "excluded.step > latest_metrics.step OR (excluded.step = latest_metrics.step AND "
            "excluded.timestamp > latest_metrics.timestamp) OR (excluded.step = "
            "latest_metrics.step AND excluded.timestamp = latest_metrics.timestamp AND "
            "excluded.value > latest_metrics.value)",
            7, latest_values)
            .status());
  }

  if (!batch.tags.empty()) {
    std::vector<Value> values;
    for (const Tag& tag : batch.tags) {
      values.insert(values.end(), {run_id, tag.key, tag.value});
      if (tag.key == kRunNameTag) {
        // The runs.name column mirrors the tag, as MLflow's set_tag -> update_run_info does.
        LAKEML_RETURN_IF_ERROR(
            tx.Execute("UPDATE runs SET name = ? WHERE run_id = ?", {tag.value, run_id}).status());
      }
    }
    LAKEML_RETURN_IF_ERROR(
        ExecuteChunked(tx, "INSERT INTO tags (run_id, key, value)",
                       " ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value", 3, values)
            .status());
  }
  return core::Status::Ok();
}

core::Status ValidateMaxResults(int64_t max_results, int64_t limit) {
  if (max_results < 1 || max_results > limit) {
    return core::InvalidArgument(
        "Invalid value {} for parameter 'max_results' supplied. It must be at most {}, and at "
        "least 1.",
        max_results, limit);
  }
  return core::Status::Ok();
}

}  // namespace

TrackingStore::TrackingStore(metastore::Database& db, const core::Clock& clock,
                             std::string default_artifact_root)
    : db_(db), clock_(clock), default_artifact_root_(std::move(default_artifact_root)) {}

core::Status TrackingStore::Initialize() {
  const int64_t now = clock_.NowMillis();
  const std::string location = AppendUriPath(default_artifact_root_, "0");
  return db_.Write([&](Transaction& tx) -> core::Status {
    return tx
        .Execute(
            "INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, "
            "creation_time, last_update_time) VALUES (0, 'Default', ?, 'active', ?, ?) "
            "ON CONFLICT DO NOTHING",
            {location, now, now})
        .status();
  });
}

// ---------------------------------------------------------------------------------------------
// Experiments

core::Result<std::string> TrackingStore::CreateExperiment(const std::string& name,
                                                          const std::string& artifact_location,
                                                          const std::vector<Tag>& tags) {
  LAKEML_RETURN_IF_ERROR(ValidateExperimentName(name));
  LAKEML_RETURN_IF_ERROR(ValidateArtifactLocation(artifact_location));
  for (const Tag& tag : tags) LAKEML_RETURN_IF_ERROR(ValidateExperimentTag(tag));
  const int64_t now = clock_.NowMillis();
  int64_t experiment_id = 0;
  const core::Status db_status = db_.Write([&](Transaction& tx) -> core::Status {
    LAKEML_ASSIGN_OR_RETURN(
        auto existing, tx.Query("SELECT experiment_id FROM experiments WHERE name = ?", {name}));
    if (!existing.empty()) return core::AlreadyExists("experiment '{}' already exists", name);
    LAKEML_ASSIGN_OR_RETURN(auto max_rows, tx.Query("SELECT MAX(experiment_id) FROM experiments"));
    experiment_id = max_rows.empty() || max_rows[0].IsNull(0) ? 1 : max_rows[0].Int(0) + 1;
    // The Default experiment owns id 0 even before Initialize() ran.
    if (experiment_id < 1) experiment_id = 1;
    const std::string location =
        artifact_location.empty()
            ? AppendUriPath(default_artifact_root_, std::to_string(experiment_id))
            : artifact_location;
    auto inserted = tx.Execute(
        "INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, "
        "creation_time, last_update_time) VALUES (?, ?, ?, 'active', ?, ?)",
        {experiment_id, name, location, now, now});
    if (inserted.status().code() == core::StatusCode::kAlreadyExists) {
      // Another writer took this id or name between our read and insert (PostgreSQL);
      // kAborted makes Database::Write rerun us, and the rerun sees the winner.
      return core::Aborted("experiment id {} raced with a concurrent create", experiment_id);
    }
    LAKEML_RETURN_IF_ERROR(inserted.status());
    std::map<std::string, std::string> unique_tags;
    for (const Tag& tag : tags) unique_tags[tag.key] = tag.value;
    std::vector<Value> values;
    for (const auto& [key, value] : unique_tags) {
      values.insert(values.end(), {experiment_id, key, value});
    }
    return ExecuteChunked(tx, "INSERT INTO experiment_tags (experiment_id, key, value)", "", 3,
                          values)
        .status();
  });
  if (!db_status.ok()) return db_status;
  return std::to_string(experiment_id);
}

core::Result<Experiment> TrackingStore::GetExperiment(const std::string& experiment_id) {
  LAKEML_ASSIGN_OR_RETURN(int64_t id, ParseExperimentId(experiment_id));
  std::vector<Experiment> found;
  const core::Status db_status = db_.Read([&](Transaction& tx) -> core::Status {
    found.clear();
    LAKEML_ASSIGN_OR_RETURN(auto experiment, LoadExperiment(tx, id));
    if (!experiment) return ExperimentNotFound(id);
    found.push_back(std::move(*experiment));
    return LoadExperimentTags(tx, found);
  });
  if (!db_status.ok()) return db_status;
  return std::move(found[0]);
}

core::Result<Experiment> TrackingStore::GetExperimentByName(const std::string& name) {
  std::vector<Experiment> found;
  const core::Status db_status = db_.Read([&](Transaction& tx) -> core::Status {
    found.clear();
    // Names are unique across lifecycle stages in this schema; the ORDER BY keeps "active
    // wins" true should that ever be relaxed.
    LAKEML_ASSIGN_OR_RETURN(
        auto rows, tx.Query(fmt::format("SELECT {} FROM experiments e WHERE e.name = ? ORDER BY "
                                        "CASE WHEN e.lifecycle_stage = 'active' THEN 0 ELSE 1 "
                                        "END LIMIT 1",
                                        kExperimentColumns),
                            {name}));
    if (rows.empty()) return core::NotFound("Could not find experiment with name '{}'", name);
    found.push_back(ExperimentFromRow(rows[0]));
    return LoadExperimentTags(tx, found);
  });
  if (!db_status.ok()) return db_status;
  return std::move(found[0]);
}

core::Result<Page<Experiment>> TrackingStore::SearchExperiments(
    const SearchExperimentsRequest& request) {
  LAKEML_RETURN_IF_ERROR(ValidateMaxResults(request.max_results, kMaxSearchResults));
  LAKEML_ASSIGN_OR_RETURN(auto clauses, ParseFilter(request.filter, SearchKind::kExperiments));
  LAKEML_ASSIGN_OR_RETURN(SqlFragment filter,
                          ExperimentFilterSql(clauses, db_.dialect()));
  LAKEML_ASSIGN_OR_RETURN(SortSpec sort, ExperimentSortSpec(request.order_by));
  std::vector<std::string> fingerprint_parts = {"experiments", request.filter,
                                                std::string(StagesSql(request.view_type))};
  fingerprint_parts.insert(fingerprint_parts.end(), sort.description.begin(),
                           sort.description.end());
  const uint64_t fingerprint = Fingerprint(fingerprint_parts);
  SqlFragment keyset;
  if (!request.page_token.empty()) {
    LAKEML_ASSIGN_OR_RETURN(
        PageCursor cursor,
        DecodePageToken(request.page_token, fingerprint, sort.keys.size()));
    keyset = KeysetSql(sort.keys, cursor.positions);
  }
  std::string sql = fmt::format(
      "SELECT {}{} FROM experiments e WHERE e.lifecycle_stage IN {}{}{}{}"
      " LIMIT ?",
      kExperimentColumns, SortColumnsSql(sort.keys), StagesSql(request.view_type),
      filter.sql, keyset.sql, OrderBySql(sort.keys));
  std::vector<Value> params = filter.params;
  params.insert(params.end(), keyset.params.begin(), keyset.params.end());
  params.emplace_back(request.max_results + 1);

  Page<Experiment> page;
  const core::Status db_status = db_.Read([&](Transaction& tx) -> core::Status {
    page = Page<Experiment>();
    LAKEML_ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
    const bool has_more = rows.size() > static_cast<size_t>(request.max_results);
    if (has_more) rows.erase(rows.begin() + request.max_results, rows.end());
    for (const Row& row : rows) page.items.push_back(ExperimentFromRow(row));
    if (has_more) {
      PageCursor cursor;
      cursor.fingerprint = fingerprint;
      for (size_t k = 0; k < sort.keys.size(); ++k) {
        cursor.positions.push_back(
            ReadSortPosition(rows.back(), kExperimentColumnCount + 2 * k, sort.keys[k]));
      }
      page.next_page_token = EncodePageToken(cursor);
    }
    return LoadExperimentTags(tx, page.items);
  });
  if (!db_status.ok()) return db_status;
  return page;
}

core::Status TrackingStore::RenameExperiment(const std::string& experiment_id,
                                             const std::string& new_name) {
  LAKEML_ASSIGN_OR_RETURN(int64_t id, ParseExperimentId(experiment_id));
  LAKEML_RETURN_IF_ERROR(ValidateExperimentName(new_name));
  const int64_t now = clock_.NowMillis();
  return db_.Write([&](Transaction& tx) -> core::Status {
    LAKEML_ASSIGN_OR_RETURN(auto experiment, LoadExperiment(tx, id));
    if (!experiment) return ExperimentNotFound(id);
    if (experiment->lifecycle_stage != LifecycleStage::kActive) {
      return core::FailedPrecondition("Cannot rename a non-active experiment.");
    }
    LAKEML_ASSIGN_OR_RETURN(
        auto same_name,
        tx.Query("SELECT experiment_id FROM experiments WHERE name = ?", {new_name}));
    if (!same_name.empty() && same_name[0].Int(0) != id) {
      return core::AlreadyExists("experiment '{}' already exists", new_name);
    }
    return tx
        .Execute("UPDATE experiments SET name = ?, last_update_time = ? WHERE experiment_id = ?",
                 {new_name, now, id})
        .status();
  });
}

core::Status TrackingStore::DeleteExperiment(const std::string& experiment_id) {
  LAKEML_ASSIGN_OR_RETURN(int64_t id, ParseExperimentId(experiment_id));
  const int64_t now = clock_.NowMillis();
  return db_.Write([&](Transaction& tx) -> core::Status {
    LAKEML_ASSIGN_OR_RETURN(auto experiment, LoadExperiment(tx, id));
    if (!experiment || experiment->lifecycle_stage != LifecycleStage::kActive) {
      return ExperimentNotFound(id);
    }
    LAKEML_RETURN_IF_ERROR(
        tx.Execute("UPDATE experiments SET lifecycle_stage = 'deleted', last_update_time = ? "
                   "WHERE experiment_id = ?",
                   {now, id})
            .status());
    // Runs deleted with the experiment carry its deletion time, so a restore brings back
    // exactly these and leaves runs that had been deleted on their own.
    return tx
        .Execute(
            "UPDATE runs SET lifecycle_stage = 'deleted', deleted_time = ? WHERE "
            "experiment_id = ? AND lifecycle_stage = 'active'",
            {now, id})
        .status();
  });
}

core::Status TrackingStore::RestoreExperiment(const std::string& experiment_id) {
  LAKEML_ASSIGN_OR_RETURN(int64_t id, ParseExperimentId(experiment_id));
  const int64_t now = clock_.NowMillis();
  return db_.Write([&](Transaction& tx) -> core::Status {
    LAKEML_ASSIGN_OR_RETURN(auto experiment, LoadExperiment(tx, id));
    if (!experiment || experiment->lifecycle_stage != LifecycleStage::kDeleted) {
      return ExperimentNotFound(id);
    }
    // While deleted an experiment cannot change, so last_update_time is its deletion time.
    LAKEML_RETURN_IF_ERROR(
        tx.Execute("UPDATE runs SET lifecycle_stage = 'active', deleted_time = NULL WHERE "
                   "experiment_id = ? AND lifecycle_stage = 'deleted' AND deleted_time = ?",
                   {id, experiment->last_update_time})
            .status());
    return tx
        .Execute(
            "UPDATE experiments SET lifecycle_stage = 'active', last_update_time = ? "
            "WHERE experiment_id = ?",
            {now, id})
        .status();
  });
}

core::Status TrackingStore::SetExperimentTag(const std::string& experiment_id, const Tag& tag) {
  LAKEML_ASSIGN_OR_RETURN(int64_t id, ParseExperimentId(experiment_id));
  LAKEML_RETURN_IF_ERROR(ValidateExperimentTag(tag));
  return db_.Write([&](Transaction& tx) -> core::Status {
    LAKEML_ASSIGN_OR_RETURN(auto experiment, LoadExperiment(tx, id));
    if (!experiment) return ExperimentNotFound(id);
    if (experiment->lifecycle_stage != LifecycleStage::kActive) {
      return ExperimentNotActive(*experiment);
    }
    return tx
        .Execute(
            "INSERT INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?) "
            "ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value",
            {id, tag.key, tag.value})
        .status();
  });
}

core::Status TrackingStore::DeleteExperimentTag(const std::string& experiment_id,
                                                const std::string& key) {
  LAKEML_ASSIGN_OR_RETURN(int64_t id, ParseExperimentId(experiment_id));
  return db_.Write([&](Transaction& tx) -> core::Status {
    LAKEML_ASSIGN_OR_RETURN(auto experiment, LoadExperiment(tx, id));
    if (!experiment) return ExperimentNotFound(id);
    if (experiment->lifecycle_stage != LifecycleStage::kActive) {
      return ExperimentNotActive(*experiment);
    }
    LAKEML_ASSIGN_OR_RETURN(
        int64_t deleted,
        tx.Execute("DELETE FROM experiment_tags WHERE experiment_id = ? AND key = ?", {id, key}));
    if (deleted == 0) {
      return core::NotFound("No tag with name: {} in experiment with id {}", key, id);
    }
    return core::Status::Ok();
  });
}

// ---------------------------------------------------------------------------------------------
// Runs

core::Result<Run> TrackingStore::CreateRun(const CreateRunRequest& request) {
  LAKEML_ASSIGN_OR_RETURN(int64_t experiment_id, ParseExperimentId(request.experiment_id));
  std::optional<std::string> name_tag;
  for (size_t i = 0; i < request.tags.size(); ++i) {
    if (request.tags[i].key == kRunNameTag) name_tag = request.tags[i].value;
  }
  if (request.run_name && !request.run_name->empty() && name_tag &&
      *request.run_name != *name_tag) {
    return core::InvalidArgument(
        "Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different "
        "values (run_name='{}', mlflow.runName='{}').",
        *request.run_name, *name_tag);
  }
  std::string run_name;
  if (request.run_name && !request.run_name->empty()) {
    run_name = *request.run_name;
  } else if (name_tag && !name_tag->empty()) {
    run_name = *name_tag;
  } else {
    run_name = core::GenerateRunName();
  }
  LAKEML_RETURN_IF_ERROR(ValidateRunName(run_name));
  std::vector<Tag> tags = request.tags;
  if (!name_tag) tags.push_back(Tag{std::string(kRunNameTag), run_name});
  LAKEML_ASSIGN_OR_RETURN(RunDataBatch batch, PrepareBatch({}, {}, tags, /*indexed_paths=*/true));

  Run run;
  run.info.run_id = core::NewRunId();
  run.info.run_name = run_name;
  run.info.experiment_id = std::to_string(experiment_id);
  run.info.user_id = request.user_id;
  run.info.status = RunStatus::kRunning;
  run.info.start_time = request.start_time.value_or(clock_.NowMillis());
  run.info.lifecycle_stage = LifecycleStage::kActive;
  const core::Status db_status = db_.Write([&](Transaction& tx) -> core::Status {
    LAKEML_ASSIGN_OR_RETURN(auto experiment, LoadExperiment(tx, experiment_id));
    if (!experiment) return ExperimentNotFound(experiment_id);
    if (experiment->lifecycle_stage != LifecycleStage::kActive) {
      return ExperimentNotActive(*experiment);
    }
    run.info.artifact_uri =
        AppendUriPath(AppendUriPath(experiment->artifact_location, run.info.run_id), "artifacts");
    LAKEML_RETURN_IF_ERROR(
        tx.Execute("INSERT INTO runs (run_id, experiment_id, name, user_id, status, start_time, "
                   "end_time, artifact_uri, lifecycle_stage, deleted_time) VALUES (?, ?, ?, ?, "
                   "'RUNNING', ?, NULL, ?, 'active', NULL)",
                   {run.info.run_id, experiment_id, run_name, run.info.user_id, run.info.start_time,
                    run.info.artifact_uri})
            .status());
    return WriteRunData(tx, run.info.run_id, experiment_id, batch);
  });
  if (!db_status.ok()) return db_status;
  run.data.tags = batch.tags;
  std::sort(run.data.tags.begin(), run.data.tags.end(),
            [](const Tag& a, const Tag& b) { return a.key < b.key; });
  return run;
}

core::Result<Run> TrackingStore::GetRun(const std::string& run_id) {
  std::vector<Run> runs;
  const core::Status db_status = db_.Read([&](Transaction& tx) -> core::Status {
    runs.clear();
    LAKEML_ASSIGN_OR_RETURN(
        auto rows,
        tx.Query(fmt::format("SELECT {} FROM runs r WHERE r.run_id = ?", kRunColumns), {run_id}));
    if (rows.empty()) return RunNotFound(run_id);
    runs.emplace_back();
    runs[0].info = RunInfoFromRow(rows[0]);
    return LoadRunDetails(tx, runs);
  });
  if (!db_status.ok()) return db_status;
  return std::move(runs[0]);
}

core::Result<RunInfo> TrackingStore::UpdateRun(const UpdateRunRequest& request) {
  if (request.run_name && !request.run_name->empty()) {
    LAKEML_RETURN_IF_ERROR(ValidateRunName(*request.run_name));
  }
  RunInfo info;
  const core::Status db_status = db_.Write([&](Transaction& tx) -> core::Status {
    LAKEML_ASSIGN_OR_RETURN(RunState run, CheckRunActive(tx, request.run_id));
    if (request.status) {
      LAKEML_RETURN_IF_ERROR(
          tx.Execute("UPDATE runs SET status = ? WHERE run_id = ?",
                     {std::string(RunStatusName(*request.status)), request.run_id})
              .status());
    }
    if (request.end_time) {
      LAKEML_RETURN_IF_ERROR(tx.Execute("UPDATE runs SET end_time = ? WHERE run_id = ?",
                                        {*request.end_time, request.run_id})
                                 .status());
    }
    if (request.run_name && !request.run_name->empty()) {
      RunDataBatch batch;
      batch.tags.push_back(Tag{std::string(kRunNameTag), *request.run_name});
      LAKEML_RETURN_IF_ERROR(WriteRunData(tx, request.run_id, run.experiment_id, batch));
    }
    LAKEML_ASSIGN_OR_RETURN(
        auto rows, tx.Query(fmt::format("SELECT {} FROM runs r WHERE r.run_id = ?", kRunColumns),
                            {request.run_id}));
    if (rows.empty()) return RunNotFound(request.run_id);
    info = RunInfoFromRow(rows[0]);
    return core::Status::Ok();
  });
  if (!db_status.ok()) return db_status;
  return info;
}

core::Status TrackingStore::DeleteRun(const std::string& run_id) {
  const int64_t now = clock_.NowMillis();
  return db_.Write([&](Transaction& tx) -> core::Status {
    LAKEML_RETURN_IF_ERROR(LoadRunState(tx, run_id).status());
    return tx
        .Execute("UPDATE runs SET lifecycle_stage = 'deleted', deleted_time = ? WHERE run_id = ?",
                 {now, run_id})
        .status();
  });
}

core::Status TrackingStore::RestoreRun(const std::string& run_id) {
  return db_.Write([&](Transaction& tx) -> core::Status {
    LAKEML_RETURN_IF_ERROR(LoadRunState(tx, run_id).status());
    return tx
        .Execute(
            "UPDATE runs SET lifecycle_stage = 'active', deleted_time = NULL WHERE "
            "run_id = ?",
            {run_id})
        .status();
  });
}

core::Result<Page<Run>> TrackingStore::SearchRuns(const SearchRunsRequest& request) {
  LAKEML_RETURN_IF_ERROR(ValidateMaxResults(request.max_results, kMaxSearchResults));
  std::vector<int64_t> experiment_ids;
  for (const std::string& id : request.experiment_ids) {
    LAKEML_ASSIGN_OR_RETURN(int64_t parsed, ParseExperimentId(id));
    experiment_ids.push_back(parsed);
  }
  std::sort(experiment_ids.begin(), experiment_ids.end());
  experiment_ids.erase(std::unique(experiment_ids.begin(), experiment_ids.end()),
                       experiment_ids.end());
  LAKEML_ASSIGN_OR_RETURN(auto clauses, ParseFilter(request.filter, SearchKind::kRuns));
  LAKEML_ASSIGN_OR_RETURN(SqlFragment filter,
                          RunFilterSql(clauses, db_.dialect()));
  LAKEML_ASSIGN_OR_RETURN(SortSpec sort, RunSortSpec(request.order_by));

  std::vector<std::string> fingerprint_parts = {"runs", request.filter,
                                                std::string(StagesSql(request.run_view_type))};
  for (int64_t id : experiment_ids) fingerprint_parts.push_back(std::to_string(id));
  fingerprint_parts.insert(fingerprint_parts.end(), sort.description.begin(),
                           sort.description.end());
  const uint64_t fingerprint = Fingerprint(fingerprint_parts);
  PageCursor after;
  if (!request.page_token.empty()) {
    LAKEML_ASSIGN_OR_RETURN(after,
                            DecodePageToken(request.page_token, fingerprint, sort.keys.size()));
  }
  Page<Run> page;
  if (experiment_ids.empty()) return page;

  const std::string_view stages = StagesSql(request.run_view_type);
  const std::vector<SqlFragment> statements =
      RunSearchStatements({kRunColumns, &experiment_ids, stages, &filter, &sort, &after.positions});
  const size_t wanted = static_cast<size_t>(request.max_results) + 1;

  const core::Status db_status = db_.Read([&](Transaction& tx) -> core::Status {
    page = Page<Run>();
    std::vector<Row> rows;
    for (const SqlFragment& statement : statements) {
      if (rows.size() >= wanted) break;
      std::vector<Value> params = statement.params;
      params.emplace_back(static_cast<int64_t>(wanted - rows.size()));
      LAKEML_ASSIGN_OR_RETURN(auto part, tx.Query(statement.sql, params));
      if (rows.empty()) {
        rows = std::move(part);
      } else {
        rows.insert(rows.end(), std::make_move_iterator(part.begin()),
                    std::make_move_iterator(part.end()));
      }
    }
    const bool has_more = rows.size() > static_cast<size_t>(request.max_results);
    if (has_more) rows.erase(rows.begin() + request.max_results, rows.end());
    page.items.reserve(rows.size());
    for (const Row& row : rows) {
      page.items.emplace_back();
      page.items.back().info = RunInfoFromRow(row);
    }
    if (has_more) {
      PageCursor cursor;
      cursor.fingerprint = fingerprint;
      for (size_t k = 0; k < sort.keys.size(); ++k) {
        cursor.positions.push_back(
            ReadSortPosition(rows.back(), kRunColumnCount + 2 * k, sort.keys[k]));
      }
      page.next_page_token = EncodePageToken(cursor);
    }
    return LoadRunDetails(tx, page.items);
  });
  if (!db_status.ok()) return db_status;
  return page;
}

// ---------------------------------------------------------------------------------------------
// Run data

core::Status TrackingStore::LogMetric(const std::string& run_id, const Metric& metric) {
  return LogBatch(run_id, {metric}, {}, {});
}

core::Status TrackingStore::LogParam(const std::string& run_id, const Param& param) {
  return LogBatch(run_id, {}, {param}, {});
}

core::Status TrackingStore::SetTag(const std::string& run_id, const Tag& tag) {
  return LogBatch(run_id, {}, {}, {tag});
}

core::Status TrackingStore::DeleteTag(const std::string& run_id, const std::string& key) {
  return db_.Write([&](Transaction& tx) -> core::Status {
    LAKEML_RETURN_IF_ERROR(CheckRunActive(tx, run_id).status());
    LAKEML_ASSIGN_OR_RETURN(
        int64_t deleted,
        tx.Execute("DELETE FROM tags WHERE run_id = ? AND key = ?", {run_id, key}));
    if (deleted == 0) return core::NotFound("No tag with name: {} in run with id {}", key, run_id);
    return core::Status::Ok();
  });
}

core::Status TrackingStore::LogBatch(const std::string& run_id, const std::vector<Metric>& metrics,
                                     const std::vector<Param>& params,
                                     const std::vector<Tag>& tags) {
  LAKEML_RETURN_IF_ERROR(ValidateBatchLimits(metrics.size(), params.size(), tags.size()));
  const bool single = metrics.size() + params.size() + tags.size() == 1;
  LAKEML_ASSIGN_OR_RETURN(RunDataBatch batch, PrepareBatch(metrics, params, tags, !single));
  return db_.Write([&](Transaction& tx) -> core::Status {
    LAKEML_ASSIGN_OR_RETURN(RunState run, CheckRunActive(tx, run_id));
    return WriteRunData(tx, run_id, run.experiment_id, batch);
  });
}

core::Status TrackingStore::LogModel(const std::string& run_id, const std::string& model_json) {
  nlohmann::json model = nlohmann::json::parse(model_json, nullptr, /*allow_exceptions=*/false);
  if (model.is_discarded() || !model.is_object()) {
    return core::InvalidArgument("Invalid value for parameter 'model_json': not a JSON object");
  }
  for (const char* field : {"artifact_path", "flavors", "utc_time_created", "run_id"}) {
    if (!model.contains(field)) {
      return core::InvalidArgument("Model json is missing mandatory fields: ['{}']", field);
    }
  }
  return db_.Write([&](Transaction& tx) -> core::Status {
    LAKEML_ASSIGN_OR_RETURN(RunState run, CheckRunActive(tx, run_id));
    LAKEML_ASSIGN_OR_RETURN(auto rows,
                            tx.Query("SELECT value FROM tags WHERE run_id = ? AND key = ?",
                                     {run_id, std::string(kLoggedModelsTag)}));
    nlohmann::json history = nlohmann::json::array();
    if (!rows.empty()) {
      history = nlohmann::json::parse(rows[0].Text(0), nullptr, /*allow_exceptions=*/false);
      if (history.is_discarded() || !history.is_array()) {
        return core::Internal("run '{}' has a malformed '{}' tag", run_id, kLoggedModelsTag);
      }
    }
    history.push_back(model);
    RunDataBatch batch;
    batch.tags.push_back(
        Tag{std::string(kLoggedModelsTag),
            history.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)});
    LAKEML_RETURN_IF_ERROR(ValidateRunTag(batch.tags[0]));
    return WriteRunData(tx, run_id, run.experiment_id, batch);
  });
}

core::Status TrackingStore::LogInputs(const std::string& run_id,
                                      const std::vector<DatasetInput>& datasets,
                                      const std::vector<std::string>& model_ids) {
  std::vector<const DatasetInput*> unique_inputs;
  std::set<std::pair<std::string, std::string>> seen;
  for (const DatasetInput& input : datasets) {
    LAKEML_RETURN_IF_ERROR(ValidateDatasetInput(input));
    // MLflow keeps the first of several inputs with the same (name, digest).
    if (seen.emplace(input.dataset.name, input.dataset.digest).second) {
      unique_inputs.push_back(&input);
    }
  }
  for (const std::string& model_id : model_ids) {
    if (model_id.empty() || model_id.size() > 36) {
      return core::InvalidArgument("Invalid model id '{}'", model_id);
    }
  }
  return db_.Write([&](Transaction& tx) -> core::Status {
    LAKEML_ASSIGN_OR_RETURN(RunState run, CheckRunActive(tx, run_id));
    for (const DatasetInput* input : unique_inputs) {
      const Dataset& dataset = input->dataset;
      LAKEML_RETURN_IF_ERROR(
          tx.Execute("INSERT INTO datasets (dataset_uuid, experiment_id, name, digest, "
                     "source_type, source, schema, profile) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                     "ON CONFLICT DO NOTHING",
                     {core::NewRunId(), run.experiment_id, dataset.name, dataset.digest,
                      dataset.source_type, dataset.source,
                      dataset.schema ? Value(*dataset.schema) : Value(),
                      dataset.profile ? Value(*dataset.profile) : Value()})
              .status());
      LAKEML_ASSIGN_OR_RETURN(
          auto dataset_rows,
          tx.Query("SELECT dataset_uuid FROM datasets WHERE experiment_id = ? AND name = ? AND "
                   "digest = ?",
                   {run.experiment_id, dataset.name, dataset.digest}));
      if (dataset_rows.empty()) return core::Aborted("dataset '{}' vanished", dataset.name);
      const std::string dataset_uuid = dataset_rows[0].Text(0);
      const std::string input_uuid = core::NewRunId();
      LAKEML_ASSIGN_OR_RETURN(
          int64_t linked,
          tx.Execute("INSERT INTO inputs (input_uuid, source_type, source_id, destination_type, "
                     "destination_id) VALUES (?, 'DATASET', ?, 'RUN', ?) ON CONFLICT DO NOTHING",
                     {input_uuid, dataset_uuid, run_id}));
      // An existing link keeps its original tags: logging the same input again is a no-op.
      if (linked == 0 || input->tags.empty()) continue;
      std::map<std::string, std::string> unique_tags;
      for (const Tag& tag : input->tags) unique_tags[tag.key] = tag.value;
      std::vector<Value> values;
      for (const auto& [key, value] : unique_tags) {
        values.insert(values.end(), {input_uuid, key, value});
      }
      LAKEML_RETURN_IF_ERROR(
          ExecuteChunked(tx, "INSERT INTO input_tags (input_uuid, name, value)", "", 3, values)
              .status());
    }
    for (const std::string& model_id : model_ids) {
      LAKEML_RETURN_IF_ERROR(
          tx.Execute("INSERT INTO inputs (input_uuid, source_type, source_id, destination_type, "
                     "destination_id) VALUES (?, 'MODEL', ?, 'RUN', ?) ON CONFLICT DO NOTHING",
                     {core::NewRunId(), model_id, run_id})
              .status());
    }
    return core::Status::Ok();
  });
}

core::Status TrackingStore::LogOutputs(const std::string& run_id,
                                       const std::vector<ModelOutput>& models) {
  for (const ModelOutput& output : models) {
    if (output.model_id.empty() || output.model_id.size() > 40) {
      return core::InvalidArgument("Invalid model id '{}'", output.model_id);
    }
  }
  return db_.Write([&](Transaction& tx) -> core::Status {
    LAKEML_RETURN_IF_ERROR(CheckRunActive(tx, run_id).status());
    for (const ModelOutput& output : models) {
      LAKEML_RETURN_IF_ERROR(
          tx.Execute("INSERT INTO run_model_outputs (run_id, model_id, step) VALUES (?, ?, ?) "
                     "ON CONFLICT (run_id, model_id) DO UPDATE SET step = excluded.step",
                     {run_id, output.model_id, output.step})
              .status());
    }
    return core::Status::Ok();
  });
}

core::Result<std::vector<DatasetSummary>> TrackingStore::SearchDatasets(
    const std::vector<std::string>& experiment_ids) {
  // MLflow's limits for this UI call.
  constexpr size_t kMaxExperiments = 20;
  constexpr int kMaxSummaries = 1000;
  if (experiment_ids.empty() || experiment_ids.size() > kMaxExperiments) {
    return core::InvalidArgument("search-datasets takes 1 to {} experiment ids, got {}",
                                 kMaxExperiments, experiment_ids.size());
  }
  std::vector<Value> params;
  std::string placeholders;
  for (const std::string& experiment_id : experiment_ids) {
    LAKEML_ASSIGN_OR_RETURN(int64_t id, ParseExperimentId(experiment_id));
    params.emplace_back(id);
    placeholders += placeholders.empty() ? "?" : ", ?";
  }
  const std::string sql = fmt::format(
      "SELECT DISTINCT d.experiment_id, d.name, d.digest, t.value FROM datasets d "
      "JOIN inputs i ON i.source_type = 'DATASET' AND i.source_id = d.dataset_uuid "
      "LEFT JOIN input_tags t ON t.input_uuid = i.input_uuid AND t.name = 'mlflow.data.context' "
      "WHERE d.experiment_id IN ({}) ORDER BY d.experiment_id, d.name, d.digest, t.value LIMIT {}",
      placeholders, kMaxSummaries);
  std::vector<DatasetSummary> summaries;
  LAKEML_RETURN_IF_ERROR(db_.Read([&](Transaction& tx) -> core::Status {
    LAKEML_ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
    for (const Row& row : rows) {
      summaries.push_back({std::to_string(row.Int(0)), row.Text(1), row.Text(2), row.Text(3)});
    }
    return core::Status::Ok();
  }));
  return summaries;
}

core::Result<Page<Metric>> TrackingStore::GetMetricHistory(const MetricHistoryRequest& request) {
  if (request.max_results && *request.max_results < 1) {
    return core::InvalidArgument("Invalid value {} for parameter 'max_results' supplied.",
                                 *request.max_results);
  }
  const std::optional<int64_t> page_size =
      request.max_results
          ? std::optional<int64_t>(std::min(*request.max_results, kMaxMetricHistoryPage))
          : std::nullopt;
  // (step, timestamp, value, is_nan) is the history's primary key after (run_id, key), so the
  // order is total and the keyset condition walks the index.
  const std::vector<SortKey> keys = {
      {"", "step", true, SortValueType::kInteger},
      {"", "timestamp", true, SortValueType::kInteger},
      {"", "value", true, SortValueType::kReal},
      {"", "is_nan", true, SortValueType::kInteger}};
  const uint64_t fingerprint =
      Fingerprint({"metric-history", request.run_id, request.metric_key});
  SqlFragment keyset;
  if (!request.page_token.empty()) {
    LAKEML_ASSIGN_OR_RETURN(
        PageCursor cursor,
        DecodePageToken(request.page_token, fingerprint, keys.size()));
    keyset = KeysetSql(keys, cursor.positions);
  }
  std::string sql = fmt::format(
      "SELECT key, value, is_nan, timestamp, step FROM metrics WHERE run_id = ? AND key = ?{}{}",
      keyset.sql, OrderBySql(keys));
  std::vector<Value> params = {request.run_id, request.metric_key};
  params.insert(params.end(), keyset.params.begin(), keyset.params.end());
  if (page_size) {
    sql += " LIMIT ?";
    params.emplace_back(*page_size + 1);
  }
  Page<Metric> page;
  const core::Status db_status = db_.Read([&](Transaction& tx) -> core::Status {
    page = Page<Metric>();
    LAKEML_ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
    const bool has_more = page_size && rows.size() > static_cast<size_t>(*page_size);
    if (has_more) rows.erase(rows.begin() + *page_size, rows.end());
    page.items.reserve(rows.size());
    for (const Row& row : rows) {
      page.items.push_back(Metric{row.Text(0), DecodeMetricValue(row.Double(1), row.Int(2) != 0),
                                  row.Int(3), row.Int(4)});
    }
    if (has_more) {
      const Row& last = rows.back();
      PageCursor cursor;
      cursor.fingerprint = fingerprint;
      cursor.positions = {
          {0, last.Int(4)}, {0, last.Int(3)}, {0, last.Double(1)}, {0, last.Int(2)}};
      page.next_page_token = EncodePageToken(cursor);
    }
    return core::Status::Ok();
  });
  if (!db_status.ok()) return db_status;
  return page;
}

core::Result<std::vector<MetricWithRunId>> TrackingStore::GetMetricHistoryBulkInterval(
    const BulkIntervalRequest& request) {
  if (request.run_ids.empty() || request.run_ids.size() > kMaxBulkIntervalRuns) {
    return core::InvalidArgument(
        "GetMetricHistoryBulkInterval request must specify between 1 and {} run_ids.",
        kMaxBulkIntervalRuns);
  }
  if (request.max_results < 1 || request.max_results > kMaxBulkIntervalResults) {
    return core::InvalidArgument("max_results must be between 1 and {}.", kMaxBulkIntervalResults);
  }
  if (request.start_step.has_value() != request.end_step.has_value()) {
    return core::InvalidArgument(
        "If either start step or end step are specified, both must be specified.");
  }
  if (request.start_step && *request.start_step > *request.end_step) {
    return core::InvalidArgument("end_step must be greater than start_step.");
  }
  std::vector<std::string> run_ids = request.run_ids;
  std::sort(run_ids.begin(), run_ids.end());
  run_ids.erase(std::unique(run_ids.begin(), run_ids.end()), run_ids.end());
  std::vector<Value> key_and_runs = {request.metric_key};
  for (const std::string& run_id : run_ids) key_and_runs.emplace_back(run_id);
  const std::string in_list = Placeholders(run_ids.size());

  std::vector<MetricWithRunId> result;
  const core::Status db_status = db_.Read([&](Transaction& tx) -> core::Status {
    result.clear();
    LAKEML_ASSIGN_OR_RETURN(
        auto step_rows,
        tx.Query(fmt::format("SELECT DISTINCT step FROM metrics WHERE key = ? AND run_id IN ({}) "
                             "ORDER BY step",
                             in_list),
                 key_and_runs));
    if (step_rows.empty()) return core::Status::Ok();
    std::vector<int64_t> all_steps;
    all_steps.reserve(step_rows.size());
    for (const Row& row : step_rows) all_steps.push_back(row.Int(0));
    // Each run's first and last step is always kept so every line reaches its ends.
    LAKEML_ASSIGN_OR_RETURN(
        auto bound_rows,
        tx.Query(fmt::format("SELECT MIN(step), MAX(step) FROM metrics WHERE key = ? AND run_id "
                             "IN ({}) GROUP BY run_id",
                             in_list),
                 key_and_runs));
    // Unlike MLflow (which starts at step 0 when no range is given) negative steps are kept.
    const int64_t start_step = request.start_step.value_or(all_steps.front());
    const int64_t end_step = request.end_step.value_or(all_steps.back());
    std::set<int64_t> steps;
    for (const Row& row : bound_rows) {
      for (int64_t bound : {row.Int(0), row.Int(1)}) {
        if (bound >= start_step && bound <= end_step) steps.insert(bound);
      }
    }
    const auto first = std::lower_bound(all_steps.begin(), all_steps.end(), start_step);
    const auto last = std::upper_bound(all_steps.begin(), all_steps.end(), end_step);
    const size_t num_steps = static_cast<size_t>(last - first);
    if (num_steps == 0 && steps.empty()) return core::Status::Ok();
    if (num_steps <= static_cast<size_t>(request.max_results)) {
      steps.insert(first, last);
    } else {
      // Evenly spaced picks over the steps in range, plus the last one (MLflow's sampling).
      const double interval = static_cast<double>(num_steps) / request.max_results;
      for (int64_t i = 0; i < request.max_results; ++i) {
        const size_t offset = static_cast<size_t>(i * interval);
        if (offset < num_steps) steps.insert(*(first + offset));
      }
      steps.insert(*(last - 1));
    }
    std::vector<Value> step_params = {request.metric_key, Value()};
    for (int64_t step : steps) step_params.emplace_back(step);
    const std::string sql = fmt::format(
        "SELECT run_id, key, value, is_nan, timestamp, step FROM metrics WHERE key = ? AND "
        "run_id = ? AND step IN ({}) ORDER BY step, timestamp, value LIMIT {}",
        Placeholders(steps.size()), kMaxMetricHistoryPage);
    // Results follow the caller's run order, one query per run (at most 100).
    std::set<std::string> emitted;
    for (const std::string& run_id : request.run_ids) {
      if (!emitted.insert(run_id).second) continue;
      step_params[1] = run_id;
      LAKEML_ASSIGN_OR_RETURN(auto rows, tx.Query(sql, step_params));
      for (const Row& row : rows) {
        result.push_back(
            MetricWithRunId{Metric{row.Text(1), DecodeMetricValue(row.Double(2), row.Int(3) != 0),
                                   row.Int(4), row.Int(5)},
                            row.Text(0)});
      }
    }
    return core::Status::Ok();
  });
  if (!db_status.ok()) return db_status;
  return result;
}

// ---------------------------------------------------------------------------------------------
// Logged models

namespace {

constexpr std::string_view kLoggedModelColumns =
    "m.model_id, m.experiment_id, m.name, m.artifact_location, m.creation_timestamp_ms, "
    "m.last_updated_timestamp_ms, m.status, m.lifecycle_stage, m.model_type, m.source_run_id, "
    "m.status_message";
constexpr size_t kLoggedModelColumnCount = 11;

LoggedModel LoggedModelFromRow(const Row& row) {
  LoggedModel model;
  model.model_id = row.Text(0);
  model.experiment_id = std::to_string(row.Int(1));
  model.name = row.Text(2);
  model.artifact_uri = row.Text(3);
  model.creation_timestamp_ms = row.Int(4);
  model.last_updated_timestamp_ms = row.Int(5);
  const int64_t status = row.Int(6);
  model.status = status == 2   ? LoggedModelStatus::kReady
                 : status == 3 ? LoggedModelStatus::kUploadFailed
                               : LoggedModelStatus::kPending;
  model.model_type = row.Text(8);
  model.source_run_id = row.Text(9);
  model.status_message = row.Text(10);
  return model;
}

core::Status LoggedModelNotFound(const std::string& model_id) {
  return core::NotFound("Logged model with ID '{}' not found.", model_id);
}

// Any lifecycle stage: MLflow lets tag/param/finalize calls reach deleted models; only get and
// search hide them.
core::Result<LoggedModel> LoadLoggedModel(Transaction& tx, const std::string& model_id,
                                          bool include_deleted) {
  LAKEML_ASSIGN_OR_RETURN(
      auto rows, tx.Query(fmt::format("SELECT {} FROM logged_models m WHERE m.model_id = ?",
                                      kLoggedModelColumns),
                          {model_id}));
  if (rows.empty() || (!include_deleted && rows[0].Text(7) != kActive)) {
    return LoggedModelNotFound(model_id);
  }
  return LoggedModelFromRow(rows[0]);
}

core::Status LoadLoggedModelDetails(Transaction& tx, std::vector<LoggedModel>& models) {
  std::unordered_map<std::string, LoggedModel*> by_id;
  for (LoggedModel& model : models) by_id[model.model_id] = &model;
  for (size_t start = 0; start < models.size(); start += kInListChunk) {
    const size_t count = std::min(kInListChunk, models.size() - start);
    std::vector<Value> ids;
    for (size_t i = 0; i < count; ++i) ids.emplace_back(models[start + i].model_id);
    LAKEML_ASSIGN_OR_RETURN(
        auto tag_rows,
        tx.Query(fmt::format("SELECT model_id, key, value FROM logged_model_tags WHERE model_id "
                             "IN ({}) ORDER BY model_id, key",
                             Placeholders(count)),
                 ids));
    for (const Row& row : tag_rows) {
      by_id[row.Text(0)]->tags.push_back(Tag{row.Text(1), row.Text(2)});
    }
    LAKEML_ASSIGN_OR_RETURN(
        auto param_rows,
        tx.Query(fmt::format("SELECT model_id, key, value FROM logged_model_params WHERE "
                             "model_id IN ({}) ORDER BY model_id, key",
                             Placeholders(count)),
                 ids));
    for (const Row& row : param_rows) {
      by_id[row.Text(0)]->params.push_back(Param{row.Text(1), row.Text(2)});
    }
  }
  return core::Status::Ok();
}

core::Status WriteLoggedModelParams(Transaction& tx, const std::string& model_id,
                                    const std::vector<Param>& params) {
  for (const Param& param : params) {
    LAKEML_ASSIGN_OR_RETURN(
        int64_t inserted,
        tx.Execute("INSERT INTO logged_model_params (model_id, key, value) VALUES (?, ?, ?) "
                   "ON CONFLICT DO NOTHING",
                   {model_id, param.key, param.value}));
    if (inserted > 0) continue;
    LAKEML_ASSIGN_OR_RETURN(
        auto rows, tx.Query("SELECT value FROM logged_model_params WHERE model_id = ? AND key = ?",
                            {model_id, param.key}));
    if (!rows.empty() && rows[0].Text(0) != param.value) {
      return core::InvalidArgument(
          "Changing param values is not allowed. Param with key='{}' was already logged with "
          "value='{}' for model ID='{}'. Attempted logging new value '{}'.",
          param.key, rows[0].Text(0), model_id, param.value);
    }
  }
  return core::Status::Ok();
}

core::Status WriteLoggedModelTags(Transaction& tx, const std::string& model_id,
                                  const std::vector<Tag>& tags) {
  std::vector<Value> values;
  std::map<std::string, std::string> unique_tags;
  for (const Tag& tag : tags) unique_tags[tag.key] = tag.value;
  for (const auto& [key, value] : unique_tags) values.insert(values.end(), {model_id, key, value});
  return ExecuteChunked(tx, "INSERT INTO logged_model_tags (model_id, key, value)",
                        " ON CONFLICT (model_id, key) DO UPDATE SET value = excluded.value", 3,
                        values)
      .status();
}

}  // namespace

core::Result<LoggedModel> TrackingStore::CreateLoggedModel(
    const CreateLoggedModelRequest& request) {
  LAKEML_ASSIGN_OR_RETURN(int64_t experiment_id, ParseExperimentId(request.experiment_id));
  if (!request.name.empty())
    LAKEML_RETURN_IF_ERROR(ValidateLoggedModelName(request.name));
  for (const Param& param : request.params) LAKEML_RETURN_IF_ERROR(ValidateParam(param));
  for (const Tag& tag : request.tags) LAKEML_RETURN_IF_ERROR(ValidateRunTag(tag));
  std::map<std::string, const std::string*> param_values;
  for (const Param& param : request.params) {
    auto [it, inserted] = param_values.emplace(param.key, &param.value);
    if (!inserted && *it->second != param.value) {
      return core::InvalidArgument("Duplicate parameter keys have been submitted: ['{}'].",
                                   param.key);
    }
  }
  LoggedModel model;
  model.model_id = "m-" + core::RandomHex(32);
  model.experiment_id = std::to_string(experiment_id);
  model.name = request.name.empty() ? core::GenerateRunName() : request.name;
  model.creation_timestamp_ms = clock_.NowMillis();
  model.last_updated_timestamp_ms = model.creation_timestamp_ms;
  model.status = LoggedModelStatus::kPending;
  model.model_type = request.model_type;
  model.source_run_id = request.source_run_id;
  const core::Status db_status = db_.Write([&](Transaction& tx) -> core::Status {
    LAKEML_ASSIGN_OR_RETURN(auto experiment, LoadExperiment(tx, experiment_id));
    if (!experiment) return ExperimentNotFound(experiment_id);
    if (experiment->lifecycle_stage != LifecycleStage::kActive) {
      return ExperimentNotActive(*experiment);
    }
    model.artifact_uri = AppendUriPath(
        AppendUriPath(AppendUriPath(experiment->artifact_location, "models"), model.model_id),
        "artifacts");
    LAKEML_RETURN_IF_ERROR(
        tx.Execute("INSERT INTO logged_models (model_id, experiment_id, name, artifact_location, "
                   "creation_timestamp_ms, last_updated_timestamp_ms, status, lifecycle_stage, "
                   "model_type, source_run_id, status_message) VALUES (?, ?, ?, ?, ?, ?, 1, "
                   "'active', ?, ?, NULL)",
                   {model.model_id, experiment_id, model.name, model.artifact_uri,
                    model.creation_timestamp_ms, model.last_updated_timestamp_ms,
                    model.model_type.empty() ? Value() : Value(model.model_type),
                    model.source_run_id.empty() ? Value() : Value(model.source_run_id)})
            .status());
    LAKEML_RETURN_IF_ERROR(WriteLoggedModelParams(tx, model.model_id, request.params));
    return WriteLoggedModelTags(tx, model.model_id, request.tags);
  });
  if (!db_status.ok()) return db_status;
  std::vector<LoggedModel> models = {model};
  const core::Status read_status =
      db_.Read([&](Transaction& tx) { return LoadLoggedModelDetails(tx, models); });
  if (!read_status.ok()) return read_status;
  return std::move(models[0]);
}

core::Result<LoggedModel> TrackingStore::GetLoggedModel(const std::string& model_id) {
  std::vector<LoggedModel> models;
  const core::Status db_status = db_.Read([&](Transaction& tx) -> core::Status {
    models.clear();
    LAKEML_ASSIGN_OR_RETURN(LoggedModel model, LoadLoggedModel(tx, model_id, false));
    models.push_back(std::move(model));
    return LoadLoggedModelDetails(tx, models);
  });
  if (!db_status.ok()) return db_status;
  return std::move(models[0]);
}

core::Status TrackingStore::DeleteLoggedModel(const std::string& model_id) {
  const int64_t now = clock_.NowMillis();
  return db_.Write([&](Transaction& tx) -> core::Status {
    LAKEML_RETURN_IF_ERROR(LoadLoggedModel(tx, model_id, true).status());
    return tx
        .Execute(
            "UPDATE logged_models SET lifecycle_stage = 'deleted', "
            "last_updated_timestamp_ms = ? WHERE model_id = ?",
            {now, model_id})
        .status();
  });
}

core::Result<LoggedModel> TrackingStore::FinalizeLoggedModel(const std::string& model_id,
                                                             LoggedModelStatus status) {
  if (status != LoggedModelStatus::kReady && status != LoggedModelStatus::kUploadFailed) {
    return core::InvalidArgument(
        "Invalid status for finalizing logged model '{}': expected LOGGED_MODEL_READY or "
        "LOGGED_MODEL_UPLOAD_FAILED",
        model_id);
  }
  const int64_t now = clock_.NowMillis();
  const core::Status db_status = db_.Write([&](Transaction& tx) -> core::Status {
    LAKEML_RETURN_IF_ERROR(LoadLoggedModel(tx, model_id, true).status());
    return tx
        .Execute(
            "UPDATE logged_models SET status = ?, last_updated_timestamp_ms = ? WHERE "
            "model_id = ?",
            {static_cast<int64_t>(status), now, model_id})
        .status();
  });
  if (!db_status.ok()) return db_status;
  return GetLoggedModel(model_id);
}

core::Result<LoggedModel> TrackingStore::SetLoggedModelTags(const std::string& model_id,
                                                            const std::vector<Tag>& tags) {
  for (const Tag& tag : tags) LAKEML_RETURN_IF_ERROR(ValidateRunTag(tag));
  const core::Status db_status = db_.Write([&](Transaction& tx) -> core::Status {
    LAKEML_RETURN_IF_ERROR(LoadLoggedModel(tx, model_id, true).status());
    return WriteLoggedModelTags(tx, model_id, tags);
  });
  if (!db_status.ok()) return db_status;
  return GetLoggedModel(model_id);
}

core::Status TrackingStore::DeleteLoggedModelTag(const std::string& model_id,
                                                 const std::string& key) {
  return db_.Write([&](Transaction& tx) -> core::Status {
    LAKEML_RETURN_IF_ERROR(LoadLoggedModel(tx, model_id, true).status());
    LAKEML_ASSIGN_OR_RETURN(
        int64_t deleted, tx.Execute("DELETE FROM logged_model_tags WHERE model_id = ? AND key = ?",
                                    {model_id, key}));
    if (deleted == 0) {
      return core::NotFound("No tag with key '{}' found for model with ID '{}'.", key, model_id);
    }
    return core::Status::Ok();
  });
}

core::Status TrackingStore::LogLoggedModelParams(const std::string& model_id,
                                                 const std::vector<Param>& params) {
  for (const Param& param : params) LAKEML_RETURN_IF_ERROR(ValidateParam(param));
  return db_.Write([&](Transaction& tx) -> core::Status {
    LAKEML_RETURN_IF_ERROR(LoadLoggedModel(tx, model_id, true).status());
    return WriteLoggedModelParams(tx, model_id, params);
  });
}

core::Result<Page<LoggedModel>> TrackingStore::SearchLoggedModels(
    const SearchLoggedModelsRequest& request) {
  LAKEML_RETURN_IF_ERROR(ValidateMaxResults(request.max_results, kMaxLoggedModelResults));
  std::vector<int64_t> experiment_ids;
  for (const std::string& id : request.experiment_ids) {
    LAKEML_ASSIGN_OR_RETURN(int64_t parsed, ParseExperimentId(id));
    experiment_ids.push_back(parsed);
  }
  std::sort(experiment_ids.begin(), experiment_ids.end());
  experiment_ids.erase(std::unique(experiment_ids.begin(), experiment_ids.end()),
                       experiment_ids.end());
  std::vector<SortKey> keys;
  std::vector<std::string> fingerprint_parts = {"logged-models"};
  for (const LoggedModelOrder& order : request.order_by) {
    static const std::map<std::string, std::pair<std::string, SortValueType>, std::less<>>
        kColumns = {
            {"creation_timestamp", {"m.creation_timestamp_ms", SortValueType::kInteger}},
            {"last_updated_timestamp",
             {"m.last_updated_timestamp_ms", SortValueType::kInteger}},
            {"name", {"m.name", SortValueType::kText}},
            {"model_id", {"m.model_id", SortValueType::kText}},
        };
    auto column = kColumns.find(order.field_name);
    if (column == kColumns.end()) {
      return core::InvalidArgument(
          "Invalid order_by field '{}' for logged models: expected creation_timestamp, "
          "last_updated_timestamp, name or model_id",
          order.field_name);
    }
    keys.push_back({"", column->second.first, order.ascending, column->second.second});
    fingerprint_parts.push_back(order.field_name + (order.ascending ? " ASC" : " DESC"));
  }
  if (keys.empty()) {
    keys.push_back({"", "m.creation_timestamp_ms", false, SortValueType::kInteger});
  }
  // model_id makes every sort key unique, which keyset paging needs.
  keys.push_back({"", "m.model_id", true, SortValueType::kText});
  for (int64_t id : experiment_ids) fingerprint_parts.push_back(std::to_string(id));
  const uint64_t fingerprint = Fingerprint(fingerprint_parts);
  SqlFragment keyset;
  if (!request.page_token.empty()) {
    LAKEML_ASSIGN_OR_RETURN(
        PageCursor cursor,
        DecodePageToken(request.page_token, fingerprint, keys.size()));
    keyset = KeysetSql(keys, cursor.positions);
  }
  Page<LoggedModel> page;
  if (experiment_ids.empty()) return page;
  const std::string sql = fmt::format(
      "SELECT {}{} FROM logged_models m WHERE m.experiment_id IN ({}) AND m.lifecycle_stage = "
      "'active'{}{} LIMIT ?",
      kLoggedModelColumns, SortColumnsSql(keys), Placeholders(experiment_ids.size()),
      keyset.sql, OrderBySql(keys));
  std::vector<Value> params;
  for (int64_t id : experiment_ids) params.emplace_back(id);
  params.insert(params.end(), keyset.params.begin(), keyset.params.end());
  params.emplace_back(request.max_results + 1);
  const core::Status db_status = db_.Read([&](Transaction& tx) -> core::Status {
    page = Page<LoggedModel>();
    LAKEML_ASSIGN_OR_RETURN(auto rows, tx.Query(sql, params));
    const bool has_more = rows.size() > static_cast<size_t>(request.max_results);
    if (has_more) rows.erase(rows.begin() + request.max_results, rows.end());
    for (const Row& row : rows) page.items.push_back(LoggedModelFromRow(row));
    if (has_more) {
      PageCursor cursor;
      cursor.fingerprint = fingerprint;
      for (size_t k = 0; k < keys.size(); ++k) {
        cursor.positions.push_back(
            ReadSortPosition(rows.back(), kLoggedModelColumnCount + 2 * k, keys[k]));
      }
      page.next_page_token = EncodePageToken(cursor);
    }
    return LoadLoggedModelDetails(tx, page.items);
  });
  if (!db_status.ok()) return db_status;
  return page;
}

}  // namespace lakeml::tracking
