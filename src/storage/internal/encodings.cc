#include "storage/internal/encodings.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace lakeml::storage::internal {

size_t PhysicalValues::size() const {
  switch (type) {
    case PhysicalType::kFloat:
    case PhysicalType::kDouble:
      return doubles.size();
    case PhysicalType::kByteArray:
    case PhysicalType::kFixedLenByteArray:
      return offsets.size() - 1;
    default:
      return ints.size();
  }
}

void PhysicalValues::Clear() {
  ints.clear();
  doubles.clear();
  offsets.assign(1, 0);
  bytes.clear();
}

namespace {

// Reads `width` (0..64) bits starting at absolute bit `bit_pos`, least significant bit first.
// The caller guarantees the bits are inside `data`.
uint64_t ReadBits(const uint8_t* data, size_t bit_pos, int width) {
  uint64_t result = 0;
  int got = 0;
  size_t byte = bit_pos >> 3;
  int shift = static_cast<int>(bit_pos & 7);
  while (got < width) {
    uint64_t chunk = static_cast<uint64_t>(data[byte++] >> shift);
    result |= chunk << got;
    got += 8 - shift;
    shift = 0;
  }
  if (width < 64) result &= (uint64_t{1} << width) - 1;
  return result;
}

// Appends `width` low bits of `value` at absolute bit `bit_pos` of `out` (zero-initialised).
void WriteBits(std::string* out, size_t bit_pos, int width, uint64_t value) {
  for (int i = 0; i < width; ++i) {
    if ((value >> i) & 1) {
      size_t bit = bit_pos + static_cast<size_t>(i);
      (*out)[bit >> 3] =
          static_cast<char>(static_cast<uint8_t>((*out)[bit >> 3]) | (1u << (bit & 7)));
    }
  }
}

core::Status ReadUleb128(std::span<const uint8_t> data, size_t* pos, uint64_t* value) {
  uint64_t result = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (*pos >= data.size()) return core::DataLoss("truncated varint in encoded values");
    uint8_t byte = data[(*pos)++];
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *value = result;
      return core::Status::Ok();
    }
  }
  return core::DataLoss("varint longer than 64 bits in encoded values");
}

core::Status ReadZigZag(std::span<const uint8_t> data, size_t* pos, int64_t* value) {
  uint64_t raw = 0;
  LAKEML_RETURN_IF_ERROR(ReadUleb128(data, pos, &raw));
  *value = static_cast<int64_t>(raw >> 1) ^ -static_cast<int64_t>(raw & 1);
  return core::Status::Ok();
}

void AppendZigZag(int64_t value, std::string* out) {
  AppendUleb128((static_cast<uint64_t>(value) << 1) ^ static_cast<uint64_t>(value >> 63), out);
}

template <typename T>
T LoadLE(const uint8_t* data) {
  T value;
  std::memcpy(&value, data, sizeof(T));  // little-endian host (x86-64/aarch64)
  return value;
}

template <typename T>
void StoreLE(T value, std::string* out) {
  char buf[sizeof(T)];
  std::memcpy(buf, &value, sizeof(T));
  out->append(buf, sizeof(T));
}

int PlainWidth(PhysicalType type, int type_length) {
  switch (type) {
    case PhysicalType::kInt32:
    case PhysicalType::kFloat:
      return 4;
    case PhysicalType::kInt64:
    case PhysicalType::kDouble:
      return 8;
    case PhysicalType::kInt96:
      return 12;
    case PhysicalType::kFixedLenByteArray:
      return type_length;
    default:
      return 0;
  }
}

constexpr int64_t kJulianDayOfEpoch = 2440588;
constexpr int64_t kNanosPerDay = int64_t{86400} * 1000 * 1000 * 1000;

}  // namespace

int BitWidth(uint64_t max_value) { return max_value == 0 ? 0 : 64 - std::countl_zero(max_value); }

void AppendUleb128(uint64_t value, std::string* out) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

