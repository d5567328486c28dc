// Unit tests for the thrift compact codec, compression wrappers and value encodings, against
// hand-built byte vectors from the Parquet spec (Encodings.md) and randomised round trips.
#include "storage/internal/encodings.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "storage/internal/compression.h"
#include "storage/internal/thrift_compact.h"
#include "storage/parquet_metadata.h"

namespace lakeml::storage::internal {
namespace {

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
std::span<const uint8_t> Bytes(const std::vector<uint8_t>& v) { return {v.data(), v.size()}; }

// ---- thrift compact ----

TEST(ThriftCompact, RoundTripsFieldsOfEveryKind) {
  ThriftWriter writer;
  writer.BeginStruct();
  writer.FieldI32(1, -5);
  writer.FieldBool(2, true);
  writer.FieldBool(3, false);
  writer.FieldI64(20, std::numeric_limits<int64_t>::min());  // long-form field id
  writer.FieldBinary(21, std::string("hello\0world", 11));
  writer.FieldListBegin(22, ThriftType::kI32, 40);  // size beyond the 4-bit nibble
  for (int i = 0; i < 40; ++i) writer.ElementI32(i * 1000 - 7);
  writer.FieldStructBegin(23);
  writer.FieldI8(1, -3);
  writer.EndStruct();
  writer.FieldI64(24, 1234567890123LL);
  writer.EndStruct();
  std::string bytes = writer.Release();

  ThriftReader reader(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  ASSERT_TRUE(reader.BeginStruct().ok());
  int16_t id = 0;
  ThriftType type;
  ASSERT_TRUE(reader.ReadFieldHeader(&id, &type).ok());
  EXPECT_EQ(id, 1);
  int32_t i32 = 0;
  ASSERT_TRUE(reader.ReadI32(&i32).ok());
  EXPECT_EQ(i32, -5);
  ASSERT_TRUE(reader.ReadFieldHeader(&id, &type).ok());
  EXPECT_EQ(id, 2);
  EXPECT_TRUE(ThriftReader::BoolFromFieldType(type));
  ASSERT_TRUE(reader.ReadFieldHeader(&id, &type).ok());
  EXPECT_EQ(id, 3);
  EXPECT_FALSE(ThriftReader::BoolFromFieldType(type));
  ASSERT_TRUE(reader.ReadFieldHeader(&id, &type).ok());
  EXPECT_EQ(id, 20);
  int64_t i64 = 0;
  ASSERT_TRUE(reader.ReadI64(&i64).ok());
  EXPECT_EQ(i64, std::numeric_limits<int64_t>::min());
  ASSERT_TRUE(reader.ReadFieldHeader(&id, &type).ok());
  EXPECT_EQ(id, 21);
  std::string text;
  ASSERT_TRUE(reader.ReadBinary(&text).ok());
  EXPECT_EQ(text, std::string("hello\0world", 11));
  ASSERT_TRUE(reader.ReadFieldHeader(&id, &type).ok());
  EXPECT_EQ(id, 22);
  ThriftType element;
  uint32_t size = 0;
  ASSERT_TRUE(reader.ReadListHeader(&element, &size).ok());
  ASSERT_EQ(size, 40u);
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(reader.ReadI32(&i32).ok());
    EXPECT_EQ(i32, i * 1000 - 7);
  }
  // Skip the nested struct as an unknown field would be skipped.
  ASSERT_TRUE(reader.ReadFieldHeader(&id, &type).ok());
  EXPECT_EQ(id, 23);
  ASSERT_TRUE(reader.Skip(type).ok());
  ASSERT_TRUE(reader.ReadFieldHeader(&id, &type).ok());
  EXPECT_EQ(id, 24);
  ASSERT_TRUE(reader.ReadI64(&i64).ok());
  EXPECT_EQ(i64, 1234567890123LL);
  ASSERT_TRUE(reader.ReadFieldHeader(&id, &type).ok());
  EXPECT_EQ(type, ThriftType::kStop);
  reader.EndStruct();
  EXPECT_EQ(reader.remaining(), 0u);
}

TEST(ThriftCompact, RefusesListsLargerThanTheBuffer) {
  // List header: size follows as varint (0xF5 = size 15+, i32 elements), size = 1,000,000.
  std::vector<uint8_t> bytes = {0xF5, 0xC0, 0x84, 0x3D, 0x02};
  ThriftReader reader(bytes.data(), bytes.size());
  ThriftType element;
  uint32_t size = 0;
  EXPECT_EQ(reader.ReadListHeader(&element, &size).code(), core::StatusCode::kDataLoss);
}

TEST(ThriftCompact, RefusesBinaryLongerThanTheBuffer) {
  std::vector<uint8_t> bytes = {0x90, 0x4E, 'a', 'b'};  // length 10000
  ThriftReader reader(bytes.data(), bytes.size());
  std::string value;
  EXPECT_EQ(reader.ReadBinary(&value).code(), core::StatusCode::kDataLoss);
}

TEST(ThriftCompact, RefusesDeepNesting) {
  // Field 1 of type struct, nested 100 times.
  std::vector<uint8_t> bytes(100, 0x1C);
  bytes.insert(bytes.end(), 101, 0x00);
  ThriftReader reader(bytes.data(), bytes.size());
  EXPECT_EQ(reader.Skip(ThriftType::kStruct).code(), core::StatusCode::kDataLoss);
}

TEST(ThriftCompact, RefusesOverlongVarint) {
  std::vector<uint8_t> bytes(12, 0xFF);
  ThriftReader reader(bytes.data(), bytes.size());
  int64_t value = 0;
  EXPECT_EQ(reader.ReadI64(&value).code(), core::StatusCode::kDataLoss);
}

TEST(ParquetMetadata, FileMetaDataRoundTrips) {
  FileMetaData meta;
  meta.version = 1;
  SchemaElement root;
  root.name = "schema";
  root.num_children = 2;
  SchemaElement a;
  a.name = "a";
  a.type = PhysicalType::kInt64;
  a.repetition = Repetition::kOptional;
  a.logical_type = LogicalType{LogicalType::Kind::kTimestamp};
  a.logical_type->is_adjusted_to_utc = true;
  a.logical_type->unit = TimeUnit::kNanos;
  SchemaElement b;
  b.name = "b";
  b.type = PhysicalType::kFixedLenByteArray;
  b.type_length = 16;
  b.repetition = Repetition::kRequired;
  b.converted_type = ConvertedType::kDecimal;
  b.precision = 38;
  b.scale = 10;
  b.logical_type = LogicalType{LogicalType::Kind::kDecimal, 10, 38};
  meta.schema = {root, a, b};
  meta.num_rows = 42;
  RowGroup group;
  group.num_rows = 42;
  group.total_byte_size = 1000;
  group.ordinal = 0;
  ColumnChunk chunk;
  chunk.meta_data.emplace();
  chunk.meta_data->type = PhysicalType::kInt64;
  chunk.meta_data->encodings = {Encoding::kPlain, Encoding::kRle};
  chunk.meta_data->path_in_schema = {"a"};
  chunk.meta_data->codec = CompressionCodec::kZstd;
  chunk.meta_data->num_values = 42;
  chunk.meta_data->data_page_offset = 4;
  chunk.meta_data->total_compressed_size = 500;
  chunk.meta_data->statistics = Statistics{};
  chunk.meta_data->statistics->min_value = std::string(8, '\x01');
  chunk.meta_data->statistics->null_count = 3;
  group.columns = {chunk, chunk};
  meta.row_groups = {group};
  meta.created_by = "lakeml version 0.1.0";
  meta.column_orders = {true, true};
  meta.key_value_metadata = {KeyValue{"k", "v"}};
  std::string bytes = EncodeFileMetaData(meta);
  auto decoded = DecodeFileMetaData(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->num_rows, 42);
  ASSERT_EQ(decoded->schema.size(), 3u);
  EXPECT_EQ(decoded->schema[1].logical_type->kind, LogicalType::Kind::kTimestamp);
  EXPECT_EQ(decoded->schema[1].logical_type->unit, TimeUnit::kNanos);
  EXPECT_TRUE(decoded->schema[1].logical_type->is_adjusted_to_utc);
  EXPECT_EQ(decoded->schema[2].logical_type->decimal_precision, 38);
  EXPECT_EQ(decoded->schema[2].type_length, 16);
  ASSERT_EQ(decoded->row_groups.size(), 1u);
  EXPECT_EQ(decoded->row_groups[0].columns[1].meta_data->statistics->null_count, 3);
  EXPECT_EQ(decoded->row_groups[0].columns[1].meta_data->codec, CompressionCodec::kZstd);
  EXPECT_EQ(decoded->created_by, "lakeml version 0.1.0");
  EXPECT_EQ(decoded->column_orders, (std::vector<bool>{true, true}));
  EXPECT_EQ(decoded->key_value_metadata[0].value, "v");
  EXPECT_EQ(EncodeFileMetaData(*decoded), bytes);

  // Every truncation is an error, never a crash.
  for (size_t length = 0; length < bytes.size(); ++length) {
    EXPECT_FALSE(DecodeFileMetaData(reinterpret_cast<const uint8_t*>(bytes.data()), length).ok());
  }
}

TEST(ParquetMetadata, PageHeaderRoundTrips) {
  PageHeader header;
  header.type = PageType::kDataPageV2;
  header.uncompressed_page_size = 100;
  header.compressed_page_size = 60;
  header.data_page_header_v2 =
      DataPageHeaderV2{10, 2, 10, Encoding::kDeltaBinaryPacked, 3, 0, false};
  std::string bytes;
  EncodePageHeader(header, &bytes);
  bytes += "payload";
  size_t used = 0;
  auto decoded =
      DecodePageHeader(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), &used);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(used, bytes.size() - 7);
  EXPECT_EQ(decoded->data_page_header_v2->num_nulls, 2);
  EXPECT_FALSE(decoded->data_page_header_v2->is_compressed);
  EXPECT_EQ(decoded->data_page_header_v2->encoding, Encoding::kDeltaBinaryPacked);
}

TEST(ParquetMetadata, MapsTypes) {
  SchemaElement element;
  element.name = "x";
  element.type = PhysicalType::kFixedLenByteArray;
  element.type_length = 16;
  element.converted_type = ConvertedType::kDecimal;
  element.precision = 38;
  element.scale = 2;
  EXPECT_EQ(FieldFromSchemaElement(element).status().code(), core::StatusCode::kUnimplemented);
  element.precision = 18;
  auto field = FieldFromSchemaElement(element);
  ASSERT_TRUE(field.ok());
  EXPECT_EQ(field->type, DataType::kDecimal);
  element = SchemaElement{};
  element.name = "uuid";
  element.type = PhysicalType::kFixedLenByteArray;
  element.type_length = 16;
  element.logical_type = LogicalType{LogicalType::Kind::kUuid};
  EXPECT_EQ(FieldFromSchemaElement(element)->type, DataType::kBinary);
  element = SchemaElement{};
  element.name = "j";
  element.type = PhysicalType::kByteArray;
  element.converted_type = ConvertedType::kJson;
  EXPECT_EQ(FieldFromSchemaElement(element)->type, DataType::kString);
  element.converted_type.reset();
  EXPECT_EQ(FieldFromSchemaElement(element)->type, DataType::kBinary);
  element = SchemaElement{};
  element.name = "t";
  element.type = PhysicalType::kInt96;
  EXPECT_EQ(FieldFromSchemaElement(element)->type, DataType::kTimestamp);
  element.repetition = Repetition::kRepeated;
  EXPECT_EQ(FieldFromSchemaElement(element).status().code(), core::StatusCode::kUnimplemented);
}

// ---- compression ----

TEST(Compression, RoundTripsEveryCodec) {
  std::string input;
  for (int i = 0; i < 100000; ++i) input += static_cast<char>('a' + (i * 7 % 13));
  for (CompressionCodec codec : {CompressionCodec::kUncompressed, CompressionCodec::kSnappy,
                                 CompressionCodec::kGzip, CompressionCodec::kZstd}) {
    std::string compressed;
    ASSERT_TRUE(Compress(codec, 3, reinterpret_cast<const uint8_t*>(input.data()), input.size(),
                         &compressed)
                    .ok());
    std::string output;
    auto* data = reinterpret_cast<const uint8_t*>(compressed.data());
    ASSERT_TRUE(Decompress(codec, data, compressed.size(), input.size(), &output).ok())
        << CompressionCodecName(codec);
    EXPECT_EQ(output, input);
    // A lying size, a size over the cap and a truncated stream are all refused.
    EXPECT_EQ(Decompress(codec, data, compressed.size(), input.size() + 1, &output).code(),
              core::StatusCode::kDataLoss)
        << CompressionCodecName(codec);
    EXPECT_EQ(Decompress(codec, data, compressed.size(), kMaxDecompressedBytes + 1, &output).code(),
              core::StatusCode::kDataLoss);
    EXPECT_FALSE(Decompress(codec, data, compressed.size() / 2, input.size(), &output).ok());
  }
  std::string output;
  EXPECT_EQ(Decompress(CompressionCodec::kBrotli, nullptr, 0, 1, &output).code(),
            core::StatusCode::kUnimplemented);
}

// ---- RLE / bit-packed hybrid ----

TEST(RleBitPacked, DecodesSpecBitPackingExample) {
  // Encodings.md: values 0..7 with bit width 3 bit-pack to 10001000 11000110 11111010;
  // the hybrid header for one group of 8 is (1 << 1) | 1.
  std::vector<uint8_t> bytes = {0x03, 0x88, 0xC6, 0xFA};
  RleBitPackedDecoder decoder(Bytes(bytes), 3);
  std::vector<uint32_t> values;
  ASSERT_TRUE(decoder.Get(8, &values).ok());
  EXPECT_EQ(values, (std::vector<uint32_t>{0, 1, 2, 3, 4, 5, 6, 7}));
}

TEST(RleBitPacked, DecodesRleRuns) {
  // 100 x 5 (header 200 = 0xC8 0x01), then 3 x 300; width 9 takes two value bytes.
  std::vector<uint8_t> bytes = {0xC8, 0x01, 0x05, 0x00, 0x06, 0x2C, 0x01};
  RleBitPackedDecoder decoder(Bytes(bytes), 9);
  std::vector<uint32_t> values;
  ASSERT_TRUE(decoder.Get(103, &values).ok());
  EXPECT_EQ(std::count(values.begin(), values.begin() + 100, 5u), 100);
  EXPECT_EQ(values[100], 300u);
  EXPECT_EQ(values[102], 300u);
  std::vector<uint32_t> more;
  EXPECT_EQ(decoder.Get(1, &more).code(), core::StatusCode::kDataLoss);
}

TEST(RleBitPacked, RoundTripsRandomRuns) {
  std::mt19937 rng(7);
  for (int bit_width : {0, 1, 2, 3, 7, 8, 13, 16, 24, 31, 32}) {
    std::vector<uint32_t> input;
    uint64_t limit = bit_width == 32 ? 0xffffffffu : (uint64_t{1} << bit_width) - 1;
    while (input.size() < 5000) {
      uint32_t value = static_cast<uint32_t>(rng() & limit);
      size_t run = rng() % 3 == 0 ? rng() % 50 + 1 : 1;
      input.insert(input.end(), run, value);
    }
    RleBitPackedEncoder encoder(bit_width);
    for (uint32_t v : input) encoder.Put(v);
    std::string encoded;
    encoder.Flush(&encoded);
    RleBitPackedDecoder decoder(Bytes(encoded), bit_width);
    std::vector<uint32_t> output;
    ASSERT_TRUE(decoder.Get(input.size(), &output).ok()) << bit_width;
    EXPECT_EQ(output, input) << bit_width;
    // Truncations fail cleanly or decode a prefix; never crash.
    for (size_t cut = 0; cut < encoded.size(); cut += 1 + encoded.size() / 64) {
      RleBitPackedDecoder truncated(Bytes(encoded).subspan(0, cut), bit_width);
      std::vector<uint32_t> partial;
      truncated.Get(input.size(), &partial).IgnoreError();
    }
  }
}

// ---- DELTA_BINARY_PACKED ----

TEST(DeltaBinaryPacked, DecodesSpecExample1) {
  // Encodings.md example 1: 1, 2, 3, 4, 5 → deltas all 1, min delta 1, widths 0.
  std::vector<uint8_t> bytes = {0x80, 0x01, 0x04, 0x05, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00};
  std::vector<int64_t> values;
  size_t consumed = 0;
  ASSERT_TRUE(DecodeDeltaBinaryPacked(Bytes(bytes), 5, false, &values, &consumed).ok());
  EXPECT_EQ(values, (std::vector<int64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(consumed, bytes.size());
}

TEST(DeltaBinaryPacked, DecodesSpecExample2) {
  // Encodings.md example 2: 7, 5, 3, 1, 2, 3, 4, 5 → min delta -2, relative deltas
  // 0 0 0 3 3 3 3 in a 2-bit miniblock of 32 values (8 bytes).
  std::vector<uint8_t> bytes = {0x80, 0x01, 0x04, 0x08, 0x0E, 0x03, 0x02, 0x00, 0x00,
                                0x00, 0xC0, 0xFF, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  std::vector<int64_t> values;
  size_t consumed = 0;
  ASSERT_TRUE(DecodeDeltaBinaryPacked(Bytes(bytes), 8, true, &values, &consumed).ok());
  EXPECT_EQ(values, (std::vector<int64_t>{7, 5, 3, 1, 2, 3, 4, 5}));
  EXPECT_EQ(consumed, bytes.size());
  EXPECT_EQ(DecodeDeltaBinaryPacked(Bytes(bytes), 9, true, &values).code(),
            core::StatusCode::kDataLoss);
}

TEST(DeltaBinaryPacked, RoundTripsExtremes) {
  std::mt19937_64 rng(11);
  for (bool is_int32 : {true, false}) {
    std::vector<int64_t> input = {0, 1, -1};
    for (int i = 0; i < 1000; ++i) {
      int64_t v = static_cast<int64_t>(rng());
      if (is_int32) v = static_cast<int32_t>(v);
      input.push_back(v);
    }
    if (is_int32) {
      input.insert(input.end(), {INT32_MIN, INT32_MAX, INT32_MIN});
    } else {
      input.insert(input.end(), {INT64_MIN, INT64_MAX, INT64_MIN});
    }
    for (size_t n : {size_t{0}, size_t{1}, size_t{2}, size_t{129}, input.size()}) {
      std::span<const int64_t> slice(input.data(), n);
      std::string encoded;
      EncodeDeltaBinaryPacked(slice, is_int32, &encoded);
      std::vector<int64_t> output;
      size_t consumed = 0;
      ASSERT_TRUE(DecodeDeltaBinaryPacked(Bytes(encoded), n, is_int32, &output, &consumed).ok());
      EXPECT_EQ(output, std::vector<int64_t>(slice.begin(), slice.end()));
      EXPECT_EQ(consumed, encoded.size());
      for (size_t cut = 0; cut < encoded.size(); cut += 1 + encoded.size() / 64) {
        // Cutting only the last miniblock's padding still decodes; anything else must fail.
        std::vector<int64_t> partial;
        if (DecodeDeltaBinaryPacked(Bytes(encoded).subspan(0, cut), n, is_int32, &partial).ok()) {
          EXPECT_EQ(partial, std::vector<int64_t>(slice.begin(), slice.end()));
        }
      }
    }
  }
}

TEST(DeltaBinaryPacked, RefusesBadHeaders) {
  std::vector<int64_t> values;
  std::vector<uint8_t> zero_block = {0x00, 0x04, 0x01, 0x00};
  EXPECT_EQ(DecodeDeltaBinaryPacked(Bytes(zero_block), 1, false, &values).code(),
            core::StatusCode::kDataLoss);
  // Miniblock width 65 for int64.
  std::vector<uint8_t> wide = {0x80, 0x01, 0x04, 0x03, 0x00, 0x00, 65, 0, 0, 0};
  EXPECT_EQ(DecodeDeltaBinaryPacked(Bytes(wide), 3, false, &values).code(),
            core::StatusCode::kDataLoss);
}

// ---- byte arrays, BYTE_STREAM_SPLIT, PLAIN ----

PhysicalValues SampleStrings() {
  PhysicalValues values(PhysicalType::kByteArray);
  for (const char* s : {"", "apple", "applesauce", "apply", "banana", "", "band", "bandana"}) {
    values.AppendBytes(s);
  }
  for (int i = 0; i < 300; ++i) values.AppendBytes("key-" + std::to_string(i / 3));
  return values;
}

TEST(ByteArrayEncodings, DeltaLengthAndDeltaByteArrayRoundTrip) {
  PhysicalValues input = SampleStrings();
  for (bool prefix : {false, true}) {
    std::string encoded;
    if (prefix) {
      EncodeDeltaByteArray(input, &encoded);
    } else {
      EncodeDeltaLengthByteArray(input, &encoded);
    }
    PhysicalValues output(PhysicalType::kByteArray);
    Encoding encoding = prefix ? Encoding::kDeltaByteArray : Encoding::kDeltaLengthByteArray;
    ASSERT_TRUE(DecodeValues(encoding, Bytes(encoded), input.size(), 0, &output).ok());
    EXPECT_EQ(output.offsets, input.offsets);
    EXPECT_EQ(output.bytes, input.bytes);
    for (size_t cut = 0; cut < encoded.size(); cut += 1 + encoded.size() / 64) {
      PhysicalValues partial(PhysicalType::kByteArray);
      EXPECT_FALSE(
          DecodeValues(encoding, Bytes(encoded).subspan(0, cut), input.size(), 0, &partial).ok());
    }
  }
}

TEST(ByteStreamSplit, DecodesHandBuiltFloats) {
  // 1.0f = 00 00 80 3F, -2.0f = 00 00 00 C0: streams of byte 0, 1, 2, 3.
  std::vector<uint8_t> bytes = {0x00, 0x00, 0x00, 0x00, 0x80, 0x00, 0x3F, 0xC0};
  PhysicalValues output(PhysicalType::kFloat);
  ASSERT_TRUE(DecodeValues(Encoding::kByteStreamSplit, Bytes(bytes), 2, 0, &output).ok());
  EXPECT_EQ(output.doubles, (std::vector<double>{1.0, -2.0}));
}

TEST(ByteStreamSplit, RoundTripsEveryWidth) {
  for (PhysicalType type : {PhysicalType::kFloat, PhysicalType::kDouble, PhysicalType::kInt32,
                            PhysicalType::kInt64, PhysicalType::kFixedLenByteArray}) {
    PhysicalValues input(type);
    for (int i = 0; i < 100; ++i) {
      if (type == PhysicalType::kFloat || type == PhysicalType::kDouble) {
        input.doubles.push_back(i * 0.5 - 20);
      } else if (type == PhysicalType::kFixedLenByteArray) {
        input.AppendBytes(std::string(3, static_cast<char>('a' + i % 26)));
      } else {
        input.ints.push_back(i * 1000003 - 5000);
      }
    }
    std::string encoded;
    EncodeByteStreamSplit(input, 3, &encoded);
    PhysicalValues output(type);
    ASSERT_TRUE(DecodeValues(Encoding::kByteStreamSplit, Bytes(encoded), 100, 3, &output).ok());
    EXPECT_EQ(output.ints, input.ints);
    EXPECT_EQ(output.doubles, input.doubles);
    EXPECT_EQ(output.bytes, input.bytes);
  }
}

TEST(Plain, RoundTripsEveryPhysicalType) {
  for (PhysicalType type : {PhysicalType::kBoolean, PhysicalType::kInt32, PhysicalType::kInt64,
                            PhysicalType::kInt96, PhysicalType::kFloat, PhysicalType::kDouble,
                            PhysicalType::kByteArray, PhysicalType::kFixedLenByteArray}) {
    PhysicalValues input(type);
    for (int i = 0; i < 77; ++i) {
      switch (type) {
        case PhysicalType::kBoolean:
          input.ints.push_back(i % 3 == 0);
          break;
        case PhysicalType::kInt32:
          input.ints.push_back(i * -91 + 7);
          break;
        case PhysicalType::kInt96:
          // Nanoseconds since the epoch, before and after 1970.
          input.ints.push_back((i - 40) * 86'400'000'000'123LL);
          break;
        case PhysicalType::kInt64:
          input.ints.push_back(static_cast<int64_t>(i) << 40);
          break;
        case PhysicalType::kFloat:
          input.doubles.push_back(i * 0.25f);
          break;
        case PhysicalType::kDouble:
          input.doubles.push_back(i / 3.0);
          break;
        case PhysicalType::kByteArray:
          input.AppendBytes(std::string(i % 5, 'z'));
          break;
        case PhysicalType::kFixedLenByteArray:
          input.AppendBytes(std::string(4, 'a' + i % 3));
          break;
      }
    }
    std::string encoded;
    EncodePlain(input, 4, &encoded);
    PhysicalValues output(type);
    size_t consumed = 0;
    ASSERT_TRUE(DecodePlain(Bytes(encoded), input.size(), 4, &output, &consumed).ok());
    EXPECT_EQ(consumed, encoded.size());
    EXPECT_EQ(output.ints, input.ints);
    EXPECT_EQ(output.doubles, input.doubles);
    EXPECT_EQ(output.bytes, input.bytes);
    PhysicalValues partial(type);
    EXPECT_EQ(DecodePlain(Bytes(encoded).subspan(0, encoded.size() - 1), input.size(), 4, &partial)
                  .code(),
              core::StatusCode::kDataLoss);
  }
}

TEST(Dictionary, IndicesRoundTripAndRefuseWideBitWidths) {
  std::vector<uint32_t> indices;
  for (uint32_t i = 0; i < 1000; ++i) indices.push_back(i % 37);
  std::string encoded;
  EncodeDictionaryIndices(indices, BitWidth(36), &encoded);
  std::vector<uint32_t> output;
  ASSERT_TRUE(DecodeDictionaryIndices(Bytes(encoded), indices.size(), &output).ok());
  EXPECT_EQ(output, indices);
  encoded[0] = 40;
  output.clear();
  EXPECT_EQ(DecodeDictionaryIndices(Bytes(encoded), indices.size(), &output).code(),
            core::StatusCode::kDataLoss);
}

TEST(RleBooleans, DecodeWithLengthPrefix) {
  RleBitPackedEncoder encoder(1);
  std::vector<int64_t> input;
  for (int i = 0; i < 100; ++i) {
    input.push_back(i % 3 == 0 || i > 80);
    encoder.Put(static_cast<uint32_t>(input.back()));
  }
  std::string runs;
  encoder.Flush(&runs);
  std::string encoded(4, '\0');
  uint32_t length = static_cast<uint32_t>(runs.size());
  std::memcpy(encoded.data(), &length, 4);
  encoded += runs;
  PhysicalValues output(PhysicalType::kBoolean);
  ASSERT_TRUE(DecodeValues(Encoding::kRle, Bytes(encoded), 100, 0, &output).ok());
  EXPECT_EQ(output.ints, input);
}

}  // namespace
}  // namespace lakeml::storage::internal
