#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "storage/parquet_metadata.h"

namespace lakeml::storage::internal {

// Upper bound on the bytes one decoded page (or dictionary gather) may produce, so that a small
// hostile file cannot make the reader allocate without limit.
inline constexpr size_t kMaxDecodedPageBytes = size_t{1} << 30;

// The non-null values of one page or dictionary, in physical form. Which store is used depends
// on `type`: BOOLEAN/INT32/INT64/INT96 use `ints` (INT96 as nanoseconds since the epoch),
// FLOAT/DOUBLE use `doubles`, BYTE_ARRAY/FIXED_LEN_BYTE_ARRAY use `offsets` + `bytes` (value i is
// bytes[offsets[i], offsets[i+1])). Not thread-safe for writes.
struct PhysicalValues {
  explicit PhysicalValues(PhysicalType physical_type = PhysicalType::kInt64)
      : type(physical_type) {}

  PhysicalType type;
  std::vector<int64_t> ints;
  std::vector<double> doubles;
  std::vector<uint32_t> offsets{0};
  std::string bytes;

  size_t size() const;
  bool IsBytes() const {
    return type == PhysicalType::kByteArray || type == PhysicalType::kFixedLenByteArray;
  }
  std::string_view Bytes(size_t i) const {
    return std::string_view(bytes).substr(offsets[i], offsets[i + 1] - offsets[i]);
  }
  void AppendBytes(std::string_view value) {
    bytes.append(value);
    offsets.push_back(static_cast<uint32_t>(bytes.size()));
  }
  void Clear();
};

// ---- Decoders. All check every length against `data`; errors are kDataLoss. Thread-safe. ----

// Decodes the RLE / bit-packed hybrid (Encodings.md) of values `bit_width` (0..32) bits wide.
// The input is borrowed. A final bit-packed run may be cut short (as some writers do).
class RleBitPackedDecoder {
 public:
  RleBitPackedDecoder(std::span<const uint8_t> data, int bit_width)
      : data_(data), bit_width_(bit_width) {}
  // Appends `count` values to `out`. Errors: kDataLoss when the input runs out or is malformed.
  core::Status Get(size_t count, std::vector<uint32_t>* out);
  size_t position() const { return pos_; }

 private:
  core::Status NextRun();

  std::span<const uint8_t> data_;
  int bit_width_;
  size_t pos_ = 0;
  uint64_t rle_left_ = 0;
  uint32_t rle_value_ = 0;
  uint64_t packed_left_ = 0;
  size_t packed_bit_pos_ = 0;  // absolute bit offset of the next bit-packed value
};

// PLAIN: `count` values of `type` (FIXED_LEN_BYTE_ARRAY needs `type_length`), appended to `out`.
// `*consumed` (optional) receives the bytes used.
core::Status DecodePlain(std::span<const uint8_t> data, size_t count, int type_length,
                         PhysicalValues* out, size_t* consumed = nullptr);
// Dictionary indices of a data page: one byte bit width, then the RLE hybrid.
core::Status DecodeDictionaryIndices(std::span<const uint8_t> data, size_t count,
                                     std::vector<uint32_t>* out);
// RLE-encoded booleans (data pages with encoding RLE): 4-byte length prefix, hybrid, width 1.
core::Status DecodeRleBooleans(std::span<const uint8_t> data, size_t count, PhysicalValues* out);
// DELTA_BINARY_PACKED for INT32 (`is_int32`) or INT64; the header's value count must equal
// `count`. `*consumed` receives the bytes used, including the padding of the last miniblock.
core::Status DecodeDeltaBinaryPacked(std::span<const uint8_t> data, size_t count, bool is_int32,
                                     std::vector<int64_t>* out, size_t* consumed = nullptr);
core::Status DecodeDeltaLengthByteArray(std::span<const uint8_t> data, size_t count,
                                        PhysicalValues* out, size_t* consumed = nullptr);
core::Status DecodeDeltaByteArray(std::span<const uint8_t> data, size_t count, PhysicalValues* out);
core::Status DecodeByteStreamSplit(std::span<const uint8_t> data, size_t count, int type_length,
                                   PhysicalValues* out);

// Decodes `count` values of any non-dictionary encoding into `out` (whose type is set).
// Errors: kDataLoss, kUnimplemented for an encoding that does not apply to the type.
core::Status DecodeValues(Encoding encoding, std::span<const uint8_t> data, size_t count,
                          int type_length, PhysicalValues* out);

// ---- Encoders. Append to `out`. Thread-safe. ----

// Encodes the RLE / bit-packed hybrid: runs of 8+ equal values become RLE runs, the rest
// bit-packed groups of 8 (the last group zero-padded).
class RleBitPackedEncoder {
 public:
  explicit RleBitPackedEncoder(int bit_width) : bit_width_(bit_width) {}
  void Put(uint32_t value) { values_.push_back(value); }
  // Appends the encoded runs to `out` and resets the encoder.
  void Flush(std::string* out);

 private:
  void FlushLiterals(size_t begin, size_t end, std::string* out);

  int bit_width_;
  std::vector<uint32_t> values_;
};

void EncodePlain(const PhysicalValues& values, int type_length, std::string* out);
void EncodeDictionaryIndices(std::span<const uint32_t> indices, int bit_width, std::string* out);
void EncodeDeltaBinaryPacked(std::span<const int64_t> values, bool is_int32, std::string* out);
void EncodeDeltaLengthByteArray(const PhysicalValues& values, std::string* out);
void EncodeDeltaByteArray(const PhysicalValues& values, std::string* out);
void EncodeByteStreamSplit(const PhysicalValues& values, int type_length, std::string* out);

// Bits needed to represent `max_value` (0 for 0).
int BitWidth(uint64_t max_value);
void AppendUleb128(uint64_t value, std::string* out);

}  // namespace lakeml::storage::internal
