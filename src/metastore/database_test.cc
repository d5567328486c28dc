#include "metastore/database.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/ids.h"
#include "metastore/internal/migrator.h"
#include "metastore/internal/pg_placeholders.h"
#include "metastore/schema.h"
#include "metastore/sqlite_database.h"

namespace lakeml::metastore {
namespace {

using core::StatusCode;

enum class Backend { kSqlite, kPostgres };

std::string BackendName(const testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "Sqlite" : "Postgres";
}

const char* Env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : nullptr;
}

// `uri` with its database name replaced by `db_name`.
std::string WithDatabase(const std::string& uri, const std::string& db_name) {
  size_t host_start = uri.find("://") + 3;
  size_t db_start = uri.find('/', host_start);
  size_t query = uri.find('?', host_start);
  std::string base = uri.substr(0, std::min(db_start, query));
  std::string rest = query == std::string::npos ? "" : uri.substr(query);
  return base + "/" + db_name + rest;
}

// Runs one admin statement (CREATE/DROP DATABASE cannot run inside a transaction, which every
// Database call opens).
::testing::AssertionResult AdminExec(const std::string& uri, const std::string& sql) {
  PGconn* conn = PQconnectdb(uri.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = PQerrorMessage(conn);
    PQfinish(conn);
    return ::testing::AssertionFailure() << "admin connection failed: " << message;
  }
  PGresult* result = PQexec(conn, sql.c_str());
  bool ok = PQresultStatus(result) == PGRES_COMMAND_OK;
  std::string message = PQresultErrorMessage(result);
  PQclear(result);
  PQfinish(conn);
  if (!ok) return ::testing::AssertionFailure() << sql << ": " << message;
  return ::testing::AssertionSuccess();
}

// The same behaviour suite against a temp SQLite file and a fresh PostgreSQL database.
class DatabaseTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::kSqlite) {
      dir_ = std::filesystem::path(::testing::TempDir()) /
             ("lakeml_metastore_" + std::to_string(getpid()) + "_" + core::RandomHex(8));
      uri_ = (dir_ / "nested" / "meta.db").string();
      return;
    }
    const char* base_uri = Env("LAKEML_TEST_POSTGRES_URI");
    if (base_uri == nullptr) {
      const char* skip = Env("LAKEML_SKIP_POSTGRES");
      if (skip != nullptr && std::string(skip) == "1") {
        GTEST_SKIP() << "LAKEML_SKIP_POSTGRES=1";
      }
      FAIL() << "LAKEML_TEST_POSTGRES_URI is not set: start a server with "
                "scripts/start-postgres.sh and export its URI, or set LAKEML_SKIP_POSTGRES=1";
    }
    admin_uri_ = base_uri;
    pg_db_name_ = "lakeml_t_" + std::to_string(getpid()) + "_" + core::RandomHex(8);
    ASSERT_TRUE(AdminExec(admin_uri_, "CREATE DATABASE " + pg_db_name_));
    uri_ = WithDatabase(admin_uri_, pg_db_name_);
  }

  void TearDown() override {
    db_.reset();
    if (!pg_db_name_.empty()) {
      EXPECT_TRUE(
          AdminExec(admin_uri_, "DROP DATABASE IF EXISTS " + pg_db_name_ + " WITH (FORCE)"));
    }
    if (!dir_.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(dir_, ignored);
    }
  }

  // Opens (or reopens) db_ on this test's database.
  void Open() {
    db_.reset();
    auto opened = OpenDatabase(uri_);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    db_ = std::move(opened).value();
  }

  void CreateTable() {
    ASSERT_TRUE(db_->Write([](Transaction& txn) {
                     return txn
                         .Execute(
                             "CREATE TABLE items (id BIGINT PRIMARY KEY, real_value DOUBLE "
                             "PRECISION, text_value TEXT, int_value BIGINT)")
                         .status();
                   })
                    .ok());
  }

  core::Status Insert(int64_t id, const Value& text_value = std::monostate{}) {
    return db_->Write([&](Transaction& txn) {
      return txn.Execute("INSERT INTO items (id, text_value) VALUES (?, ?)", {id, text_value})
          .status();
    });
  }

  std::vector<Row> Select(const std::string& sql, const std::vector<Value>& params = {}) {
    std::vector<Row> rows;
    core::Status status = db_->Read([&](Transaction& txn) -> core::Status {
      LAKEML_ASSIGN_OR_RETURN(rows, txn.Query(sql, params));
      return core::Status::Ok();
    });
    EXPECT_TRUE(status.ok()) << status.ToString();
    return rows;
  }

  int64_t CountItems() {
    auto rows = Select("SELECT COUNT(*) FROM items");
    return rows.empty() ? -1 : rows[0].Int(0);
  }

  std::filesystem::path dir_;
  std::string admin_uri_;
  std::string pg_db_name_;
  std::string uri_;
  std::unique_ptr<Database> db_;
};

