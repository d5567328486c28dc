#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/status.h"
#include "storage/column_batch.h"

namespace lakeml::storage {

// Parquet metadata as it is on the wire (apache/parquet-format parquet.thrift), restricted to what
// a flat-schema reader and writer need. Unknown thrift fields are skipped when decoding. Enum
// values are kept as their wire integers (enum class over int32_t), so values added by newer
// writers survive a decode and are rejected only where they matter.

enum class PhysicalType : int32_t {
  kBoolean = 0,
  kInt32 = 1,
  kInt64 = 2,
  kInt96 = 3,
  kFloat = 4,
  kDouble = 5,
  kByteArray = 6,
  kFixedLenByteArray = 7,
};

enum class ConvertedType : int32_t {
  kUtf8 = 0,
  kMap = 1,
  kMapKeyValue = 2,
  kList = 3,
  kEnum = 4,
  kDecimal = 5,
  kDate = 6,
  kTimeMillis = 7,
  kTimeMicros = 8,
  kTimestampMillis = 9,
  kTimestampMicros = 10,
  kUint8 = 11,
  kUint16 = 12,
  kUint32 = 13,
  kUint64 = 14,
  kInt8 = 15,
  kInt16 = 16,
  kInt32 = 17,
  kInt64 = 18,
  kJson = 19,
  kBson = 20,
  kInterval = 21,
};

enum class Repetition : int32_t { kRequired = 0, kOptional = 1, kRepeated = 2 };

enum class Encoding : int32_t {
  kPlain = 0,
  kPlainDictionary = 2,
  kRle = 3,
  kBitPacked = 4,
  kDeltaBinaryPacked = 5,
  kDeltaLengthByteArray = 6,
  kDeltaByteArray = 7,
  kRleDictionary = 8,
  kByteStreamSplit = 9,
};

enum class CompressionCodec : int32_t {
  kUncompressed = 0,
  kSnappy = 1,
  kGzip = 2,
  kLzo = 3,
  kBrotli = 4,
  kLz4 = 5,
  kZstd = 6,
  kLz4Raw = 7,
};

std::string_view CompressionCodecName(CompressionCodec codec);  // "zstd", "snappy", ...

enum class PageType : int32_t {
  kDataPage = 0,
  kIndexPage = 1,
  kDictionaryPage = 2,
  kDataPageV2 = 3,
};

enum class TimeUnit : int32_t { kMillis = 1, kMicros = 2, kNanos = 3 };

// The LogicalType union; `kind` is the union's field id (0 = absent).
struct LogicalType {
  enum class Kind : int32_t {
    kNone = 0,
    kString = 1,
    kMap = 2,
    kList = 3,
    kEnum = 4,
    kDecimal = 5,
    kDate = 6,
    kTime = 7,
    kTimestamp = 8,
    kInteger = 10,
    kUnknown = 11,
    kJson = 12,
    kBson = 13,
    kUuid = 14,
    kFloat16 = 15,
  };
  Kind kind = Kind::kNone;  // other union members decode with their field id as the kind
  int32_t decimal_scale = 0;
  int32_t decimal_precision = 0;
  bool is_adjusted_to_utc = false;  // kTime, kTimestamp
  TimeUnit unit = TimeUnit::kMicros;
  int8_t bit_width = 0;  // kInteger
  bool is_signed = true;
};

struct SchemaElement {
  std::optional<PhysicalType> type;
  std::optional<int32_t> type_length;
  std::optional<Repetition> repetition;
  std::string name;
  std::optional<int32_t> num_children;
  std::optional<ConvertedType> converted_type;
  std::optional<int32_t> scale;
  std::optional<int32_t> precision;
  std::optional<int32_t> field_id;
  std::optional<LogicalType> logical_type;
};

struct Statistics {
  std::optional<std::string> max;  // deprecated signed-order fields
  std::optional<std::string> min;
  std::optional<int64_t> null_count;
  std::optional<int64_t> distinct_count;
  std::optional<std::string> max_value;
  std::optional<std::string> min_value;
  std::optional<bool> is_max_value_exact;
  std::optional<bool> is_min_value_exact;
};

struct KeyValue {
  std::string key;
  std::optional<std::string> value;
};

struct ColumnMetaData {
  PhysicalType type = PhysicalType::kInt32;
  std::vector<Encoding> encodings;
  std::vector<std::string> path_in_schema;
  CompressionCodec codec = CompressionCodec::kUncompressed;
  int64_t num_values = 0;
  int64_t total_uncompressed_size = 0;
  int64_t total_compressed_size = 0;
  int64_t data_page_offset = 0;
  std::optional<int64_t> index_page_offset;
  std::optional<int64_t> dictionary_page_offset;
  std::optional<Statistics> statistics;
};

struct ColumnChunk {
  std::optional<std::string> file_path;
  int64_t file_offset = 0;
  std::optional<ColumnMetaData> meta_data;
};

struct RowGroup {
  std::vector<ColumnChunk> columns;
  int64_t total_byte_size = 0;
  int64_t num_rows = 0;
  std::optional<int64_t> file_offset;
  std::optional<int64_t> total_compressed_size;
  std::optional<int16_t> ordinal;
};

struct FileMetaData {
  int32_t version = 1;
  std::vector<SchemaElement> schema;
  int64_t num_rows = 0;
  std::vector<RowGroup> row_groups;
  std::vector<KeyValue> key_value_metadata;
  std::optional<std::string> created_by;
  // One entry per leaf when present: true = TYPE_ORDER, false = an order we do not know.
  std::vector<bool> column_orders;
};

struct DataPageHeader {
  int32_t num_values = 0;
  Encoding encoding = Encoding::kPlain;
  Encoding definition_level_encoding = Encoding::kRle;
  Encoding repetition_level_encoding = Encoding::kRle;
};

struct DictionaryPageHeader {
  int32_t num_values = 0;
  Encoding encoding = Encoding::kPlain;
  std::optional<bool> is_sorted;
};

struct DataPageHeaderV2 {
  int32_t num_values = 0;
  int32_t num_nulls = 0;
  int32_t num_rows = 0;
  Encoding encoding = Encoding::kPlain;
  int32_t definition_levels_byte_length = 0;
  int32_t repetition_levels_byte_length = 0;
  bool is_compressed = true;
};

struct PageHeader {
  PageType type = PageType::kDataPage;
  int32_t uncompressed_page_size = 0;
  int32_t compressed_page_size = 0;
  std::optional<int32_t> crc;
  std::optional<DataPageHeader> data_page_header;
  std::optional<DictionaryPageHeader> dictionary_page_header;
  std::optional<DataPageHeaderV2> data_page_header_v2;
};

// Decodes a FileMetaData from `size` bytes of thrift compact protocol. Required fields must be
// present. Errors: kDataLoss for malformed or truncated input.
core::Result<FileMetaData> DecodeFileMetaData(const uint8_t* data, size_t size);
// Encodes `metadata` with the thrift compact protocol.
std::string EncodeFileMetaData(const FileMetaData& metadata);

// Decodes one PageHeader from the front of `data`; sets `*header_size` to the bytes it used.
// Errors: kDataLoss.
core::Result<PageHeader> DecodePageHeader(const uint8_t* data, size_t size, size_t* header_size);
// Appends the thrift encoding of `header` to `out`.
void EncodePageHeader(const PageHeader& header, std::string* out);

// A typed statistics value: int64 for bool/integers/dates/timestamps (µs)/decimals (unscaled),
// double for float/double, bytes for string/binary.
using StatValue = std::variant<int64_t, double, std::string>;

// Chunk or file statistics in lakeml types. `min`/`max` are absent when unknown (no non-null,
// non-NaN value, or statistics the reader cannot trust); a truncated bound has `*_exact` false.
struct ColumnStatistics {
  std::optional<int64_t> null_count;
  std::optional<StatValue> min;
  std::optional<StatValue> max;
  bool min_exact = true;
  bool max_exact = true;
};

// Maps a leaf SchemaElement to a lakeml Field (see the reader's header for the table).
// Errors: kUnimplemented for types lakeml cannot hold (decimals wider than 18 digits, nested or
// repeated fields), kDataLoss for inconsistent annotations.
core::Result<Field> FieldFromSchemaElement(const SchemaElement& element);
// The SchemaElement our writer uses for `field` (Delta-compatible physical + logical types).
// Errors: kInvalidArgument for a decimal precision outside 1..18 or a scale outside 0..precision.
core::Result<SchemaElement> SchemaElementForField(const Field& field);

}  // namespace lakeml::storage
