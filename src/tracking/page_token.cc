#include "tracking/page_token.h"

#include <array>
#include <nlohmann/json.hpp>

namespace lakeml::tracking {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

core::Status InvalidToken() { return core::InvalidArgument("invalid page token"); }

}  // namespace

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t chunk = (static_cast<uint8_t>(bytes[i]) << 16) |
                           (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                           static_cast<uint8_t>(bytes[i + 2]);
    out += kAlphabet[(chunk >> 18) & 63];
    out += kAlphabet[(chunk >> 12) & 63];
    out += kAlphabet[(chunk >> 6) & 63];
    out += kAlphabet[chunk & 63];
  }
  const size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t chunk = static_cast<uint8_t>(bytes[i]) << 16;
    if (rest == 2) chunk |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    out += kAlphabet[(chunk >> 18) & 63];
    out += kAlphabet[(chunk >> 12) & 63];
    out += rest == 2 ? kAlphabet[(chunk >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

core::Result<std::string> Base64Decode(std::string_view text) {
  std::array<int, 256> lookup{};
  lookup.fill(-1);
  for (size_t i = 0; i < kAlphabet.size(); ++i) lookup[static_cast<uint8_t>(kAlphabet[i])] = i;
  // Accept the URL-safe alphabet too; clients sometimes re-encode tokens.
  lookup[static_cast<uint8_t>('-')] = 62;
  lookup[static_cast<uint8_t>('_')] = 63;
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return core::InvalidArgument("invalid base64");
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    const int sextet = lookup[static_cast<uint8_t>(c)];
    if (sextet < 0) return core::InvalidArgument("invalid base64");
    buffer = (buffer << 6) | static_cast<uint32_t>(sextet);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  return out;
}

uint64_t Fingerprint(const std::vector<std::string>& parts) {
  uint64_t hash = 14695981039346656037ULL;
  auto mix = [&hash](uint8_t byte) {
    hash ^= byte;
    hash *= 1099511628211ULL;
  };
  for (const std::string& part : parts) {
    for (char c : part) mix(static_cast<uint8_t>(c));
    mix(0xFF);  // never appears in UTF-8, so it separates parts unambiguously
  }
  return hash;
}

std::string EncodePageToken(const PageCursor& cursor) {
  nlohmann::json positions = nlohmann::json::array();
  for (const SortPosition& position : cursor.positions) {
    nlohmann::json value;
    if (const auto* int_value = std::get_if<int64_t>(&position.value)) {
      value = *int_value;
    } else if (const auto* double_value = std::get_if<double>(&position.value)) {
      value = *double_value;
    } else if (const auto* text_value = std::get_if<std::string>(&position.value)) {
      value = *text_value;
    }
    positions.push_back(nlohmann::json::array({position.rank, value}));
  }
  // The fingerprint travels as text: JSON numbers are not guaranteed to hold 64 bits.
  nlohmann::json token = {{"q", std::to_string(cursor.fingerprint)}, {"k", positions}};
  return Base64Encode(token.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

core::Result<PageCursor> DecodePageToken(std::string_view token, uint64_t expected_fingerprint,
                                         size_t expected_positions) {
  auto decoded = Base64Decode(token);
  if (!decoded.ok()) return InvalidToken();
  nlohmann::json parsed = nlohmann::json::parse(*decoded, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object()) return InvalidToken();
  auto fingerprint_it = parsed.find("q");
  auto positions_it = parsed.find("k");
  if (fingerprint_it == parsed.end() || !fingerprint_it->is_string() ||
      positions_it == parsed.end() || !positions_it->is_array()) {
    return InvalidToken();
  }
  if (fingerprint_it->get<std::string>() != std::to_string(expected_fingerprint) ||
      positions_it->size() != expected_positions) {
    return InvalidToken();
  }
  PageCursor cursor;
  cursor.fingerprint = expected_fingerprint;
  for (const nlohmann::json& item : *positions_it) {
    if (!item.is_array() || item.size() != 2 || !item[0].is_number_integer()) {
      return InvalidToken();
    }
    SortPosition position;
    position.rank = item[0].get<int64_t>();
    const nlohmann::json& value = item[1];
    if (value.is_number_integer()) {
      position.value = value.get<int64_t>();
    } else if (value.is_number_float()) {
      position.value = value.get<double>();
    } else if (value.is_string()) {
      position.value = value.get<std::string>();
    } else if (!value.is_null()) {
      return InvalidToken();
    }
    if (position.rank < 0 || position.rank > 2 ||
        (position.rank == 0 && std::holds_alternative<std::monostate>(position.value))) {
      return InvalidToken();
    }
    cursor.positions.push_back(std::move(position));
  }
  return cursor;
}

}  // namespace lakeml::tracking
