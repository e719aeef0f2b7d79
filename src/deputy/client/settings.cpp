#include "deputy/client/settings.hpp"

#include "deputy/devidp/directory_yaml.hpp"
#include "deputy/devidp/state_dir.hpp"

#include <fmt/format.h>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <cctype>
#include <optional>

namespace deputy::client {

namespace {

std::string trimmed(std::string text) {
  auto space = [](unsigned char c) { return std::isspace(c) != 0; };
  while (!text.empty() && space(text.back())) text.pop_back();
  const auto first = std::ranges::find_if_not(text, space);
  return {first, text.end()};
}

std::string get(const config::Environment& environment, std::string_view name) {
  return trimmed(environment(name).value_or(""));
}

bool is_loopback_host(std::string_view host) {
  return host == "localhost" || host == "127.0.0.1" || host == "[::1]" || host == "::1";
}

/// The parse, when the authority is followed by a path that starts with '/' (or nothing), as RFC 3986
/// requires.
std::optional<boost::urls::url_view> parse_strictly(std::string_view url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed || parsed->host().empty()) return std::nullopt;
  const auto path = parsed->encoded_path();
  if (!path.empty() && !path.starts_with('/')) return std::nullopt;
  return *parsed;
}

}  // namespace

bool is_https_or_loopback(std::string_view url) {
  auto parsed = parse_strictly(url);
  if (!parsed) return false;
  return parsed->scheme() == "https" || (parsed->scheme() == "http" && is_loopback_host(parsed->host()));
}

std::string Settings::authority_url() const {
  return fmt::format("{}/{}", authority, tenant_id);
}

std::string Settings::discovery_url() const {
  return fmt::format("{}/v2.0/.well-known/openid-configuration", authority_url());
}

std::filesystem::path default_cache_path(const config::Environment& environment) {
  if (auto xdg = get(environment, "XDG_CACHE_HOME"); !xdg.empty()) {
    return std::filesystem::path(xdg) / "deputy" / "msal_cache.json";
  }
  const auto home = get(environment, "HOME");
  return std::filesystem::path(home.empty() ? "." : home) / ".cache" / "deputy" / "msal_cache.json";
}

Settings load_settings(const config::Environment& environment) {
  // The development defaults come from the built-in directory, so that they cannot drift from what
  // `deputy dev` serves.
  const auto directory = devidp::default_directory();
  const auto* client = directory.find_app("client");
  const auto* server = directory.find_app("server");

  Settings settings;
  settings.authority = get(environment, "AUTHORITY");
  if (settings.authority.empty()) settings.authority = std::string(kDevAuthority);
  while (settings.authority.ends_with('/')) settings.authority.pop_back();
  settings.tenant_id = get(environment, "TENANT_ID");
  if (settings.tenant_id.empty()) settings.tenant_id = directory.tenant.id;
  settings.client_id = get(environment, "CLIENT_ID");
  const bool dev_client = settings.client_id.empty();
  if (dev_client && client != nullptr) settings.client_id = client->client_id;
  settings.client_secret = get(environment, "CLIENT_SECRET");
  // The development client's secret only goes with the development client: never sent to another app.
  if (settings.client_secret.empty() && dev_client && client != nullptr && !client->secrets.empty()) {
    settings.client_secret = client->secrets.front();
  }
  settings.scope = get(environment, "API_A_SCOPE");
  if (settings.scope.empty() && server != nullptr)
    settings.scope = server->primary_identifier() + "/access_as_user";
  settings.redirect_uri = get(environment, "REDIRECT_URI");
  if (settings.redirect_uri.empty()) {
    settings.redirect_uri = client != nullptr && !client->redirect_uris.empty()
                                ? client->redirect_uris.front()
                                : std::string("http://localhost:8100/auth/callback");
  }
  settings.mcp_url = get(environment, "MCP_URL");
  if (settings.mcp_url.empty()) settings.mcp_url = std::string(kDevMcpUrl);
  const auto cache = get(environment, "MSAL_CACHE_PATH");
  settings.cache_path = cache.empty() ? default_cache_path(environment) : std::filesystem::path(cache);
  if (auto enabled = get(environment, "AUTH_ENABLED"); !enabled.empty()) {
    std::ranges::transform(enabled, enabled.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (enabled == "true" || enabled == "1" || enabled == "yes") {
      settings.auth_enabled = true;
    } else if (enabled == "false" || enabled == "0" || enabled == "no") {
      settings.auth_enabled = false;
    } else {
      throw config::ConfigError("AUTH_ENABLED: expected true or false");
    }
  }
  settings.ca_file = get(environment, "DEPUTY_CA_FILE");
  if (settings.ca_file.empty() && settings.authority == kDevAuthority) {
    // Only when it exists: without `deputy dev` having run there is no CA yet, and a missing default is
    // not an error (an explicit DEPUTY_CA_FILE that is missing is, when the HTTP client loads it).
    std::error_code ignored;
    const auto dev_ca = devidp::default_state_dir() / "ca.pem";
    if (std::filesystem::exists(dev_ca, ignored)) settings.ca_file = dev_ca.string();
  }
  return settings;
}

std::expected<void, Error> check_for_sign_in(const Settings& settings) {
  auto config_error = [](std::string message) {
    return std::unexpected(Error{ErrorCode::kConfig, std::move(message)});
  };
  if (!parse_strictly(settings.authority))
    return config_error("AUTHORITY is not a URL: " + settings.authority);
  // Tokens and the client secret travel to the authority: plain http only to this machine.
  if (!is_https_or_loopback(settings.authority)) {
    return config_error("AUTHORITY must be https (http only on loopback): " + settings.authority);
  }
  if (settings.tenant_id.empty()) return config_error("TENANT_ID is not set");
  if (settings.client_id.empty()) return config_error("CLIENT_ID is not set");
  if (settings.scope.empty()) return config_error("API_A_SCOPE is not set");
  auto redirect = parse_strictly(settings.redirect_uri);
  // The code comes back to a listener on this machine; anything else would need a server of ours elsewhere.
  if (!redirect || redirect->scheme() != "http" || !is_loopback_host(redirect->host()) ||
      !redirect->has_port() || redirect->port_number() == 0) {
    return config_error("REDIRECT_URI must be http://localhost:<port>/<path> (a loopback listener): " +
                        settings.redirect_uri);
  }
  return {};
}

}  // namespace deputy::client