core::Status RleBitPackedDecoder::NextRun() {
  uint64_t header = 0;
  LAKEML_RETURN_IF_ERROR(ReadUleb128(data_, &pos_, &header));
  if (header & 1) {
    uint64_t groups = header >> 1;
    size_t available_bits = (data_.size() - pos_) * 8;
    uint64_t values = groups * 8;
    if (groups > (uint64_t{1} << 40)) return core::DataLoss("bit-packed run is implausibly long");
    uint64_t bytes = groups * static_cast<uint64_t>(bit_width_);
    if (bit_width_ > 0 && values * bit_width_ > available_bits) {
      // Tolerate a cut-short last run: only the values fully present can be read.
      values = available_bits / bit_width_;
      bytes = data_.size() - pos_;
    }
    packed_left_ = values;
    packed_bit_pos_ = pos_ * 8;
    pos_ += bytes;
  } else {
    rle_left_ = header >> 1;
    int value_bytes = (bit_width_ + 7) / 8;
    if (data_.size() - pos_ < static_cast<size_t>(value_bytes)) {
      return core::DataLoss("truncated RLE run value");
    }
    uint32_t value = 0;
    for (int i = 0; i < value_bytes; ++i)
      value |= static_cast<uint32_t>(data_[pos_ + i]) << (8 * i);
    pos_ += value_bytes;
    rle_value_ = value;
  }
  return core::Status::Ok();
}

core::Status RleBitPackedDecoder::Get(size_t count, std::vector<uint32_t>* out) {
  if (bit_width_ < 0 || bit_width_ > 32) {
    return core::DataLoss("RLE bit width {} is outside 0..32", bit_width_);
  }
  size_t done = 0;
  int empty_runs = 0;
  while (done < count) {
    if (rle_left_ == 0 && packed_left_ == 0) {
      if (pos_ >= data_.size()) return core::DataLoss("RLE data ends before {} values", count);
      LAKEML_RETURN_IF_ERROR(NextRun());
      // Zero-length runs make no progress; a stream of them is garbage, not data.
      if (rle_left_ == 0 && packed_left_ == 0 && ++empty_runs > 64) {
        return core::DataLoss("RLE data has too many empty runs");
      }
      continue;
    }
    if (rle_left_ > 0) {
      size_t take = static_cast<size_t>(std::min<uint64_t>(rle_left_, count - done));
      out->insert(out->end(), take, rle_value_);
      rle_left_ -= take;
      done += take;
    } else {
      size_t take = static_cast<size_t>(std::min<uint64_t>(packed_left_, count - done));
      for (size_t i = 0; i < take; ++i) {
        out->push_back(static_cast<uint32_t>(ReadBits(data_.data(), packed_bit_pos_, bit_width_)));
        packed_bit_pos_ += bit_width_;
      }
      packed_left_ -= take;
      done += take;
    }
  }
  return core::Status::Ok();
}

