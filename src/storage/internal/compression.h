#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/status.h"
#include "storage/parquet_metadata.h"

namespace lakeml::storage::internal {

// Largest decompressed page we accept (a hostile header could otherwise make us allocate any
// size). Real writers use pages of about 1 MiB.
inline constexpr size_t kMaxDecompressedBytes = size_t{1} << 30;

// Compresses `size` bytes with `codec` (level applies to zstd and gzip) and appends them to `out`.
// Errors: kUnimplemented for codecs other than UNCOMPRESSED/SNAPPY/GZIP/ZSTD, kInternal when the
// library fails. Thread-safe.
core::Status Compress(CompressionCodec codec, int level, const uint8_t* data, size_t size,
                      std::string* out);

// Decompresses `size` bytes into exactly `uncompressed_size` bytes, replacing `out`'s contents.
// Refuses (kDataLoss) sizes above kMaxDecompressedBytes, streams whose own size header disagrees
// with `uncompressed_size`, and output that is shorter or longer than announced.
// Errors: kDataLoss, kUnimplemented for unsupported codecs. Thread-safe.
core::Status Decompress(CompressionCodec codec, const uint8_t* data, size_t size,
                        size_t uncompressed_size, std::string* out);

}  // namespace lakeml::storage::internal
