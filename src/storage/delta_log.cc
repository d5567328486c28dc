#include "storage/delta_log.h"

#include <algorithm>
#include <map>
#include <utility>

#include "core/ids.h"

namespace lakeml::storage {
namespace {

constexpr size_t kVersionDigits = 20;

// Parses "NNNNNNNNNNNNNNNNNNNN.json" (exactly 20 digits); other names are not commits.
std::optional<int64_t> ParseCommitName(std::string_view name) {
  if (name.size() != kVersionDigits + 5 || !name.ends_with(".json")) return std::nullopt;
  int64_t version = 0;
  for (size_t i = 0; i < kVersionDigits; ++i) {
    char c = name[i];
    if (c < '0' || c > '9') return std::nullopt;
    if (version > (INT64_MAX - 9) / 10) return std::nullopt;
    version = version * 10 + (c - '0');
  }
  return version;
}

bool IsCheckpointName(std::string_view name) {
  return name == "_last_checkpoint" || name.find(".checkpoint.") != std::string_view::npos;
}

}  // namespace

DeltaLog::DeltaLog(FileSystem* file_system, std::string table_dir)
    : file_system_(file_system),
      table_dir_(std::move(table_dir)),
      log_dir_(table_dir_ + "/_delta_log") {}

std::string DeltaLog::CommitFileName(int64_t version) {
  return fmt::format("{:020}.json", version);
}

core::Result<int64_t> DeltaLog::LatestVersion() {
  auto names = file_system_->ListDir(log_dir_);
  if (!names.ok()) {
    if (names.status().code() == core::StatusCode::kNotFound) return int64_t{-1};
    return std::move(names).status();
  }
  std::vector<int64_t> versions;
  bool has_checkpoint = false;
  for (const std::string& name : *names) {
    if (auto version = ParseCommitName(name)) versions.push_back(*version);
    has_checkpoint = has_checkpoint || IsCheckpointName(name);
  }
  if (versions.empty()) {
    if (has_checkpoint) {
      return core::Unimplemented(
          "table log at '{}' holds only checkpoints, which lakeml cannot read", log_dir_);
    }
    return int64_t{-1};
  }
  std::sort(versions.begin(), versions.end());
  if (versions.front() != 0) {
    if (has_checkpoint) {
      return core::Unimplemented(
          "table log at '{}' starts at version {} after a checkpoint, which lakeml cannot read",
          log_dir_, versions.front());
    }
    return core::DataLoss("table log at '{}' is missing versions 0 to {}", log_dir_,
                          versions.front() - 1);
  }
  for (size_t i = 0; i < versions.size(); ++i) {
    if (versions[i] != static_cast<int64_t>(i)) {
      return core::DataLoss("table log at '{}' is missing version {}", log_dir_, i);
    }
  }
  return versions.back();
}

core::Result<CommitActions> DeltaLog::ReadCommit(int64_t version) {
  std::string name = CommitFileName(version);
  LAKEML_ASSIGN_OR_RETURN(std::string text, file_system_->ReadFile(log_dir_ + "/" + name));
  LAKEML_ASSIGN_OR_RETURN(CommitActions actions, DecodeCommit(text, name));
  if (actions.commit_info) actions.commit_info->version = version;
  return actions;
}

core::Result<std::shared_ptr<const Snapshot>> DeltaLog::Replay(
    int64_t version, std::shared_ptr<const Snapshot> base) {
  if (version < 0) return core::InvalidArgument("table version {} is negative", version);
  std::optional<ProtocolAction> protocol;
  std::optional<MetadataAction> metadata;
  // path -> (order of first addition, action): the newest action per path wins.
  std::map<std::string, std::pair<uint64_t, AddAction>> live;
  uint64_t sequence = 0;
  int64_t timestamp_ms = 0;
  int64_t next_version = 0;
  if (base != nullptr && base->version() <= version) {
    protocol = base->protocol();
    metadata = base->metadata();
    for (const AddAction& file : base->files()) live[file.path] = {sequence++, file};
    timestamp_ms = base->timestamp_ms();
    next_version = base->version() + 1;
  }
  for (int64_t current = next_version; current <= version; ++current) {
    auto read = ReadCommit(current);
    if (!read.ok()) {
      if (read.status().code() == core::StatusCode::kNotFound) {
        return core::DataLoss("table log at '{}' is missing version {}", log_dir_, current);
      }
      return std::move(read).status();
    }
    CommitActions actions = std::move(read).value();
    if (actions.protocol) {
      // Refuse before interpreting anything else a newer protocol may have changed.
      LAKEML_RETURN_IF_ERROR(CheckReadSupported(*actions.protocol));
      protocol = std::move(actions.protocol);
    }
    if (actions.metadata) metadata = std::move(actions.metadata);
    for (const RemoveAction& remove : actions.removes) live.erase(remove.path);
    for (AddAction& add : actions.adds) {
      auto it = live.find(add.path);
      uint64_t order = it == live.end() ? sequence++ : it->second.first;
      std::string path = add.path;  // `add` is moved from below
      live[path] = {order, std::move(add)};
    }
    // Without a commitInfo timestamp the previous one is the best monotonic estimate.
    if (actions.commit_info && actions.commit_info->timestamp_ms > 0) {
      timestamp_ms = std::max(timestamp_ms, actions.commit_info->timestamp_ms);
    }
  }
  if (!protocol) return core::DataLoss("table log at '{}' has no protocol action", log_dir_);
  if (!metadata) return core::DataLoss("table log at '{}' has no metaData action", log_dir_);
  LAKEML_RETURN_IF_ERROR(CheckReadSupported(*protocol));

  std::vector<std::pair<uint64_t, AddAction>> ordered;
  ordered.reserve(live.size());
  for (auto& [path, entry] : live) ordered.push_back(std::move(entry));
  std::sort(ordered.begin(), ordered.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<AddAction> files;
  files.reserve(ordered.size());
  for (auto& [order, add] : ordered) files.push_back(std::move(add));
  return std::make_shared<const Snapshot>(table_dir_, version, timestamp_ms, std::move(*protocol),
                                          std::move(*metadata), std::move(files));
}

core::Status DeltaLog::PublishCommit(int64_t version, std::string_view contents) {
  // Hidden temp name: readers only look at 20-digit names, so a crash leaves harmless litter.
  std::string temp_path = fmt::format("{}/.tmp-{}.json", log_dir_, core::RandomHex(16));
  std::string final_path = log_dir_ + "/" + CommitFileName(version);
  core::Status status = file_system_->WriteFile(temp_path, contents);
  if (status.ok()) status = file_system_->SyncFile(temp_path);
  if (status.ok()) status = file_system_->LinkIfAbsent(temp_path, final_path);
  if (!status.ok()) {
    file_system_->RemoveFile(temp_path).IgnoreError();  // best effort; invisible either way
    return status;
  }
  // The commit is visible now; the remaining steps are housekeeping (see the header).
  file_system_->RemoveFile(temp_path).IgnoreError();
  file_system_->SyncDir(log_dir_).IgnoreError();
  return core::Status::Ok();
}

}  // namespace lakeml::storage
