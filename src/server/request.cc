#include "server/request.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

namespace lakeml::server {
namespace {

using nlohmann::json;

std::string_view JsonTypeName(const json& value) {
  switch (value.type()) {
    case json::value_t::string:
      return "string";
    case json::value_t::boolean:
      return "boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "integer";
    case json::value_t::number_float:
      return "number";
    case json::value_t::array:
      return "array";
    case json::value_t::object:
      return "object";
    default:
      return "null";
  }
}

// Only scalars are echoed back: dumping a nested value would recurse as deep as the attacker
// nested it, and echoing large values helps nobody.
std::string DescribeValue(const json& value) {
  if (value.is_array()) return "[...]";
  if (value.is_object()) return "{...}";
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  constexpr size_t kMaxEchoChars = 100;
  if (text.size() > kMaxEchoChars) text = text.substr(0, kMaxEchoChars) + "...";
  return text;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view TrimSpaces(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

std::optional<int64_t> ParseDecimalInt64(std::string_view text) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) {
    return std::nullopt;
  }
  return value;
}

std::optional<double> ParseDoubleText(std::string_view text) {
  if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (text == "Infinity") return std::numeric_limits<double>::infinity();
  if (text == "-Infinity") return -std::numeric_limits<double>::infinity();
  if (text.empty()) return std::nullopt;
  double value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

core::Status Request::CheckJsonContentType(const std::optional<std::string_view>& content_type) {
  if (!content_type) {
    return core::InvalidArgument("Bad Request. Content-Type header is missing.");
  }
  std::string_view media_type = content_type->substr(0, content_type->find(';'));
  if (!EqualsIgnoreCase(TrimSpaces(media_type), "application/json")) {
    return core::InvalidArgument(
        "Bad Request. Content-Type must be one of [application/json]. Got '{}'", *content_type);
  }
  return core::Status::Ok();
}

core::Result<Request> Request::FromJsonBody(std::string_view body) {
  if (TrimSpaces(body).empty()) return Request();
  // The library throws on malformed input; its exceptions stop here.
  try {
    json parsed = json::parse(body);
    if (parsed.is_string()) parsed = json::parse(parsed.get_ref<const std::string&>());
    if (parsed.is_null()) return Request();
    if (!parsed.is_object()) {
      return core::InvalidArgument("Invalid request body: expected a JSON object, got {}",
                                   JsonTypeName(parsed));
    }
    return Request(std::move(parsed), "", false);
  } catch (const json::exception& e) {
    return core::InvalidArgument("Malformed JSON request body: {}", e.what());
  }
}

Request Request::FromQuery(const std::multimap<std::string, std::string>& params) {
  json fields = json::object();
  for (const auto& [key, value] : params) {
    auto it = fields.find(key);
    if (it == fields.end()) {
      fields[key] = value;
    } else if (it->is_array()) {
      it->push_back(value);
    } else {
      json list = json::array({std::move(*it), value});
      *it = std::move(list);
    }
  }
  return Request(std::move(fields), "", true);
}

void Request::SetField(const std::string& name, std::string value) {
  fields_[name] = std::move(value);
}

const nlohmann::json* Request::Find(std::string_view name) const {
  auto it = fields_.find(name);
  if (it == fields_.end() || it->is_null()) return nullptr;
  return &*it;
}

bool Request::Has(std::string_view name) const { return Find(name) != nullptr; }

std::string Request::FullName(std::string_view name) const {
  return prefix_ + std::string(name);
}

core::Status Request::MissingError(std::string_view name) const {
  return core::InvalidArgument(
      "Missing value for required parameter '{}'. See the API docs for more information about "
      "request parameters.",
      FullName(name));
}

core::Status Request::InvalidError(std::string_view name, const nlohmann::json& value) const {
  return core::InvalidArgument(
      "Invalid value {} for parameter '{}' supplied. Hint: Value was of type '{}'. See the API "
      "docs for more information about request parameters.",
      DescribeValue(value), FullName(name), JsonTypeName(value));
}

core::Result<std::optional<std::string>> Request::OptionalString(std::string_view name) const {
  const json* value = Find(name);
  if (value == nullptr) return std::optional<std::string>();
  if (!value->is_string()) return InvalidError(name, *value);
  return std::optional<std::string>(value->get<std::string>());
}

core::Result<std::string> Request::RequiredString(std::string_view name) const {
  LAKEML_ASSIGN_OR_RETURN(std::optional<std::string> value, OptionalString(name));
  if (!value || value->empty()) return MissingError(name);
  return std::move(*value);
}

core::Result<std::string> Request::StringOrEmpty(std::string_view name) const {
  LAKEML_ASSIGN_OR_RETURN(std::optional<std::string> value, OptionalString(name));
  return value ? std::move(*value) : std::string();
}

core::Result<std::optional<int64_t>> Request::OptionalInt64(std::string_view name) const {
  const json* value = Find(name);
  if (value == nullptr) return std::optional<int64_t>();
  if (value->is_number_integer() && !value->is_number_unsigned()) {
    return std::optional<int64_t>(value->get<int64_t>());
  }
  if (value->is_number_unsigned()) {
    uint64_t number = value->get<uint64_t>();
    if (number <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return std::optional<int64_t>(static_cast<int64_t>(number));
    }
    return InvalidError(name, *value);
  }
  if (value->is_number_float()) {
    double number = value->get<double>();
    // 2^63 is the first double past int64's range.
    if (std::isfinite(number) && std::trunc(number) == number && number >= -9.2233720368547758e18 &&
        number < 9.2233720368547758e18) {
      return std::optional<int64_t>(static_cast<int64_t>(number));
    }
    return InvalidError(name, *value);
  }
  if (value->is_string()) {
    if (auto parsed = ParseDecimalInt64(value->get_ref<const std::string&>())) {
      return std::optional<int64_t>(*parsed);
    }
  }
  return InvalidError(name, *value);
}

core::Result<int64_t> Request::RequiredInt64(std::string_view name) const {
  LAKEML_ASSIGN_OR_RETURN(std::optional<int64_t> value, OptionalInt64(name));
  if (!value) return MissingError(name);
  return *value;
}

core::Result<std::optional<double>> Request::OptionalDouble(std::string_view name) const {
  const json* value = Find(name);
  if (value == nullptr) return std::optional<double>();
  if (value->is_number()) return std::optional<double>(value->get<double>());
  if (value->is_string()) {
    if (auto parsed = ParseDoubleText(value->get_ref<const std::string&>())) {
      return std::optional<double>(*parsed);
    }
  }
  return InvalidError(name, *value);
}

core::Result<double> Request::RequiredDouble(std::string_view name) const {
  LAKEML_ASSIGN_OR_RETURN(std::optional<double> value, OptionalDouble(name));
  if (!value) return MissingError(name);
  return *value;
}

core::Result<std::optional<bool>> Request::OptionalBool(std::string_view name) const {
  const json* value = Find(name);
  if (value == nullptr) return std::optional<bool>();
  if (value->is_boolean()) return std::optional<bool>(value->get<bool>());
  if (value->is_string()) {
    const std::string& text = value->get_ref<const std::string&>();
    if (EqualsIgnoreCase(text, "true")) return std::optional<bool>(true);
    if (EqualsIgnoreCase(text, "false")) return std::optional<bool>(false);
  }
  return InvalidError(name, *value);
}

core::Result<std::vector<std::string>> Request::RepeatedString(std::string_view name) const {
  std::vector<std::string> values;
  const json* value = Find(name);
  if (value == nullptr) return values;
  // A key given once in a query string is still a list of one.
  if (from_query_ && value->is_string()) {
    values.push_back(value->get<std::string>());
    return values;
  }
  if (!value->is_array()) return InvalidError(name, *value);
  values.reserve(value->size());
  for (const json& item : *value) {
    if (!item.is_string()) return InvalidError(name, item);
    values.push_back(item.get<std::string>());
  }
  return values;
}

core::Result<std::optional<int>> Request::OptionalEnum(
    std::string_view name, const std::vector<std::pair<std::string_view, int>>& values) const {
  const json* value = Find(name);
  if (value == nullptr) return std::optional<int>();
  if (value->is_string()) {
    const std::string& text = value->get_ref<const std::string&>();
    for (const auto& [enum_name, number] : values) {
      if (text == enum_name) return std::optional<int>(number);
    }
    if (auto parsed = ParseDecimalInt64(text)) {
      for (const auto& [enum_name, number] : values) {
        if (*parsed == number) return std::optional<int>(number);
      }
    }
  } else if (value->is_number_integer()) {
    for (const auto& [enum_name, number] : values) {
      if (value->get<int64_t>() == number) return std::optional<int>(number);
    }
  }
  return InvalidError(name, *value);
}

core::Result<std::vector<Request>> Request::RepeatedObject(std::string_view name) const {
  std::vector<Request> items;
  const json* value = Find(name);
  if (value == nullptr) return items;
  if (!value->is_array()) return InvalidError(name, *value);
  items.reserve(value->size());
  for (size_t i = 0; i < value->size(); ++i) {
    const json& item = (*value)[i];
    std::string item_name = fmt::format("{}[{}]", name, i);
    if (!item.is_object()) return InvalidError(item_name, item);
    items.push_back(Request(item, FullName(item_name) + ".", false));
  }
  return items;
}

core::Result<std::optional<Request>> Request::OptionalObject(std::string_view name) const {
  const json* value = Find(name);
  if (value == nullptr) return std::optional<Request>();
  if (!value->is_object()) return InvalidError(name, *value);
  return std::optional<Request>(Request(*value, FullName(name) + ".", false));
}

core::Result<std::string> Request::RequiredRunId() const {
  LAKEML_ASSIGN_OR_RETURN(std::string run_id, StringOrEmpty("run_id"));
  if (!run_id.empty()) return run_id;
  LAKEML_ASSIGN_OR_RETURN(std::string run_uuid, StringOrEmpty("run_uuid"));
  if (!run_uuid.empty()) return run_uuid;
  return MissingError("run_id");
}

}  // namespace lakeml::server
