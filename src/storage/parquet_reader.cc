#include "storage/parquet_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <span>

#include "storage/internal/compression.h"
#include "storage/internal/encodings.h"

namespace lakeml::storage {

using internal::PhysicalValues;

namespace {

constexpr size_t kTailReadBytes = 64 * 1024;
// A row group may make us allocate at most this much, or 64 bytes per byte of file if that is
// more: enough for any real file, while a tiny hostile footer cannot claim billions of rows.
constexpr int64_t kMinRowGroupBudgetBytes = int64_t{256} << 20;
constexpr int64_t kBudgetPerFileByte = 64;
constexpr int64_t kBytesPerCell = 9;  // 8-byte value + validity byte

core::Status IoError(const std::string& what, const std::string& path) {
  int err = errno;
  std::string message = fmt::format("{} '{}': {}", what, path, std::strerror(err));
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return core::Status(core::StatusCode::kNotFound, message);
    case EACCES:
    case EPERM:
      return core::Status(core::StatusCode::kPermissionDenied, message);
    default:
      return core::Status(core::StatusCode::kUnavailable, message);
  }
}

uint32_t LoadU32(const char* data) {
  uint32_t value;
  std::memcpy(&value, data, 4);
  return value;
}

std::span<const uint8_t> AsBytes(std::string_view data) {
  return {reinterpret_cast<const uint8_t*>(data.data()), data.size()};
}

// How a leaf's physical values become lakeml values.
struct Conversion {
  DataType type;
  PhysicalType physical;
  int type_length = 0;
  TimeUnit unit = TimeUnit::kMicros;  // INT64 timestamps
  bool unsigned32 = false;            // UINT_32 widened to long
};

Conversion ConversionFor(const Field& field, const SchemaElement& element) {
  Conversion conversion{field.type, *element.type};
  conversion.type_length = element.type_length.value_or(0);
  if (element.logical_type && element.logical_type->kind == LogicalType::Kind::kTimestamp) {
    conversion.unit = element.logical_type->unit;
  } else if (element.converted_type == ConvertedType::kTimestampMillis) {
    conversion.unit = TimeUnit::kMillis;
  }
  conversion.unsigned32 = *element.type == PhysicalType::kInt32 && field.type == DataType::kInt64;
  return conversion;
}

int64_t FloorDiv(int64_t value, int64_t divisor) {
  int64_t quotient = value / divisor;
  if ((value % divisor != 0) && (value < 0)) --quotient;
  return quotient;
}

int64_t ToMicros(const Conversion& conversion, int64_t value) {
  if (conversion.physical == PhysicalType::kInt96) return FloorDiv(value, 1000);
  switch (conversion.unit) {
    case TimeUnit::kMillis:
      // Wrapping multiply: out-of-range hostile values must not be undefined behaviour.
      return static_cast<int64_t>(static_cast<uint64_t>(value) * 1000u);
    case TimeUnit::kNanos:
      return FloorDiv(value, 1000);
    default:
      return value;
  }
}

// Big-endian two's complement (decimal FIXED_LEN_BYTE_ARRAY / BYTE_ARRAY) to int64.
core::Result<int64_t> DecodeBigEndianDecimal(std::string_view bytes) {
  if (bytes.empty()) return int64_t{0};
  const bool negative = static_cast<uint8_t>(bytes[0]) & 0x80;
  size_t skip = 0;
  while (bytes.size() - skip > 8) {
    if (static_cast<uint8_t>(bytes[skip]) != (negative ? 0xff : 0x00)) {
      return core::DataLoss("decimal value does not fit 64 bits");
    }
    ++skip;
  }
  uint64_t value = negative ? ~uint64_t{0} : 0;
  for (size_t i = skip; i < bytes.size(); ++i) {
    value = (value << 8) | static_cast<uint8_t>(bytes[i]);
  }
  return static_cast<int64_t>(value);
}

// Appends one non-null physical value `i` of `values` to `out`.
core::Status AppendValue(const Conversion& conversion, const PhysicalValues& values, size_t i,
                         Column* out) {
  switch (conversion.type) {
    case DataType::kFloat:
    case DataType::kDouble:
      out->AppendDouble(values.doubles[i]);
      return core::Status::Ok();
    case DataType::kString:
    case DataType::kBinary: {
      std::string_view value = values.Bytes(i);
      if (out->bytes().size() + value.size() > UINT32_MAX) {
        return core::ResourceExhausted("column holds more than 4 GiB of bytes in one row group");
      }
      out->AppendBytes(value);
      return core::Status::Ok();
    }
    case DataType::kTimestamp:
      out->AppendInt(ToMicros(conversion, values.ints[i]));
      return core::Status::Ok();
    case DataType::kDecimal:
      if (values.IsBytes()) {
        LAKEML_ASSIGN_OR_RETURN(int64_t unscaled, DecodeBigEndianDecimal(values.Bytes(i)));
        out->AppendInt(unscaled);
      } else {
        out->AppendInt(values.ints[i]);
      }
      return core::Status::Ok();
    default: {
      int64_t value = values.ints[i];
      if (conversion.unsigned32) value = static_cast<int64_t>(static_cast<uint32_t>(value));
      out->AppendInt(value);
      return core::Status::Ok();
    }
  }
}

// Decodes the definition levels (max level 1) of `count` values.
core::Status DecodeLevels(Encoding encoding, std::span<const uint8_t> data, size_t count,
                          std::vector<uint32_t>* levels) {
  levels->clear();
  if (encoding == Encoding::kBitPacked) {
    // Legacy BIT_PACKED levels are packed most significant bit first.
    if ((count + 7) / 8 > data.size()) return core::DataLoss("bit-packed levels truncated");
    for (size_t i = 0; i < count; ++i) levels->push_back((data[i / 8] >> (7 - i % 8)) & 1);
    return core::Status::Ok();
  }
  if (encoding != Encoding::kRle) {
    return core::Unimplemented("definition level encoding {} is not supported",
                               static_cast<int>(encoding));
  }
  internal::RleBitPackedDecoder decoder(data, 1);
  return decoder.Get(count, levels);
}

// Decodes the values of one data page (after levels) and appends the page's rows to `out`.
core::Status DecodePageValues(const Conversion& conversion, Encoding encoding,
                              std::span<const uint8_t> data, size_t num_rows,
                              const std::vector<uint32_t>* levels,
                              const std::optional<PhysicalValues>& dictionary, Column* out) {
  size_t non_null = num_rows;
  if (levels != nullptr) {
    non_null = 0;
    for (uint32_t level : *levels) {
      if (level > 1) return core::DataLoss("definition level {} above the maximum 1", level);
      non_null += level;
    }
  }
  PhysicalValues values(conversion.physical);
  if (encoding == Encoding::kPlainDictionary || encoding == Encoding::kRleDictionary) {
    if (!dictionary) return core::DataLoss("dictionary-encoded page without a dictionary page");
    std::vector<uint32_t> indices;
    LAKEML_RETURN_IF_ERROR(internal::DecodeDictionaryIndices(data, non_null, &indices));
    const size_t dictionary_size = dictionary->size();
    for (uint32_t index : indices) {
      if (index >= dictionary_size) {
        return core::DataLoss("dictionary index {} out of range ({} entries)", index,
                              dictionary_size);
      }
    }
    if (dictionary->IsBytes()) {
      for (uint32_t index : indices) {
        std::string_view value = dictionary->Bytes(index);
        if (values.bytes.size() + value.size() > internal::kMaxDecodedPageBytes) {
          return core::DataLoss("decoded page exceeds {} bytes", internal::kMaxDecodedPageBytes);
        }
        values.AppendBytes(value);
      }
    } else if (!dictionary->doubles.empty()) {
      for (uint32_t index : indices) values.doubles.push_back(dictionary->doubles[index]);
    } else {
      for (uint32_t index : indices) values.ints.push_back(dictionary->ints[index]);
    }
  } else {
    LAKEML_RETURN_IF_ERROR(
        internal::DecodeValues(encoding, data, non_null, conversion.type_length, &values));
  }
  if (values.size() != non_null) {
    return core::DataLoss("page decoded {} values where {} were expected", values.size(), non_null);
  }
  size_t next = 0;
  for (size_t row = 0; row < num_rows; ++row) {
    if (levels != nullptr && (*levels)[row] == 0) {
      out->AppendNull();
    } else {
      LAKEML_RETURN_IF_ERROR(AppendValue(conversion, values, next++, out));
    }
  }
  return core::Status::Ok();
}

// Decodes a statistics bound in the column's physical PLAIN form (no length prefix for bytes).
std::optional<StatValue> DecodeBound(const Conversion& conversion, const std::string& bytes) {
  auto load = [&](size_t width) -> std::optional<int64_t> {
    if (bytes.size() != width) return std::nullopt;
    if (width == 4) {
      int32_t value;
      std::memcpy(&value, bytes.data(), 4);
      return value;
    }
    int64_t value;
    std::memcpy(&value, bytes.data(), 8);
    return value;
  };
  switch (conversion.physical) {
    case PhysicalType::kBoolean:
      if (bytes.size() != 1) return std::nullopt;
      return StatValue(int64_t{bytes[0] != 0});
    case PhysicalType::kInt32: {
      auto value = load(4);
      if (!value) return std::nullopt;
      if (conversion.unsigned32)
        return StatValue(static_cast<int64_t>(static_cast<uint32_t>(*value)));
      return StatValue(*value);
    }
    case PhysicalType::kInt64: {
      auto value = load(8);
      if (!value) return std::nullopt;
      if (conversion.type == DataType::kTimestamp) return StatValue(ToMicros(conversion, *value));
      return StatValue(*value);
    }
    case PhysicalType::kFloat: {
      if (bytes.size() != 4) return std::nullopt;
      float value;
      std::memcpy(&value, bytes.data(), 4);
      return StatValue(static_cast<double>(value));
    }
    case PhysicalType::kDouble: {
      if (bytes.size() != 8) return std::nullopt;
      double value;
      std::memcpy(&value, bytes.data(), 8);
      return StatValue(value);
    }
    case PhysicalType::kByteArray:
    case PhysicalType::kFixedLenByteArray:
      if (conversion.type == DataType::kDecimal) {
        auto value = DecodeBigEndianDecimal(bytes);
        if (!value.ok()) return std::nullopt;
        return StatValue(*value);
      }
      return StatValue(bytes);
    default:
      return std::nullopt;  // INT96 has no defined order
  }
}

}  // namespace

