#include "tracking/tracking_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <map>
#include <set>

#include "core/ids.h"
#include "metastore/database.h"
#include "tracking/search_filter.h"
#include "tracking/search_sql.h"

namespace lakeml::tracking {
namespace {

#define LAKEML_ASSERT_OK(expr)                       \
  do {                                               \
    const ::lakeml::core::Status status_ = (expr);   \
    ASSERT_TRUE(status_.ok()) << status_.ToString(); \
  } while (false)

#define LAKEML_ASSERT_OK_AND_ASSIGN(lhs, expr)                  \
  auto LAKEML_CONCAT_(result_, __LINE__) = (expr);              \
  ASSERT_TRUE(LAKEML_CONCAT_(result_, __LINE__).ok())           \
      << LAKEML_CONCAT_(result_, __LINE__).status().ToString(); \
  lhs = std::move(LAKEML_CONCAT_(result_, __LINE__)).value()

#define LAKEML_EXPECT_CODE(expr, expected_code)                                                 \
  do {                                                                                          \
    const ::lakeml::core::Status status_ = (expr);                                              \
    EXPECT_EQ(status_.code(), ::lakeml::core::StatusCode::expected_code) << status_.ToString(); \
  } while (false)

class FakeClock final : public core::Clock {
 public:
  int64_t NowMillis() const override { return now_ms_.load(); }
  void Advance(int64_t delta_ms) { now_ms_ += delta_ms; }
  void Set(int64_t now_ms) { now_ms_ = now_ms; }

 private:
  std::atomic<int64_t> now_ms_{1'700'000'000'000};
};

enum class Backend { kSqlite, kPostgres };

std::string BackendName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "Sqlite" : "Postgres";
}

// Appends `options=-csearch_path=<schema>` to a libpq URI so each test gets its own schema.
std::string WithSearchPath(const std::string& uri, const std::string& schema) {
  const char separator = uri.find('?') == std::string::npos ? '?' : '&';
  return uri + separator + "options=-csearch_path%3D" + schema;
}

class TrackingStoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::kPostgres) {
      const char* uri = std::getenv("LAKEML_TEST_POSTGRES_URI");
      if (uri == nullptr || *uri == '\0') {
        const char* skip = std::getenv("LAKEML_SKIP_POSTGRES");
        if (skip != nullptr && std::string(skip) == "1") GTEST_SKIP() << "PostgreSQL skipped";
        FAIL() << "set LAKEML_TEST_POSTGRES_URI (scripts/start-postgres.sh) or "
                  "LAKEML_SKIP_POSTGRES=1";
      }
      // A fresh schema per test keeps tests independent even when ctest runs them in parallel.
      pg_schema_ = "tracking_test_" + core::RandomHex(12);
      auto admin = metastore::OpenDatabase(uri);
      ASSERT_TRUE(admin.ok()) << admin.status().ToString();
      LAKEML_ASSERT_OK((*admin)->Write([&](metastore::Transaction& tx) {
        return tx.Execute("CREATE SCHEMA " + pg_schema_).status();
      }));
      pg_admin_ = std::move(admin).value();
      db_uri_ = WithSearchPath(uri, pg_schema_);
    } else {
      db_path_ = std::filesystem::temp_directory_path() /
                 ("lakeml_tracking_test_" + core::RandomHex(12) + ".db");
      db_uri_ = "sqlite:///" + db_path_.string();
    }
    auto db = metastore::OpenDatabase(db_uri_);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    store_ = std::make_unique<TrackingStore>(*db_, clock_, "mlflow-artifacts:/");
    LAKEML_ASSERT_OK(store_->Initialize());
  }

  void TearDown() override {
    store_.reset();
    db_.reset();
    if (pg_admin_) {
      pg_admin_
          ->Write([&](metastore::Transaction& tx) {
            return tx.Execute("DROP SCHEMA " + pg_schema_ + " CASCADE").status();
          })
          .IgnoreError();  // best effort: the cluster is disposable
    }
    if (!db_path_.empty()) {
      std::error_code ignored;
      for (const char* suffix : {"", "-wal", "-shm"}) {
        std::filesystem::remove(db_path_.string() + suffix, ignored);
      }
    }
  }

  std::string NewExperiment(const std::string& name) {
    auto id = store_->CreateExperiment(name, "", {});
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : "";
  }

  tracking::Run NewRun(const std::string& experiment_id,
                       std::optional<int64_t> start_time = std::nullopt,
                       std::optional<std::string> run_name = std::nullopt) {
    CreateRunRequest request;
    request.experiment_id = experiment_id;
    request.user_id = "alice";
    request.start_time = start_time;
    request.run_name = run_name;
    auto run = store_->CreateRun(request);
    EXPECT_TRUE(run.ok()) << run.status().ToString();
    return run.ok() ? *run : tracking::Run{};
  }

  std::vector<std::string> SearchIds(const std::vector<std::string>& experiment_ids,
                                     const std::string& filter,
                                     const std::vector<std::string>& order_by = {},
                                     ViewType view = ViewType::kActiveOnly) {
    SearchRunsRequest request;
    request.experiment_ids = experiment_ids;
    request.filter = filter;
    request.order_by = order_by;
    request.run_view_type = view;
    auto page = store_->SearchRuns(request);
    EXPECT_TRUE(page.ok()) << filter << ": " << page.status().ToString();
    std::vector<std::string> ids;
    if (page.ok()) {
      for (const tracking::Run& run : page->items) ids.push_back(run.info.run_id);
    }
    return ids;
  }

  // Walks every page of size `page_size` and returns the run ids in order.
  std::vector<std::string> SearchAllPages(const std::vector<std::string>& experiment_ids,
                                          const std::string& filter,
                                          const std::vector<std::string>& order_by,
                                          int64_t page_size,
                                          ViewType view = ViewType::kActiveOnly) {
    SearchRunsRequest request;
    request.experiment_ids = experiment_ids;
    request.filter = filter;
    request.order_by = order_by;
    request.max_results = page_size;
    request.run_view_type = view;
    std::vector<std::string> ids;
    for (int guard = 0; guard < 1000; ++guard) {
      auto page = store_->SearchRuns(request);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok()) break;
      EXPECT_LE(page->items.size(), static_cast<size_t>(page_size));
      for (const tracking::Run& run : page->items) ids.push_back(run.info.run_id);
      if (page->next_page_token.empty()) break;
      request.page_token = page->next_page_token;
    }
    return ids;
  }

  FakeClock clock_;
  std::filesystem::path db_path_;
  std::string db_uri_;
  std::string pg_schema_;
  std::unique_ptr<metastore::Database> pg_admin_;
  std::unique_ptr<metastore::Database> db_;
  std::unique_ptr<TrackingStore> store_;
};

Metric M(const std::string& key, double value, int64_t timestamp = 1, int64_t step = 0) {
  return Metric{key, value, timestamp, step};
}

const Metric* FindMetric(const tracking::Run& run, const std::string& key) {
  for (const Metric& metric : run.data.metrics) {
    if (metric.key == key) return &metric;
  }
  return nullptr;
}

