#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace lakeml::server {

// The fields of one MLflow RPC request, decoded from a JSON body (POST/PUT/PATCH/DELETE) or a
// query string (GET), with typed accessors that apply MLflow's request rules (reference §1.2):
//   - unknown fields are ignored; JSON `null` counts as absent;
//   - a required field that is absent or an empty string is "missing";
//   - a value of the wrong type is "invalid";
//   - in a query string every value is text: repeated keys make lists, bools are true/false in
//     any case, numbers are decimal text.
// Every accessor error is kInvalidArgument with MLflow's wording, naming the field (nested
// fields as `metrics[0].key`). A value type: cheap to move, thread-compatible.
class Request {
 public:
  // Which Content-Type an RPC body may carry: POST and PUT must send `application/json`
  // (parameters after `;` ignored), a security control against cross-site "simple requests"
  // (CVE-2023-43472). `content_type` is nullopt when the header is absent.
  static core::Status CheckJsonContentType(const std::optional<std::string_view>& content_type);

  // Decodes a JSON body: empty or `null` means `{}`; a JSON string holding JSON is decoded a
  // second time (legacy clients); anything but an object is invalid. Errors: kInvalidArgument.
  static core::Result<Request> FromJsonBody(std::string_view body);

  // Wraps decoded query parameters (httplib's multimap of key → value).
  static Request FromQuery(const std::multimap<std::string, std::string>& params);

  Request() = default;

  // Sets (or overrides) a text field, e.g. a path parameter such as `model_id`.
  void SetField(const std::string& name, std::string value);

  // Whether the field is present and not null.
  bool Has(std::string_view name) const;

  core::Result<std::string> RequiredString(std::string_view name) const;
  core::Result<std::optional<std::string>> OptionalString(std::string_view name) const;
  // The field's text, or "" when absent.
  core::Result<std::string> StringOrEmpty(std::string_view name) const;

  // JSON integers (or integral floats) and decimal strings.
  core::Result<std::optional<int64_t>> OptionalInt64(std::string_view name) const;
  core::Result<int64_t> RequiredInt64(std::string_view name) const;

  // JSON numbers, numeric strings and "NaN", "Infinity", "-Infinity".
  core::Result<std::optional<double>> OptionalDouble(std::string_view name) const;
  core::Result<double> RequiredDouble(std::string_view name) const;

  // JSON booleans and the strings "true"/"false" in any case.
  core::Result<std::optional<bool>> OptionalBool(std::string_view name) const;

  // A JSON array of strings; in a query string, every value given for the key.
  core::Result<std::vector<std::string>> RepeatedString(std::string_view name) const;

  // An enum given by name or by number; `values` lists (name, number) pairs.
  core::Result<std::optional<int>> OptionalEnum(
      std::string_view name, const std::vector<std::pair<std::string_view, int>>& values) const;

  // Nested messages. Each element must be a JSON object; errors inside name the element.
  core::Result<std::vector<Request>> RepeatedObject(std::string_view name) const;
  core::Result<std::optional<Request>> OptionalObject(std::string_view name) const;

  // `run_id`, or the deprecated `run_uuid` that MLflow still accepts in its place.
  core::Result<std::string> RequiredRunId() const;

  // MLflow's error for a missing required field, e.g. for checks a handler makes itself.
  core::Status MissingError(std::string_view name) const;

 private:
  Request(nlohmann::json fields, std::string prefix, bool from_query)
      : fields_(std::move(fields)), prefix_(std::move(prefix)), from_query_(from_query) {}

  // The field's value, or nullptr when absent or null.
  const nlohmann::json* Find(std::string_view name) const;
  core::Status InvalidError(std::string_view name, const nlohmann::json& value) const;
  std::string FullName(std::string_view name) const;

  nlohmann::json fields_ = nlohmann::json::object();
  std::string prefix_;  // e.g. "metrics[0]." for nested messages
  bool from_query_ = false;
};

}  // namespace lakeml::server
