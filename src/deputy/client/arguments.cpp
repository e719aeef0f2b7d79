#include "deputy/client/arguments.hpp"

#include <fmt/format.h>
#include <boost/json.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

namespace deputy::client {

namespace json = boost::json;

namespace {

/// The declared types of a property: "type" as a string or an array of strings.
std::vector<std::string> declared_types(const json::object& schema, std::string_view key) {
  std::vector<std::string> out;
  const auto* properties = schema.if_contains("properties");
  const auto* property =
      properties != nullptr && properties->is_object() ? properties->get_object().if_contains(key) : nullptr;
  const auto* type =
      property != nullptr && property->is_object() ? property->get_object().if_contains("type") : nullptr;
  if (type == nullptr) return out;
  if (type->is_string()) out.emplace_back(type->get_string());
  if (type->is_array()) {
    for (const auto& item : type->get_array()) {
      if (item.is_string()) out.emplace_back(item.get_string());
    }
  }
  return out;
}

bool is_kind(const json::value& value, std::string_view type) {
  if (type == "integer") {
    if (value.is_int64() || value.is_uint64()) return true;
    return value.is_double() && std::trunc(value.get_double()) == value.get_double() &&
           std::isfinite(value.get_double());
  }
  if (type == "number") return value.is_number();
  if (type == "boolean") return value.is_bool();
  if (type == "array") return value.is_array();
  if (type == "object") return value.is_object();
  if (type == "null") return value.is_null();
  return false;
}

}  // namespace

std::expected<json::object, Error> tool_arguments(const json::object& input_schema,
                                                  std::span<const std::string> assignments) {
  auto invalid = [](std::string message) {
    return std::unexpected(Error{ErrorCode::kInvalidArgument, std::move(message)});
  };
  json::object out;
  for (const auto& assignment : assignments) {
    const auto equals = assignment.find('=');
    if (equals == std::string::npos) return invalid(fmt::format("'{}' is not key=value", assignment));
    const std::string key = assignment.substr(0, equals);
    const std::string text = assignment.substr(equals + 1);
    if (key.empty()) return invalid(fmt::format("'{}' has no key", assignment));
    if (out.contains(key)) return invalid(fmt::format("'{}' is given twice", key));
    const auto types = declared_types(input_schema, key);
    const bool as_text = types.empty() || std::ranges::find(types, "string") != types.end();
    if (as_text) {
      out[key] = text;
      continue;
    }
    boost::system::error_code ec;
    auto value = json::parse(text, ec);
    const bool fits =
        !ec && std::ranges::any_of(types, [&](const std::string& type) { return is_kind(value, type); });
    if (!fits) {
      std::string expected;
      for (const auto& type : types) expected += (expected.empty() ? "" : " or ") + type;
      return invalid(fmt::format("{}: expected {} (as JSON), got '{}'", key, expected, text));
    }
    if (value.is_double() && std::ranges::find(types, "integer") != types.end() &&
        std::ranges::find(types, "number") == types.end()) {
      value = static_cast<std::int64_t>(value.get_double());
    }
    out[key] = std::move(value);
  }
  return out;
}

}  // namespace deputy::client
