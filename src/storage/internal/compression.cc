#include "storage/internal/compression.h"

#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <cstring>

namespace lakeml::storage::internal {

namespace {

core::Status GzipCompress(int level, const uint8_t* data, size_t size, std::string* out) {
  z_stream stream{};
  // windowBits 15 + 16 selects the gzip wrapper, which the Parquet spec requires for GZIP.
  if (deflateInit2(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return core::Internal("gzip: deflateInit2 failed");
  }
  size_t start = out->size();
  out->resize(start + deflateBound(&stream, size) + 32);
  stream.next_in = const_cast<Bytef*>(data);
  stream.avail_in = static_cast<uInt>(size);
  stream.next_out = reinterpret_cast<Bytef*>(out->data() + start);
  stream.avail_out = static_cast<uInt>(out->size() - start);
  int rc = deflate(&stream, Z_FINISH);
  size_t written = stream.total_out;
  deflateEnd(&stream);
  if (rc != Z_STREAM_END) return core::Internal("gzip: deflate failed ({})", rc);
  out->resize(start + written);
  return core::Status::Ok();
}

core::Status GzipDecompress(const uint8_t* data, size_t size, size_t uncompressed_size,
                            std::string* out) {
  z_stream stream{};
  // 15 + 32 auto-detects zlib or gzip headers; some writers emit the zlib form.
  if (inflateInit2(&stream, 15 + 32) != Z_OK) return core::Internal("gzip: inflateInit2 failed");
  out->resize(uncompressed_size);
  stream.next_in = const_cast<Bytef*>(data);
  stream.avail_in = static_cast<uInt>(size);
  stream.next_out = reinterpret_cast<Bytef*>(out->data());
  stream.avail_out = static_cast<uInt>(uncompressed_size);
  int rc = Z_OK;
  while (true) {
    rc = inflate(&stream, Z_FINISH);
    // Concatenated gzip members are legal; continue with the next member if input remains.
    if (rc == Z_STREAM_END && stream.avail_in > 0 && stream.avail_out > 0) {
      if (inflateReset(&stream) != Z_OK) break;
      continue;
    }
    break;
  }
  size_t produced = stream.total_out;
  bool output_full = stream.avail_out == 0;
  inflateEnd(&stream);
  if (rc != Z_STREAM_END && !(rc == Z_BUF_ERROR && output_full)) {
    return core::DataLoss("gzip: corrupt stream ({})", rc);
  }
  if (rc != Z_STREAM_END || produced != uncompressed_size) {
    return core::DataLoss("gzip: page decompresses to a size other than the {} bytes announced",
                          uncompressed_size);
  }
  return core::Status::Ok();
}

}  // namespace

core::Status Compress(CompressionCodec codec, int level, const uint8_t* data, size_t size,
                      std::string* out) {
  switch (codec) {
    case CompressionCodec::kUncompressed:
      out->append(reinterpret_cast<const char*>(data), size);
      return core::Status::Ok();
    case CompressionCodec::kSnappy: {
      size_t start = out->size();
      out->resize(start + snappy::MaxCompressedLength(size));
      size_t written = 0;
      snappy::RawCompress(reinterpret_cast<const char*>(data), size, out->data() + start, &written);
      out->resize(start + written);
      return core::Status::Ok();
    }
    case CompressionCodec::kGzip:
      return GzipCompress(level <= 0 ? Z_DEFAULT_COMPRESSION : std::min(level, 9), data, size, out);
    case CompressionCodec::kZstd: {
      size_t start = out->size();
      out->resize(start + ZSTD_compressBound(size));
      size_t written = ZSTD_compress(out->data() + start, out->size() - start, data, size, level);
      if (ZSTD_isError(written)) {
        return core::Internal("zstd: {}", ZSTD_getErrorName(written));
      }
      out->resize(start + written);
      return core::Status::Ok();
    }
    default:
      return core::Unimplemented("compression codec {} is not supported",
                                 CompressionCodecName(codec));
  }
}

core::Status Decompress(CompressionCodec codec, const uint8_t* data, size_t size,
                        size_t uncompressed_size, std::string* out) {
  if (uncompressed_size > kMaxDecompressedBytes) {
    return core::DataLoss("page claims {} decompressed bytes, more than the {} allowed",
                          uncompressed_size, kMaxDecompressedBytes);
  }
  if (uncompressed_size == 0 && (size == 0 || codec == CompressionCodec::kUncompressed)) {
    if (size != 0) return core::DataLoss("empty page carries {} bytes", size);
    out->clear();
    return core::Status::Ok();
  }
  switch (codec) {
    case CompressionCodec::kUncompressed:
      if (size != uncompressed_size) {
        return core::DataLoss("uncompressed page has {} bytes but its header says {}", size,
                              uncompressed_size);
      }
      out->assign(reinterpret_cast<const char*>(data), size);
      return core::Status::Ok();
    case CompressionCodec::kSnappy: {
      size_t announced = 0;
      if (!snappy::GetUncompressedLength(reinterpret_cast<const char*>(data), size, &announced) ||
          announced != uncompressed_size) {
        return core::DataLoss("snappy: stream size does not match the page header");
      }
      out->resize(uncompressed_size);
      if (!snappy::RawUncompress(reinterpret_cast<const char*>(data), size, out->data())) {
        return core::DataLoss("snappy: corrupt stream");
      }
      return core::Status::Ok();
    }
    case CompressionCodec::kGzip:
      return GzipDecompress(data, size, uncompressed_size, out);
    case CompressionCodec::kZstd: {
      unsigned long long announced = ZSTD_getFrameContentSize(data, size);
      if (announced == ZSTD_CONTENTSIZE_ERROR) return core::DataLoss("zstd: not a zstd frame");
      if (announced != ZSTD_CONTENTSIZE_UNKNOWN && announced != uncompressed_size) {
        return core::DataLoss("zstd: frame size {} does not match the page header's {}", announced,
                              uncompressed_size);
      }
      out->resize(uncompressed_size);
      size_t produced = ZSTD_decompress(out->data(), uncompressed_size, data, size);
      if (ZSTD_isError(produced)) return core::DataLoss("zstd: {}", ZSTD_getErrorName(produced));
      if (produced != uncompressed_size) {
        return core::DataLoss("zstd: page decompresses to {} bytes, header says {}", produced,
                              uncompressed_size);
      }
      return core::Status::Ok();
    }
    default:
      return core::Unimplemented("compression codec {} is not supported",
                                 CompressionCodecName(codec));
  }
}

}  // namespace lakeml::storage::internal
