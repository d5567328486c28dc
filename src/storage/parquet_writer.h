#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "storage/column_batch.h"
#include "storage/parquet_metadata.h"

namespace lakeml::storage {

struct ParquetWriterOptions {
  CompressionCodec codec = CompressionCodec::kZstd;  // also kSnappy, kGzip, kUncompressed
  int compression_level = 3;                         // zstd and gzip only
  int64_t row_group_rows = 1 << 20;                  // flush a row group at this many rows...
  int64_t row_group_bytes = int64_t{128} << 20;      // ...or at this much buffered data
  int64_t page_size_bytes = 1 << 20;                 // target encoded size of one data page
  int64_t dictionary_max_bytes = 1 << 20;            // larger dictionaries fall back to PLAIN
  // Dictionary-encode strings and binaries (always tried) and other types when the chunk has
  // few distinct values.
  bool enable_dictionary = true;
};

// Summary of a finished file, in lakeml types: what Delta's `add.stats` needs.
struct ParquetFileStats {
  int64_t num_records = 0;
  int64_t file_size_bytes = 0;
  std::vector<ColumnStatistics> columns;  // schema order; null_count always set
};

// Writes a flat Parquet file that DuckDB, Spark and arrow read (shared/reference/parquet-delta.md
// §1.9): FileMetaData.version 1, REQUIRED for non-nullable fields, LogicalType + ConvertedType,
// timestamps as INT64 TIMESTAMP(MICROS, UTC), decimals as INT32/INT64, V1 data pages,
// RLE_DICTIONARY pages with a PLAIN dictionary page (PLAIN fallback), chunk statistics and
// TYPE_ORDER column orders.
//
// Data goes to `<path>.tmp-<random>` first; Close() writes the footer, fsyncs and renames it to
// `path`, so a crash never leaves a partial file at `path`. Destroying an unclosed writer removes
// the temporary file. Memory is bounded by one row group. Not thread-safe.
class ParquetWriter {
 public:
  // Creates the temporary file. Errors: kInvalidArgument for an unsupported schema or options,
  // kAlreadyExists/kPermissionDenied/kUnavailable from the file system.
  static core::Result<std::unique_ptr<ParquetWriter>> Open(
      const std::string& path, const Schema& schema, const ParquetWriterOptions& options = {});
  ~ParquetWriter();
  ParquetWriter(const ParquetWriter&) = delete;
  ParquetWriter& operator=(const ParquetWriter&) = delete;

  // Buffers `batch` (same field count and types as the schema) and flushes full row groups.
  // Errors: kInvalidArgument (schema mismatch, NULL in a non-nullable column), kFailedPrecondition
  // after Close or a failed write, kUnavailable for I/O errors.
  core::Status Write(const ColumnBatch& batch);

  // Flushes the last row group, writes the footer and publishes the file at `path`.
  // Errors: kFailedPrecondition when already closed or failed, kUnavailable for I/O errors.
  core::Result<ParquetFileStats> Close();

  const std::string& path() const { return path_; }

 private:
  ParquetWriter(std::string path, std::string tmp_path, int fd, Schema schema,
                std::vector<SchemaElement> elements, ParquetWriterOptions options);

  core::Status FlushRowGroup();
  core::Status WriteBytes(const std::string& bytes);
  core::Status WriteColumnChunk(size_t column_idx, ColumnChunk* chunk);
  void ResetBuffer();
  void Abandon();

  std::string path_;
  std::string tmp_path_;
  int fd_ = -1;
  Schema schema_;
  std::vector<SchemaElement> elements_;  // one leaf per field
  ParquetWriterOptions options_;
  int64_t offset_ = 0;  // bytes written so far
  bool closed_ = false;
  bool failed_ = false;

  std::vector<Column> buffer_;  // the row group being collected
  int64_t buffered_bytes_ = 0;
  FileMetaData metadata_;
  std::vector<ColumnStatistics> file_stats_;
};

// Writes `batches` to `path` in one call (Open, Write each, Close). Errors as ParquetWriter.
core::Result<ParquetFileStats> WriteParquetFile(const std::string& path, const Schema& schema,
                                                std::span<const ColumnBatch> batches,
                                                const ParquetWriterOptions& options = {});

}  // namespace lakeml::storage
