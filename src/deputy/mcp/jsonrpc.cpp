#include "deputy/mcp/jsonrpc.hpp"

namespace deputy::mcp {

RpcError invalid_params(std::string message) { return {RpcCode::kInvalidParams, std::move(message), {}}; }

RpcError internal_error() { return {RpcCode::kInternalError, "Internal error", {}}; }

namespace {

RpcError invalid_request(std::string message) { return {RpcCode::kInvalidRequest, std::move(message), {}}; }

bool valid_id(const json::value& id) {
  if (id.is_int64() || id.is_uint64()) return true;
  if (id.is_string()) return id.get_string().size() <= kMaxIdLength;
  return false;  // null, fractional numbers, objects: MCP ids are strings or integers
}

}  // namespace

std::expected<Message, RpcError> classify(const json::value& value) {
  const auto* object = value.if_object();
  if (object == nullptr) return std::unexpected(invalid_request("Invalid Request: expected a JSON-RPC object"));
  const auto* version = object->if_contains("jsonrpc");
  if (version == nullptr || !version->is_string() || version->get_string() != "2.0") {
    return std::unexpected(invalid_request("Invalid Request: jsonrpc must be \"2.0\""));
  }
  Message message{};
  message.id = object->if_contains("id");
  if (message.id != nullptr && !valid_id(*message.id)) {
    return std::unexpected(invalid_request("Invalid Request: id must be a string or an integer"));
  }
  if (const auto* method = object->if_contains("method")) {
    if (!method->is_string() || method->get_string().empty()) {
      return std::unexpected(invalid_request("Invalid Request: method must be a non-empty string"));
    }
    message.method = method->get_string();
    message.params = object->if_contains("params");
    if (message.params != nullptr && !message.params->is_object() && !message.params->is_array()) {
      return std::unexpected(invalid_request("Invalid Request: params must be an object"));
    }
    message.kind = message.id != nullptr ? MessageKind::kRequest : MessageKind::kNotification;
    return message;
  }
  if (message.id == nullptr) return std::unexpected(invalid_request("Invalid Request: no method and no id"));
  if (const auto* result = object->if_contains("result")) {
    message.kind = MessageKind::kResponse;
    message.result = result;
    return message;
  }
  if (const auto* error = object->if_contains("error"); error != nullptr && error->is_object()) {
    message.kind = MessageKind::kErrorResponse;
    message.error = &error->get_object();
    return message;
  }
  return std::unexpected(invalid_request("Invalid Request: a response needs result or error"));
}

std::string id_key(const json::value& id) {
  if (id.is_string()) return "s:" + std::string(id.get_string());
  if (id.is_int64()) return "n:" + std::to_string(id.get_int64());
  if (id.is_uint64()) return "n:" + std::to_string(id.get_uint64());
  return "?";
}

json::object make_result(const json::value& id, json::value result) {
  // The result's own storage: moving it in is then free (another storage would mean a deep copy).
  json::object out(result.storage());
  out.reserve(3);
  out.emplace("jsonrpc", "2.0");
  out.emplace("id", id);
  out.emplace("result", std::move(result));
  return out;
}

json::object make_error(const json::value* id, const RpcError& error) {
  json::object body;
  body.emplace("code", static_cast<std::int32_t>(error.code));
  body.emplace("message", error.message);
  if (error.data) body.emplace("data", *error.data);
  json::object out;
  out.emplace("jsonrpc", "2.0");
  out.emplace("id", id != nullptr ? *id : json::value(nullptr));
  out.emplace("error", std::move(body));
  return out;
}

json::object make_notification(std::string_view method, json::object params) {
  json::object out;
  out.emplace("jsonrpc", "2.0");
  out.emplace("method", method);
  out.emplace("params", std::move(params));
  return out;
}

json::object make_request(const json::value& id, std::string_view method, json::object params) {
  json::object out;
  out.emplace("jsonrpc", "2.0");
  out.emplace("id", id);
  out.emplace("method", method);
  out.emplace("params", std::move(params));
  return out;
}

json::parse_options parse_options() {
  json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  return options;
}

}  // namespace deputy::mcp