ParquetReader::ParquetReader(std::string path, int fd, int64_t file_size)
    : path_(std::move(path)), fd_(fd), file_size_(file_size) {}

ParquetReader::~ParquetReader() {
  if (fd_ >= 0) ::close(fd_);
}

core::Result<std::unique_ptr<ParquetReader>> ParquetReader::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError("cannot open", path);
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    core::Status status = IoError("cannot stat", path);
    ::close(fd);
    return status;
  }
  std::unique_ptr<ParquetReader> reader(new ParquetReader(path, fd, info.st_size));
  LAKEML_RETURN_IF_ERROR(reader->Init());
  return reader;
}

core::Status ParquetReader::ReadAt(int64_t offset, size_t size, std::string* out) const {
  if (offset < 0 || static_cast<uint64_t>(offset) > static_cast<uint64_t>(file_size_) ||
      size > static_cast<uint64_t>(file_size_ - offset)) {
    return core::DataLoss("parquet file '{}': range [{}, +{}) is outside the file", path_, offset,
                          size);
  }
  out->resize(size);
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::pread(fd_, out->data() + done, size - done, offset + static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("cannot read", path_);
    }
    if (n == 0) return core::DataLoss("parquet file '{}' shrank while reading", path_);
    done += static_cast<size_t>(n);
  }
  return core::Status::Ok();
}

