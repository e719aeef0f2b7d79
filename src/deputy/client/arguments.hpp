#pragma once
// `deputy call TOOL key=value...`: the arguments typed by the tool's input schema. A property declared
// integer, number, boolean, array or object (and not also string) takes its value as JSON and must be of that
// kind; everything else is the text as typed (so `message=42` stays "42" for a string property).

#include "deputy/client/error.hpp"

#include <boost/json/object.hpp>

#include <expected>
#include <span>
#include <string>

namespace deputy::client {

/// `assignments` are key=value (the first '=' splits; the value may be empty or contain '=').
/// kInvalidArgument for a missing '=', an empty or repeated key, or a value not of its declared kind.
[[nodiscard]] std::expected<boost::json::object, Error> tool_arguments(
    const boost::json::object& input_schema, std::span<const std::string> assignments);

}  // namespace deputy::client