core::Status DecodePlain(std::span<const uint8_t> data, size_t count, int type_length,
                         PhysicalValues* out, size_t* consumed) {
  size_t used = 0;
  switch (out->type) {
    case PhysicalType::kBoolean: {
      size_t bytes = (count + 7) / 8;
      if (bytes > data.size()) return core::DataLoss("PLAIN booleans truncated");
      out->ints.reserve(out->ints.size() + count);
      for (size_t i = 0; i < count; ++i) out->ints.push_back((data[i >> 3] >> (i & 7)) & 1);
      used = bytes;
      break;
    }
    case PhysicalType::kInt32:
    case PhysicalType::kInt64:
    case PhysicalType::kInt96:
    case PhysicalType::kFloat:
    case PhysicalType::kDouble:
    case PhysicalType::kFixedLenByteArray: {
      int width = PlainWidth(out->type, type_length);
      // A zero width would let any count decode from nothing.
      if (width <= 0) return core::DataLoss("FIXED_LEN_BYTE_ARRAY length {} is invalid", width);
      if (width > 0 && count > data.size() / static_cast<size_t>(width)) {
        return core::DataLoss("PLAIN values truncated: {} values of {} bytes in {} bytes", count,
                              width, data.size());
      }
      used = count * static_cast<size_t>(width);
      const uint8_t* p = data.data();
      switch (out->type) {
        case PhysicalType::kInt32:
          for (size_t i = 0; i < count; ++i) out->ints.push_back(LoadLE<int32_t>(p + 4 * i));
          break;
        case PhysicalType::kInt64:
          for (size_t i = 0; i < count; ++i) out->ints.push_back(LoadLE<int64_t>(p + 8 * i));
          break;
        case PhysicalType::kInt96:
          for (size_t i = 0; i < count; ++i) {
            uint64_t nanos = LoadLE<uint64_t>(p + 12 * i);
            int64_t julian = LoadLE<int32_t>(p + 12 * i + 8);
            // Unsigned arithmetic: hostile values wrap instead of overflowing.
            uint64_t total = static_cast<uint64_t>(julian - kJulianDayOfEpoch) *
                                 static_cast<uint64_t>(kNanosPerDay) +
                             nanos;
            out->ints.push_back(static_cast<int64_t>(total));
          }
          break;
        case PhysicalType::kFloat:
          for (size_t i = 0; i < count; ++i) out->doubles.push_back(LoadLE<float>(p + 4 * i));
          break;
        case PhysicalType::kDouble:
          for (size_t i = 0; i < count; ++i) out->doubles.push_back(LoadLE<double>(p + 8 * i));
          break;
        default:
          if (out->bytes.size() + used > kMaxDecodedPageBytes) {
            return core::DataLoss("decoded page exceeds {} bytes", kMaxDecodedPageBytes);
          }
          for (size_t i = 0; i < count; ++i) {
            out->AppendBytes(std::string_view(reinterpret_cast<const char*>(p) + i * width, width));
          }
          break;
      }
      break;
    }
    case PhysicalType::kByteArray: {
      size_t pos = 0;
      for (size_t i = 0; i < count; ++i) {
        if (data.size() - pos < 4) return core::DataLoss("PLAIN byte array length truncated");
        uint32_t length = LoadLE<uint32_t>(data.data() + pos);
        pos += 4;
        if (length > data.size() - pos) {
          return core::DataLoss("PLAIN byte array of {} bytes exceeds the page", length);
        }
        out->AppendBytes(
            std::string_view(reinterpret_cast<const char*>(data.data() + pos), length));
        pos += length;
      }
      used = pos;
      break;
    }
  }
  if (consumed != nullptr) *consumed = used;
  return core::Status::Ok();
}

core::Status DecodeDictionaryIndices(std::span<const uint8_t> data, size_t count,
                                     std::vector<uint32_t>* out) {
  if (count == 0) return core::Status::Ok();
  if (data.empty()) return core::DataLoss("dictionary indices lack a bit width");
  int bit_width = data[0];
  if (bit_width > 32) return core::DataLoss("dictionary index bit width {} > 32", bit_width);
  RleBitPackedDecoder decoder(data.subspan(1), bit_width);
  return decoder.Get(count, out);
}

core::Status DecodeRleBooleans(std::span<const uint8_t> data, size_t count, PhysicalValues* out) {
  if (data.size() < 4) return core::DataLoss("RLE booleans lack a length prefix");
  uint32_t length = LoadLE<uint32_t>(data.data());
  if (length > data.size() - 4) return core::DataLoss("RLE booleans length exceeds the page");
  RleBitPackedDecoder decoder(data.subspan(4, length), 1);
  std::vector<uint32_t> bits;
  LAKEML_RETURN_IF_ERROR(decoder.Get(count, &bits));
  out->ints.insert(out->ints.end(), bits.begin(), bits.end());
  return core::Status::Ok();
}

