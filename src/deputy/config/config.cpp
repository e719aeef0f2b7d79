#include "deputy/config/config.hpp"

#include "deputy/config/section.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

namespace deputy::config {

using namespace detail;  // NOLINT(google-build-using-namespace): the readers of section.hpp

namespace {

bool is_guid(std::string_view text) {
  if (text.size() != 36) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash != (text[i] == '-')) return false;
    if (!dash && !std::isxdigit(static_cast<unsigned char>(text[i]))) return false;
  }
  return true;
}

/// Entra's defaults from tenant and client id (see shared facts: v1 and v2 issuers, both audiences).
void apply_entra_defaults(const std::string& source, AuthConfig& auth) {
  auto& v = auth.validator;
  if (auth.client_id.empty()) fail(source, "auth.client_id", "must be set (the MCP server's app registration)");
  if (auth.tenant_id.empty()) fail(source, "auth.tenant_id", "must be set (a tenant GUID or domain, or organizations)");
  const bool multi_tenant = auth.tenant_id == "organizations" || auth.tenant_id == "common";
  if (auth.tenant_id == "consumers") fail(source, "auth.tenant_id", "consumers accounts are not supported");
  const std::string tenant = multi_tenant ? "{tenantid}" : auth.tenant_id;
  if (v.accepted_versions.empty()) v.accepted_versions = {"2.0"};
  if (v.issuers.empty()) {
    if (!multi_tenant && !is_guid(auth.tenant_id) && v.jwks_uri.empty()) {
      // Tokens name the tenant by GUID; a domain cannot be matched against them.
      fail(source, "auth.tenant_id", "use the tenant's GUID (tokens carry it), or list auth.issuers");
    }
    for (const auto& version : v.accepted_versions) {
      if (version == "2.0") {
        v.issuers.push_back(auth.authority_host + "/" + tenant + "/v2.0");
      } else if (version == "1.0") {
        v.issuers.push_back("https://sts.windows.net/" + tenant + "/");
      } else {
        fail(source, "auth.accepted_versions", "must hold 1.0 and/or 2.0");
      }
    }
  }
  if (auth.application_id_uri.empty()) auth.application_id_uri = "api://" + auth.client_id;
  if (v.audiences.empty()) v.audiences = {auth.client_id, auth.application_id_uri};
  // A single-tenant token's tid must be that tenant, not only its issuer string.
  if (!multi_tenant && is_guid(auth.tenant_id)) v.tenant_id = auth.tenant_id;
  if (v.jwks_uri.empty() && v.discovery_url.empty() && v.jwks_file.empty()) {
    v.jwks_uri = auth.authority_host + "/" + auth.tenant_id + "/discovery/v2.0/keys";
  }
  if (auth.authorization_servers.empty()) {
    auth.authorization_servers = {auth.authority_host + "/" + auth.tenant_id + "/v2.0"};
  }
  if (auth.scopes_supported.empty()) auth.scopes_supported = {auth.application_id_uri + "/access_as_user"};
  if (v.required_scopes.empty()) v.required_scopes = {"access_as_user"};
}

void validate_auth(const std::string& source, AuthConfig& auth) {
  auto& v = auth.validator;
  if (auth.provider == "entra") {
    apply_entra_defaults(source, auth);
  } else if (auth.provider == "oidc") {
    if (v.issuers.empty()) fail(source, "auth.issuers", "must list the accepted issuers");
    if (v.audiences.empty()) fail(source, "auth.audiences", "must list the accepted audiences");
    if (v.jwks_uri.empty() && v.discovery_url.empty() && v.jwks_file.empty()) {
      v.discovery_url = v.issuers.front() + "/.well-known/openid-configuration";
    }
    if (auth.authorization_servers.empty()) auth.authorization_servers = {v.issuers.front()};
  } else {
    fail(source, "auth.provider", "must be entra or oidc");
  }
  const bool templated = std::ranges::any_of(v.issuers, [](const std::string& issuer) {
    return issuer.find("{tenantid}") != std::string::npos;
  });
  // A multi-tenant issuer without an allowlist would accept every tenant in the cloud: refused, rather
  // than switching the issuer check off as some libraries do.
  if (templated && v.tenant_allowlist.empty()) {
    fail(source, "auth.tenant_allowlist", "must list the tenants a multi-tenant issuer accepts");
  }
  static const std::set<std::string, std::less<>> kAlgorithms = {"RS256", "RS384", "RS512", "PS256", "PS384",
                                                                 "PS512", "ES256", "ES384", "ES512"};
  for (const auto& alg : v.algorithms) {
    if (!kAlgorithms.contains(alg)) fail(source, "auth.algorithms", fmt::format("'{}' is not an accepted algorithm", alg));
  }
  if (v.algorithms.empty()) fail(source, "auth.algorithms", "must name at least one algorithm");
}

