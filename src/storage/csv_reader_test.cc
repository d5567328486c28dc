#include "storage/csv_reader.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace lakeml::storage {
namespace {

#ifndef LAKEML_SOURCE_DIR
#error "LAKEML_SOURCE_DIR must name the source tree (see src/storage/CMakeLists.txt)"
#endif

std::string WinePath(const std::string& color) {
  return std::string(LAKEML_SOURCE_DIR) + "/tests/data/wine-quality/winequality-" + color + ".csv";
}

ColumnBatch Read(std::string_view text, const CsvOptions& options = {}) {
  core::Result<ColumnBatch> batch = ReadCsvString(text, options);
  EXPECT_TRUE(batch.ok()) << batch.status().ToString();
  if (!batch.ok()) return ColumnBatch();
  EXPECT_TRUE(batch->Validate().ok());
  return std::move(batch).value();
}

std::vector<DataType> Types(const Schema& schema) {
  std::vector<DataType> types;
  for (const Field& field : schema.fields) types.push_back(field.type);
  return types;
}

std::vector<std::string> Names(const Schema& schema) {
  std::vector<std::string> names;
  for (const Field& field : schema.fields) names.push_back(field.name);
  return names;
}

// Every batch of a reader, checked for consistency.
std::vector<ColumnBatch> ReadAll(CsvReader& reader) {
  std::vector<ColumnBatch> batches;
  for (;;) {
    core::Result<std::optional<ColumnBatch>> batch = reader.Next();
    EXPECT_TRUE(batch.ok()) << batch.status().ToString();
    if (!batch.ok() || !batch->has_value()) break;
    EXPECT_TRUE((*batch)->Validate().ok());
    batches.push_back(std::move(**batch));
  }
  return batches;
}

// A canonical text rendering of a batch, for comparing two reads.
std::string Render(const ColumnBatch& batch) {
  std::string out;
  for (const Field& field : batch.schema.fields) {
    out += field.name + ":" + std::string(DataTypeName(field.type)) + "|";
  }
  out += "\n";
  for (size_t row = 0; row < batch.num_rows(); ++row) {
    for (const Column& column : batch.columns) {
      if (column.IsNull(row)) {
        out += "<null>";
      } else if (column.type() == DataType::kString) {
        out += "'" + std::string(column.Bytes(row)) + "'";
      } else if (column.type() == DataType::kDouble) {
        out += fmt::format("{}", column.Double(row));
      } else {
        out += std::to_string(column.Int(row));
      }
      out += "|";
    }
    out += "\n";
  }
  return out;
}

std::string RenderAll(const std::vector<ColumnBatch>& batches) {
  std::string out;
  for (const ColumnBatch& batch : batches) out += Render(batch);
  return out;
}

// ---------------------------------------------------------------------------------------------
// The real wine files.

TEST(CsvReaderTest, ReadsRedWine) {
  auto reader = CsvReader::Open(WinePath("red"), {});
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ((*reader)->sep(), ';');
  EXPECT_TRUE((*reader)->has_header());
  const Schema& schema = (*reader)->schema();
  ASSERT_EQ(schema.fields.size(), 12u);
  EXPECT_EQ(schema.fields[0].name, "fixed acidity");
  EXPECT_EQ(schema.fields[5].name, "free sulfur dioxide");
  EXPECT_EQ(schema.fields[8].name, "pH");
  EXPECT_EQ(schema.fields[11].name, "quality");
  for (size_t c = 0; c < 11; ++c) EXPECT_EQ(schema.fields[c].type, DataType::kDouble) << c;
  EXPECT_EQ(schema.fields[11].type, DataType::kInt64);

  std::vector<ColumnBatch> batches = ReadAll(**reader);
  ASSERT_EQ(batches.size(), 1u);
  const ColumnBatch& batch = batches[0];
  ASSERT_EQ(batch.num_rows(), 1599u);
  // First row: 7.4;0.7;0;1.9;0.076;11;34;0.9978;3.51;0.56;9.4;5
  EXPECT_DOUBLE_EQ(batch.columns[0].Double(0), 7.4);
  EXPECT_DOUBLE_EQ(batch.columns[2].Double(0), 0.0);
  EXPECT_DOUBLE_EQ(batch.columns[7].Double(0), 0.9978);
  EXPECT_EQ(batch.columns[11].Int(0), 5);
  // Last row: 6;0.31;0.47;3.6;0.067;18;42;0.99549;3.39;0.66;11;6
  EXPECT_DOUBLE_EQ(batch.columns[0].Double(1598), 6.0);
  EXPECT_DOUBLE_EQ(batch.columns[7].Double(1598), 0.99549);
  EXPECT_EQ(batch.columns[11].Int(1598), 6);
  for (const Column& column : batch.columns) EXPECT_FALSE(column.has_nulls());
  EXPECT_EQ((*reader)->malformed_rows().count, 0u);
}

TEST(CsvReaderTest, ReadsWhiteWine) {
  auto reader = CsvReader::Open(WinePath("white"), {});
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  std::vector<ColumnBatch> batches = ReadAll(**reader);
  ASSERT_EQ(batches.size(), 1u);
  ASSERT_EQ(batches[0].num_rows(), 4898u);
  EXPECT_DOUBLE_EQ(batches[0].columns[3].Double(0), 20.7);
  EXPECT_DOUBLE_EQ(batches[0].columns[7].Double(0), 1.001);
  EXPECT_EQ(batches[0].columns[11].Int(4897), 6);
  int64_t quality_sum = 0;
  for (size_t row = 0; row < batches[0].num_rows(); ++row) {
    quality_sum += batches[0].columns[11].Int(row);
  }
  EXPECT_EQ(quality_sum, 28790);  // mean quality 5.878 (awk over the file)
}

TEST(CsvReaderTest, WineWithTinySampleWidensAndMatchesFullRead) {
  // Columns such as "free sulfur dioxide" are integral in the first rows; a 5-row sample infers
  // long and later rows must widen them to double without failing.
  CsvOptions small;
  small.infer_rows = 5;
  small.batch_rows = 100000;
  auto reader = CsvReader::Open(WinePath("red"), small);
  ASSERT_TRUE(reader.ok());
  std::vector<ColumnBatch> batches = ReadAll(**reader);
  ASSERT_EQ(batches.size(), 1u);

  auto full = CsvReader::Open(WinePath("red"), {});
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(Render(batches[0]), RenderAll(ReadAll(**full)));
}

TEST(CsvReaderTest, WineInSmallBatchesAndBlocksMatchesOneRead) {
  CsvOptions options;
  options.batch_rows = 100;
  options.block_bytes = 1000;
  auto reader = CsvReader::Open(WinePath("white"), options);
  ASSERT_TRUE(reader.ok());
  std::vector<ColumnBatch> batches = ReadAll(**reader);
  ASSERT_EQ(batches.size(), 49u);
  size_t rows = 0;
  for (const ColumnBatch& batch : batches) {
    EXPECT_LE(batch.num_rows(), 100u);
    rows += batch.num_rows();
  }
  EXPECT_EQ(rows, 4898u);

  auto full = CsvReader::Open(WinePath("white"), {});
  ASSERT_TRUE(full.ok());
  std::string joined;
  for (size_t i = 0; i < batches.size(); ++i) {
    std::string text = Render(batches[i]);
    if (i > 0) text = text.substr(text.find('\n') + 1);  // drop the repeated schema line
    joined += text;
  }
  EXPECT_EQ(joined, RenderAll(ReadAll(**full)));
}

// ---------------------------------------------------------------------------------------------
// Format.

TEST(CsvReaderTest, DetectsEachSeparator) {
  for (const char sep : {',', ';', '\t', '|'}) {
    std::string text = "a,b,c\n1,2.5,x\n3,4,y\n";
    for (char& c : text) {
      if (c == ',') c = sep;
    }
    auto reader = CsvReader::OpenString(text, {});
    ASSERT_TRUE(reader.ok());
    EXPECT_EQ((*reader)->sep(), sep);
    EXPECT_EQ(Names((*reader)->schema()), (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_EQ(Types((*reader)->schema()),
              (std::vector<DataType>{DataType::kInt64, DataType::kDouble, DataType::kString}));
  }
}

TEST(CsvReaderTest, SeparatorDetectionIgnoresQuotedText) {
  // Commas inside quotes would suggest ',' if quotes were not honoured.
  const std::string text = "\"a,1\";\"b,2,3\"\n\"x,y,z\";1\n\"p,q\";2\n";
  auto reader = CsvReader::OpenString(text, {});
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->sep(), ';');
  EXPECT_EQ(Names((*reader)->schema()), (std::vector<std::string>{"a,1", "b,2,3"}));
}

TEST(CsvReaderTest, SeparatorDetectionPrefersConsistentCounts) {
  // ';' appears in every line but in varying numbers; ',' splits every line into 3.
  const std::string text = "a,b,c\n1;2,3,x;y\n4,5,z\n6,7;8;9,w\n";
  auto reader = CsvReader::OpenString(text, {});
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->sep(), ',');
}

TEST(CsvReaderTest, SingleColumnFile) {
  ColumnBatch batch = Read("value\n1\n2\n3\n");
  EXPECT_EQ(Names(batch.schema), (std::vector<std::string>{"value"}));
  EXPECT_EQ(Types(batch.schema), (std::vector<DataType>{DataType::kInt64}));
  EXPECT_EQ(batch.num_rows(), 3u);
}

TEST(CsvReaderTest, GivenSeparatorWins) {
  CsvOptions options;
  options.sep = '|';
  ColumnBatch batch = Read("a,b|c\n1,2|3\n", options);
  EXPECT_EQ(Names(batch.schema), (std::vector<std::string>{"a,b", "c"}));
  EXPECT_EQ(batch.columns[0].Bytes(0), "1,2");
  EXPECT_EQ(batch.columns[1].Int(0), 3);
}

TEST(CsvReaderTest, QuotedFieldsWithSeparatorsNewlinesAndDoubledQuotes) {
  const std::string text =
      "\"id\";\"note\";\"n\"\n"
      "1;\"a;b\";10\n"
      "2;\"line1\nline2\r\nline3\";20\n"
      "3;\"say \"\"hi\"\"\";30\n"
      "4;\"\";40\n"
      "5;\"x\"\"\";50\n";
  CsvOptions options;
  options.null_values = {"NA"};
  ColumnBatch batch = Read(text, options);
  ASSERT_EQ(batch.num_rows(), 5u);
  EXPECT_EQ(Names(batch.schema), (std::vector<std::string>{"id", "note", "n"}));
  EXPECT_EQ(batch.columns[1].Bytes(0), "a;b");
  EXPECT_EQ(batch.columns[1].Bytes(1), "line1\nline2\r\nline3");
  EXPECT_EQ(batch.columns[1].Bytes(2), "say \"hi\"");
  EXPECT_EQ(batch.columns[1].Bytes(3), "");
  EXPECT_EQ(batch.columns[1].Bytes(4), "x\"");
  EXPECT_EQ(batch.columns[2].Int(4), 50);
}

TEST(CsvReaderTest, TextAfterClosingQuoteIsKept) {
  ColumnBatch batch = Read("a,b\n\"x\"y,1\n\"p\"\"q\"r,2\n");
  EXPECT_EQ(batch.columns[0].Bytes(0), "xy");
  EXPECT_EQ(batch.columns[0].Bytes(1), "p\"qr");
}

TEST(CsvReaderTest, QuoteInsideUnquotedFieldIsLiteral) {
  ColumnBatch batch = Read("size,n\n5\" disk,1\n");
  EXPECT_EQ(batch.columns[0].Bytes(0), "5\" disk");
}

TEST(CsvReaderTest, CrLfLineEnds) {
  ColumnBatch batch = Read("a,b,c\r\n1,x,\"q\"\r\n2,y,\"r\"\r\n");
  ASSERT_EQ(batch.num_rows(), 2u);
  EXPECT_EQ(Types(batch.schema),
            (std::vector<DataType>{DataType::kInt64, DataType::kString, DataType::kString}));
  EXPECT_EQ(batch.schema.fields[2].name, "c");
  EXPECT_EQ(batch.columns[1].Bytes(1), "y");
  EXPECT_EQ(batch.columns[2].Bytes(1), "r");
}

TEST(CsvReaderTest, NoNewlineAtEndOfFile) {
  ColumnBatch batch = Read("a,b\n1,2\n3,4");
  ASSERT_EQ(batch.num_rows(), 2u);
  EXPECT_EQ(batch.columns[1].Int(1), 4);
  ColumnBatch crlf = Read("a,b\r\n1,2\r\n3,\"4\"\r");
  ASSERT_EQ(crlf.num_rows(), 2u);
  EXPECT_EQ(crlf.columns[1].Int(1), 4);
}

TEST(CsvReaderTest, StripsByteOrderMark) {
  ColumnBatch batch = Read("\xEF\xBB\xBF\"name\",\"n\"\nzoë,1\n");
  EXPECT_EQ(Names(batch.schema), (std::vector<std::string>{"name", "n"}));
  EXPECT_EQ(batch.columns[0].Bytes(0), "zoë");
}

TEST(CsvReaderTest, SkipsBlankLines) {
  ColumnBatch batch = Read("a,b\n\n1,2\r\n\r\n3,4\n\n");
  EXPECT_EQ(batch.num_rows(), 2u);
}

TEST(CsvReaderTest, InvalidUtf8IsAnErrorWithLine) {
  auto result = ReadCsvString("a,b\nok,1\nbad\xC3\x28,2\n");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("line 3"), std::string::npos)
      << result.status().message();

