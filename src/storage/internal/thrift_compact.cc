#include "storage/internal/thrift_compact.h"

#include <cstring>

namespace lakeml::storage::internal {

namespace {
int64_t ZigZagDecode(uint64_t value) {
  return static_cast<int64_t>(value >> 1) ^ -static_cast<int64_t>(value & 1);
}
}  // namespace

core::Status ThriftReader::ReadVarint(uint64_t* value) {
  uint64_t result = 0;
  // A 64-bit value needs at most 10 bytes; more means a corrupt or hostile stream.
  for (int shift = 0; shift < 70; shift += 7) {
    if (pos_ >= size_) return core::DataLoss("thrift: truncated varint at byte {}", pos_);
    uint8_t byte = data_[pos_++];
    if (shift == 63 && (byte & 0x7e) != 0)
      return core::DataLoss("thrift: varint overflows 64 bits");
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *value = result;
      return core::Status::Ok();
    }
  }
  return core::DataLoss("thrift: varint longer than 10 bytes at byte {}", pos_);
}

core::Status ThriftReader::BeginStruct() {
  if (static_cast<int>(last_field_ids_.size()) >= kMaxDepth) {
    return core::DataLoss("thrift: structs nested deeper than {}", kMaxDepth);
  }
  last_field_ids_.push_back(0);
  return core::Status::Ok();
}

void ThriftReader::EndStruct() {
  if (!last_field_ids_.empty()) last_field_ids_.pop_back();
}

core::Status ThriftReader::ReadFieldHeader(int16_t* field_id, ThriftType* type) {
  if (pos_ >= size_) return core::DataLoss("thrift: truncated struct at byte {}", pos_);
  uint8_t header = data_[pos_++];
  uint8_t type_nibble = header & 0x0f;
  if (type_nibble == 0) {
    *type = ThriftType::kStop;
    *field_id = 0;
    return core::Status::Ok();
  }
  if (type_nibble > static_cast<uint8_t>(ThriftType::kUuid)) {
    return core::DataLoss("thrift: unknown field type {} at byte {}", type_nibble, pos_ - 1);
  }
  *type = static_cast<ThriftType>(type_nibble);
  int16_t& last = last_field_ids_.empty() ? *field_id : last_field_ids_.back();
  uint8_t delta = header >> 4;
  if (delta != 0) {
    *field_id = static_cast<int16_t>(last + delta);
  } else {
    int16_t id = 0;
    LAKEML_RETURN_IF_ERROR(ReadI16(&id));
    *field_id = id;
  }
  if (!last_field_ids_.empty()) last_field_ids_.back() = *field_id;
  return core::Status::Ok();
}

core::Status ThriftReader::ReadBoolElement(bool* value) {
  if (pos_ >= size_) return core::DataLoss("thrift: truncated bool");
  // Reference implementations write 1 for true; accept 0 or 2 as false.
  *value = data_[pos_++] == 1;
  return core::Status::Ok();
}

core::Status ThriftReader::ReadI8(int8_t* value) {
  if (pos_ >= size_) return core::DataLoss("thrift: truncated byte");
  *value = static_cast<int8_t>(data_[pos_++]);
  return core::Status::Ok();
}

core::Status ThriftReader::ReadI16(int16_t* value) {
  uint64_t raw = 0;
  LAKEML_RETURN_IF_ERROR(ReadVarint(&raw));
  int64_t decoded = ZigZagDecode(raw);
  if (decoded < INT16_MIN || decoded > INT16_MAX) return core::DataLoss("thrift: i16 out of range");
  *value = static_cast<int16_t>(decoded);
  return core::Status::Ok();
}

core::Status ThriftReader::ReadI32(int32_t* value) {
  uint64_t raw = 0;
  LAKEML_RETURN_IF_ERROR(ReadVarint(&raw));
  int64_t decoded = ZigZagDecode(raw);
  if (decoded < INT32_MIN || decoded > INT32_MAX) return core::DataLoss("thrift: i32 out of range");
  *value = static_cast<int32_t>(decoded);
  return core::Status::Ok();
}

core::Status ThriftReader::ReadI64(int64_t* value) {
  uint64_t raw = 0;
  LAKEML_RETURN_IF_ERROR(ReadVarint(&raw));
  *value = ZigZagDecode(raw);
  return core::Status::Ok();
}

