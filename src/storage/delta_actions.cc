#include "storage/delta_actions.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>
#include <variant>

namespace lakeml::storage {
namespace {

using Json = nlohmann::json;

// Delta Spark indexes 32-character string prefixes (reference §2.4).
constexpr size_t kStatsStringPrefixChars = 32;
// Decimals up to this many digits survive a trip through a JSON double unchanged.
constexpr int kMaxExactDecimalDigits = 15;

// dump() throws on invalid UTF-8; replacing bad bytes keeps the log writable whatever a caller
// put into an operation parameter.
std::string DumpJson(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

bool IsValidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    auto byte = static_cast<unsigned char>(text[i]);
    size_t length = byte < 0x80           ? 1
                    : (byte >> 5) == 0x6  ? 2
                    : (byte >> 4) == 0xE  ? 3
                    : (byte >> 3) == 0x1E ? 4
                                          : 0;
    if (length == 0 || i + length > text.size()) return false;
    for (size_t k = 1; k < length; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return false;
    }
    i += length;
  }
  return true;
}

// Byte length of the first `max_chars` UTF-8 characters of valid UTF-8 `text`.
size_t Utf8PrefixBytes(std::string_view text, size_t max_chars) {
  size_t chars = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      if (chars == max_chars) return i;
      ++chars;
    }
  }
  return text.size();
}

size_t Utf8Length(std::string_view text) {
  size_t chars = 0;
  for (char c : text) chars += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return chars;
}

// Proleptic Gregorian date from days since 1970-01-01 (the era-based civil-from-days method).
void CivilFromDays(int64_t days, int64_t* year, int* month, int* day) {
  days += 719468;
  int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  int64_t day_of_era = days - era * 146097;
  int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  int64_t shifted_month = (5 * day_of_year + 2) / 153;
  *day = static_cast<int>(day_of_year - (153 * shifted_month + 2) / 5 + 1);
  *month = static_cast<int>(shifted_month < 10 ? shifted_month + 3 : shifted_month - 9);
  *year = year_of_era + era * 400 + (*month <= 2 ? 1 : 0);
}

int64_t FloorDiv(int64_t value, int64_t divisor) {
  int64_t quotient = value / divisor;
  return (value % divisor != 0 && value < 0) ? quotient - 1 : quotient;
}

std::string FormatDate(int64_t days) {
  int64_t year = 0;
  int month = 0;
  int day = 0;
  CivilFromDays(days, &year, &month, &day);
  return fmt::format("{:04}-{:02}-{:02}", year, month, day);
}

std::string TypeName(const Field& field) {
  if (field.type == DataType::kDecimal) {
    return fmt::format("decimal({},{})", field.decimal_precision, field.decimal_scale);
  }
  return std::string(DataTypeName(field.type));
}

// Reads the JSON value of a stats bound, or nullopt when the bound must be left out.
std::optional<Json> StatBound(const Field& field, const StatValue& value, bool is_max) {
  switch (field.type) {
    case DataType::kBool:
    case DataType::kBinary:
      return std::nullopt;
    case DataType::kInt32:
    case DataType::kInt64:
      return Json(std::get<int64_t>(value));
    case DataType::kFloat:
    case DataType::kDouble: {
      double number = std::get<double>(value);
      if (!std::isfinite(number)) return std::nullopt;
      return Json(number);
    }
    case DataType::kDate:
      return Json(FormatDate(std::get<int64_t>(value)));
    case DataType::kTimestamp: {
      int64_t micros = std::get<int64_t>(value);
      int64_t millis = FloorDiv(micros, 1000);
      // Milliseconds lose precision: round the upper bound up so it still bounds the values.
      if (is_max && micros % 1000 != 0) ++millis;
      return Json(FormatTimestampMillis(millis));
    }
    case DataType::kDecimal: {
      if (field.decimal_precision > kMaxExactDecimalDigits) return std::nullopt;
      double scaled =
          static_cast<double>(std::get<int64_t>(value)) / std::pow(10.0, field.decimal_scale);
      return Json(scaled);
    }
    case DataType::kString: {
      const auto& text = std::get<std::string>(value);
      if (!IsValidUtf8(text)) return std::nullopt;
      if (Utf8Length(text) <= kStatsStringPrefixChars) return Json(text);
      // A prefix still bounds from below; a prefix of the maximum would not bound from above.
      if (is_max) return std::nullopt;
      return Json(text.substr(0, Utf8PrefixBytes(text, kStatsStringPrefixChars)));
    }
  }
  return std::nullopt;
}

