#pragma once
// The vocabulary a tool, resource or prompt author uses: what they declare and what they return.

#include "deputy/mcp/jsonrpc.hpp"

#include <boost/json.hpp>

#include <expected>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace deputy::mcp {

/// Protocol versions this server speaks, newest first. The first is offered when the client asks for
/// one we do not know.
inline constexpr std::string_view kProtocolVersions[] = {"2025-11-25", "2025-06-18", "2025-03-26"};
/// The version assumed for an HTTP request without `MCP-Protocol-Version` (the spec's rule).
inline constexpr std::string_view kDefaultHttpProtocolVersion = "2025-03-26";
[[nodiscard]] bool is_supported_version(std::string_view version);

/// RFC 5424 severities, as `logging/setLevel` and `notifications/message` name them.
enum class LogLevel { kDebug, kInfo, kNotice, kWarning, kError, kCritical, kAlert, kEmergency };
[[nodiscard]] std::optional<LogLevel> parse_log_level(std::string_view name);
[[nodiscard]] std::string_view to_string(LogLevel level);

/// Content blocks of tool results and prompt messages.
namespace content {
[[nodiscard]] json::object text(std::string_view text);
[[nodiscard]] json::object image(std::string_view base64_data, std::string_view mime_type);
[[nodiscard]] json::object audio(std::string_view base64_data, std::string_view mime_type);
[[nodiscard]] json::object resource_link(std::string_view uri, std::string_view name, std::string_view mime_type = {});
/// `resource` holds uri, mimeType and text or blob.
[[nodiscard]] json::object embedded_resource(json::object resource);
}  // namespace content

/// What a tool returns: content blocks, optional structured content, and whether it is an error the
/// model should see (a tool error, not a protocol error).
/// The `_meta` key of a tool error that carries a claims challenge (MFA, Conditional Access): an object
/// {"error": "insufficient_claims", "claims": "<base64 of the claims JSON>"}. The HTTP transport turns such a
/// result into HTTP 401 with `WWW-Authenticate: Bearer error="insufficient_claims", claims=…` while nothing of
/// the answer has gone out; later (an event stream already open) the tool error reaches the client as is.
inline constexpr std::string_view kClaimsChallengeMeta = "deputy/claimsChallenge";

struct ToolResult {
  json::array content;
  std::optional<json::value> structured_content;
  bool is_error = false;
  json::object meta;  // `_meta`

  [[nodiscard]] static ToolResult text(std::string_view text);
  [[nodiscard]] static ToolResult error(std::string_view message);
  /// A tool error asking the user to sign in again with `claims` (the identity provider's claims JSON, as
  /// received): see kClaimsChallengeMeta.
  [[nodiscard]] static ToolResult claims_challenge(std::string_view message, std::string_view claims);
  [[nodiscard]] json::object to_json() &&;
};

/// A tool as declared by its author.
struct ToolSpec {
  std::string name;
  std::string title;
  std::string description;
  json::object input_schema = {{"type", "object"}};
  std::optional<json::object> output_schema;
  json::object annotations;       // readOnlyHint, destructiveHint, idempotentHint, openWorldHint
  std::vector<std::string> tags;  // e.g. "read", "write": what authorization policies refer to
  std::vector<std::string> required_roles;  // any one of them is enough; empty: no requirement of its own
  json::object meta;
};

struct ResourceSpec {
  std::string uri;
  std::string name;
  std::string title;
  std::string description;
  std::string mime_type;
  std::vector<std::string> tags;
  std::vector<std::string> required_roles;
};

/// A resource template (RFC 6570 level 1: `{name}` expands to one path segment or more text).
struct ResourceTemplateSpec {
  std::string uri_template;
  std::string name;
  std::string title;
  std::string description;
  std::string mime_type;
  std::vector<std::string> tags;
  std::vector<std::string> required_roles;
};

struct PromptArgument {
  std::string name;
  std::string description;
  bool required = false;
};

struct PromptSpec {
  std::string name;
  std::string title;
  std::string description;
  std::vector<PromptArgument> arguments;
  std::vector<std::string> tags;
  std::vector<std::string> required_roles;
};

/// What a prompt returns.
struct PromptResult {
  std::string description;
  json::array messages;  // {role, content}
};

/// A completion source for a prompt argument or a template variable: the value typed so far and the
/// other arguments already chosen give candidate values.
using Completer = std::function<std::vector<std::string>(std::string_view value, const json::object& context)>;

}  // namespace deputy::mcp
