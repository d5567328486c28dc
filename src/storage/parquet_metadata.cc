#include "storage/parquet_metadata.h"

#include "storage/internal/thrift_compact.h"

namespace lakeml::storage {

using internal::ThriftReader;
using internal::ThriftType;
using internal::ThriftWriter;

std::string_view CompressionCodecName(CompressionCodec codec) {
  switch (codec) {
    case CompressionCodec::kUncompressed:
      return "uncompressed";
    case CompressionCodec::kSnappy:
      return "snappy";
    case CompressionCodec::kGzip:
      return "gzip";
    case CompressionCodec::kLzo:
      return "lzo";
    case CompressionCodec::kBrotli:
      return "brotli";
    case CompressionCodec::kLz4:
      return "lz4";
    case CompressionCodec::kZstd:
      return "zstd";
    case CompressionCodec::kLz4Raw:
      return "lz4_raw";
  }
  return "unknown";
}

namespace {

// Each decoder below walks one struct: it handles the field ids it knows when they have the
// expected wire type and skips everything else, so newer writers' additions are harmless.
template <typename Handler>
core::Status ReadStruct(ThriftReader& reader, Handler&& handle_field) {
  LAKEML_RETURN_IF_ERROR(reader.BeginStruct());
  while (true) {
    int16_t id = 0;
    ThriftType type;
    LAKEML_RETURN_IF_ERROR(reader.ReadFieldHeader(&id, &type));
    if (type == ThriftType::kStop) break;
    bool handled = false;
    LAKEML_RETURN_IF_ERROR(handle_field(id, type, &handled));
    if (!handled) LAKEML_RETURN_IF_ERROR(reader.Skip(type));
  }
  reader.EndStruct();
  return core::Status::Ok();
}

bool IsBool(ThriftType type) {
  return type == ThriftType::kBoolTrue || type == ThriftType::kBoolFalse;
}

template <typename Enum>
core::Status ReadEnum(ThriftReader& reader, Enum* value) {
  int32_t raw = 0;
  LAKEML_RETURN_IF_ERROR(reader.ReadI32(&raw));
  *value = static_cast<Enum>(raw);
  return core::Status::Ok();
}

// Reads a list of elements with `read_element`, checking the element type.
template <typename ReadElement>
core::Status ReadList(ThriftReader& reader, ThriftType expected, ReadElement&& read_element) {
  ThriftType element_type;
  uint32_t count = 0;
  LAKEML_RETURN_IF_ERROR(reader.ReadListHeader(&element_type, &count));
  bool type_ok = element_type == expected || (IsBool(expected) && IsBool(element_type));
  if (!type_ok && count > 0) {
    return core::DataLoss("parquet metadata: list element type {} where {} was expected",
                          static_cast<int>(element_type), static_cast<int>(expected));
  }
  for (uint32_t i = 0; i < count; ++i) LAKEML_RETURN_IF_ERROR(read_element());
  return core::Status::Ok();
}

core::Status ReadTimeUnit(ThriftReader& reader, TimeUnit* unit) {
  // The member struct itself is empty: note which one it is and let ReadStruct skip it.
  return ReadStruct(reader, [&](int16_t id, ThriftType type, bool*) -> core::Status {
    if (type == ThriftType::kStruct && id >= 1 && id <= 3) *unit = static_cast<TimeUnit>(id);
    return core::Status::Ok();
  });
}

core::Status ReadLogicalType(ThriftReader& reader, LogicalType* logical) {
  return ReadStruct(reader, [&](int16_t id, ThriftType type, bool* handled) -> core::Status {
    if (type != ThriftType::kStruct) return core::Status::Ok();
    logical->kind = static_cast<LogicalType::Kind>(id);
    *handled = true;
    switch (logical->kind) {
      case LogicalType::Kind::kDecimal:
        return ReadStruct(reader, [&](int16_t fid, ThriftType ftype, bool* h) -> core::Status {
          if (ftype != ThriftType::kI32) return core::Status::Ok();
          *h = true;
          if (fid == 1) return reader.ReadI32(&logical->decimal_scale);
          if (fid == 2) return reader.ReadI32(&logical->decimal_precision);
          *h = false;
          return core::Status::Ok();
        });
      case LogicalType::Kind::kTime:
      case LogicalType::Kind::kTimestamp:
        return ReadStruct(reader, [&](int16_t fid, ThriftType ftype, bool* h) -> core::Status {
          if (fid == 1 && IsBool(ftype)) {
            logical->is_adjusted_to_utc = ThriftReader::BoolFromFieldType(ftype);
            *h = true;
          } else if (fid == 2 && ftype == ThriftType::kStruct) {
            *h = true;
            return ReadTimeUnit(reader, &logical->unit);
          }
          return core::Status::Ok();
        });
      case LogicalType::Kind::kInteger:
        return ReadStruct(reader, [&](int16_t fid, ThriftType ftype, bool* h) -> core::Status {
          if (fid == 1 && ftype == ThriftType::kByte) {
            *h = true;
            return reader.ReadI8(&logical->bit_width);
          }
          if (fid == 2 && IsBool(ftype)) {
            *h = true;
            logical->is_signed = ThriftReader::BoolFromFieldType(ftype);
          }
          return core::Status::Ok();
        });
      default:
        return reader.Skip(type);
    }
  });
}

core::Status ReadSchemaElement(ThriftReader& reader, SchemaElement* element) {
  bool has_name = false;
  core::Status struct_status =
      ReadStruct(reader, [&](int16_t id, ThriftType type, bool* handled) -> core::Status {
        *handled = true;
        if (type == ThriftType::kI32) {
          int32_t value = 0;
          LAKEML_RETURN_IF_ERROR(reader.ReadI32(&value));
          switch (id) {
            case 1:
              element->type = static_cast<PhysicalType>(value);
              break;
            case 2:
              element->type_length = value;
              break;
            case 3:
              element->repetition = static_cast<Repetition>(value);
              break;
            case 5:
              element->num_children = value;
              break;
            case 6:
              element->converted_type = static_cast<ConvertedType>(value);
              break;
            case 7:
              element->scale = value;
              break;
            case 8:
              element->precision = value;
              break;
            case 9:
              element->field_id = value;
              break;
            default:
              break;
          }
          return core::Status::Ok();
        }
        if (id == 4 && type == ThriftType::kBinary) {
          has_name = true;
          return reader.ReadBinary(&element->name);
        }
        if (id == 10 && type == ThriftType::kStruct) {
          element->logical_type.emplace();
          return ReadLogicalType(reader, &*element->logical_type);
        }
        *handled = false;
        return core::Status::Ok();
      });
  if (!struct_status.ok()) return struct_status;
  if (!has_name) return core::DataLoss("parquet metadata: schema element without a name");
  return core::Status::Ok();
}

core::Status ReadStatistics(ThriftReader& reader, Statistics* stats) {
  return ReadStruct(reader, [&](int16_t id, ThriftType type, bool* handled) -> core::Status {
    *handled = true;
    if (type == ThriftType::kBinary) {
      std::string value;
      LAKEML_RETURN_IF_ERROR(reader.ReadBinary(&value));
      switch (id) {
        case 1:
          stats->max = std::move(value);
          break;
        case 2:
          stats->min = std::move(value);
          break;
        case 5:
          stats->max_value = std::move(value);
          break;
        case 6:
          stats->min_value = std::move(value);
          break;
        default:
          break;
      }
      return core::Status::Ok();
    }
    if (type == ThriftType::kI64) {
      int64_t value = 0;
      LAKEML_RETURN_IF_ERROR(reader.ReadI64(&value));
      if (id == 3) stats->null_count = value;
      if (id == 4) stats->distinct_count = value;
      return core::Status::Ok();
    }
    if (IsBool(type)) {
      if (id == 7) stats->is_max_value_exact = ThriftReader::BoolFromFieldType(type);
      if (id == 8) stats->is_min_value_exact = ThriftReader::BoolFromFieldType(type);
      return core::Status::Ok();
    }
    *handled = false;
    return core::Status::Ok();
  });
}

core::Status ReadColumnMetaData(ThriftReader& reader, ColumnMetaData* meta) {
  uint32_t seen = 0;  // bit per required field id
  core::Status struct_status =
      ReadStruct(reader, [&](int16_t id, ThriftType type, bool* handled) -> core::Status {
        *handled = true;
        if (id == 1 && type == ThriftType::kI32) {
          seen |= 1u << 1;
          return ReadEnum(reader, &meta->type);
        }
        if (id == 2 && type == ThriftType::kList) {
          return ReadList(reader, ThriftType::kI32, [&]() -> core::Status {
            Encoding encoding;
            LAKEML_RETURN_IF_ERROR(ReadEnum(reader, &encoding));
            meta->encodings.push_back(encoding);
            return core::Status::Ok();
          });
        }
        if (id == 3 && type == ThriftType::kList) {
          return ReadList(reader, ThriftType::kBinary, [&]() -> core::Status {
            meta->path_in_schema.emplace_back();
            return reader.ReadBinary(&meta->path_in_schema.back());
          });
        }
        if (id == 4 && type == ThriftType::kI32) {
          seen |= 1u << 4;
          return ReadEnum(reader, &meta->codec);
        }
        if (type == ThriftType::kI64) {
          int64_t value = 0;
          LAKEML_RETURN_IF_ERROR(reader.ReadI64(&value));
          switch (id) {
            case 5:
              meta->num_values = value;
              seen |= 1u << 5;
              break;
            case 6:
              meta->total_uncompressed_size = value;
              break;
            case 7:
              meta->total_compressed_size = value;
              seen |= 1u << 7;
              break;
            case 9:
              meta->data_page_offset = value;
              seen |= 1u << 9;
              break;
            case 10:
              meta->index_page_offset = value;
              break;
            case 11:
              meta->dictionary_page_offset = value;
              break;
            default:
              break;
          }
          return core::Status::Ok();
        }
        if (id == 12 && type == ThriftType::kStruct) {
          meta->statistics.emplace();
          return ReadStatistics(reader, &*meta->statistics);
        }
        *handled = false;
        return core::Status::Ok();
      });
  if (!struct_status.ok()) return struct_status;
  constexpr uint32_t kRequired = (1u << 1) | (1u << 4) | (1u << 5) | (1u << 7) | (1u << 9);
  if ((seen & kRequired) != kRequired) {
    return core::DataLoss("parquet metadata: column metadata lacks a required field");
  }
  return core::Status::Ok();
}

core::Status ReadColumnChunk(ThriftReader& reader, ColumnChunk* chunk) {
  return ReadStruct(reader, [&](int16_t id, ThriftType type, bool* handled) -> core::Status {
    *handled = true;
    if (id == 1 && type == ThriftType::kBinary) {
      chunk->file_path.emplace();
      return reader.ReadBinary(&*chunk->file_path);
    }
    if (id == 2 && type == ThriftType::kI64) return reader.ReadI64(&chunk->file_offset);
    if (id == 3 && type == ThriftType::kStruct) {
      chunk->meta_data.emplace();
      return ReadColumnMetaData(reader, &*chunk->meta_data);
    }
    *handled = false;
    return core::Status::Ok();
  });
}

core::Status ReadRowGroup(ThriftReader& reader, RowGroup* group) {
  bool has_num_rows = false;
  core::Status struct_status =
      ReadStruct(reader, [&](int16_t id, ThriftType type, bool* handled) -> core::Status {
        *handled = true;
        if (id == 1 && type == ThriftType::kList) {
          return ReadList(reader, ThriftType::kStruct, [&]() -> core::Status {
            group->columns.emplace_back();
            return ReadColumnChunk(reader, &group->columns.back());
          });
        }
        if (type == ThriftType::kI64) {
          int64_t value = 0;
          LAKEML_RETURN_IF_ERROR(reader.ReadI64(&value));
          switch (id) {
            case 2:
              group->total_byte_size = value;
              break;
            case 3:
              group->num_rows = value;
              has_num_rows = true;
              break;
            case 5:
              group->file_offset = value;
              break;
            case 6:
              group->total_compressed_size = value;
              break;
            default:
              break;
          }
          return core::Status::Ok();
        }
        if (id == 7 && type == ThriftType::kI16) {
          int16_t ordinal = 0;
          LAKEML_RETURN_IF_ERROR(reader.ReadI16(&ordinal));
          group->ordinal = ordinal;
          return core::Status::Ok();
        }
        *handled = false;
        return core::Status::Ok();
      });
  if (!struct_status.ok()) return struct_status;
  if (!has_num_rows) return core::DataLoss("parquet metadata: row group without num_rows");
  return core::Status::Ok();
}

}  // namespace

core::Result<FileMetaData> DecodeFileMetaData(const uint8_t* data, size_t size) {
  ThriftReader reader(data, size);
  FileMetaData meta;
  bool has_version = false;
  bool has_schema = false;
  bool has_num_rows = false;
  core::Status struct_status =
      ReadStruct(reader, [&](int16_t id, ThriftType type, bool* handled) -> core::Status {
        *handled = true;
        if (id == 1 && type == ThriftType::kI32) {
          has_version = true;
          return reader.ReadI32(&meta.version);
        }
        if (id == 2 && type == ThriftType::kList) {
          has_schema = true;
          return ReadList(reader, ThriftType::kStruct, [&]() -> core::Status {
            meta.schema.emplace_back();
            return ReadSchemaElement(reader, &meta.schema.back());
          });
        }
        if (id == 3 && type == ThriftType::kI64) {
          has_num_rows = true;
          return reader.ReadI64(&meta.num_rows);
        }
        if (id == 4 && type == ThriftType::kList) {
          return ReadList(reader, ThriftType::kStruct, [&]() -> core::Status {
            meta.row_groups.emplace_back();
            return ReadRowGroup(reader, &meta.row_groups.back());
          });
        }
        if (id == 5 && type == ThriftType::kList) {
          return ReadList(reader, ThriftType::kStruct, [&]() -> core::Status {
            KeyValue kv;
            core::Status kv_status =
                ReadStruct(reader, [&](int16_t fid, ThriftType ftype, bool* h) -> core::Status {
                  if (ftype != ThriftType::kBinary) return core::Status::Ok();
                  *h = true;
                  if (fid == 1) return reader.ReadBinary(&kv.key);
                  kv.value.emplace();
                  return reader.ReadBinary(&*kv.value);
                });
            if (!kv_status.ok()) return kv_status;
            meta.key_value_metadata.push_back(std::move(kv));
            return core::Status::Ok();
          });
        }
        if (id == 6 && type == ThriftType::kBinary) {
          meta.created_by.emplace();
          return reader.ReadBinary(&*meta.created_by);
        }
        if (id == 7 && type == ThriftType::kList) {
          return ReadList(reader, ThriftType::kStruct, [&]() -> core::Status {
            bool type_order = false;
            core::Status order_status =
                ReadStruct(reader, [&](int16_t fid, ThriftType ftype, bool*) -> core::Status {
                  if (fid == 1 && ftype == ThriftType::kStruct) type_order = true;
                  return core::Status::Ok();
                });
            if (!order_status.ok()) return order_status;
            meta.column_orders.push_back(type_order);
            return core::Status::Ok();
          });
        }
        *handled = false;
        return core::Status::Ok();
      });
  if (!struct_status.ok()) return struct_status;
  if (!has_version || !has_schema || !has_num_rows) {
    return core::DataLoss("parquet metadata: footer lacks version, schema or num_rows");
  }
  return meta;
}

core::Result<PageHeader> DecodePageHeader(const uint8_t* data, size_t size, size_t* header_size) {
  ThriftReader reader(data, size);
  PageHeader header;
  uint32_t seen = 0;
  core::Status struct_status =
      ReadStruct(reader, [&](int16_t id, ThriftType type, bool* handled) -> core::Status {
        *handled = true;
        if (type == ThriftType::kI32 && id >= 1 && id <= 4) {
          int32_t value = 0;
          LAKEML_RETURN_IF_ERROR(reader.ReadI32(&value));
          seen |= 1u << id;
          if (id == 1) header.type = static_cast<PageType>(value);
          if (id == 2) header.uncompressed_page_size = value;
          if (id == 3) header.compressed_page_size = value;
          if (id == 4) header.crc = value;
          return core::Status::Ok();
        }
        if (id == 5 && type == ThriftType::kStruct) {
          auto& page = header.data_page_header.emplace();
          return ReadStruct(reader, [&](int16_t fid, ThriftType ftype, bool* h) -> core::Status {
            if (ftype != ThriftType::kI32 || fid > 4) return core::Status::Ok();
            *h = true;
            int32_t value = 0;
            LAKEML_RETURN_IF_ERROR(reader.ReadI32(&value));
            if (fid == 1) page.num_values = value;
            if (fid == 2) page.encoding = static_cast<Encoding>(value);
            if (fid == 3) page.definition_level_encoding = static_cast<Encoding>(value);
            if (fid == 4) page.repetition_level_encoding = static_cast<Encoding>(value);
            return core::Status::Ok();
          });
        }
        if (id == 7 && type == ThriftType::kStruct) {
          auto& page = header.dictionary_page_header.emplace();
          return ReadStruct(reader, [&](int16_t fid, ThriftType ftype, bool* h) -> core::Status {
            if (fid == 3 && IsBool(ftype)) page.is_sorted = ThriftReader::BoolFromFieldType(ftype);
            if (ftype != ThriftType::kI32 || fid > 2) return core::Status::Ok();
            *h = true;
            int32_t value = 0;
            LAKEML_RETURN_IF_ERROR(reader.ReadI32(&value));
            if (fid == 1) page.num_values = value;
            if (fid == 2) page.encoding = static_cast<Encoding>(value);
            return core::Status::Ok();
          });
        }
        if (id == 8 && type == ThriftType::kStruct) {
          auto& page = header.data_page_header_v2.emplace();
          return ReadStruct(reader, [&](int16_t fid, ThriftType ftype, bool* h) -> core::Status {
            if (fid == 7 && IsBool(ftype)) {
              page.is_compressed = ThriftReader::BoolFromFieldType(ftype);
              return core::Status::Ok();
            }
            if (ftype != ThriftType::kI32 || fid > 6) return core::Status::Ok();
            *h = true;
            int32_t value = 0;
            LAKEML_RETURN_IF_ERROR(reader.ReadI32(&value));
            switch (fid) {
              case 1:
                page.num_values = value;
                break;
              case 2:
                page.num_nulls = value;
                break;
              case 3:
                page.num_rows = value;
                break;
              case 4:
                page.encoding = static_cast<Encoding>(value);
                break;
              case 5:
                page.definition_levels_byte_length = value;
                break;
              case 6:
                page.repetition_levels_byte_length = value;
                break;
              default:
                break;
            }
            return core::Status::Ok();
          });
        }
        *handled = false;
        return core::Status::Ok();
      });
  if (!struct_status.ok()) return struct_status;
  constexpr uint32_t kRequired = (1u << 1) | (1u << 2) | (1u << 3);
  if ((seen & kRequired) != kRequired) {
    return core::DataLoss("parquet page header lacks type or sizes");
  }
  if (header.uncompressed_page_size < 0 || header.compressed_page_size < 0) {
    return core::DataLoss("parquet page header has a negative size");
  }
  *header_size = reader.position();
  return header;
}

namespace {

void WriteStatistics(ThriftWriter& writer, const Statistics& stats) {
  if (stats.max) writer.FieldBinary(1, *stats.max);
  if (stats.min) writer.FieldBinary(2, *stats.min);
  if (stats.null_count) writer.FieldI64(3, *stats.null_count);
  if (stats.distinct_count) writer.FieldI64(4, *stats.distinct_count);
  if (stats.max_value) writer.FieldBinary(5, *stats.max_value);
  if (stats.min_value) writer.FieldBinary(6, *stats.min_value);
  if (stats.is_max_value_exact) writer.FieldBool(7, *stats.is_max_value_exact);
  if (stats.is_min_value_exact) writer.FieldBool(8, *stats.is_min_value_exact);
}

void WriteTimeUnit(ThriftWriter& writer, int16_t field_id, TimeUnit unit) {
  writer.FieldStructBegin(field_id);
  writer.FieldStructBegin(static_cast<int16_t>(unit));
  writer.EndStruct();
  writer.EndStruct();
}

void WriteLogicalType(ThriftWriter& writer, const LogicalType& logical) {
  writer.FieldStructBegin(10);
  writer.FieldStructBegin(static_cast<int16_t>(logical.kind));
  switch (logical.kind) {
    case LogicalType::Kind::kDecimal:
      writer.FieldI32(1, logical.decimal_scale);
      writer.FieldI32(2, logical.decimal_precision);
      break;
    case LogicalType::Kind::kTime:
    case LogicalType::Kind::kTimestamp:
      writer.FieldBool(1, logical.is_adjusted_to_utc);
      WriteTimeUnit(writer, 2, logical.unit);
      break;
    case LogicalType::Kind::kInteger:
      writer.FieldI8(1, logical.bit_width);
      writer.FieldBool(2, logical.is_signed);
      break;
    default:
      break;
  }
  writer.EndStruct();
  writer.EndStruct();
}

void WriteSchemaElement(ThriftWriter& writer, const SchemaElement& element) {
  writer.ElementStructBegin();
  if (element.type) writer.FieldI32(1, static_cast<int32_t>(*element.type));
  if (element.type_length) writer.FieldI32(2, *element.type_length);
  if (element.repetition) writer.FieldI32(3, static_cast<int32_t>(*element.repetition));
  writer.FieldBinary(4, element.name);
  if (element.num_children) writer.FieldI32(5, *element.num_children);
  if (element.converted_type) writer.FieldI32(6, static_cast<int32_t>(*element.converted_type));
  if (element.scale) writer.FieldI32(7, *element.scale);
  if (element.precision) writer.FieldI32(8, *element.precision);
  if (element.field_id) writer.FieldI32(9, *element.field_id);
  if (element.logical_type && element.logical_type->kind != LogicalType::Kind::kNone) {
    WriteLogicalType(writer, *element.logical_type);
  }
  writer.EndStruct();
}

void WriteColumnChunk(ThriftWriter& writer, const ColumnChunk& chunk) {
  writer.ElementStructBegin();
  if (chunk.file_path) writer.FieldBinary(1, *chunk.file_path);
  writer.FieldI64(2, chunk.file_offset);
  if (chunk.meta_data) {
    const ColumnMetaData& meta = *chunk.meta_data;
    writer.FieldStructBegin(3);
    writer.FieldI32(1, static_cast<int32_t>(meta.type));
    writer.FieldListBegin(2, ThriftType::kI32, static_cast<uint32_t>(meta.encodings.size()));
    for (Encoding encoding : meta.encodings) writer.ElementI32(static_cast<int32_t>(encoding));
    writer.FieldListBegin(3, ThriftType::kBinary,
                          static_cast<uint32_t>(meta.path_in_schema.size()));
    for (const std::string& part : meta.path_in_schema) writer.ElementBinary(part);
    writer.FieldI32(4, static_cast<int32_t>(meta.codec));
    writer.FieldI64(5, meta.num_values);
    writer.FieldI64(6, meta.total_uncompressed_size);
    writer.FieldI64(7, meta.total_compressed_size);
    writer.FieldI64(9, meta.data_page_offset);
    if (meta.index_page_offset) writer.FieldI64(10, *meta.index_page_offset);
    if (meta.dictionary_page_offset) writer.FieldI64(11, *meta.dictionary_page_offset);
    if (meta.statistics) {
      writer.FieldStructBegin(12);
      WriteStatistics(writer, *meta.statistics);
      writer.EndStruct();
    }
    writer.EndStruct();
  }
  writer.EndStruct();
}

}  // namespace

std::string EncodeFileMetaData(const FileMetaData& meta) {
  ThriftWriter writer;
  writer.BeginStruct();
  writer.FieldI32(1, meta.version);
  writer.FieldListBegin(2, ThriftType::kStruct, static_cast<uint32_t>(meta.schema.size()));
  for (const SchemaElement& element : meta.schema) WriteSchemaElement(writer, element);
  writer.FieldI64(3, meta.num_rows);
  writer.FieldListBegin(4, ThriftType::kStruct, static_cast<uint32_t>(meta.row_groups.size()));
  for (const RowGroup& group : meta.row_groups) {
    writer.ElementStructBegin();
    writer.FieldListBegin(1, ThriftType::kStruct, static_cast<uint32_t>(group.columns.size()));
    for (const ColumnChunk& chunk : group.columns) WriteColumnChunk(writer, chunk);
    writer.FieldI64(2, group.total_byte_size);
    writer.FieldI64(3, group.num_rows);
    if (group.file_offset) writer.FieldI64(5, *group.file_offset);
    if (group.total_compressed_size) writer.FieldI64(6, *group.total_compressed_size);
    if (group.ordinal) writer.FieldI16(7, *group.ordinal);
    writer.EndStruct();
  }
  if (!meta.key_value_metadata.empty()) {
    writer.FieldListBegin(5, ThriftType::kStruct,
                          static_cast<uint32_t>(meta.key_value_metadata.size()));
    for (const KeyValue& kv : meta.key_value_metadata) {
      writer.ElementStructBegin();
      writer.FieldBinary(1, kv.key);
      if (kv.value) writer.FieldBinary(2, *kv.value);
      writer.EndStruct();
    }
  }
  if (meta.created_by) writer.FieldBinary(6, *meta.created_by);
  if (!meta.column_orders.empty()) {
    writer.FieldListBegin(7, ThriftType::kStruct, static_cast<uint32_t>(meta.column_orders.size()));
    for (bool type_order : meta.column_orders) {
      writer.ElementStructBegin();
      if (type_order) {
        writer.FieldStructBegin(1);
        writer.EndStruct();
      }
      writer.EndStruct();
    }
  }
  writer.EndStruct();
  return writer.Release();
}

void EncodePageHeader(const PageHeader& header, std::string* out) {
  ThriftWriter writer;
  writer.BeginStruct();
  writer.FieldI32(1, static_cast<int32_t>(header.type));
  writer.FieldI32(2, header.uncompressed_page_size);
  writer.FieldI32(3, header.compressed_page_size);
  if (header.crc) writer.FieldI32(4, *header.crc);
  if (header.data_page_header) {
    const DataPageHeader& page = *header.data_page_header;
    writer.FieldStructBegin(5);
    writer.FieldI32(1, page.num_values);
    writer.FieldI32(2, static_cast<int32_t>(page.encoding));
    writer.FieldI32(3, static_cast<int32_t>(page.definition_level_encoding));
    writer.FieldI32(4, static_cast<int32_t>(page.repetition_level_encoding));
    writer.EndStruct();
  }
  if (header.dictionary_page_header) {
    const DictionaryPageHeader& page = *header.dictionary_page_header;
    writer.FieldStructBegin(7);
    writer.FieldI32(1, page.num_values);
    writer.FieldI32(2, static_cast<int32_t>(page.encoding));
    if (page.is_sorted) writer.FieldBool(3, *page.is_sorted);
    writer.EndStruct();
  }
  if (header.data_page_header_v2) {
    const DataPageHeaderV2& page = *header.data_page_header_v2;
    writer.FieldStructBegin(8);
    writer.FieldI32(1, page.num_values);
    writer.FieldI32(2, page.num_nulls);
    writer.FieldI32(3, page.num_rows);
    writer.FieldI32(4, static_cast<int32_t>(page.encoding));
    writer.FieldI32(5, page.definition_levels_byte_length);
    writer.FieldI32(6, page.repetition_levels_byte_length);
    writer.FieldBool(7, page.is_compressed);
    writer.EndStruct();
  }
  writer.EndStruct();
  out->append(writer.buffer());
}

core::Result<Field> FieldFromSchemaElement(const SchemaElement& element) {
  Field field;
  field.name = element.name;
  if (element.num_children && *element.num_children > 0) {
    return core::Unimplemented(
        "parquet column '{}' is a nested group; only flat schemas are "
        "supported",
        element.name);
  }
  if (!element.type)
    return core::DataLoss("parquet column '{}' has no physical type", element.name);
  Repetition repetition = element.repetition.value_or(Repetition::kOptional);
  if (repetition == Repetition::kRepeated) {
    return core::Unimplemented("parquet column '{}' is repeated; only flat schemas are supported",
                               element.name);
  }
  if (repetition != Repetition::kRequired && repetition != Repetition::kOptional) {
    return core::Unimplemented("parquet column '{}' has repetition {}", element.name,
                               static_cast<int>(repetition));
  }
  field.nullable = repetition == Repetition::kOptional;
  using Kind = LogicalType::Kind;
  Kind kind = element.logical_type ? element.logical_type->kind : Kind::kNone;
  std::optional<ConvertedType> converted = element.converted_type;
  bool is_decimal =
      kind == Kind::kDecimal || (kind == Kind::kNone && converted == ConvertedType::kDecimal);
  if (is_decimal) {
    int precision = kind == Kind::kDecimal ? element.logical_type->decimal_precision
                                           : element.precision.value_or(0);
    int scale =
        kind == Kind::kDecimal ? element.logical_type->decimal_scale : element.scale.value_or(0);
    if (precision <= 0 || scale < 0 || scale > precision) {
      return core::DataLoss("parquet column '{}' has decimal({}, {})", element.name, precision,
                            scale);
    }
    if (precision > 18) {
      return core::Unimplemented(
          "parquet column '{}' is decimal({}, {}); lakeml holds decimals "
          "of at most 18 digits",
          element.name, precision, scale);
    }
    PhysicalType physical = *element.type;
    if (physical != PhysicalType::kInt32 && physical != PhysicalType::kInt64 &&
        physical != PhysicalType::kFixedLenByteArray && physical != PhysicalType::kByteArray) {
      return core::DataLoss("parquet column '{}' is a decimal stored as physical type {}",
                            element.name, static_cast<int>(physical));
    }
    field.type = DataType::kDecimal;
    field.decimal_precision = precision;
    field.decimal_scale = scale;
    return field;
  }
  switch (*element.type) {
    case PhysicalType::kBoolean:
      field.type = DataType::kBool;
      return field;
    case PhysicalType::kInt32:
      if (kind == Kind::kDate || converted == ConvertedType::kDate) {
        field.type = DataType::kDate;
      } else if ((kind == Kind::kInteger && !element.logical_type->is_signed &&
                  element.logical_type->bit_width == 32) ||
                 (kind == Kind::kNone && converted == ConvertedType::kUint32)) {
        field.type = DataType::kInt64;  // uint32 does not fit an int32
      } else {
        field.type = DataType::kInt32;
      }
      return field;
    case PhysicalType::kInt64:
      if (kind == Kind::kTimestamp || converted == ConvertedType::kTimestampMillis ||
          converted == ConvertedType::kTimestampMicros) {
        field.type = DataType::kTimestamp;
      } else {
        field.type = DataType::kInt64;
      }
      return field;
    case PhysicalType::kInt96:
      field.type = DataType::kTimestamp;
      return field;
    case PhysicalType::kFloat:
      field.type = DataType::kFloat;
      return field;
    case PhysicalType::kDouble:
      field.type = DataType::kDouble;
      return field;
    case PhysicalType::kByteArray:
      if (kind == Kind::kString || kind == Kind::kJson || kind == Kind::kEnum ||
          (kind == Kind::kNone &&
           (converted == ConvertedType::kUtf8 || converted == ConvertedType::kJson ||
            converted == ConvertedType::kEnum))) {
        field.type = DataType::kString;
      } else {
        field.type = DataType::kBinary;
      }
      return field;
    case PhysicalType::kFixedLenByteArray:
      if (!element.type_length || *element.type_length < 0) {
        return core::DataLoss("parquet column '{}' is FIXED_LEN_BYTE_ARRAY without a length",
                              element.name);
      }
      field.type = DataType::kBinary;
      return field;
  }
  return core::Unimplemented("parquet column '{}' has unknown physical type {}", element.name,
                             static_cast<int>(*element.type));
}

core::Result<SchemaElement> SchemaElementForField(const Field& field) {
  SchemaElement element;
  element.name = field.name;
  element.repetition = field.nullable ? Repetition::kOptional : Repetition::kRequired;
  LogicalType logical;
  switch (field.type) {
    case DataType::kBool:
      element.type = PhysicalType::kBoolean;
      break;
    case DataType::kInt32:
      element.type = PhysicalType::kInt32;
      break;
    case DataType::kInt64:
      element.type = PhysicalType::kInt64;
      break;
    case DataType::kFloat:
      element.type = PhysicalType::kFloat;
      break;
    case DataType::kDouble:
      element.type = PhysicalType::kDouble;
      break;
    case DataType::kString:
      element.type = PhysicalType::kByteArray;
      element.converted_type = ConvertedType::kUtf8;
      logical.kind = LogicalType::Kind::kString;
      break;
    case DataType::kBinary:
      element.type = PhysicalType::kByteArray;
      break;
    case DataType::kDate:
      element.type = PhysicalType::kInt32;
      element.converted_type = ConvertedType::kDate;
      logical.kind = LogicalType::Kind::kDate;
      break;
    case DataType::kTimestamp:
      element.type = PhysicalType::kInt64;
      element.converted_type = ConvertedType::kTimestampMicros;
      logical.kind = LogicalType::Kind::kTimestamp;
      logical.is_adjusted_to_utc = true;
      logical.unit = TimeUnit::kMicros;
      break;
    case DataType::kDecimal:
      if (field.decimal_precision < 1 || field.decimal_precision > 18 || field.decimal_scale < 0 ||
          field.decimal_scale > field.decimal_precision) {
        return core::InvalidArgument(
            "column '{}': decimal({}, {}) is not supported (precision "
            "1..18, scale 0..precision)",
            field.name, field.decimal_precision, field.decimal_scale);
      }
      // Spark's choice: the narrowest integer that holds the precision.
      element.type = field.decimal_precision <= 9 ? PhysicalType::kInt32 : PhysicalType::kInt64;
      element.converted_type = ConvertedType::kDecimal;
      element.precision = field.decimal_precision;
      element.scale = field.decimal_scale;
      logical.kind = LogicalType::Kind::kDecimal;
      logical.decimal_precision = field.decimal_precision;
      logical.decimal_scale = field.decimal_scale;
      break;
  }
  if (logical.kind != LogicalType::Kind::kNone) element.logical_type = logical;
  return element;
}

}  // namespace lakeml::storage
