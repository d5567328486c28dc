// Tests for the Parquet writer and reader: round trips over every type, nullability, codec and
// encoding; statistics; crash-safe publishing; hand-built files with V2 pages, mixed dictionary
// and PLAIN pages, FIXED_LEN_BYTE_ARRAY decimals and INT96; hostile (truncated, bit-flipped) files.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "storage/internal/compression.h"
#include "storage/internal/encodings.h"
#include "storage/parquet_reader.h"
#include "storage/parquet_writer.h"
#include "storage/table_hash.h"

namespace lakeml::storage {
namespace {

namespace fs = std::filesystem;

class ParquetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "lakeml-parquet-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  fs::path dir_;
};

constexpr DataType kAllTypes[] = {DataType::kBool,   DataType::kInt32,  DataType::kInt64,
                                  DataType::kFloat,  DataType::kDouble, DataType::kString,
                                  DataType::kBinary, DataType::kDate,   DataType::kTimestamp,
                                  DataType::kDecimal};

Field MakeField(DataType type, bool nullable, int index) {
  Field field{std::string(DataTypeName(type)) + "_" + std::to_string(index), type, nullable};
  if (type == DataType::kDecimal) {
    field.decimal_precision = index % 2 == 0 ? 9 : 18;
    field.decimal_scale = 3;
  }
  return field;
}

// Random values of `field`'s type; `distinct` limits the value domain (to exercise dictionaries).
void FillColumn(const Field& field, size_t rows, uint64_t seed, int distinct, Column* column) {
  std::mt19937_64 rng(seed);
  auto pick = [&]() -> int64_t {
    return distinct > 0 ? static_cast<int64_t>(rng() % distinct) : static_cast<int64_t>(rng() >> 1);
  };
  for (size_t row = 0; row < rows; ++row) {
    if (field.nullable && rng() % 5 == 0) {
      column->AppendNull();
      continue;
    }
    int64_t r = pick();
    switch (field.type) {
      case DataType::kBool:
        column->AppendInt(r & 1);
        break;
      case DataType::kInt32:
        column->AppendInt(static_cast<int32_t>(static_cast<uint32_t>(r) * 2654435761u));
        break;
      case DataType::kInt64:
        column->AppendInt(static_cast<int64_t>(static_cast<uint64_t>(r) * 0x9E3779B97F4A7C15ULL));
        break;
      case DataType::kDate:
        column->AppendInt(static_cast<int32_t>(r % 100000) - 50000);
        break;
      case DataType::kTimestamp:
        column->AppendInt(r % 4'000'000'000'000'000LL);
        break;
      case DataType::kDecimal: {
        int64_t limit = field.decimal_precision == 9 ? 999'999'999 : 999'999'999'999'999'999LL;
        column->AppendInt(r % limit);
        break;
      }
      case DataType::kFloat:
        column->AppendDouble(static_cast<float>(r % 100000) / 8.0f);
        break;
      case DataType::kDouble:
        if (r % 97 == 0) {
          column->AppendDouble(std::numeric_limits<double>::quiet_NaN());
        } else {
          column->AppendDouble(static_cast<double>(r % 1000000) / 7.0);
        }
        break;
      case DataType::kString:
        column->AppendBytes("value-" + std::to_string(r % 100000) + std::string(r % 13, 'q'));
        break;
      case DataType::kBinary: {
        std::string bytes;
        for (int i = 0; i < r % 11; ++i) bytes.push_back(static_cast<char>((r >> (i * 3)) & 0xff));
        column->AppendBytes(bytes);
        break;
      }
    }
  }
}

ColumnBatch MakeBatch(const Schema& schema, size_t rows, uint64_t seed, int distinct = 0) {
  ColumnBatch batch;
  batch.schema = schema;
  for (size_t i = 0; i < schema.fields.size(); ++i) {
    batch.columns.emplace_back(schema.fields[i].type);
    FillColumn(schema.fields[i], rows, seed * 31 + i, distinct, &batch.columns.back());
  }
  return batch;
}

void ExpectColumnsEqual(const Column& expected, const Column& actual, const std::string& name) {
  ASSERT_EQ(expected.size(), actual.size()) << name;
  ASSERT_EQ(expected.type(), actual.type()) << name;
  for (size_t row = 0; row < expected.size(); ++row) {
    ASSERT_EQ(expected.IsNull(row), actual.IsNull(row)) << name << " row " << row;
    if (expected.IsNull(row)) continue;
    switch (expected.type()) {
      case DataType::kFloat:
      case DataType::kDouble: {
        double a = expected.Double(row);
        double b = actual.Double(row);
        if (std::isnan(a)) {
          ASSERT_TRUE(std::isnan(b)) << name << " row " << row;
        } else {
          ASSERT_EQ(a, b) << name << " row " << row;
        }
        break;
      }
      case DataType::kString:
      case DataType::kBinary:
        ASSERT_EQ(expected.Bytes(row), actual.Bytes(row)) << name << " row " << row;
        break;
      default:
        ASSERT_EQ(expected.Int(row), actual.Int(row)) << name << " row " << row;
    }
  }
}

// Reads every row group of `path` and concatenates them into one batch per column.
ColumnBatch ReadAll(const std::string& path) {
  auto reader = ParquetReader::Open(path);
  EXPECT_TRUE(reader.ok()) << reader.status().ToString();
  ColumnBatch all;
  all.schema = (*reader)->schema();
  for (const Field& field : all.schema.fields) all.columns.emplace_back(field.type);
  for (int g = 0; g < (*reader)->num_row_groups(); ++g) {
    auto batch = (*reader)->ReadRowGroup(g);
    EXPECT_TRUE(batch.ok()) << batch.status().ToString();
    if (!batch.ok()) break;
    for (size_t c = 0; c < batch->columns.size(); ++c) {
      const Column& part = batch->columns[c];
      for (size_t row = 0; row < part.size(); ++row) {
        Column& target = all.columns[c];
        if (part.IsNull(row)) {
          target.AppendNull();
        } else if (part.type() == DataType::kString || part.type() == DataType::kBinary) {
          target.AppendBytes(part.Bytes(row));
        } else if (part.type() == DataType::kFloat || part.type() == DataType::kDouble) {
          target.AppendDouble(part.Double(row));
        } else {
          target.AppendInt(part.Int(row));
        }
      }
    }
  }
  return all;
}

TEST_F(ParquetTest, RoundTripsEveryTypeNullabilityCodecAndEncoding) {
  for (CompressionCodec codec : {CompressionCodec::kUncompressed, CompressionCodec::kSnappy,
                                 CompressionCodec::kGzip, CompressionCodec::kZstd}) {
    for (int distinct : {0, 5}) {  // 5 distinct values: dictionary pages
      for (bool dictionary : {true, false}) {
        Schema schema;
        int index = 0;
        for (DataType type : kAllTypes) {
          for (bool nullable : {true, false})
            schema.fields.push_back(MakeField(type, nullable, index++));
        }
        ColumnBatch batch = MakeBatch(schema, 2500, 3, distinct);
        ParquetWriterOptions options;
        options.codec = codec;
        options.enable_dictionary = dictionary;
        options.row_group_rows = 1000;
        options.page_size_bytes = 2048;
        std::string path = Path("t.parquet");
        auto stats =
            WriteParquetFile(path, schema, std::span<const ColumnBatch>(&batch, 1), options);
        ASSERT_TRUE(stats.ok()) << stats.status().ToString();
        EXPECT_EQ(stats->num_records, 2500);
        ColumnBatch read = ReadAll(path);
        ASSERT_EQ(read.schema.fields.size(), schema.fields.size());
        for (size_t c = 0; c < schema.fields.size(); ++c) {
          const Field& field = read.schema.fields[c];
          EXPECT_EQ(field.name, schema.fields[c].name);
          EXPECT_EQ(field.type, schema.fields[c].type);
          EXPECT_EQ(field.nullable, schema.fields[c].nullable);
          EXPECT_EQ(field.decimal_precision, schema.fields[c].decimal_precision);
          EXPECT_EQ(field.decimal_scale, schema.fields[c].decimal_scale);
          ExpectColumnsEqual(batch.columns[c], read.columns[c],
                             field.name + " codec " + std::string(CompressionCodecName(codec)));
        }
        auto expected_hash = TableHash(std::span<const ColumnBatch>(&batch, 1));
        auto actual_hash = TableHash(std::span<const ColumnBatch>(&read, 1));
        EXPECT_EQ(*expected_hash, *actual_hash);
      }
    }
  }
}

TEST_F(ParquetTest, WritesDictionaryPagesForStringsAndFallsBackToPlain) {
  Schema schema{{Field{"few", DataType::kString, true}, Field{"many", DataType::kString, false}}};
  ColumnBatch batch;
  batch.schema = schema;
  batch.columns.emplace_back(DataType::kString);
  batch.columns.emplace_back(DataType::kString);
  for (int i = 0; i < 5000; ++i) {
    batch.columns[0].AppendBytes(i % 3 == 0 ? "x" : "yy");
    batch.columns[1].AppendBytes("unique-" + std::to_string(i) + std::string(40, 'p'));
  }
  ParquetWriterOptions options;
  options.dictionary_max_bytes = 4096;
  std::string path = Path("dict.parquet");
  ASSERT_TRUE(
      WriteParquetFile(path, schema, std::span<const ColumnBatch>(&batch, 1), options).ok());
  auto reader = ParquetReader::Open(path);
  ASSERT_TRUE(reader.ok());
  const auto& chunks = (*reader)->metadata().row_groups[0].columns;
  EXPECT_TRUE(chunks[0].meta_data->dictionary_page_offset.has_value());
  EXPECT_FALSE(chunks[1].meta_data->dictionary_page_offset.has_value());
  ColumnBatch read = ReadAll(path);
  ExpectColumnsEqual(batch.columns[0], read.columns[0], "few");
  ExpectColumnsEqual(batch.columns[1], read.columns[1], "many");
}

TEST_F(ParquetTest, ReportsStatisticsForDelta) {
  Schema schema{{Field{"i", DataType::kInt32, true}, Field{"d", DataType::kDouble, true},
                 Field{"s", DataType::kString, true}, Field{"t", DataType::kTimestamp, true},
                 Field{"long", DataType::kString, false}}};
  ColumnBatch batch;
  batch.schema = schema;
  for (const Field& field : schema.fields) batch.columns.emplace_back(field.type);
  const int64_t values[] = {5, -3, 17};
  for (int i = 0; i < 3; ++i) {
    batch.columns[0].AppendInt(values[i]);
    batch.columns[1].AppendDouble(i == 1 ? std::nan("") : values[i] * 1.5);
    batch.columns[2].AppendBytes(i == 0 ? "pear" : (i == 1 ? "apple" : "zebra"));
    batch.columns[3].AppendInt(values[i] * 1'000'000);
    batch.columns[4].AppendBytes(std::string(100, static_cast<char>('a' + i)));
  }
  for (int c = 0; c < 4; ++c) batch.columns[c].AppendNull();
  batch.columns[4].AppendBytes("b");
  ParquetWriterOptions options;
  options.row_group_rows = 2;  // two row groups: the file stats merge them
  std::string path = Path("stats.parquet");
  auto stats = WriteParquetFile(path, schema, std::span<const ColumnBatch>(&batch, 1), options);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->num_records, 4);
  EXPECT_EQ(stats->columns[0].null_count, 1);
  EXPECT_EQ(std::get<int64_t>(*stats->columns[0].min), -3);
  EXPECT_EQ(std::get<int64_t>(*stats->columns[0].max), 17);
  EXPECT_EQ(std::get<double>(*stats->columns[1].min), 7.5);  // NaN ignored
  EXPECT_EQ(std::get<double>(*stats->columns[1].max), 25.5);
  EXPECT_EQ(std::get<std::string>(*stats->columns[2].min), "apple");
  EXPECT_EQ(std::get<std::string>(*stats->columns[2].max), "zebra");
  EXPECT_EQ(std::get<int64_t>(*stats->columns[3].max), 17'000'000);
  // Long strings: truncated bounds that still bound the data.
  EXPECT_EQ(std::get<std::string>(*stats->columns[4].min).size(), 64u);
  EXPECT_FALSE(stats->columns[4].min_exact);
  EXPECT_GT(std::get<std::string>(*stats->columns[4].max), std::string(100, 'c'));
  EXPECT_FALSE(stats->columns[4].max_exact);

  auto reader = ParquetReader::Open(path);
  ASSERT_TRUE(reader.ok());
  ASSERT_EQ((*reader)->num_row_groups(), 2);
  auto chunk = (*reader)->ColumnStats(1, 0);
  ASSERT_TRUE(chunk.ok());
  EXPECT_EQ(chunk->null_count, 1);
  EXPECT_EQ(std::get<int64_t>(*chunk->min), 17);
  auto strings = (*reader)->ColumnStats(0, 2);
  EXPECT_EQ(std::get<std::string>(*strings->min), "apple");
  EXPECT_EQ(std::get<std::string>(*strings->max), "pear");
  EXPECT_EQ((*reader)->ColumnStats(2, 0).status().code(), core::StatusCode::kInvalidArgument);
}

TEST_F(ParquetTest, ReadsAColumnSubset) {
  Schema schema{{Field{"a", DataType::kInt64, false}, Field{"b", DataType::kString, true},
                 Field{"c", DataType::kDouble, true}}};
  ColumnBatch batch = MakeBatch(schema, 100, 9);
  std::string path = Path("subset.parquet");
  ASSERT_TRUE(WriteParquetFile(path, schema, std::span<const ColumnBatch>(&batch, 1)).ok());
  auto reader = ParquetReader::Open(path);
  ASSERT_TRUE(reader.ok());
  auto read = (*reader)->ReadRowGroup(0, std::vector<size_t>{2, 0});
  ASSERT_TRUE(read.ok());
  ASSERT_EQ(read->schema.fields.size(), 2u);
  EXPECT_EQ(read->schema.fields[0].name, "c");
  ExpectColumnsEqual(batch.columns[2], read->columns[0], "c");
  ExpectColumnsEqual(batch.columns[0], read->columns[1], "a");
  EXPECT_EQ((*reader)->ReadRowGroup(0, std::vector<size_t>{3}).status().code(),
            core::StatusCode::kInvalidArgument);
  EXPECT_EQ((*reader)->ReadRowGroup(1).status().code(), core::StatusCode::kInvalidArgument);
}

TEST_F(ParquetTest, WriterRejectsBadInput) {
  Schema schema{{Field{"a", DataType::kInt32, false}}};
  auto writer = ParquetWriter::Open(Path("bad.parquet"), schema);
  ASSERT_TRUE(writer.ok());
  ColumnBatch batch;
  batch.schema = schema;
  batch.columns.emplace_back(DataType::kInt32);
  batch.columns[0].AppendNull();
  EXPECT_EQ((*writer)->Write(batch).code(), core::StatusCode::kInvalidArgument);
  ColumnBatch wide;
  wide.schema = schema;
  wide.columns.emplace_back(DataType::kInt32);
  wide.columns[0].AppendInt(int64_t{1} << 40);
  EXPECT_EQ((*writer)->Write(wide).code(), core::StatusCode::kInvalidArgument);
  ColumnBatch wrong_type;
  wrong_type.columns.emplace_back(DataType::kString);
  EXPECT_EQ((*writer)->Write(wrong_type).code(), core::StatusCode::kInvalidArgument);

  Schema duplicate{{Field{"a", DataType::kInt32, true}, Field{"a", DataType::kInt64, true}}};
  EXPECT_EQ(ParquetWriter::Open(Path("dup.parquet"), duplicate).status().code(),
            core::StatusCode::kInvalidArgument);
  Schema wide_decimal{{Field{"d", DataType::kDecimal, true, 30, 2}}};
  EXPECT_EQ(ParquetWriter::Open(Path("dec.parquet"), wide_decimal).status().code(),
            core::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParquetWriter::Open(Path("missing/dir/x.parquet"), schema).status().code(),
            core::StatusCode::kNotFound);
}

TEST_F(ParquetTest, PublishesOnlyOnCloseAndCleansUpAbandonedFiles) {
  Schema schema{{Field{"a", DataType::kInt64, true}}};
  ColumnBatch batch = MakeBatch(schema, 10, 1);
  std::string path = Path("atomic.parquet");
  {
    auto writer = ParquetWriter::Open(path, schema);
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Write(batch).ok());
    EXPECT_FALSE(fs::exists(path));
  }
  // Abandoned writer: no target, no temporary left behind.
  EXPECT_FALSE(fs::exists(path));
  EXPECT_TRUE(fs::is_empty(dir_));
  auto writer = ParquetWriter::Open(path, schema);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Write(batch).ok());
  ASSERT_TRUE((*writer)->Close().ok());
  EXPECT_TRUE(fs::exists(path));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator{}), 1);
  EXPECT_EQ((*writer)->Write(batch).code(), core::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*writer)->Close().status().code(), core::StatusCode::kFailedPrecondition);
}

