#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/status.h"
#include "metastore/database.h"

namespace lakeml::metastore {

class PostgresConnection;  // One libpq connection plus its prepared statements; in the .cc.

struct PostgresOptions {
  // Connections are opened on demand up to this many; further callers wait for a free one.
  int max_connections = 16;
  // Attempts of one Write() when the server reports a serialization failure or deadlock, or the
  // work returns kAborted.
  int max_write_attempts = 5;
};

// The metadata database on a PostgreSQL server, through libpq.
//
// Write() runs BEGIN; work; COMMIT on a pooled connection (READ COMMITTED) and retries the whole
// transaction on SQLSTATE 40001/40P01 or a kAborted work. Read() runs the work inside
// BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY, so it sees one snapshot. Statements use `?`
// placeholders, rewritten to $1..$n (outside quoted literals and identifiers) and prepared once
// per connection. Connections found broken are dropped from the pool.
//
// Unlike SQLite, a failed statement aborts the PostgreSQL transaction: a work must return the
// error of a failed statement rather than go on (a Write whose transaction was aborted does not
// commit and returns kInternal).
//
// Thread-safe. Destroying the database closes all connections; no Write/Read may be in flight.
class PostgresDatabase final : public Database {
 public:
  // Connects once to check that the server is reachable (the connection joins the pool); does not
  // migrate the schema (see OpenDatabase). `uri` is a libpq connection URI
  // (`postgresql://user:pw@host:port/db?...`). Errors: kUnavailable if the server cannot be
  // reached or refuses the login (the message never contains the password).
  static core::Result<std::unique_ptr<PostgresDatabase>> Open(const std::string& uri,
                                                              const PostgresOptions& options = {});

  // Called by Open(); `first` is an already open connection for the pool.
  PostgresDatabase(std::string uri, PostgresOptions options,
                   std::unique_ptr<PostgresConnection> first);
  ~PostgresDatabase() override;
  PostgresDatabase(const PostgresDatabase&) = delete;
  PostgresDatabase& operator=(const PostgresDatabase&) = delete;

  Dialect dialect() const override { return Dialect::kPostgres; }

  // Errors: the work's own Status; kAlreadyExists on a unique violation (23505), kAborted if
  // conflicts persist after max_write_attempts, kUnavailable if the connection is lost,
  // kInternal otherwise.
  core::Status Write(const TransactionWork& work) override;

  // Errors: the work's own Status; kUnavailable if the connection is lost; kInternal otherwise.
  core::Status Read(const TransactionWork& work) override;

 private:
  core::Result<std::unique_ptr<PostgresConnection>> Checkout();
  void Return(std::unique_ptr<PostgresConnection> connection);
  // Runs one attempt of `work` between `begin_sql` and COMMIT on a pooled connection.
  core::Status RunTransaction(const char* begin_sql, const TransactionWork& work);

  const std::string uri_;
  const PostgresOptions options_;

  std::mutex pool_mu_;
  std::condition_variable pool_cv_;  // Signals: a connection was returned or dropped.
  std::vector<std::unique_ptr<PostgresConnection>> idle_;  // Guarded by pool_mu_.
  int open_connections_ = 0;  // Guarded by pool_mu_; idle plus checked out.
};

}  // namespace lakeml::metastore
