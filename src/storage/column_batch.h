#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace lakeml::storage {

// Logical column types of lakeml tables (flat schemas). They map one-to-one onto Delta/Spark
// primitive types and onto Parquet physical + logical types (see parquet_metadata.h).
enum class DataType {
  kBool,       // values_int: 0/1
  kInt32,      // values_int
  kInt64,      // values_int
  kFloat,      // values_double (stored as float in Parquet)
  kDouble,     // values_double
  kString,     // offsets + bytes, UTF-8
  kBinary,     // offsets + bytes
  kDate,       // values_int: days since 1970-01-01
  kTimestamp,  // values_int: microseconds since the epoch, UTC (Delta `timestamp`)
  kDecimal,    // values_int: unscaled value (precision <= 18), with precision/scale on the Field
};

std::string_view DataTypeName(DataType type);  // "boolean", "integer", "long", ... (Delta names)

struct Field {
  std::string name;
  DataType type = DataType::kString;
  bool nullable = true;
  int decimal_precision = 0;  // kDecimal only
  int decimal_scale = 0;      // kDecimal only
};

struct Schema {
  std::vector<Field> fields;

  // Index of the field named `name`, or nullopt (exact, case-sensitive match).
  std::optional<size_t> FieldIndex(std::string_view name) const;
};

// One column of a batch, in an Arrow-like flat layout so scans and encoders touch contiguous
// memory. Exactly one value store is used, chosen by `type`:
//   - integers, bools, dates, timestamps, decimals: `ints`;
//   - float, double: `doubles`;
//   - string, binary: value i is bytes[offsets[i], offsets[i+1]); offsets.size() == size() + 1.
// `validity` is empty when no value is NULL, else one byte per row (1 = valid). A NULL row still
// occupies a slot (0, 0.0 or an empty string). Not thread-safe for writes; immutable once shared.
class Column {
 public:
  explicit Column(DataType type);

  DataType type() const { return type_; }
  size_t size() const { return size_; }
  bool has_nulls() const { return !validity_.empty(); }
  bool IsNull(size_t row) const { return !validity_.empty() && validity_[row] == 0; }

  int64_t Int(size_t row) const { return ints_[row]; }
  double Double(size_t row) const { return doubles_[row]; }
  std::string_view Bytes(size_t row) const {
    return std::string_view(bytes_).substr(offsets_[row], offsets_[row + 1] - offsets_[row]);
  }

  void AppendNull();
  void AppendInt(int64_t value);
  void AppendDouble(double value);
  void AppendBytes(std::string_view value);
  void Reserve(size_t rows);

  // Raw access for encoders and decoders.
  const std::vector<int64_t>& ints() const { return ints_; }
  const std::vector<double>& doubles() const { return doubles_; }
  const std::vector<uint32_t>& offsets() const { return offsets_; }
  const std::string& bytes() const { return bytes_; }
  const std::vector<uint8_t>& validity() const { return validity_; }

 private:
  void MarkValid();

  DataType type_;
  size_t size_ = 0;
  std::vector<int64_t> ints_;
  std::vector<double> doubles_;
  std::vector<uint32_t> offsets_;
  std::string bytes_;
  std::vector<uint8_t> validity_;
};

// A set of equally long columns with their schema: the unit passed between readers, writers,
// the table layer and SQL. Move-only by convention (columns can be large).
struct ColumnBatch {
  Schema schema;
  std::vector<Column> columns;

  size_t num_rows() const { return columns.empty() ? 0 : columns.front().size(); }
  // Checks that columns match the schema's types and have equal lengths. Errors: kInternal.
  core::Status Validate() const;
};

}  // namespace lakeml::storage