// ---- decoding helpers: every type check is explicit so nlohmann never throws ----

core::Status Malformed(std::string_view file_name, size_t line, std::string_view what) {
  return core::DataLoss("commit file '{}' line {}: {}", file_name, line, what);
}

std::optional<std::string> GetString(const Json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

std::optional<int64_t> GetInt(const Json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<int64_t>();
}

std::optional<bool> GetBool(const Json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_boolean()) return std::nullopt;
  return it->get<bool>();
}

// A map of strings; non-string values are kept as their JSON text and null as "".
std::map<std::string, std::string> GetStringMap(const Json& object, const char* key) {
  std::map<std::string, std::string> out;
  auto it = object.find(key);
  if (it == object.end() || !it->is_object()) return out;
  for (const auto& [name, value] : it->items()) {
    if (value.is_string()) {
      out[name] = value.get<std::string>();
    } else if (!value.is_null()) {
      out[name] = DumpJson(value);
    } else {
      out[name] = "";
    }
  }
  return out;
}

std::vector<std::string> GetStringList(const Json& object, const char* key) {
  std::vector<std::string> out;
  auto it = object.find(key);
  if (it == object.end() || !it->is_array()) return out;
  for (const auto& value : *it) {
    if (value.is_string()) out.push_back(value.get<std::string>());
  }
  return out;
}

Json StringMapJson(const std::map<std::string, std::string>& values) {
  Json out = Json::object();
  for (const auto& [key, value] : values) out[key] = value;
  return out;
}

// Data paths are resolved under the table directory; a ".." segment could escape it.
bool EscapesTableDir(std::string_view path) {
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view segment = path.substr(start, end - start);
    if (segment == ".." || segment == "%2E%2E" || segment == "%2e%2e") return true;
    start = end + 1;
  }
  return false;
}

core::Result<DataType> ParsePrimitiveType(std::string_view name, Field* field) {
  if (name == "boolean") return DataType::kBool;
  if (name == "integer" || name == "short" || name == "byte") return DataType::kInt32;
  if (name == "long") return DataType::kInt64;
  if (name == "float") return DataType::kFloat;
  if (name == "double") return DataType::kDouble;
  if (name == "string") return DataType::kString;
  if (name == "binary") return DataType::kBinary;
  if (name == "date") return DataType::kDate;
  if (name == "timestamp") return DataType::kTimestamp;
  int precision = 0;
  int scale = 0;
  char close = 0;
  if (name.starts_with("decimal(") &&
      std::sscanf(std::string(name).c_str(), "decimal(%d,%d%c", &precision, &scale, &close) == 3 &&
      close == ')') {
    if (precision < 1 || scale < 0 || scale > precision) {
      return core::DataLoss("invalid decimal type '{}' in table schema", name);
    }
    if (precision > 18) {
      return core::Unimplemented("decimal type '{}' is wider than the 18 digits lakeml holds",
                                 name);
    }
    field->decimal_precision = precision;
    field->decimal_scale = scale;
    return DataType::kDecimal;
  }
  if (name == "decimal") {
    // Spark's bare "decimal" means decimal(10,0).
    field->decimal_precision = 10;
    return DataType::kDecimal;
  }
  return core::Unimplemented("column type '{}' is not supported by lakeml", name);
}

core::Result<CommitInfo> DecodeCommitInfo(const Json& body) {
  CommitInfo info;
  info.timestamp_ms =
      GetInt(body, "inCommitTimestamp").value_or(GetInt(body, "timestamp").value_or(0));
  info.operation = GetString(body, "operation").value_or("");
  info.operation_parameters = GetStringMap(body, "operationParameters");
  info.read_version = GetInt(body, "readVersion");
  info.isolation_level = GetString(body, "isolationLevel").value_or("");
  info.is_blind_append = GetBool(body, "isBlindAppend").value_or(false);
  info.operation_metrics = GetStringMap(body, "operationMetrics");
  info.engine_info = GetString(body, "engineInfo").value_or("");
  return info;
}

}  // namespace

