#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "storage/delta_actions.h"
#include "storage/file_system.h"
#include "storage/snapshot.h"

namespace lakeml::storage {

// The `_delta_log` directory of one table: lists and reads commit files, replays them into
// snapshots, and publishes new commits atomically (temp file, fsync, link(2) to the version's
// name — the link fails when another writer already took that version).
//
// Stateless apart from its paths: every call goes to the file system, so several DeltaLog
// objects (in one process or many) can share a table. Thread-safe. Does not own `file_system`,
// which must outlive it. Checkpoints are not read or written: a log whose early commits were
// cleaned up behind a checkpoint is refused with kUnimplemented.
class DeltaLog {
 public:
  DeltaLog(FileSystem* file_system, std::string table_dir);

  const std::string& table_dir() const { return table_dir_; }
  const std::string& log_dir() const { return log_dir_; }
  // "00000000000000000007.json".
  static std::string CommitFileName(int64_t version);

  // The newest version, or -1 when the log has no commits (or does not exist).
  // Errors: kDataLoss when versions are not contiguous from 0, kUnimplemented when the log
  // starts after a checkpoint, file-system errors.
  core::Result<int64_t> LatestVersion();

  // Reads and decodes commit `version`. Errors: kNotFound when it does not exist, the errors of
  // DecodeCommit, file-system errors.
  core::Result<CommitActions> ReadCommit(int64_t version);

  // Builds the snapshot at `version` by replaying commits, starting from `base` when it is
  // non-null and not newer than `version` (incremental replay), else from version 0.
  // Errors: those of ReadCommit, kDataLoss when version 0 lacks protocol or metaData,
  // kUnimplemented when the table needs a newer reader.
  core::Result<std::shared_ptr<const Snapshot>> Replay(int64_t version,
                                                       std::shared_ptr<const Snapshot> base);

  // Publishes `contents` as commit `version`: writes `_delta_log/.tmp-<random>.json`, fsyncs it,
  // links it to the commit name, then removes the temp name and fsyncs the directory. Once the
  // link succeeds the commit is visible and OK is returned; failures of the two cleanup steps
  // are ignored (a later commit's directory fsync covers the entry; a stray temp file is never
  // read). Errors: kAlreadyExists when `version` is taken (lost race), file-system errors
  // (nothing is published then).
  core::Status PublishCommit(int64_t version, std::string_view contents);

 private:
  FileSystem* file_system_;
  std::string table_dir_;
  std::string log_dir_;
};

}  // namespace lakeml::storage