core::Status ThriftReader::ReadDouble(double* value) {
  if (remaining() < 8) return core::DataLoss("thrift: truncated double");
  std::memcpy(value, data_ + pos_, 8);
  pos_ += 8;
  return core::Status::Ok();
}

core::Status ThriftReader::ReadBinary(std::string* value) {
  uint64_t length = 0;
  LAKEML_RETURN_IF_ERROR(ReadVarint(&length));
  if (length > remaining()) {
    return core::DataLoss("thrift: binary of {} bytes exceeds the {} bytes left", length,
                          remaining());
  }
  value->assign(reinterpret_cast<const char*>(data_ + pos_), length);
  pos_ += length;
  return core::Status::Ok();
}

core::Status ThriftReader::ReadListHeader(ThriftType* element_type, uint32_t* size) {
  if (pos_ >= size_) return core::DataLoss("thrift: truncated list header");
  uint8_t header = data_[pos_++];
  uint8_t type_nibble = header & 0x0f;
  if (type_nibble > static_cast<uint8_t>(ThriftType::kUuid)) {
    return core::DataLoss("thrift: unknown list element type {}", type_nibble);
  }
  *element_type = static_cast<ThriftType>(type_nibble);
  uint64_t count = header >> 4;
  if (count == 15) LAKEML_RETURN_IF_ERROR(ReadVarint(&count));
  // Every element occupies at least one byte, so a larger count can only be a lie; checking it
  // here keeps callers from reserving memory for it.
  if (count > remaining()) {
    return core::DataLoss("thrift: list of {} elements exceeds the {} bytes left", count,
                          remaining());
  }
  *size = static_cast<uint32_t>(count);
  return core::Status::Ok();
}

core::Status ThriftReader::Skip(ThriftType type) {
  return SkipDepth(type, static_cast<int>(last_field_ids_.size()));
}

core::Status ThriftReader::SkipDepth(ThriftType type, int depth) {
  if (depth >= kMaxDepth) return core::DataLoss("thrift: values nested deeper than {}", kMaxDepth);
  switch (type) {
    case ThriftType::kBoolTrue:
    case ThriftType::kBoolFalse:
      return core::Status::Ok();
    case ThriftType::kByte: {
      int8_t ignored = 0;
      return ReadI8(&ignored);
    }
    case ThriftType::kI16:
    case ThriftType::kI32:
    case ThriftType::kI64: {
      uint64_t ignored = 0;
      return ReadVarint(&ignored);
    }
    case ThriftType::kDouble:
      if (remaining() < 8) return core::DataLoss("thrift: truncated double");
      pos_ += 8;
      return core::Status::Ok();
    case ThriftType::kUuid:
      if (remaining() < 16) return core::DataLoss("thrift: truncated uuid");
      pos_ += 16;
      return core::Status::Ok();
    case ThriftType::kBinary: {
      uint64_t length = 0;
      LAKEML_RETURN_IF_ERROR(ReadVarint(&length));
      if (length > remaining()) return core::DataLoss("thrift: truncated binary");
      pos_ += length;
      return core::Status::Ok();
    }
    case ThriftType::kList:
    case ThriftType::kSet: {
      ThriftType element_type;
      uint32_t count = 0;
      LAKEML_RETURN_IF_ERROR(ReadListHeader(&element_type, &count));
      for (uint32_t i = 0; i < count; ++i) {
        if (element_type == ThriftType::kBoolTrue || element_type == ThriftType::kBoolFalse) {
          bool ignored = false;
          LAKEML_RETURN_IF_ERROR(ReadBoolElement(&ignored));
        } else {
          LAKEML_RETURN_IF_ERROR(SkipDepth(element_type, depth + 1));
        }
      }
      return core::Status::Ok();
    }
    case ThriftType::kMap: {
      uint64_t count = 0;
      LAKEML_RETURN_IF_ERROR(ReadVarint(&count));
      if (count == 0) return core::Status::Ok();
      if (count > remaining())
        return core::DataLoss("thrift: map of {} entries is truncated", count);
      if (pos_ >= size_) return core::DataLoss("thrift: truncated map header");
      uint8_t types = data_[pos_++];
      auto key_type = static_cast<ThriftType>(types >> 4);
      auto value_type = static_cast<ThriftType>(types & 0x0f);
      if ((types >> 4) > 13 || (types & 0x0f) > 13) return core::DataLoss("thrift: bad map types");
      for (uint64_t i = 0; i < count; ++i) {
        for (ThriftType t : {key_type, value_type}) {
          if (t == ThriftType::kBoolTrue || t == ThriftType::kBoolFalse) {
            bool ignored = false;
            LAKEML_RETURN_IF_ERROR(ReadBoolElement(&ignored));
          } else {
            LAKEML_RETURN_IF_ERROR(SkipDepth(t, depth + 1));
          }
        }
      }
      return core::Status::Ok();
    }
    case ThriftType::kStruct: {
      LAKEML_RETURN_IF_ERROR(BeginStruct());
      while (true) {
        int16_t id = 0;
        ThriftType field_type;
        LAKEML_RETURN_IF_ERROR(ReadFieldHeader(&id, &field_type));
        if (field_type == ThriftType::kStop) break;
        LAKEML_RETURN_IF_ERROR(SkipDepth(field_type, depth + 1));
      }
      EndStruct();
      return core::Status::Ok();
    }
    case ThriftType::kStop:
      break;
  }
  return core::DataLoss("thrift: cannot skip a value of type {}", static_cast<int>(type));
}

