#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/status.h"
#include "metastore/database.h"

namespace lakeml::metastore {

class SqliteConnection;  // One sqlite3 handle plus its statement cache; defined in the .cc.

struct SqliteOptions {
  // Reader connections are opened on demand up to this many; further readers wait.
  int max_readers = 8;
  // How long a connection waits for a lock held by another process before failing (kAborted).
  int busy_timeout_ms = 5000;
  // Most callers' works committed in one transaction.
  size_t max_group_size = 256;
};

// The metadata database on one SQLite file in WAL mode (synchronous=NORMAL, foreign_keys=ON,
// case_sensitive_like=ON, so LIKE matches case as in MLflow).
//
// Writes: one writer connection, used by one Write() at a time. Write() queues the caller's work;
// if no other Write() is committing, the caller takes every queued work (up to max_group_size),
// runs each inside its own SAVEPOINT of one BEGIN IMMEDIATE transaction, rolls back only the
// works that fail, commits the rest together (group commit) and hands over to the next queued
// caller, if any. Otherwise the caller waits until its work is committed or it is handed over.
// Each caller gets its own Status once the COMMIT is done; if the COMMIT fails, every caller of
// that group gets its error. A work may run on another caller's thread, so it must not call back
// into this Database.
//
// Reads: a pool of query_only reader connections, each Read() inside a deferred BEGIN ... COMMIT
// so it sees one snapshot while the writer goes on.
//
// Thread-safe. The destructor closes all connections; no Write/Read may be in flight or start
// during destruction.
class SqliteDatabase final : public Database {
 public:
  // Opens (creating if missing) the database file at `path`; does not migrate the schema (see
  // OpenDatabase). Errors: kInternal if the file cannot be opened or configured.
  static core::Result<std::unique_ptr<SqliteDatabase>> Open(const std::string& path,
                                                            const SqliteOptions& options = {});

  // Called by Open(); takes the already configured writer connection.
  SqliteDatabase(std::string path, SqliteOptions options, std::unique_ptr<SqliteConnection> writer);
  ~SqliteDatabase() override;
  SqliteDatabase(const SqliteDatabase&) = delete;
  SqliteDatabase& operator=(const SqliteDatabase&) = delete;

  Dialect dialect() const override { return Dialect::kSqlite; }

  // Errors: the work's own Status; kAlreadyExists for unique/primary-key violations, kAborted if
  // another process holds the write lock past busy_timeout_ms, kInternal otherwise.
  core::Status Write(const TransactionWork& work) override;

  // Errors: the work's own Status; kInternal if a reader connection cannot be opened.
  core::Status Read(const TransactionWork& work) override;

 private:
  struct PendingWrite;

  // Runs `group` in one transaction and sets each PendingWrite's status (not its done flag).
  void CommitGroup(const std::vector<PendingWrite*>& group);
  core::Result<std::unique_ptr<SqliteConnection>> CheckoutReader();
  void ReturnReader(std::unique_ptr<SqliteConnection> reader);

  const std::string path_;
  const SqliteOptions options_;

  // Used only by the committing Write() (see committing_).
  std::unique_ptr<SqliteConnection> writer_;

  std::mutex queue_mu_;
  std::deque<PendingWrite*> queue_;   // Guarded by queue_mu_; entries live on callers' stacks.
  bool stopping_ = false;             // Guarded by queue_mu_.
  // Guarded by queue_mu_: a Write() is committing a group, or has handed over to the queue's
  // front; whoever sets it owns writer_ until it clears it or hands over.
  bool committing_ = false;

  std::mutex readers_mu_;
  std::condition_variable readers_cv_;  // Signals: a reader was returned or dropped.
  std::vector<std::unique_ptr<SqliteConnection>> idle_readers_;  // Guarded by readers_mu_.
  int open_readers_ = 0;  // Guarded by readers_mu_; idle plus checked out.
};

}  // namespace lakeml::metastore