std::string FormatTimestampMillis(int64_t timestamp_ms) {
  int64_t days = FloorDiv(timestamp_ms, 86400000);
  int64_t in_day = timestamp_ms - days * 86400000;
  return fmt::format("{}T{:02}:{:02}:{:02}.{:03}Z", FormatDate(days), in_day / 3600000,
                     in_day / 60000 % 60, in_day / 1000 % 60, in_day % 1000);
}

std::string SchemaToDeltaJson(const Schema& schema) {
  Json fields = Json::array();
  for (const Field& field : schema.fields) {
    fields.push_back(Json{{"name", field.name},
                          {"type", TypeName(field)},
                          {"nullable", field.nullable},
                          {"metadata", Json::object()}});
  }
  return DumpJson(Json{{"type", "struct"}, {"fields", std::move(fields)}});
}

core::Result<Schema> SchemaFromDeltaJson(std::string_view schema_string) {
  Json root = Json::parse(schema_string, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_object()) {
    return core::DataLoss("table schema string is not a JSON object");
  }
  if (GetString(root, "type") != "struct") {
    return core::DataLoss("table schema string is not a struct type");
  }
  auto fields_it = root.find("fields");
  if (fields_it == root.end() || !fields_it->is_array()) {
    return core::DataLoss("table schema string has no field list");
  }
  Schema schema;
  for (const Json& entry : *fields_it) {
    if (!entry.is_object()) return core::DataLoss("table schema field is not an object");
    auto name = GetString(entry, "name");
    if (!name) return core::DataLoss("table schema field without a name");
    auto type_it = entry.find("type");
    if (type_it == entry.end()) return core::DataLoss("table schema field '{}' has no type", *name);
    if (!type_it->is_string()) {
      return core::Unimplemented("column '{}' has a nested type, which lakeml does not support",
                                 *name);
    }
    Field field;
    field.name = *name;
    field.nullable = GetBool(entry, "nullable").value_or(true);
    auto type = ParsePrimitiveType(type_it->get<std::string>(), &field);
    if (!type.ok()) {
      return core::Status(type.status().code(),
                          fmt::format("column '{}': {}", *name, type.status().message()));
    }
    field.type = *type;
    schema.fields.push_back(std::move(field));
  }
  return schema;
}

std::string DeltaStatsJson(const Schema& schema, const ParquetFileStats& stats) {
  Json min_values = Json::object();
  Json max_values = Json::object();
  Json null_count = Json::object();
  for (size_t i = 0; i < schema.fields.size() && i < stats.columns.size(); ++i) {
    const Field& field = schema.fields[i];
    const ColumnStatistics& column = stats.columns[i];
    if (column.null_count) null_count[field.name] = *column.null_count;
    if (column.min && column.min_exact) {
      if (auto bound = StatBound(field, *column.min, false)) min_values[field.name] = *bound;
    }
    if (column.max && column.max_exact) {
      if (auto bound = StatBound(field, *column.max, true)) max_values[field.name] = *bound;
    }
  }
  return DumpJson(Json{{"numRecords", stats.num_records},
                       {"minValues", std::move(min_values)},
                       {"maxValues", std::move(max_values)},
                       {"nullCount", std::move(null_count)}});
}