TEST_F(ParquetTest, WritesAndReadsAnEmptyFile) {
  Schema schema{{Field{"a", DataType::kString, true}}};
  std::string path = Path("empty.parquet");
  auto stats = WriteParquetFile(path, schema, {});
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->num_records, 0);
  auto reader = ParquetReader::Open(path);
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->num_rows(), 0);
  EXPECT_EQ((*reader)->num_row_groups(), 0);
}

TEST_F(ParquetTest, OpenRejectsNonParquet) {
  EXPECT_EQ(ParquetReader::Open(Path("nope.parquet")).status().code(), core::StatusCode::kNotFound);
  std::ofstream(Path("text.parquet")) << "this is not a parquet file at all";
  EXPECT_EQ(ParquetReader::Open(Path("text.parquet")).status().code(), core::StatusCode::kDataLoss);
  std::ofstream(Path("tiny.parquet")) << "PAR1";
  EXPECT_EQ(ParquetReader::Open(Path("tiny.parquet")).status().code(), core::StatusCode::kDataLoss);
}

// ---- hand-built files: what other writers produce ----

// Assembles a one-column, one-row-group file from raw pages (header + payload each).
std::string BuildFile(const SchemaElement& leaf, const std::vector<std::string>& pages,
                      int64_t rows, CompressionCodec codec) {
  std::string file = "PAR1";
  ColumnMetaData meta;
  meta.type = *leaf.type;
  meta.path_in_schema = {leaf.name};
  meta.codec = codec;
  meta.num_values = rows;
  meta.encodings = {Encoding::kPlain};
  // Like some writers, point data_page_offset at the dictionary page and leave
  // dictionary_page_offset unset: the reader must look at the page type.
  meta.data_page_offset = 4;
  for (const std::string& page : pages) file += page;
  meta.total_compressed_size = static_cast<int64_t>(file.size()) - 4;
  meta.total_uncompressed_size = meta.total_compressed_size;
  FileMetaData metadata;
  SchemaElement root;
  root.name = "schema";
  root.num_children = 1;
  metadata.schema = {root, leaf};
  metadata.num_rows = rows;
  RowGroup group;
  group.num_rows = rows;
  ColumnChunk chunk;
  chunk.meta_data = meta;
  group.columns = {chunk};
  metadata.row_groups = {group};
  std::string footer = EncodeFileMetaData(metadata);
  uint32_t length = static_cast<uint32_t>(footer.size());
  file += footer;
  file.append(reinterpret_cast<const char*>(&length), 4);
  file += "PAR1";
  return file;
}

