#include "storage/snapshot.h"

#include <utility>

#include "storage/parquet_reader.h"

namespace lakeml::storage {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// add.path is a URI: Spark percent-encodes spaces and other reserved characters.
std::string PercentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && HexDigit(text[i + 1]) >= 0 &&
        HexDigit(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexDigit(text[i + 1]) * 16 + HexDigit(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

}  // namespace

Snapshot::Snapshot(std::string table_dir, int64_t version, int64_t timestamp_ms,
                   ProtocolAction protocol, MetadataAction metadata, std::vector<AddAction> files)
    : table_dir_(std::move(table_dir)),
      version_(version),
      timestamp_ms_(timestamp_ms),
      protocol_(std::move(protocol)),
      metadata_(std::move(metadata)),
      files_(std::move(files)) {}

const AddAction* Snapshot::FindFile(const std::string& path) const {
  for (const AddAction& file : files_) {
    if (file.path == path) return &file;
  }
  return nullptr;
}

std::optional<int64_t> Snapshot::NumRecords() const {
  int64_t total = 0;
  for (const AddAction& file : files_) {
    if (!file.num_records) return std::nullopt;
    total += *file.num_records;
  }
  return total;
}

int64_t Snapshot::SizeBytes() const {
  int64_t total = 0;
  for (const AddAction& file : files_) total += file.size_bytes;
  return total;
}

core::Result<std::string> Snapshot::FilePath(const AddAction& file) const {
  std::string_view path = file.path;
  if (path.starts_with("file://")) {
    path.remove_prefix(7);
    return PercentDecode(path);
  }
  if (path.starts_with("file:")) {
    path.remove_prefix(5);
    return PercentDecode(path);
  }
  if (path.find("://") != std::string_view::npos) {
    return core::Unimplemented("data file '{}' is not on the local file system", file.path);
  }
  if (path.starts_with('/')) return PercentDecode(path);
  return table_dir_ + "/" + PercentDecode(path);
}

core::Status Snapshot::Scan(const std::function<core::Status(ColumnBatch batch)>& visit,
                            const std::optional<std::vector<size_t>>& columns) const {
  if (!metadata_.partition_columns.empty()) {
    return core::Unimplemented("reading partitioned tables is not supported");
  }
  const Schema& schema = metadata_.schema;
  if (columns) {
    for (size_t column : *columns) {
      if (column >= schema.fields.size()) {
        return core::InvalidArgument("column index {} out of range ({} columns)", column,
                                     schema.fields.size());
      }
    }
  }
  for (const AddAction& file : files_) {
    LAKEML_ASSIGN_OR_RETURN(std::string path, FilePath(file));
    LAKEML_ASSIGN_OR_RETURN(auto reader, ParquetReader::Open(path));
    // Files are matched to the table schema by position; a file from another schema would be
    // silently misread otherwise.
    const Schema& file_schema = reader->schema();
    bool matches = file_schema.fields.size() == schema.fields.size();
    for (size_t i = 0; matches && i < schema.fields.size(); ++i) {
      matches = file_schema.fields[i].name == schema.fields[i].name &&
                file_schema.fields[i].type == schema.fields[i].type;
    }
    if (!matches) {
      return core::DataLoss("data file '{}' does not match the table schema", file.path);
    }
    for (int row_group = 0; row_group < reader->num_row_groups(); ++row_group) {
      LAKEML_ASSIGN_OR_RETURN(ColumnBatch batch, reader->ReadRowGroup(row_group, columns));
      // Report the table's field definitions (nullability, decimal scale) rather than the file's.
      for (size_t i = 0; i < batch.schema.fields.size(); ++i) {
        batch.schema.fields[i] = schema.fields[columns ? (*columns)[i] : i];
      }
      LAKEML_RETURN_IF_ERROR(visit(std::move(batch)));
    }
  }
  return core::Status::Ok();
}

core::Result<std::vector<ColumnBatch>> Snapshot::ReadAll() const {
  std::vector<ColumnBatch> batches;
  LAKEML_RETURN_IF_ERROR(Scan([&batches](ColumnBatch batch) {
    batches.push_back(std::move(batch));
    return core::Status::Ok();
  }));
  return batches;
}

}  // namespace lakeml::storage