std::string EncodeCommit(const CommitActions& actions) {
  std::string out;
  auto emit = [&out](const char* key, Json body) {
    out += DumpJson(Json{{key, std::move(body)}});
    out += '\n';
  };
  if (actions.commit_info) {
    const CommitInfo& info = *actions.commit_info;
    Json body{{"timestamp", info.timestamp_ms},
              {"operation", info.operation},
              {"operationParameters", StringMapJson(info.operation_parameters)}};
    if (info.read_version) body["readVersion"] = *info.read_version;
    if (!info.isolation_level.empty()) body["isolationLevel"] = info.isolation_level;
    body["isBlindAppend"] = info.is_blind_append;
    body["operationMetrics"] = StringMapJson(info.operation_metrics);
    body["engineInfo"] = info.engine_info;
    emit("commitInfo", std::move(body));
  }
  if (actions.protocol) {
    Json body{{"minReaderVersion", actions.protocol->min_reader_version},
              {"minWriterVersion", actions.protocol->min_writer_version}};
    if (actions.protocol->min_reader_version >= 3) {
      body["readerFeatures"] = actions.protocol->reader_features;
    }
    if (actions.protocol->min_writer_version >= 7) {
      body["writerFeatures"] = actions.protocol->writer_features;
    }
    emit("protocol", std::move(body));
  }
  if (actions.metadata) {
    const MetadataAction& metadata = *actions.metadata;
    Json body{{"id", metadata.id},
              {"format", Json{{"provider", "parquet"}, {"options", Json::object()}}},
              {"schemaString", metadata.schema_string},
              {"partitionColumns", metadata.partition_columns},
              {"configuration", StringMapJson(metadata.configuration)}};
    if (!metadata.name.empty()) body["name"] = metadata.name;
    if (!metadata.description.empty()) body["description"] = metadata.description;
    if (metadata.created_time_ms) body["createdTime"] = *metadata.created_time_ms;
    emit("metaData", std::move(body));
  }
  for (const RemoveAction& remove : actions.removes) {
    Json body{{"path", remove.path}, {"dataChange", remove.data_change}};
    if (remove.deletion_timestamp_ms) body["deletionTimestamp"] = *remove.deletion_timestamp_ms;
    if (remove.extended_file_metadata) {
      body["extendedFileMetadata"] = true;
      body["partitionValues"] = StringMapJson(remove.partition_values);
      if (remove.size_bytes) body["size"] = *remove.size_bytes;
    }
    emit("remove", std::move(body));
  }
  for (const AddAction& add : actions.adds) {
    Json body{{"path", add.path},
              {"partitionValues", StringMapJson(add.partition_values)},
              {"size", add.size_bytes},
              {"modificationTime", add.modification_time_ms},
              {"dataChange", add.data_change}};
    if (!add.stats.empty()) body["stats"] = add.stats;
    emit("add", std::move(body));
  }
  return out;
}

