#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lakeml::server {

// Defends a server bound to a local address against DNS rebinding (CVE-2025-14279) and
// cross-site requests: requests must name an allowed host in `Host`, and state-changing
// requests that carry an `Origin` must come from the host they are sent to.
//
// Entries are host names or addresses, matched case-insensitively: `localhost` allows any port,
// `localhost:5000` only that port, `*.example.com` any subdomain, `*` everything (checks off).
// Immutable after construction; thread-safe.
class HostAllowlist {
 public:
  // `entries` empty → the defaults: localhost, 127.0.0.1, [::1] and `bind_host`.
  HostAllowlist(std::vector<std::string> entries, std::string_view bind_host);

  bool allows_all() const { return allow_all_; }
  const std::vector<std::string>& entries() const { return entries_; }

  // Whether a request with this `Host` header value may be served. A missing header is refused.
  bool IsHostAllowed(const std::optional<std::string_view>& host_header) const;

  // Whether a request with this `Origin` (nullopt: none sent) may change state on `host_header`.
  // Browsers send Origin on cross-site POSTs; non-browser clients send none.
  bool IsOriginAllowed(const std::optional<std::string_view>& origin,
                       const std::optional<std::string_view>& host_header) const;

 private:
  std::vector<std::string> entries_;  // lower-case
  bool allow_all_ = false;
};

}  // namespace lakeml::server
