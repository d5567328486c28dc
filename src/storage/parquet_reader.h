#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "storage/column_batch.h"
#include "storage/parquet_metadata.h"

namespace lakeml::storage {

// Reads flat Parquet files written by any common writer (DuckDB, arrow, Spark, hyparquet, us).
//
// Types (Parquet physical + logical/converted → lakeml):
//   BOOLEAN → bool; INT32 → integer (+DATE → date, DECIMAL → decimal, UINT_32 → long);
//   INT64 → long (+TIMESTAMP millis/micros/nanos → timestamp in µs, DECIMAL → decimal);
//   INT96 → timestamp (µs); FLOAT → float; DOUBLE → double;
//   BYTE_ARRAY + STRING/UTF8/JSON/ENUM → string, else binary (+DECIMAL → decimal);
//   FIXED_LEN_BYTE_ARRAY + DECIMAL (≤ 18 digits) → decimal, else (UUID, ...) → binary.
// Nested or repeated fields and decimals wider than 18 digits are refused with kUnimplemented.
// Pages: V1 and V2 data pages, a dictionary page first in the chunk, PLAIN / dictionary /
// DELTA_* / BYTE_STREAM_SPLIT / RLE(boolean) values, codecs UNCOMPRESSED, SNAPPY, GZIP, ZSTD.
//
// Hostile files yield kDataLoss (or kInvalidArgument/kUnimplemented), never a crash, and every
// allocation is bounded by sizes already checked against the file size (plus the decoded-page
// cap in internal/encodings.h). After Open the reader is immutable; ReadRowGroup and ColumnStats
// may be called from several threads at once (reads use pread).
class ParquetReader {
 public:
  // Opens `path` and decodes its footer with one speculative tail read.
  // Errors: kNotFound/kPermissionDenied/kUnavailable (file system), kDataLoss (not Parquet,
  // truncated, inconsistent footer), kUnimplemented (nested schema, unsupported type).
  static core::Result<std::unique_ptr<ParquetReader>> Open(const std::string& path);
  ~ParquetReader();
  ParquetReader(const ParquetReader&) = delete;
  ParquetReader& operator=(const ParquetReader&) = delete;

  const Schema& schema() const { return schema_; }
  int64_t num_rows() const { return metadata_.num_rows; }
  int num_row_groups() const { return static_cast<int>(metadata_.row_groups.size()); }
  int64_t row_group_num_rows(int row_group) const;
  const FileMetaData& metadata() const { return metadata_; }
  int64_t file_size_bytes() const { return file_size_; }

  // Chunk statistics of `column` in `row_group`, in lakeml types. min/max are present only when
  // the file's column order makes them trustworthy. Errors: kInvalidArgument (index out of
  // range), kDataLoss (undecodable bounds).
  core::Result<ColumnStatistics> ColumnStats(int row_group, size_t column) const;

  // Reads row group `row_group`, all columns or only `columns` (schema indices, in that order).
  // Errors: kInvalidArgument (bad indices), kDataLoss (corrupt data), kUnimplemented
  // (unsupported encoding or codec), kUnavailable (I/O).
  core::Result<ColumnBatch> ReadRowGroup(
      int row_group, const std::optional<std::vector<size_t>>& columns = {}) const;

 private:
  ParquetReader(std::string path, int fd, int64_t file_size);
  core::Status Init();
  core::Status ReadAt(int64_t offset, size_t size, std::string* out) const;
  core::Status ReadColumnChunk(int row_group, size_t column, Column* out) const;

  std::string path_;
  int fd_ = -1;
  int64_t file_size_ = 0;
  int64_t footer_start_ = 0;
  FileMetaData metadata_;
  Schema schema_;
  std::vector<SchemaElement> leaves_;
};

}  // namespace lakeml::storage
