#include "storage/table_hash.h"

#include <cstring>

namespace lakeml::storage {

namespace {

constexpr uint32_t kFnvOffset = 0x811C9DC5u;
constexpr uint32_t kFnvPrime = 0x01000193u;

inline void Mix(uint32_t& h, uint32_t word) { h = (h ^ word) * kFnvPrime; }

inline void MixInt64(uint32_t& h, int64_t value) {
  auto bits = static_cast<uint64_t>(value);
  Mix(h, static_cast<uint32_t>(bits));
  Mix(h, static_cast<uint32_t>(bits >> 32));
}

void MixBytes(uint32_t& h, std::string_view bytes) {
  Mix(h, static_cast<uint32_t>(bytes.size()));
  for (size_t i = 0; i < bytes.size(); i += 4) {
    uint32_t word = 0;
    for (size_t b = 0; b < 4 && i + b < bytes.size(); ++b) {
      word |= static_cast<uint32_t>(static_cast<uint8_t>(bytes[i + b])) << (8 * b);
    }
    Mix(h, word);
  }
}

void HashColumn(const Column& column, uint32_t& h) {
  for (size_t row = 0; row < column.size(); ++row) {
    if (column.IsNull(row)) {
      Mix(h, 0);
      continue;
    }
    Mix(h, 1);
    switch (column.type()) {
      case DataType::kBool:
        Mix(h, column.Int(row) != 0 ? 1 : 0);
        break;
      case DataType::kInt32:
      case DataType::kInt64:
      case DataType::kDate:
      case DataType::kTimestamp:
        MixInt64(h, column.Int(row));
        break;
      case DataType::kDecimal: {
        int64_t value = column.Int(row);
        MixInt64(h, value);
        // The high 64 bits of the sign-extended 128-bit value.
        MixInt64(h, value < 0 ? -1 : 0);
        break;
      }
      case DataType::kFloat:
      case DataType::kDouble: {
        double value = column.Double(row);
        int64_t bits = 0;
        std::memcpy(&bits, &value, sizeof(bits));
        MixInt64(h, bits);
        break;
      }
      case DataType::kString:
      case DataType::kBinary:
        MixBytes(h, column.Bytes(row));
        break;
    }
  }
}

}  // namespace

core::Status TableHasher::Add(const ColumnBatch& batch) {
  if (types_.empty() && column_hashes_.empty()) {
    for (const Column& column : batch.columns) types_.push_back(column.type());
    column_hashes_.assign(types_.size(), kFnvOffset);
  }
  if (batch.columns.size() != types_.size()) {
    return core::InvalidArgument("table hash: batch has {} columns, expected {}",
                                 batch.columns.size(), types_.size());
  }
  for (size_t i = 0; i < batch.columns.size(); ++i) {
    if (batch.columns[i].type() != types_[i]) {
      return core::InvalidArgument("table hash: column {} changed type between batches", i);
    }
    HashColumn(batch.columns[i], column_hashes_[i]);
  }
  return core::Status::Ok();
}

uint32_t TableHasher::Finish() const {
  uint32_t h = kFnvOffset;
  for (uint32_t column_hash : column_hashes_) Mix(h, column_hash);
  return h;
}

core::Result<uint32_t> TableHash(std::span<const ColumnBatch> batches) {
  TableHasher hasher;
  for (const ColumnBatch& batch : batches) LAKEML_RETURN_IF_ERROR(hasher.Add(batch));
  return hasher.Finish();
}

}  // namespace lakeml::storage
