#include "metastore/postgres_database.h"

#include <libpq-fe.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <exception>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>

#include "core/ids.h"
#include "metastore/internal/pg_placeholders.h"

namespace lakeml::metastore {

namespace {

// Type OIDs from pg_type.h (stable across PostgreSQL versions; the server headers are not needed).
constexpr Oid kBoolOid = 16;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;
constexpr Oid kNumericOid = 1700;

constexpr size_t kMaxPreparedStatements = 2000;

constexpr std::string_view kUniqueViolation = "23505";
constexpr std::string_view kSerializationFailure = "40001";
constexpr std::string_view kDeadlockDetected = "40P01";

struct ConnCloser {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
struct ResultClearer {
  void operator()(PGresult* result) const { PQclear(result); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultClearer>;

void IgnoreNotice(void* /*arg*/, const char* /*message*/) {}

std::string_view TrimNewline(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  return text;
}

// The passwords in a libpq URI (`scheme://user:pw@host/...`, `...?password=pw`), to scrub them
// from messages.
std::vector<std::string> UriSecrets(std::string_view uri) {
  std::vector<std::string> secrets;
  size_t start = uri.find("://");
  if (start != std::string_view::npos) {
    std::string_view rest = uri.substr(start + 3);
    size_t at = rest.find('@');
    size_t slash = rest.find('/');
    if (at != std::string_view::npos && (slash == std::string_view::npos || at < slash)) {
      std::string_view userinfo = rest.substr(0, at);
      size_t colon = userinfo.find(':');
      if (colon != std::string_view::npos && colon + 1 < userinfo.size()) {
        secrets.emplace_back(userinfo.substr(colon + 1));
      }
    }
  }
  size_t param = uri.find("password=");
  if (param != std::string_view::npos) {
    std::string_view value = uri.substr(param + 9);
    value = value.substr(0, value.find('&'));
    if (!value.empty()) secrets.emplace_back(value);
  }
  return secrets;
}

std::string Redact(std::string text, const std::vector<std::string>& secrets) {
  for (const std::string& secret : secrets) {
    for (size_t pos = text.find(secret); pos != std::string::npos;
         pos = text.find(secret, pos + 3)) {
      text.replace(pos, secret.size(), "***");
    }
  }
  return text;
}

// `host:port/db` of a URI, for messages: everything after the userinfo, without the query.
std::string UriTarget(std::string_view uri) {
  size_t start = uri.find("://");
  std::string_view rest = start == std::string_view::npos ? uri : uri.substr(start + 3);
  size_t slash = rest.find('/');
  size_t at = rest.find('@');
  if (at != std::string_view::npos && (slash == std::string_view::npos || at < slash)) {
    rest = rest.substr(at + 1);
  }
  return std::string(rest.substr(0, rest.find('?')));
}

}  // namespace

namespace internal {

// A quoted literal or identifier is copied whole up to its closing quote; a doubled quote ('')
// simply closes and reopens it, so it needs no special case.
std::string RewritePlaceholders(std::string_view sql, int* num_params) {
  std::string out;
  out.reserve(sql.size() + 16);
  int count = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    char c = sql[i];
    if (c == '\'' || c == '"') {
      size_t end = sql.find(c, i + 1);
      if (end == std::string_view::npos) end = sql.size() - 1;
      out.append(sql.substr(i, end - i + 1));
      i = end;
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      size_t end = sql.find('\n', i);
      if (end == std::string_view::npos) end = sql.size() - 1;
      out.append(sql.substr(i, end - i + 1));
      i = end;
    } else if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
      size_t end = sql.find("*/", i + 2);
      end = end == std::string_view::npos ? sql.size() - 1 : end + 1;
      out.append(sql.substr(i, end - i + 1));
      i = end;
    } else if (c == '?') {
      out += '$';
      out += std::to_string(++count);
    } else {
      out += c;
    }
  }
  *num_params = count;
  return out;
}

}  // namespace internal

// One libpq connection and the statements prepared on it, keyed by SQL text plus parameter
// types. Used by one thread at a time (the pool guarantees it), so it has no lock of its own.
class PostgresConnection {
 public:
  explicit PostgresConnection(std::unique_ptr<PGconn, ConnCloser> conn) : conn_(std::move(conn)) {}

