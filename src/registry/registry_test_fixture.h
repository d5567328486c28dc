#pragma once

// Test-only: the fixture shared by the registry tests. Each test gets a fresh metadata database
// (a temp SQLite file, or a new PostgreSQL database on the server named by
// LAKEML_TEST_POSTGRES_URI), a temp artifact root, a fake clock, a tracking store and a registry.

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "core/clock.h"
#include "core/ids.h"
#include "metastore/database.h"
#include "registry/model_registry.h"
#include "tracking/artifact_store.h"
#include "tracking/tracking_store.h"

namespace lakeml::registry::testing {

class FakeClock final : public core::Clock {
 public:
  // Every reading advances by 1 ms, so timestamps are distinct and increasing.
  int64_t NowMillis() const override { return now_ms_.fetch_add(1); }
  void Advance(int64_t delta_ms) { now_ms_ += delta_ms; }

 private:
  mutable std::atomic<int64_t> now_ms_{1'700'000'000'000};
};

enum class Backend { kSqlite, kPostgres };

inline std::string BackendName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "Sqlite" : "Postgres";
}

inline const char* Env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : nullptr;
}

// `uri` with its database name replaced by `db_name`.
inline std::string WithDatabase(const std::string& uri, const std::string& db_name) {
  const size_t host_start = uri.find("://") + 3;
  const size_t db_start = uri.find('/', host_start);
  const size_t query = uri.find('?', host_start);
  const std::string base = uri.substr(0, std::min(db_start, query));
  const std::string rest = query == std::string::npos ? "" : uri.substr(query);
  return base + "/" + db_name + rest;
}

// CREATE/DROP DATABASE cannot run inside the transaction every Database call opens.
inline ::testing::AssertionResult AdminExec(const std::string& uri, const std::string& sql) {
  PGconn* conn = PQconnectdb(uri.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = PQerrorMessage(conn);
    PQfinish(conn);
    return ::testing::AssertionFailure() << "admin connection failed: " << message;
  }
  PGresult* result = PQexec(conn, sql.c_str());
  const bool ok = PQresultStatus(result) == PGRES_COMMAND_OK;
  std::string message = PQresultErrorMessage(result);
  PQclear(result);
  PQfinish(conn);
  if (!ok) return ::testing::AssertionFailure() << sql << ": " << message;
  return ::testing::AssertionSuccess();
}

class RegistryTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("lakeml_registry_" + std::to_string(getpid()) + "_" + core::RandomHex(8));
    std::filesystem::create_directories(dir_ / "artifacts");
    std::string uri;
    if (GetParam() == Backend::kSqlite) {
      uri = (dir_ / "meta.db").string();
    } else {
      const char* base_uri = Env("LAKEML_TEST_POSTGRES_URI");
      if (base_uri == nullptr) {
        const char* skip = Env("LAKEML_SKIP_POSTGRES");
        if (skip != nullptr && std::string(skip) == "1") GTEST_SKIP() << "LAKEML_SKIP_POSTGRES=1";
        FAIL() << "LAKEML_TEST_POSTGRES_URI is not set: start a server with "
                  "scripts/start-postgres.sh and export its URI, or set LAKEML_SKIP_POSTGRES=1";
      }
      admin_uri_ = base_uri;
      pg_db_name_ = "lakeml_r_" + std::to_string(getpid()) + "_" + core::RandomHex(8);
      ASSERT_TRUE(AdminExec(admin_uri_, "CREATE DATABASE " + pg_db_name_));
      uri = WithDatabase(admin_uri_, pg_db_name_);
    }
    auto opened = metastore::OpenDatabase(uri);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    db_ = std::move(opened).value();
    tracking_ = std::make_unique<tracking::TrackingStore>(*db_, clock_, "mlflow-artifacts:/");
    ASSERT_TRUE(tracking_->Initialize().ok());
    artifacts_ = std::make_unique<tracking::ArtifactStore>(dir_ / "artifacts");
    registry_ = std::make_unique<ModelRegistry>(*db_, clock_, *tracking_, *artifacts_);
  }

  void TearDown() override {
    registry_.reset();
    tracking_.reset();
    db_.reset();
    if (!pg_db_name_.empty()) {
      EXPECT_TRUE(
          AdminExec(admin_uri_, "DROP DATABASE IF EXISTS " + pg_db_name_ + " WITH (FORCE)"));
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  tracking::Run CreateRun() {
    tracking::CreateRunRequest request;
    request.experiment_id = "0";
    auto run = tracking_->CreateRun(request);
    EXPECT_TRUE(run.ok()) << run.status().ToString();
    return run.ok() ? *run : tracking::Run{};
  }

  // The local directory of `run`'s artifacts.
  std::filesystem::path RunArtifactDir(const tracking::Run& run) {
    auto relative = tracking::ArtifactUriToRelativePath(run.info.artifact_uri);
    EXPECT_TRUE(relative.ok()) << relative.status().ToString();
    return artifacts_->root() / (relative.ok() ? *relative : std::string());
  }

  // Writes an MLmodel file into `<run artifacts>/<path>` and returns that directory.
  std::filesystem::path WriteModelDir(const tracking::Run& run, const std::string& path) {
    const std::filesystem::path model_dir = RunArtifactDir(run) / path;
    std::filesystem::create_directories(model_dir);
    std::ofstream(model_dir / "MLmodel") << "flavors: {}\n";
    return model_dir;
  }

  RegisteredModel MustCreateModel(const std::string& name) {
    auto model = registry_->CreateRegisteredModel(name, {}, "");
    EXPECT_TRUE(model.ok()) << model.status().ToString();
    return model.ok() ? *model : RegisteredModel{};
  }

  // A version whose source is a valid mlflow-artifacts: location.
  ModelVersion MustCreateVersion(const std::string& name, const std::vector<Tag>& tags = {}) {
    CreateModelVersionRequest request;
    request.name = name;
    request.source = "mlflow-artifacts:/0/somerun/artifacts/model";
    request.tags = tags;
    auto version = registry_->CreateModelVersion(request);
    EXPECT_TRUE(version.ok()) << version.status().ToString();
    return version.ok() ? *version : ModelVersion{};
  }

  std::filesystem::path dir_;
  std::string admin_uri_;
  std::string pg_db_name_;
  FakeClock clock_;
  std::unique_ptr<metastore::Database> db_;
  std::unique_ptr<tracking::TrackingStore> tracking_;
  std::unique_ptr<tracking::ArtifactStore> artifacts_;
  std::unique_ptr<ModelRegistry> registry_;
};

}  // namespace lakeml::registry::testing