const Tag* FindTag(const std::vector<Tag>& tags, const std::string& key) {
  for (const Tag& tag : tags) {
    if (tag.key == key) return &tag;
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// Experiments

TEST_P(TrackingStoreTest, InitializeCreatesDefaultExperimentIdempotently) {
  LAKEML_ASSERT_OK(store_->Initialize());
  LAKEML_ASSERT_OK_AND_ASSIGN(Experiment experiment, store_->GetExperiment("0"));
  EXPECT_EQ(experiment.name, "Default");
  EXPECT_EQ(experiment.artifact_location, "mlflow-artifacts:/0");
  EXPECT_EQ(experiment.lifecycle_stage, LifecycleStage::kActive);
  EXPECT_EQ(experiment.creation_time, clock_.NowMillis());
}

TEST_P(TrackingStoreTest, CreateExperimentAllocatesIdsAndLocations) {
  LAKEML_ASSERT_OK_AND_ASSIGN(std::string id,
                              store_->CreateExperiment("exp", "", {{"team", "ml"}}));
  EXPECT_EQ(id, "1");
  LAKEML_ASSERT_OK_AND_ASSIGN(Experiment experiment, store_->GetExperiment(id));
  EXPECT_EQ(experiment.name, "exp");
  EXPECT_EQ(experiment.artifact_location, "mlflow-artifacts:/1");
  ASSERT_EQ(experiment.tags.size(), 1u);
  EXPECT_EQ(experiment.tags[0].key, "team");
  EXPECT_EQ(experiment.tags[0].value, "ml");

  TrackingStore no_slash(*db_, clock_, "/data/artifacts");
  LAKEML_ASSERT_OK_AND_ASSIGN(std::string id2, no_slash.CreateExperiment("exp2", "", {}));
  EXPECT_EQ(id2, "2");
  LAKEML_ASSERT_OK_AND_ASSIGN(Experiment experiment2, store_->GetExperiment(id2));
  EXPECT_EQ(experiment2.artifact_location, "/data/artifacts/2");

  LAKEML_ASSERT_OK_AND_ASSIGN(std::string id3,
                              store_->CreateExperiment("exp3", "s3://bucket/path", {}));
  LAKEML_ASSERT_OK_AND_ASSIGN(Experiment experiment3, store_->GetExperiment(id3));
  EXPECT_EQ(experiment3.artifact_location, "s3://bucket/path");
}

TEST_P(TrackingStoreTest, CreateExperimentRejectsDuplicatesEvenDeleted) {
  const std::string id = NewExperiment("dup");
  auto again = store_->CreateExperiment("dup", "", {});
  EXPECT_EQ(again.status().code(), core::StatusCode::kAlreadyExists);
  EXPECT_EQ(again.status().message(), "experiment 'dup' already exists");
  LAKEML_ASSERT_OK(store_->DeleteExperiment(id));
  LAKEML_EXPECT_CODE(store_->CreateExperiment("dup", "", {}).status(), kAlreadyExists);
}

TEST_P(TrackingStoreTest, CreateExperimentValidatesInput) {
  LAKEML_EXPECT_CODE(store_->CreateExperiment("", "", {}).status(), kInvalidArgument);
  LAKEML_EXPECT_CODE(store_->CreateExperiment(std::string(501, 'x'), "", {}).status(),
                     kInvalidArgument);
  LAKEML_ASSERT_OK(store_->CreateExperiment(std::string(500, 'x'), "", {}).status());
  for (const char* location : {"s3://b/p#frag", "http://h/p;params?x=1", "http://h/p?x=..%2F..",
                               "http://h/p?x=%252e%252e", "runs:/abc/model"}) {
    LAKEML_EXPECT_CODE(store_->CreateExperiment("bad-loc", location, {}).status(),
                       kInvalidArgument);
  }
  LAKEML_EXPECT_CODE(
      store_->CreateExperiment("long", "s3://" + std::string(3000, 'a'), {}).status(),
      kInvalidArgument);
  LAKEML_ASSERT_OK(store_->CreateExperiment("query-ok", "http://h/p?x=1", {}).status());
  LAKEML_EXPECT_CODE(store_->CreateExperiment("tag", "", {{"bad!key", "v"}}).status(),
                     kInvalidArgument);
  LAKEML_EXPECT_CODE(store_->CreateExperiment("tag2", "", {{"k", std::string(5001, 'v')}}).status(),
                     kInvalidArgument);
  // Failed creates leave nothing behind.
  LAKEML_EXPECT_CODE(store_->GetExperimentByName("tag").status(), kNotFound);
}

TEST_P(TrackingStoreTest, GetExperimentErrors) {
  auto missing = store_->GetExperiment("42");
  EXPECT_EQ(missing.status().code(), core::StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "No Experiment with id=42 exists");
  LAKEML_EXPECT_CODE(store_->GetExperiment("abc").status(), kInvalidArgument);
  LAKEML_EXPECT_CODE(store_->GetExperiment("-1").status(), kInvalidArgument);
}

TEST_P(TrackingStoreTest, GetExperimentByNameFindsActiveAndDeleted) {
  const std::string id = NewExperiment("named");
  LAKEML_ASSERT_OK_AND_ASSIGN(Experiment found, store_->GetExperimentByName("named"));
  EXPECT_EQ(found.experiment_id, id);
  LAKEML_ASSERT_OK(store_->DeleteExperiment(id));
  LAKEML_ASSERT_OK_AND_ASSIGN(Experiment deleted, store_->GetExperimentByName("named"));
  EXPECT_EQ(deleted.lifecycle_stage, LifecycleStage::kDeleted);
  auto missing = store_->GetExperimentByName("nope");
  EXPECT_EQ(missing.status().code(), core::StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "Could not find experiment with name 'nope'");
}

TEST_P(TrackingStoreTest, RenameExperiment) {
  const std::string id = NewExperiment("old");
  NewExperiment("taken");
  clock_.Advance(10);
  LAKEML_ASSERT_OK(store_->RenameExperiment(id, "new"));
  LAKEML_ASSERT_OK_AND_ASSIGN(Experiment experiment, store_->GetExperiment(id));
  EXPECT_EQ(experiment.name, "new");
  EXPECT_EQ(experiment.last_update_time, experiment.creation_time + 10);
  LAKEML_ASSERT_OK(store_->RenameExperiment(id, "new"));  // same name: no-op
  LAKEML_EXPECT_CODE(store_->RenameExperiment(id, "taken"), kAlreadyExists);
  LAKEML_EXPECT_CODE(store_->RenameExperiment(id, ""), kInvalidArgument);
  LAKEML_EXPECT_CODE(store_->RenameExperiment("99", "x"), kNotFound);
  LAKEML_ASSERT_OK(store_->DeleteExperiment(id));
  LAKEML_EXPECT_CODE(store_->RenameExperiment(id, "other"), kFailedPrecondition);
}

TEST_P(TrackingStoreTest, DeleteAndRestoreExperimentCascadeToRuns) {
  const std::string id = NewExperiment("cascade");
  const tracking::Run kept = NewRun(id);
  const tracking::Run deleted_alone = NewRun(id);
  clock_.Advance(5);
  LAKEML_ASSERT_OK(store_->DeleteRun(deleted_alone.info.run_id));
  clock_.Advance(5);
  LAKEML_ASSERT_OK(store_->DeleteExperiment(id));
  LAKEML_ASSERT_OK_AND_ASSIGN(Experiment experiment, store_->GetExperiment(id));
  EXPECT_EQ(experiment.lifecycle_stage, LifecycleStage::kDeleted);
  EXPECT_EQ(experiment.last_update_time, clock_.NowMillis());
  LAKEML_ASSERT_OK_AND_ASSIGN(tracking::Run run, store_->GetRun(kept.info.run_id));
  EXPECT_EQ(run.info.lifecycle_stage, LifecycleStage::kDeleted);
  LAKEML_EXPECT_CODE(store_->DeleteExperiment(id), kNotFound);
  LAKEML_EXPECT_CODE(store_->CreateRun({id, "u", std::nullopt, std::nullopt, {}}).status(),
                     kInvalidArgument);

  clock_.Advance(5);
  LAKEML_ASSERT_OK(store_->RestoreExperiment(id));
  LAKEML_ASSERT_OK_AND_ASSIGN(run, store_->GetRun(kept.info.run_id));
  EXPECT_EQ(run.info.lifecycle_stage, LifecycleStage::kActive);
  LAKEML_ASSERT_OK_AND_ASSIGN(run, store_->GetRun(deleted_alone.info.run_id));
  EXPECT_EQ(run.info.lifecycle_stage, LifecycleStage::kDeleted);
  LAKEML_EXPECT_CODE(store_->RestoreExperiment(id), kNotFound);
  LAKEML_EXPECT_CODE(store_->DeleteExperiment("77"), kNotFound);
}

TEST_P(TrackingStoreTest, DefaultExperimentCanBeDeleted) {
  LAKEML_ASSERT_OK(store_->DeleteExperiment("0"));
  LAKEML_ASSERT_OK(store_->RestoreExperiment("0"));
}

TEST_P(TrackingStoreTest, ExperimentTags) {
  const std::string id = NewExperiment("tags");
  LAKEML_ASSERT_OK(store_->SetExperimentTag(id, {"a", "1"}));
  LAKEML_ASSERT_OK(store_->SetExperimentTag(id, {"a", "2"}));
  LAKEML_ASSERT_OK(store_->SetExperimentTag(id, {"b", ""}));
  LAKEML_ASSERT_OK_AND_ASSIGN(Experiment experiment, store_->GetExperiment(id));
  ASSERT_EQ(experiment.tags.size(), 2u);
  EXPECT_EQ(FindTag(experiment.tags, "a")->value, "2");
  LAKEML_ASSERT_OK(store_->DeleteExperimentTag(id, "a"));
  LAKEML_EXPECT_CODE(store_->DeleteExperimentTag(id, "a"), kNotFound);
  LAKEML_EXPECT_CODE(store_->SetExperimentTag(id, {"../x", "v"}), kInvalidArgument);
  LAKEML_EXPECT_CODE(store_->SetExperimentTag("55", {"k", "v"}), kNotFound);
  LAKEML_ASSERT_OK(store_->DeleteExperiment(id));
  const core::Status status = store_->SetExperimentTag(id, {"k", "v"});
  EXPECT_EQ(status.code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("must be in the 'active' state"), std::string::npos);
  LAKEML_EXPECT_CODE(store_->DeleteExperimentTag(id, "b"), kInvalidArgument);
}

TEST_P(TrackingStoreTest, SearchExperimentsOrderFilterAndPages) {
  std::vector<std::string> ids = {"0"};
  for (int i = 0; i < 7; ++i) {
    clock_.Advance(i % 2);  // some equal creation times exercise the id tie-break
    ids.push_back(NewExperiment(fmt::format("Exp-{}", i)));
  }
  LAKEML_ASSERT_OK(store_->SetExperimentTag(ids[3], {"team", "ml"}));
  LAKEML_ASSERT_OK(store_->DeleteExperiment(ids[7]));

  SearchExperimentsRequest request;
  LAKEML_ASSERT_OK_AND_ASSIGN(Page<Experiment> page, store_->SearchExperiments(request));
  ASSERT_EQ(page.items.size(), 7u);  // Default + 6 active
  for (size_t i = 1; i < page.items.size(); ++i) {
    const Experiment& prev = page.items[i - 1];
    const Experiment& cur = page.items[i];
    EXPECT_TRUE(prev.creation_time > cur.creation_time ||
                (prev.creation_time == cur.creation_time &&
                 std::stoll(prev.experiment_id) < std::stoll(cur.experiment_id)));
  }
  std::vector<std::string> all_ids;
  for (const auto& e : page.items) all_ids.push_back(e.experiment_id);

  for (int64_t page_size : {1, 2, 3}) {
    request.max_results = page_size;
    request.page_token.clear();
    std::vector<std::string> walked;
    for (int guard = 0; guard < 100; ++guard) {
      LAKEML_ASSERT_OK_AND_ASSIGN(page, store_->SearchExperiments(request));
      for (const auto& e : page.items) walked.push_back(e.experiment_id);
      if (page.next_page_token.empty()) break;
      request.page_token = page.next_page_token;
    }
    EXPECT_EQ(walked, all_ids) << "page size " << page_size;
  }

  SearchExperimentsRequest filtered;
  filtered.filter = "name LIKE 'Exp-%'";
  LAKEML_ASSERT_OK_AND_ASSIGN(page, store_->SearchExperiments(filtered));
  EXPECT_EQ(page.items.size(), 6u);
  filtered.filter = "name LIKE 'exp-%'";  // LIKE is case-sensitive
  LAKEML_ASSERT_OK_AND_ASSIGN(page, store_->SearchExperiments(filtered));
  EXPECT_EQ(page.items.size(), 0u);
  filtered.filter = "name ILIKE 'exp-%'";
  LAKEML_ASSERT_OK_AND_ASSIGN(page, store_->SearchExperiments(filtered));
  EXPECT_EQ(page.items.size(), 6u);
  filtered.filter = "tags.team = 'ml'";
  LAKEML_ASSERT_OK_AND_ASSIGN(page, store_->SearchExperiments(filtered));
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].experiment_id, ids[3]);
  ASSERT_EQ(page.items[0].tags.size(), 1u);
  filtered.filter = fmt::format("creation_time > {}", clock_.NowMillis() - 1);
  LAKEML_ASSERT_OK_AND_ASSIGN(page, store_->SearchExperiments(filtered));
  EXPECT_GE(page.items.size(), 1u);

  SearchExperimentsRequest by_name;
  by_name.order_by = {"name DESC"};
  by_name.view_type = ViewType::kAll;
  LAKEML_ASSERT_OK_AND_ASSIGN(page, store_->SearchExperiments(by_name));
  ASSERT_EQ(page.items.size(), 8u);
  EXPECT_EQ(page.items[0].name, "Exp-6");
  EXPECT_EQ(page.items.back().name, "Default");
  by_name.view_type = ViewType::kDeletedOnly;
  LAKEML_ASSERT_OK_AND_ASSIGN(page, store_->SearchExperiments(by_name));
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].experiment_id, ids[7]);

  SearchExperimentsRequest bad;
  bad.max_results = 0;
  LAKEML_EXPECT_CODE(store_->SearchExperiments(bad).status(), kInvalidArgument);
  bad.max_results = 50001;
  LAKEML_EXPECT_CODE(store_->SearchExperiments(bad).status(), kInvalidArgument);
  bad.max_results = 50000;
  bad.page_token = "not-a-token!";
  auto bad_token = store_->SearchExperiments(bad);
  EXPECT_EQ(bad_token.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad_token.status().message(), "invalid page token");
  bad.page_token = "";
  bad.order_by = {"name", "name DESC"};
  LAKEML_EXPECT_CODE(store_->SearchExperiments(bad).status(), kInvalidArgument);
}