  static core::Result<std::unique_ptr<PostgresConnection>> Connect(const std::string& uri) {
    // libpq waits for an unreachable host as long as TCP does (minutes) unless told otherwise.
    // Keywords repeated later win, so a connect_timeout inside the URI still takes precedence.
    const char* keywords[] = {"connect_timeout", "dbname", nullptr};
    const char* values[] = {"10", uri.c_str(), nullptr};
    std::unique_ptr<PGconn, ConnCloser> conn(
        PQconnectdbParams(keywords, values, /*expand_dbname=*/1));
    if (conn == nullptr) return core::Unavailable("cannot allocate a postgresql connection");
    if (PQstatus(conn.get()) != CONNECTION_OK) {
      std::string message(TrimNewline(PQerrorMessage(conn.get())));
      return core::Unavailable("cannot connect to postgresql at '{}': {}", UriTarget(uri),
                               Redact(std::move(message), UriSecrets(uri)));
    }
    // Notices ("relation already exists, skipping") would go to stderr by default.
    PQsetNoticeProcessor(conn.get(), IgnoreNotice, nullptr);
    return std::make_unique<PostgresConnection>(std::move(conn));
  }

  PGconn* handle() const { return conn_.get(); }
  bool Healthy() const { return PQstatus(conn_.get()) == CONNECTION_OK; }
  bool Idle() const { return PQtransactionStatus(conn_.get()) == PQTRANS_IDLE; }
  bool InFailedTransaction() const { return PQtransactionStatus(conn_.get()) == PQTRANS_INERROR; }

  // Turns a failed result (or a missing one) into a Status.
  core::Status ErrorOf(const PGresult* result, std::string_view action) const {
    if (!Healthy()) {
      return core::Unavailable("postgresql connection lost during {}: {}", action,
                               TrimNewline(PQerrorMessage(conn_.get())));
    }
    if (result == nullptr) {
      return core::Internal("postgresql {} failed: {}", action,
                            TrimNewline(PQerrorMessage(conn_.get())));
    }
    const char* sqlstate_field = PQresultErrorField(result, PG_DIAG_SQLSTATE);
    std::string_view sqlstate = sqlstate_field != nullptr ? sqlstate_field : "";
    const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
    std::string message = primary != nullptr
                              ? std::string(primary)
                              : std::string(TrimNewline(PQresultErrorMessage(result)));
    if (sqlstate == kUniqueViolation) {
      return core::AlreadyExists("postgresql {} failed: {}", action, message);
    }
    if (sqlstate == kSerializationFailure || sqlstate == kDeadlockDetected) {
      return core::Aborted("postgresql {} failed: {} (sqlstate {})", action, message, sqlstate);
    }
    return core::Internal("postgresql {} failed: {} (sqlstate {})", action, message, sqlstate);
  }

  // Runs a parameterless command (BEGIN, COMMIT, ...).
  core::Status Command(const char* sql) {
    ResultPtr result(PQexec(conn_.get(), sql));
    if (result == nullptr || PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
      return ErrorOf(result.get(), sql);
    }
    return core::Status::Ok();
  }