core::Status DecodeDeltaBinaryPacked(std::span<const uint8_t> data, size_t count, bool is_int32,
                                     std::vector<int64_t>* out, size_t* consumed) {
  size_t pos = 0;
  uint64_t block_size = 0;
  uint64_t miniblocks = 0;
  uint64_t total = 0;
  int64_t first = 0;
  LAKEML_RETURN_IF_ERROR(ReadUleb128(data, &pos, &block_size));
  LAKEML_RETURN_IF_ERROR(ReadUleb128(data, &pos, &miniblocks));
  LAKEML_RETURN_IF_ERROR(ReadUleb128(data, &pos, &total));
  LAKEML_RETURN_IF_ERROR(ReadZigZag(data, &pos, &first));
  if (block_size == 0 || block_size % 128 != 0 || block_size > (1u << 20) || miniblocks == 0 ||
      block_size % miniblocks != 0 || (block_size / miniblocks) % 32 != 0) {
    return core::DataLoss("DELTA_BINARY_PACKED header has block size {} with {} miniblocks",
                          block_size, miniblocks);
  }
  if (total != count) {
    return core::DataLoss("DELTA_BINARY_PACKED holds {} values where {} were expected", total,
                          count);
  }
  const uint64_t per_miniblock = block_size / miniblocks;
  const int max_width = is_int32 ? 32 : 64;
  out->reserve(out->size() + count);
  auto finish = [&](uint64_t value) {
    out->push_back(is_int32
                       ? static_cast<int64_t>(static_cast<int32_t>(static_cast<uint32_t>(value)))
                       : static_cast<int64_t>(value));
  };
  size_t produced = 0;
  uint64_t last = static_cast<uint64_t>(first);
  if (count > 0) {
    finish(last);
    produced = 1;
  }
  std::vector<uint8_t> widths(miniblocks);
  while (produced < count) {
    int64_t min_delta = 0;
    LAKEML_RETURN_IF_ERROR(ReadZigZag(data, &pos, &min_delta));
    if (data.size() - pos < miniblocks)
      return core::DataLoss("DELTA_BINARY_PACKED widths truncated");
    std::memcpy(widths.data(), data.data() + pos, miniblocks);
    pos += miniblocks;
    for (uint64_t m = 0; m < miniblocks && produced < count; ++m) {
      int width = widths[m];
      if (width > max_width) {
        return core::DataLoss("DELTA_BINARY_PACKED miniblock width {} exceeds {}", width,
                              max_width);
      }
      uint64_t take = std::min<uint64_t>(per_miniblock, count - produced);
      size_t full_bytes = per_miniblock * width / 8;
      size_t needed_bytes = (take * width + 7) / 8;
      if (data.size() - pos < needed_bytes) {
        return core::DataLoss("DELTA_BINARY_PACKED miniblock truncated");
      }
      size_t bit_pos = pos * 8;
      for (uint64_t i = 0; i < take; ++i) {
        uint64_t delta = ReadBits(data.data(), bit_pos, width);
        bit_pos += width;
        last = last + static_cast<uint64_t>(min_delta) + delta;
        finish(last);
      }
      produced += take;
      pos = std::min(pos + full_bytes, data.size());
    }
  }
  if (consumed != nullptr) *consumed = pos;
  return core::Status::Ok();
}

core::Status DecodeDeltaLengthByteArray(std::span<const uint8_t> data, size_t count,
                                        PhysicalValues* out, size_t* consumed) {
  std::vector<int64_t> lengths;
  size_t pos = 0;
  LAKEML_RETURN_IF_ERROR(DecodeDeltaBinaryPacked(data, count, true, &lengths, &pos));
  for (int64_t length : lengths) {
    if (length < 0 || static_cast<uint64_t>(length) > data.size() - pos) {
      return core::DataLoss("DELTA_LENGTH_BYTE_ARRAY length {} exceeds the page", length);
    }
    out->AppendBytes(std::string_view(reinterpret_cast<const char*>(data.data() + pos), length));
    pos += length;
  }
  if (consumed != nullptr) *consumed = pos;
  return core::Status::Ok();
}

