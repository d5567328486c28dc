#include "storage/table.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <unordered_set>
#include <utility>

#include "core/ids.h"
#include "storage/parquet_reader.h"

namespace lakeml::storage {
namespace {

const core::Clock* DefaultClock() {
  static const core::SystemClock clock;
  return &clock;
}

// A uuid4 in its canonical 8-4-4-4-12 form, as Delta writes metaData.id and file names.
std::string NewUuid() {
  std::string hex = core::RandomHex(32);
  hex[12] = '4';
  hex[16] = "89ab"[std::stoi(hex.substr(16, 1), nullptr, 16) & 3];
  return fmt::format("{}-{}-{}-{}-{}", hex.substr(0, 8), hex.substr(8, 4), hex.substr(12, 4),
                     hex.substr(16, 4), hex.substr(20, 12));
}

bool SameField(const Field& a, const Field& b) {
  return a.name == b.name && a.type == b.type && a.nullable == b.nullable &&
         (a.type != DataType::kDecimal ||
          (a.decimal_precision == b.decimal_precision && a.decimal_scale == b.decimal_scale));
}

bool SameSchema(const Schema& a, const Schema& b) {
  if (a.fields.size() != b.fields.size()) return false;
  for (size_t i = 0; i < a.fields.size(); ++i) {
    if (!SameField(a.fields[i], b.fields[i])) return false;
  }
  return true;
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

core::Status ValidateSchema(const Schema& schema) {
  if (schema.fields.empty()) return core::InvalidArgument("a table needs at least one column");
  // Delta column names are unique case-insensitively (reference §2.3).
  std::unordered_set<std::string> names;
  for (const Field& field : schema.fields) {
    if (field.name.empty()) return core::InvalidArgument("empty column name");
    if (!names.insert(Lower(field.name)).second) {
      return core::InvalidArgument("duplicate column name '{}'", field.name);
    }
    LAKEML_RETURN_IF_ERROR(SchemaElementForField(field).status());
  }
  return core::Status::Ok();
}

// Batches are matched to the table by position, so names and types must agree exactly; only
// nullability may differ (the writer rejects NULLs in non-nullable columns itself).
core::Status ValidateBatches(const Schema& schema, std::span<const ColumnBatch> batches) {
  for (const ColumnBatch& batch : batches) {
    LAKEML_RETURN_IF_ERROR(batch.Validate());
    if (batch.schema.fields.size() != schema.fields.size()) {
      return core::InvalidArgument("data has {} columns but the table has {}",
                                   batch.schema.fields.size(), schema.fields.size());
    }
    for (size_t i = 0; i < schema.fields.size(); ++i) {
      Field data_field = batch.schema.fields[i];
      data_field.nullable = schema.fields[i].nullable;
      if (!SameField(data_field, schema.fields[i])) {
        return core::InvalidArgument(
            "data column {} ('{}' {}) does not match table column '{}' ({})", i,
            batch.schema.fields[i].name, DataTypeName(batch.schema.fields[i].type),
            schema.fields[i].name, DataTypeName(schema.fields[i].type));
      }
    }
  }
  return core::Status::Ok();
}

int64_t CountRows(std::span<const ColumnBatch> batches) {
  int64_t rows = 0;
  for (const ColumnBatch& batch : batches) rows += static_cast<int64_t>(batch.num_rows());
  return rows;
}

ColumnBatch FilterRows(const ColumnBatch& batch, const std::vector<bool>& keep) {
  ColumnBatch out;
  out.schema = batch.schema;
  for (const Column& column : batch.columns) {
    Column filtered(column.type());
    for (size_t row = 0; row < column.size(); ++row) {
      if (!keep[row]) continue;
      if (column.IsNull(row)) {
        filtered.AppendNull();
        continue;
      }
      switch (column.type()) {
        case DataType::kFloat:
        case DataType::kDouble:
          filtered.AppendDouble(column.Double(row));
          break;
        case DataType::kString:
        case DataType::kBinary:
          filtered.AppendBytes(column.Bytes(row));
          break;
        default:
          filtered.AppendInt(column.Int(row));
          break;
      }
    }
    out.columns.push_back(std::move(filtered));
  }
  return out;
}

RemoveAction RemoveFor(const AddAction& file, int64_t now_ms) {
  RemoveAction remove;
  remove.path = file.path;
  remove.deletion_timestamp_ms = now_ms;
  remove.data_change = true;
  remove.extended_file_metadata = true;
  remove.partition_values = file.partition_values;
  remove.size_bytes = file.size_bytes;
  return remove;
}

MetadataAction MetadataFor(const MetadataAction& base, const Schema& schema) {
  MetadataAction metadata = base;
  metadata.schema = schema;
  metadata.schema_string = SchemaToDeltaJson(schema);
  return metadata;
}

OperationInfo Or(std::optional<OperationInfo> given, OperationInfo fallback) {
  return given ? std::move(*given) : std::move(fallback);
}

// Why a winning commit invalidates ours, or an empty string when we may retry on top of it.
std::string ConflictWith(const CommitActions& winner, int64_t winner_version, bool blind_append,
                         const Snapshot& read) {
  if (winner.protocol || winner.metadata) {
    return fmt::format("version {} changed the table's protocol or metadata", winner_version);
  }
  if (blind_append) return "";
  for (const RemoveAction& remove : winner.removes) {
    if (read.FindFile(remove.path) != nullptr) {
      return fmt::format("version {} removed file '{}' that this operation read", winner_version,
                         remove.path);
    }
  }
  for (const AddAction& add : winner.adds) {
    if (add.data_change) {
      return fmt::format("version {} added file '{}' that this operation did not read",
                         winner_version, add.path);
    }
  }
  return "";
}

}  // namespace

Table::Table(Passkey, FileSystem* file_system, const core::Clock* clock, const std::string& dir,
             const TableOptions& options)
    : file_system_(file_system), clock_(clock), options_(options), log_(file_system, dir) {}

core::Result<std::unique_ptr<Table>> Table::Create(const std::string& dir, const Schema& schema,
                                                   std::span<const ColumnBatch> batches,
                                                   const TableOptions& options,
                                                   std::optional<OperationInfo> operation) {
  LAKEML_RETURN_IF_ERROR(ValidateSchema(schema));
  LAKEML_RETURN_IF_ERROR(ValidateBatches(schema, batches));
  FileSystem* file_system = options.file_system ? options.file_system : FileSystem::Default();
  const core::Clock* clock = options.clock ? options.clock : DefaultClock();
  auto table = std::make_unique<Table>(Passkey(), file_system, clock, dir, options);

  LAKEML_ASSIGN_OR_RETURN(int64_t existing, table->log_.LatestVersion());
  if (existing >= 0) return core::AlreadyExists("table at '{}' already exists", dir);
  LAKEML_RETURN_IF_ERROR(file_system->CreateDirs(table->log_.log_dir()));
  // The new directories must survive a crash before a commit inside them can.
  LAKEML_RETURN_IF_ERROR(file_system->SyncDir(dir));

  PendingCommit pending;
  int64_t rows = CountRows(batches);
  if (rows > 0) {
    auto add = table->WriteDataFile(schema, batches, &pending.written_paths);
    if (!add.ok()) {
      table->RemoveDataFiles(pending.written_paths);
      return std::move(add).status();
    }
    pending.adds.push_back(std::move(add).value());
  }
  int64_t now_ms = clock->NowMillis();
  MetadataAction metadata;
  metadata.id = NewUuid();
  metadata.schema = schema;
  metadata.schema_string = SchemaToDeltaJson(schema);
  metadata.created_time_ms = now_ms;

  CommitInfo info;
  info.version = 0;
  info.timestamp_ms = now_ms;
  OperationInfo op = Or(
      std::move(operation),
      {rows > 0 ? "CREATE TABLE AS SELECT" : "CREATE TABLE",
       {{"isManaged", "false"}, {"description", ""}, {"partitionBy", "[]"}, {"properties", "{}"}}});
  info.operation = std::move(op.operation);
  info.operation_parameters = std::move(op.parameters);
  info.isolation_level = "Serializable";
  info.is_blind_append = true;
  int64_t output_bytes = 0;
  for (const AddAction& add : pending.adds) output_bytes += add.size_bytes;
  info.operation_metrics = {{"numFiles", std::to_string(pending.adds.size())},
                            {"numOutputRows", std::to_string(rows)},
                            {"numOutputBytes", std::to_string(output_bytes)}};
  info.engine_info = std::string(kEngineInfo);

  CommitActions actions;
  actions.commit_info = info;
  actions.protocol = ProtocolAction{};
  actions.metadata = std::move(metadata);
  actions.adds = std::move(pending.adds);
  core::Status published = table->log_.PublishCommit(0, EncodeCommit(actions));
  if (!published.ok()) {
    table->RemoveDataFiles(pending.written_paths);
    if (published.code() == core::StatusCode::kAlreadyExists) {
      return core::AlreadyExists("table at '{}' already exists", dir);
    }
    return published;
  }
  {
    std::lock_guard lock(table->mu_);
    table->commit_infos_[0] = info;
  }
  LAKEML_RETURN_IF_ERROR(table->LatestSnapshot().status());
  return table;
}

core::Result<std::unique_ptr<Table>> Table::Open(const std::string& dir,
                                                 const TableOptions& options) {
  FileSystem* file_system = options.file_system ? options.file_system : FileSystem::Default();
  const core::Clock* clock = options.clock ? options.clock : DefaultClock();
  auto table = std::make_unique<Table>(Passkey(), file_system, clock, dir, options);
  LAKEML_RETURN_IF_ERROR(table->LatestSnapshot().status());
  return table;
}

core::Result<std::shared_ptr<const Snapshot>> Table::LatestSnapshot() {
  LAKEML_ASSIGN_OR_RETURN(int64_t latest_version, log_.LatestVersion());
  if (latest_version < 0) return core::NotFound("no table at '{}'", dir());
  std::shared_ptr<const Snapshot> base;
  {
    std::lock_guard lock(mu_);
    base = latest_;
  }
  if (base != nullptr && base->version() == latest_version) return base;
  if (base != nullptr && base->version() > latest_version) {
    return core::DataLoss("table log at '{}' lost versions {} to {}", log_.log_dir(),
                          latest_version + 1, base->version());
  }
  // Replay outside the lock: it reads files, and other threads may keep using `base`.
  LAKEML_ASSIGN_OR_RETURN(std::shared_ptr<const Snapshot> snapshot,
                          log_.Replay(latest_version, base));
  std::lock_guard lock(mu_);
  if (latest_ == nullptr || latest_->version() < snapshot->version()) latest_ = snapshot;
  return snapshot;
}

core::Result<std::shared_ptr<const Snapshot>> Table::SnapshotAt(int64_t version) {
  LAKEML_ASSIGN_OR_RETURN(std::shared_ptr<const Snapshot> latest, LatestSnapshot());
  if (version < 0 || version > latest->version()) {
    return core::InvalidArgument("version {} of table '{}' does not exist (versions 0 to {})",
                                 version, dir(), latest->version());
  }
  if (version == latest->version()) return latest;
  return log_.Replay(version, nullptr);
}

core::Result<CommitInfo> Table::CommitInfoFor(int64_t version) {
  {
    std::lock_guard lock(mu_);
    auto it = commit_infos_.find(version);
    if (it != commit_infos_.end()) return it->second;
  }
  LAKEML_ASSIGN_OR_RETURN(CommitActions actions, log_.ReadCommit(version));
  CommitInfo info = actions.commit_info.value_or(CommitInfo{});
  info.version = version;
  std::lock_guard lock(mu_);
  commit_infos_[version] = info;
  return info;
}

core::Result<std::shared_ptr<const Snapshot>> Table::SnapshotAtTimestamp(int64_t timestamp_ms) {
  LAKEML_ASSIGN_OR_RETURN(std::shared_ptr<const Snapshot> latest, LatestSnapshot());
  // Commit timestamps made monotonic, as Delta readers do for logs written by other engines.
  std::vector<int64_t> timestamps;
  timestamps.reserve(static_cast<size_t>(latest->version() + 1));
  for (int64_t version = 0; version <= latest->version(); ++version) {
    LAKEML_ASSIGN_OR_RETURN(CommitInfo info, CommitInfoFor(version));
    int64_t previous = timestamps.empty() ? info.timestamp_ms : timestamps.back();
    timestamps.push_back(std::max(previous, info.timestamp_ms));
  }
  if (timestamp_ms < timestamps.front()) {
    return core::InvalidArgument(
        "timestamp {} is before the first commit of table '{}' (valid range {} to {})",
        FormatTimestampMillis(timestamp_ms), dir(), FormatTimestampMillis(timestamps.front()),
        FormatTimestampMillis(timestamps.back()));
  }
  if (timestamp_ms > timestamps.back()) {
    return core::InvalidArgument(
        "timestamp {} is after the latest commit of table '{}' (valid range {} to {})",
        FormatTimestampMillis(timestamp_ms), dir(), FormatTimestampMillis(timestamps.front()),
        FormatTimestampMillis(timestamps.back()));
  }
  auto after = std::upper_bound(timestamps.begin(), timestamps.end(), timestamp_ms);
  return SnapshotAt(static_cast<int64_t>(after - timestamps.begin()) - 1);
}

core::Result<std::vector<CommitInfo>> Table::History(int64_t limit) {
  LAKEML_ASSIGN_OR_RETURN(int64_t latest_version, log_.LatestVersion());
  if (latest_version < 0) return core::NotFound("no table at '{}'", dir());
  std::vector<CommitInfo> history;
  for (int64_t version = latest_version; version >= 0; --version) {
    if (limit > 0 && static_cast<int64_t>(history.size()) >= limit) break;
    LAKEML_ASSIGN_OR_RETURN(CommitInfo info, CommitInfoFor(version));
    history.push_back(std::move(info));
  }
  return history;
}

core::Result<std::shared_ptr<const Snapshot>> Table::WritableSnapshot(bool rewrites) {
  LAKEML_ASSIGN_OR_RETURN(std::shared_ptr<const Snapshot> snapshot, LatestSnapshot());
  LAKEML_RETURN_IF_ERROR(CheckWriteSupported(snapshot->protocol()));
  if (!snapshot->metadata().partition_columns.empty()) {
    return core::Unimplemented("writing partitioned tables is not supported");
  }
  if (rewrites) {
    auto it = snapshot->metadata().configuration.find("delta.appendOnly");
    if (it != snapshot->metadata().configuration.end() && Lower(it->second) == "true") {
      return core::FailedPrecondition(
          "table '{}' is append-only (delta.appendOnly): rows cannot be removed", dir());
    }
  }
  return snapshot;
}

core::Result<AddAction> Table::WriteDataFile(const Schema& schema,
                                             std::span<const ColumnBatch> batches,
                                             std::vector<std::string>* written_paths) {
  std::string_view codec = CompressionCodecName(options_.parquet.codec);
  std::string name = codec == "uncompressed"
                         ? fmt::format("part-00000-{}-c000.parquet", NewUuid())
                         : fmt::format("part-00000-{}-c000.{}.parquet", NewUuid(), codec);
  std::string path = dir() + "/" + name;
  written_paths->push_back(path);
  LAKEML_ASSIGN_OR_RETURN(ParquetFileStats stats,
                          WriteParquetFile(path, schema, batches, options_.parquet));
  // The writer fsynced the file; the directory entry must be durable before a commit names it.
  LAKEML_RETURN_IF_ERROR(file_system_->SyncDir(dir()));
  AddAction add;
  add.path = name;
  add.size_bytes = stats.file_size_bytes;
  add.modification_time_ms = NowMillis();
  add.data_change = true;
  add.stats = DeltaStatsJson(schema, stats);
  add.num_records = stats.num_records;
  return add;
}

void Table::RemoveDataFiles(const std::vector<std::string>& paths) {
  // Orphans are invisible (no commit names them), so failing to remove them is harmless.
  for (const std::string& path : paths) file_system_->RemoveFile(path).IgnoreError();
}

core::Result<CommitInfo> Table::Commit(PendingCommit pending) {
  auto result = CommitOnce(pending);
  if (!result.ok()) RemoveDataFiles(pending.written_paths);
  return result;
}

core::Result<CommitInfo> Table::CommitOnce(PendingCommit& pending) {
  const Snapshot& read = *pending.read;
  int64_t version = read.version() + 1;
  int64_t last_timestamp_ms = read.timestamp_ms();
  for (int attempt = 0; attempt < std::max(1, options_.max_commit_attempts); ++attempt) {
    CommitInfo info;
    info.version = version;
    // Monotonic commit timestamps keep TIMESTAMP AS OF well defined even if the clock steps back.
    info.timestamp_ms = std::max(NowMillis(), last_timestamp_ms + 1);
    info.operation = pending.operation.operation;
    info.operation_parameters = pending.operation.parameters;
    info.read_version = read.version();
    info.isolation_level = pending.blind_append ? "WriteSerializable" : "Serializable";
    info.is_blind_append = pending.blind_append;
    info.operation_metrics = pending.metrics;
    info.engine_info = std::string(kEngineInfo);

    CommitActions actions;
    actions.commit_info = info;
    actions.metadata = pending.metadata;
    actions.adds = pending.adds;
    actions.removes = pending.removes;
    core::Status published = log_.PublishCommit(version, EncodeCommit(actions));
    if (published.ok()) {
      std::lock_guard lock(mu_);
      commit_infos_[version] = info;
      return info;
    }
    if (published.code() != core::StatusCode::kAlreadyExists) return published;

    // Lost the race for `version`: look at every commit that won since our read.
    LAKEML_ASSIGN_OR_RETURN(int64_t latest_version, log_.LatestVersion());
    for (int64_t winner = version; winner <= latest_version; ++winner) {
      LAKEML_ASSIGN_OR_RETURN(CommitActions winning, log_.ReadCommit(winner));
      std::string conflict = ConflictWith(winning, winner, pending.blind_append, read);
      if (!conflict.empty()) {
        return core::Aborted("concurrent modification of table '{}': {} (read version {})", dir(),
                             conflict, read.version());
      }
      if (winning.commit_info) {
        last_timestamp_ms = std::max(last_timestamp_ms, winning.commit_info->timestamp_ms);
      }
    }
    version = std::max(version, latest_version + 1);
  }
  return core::Aborted("gave up committing to table '{}' after {} attempts lost races", dir(),
                       options_.max_commit_attempts);
}

core::Result<CommitInfo> Table::Append(std::span<const ColumnBatch> batches,
                                       std::optional<OperationInfo> operation) {
  PendingCommit pending;
  LAKEML_ASSIGN_OR_RETURN(pending.read, WritableSnapshot(false));
  const Schema& schema = pending.read->schema();
  LAKEML_RETURN_IF_ERROR(ValidateBatches(schema, batches));
  pending.blind_append = true;
  pending.operation =
      Or(std::move(operation), {"WRITE", {{"mode", "Append"}, {"partitionBy", "[]"}}});
  int64_t rows = CountRows(batches);
  if (rows > 0) {
    auto add = WriteDataFile(schema, batches, &pending.written_paths);
    if (!add.ok()) {
      RemoveDataFiles(pending.written_paths);
      return std::move(add).status();
    }
    pending.adds.push_back(std::move(add).value());
  }
  pending.metrics = {
      {"numFiles", std::to_string(pending.adds.size())},
      {"numOutputRows", std::to_string(rows)},
      {"numOutputBytes", std::to_string(pending.adds.empty() ? 0 : pending.adds[0].size_bytes)}};
  return Commit(std::move(pending));
}

core::Result<CommitInfo> Table::Overwrite(const Schema& schema,
                                          std::span<const ColumnBatch> batches,
                                          std::optional<OperationInfo> operation) {
  LAKEML_RETURN_IF_ERROR(ValidateSchema(schema));
  LAKEML_RETURN_IF_ERROR(ValidateBatches(schema, batches));
  PendingCommit pending;
  LAKEML_ASSIGN_OR_RETURN(pending.read, WritableSnapshot(true));
  pending.operation =
      Or(std::move(operation), {"WRITE", {{"mode", "Overwrite"}, {"partitionBy", "[]"}}});
  if (!SameSchema(schema, pending.read->schema())) {
    pending.metadata = MetadataFor(pending.read->metadata(), schema);
  }
  int64_t now_ms = NowMillis();
  for (const AddAction& file : pending.read->files())
    pending.removes.push_back(RemoveFor(file, now_ms));
  int64_t rows = CountRows(batches);
  if (rows > 0) {
    auto add = WriteDataFile(schema, batches, &pending.written_paths);
    if (!add.ok()) {
      RemoveDataFiles(pending.written_paths);
      return std::move(add).status();
    }
    pending.adds.push_back(std::move(add).value());
  }
  pending.metrics = {
      {"numFiles", std::to_string(pending.adds.size())},
      {"numOutputRows", std::to_string(rows)},
      {"numOutputBytes", std::to_string(pending.adds.empty() ? 0 : pending.adds[0].size_bytes)},
      {"numRemovedFiles", std::to_string(pending.removes.size())}};
  return Commit(std::move(pending));
}

core::Result<CommitInfo> Table::DeleteWhere(const KeepRowsFn& keep,
                                            const std::string& predicate_text) {
  PendingCommit pending;
  LAKEML_ASSIGN_OR_RETURN(pending.read, WritableSnapshot(true));
  const Snapshot& read = *pending.read;
  pending.operation = {"DELETE", {{"predicate", predicate_text}}};
  int64_t now_ms = NowMillis();
  int64_t deleted_rows = 0;
  int64_t copied_rows = 0;
  int64_t added_bytes = 0;
  auto fail = [&](core::Status status) -> core::Result<CommitInfo> {
    RemoveDataFiles(pending.written_paths);
    return status;
  };
  for (const AddAction& file : read.files()) {
    auto path = read.FilePath(file);
    if (!path.ok()) return fail(path.status());
    auto reader = ParquetReader::Open(*path);
    if (!reader.ok()) return fail(reader.status());
    // Kept rows of one file are held in memory until it is known whether the file changes.
    std::vector<ColumnBatch> kept;
    int64_t file_deleted = 0;
    for (int row_group = 0; row_group < (*reader)->num_row_groups(); ++row_group) {
      auto batch = (*reader)->ReadRowGroup(row_group);
      if (!batch.ok()) return fail(batch.status());
      batch->schema = read.schema();
      auto flags = keep(*batch);
      if (!flags.ok()) return fail(flags.status());
      if (flags->size() != batch->num_rows()) {
        return fail(core::Internal("delete predicate returned {} flags for {} rows", flags->size(),
                                   batch->num_rows()));
      }
      int64_t kept_rows = std::count(flags->begin(), flags->end(), true);
      file_deleted += static_cast<int64_t>(batch->num_rows()) - kept_rows;
      if (kept_rows > 0) kept.push_back(FilterRows(*batch, *flags));
    }
    if (file_deleted == 0) continue;
    deleted_rows += file_deleted;
    pending.removes.push_back(RemoveFor(file, now_ms));
    int64_t file_kept = CountRows(kept);
    if (file_kept == 0) continue;
    copied_rows += file_kept;
    auto add = WriteDataFile(read.schema(), kept, &pending.written_paths);
    if (!add.ok()) return fail(add.status());
    added_bytes += add->size_bytes;
    pending.adds.push_back(std::move(add).value());
  }
  pending.metrics = {{"numRemovedFiles", std::to_string(pending.removes.size())},
                     {"numAddedFiles", std::to_string(pending.adds.size())},
                     {"numDeletedRows", std::to_string(deleted_rows)},
                     {"numCopiedRows", std::to_string(copied_rows)},
                     {"numAddedBytes", std::to_string(added_bytes)}};
  return Commit(std::move(pending));
}

core::Result<CommitInfo> Table::RestoreToVersion(int64_t version) {
  PendingCommit pending;
  LAKEML_ASSIGN_OR_RETURN(pending.read, WritableSnapshot(true));
  LAKEML_ASSIGN_OR_RETURN(std::shared_ptr<const Snapshot> target, SnapshotAt(version));
  const Snapshot& read = *pending.read;
  pending.operation = {"RESTORE", {{"version", std::to_string(version)}}};
  if (!SameSchema(target->schema(), read.schema()) ||
      target->metadata().configuration != read.metadata().configuration) {
    pending.metadata = target->metadata();
  }
  int64_t now_ms = NowMillis();
  int64_t removed_bytes = 0;
  int64_t restored_bytes = 0;
  for (const AddAction& file : read.files()) {
    if (target->FindFile(file.path) != nullptr) continue;
    pending.removes.push_back(RemoveFor(file, now_ms));
    removed_bytes += file.size_bytes;
  }
  for (const AddAction& file : target->files()) {
    if (read.FindFile(file.path) != nullptr) continue;
    LAKEML_ASSIGN_OR_RETURN(std::string path, target->FilePath(file));
    LAKEML_ASSIGN_OR_RETURN(bool exists, file_system_->Exists(path));
    if (!exists) {
      return core::FailedPrecondition(
          "cannot restore table '{}' to version {}: data file '{}' no longer exists", dir(),
          version, file.path);
    }
    AddAction add = file;
    add.data_change = true;
    pending.adds.push_back(std::move(add));
    restored_bytes += file.size_bytes;
  }
  pending.metrics = {{"numRestoredFiles", std::to_string(pending.adds.size())},
                     {"numRemovedFiles", std::to_string(pending.removes.size())},
                     {"tableSizeAfterRestore", std::to_string(target->SizeBytes())},
                     {"numOfFilesAfterRestore", std::to_string(target->files().size())},
                     {"removedFilesSize", std::to_string(removed_bytes)},
                     {"restoredFilesSize", std::to_string(restored_bytes)}};
  // Restored files belong to older versions too: a failed commit must not delete them.
  return Commit(std::move(pending));
}

}  // namespace lakeml::storage
