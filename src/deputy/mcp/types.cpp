#include "deputy/mcp/types.hpp"

#include "deputy/auth/base64url.hpp"

#include <algorithm>
#include <array>

namespace deputy::mcp {

bool is_supported_version(std::string_view version) {
  return std::ranges::find(kProtocolVersions, version) != std::end(kProtocolVersions);
}

namespace {
constexpr std::array<std::string_view, 8> kLevelNames = {"debug",    "info",  "notice", "warning",
                                                         "error",    "critical", "alert", "emergency"};
}  // namespace

std::optional<LogLevel> parse_log_level(std::string_view name) {
  for (std::size_t i = 0; i < kLevelNames.size(); ++i) {
    if (kLevelNames[i] == name) return static_cast<LogLevel>(i);
  }
  return std::nullopt;
}

std::string_view to_string(LogLevel level) { return kLevelNames[static_cast<std::size_t>(level)]; }

namespace content {

json::object text(std::string_view text) { return {{"type", "text"}, {"text", text}}; }

json::object image(std::string_view base64_data, std::string_view mime_type) {
  return {{"type", "image"}, {"data", base64_data}, {"mimeType", mime_type}};
}

json::object audio(std::string_view base64_data, std::string_view mime_type) {
  return {{"type", "audio"}, {"data", base64_data}, {"mimeType", mime_type}};
}

json::object resource_link(std::string_view uri, std::string_view name, std::string_view mime_type) {
  json::object out{{"type", "resource_link"}, {"uri", uri}, {"name", name}};
  if (!mime_type.empty()) out.emplace("mimeType", mime_type);
  return out;
}

json::object embedded_resource(json::object resource) {
  return {{"type", "resource"}, {"resource", std::move(resource)}};
}

}  // namespace content

ToolResult ToolResult::text(std::string_view text) {
  ToolResult result;
  result.content.emplace_back(content::text(text));
  return result;
}

ToolResult ToolResult::error(std::string_view message) {
  ToolResult result = text(message);
  result.is_error = true;
  return result;
}

ToolResult ToolResult::claims_challenge(std::string_view message, std::string_view claims) {
  ToolResult result = error(message);
  result.meta.emplace(kClaimsChallengeMeta,
                      json::object{{"error", "insufficient_claims"}, {"claims", auth::base64_encode(claims)}});
  return result;
}

json::object ToolResult::to_json() && {
  json::object out;
  out.reserve(4);
  out.emplace("content", std::move(content));
  if (structured_content) out.emplace("structuredContent", std::move(*structured_content));
  if (is_error) out.emplace("isError", true);
  if (!meta.empty()) out.emplace("_meta", std::move(meta));
  return out;
}

}  // namespace deputy::mcp
