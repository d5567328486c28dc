#include "metastore/sqlite_database.h"

#include <sqlite3.h>

#include <exception>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace lakeml::metastore {

namespace {

struct Sqlite3Closer {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StatementFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using StatementPtr = std::unique_ptr<sqlite3_stmt, StatementFinalizer>;

// Heterogeneous lookup, so the hot path looks statements up by string_view without copying.
struct SqlHash {
  using is_transparent = void;
  size_t operator()(std::string_view sql) const { return std::hash<std::string_view>{}(sql); }
};

// Caps the statement cache so callers that build SQL dynamically (IN lists of varying length)
// cannot grow it without bound; constant SQL stays far below this.
constexpr size_t kMaxCachedStatements = 2000;

bool IsBlank(std::string_view text) {
  for (char c : text) {
    if (c != ' ' && c != '\n' && c != '\t' && c != '\r' && c != ';') return false;
  }
  return true;
}

}  // namespace

// One sqlite3 handle with its prepared-statement cache. Used by one thread at a time (the pool or
// the single committing Write() guarantees that), so it has no lock of its own.
class SqliteConnection {
 public:
  static core::Result<std::unique_ptr<SqliteConnection>> Open(const std::string& path, bool writer,
                                                              int busy_timeout_ms) {
    sqlite3* raw = nullptr;
    // NOMUTEX: each connection is confined to one thread at a time, so SQLite's own per-connection
    // mutex would only cost time.
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
    if (writer) flags |= SQLITE_OPEN_CREATE;
    int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
    std::unique_ptr<sqlite3, Sqlite3Closer> handle(raw);
    if (rc != SQLITE_OK) {
      return core::Internal("cannot open sqlite database '{}': {}", path,
                            raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
    }
    sqlite3_extended_result_codes(raw, 1);
    sqlite3_busy_timeout(raw, busy_timeout_ms);
    auto connection = std::make_unique<SqliteConnection>(std::move(handle));
    // journal_mode is persistent in the file, so only the writer (opened first) sets it.
    // query_only on readers turns an accidental write inside Read() into an error instead of a
    // second writer competing with the writer connection.
    std::string pragmas = writer ? "PRAGMA journal_mode=WAL;" : "PRAGMA query_only=ON;";
    // cache_size: 8 MiB instead of SQLite's 2 MiB holds a search's working set (index pages of
    // runs, params and latest_metrics), so repeated searches stop re-reading it from the OS.
    // Not mmap_size: each connection would map the file separately, and every mapping counts
    // the pages it touched in the server's RSS again (nine connections of a 30 MB database).
    pragmas +=
        "PRAGMA synchronous=NORMAL;"
        "PRAGMA foreign_keys=ON;"
        "PRAGMA case_sensitive_like=ON;"
        "PRAGMA temp_store=MEMORY;"
        "PRAGMA cache_size=-8192;";
    char* error = nullptr;
    rc = sqlite3_exec(raw, pragmas.c_str(), nullptr, nullptr, &error);
    if (rc != SQLITE_OK) {
      std::string message = error != nullptr ? error : sqlite3_errstr(rc);
      sqlite3_free(error);
      return core::Internal("cannot configure sqlite database '{}': {}", path, message);
    }
    return connection;
  }

  explicit SqliteConnection(std::unique_ptr<sqlite3, Sqlite3Closer> db) : db_(std::move(db)) {}

  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  sqlite3* handle() const { return db_.get(); }

  // Turns the connection's last error into a Status (see the mapping in Transaction's contract).
  core::Status LastError(std::string_view action) const {
    int code = sqlite3_extended_errcode(db_.get());
    const char* message = sqlite3_errmsg(db_.get());
    if (code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY) {
      return core::AlreadyExists("sqlite {} failed: {}", action, message);
    }
    int primary = code & 0xff;
    if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
      return core::Aborted("sqlite {} failed: {}", action, message);
    }
    return core::Internal("sqlite {} failed: {}", action, message);
  }