core::Status ParquetReader::Init() {
  if (file_size_ < 12) {
    return core::DataLoss("'{}' is not a parquet file: {} bytes", path_, file_size_);
  }
  std::string head;
  LAKEML_RETURN_IF_ERROR(ReadAt(0, 4, &head));
  if (head != "PAR1") return core::DataLoss("'{}' is not a parquet file: bad magic", path_);
  size_t tail_size = std::min<size_t>(kTailReadBytes, static_cast<size_t>(file_size_));
  std::string tail;
  LAKEML_RETURN_IF_ERROR(ReadAt(file_size_ - static_cast<int64_t>(tail_size), tail_size, &tail));
  if (tail.compare(tail.size() - 4, 4, "PAR1") != 0) {
    return core::DataLoss(
        "parquet file '{}' lacks the trailing PAR1 magic (truncated or "
        "encrypted)",
        path_);
  }
  uint32_t footer_length = LoadU32(tail.data() + tail.size() - 8);
  if (footer_length == 0 || footer_length > static_cast<uint64_t>(file_size_ - 12)) {
    return core::DataLoss("parquet file '{}' has a footer length of {} for {} bytes", path_,
                          footer_length, file_size_);
  }
  footer_start_ = file_size_ - 8 - footer_length;
  std::string footer;
  if (footer_length + 8 <= tail.size()) {
    footer = tail.substr(tail.size() - 8 - footer_length, footer_length);
  } else {
    LAKEML_RETURN_IF_ERROR(ReadAt(footer_start_, footer_length, &footer));
  }
  auto decoded = DecodeFileMetaData(reinterpret_cast<const uint8_t*>(footer.data()), footer.size());
  if (!decoded.ok()) {
    return core::DataLoss("parquet file '{}': {}", path_, decoded.status().message());
  }
  metadata_ = std::move(decoded).value();

  // Flat schemas only: a root group whose children are all leaves.
  if (metadata_.schema.empty()) return core::DataLoss("parquet file '{}' has no schema", path_);
  const SchemaElement& root = metadata_.schema[0];
  int32_t num_children = root.num_children.value_or(0);
  if (num_children < 0 || static_cast<size_t>(num_children) + 1 != metadata_.schema.size()) {
    for (size_t i = 1; i < metadata_.schema.size(); ++i) {
      if (metadata_.schema[i].num_children.value_or(0) > 0) {
        return core::Unimplemented(
            "parquet file '{}' has nested column '{}'; only flat schemas "
            "are supported",
            path_, metadata_.schema[i].name);
      }
    }
    return core::DataLoss("parquet file '{}': root has {} children but the schema {} leaves", path_,
                          num_children, metadata_.schema.size() - 1);
  }
  for (size_t i = 1; i < metadata_.schema.size(); ++i) {
    const SchemaElement& element = metadata_.schema[i];
    auto field = FieldFromSchemaElement(element);
    if (!field.ok()) {
      return core::Status(field.status().code(),
                          fmt::format("parquet file '{}': {}", path_, field.status().message()));
    }
    schema_.fields.push_back(std::move(field).value());
    leaves_.push_back(element);
  }
  if (metadata_.num_rows < 0) return core::DataLoss("parquet file '{}': negative row count", path_);
  for (size_t g = 0; g < metadata_.row_groups.size(); ++g) {
    const RowGroup& group = metadata_.row_groups[g];
    if (group.num_rows < 0) {
      return core::DataLoss("parquet file '{}': row group {} has a negative row count", path_, g);
    }
    if (group.columns.size() != leaves_.size()) {
      return core::DataLoss("parquet file '{}': row group {} has {} columns, schema has {}", path_,
                            g, group.columns.size(), leaves_.size());
    }
    for (size_t c = 0; c < group.columns.size(); ++c) {
      const ColumnChunk& chunk = group.columns[c];
      if (chunk.file_path && !chunk.file_path->empty()) {
        return core::Unimplemented("parquet file '{}' refers to column data in other files", path_);
      }
      if (!chunk.meta_data) {
        return core::DataLoss("parquet file '{}': column chunk without metadata", path_);
      }
      if (chunk.meta_data->type != *leaves_[c].type) {
        return core::DataLoss("parquet file '{}': column '{}' chunk type differs from the schema",
                              path_, leaves_[c].name);
      }
    }
  }
  return core::Status::Ok();
}

