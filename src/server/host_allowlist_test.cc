#include "server/host_allowlist.h"

#include <gtest/gtest.h>

namespace lakeml::server {
namespace {

TEST(HostAllowlistTest, DefaultsAllowLoopbackNamesOnAnyPort) {
  HostAllowlist allowlist({}, "127.0.0.1");
  EXPECT_TRUE(allowlist.IsHostAllowed("localhost:5000"));
  EXPECT_TRUE(allowlist.IsHostAllowed("LOCALHOST"));
  EXPECT_TRUE(allowlist.IsHostAllowed("127.0.0.1:1234"));
  EXPECT_TRUE(allowlist.IsHostAllowed("[::1]:5000"));
  // DNS rebinding: an attacker's name resolving to 127.0.0.1.
  EXPECT_FALSE(allowlist.IsHostAllowed("evil.example.com:5000"));
  EXPECT_FALSE(allowlist.IsHostAllowed("localhost.evil.com"));
  EXPECT_FALSE(allowlist.IsHostAllowed(""));
  EXPECT_FALSE(allowlist.IsHostAllowed(std::nullopt));
}

TEST(HostAllowlistTest, BindHostIsAllowedByDefault) {
  HostAllowlist allowlist({}, "10.1.2.3");
  EXPECT_TRUE(allowlist.IsHostAllowed("10.1.2.3:5000"));
  HostAllowlist ipv6({}, "fe80::1");
  EXPECT_TRUE(ipv6.IsHostAllowed("[fe80::1]:5000"));
}

TEST(HostAllowlistTest, ExplicitEntriesPortsWildcards) {
  HostAllowlist allowlist({"mlflow.internal:8080", "*.corp.example", "Tracking"}, "127.0.0.1");
  EXPECT_TRUE(allowlist.IsHostAllowed("mlflow.internal:8080"));
  EXPECT_FALSE(allowlist.IsHostAllowed("mlflow.internal:9090"));
  EXPECT_TRUE(allowlist.IsHostAllowed("a.corp.example"));
  EXPECT_FALSE(allowlist.IsHostAllowed("corp.example"));
  EXPECT_TRUE(allowlist.IsHostAllowed("tracking:5000"));
  // Explicit entries replace the defaults.
  EXPECT_FALSE(allowlist.IsHostAllowed("localhost:5000"));
}

TEST(HostAllowlistTest, StarDisablesChecks) {
  HostAllowlist allowlist({"*"}, "127.0.0.1");
  EXPECT_TRUE(allowlist.allows_all());
  EXPECT_TRUE(allowlist.IsHostAllowed("anything"));
  EXPECT_TRUE(allowlist.IsOriginAllowed("http://evil.com", "localhost:5000"));
}

TEST(HostAllowlistTest, OriginMustMatchHost) {
  HostAllowlist allowlist({}, "127.0.0.1");
  EXPECT_TRUE(allowlist.IsOriginAllowed(std::nullopt, "localhost:5000"));
  EXPECT_TRUE(allowlist.IsOriginAllowed("http://localhost:5000", "localhost:5000"));
  EXPECT_FALSE(allowlist.IsOriginAllowed("http://evil.com", "localhost:5000"));
  EXPECT_FALSE(allowlist.IsOriginAllowed("null", "localhost:5000"));
  EXPECT_FALSE(allowlist.IsOriginAllowed("http://localhost:5001", "localhost:5000"));
}

}  // namespace
}  // namespace lakeml::server