core::Status DecodeDeltaByteArray(std::span<const uint8_t> data, size_t count,
                                  PhysicalValues* out) {
  std::vector<int64_t> prefixes;
  size_t pos = 0;
  LAKEML_RETURN_IF_ERROR(DecodeDeltaBinaryPacked(data, count, true, &prefixes, &pos));
  PhysicalValues suffixes(PhysicalType::kByteArray);
  LAKEML_RETURN_IF_ERROR(DecodeDeltaLengthByteArray(data.subspan(pos), count, &suffixes));
  std::string previous;
  for (size_t i = 0; i < count; ++i) {
    int64_t prefix = prefixes[i];
    if (prefix < 0 || static_cast<uint64_t>(prefix) > previous.size()) {
      return core::DataLoss("DELTA_BYTE_ARRAY prefix {} is longer than the previous value", prefix);
    }
    previous.resize(prefix);
    previous.append(suffixes.Bytes(i));
    if (out->bytes.size() + previous.size() > kMaxDecodedPageBytes) {
      return core::DataLoss("decoded page exceeds {} bytes", kMaxDecodedPageBytes);
    }
    out->AppendBytes(previous);
  }
  return core::Status::Ok();
}

core::Status DecodeByteStreamSplit(std::span<const uint8_t> data, size_t count, int type_length,
                                   PhysicalValues* out) {
  int width = PlainWidth(out->type, type_length);
  if (width <= 0 || out->type == PhysicalType::kInt96) {
    return core::DataLoss("BYTE_STREAM_SPLIT does not apply to this column type");
  }
  if (count > data.size() / static_cast<size_t>(width)) {
    return core::DataLoss("BYTE_STREAM_SPLIT data truncated");
  }
  // Each of the `width` streams holds one byte of every value; the stream length is the value
  // count implied by the page size.
  size_t stride = data.size() / static_cast<size_t>(width);
  std::string plain;
  plain.resize(count * static_cast<size_t>(width));
  for (size_t i = 0; i < count; ++i) {
    for (int b = 0; b < width; ++b) plain[i * width + b] = static_cast<char>(data[b * stride + i]);
  }
  return DecodePlain(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(plain.data()), plain.size()), count,
      type_length, out);
}

core::Status DecodeValues(Encoding encoding, std::span<const uint8_t> data, size_t count,
                          int type_length, PhysicalValues* out) {
  PhysicalType type = out->type;
  switch (encoding) {
    case Encoding::kPlain:
      return DecodePlain(data, count, type_length, out);
    case Encoding::kRle:
      if (type != PhysicalType::kBoolean) break;
      return DecodeRleBooleans(data, count, out);
    case Encoding::kDeltaBinaryPacked:
      if (type != PhysicalType::kInt32 && type != PhysicalType::kInt64) break;
      return DecodeDeltaBinaryPacked(data, count, type == PhysicalType::kInt32, &out->ints);
    case Encoding::kDeltaLengthByteArray:
      if (type != PhysicalType::kByteArray) break;
      return DecodeDeltaLengthByteArray(data, count, out);
    case Encoding::kDeltaByteArray:
      if (!out->IsBytes()) break;
      return DecodeDeltaByteArray(data, count, out);
    case Encoding::kByteStreamSplit:
      return DecodeByteStreamSplit(data, count, type_length, out);
    default:
      break;
  }
  return core::Unimplemented("encoding {} is not supported for physical type {}",
                             static_cast<int>(encoding), static_cast<int>(type));
}

void RleBitPackedEncoder::FlushLiterals(size_t begin, size_t end, std::string* out) {
  if (begin == end) return;
  size_t groups = (end - begin + 7) / 8;
  AppendUleb128((groups << 1) | 1, out);
  size_t start = out->size();
  out->resize(start + groups * static_cast<size_t>(bit_width_), '\0');
  std::string packed(groups * static_cast<size_t>(bit_width_), '\0');
  for (size_t i = begin; i < end; ++i) {
    WriteBits(&packed, (i - begin) * bit_width_, bit_width_, values_[i]);
  }
  std::memcpy(out->data() + start, packed.data(), packed.size());
}