  CsvOptions skip;
  skip.skip_malformed = true;
  auto reader = CsvReader::OpenString("a,b\nok,1\nbad\xFF,2\nfine,3\n\xED\xA0\x80,4\n", skip);
  ASSERT_TRUE(reader.ok());
  std::vector<ColumnBatch> batches = ReadAll(**reader);
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0].num_rows(), 2u);
  EXPECT_EQ((*reader)->malformed_rows().count, 2u);
  EXPECT_EQ((*reader)->malformed_rows().first_lines, (std::vector<size_t>{3, 5}));
}

TEST(CsvReaderTest, InvalidUtf8InHeaderIsAnError) {
  CsvOptions header;
  header.header = true;
  auto result = ReadCsvString("n\xFFme,b\n1,2\n", header);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), core::StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------------------------
// Header.

TEST(CsvReaderTest, DetectsHeaderWhenLaterRowsHaveNumbers) {
  auto reader = CsvReader::OpenString("x,y\n1,2\n", {});
  ASSERT_TRUE(reader.ok());
  EXPECT_TRUE((*reader)->has_header());
}

TEST(CsvReaderTest, DetectsNoHeaderWhenFirstRowHasNumbers) {
  ColumnBatch batch = Read("1,abc\n2,def\n");
  EXPECT_EQ(Names(batch.schema), (std::vector<std::string>{"_c0", "_c1"}));
  EXPECT_EQ(batch.num_rows(), 2u);
  EXPECT_EQ(batch.columns[0].Int(0), 1);
}

