#include "core/ids.h"

#include <regex>
#include <set>

#include <gtest/gtest.h>

namespace lakeml::core {
namespace {

TEST(IdsTest, RunIdIs32LowercaseHex) {
  std::regex pattern("^[0-9a-f]{32}$");
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = NewRunId();
    EXPECT_TRUE(std::regex_match(id, pattern)) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(IdsTest, RunNameHasThreeParts) {
  std::regex pattern("^[a-z]+-[a-z]+-[0-9]{1,3}$");
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(std::regex_match(GenerateRunName(), pattern));
}

}  // namespace
}  // namespace lakeml::core