std::string Page(PageHeader header, const std::string& payload, CompressionCodec codec,
                 size_t uncompressed_levels = 0) {
  std::string compressed = payload.substr(0, uncompressed_levels);
  std::string body = payload.substr(uncompressed_levels);
  bool compress = !(header.data_page_header_v2 && !header.data_page_header_v2->is_compressed);
  if (compress) {
    EXPECT_TRUE(internal::Compress(codec, 1, reinterpret_cast<const uint8_t*>(body.data()),
                                   body.size(), &compressed)
                    .ok());
  } else {
    compressed += body;
  }
  header.uncompressed_page_size = static_cast<int32_t>(payload.size());
  header.compressed_page_size = static_cast<int32_t>(compressed.size());
  std::string bytes;
  EncodePageHeader(header, &bytes);
  return bytes + compressed;
}

std::string Levels(const std::vector<uint32_t>& levels) {
  internal::RleBitPackedEncoder encoder(1);
  for (uint32_t level : levels) encoder.Put(level);
  std::string encoded;
  encoder.Flush(&encoded);
  return encoded;
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

TEST_F(ParquetTest, ReadsV2PagesMixedDictionaryAndPlainPages) {
  const CompressionCodec codec = CompressionCodec::kZstd;
  SchemaElement leaf;
  leaf.name = "s";
  leaf.type = PhysicalType::kByteArray;
  leaf.repetition = Repetition::kOptional;
  leaf.converted_type = ConvertedType::kUtf8;
  // Dictionary {"a", "bb"}.
  internal::PhysicalValues dictionary(PhysicalType::kByteArray);
  dictionary.AppendBytes("a");
  dictionary.AppendBytes("bb");
  std::string dictionary_payload;
  internal::EncodePlain(dictionary, 0, &dictionary_payload);
  PageHeader dictionary_header;
  dictionary_header.type = PageType::kDictionaryPage;
  dictionary_header.dictionary_page_header =
      DictionaryPageHeader{2, Encoding::kPlainDictionary, {}};
  // V2 page 1: rows [a, NULL, bb, a] dictionary-encoded, compressed.
  std::string levels1 = Levels({1, 0, 1, 1});
  std::string values1;
  std::vector<uint32_t> indices = {0, 1, 0};
  internal::EncodeDictionaryIndices(indices, 1, &values1);
  PageHeader v2;
  v2.type = PageType::kDataPageV2;
  v2.data_page_header_v2 = DataPageHeaderV2{
      4, 1, 4, Encoding::kRleDictionary, static_cast<int32_t>(levels1.size()), 0, true};
  // V2 page 2: rows [NULL, "plain"] PLAIN, with is_compressed = false.
  std::string levels2 = Levels({0, 1});
  internal::PhysicalValues plain(PhysicalType::kByteArray);
  plain.AppendBytes("plain");
  std::string values2;
  internal::EncodePlain(plain, 0, &values2);
  PageHeader v2_plain;
  v2_plain.type = PageType::kDataPageV2;
  v2_plain.data_page_header_v2 =
      DataPageHeaderV2{2, 1, 2, Encoding::kPlain, static_cast<int32_t>(levels2.size()), 0, false};
  // V1 page 3: one row "bb" via DELTA_BYTE_ARRAY.
  std::string levels3 = Levels({1});
  internal::PhysicalValues delta(PhysicalType::kByteArray);
  delta.AppendBytes("bb");
  std::string payload3(4, '\0');
  uint32_t length3 = static_cast<uint32_t>(levels3.size());
  std::memcpy(payload3.data(), &length3, 4);
  payload3 += levels3;
  internal::EncodeDeltaByteArray(delta, &payload3);
  PageHeader v1;
  v1.type = PageType::kDataPage;
  v1.data_page_header =
      DataPageHeader{1, Encoding::kDeltaByteArray, Encoding::kRle, Encoding::kRle};

  std::string file = BuildFile(
      leaf,
      {Page(dictionary_header, dictionary_payload, codec),
       Page(v2, levels1 + values1, codec, levels1.size()),
       Page(v2_plain, levels2 + values2, codec, levels2.size()), Page(v1, payload3, codec)},
      7, codec);
  std::string path = Path("v2.parquet");
  WriteFile(path, file);
  auto reader = ParquetReader::Open(path);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  auto batch = (*reader)->ReadRowGroup(0);
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  const Column& column = batch->columns[0];
  ASSERT_EQ(column.size(), 7u);
  std::vector<std::string> expected = {"a", "", "bb", "a", "", "plain", "bb"};
  std::vector<bool> nulls = {false, true, false, false, true, false, false};
  for (size_t i = 0; i < 7; ++i) {
    EXPECT_EQ(column.IsNull(i), nulls[i]) << i;
    if (!nulls[i]) {
      EXPECT_EQ(column.Bytes(i), expected[i]) << i;
    }
  }
}

TEST_F(ParquetTest, ReadsFixedLenDecimalsInt96AndMillisTimestamps) {
  const CompressionCodec codec = CompressionCodec::kSnappy;
  // FIXED_LEN_BYTE_ARRAY(9) decimal(18, 2): 12345 and -2.
  SchemaElement decimal;
  decimal.name = "d";
  decimal.type = PhysicalType::kFixedLenByteArray;
  decimal.type_length = 9;
  decimal.repetition = Repetition::kRequired;
  decimal.logical_type = LogicalType{LogicalType::Kind::kDecimal, 2, 18};
  std::string values;
  values += std::string("\x00\x00\x00\x00\x00\x00\x00\x30\x39", 9);
  values += std::string(9, '\xff').substr(0, 8) + "\xfe";
  PageHeader header;
  header.type = PageType::kDataPage;
  header.data_page_header = DataPageHeader{2, Encoding::kPlain, Encoding::kRle, Encoding::kRle};
  std::string path = Path("flba.parquet");
  WriteFile(path, BuildFile(decimal, {Page(header, values, codec)}, 2, codec));
  auto reader = ParquetReader::Open(path);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ((*reader)->schema().fields[0].type, DataType::kDecimal);
  auto batch = (*reader)->ReadRowGroup(0);
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  EXPECT_EQ(batch->columns[0].Int(0), 12345);
  EXPECT_EQ(batch->columns[0].Int(1), -2);

  // INT96: 1970-01-02 00:00:00.000001500 → 86400000001 µs.
  SchemaElement int96;
  int96.name = "t";
  int96.type = PhysicalType::kInt96;
  int96.repetition = Repetition::kRequired;
  internal::PhysicalValues nanos(PhysicalType::kInt96);
  nanos.ints = {86'400'000'001'500LL, -1'000LL};
  std::string plain;
  internal::EncodePlain(nanos, 0, &plain);
  path = Path("int96.parquet");
  WriteFile(path, BuildFile(int96, {Page(header, plain, codec)}, 2, codec));
  reader = ParquetReader::Open(path);
  ASSERT_TRUE(reader.ok());
  batch = (*reader)->ReadRowGroup(0);
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  EXPECT_EQ(batch->columns[0].Int(0), 86'400'000'001LL);
  EXPECT_EQ(batch->columns[0].Int(1), -1);  // floor division before the epoch

  // INT64 TIMESTAMP(MILLIS) → µs.
  SchemaElement millis;
  millis.name = "m";
  millis.type = PhysicalType::kInt64;
  millis.repetition = Repetition::kRequired;
  millis.converted_type = ConvertedType::kTimestampMillis;
  internal::PhysicalValues ms(PhysicalType::kInt64);
  ms.ints = {1500, -3};
  plain.clear();
  internal::EncodePlain(ms, 0, &plain);
  path = Path("millis.parquet");
  WriteFile(path, BuildFile(millis, {Page(header, plain, codec)}, 2, codec));
  reader = ParquetReader::Open(path);
  ASSERT_TRUE(reader.ok());
  batch = (*reader)->ReadRowGroup(0);
  ASSERT_TRUE(batch.ok());
  EXPECT_EQ(batch->columns[0].Int(0), 1'500'000);
  EXPECT_EQ(batch->columns[0].Int(1), -3'000);
}

TEST_F(ParquetTest, RejectsBadDictionaryIndicesAndLyingPageSizes) {
  const CompressionCodec codec = CompressionCodec::kUncompressed;
  SchemaElement leaf;
  leaf.name = "i";
  leaf.type = PhysicalType::kInt32;
  leaf.repetition = Repetition::kRequired;
  internal::PhysicalValues dictionary(PhysicalType::kInt32);
  dictionary.ints = {10, 20};
  std::string dictionary_payload;
  internal::EncodePlain(dictionary, 0, &dictionary_payload);
  PageHeader dictionary_header;
  dictionary_header.type = PageType::kDictionaryPage;
  dictionary_header.dictionary_page_header = DictionaryPageHeader{2, Encoding::kPlain, {}};
  std::string indices;
  std::vector<uint32_t> bad = {0, 3};
  internal::EncodeDictionaryIndices(bad, 2, &indices);
  PageHeader data;
  data.type = PageType::kDataPage;
  data.data_page_header =
      DataPageHeader{2, Encoding::kRleDictionary, Encoding::kRle, Encoding::kRle};
  std::string path = Path("badindex.parquet");
  WriteFile(path, BuildFile(leaf,
                            {Page(dictionary_header, dictionary_payload, codec),
                             Page(data, indices, codec)},
                            2, codec));
  auto reader = ParquetReader::Open(path);
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->ReadRowGroup(0).status().code(), core::StatusCode::kDataLoss);

  // A page that claims more values than the row group has.
  data.data_page_header->num_values = 1000;
  path = Path("toomany.parquet");
  WriteFile(path, BuildFile(leaf, {Page(data, std::string(8, '\0'), codec)}, 2, codec));
  reader = ParquetReader::Open(path);
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->ReadRowGroup(0).status().code(), core::StatusCode::kDataLoss);

  // Negative counts.
  data.data_page_header->num_values = -1;
  path = Path("negative.parquet");
  WriteFile(path, BuildFile(leaf, {Page(data, std::string(8, '\0'), codec)}, 2, codec));
  reader = ParquetReader::Open(path);
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->ReadRowGroup(0).status().code(), core::StatusCode::kDataLoss);
}

// ---- hostile files ----

std::string ReadFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Opens and fully reads `path`; any Status is fine, a crash (or sanitizer report) is not.
void ReadEverything(const std::string& path) {
  auto reader = ParquetReader::Open(path);
  if (!reader.ok()) return;
  for (int g = 0; g < (*reader)->num_row_groups(); ++g) {
    (*reader)->ReadRowGroup(g).status().IgnoreError();
    for (size_t c = 0; c < (*reader)->schema().fields.size(); ++c) {
      (*reader)->ColumnStats(g, c).status().IgnoreError();
    }
  }
}

std::string WriteSampleFile(const std::string& path, CompressionCodec codec) {
  Schema schema;
  int index = 0;
  for (DataType type : kAllTypes) {
    schema.fields.push_back(MakeField(type, index % 2 == 0, index));
    ++index;
  }
  ColumnBatch batch = MakeBatch(schema, 300, 5, 20);
  ParquetWriterOptions options;
  options.codec = codec;
  options.row_group_rows = 128;
  options.page_size_bytes = 256;
  EXPECT_TRUE(
      WriteParquetFile(path, schema, std::span<const ColumnBatch>(&batch, 1), options).ok());
  return ReadFileBytes(path);
}

TEST_F(ParquetTest, SurvivesTruncationAtEvery64th) {
  for (CompressionCodec codec : {CompressionCodec::kUncompressed, CompressionCodec::kZstd}) {
    std::string bytes = WriteSampleFile(Path("sample.parquet"), codec);
    for (int i = 0; i < 64; ++i) {
      std::string path = Path("cut.parquet");
      WriteFile(path, bytes.substr(0, bytes.size() * i / 64));
      auto reader = ParquetReader::Open(path);
      EXPECT_FALSE(reader.ok()) << "cut at " << i << "/64";
      // Also keep the footer but drop data in the middle: the footer then lies about offsets.
      std::string holed =
          bytes.substr(0, bytes.size() * i / 64) + bytes.substr(bytes.size() * (i + 1) / 64);
      WriteFile(path, holed);
      ReadEverything(path);
    }
  }
}

TEST_F(ParquetTest, SurvivesRandomByteFlips) {
  std::mt19937 rng(20240521);
  for (CompressionCodec codec :
       {CompressionCodec::kUncompressed, CompressionCodec::kSnappy, CompressionCodec::kZstd}) {
    std::string bytes = WriteSampleFile(Path("sample.parquet"), codec);
    for (int trial = 0; trial < 150; ++trial) {
      std::string mutated = bytes;
      int flips = 1 + static_cast<int>(rng() % 8);
      for (int f = 0; f < flips; ++f) {
        // Bias half the flips toward the footer, where lengths and offsets live.
        size_t at = rng() % 2 == 0
                        ? rng() % mutated.size()
                        : mutated.size() - 1 - rng() % std::min<size_t>(mutated.size(), 600);
        mutated[at] = static_cast<char>(mutated[at] ^ (1 << (rng() % 8)));
      }
      std::string path = Path("flipped.parquet");
      WriteFile(path, mutated);
      ReadEverything(path);
    }
  }
}

TEST(TableHash, MatchesReferenceRules) {
  // One int64 column with [NULL, 1]: h = mix(mix(mix(mix(offset, 0), 1), 1), 0).
  auto mix = [](uint32_t h, uint32_t w) { return (h ^ w) * 0x01000193u; };
  ColumnBatch batch;
  batch.schema.fields.push_back(Field{"a", DataType::kInt64, true});
  batch.columns.emplace_back(DataType::kInt64);
  batch.columns[0].AppendNull();
  batch.columns[0].AppendInt(1);
  uint32_t column = mix(mix(mix(mix(0x811C9DC5u, 0), 1), 1), 0);
  auto hash = TableHash(std::span<const ColumnBatch>(&batch, 1));
  ASSERT_TRUE(hash.ok());
  EXPECT_EQ(*hash, mix(0x811C9DC5u, column));
  // Splitting into two batches does not change the hash.
  ColumnBatch first;
  first.columns.emplace_back(DataType::kInt64);
  first.columns[0].AppendNull();
  ColumnBatch second;
  second.columns.emplace_back(DataType::kInt64);
  second.columns[0].AppendInt(1);
  std::vector<ColumnBatch> parts;
  parts.push_back(std::move(first));
  parts.push_back(std::move(second));
  EXPECT_EQ(*TableHash(parts), *hash);
}

}  // namespace
}  // namespace lakeml::storage
