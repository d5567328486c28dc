// Tests for the Delta-style table: round trips of create/append/overwrite/delete/restore, the JSON
// shape of every action, time travel, history, crash safety by fault injection on each
// file-system operation of a commit, concurrent writers (lost races, retries, conflicts) and
// hostile logs.
#include "storage/table.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <thread>

#include "storage/parquet_reader.h"
#include "storage/table_hash.h"

namespace lakeml::storage {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

class FakeClock final : public core::Clock {
 public:
  explicit FakeClock(int64_t now_ms) : now_ms_(now_ms) {}
  int64_t NowMillis() const override { return now_ms_.load(); }
  void Set(int64_t now_ms) { now_ms_ = now_ms; }

 private:
  std::atomic<int64_t> now_ms_;
};

// Runs `hook` once, just before the next LinkIfAbsent: lets a test slip another writer's commit
// in between a transaction's read and its commit, deterministically.
class RaceFileSystem final : public FileSystem {
 public:
  void BeforeNextLink(std::function<void()> hook) { hook_ = std::move(hook); }

  core::Status CreateDirs(const std::string& path) override { return base_.CreateDirs(path); }
  core::Status WriteFile(const std::string& path, std::string_view contents) override {
    return base_.WriteFile(path, contents);
  }
  core::Status SyncFile(const std::string& path) override { return base_.SyncFile(path); }
  core::Status SyncDir(const std::string& path) override { return base_.SyncDir(path); }
  core::Status LinkIfAbsent(const std::string& existing, const std::string& new_path) override {
    if (hook_) {
      auto hook = std::move(hook_);
      hook_ = nullptr;
      hook();
    }
    return base_.LinkIfAbsent(existing, new_path);
  }
  core::Status Rename(const std::string& from, const std::string& to) override {
    return base_.Rename(from, to);
  }
  core::Status RemoveFile(const std::string& path) override { return base_.RemoveFile(path); }
  core::Result<std::string> ReadFile(const std::string& path) override {
    return base_.ReadFile(path);
  }
  core::Result<std::vector<std::string>> ListDir(const std::string& path) override {
    return base_.ListDir(path);
  }
  core::Result<bool> Exists(const std::string& path) override { return base_.Exists(path); }

 private:
  PosixFileSystem base_;
  std::function<void()> hook_;
};

Schema TestSchema() {
  Schema schema;
  schema.fields = {{"id", DataType::kInt64, false},    {"name", DataType::kString, true},
                   {"score", DataType::kDouble, true}, {"day", DataType::kDate, true},
                   {"at", DataType::kTimestamp, true}, {"price", DataType::kDecimal, true, 9, 2},
                   {"flag", DataType::kBool, true}};
  return schema;
}

// Rows with ids [first, first + count); deterministic values with some NULLs.
ColumnBatch MakeBatch(int64_t first, int64_t count) {
  ColumnBatch batch;
  batch.schema = TestSchema();
  for (const Field& field : batch.schema.fields) batch.columns.emplace_back(field.type);
  for (int64_t id = first; id < first + count; ++id) {
    batch.columns[0].AppendInt(id);
    batch.columns[1].AppendBytes("name-" + std::to_string(id % 17));
    if (id % 5 == 0) {
      batch.columns[2].AppendNull();
    } else {
      batch.columns[2].AppendDouble(static_cast<double>(id) * 0.5);
    }
    batch.columns[3].AppendInt(19000 + id % 100);
    batch.columns[4].AppendInt(1700000000000000 + id * 1234567);
    batch.columns[5].AppendInt(id * 101 - 5000);
    batch.columns[6].AppendInt(id % 2);
  }
  return batch;
}

std::vector<int64_t> Ids(const std::vector<ColumnBatch>& batches) {
  std::vector<int64_t> ids;
  for (const ColumnBatch& batch : batches) {
    for (size_t row = 0; row < batch.num_rows(); ++row) ids.push_back(batch.columns[0].Int(row));
  }
  return ids;
}

std::vector<int64_t> Range(int64_t first, int64_t count) {
  std::vector<int64_t> ids;
  for (int64_t id = first; id < first + count; ++id) ids.push_back(id);
  return ids;
}

uint32_t Hash(const std::vector<ColumnBatch>& batches) {
  auto hash = TableHash(batches);
  EXPECT_TRUE(hash.ok()) << hash.status().ToString();
  return hash.ok() ? *hash : 0;
}

std::vector<int64_t> SnapshotIds(const Snapshot& snapshot) {
  auto batches = snapshot.ReadAll();
  EXPECT_TRUE(batches.ok()) << batches.status().ToString();
  return batches.ok() ? Ids(*batches) : std::vector<int64_t>{};
}

KeepRowsFn KeepIf(std::function<bool(int64_t id)> keep_id) {
  return [keep_id](const ColumnBatch& batch) -> core::Result<std::vector<bool>> {
    std::vector<bool> keep;
    for (size_t row = 0; row < batch.num_rows(); ++row) {
      keep.push_back(keep_id(batch.columns[0].Int(row)));
    }
    return keep;
  };
}

core::Status AppendRowsStatic(Table& table, int64_t first, int64_t count) {
  std::vector<ColumnBatch> batches;
  batches.push_back(MakeBatch(first, count));
  return table.Append(batches).status();
}

class TableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "lakeml-table-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    dir_ = (root_ / "t").string();
    options_.clock = &clock_;
  }
  void TearDown() override { fs::remove_all(root_); }

  std::string LogFile(int64_t version) const {
    return dir_ + "/_delta_log/" + DeltaLog::CommitFileName(version);
  }
  std::vector<Json> ReadActions(int64_t version) const {
    std::ifstream in(LogFile(version));
    std::vector<Json> actions;
    std::string line;
    while (std::getline(in, line)) actions.push_back(Json::parse(line));
    return actions;
  }
  static const Json* Find(const std::vector<Json>& actions, const std::string& key, int nth = 0) {
    for (const Json& action : actions) {
      if (action.contains(key) && nth-- == 0) return &action[key];
    }
    return nullptr;
  }
  void WriteText(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::trunc);
    out << text;
  }
  std::unique_ptr<Table> CreateWith(int64_t rows) {
    std::vector<ColumnBatch> batches;
    batches.push_back(MakeBatch(0, rows));
    auto table = Table::Create(dir_, TestSchema(), batches, options_);
    EXPECT_TRUE(table.ok()) << table.status().ToString();
    return table.ok() ? std::move(table).value() : nullptr;
  }
  core::Result<CommitInfo> AppendRows(Table& table, int64_t first, int64_t count) {
    std::vector<ColumnBatch> batches;
    batches.push_back(MakeBatch(first, count));
    return table.Append(batches);
  }
  int64_t CurrentVersion() {
    auto table = Table::Open(dir_);
    EXPECT_TRUE(table.ok()) << table.status().ToString();
    if (!table.ok()) return -2;
    return (*table)->LatestSnapshot().value()->version();
  }

  fs::path root_;
  std::string dir_;
  FakeClock clock_{1700000000000};
  TableOptions options_;
};

