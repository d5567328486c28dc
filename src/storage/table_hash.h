#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/status.h"
#include "storage/column_batch.h"

namespace lakeml::storage {

// The order-sensitive table hash of shared/reference/parquet-delta.md §3, which independent
// readers (DuckDB, hyparquet) compute over the values they read, so equal hashes mean equal
// tables. FNV-1a style over 32-bit words: mix(w) = (h ^ w) * 0x01000193 mod 2^32, starting at
// 0x811C9DC5 for every column and for the table. Per value: NULL → mix(0); else mix(1), then
//   ints/bools-as-ints/dates/timestamps → int64 as lo32, hi32 (bool: one word 0|1);
//   float/double → binary64 bits as lo32, hi32; decimal → unscaled 128-bit two's complement,
//   4 words low first; string/binary → mix(len) then 4-byte little-endian words, zero-padded.
// Timestamps are hashed in lakeml's unit (µs), which equals the reference's "file unit" for
// TIMESTAMP(MICROS) columns. Column hashes continue across batches; the table hash mixes the
// column hashes in schema order. Not thread-safe; cheap to copy.
class TableHasher {
 public:
  // Adds the rows of `batch`, whose schema must match the first batch's field count.
  // Errors: kInvalidArgument when the column count or a column type changes between batches.
  core::Status Add(const ColumnBatch& batch);
  // The table hash over everything added so far.
  uint32_t Finish() const;

 private:
  std::vector<DataType> types_;
  std::vector<uint32_t> column_hashes_;
};

// Convenience: TableHasher over `batches` in order. Errors as TableHasher::Add.
core::Result<uint32_t> TableHash(std::span<const ColumnBatch> batches);

}  // namespace lakeml::storage
