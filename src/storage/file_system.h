#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace lakeml::storage {

// The few file-system operations the table log needs, behind an interface so tests can inject
// faults (LevelDB `Env` style). Paths are plain strings; implementations do not interpret them
// beyond what the OS does. Implementations are thread-safe.
//
// Error codes shared by every method: kNotFound (missing file or directory), kPermissionDenied,
// kUnavailable (other I/O errors, including injected faults).
class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // The process-wide POSIX file system. Never null; lives for the whole process.
  static FileSystem* Default();

  // Creates `path` and any missing parents; OK when it already exists.
  virtual core::Status CreateDirs(const std::string& path) = 0;
  // Creates or truncates `path` and writes `contents`. Does not fsync.
  virtual core::Status WriteFile(const std::string& path, std::string_view contents) = 0;
  // Flushes the contents of the existing file `path` to stable storage.
  virtual core::Status SyncFile(const std::string& path) = 0;
  // Flushes the directory `path` itself (its entries: creations, links, renames).
  virtual core::Status SyncDir(const std::string& path) = 0;
  // Atomically gives the existing file `existing` the second name `new_path`, failing with
  // kAlreadyExists when `new_path` exists: the "put if absent" that decides who wins a commit.
  virtual core::Status LinkIfAbsent(const std::string& existing, const std::string& new_path) = 0;
  // Renames `from` to `to`, replacing `to` if it exists.
  virtual core::Status Rename(const std::string& from, const std::string& to) = 0;
  // Removes the file `path`.
  virtual core::Status RemoveFile(const std::string& path) = 0;
  // Reads the whole file `path`.
  virtual core::Result<std::string> ReadFile(const std::string& path) = 0;
  // Names (not paths) of the entries of directory `path`, without "." and "..", unsorted.
  virtual core::Result<std::vector<std::string>> ListDir(const std::string& path) = 0;
  // Whether `path` exists (any file type). Errors only for unexpected failures.
  virtual core::Result<bool> Exists(const std::string& path) = 0;
};

// FileSystem on POSIX calls (open/write/fsync/link/rename/unlink/opendir). Stateless.
class PosixFileSystem final : public FileSystem {
 public:
  core::Status CreateDirs(const std::string& path) override;
  core::Status WriteFile(const std::string& path, std::string_view contents) override;
  core::Status SyncFile(const std::string& path) override;
  core::Status SyncDir(const std::string& path) override;
  core::Status LinkIfAbsent(const std::string& existing, const std::string& new_path) override;
  core::Status Rename(const std::string& from, const std::string& to) override;
  core::Status RemoveFile(const std::string& path) override;
  core::Result<std::string> ReadFile(const std::string& path) override;
  core::Result<std::vector<std::string>> ListDir(const std::string& path) override;
  core::Result<bool> Exists(const std::string& path) override;
};

// A FileSystem wrapper for crash-safety tests: counts the mutating operations (CreateDirs,
// WriteFile, SyncFile, SyncDir, LinkIfAbsent, Rename, RemoveFile) and fails the Nth one with
// kUnavailable ("injected fault ..."). A failing WriteFile first writes a prefix of the
// contents (a torn write). In "crash" mode every mutating operation after the fault fails too,
// as if the process had died there. Reads always pass through. Does not own `base`, which must
// outlive the wrapper. Thread-safe.
class FaultInjectionFileSystem final : public FileSystem {
 public:
  explicit FaultInjectionFileSystem(FileSystem* base) : base_(base) {}

  // Fails the `n`th mutating operation from now (1-based); n <= 0 disarms. With `crash`, all
  // later mutating operations fail as well.
  void FailNthMutation(int64_t n, bool crash);
  // Mutating operations performed (or attempted) since construction or the last reset.
  int64_t mutation_count() const;
  // Zeroes the counter and disarms.
  void Reset();
  // Whether the armed fault has fired.
  bool fired() const;

  core::Status CreateDirs(const std::string& path) override;
  core::Status WriteFile(const std::string& path, std::string_view contents) override;
  core::Status SyncFile(const std::string& path) override;
  core::Status SyncDir(const std::string& path) override;
  core::Status LinkIfAbsent(const std::string& existing, const std::string& new_path) override;
  core::Status Rename(const std::string& from, const std::string& to) override;
  core::Status RemoveFile(const std::string& path) override;
  core::Result<std::string> ReadFile(const std::string& path) override;
  core::Result<std::vector<std::string>> ListDir(const std::string& path) override;
  core::Result<bool> Exists(const std::string& path) override;

 private:
  // Counts one mutation of kind `op` on `path`; returns the injected error when it must fail.
  core::Status Tick(std::string_view op, const std::string& path);

  FileSystem* base_;
  mutable std::mutex mu_;
  int64_t count_ = 0;    // guarded by mu_
  int64_t fail_at_ = 0;  // guarded by mu_; 0 = disarmed
  bool crash_ = false;   // guarded by mu_
  bool fired_ = false;   // guarded by mu_
};

}  // namespace lakeml::storage
