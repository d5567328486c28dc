#pragma once

#include <string>
#include <string_view>

namespace lakeml::metastore::internal {

// Rewrites the `?` placeholders of `sql` to PostgreSQL's $1..$n and stores n in `*num_params`.
// A `?` inside a '...' literal, a "..." identifier, or a -- or /* */ comment is left alone.
// Pure function; thread-safe.
std::string RewritePlaceholders(std::string_view sql, int* num_params);

}  // namespace lakeml::metastore::internal