TEST_F(TableTest, CreateAppendAndReadBack) {
  std::vector<ColumnBatch> first;
  first.push_back(MakeBatch(0, 100));
  first.push_back(MakeBatch(100, 50));
  auto created = Table::Create(dir_, TestSchema(), first, options_);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  Table& table = **created;
  std::vector<ColumnBatch> second;
  second.push_back(MakeBatch(150, 30));
  auto appended = table.Append(second);
  ASSERT_TRUE(appended.ok()) << appended.status().ToString();
  EXPECT_EQ(appended->version, 1);
  EXPECT_EQ(appended->operation, "WRITE");

  auto reopened = Table::Open(dir_);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  auto snapshot = (*reopened)->LatestSnapshot().value();
  EXPECT_EQ(snapshot->version(), 1);
  EXPECT_EQ(snapshot->files().size(), 2u);
  EXPECT_EQ(snapshot->NumRecords(), 180);
  auto read = snapshot->ReadAll();
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  std::vector<ColumnBatch> expected;
  expected.push_back(MakeBatch(0, 180));
  EXPECT_EQ(Hash(*read), Hash(expected));
  EXPECT_EQ(read->front().schema.fields[0].nullable, false);
  // Each data file is readable on its own, with the row count the log claims.
  for (const AddAction& file : snapshot->files()) {
    auto reader = ParquetReader::Open(snapshot->FilePath(file).value());
    ASSERT_TRUE(reader.ok());
    EXPECT_EQ((*reader)->num_rows(), file.num_records);
    EXPECT_EQ((*reader)->file_size_bytes(), file.size_bytes);
  }
}

TEST_F(TableTest, CreateEmptyTableThenAppend) {
  auto created = Table::Create(dir_, TestSchema(), {}, options_);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  auto snapshot = (*created)->LatestSnapshot().value();
  EXPECT_EQ(snapshot->files().size(), 0u);
  EXPECT_EQ((*created)->History().value()[0].operation, "CREATE TABLE");
  ASSERT_TRUE(AppendRows(**created, 0, 10).ok());
  EXPECT_EQ(SnapshotIds(*(*created)->LatestSnapshot().value()), Range(0, 10));
}

TEST_F(TableTest, CreateRefusesExistingTableAndBadSchemas) {
  ASSERT_NE(CreateWith(10), nullptr);
  auto again = Table::Create(dir_, TestSchema(), {}, options_);
  EXPECT_EQ(again.status().code(), core::StatusCode::kAlreadyExists);
  Schema duplicate;
  duplicate.fields = {{"a", DataType::kInt64}, {"A", DataType::kInt64}};
  EXPECT_EQ(Table::Create(dir_ + "2", duplicate, {}, options_).status().code(),
            core::StatusCode::kInvalidArgument);
  EXPECT_EQ(Table::Create(dir_ + "3", Schema{}, {}, options_).status().code(),
            core::StatusCode::kInvalidArgument);
  EXPECT_EQ(Table::Open(dir_ + "-missing").status().code(), core::StatusCode::kNotFound);
}