TEST(CsvReaderTest, AllTextFilesUseDistinctnessOfTheFirstRow) {
  EXPECT_EQ(Read("name,city\nann,paris\nbob,rome\n").num_rows(), 2u);
  ColumnBatch repeated = Read("x,x\nann,paris\n");
  EXPECT_EQ(repeated.num_rows(), 2u);
  EXPECT_EQ(repeated.schema.fields[0].name, "_c0");
}

TEST(CsvReaderTest, ForcedHeaderOptions) {
  CsvOptions no_header;
  no_header.header = false;
  ColumnBatch batch = Read("a,b\n1,2\n", no_header);
  EXPECT_EQ(batch.num_rows(), 2u);
  EXPECT_EQ(Types(batch.schema), (std::vector<DataType>{DataType::kString, DataType::kString}));

  CsvOptions header;
  header.header = true;
  ColumnBatch numbers = Read("1,2\n3,4\n", header);
  EXPECT_EQ(Names(numbers.schema), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(numbers.num_rows(), 1u);
  EXPECT_EQ(numbers.columns[0].Int(0), 3);
}

TEST(CsvReaderTest, DeduplicatesAndNamesHeaderColumns) {
  CsvOptions header;
  header.header = true;
  ColumnBatch batch = Read("col,col,,col_1,col\n1,2,3,4,5\n", header);
  EXPECT_EQ(Names(batch.schema),
            (std::vector<std::string>{"col", "col_1", "_c2", "col_1_1", "col_2"}));
}

TEST(CsvReaderTest, EmptyFile) {
  for (const std::string text : {"", "\n\n", "\xEF\xBB\xBF", "\r\n"}) {
    auto reader = CsvReader::OpenString(text, {});
    ASSERT_TRUE(reader.ok());
    EXPECT_TRUE((*reader)->schema().fields.empty());
    auto next = (*reader)->Next();
    ASSERT_TRUE(next.ok());
    EXPECT_FALSE(next->has_value());
    ColumnBatch batch = Read(text);
    EXPECT_EQ(batch.columns.size(), 0u);
  }
}

TEST(CsvReaderTest, HeaderOnlyFile) {
  for (const std::string text : {"\"a\";\"b\";\"c\"\n", "a,b,c", "a|b|c\r\n"}) {
    auto reader = CsvReader::OpenString(text, {});
    ASSERT_TRUE(reader.ok());
    EXPECT_TRUE((*reader)->has_header());
    EXPECT_EQ(Names((*reader)->schema()), (std::vector<std::string>{"a", "b", "c"}));
    auto next = (*reader)->Next();
    ASSERT_TRUE(next.ok());
    EXPECT_FALSE(next->has_value());
    ColumnBatch batch = Read(text);
    EXPECT_EQ(batch.columns.size(), 3u);
    EXPECT_EQ(batch.num_rows(), 0u);
    EXPECT_TRUE(batch.Validate().ok());
  }
}

// ---------------------------------------------------------------------------------------------
// Types.

TEST(CsvReaderTest, InfersEveryType) {
  const std::string text =
      "b,i,d,s,dt,ts\n"
      "true,1,1.5,x,1970-01-01,2021-06-01T12:34:56.789Z\n"
      "FALSE,-2,-3e2,y,2000-03-01,2021-06-01 12:00:00+02:00\n"
      "True,9223372036854775807,inf,z,2024-02-29,1969-12-31 23:59:59.5\n";
  ColumnBatch batch = Read(text);
  ASSERT_EQ(batch.num_rows(), 3u);
  EXPECT_EQ(Types(batch.schema),
            (std::vector<DataType>{DataType::kBool, DataType::kInt64, DataType::kDouble,
                                   DataType::kString, DataType::kDate, DataType::kTimestamp}));
  EXPECT_EQ(batch.columns[0].Int(0), 1);
  EXPECT_EQ(batch.columns[0].Int(1), 0);
  EXPECT_EQ(batch.columns[0].Int(2), 1);
  EXPECT_EQ(batch.columns[1].Int(2), INT64_MAX);
  EXPECT_DOUBLE_EQ(batch.columns[2].Double(1), -300.0);
  EXPECT_TRUE(std::isinf(batch.columns[2].Double(2)));
  EXPECT_EQ(batch.columns[4].Int(0), 0);
  EXPECT_EQ(batch.columns[4].Int(1), 10957 + 31 + 29);            // 2000-01-01 is day 10957
  EXPECT_EQ(batch.columns[4].Int(2), 19782);                      // 2024-02-29
  const int64_t day_2021_06_01 = 18628 + 31 + 28 + 31 + 30 + 31;  // 2021-01-01 is day 18628
  const int64_t micros_per_day = int64_t{86400} * 1000000;
  EXPECT_EQ(batch.columns[5].Int(0), day_2021_06_01 * micros_per_day +
                                         (12 * 3600 + 34 * 60 + 56) * int64_t{1000000} + 789000);
  EXPECT_EQ(batch.columns[5].Int(1),
            day_2021_06_01 * micros_per_day + 10 * 3600 * int64_t{1000000});
  EXPECT_EQ(batch.columns[5].Int(2), -500000);
}

TEST(CsvReaderTest, NumbersMayHaveSpacesAndPlusSign) {
  ColumnBatch batch = Read("i,d\n +5 , 1.5\n-3,+2e3\n");
  EXPECT_EQ(Types(batch.schema), (std::vector<DataType>{DataType::kInt64, DataType::kDouble}));
  EXPECT_EQ(batch.columns[0].Int(0), 5);
  EXPECT_DOUBLE_EQ(batch.columns[1].Double(1), 2000.0);
}

TEST(CsvReaderTest, NanAndHugeValues) {
  ColumnBatch batch = Read("d\n1\nnan\n-inf\n1e400\n");
  EXPECT_EQ(Types(batch.schema), (std::vector<DataType>{DataType::kDouble}));
  EXPECT_TRUE(std::isnan(batch.columns[0].Double(1)));
  EXPECT_EQ(batch.columns[0].Double(2), -INFINITY);
  EXPECT_EQ(batch.columns[0].Double(3), INFINITY);
}

TEST(CsvReaderTest, IntegerOverflowBecomesDouble) {
  ColumnBatch batch = Read("n\n1\n99999999999999999999\n");
  EXPECT_EQ(Types(batch.schema), (std::vector<DataType>{DataType::kDouble}));
  EXPECT_DOUBLE_EQ(batch.columns[0].Double(1), 1e20);
}

TEST(CsvReaderTest, WideningWithinSample) {
  ColumnBatch batch = Read(
      "a,b,c,d,e\n"
      "1,2020-01-01,true,1,x\n"
      "2.5,2020-01-02 03:04:05,maybe,2020-01-01,1\n");
  EXPECT_EQ(Types(batch.schema),
            (std::vector<DataType>{DataType::kDouble, DataType::kTimestamp, DataType::kString,
                                   DataType::kString, DataType::kString}));
  EXPECT_EQ(batch.columns[1].Int(0), int64_t{18262} * 86400 * 1000000);  // the date at midnight
  EXPECT_EQ(batch.columns[2].Bytes(0), "true");
  EXPECT_EQ(batch.columns[3].Bytes(0), "1");
}

TEST(CsvReaderTest, WideningAfterSampleReparsesFromOriginalText) {
  // Only the first row is sampled; "007" must come back as text, not as a re-rendered 7.
  CsvOptions options;
  options.infer_rows = 1;
  ColumnBatch batch = Read(
      "id,code,x,when\n1,007,1,2020-01-01\n2,12,2.25,2020-01-01T10:00:00\n"
      "3,A1,3,NA\n",
      options);
  EXPECT_EQ(Types(batch.schema), (std::vector<DataType>{DataType::kInt64, DataType::kString,
                                                        DataType::kDouble, DataType::kTimestamp}));
  EXPECT_EQ(batch.columns[1].Bytes(0), "007");
  EXPECT_EQ(batch.columns[1].Bytes(2), "A1");
  EXPECT_DOUBLE_EQ(batch.columns[2].Double(1), 2.25);
  EXPECT_TRUE(batch.columns[3].IsNull(2));
}

TEST(CsvReaderTest, WideningInALaterBatchThenRewind) {
  CsvOptions options;
  options.infer_rows = 2;
  options.batch_rows = 2;
  auto reader = CsvReader::OpenString("n\n1\n2\n3\n4\n5.5\n6\n", options);
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->schema().fields[0].type, DataType::kInt64);
  std::vector<ColumnBatch> batches = ReadAll(**reader);
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[0].schema.fields[0].type, DataType::kInt64);
  EXPECT_EQ(batches[1].schema.fields[0].type, DataType::kInt64);
  EXPECT_EQ(batches[2].schema.fields[0].type, DataType::kDouble);
  EXPECT_DOUBLE_EQ(batches[2].columns[0].Double(0), 5.5);
  EXPECT_EQ((*reader)->schema().fields[0].type, DataType::kDouble);

  // A consumer needing one schema rewinds and reads everything again with the wider type.
  ASSERT_TRUE((*reader)->Rewind().ok());
  batches = ReadAll(**reader);
  ASSERT_EQ(batches.size(), 3u);
  for (const ColumnBatch& batch : batches) {
    EXPECT_EQ(batch.schema.fields[0].type, DataType::kDouble);
  }
  EXPECT_DOUBLE_EQ(batches[0].columns[0].Double(0), 1.0);
}