// ---------------------------------------------------------------------------------------------
// Runs

TEST_P(TrackingStoreTest, CreateRunDefaultsAndNames) {
  CreateRunRequest request;
  request.user_id = "bob";
  LAKEML_ASSERT_OK_AND_ASSIGN(tracking::Run run, store_->CreateRun(request));
  EXPECT_EQ(run.info.experiment_id, "0");
  EXPECT_EQ(run.info.run_id.size(), 32u);
  EXPECT_EQ(run.info.status, RunStatus::kRunning);
  EXPECT_EQ(run.info.start_time, clock_.NowMillis());
  EXPECT_FALSE(run.info.end_time.has_value());
  EXPECT_EQ(run.info.artifact_uri, "mlflow-artifacts:/0/" + run.info.run_id + "/artifacts");
  EXPECT_FALSE(run.info.run_name.empty());
  ASSERT_NE(FindTag(run.data.tags, "mlflow.runName"), nullptr);
  EXPECT_EQ(FindTag(run.data.tags, "mlflow.runName")->value, run.info.run_name);

  LAKEML_ASSERT_OK_AND_ASSIGN(tracking::Run fetched, store_->GetRun(run.info.run_id));
  EXPECT_EQ(fetched.info.run_name, run.info.run_name);
  EXPECT_EQ(fetched.info.user_id, "bob");
  EXPECT_EQ(fetched.info.artifact_uri, run.info.artifact_uri);

  request.tags = {{"mlflow.runName", "from-tag"}, {"k", "v"}};
  request.start_time = 123;
  LAKEML_ASSERT_OK_AND_ASSIGN(run, store_->CreateRun(request));
  EXPECT_EQ(run.info.run_name, "from-tag");
  EXPECT_EQ(run.info.start_time, 123);

  request.run_name = "from-arg";
  LAKEML_EXPECT_CODE(store_->CreateRun(request).status(), kInvalidArgument);
  request.tags = {{"mlflow.runName", "from-arg"}};
  LAKEML_ASSERT_OK_AND_ASSIGN(run, store_->CreateRun(request));
  EXPECT_EQ(run.info.run_name, "from-arg");
  request.tags = {};
  LAKEML_ASSERT_OK_AND_ASSIGN(run, store_->CreateRun(request));
  LAKEML_ASSERT_OK_AND_ASSIGN(fetched, store_->GetRun(run.info.run_id));
  EXPECT_EQ(FindTag(fetched.data.tags, "mlflow.runName")->value, "from-arg");

  request.experiment_id = "404";
  LAKEML_EXPECT_CODE(store_->CreateRun(request).status(), kNotFound);
  request.experiment_id = "0";
  request.tags = {{"bad key!", "v"}};
  LAKEML_EXPECT_CODE(store_->CreateRun(request).status(), kInvalidArgument);
}

TEST_P(TrackingStoreTest, GetRunUnknown) {
  auto missing = store_->GetRun("deadbeef");
  EXPECT_EQ(missing.status().code(), core::StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "Run with id=deadbeef not found");
}

TEST_P(TrackingStoreTest, UpdateRunAppliesOnlySetFields) {
  const tracking::Run run = NewRun("0", 10, "first");
  UpdateRunRequest request;
  request.run_id = run.info.run_id;
  request.status = RunStatus::kFinished;
  LAKEML_ASSERT_OK_AND_ASSIGN(RunInfo info, store_->UpdateRun(request));
  EXPECT_EQ(info.status, RunStatus::kFinished);
  EXPECT_FALSE(info.end_time.has_value());
  EXPECT_EQ(info.run_name, "first");

  request.status.reset();
  request.end_time = 99;
  request.run_name = "second";
  LAKEML_ASSERT_OK_AND_ASSIGN(info, store_->UpdateRun(request));
  EXPECT_EQ(info.status, RunStatus::kFinished);
  EXPECT_EQ(info.end_time, 99);
  EXPECT_EQ(info.run_name, "second");
  LAKEML_ASSERT_OK_AND_ASSIGN(tracking::Run fetched, store_->GetRun(run.info.run_id));
  EXPECT_EQ(FindTag(fetched.data.tags, "mlflow.runName")->value, "second");

  // Setting the tag renames the run too.
  LAKEML_ASSERT_OK(store_->SetTag(run.info.run_id, {"mlflow.runName", "third"}));
  LAKEML_ASSERT_OK_AND_ASSIGN(fetched, store_->GetRun(run.info.run_id));
  EXPECT_EQ(fetched.info.run_name, "third");

  request.run_id = "nope";
  LAKEML_EXPECT_CODE(store_->UpdateRun(request).status(), kNotFound);
  LAKEML_ASSERT_OK(store_->DeleteRun(run.info.run_id));
  request.run_id = run.info.run_id;
  LAKEML_EXPECT_CODE(store_->UpdateRun(request).status(), kInvalidArgument);
}

TEST_P(TrackingStoreTest, DeleteAndRestoreRun) {
  const tracking::Run run = NewRun("0");
  LAKEML_ASSERT_OK(store_->DeleteRun(run.info.run_id));
  LAKEML_ASSERT_OK_AND_ASSIGN(tracking::Run fetched, store_->GetRun(run.info.run_id));
  EXPECT_EQ(fetched.info.lifecycle_stage, LifecycleStage::kDeleted);
  EXPECT_EQ(SearchIds({"0"}, "").size(), 0u);
  EXPECT_EQ(SearchIds({"0"}, "", {}, ViewType::kDeletedOnly).size(), 1u);
  LAKEML_ASSERT_OK(store_->RestoreRun(run.info.run_id));
  LAKEML_ASSERT_OK_AND_ASSIGN(fetched, store_->GetRun(run.info.run_id));
  EXPECT_EQ(fetched.info.lifecycle_stage, LifecycleStage::kActive);
  LAKEML_EXPECT_CODE(store_->DeleteRun("missing"), kNotFound);
  LAKEML_EXPECT_CODE(store_->RestoreRun("missing"), kNotFound);
}

TEST_P(TrackingStoreTest, WritesToDeletedOrUnknownRunsFail) {
  const tracking::Run run = NewRun("0");
  const std::string& id = run.info.run_id;
  LAKEML_ASSERT_OK(store_->SetTag(id, {"t", "v"}));
  LAKEML_ASSERT_OK(store_->DeleteRun(id));
  const std::string expected =
      fmt::format("The run {} must be in the 'active' state. Current state is deleted.", id);
  for (const core::Status& status :
       {store_->LogMetric(id, M("m", 1)), store_->LogParam(id, {"p", "v"}),
        store_->SetTag(id, {"t", "v"}), store_->DeleteTag(id, "t"),
        store_->LogBatch(id, {M("m", 1)}, {}, {}),
        store_->LogModel(id, R"({"artifact_path":"m","flavors":{},"utc_time_created":"x",)"
                             R"("run_id":"r"})"),
        store_->LogInputs(id, {}, {"m-1"}), store_->LogOutputs(id, {{"m-1", 0}})}) {
    EXPECT_EQ(status.code(), core::StatusCode::kInvalidArgument) << status.ToString();
    EXPECT_EQ(status.message(), expected);
  }
  const core::Status unknown = store_->LogMetric("abc123", M("m", 1));
  EXPECT_EQ(unknown.code(), core::StatusCode::kNotFound);
  EXPECT_EQ(unknown.message(), "Run with id=abc123 not found");
}