core::Result<CommitActions> DecodeCommit(std::string_view text, std::string_view file_name) {
  CommitActions actions;
  size_t line_number = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;

    Json action = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (action.is_discarded()) return Malformed(file_name, line_number, "not valid JSON");
    if (!action.is_object()) return Malformed(file_name, line_number, "not a JSON object");
    for (const auto& [key, body] : action.items()) {
      bool known = key == "add" || key == "remove" || key == "metaData" || key == "protocol" ||
                   key == "commitInfo";
      if (!known) continue;  // txn, cdc, domainMetadata, ...: not needed by a reader-1 engine
      if (!body.is_object()) {
        return Malformed(file_name, line_number, fmt::format("'{}' is not an object", key));
      }
      if (key == "add") {
        AddAction add;
        auto path = GetString(body, "path");
        auto size = GetInt(body, "size");
        if (!path || path->empty() || !size || *size < 0) {
          return Malformed(file_name, line_number, "add without a valid path and size");
        }
        if (EscapesTableDir(*path)) {
          return Malformed(file_name, line_number, "add path leaves the table directory");
        }
        add.path = std::move(*path);
        add.size_bytes = *size;
        add.partition_values = GetStringMap(body, "partitionValues");
        add.modification_time_ms = GetInt(body, "modificationTime").value_or(0);
        add.data_change = GetBool(body, "dataChange").value_or(true);
        if (auto stats = GetString(body, "stats")) {
          add.stats = std::move(*stats);
          Json parsed = Json::parse(add.stats, nullptr, /*allow_exceptions=*/false);
          if (!parsed.is_discarded() && parsed.is_object()) {
            add.num_records = GetInt(parsed, "numRecords");
          }
        }
        if (body.contains("deletionVector") && !body["deletionVector"].is_null()) {
          return core::Unimplemented("commit file '{}': deletion vectors are not supported",
                                     file_name);
        }
        actions.adds.push_back(std::move(add));
      } else if (key == "remove") {
        RemoveAction remove;
        auto path = GetString(body, "path");
        if (!path || path->empty())
          return Malformed(file_name, line_number, "remove without a path");
        remove.path = std::move(*path);
        remove.deletion_timestamp_ms = GetInt(body, "deletionTimestamp");
        remove.data_change = GetBool(body, "dataChange").value_or(true);
        remove.extended_file_metadata = GetBool(body, "extendedFileMetadata").value_or(false);
        remove.partition_values = GetStringMap(body, "partitionValues");
        remove.size_bytes = GetInt(body, "size");
        actions.removes.push_back(std::move(remove));
      } else if (key == "protocol") {
        auto reader = GetInt(body, "minReaderVersion");
        auto writer = GetInt(body, "minWriterVersion");
        if (!reader || !writer) {
          return Malformed(file_name, line_number, "protocol without reader and writer versions");
        }
        ProtocolAction protocol;
        protocol.min_reader_version =
            static_cast<int>(std::clamp<int64_t>(*reader, 0, std::numeric_limits<int>::max()));
        protocol.min_writer_version =
            static_cast<int>(std::clamp<int64_t>(*writer, 0, std::numeric_limits<int>::max()));
        protocol.reader_features = GetStringList(body, "readerFeatures");
        protocol.writer_features = GetStringList(body, "writerFeatures");
        actions.protocol = std::move(protocol);
      } else if (key == "metaData") {
        MetadataAction metadata;
        auto id = GetString(body, "id");
        auto schema_string = GetString(body, "schemaString");
        if (!id || !schema_string) {
          return Malformed(file_name, line_number, "metaData without id and schemaString");
        }
        auto format = body.find("format");
        if (format != body.end() && format->is_object()) {
          auto provider = GetString(*format, "provider");
          if (provider && *provider != "parquet") {
            return core::Unimplemented("commit file '{}': data format '{}' is not supported",
                                       file_name, *provider);
          }
        }
        metadata.id = std::move(*id);
        metadata.schema_string = std::move(*schema_string);
        metadata.name = GetString(body, "name").value_or("");
        metadata.description = GetString(body, "description").value_or("");
        metadata.partition_columns = GetStringList(body, "partitionColumns");
        metadata.configuration = GetStringMap(body, "configuration");
        metadata.created_time_ms = GetInt(body, "createdTime");
        auto schema = SchemaFromDeltaJson(metadata.schema_string);
        if (!schema.ok()) {
          return core::Status(schema.status().code(), fmt::format("commit file '{}': {}", file_name,
                                                                  schema.status().message()));
        }
        metadata.schema = std::move(schema).value();
        actions.metadata = std::move(metadata);
      } else {
        LAKEML_ASSIGN_OR_RETURN(actions.commit_info, DecodeCommitInfo(body));
      }
    }
  }
  return actions;
}

core::Status CheckReadSupported(const ProtocolAction& protocol) {
  if (protocol.min_reader_version > kSupportedReaderVersion) {
    std::string features;
    for (const auto& feature : protocol.reader_features) {
      features += features.empty() ? feature : ", " + feature;
    }
    return core::Unimplemented(
        "table requires delta reader version {}{} but lakeml implements reader version {}",
        protocol.min_reader_version, features.empty() ? "" : " (features: " + features + ")",
        kSupportedReaderVersion);
  }
  return core::Status::Ok();
}

core::Status CheckWriteSupported(const ProtocolAction& protocol) {
  LAKEML_RETURN_IF_ERROR(CheckReadSupported(protocol));
  if (protocol.min_writer_version > kSupportedWriterVersion) {
    return core::Unimplemented(
        "table requires delta writer version {} but lakeml implements writer version {}",
        protocol.min_writer_version, kSupportedWriterVersion);
  }
  return core::Status::Ok();
}

}  // namespace lakeml::storage
