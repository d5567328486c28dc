#pragma once

#include <string>
#include <string_view>

namespace lakeml::core {

// Decodes one layer of %XX escapes. Malformed escapes ("%zz", a trailing "%4") stay literal;
// '+' is not a space (these are paths, not form data). Callers that guard against encoded
// traversal decode repeatedly until the text stops changing. Pure, thread-safe.
std::string PercentDecodeOnce(std::string_view in);

}  // namespace lakeml::core