TEST_F(TableTest, AppendRejectsMismatchedBatches) {
  auto table = CreateWith(10);
  ColumnBatch wrong = MakeBatch(0, 3);
  wrong.schema.fields[2].type = DataType::kInt64;
  wrong.columns[2] = Column(DataType::kInt64);
  for (int i = 0; i < 3; ++i) wrong.columns[2].AppendInt(i);
  std::vector<ColumnBatch> batches;
  batches.push_back(std::move(wrong));
  EXPECT_EQ(table->Append(batches).status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(CurrentVersion(), 0);
}

TEST_F(TableTest, CommitFilesHaveDeltaShape) {
  auto table = CreateWith(100);
  ASSERT_TRUE(AppendRows(*table, 100, 10).ok());
  ASSERT_TRUE(fs::exists(LogFile(0)));
  EXPECT_EQ(fs::path(LogFile(0)).filename().string(), "00000000000000000000.json");

  auto v0 = ReadActions(0);
  const Json* commit_info = Find(v0, "commitInfo");
  ASSERT_NE(commit_info, nullptr);
  EXPECT_EQ((*commit_info)["timestamp"], 1700000000000);
  EXPECT_EQ((*commit_info)["operation"], "CREATE TABLE AS SELECT");
  EXPECT_TRUE((*commit_info)["operationParameters"].is_object());
  EXPECT_EQ((*commit_info)["isBlindAppend"], true);
  EXPECT_EQ((*commit_info)["operationMetrics"]["numFiles"], "1");
  EXPECT_EQ((*commit_info)["operationMetrics"]["numOutputRows"], "100");
  EXPECT_EQ((*commit_info)["engineInfo"], "lakeml/0.1.0");

  const Json* protocol = Find(v0, "protocol");
  ASSERT_NE(protocol, nullptr);
  EXPECT_EQ(*protocol, (Json{{"minReaderVersion", 1}, {"minWriterVersion", 2}}));

  const Json* metadata = Find(v0, "metaData");
  ASSERT_NE(metadata, nullptr);
  EXPECT_TRUE(std::regex_match((*metadata)["id"].get<std::string>(),
                               std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                                          "[0-9a-f]{12}")));
  EXPECT_EQ((*metadata)["format"], (Json{{"provider", "parquet"}, {"options", Json::object()}}));
  EXPECT_EQ((*metadata)["partitionColumns"], Json::array());
  EXPECT_EQ((*metadata)["configuration"], Json::object());
  EXPECT_EQ((*metadata)["createdTime"], 1700000000000);
  Json schema = Json::parse((*metadata)["schemaString"].get<std::string>());
  EXPECT_EQ(schema["type"], "struct");
  std::vector<std::string> types;
  for (const Json& field : schema["fields"]) {
    types.push_back(field["type"]);
    EXPECT_TRUE(field["metadata"].is_object());
    EXPECT_TRUE(field["nullable"].is_boolean());
  }
  EXPECT_EQ(types, (std::vector<std::string>{"long", "string", "double", "date", "timestamp",
                                             "decimal(9,2)", "boolean"}));
  EXPECT_EQ(
      schema["fields"][0],
      (Json{{"name", "id"}, {"type", "long"}, {"nullable", false}, {"metadata", Json::object()}}));
  auto parsed = SchemaFromDeltaJson((*metadata)["schemaString"].get<std::string>());
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(SchemaToDeltaJson(*parsed), SchemaToDeltaJson(TestSchema()));

  const Json* add = Find(v0, "add");
  ASSERT_NE(add, nullptr);
  std::string path = (*add)["path"];
  EXPECT_TRUE(std::regex_match(path, std::regex("part-00000-[0-9a-f-]{36}-c000\\.zstd\\.parquet")))
      << path;
  EXPECT_EQ((*add)["partitionValues"], Json::object());
  EXPECT_EQ((*add)["size"], fs::file_size(dir_ + "/" + path));
  EXPECT_EQ((*add)["modificationTime"], 1700000000000);
  EXPECT_EQ((*add)["dataChange"], true);
  ASSERT_TRUE((*add)["stats"].is_string());
  Json stats = Json::parse((*add)["stats"].get<std::string>());
  EXPECT_EQ(stats["numRecords"], 100);
  EXPECT_EQ(stats["minValues"]["id"], 0);
  EXPECT_EQ(stats["maxValues"]["id"], 99);
  EXPECT_EQ(stats["nullCount"]["score"], 20);
  EXPECT_EQ(stats["nullCount"]["id"], 0);
  EXPECT_EQ(stats["minValues"]["name"], "name-0");
  EXPECT_EQ(stats["minValues"]["day"], "2022-01-08");  // day 19000
  EXPECT_EQ(stats["minValues"]["at"], "2023-11-14T22:13:20.000Z");
  EXPECT_DOUBLE_EQ(stats["minValues"]["price"].get<double>(), -50.0);
  EXPECT_FALSE(stats["minValues"].contains("flag"));  // booleans: null counts only

  auto v1 = ReadActions(1);
  const Json* append_info = Find(v1, "commitInfo");
  ASSERT_NE(append_info, nullptr);
  EXPECT_EQ((*append_info)["operation"], "WRITE");
  EXPECT_EQ((*append_info)["operationParameters"]["mode"], "Append");
  EXPECT_EQ((*append_info)["readVersion"], 0);
  EXPECT_EQ((*append_info)["isBlindAppend"], true);
  EXPECT_EQ(Find(v1, "protocol"), nullptr);
  EXPECT_EQ(Find(v1, "metaData"), nullptr);
  EXPECT_NE(Find(v1, "add"), nullptr);
  // No temp files left behind by a clean commit.
  for (const auto& entry : fs::directory_iterator(dir_ + "/_delta_log")) {
    EXPECT_TRUE(std::regex_match(entry.path().filename().string(), std::regex("[0-9]{20}\\.json")))
        << entry.path();
  }
}

TEST_F(TableTest, StatsNeverClaimInexactBounds) {
  Schema schema;
  schema.fields = {{"s", DataType::kString, true},
                   {"t", DataType::kTimestamp, true},
                   {"d", DataType::kDouble, true},
                   {"big", DataType::kDecimal, true, 18, 2}};
  ColumnBatch batch;
  batch.schema = schema;
  for (const Field& field : schema.fields) batch.columns.emplace_back(field.type);
  batch.columns[0].AppendBytes(std::string(100, 'b'));
  batch.columns[0].AppendBytes(std::string(40, 'a'));
  batch.columns[1].AppendInt(1500);  // 1.5 ms
  batch.columns[1].AppendInt(2500);
  batch.columns[2].AppendDouble(std::nan(""));
  batch.columns[2].AppendDouble(std::nan(""));
  batch.columns[3].AppendInt(1);
  batch.columns[3].AppendInt(2);
  std::vector<ColumnBatch> batches;
  batches.push_back(std::move(batch));
  ASSERT_TRUE(Table::Create(dir_, schema, batches, options_).ok());
  Json stats = Json::parse((*Find(ReadActions(0), "add"))["stats"].get<std::string>());
  EXPECT_EQ(stats["minValues"]["s"], std::string(32, 'a'));  // a prefix bounds from below
  EXPECT_FALSE(stats["maxValues"].contains("s"));            // a prefix would not bound above
  EXPECT_EQ(stats["minValues"]["t"], "1970-01-01T00:00:00.001Z");
  EXPECT_EQ(stats["maxValues"]["t"], "1970-01-01T00:00:00.003Z");  // rounded up
  EXPECT_FALSE(stats["minValues"].contains("d"));
  EXPECT_FALSE(stats["minValues"].contains("big"));  // 18 digits do not fit a double exactly
  EXPECT_EQ(stats["nullCount"]["d"], 0);
}