int64_t ParquetReader::row_group_num_rows(int row_group) const {
  if (row_group < 0 || row_group >= num_row_groups()) return 0;
  return metadata_.row_groups[row_group].num_rows;
}

core::Result<ColumnStatistics> ParquetReader::ColumnStats(int row_group, size_t column) const {
  if (row_group < 0 || row_group >= num_row_groups() || column >= leaves_.size()) {
    return core::InvalidArgument("parquet file '{}': no row group {} column {}", path_, row_group,
                                 column);
  }
  ColumnStatistics stats;
  const ColumnMetaData& meta = *metadata_.row_groups[row_group].columns[column].meta_data;
  if (!meta.statistics) return stats;
  const Statistics& wire = *meta.statistics;
  stats.null_count = wire.null_count;
  Conversion conversion = ConversionFor(schema_.fields[column], leaves_[column]);
  bool type_order = column < metadata_.column_orders.size() && metadata_.column_orders[column];
  const std::optional<std::string>* min = nullptr;
  const std::optional<std::string>* max = nullptr;
  if (type_order && (wire.min_value || wire.max_value)) {
    min = &wire.min_value;
    max = &wire.max_value;
  } else {
    // The deprecated fields use signed comparison: only numbers compare correctly that way.
    PhysicalType physical = conversion.physical;
    bool signed_ok = physical == PhysicalType::kInt32 || physical == PhysicalType::kInt64 ||
                     physical == PhysicalType::kFloat || physical == PhysicalType::kDouble ||
                     physical == PhysicalType::kBoolean;
    if (signed_ok && !conversion.unsigned32) {
      min = &wire.min;
      max = &wire.max;
    }
  }
  if (min != nullptr && *min) stats.min = DecodeBound(conversion, **min);
  if (max != nullptr && *max) stats.max = DecodeBound(conversion, **max);
  if (conversion.type == DataType::kFloat || conversion.type == DataType::kDouble) {
    // Zero bounds may have been written with either sign; widen them.
    if (stats.min && std::get<double>(*stats.min) == 0) stats.min = -0.0;
    if (stats.max && std::get<double>(*stats.max) == 0) stats.max = 0.0;
  }
  stats.min_exact = wire.is_min_value_exact.value_or(true);
  stats.max_exact = wire.is_max_value_exact.value_or(true);
  return stats;
}

