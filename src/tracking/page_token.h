#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "metastore/database.h"

namespace lakeml::tracking {

// Keyset page tokens: base64 of a JSON object holding the last row's sort values and a
// fingerprint of the query that produced them, so a token replayed against another query is
// rejected instead of silently skipping rows. Opaque to clients. Pure functions, thread-safe.

// One sort position: `rank` orders missing/NaN after present values (0 = present; then the
// value is meaningful), `value` is the sort column's value.
struct SortPosition {
  int64_t rank = 0;
  metastore::Value value;
};

struct PageCursor {
  uint64_t fingerprint = 0;
  std::vector<SortPosition> positions;
};

std::string Base64Encode(std::string_view bytes);
// Errors: kInvalidArgument on malformed input.
core::Result<std::string> Base64Decode(std::string_view text);

// FNV-1a over the parts, separated so ("ab","c") != ("a","bc").
uint64_t Fingerprint(const std::vector<std::string>& parts);

std::string EncodePageToken(const PageCursor& cursor);
// Errors: kInvalidArgument "invalid page token" when malformed, from another query
// (fingerprint mismatch) or with the wrong number of positions.
core::Result<PageCursor> DecodePageToken(std::string_view token, uint64_t expected_fingerprint,
                                         size_t expected_positions);

}  // namespace lakeml::tracking
