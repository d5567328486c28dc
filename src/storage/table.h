#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "storage/column_batch.h"
#include "storage/delta_actions.h"
#include "storage/delta_log.h"
#include "storage/file_system.h"
#include "storage/parquet_writer.h"
#include "storage/snapshot.h"

namespace lakeml::storage {

// How a Table reaches the outside world. Pointers are not owned and must outlive the Table;
// null means the real one (FileSystem::Default(), the system clock).
struct TableOptions {
  FileSystem* file_system = nullptr;
  const core::Clock* clock = nullptr;
  ParquetWriterOptions parquet;  // zstd by default
  // Commit attempts (the first plus retries after lost races) before giving up with kAborted.
  int max_commit_attempts = 10;
};

// What shows up in DESCRIBE HISTORY for a commit: the operation name ("WRITE", "DELETE", ...)
// and its parameters. Methods below fill sensible defaults; callers such as the SQL layer
// override them (e.g. "CREATE OR REPLACE TABLE AS SELECT").
struct OperationInfo {
  std::string operation;
  std::map<std::string, std::string> parameters;
};

// Decides, for each row of `batch`, whether DeleteWhere keeps it (true) or deletes it (false).
// Must return exactly batch.num_rows() flags.
using KeepRowsFn = std::function<core::Result<std::vector<bool>>(const ColumnBatch& batch)>;

// A Delta table (reader 1 / writer 2) in a local directory: Parquet data files plus the JSON log
// in `_delta_log` (shared/reference/parquet-delta.md §2). Reads are snapshot reads of any version;
// writes are optimistic transactions: data files are written and fsynced first, then the commit
// is published with link(2). A writer that loses the race re-reads the winning commits and
// retries when they do not conflict (blind appends never conflict unless the metadata changed;
// overwrite, delete and restore conflict with any concurrent add or remove, i.e. Serializable),
// else fails with kAborted. A failed commit leaves the table at its old version; the data files
// it wrote are removed on a best-effort basis and are invisible anyway.
//
// Thread-safe: any number of threads (and other processes, with their own Table objects) may
// read and write the same table. Checkpoints are neither written nor read (see DeltaLog).
class Table {
 private:
  // Lets Create/Open use std::make_unique while keeping construction private.
  struct Passkey {
    explicit Passkey() = default;
  };

 public:
  Table(Passkey, FileSystem* file_system, const core::Clock* clock, const std::string& dir,
        const TableOptions& options);

  // Creates the table at version 0 with protocol, metaData and an add per data file written from
  // `batches` (none for an empty table), recorded as `operation` (default
  // "CREATE TABLE AS SELECT" with data, "CREATE TABLE" without).
  // Errors: kAlreadyExists when `dir` already has a table (version 0 exists), kInvalidArgument
  // for an empty or unsupported schema (duplicate column names) or batches that do not match it,
  // file-system and Parquet writer errors.
  static core::Result<std::unique_ptr<Table>> Create(const std::string& dir, const Schema& schema,
                                                     std::span<const ColumnBatch> batches,
                                                     const TableOptions& options = {},
                                                     std::optional<OperationInfo> operation = {});

  // Opens an existing table and reads its latest snapshot. Errors: kNotFound when `dir` has no
  // table log, plus the errors of LatestSnapshot.
  static core::Result<std::unique_ptr<Table>> Open(const std::string& dir,
                                                   const TableOptions& options = {});

  const std::string& dir() const { return log_.table_dir(); }

  // The newest version (re-reads the log directory; replays only new commits).
  // Errors: kDataLoss (gaps, corrupt commits, missing protocol/metaData), kUnimplemented
  // (reader version > 1, unsupported schema), file-system errors.
  core::Result<std::shared_ptr<const Snapshot>> LatestSnapshot();
  // The table as of `version`. Errors: kInvalidArgument when the version does not exist (the
  // message names the valid range), the errors of LatestSnapshot.
  core::Result<std::shared_ptr<const Snapshot>> SnapshotAt(int64_t version);
  // The latest version whose commit timestamp is <= `timestamp_ms` (Delta TIMESTAMP AS OF).
  // Errors: kInvalidArgument when `timestamp_ms` is before the first commit or after the latest
  // one (the message names both), the errors of LatestSnapshot.
  core::Result<std::shared_ptr<const Snapshot>> SnapshotAtTimestamp(int64_t timestamp_ms);