  // Returns the cached statement for `sql`, preparing it on first use. The statement is reset and
  // unbound; the caller must Release() it after use.
  core::Result<sqlite3_stmt*> Prepare(std::string_view sql) {
    auto it = statements_.find(sql);
    if (it != statements_.end()) return it->second.get();
    if (statements_.size() >= kMaxCachedStatements) statements_.clear();
    sqlite3_stmt* raw = nullptr;
    const char* tail = nullptr;
    int rc = sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &raw, &tail);
    StatementPtr statement(raw);
    if (rc != SQLITE_OK) return LastError("prepare");
    if (statement == nullptr) return core::InvalidArgument("sql statement is empty");
    if (!IsBlank(std::string_view(tail, sql.data() + sql.size() - tail))) {
      return core::InvalidArgument("sql holds more than one statement: '{}'", sql);
    }
    return statements_.emplace(std::string(sql), std::move(statement)).first->second.get();
  }

  static void Release(sqlite3_stmt* statement) {
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
  }

  // Runs a parameterless statement (BEGIN, SAVEPOINT, ...) through the cache.
  core::Status Exec(std::string_view sql) {
    LAKEML_ASSIGN_OR_RETURN(sqlite3_stmt * statement, Prepare(sql));
    int rc = sqlite3_step(statement);
    core::Status status = core::Status::Ok();
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) status = LastError(sql);
    Release(statement);
    return status;
  }

  bool InTransaction() const { return sqlite3_get_autocommit(db_.get()) == 0; }

 private:
  // Members are destroyed in reverse order: the statements are finalized before the handle
  // closes, so sqlite3_close_v2 frees it at once instead of deferring.
  std::unique_ptr<sqlite3, Sqlite3Closer> db_;
  std::unordered_map<std::string, StatementPtr, SqlHash, std::equal_to<>> statements_;
};

namespace {

class SqliteTransaction final : public Transaction {
 public:
  explicit SqliteTransaction(SqliteConnection& connection) : connection_(connection) {}

  Dialect dialect() const override { return Dialect::kSqlite; }

  core::Result<int64_t> Execute(std::string_view sql, const std::vector<Value>& params) override {
    LAKEML_ASSIGN_OR_RETURN(sqlite3_stmt * statement, connection_.Prepare(sql));
    core::Status status = Bind(statement, params);
    int rc = SQLITE_ROW;
    while (status.ok() && rc == SQLITE_ROW) {
      rc = sqlite3_step(statement);
      if (rc != SQLITE_ROW && rc != SQLITE_DONE) status = connection_.LastError("statement");
    }
    SqliteConnection::Release(statement);
    LAKEML_RETURN_IF_ERROR(status);
    return static_cast<int64_t>(sqlite3_changes64(connection_.handle()));
  }

  core::Result<std::vector<Row>> Query(std::string_view sql,
                                       const std::vector<Value>& params) override {
    LAKEML_ASSIGN_OR_RETURN(sqlite3_stmt * statement, connection_.Prepare(sql));
    core::Status status = Bind(statement, params);
    std::vector<Row> rows;
    while (status.ok()) {
      int rc = sqlite3_step(statement);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) {
        status = connection_.LastError("query");
        break;
      }
      rows.emplace_back(ReadRow(statement));
    }
    SqliteConnection::Release(statement);
    LAKEML_RETURN_IF_ERROR(status);
    return rows;
  }

 private:
  core::Status Bind(sqlite3_stmt* statement, const std::vector<Value>& params) {
    int expected = sqlite3_bind_parameter_count(statement);
    if (static_cast<size_t>(expected) != params.size()) {
      return core::InvalidArgument("sql statement takes {} parameters but {} were given", expected,
                                   params.size());
    }
    for (size_t i = 0; i < params.size(); ++i) {
      int idx = static_cast<int>(i) + 1;
      const Value& value = params[i];
      int rc = SQLITE_OK;
      if (std::holds_alternative<std::monostate>(value)) {
        rc = sqlite3_bind_null(statement, idx);
      } else if (const auto* integer = std::get_if<int64_t>(&value)) {
        rc = sqlite3_bind_int64(statement, idx, *integer);
      } else if (const auto* real = std::get_if<double>(&value)) {
        rc = sqlite3_bind_double(statement, idx, *real);
      } else {
        const auto& text = std::get<std::string>(value);
        // SQLITE_STATIC: `params` outlives the statement's use, which ends in Release().
        rc = sqlite3_bind_text64(statement, idx, text.data(), text.size(), SQLITE_STATIC,
                                 SQLITE_UTF8);
      }
      if (rc != SQLITE_OK) return connection_.LastError("bind");
    }
    return core::Status::Ok();
  }