TEST_P(DatabaseTest, ReportsItsDialect) {
  Open();
  EXPECT_EQ(db_->dialect(), GetParam() == Backend::kSqlite ? Dialect::kSqlite : Dialect::kPostgres);
  ASSERT_TRUE(db_->Read([&](Transaction& txn) {
                   EXPECT_EQ(txn.dialect(), db_->dialect());
                   return core::Status::Ok();
                 })
                  .ok());
}

TEST_P(DatabaseTest, MigrationsAppliedOnceAndIdempotentOnReopen) {
  Open();
  auto first = Select("SELECT version, description, applied_ms FROM schema_migrations ORDER BY 1");
  ASSERT_EQ(first.size(), Migrations().size());
  for (size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(first[i].Int(0), Migrations()[i].version);
    EXPECT_EQ(first[i].Text(1), Migrations()[i].description);
    EXPECT_GT(first[i].Int(2), 0);
  }
  EXPECT_EQ(Select("SELECT COUNT(*) FROM experiments")[0].Int(0), 0);

  Open();
  Open();
  auto again = Select("SELECT version, applied_ms FROM schema_migrations ORDER BY 1");
  ASSERT_EQ(again.size(), first.size());
  for (size_t i = 0; i < again.size(); ++i) EXPECT_EQ(again[i].Int(1), first[i].Int(2));
}

TEST_P(DatabaseTest, ConcurrentOpenersMigrateOnce) {
  constexpr int kOpeners = 4;
  std::vector<std::thread> threads;
  std::vector<core::Status> statuses(kOpeners);
  for (int i = 0; i < kOpeners; ++i) {
    threads.emplace_back([&, i] { statuses[i] = OpenDatabase(uri_).status(); });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& status : statuses) EXPECT_TRUE(status.ok()) << status.ToString();
  Open();
  EXPECT_EQ(Select("SELECT COUNT(*) FROM schema_migrations")[0].Int(0),
            static_cast<int64_t>(Migrations().size()));
}

TEST_P(DatabaseTest, LaterMigrationAppliedAndNewerSchemaRefused) {
  Open();
  std::vector<Migration> extended = Migrations();
  extended.push_back({100000, "test: extra table",
                      "CREATE TABLE extra (id BIGINT PRIMARY KEY);\n\n"
                      "INSERT INTO extra (id) VALUES (7);\n"});
  core::SystemClock clock;
  ASSERT_TRUE(internal::ApplyMigrations(*db_, extended, clock).ok());
  ASSERT_TRUE(internal::ApplyMigrations(*db_, extended, clock).ok());
  EXPECT_EQ(Select("SELECT COUNT(*) FROM extra")[0].Int(0), 1);

  db_.reset();
  auto reopened = OpenDatabase(uri_);
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(reopened.status().message().find("100000"), std::string::npos);
}

TEST_P(DatabaseTest, FailingMigrationLeavesNothingBehind) {
  Open();
  std::vector<Migration> broken = Migrations();
  broken.push_back(
      {100000, "test: broken", "CREATE TABLE half (id BIGINT);\nCREATE TABLE half (id BIGINT);\n"});
  core::SystemClock clock;
  core::Status status = internal::ApplyMigrations(*db_, broken, clock);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("schema migration 100000"), std::string::npos);
  EXPECT_EQ(Select("SELECT COUNT(*) FROM schema_migrations")[0].Int(0),
            static_cast<int64_t>(Migrations().size()));
  Open();  // Still opens: the failed migration was not recorded.
}