TEST_F(TableTest, OverwriteReplacesContentsAndKeepsHistory) {
  auto table = CreateWith(100);
  ASSERT_TRUE(AppendRows(*table, 100, 50).ok());
  std::vector<ColumnBatch> replacement;
  replacement.push_back(MakeBatch(1000, 20));
  auto overwritten = table->Overwrite(TestSchema(), replacement);
  ASSERT_TRUE(overwritten.ok()) << overwritten.status().ToString();
  EXPECT_EQ(overwritten->version, 2);
  EXPECT_EQ(overwritten->operation_metrics.at("numRemovedFiles"), "2");
  EXPECT_FALSE(overwritten->is_blind_append);
  EXPECT_EQ(SnapshotIds(*table->LatestSnapshot().value()), Range(1000, 20));
  EXPECT_EQ(SnapshotIds(*table->SnapshotAt(1).value()), Range(0, 150));

  auto v2 = ReadActions(2);
  const Json* remove = Find(v2, "remove");
  ASSERT_NE(remove, nullptr);
  EXPECT_TRUE((*remove)["path"].is_string());
  EXPECT_EQ((*remove)["deletionTimestamp"], 1700000000000);
  EXPECT_EQ((*remove)["dataChange"], true);
  EXPECT_EQ((*remove)["extendedFileMetadata"], true);
  EXPECT_EQ((*remove)["partitionValues"], Json::object());
  EXPECT_TRUE((*remove)["size"].is_number_integer());
  EXPECT_EQ((*Find(v2, "commitInfo"))["operationParameters"]["mode"], "Overwrite");
  EXPECT_EQ(Find(v2, "metaData"), nullptr);  // same schema: no new metadata

  // CREATE OR REPLACE with another schema: new metaData, same table id.
  Schema other;
  other.fields = {{"x", DataType::kInt32, true}};
  ColumnBatch batch;
  batch.schema = other;
  batch.columns.emplace_back(DataType::kInt32);
  batch.columns[0].AppendInt(7);
  std::vector<ColumnBatch> batches;
  batches.push_back(std::move(batch));
  auto replaced =
      table->Overwrite(other, batches, OperationInfo{"CREATE OR REPLACE TABLE AS SELECT", {}});
  ASSERT_TRUE(replaced.ok()) << replaced.status().ToString();
  auto latest = table->LatestSnapshot().value();
  EXPECT_EQ(latest->schema().fields.size(), 1u);
  EXPECT_EQ(latest->metadata().id, table->SnapshotAt(0).value()->metadata().id);
  EXPECT_NE(Find(ReadActions(3), "metaData"), nullptr);
  EXPECT_EQ(table->History().value()[0].operation, "CREATE OR REPLACE TABLE AS SELECT");
}

TEST_F(TableTest, DeleteWhereRewritesOnlyAffectedFiles) {
  auto table = CreateWith(100);                   // ids 0..99
  ASSERT_TRUE(AppendRows(*table, 100, 50).ok());  // ids 100..149
  ASSERT_TRUE(AppendRows(*table, 150, 50).ok());  // ids 150..199
  auto before = table->LatestSnapshot().value();
  // Odd ids below 100 go, all of 100..149 go, nothing of 150..199.
  auto deleted = table->DeleteWhere(
      KeepIf([](int64_t id) { return !(id < 100 && id % 2 == 1) && !(id >= 100 && id < 150); }),
      "id is odd and < 100 or 100 <= id < 150");
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(deleted->operation, "DELETE");
  EXPECT_EQ(deleted->operation_parameters.at("predicate"),
            "id is odd and < 100 or 100 <= id < 150");
  EXPECT_EQ(deleted->operation_metrics.at("numDeletedRows"), "100");
  EXPECT_EQ(deleted->operation_metrics.at("numCopiedRows"), "50");
  EXPECT_EQ(deleted->operation_metrics.at("numRemovedFiles"), "2");
  EXPECT_EQ(deleted->operation_metrics.at("numAddedFiles"), "1");
  auto after = table->LatestSnapshot().value();
  std::vector<int64_t> expected;
  for (int64_t id = 0; id < 100; id += 2) expected.push_back(id);
  for (int64_t id = 150; id < 200; ++id) expected.push_back(id);
  auto ids = SnapshotIds(*after);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, expected);
  EXPECT_EQ(after->NumRecords(), 100);
  // The untouched file is still the same file.
  EXPECT_NE(after->FindFile(before->files()[2].path), nullptr);
  // Every column's values survive the rewrite; the rewritten file comes after the untouched one.
  std::vector<ColumnBatch> expected_rows;
  expected_rows.push_back(MakeBatch(150, 50));
  for (int64_t id = 0; id < 100; id += 2) expected_rows.push_back(MakeBatch(id, 1));
  EXPECT_EQ(Hash(after->ReadAll().value()), Hash(expected_rows));
  // Deleting nothing still commits, as Delta does.
  auto nothing = table->DeleteWhere(KeepIf([](int64_t) { return true; }), "false");
  ASSERT_TRUE(nothing.ok());
  EXPECT_EQ(nothing->operation_metrics.at("numDeletedRows"), "0");
  EXPECT_EQ(table->LatestSnapshot().value()->files().size(), after->files().size());
  // A predicate error aborts the delete and leaves the table alone.
  auto failing = table->DeleteWhere(
      [](const ColumnBatch&) -> core::Result<std::vector<bool>> {
        return core::InvalidArgument("no such column 'zzz'");
      },
      "zzz = 1");
  EXPECT_EQ(failing.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(CurrentVersion(), 4);
}