TEST(CsvReaderTest, InferOverWholeFile) {
  CsvOptions options;
  options.infer_rows = 0;
  options.batch_rows = 2;
  auto reader = CsvReader::OpenString("n\n1\n2\n3\n4\nfive\n6\n", options);
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->schema().fields[0].type, DataType::kString);
  for (const ColumnBatch& batch : ReadAll(**reader)) {
    EXPECT_EQ(batch.schema.fields[0].type, DataType::kString);
  }
}

TEST(CsvReaderTest, SeveralMisfitsInOneBatchReparseOnce) {
  CsvOptions options;
  options.infer_rows = 1;
  ColumnBatch batch = Read("a,b\n1,1\n2.5,2\nx,3.5\n4,y\n", options);
  EXPECT_EQ(Types(batch.schema), (std::vector<DataType>{DataType::kString, DataType::kString}));
  EXPECT_EQ(batch.columns[0].Bytes(1), "2.5");
  EXPECT_EQ(batch.columns[1].Bytes(2), "3.5");
}

// ---------------------------------------------------------------------------------------------
// NULLs.

TEST(CsvReaderTest, DefaultNullTokens) {
  ColumnBatch batch = Read("i,d,s,e\n1,NA,null,\nNULL,2.5,x,\n,,\"\",\n");
  EXPECT_EQ(Types(batch.schema), (std::vector<DataType>{DataType::kInt64, DataType::kDouble,
                                                        DataType::kString, DataType::kString}));
  EXPECT_TRUE(batch.columns[0].IsNull(1));
  EXPECT_TRUE(batch.columns[0].IsNull(2));
  EXPECT_FALSE(batch.columns[0].IsNull(0));
  EXPECT_TRUE(batch.columns[1].IsNull(0));
  EXPECT_TRUE(batch.columns[2].IsNull(0));
  EXPECT_EQ(batch.columns[2].Bytes(1), "x");
  EXPECT_TRUE(batch.columns[2].IsNull(2));  // "" matches the empty NULL token
  for (size_t row = 0; row < 3; ++row) EXPECT_TRUE(batch.columns[3].IsNull(row));
}