TEST_P(TrackingStoreTest, ParamsAreWriteOnce) {
  const tracking::Run run = NewRun("0");
  const std::string& id = run.info.run_id;
  LAKEML_ASSERT_OK(store_->LogParam(id, {"alpha", "0.1"}));
  LAKEML_ASSERT_OK(store_->LogParam(id, {"alpha", "0.1"}));
  const core::Status changed = store_->LogParam(id, {"alpha", "0.2"});
  EXPECT_EQ(changed.code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(changed.message(),
            fmt::format("Changing param values is not allowed. Param with key='alpha' was "
                        "already logged with value='0.1' for run ID='{}'. Attempted logging new "
                        "value '0.2'.",
                        id));
  LAKEML_EXPECT_CODE(store_->LogBatch(id, {}, {{"alpha", "0.3"}, {"beta", "1"}}, {}),
                     kInvalidArgument);
  LAKEML_ASSERT_OK(store_->LogBatch(id, {}, {{"alpha", "0.1"}, {"beta", "1"}}, {}));
  LAKEML_ASSERT_OK_AND_ASSIGN(tracking::Run fetched, store_->GetRun(id));
  ASSERT_EQ(fetched.data.params.size(), 2u);
  EXPECT_EQ(fetched.data.params[0].key, "alpha");
  EXPECT_EQ(fetched.data.params[0].value, "0.1");
  EXPECT_EQ(fetched.data.params[1].key, "beta");
  LAKEML_ASSERT_OK(store_->LogParam(id, {"empty", ""}));
}

TEST_P(TrackingStoreTest, LogBatchIsAtomic) {
  const tracking::Run run = NewRun("0");
  const std::string& id = run.info.run_id;
  LAKEML_ASSERT_OK(store_->LogParam(id, {"p", "1"}));
  const core::Status status = store_->LogBatch(id, {M("loss", 0.5), M("acc", 0.9)},
                                               {{"q", "2"}, {"p", "changed"}}, {{"tag", "v"}});
  EXPECT_EQ(status.code(), core::StatusCode::kInvalidArgument);
  LAKEML_ASSERT_OK_AND_ASSIGN(tracking::Run fetched, store_->GetRun(id));
  EXPECT_TRUE(fetched.data.metrics.empty());
  EXPECT_EQ(fetched.data.params.size(), 1u);
  EXPECT_EQ(FindTag(fetched.data.tags, "tag"), nullptr);
  MetricHistoryRequest history{id, "loss", std::nullopt, ""};
  LAKEML_ASSERT_OK_AND_ASSIGN(Page<Metric> page, store_->GetMetricHistory(history));
  EXPECT_TRUE(page.items.empty());
}

TEST_P(TrackingStoreTest, LogBatchLimitsAndDuplicates) {
  const tracking::Run run = NewRun("0");
  const std::string& id = run.info.run_id;
  std::vector<Metric> metrics;
  for (int i = 0; i < 1001; ++i) metrics.push_back(M("m", i, i, i));
  LAKEML_EXPECT_CODE(store_->LogBatch(id, metrics, {}, {}), kInvalidArgument);
  metrics.pop_back();
  LAKEML_ASSERT_OK(store_->LogBatch(id, metrics, {}, {}));
  std::vector<Param> params;
  std::vector<Tag> tags;
  for (int i = 0; i < 101; ++i) {
    params.push_back({fmt::format("p{}", i), "v"});
    tags.push_back({fmt::format("t{}", i), "v"});
  }
  LAKEML_EXPECT_CODE(store_->LogBatch(id, {}, params, {}), kInvalidArgument);
  LAKEML_EXPECT_CODE(store_->LogBatch(id, {}, {}, tags), kInvalidArgument);
  params.pop_back();
  metrics.resize(901);
  LAKEML_EXPECT_CODE(store_->LogBatch(id, metrics, params, {}), kInvalidArgument);  // 1001 total

  LAKEML_EXPECT_CODE(store_->LogBatch(id, {}, {{"d", "1"}, {"d", "2"}}, {}), kInvalidArgument);
  LAKEML_ASSERT_OK(store_->LogBatch(id, {}, {{"d", "1"}, {"d", "1"}}, {}));
  LAKEML_ASSERT_OK(store_->LogBatch(id, {}, {}, {{"t", "1"}, {"t", "2"}}));
  LAKEML_ASSERT_OK_AND_ASSIGN(tracking::Run fetched, store_->GetRun(id));
  EXPECT_EQ(FindTag(fetched.data.tags, "t")->value, "2");
  ASSERT_NE(FindMetric(fetched, "m"), nullptr);
  EXPECT_EQ(FindMetric(fetched, "m")->step, 999);

  // Large batches of params and tags (chunked inserts) land completely.
  params.resize(100);
  tags.resize(100);
  LAKEML_ASSERT_OK(store_->LogBatch(id, {}, params, tags));
  LAKEML_ASSERT_OK_AND_ASSIGN(fetched, store_->GetRun(id));
  EXPECT_EQ(fetched.data.params.size(), 101u);
  EXPECT_EQ(fetched.data.tags.size(), 102u);  // + t + mlflow.runName
}

TEST_P(TrackingStoreTest, KeyAndValueValidation) {
  const tracking::Run run = NewRun("0");
  const std::string& id = run.info.run_id;
  for (const std::string& key :
       {std::string(""), std::string("."), std::string("a/../b"), std::string("/abs"),
        std::string("../up"), std::string("a//b"), std::string("trailing/"),
        std::string("bad!char"), std::string("semi;colon"), std::string(251, 'k')}) {
    LAKEML_EXPECT_CODE(store_->LogMetric(id, M(key, 1)), kInvalidArgument);
    LAKEML_EXPECT_CODE(store_->LogParam(id, {key, "v"}), kInvalidArgument);
    LAKEML_EXPECT_CODE(store_->SetTag(id, {key, "v"}), kInvalidArgument);
  }
  for (const std::string& key :
       {std::string("a/b.c-d_e f:g"), std::string("ünïcödé"), std::string(250, 'k')}) {
    LAKEML_ASSERT_OK(store_->LogMetric(id, M(key, 1)));
    LAKEML_ASSERT_OK(store_->LogParam(id, {key, "v"}));
    LAKEML_ASSERT_OK(store_->SetTag(id, {key, "v"}));
  }
  LAKEML_EXPECT_CODE(store_->LogParam(id, {"long", std::string(6001, 'v')}), kInvalidArgument);
  LAKEML_ASSERT_OK(store_->LogParam(id, {"long", std::string(6000, 'v')}));
  LAKEML_EXPECT_CODE(store_->SetTag(id, {"long", std::string(8001, 'v')}), kInvalidArgument);
  LAKEML_ASSERT_OK(store_->SetTag(id, {"long", std::string(8000, 'v')}));
  LAKEML_EXPECT_CODE(store_->LogMetric(id, M("neg", 1, -1)), kInvalidArgument);
  const core::Status bad = store_->LogMetric(id, M("bad!", 1));
  EXPECT_NE(bad.message().find("Invalid value \"bad!\" for parameter 'name'"), std::string::npos)
      << bad.message();
}

TEST_P(TrackingStoreTest, LatestMetricFollowsStepTimestampValue) {
  const tracking::Run run = NewRun("0");
  const std::string& id = run.info.run_id;
  auto latest = [&]() {
    auto fetched = store_->GetRun(id);
    EXPECT_TRUE(fetched.ok());
    const Metric* metric = FindMetric(*fetched, "m");
    return metric ? *metric : Metric{};
  };
  LAKEML_ASSERT_OK(store_->LogMetric(id, M("m", 5, 100, 1)));
  LAKEML_ASSERT_OK(store_->LogMetric(id, M("m", 9, 200, 0)));  // older step: ignored
  EXPECT_EQ(latest().value, 5);
  LAKEML_ASSERT_OK(store_->LogMetric(id, M("m", 4, 101, 1)));  // same step, newer timestamp
  EXPECT_EQ(latest().value, 4);
  LAKEML_ASSERT_OK(store_->LogMetric(id, M("m", 3, 101, 1)));  // same step/ts, smaller value
  EXPECT_EQ(latest().value, 4);
  LAKEML_ASSERT_OK(store_->LogMetric(id, M("m", 6, 101, 1)));  // same step/ts, larger value
  EXPECT_EQ(latest().value, 6);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  LAKEML_ASSERT_OK(store_->LogMetric(id, M("m", nan, 50, 2)));
  EXPECT_TRUE(std::isnan(latest().value));
  EXPECT_EQ(latest().step, 2);
  LAKEML_ASSERT_OK(store_->LogMetric(id, M("m", std::numeric_limits<double>::infinity(), 1, 3)));
  EXPECT_EQ(latest().value, std::numeric_limits<double>::infinity());
  // Within one batch the newest point wins regardless of order.
  LAKEML_ASSERT_OK(
      store_->LogBatch(id, {M("b", 1, 5, 7), M("b", 2, 5, 9), M("b", 3, 5, 8)}, {}, {}));
  LAKEML_ASSERT_OK_AND_ASSIGN(tracking::Run fetched, store_->GetRun(id));
  EXPECT_EQ(FindMetric(fetched, "b")->value, 2);
  EXPECT_EQ(FindMetric(fetched, "b")->step, 9);
}

TEST_P(TrackingStoreTest, MetricHistoryOrderDedupAndPages) {
  const tracking::Run run = NewRun("0");
  const std::string& id = run.info.run_id;
  std::vector<Metric> metrics;
  for (int step = 9; step >= 0; --step) metrics.push_back(M("loss", 1.0 / (step + 1), 1000, step));
  metrics.push_back(M("loss", std::numeric_limits<double>::quiet_NaN(), 1000, 3));
  metrics.push_back(M("loss", -std::numeric_limits<double>::infinity(), 1001, 3));
  LAKEML_ASSERT_OK(store_->LogBatch(id, metrics, {}, {}));
  LAKEML_ASSERT_OK(store_->LogMetric(id, M("loss", 1.0, 1000, 0)));  // exact duplicate
  LAKEML_ASSERT_OK(store_->LogMetric(id, M("other", 1.0, 1000, 0)));

  MetricHistoryRequest request{id, "loss", std::nullopt, ""};
  LAKEML_ASSERT_OK_AND_ASSIGN(Page<Metric> all, store_->GetMetricHistory(request));
  ASSERT_EQ(all.items.size(), 12u);
  EXPECT_TRUE(all.next_page_token.empty());
  for (size_t i = 1; i < all.items.size(); ++i) {
    EXPECT_LE(all.items[i - 1].step, all.items[i].step);
  }
  int nan_count = 0;
  for (const Metric& metric : all.items) nan_count += std::isnan(metric.value) ? 1 : 0;
  EXPECT_EQ(nan_count, 1);
  EXPECT_EQ(all.items[4].step, 3);
  EXPECT_EQ(all.items.back().step, 9);

  for (int64_t page_size : {1, 5, 11, 12}) {
    request.max_results = page_size;
    request.page_token.clear();
    std::vector<Metric> walked;
    for (int guard = 0; guard < 100; ++guard) {
      LAKEML_ASSERT_OK_AND_ASSIGN(Page<Metric> page, store_->GetMetricHistory(request));
      walked.insert(walked.end(), page.items.begin(), page.items.end());
      if (page.next_page_token.empty()) break;
      request.page_token = page.next_page_token;
    }
    ASSERT_EQ(walked.size(), all.items.size()) << page_size;
    for (size_t i = 0; i < walked.size(); ++i) {
      EXPECT_EQ(walked[i].step, all.items[i].step);
      EXPECT_EQ(walked[i].timestamp, all.items[i].timestamp);
      EXPECT_TRUE(walked[i].value == all.items[i].value ||
                  (std::isnan(walked[i].value) && std::isnan(all.items[i].value)));
    }
  }
  request.page_token = "garbage";
  LAKEML_EXPECT_CODE(store_->GetMetricHistory(request).status(), kInvalidArgument);
  request.page_token.clear();
  request.max_results = 0;
  LAKEML_EXPECT_CODE(store_->GetMetricHistory(request).status(), kInvalidArgument);
  MetricHistoryRequest unknown{"nope", "loss", std::nullopt, ""};
  LAKEML_ASSERT_OK_AND_ASSIGN(Page<Metric> empty, store_->GetMetricHistory(unknown));
  EXPECT_TRUE(empty.items.empty());
}

TEST_P(TrackingStoreTest, BulkIntervalValidationAndSampling) {
  const tracking::Run a = NewRun("0");
  const tracking::Run b = NewRun("0");
  std::vector<Metric> metrics_a;
  for (int step = 0; step < 100; ++step) metrics_a.push_back(M("loss", step, 1, step));
  LAKEML_ASSERT_OK(store_->LogBatch(a.info.run_id, metrics_a, {}, {}));
  LAKEML_ASSERT_OK(
      store_->LogBatch(b.info.run_id, {M("loss", 1, 1, 5), M("loss", 2, 1, 37)}, {}, {}));

  BulkIntervalRequest request;
  request.metric_key = "loss";
  LAKEML_EXPECT_CODE(store_->GetMetricHistoryBulkInterval(request).status(), kInvalidArgument);
  request.run_ids.assign(101, a.info.run_id);
  LAKEML_EXPECT_CODE(store_->GetMetricHistoryBulkInterval(request).status(), kInvalidArgument);
  request.run_ids = {a.info.run_id, b.info.run_id};
  request.max_results = 0;
  LAKEML_EXPECT_CODE(store_->GetMetricHistoryBulkInterval(request).status(), kInvalidArgument);
  request.max_results = 2501;
  LAKEML_EXPECT_CODE(store_->GetMetricHistoryBulkInterval(request).status(), kInvalidArgument);
  request.max_results = 10;
  request.start_step = 5;
  LAKEML_EXPECT_CODE(store_->GetMetricHistoryBulkInterval(request).status(), kInvalidArgument);
  request.end_step = 4;
  LAKEML_EXPECT_CODE(store_->GetMetricHistoryBulkInterval(request).status(), kInvalidArgument);
  request.start_step.reset();
  request.end_step.reset();

  LAKEML_ASSERT_OK_AND_ASSIGN(auto points, store_->GetMetricHistoryBulkInterval(request));
  std::map<std::string, std::set<int64_t>> steps;
  std::vector<std::string> order;
  for (const MetricWithRunId& point : points) {
    if (order.empty() || order.back() != point.run_id) order.push_back(point.run_id);
    steps[point.run_id].insert(point.metric.step);
  }
  EXPECT_EQ(order, (std::vector<std::string>{a.info.run_id, b.info.run_id}));
  const std::set<int64_t>& sampled = steps[a.info.run_id];
  EXPECT_TRUE(sampled.contains(0));
  EXPECT_TRUE(sampled.contains(99));
  EXPECT_TRUE(sampled.contains(5));  // b's bounds are kept for every run
  EXPECT_TRUE(sampled.contains(37));
  EXPECT_LE(sampled.size(), 13u);
  EXPECT_GE(sampled.size(), 10u);
  EXPECT_EQ(steps[b.info.run_id], (std::set<int64_t>{5, 37}));

  request.start_step = 10;
  request.end_step = 20;
  request.max_results = 100;
  LAKEML_ASSERT_OK_AND_ASSIGN(points, store_->GetMetricHistoryBulkInterval(request));
  std::set<int64_t> in_range;
  for (const MetricWithRunId& point : points) {
    EXPECT_EQ(point.run_id, a.info.run_id);
    in_range.insert(point.metric.step);
  }
  EXPECT_EQ(in_range.size(), 11u);
  EXPECT_EQ(*in_range.begin(), 10);
  EXPECT_EQ(*in_range.rbegin(), 20);
}

TEST_P(TrackingStoreTest, DeleteTag) {
  const tracking::Run run = NewRun("0");
  LAKEML_ASSERT_OK(store_->SetTag(run.info.run_id, {"k", "v"}));
  LAKEML_ASSERT_OK(store_->DeleteTag(run.info.run_id, "k"));
  const core::Status again = store_->DeleteTag(run.info.run_id, "k");
  EXPECT_EQ(again.code(), core::StatusCode::kNotFound);
  LAKEML_EXPECT_CODE(store_->DeleteTag("nope", "k"), kNotFound);
}

TEST_P(TrackingStoreTest, LogModelAppendsHistory) {
  const tracking::Run run = NewRun("0");
  const std::string& id = run.info.run_id;
  LAKEML_EXPECT_CODE(store_->LogModel(id, "not json"), kInvalidArgument);
  LAKEML_EXPECT_CODE(store_->LogModel(id, "[1,2]"), kInvalidArgument);
  LAKEML_EXPECT_CODE(store_->LogModel(id, R"({"artifact_path":"m","flavors":{}})"),
                     kInvalidArgument);
  const std::string model = fmt::format(
      R"({{"artifact_path":"model","flavors":{{"lakeml":{{}}}},)"
      R"("utc_time_created":"t","run_id":"{}"}})",
      id);
  LAKEML_ASSERT_OK(store_->LogModel(id, model));
  LAKEML_ASSERT_OK(store_->LogModel(id, model));
  LAKEML_ASSERT_OK_AND_ASSIGN(tracking::Run fetched, store_->GetRun(id));
  const Tag* history = FindTag(fetched.data.tags, "mlflow.log-model.history");
  ASSERT_NE(history, nullptr);
  EXPECT_EQ(history->value.front(), '[');
  EXPECT_NE(history->value.find("\"artifact_path\":\"model\""), std::string::npos);
  EXPECT_NE(history->value.rfind("\"artifact_path\""), history->value.find("\"artifact_path\""));
}

TEST_P(TrackingStoreTest, LogInputsReusesDatasetsAndIsIdempotent) {
  const std::string experiment = NewExperiment("inputs");
  const tracking::Run a = NewRun(experiment);
  const tracking::Run b = NewRun(experiment);
  DatasetInput input;
  input.dataset = {"wine", "abc123", "local", "/data/wine.csv", R"({"cols":[]})", std::nullopt};
  input.tags = {{"mlflow.data.context", "training"}};
  LAKEML_ASSERT_OK(store_->LogInputs(a.info.run_id, {input, input}, {"m-model1"}));
  LAKEML_ASSERT_OK(store_->LogInputs(a.info.run_id, {input}, {"m-model1"}));
  LAKEML_ASSERT_OK(store_->LogInputs(b.info.run_id, {input}, {}));
  LAKEML_ASSERT_OK_AND_ASSIGN(tracking::Run fetched, store_->GetRun(a.info.run_id));
  ASSERT_EQ(fetched.dataset_inputs.size(), 1u);
  EXPECT_EQ(fetched.dataset_inputs[0].dataset.name, "wine");
  EXPECT_EQ(fetched.dataset_inputs[0].dataset.schema, R"({"cols":[]})");
  EXPECT_FALSE(fetched.dataset_inputs[0].dataset.profile.has_value());
  ASSERT_EQ(fetched.dataset_inputs[0].tags.size(), 1u);
  EXPECT_EQ(fetched.dataset_inputs[0].tags[0].value, "training");
  EXPECT_EQ(fetched.model_inputs, (std::vector<std::string>{"m-model1"}));
  LAKEML_ASSERT_OK_AND_ASSIGN(tracking::Run fetched_b, store_->GetRun(b.info.run_id));
  ASSERT_EQ(fetched_b.dataset_inputs.size(), 1u);

  DatasetInput bad = input;
  bad.dataset.digest = std::string(37, 'd');
  LAKEML_EXPECT_CODE(store_->LogInputs(a.info.run_id, {bad}, {}), kInvalidArgument);
  bad = input;
  bad.tags = {{"k", std::string(501, 'v')}};
  LAKEML_EXPECT_CODE(store_->LogInputs(a.info.run_id, {bad}, {}), kInvalidArgument);
  bad = input;
  bad.dataset.name = std::string(501, 'n');
  LAKEML_EXPECT_CODE(store_->LogInputs(a.info.run_id, {bad}, {}), kInvalidArgument);
}

TEST_P(TrackingStoreTest, SearchDatasetsListsDistinctContexts) {
  const std::string experiment = NewExperiment("dataset-summaries");
  const tracking::Run train = NewRun(experiment);
  const tracking::Run eval = NewRun(experiment);
  DatasetInput input;
  input.dataset = {"wine", "abc123", "local", "/data/wine.csv", std::nullopt, std::nullopt};
  input.tags = {{"mlflow.data.context", "training"}};
  LAKEML_ASSERT_OK(store_->LogInputs(train.info.run_id, {input}, {}));
  input.tags = {{"mlflow.data.context", "eval"}};
  LAKEML_ASSERT_OK(store_->LogInputs(eval.info.run_id, {input}, {}));
  DatasetInput untagged;
  untagged.dataset = {"extra", "def456", "local", "/data/extra.csv", std::nullopt, std::nullopt};
  LAKEML_ASSERT_OK(store_->LogInputs(eval.info.run_id, {untagged}, {}));

  LAKEML_ASSERT_OK_AND_ASSIGN(auto summaries, store_->SearchDatasets({experiment}));
  ASSERT_EQ(summaries.size(), 3u);
  EXPECT_EQ(summaries[0].name, "extra");
  EXPECT_EQ(summaries[0].context, "");
  EXPECT_EQ(summaries[1].context, "eval");
  EXPECT_EQ(summaries[2].context, "training");
  EXPECT_EQ(summaries[2].experiment_id, experiment);

  LAKEML_EXPECT_CODE(store_->SearchDatasets({}).status(), kInvalidArgument);
  LAKEML_EXPECT_CODE(store_->SearchDatasets(std::vector<std::string>(21, experiment)).status(),
                     kInvalidArgument);
  LAKEML_EXPECT_CODE(store_->SearchDatasets({"x1"}).status(), kInvalidArgument);
}

TEST_P(TrackingStoreTest, LogOutputsLinksModels) {
  const tracking::Run run = NewRun("0");
  LAKEML_ASSERT_OK(store_->LogOutputs(run.info.run_id, {{"m-a", 3}, {"m-b", 1}}));
  LAKEML_ASSERT_OK(store_->LogOutputs(run.info.run_id, {{"m-a", 4}}));
  LAKEML_ASSERT_OK_AND_ASSIGN(tracking::Run fetched, store_->GetRun(run.info.run_id));
  ASSERT_EQ(fetched.model_outputs.size(), 2u);
  EXPECT_EQ(fetched.model_outputs[0].model_id, "m-b");
  EXPECT_EQ(fetched.model_outputs[1].model_id, "m-a");
  EXPECT_EQ(fetched.model_outputs[1].step, 4);
}

// ---------------------------------------------------------------------------------------------
// Search runs

class SearchRunsTest : public TrackingStoreTest {
 protected:
  void SetUp() override {
    TrackingStoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    experiment_ = NewExperiment("search");
    // r0..r5 with distinct start times; metrics/params/tags vary, some missing or NaN.
    const double nan = std::numeric_limits<double>::quiet_NaN();
    struct Spec {
      std::optional<double> rmse;
      std::optional<std::string> model;
      std::optional<std::string> team;
      std::string status;
    };
    const std::vector<Spec> specs = {
        {0.5, "LogisticRegression", "ml", "FINISHED"},
        {0.25, "xgboost", "ML", "FAILED"},
        {nan, "XGBoost", std::nullopt, "FINISHED"},
        {std::nullopt, std::nullopt, "ml", "RUNNING"},
        {0.75, "linear", "data", "FINISHED"},
        {0.25, "xgboost", "ml", "RUNNING"},
    };
    for (size_t i = 0; i < specs.size(); ++i) {
      const tracking::Run run =
          NewRun(experiment_, 1000 + static_cast<int64_t>(i) * 10, fmt::format("run-{}", i));
      ids_.push_back(run.info.run_id);
      std::vector<Metric> metrics;
      std::vector<Param> params;
      std::vector<Tag> tags;
      if (specs[i].rmse) metrics.push_back(M("rmse", *specs[i].rmse));
      if (specs[i].model) params.push_back({"model", *specs[i].model});
      if (specs[i].team) tags.push_back({"team", *specs[i].team});
      LAKEML_ASSERT_OK(store_->LogBatch(run.info.run_id, metrics, params, tags));
      if (specs[i].status != "RUNNING") {
        UpdateRunRequest update;
        update.run_id = run.info.run_id;
        update.status = specs[i].status == "FINISHED" ? RunStatus::kFinished : RunStatus::kFailed;
        update.end_time = 5000 + static_cast<int64_t>(i);
        LAKEML_ASSERT_OK(store_->UpdateRun(update).status());
      }
    }
    DatasetInput input;
    input.dataset = {"wine", "d1", "local", "/wine.csv", std::nullopt, std::nullopt};
    input.tags = {{"mlflow.data.context", "training"}};
    LAKEML_ASSERT_OK(store_->LogInputs(ids_[1], {input}, {}));
  }

  // Maps run ids to their index in ids_ for readable expectations.
  std::vector<int> Indices(const std::vector<std::string>& run_ids) {
    std::vector<int> out;
    for (const std::string& id : run_ids) {
      out.push_back(static_cast<int>(std::find(ids_.begin(), ids_.end(), id) - ids_.begin()));
    }
    return out;
  }
  std::vector<int> Search(const std::string& filter, const std::vector<std::string>& order = {}) {
    return Indices(SearchIds({experiment_}, filter, order));
  }

  std::string experiment_;
  std::vector<std::string> ids_;
};

TEST_P(SearchRunsTest, DefaultOrderIsStartTimeDesc) {
  EXPECT_EQ(Search(""), (std::vector<int>{5, 4, 3, 2, 1, 0}));
  LAKEML_ASSERT_OK_AND_ASSIGN(
      Page<tracking::Run> page,
      store_->SearchRuns({{experiment_}, "", ViewType::kActiveOnly, 10, {}, ""}));
  ASSERT_EQ(page.items.size(), 6u);
  const tracking::Run& run0 = page.items.back();
  ASSERT_NE(FindMetric(run0, "rmse"), nullptr);
  EXPECT_EQ(run0.data.params.size(), 1u);
  EXPECT_NE(FindTag(run0.data.tags, "team"), nullptr);
  EXPECT_EQ(page.items[4].dataset_inputs.size(), 1u);
}

TEST_P(SearchRunsTest, MetricComparators) {
  EXPECT_EQ(Search("metrics.rmse = 0.25"), (std::vector<int>{5, 1}));
  EXPECT_EQ(Search("metrics.rmse != 0.25"), (std::vector<int>{4, 2, 0}));  // NaN != x
  EXPECT_EQ(Search("metrics.rmse > 0.25"), (std::vector<int>{4, 0}));
  EXPECT_EQ(Search("metrics.rmse >= 0.25"), (std::vector<int>{5, 4, 1, 0}));
  EXPECT_EQ(Search("metrics.rmse < 0.5"), (std::vector<int>{5, 1}));
  EXPECT_EQ(Search("metrics.rmse <= 0.5"), (std::vector<int>{5, 1, 0}));
  EXPECT_EQ(Search("metrics.rmse = 0"), (std::vector<int>{}));  // NaN is stored as 0
  EXPECT_EQ(Search("metrics.missing > 0"), (std::vector<int>{}));
}

TEST_P(SearchRunsTest, ParamAndTagComparators) {
  EXPECT_EQ(Search("params.model = 'xgboost'"), (std::vector<int>{5, 1}));
  EXPECT_EQ(Search("params.model != 'xgboost'"), (std::vector<int>{4, 2, 0}));
  EXPECT_EQ(Search("params.model LIKE 'xg%'"), (std::vector<int>{5, 1}));
  EXPECT_EQ(Search("params.model ILIKE 'xg%'"), (std::vector<int>{5, 2, 1}));
  EXPECT_EQ(Search("params.model LIKE '%Regress_on'"), (std::vector<int>{0}));
  EXPECT_EQ(Search("tags.team = 'ml'"), (std::vector<int>{5, 3, 0}));
  EXPECT_EQ(Search("tags.team ILIKE 'ML'"), (std::vector<int>{5, 3, 1, 0}));
  EXPECT_EQ(Search("tags.team LIKE 'M%'"), (std::vector<int>{1}));
  EXPECT_EQ(Search("tags.team != 'ml'"), (std::vector<int>{4, 1}));
  EXPECT_EQ(Search("params.model = 'xgboost' AND tags.team = 'ml' AND metrics.rmse < 1"),
            (std::vector<int>{5}));
}

TEST_P(SearchRunsTest, AttributeAndDatasetComparators) {
  EXPECT_EQ(Search("attributes.status = 'FINISHED'"), (std::vector<int>{4, 2, 0}));
  EXPECT_EQ(Search("status != 'FINISHED'"), (std::vector<int>{5, 3, 1}));
  EXPECT_EQ(Search("attributes.run_name = 'run-3'"), (std::vector<int>{3}));
  EXPECT_EQ(Search("attributes.run_name LIKE 'run-%'").size(), 6u);
  EXPECT_EQ(Search("attributes.start_time >= 1030"), (std::vector<int>{5, 4, 3}));
  EXPECT_EQ(Search("attributes.start_time < 1010"), (std::vector<int>{0}));
  EXPECT_EQ(Search("attributes.end_time > 5001"), (std::vector<int>{4, 2}));
  EXPECT_EQ(Search("attributes.user_id = 'alice'").size(), 6u);
  EXPECT_EQ(Search(fmt::format("attributes.run_id IN ('{}', '{}')", ids_[1], ids_[4])),
            (std::vector<int>{4, 1}));
  EXPECT_EQ(Search(fmt::format("attributes.run_id NOT IN ('{}')", ids_[1])),
            (std::vector<int>{5, 4, 3, 2, 0}));
  EXPECT_EQ(Search(fmt::format("attributes.run_id = '{}'", ids_[2])), (std::vector<int>{2}));
  EXPECT_EQ(Search("datasets.name = 'wine'"), (std::vector<int>{1}));
  EXPECT_EQ(Search("datasets.digest IN ('d1', 'd2')"), (std::vector<int>{1}));
  EXPECT_EQ(Search("datasets.context = 'training'"), (std::vector<int>{1}));
  EXPECT_EQ(Search("datasets.context = 'eval'"), (std::vector<int>{}));
}

TEST_P(SearchRunsTest, FilterInjectionIsInert) {
  EXPECT_EQ(Search("params.model = 'x'' OR 1=1 --'"), (std::vector<int>{}));
  EXPECT_EQ(Search("tags.`team'; DROP TABLE runs; --` = 'ml'"), (std::vector<int>{}));
  EXPECT_EQ(Search("").size(), 6u);
}

TEST_P(SearchRunsTest, MissingAndNanSortLastBothDirections) {
  // rmse: r0 .5, r1 .25, r2 NaN, r3 missing, r4 .75, r5 .25 (ties broken by start_time DESC).
  EXPECT_EQ(Search("", {"metrics.rmse ASC"}), (std::vector<int>{5, 1, 0, 4, 2, 3}));
  EXPECT_EQ(Search("", {"metrics.rmse DESC"}), (std::vector<int>{4, 0, 5, 1, 2, 3}));
  // Byte order (SQLite BINARY, the test cluster's C collation): uppercase before lowercase.
  EXPECT_EQ(Search("", {"params.model"}), (std::vector<int>{0, 2, 4, 5, 1, 3}));
  EXPECT_EQ(Search("", {"params.model DESC"}), (std::vector<int>{5, 1, 4, 2, 0, 3}));
  EXPECT_EQ(Search("", {"tags.team DESC", "start_time ASC"}), (std::vector<int>{0, 3, 5, 4, 1, 2}));
  EXPECT_EQ(Search("", {"attributes.end_time DESC"}), (std::vector<int>{4, 2, 1, 0, 5, 3}));
  EXPECT_EQ(Search("", {"attributes.run_name DESC"}), (std::vector<int>{5, 4, 3, 2, 1, 0}));
}

TEST_P(SearchRunsTest, PaginationWalksEveryOrderWithoutGapsOrDuplicates) {
  // More runs with ties on every key so the run_id tie-break matters.
  for (int i = 0; i < 9; ++i) {
    const tracking::Run run = NewRun(experiment_, 1000 + (i % 3) * 10);
    ids_.push_back(run.info.run_id);
    if (i % 4 != 0) {
      LAKEML_ASSERT_OK(store_->LogBatch(run.info.run_id, {M("rmse", (i % 2) * 0.25)},
                                        {{"model", i % 2 ? "a" : "b"}}, {}));
    }
  }
  const std::vector<std::vector<std::string>> orders = {
      {},
      {"metrics.rmse ASC"},
      {"metrics.rmse DESC"},
      {"params.model ASC", "metrics.rmse DESC"},
      {"tags.team DESC"},
      {"attributes.end_time ASC"},
      {"attributes.start_time ASC"},
      {"attributes.run_id DESC"},
  };
  for (const auto& order : orders) {
    const std::vector<std::string> full = SearchIds({experiment_}, "", order);
    ASSERT_EQ(full.size(), ids_.size());
    for (int64_t page_size : {1, 2, 4, 7}) {
      EXPECT_EQ(SearchAllPages({experiment_}, "", order, page_size), full)
          << (order.empty() ? "default" : order[0]) << " page " << page_size;
    }
  }
  const std::vector<std::string> filtered = SearchIds({experiment_}, "metrics.rmse >= 0");
  EXPECT_EQ(SearchAllPages({experiment_}, "metrics.rmse >= 0", {}, 2), filtered);
}

// Ordering by a metric reads runs with a number, NaN and no value as three ranges one after the
// other (see RunSearchStatements); pages must cross each boundary without gaps or duplicates in
// both directions, with filters, deleted runs, several experiments, +-Inf, a real 0 next to NaN
// (both stored as 0) and latest values that moved between NaN and a number.
TEST_P(SearchRunsTest, MetricOrderPagesAcrossNanAndMissing) {
  struct Expected {
    std::string run_id;
    std::string experiment;
    int64_t start_time;
    std::optional<double> x;  // nullopt: never logged
    std::optional<int> y;
    bool has_param_a;
    bool deleted;
  };
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<std::optional<double>> pattern = {std::nullopt, nan, 0.5,  0.25,
                                                      0.5,          -inf, inf, 0.0};
  const std::string other = NewExperiment("search-other");
  std::vector<Expected> runs;
  for (size_t i = 0; i < ids_.size(); ++i) {  // the fixture's runs: no x, y or p
    runs.push_back({ids_[i], experiment_, 1000 + static_cast<int64_t>(i) * 10, std::nullopt,
                    std::nullopt, false, false});
  }
  for (int i = 0; i < 30; ++i) {
    const std::string& experiment = i < 24 ? experiment_ : other;
    const tracking::Run run = NewRun(experiment, 1000 + (i % 5) * 10);
    Expected expected{run.info.run_id, experiment, 1000 + (i % 5) * 10, pattern[i % 8], i,
                      i % 3 == 0, i % 7 == 3};
    std::vector<Metric> metrics;
    if (i == 9) metrics.push_back(M("x", 2.0, 1, 0));   // a number, then NaN
    if (i == 12) metrics.push_back(M("x", nan, 1, 0));  // NaN, then a number
    if (expected.x) metrics.push_back(M("x", *expected.x, 1, 1));
    metrics.push_back(M("y", i));
    std::vector<Param> params;
    if (i % 3 != 2) params.push_back({"p", i % 3 == 0 ? "a" : "b"});
    LAKEML_ASSERT_OK(store_->LogBatch(run.info.run_id, metrics, params, {}));
    if (expected.deleted) LAKEML_ASSERT_OK(store_->DeleteRun(run.info.run_id));
    runs.push_back(expected);
  }
  auto rank = [](const Expected& run) { return !run.x ? 2 : std::isnan(*run.x) ? 1 : 0; };
  for (bool ascending : {true, false}) {
    for (const std::string filter : {"", "params.p = 'a'", "metrics.y >= 3"}) {
      for (ViewType view : {ViewType::kActiveOnly, ViewType::kAll}) {
        for (const std::vector<std::string>& experiments :
             {std::vector<std::string>{experiment_}, std::vector<std::string>{experiment_, other}}) {
          std::vector<Expected> matching;
          for (const Expected& run : runs) {
            if (std::find(experiments.begin(), experiments.end(), run.experiment) ==
                experiments.end()) {
              continue;
            }
            if (view == ViewType::kActiveOnly && run.deleted) continue;
            if (filter == "params.p = 'a'" && !run.has_param_a) continue;
            if (filter == "metrics.y >= 3" && !(run.y && *run.y >= 3)) continue;
            matching.push_back(run);
          }
          std::sort(matching.begin(), matching.end(), [&](const Expected& a, const Expected& b) {
            if (rank(a) != rank(b)) return rank(a) < rank(b);
            if (rank(a) == 0 && *a.x != *b.x) return ascending ? *a.x < *b.x : *a.x > *b.x;
            if (a.start_time != b.start_time) return a.start_time > b.start_time;
            return a.run_id < b.run_id;
          });
          std::vector<std::string> expected_ids;
          for (const Expected& run : matching) expected_ids.push_back(run.run_id);
          const std::vector<std::string> order = {ascending ? "metrics.x ASC" : "metrics.x DESC"};
          for (int64_t page_size : {1, 3, 5, 1000}) {
            EXPECT_EQ(SearchAllPages(experiments, filter, order, page_size, view), expected_ids)
                << order[0] << " filter '" << filter << "' page " << page_size << " view "
                << static_cast<int>(view) << " experiments " << experiments.size();
          }
        }
      }
    }
  }
  // A second key after the metric orders within equal values, and within NaN and missing.
  const std::vector<std::string> full =
      SearchIds({experiment_}, "", {"metrics.x DESC", "params.p DESC"});
  ASSERT_EQ(full.size(), 27u);  // 6 fixture runs + 24 here - 3 deleted
  for (int64_t page_size : {1, 2, 7}) {
    EXPECT_EQ(SearchAllPages({experiment_}, "", {"metrics.x DESC", "params.p DESC"}, page_size),
              full);
  }
}

TEST_P(SearchRunsTest, RequestValidation) {
  SearchRunsRequest request;
  request.experiment_ids = {experiment_};
  request.max_results = 0;
  LAKEML_EXPECT_CODE(store_->SearchRuns(request).status(), kInvalidArgument);
  request.max_results = 50001;
  LAKEML_EXPECT_CODE(store_->SearchRuns(request).status(), kInvalidArgument);
  request.max_results = 2;
  LAKEML_ASSERT_OK_AND_ASSIGN(Page<tracking::Run> page, store_->SearchRuns(request));
  ASSERT_FALSE(page.next_page_token.empty());
  // A token is bound to its query.
  SearchRunsRequest other = request;
  other.order_by = {"metrics.rmse"};
  other.page_token = page.next_page_token;
  LAKEML_EXPECT_CODE(store_->SearchRuns(other).status(), kInvalidArgument);
  other = request;
  other.page_token = "e30=";  // base64("{}")
  LAKEML_EXPECT_CODE(store_->SearchRuns(other).status(), kInvalidArgument);
  other.page_token = "%%%";
  LAKEML_EXPECT_CODE(store_->SearchRuns(other).status(), kInvalidArgument);
  other = request;
  other.filter = "metrics.rmse > 'abc'";
  LAKEML_EXPECT_CODE(store_->SearchRuns(other).status(), kInvalidArgument);
  other.filter = "bogus";
  LAKEML_EXPECT_CODE(store_->SearchRuns(other).status(), kInvalidArgument);
  other.filter = "";
  other.order_by = {"metrics.rmse", "metrics.rmse DESC"};
  LAKEML_EXPECT_CODE(store_->SearchRuns(other).status(), kInvalidArgument);
  other = request;
  other.experiment_ids = {"abc"};
  LAKEML_EXPECT_CODE(store_->SearchRuns(other).status(), kInvalidArgument);
  other.experiment_ids = {};
  LAKEML_ASSERT_OK_AND_ASSIGN(page, store_->SearchRuns(other));
  EXPECT_TRUE(page.items.empty());
  other.experiment_ids = {"0", experiment_, "12345"};
  other.max_results = 100;
  LAKEML_ASSERT_OK_AND_ASSIGN(page, store_->SearchRuns(other));
  EXPECT_EQ(page.items.size(), 6u);
}

// ---------------------------------------------------------------------------------------------
// Logged models

TEST_P(TrackingStoreTest, LoggedModelLifecycle) {
  const std::string experiment = NewExperiment("models");
  CreateLoggedModelRequest request;
  request.experiment_id = experiment;
  request.model_type = "classifier";
  request.params = {{"alpha", "1"}};
  request.tags = {{"k", "v"}};
  LAKEML_ASSERT_OK_AND_ASSIGN(LoggedModel model, store_->CreateLoggedModel(request));
  EXPECT_EQ(model.model_id.size(), 34u);
  EXPECT_EQ(model.model_id.substr(0, 2), "m-");
  EXPECT_FALSE(model.name.empty());
  EXPECT_EQ(model.status, LoggedModelStatus::kPending);
  EXPECT_EQ(model.artifact_uri,
            fmt::format("mlflow-artifacts:/{}/models/{}/artifacts", experiment, model.model_id));
  EXPECT_EQ(model.params.size(), 1u);
  EXPECT_EQ(model.tags.size(), 1u);

  clock_.Advance(3);
  LAKEML_ASSERT_OK_AND_ASSIGN(
      LoggedModel ready, store_->FinalizeLoggedModel(model.model_id, LoggedModelStatus::kReady));
  EXPECT_EQ(ready.status, LoggedModelStatus::kReady);
  EXPECT_EQ(ready.last_updated_timestamp_ms, model.creation_timestamp_ms + 3);
  LAKEML_EXPECT_CODE(
      store_->FinalizeLoggedModel(model.model_id, LoggedModelStatus::kPending).status(),
      kInvalidArgument);

  LAKEML_ASSERT_OK_AND_ASSIGN(
      LoggedModel tagged, store_->SetLoggedModelTags(model.model_id, {{"k", "v2"}, {"x", "y"}}));
  EXPECT_EQ(tagged.tags.size(), 2u);
  EXPECT_EQ(FindTag(tagged.tags, "k")->value, "v2");
  LAKEML_ASSERT_OK(store_->DeleteLoggedModelTag(model.model_id, "x"));
  LAKEML_EXPECT_CODE(store_->DeleteLoggedModelTag(model.model_id, "x"), kNotFound);
  LAKEML_ASSERT_OK(store_->LogLoggedModelParams(model.model_id, {{"alpha", "1"}, {"beta", "2"}}));
  LAKEML_EXPECT_CODE(store_->LogLoggedModelParams(model.model_id, {{"alpha", "9"}}),
                     kInvalidArgument);
  LAKEML_ASSERT_OK_AND_ASSIGN(LoggedModel fetched, store_->GetLoggedModel(model.model_id));
  EXPECT_EQ(fetched.params.size(), 2u);
  EXPECT_EQ(fetched.model_type, "classifier");

  LAKEML_ASSERT_OK(store_->DeleteLoggedModel(model.model_id));
  LAKEML_EXPECT_CODE(store_->GetLoggedModel(model.model_id).status(), kNotFound);
  LAKEML_EXPECT_CODE(store_->GetLoggedModel("m-unknown").status(), kNotFound);
  LAKEML_EXPECT_CODE(store_->DeleteLoggedModel("m-unknown"), kNotFound);

  request.experiment_id = "999";
  LAKEML_EXPECT_CODE(store_->CreateLoggedModel(request).status(), kNotFound);
  request.experiment_id = experiment;
  request.name = "bad/name";
  LAKEML_EXPECT_CODE(store_->CreateLoggedModel(request).status(), kInvalidArgument);
}

TEST_P(TrackingStoreTest, SearchLoggedModelsPages) {
  const std::string experiment = NewExperiment("models");
  std::vector<std::string> created;
  for (int i = 0; i < 7; ++i) {
    clock_.Advance(i % 2);
    CreateLoggedModelRequest request;
    request.experiment_id = experiment;
    request.name = fmt::format("model-{}", i);
    LAKEML_ASSERT_OK_AND_ASSIGN(LoggedModel model, store_->CreateLoggedModel(request));
    created.push_back(model.model_id);
  }
  LAKEML_ASSERT_OK(store_->DeleteLoggedModel(created[0]));
  SearchLoggedModelsRequest request;
  request.experiment_ids = {experiment};
  LAKEML_ASSERT_OK_AND_ASSIGN(Page<LoggedModel> all, store_->SearchLoggedModels(request));
  ASSERT_EQ(all.items.size(), 6u);
  for (size_t i = 1; i < all.items.size(); ++i) {
    EXPECT_GE(all.items[i - 1].creation_timestamp_ms, all.items[i].creation_timestamp_ms);
  }
  request.max_results = 4;
  std::vector<std::string> walked;
  for (int guard = 0; guard < 10; ++guard) {
    LAKEML_ASSERT_OK_AND_ASSIGN(Page<LoggedModel> page, store_->SearchLoggedModels(request));
    for (const LoggedModel& model : page.items) walked.push_back(model.model_id);
    if (page.next_page_token.empty()) break;
    request.page_token = page.next_page_token;
  }
  std::vector<std::string> expected;
  for (const LoggedModel& model : all.items) expected.push_back(model.model_id);
  EXPECT_EQ(walked, expected);
  request.max_results = 51;
  LAKEML_EXPECT_CODE(store_->SearchLoggedModels(request).status(), kInvalidArgument);
}

// Not a correctness test: prints SearchRuns latency on the brief's workload (10k runs x 5 params
// x 5 metrics). Opt in with LAKEML_TRACKING_PERF=1; timings are never asserted.
TEST_P(TrackingStoreTest, SearchLatencyReport) {
  const char* enabled = std::getenv("LAKEML_TRACKING_PERF");
  if (enabled == nullptr || std::string(enabled) != "1") GTEST_SKIP() << "LAKEML_TRACKING_PERF";
  const std::string experiment = NewExperiment("perf");
  for (int i = 0; i < 10000; ++i) {
    const tracking::Run run = NewRun(experiment, 1000 + i);
    std::vector<Metric> metrics;
    std::vector<Param> params;
    for (int k = 0; k < 5; ++k) {
      metrics.push_back(M(fmt::format("m{}", k), ((i * 7919 + k * 104729) % 10007) / 10007.0));
      params.push_back({fmt::format("p{}", k), std::to_string((i + k) % 17)});
    }
    LAKEML_ASSERT_OK(store_->LogBatch(run.info.run_id, metrics, params, {}));
  }
  if (GetParam() == Backend::kSqlite) {
    // The plan should walk latest_metrics_order for m2 in value order (no temp B-tree for the
    // metric, only for the tie-breaking keys) and probe runs and the filter by primary key.
    LAKEML_ASSERT_OK_AND_ASSIGN(SortSpec sort, RunSortSpec({"metrics.m2 DESC"}));
    LAKEML_ASSERT_OK_AND_ASSIGN(auto clauses, ParseFilter("metrics.m1 > 0.5", SearchKind::kRuns));
    LAKEML_ASSERT_OK_AND_ASSIGN(SqlFragment filter,
                                RunFilterSql(clauses, metastore::Dialect::kSqlite));
    const std::vector<int64_t> experiment_ids = {std::stoll(experiment)};
    const std::vector<SqlFragment> statements = RunSearchStatements(
        {"r.run_id", &experiment_ids, "('active')", &filter, &sort, nullptr});
    LAKEML_ASSERT_OK(db_->Read([&](metastore::Transaction& tx) -> core::Status {
      for (const SqlFragment& statement : statements) {
        std::vector<metastore::Value> params = statement.params;
        params.emplace_back(int64_t{101});
        auto plan = tx.Query("EXPLAIN QUERY PLAN " + statement.sql, params);
        if (!plan.ok()) return plan.status();
        std::printf("[plan] %s\n", statement.sql.c_str());
        for (const auto& row : *plan) std::printf("[plan]   %s\n", row.Text(3).c_str());
      }
      return core::Status::Ok();
    }));
  }
  for (int64_t max_results : {100, 1000}) {
    SearchRunsRequest request;
    request.experiment_ids = {experiment};
    request.filter = "metrics.m1 > 0.5";
    request.order_by = {"metrics.m2 DESC"};
    request.max_results = max_results;
    std::vector<double> millis;
    for (int iteration = 0; iteration < 21; ++iteration) {
      const auto start = std::chrono::steady_clock::now();
      LAKEML_ASSERT_OK_AND_ASSIGN(Page<tracking::Run> page, store_->SearchRuns(request));
      millis.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count());
      ASSERT_EQ(page.items.size(), static_cast<size_t>(max_results));
    }
    std::sort(millis.begin(), millis.end());
    std::printf(
        "[perf] %s search 10k runs, filter metric + order metric, %lld results: p50 "
        "%.2f ms, max %.2f ms\n",
        GetParam() == Backend::kSqlite ? "sqlite" : "postgres", static_cast<long long>(max_results),
        millis[millis.size() / 2], millis.back());
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, TrackingStoreTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres), BackendName);
INSTANTIATE_TEST_SUITE_P(Backends, SearchRunsTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres), BackendName);

}  // namespace
}  // namespace lakeml::tracking
