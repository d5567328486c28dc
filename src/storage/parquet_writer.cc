#include "storage/parquet_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <random>
#include <unordered_map>
#include <unordered_set>

#include "storage/internal/compression.h"
#include "storage/internal/encodings.h"

namespace lakeml::storage {

using internal::PhysicalValues;

namespace {

constexpr char kMagic[] = "PAR1";
constexpr char kCreatedBy[] = "lakeml version 0.1.0";
// Longer string bounds are truncated: they only need to bound the values, and Delta stats use
// 32-character prefixes anyway.
constexpr size_t kMaxStatBytes = 64;
// Rows copied per step in Write(), so the byte budget of a row group is checked often enough.
constexpr size_t kAppendSliceRows = 4096;

core::Status IoError(const std::string& what, const std::string& path) {
  int err = errno;
  std::string message = fmt::format("{} '{}': {}", what, path, std::strerror(err));
  switch (err) {
    case EEXIST:
      return core::Status(core::StatusCode::kAlreadyExists, message);
    case EACCES:
    case EPERM:
    case EROFS:
      return core::Status(core::StatusCode::kPermissionDenied, message);
    case ENOENT:
    case ENOTDIR:
      return core::Status(core::StatusCode::kNotFound, message);
    default:
      return core::Status(core::StatusCode::kUnavailable, message);
  }
}

bool IsBytes(DataType type) { return type == DataType::kString || type == DataType::kBinary; }
bool IsFloating(DataType type) { return type == DataType::kFloat || type == DataType::kDouble; }

int64_t Pow10(int exponent) {
  int64_t result = 1;
  for (int i = 0; i < exponent; ++i) result *= 10;
  return result;
}

void AppendRows(const Column& source, size_t begin, size_t end, Column* target) {
  for (size_t row = begin; row < end; ++row) {
    if (source.IsNull(row)) {
      target->AppendNull();
    } else if (IsBytes(source.type())) {
      target->AppendBytes(source.Bytes(row));
    } else if (IsFloating(source.type())) {
      target->AppendDouble(source.Double(row));
    } else {
      target->AppendInt(source.Int(row));
    }
  }
}

PhysicalValues Slice(const PhysicalValues& values, size_t begin, size_t end) {
  PhysicalValues slice(values.type);
  if (values.IsBytes()) {
    for (size_t i = begin; i < end; ++i) slice.AppendBytes(values.Bytes(i));
  } else if (!values.doubles.empty() || values.type == PhysicalType::kFloat ||
             values.type == PhysicalType::kDouble) {
    slice.doubles.assign(values.doubles.begin() + begin, values.doubles.begin() + end);
  } else {
    slice.ints.assign(values.ints.begin() + begin, values.ints.begin() + end);
  }
  return slice;
}

// Statistics of one chunk: the wire form and the typed form.
struct ChunkStats {
  Statistics wire;
  ColumnStatistics typed;
};

ChunkStats ComputeStats(PhysicalType physical, const PhysicalValues& values, int64_t null_count) {
  ChunkStats stats;
  stats.wire.null_count = null_count;
  stats.typed.null_count = null_count;
  if (values.size() == 0) return stats;
  if (values.IsBytes()) {
    std::string_view min = values.Bytes(0);
    std::string_view max = min;
    for (size_t i = 1; i < values.size(); ++i) {
      std::string_view value = values.Bytes(i);
      if (value < min) min = value;
      if (value > max) max = value;
    }
    std::string min_bound(min.substr(0, kMaxStatBytes));
    bool min_exact = min.size() <= kMaxStatBytes;
    std::optional<std::string> max_bound = std::string(max);
    bool max_exact = true;
    if (max.size() > kMaxStatBytes) {
      // A truncated upper bound must be incremented to stay an upper bound.
      std::string bound(max.substr(0, kMaxStatBytes));
      while (!bound.empty() && static_cast<uint8_t>(bound.back()) == 0xff) bound.pop_back();
      if (bound.empty()) {
        max_bound.reset();
      } else {
        bound.back() = static_cast<char>(static_cast<uint8_t>(bound.back()) + 1);
        max_bound = bound;
      }
      max_exact = false;
    }
    stats.wire.min_value = min_bound;
    stats.typed.min = min_bound;
    stats.typed.min_exact = min_exact;
    if (!min_exact) stats.wire.is_min_value_exact = false;
    if (max_bound) {
      stats.wire.max_value = *max_bound;
      stats.typed.max = *max_bound;
      stats.typed.max_exact = max_exact;
      if (!max_exact) stats.wire.is_max_value_exact = false;
    }
    return stats;
  }
  if (physical == PhysicalType::kFloat || physical == PhysicalType::kDouble) {
    bool any = false;
    double min = 0;
    double max = 0;
    for (double value : values.doubles) {
      if (std::isnan(value)) continue;  // NaN never takes part in min/max
      if (!any || value < min) min = value;
      if (!any || value > max) max = value;
      any = true;
    }
    if (!any) return stats;
    // The spec asks for -0.0 as a zero minimum and +0.0 as a zero maximum.
    if (min == 0) min = -0.0;
    if (max == 0) max = 0.0;
    PhysicalValues encoded(physical);
    encoded.doubles = {min, max};
    std::string plain;
    internal::EncodePlain(encoded, 0, &plain);
    size_t width = plain.size() / 2;
    stats.wire.min_value = plain.substr(0, width);
    stats.wire.max_value = plain.substr(width);
    stats.typed.min = min;
    stats.typed.max = max;
    return stats;
  }
  int64_t min = values.ints[0];
  int64_t max = min;
  for (int64_t value : values.ints) {
    min = std::min(min, value);
    max = std::max(max, value);
  }
  PhysicalValues encoded(physical);
  encoded.ints = {min, max};
  std::string plain;
  internal::EncodePlain(encoded, 0, &plain);
  if (physical == PhysicalType::kBoolean) {
    // PLAIN packs booleans into bits; statistics hold one byte per bound.
    plain = std::string(1, static_cast<char>(min)) + std::string(1, static_cast<char>(max));
  }
  size_t width = plain.size() / 2;
  stats.wire.min_value = plain.substr(0, width);
  stats.wire.max_value = plain.substr(width);
  stats.typed.min = min;
  stats.typed.max = max;
  return stats;
}

bool StatLess(const StatValue& a, const StatValue& b) { return a < b; }

void MergeStats(const ColumnStatistics& chunk, ColumnStatistics* file) {
  file->null_count = file->null_count.value_or(0) + chunk.null_count.value_or(0);
  if (chunk.min && (!file->min || StatLess(*chunk.min, *file->min))) {
    file->min = chunk.min;
    file->min_exact = chunk.min_exact;
  }
  if (chunk.max && (!file->max || StatLess(*file->max, *chunk.max))) {
    file->max = chunk.max;
    file->max_exact = chunk.max_exact;
  }
}

std::string RandomSuffix() {
  std::random_device device;
  std::mt19937_64 engine((static_cast<uint64_t>(device()) << 32) ^ device());
  return fmt::format("{:016x}", engine());
}

}  // namespace

ParquetWriter::ParquetWriter(std::string path, std::string tmp_path, int fd, Schema schema,
                             std::vector<SchemaElement> elements, ParquetWriterOptions options)
    : path_(std::move(path)),
      tmp_path_(std::move(tmp_path)),
      fd_(fd),
      schema_(std::move(schema)),
      elements_(std::move(elements)),
      options_(options) {
  file_stats_.resize(schema_.fields.size());
  for (ColumnStatistics& stats : file_stats_) stats.null_count = 0;
  ResetBuffer();
}

ParquetWriter::~ParquetWriter() {
  if (!closed_) Abandon();
}

void ParquetWriter::Abandon() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
    ::unlink(tmp_path_.c_str());
  }
}

