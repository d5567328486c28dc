#include "metastore/database.h"

#include <charconv>
#include <filesystem>
#include <system_error>

#include "core/clock.h"
#include "metastore/internal/migrator.h"
#include "metastore/postgres_database.h"
#include "metastore/schema.h"
#include "metastore/sqlite_database.h"

namespace lakeml::metastore {

namespace {

// Key of the PostgreSQL advisory lock that serialises migrations ("lakeml" in ASCII).
constexpr int64_t kMigrationLockKey = 0x6c616b656d6cLL;

template <typename T>
T ParseNumber(const std::string& text) {
  T number{};
  std::from_chars(text.data(), text.data() + text.size(), number);
  return number;
}

std::string_view Trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n";
  size_t first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

std::vector<std::string_view> SplitStatements(std::string_view sql) {
  std::vector<std::string_view> statements;
  while (!sql.empty()) {
    size_t end = sql.find(";\n");
    std::string_view statement = Trim(sql.substr(0, end));
    if (!statement.empty() && statement != ";") statements.push_back(statement);
    if (end == std::string_view::npos) break;
    sql.remove_prefix(end + 2);
  }
  return statements;
}

// Migrations are written once for both dialects; the one SQLite-only clause they use,
// `WITHOUT ROWID` after a CREATE TABLE, is dropped for PostgreSQL, which has no rowid to omit.
std::string_view ForDialect(std::string_view statement, Dialect dialect) {
  constexpr std::string_view kWithoutRowid = " WITHOUT ROWID";
  if (dialect != Dialect::kSqlite && statement.ends_with(kWithoutRowid)) {
    statement.remove_suffix(kWithoutRowid.size());
  }
  return statement;
}

core::Result<std::unique_ptr<Database>> OpenSqlite(std::string_view path) {
  if (path.empty()) return core::InvalidArgument("sqlite database uri names no file");
  std::filesystem::path file{std::string(path)};
  if (file.has_parent_path()) {
    std::error_code error;
    std::filesystem::create_directories(file.parent_path(), error);
    if (error) {
      return core::Internal("cannot create directory '{}' for the sqlite database: {}",
                            file.parent_path().string(), error.message());
    }
  }
  LAKEML_ASSIGN_OR_RETURN(auto db, SqliteDatabase::Open(file.string()));
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace

bool Row::IsNull(size_t column_idx) const {
  LAKEML_CHECK(column_idx < values_.size());
  return std::holds_alternative<std::monostate>(values_[column_idx]);
}

int64_t Row::Int(size_t column_idx) const {
  LAKEML_CHECK(column_idx < values_.size());
  const Value& value = values_[column_idx];
  if (const auto* integer = std::get_if<int64_t>(&value)) return *integer;
  if (const auto* real = std::get_if<double>(&value)) return static_cast<int64_t>(*real);
  if (const auto* text = std::get_if<std::string>(&value)) return ParseNumber<int64_t>(*text);
  return 0;
}

double Row::Double(size_t column_idx) const {
  LAKEML_CHECK(column_idx < values_.size());
  const Value& value = values_[column_idx];
  if (const auto* real = std::get_if<double>(&value)) return *real;
  if (const auto* integer = std::get_if<int64_t>(&value)) return static_cast<double>(*integer);
  if (const auto* text = std::get_if<std::string>(&value)) return ParseNumber<double>(*text);
  return 0;
}

std::string Row::Text(size_t column_idx) const {
  LAKEML_CHECK(column_idx < values_.size());
  const Value& value = values_[column_idx];
  if (const auto* text = std::get_if<std::string>(&value)) return *text;
  if (const auto* integer = std::get_if<int64_t>(&value)) return std::to_string(*integer);
  if (const auto* real = std::get_if<double>(&value)) return fmt::format("{}", *real);
  return {};
}

std::optional<int64_t> Row::OptionalInt(size_t column_idx) const {
  if (IsNull(column_idx)) return std::nullopt;
  return Int(column_idx);
}

std::optional<std::string> Row::OptionalText(size_t column_idx) const {
  if (IsNull(column_idx)) return std::nullopt;
  return Text(column_idx);
}

namespace internal {

core::Status ApplyMigrations(Database& db, const std::vector<Migration>& migrations,
                             const core::Clock& clock) {
  const int64_t newest_known = migrations.empty() ? 0 : migrations.back().version;
  // One transaction per migration: each re-reads the applied version under the write lock, so a
  // concurrent starter that got there first simply leaves nothing to do.
  for (;;) {
    bool up_to_date = false;
    core::Status status = db.Write([&](Transaction& txn) -> core::Status {
      up_to_date = false;  // The work may be retried.
      if (txn.dialect() == Dialect::kPostgres) {
        // Taken before CREATE TABLE IF NOT EXISTS, which itself races between sessions on
        // PostgreSQL (duplicate key in pg_type).
        LAKEML_RETURN_IF_ERROR(
            txn.Query("SELECT pg_advisory_xact_lock(?)", {kMigrationLockKey}).status());
      }
      LAKEML_RETURN_IF_ERROR(txn.Execute("CREATE TABLE IF NOT EXISTS schema_migrations ("
                                         "version BIGINT PRIMARY KEY, description TEXT, "
                                         "applied_ms BIGINT)")
                                 .status());
      LAKEML_ASSIGN_OR_RETURN(auto rows, txn.Query("SELECT MAX(version) FROM schema_migrations"));
      const int64_t applied = rows.empty() ? 0 : rows.front().Int(0);
      if (applied > newest_known) {
        return core::FailedPrecondition(
            "metadata schema version {} is newer than this binary knows ({}); upgrade lakeml",
            applied, newest_known);
      }
      const Migration* next = nullptr;
      for (const Migration& migration : migrations) {
        if (migration.version > applied) {
          next = &migration;
          break;
        }
      }
      if (next == nullptr) {
        up_to_date = true;
        return core::Status::Ok();
      }
      for (std::string_view statement : SplitStatements(next->sql)) {
        auto executed = txn.Execute(ForDialect(statement, txn.dialect()));
        if (!executed.ok()) {
          return core::Status(executed.status().code(),
                              fmt::format("schema migration {} ({}) failed: {}", next->version,
                                          next->description, executed.status().message()));
        }
      }
      return txn
          .Execute(
              "INSERT INTO schema_migrations (version, description, applied_ms) "
              "VALUES (?, ?, ?)",
              {static_cast<int64_t>(next->version), std::string(next->description),
               clock.NowMillis()})
          .status();
    });
    if (!status.ok()) return status;
    if (up_to_date) return core::Status::Ok();
  }
}

}  // namespace internal

core::Result<std::unique_ptr<Database>> OpenDatabase(std::string_view uri) {
  std::unique_ptr<Database> db;
  if (uri.starts_with("postgresql://") || uri.starts_with("postgres://")) {
    LAKEML_ASSIGN_OR_RETURN(db, PostgresDatabase::Open(std::string(uri)));
  } else if (uri.starts_with("sqlite:")) {
    std::string_view path = uri.substr(7);
    // SQLAlchemy's convention, which MLflow users already write: `sqlite:///rel.db` is relative
    // to the working directory and `sqlite:////abs/path.db` is absolute.
    if (path.starts_with("///")) path.remove_prefix(3);
    LAKEML_ASSIGN_OR_RETURN(db, OpenSqlite(path));
  } else if (size_t scheme_end = uri.find("://"); scheme_end != std::string_view::npos) {
    // Only the scheme is echoed: the rest may carry a password.
    return core::InvalidArgument(
        "unsupported metadata database uri scheme '{}' (use postgresql://, sqlite: or a file path)",
        uri.substr(0, scheme_end));
  } else {
    LAKEML_ASSIGN_OR_RETURN(db, OpenSqlite(uri));
  }
  core::SystemClock clock;
  LAKEML_RETURN_IF_ERROR(internal::ApplyMigrations(*db, Migrations(), clock));
  return db;
}

}  // namespace lakeml::metastore