TEST_P(DatabaseTest, RoundTripsEveryValueType) {
  Open();
  CreateTable();
  const std::vector<double> doubles = {
      0.1, -2.5, 1e300, -1e-300, 5e-324, 0.0, 123456789.125, std::numeric_limits<double>::max()};
  const std::vector<int64_t> ints = {0, -1, std::numeric_limits<int64_t>::min(),
                                     std::numeric_limits<int64_t>::max(), 42};
  const std::vector<std::string> texts = {"",          "plain", "it's \"quoted\"",
                                          "ünïcödé ✓", "a?b",   std::string(10000, 'x')};
  ASSERT_TRUE(
      db_->Write([&](Transaction& txn) -> core::Status {
           int64_t id = 0;
           for (double real : doubles) {
             LAKEML_RETURN_IF_ERROR(
                 txn.Execute("INSERT INTO items (id, real_value) VALUES (?, ?)", {id++, real})
                     .status());
           }
           for (int64_t integer : ints) {
             LAKEML_RETURN_IF_ERROR(
                 txn.Execute("INSERT INTO items (id, int_value) VALUES (?, ?)", {id++, integer})
                     .status());
           }
           for (const std::string& text : texts) {
             LAKEML_RETURN_IF_ERROR(
                 txn.Execute("INSERT INTO items (id, text_value) VALUES (?, ?)", {id++, text})
                     .status());
           }
           return txn
               .Execute(
                   "INSERT INTO items (id, real_value, text_value, int_value) "
                   "VALUES (?, ?, ?, ?)",
                   {id, std::monostate{}, std::monostate{}, std::monostate{}})
               .status();
         })
          .ok());

  auto rows = Select("SELECT id, real_value, text_value, int_value FROM items ORDER BY id");
  ASSERT_EQ(rows.size(), doubles.size() + ints.size() + texts.size() + 1);
  size_t row_idx = 0;
  for (double real : doubles) {
    const Row& row = rows[row_idx++];
    EXPECT_FALSE(row.IsNull(1));
    EXPECT_EQ(row.Double(1), real);
    EXPECT_TRUE(row.IsNull(2));
    EXPECT_TRUE(row.IsNull(3));
  }
  for (int64_t integer : ints) {
    const Row& row = rows[row_idx++];
    EXPECT_EQ(row.Int(3), integer);
    EXPECT_EQ(row.OptionalInt(3), integer);
    EXPECT_EQ(row.Text(3), std::to_string(integer));
  }
  for (const std::string& text : texts) {
    const Row& row = rows[row_idx++];
    EXPECT_FALSE(row.IsNull(2));
    EXPECT_EQ(row.Text(2), text);
    EXPECT_EQ(row.OptionalText(2), text);
  }
  const Row& nulls = rows[row_idx];
  ASSERT_EQ(nulls.size(), 4u);
  for (size_t col = 1; col < 4; ++col) EXPECT_TRUE(nulls.IsNull(col));
  EXPECT_EQ(nulls.Int(3), 0);
  EXPECT_EQ(nulls.Double(1), 0.0);
  EXPECT_EQ(nulls.Text(2), "");
  EXPECT_EQ(nulls.OptionalInt(3), std::nullopt);
  EXPECT_EQ(nulls.OptionalText(2), std::nullopt);
}

TEST_P(DatabaseTest, ExpressionsReturnTypedValues) {
  Open();
  // PostgreSQL cannot infer the type of a bare `? IS NULL`, so it is cast (see database.h).
  auto rows = Select("SELECT ?, ?, ?, 1 + 2, 0.5, 'text', CAST(? AS TEXT) IS NULL",
                     {int64_t{9}, 2.25, std::string("s"), std::monostate{}});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].Int(0), 9);
  EXPECT_EQ(rows[0].Double(1), 2.25);
  EXPECT_EQ(rows[0].Text(2), "s");
  EXPECT_EQ(rows[0].Int(3), 3);
  EXPECT_EQ(rows[0].Double(4), 0.5);
  EXPECT_EQ(rows[0].Text(5), "text");
  EXPECT_EQ(rows[0].Int(6), 1);
}