void ThriftWriter::Varint(uint64_t value) {
  while (value >= 0x80) {
    out_.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out_.push_back(static_cast<char>(value));
}

void ThriftWriter::ZigZag(int64_t value) {
  Varint((static_cast<uint64_t>(value) << 1) ^ static_cast<uint64_t>(value >> 63));
}

void ThriftWriter::BeginStruct() { last_field_ids_.push_back(0); }

void ThriftWriter::EndStruct() {
  out_.push_back(0);
  if (!last_field_ids_.empty()) last_field_ids_.pop_back();
}

void ThriftWriter::FieldHeader(int16_t id, ThriftType type) {
  int16_t& last = last_field_ids_.back();
  int delta = id - last;
  if (delta > 0 && delta <= 15) {
    out_.push_back(static_cast<char>((delta << 4) | static_cast<int>(type)));
  } else {
    out_.push_back(static_cast<char>(type));
    ZigZag(id);
  }
  last = id;
}

void ThriftWriter::FieldBool(int16_t id, bool value) {
  FieldHeader(id, value ? ThriftType::kBoolTrue : ThriftType::kBoolFalse);
}

void ThriftWriter::FieldI8(int16_t id, int8_t value) {
  FieldHeader(id, ThriftType::kByte);
  out_.push_back(static_cast<char>(value));
}

void ThriftWriter::FieldI16(int16_t id, int16_t value) {
  FieldHeader(id, ThriftType::kI16);
  ZigZag(value);
}

void ThriftWriter::FieldI32(int16_t id, int32_t value) {
  FieldHeader(id, ThriftType::kI32);
  ZigZag(value);
}

void ThriftWriter::FieldI64(int16_t id, int64_t value) {
  FieldHeader(id, ThriftType::kI64);
  ZigZag(value);
}

void ThriftWriter::FieldBinary(int16_t id, std::string_view value) {
  FieldHeader(id, ThriftType::kBinary);
  ElementBinary(value);
}

void ThriftWriter::FieldStructBegin(int16_t id) {
  FieldHeader(id, ThriftType::kStruct);
  BeginStruct();
}

void ThriftWriter::FieldListBegin(int16_t id, ThriftType element_type, uint32_t size) {
  FieldHeader(id, ThriftType::kList);
  if (size < 15) {
    out_.push_back(static_cast<char>((size << 4) | static_cast<uint32_t>(element_type)));
  } else {
    out_.push_back(static_cast<char>(0xf0 | static_cast<int>(element_type)));
    Varint(size);
  }
}

void ThriftWriter::ElementI32(int32_t value) { ZigZag(value); }

void ThriftWriter::ElementBinary(std::string_view value) {
  Varint(value.size());
  out_.append(value);
}

void ThriftWriter::ElementStructBegin() { BeginStruct(); }

}  // namespace lakeml::storage::internal