core::Status ParquetReader::ReadColumnChunk(int row_group, size_t column, Column* out) const {
  const RowGroup& group = metadata_.row_groups[row_group];
  const ColumnMetaData& meta = *group.columns[column].meta_data;
  const Field& field = schema_.fields[column];
  const Conversion conversion = ConversionFor(field, leaves_[column]);
  const auto rows = static_cast<size_t>(group.num_rows);
  const std::string where =
      fmt::format("parquet file '{}' row group {} column '{}'", path_, row_group, field.name);
  if (meta.num_values != group.num_rows) {
    return core::DataLoss("{}: chunk has {} values for {} rows", where, meta.num_values,
                          group.num_rows);
  }
  if (rows == 0) return core::Status::Ok();
  // Trust the first page's type, not dictionary_page_offset: writers disagree on it.
  int64_t start = meta.data_page_offset;
  if (meta.dictionary_page_offset && *meta.dictionary_page_offset > 0 &&
      *meta.dictionary_page_offset < start) {
    start = *meta.dictionary_page_offset;
  }
  if (start < 4 || meta.total_compressed_size <= 0 || start > footer_start_ ||
      meta.total_compressed_size > footer_start_ - start) {
    return core::DataLoss("{}: chunk [{}, +{}) lies outside the data area", where, start,
                          meta.total_compressed_size);
  }
  std::string chunk;
  LAKEML_RETURN_IF_ERROR(ReadAt(start, static_cast<size_t>(meta.total_compressed_size), &chunk));
  const auto* data = reinterpret_cast<const uint8_t*>(chunk.data());
  const size_t size = chunk.size();

  std::optional<PhysicalValues> dictionary;
  std::string decompressed;
  std::vector<uint32_t> levels;
  size_t pos = 0;
  size_t rows_read = 0;
  bool seen_data_page = false;
  while (rows_read < rows) {
    if (pos >= size) {
      return core::DataLoss("{}: chunk ends after {} of {} rows", where, rows_read, rows);
    }
    size_t header_size = 0;
    auto decoded = DecodePageHeader(data + pos, size - pos, &header_size);
    if (!decoded.ok()) return core::DataLoss("{}: {}", where, decoded.status().message());
    const PageHeader& header = *decoded;
    pos += header_size;
    if (static_cast<size_t>(header.compressed_page_size) > size - pos) {
      return core::DataLoss("{}: page of {} bytes overruns the chunk", where,
                            header.compressed_page_size);
    }
    std::span<const uint8_t> page(data + pos, static_cast<size_t>(header.compressed_page_size));
    pos += page.size();
    const auto uncompressed_size = static_cast<size_t>(header.uncompressed_page_size);

    if (header.type == PageType::kDictionaryPage) {
      if (dictionary || seen_data_page) {
        return core::DataLoss("{}: dictionary page after the start of the chunk", where);
      }
      if (!header.dictionary_page_header || header.dictionary_page_header->num_values < 0) {
        return core::DataLoss("{}: dictionary page without a valid header", where);
      }
      Encoding encoding = header.dictionary_page_header->encoding;
      if (encoding != Encoding::kPlain && encoding != Encoding::kPlainDictionary) {
        return core::Unimplemented("{}: dictionary encoding {}", where, static_cast<int>(encoding));
      }
      LAKEML_RETURN_IF_ERROR(internal::Decompress(meta.codec, page.data(), page.size(),
                                                  uncompressed_size, &decompressed));
      dictionary.emplace(conversion.physical);
      LAKEML_RETURN_IF_ERROR(internal::DecodePlain(
          AsBytes(decompressed), static_cast<size_t>(header.dictionary_page_header->num_values),
          conversion.type_length, &*dictionary));
      continue;
    }
    if (header.type != PageType::kDataPage && header.type != PageType::kDataPageV2) {
      continue;  // index pages and unknown page types carry no rows
    }
    seen_data_page = true;
    const bool v2 = header.type == PageType::kDataPageV2;
    if ((v2 && !header.data_page_header_v2) || (!v2 && !header.data_page_header)) {
      return core::DataLoss("{}: data page without its header", where);
    }
    const int32_t num_values =
        v2 ? header.data_page_header_v2->num_values : header.data_page_header->num_values;
    if (num_values < 0 || static_cast<size_t>(num_values) > rows - rows_read) {
      return core::DataLoss("{}: page holds {} values but only {} rows remain", where, num_values,
                            rows - rows_read);
    }
    const auto page_rows = static_cast<size_t>(num_values);
    std::span<const uint8_t> values_bytes;
    Encoding encoding;
    if (!v2) {
      const DataPageHeader& page_header = *header.data_page_header;
      encoding = page_header.encoding;
      LAKEML_RETURN_IF_ERROR(internal::Decompress(meta.codec, page.data(), page.size(),
                                                  uncompressed_size, &decompressed));
      std::span<const uint8_t> payload = AsBytes(decompressed);
      if (field.nullable) {
        if (page_header.definition_level_encoding == Encoding::kRle) {
          if (payload.size() < 4) return core::DataLoss("{}: levels length truncated", where);
          uint32_t length = LoadU32(decompressed.data());
          if (length > payload.size() - 4) {
            return core::DataLoss("{}: levels of {} bytes overrun the page", where, length);
          }
          LAKEML_RETURN_IF_ERROR(
              DecodeLevels(Encoding::kRle, payload.subspan(4, length), page_rows, &levels));
          payload = payload.subspan(4 + length);
        } else {
          LAKEML_RETURN_IF_ERROR(
              DecodeLevels(page_header.definition_level_encoding, payload, page_rows, &levels));
          payload = payload.subspan(std::min(payload.size(), (page_rows + 7) / 8));
        }
      }
      values_bytes = payload;
    } else {
      const DataPageHeaderV2& page_header = *header.data_page_header_v2;
      encoding = page_header.encoding;
      if (page_header.definition_levels_byte_length < 0 ||
          page_header.repetition_levels_byte_length < 0 ||
          static_cast<size_t>(page_header.definition_levels_byte_length) +
                  static_cast<size_t>(page_header.repetition_levels_byte_length) >
              page.size()) {
        return core::DataLoss("{}: V2 level lengths overrun the page", where);
      }
      const auto rep_length = static_cast<size_t>(page_header.repetition_levels_byte_length);
      const auto def_length = static_cast<size_t>(page_header.definition_levels_byte_length);
      if (field.nullable) {
        LAKEML_RETURN_IF_ERROR(
            DecodeLevels(Encoding::kRle, page.subspan(rep_length, def_length), page_rows, &levels));
      }
      std::span<const uint8_t> compressed_values = page.subspan(rep_length + def_length);
      if (page_header.is_compressed && meta.codec != CompressionCodec::kUncompressed) {
        if (uncompressed_size < rep_length + def_length) {
          return core::DataLoss("{}: V2 page sizes are inconsistent", where);
        }
        LAKEML_RETURN_IF_ERROR(
            internal::Decompress(meta.codec, compressed_values.data(), compressed_values.size(),
                                 uncompressed_size - rep_length - def_length, &decompressed));
        values_bytes = AsBytes(decompressed);
      } else {
        values_bytes = compressed_values;
      }
    }
    auto status = DecodePageValues(conversion, encoding, values_bytes, page_rows,
                                   field.nullable ? &levels : nullptr, dictionary, out);
    if (!status.ok()) {
      return core::Status(status.code(), fmt::format("{}: {}", where, status.message()));
    }
    rows_read += page_rows;
  }
  return core::Status::Ok();
}