TEST(CsvReaderTest, CustomNullTokens) {
  CsvOptions options;
  options.null_values = {"-", "-999"};
  ColumnBatch batch = Read("a,s\n1,x\n-,NA\n-999,\n", options);
  EXPECT_EQ(Types(batch.schema), (std::vector<DataType>{DataType::kInt64, DataType::kString}));
  EXPECT_TRUE(batch.columns[0].IsNull(1));
  EXPECT_TRUE(batch.columns[0].IsNull(2));  // a NULL token that is also a number
  EXPECT_EQ(batch.columns[1].Bytes(1), "NA");
  EXPECT_EQ(batch.columns[1].Bytes(2), "");
  EXPECT_FALSE(batch.columns[1].IsNull(2));
}

// ---------------------------------------------------------------------------------------------
// Malformed rows.

TEST(CsvReaderTest, WrongFieldCountIsAnErrorWithLine) {
  // The quoted field spans lines 3-4, so the bad row is on physical line 6.
  auto result = ReadCsvString("a,b\n1,x\n2,\"multi\nline\"\n3,y\n4\n5,z\n");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("line 6"), std::string::npos)
      << result.status().message();
  EXPECT_NE(result.status().message().find("expected 2 fields, found 1"), std::string::npos);
}

TEST(CsvReaderTest, SkipMalformedCountsAndReports) {
  CsvOptions options;
  options.skip_malformed = true;
  std::string text = "a,b\n";
  for (int i = 0; i < 30; ++i) text += (i % 2 == 0) ? "1,2\n" : "1,2,3\n";
  auto reader = CsvReader::OpenString(text, options);
  ASSERT_TRUE(reader.ok());
  std::vector<ColumnBatch> batches = ReadAll(**reader);
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0].num_rows(), 15u);
  const CsvMalformedRows& malformed = (*reader)->malformed_rows();
  EXPECT_EQ(malformed.count, 15u);
  EXPECT_EQ(malformed.first_lines, (std::vector<size_t>{3, 5, 7, 9, 11, 13, 15, 17, 19, 21}));
  EXPECT_NE(malformed.first_message.find("line 3"), std::string::npos);
}

