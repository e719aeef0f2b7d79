#pragma once
// JSON-RPC 2.0 as MCP uses it: classifying an incoming message and building outgoing ones.

#include <boost/json.hpp>

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

namespace deputy::mcp {

namespace json = boost::json;

/// Error codes on the wire: JSON-RPC's standard ones and those MCP adds.
enum class RpcCode : std::int32_t {
  kParseError = -32700,      // the body is not JSON
  kInvalidRequest = -32600,  // JSON, but not a JSON-RPC 2.0 message MCP accepts
  kMethodNotFound = -32601,  // no such method (or capability not offered)
  kInvalidParams = -32602,   // params do not match the method or the tool's input schema
  kInternalError = -32603,   // our fault; the message never carries internals
  kResourceNotFound = -32002,  // MCP: resources/read of an unknown URI
  kRequestTimeout = -32001,    // a server-to-client request got no answer in time
  kConnectionClosed = -32000,  // the client went away while we waited for it
  // The HTTP transport's own errors, with the codes the official SDKs use for them:
  kTransportError = -32000,   // a request the transport refuses (headers, method, media type)
  kSessionNotFound = -32001,  // an unknown or ended Mcp-Session-Id
};

/// An error answer. `message` is for the client: short, stable, never internals.
struct RpcError {
  RpcCode code;
  std::string message;
  std::optional<json::value> data;
};

[[nodiscard]] RpcError invalid_params(std::string message);
[[nodiscard]] RpcError internal_error();

enum class MessageKind { kRequest, kNotification, kResponse, kErrorResponse };

/// A classified message. Views point into the parsed value, which must outlive this.
struct Message {
  MessageKind kind;
  const json::value* id = nullptr;      // requests and responses
  std::string_view method;              // requests and notifications
  const json::value* params = nullptr;  // may be absent
  const json::value* result = nullptr;  // responses
  const json::object* error = nullptr;  // error responses
};

/// Longest id we keep and echo. An id is echoed in every answer and kept while a request is in flight;
/// a megabyte-long id would cost that much per request.
inline constexpr std::size_t kMaxIdLength = 256;

/// Classifies `value` as one JSON-RPC 2.0 message or says why it is not one (-32600).
[[nodiscard]] std::expected<Message, RpcError> classify(const json::value& value);

/// A stable text key for a request id (ids are strings or integers; "s:" and "n:" keep them apart).
[[nodiscard]] std::string id_key(const json::value& id);

[[nodiscard]] json::object make_result(const json::value& id, json::value result);
/// `id` may be null when the request's id could not be read (parse errors).
[[nodiscard]] json::object make_error(const json::value* id, const RpcError& error);
[[nodiscard]] json::object make_notification(std::string_view method, json::object params);
[[nodiscard]] json::object make_request(const json::value& id, std::string_view method, json::object params);

/// Parse options for every JSON-RPC body: nesting is capped so a deeply nested body is refused by
/// the parser rather than by the stack.
inline constexpr std::size_t kMaxJsonDepth = 64;
[[nodiscard]] json::parse_options parse_options();

}  // namespace deputy::mcp