  static Row ReadRow(sqlite3_stmt* statement) {
    int num_columns = sqlite3_column_count(statement);
    std::vector<Value> values;
    values.reserve(num_columns);
    for (int col = 0; col < num_columns; ++col) {
      switch (sqlite3_column_type(statement, col)) {
        case SQLITE_INTEGER:
          values.emplace_back(static_cast<int64_t>(sqlite3_column_int64(statement, col)));
          break;
        case SQLITE_FLOAT:
          values.emplace_back(sqlite3_column_double(statement, col));
          break;
        case SQLITE_NULL:
          values.emplace_back(std::monostate{});
          break;
        default: {  // TEXT or BLOB.
          const auto* data = static_cast<const char*>(sqlite3_column_blob(statement, col));
          int size = sqlite3_column_bytes(statement, col);
          values.emplace_back(data != nullptr ? std::string(data, size) : std::string());
        }
      }
    }
    return Row(std::move(values));
  }

  SqliteConnection& connection_;
};

// Runs a caller's work, turning an escaping exception into a Status: it would otherwise unwind
// through an open transaction, leaving the connection (and the waiting callers) stuck.
core::Status RunWork(const TransactionWork& work, Transaction& txn) {
  try {
    return work(txn);
  } catch (const std::exception& e) {
    return core::Internal("transaction work threw: {}", e.what());
  } catch (...) {
    return core::Internal("transaction work threw a non-standard exception");
  }
}

constexpr std::string_view kSavepoint = "SAVEPOINT lakeml_work";
constexpr std::string_view kRollbackToSavepoint = "ROLLBACK TO lakeml_work";
constexpr std::string_view kReleaseSavepoint = "RELEASE lakeml_work";

}  // namespace

// A Write() call in the queue; lives on the caller's stack.
struct SqliteDatabase::PendingWrite {
  const TransactionWork* work;
  core::Status status;
  bool done = false;  // Guarded by queue_mu_: another caller committed (or failed) this work.
  bool lead = false;  // Guarded by queue_mu_: this caller is to commit the next group.
  std::condition_variable cv;  // Signalled when `done` or `lead` is set.
};

core::Result<std::unique_ptr<SqliteDatabase>> SqliteDatabase::Open(const std::string& path,
                                                                   const SqliteOptions& options) {
  LAKEML_ASSIGN_OR_RETURN(auto writer,
                          SqliteConnection::Open(path, /*writer=*/true, options.busy_timeout_ms));
  return std::make_unique<SqliteDatabase>(path, options, std::move(writer));
}

SqliteDatabase::SqliteDatabase(std::string path, SqliteOptions options,
                               std::unique_ptr<SqliteConnection> writer)
    : path_(std::move(path)), options_(options), writer_(std::move(writer)) {}

SqliteDatabase::~SqliteDatabase() {
  std::lock_guard lock(queue_mu_);
  stopping_ = true;
}

core::Status SqliteDatabase::Write(const TransactionWork& work) {
  PendingWrite pending;
  pending.work = &work;
  std::unique_lock lock(queue_mu_);
  if (stopping_) return core::Unavailable("sqlite database '{}' is closing", path_);
  queue_.push_back(&pending);
  if (committing_) {
    pending.cv.wait(lock, [&] { return pending.done || pending.lead; });
    if (pending.done) return std::move(pending.status);
  }
  // This caller commits: it is alone, or the previous committer handed over to it (then it is
  // the queue's front). Either way its own work is in the group it takes. Committing on the
  // caller's thread rather than a dedicated writer thread saves a thread switch per group, and
  // an uncontended write sleeps not at all.
  committing_ = true;
  std::vector<PendingWrite*> group;
  while (!queue_.empty() && group.size() < options_.max_group_size) {
    group.push_back(queue_.front());
    queue_.pop_front();
  }
  lock.unlock();
  CommitGroup(group);
  lock.lock();
  for (PendingWrite* other : group) {
    if (other == &pending) continue;
    other->done = true;
    other->cv.notify_one();
  }
  if (queue_.empty()) {
    committing_ = false;
  } else {
    queue_.front()->lead = true;
    queue_.front()->cv.notify_one();
  }
  return std::move(pending.status);
}