void RleBitPackedEncoder::Flush(std::string* out) {
  const size_t n = values_.size();
  const int value_bytes = (bit_width_ + 7) / 8;
  size_t literal_begin = 0;
  size_t i = 0;
  while (i < n) {
    size_t run_end = i + 1;
    while (run_end < n && values_[run_end] == values_[i]) ++run_end;
    // Literal groups must hold multiples of 8 values unless they end the stream, so a run may
    // only start once the pending literals fill whole groups.
    if (run_end - i >= 8 && (i - literal_begin) % 8 == 0) {
      FlushLiterals(literal_begin, i, out);
      AppendUleb128(static_cast<uint64_t>(run_end - i) << 1, out);
      for (int b = 0; b < value_bytes; ++b)
        out->push_back(static_cast<char>(values_[i] >> (8 * b)));
      i = run_end;
      literal_begin = i;
    } else {
      ++i;
    }
  }
  FlushLiterals(literal_begin, n, out);
  values_.clear();
}

void EncodePlain(const PhysicalValues& values, int type_length, std::string* out) {
  switch (values.type) {
    case PhysicalType::kBoolean: {
      size_t start = out->size();
      out->resize(start + (values.ints.size() + 7) / 8, '\0');
      for (size_t i = 0; i < values.ints.size(); ++i) {
        if (values.ints[i] != 0) (*out)[start + (i >> 3)] |= static_cast<char>(1 << (i & 7));
      }
      break;
    }
    case PhysicalType::kInt32:
      for (int64_t v : values.ints) StoreLE(static_cast<int32_t>(v), out);
      break;
    case PhysicalType::kInt64:
      for (int64_t v : values.ints) StoreLE(v, out);
      break;
    case PhysicalType::kInt96:
      for (int64_t v : values.ints) {
        // Floor division keeps nanos-of-day non-negative for instants before 1970.
        int64_t days = v / kNanosPerDay;
        int64_t nanos = v % kNanosPerDay;
        if (nanos < 0) {
          nanos += kNanosPerDay;
          --days;
        }
        StoreLE(nanos, out);
        StoreLE(static_cast<int32_t>(days + kJulianDayOfEpoch), out);
      }
      break;
    case PhysicalType::kFloat:
      for (double v : values.doubles) StoreLE(static_cast<float>(v), out);
      break;
    case PhysicalType::kDouble:
      for (double v : values.doubles) StoreLE(v, out);
      break;
    case PhysicalType::kByteArray:
      for (size_t i = 0; i + 1 < values.offsets.size(); ++i) {
        std::string_view value = values.Bytes(i);
        StoreLE(static_cast<uint32_t>(value.size()), out);
        out->append(value);
      }
      break;
    case PhysicalType::kFixedLenByteArray:
      for (size_t i = 0; i + 1 < values.offsets.size(); ++i) {
        std::string value(values.Bytes(i));
        value.resize(static_cast<size_t>(type_length), '\0');
        out->append(value);
      }
      break;
  }
}

void EncodeDictionaryIndices(std::span<const uint32_t> indices, int bit_width, std::string* out) {
  out->push_back(static_cast<char>(bit_width));
  RleBitPackedEncoder encoder(bit_width);
  for (uint32_t index : indices) encoder.Put(index);
  encoder.Flush(out);
}

