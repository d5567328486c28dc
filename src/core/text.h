#pragma once

#include <string>
#include <string_view>

namespace lakeml::core {

// Decodes one layer of %XX escapes. Malformed escapes ("%zz", a trailing "%4") stay literal;
// '+' is not a space (these are paths, not form data). Callers that guard against encoded
// traversal decode repeatedly until the text stops changing. Pure, thread-safe.
std::string PercentDecodeOnce(std::string_view in);

// True for ASCII control bytes (< 0x20 and DEL).
bool IsControlChar(char c);

// Makes user input safe to quote in an error message: control bytes become \xNN and text past
// 256 bytes is cut with "...", so a hostile value can neither forge log lines nor flood them.
std::string EscapeForMessage(std::string_view raw);

}  // namespace lakeml::core