core::Result<std::unique_ptr<ParquetWriter>> ParquetWriter::Open(
    const std::string& path, const Schema& schema, const ParquetWriterOptions& options) {
  if (schema.fields.empty()) return core::InvalidArgument("parquet file '{}' needs columns", path);
  std::unordered_set<std::string> names;
  std::vector<SchemaElement> elements;
  for (const Field& field : schema.fields) {
    if (field.name.empty())
      return core::InvalidArgument("parquet file '{}': empty column name", path);
    if (!names.insert(field.name).second) {
      return core::InvalidArgument("parquet file '{}': duplicate column '{}'", path, field.name);
    }
    LAKEML_ASSIGN_OR_RETURN(SchemaElement element, SchemaElementForField(field));
    elements.push_back(std::move(element));
  }
  if (options.row_group_rows <= 0 || options.row_group_bytes <= 0 || options.page_size_bytes <= 0 ||
      options.dictionary_max_bytes < 0) {
    return core::InvalidArgument("parquet writer options must be positive");
  }
  // Page headers count values in int32 and lakeml columns address bytes with uint32 offsets.
  if (options.row_group_rows > INT32_MAX || options.row_group_bytes > (int64_t{1} << 31)) {
    return core::InvalidArgument("parquet row groups are limited to 2^31 rows and 2 GiB");
  }
  switch (options.codec) {
    case CompressionCodec::kUncompressed:
    case CompressionCodec::kSnappy:
    case CompressionCodec::kGzip:
    case CompressionCodec::kZstd:
      break;
    default:
      return core::InvalidArgument("parquet writer does not support codec {}",
                                   CompressionCodecName(options.codec));
  }
  std::string tmp_path = path + ".tmp-" + RandomSuffix();
  int fd = ::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return IoError("cannot create", tmp_path);
  std::unique_ptr<ParquetWriter> writer(
      new ParquetWriter(path, std::move(tmp_path), fd, schema, std::move(elements), options));
  LAKEML_RETURN_IF_ERROR(writer->WriteBytes(std::string(kMagic, 4)));
  return writer;
}