authz::RoleGrant parse_grant(const std::string& source, const std::string& role, const YAML::Node& node) {
  authz::RoleGrant grant{.role = role};
  std::vector<std::string> entries;
  try {
    if (node.IsScalar()) {
      entries = {node.as<std::string>()};
    } else if (node.IsSequence()) {
      for (const auto& item : node) entries.push_back(item.as<std::string>());
    } else {
      fail(source, "authz.roles." + role, "must be a list of tool names, tag:NAME or *");
    }
  } catch (const YAML::Exception&) {
    fail(source, "authz.roles." + role, "must be a list of tool names, tag:NAME or *");
  }
  for (const auto& entry : entries) {
    if (entry == "*") {
      grant.everything = true;
    } else if (entry.starts_with("tag:")) {
      grant.tags.push_back(entry.substr(4));
    } else {
      grant.tools.push_back(entry);
    }
  }
  return grant;
}

std::string list(const std::vector<std::string>& values) {
  std::string out = "[";
  for (std::size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + values[i];
  return out + "]";
}

}  // namespace

std::map<std::string, std::string> parse_dotenv(std::string_view text) {
  std::map<std::string, std::string> out;
  std::istringstream lines{std::string(text)};
  std::string line;
  while (std::getline(lines, line)) {
    std::string entry = trim(line);
    if (entry.empty() || entry.front() == '#') continue;
    if (entry.starts_with("export ")) entry = trim(entry.substr(7));
    const auto equals = entry.find('=');
    if (equals == std::string::npos) continue;
    std::string key = trim(entry.substr(0, equals));
    std::string value = trim(entry.substr(equals + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    } else if (const auto hash = value.find(" #"); hash != std::string::npos) {
      value = trim(value.substr(0, hash));  // an unquoted value ends at a comment
    }
    if (!key.empty()) out[key] = value;
  }
  return out;
}

Environment process_environment(const std::string& dotenv_path) {
  std::map<std::string, std::string> dotenv;
  if (std::ifstream file(dotenv_path); file) {
    std::stringstream text;
    text << file.rdbuf();
    dotenv = parse_dotenv(text.str());
  }
  return [dotenv = std::move(dotenv)](std::string_view name) -> std::optional<std::string> {
    if (const char* value = std::getenv(std::string(name).c_str())) return std::string(value);
    if (auto it = dotenv.find(std::string(name)); it != dotenv.end()) return it->second;
    return std::nullopt;
  };
}

Config load(const std::string& path, const Environment& environment) {
  if (path.empty()) return parse("", "(no file)", environment);
  std::ifstream file(path);
  if (!file) throw ConfigError(path + ": cannot be read");
  std::stringstream text;
  text << file.rdbuf();
  return parse(text.str(), path, environment);
}

Config parse(std::string_view text, std::string source_name, const Environment& environment) {
  Config config;
  config.source = std::move(source_name);
  const std::string& source = config.source;
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    throw ConfigError(fmt::format("{}: line {}: {}", source, e.mark.line + 1, e.msg));
  }
  if (root && !root.IsNull() && !root.IsMap()) throw ConfigError(source + ": must be a mapping");
  Section top(source, "", root, {"server", "auth", "authz", "exchange", "outbound", "graph", "tools", "audit"});

  Section server(source, "server", top.child("server"),
                 {"host", "port", "path", "threads", "public_url", "allowed_origins", "tls", "metrics"});
  auto& http = config.server.http;
  server.read("host", http.host);
  server.read("port", http.port);
  server.read("path", config.server.path);
  server.read("threads", http.threads);
  server.read("public_url", config.server.public_url);
  server.read_list("allowed_origins", config.server.allowed_origins);
  if (present(server.child("metrics"))) {
    bool metrics = false;
    server.read_bool("metrics", metrics);
    config.server.metrics = metrics;
  }
  if (auto tls = server.child("tls"); present(tls)) {
    Section section(source, "server.tls", tls, {"certificate", "private_key"});
    net::TlsFiles files;
    section.read("certificate", files.certificate_chain);
    section.read("private_key", files.private_key);
    if (files.certificate_chain.empty() || files.private_key.empty()) {
      fail(source, "server.tls", "needs both certificate and private_key");
    }
    http.tls = files;
  }
  if (!config.server.path.starts_with('/')) fail(source, "server.path", "must start with /");

  Section auth(source, "auth", top.child("auth"),
               {"enabled", "provider", "authority_host", "tenant_id", "client_id", "issuers", "tenant_allowlist",
                "audiences", "algorithms", "leeway_seconds", "required_scopes", "allow_app_only", "token_type",
                "accepted_versions", "jwks_uri", "discovery_url", "jwks_file", "application_id_uri", "jwks_refresh_seconds", "authorization_servers",
                "scopes_supported"});
  auto& a = config.auth;
  auto& v = a.validator;
  auth.read_bool("enabled", a.enabled);
  auth.read("provider", a.provider);
  auth.read("authority_host", a.authority_host);
  auth.read("tenant_id", a.tenant_id);
  auth.read("client_id", a.client_id);
  auth.read("application_id_uri", a.application_id_uri);
  auth.read_list("issuers", v.issuers);
  auth.read_list("tenant_allowlist", v.tenant_allowlist);
  auth.read_list("audiences", v.audiences);
  auth.read_list("algorithms", v.algorithms);
  int leeway = static_cast<int>(v.leeway.count());
  auth.read("leeway_seconds", leeway);
  if (leeway < 0 || leeway > 600) fail(source, "auth.leeway_seconds", "must be between 0 and 600");
  v.leeway = std::chrono::seconds(leeway);
  auth.read_list("required_scopes", v.required_scopes);
  auth.read_bool("allow_app_only", v.allow_app_only);
  auth.read("token_type", v.required_type);
  auth.read_list("accepted_versions", v.accepted_versions);
  auth.read("jwks_uri", v.jwks_uri);
  auth.read("discovery_url", v.discovery_url);
  auth.read("jwks_file", v.jwks_file);
  int refresh = static_cast<int>(v.jwks_refresh.count());
  auth.read("jwks_refresh_seconds", refresh);
  if (refresh < 60) fail(source, "auth.jwks_refresh_seconds", "must be at least 60");
  v.jwks_refresh = std::chrono::seconds(refresh);
  auth.read_list("authorization_servers", a.authorization_servers);
  auth.read_list("scopes_supported", a.scopes_supported);

  Section authz(source, "authz", top.child("authz"), {"enabled", "explain_denials", "roles"});
  authz.read_bool("enabled", config.authz.enabled);
  authz.read_bool("explain_denials", config.authz.explain_denials);
  if (auto roles = authz.child("roles"); present(roles)) {
    if (!roles.IsMap()) fail(source, "authz.roles", "must map role names to grants");
    for (const auto& entry : roles) {
      config.authz.grants.push_back(parse_grant(source, entry.first.as<std::string>(), entry.second));
    }
  }

  // The seed's environment variables, over the file.
  const std::string env = "environment";
  // An empty variable counts as unset: `AUTH_ENABLED=` from a template must not switch authentication off.
  auto given = [&](const char* name) -> std::optional<std::string> {
    auto value = environment(name);
    if (!value || trim(*value).empty()) return std::nullopt;
    return trim(*value);
  };
  if (auto value = given("AUTH_ENABLED")) a.enabled = parse_bool(env, "AUTH_ENABLED", *value);
  if (auto value = given("MIDDLEWARE_ENABLED")) config.authz.enabled = parse_bool(env, "MIDDLEWARE_ENABLED", *value);
  if (auto value = given("TENANT_ID")) a.tenant_id = *value;
  if (auto value = given("CLIENT_ID")) a.client_id = *value;
  if (auto value = given("ISSUER")) v.issuers = {*value};

  if (config.authz.enabled && config.authz.grants.empty()) {
    // The seed's roles, when the policy is switched on without its own.
    config.authz.grants = {{.role = "Task.All", .everything = true},
                           {.role = "Task.Write", .tags = {"write", "read"}},
                           {.role = "Task.Read", .tags = {"read"}}};
  }
  if (a.enabled) validate_auth(source, a);
  read_downstream(source, top, environment, config);
  return config;
}

