#pragma once
// deputy.yaml, the environment and .env, read once at start into one Config. Errors name the file, the
// key and the reason (configuration is the one place that throws). The seed's environment names keep
// working: AUTH_ENABLED, MIDDLEWARE_ENABLED, TENANT_ID, CLIENT_ID, ISSUER.

#include "deputy/auth/validator_options.hpp"
#include "deputy/authz/policy.hpp"
#include "deputy/net/http_server.hpp"

#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace deputy::config {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ServerConfig {
  net::ServerOptions http;
  std::string path = "/mcp";
  std::vector<std::string> allowed_origins;
  /// The URL clients use for this server (the RFC 9728 resource); when empty, the address the server
  /// binds (host, port, path) at start.
  std::string public_url;
  /// Serve /metrics (counters with reason labels, for operators). Unset: on when bound to loopback only.
  std::optional<bool> metrics;
};

struct AuthConfig {
  bool enabled = false;
  std::string provider = "entra";  // entra (Microsoft Entra ID) or oidc (any OpenID Connect issuer)
  std::string authority_host = "https://login.microsoftonline.com";
  std::string tenant_id;
  std::string client_id;
  /// Entra's Application ID URI of the server app (default api://<client id>). Microsoft's MCP guidance is
  /// to make it the server's URL, so that the resource clients name and the scope they ask for agree.
  std::string application_id_uri;
  auth::ValidatorOptions validator;
  /// For the protected resource metadata: where clients get tokens, and which scopes to ask for.
  std::vector<std::string> authorization_servers;
  std::vector<std::string> scopes_supported;
};

struct Config {
  std::string source;  // the file read, or "(no file)"
  ServerConfig server;
  AuthConfig auth;
  authz::PolicyOptions authz;
};

/// Looks a variable up; injected so tests never touch the process environment.
using Environment = std::function<std::optional<std::string>(std::string_view name)>;

/// The process environment, with the `.env` file (if any) underneath: a variable already set wins.
[[nodiscard]] Environment process_environment(const std::string& dotenv_path = ".env");

/// KEY=VALUE lines: `#` comments, `export ` prefixes, single or double quotes.
[[nodiscard]] std::map<std::string, std::string> parse_dotenv(std::string_view text);

/// Loads `path` (may be empty: defaults and environment only). Throws ConfigError.
[[nodiscard]] Config load(const std::string& path, const Environment& environment);

/// The effective settings, as `deputy check-config` prints them; secrets redacted.
[[nodiscard]] std::string describe(const Config& config);

}  // namespace deputy::config