  // The commitInfo of every version, newest first (DESCRIBE HISTORY); at most `limit` entries
  // when limit > 0. Versions without a commitInfo get one with only version and timestamp.
  core::Result<std::vector<CommitInfo>> History(int64_t limit = 0);

  // Appends `batches` (schema equal to the table's: names and types) as one new data file and
  // commits it (operation "WRITE", mode Append, a blind append). Returns the commit's info.
  // Errors: kInvalidArgument (schema mismatch), kAborted (metadata changed concurrently, or
  // too many lost races), kUnimplemented (writer version > 2), Parquet/file-system errors.
  core::Result<CommitInfo> Append(std::span<const ColumnBatch> batches,
                                  std::optional<OperationInfo> operation = {});

  // Replaces the table's contents: removes every live file, adds a file with `batches`
  // (operation "WRITE", mode Overwrite). When `schema` differs from the table's, a new metaData
  // (same table id) is committed too. Errors: as Append, plus kFailedPrecondition for
  // append-only tables (delta.appendOnly) and kAborted on a conflicting concurrent commit.
  core::Result<CommitInfo> Overwrite(const Schema& schema, std::span<const ColumnBatch> batches,
                                     std::optional<OperationInfo> operation = {});

  // Deletes the rows for which `keep` says false: files without deleted rows stay, files with
  // only deleted rows are removed, others are rewritten with their kept rows (operation
  // "DELETE", parameter predicate = `predicate_text`). Commits even when nothing matched, as
  // Delta does. Errors: errors from `keep` (returned as is), kInternal when it returns the wrong
  // number of flags, kFailedPrecondition for append-only tables, kAborted on conflict, read and
  // write errors.
  core::Result<CommitInfo> DeleteWhere(const KeepRowsFn& keep, const std::string& predicate_text);

  // Makes the latest version equal to `version` again (operation "RESTORE"): removes files live
  // now but not then, re-adds files live then but not now, and restores that version's metaData
  // when it differs. Errors: kInvalidArgument (no such version), kFailedPrecondition when a
  // needed data file no longer exists or the table is append-only, kAborted on conflict.
  core::Result<CommitInfo> RestoreToVersion(int64_t version);

 private:
  // An operation ready to commit, built against snapshot `read`.
  struct PendingCommit {
    std::shared_ptr<const Snapshot> read;
    bool blind_append = false;
    std::optional<MetadataAction> metadata;
    std::vector<AddAction> adds;
    std::vector<RemoveAction> removes;
    OperationInfo operation;
    std::map<std::string, std::string> metrics;
    std::vector<std::string> written_paths;  // data files to clean up when the commit fails
  };

  core::Result<CommitInfo> Commit(PendingCommit pending);
  core::Result<CommitInfo> CommitOnce(PendingCommit& pending);
  // Writes `batches` to one new data file (fsynced, directory fsynced) and describes it.
  core::Result<AddAction> WriteDataFile(const Schema& schema, std::span<const ColumnBatch> batches,
                                        std::vector<std::string>* written_paths);
  core::Result<std::shared_ptr<const Snapshot>> WritableSnapshot(bool rewrites);
  core::Result<CommitInfo> CommitInfoFor(int64_t version);
  void RemoveDataFiles(const std::vector<std::string>& paths);
  int64_t NowMillis() const { return clock_->NowMillis(); }

  FileSystem* file_system_;
  const core::Clock* clock_;
  TableOptions options_;
  DeltaLog log_;

  std::mutex mu_;
  std::shared_ptr<const Snapshot> latest_;      // guarded by mu_; newest snapshot seen
  std::map<int64_t, CommitInfo> commit_infos_;  // guarded by mu_; commits are immutable
};

}  // namespace lakeml::storage
