#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace lakeml::storage::internal {

// Wire types of the thrift compact protocol (the low nibble of a field header).
enum class ThriftType : uint8_t {
  kStop = 0,
  kBoolTrue = 1,
  kBoolFalse = 2,
  kByte = 3,
  kI16 = 4,
  kI32 = 5,
  kI64 = 6,
  kDouble = 7,
  kBinary = 8,
  kList = 9,
  kSet = 10,
  kMap = 11,
  kStruct = 12,
  kUuid = 13,
};

// Decodes the subset of the thrift compact protocol that Parquet metadata uses, from a borrowed
// buffer (the caller keeps it alive). Bounded: every length and list size is checked against the
// bytes that remain, and struct nesting deeper than kMaxDepth is refused, so hostile input yields
// kDataLoss instead of a crash or a large allocation. Not thread-safe (one cursor).
class ThriftReader {
 public:
  static constexpr int kMaxDepth = 32;

  ThriftReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  size_t position() const { return pos_; }
  size_t remaining() const { return size_ - pos_; }

  // Struct framing: call BeginStruct, then ReadFieldHeader until it yields kStop, then EndStruct.
  core::Status BeginStruct();
  void EndStruct();
  // Reads the next field header of the current struct. `type` is kStop at the end of the struct.
  core::Status ReadFieldHeader(int16_t* field_id, ThriftType* type);

  // Scalar values. For a bool *field*, the value lives in the header: use BoolFromFieldType.
  static bool BoolFromFieldType(ThriftType type) { return type == ThriftType::kBoolTrue; }
  core::Status ReadBoolElement(bool* value);  // a bool inside a list: one byte
  core::Status ReadI8(int8_t* value);
  core::Status ReadI16(int16_t* value);
  core::Status ReadI32(int32_t* value);
  core::Status ReadI64(int64_t* value);
  core::Status ReadDouble(double* value);
  core::Status ReadBinary(std::string* value);
  // List or set header; `size` is already checked against the remaining bytes.
  core::Status ReadListHeader(ThriftType* element_type, uint32_t* size);

  // Skips one value of `type` (recursively for containers and structs).
  core::Status Skip(ThriftType type);

 private:
  core::Status ReadVarint(uint64_t* value);
  core::Status SkipDepth(ThriftType type, int depth);

  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  std::vector<int16_t> last_field_ids_;  // one per open struct
};

// Encodes thrift compact protocol into an owned byte string. Fields must be written in increasing
// id order inside a struct (we always use the short delta form when it fits). Not thread-safe.
class ThriftWriter {
 public:
  void BeginStruct();
  void EndStruct();  // writes the stop byte

  void FieldBool(int16_t id, bool value);
  void FieldI8(int16_t id, int8_t value);
  void FieldI16(int16_t id, int16_t value);
  void FieldI32(int16_t id, int32_t value);
  void FieldI64(int16_t id, int64_t value);
  void FieldBinary(int16_t id, std::string_view value);
  // Begins a struct-valued field; follow with the fields and EndStruct().
  void FieldStructBegin(int16_t id);
  // Begins a list-valued field; follow with `size` elements written by the Element* methods.
  void FieldListBegin(int16_t id, ThriftType element_type, uint32_t size);

  void ElementI32(int32_t value);
  void ElementBinary(std::string_view value);
  void ElementStructBegin();  // follow with fields and EndStruct()

  const std::string& buffer() const { return out_; }
  std::string Release() { return std::move(out_); }

 private:
  void FieldHeader(int16_t id, ThriftType type);
  void Varint(uint64_t value);
  void ZigZag(int64_t value);

  std::string out_;
  std::vector<int16_t> last_field_ids_;
};

}  // namespace lakeml::storage::internal
