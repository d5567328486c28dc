#include "server/error_mapping.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace lakeml::server {
namespace {

using core::StatusCode;

TEST(ErrorMappingTest, MapsEveryCodeToMlflowNameAndStatus) {
  struct Case {
    StatusCode code;
    std::string_view error_code;
    int http_status;
  };
  const Case cases[] = {
      {StatusCode::kOk, "", 200},
      {StatusCode::kInvalidArgument, "INVALID_PARAMETER_VALUE", 400},
      {StatusCode::kNotFound, "RESOURCE_DOES_NOT_EXIST", 404},
      {StatusCode::kAlreadyExists, "RESOURCE_ALREADY_EXISTS", 400},
      {StatusCode::kFailedPrecondition, "INVALID_PARAMETER_VALUE", 400},
      {StatusCode::kAborted, "ABORTED", 409},
      {StatusCode::kPermissionDenied, "PERMISSION_DENIED", 403},
      {StatusCode::kUnauthenticated, "UNAUTHENTICATED", 401},
      {StatusCode::kResourceExhausted, "RESOURCE_EXHAUSTED", 429},
      {StatusCode::kUnavailable, "TEMPORARILY_UNAVAILABLE", 503},
      {StatusCode::kDeadlineExceeded, "DEADLINE_EXCEEDED", 504},
      {StatusCode::kUnimplemented, "NOT_IMPLEMENTED", 501},
      {StatusCode::kDataLoss, "DATA_LOSS", 500},
      {StatusCode::kInternal, "INTERNAL_ERROR", 500},
  };
  for (const Case& c : cases) {
    MlflowError error = ToMlflowError(c.code);
    EXPECT_EQ(error.error_code, c.error_code) << core::StatusCodeName(c.code);
    EXPECT_EQ(error.http_status, c.http_status) << core::StatusCodeName(c.code);
  }
}

TEST(ErrorMappingTest, ErrorBodyIsMlflowShape) {
  auto body = nlohmann::json::parse(ErrorBody("RESOURCE_DOES_NOT_EXIST", "run 'x' not found"));
  EXPECT_EQ(body, (nlohmann::json{{"error_code", "RESOURCE_DOES_NOT_EXIST"},
                                  {"message", "run 'x' not found"}}));
}

TEST(ErrorMappingTest, ErrorBodyReplacesInvalidUtf8InsteadOfThrowing) {
  std::string body = ErrorBody("INVALID_PARAMETER_VALUE", std::string("bad \xff byte"));
  EXPECT_TRUE(nlohmann::json::accept(body));
}

}  // namespace
}  // namespace lakeml::server
