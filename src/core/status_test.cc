#include "core/status.h"

#include <gtest/gtest.h>

namespace lakeml::core {
namespace {

Result<int> ParsePositive(int value) {
  if (value <= 0) return InvalidArgument("value {} is not positive", value);
  return value;
}

Result<int> Doubled(int value) {
  LAKEML_ASSIGN_OR_RETURN(int parsed, ParsePositive(value));
  return parsed * 2;
}

Status CheckBoth(int a, int b) {
  LAKEML_RETURN_IF_ERROR(ParsePositive(a).status());
  LAKEML_RETURN_IF_ERROR(ParsePositive(b).status());
  return Status::Ok();
}

TEST(StatusTest, OkByDefault) {
  Status status;
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(status.ToString(), "OK");
}

TEST(StatusTest, ErrorCarriesCodeAndMessage) {
  Status status = NotFound("run '{}' not found", "abc");
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_EQ(status.ToString(), "NOT_FOUND: run 'abc' not found");
}

TEST(StatusTest, AssignOrReturnPropagates) {
  EXPECT_EQ(*Doubled(4), 8);
  Result<int> failed = Doubled(-1);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(failed.status().message(), "value -1 is not positive");
}

TEST(StatusTest, ReturnIfErrorStopsAtFirstFailure) {
  EXPECT_TRUE(CheckBoth(1, 2).ok());
  EXPECT_EQ(CheckBoth(1, -2).message(), "value -2 is not positive");
}

}  // namespace
}  // namespace lakeml::core
