#include "server/host_allowlist.h"

#include <algorithm>
#include <cctype>

namespace lakeml::server {
namespace {

std::string ToLower(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower;
}

// Splits "host:port", "[v6]:port", "host" into host and port ("" when absent).
void SplitHostPort(std::string_view value, std::string_view* host, std::string_view* port) {
  *port = {};
  if (!value.empty() && value.front() == '[') {
    size_t close = value.find(']');
    if (close == std::string_view::npos) {
      *host = value;
      return;
    }
    *host = value.substr(0, close + 1);
    if (close + 1 < value.size() && value[close + 1] == ':') *port = value.substr(close + 2);
    return;
  }
  size_t colon = value.rfind(':');
  // More than one colon without brackets: a bare IPv6 address, no port.
  if (colon == std::string_view::npos || value.find(':') != colon) {
    *host = value;
    return;
  }
  *host = value.substr(0, colon);
  *port = value.substr(colon + 1);
}

std::string BracketIfIpv6(std::string_view host) {
  if (host.find(':') != std::string_view::npos && (host.empty() || host.front() != '[')) {
    return "[" + std::string(host) + "]";
  }
  return std::string(host);
}

}  // namespace

HostAllowlist::HostAllowlist(std::vector<std::string> entries, std::string_view bind_host) {
  if (entries.empty()) {
    entries = {"localhost", "127.0.0.1", "[::1]"};
    if (!bind_host.empty()) entries.push_back(BracketIfIpv6(bind_host));
  }
  for (const std::string& entry : entries) {
    if (entry == "*") allow_all_ = true;
    if (!entry.empty()) entries_.push_back(ToLower(entry));
  }
}

bool HostAllowlist::IsHostAllowed(const std::optional<std::string_view>& host_header) const {
  if (allow_all_) return true;
  if (!host_header || host_header->empty()) return false;
  std::string value = ToLower(*host_header);
  std::string_view host;
  std::string_view port;
  SplitHostPort(value, &host, &port);
  for (const std::string& entry : entries_) {
    std::string_view entry_host;
    std::string_view entry_port;
    SplitHostPort(entry, &entry_host, &entry_port);
    if (!entry_port.empty() && entry_port != port) continue;
    if (entry_host == host) return true;
    // "*.example.com" matches "a.example.com" but not "example.com".
    if (entry_host.size() > 2 && entry_host.substr(0, 2) == "*.") {
      std::string_view suffix = entry_host.substr(1);
      if (host.size() > suffix.size() && host.substr(host.size() - suffix.size()) == suffix) {
        return true;
      }
    }
  }
  return false;
}

bool HostAllowlist::IsOriginAllowed(const std::optional<std::string_view>& origin,
                                    const std::optional<std::string_view>& host_header) const {
  if (allow_all_ || !origin) return true;
  // Same-origin: "scheme://" followed by exactly the Host the request was sent to.
  std::string_view value = *origin;
  size_t scheme_end = value.find("://");
  if (scheme_end == std::string_view::npos || !host_header) return false;
  return ToLower(value.substr(scheme_end + 3)) == ToLower(*host_header);
}

}  // namespace lakeml::server