TEST_F(TableTest, RestoreToVersionBringsBackOldFiles) {
  auto table = CreateWith(100);                   // v0
  ASSERT_TRUE(AppendRows(*table, 100, 10).ok());  // v1
  std::vector<ColumnBatch> replacement;
  replacement.push_back(MakeBatch(500, 5));
  ASSERT_TRUE(table->Overwrite(TestSchema(), replacement).ok());  // v2
  ASSERT_TRUE(table->DeleteWhere(KeepIf([](int64_t id) { return id != 501; }), "id = 501").ok());
  auto v1 = table->SnapshotAt(1).value();
  auto restored = table->RestoreToVersion(1);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(restored->version, 4);
  EXPECT_EQ(restored->operation, "RESTORE");
  EXPECT_EQ(restored->operation_parameters.at("version"), "1");
  EXPECT_EQ(restored->operation_metrics.at("numRestoredFiles"), "2");
  EXPECT_EQ(restored->operation_metrics.at("numRemovedFiles"), "1");
  EXPECT_EQ(restored->operation_metrics.at("numOfFilesAfterRestore"), "2");
  auto latest = table->LatestSnapshot().value();
  EXPECT_EQ(Hash(latest->ReadAll().value()), Hash(v1->ReadAll().value()));
  std::set<std::string> paths_now;
  std::set<std::string> paths_then;
  for (const auto& file : latest->files()) paths_now.insert(file.path);
  for (const auto& file : v1->files()) paths_then.insert(file.path);
  EXPECT_EQ(paths_now, paths_then);
  EXPECT_EQ(table->RestoreToVersion(9).status().code(), core::StatusCode::kInvalidArgument);
  // A vacuumed data file makes the restore impossible, and nothing is committed.
  fs::remove(dir_ + "/" + table->SnapshotAt(2).value()->files()[0].path);
  EXPECT_EQ(table->RestoreToVersion(2).status().code(), core::StatusCode::kFailedPrecondition);
  EXPECT_EQ(CurrentVersion(), 4);
}