TEST(CsvReaderTest, UnterminatedQuoteAtEndOfFile) {
  auto result = ReadCsvString("a,b\n1,x\n2,\"open\n3,y\n");
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("line 3"), std::string::npos)
      << result.status().message();

  CsvOptions options;
  options.skip_malformed = true;
  auto reader = CsvReader::OpenString("a,b\n1,x\n2,\"open\n3,y\n", options);
  ASSERT_TRUE(reader.ok());
  std::vector<ColumnBatch> batches = ReadAll(**reader);
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0].num_rows(), 1u);
  EXPECT_EQ((*reader)->malformed_rows().first_lines, (std::vector<size_t>{3}));
}

TEST(CsvReaderTest, UnterminatedQuoteInFirstRecord) {
  EXPECT_FALSE(ReadCsvString("\"a,b\n1,2\n").ok());
  CsvOptions options;
  options.skip_malformed = true;
  auto reader = CsvReader::OpenString("\"a,b\n1,2\n", options);
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->malformed_rows().count, 1u);
}

TEST(CsvReaderTest, ErrorsForFilesAndOptions) {
  auto missing = CsvReader::Open("/nonexistent/dir/file.csv", {});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), core::StatusCode::kNotFound);
  CsvOptions quote_sep;
  quote_sep.sep = '"';
  EXPECT_FALSE(ReadCsvString("a\n1\n", quote_sep).ok());
  CsvOptions no_rows;
  no_rows.batch_rows = 0;
  EXPECT_FALSE(CsvReader::OpenString("a\n1\n", no_rows).ok());
}