void ParquetWriter::ResetBuffer() {
  buffer_.clear();
  for (const Field& field : schema_.fields) buffer_.emplace_back(field.type);
  buffered_bytes_ = 0;
}

core::Status ParquetWriter::WriteBytes(const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      failed_ = true;
      return IoError("cannot write", tmp_path_);
    }
    done += static_cast<size_t>(n);
  }
  offset_ += static_cast<int64_t>(bytes.size());
  return core::Status::Ok();
}

core::Status ParquetWriter::Write(const ColumnBatch& batch) {
  if (closed_ || failed_) {
    return core::FailedPrecondition("parquet writer for '{}' is closed or failed", path_);
  }
  if (batch.columns.size() != schema_.fields.size()) {
    return core::InvalidArgument("batch has {} columns, parquet file '{}' has {}",
                                 batch.columns.size(), path_, schema_.fields.size());
  }
  const size_t rows = batch.num_rows();
  for (size_t i = 0; i < batch.columns.size(); ++i) {
    const Field& field = schema_.fields[i];
    const Column& column = batch.columns[i];
    if (column.type() != field.type) {
      return core::InvalidArgument("column '{}' holds {} values, the file expects {}", field.name,
                                   DataTypeName(column.type()), DataTypeName(field.type));
    }
    if (column.size() != rows) {
      return core::InvalidArgument("column '{}' has {} rows, expected {}", field.name,
                                   column.size(), rows);
    }
    if (!field.nullable && column.has_nulls()) {
      for (size_t row = 0; row < rows; ++row) {
        if (column.IsNull(row)) {
          return core::InvalidArgument("column '{}' is not nullable but row {} is NULL", field.name,
                                       row);
        }
      }
    }
    // Values that do not fit the physical type would be silently truncated on disk.
    int64_t low = INT64_MIN;
    int64_t high = INT64_MAX;
    if (field.type == DataType::kInt32 || field.type == DataType::kDate) {
      low = INT32_MIN;
      high = INT32_MAX;
    } else if (field.type == DataType::kDecimal) {
      high = Pow10(field.decimal_precision) - 1;
      low = -high;
    } else if (field.type == DataType::kBool) {
      low = 0;
      high = 1;
    }
    if (low != INT64_MIN || high != INT64_MAX) {
      for (size_t row = 0; row < rows; ++row) {
        if (column.IsNull(row)) continue;
        int64_t value = column.Int(row);
        if (value < low || value > high) {
          return core::InvalidArgument("column '{}' row {}: value {} does not fit {}", field.name,
                                       row, value, DataTypeName(field.type));
        }
      }
    }
  }
  size_t begin = 0;
  while (begin < rows) {
    auto room =
        static_cast<size_t>(options_.row_group_rows - static_cast<int64_t>(buffer_[0].size()));
    size_t end = std::min({rows, begin + room, begin + kAppendSliceRows});
    for (size_t i = 0; i < batch.columns.size(); ++i) {
      const Column& column = batch.columns[i];
      AppendRows(column, begin, end, &buffer_[i]);
      int64_t bytes = static_cast<int64_t>(end - begin) * 8;
      if (IsBytes(column.type())) {
        bytes += static_cast<int64_t>(column.offsets()[end] - column.offsets()[begin]);
      }
      buffered_bytes_ += bytes;
    }
    begin = end;
    if (static_cast<int64_t>(buffer_[0].size()) >= options_.row_group_rows ||
        buffered_bytes_ >= options_.row_group_bytes) {
      LAKEML_RETURN_IF_ERROR(FlushRowGroup());
    }
  }
  return core::Status::Ok();
}

