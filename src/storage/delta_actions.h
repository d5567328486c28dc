#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "storage/column_batch.h"
#include "storage/parquet_writer.h"

namespace lakeml::storage {

// The actions of a Delta commit file (shared/reference/parquet-delta.md §2.2) as plain values,
// and their JSON encoding. Only the fields lakeml reads or writes are kept; unknown fields and
// unknown actions are ignored when decoding, as the protocol requires. All functions are pure
// and thread-safe.

// The protocol versions lakeml implements: reader 1, writer 2.
inline constexpr int kSupportedReaderVersion = 1;
inline constexpr int kSupportedWriterVersion = 2;
// commitInfo.engineInfo of every commit lakeml writes.
inline constexpr std::string_view kEngineInfo = "lakeml/0.1.0";

struct ProtocolAction {
  int min_reader_version = kSupportedReaderVersion;
  int min_writer_version = kSupportedWriterVersion;
  std::vector<std::string> reader_features;  // only with reader version 3
  std::vector<std::string> writer_features;  // only with writer version 7
};

struct MetadataAction {
  std::string id;  // uuid
  std::string name;
  std::string description;
  std::string schema_string;  // Spark JSON schema, as stored
  Schema schema;              // parsed from schema_string
  std::vector<std::string> partition_columns;
  std::map<std::string, std::string> configuration;
  std::optional<int64_t> created_time_ms;
};

struct AddAction {
  std::string path;  // relative to the table directory, percent-encoded
  std::map<std::string, std::string> partition_values;
  int64_t size_bytes = 0;
  int64_t modification_time_ms = 0;
  bool data_change = true;
  std::string stats;                   // JSON text, empty when absent
  std::optional<int64_t> num_records;  // stats.numRecords when the stats parse
};

struct RemoveAction {
  std::string path;
  std::optional<int64_t> deletion_timestamp_ms;
  bool data_change = true;
  bool extended_file_metadata = false;
  std::map<std::string, std::string> partition_values;
  std::optional<int64_t> size_bytes;
};

// Provenance of one commit: what DESCRIBE HISTORY shows. Parameter and metric values are strings,
// as Spark writes them; non-string JSON values read from others' logs are kept as JSON text.
struct CommitInfo {
  int64_t version = -1;  // from the file name; not stored in the action
  int64_t timestamp_ms = 0;
  std::string operation;
  std::map<std::string, std::string> operation_parameters;
  std::optional<int64_t> read_version;
  std::string isolation_level;
  bool is_blind_append = false;
  std::map<std::string, std::string> operation_metrics;
  std::string engine_info;
};

// Everything in one commit file. Reconciliation order inside a commit does not matter: the
// protocol forbids a commit from holding an add and a remove of the same file.
struct CommitActions {
  std::optional<CommitInfo> commit_info;
  std::optional<ProtocolAction> protocol;
  std::optional<MetadataAction> metadata;
  std::vector<AddAction> adds;
  std::vector<RemoveAction> removes;
};

// Newline-delimited JSON, commitInfo first, then protocol, metaData, removes, adds.
std::string EncodeCommit(const CommitActions& actions);

// Parses a commit file. `file_name` only labels error messages. Errors: kDataLoss for a line that
// is not a JSON object, or an action missing a required field or with a field of the wrong type;
// kUnimplemented for a schema lakeml cannot represent (nested or unsupported types).
core::Result<CommitActions> DecodeCommit(std::string_view text, std::string_view file_name);

// The Spark JSON schema string of `schema` ({"type":"struct","fields":[...]}).
std::string SchemaToDeltaJson(const Schema& schema);
// Parses a Spark JSON schema string. `short` and `byte` read as integer. Errors: kDataLoss for
// malformed JSON, kUnimplemented for nested types, timestamp_ntz, decimals over 18 digits.
core::Result<Schema> SchemaFromDeltaJson(std::string_view schema_string);

// add.stats for a data file: numRecords, minValues, maxValues, nullCount. Only exact bounds are
// written; strings are cut to 32-character prefixes for minValues and left out of maxValues when
// longer; booleans and binaries get null counts only; dates are "YYYY-MM-DD", timestamps
// ISO-8601 UTC in milliseconds (min rounded down, max rounded up); decimals of up to 15 digits
// are JSON numbers, wider ones are left out.
std::string DeltaStatsJson(const Schema& schema, const ParquetFileStats& stats);

// Errors: kUnimplemented when lakeml cannot read (or write) tables with this protocol.
core::Status CheckReadSupported(const ProtocolAction& protocol);
core::Status CheckWriteSupported(const ProtocolAction& protocol);

// Formats `timestamp_ms` as "2024-01-01T00:03:30.000Z" (for messages and stats).
std::string FormatTimestampMillis(int64_t timestamp_ms);

}  // namespace lakeml::storage