void EncodeDeltaBinaryPacked(std::span<const int64_t> values, bool is_int32, std::string* out) {
  constexpr uint64_t kBlockSize = 128;
  constexpr uint64_t kMiniblocks = 4;
  constexpr uint64_t kPerMiniblock = kBlockSize / kMiniblocks;
  AppendUleb128(kBlockSize, out);
  AppendUleb128(kMiniblocks, out);
  AppendUleb128(values.size(), out);
  AppendZigZag(values.empty() ? 0 : values[0], out);
  // Deltas wrap in the column's width, as readers reconstruct them with wrapping adds.
  auto delta_of = [&](size_t i) -> int64_t {
    uint64_t d = static_cast<uint64_t>(values[i]) - static_cast<uint64_t>(values[i - 1]);
    return is_int32 ? static_cast<int64_t>(static_cast<int32_t>(static_cast<uint32_t>(d)))
                    : static_cast<int64_t>(d);
  };
  for (size_t block_start = 1; block_start < values.size(); block_start += kBlockSize) {
    size_t block_end = std::min(values.size(), block_start + kBlockSize);
    int64_t min_delta = INT64_MAX;
    for (size_t i = block_start; i < block_end; ++i) min_delta = std::min(min_delta, delta_of(i));
    AppendZigZag(min_delta, out);
    uint8_t widths[kMiniblocks] = {0, 0, 0, 0};
    for (uint64_t m = 0; m < kMiniblocks; ++m) {
      uint64_t max_adjusted = 0;
      for (size_t i = block_start + m * kPerMiniblock;
           i < std::min(block_end, block_start + (m + 1) * kPerMiniblock); ++i) {
        uint64_t adjusted = static_cast<uint64_t>(delta_of(i)) - static_cast<uint64_t>(min_delta);
        if (is_int32) adjusted &= 0xffffffffu;
        max_adjusted = std::max(max_adjusted, adjusted);
      }
      widths[m] = static_cast<uint8_t>(BitWidth(max_adjusted));
    }
    out->append(reinterpret_cast<const char*>(widths), kMiniblocks);
    for (uint64_t m = 0; m < kMiniblocks; ++m) {
      size_t first = block_start + m * kPerMiniblock;
      if (first >= block_end) break;
      std::string packed(kPerMiniblock * widths[m] / 8, '\0');
      for (size_t i = first; i < std::min(block_end, first + kPerMiniblock); ++i) {
        uint64_t adjusted = static_cast<uint64_t>(delta_of(i)) - static_cast<uint64_t>(min_delta);
        if (is_int32) adjusted &= 0xffffffffu;
        WriteBits(&packed, (i - first) * widths[m], widths[m], adjusted);
      }
      out->append(packed);
    }
  }
}

void EncodeDeltaLengthByteArray(const PhysicalValues& values, std::string* out) {
  std::vector<int64_t> lengths;
  for (size_t i = 0; i < values.size(); ++i) lengths.push_back(values.Bytes(i).size());
  EncodeDeltaBinaryPacked(lengths, true, out);
  out->append(values.bytes);
}

void EncodeDeltaByteArray(const PhysicalValues& values, std::string* out) {
  std::vector<int64_t> prefixes;
  PhysicalValues suffixes(PhysicalType::kByteArray);
  std::string_view previous;
  for (size_t i = 0; i < values.size(); ++i) {
    std::string_view value = values.Bytes(i);
    size_t prefix = 0;
    while (prefix < previous.size() && prefix < value.size() && previous[prefix] == value[prefix]) {
      ++prefix;
    }
    prefixes.push_back(static_cast<int64_t>(prefix));
    suffixes.AppendBytes(value.substr(prefix));
    previous = value;
  }
  EncodeDeltaBinaryPacked(prefixes, true, out);
  EncodeDeltaLengthByteArray(suffixes, out);
}

void EncodeByteStreamSplit(const PhysicalValues& values, int type_length, std::string* out) {
  std::string plain;
  EncodePlain(values, type_length, &plain);
  int width = PlainWidth(values.type, type_length);
  if (width <= 0) return;
  size_t count = plain.size() / width;
  size_t start = out->size();
  out->resize(start + plain.size());
  for (size_t i = 0; i < count; ++i) {
    for (int b = 0; b < width; ++b) (*out)[start + b * count + i] = plain[i * width + b];
  }
}

}  // namespace lakeml::storage::internal