TEST_F(TableTest, TimeTravelByVersionAndTimestamp) {
  clock_.Set(1000);
  auto table = CreateWith(10);  // v0 at 1000
  clock_.Set(2000);
  ASSERT_TRUE(AppendRows(*table, 10, 10).ok());  // v1 at 2000
  clock_.Set(3000);
  ASSERT_TRUE(AppendRows(*table, 20, 10).ok());  // v2 at 3000
  clock_.Set(2500);  // the clock steps back: commit timestamps stay monotonic
  auto v3 = AppendRows(*table, 30, 10);
  ASSERT_TRUE(v3.ok());
  EXPECT_EQ(v3->timestamp_ms, 3001);

  auto reopened = Table::Open(dir_).value();
  EXPECT_EQ(SnapshotIds(*reopened->SnapshotAt(0).value()), Range(0, 10));
  EXPECT_EQ(SnapshotIds(*reopened->SnapshotAt(2).value()), Range(0, 30));
  EXPECT_EQ(reopened->SnapshotAt(1).value()->timestamp_ms(), 2000);
  auto missing = reopened->SnapshotAt(4);
  EXPECT_EQ(missing.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("versions 0 to 3"), std::string::npos);
  EXPECT_EQ(reopened->SnapshotAt(-1).status().code(), core::StatusCode::kInvalidArgument);

  auto at = [&](int64_t timestamp_ms) -> int64_t {
    auto snapshot = reopened->SnapshotAtTimestamp(timestamp_ms);
    return snapshot.ok() ? (*snapshot)->version() : -1;
  };
  EXPECT_EQ(at(1000), 0);
  EXPECT_EQ(at(1999), 0);
  EXPECT_EQ(at(2000), 1);
  EXPECT_EQ(at(2999), 1);
  EXPECT_EQ(at(3000), 2);
  EXPECT_EQ(at(3001), 3);
  auto before = reopened->SnapshotAtTimestamp(999);
  EXPECT_EQ(before.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(before.status().message().find("1970-01-01T00:00:01.000Z"), std::string::npos)
      << before.status().message();
  EXPECT_EQ(reopened->SnapshotAtTimestamp(3002).status().code(),
            core::StatusCode::kInvalidArgument);
}

TEST_F(TableTest, HistoryListsCommitsNewestFirst) {
  clock_.Set(5000);
  auto table = CreateWith(10);
  clock_.Set(6000);
  ASSERT_TRUE(AppendRows(*table, 10, 5).ok());
  ASSERT_TRUE(table->DeleteWhere(KeepIf([](int64_t id) { return id > 2; }), "id <= 2").ok());
  auto history = Table::Open(dir_).value()->History();
  ASSERT_TRUE(history.ok()) << history.status().ToString();
  ASSERT_EQ(history->size(), 3u);
  EXPECT_EQ((*history)[0].version, 2);
  EXPECT_EQ((*history)[0].operation, "DELETE");
  EXPECT_EQ((*history)[0].read_version, 1);
  EXPECT_EQ((*history)[0].isolation_level, "Serializable");
  EXPECT_EQ((*history)[0].operation_metrics.at("numDeletedRows"), "3");
  EXPECT_EQ((*history)[1].operation, "WRITE");
  EXPECT_EQ((*history)[1].operation_metrics.at("numOutputRows"), "5");
  EXPECT_EQ((*history)[1].timestamp_ms, 6000);
  EXPECT_TRUE((*history)[1].is_blind_append);
  EXPECT_EQ((*history)[2].version, 0);
  EXPECT_EQ((*history)[2].operation, "CREATE TABLE AS SELECT");
  EXPECT_EQ((*history)[2].timestamp_ms, 5000);
  EXPECT_EQ((*history)[2].engine_info, "lakeml/0.1.0");
  EXPECT_EQ(table->History(2).value().size(), 2u);
}

// ---- crash safety: fail each file-system mutation of a commit in turn ----

struct FaultCase {
  const char* name;
  // Runs one operation on a table at version 1 (ids 0..149 in two files).
  std::function<core::Status(Table&)> run;
  std::vector<int64_t> ids_after;  // sorted ids of the new version
};

std::vector<FaultCase> FaultCases() {
  auto status_of = [](auto result) { return result.status(); };
  std::vector<FaultCase> cases;
  cases.push_back({"append",
                   [=](Table& table) {
                     std::vector<ColumnBatch> batches;
                     batches.push_back(MakeBatch(150, 10));
                     return status_of(table.Append(batches));
                   },
                   Range(0, 160)});
  cases.push_back({"overwrite",
                   [=](Table& table) {
                     std::vector<ColumnBatch> batches;
                     batches.push_back(MakeBatch(900, 10));
                     return status_of(table.Overwrite(TestSchema(), batches));
                   },
                   Range(900, 10)});
  std::vector<int64_t> after_delete;
  for (int64_t id = 0; id < 150; ++id) {
    if (id % 3 != 0) after_delete.push_back(id);
  }
  cases.push_back({"delete",
                   [=](Table& table) {
                     return status_of(
                         table.DeleteWhere(KeepIf([](int64_t id) { return id % 3 != 0; }), "x"));
                   },
                   after_delete});
  cases.push_back({"restore", [=](Table& table) { return status_of(table.RestoreToVersion(0)); },
                   Range(0, 100)});
  return cases;
}

TEST_F(TableTest, EveryFailedMutationLeavesOldOrNewVersion) {
  for (const FaultCase& fault_case : FaultCases()) {
    for (bool crash : {false, true}) {
      bool fault_fired = true;
      int failed_commits = 0;     // the fault hit before the link: old version
      int committed_despite = 0;  // the fault hit housekeeping after the link: new version
      for (int64_t n = 1; fault_fired; ++n) {
        SCOPED_TRACE(fmt::format("{} crash={} failing mutation {}", fault_case.name, crash, n));
        fs::remove_all(dir_);
        {
          auto table = CreateWith(100);
          ASSERT_TRUE(AppendRows(*table, 100, 50).ok());
        }
        FaultInjectionFileSystem faulty(FileSystem::Default());
        TableOptions options = options_;
        options.file_system = &faulty;
        auto table = Table::Open(dir_, options);
        ASSERT_TRUE(table.ok());
        faulty.FailNthMutation(n, crash);
        core::Status status = fault_case.run(**table);
        fault_fired = faulty.fired();
        if (!fault_fired) {
          EXPECT_TRUE(status.ok()) << status.ToString();
        }

        // "Reopen after the crash": a fresh Table on the real file system.
        auto reopened = Table::Open(dir_);
        ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
        auto snapshot = (*reopened)->LatestSnapshot().value();
        auto ids = SnapshotIds(*snapshot);
        std::sort(ids.begin(), ids.end());
        if (fault_fired) ++(status.ok() ? committed_despite : failed_commits);
        if (status.ok()) {
          // Success means committed, even if housekeeping after the link failed.
          EXPECT_EQ(snapshot->version(), 2);
        } else {
          EXPECT_EQ(snapshot->version(), 1) << status.ToString();
        }
        EXPECT_EQ(ids, snapshot->version() == 2 ? fault_case.ids_after : Range(0, 150));
        // The table stays writable after the failure.
        ASSERT_TRUE(AppendRows(**reopened, 5000, 1).ok());
        EXPECT_EQ((*reopened)->LatestSnapshot().value()->version(), snapshot->version() + 1);
      }
      // Temp-file write, its fsync and the link can each fail the commit; the temp removal and
      // the directory fsync come after the link. Delete and overwrite also sync the data dir.
      EXPECT_GE(failed_commits, 3) << fault_case.name;
      if (!crash) {
        EXPECT_EQ(committed_despite, 2) << fault_case.name;
      }
    }
  }
}

TEST_F(TableTest, FailedCreateLeavesNoTable) {
  for (bool crash : {false, true}) {
    bool fault_fired = true;
    for (int64_t n = 1; fault_fired; ++n) {
      SCOPED_TRACE(fmt::format("crash={} failing mutation {}", crash, n));
      fs::remove_all(dir_);
      FaultInjectionFileSystem faulty(FileSystem::Default());
      TableOptions options = options_;
      options.file_system = &faulty;
      faulty.FailNthMutation(n, crash);
      std::vector<ColumnBatch> batches;
      batches.push_back(MakeBatch(0, 10));
      auto created = Table::Create(dir_, TestSchema(), batches, options);
      fault_fired = faulty.fired();
      auto reopened = Table::Open(dir_);
      if (created.ok()) {
        ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
        EXPECT_EQ(SnapshotIds(*(*reopened)->LatestSnapshot().value()), Range(0, 10));
      } else {
        EXPECT_EQ(reopened.status().code(), core::StatusCode::kNotFound)
            << reopened.status().ToString();
        // Creating again after the failure works.
        EXPECT_TRUE(Table::Create(dir_, TestSchema(), batches, options_).ok());
      }
    }
  }
}

// ---- concurrent writers ----

TEST_F(TableTest, LostRaceBlindAppendRetriesAtNextVersion) {
  CreateWith(10);
  RaceFileSystem racy;
  TableOptions options = options_;
  options.file_system = &racy;
  auto writer_a = Table::Open(dir_, options_).value();
  auto writer_b = Table::Open(dir_, options).value();
  core::Result<CommitInfo> a_result = core::Internal("not run");
  racy.BeforeNextLink([&] { a_result = AppendRows(*writer_a, 100, 5); });
  auto b_result = AppendRows(*writer_b, 200, 5);
  ASSERT_TRUE(a_result.ok()) << a_result.status().ToString();
  ASSERT_TRUE(b_result.ok()) << b_result.status().ToString();
  EXPECT_EQ(a_result->version, 1);
  EXPECT_EQ(b_result->version, 2);
  EXPECT_EQ(b_result->read_version, 0);
  auto ids = SnapshotIds(*Table::Open(dir_).value()->LatestSnapshot().value());
  std::vector<int64_t> expected = Range(0, 10);
  for (int64_t id : Range(100, 5)) expected.push_back(id);
  for (int64_t id : Range(200, 5)) expected.push_back(id);
  EXPECT_EQ(ids, expected);
}

TEST_F(TableTest, ConflictingConcurrentCommitsAbort) {
  struct Race {
    const char* name;
    std::function<core::Status(Table&)> winner;
    std::function<core::Status(Table&)> loser;
    bool loser_aborts;
  };
  auto append = [](Table& table) { return AppendRowsStatic(table, 300, 3); };
  auto overwrite = [](Table& table) {
    std::vector<ColumnBatch> batches;
    batches.push_back(MakeBatch(700, 3));
    return table.Overwrite(TestSchema(), batches).status();
  };
  auto delete_some = [](Table& table) {
    return table.DeleteWhere(KeepIf([](int64_t id) { return id != 4; }), "id = 4").status();
  };
  auto change_schema = [](Table& table) {
    Schema other;
    other.fields = {{"x", DataType::kInt32, true}};
    return table.Overwrite(other, {}).status();
  };
  std::vector<Race> races = {
      {"overwrite vs concurrent append", append, overwrite, true},
      {"delete vs concurrent delete", delete_some, delete_some, true},
      {"delete vs concurrent append", append, delete_some, true},
      {"append vs concurrent overwrite", overwrite, append, false},
      {"append vs concurrent schema change", change_schema, append, true},
  };
  for (const Race& race : races) {
    SCOPED_TRACE(race.name);
    fs::remove_all(dir_);
    CreateWith(10);
    RaceFileSystem racy;
    TableOptions options = options_;
    options.file_system = &racy;
    auto winner = Table::Open(dir_, options_).value();
    auto loser = Table::Open(dir_, options).value();
    core::Status winner_status = core::Internal("not run");
    racy.BeforeNextLink([&] { winner_status = race.winner(*winner); });
    core::Status loser_status = race.loser(*loser);
    ASSERT_TRUE(winner_status.ok()) << winner_status.ToString();
    auto latest = Table::Open(dir_).value()->LatestSnapshot().value();
    if (race.loser_aborts) {
      EXPECT_EQ(loser_status.code(), core::StatusCode::kAborted) << loser_status.ToString();
      EXPECT_NE(loser_status.message().find("concurrent modification"), std::string::npos);
      EXPECT_EQ(latest->version(), 1);
      // The loser's data files were cleaned up: only live and earlier files remain.
      std::set<std::string> known;
      auto reader = Table::Open(dir_).value();
      for (int64_t version = 0; version <= 1; ++version) {
        auto snapshot = reader->SnapshotAt(version).value();
        for (const auto& file : snapshot->files()) known.insert(file.path);
      }
      for (const auto& entry : fs::directory_iterator(dir_)) {
        if (entry.is_regular_file()) {
          EXPECT_TRUE(known.count(entry.path().filename().string())) << entry.path();
        }
      }
    } else {
      EXPECT_TRUE(loser_status.ok()) << loser_status.ToString();
      EXPECT_EQ(latest->version(), 2);
    }
  }
}

TEST_F(TableTest, ThreadsAppendingConcurrentlyAllSucceed) {
  CreateWith(10);
  constexpr int kThreads = 2;
  constexpr int kAppendsPerThread = 10;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int thread = 0; thread < kThreads; ++thread) {
    threads.emplace_back([&, thread] {
      TableOptions options;
      options.max_commit_attempts = 100;
      auto table = Table::Open(dir_, options);
      if (!table.ok()) {
        ++failures;
        return;
      }
      for (int i = 0; i < kAppendsPerThread; ++i) {
        std::vector<ColumnBatch> batches;
        batches.push_back(MakeBatch(1000 * (thread + 1) + i * 10, 10));
        if (!(*table)->Append(batches).ok()) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  auto table = Table::Open(dir_).value();
  auto latest = table->LatestSnapshot().value();
  EXPECT_EQ(latest->version(), kThreads * kAppendsPerThread);
  EXPECT_EQ(latest->NumRecords(), 10 + kThreads * kAppendsPerThread * 10);
  auto ids = SnapshotIds(*latest);
  EXPECT_EQ(std::set<int64_t>(ids.begin(), ids.end()).size(), ids.size());
  // Every commit names its own read version, below its version.
  for (const CommitInfo& info : table->History().value()) {
    if (info.version > 0) {
      EXPECT_LT(*info.read_version, info.version);
    }
  }
}

// ---- hostile logs ----

TEST_F(TableTest, TruncatedCommitLineIsDataLoss) {
  auto table = CreateWith(10);
  ASSERT_TRUE(AppendRows(*table, 10, 5).ok());
  std::string text;
  {
    std::ifstream in(LogFile(1));
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  WriteText(LogFile(1), text.substr(0, text.size() - 30));
  auto reopened = Table::Open(dir_);
  EXPECT_EQ(reopened.status().code(), core::StatusCode::kDataLoss);
  EXPECT_NE(reopened.status().message().find("00000000000000000001.json"), std::string::npos);
  // A corrupt log is refused as a whole, also by a table opened before the damage.
  EXPECT_EQ(table->SnapshotAt(0).status().code(), core::StatusCode::kDataLoss);
}

TEST_F(TableTest, MissingVersionIsDataLoss) {
  auto table = CreateWith(10);
  ASSERT_TRUE(AppendRows(*table, 10, 5).ok());
  ASSERT_TRUE(AppendRows(*table, 20, 5).ok());
  fs::remove(LogFile(1));
  auto reopened = Table::Open(dir_);
  EXPECT_EQ(reopened.status().code(), core::StatusCode::kDataLoss);
  EXPECT_NE(reopened.status().message().find("missing version 1"), std::string::npos);
  fs::remove(LogFile(0));
  EXPECT_EQ(Table::Open(dir_).status().code(), core::StatusCode::kDataLoss);
  WriteText(dir_ + "/_delta_log/_last_checkpoint", R"({"version":1,"size":3})");
  EXPECT_EQ(Table::Open(dir_).status().code(), core::StatusCode::kUnimplemented);
}

TEST_F(TableTest, UnknownActionsAndFieldsAreIgnored) {
  auto table = CreateWith(10);
  std::string add_path = table->LatestSnapshot().value()->files()[0].path;
  WriteText(
      LogFile(1),
      R"({"commitInfo":{"timestamp":1700000001000,"operation":"STREAMING UPDATE","futureField":[1,2],"operationMetrics":{"numFiles":3}}})"
      "\n"
      R"({"txn":{"appId":"stream-1","version":4,"lastUpdated":1700000001000}})"
      "\n"
      R"({"someFutureAction":{"x":1}})"
      "\n\n"
      R"({"domainMetadata":{"domain":"d","configuration":"{}","removed":false}})"
      "\n");
  auto reopened = Table::Open(dir_);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  auto snapshot = (*reopened)->LatestSnapshot().value();
  EXPECT_EQ(snapshot->version(), 1);
  EXPECT_EQ(snapshot->files()[0].path, add_path);
  auto history = (*reopened)->History().value();
  EXPECT_EQ(history[0].operation, "STREAMING UPDATE");
  EXPECT_EQ(history[0].operation_metrics.at("numFiles"), "3");
  // A remove of an unknown file and an add with extra fields are fine too.
  WriteText(
      LogFile(2),
      R"({"remove":{"path":"never-added.parquet","dataChange":true}})"
      "\n"
      R"({"add":{"path":")" +
          add_path +
          R"(","size":1,"modificationTime":1,"dataChange":false,"partitionValues":{},"tags":{"a":"b"},"clusteringProvider":"x"}})");
  auto v2 = Table::Open(dir_).value()->LatestSnapshot();
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  EXPECT_EQ((*v2)->files().size(), 1u);
  EXPECT_EQ((*v2)->files()[0].size_bytes, 1);  // the newest action for a path wins
}

TEST_F(TableTest, NewerProtocolsAreRefused) {
  auto table = CreateWith(10);
  // Writer features only: reading works, writing is refused.
  WriteText(
      LogFile(1),
      R"({"protocol":{"minReaderVersion":1,"minWriterVersion":7,"writerFeatures":["appendOnly","checkConstraints"]}})"
      "\n");
  auto reopened = Table::Open(dir_);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ(SnapshotIds(*(*reopened)->LatestSnapshot().value()), Range(0, 10));
  EXPECT_EQ(AppendRows(**reopened, 10, 1).status().code(), core::StatusCode::kUnimplemented);
  // Reader features: refused outright, naming the feature.
  WriteText(
      LogFile(2),
      R"({"protocol":{"minReaderVersion":3,"minWriterVersion":7,"readerFeatures":["deletionVectors"],"writerFeatures":["deletionVectors"]}})"
      "\n");
  auto refused = Table::Open(dir_);
  EXPECT_EQ(refused.status().code(), core::StatusCode::kUnimplemented);
  EXPECT_NE(refused.status().message().find("deletionVectors"), std::string::npos);
  // Once the protocol is upgraded, no version is read (not even through a table opened before).
  EXPECT_EQ((*reopened)->SnapshotAt(0).status().code(), core::StatusCode::kUnimplemented);
}

TEST_F(TableTest, MalformedActionsAreDataLoss) {
  struct Case {
    const char* name;
    std::string line;
    core::StatusCode code;
  };
  std::vector<Case> cases = {
      {"not json", "{\"add\":{\"path\":", core::StatusCode::kDataLoss},
      {"not an object", "[1,2,3]", core::StatusCode::kDataLoss},
      {"add without size", R"({"add":{"path":"x.parquet"}})", core::StatusCode::kDataLoss},
      {"add path escaping the table", R"({"add":{"path":"../../etc/passwd","size":1}})",
       core::StatusCode::kDataLoss},
      {"add body not an object", R"({"add":"x"})", core::StatusCode::kDataLoss},
      {"protocol without versions", R"({"protocol":{}})", core::StatusCode::kDataLoss},
      {"metaData with nested type",
       R"({"metaData":{"id":"x","format":{"provider":"parquet"},"schemaString":"{\"type\":\"struct\",\"fields\":[{\"name\":\"a\",\"type\":{\"type\":\"array\",\"elementType\":\"long\",\"containsNull\":true},\"nullable\":true,\"metadata\":{}}]}","partitionColumns":[],"configuration":{}}})",
       core::StatusCode::kUnimplemented},
      {"metaData with bad schema string",
       R"({"metaData":{"id":"x","format":{"provider":"parquet"},"schemaString":"{oops","partitionColumns":[],"configuration":{}}})",
       core::StatusCode::kDataLoss},
      {"deletion vector",
       R"({"add":{"path":"x.parquet","size":1,"deletionVector":{"storageType":"u"}}})",
       core::StatusCode::kUnimplemented},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    fs::remove_all(dir_);
    CreateWith(3);
    WriteText(LogFile(1), c.line + "\n");
    EXPECT_EQ(Table::Open(dir_).status().code(), c.code) << Table::Open(dir_).status().ToString();
  }
}

TEST_F(TableTest, FirstVersionWithoutMetadataIsDataLoss) {
  fs::create_directories(dir_ + "/_delta_log");
  WriteText(LogFile(0), R"({"protocol":{"minReaderVersion":1,"minWriterVersion":2}})"
                        "\n");
  EXPECT_EQ(Table::Open(dir_).status().code(), core::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace lakeml::storage