TEST_P(DatabaseTest, ExecuteReturnsChangedRowCount) {
  Open();
  CreateTable();
  for (int64_t id = 0; id < 5; ++id) ASSERT_TRUE(Insert(id).ok());
  int64_t changed = -1;
  ASSERT_TRUE(db_->Write([&](Transaction& txn) -> core::Status {
                   LAKEML_ASSIGN_OR_RETURN(
                       changed, txn.Execute("UPDATE items SET int_value = 1 WHERE id < ?", {3}));
                   return core::Status::Ok();
                 })
                  .ok());
  EXPECT_EQ(changed, 3);
}

TEST_P(DatabaseTest, UniqueViolationIsAlreadyExists) {
  Open();
  CreateTable();
  ASSERT_TRUE(Insert(1).ok());
  core::Status duplicate = Insert(1);
  EXPECT_EQ(duplicate.code(), StatusCode::kAlreadyExists) << duplicate.ToString();

  auto insert_experiment = [&](int64_t id) {
    return db_->Write([&](Transaction& txn) {
      return txn
          .Execute(
              "INSERT INTO experiments (experiment_id, name, artifact_location, "
              "lifecycle_stage, creation_time, last_update_time) VALUES (?, ?, ?, ?, ?, ?)",
              {id, std::string("same name"), std::string("/a"), std::string("active"), int64_t{1},
               int64_t{1}})
          .status();
    });
  };
  ASSERT_TRUE(insert_experiment(1).ok());
  core::Status same_name = insert_experiment(2);
  EXPECT_EQ(same_name.code(), StatusCode::kAlreadyExists) << same_name.ToString();
}

TEST_P(DatabaseTest, ForeignKeysAreEnforced) {
  Open();
  core::Status orphan = db_->Write([](Transaction& txn) {
    return txn
        .Execute("INSERT INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?)",
                 {int64_t{404}, std::string("k"), std::string("v")})
        .status();
  });
  EXPECT_FALSE(orphan.ok());
  EXPECT_EQ(Select("SELECT COUNT(*) FROM experiment_tags")[0].Int(0), 0);
}

TEST_P(DatabaseTest, LikeIsCaseSensitive) {
  Open();
  auto rows = Select(
      "SELECT CASE WHEN 'ABC' LIKE 'abc' THEN 1 ELSE 0 END, "
      "CASE WHEN 'ABC' LIKE 'A%' THEN 1 ELSE 0 END");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].Int(0), 0);
  EXPECT_EQ(rows[0].Int(1), 1);
}

TEST_P(DatabaseTest, FailingWriteLeavesNothingBehind) {
  Open();
  CreateTable();
  core::Status returned = db_->Write([](Transaction& txn) -> core::Status {
    LAKEML_RETURN_IF_ERROR(txn.Execute("INSERT INTO items (id) VALUES (?)", {1}).status());
    return core::NotFound("deliberate failure");
  });
  EXPECT_EQ(returned.code(), StatusCode::kNotFound);
  EXPECT_EQ(returned.message(), "deliberate failure");

  core::Status failed_statement = db_->Write([](Transaction& txn) -> core::Status {
    LAKEML_RETURN_IF_ERROR(txn.Execute("INSERT INTO items (id) VALUES (?)", {2}).status());
    return txn.Execute("INSERT INTO no_such_table (id) VALUES (?)", {3}).status();
  });
  EXPECT_EQ(failed_statement.code(), StatusCode::kInternal);
  EXPECT_FALSE(failed_statement.message().empty());

  core::Status threw = db_->Write([](Transaction& txn) -> core::Status {
    txn.Execute("INSERT INTO items (id) VALUES (?)", {4}).status().IgnoreError();
    throw std::runtime_error("boom");
  });
  EXPECT_EQ(threw.code(), StatusCode::kInternal);
  EXPECT_NE(threw.message().find("boom"), std::string::npos);

  EXPECT_EQ(CountItems(), 0);
  ASSERT_TRUE(Insert(5).ok());  // The database is still usable.
  EXPECT_EQ(CountItems(), 1);
}

