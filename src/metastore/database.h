#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/status.h"

namespace lakeml::metastore {

// A bound parameter or a result cell: NULL, integer, double or text.
using Value = std::variant<std::monostate, int64_t, double, std::string>;

enum class Dialect { kSqlite, kPostgres };

// One result row. Accessors convert leniently (PostgreSQL returns text); NULL reads as 0 or "".
class Row {
 public:
  explicit Row(std::vector<Value> values) : values_(std::move(values)) {}

  size_t size() const { return values_.size(); }
  bool IsNull(size_t column_idx) const;
  int64_t Int(size_t column_idx) const;
  double Double(size_t column_idx) const;
  std::string Text(size_t column_idx) const;
  std::optional<int64_t> OptionalInt(size_t column_idx) const;
  std::optional<std::string> OptionalText(size_t column_idx) const;

 private:
  std::vector<Value> values_;
};

// A connection inside an open transaction, valid only during the Database::Write/Read callback
// that received it. Not thread-safe.
//
// SQL is written once for both dialects: `?` placeholders (the PostgreSQL implementation rewrites
// them to $1, $2, ...), standard types, `INSERT ... ON CONFLICT ... DO UPDATE`. Where the dialects
// differ (ILIKE, case-sensitive LIKE), callers ask dialect().
//
// Portability rules: on PostgreSQL integer and double parameters are sent as BIGINT and DOUBLE
// PRECISION, text and NULL untyped (the server infers their type from context, so a string may
// be compared with a BIGINT column), hence a `?` without context needs a cast:
// `CAST(? AS TEXT) IS NULL`, not `? IS NULL`. A failed statement aborts the whole PostgreSQL
// transaction, so a work must return the error of a failed statement, not carry on.
//
// Errors: a unique/primary-key violation returns kAlreadyExists; a serialization failure or
// deadlock returns kAborted (Database::Write retries those); anything else kInternal.
class Transaction {
 public:
  virtual ~Transaction() = default;

  virtual Dialect dialect() const = 0;

  // Runs one statement and returns the number of rows it changed.
  virtual core::Result<int64_t> Execute(std::string_view sql,
                                        const std::vector<Value>& params = {}) = 0;

  // Runs one query and returns all its rows.
  virtual core::Result<std::vector<Row>> Query(std::string_view sql,
                                               const std::vector<Value>& params = {}) = 0;
};

using TransactionWork = std::function<core::Status(Transaction&)>;

// The metadata database (tracking, registry, catalog, jobs). Thread-safe.
//
// The schema is created and migrated by Open*(): migrations are versioned, applied in order in
// one transaction each, and idempotent across restarts and concurrent starters.
class Database {
 public:
  virtual ~Database() = default;

  virtual Dialect dialect() const = 0;

  // Runs `work` in a read-write transaction and commits iff it returns OK; its Status is
  // returned. On SQLite writes run one group at a time on one connection, committing the work
  // of several waiting callers together (group commit), each isolated by a savepoint so one
  // caller's failure rolls back only its own changes; callers never see "database is locked".
  // `work` may run on another caller's thread, and more than once if the database reports a
  // transient conflict (kAborted), so it must not have side effects outside the transaction.
  virtual core::Status Write(const TransactionWork& work) = 0;

  // Runs `work` on a consistent read snapshot. Reads run concurrently with each other and with
  // the writer.
  virtual core::Status Read(const TransactionWork& work) = 0;
};

// Opens the database named by `uri`, creating and migrating the schema:
//   - `postgresql://user:pw@host:port/db` (or `postgres://`): PostgreSQL through libpq;
//   - `sqlite:///relative.db`, `sqlite:////abs/path.db` (SQLAlchemy's convention), or a plain
//     file path: SQLite in WAL mode.
// Errors: kInvalidArgument for an unknown scheme, kUnavailable if the server cannot be reached,
// kFailedPrecondition if the schema is newer than this binary knows.
core::Result<std::unique_ptr<Database>> OpenDatabase(std::string_view uri);

}  // namespace lakeml::metastore
