#pragma once

#include <string_view>
#include <vector>

namespace lakeml::metastore {

// One step of the metadata schema. `sql` holds statements separated by ";\n" written in the
// portable subset both SQLite and PostgreSQL accept (BIGINT, DOUBLE PRECISION, TEXT,
// VARCHAR(n), composite primary keys, ON CONFLICT upserts). Migrations are append-only: never
// edit a released one, add the next version.
struct Migration {
  int version;
  std::string_view description;
  std::string_view sql;
};

// All migrations in ascending version order.
const std::vector<Migration>& Migrations();

}  // namespace lakeml::metastore