TEST_P(DatabaseTest, ParameterCountMismatchIsInvalidArgument) {
  Open();
  CreateTable();
  core::Status status = db_->Write([](Transaction& txn) {
    return txn.Execute("INSERT INTO items (id, int_value) VALUES (?, ?)", {1}).status();
  });
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
}

TEST_P(DatabaseTest, ReadCannotWrite) {
  Open();
  CreateTable();
  core::Status status = db_->Read([](Transaction& txn) {
    return txn.Execute("INSERT INTO items (id) VALUES (?)", {1}).status();
  });
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(CountItems(), 0);
}

TEST_P(DatabaseTest, PlaceholdersInsideStringLiteralsAreLeftAlone) {
  Open();
  CreateTable();
  ASSERT_TRUE(db_->Write([](Transaction& txn) {
                   return txn
                       .Execute(
                           "INSERT INTO items (id, text_value, int_value) "
                           "VALUES (?, 'what? ''really?''', ?)",
                           {int64_t{1}, int64_t{2}})
                       .status();
                 })
                  .ok());
  auto rows = Select(
      "SELECT text_value, int_value, '?', ? FROM items WHERE text_value <> '?!?' "
      "AND id = ?",
      {std::string("param"), int64_t{1}});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].Text(0), "what? 'really?'");
  EXPECT_EQ(rows[0].Int(1), 2);
  EXPECT_EQ(rows[0].Text(2), "?");
  EXPECT_EQ(rows[0].Text(3), "param");
}

