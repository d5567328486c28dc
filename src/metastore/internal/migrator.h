#pragma once

#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "metastore/database.h"
#include "metastore/schema.h"

namespace lakeml::metastore::internal {

// Brings `db` up to the newest of `migrations` (ascending versions). Each pending migration runs
// in its own write transaction, statement by statement (its SQL split on ";\n"), and is recorded
// in `schema_migrations(version, description, applied_ms)`. On PostgreSQL every such transaction
// first takes a transaction-scoped advisory lock, so concurrent starters apply each migration
// once; on SQLite the write transaction itself serialises them.
//
// Thread-safe (as `db` is). Errors: kFailedPrecondition if the database holds a version newer
// than the newest in `migrations`; otherwise the failing statement's Status, with the
// migration's version in the message.
core::Status ApplyMigrations(Database& db, const std::vector<Migration>& migrations,
                             const core::Clock& clock);

}  // namespace lakeml::metastore::internal
