#include "storage/column_batch.h"

namespace lakeml::storage {

std::string_view DataTypeName(DataType type) {
  switch (type) {
    case DataType::kBool: return "boolean";
    case DataType::kInt32: return "integer";
    case DataType::kInt64: return "long";
    case DataType::kFloat: return "float";
    case DataType::kDouble: return "double";
    case DataType::kString: return "string";
    case DataType::kBinary: return "binary";
    case DataType::kDate: return "date";
    case DataType::kTimestamp: return "timestamp";
    case DataType::kDecimal: return "decimal";
  }
  return "unknown";
}

std::optional<size_t> Schema::FieldIndex(std::string_view name) const {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].name == name) return i;
  }
  return std::nullopt;
}

namespace {
bool IsBytesType(DataType type) { return type == DataType::kString || type == DataType::kBinary; }
bool IsFloatingType(DataType type) { return type == DataType::kFloat || type == DataType::kDouble; }
}  // namespace

Column::Column(DataType type) : type_(type) {
  if (IsBytesType(type_)) offsets_.push_back(0);
}

void Column::MarkValid() {
  if (!validity_.empty()) validity_.push_back(1);
}

void Column::AppendNull() {
  // Materialize the validity vector lazily: columns without NULLs never pay for it.
  if (validity_.empty()) validity_.assign(size_, 1);
  validity_.push_back(0);
  if (IsBytesType(type_)) {
    offsets_.push_back(static_cast<uint32_t>(bytes_.size()));
  } else if (IsFloatingType(type_)) {
    doubles_.push_back(0.0);
  } else {
    ints_.push_back(0);
  }
  ++size_;
}

void Column::AppendInt(int64_t value) {
  MarkValid();
  ints_.push_back(value);
  ++size_;
}

void Column::AppendDouble(double value) {
  MarkValid();
  doubles_.push_back(value);
  ++size_;
}

void Column::AppendBytes(std::string_view value) {
  MarkValid();
  bytes_.append(value);
  offsets_.push_back(static_cast<uint32_t>(bytes_.size()));
  ++size_;
}

void Column::Reserve(size_t rows) {
  if (IsBytesType(type_)) {
    offsets_.reserve(rows + 1);
  } else if (IsFloatingType(type_)) {
    doubles_.reserve(rows);
  } else {
    ints_.reserve(rows);
  }
}

core::Status ColumnBatch::Validate() const {
  if (columns.size() != schema.fields.size()) {
    return core::Internal("batch has {} columns but its schema has {} fields", columns.size(),
                          schema.fields.size());
  }
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].type() != schema.fields[i].type) {
      return core::Internal("column '{}' holds {} values but the schema says {}",
                            schema.fields[i].name, DataTypeName(columns[i].type()),
                            DataTypeName(schema.fields[i].type));
    }
    if (columns[i].size() != num_rows()) {
      return core::Internal("column '{}' has {} rows, expected {}", schema.fields[i].name,
                            columns[i].size(), num_rows());
    }
  }
  return core::Status::Ok();
}

}  // namespace lakeml::storage
