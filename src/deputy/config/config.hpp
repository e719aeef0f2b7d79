#pragma once
// deputy.yaml, the environment and .env, read once at start into one Config. Errors name the file, the
// key and the reason (configuration is the one place that throws). The seed's environment names keep
// working: AUTH_ENABLED, MIDDLEWARE_ENABLED, TENANT_ID, CLIENT_ID, ISSUER.

#include "deputy/auth/validator_options.hpp"
#include "deputy/authz/policy.hpp"
#include "deputy/net/http_server.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
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

/// Tier 2: how deputy exchanges a user's token for a downstream API's (On-Behalf-Of or RFC 8693), and how
/// it authenticates itself to the identity provider doing it. The seed's OBO_CLIENT_ID and OBO_CLIENT_SECRET
/// apply on top.
struct ExchangeConfig {
  std::string protocol = "entra";  // entra (On-Behalf-Of, jwt-bearer) or rfc8693 (token exchange)
  /// Default for entra: {auth.authority_host}/{auth.tenant_id}/oauth2/v2.0/token.
  std::string token_endpoint;
  std::string client_id;  // default: auth.client_id
  /// One credential: a secret (its value; from OBO_CLIENT_SECRET, the variable client_secret_env names, or a
  /// file), a certificate (PEM certificate and key), or a federated token file (workload identity).
  std::string client_secret;  // never printed
  std::string client_secret_env;
  std::string client_secret_file;
  std::string certificate_file;
  std::string private_key_file;
  std::string federated_token_file;  // AZURE_FEDERATED_TOKEN_FILE
  /// Exchanged tokens are kept until this long before they expire; cache off: one exchange per tool call
  /// (the seed's advice).
  bool cache = true;
  std::chrono::seconds cache_margin{300};
  std::size_t cache_max_entries = 10000;
  std::chrono::milliseconds timeout{10000};

  [[nodiscard]] bool configured() const {
    return !client_secret.empty() || !client_secret_file.empty() || !certificate_file.empty() ||
           !federated_token_file.empty();
  }
};

/// Outbound HTTP: the CA file trusted besides the system's (the development identity provider's) and the
/// timeout of one downstream call.
struct OutboundConfig {
  std::string ca_file;
  std::chrono::milliseconds timeout{10000};
};

/// The seed's SharePoint tools on Microsoft Graph.
struct GraphConfig {
  std::string base_url = "https://graph.microsoft.com";
  /// The tenant's SharePoint host (the seed hard-codes its company's); empty: the SharePoint tool is not
  /// offered.
  std::string sharepoint_host;
  /// What the exchange asks for (the seed: .default, i.e. every consented Graph permission).
  std::vector<std::string> scopes{"https://graph.microsoft.com/.default"};
};

/// A tool declared in deputy.yaml that calls an HTTP API on behalf of the user (tools/http_tool.hpp).
struct HttpToolConfig {
  std::string name;
  std::string title;
  std::string description;
  boost::json::object input_schema;
  std::string method = "GET";
  /// Scheme and host fixed; {argument} in the path or the query, percent-encoded into its place.
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  /// A JSON body with {argument} placeholders, each replaced by the argument's JSON value.
  std::string body;
  std::vector<std::string> scopes;  // what to exchange the user's token for; empty: no token sent
  std::vector<std::string> required_roles;
  std::vector<std::string> tags;
  std::string select;  // a JSON pointer into the response: the part that becomes the result
  std::map<unsigned, std::string> status_messages;  // status → message ({argument} expanded)
};

struct AuditConfig {
  bool to_stdout = false;
  std::string file;  // empty: no file
  std::string fsync = "interval";  // none, interval, always
  std::chrono::milliseconds fsync_interval{1000};
  std::uint64_t max_bytes = 100ULL * 1024 * 1024;
  unsigned keep = 5;
};

struct Config {
  std::string source;  // the file read, or "(no file)"
  ServerConfig server;
  AuthConfig auth;
  authz::PolicyOptions authz;
  ExchangeConfig exchange;
  OutboundConfig outbound;
  GraphConfig graph;
  std::vector<HttpToolConfig> tools;
  AuditConfig audit;
};

/// Looks a variable up; injected so tests never touch the process environment.
using Environment = std::function<std::optional<std::string>(std::string_view name)>;

/// The process environment, with the `.env` file (if any) underneath: a variable already set wins.
[[nodiscard]] Environment process_environment(const std::string& dotenv_path = ".env");

/// KEY=VALUE lines: `#` comments, `export ` prefixes, single or double quotes.
[[nodiscard]] std::map<std::string, std::string> parse_dotenv(std::string_view text);

/// Loads `path` (may be empty: defaults and environment only). Throws ConfigError.
[[nodiscard]] Config load(const std::string& path, const Environment& environment);
/// As load(), from YAML text; `source` names it in errors.
[[nodiscard]] Config parse(std::string_view text, std::string source, const Environment& environment);

/// The effective settings, as `deputy check-config` prints them; secrets redacted.
[[nodiscard]] std::string describe(const Config& config);

}  // namespace deputy::config
