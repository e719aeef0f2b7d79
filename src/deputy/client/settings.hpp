#pragma once
// The client's settings, named as the seed's Python client names them (TENANT_ID, CLIENT_ID, CLIENT_SECRET,
// API_A_SCOPE, REDIRECT_URI, MCP_URL, MSAL_CACHE_PATH, AUTH_ENABLED) plus AUTHORITY and DEPUTY_CA_FILE, read
// from the environment with `.env` underneath (config::process_environment); the command line overrides them.
// Unset values point at `deputy dev`: the development identity provider on https://127.0.0.1:8443 with the
// built-in directory's tenant and client app, and the MCP server on http://127.0.0.1:8400/mcp.

#include "deputy/client/error.hpp"
#include "deputy/config/config.hpp"

#include <expected>
#include <filesystem>
#include <string>

namespace deputy::client {

/// Entra's public cloud; sovereign clouds and the development provider are other hosts.
inline constexpr std::string_view kEntraAuthority = "https://login.microsoftonline.com";
/// Where `deputy dev` (and `deputy idp`) serve the identity provider.
inline constexpr std::string_view kDevAuthority = "https://127.0.0.1:8443";
inline constexpr std::string_view kDevMcpUrl = "http://127.0.0.1:8400/mcp";

struct Settings {
  std::string authority;  // scheme and host (and port), without the tenant: https://login.microsoftonline.com
  std::string tenant_id;  // GUID, domain, or organizations/common
  std::string client_id;  // the client app registration
  std::string client_secret;  // empty: a public client (PKCE alone binds the code)
  std::string scope;          // the MCP server's delegated scope: api://<server id>/access_as_user
  std::string redirect_uri;   // http://localhost:<port>/<path>, registered on the client app
  std::string mcp_url;
  std::filesystem::path cache_path;
  bool auth_enabled = true;
  /// A PEM file of CAs trusted besides the system's; empty for none. By default the development CA when the
  /// authority is the development provider's and the file exists.
  std::string ca_file;

  /// {authority}/{tenant}
  [[nodiscard]] std::string authority_url() const;
  /// {authority}/{tenant}/v2.0/.well-known/openid-configuration
  [[nodiscard]] std::string discovery_url() const;
};

/// The settings from `environment`, defaults filled in (see the header comment). Throws config::ConfigError
/// for a value that cannot be used (AUTH_ENABLED not a boolean).
[[nodiscard]] Settings load_settings(const config::Environment& environment);

/// Checks what a sign-in needs (authority https or loopback http, tenant, client id, scope, a loopback
/// http redirect URI with a port).
[[nodiscard]] std::expected<void, Error> check_for_sign_in(const Settings& settings);

/// Whether `url` may carry a secret (a token, a code, the client secret): https, or plain http to this
/// machine. A URL whose path does not start with '/' right after the authority is refused: Boost.URL 1.81
/// reads "http://127.0.0.1.evil.example/" as host 127.0.0.1 with path ".evil.example/", where a browser sees
/// another host.
[[nodiscard]] bool is_https_or_loopback(std::string_view url);

/// $XDG_CACHE_HOME/deputy/msal_cache.json, or ~/.cache/deputy/msal_cache.json.
[[nodiscard]] std::filesystem::path default_cache_path(const config::Environment& environment);

}  // namespace deputy::client