core::Status ParquetWriter::FlushRowGroup() {
  const auto rows = static_cast<int64_t>(buffer_[0].size());
  if (rows == 0) return core::Status::Ok();
  RowGroup group;
  group.num_rows = rows;
  group.file_offset = offset_;
  group.ordinal = static_cast<int16_t>(metadata_.row_groups.size());
  int64_t compressed = 0;
  for (size_t i = 0; i < buffer_.size(); ++i) {
    ColumnChunk chunk;
    LAKEML_RETURN_IF_ERROR(WriteColumnChunk(i, &chunk));
    group.total_byte_size += chunk.meta_data->total_uncompressed_size;
    compressed += chunk.meta_data->total_compressed_size;
    group.columns.push_back(std::move(chunk));
  }
  group.total_compressed_size = compressed;
  metadata_.row_groups.push_back(std::move(group));
  metadata_.num_rows += rows;
  ResetBuffer();
  return core::Status::Ok();
}

core::Status ParquetWriter::WriteColumnChunk(size_t column_idx, ColumnChunk* chunk) {
  const Column& column = buffer_[column_idx];
  const Field& field = schema_.fields[column_idx];
  const SchemaElement& element = elements_[column_idx];
  const PhysicalType physical = *element.type;
  const size_t rows = column.size();

  PhysicalValues values(physical);
  int64_t null_count = 0;
  for (size_t row = 0; row < rows; ++row) {
    if (column.IsNull(row)) {
      ++null_count;
    } else if (IsBytes(field.type)) {
      values.AppendBytes(column.Bytes(row));
    } else if (field.type == DataType::kFloat) {
      values.doubles.push_back(static_cast<float>(column.Double(row)));
    } else if (field.type == DataType::kDouble) {
      values.doubles.push_back(column.Double(row));
    } else {
      values.ints.push_back(column.Int(row));
    }
  }
  ChunkStats stats = ComputeStats(physical, values, null_count);
  MergeStats(stats.typed, &file_stats_[column_idx]);

  // Dictionary: strings and binaries always try one; other types only when it is smaller.
  std::vector<uint32_t> indices;
  PhysicalValues dictionary(physical);
  bool use_dictionary =
      options_.enable_dictionary && physical != PhysicalType::kBoolean && values.size() > 0;
  if (use_dictionary) {
    int64_t dictionary_bytes = 0;
    indices.reserve(values.size());
    if (values.IsBytes()) {
      std::unordered_map<std::string_view, uint32_t> ids;
      for (size_t i = 0; i < values.size() && use_dictionary; ++i) {
        std::string_view value = values.Bytes(i);
        auto [it, inserted] = ids.emplace(value, static_cast<uint32_t>(ids.size()));
        if (inserted) {
          dictionary.AppendBytes(value);
          dictionary_bytes += 4 + static_cast<int64_t>(value.size());
          if (dictionary_bytes > options_.dictionary_max_bytes) use_dictionary = false;
        }
        indices.push_back(it->second);
      }
    } else {
      const bool floating = physical == PhysicalType::kFloat || physical == PhysicalType::kDouble;
      const int64_t width =
          (physical == PhysicalType::kInt32 || physical == PhysicalType::kFloat) ? 4 : 8;
      std::unordered_map<int64_t, uint32_t> ids;
      for (size_t i = 0; i < values.size() && use_dictionary; ++i) {
        int64_t key = 0;
        if (floating) {
          // Bit patterns keep -0.0/+0.0 and NaN payloads distinct, so decoding is exact.
          std::memcpy(&key, &values.doubles[i], sizeof(key));
        } else {
          key = values.ints[i];
        }
        auto [it, inserted] = ids.emplace(key, static_cast<uint32_t>(ids.size()));
        if (inserted) {
          if (floating) {
            dictionary.doubles.push_back(values.doubles[i]);
          } else {
            dictionary.ints.push_back(key);
          }
          dictionary_bytes += width;
          if (dictionary_bytes > options_.dictionary_max_bytes) use_dictionary = false;
        }
        indices.push_back(it->second);
      }
      if (use_dictionary) {
        int64_t index_bits = std::max(1, internal::BitWidth(dictionary.size() - 1));
        int64_t dictionary_size =
            dictionary_bytes + (static_cast<int64_t>(values.size()) * index_bits + 7) / 8;
        use_dictionary = dictionary_size * 5 < static_cast<int64_t>(values.size()) * width * 4;
      }
    }
  }
  const int index_bit_width =
      use_dictionary ? std::max(1, internal::BitWidth(dictionary.size() - 1)) : 0;

  ColumnMetaData meta;
  meta.type = physical;
  meta.path_in_schema = {field.name};
  meta.codec = options_.codec;
  meta.num_values = static_cast<int64_t>(rows);
  meta.statistics = stats.wire;
  meta.encodings = use_dictionary ? std::vector<Encoding>{Encoding::kPlain,
                                                          Encoding::kRleDictionary, Encoding::kRle}
                                  : std::vector<Encoding>{Encoding::kPlain, Encoding::kRle};

  std::string page_bytes;
  std::string header_bytes;
  auto write_page = [&](PageHeader header, const std::string& payload) -> core::Status {
    page_bytes.clear();
    LAKEML_RETURN_IF_ERROR(internal::Compress(options_.codec, options_.compression_level,
                                              reinterpret_cast<const uint8_t*>(payload.data()),
                                              payload.size(), &page_bytes));
    header.uncompressed_page_size = static_cast<int32_t>(payload.size());
    header.compressed_page_size = static_cast<int32_t>(page_bytes.size());
    header_bytes.clear();
    EncodePageHeader(header, &header_bytes);
    meta.total_uncompressed_size += static_cast<int64_t>(header_bytes.size() + payload.size());
    meta.total_compressed_size += static_cast<int64_t>(header_bytes.size() + page_bytes.size());
    LAKEML_RETURN_IF_ERROR(WriteBytes(header_bytes));
    return WriteBytes(page_bytes);
  };

  if (use_dictionary) {
    meta.dictionary_page_offset = offset_;
    std::string payload;
    internal::EncodePlain(dictionary, 0, &payload);
    PageHeader header;
    header.type = PageType::kDictionaryPage;
    header.dictionary_page_header = DictionaryPageHeader{static_cast<int32_t>(dictionary.size()),
                                                         Encoding::kPlain, std::nullopt};
    LAKEML_RETURN_IF_ERROR(write_page(header, payload));
  }
  meta.data_page_offset = offset_;

  // Split the rows into pages of about page_size_bytes of encoded values (estimated in bits).
  const int64_t fixed_value_bits =
      physical == PhysicalType::kBoolean                                       ? 1
      : (physical == PhysicalType::kInt32 || physical == PhysicalType::kFloat) ? 32
                                                                               : 64;
  size_t row = 0;
  size_t value_idx = 0;
  std::string payload;
  do {
    const size_t page_begin = row;
    const size_t value_begin = value_idx;
    int64_t estimate = 0;
    while (row < rows) {
      if (!column.IsNull(row)) {
        if (use_dictionary) {
          estimate += index_bit_width;
        } else if (values.IsBytes()) {
          estimate += 8 * (4 + static_cast<int64_t>(values.Bytes(value_idx).size()));
        } else {
          estimate += fixed_value_bits;
        }
        ++value_idx;
      }
      ++row;
      if (estimate / 8 >= options_.page_size_bytes) break;
    }
    payload.clear();
    if (field.nullable) {
      internal::RleBitPackedEncoder levels(1);
      for (size_t r = page_begin; r < row; ++r) levels.Put(column.IsNull(r) ? 0 : 1);
      std::string encoded;
      levels.Flush(&encoded);
      uint32_t length = static_cast<uint32_t>(encoded.size());
      payload.append(reinterpret_cast<const char*>(&length), 4);
      payload.append(encoded);
    }
    if (use_dictionary) {
      internal::EncodeDictionaryIndices(
          std::span<const uint32_t>(indices.data() + value_begin, value_idx - value_begin),
          index_bit_width, &payload);
    } else {
      internal::EncodePlain(Slice(values, value_begin, value_idx), 0, &payload);
    }
    PageHeader header;
    header.type = PageType::kDataPage;
    header.data_page_header =
        DataPageHeader{static_cast<int32_t>(row - page_begin),
                       use_dictionary ? Encoding::kRleDictionary : Encoding::kPlain, Encoding::kRle,
                       Encoding::kRle};
    LAKEML_RETURN_IF_ERROR(write_page(header, payload));
  } while (row < rows);

  chunk->file_offset = 0;
  chunk->meta_data = std::move(meta);
  return core::Status::Ok();
}