std::string describe(const Config& config) {
  const auto& s = config.server;
  const auto& a = config.auth;
  const auto& v = a.validator;
  std::string out = fmt::format("# effective configuration from {}\n", config.source);
  out += fmt::format("server:\n  host: {}\n  port: {}\n  path: {}\n  threads: {}\n  public_url: {}\n", s.http.host,
                     s.http.port, s.path, s.http.threads,
                     s.public_url.empty() ? "(the bound address, at start)" : s.public_url);
  out += fmt::format("  allowed_origins: {}\n  tls: {}\n", list(s.allowed_origins), s.http.tls ? "on" : "off");
  out += fmt::format("auth:\n  enabled: {}\n", a.enabled);
  if (a.enabled) {
    out += fmt::format("  provider: {}\n  tenant_id: {}\n  client_id: {}\n", a.provider, a.tenant_id, a.client_id);
    out += fmt::format("  issuers: {}\n  tenant_allowlist: {}\n  audiences: {}\n", list(v.issuers),
                       list(v.tenant_allowlist), list(v.audiences));
    out += fmt::format("  algorithms: {}\n  leeway_seconds: {}\n  required_scopes: {}\n  allow_app_only: {}\n",
                       list(v.algorithms), v.leeway.count(), list(v.required_scopes), v.allow_app_only);
    out += fmt::format("  accepted_versions: {}\n  jwks_uri: {}\n  discovery_url: {}\n  jwks_file: {}\n",
                       list(v.accepted_versions), v.jwks_uri.empty() ? "-" : v.jwks_uri,
                       v.discovery_url.empty() ? "-" : v.discovery_url, v.jwks_file.empty() ? "-" : v.jwks_file);
    out += fmt::format("  authorization_servers: {}\n  scopes_supported: {}\n", list(a.authorization_servers),
                       list(a.scopes_supported));
  }
  out += fmt::format("authz:\n  enabled: {}\n  explain_denials: {}\n", config.authz.enabled,
                     config.authz.explain_denials);
  for (const auto& grant : config.authz.grants) {
    std::vector<std::string> entries;
    if (grant.everything) entries.push_back("*");
    for (const auto& tag : grant.tags) entries.push_back("tag:" + tag);
    for (const auto& tool : grant.tools) entries.push_back(tool);
    out += fmt::format("  role {}: {}\n", grant.role, list(entries));
  }
  const auto& x = config.exchange;
  out += fmt::format("exchange:\n  protocol: {}\n  token_endpoint: {}\n  client_id: {}\n", x.protocol,
                     x.token_endpoint.empty() ? "-" : x.token_endpoint, x.client_id.empty() ? "-" : x.client_id);
  // Where the credential comes from, never its value.
  std::string credential = "none (tools that call downstream APIs answer that access cannot be obtained)";
  if (!x.client_secret.empty()) {
    credential = x.client_secret_env.empty() ? "client secret from OBO_CLIENT_SECRET (redacted)"
                                             : "client secret from " + x.client_secret_env + " (redacted)";
  } else if (!x.client_secret_file.empty()) {
    credential = "client secret from file " + x.client_secret_file;
  } else if (!x.certificate_file.empty()) {
    credential = "certificate " + x.certificate_file + " with key " + x.private_key_file;
  } else if (!x.federated_token_file.empty()) {
    credential = "federated token file " + x.federated_token_file;
  }
  out += fmt::format("  credential: {}\n  cache: {}\n  cache_margin_seconds: {}\n", credential, x.cache,
                     x.cache_margin.count());
  out += fmt::format("outbound:\n  ca_file: {}\n  timeout_ms: {}\n", config.outbound.ca_file.empty() ? "-" : config.outbound.ca_file,
                     config.outbound.timeout.count());
  out += fmt::format("graph:\n  base_url: {}\n  sharepoint_host: {}\n  scopes: {}\n", config.graph.base_url,
                     config.graph.sharepoint_host.empty() ? "- (check_sharepoint_site_access is not offered)"
                                                          : config.graph.sharepoint_host,
                     list(config.graph.scopes));
  out += fmt::format("tools: {}\n", config.tools.size());
  for (const auto& tool : config.tools) {
    out += fmt::format("  {}: {} {} scopes {} roles {}\n", tool.name, tool.method, tool.url, list(tool.scopes),
                       list(tool.required_roles));
  }
  out += fmt::format("audit:\n  stdout: {}\n  file: {}\n  fsync: {}\n", config.audit.to_stdout,
                     config.audit.file.empty() ? "-" : config.audit.file, config.audit.fsync);
  return out;
}

}  // namespace deputy::config
