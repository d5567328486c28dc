#include "server/request.h"

#include <cmath>

#include <gtest/gtest.h>

namespace lakeml::server {
namespace {

Request Json(std::string_view body) {
  core::Result<Request> request = Request::FromJsonBody(body);
  EXPECT_TRUE(request.ok()) << request.status().ToString();
  return request.ok() ? std::move(request).value() : Request();
}

TEST(RequestTest, ContentTypeMustBeJsonIgnoringParameters) {
  EXPECT_TRUE(Request::CheckJsonContentType("application/json").ok());
  EXPECT_TRUE(Request::CheckJsonContentType("application/json; charset=utf-8").ok());
  EXPECT_TRUE(Request::CheckJsonContentType("Application/JSON").ok());

  core::Status text = Request::CheckJsonContentType("text/plain");
  EXPECT_EQ(text.code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(text.message(),
            "Bad Request. Content-Type must be one of [application/json]. Got 'text/plain'");
  EXPECT_EQ(Request::CheckJsonContentType("application/x-www-form-urlencoded").code(),
            core::StatusCode::kInvalidArgument);
  EXPECT_EQ(Request::CheckJsonContentType(std::nullopt).code(),
            core::StatusCode::kInvalidArgument);
}

TEST(RequestTest, EmptyAndNullBodiesAreEmptyObjects) {
  EXPECT_FALSE(Json("").Has("name"));
  EXPECT_FALSE(Json("  \n").Has("name"));
  EXPECT_FALSE(Json("null").Has("name"));
  EXPECT_FALSE(Json("{}").Has("name"));
}

TEST(RequestTest, DoubleEncodedBodyIsDecodedAgain) {
  Request request = Json(R"("{\"name\": \"exp\"}")");
  EXPECT_EQ(request.RequiredString("name").value(), "exp");
}

TEST(RequestTest, MalformedOrNonObjectBodiesAreInvalid) {
  for (std::string_view body : {"{bad", "[1, 2]", "42", "\"not json\"", "{\"a\": 1"}) {
    core::Result<Request> request = Request::FromJsonBody(body);
    EXPECT_EQ(request.status().code(), core::StatusCode::kInvalidArgument) << body;
  }
}

TEST(RequestTest, DeeplyNestedBodyDoesNotCrash) {
  std::string body = "{\"name\": " + std::string(100000, '[') + std::string(100000, ']') + "}";
  Request request = Json(body);
  core::Result<std::string> name = request.RequiredString("name");
  EXPECT_EQ(name.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(name.status().message().find("[...]"), std::string::npos);
}

TEST(RequestTest, MissingAndEmptyRequiredStringsUseMlflowMessage) {
  Request request = Json(R"({"name": "", "other": "x"})");
  const std::string expected =
      "Missing value for required parameter 'name'. See the API docs for more information about "
      "request parameters.";
  EXPECT_EQ(request.RequiredString("name").status().message(), expected);
  EXPECT_EQ(request.RequiredString("absent").status().code(), core::StatusCode::kInvalidArgument);
}

TEST(RequestTest, NullCountsAsAbsent) {
  Request request = Json(R"({"end_time": null, "name": null})");
  EXPECT_FALSE(request.Has("end_time"));
  EXPECT_FALSE(request.OptionalInt64("end_time").value().has_value());
  EXPECT_FALSE(request.RequiredString("name").ok());
}

TEST(RequestTest, WrongTypeNamesTheParameter) {
  Request request = Json(R"({"name": 5})");
  core::Status status = request.RequiredString("name").status();
  EXPECT_EQ(status.code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("Invalid value 5 for parameter 'name' supplied"),
            std::string::npos)
      << status.message();
}

TEST(RequestTest, Int64AcceptsNumbersAndDecimalStrings) {
  Request request = Json(
      R"({"a": 5, "b": "-7", "c": 3.0, "d": 1.5, "e": "abc", "f": true, "g": 9223372036854775808,
          "h": 1700000000123})");
  EXPECT_EQ(request.OptionalInt64("a").value(), 5);
  EXPECT_EQ(request.OptionalInt64("b").value(), -7);
  EXPECT_EQ(request.OptionalInt64("c").value(), 3);
  EXPECT_EQ(request.OptionalInt64("h").value(), 1700000000123);
  EXPECT_FALSE(request.OptionalInt64("d").ok());
  EXPECT_FALSE(request.OptionalInt64("e").ok());
  EXPECT_FALSE(request.OptionalInt64("f").ok());
  EXPECT_FALSE(request.OptionalInt64("g").ok());
  EXPECT_FALSE(request.OptionalInt64("missing").value().has_value());
  EXPECT_FALSE(request.RequiredInt64("missing").ok());
}

TEST(RequestTest, DoubleAcceptsNumbersAndSpecialStrings) {
  Request request = Json(
      R"({"a": 1.5, "b": "NaN", "c": "Infinity", "d": "-Infinity", "e": "2.5", "f": true,
          "g": "nope", "h": 0})");
  EXPECT_DOUBLE_EQ(*request.OptionalDouble("a").value(), 1.5);
  EXPECT_TRUE(std::isnan(*request.OptionalDouble("b").value()));
  EXPECT_EQ(*request.OptionalDouble("c").value(), INFINITY);
  EXPECT_EQ(*request.OptionalDouble("d").value(), -INFINITY);
  EXPECT_DOUBLE_EQ(*request.OptionalDouble("e").value(), 2.5);
  EXPECT_FALSE(request.OptionalDouble("f").ok());
  EXPECT_FALSE(request.OptionalDouble("g").ok());
  // 0 is a value, not "missing": only empty strings count as missing.
  EXPECT_EQ(request.RequiredDouble("h").value(), 0.0);
}

TEST(RequestTest, QueryStringBoolsAnyCaseAndRepeatedKeys) {
  std::multimap<std::string, std::string> params = {
      {"flag", "TRUE"}, {"off", "False"}, {"bad", "yes"},  {"run_ids", "a"},
      {"run_ids", "b"}, {"one", "x"},     {"n", "12"},
  };
  Request request = Request::FromQuery(params);
  EXPECT_EQ(request.OptionalBool("flag").value(), true);
  EXPECT_EQ(request.OptionalBool("off").value(), false);
  EXPECT_FALSE(request.OptionalBool("bad").ok());
  EXPECT_EQ(request.RepeatedString("run_ids").value(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(request.RepeatedString("one").value(), (std::vector<std::string>{"x"}));
  EXPECT_EQ(request.OptionalInt64("n").value(), 12);
  // A scalar given twice is ambiguous.
  EXPECT_FALSE(request.OptionalString("run_ids").ok());
}

TEST(RequestTest, JsonRepeatedFieldsMustBeArraysOfStrings) {
  Request request = Json(R"({"ids": ["1", "2"], "single": "1", "mixed": ["1", 2]})");
  EXPECT_EQ(request.RepeatedString("ids").value(), (std::vector<std::string>{"1", "2"}));
  EXPECT_FALSE(request.RepeatedString("single").ok());
  EXPECT_FALSE(request.RepeatedString("mixed").ok());
  EXPECT_TRUE(request.RepeatedString("absent").value().empty());
}

TEST(RequestTest, RunUuidIsAcceptedForRunId) {
  EXPECT_EQ(Json(R"({"run_uuid": "abc"})").RequiredRunId().value(), "abc");
  EXPECT_EQ(Json(R"({"run_id": "x", "run_uuid": "y"})").RequiredRunId().value(), "x");
  EXPECT_EQ(Json(R"({"run_id": "", "run_uuid": "y"})").RequiredRunId().value(), "y");
  core::Status missing = Json("{}").RequiredRunId().status();
  EXPECT_NE(missing.message().find("'run_id'"), std::string::npos);
}

TEST(RequestTest, NestedErrorsNameTheElement) {
  Request request = Json(R"({"metrics": [{"key": "a"}, {"value": 1}]})");
  std::vector<Request> items = request.RepeatedObject("metrics").value();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].RequiredString("key").value(), "a");
  EXPECT_NE(items[1].RequiredString("key").status().message().find("'metrics[1].key'"),
            std::string::npos);
  EXPECT_FALSE(Json(R"({"metrics": [1]})").RepeatedObject("metrics").ok());
  EXPECT_FALSE(Json(R"({"metrics": {}})").RepeatedObject("metrics").ok());
}

TEST(RequestTest, EnumsByNameOrNumber) {
  const std::vector<std::pair<std::string_view, int>> values = {{"RUNNING", 1}, {"FINISHED", 3}};
  Request request = Json(R"({"a": "FINISHED", "b": 1, "c": "3", "d": "DONE", "e": 7})");
  EXPECT_EQ(request.OptionalEnum("a", values).value(), 3);
  EXPECT_EQ(request.OptionalEnum("b", values).value(), 1);
  EXPECT_EQ(request.OptionalEnum("c", values).value(), 3);
  EXPECT_FALSE(request.OptionalEnum("d", values).ok());
  EXPECT_FALSE(request.OptionalEnum("e", values).ok());
  EXPECT_FALSE(request.OptionalEnum("absent", values).value().has_value());
}

TEST(RequestTest, PathParametersOverrideBodyFields) {
  Request request = Json(R"({"model_id": "from-body"})");
  request.SetField("model_id", "m-123");
  EXPECT_EQ(request.RequiredString("model_id").value(), "m-123");
}

}  // namespace
}  // namespace lakeml::server
