// parquet_tool: a small driver for the Parquet interop tests (tests/interop/run.sh).
//   parquet_tool write-sample <out.parquet> <uncompressed|snappy|gzip|zstd> [rows]
//   parquet_tool hash <file.parquet>      prints the table hash (8 hex digits) and row count
//   parquet_tool info <file.parquet>      prints schema, row groups and chunk statistics
//   parquet_tool write-table <dir> [rows] writes a Delta table (create, append, delete) and
//                                         prints "<file> <hash> <rows>" for each live data file
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <variant>

#include "storage/parquet_reader.h"
#include "storage/parquet_writer.h"
#include "storage/table.h"
#include "storage/table_hash.h"

namespace lakeml::storage {
namespace {

// Deterministic generator, so every run (and every codec) writes the same table.
class Lcg {
 public:
  explicit Lcg(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
    return state_ >> 11;
  }
  int64_t Range(int64_t low, int64_t high) {
    return low + static_cast<int64_t>(Next() % static_cast<uint64_t>(high - low + 1));
  }

 private:
  uint64_t state_;
};

ColumnBatch SampleBatch(size_t rows) {
  ColumnBatch batch;
  auto add = [&](std::string name, DataType type, bool nullable, int precision = 0, int scale = 0) {
    batch.schema.fields.push_back(Field{std::move(name), type, nullable, precision, scale});
    batch.columns.emplace_back(type);
  };
  add("id", DataType::kInt64, false);
  add("flag", DataType::kBool, true);
  add("small", DataType::kInt32, true);
  add("big", DataType::kInt64, true);
  add("ratio", DataType::kFloat, true);
  add("score", DataType::kDouble, true);
  add("category", DataType::kString, true);
  add("note", DataType::kString, true);
  add("payload", DataType::kBinary, true);
  add("day", DataType::kDate, true);
  add("at", DataType::kTimestamp, true);
  add("price", DataType::kDecimal, true, 9, 2);
  add("amount", DataType::kDecimal, true, 18, 4);
  add("label", DataType::kString, false);
  const char* categories[] = {"red", "green", "blue", "", "ünïcødé", "a longer category value"};
  Lcg rng(42);
  for (size_t row = 0; row < rows; ++row) {
    auto null_every = [&](size_t n) { return row % n == n - 1; };
    auto& c = batch.columns;
    c[0].AppendInt(static_cast<int64_t>(row));
    if (null_every(7))
      c[1].AppendNull();
    else
      c[1].AppendInt(rng.Next() & 1);
    if (null_every(11))
      c[2].AppendNull();
    else
      c[2].AppendInt(rng.Range(INT32_MIN, INT32_MAX));
    if (null_every(13))
      c[3].AppendNull();
    else
      c[3].AppendInt(static_cast<int64_t>(rng.Next() << 11));
    if (null_every(5))
      c[4].AppendNull();
    else
      c[4].AppendDouble(static_cast<double>(rng.Range(-4000, 4000)) * 0.25);
    if (null_every(17)) {
      c[5].AppendNull();
    } else if (row % 1000 == 3) {
      c[5].AppendDouble(std::numeric_limits<double>::quiet_NaN());
    } else if (row % 1000 == 4) {
      c[5].AppendDouble(-0.0);
    } else {
      c[5].AppendDouble(static_cast<double>(rng.Range(-1000000, 1000000)) / 7.0);
    }
    if (null_every(9))
      c[6].AppendNull();
    else
      c[6].AppendBytes(categories[rng.Next() % 6]);
    if (null_every(19)) {
      c[7].AppendNull();
    } else {
      std::string note = "note-" + std::to_string(rng.Next() % 100000) + std::string(row % 37, 'x');
      c[7].AppendBytes(note);
    }
    if (null_every(23)) {
      c[8].AppendNull();
    } else {
      std::string bytes;
      for (size_t i = 0; i < row % 9; ++i) bytes.push_back(static_cast<char>(rng.Next() & 0xff));
      c[8].AppendBytes(bytes);
    }
    if (null_every(29))
      c[9].AppendNull();
    else
      c[9].AppendInt(rng.Range(-30000, 60000));
    if (null_every(31)) {
      c[10].AppendNull();
    } else {
      c[10].AppendInt(rng.Range(-2000000000LL, 4000000000LL) * 1000000LL + rng.Range(0, 999999));
    }
    if (null_every(6))
      c[11].AppendNull();
    else
      c[11].AppendInt(rng.Range(-999999999, 999999999));
    // Within ±2^53 so JavaScript readers that yield decimals as numbers stay exact.
    if (null_every(8))
      c[12].AppendNull();
    else
      c[12].AppendInt(rng.Range(-(1LL << 52), 1LL << 52));
    c[13].AppendBytes("row " + std::to_string(row % 250));
  }
  return batch;
}

int Fail(const core::Status& status) {
  std::fprintf(stderr, "error: %s\n", status.ToString().c_str());
  return 1;
}

int WriteSample(const std::string& path, const std::string& codec_name, size_t rows) {
  ParquetWriterOptions options;
  if (codec_name == "uncompressed") {
    options.codec = CompressionCodec::kUncompressed;
  } else if (codec_name == "snappy") {
    options.codec = CompressionCodec::kSnappy;
  } else if (codec_name == "gzip") {
    options.codec = CompressionCodec::kGzip;
  } else if (codec_name == "zstd") {
    options.codec = CompressionCodec::kZstd;
  } else {
    std::fprintf(stderr, "unknown codec '%s'\n", codec_name.c_str());
    return 2;
  }
  // Small limits so the sample exercises several row groups, pages and the PLAIN fallback.
  options.row_group_rows = 3000;
  options.page_size_bytes = 8 * 1024;
  options.dictionary_max_bytes = 16 * 1024;
  ColumnBatch batch = SampleBatch(rows);
  auto stats =
      WriteParquetFile(path, batch.schema, std::span<const ColumnBatch>(&batch, 1), options);
  if (!stats.ok()) return Fail(stats.status());
  auto expected = TableHash(std::span<const ColumnBatch>(&batch, 1));
  if (!expected.ok()) return Fail(expected.status());
  std::printf("%08x %lld\n", *expected, static_cast<long long>(stats->num_records));
  return 0;
}

int Hash(const std::string& path) {
  auto reader = ParquetReader::Open(path);
  if (!reader.ok()) return Fail(reader.status());
  TableHasher hasher;
  int64_t rows = 0;
  for (int g = 0; g < (*reader)->num_row_groups(); ++g) {
    auto batch = (*reader)->ReadRowGroup(g);
    if (!batch.ok()) return Fail(batch.status());
    rows += static_cast<int64_t>(batch->num_rows());
    core::Status status = hasher.Add(*batch);
    if (!status.ok()) return Fail(status);
  }
  if ((*reader)->num_row_groups() == 0) {
    // An empty table still hashes its columns (all at the FNV offset basis).
    ColumnBatch empty;
    for (const Field& field : (*reader)->schema().fields) empty.columns.emplace_back(field.type);
    core::Status status = hasher.Add(empty);
    if (!status.ok()) return Fail(status);
  }
  std::printf("%08x %lld\n", hasher.Finish(), static_cast<long long>(rows));
  return 0;
}

std::string StatToString(const std::optional<StatValue>& value) {
  if (!value) return "-";
  if (const auto* i = std::get_if<int64_t>(&*value)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&*value)) return fmt::format("{}", *d);
  return "'" + std::get<std::string>(*value) + "'";
}

int Info(const std::string& path) {
  auto reader = ParquetReader::Open(path);
  if (!reader.ok()) return Fail(reader.status());
  const ParquetReader& r = **reader;
  std::printf("rows %lld, row groups %d, created_by '%s'\n", static_cast<long long>(r.num_rows()),
              r.num_row_groups(), r.metadata().created_by.value_or("").c_str());
  for (size_t c = 0; c < r.schema().fields.size(); ++c) {
    const Field& field = r.schema().fields[c];
    std::printf("  %s %s%s\n", field.name.c_str(), std::string(DataTypeName(field.type)).c_str(),
                field.nullable ? "" : " not null");
    for (int g = 0; g < r.num_row_groups(); ++g) {
      auto stats = r.ColumnStats(g, c);
      if (!stats.ok()) return Fail(stats.status());
      const ColumnMetaData& meta = *r.metadata().row_groups[g].columns[c].meta_data;
      std::string encodings;
      for (Encoding e : meta.encodings) encodings += std::to_string(static_cast<int>(e)) + " ";
      std::printf("    rg %d: codec %s, encodings [%s], nulls %lld, min %s, max %s\n", g,
                  std::string(CompressionCodecName(meta.codec)).c_str(), encodings.c_str(),
                  static_cast<long long>(stats->null_count.value_or(-1)),
                  StatToString(stats->min).c_str(), StatToString(stats->max).c_str());
    }
  }
  return 0;
}

// Rows of `batch` whose id (column 0) is not a multiple of 10: what write-table's DELETE keeps.
std::vector<bool> KeepMask(const ColumnBatch& batch) {
  std::vector<bool> keep;
  for (size_t row = 0; row < batch.num_rows(); ++row)
    keep.push_back(batch.columns[0].Int(row) % 10 != 0);
  return keep;
}

ColumnBatch KeptRows(const ColumnBatch& batch) {
  std::vector<bool> keep = KeepMask(batch);
  ColumnBatch out;
  out.schema = batch.schema;
  for (const Column& column : batch.columns) {
    Column kept(column.type());
    for (size_t row = 0; row < column.size(); ++row) {
      if (!keep[row]) continue;
      if (column.IsNull(row)) {
        kept.AppendNull();
      } else if (column.type() == DataType::kFloat || column.type() == DataType::kDouble) {
        kept.AppendDouble(column.Double(row));
      } else if (column.type() == DataType::kString || column.type() == DataType::kBinary) {
        kept.AppendBytes(column.Bytes(row));
      } else {
        kept.AppendInt(column.Int(row));
      }
    }
    out.columns.push_back(std::move(kept));
  }
  return out;
}

// Version 0: CREATE TABLE AS SELECT with `rows` sample rows; version 1: append of rows/2 more;
// version 2: DELETE WHERE id % 10 = 0, which rewrites both files. The live files are then the
// two rewritten ones, in that order; their expected hashes come from the intended data.
int WriteTable(const std::string& dir, size_t rows) {
  std::vector<ColumnBatch> first;
  first.push_back(SampleBatch(rows));
  std::vector<ColumnBatch> second;
  second.push_back(SampleBatch(rows / 2));
  TableOptions options;
  options.parquet.row_group_rows = 3000;
  auto table = Table::Create(dir, first[0].schema, first, options);
  if (!table.ok()) return Fail(table.status());
  auto appended = (*table)->Append(second);
  if (!appended.ok()) return Fail(appended.status());
  auto deleted = (*table)->DeleteWhere(
      [](const ColumnBatch& batch) -> core::Result<std::vector<bool>> { return KeepMask(batch); },
      "id % 10 = 0");
  if (!deleted.ok()) return Fail(deleted.status());
  auto snapshot = (*table)->LatestSnapshot();
  if (!snapshot.ok()) return Fail(snapshot.status());
  const std::vector<AddAction>& files = (*snapshot)->files();
  if (files.size() != 2) return Fail(core::Internal("expected 2 live files, got {}", files.size()));
  const ColumnBatch* sources[] = {&first[0], &second[0]};
  for (size_t i = 0; i < files.size(); ++i) {
    ColumnBatch kept = KeptRows(*sources[i]);
    auto hash = TableHash(std::span<const ColumnBatch>(&kept, 1));
    if (!hash.ok()) return Fail(hash.status());
    std::printf("%s %08x %zu\n", files[i].path.c_str(), *hash, kept.num_rows());
  }
  return 0;
}

}  // namespace
}  // namespace lakeml::storage

int main(int argc, char** argv) {
  using namespace lakeml::storage;
  if (argc >= 4 && std::strcmp(argv[1], "write-sample") == 0) {
    size_t rows = argc >= 5 ? std::stoul(argv[4]) : 10000;
    return WriteSample(argv[2], argv[3], rows);
  }
  if (argc == 3 && std::strcmp(argv[1], "hash") == 0) return Hash(argv[2]);
  if (argc == 3 && std::strcmp(argv[1], "info") == 0) return Info(argv[2]);
  if (argc >= 3 && std::strcmp(argv[1], "write-table") == 0) {
    size_t rows = argc >= 4 ? std::stoul(argv[3]) : 10000;
    return WriteTable(argv[2], rows);
  }
  std::fprintf(stderr,
               "usage: parquet_tool write-sample <out> <uncompressed|snappy|gzip|zstd> [rows]\n"
               "       parquet_tool hash <file>\n"
               "       parquet_tool info <file>\n"
               "       parquet_tool write-table <dir> [rows]\n");
  return 2;
}