TEST_P(DatabaseTest, GroupCommitIsolatesFailingWorks) {
  Open();
  CreateTable();
  ASSERT_TRUE(Insert(-1).ok());  // Target of deliberate duplicate-key failures.
  constexpr int kThreads = 8;
  constexpr int kWritesPerThread = 150;
  std::vector<std::thread> threads;
  std::vector<std::vector<core::Status>> statuses(kThreads);
  auto start = std::chrono::steady_clock::now();
  for (int thread_idx = 0; thread_idx < kThreads; ++thread_idx) {
    threads.emplace_back([&, thread_idx] {
      for (int i = 0; i < kWritesPerThread; ++i) {
        const int64_t id = thread_idx * kWritesPerThread + i;
        statuses[thread_idx].push_back(db_->Write([id](Transaction& txn) -> core::Status {
          LAKEML_RETURN_IF_ERROR(
              txn.Execute("INSERT INTO items (id, int_value) VALUES (?, ?)", {id, id}).status());
          if (id % 7 == 3) return core::InvalidArgument("deliberate failure {}", id);
          if (id % 11 == 5) {
            return txn.Execute("INSERT INTO items (id) VALUES (?)", {int64_t{-1}}).status();
          }
          return core::Status::Ok();
        }));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("[ info     ] %d concurrent write transactions in %.3f s (%.0f/s)\n",
              kThreads * kWritesPerThread, seconds, kThreads * kWritesPerThread / seconds);

  std::set<int64_t> expected = {-1};
  for (int thread_idx = 0; thread_idx < kThreads; ++thread_idx) {
    for (int i = 0; i < kWritesPerThread; ++i) {
      const int64_t id = thread_idx * kWritesPerThread + i;
      const core::Status& status = statuses[thread_idx][i];
      if (id % 7 == 3) {
        EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << id << ": " << status.ToString();
      } else if (id % 11 == 5) {
        EXPECT_EQ(status.code(), StatusCode::kAlreadyExists) << id << ": " << status.ToString();
      } else {
        EXPECT_TRUE(status.ok()) << id << ": " << status.ToString();
        expected.insert(id);
      }
    }
  }
  std::set<int64_t> persisted;
  for (const Row& row : Select("SELECT id FROM items")) persisted.insert(row.Int(0));
  EXPECT_EQ(persisted, expected);
}

TEST_P(DatabaseTest, ReadsSeeConsistentSnapshotsDuringWrites) {
  Open();
  CreateTable();
  constexpr int kPairs = 300;
  std::atomic<bool> writing{true};
  std::atomic<int> reads{0};
  std::thread writer([&] {
    for (int64_t pair = 0; pair < kPairs; ++pair) {
      // Two rows per transaction: a reader must never see an odd count.
      core::Status status = db_->Write([pair](Transaction& txn) -> core::Status {
        LAKEML_RETURN_IF_ERROR(
            txn.Execute("INSERT INTO items (id) VALUES (?)", {2 * pair}).status());
        return txn.Execute("INSERT INTO items (id) VALUES (?)", {2 * pair + 1}).status();
      });
      EXPECT_TRUE(status.ok()) << status.ToString();
    }
    writing = false;
  });
  std::vector<std::thread> readers;
  for (int reader_idx = 0; reader_idx < 4; ++reader_idx) {
    readers.emplace_back([&] {
      int64_t last_count = 0;
      while (writing) {
        core::Status status = db_->Read([&](Transaction& txn) -> core::Status {
          LAKEML_ASSIGN_OR_RETURN(auto first, txn.Query("SELECT COUNT(*) FROM items"));
          LAKEML_ASSIGN_OR_RETURN(auto max_id, txn.Query("SELECT MAX(id) FROM items"));
          LAKEML_ASSIGN_OR_RETURN(auto second, txn.Query("SELECT COUNT(*) FROM items"));
          const int64_t count = first[0].Int(0);
          EXPECT_EQ(count % 2, 0);
          EXPECT_EQ(second[0].Int(0), count);  // Same snapshot within one Read.
          if (count > 0) {
            EXPECT_EQ(max_id[0].Int(0), count - 1);
          }
          EXPECT_GE(count, last_count);
          last_count = count;
          return core::Status::Ok();
        });
        EXPECT_TRUE(status.ok()) << status.ToString();
        ++reads;
      }
    });
  }
  writer.join();
  for (auto& reader : readers) reader.join();
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(CountItems(), 2 * kPairs);
}

TEST_P(DatabaseTest, ReopenAfterCloseKeepsData) {
  Open();
  CreateTable();
  ASSERT_TRUE(Insert(1, std::string("kept")).ok());
  Open();
  auto rows = Select("SELECT text_value FROM items WHERE id = ?", {int64_t{1}});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].Text(0), "kept");
}

INSTANTIATE_TEST_SUITE_P(Backends, DatabaseTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres), BackendName);

// URI dispatch and backend-specific behaviour.

TEST(OpenDatabaseTest, UnknownSchemeIsInvalidArgument) {
  auto opened = OpenDatabase("mysql://user:secret@localhost/db");
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(opened.status().message().find("secret"), std::string::npos);
}

TEST(OpenDatabaseTest, SqliteUriCreatesParentDirectories) {
  auto dir = std::filesystem::path(::testing::TempDir()) /
             ("lakeml_metastore_uri_" + std::to_string(getpid()) + "_" + core::RandomHex(8));
  // Four slashes: SQLAlchemy's spelling of an absolute path.
  auto opened = OpenDatabase("sqlite:///" + (dir / "a" / "b" / "meta.db").string());
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ((*opened)->dialect(), Dialect::kSqlite);
  opened = core::Status();  // Close before removing the files.
  EXPECT_TRUE(std::filesystem::exists(dir / "a" / "b" / "meta.db"));
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}

TEST(OpenDatabaseTest, UnreachablePostgresIsUnavailableWithoutPassword) {
  auto opened = OpenDatabase("postgresql://lakeml:s3cr3t-pw@127.0.0.1:1/meta?connect_timeout=5");
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kUnavailable) << opened.status().ToString();
  EXPECT_EQ(opened.status().message().find("s3cr3t-pw"), std::string::npos);
  EXPECT_NE(opened.status().message().find("127.0.0.1:1/meta"), std::string::npos);
}

class SqliteDatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("lakeml_sqlite_" + std::to_string(getpid()) + "_" + core::RandomHex(8));
    std::filesystem::create_directories(dir_);
    auto opened = SqliteDatabase::Open((dir_ / "meta.db").string());
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    db_ = std::move(opened).value();
  }
  void TearDown() override {
    db_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  std::filesystem::path dir_;
  std::unique_ptr<SqliteDatabase> db_;
};

