#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "storage/column_batch.h"
#include "storage/delta_actions.h"

namespace lakeml::storage {

// The state of a table at one version: protocol, metadata and the live data files, reconstructed
// by replaying the log (shared/reference/parquet-delta.md §2.5). Immutable once built, so it is
// shared as std::shared_ptr<const Snapshot> and safe to use from many threads; reading data goes
// to files that are never modified (Delta data files are write-once).
class Snapshot {
 public:
  Snapshot(std::string table_dir, int64_t version, int64_t timestamp_ms, ProtocolAction protocol,
           MetadataAction metadata, std::vector<AddAction> files);

  const std::string& table_dir() const { return table_dir_; }
  int64_t version() const { return version_; }
  // The commit timestamp of `version()` (commitInfo.timestamp), in ms since the epoch.
  int64_t timestamp_ms() const { return timestamp_ms_; }
  const ProtocolAction& protocol() const { return protocol_; }
  const MetadataAction& metadata() const { return metadata_; }
  const Schema& schema() const { return metadata_.schema; }
  // Live data files, in the order they were added.
  const std::vector<AddAction>& files() const { return files_; }
  // The live file at `path`, or null.
  const AddAction* FindFile(const std::string& path) const;

  // Sum of stats.numRecords, or nullopt when a file has no stats.
  std::optional<int64_t> NumRecords() const;
  int64_t SizeBytes() const;

  // The local path of a data file: the table directory joined with the percent-decoded `path`.
  // Errors: kUnimplemented for absolute URIs (other than file:) — lakeml reads local tables only.
  core::Result<std::string> FilePath(const AddAction& file) const;

  // Calls `visit` with every row group of every live file, in file order, all columns or only
  // `columns` (schema indices). Stops at the first error from a file or from `visit`.
  // Errors: those of ParquetReader (kNotFound when a data file was removed, kDataLoss, ...),
  // kDataLoss when a file's columns do not match the table schema, kUnimplemented for
  // partitioned tables.
  core::Status Scan(const std::function<core::Status(ColumnBatch batch)>& visit,
                    const std::optional<std::vector<size_t>>& columns = {}) const;
  // Scan collected into memory; for tests and small tables.
  core::Result<std::vector<ColumnBatch>> ReadAll() const;

 private:
  std::string table_dir_;
  int64_t version_;
  int64_t timestamp_ms_;
  ProtocolAction protocol_;
  MetadataAction metadata_;
  std::vector<AddAction> files_;
};

}  // namespace lakeml::storage
