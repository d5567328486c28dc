// Micro-benchmark of the CSV reader on the shape of the ingest workload: id, 5 ints,
// 6 doubles and 1 string of 100 distinct values (~98 bytes a row). Reports rows/s for parsing
// alone; the end-to-end ingest (CSV → table, against DuckDB) is a separate workload.
//
//   csv_bench [--rows=N] [benchmark flags]      N defaults to 500000
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <random>
#include <string>
#include <system_error>

#include "storage/csv_reader.h"

namespace lakeml::storage {
namespace {

size_t g_rows = 500000;

// Writes the synthetic CSV once per process into a temporary directory.
class SyntheticCsv {
 public:
  SyntheticCsv() {
    dir_ = std::filesystem::temp_directory_path() /
           fmt::format("lakeml-csv-bench-{}", static_cast<unsigned>(std::random_device()()));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "synthetic.csv").string();
    std::FILE* file = std::fopen(path_.c_str(), "wb");
    if (file == nullptr) {
      std::fprintf(stderr, "cannot write %s\n", path_.c_str());
      std::exit(1);
    }
    std::mt19937_64 random(42);
    std::uniform_int_distribution<int64_t> ints(0, 999999);
    std::uniform_real_distribution<double> doubles(0.0, 1000.0);
    std::string text = "id,i1,i2,i3,i4,i5,d1,d2,d3,d4,d5,d6,s\n";
    for (size_t row = 0; row < g_rows; ++row) {
      fmt::format_to(std::back_inserter(text), "{}", row);
      for (int i = 0; i < 5; ++i) fmt::format_to(std::back_inserter(text), ",{}", ints(random));
      for (int i = 0; i < 6; ++i)
        fmt::format_to(std::back_inserter(text), ",{:.4f}", doubles(random));
      fmt::format_to(std::back_inserter(text), ",category_{}\n", random() % 100);
      if (text.size() > (size_t{1} << 20)) {
        std::fwrite(text.data(), 1, text.size(), file);
        text.clear();
      }
    }
    std::fwrite(text.data(), 1, text.size(), file);
    std::fclose(file);
    size_bytes_ = std::filesystem::file_size(path_);
  }
  SyntheticCsv(const SyntheticCsv&) = delete;
  SyntheticCsv& operator=(const SyntheticCsv&) = delete;
  ~SyntheticCsv() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  const std::string& path() const { return path_; }
  uint64_t size_bytes() const { return size_bytes_; }

 private:
  std::filesystem::path dir_;
  std::string path_;
  uint64_t size_bytes_ = 0;
};

const SyntheticCsv& Data() {
  static const SyntheticCsv data;  // removed again at exit
  return data;
}

void BM_CsvParse(benchmark::State& state) {
  const SyntheticCsv& data = Data();
  CsvOptions options;
  options.batch_rows = static_cast<size_t>(state.range(0));
  size_t rows = 0;
  for (auto _ : state) {
    auto reader = CsvReader::Open(data.path(), options);
    if (!reader.ok()) {
      state.SkipWithError(reader.status().ToString().c_str());
      return;
    }
    for (;;) {
      auto batch = (*reader)->Next();
      if (!batch.ok()) {
        state.SkipWithError(batch.status().ToString().c_str());
        return;
      }
      if (!batch->has_value()) break;
      rows += (*batch)->num_rows();
      benchmark::DoNotOptimize((*batch)->columns.data());
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(rows));
  state.SetBytesProcessed(static_cast<int64_t>(data.size_bytes()) * state.iterations());
  state.counters["rows/s"] =
      benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_CsvParse)->Arg(1 << 16)->Arg(1 << 20)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace lakeml::storage

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--rows=", 7) == 0) {
      lakeml::storage::g_rows = std::strtoull(argv[i] + 7, nullptr, 10);
      for (int j = i; j + 1 < argc; ++j) argv[j] = argv[j + 1];
      --argc;
      --i;
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