// ---------------------------------------------------------------------------------------------
// Streaming.

TEST(CsvReaderTest, BatchesHoldAtMostBatchRows) {
  CsvOptions options;
  options.batch_rows = 3;
  std::string text = "n\n";
  for (int i = 0; i < 10; ++i) text += std::to_string(i) + "\n";
  auto reader = CsvReader::OpenString(text, options);
  ASSERT_TRUE(reader.ok());
  std::vector<ColumnBatch> batches = ReadAll(**reader);
  ASSERT_EQ(batches.size(), 4u);
  EXPECT_EQ(batches[3].num_rows(), 1u);
  EXPECT_EQ(batches[3].columns[0].Int(0), 9);
}

TEST(CsvReaderTest, RecordsSpanningBlocksParseTheSame) {
  const std::string text =
      "\xEF\xBB\xBF\"id\";\"text\";\"value\"\r\n"
      "1;\"a;b\";1.5\r\n"
      "2;\"multi\r\nline \"\"quoted\"\"\";2\r\n"
      "3;plain;\r\n"
      "\r\n"
      "4;\"\"\"\";4e1\r\n"
      "5;\"x\"tail;5";
  const std::string expected = Render(Read(text));
  ASSERT_NE(expected.find("'multi\r\nline \"quoted\"'"), std::string::npos) << expected;
  for (size_t block = 1; block <= 40; ++block) {
    for (size_t batch_rows : {size_t{1}, size_t{2}, size_t{100}}) {
      CsvOptions options;
      options.block_bytes = block;
      options.batch_rows = batch_rows;
      auto reader = CsvReader::OpenString(text, options);
      ASSERT_TRUE(reader.ok()) << block;
      std::string joined;
      for (const ColumnBatch& batch : ReadAll(**reader)) {
        std::string rendered = Render(batch);
        if (!joined.empty()) rendered = rendered.substr(rendered.find('\n') + 1);
        joined += rendered;
      }
      EXPECT_EQ(joined, expected) << "block_bytes " << block << " batch_rows " << batch_rows;
    }
  }
}