core::Result<ParquetFileStats> ParquetWriter::Close() {
  if (closed_ || failed_) {
    return core::FailedPrecondition("parquet writer for '{}' is closed or failed", path_);
  }
  LAKEML_RETURN_IF_ERROR(FlushRowGroup());
  metadata_.version = 1;
  SchemaElement root;
  root.name = "schema";
  root.repetition = Repetition::kRequired;
  root.num_children = static_cast<int32_t>(elements_.size());
  metadata_.schema.clear();
  metadata_.schema.push_back(root);
  metadata_.schema.insert(metadata_.schema.end(), elements_.begin(), elements_.end());
  metadata_.created_by = kCreatedBy;
  metadata_.column_orders.assign(elements_.size(), true);
  std::string footer = EncodeFileMetaData(metadata_);
  uint32_t footer_length = static_cast<uint32_t>(footer.size());
  footer.append(reinterpret_cast<const char*>(&footer_length), 4);
  footer.append(kMagic, 4);
  LAKEML_RETURN_IF_ERROR(WriteBytes(footer));
  if (::fsync(fd_) != 0) {
    failed_ = true;
    return IoError("cannot sync", tmp_path_);
  }
  if (::close(fd_) != 0) {
    fd_ = -1;
    failed_ = true;
    ::unlink(tmp_path_.c_str());
    return IoError("cannot close", tmp_path_);
  }
  fd_ = -1;
  if (::rename(tmp_path_.c_str(), path_.c_str()) != 0) {
    core::Status status = IoError("cannot publish", path_);
    ::unlink(tmp_path_.c_str());
    failed_ = true;
    return status;
  }
  closed_ = true;
  ParquetFileStats result;
  result.num_records = metadata_.num_rows;
  result.file_size_bytes = offset_;
  result.columns = file_stats_;
  return result;
}

core::Result<ParquetFileStats> WriteParquetFile(const std::string& path, const Schema& schema,
                                                std::span<const ColumnBatch> batches,
                                                const ParquetWriterOptions& options) {
  LAKEML_ASSIGN_OR_RETURN(std::unique_ptr<ParquetWriter> writer,
                          ParquetWriter::Open(path, schema, options));
  for (const ColumnBatch& batch : batches) LAKEML_RETURN_IF_ERROR(writer->Write(batch));
  return writer->Close();
}

}  // namespace lakeml::storage