TEST_F(SqliteDatabaseTest, ConnectionsUseWalAndEnforceForeignKeys) {
  ASSERT_TRUE(db_->Read([](Transaction& txn) -> core::Status {
                   LAKEML_ASSIGN_OR_RETURN(auto mode, txn.Query("PRAGMA journal_mode"));
                   EXPECT_EQ(mode[0].Text(0), "wal");
                   LAKEML_ASSIGN_OR_RETURN(auto foreign_keys, txn.Query("PRAGMA foreign_keys"));
                   EXPECT_EQ(foreign_keys[0].Int(0), 1);
                   LAKEML_ASSIGN_OR_RETURN(auto synchronous, txn.Query("PRAGMA synchronous"));
                   EXPECT_EQ(synchronous[0].Int(0), 1);  // NORMAL.
                   return core::Status::Ok();
                 })
                  .ok());
}

// A work that ends the shared transaction itself (here by ROLLBACK; SQLite does the same on
// e.g. a full disk) must not cost the other works of its group their changes.
TEST_F(SqliteDatabaseTest, WorkEndingTheGroupTransactionDoesNotLoseOthers) {
  ASSERT_TRUE(db_->Write([](Transaction& txn) {
                   return txn.Execute("CREATE TABLE items (id BIGINT PRIMARY KEY)").status();
                 })
                  .ok());
  constexpr int kThreads = 8;
  constexpr int kWritesPerThread = 100;
  std::vector<std::thread> threads;
  std::vector<std::vector<core::Status>> statuses(kThreads);
  for (int thread_idx = 0; thread_idx < kThreads; ++thread_idx) {
    threads.emplace_back([&, thread_idx] {
      for (int i = 0; i < kWritesPerThread; ++i) {
        const int64_t id = thread_idx * kWritesPerThread + i;
        statuses[thread_idx].push_back(db_->Write([id](Transaction& txn) -> core::Status {
          LAKEML_RETURN_IF_ERROR(txn.Execute("INSERT INTO items (id) VALUES (?)", {id}).status());
          if (id % 13 == 0) return txn.Execute("ROLLBACK").status();
          return core::Status::Ok();
        }));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  std::set<int64_t> expected;
  for (int thread_idx = 0; thread_idx < kThreads; ++thread_idx) {
    for (int i = 0; i < kWritesPerThread; ++i) {
      const int64_t id = thread_idx * kWritesPerThread + i;
      if (id % 13 == 0) {
        EXPECT_FALSE(statuses[thread_idx][i].ok()) << id;
      } else {
        EXPECT_TRUE(statuses[thread_idx][i].ok())
            << id << ": " << statuses[thread_idx][i].ToString();
        expected.insert(id);
      }
    }
  }
  std::set<int64_t> persisted;
  ASSERT_TRUE(db_->Read([&](Transaction& txn) -> core::Status {
                   LAKEML_ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT id FROM items"));
                   for (const Row& row : rows) persisted.insert(row.Int(0));
                   return core::Status::Ok();
                 })
                  .ok());
  EXPECT_EQ(persisted, expected);
}

TEST(PlaceholderRewriteTest, NumbersPlaceholdersOutsideQuotesAndComments) {
  int num_params = -1;
  EXPECT_EQ(internal::RewritePlaceholders("SELECT ?, '?', 'it''s ?', \"a?\" -- why?\n, ? /* ? */",
                                          &num_params),
            "SELECT $1, '?', 'it''s ?', \"a?\" -- why?\n, $2 /* ? */");
  EXPECT_EQ(num_params, 2);
  EXPECT_EQ(
      internal::RewritePlaceholders("x = ? AND y IN (?, ?, ?, ?, ?, ?, ?, ?, ?)", &num_params),
      "x = $1 AND y IN ($2, $3, $4, $5, $6, $7, $8, $9, $10)");
  EXPECT_EQ(num_params, 10);
  EXPECT_EQ(internal::RewritePlaceholders("SELECT 'unterminated ?", &num_params),
            "SELECT 'unterminated ?");
  EXPECT_EQ(num_params, 0);
}

}  // namespace
}  // namespace lakeml::metastore