void SqliteDatabase::CommitGroup(const std::vector<PendingWrite*>& group) {
  SqliteConnection& connection = *writer_;
  SqliteTransaction txn(connection);
  std::vector<PendingWrite*> remaining = group;
  // Normally one pass. A work whose failure ends the whole transaction (SQLite rolls back on
  // e.g. SQLITE_FULL, or the work ran ROLLBACK itself) keeps its error, and the works that
  // succeeded before it lost their changes too, so they run again in a fresh transaction. Each
  // extra pass settles at least one work, so this ends.
  while (!remaining.empty()) {
    core::Status begin = connection.Exec("BEGIN IMMEDIATE");
    if (!begin.ok()) {
      for (PendingWrite* pending : remaining) pending->status = begin;
      return;
    }
    std::vector<PendingWrite*> succeeded;
    std::vector<PendingWrite*> rerun;
    for (PendingWrite* pending : remaining) {
      if (!connection.InTransaction()) {
        rerun.push_back(pending);
        continue;
      }
      core::Status status = connection.Exec(kSavepoint);
      if (status.ok()) status = RunWork(*pending->work, txn);
      if (!connection.InTransaction()) {
        pending->status = status.ok() ? core::Internal("transaction work ended the transaction")
                                      : std::move(status);
        rerun.insert(rerun.end(), succeeded.begin(), succeeded.end());
        succeeded.clear();
        continue;
      }
      if (status.ok()) {
        status = connection.Exec(kReleaseSavepoint);
        if (status.ok()) {
          succeeded.push_back(pending);
          continue;
        }
      }
      pending->status = std::move(status);
      // Undo only this work; ROLLBACK TO keeps the savepoint open, so release it as well.
      core::Status undo = connection.Exec(kRollbackToSavepoint);
      if (undo.ok()) undo = connection.Exec(kReleaseSavepoint);
      if (!undo.ok() && connection.InTransaction()) {
        // The transaction can no longer be trusted to exclude this work: abandon it and retry
        // the others.
        connection.Exec("ROLLBACK").IgnoreError();  // Failure leaves nothing more to undo.
      }
      if (!connection.InTransaction()) {
        rerun.insert(rerun.end(), succeeded.begin(), succeeded.end());
        succeeded.clear();
      }
    }
    if (connection.InTransaction()) {
      core::Status commit = connection.Exec("COMMIT");
      if (!commit.ok()) {
        if (connection.InTransaction()) {
          connection.Exec("ROLLBACK").IgnoreError();  // The COMMIT error is what callers see.
        }
        for (PendingWrite* pending : succeeded) pending->status = commit;
        for (PendingWrite* pending : rerun) pending->status = commit;
        return;
      }
    }
    for (PendingWrite* pending : succeeded) pending->status = core::Status::Ok();
    remaining = std::move(rerun);
  }
}

core::Status SqliteDatabase::Read(const TransactionWork& work) {
  LAKEML_ASSIGN_OR_RETURN(auto reader, CheckoutReader());
  core::Status status = reader->Exec("BEGIN");
  if (status.ok()) {
    SqliteTransaction txn(*reader);
    status = RunWork(work, txn);
    // A read-only transaction has nothing to keep; COMMIT just ends the snapshot.
    core::Status end = reader->InTransaction() ? reader->Exec("COMMIT") : core::Status::Ok();
    if (status.ok()) status = std::move(end);
  }
  if (reader->InTransaction()) reader->Exec("ROLLBACK").IgnoreError();  // Dropped below if stuck.
  ReturnReader(std::move(reader));
  return status;
}

core::Result<std::unique_ptr<SqliteConnection>> SqliteDatabase::CheckoutReader() {
  {
    std::unique_lock lock(readers_mu_);
    readers_cv_.wait(
        lock, [&] { return !idle_readers_.empty() || open_readers_ < options_.max_readers; });
    if (!idle_readers_.empty()) {
      auto reader = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return reader;
    }
    ++open_readers_;  // Reserve the slot; opening happens outside the lock.
  }
  auto reader = SqliteConnection::Open(path_, /*writer=*/false, options_.busy_timeout_ms);
  if (!reader.ok()) {
    {
      std::lock_guard lock(readers_mu_);
      --open_readers_;
    }
    readers_cv_.notify_one();
  }
  return reader;
}

void SqliteDatabase::ReturnReader(std::unique_ptr<SqliteConnection> reader) {
  {
    std::lock_guard lock(readers_mu_);
    if (reader->InTransaction()) {
      --open_readers_;  // Could not end its transaction: close it rather than reuse it.
    } else {
      idle_readers_.push_back(std::move(reader));
    }
  }
  readers_cv_.notify_one();
}

}  // namespace lakeml::metastore