  // Runs `sql` (with `?` placeholders) through a statement prepared on first use.
  core::Result<ResultPtr> Run(std::string_view sql, const std::vector<Value>& params) {
    // Integers and doubles are sent typed, so untyped spots (`SELECT ?`, `? IS NULL`,
    // `COALESCE(?, 0)`) still work; text and NULL are left to the server to infer from context
    // (a string may well be meant for a BIGINT column). The types are part of the cache key.
    std::string key(sql);
    key += '\x1f';
    param_types_.clear();
    for (const Value& value : params) {
      Oid type = 0;
      if (std::holds_alternative<int64_t>(value)) type = kInt8Oid;
      if (std::holds_alternative<double>(value)) type = kFloat8Oid;
      param_types_.push_back(type);
      key += type == kInt8Oid ? 'i' : type == kFloat8Oid ? 'd' : 'u';
    }
    auto it = prepared_.find(key);
    if (it == prepared_.end()) {
      int num_params = 0;
      std::string rewritten = internal::RewritePlaceholders(sql, &num_params);
      if (static_cast<size_t>(num_params) != params.size()) {
        return core::InvalidArgument("sql statement takes {} parameters but {} were given",
                                     num_params, params.size());
      }
      if (prepared_.size() >= kMaxPreparedStatements) {
        // Bounds server and client memory when callers build SQL dynamically; constant SQL
        // stays far below the cap.
        LAKEML_RETURN_IF_ERROR(Command("DEALLOCATE ALL"));
        prepared_.clear();
      }
      std::string name = "s" + std::to_string(++statement_counter_);
      ResultPtr prepared(
          PQprepare(conn_.get(), name.c_str(), rewritten.c_str(), num_params, param_types_.data()));
      if (prepared == nullptr || PQresultStatus(prepared.get()) != PGRES_COMMAND_OK) {
        return ErrorOf(prepared.get(), "prepare");
      }
      it = prepared_.emplace(std::move(key), std::move(name)).first;
    }

    param_text_.resize(params.size());
    param_values_.resize(params.size());
    for (size_t i = 0; i < params.size(); ++i) {
      const Value& value = params[i];
      param_values_[i] = nullptr;
      if (const auto* integer = std::get_if<int64_t>(&value)) {
        param_text_[i] = std::to_string(*integer);
      } else if (const auto* real = std::get_if<double>(&value)) {
        param_text_[i] = FormatDouble(*real);
      } else if (const auto* text = std::get_if<std::string>(&value)) {
        param_values_[i] = text->c_str();
        continue;
      } else {
        continue;  // NULL.
      }
      param_values_[i] = param_text_[i].c_str();
    }
    ResultPtr result(PQexecPrepared(conn_.get(), it->second.c_str(),
                                    static_cast<int>(params.size()), param_values_.data(), nullptr,
                                    nullptr, /*resultFormat=*/0));
    ExecStatusType status = result != nullptr ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      return ErrorOf(result.get(), "statement");
    }
    return result;
  }

 private:
  static std::string FormatDouble(double value) {
    if (std::isnan(value)) return "NaN";
    if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
    return fmt::format("{}", value);  // Shortest text that reads back to the same double.
  }

  std::unique_ptr<PGconn, ConnCloser> conn_;
  std::unordered_map<std::string, std::string> prepared_;  // Key -> statement name.
  int64_t statement_counter_ = 0;  // Names are never reused, even after DEALLOCATE ALL.
  // Scratch buffers reused across statements.
  std::vector<Oid> param_types_;
  std::vector<std::string> param_text_;
  std::vector<const char*> param_values_;
};

namespace {

Value ParseCell(const PGresult* result, int row, int col) {
  if (PQgetisnull(result, row, col)) return std::monostate{};
  const char* data = PQgetvalue(result, row, col);
  std::string_view text(data, PQgetlength(result, row, col));
  switch (PQftype(result, col)) {
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid: {
      int64_t integer = 0;
      std::from_chars(text.data(), text.data() + text.size(), integer);
      return integer;
    }
    case kBoolOid:
      return static_cast<int64_t>(text == "t" ? 1 : 0);
    case kFloat4Oid:
    case kFloat8Oid:
    case kNumericOid: {
      // from_chars reads "NaN", "Infinity" and "-Infinity" as well, and ignores the locale.
      double real = 0;
      std::from_chars(text.data(), text.data() + text.size(), real);
      return real;
    }
    default:
      return std::string(text);
  }
}

class PostgresTransaction final : public Transaction {
 public:
  explicit PostgresTransaction(PostgresConnection& connection) : connection_(connection) {}

  Dialect dialect() const override { return Dialect::kPostgres; }

  core::Result<int64_t> Execute(std::string_view sql, const std::vector<Value>& params) override {
    LAKEML_ASSIGN_OR_RETURN(ResultPtr result, connection_.Run(sql, params));
    std::string_view affected = PQcmdTuples(result.get());
    int64_t count = 0;
    std::from_chars(affected.data(), affected.data() + affected.size(), count);
    return count;
  }

  core::Result<std::vector<Row>> Query(std::string_view sql,
                                       const std::vector<Value>& params) override {
    LAKEML_ASSIGN_OR_RETURN(ResultPtr result, connection_.Run(sql, params));
    int num_rows = PQntuples(result.get());
    int num_columns = PQnfields(result.get());
    std::vector<Row> rows;
    rows.reserve(num_rows);
    for (int row = 0; row < num_rows; ++row) {
      std::vector<Value> values;
      values.reserve(num_columns);
      for (int col = 0; col < num_columns; ++col)
        values.push_back(ParseCell(result.get(), row, col));
      rows.emplace_back(std::move(values));
    }
    return rows;
  }