TEST(CsvReaderTest, LongRecordAcrossManyBlocks) {
  const std::string long_text(100000, 'q');
  CsvOptions options;
  options.block_bytes = 64;
  ColumnBatch batch = Read("a,b\n1,\"" + long_text + "\"\n2,x\n", options);
  ASSERT_EQ(batch.num_rows(), 2u);
  EXPECT_EQ(batch.columns[1].Bytes(0), long_text);
}

// ---------------------------------------------------------------------------------------------
// Robustness: arbitrary input never crashes, and what is accepted is a valid batch.

TEST(CsvReaderTest, RandomInputNeverCrashes) {
  std::mt19937 random(12345);
  const std::string alphabet = ",;\t|\"\n\r 0123456789.-+eEaNxtrufl:TZ\xC3\xA9\xFF";
  for (int iteration = 0; iteration < 3000; ++iteration) {
    std::string text;
    const size_t length = random() % 200;
    const bool raw_bytes = iteration % 4 == 0;
    for (size_t i = 0; i < length; ++i) {
      text += raw_bytes ? static_cast<char>(random() & 0xFF) : alphabet[random() % alphabet.size()];
    }
    CsvOptions options;
    options.block_bytes = 1 + random() % 32;
    options.batch_rows = 1 + random() % 5;
    options.infer_rows = random() % 4;
    options.skip_malformed = random() % 2 == 0;
    if (random() % 3 == 0) options.header = random() % 2 == 0;
    auto reader = CsvReader::OpenString(text, options);
    if (!reader.ok()) continue;
    for (int batches = 0; batches < 1000; ++batches) {
      auto batch = (*reader)->Next();
      if (!batch.ok() || !batch->has_value()) break;
      ASSERT_TRUE((*batch)->Validate().ok()) << "iteration " << iteration;
    }
    (void)ReadCsvString(text, options);
  }
}

}  // namespace
}  // namespace lakeml::storage