core::Result<ColumnBatch> ParquetReader::ReadRowGroup(
    int row_group, const std::optional<std::vector<size_t>>& columns) const {
  if (row_group < 0 || row_group >= num_row_groups()) {
    return core::InvalidArgument("parquet file '{}' has no row group {}", path_, row_group);
  }
  std::vector<size_t> selected;
  if (columns) {
    for (size_t column : *columns) {
      if (column >= schema_.fields.size()) {
        return core::InvalidArgument("parquet file '{}' has no column {}", path_, column);
      }
    }
    selected = *columns;
  } else {
    for (size_t i = 0; i < schema_.fields.size(); ++i) selected.push_back(i);
  }
  const int64_t rows = metadata_.row_groups[row_group].num_rows;
  const int64_t budget = std::max(kMinRowGroupBudgetBytes, file_size_ * kBudgetPerFileByte);
  if (!selected.empty() && rows > budget / kBytesPerCell / static_cast<int64_t>(selected.size())) {
    return core::DataLoss(
        "parquet file '{}': row group {} claims {} rows, more than a {}-byte "
        "file can plausibly hold",
        path_, row_group, rows, file_size_);
  }
  ColumnBatch batch;
  for (size_t column : selected) {
    batch.schema.fields.push_back(schema_.fields[column]);
    Column values(schema_.fields[column].type);
    LAKEML_RETURN_IF_ERROR(ReadColumnChunk(row_group, column, &values));
    batch.columns.push_back(std::move(values));
  }
  return batch;
}

}  // namespace lakeml::storage