 private:
  PostgresConnection& connection_;
};

// Turns an escaping exception into a Status, so it cannot unwind past an open transaction.
core::Status RunWork(const TransactionWork& work, Transaction& txn) {
  try {
    return work(txn);
  } catch (const std::exception& e) {
    return core::Internal("transaction work threw: {}", e.what());
  } catch (...) {
    return core::Internal("transaction work threw a non-standard exception");
  }
}

constexpr const char* kBeginWrite = "BEGIN";
constexpr const char* kBeginRead = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

}  // namespace

core::Result<std::unique_ptr<PostgresDatabase>> PostgresDatabase::Open(
    const std::string& uri, const PostgresOptions& options) {
  LAKEML_ASSIGN_OR_RETURN(auto first, PostgresConnection::Connect(uri));
  return std::make_unique<PostgresDatabase>(uri, options, std::move(first));
}

PostgresDatabase::PostgresDatabase(std::string uri, PostgresOptions options,
                                   std::unique_ptr<PostgresConnection> first)
    : uri_(std::move(uri)), options_(options) {
  idle_.push_back(std::move(first));
  open_connections_ = 1;
}

PostgresDatabase::~PostgresDatabase() = default;

core::Result<std::unique_ptr<PostgresConnection>> PostgresDatabase::Checkout() {
  {
    std::unique_lock lock(pool_mu_);
    pool_cv_.wait(lock,
                  [&] { return !idle_.empty() || open_connections_ < options_.max_connections; });
    if (!idle_.empty()) {
      auto connection = std::move(idle_.back());
      idle_.pop_back();
      return connection;
    }
    ++open_connections_;  // Reserve the slot; connecting happens outside the lock.
  }
  auto connection = PostgresConnection::Connect(uri_);
  if (!connection.ok()) {
    {
      std::lock_guard lock(pool_mu_);
      --open_connections_;
    }
    pool_cv_.notify_one();
  }
  return connection;
}

void PostgresDatabase::Return(std::unique_ptr<PostgresConnection> connection) {
  {
    std::lock_guard lock(pool_mu_);
    if (connection->Healthy() && connection->Idle()) {
      idle_.push_back(std::move(connection));
    } else {
      --open_connections_;  // Broken, or stuck in a transaction: never hand it out again.
    }
  }
  pool_cv_.notify_one();
}

core::Status PostgresDatabase::RunTransaction(const char* begin_sql, const TransactionWork& work) {
  std::unique_ptr<PostgresConnection> connection;
  core::Status status;
  // A pooled connection may have died while idle (server restart, idle timeout); that shows only
  // when it is used. Nothing has run yet when BEGIN fails, so try a fresh connection instead, at
  // most once per pool slot.
  for (int attempt = 0; attempt <= options_.max_connections; ++attempt) {
    LAKEML_ASSIGN_OR_RETURN(connection, Checkout());
    status = connection->Command(begin_sql);
    if (status.ok() || connection->Healthy()) break;
    Return(std::exchange(connection, nullptr));
  }
  if (connection == nullptr) return status;
  if (status.ok()) {
    PostgresTransaction txn(*connection);
    status = RunWork(work, txn);
    if (status.ok() && connection->InFailedTransaction()) {
      // COMMIT would quietly roll back; say so instead of reporting success.
      status = core::Internal("postgresql transaction was aborted by an earlier failed statement");
    }
    if (status.ok()) {
      status = connection->Command("COMMIT");
    } else if (connection->Healthy() && !connection->Idle()) {
      connection->Command("ROLLBACK").IgnoreError();  // A failed rollback drops the connection.
    }
  }
  Return(std::move(connection));
  return status;
}

core::Status PostgresDatabase::Write(const TransactionWork& work) {
  core::Status status;
  for (int attempt = 0; attempt < options_.max_write_attempts; ++attempt) {
    if (attempt > 0) {
      // Randomised backoff, so conflicting writers do not collide again in lockstep.
      int64_t max_sleep_us = 1000LL << std::min(attempt, 6);
      std::this_thread::sleep_for(std::chrono::microseconds(
          max_sleep_us / 2 + static_cast<int64_t>(core::RandomBelow(max_sleep_us / 2 + 1))));
    }
    status = RunTransaction(kBeginWrite, work);
    if (status.code() != core::StatusCode::kAborted) return status;
  }
  return status;
}

core::Status PostgresDatabase::Read(const TransactionWork& work) {
  return RunTransaction(kBeginRead, work);
}

}  // namespace lakeml::metastore
