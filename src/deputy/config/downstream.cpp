// Tier 2 in deputy.yaml: the token exchange, outbound HTTP, the seed's Graph tools, declared HTTP tools and
// the audit trail. The seed's OBO_CLIENT_ID / OBO_CLIENT_SECRET apply on top of the file.

#include "deputy/config/section.hpp"
#include "deputy/tools/url_template.hpp"

#include <boost/json.hpp>

#include <charconv>
#include <fstream>

namespace deputy::config::detail {

namespace {

namespace json = boost::json;

/// Tools declared in one file: more is a generated config gone wrong.
constexpr std::size_t kMaxDeclaredTools = 1000;

/// A YAML node as JSON (input schemas are written in YAML). Plain scalars are typed as YAML 1.2's core
/// schema types them (true/false, null, numbers); quoted scalars stay strings.
json::value to_json(const std::string& source, const std::string& key, const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Sequence: {
      json::array out;
      for (const auto& item : node) out.push_back(to_json(source, key, item));
      return out;
    }
    case YAML::NodeType::Map: {
      json::object out;
      for (const auto& entry : node) {
        if (!entry.first.IsScalar()) fail(source, key, "mapping keys must be names");
        out[entry.first.as<std::string>()] = to_json(source, key, entry.second);
      }
      return out;
    }
    case YAML::NodeType::Scalar:
      break;
  }
  const std::string text = node.as<std::string>();
  if (node.Tag() != "?") return json::string(text);  // quoted: a string whatever it looks like
  if (text == "true" || text == "True") return true;
  if (text == "false" || text == "False") return false;
  if (text == "null" || text == "~") return nullptr;
  std::int64_t integer = 0;
  if (auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), integer);
      ec == std::errc() && end == text.data() + text.size()) {
    return integer;
  }
  double number = 0;
  if (auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
      ec == std::errc() && end == text.data() + text.size() && !text.empty()) {
    return number;
  }
  return json::string(text);
}

/// Whether an http:// URL's host is this machine (127.0.0.0/8, ::1, localhost): the one place cleartext is fine.
bool loopback_url(std::string_view url) {
  url.remove_prefix(std::min(url.size(), std::string_view("http://").size()));
  const std::string_view host = url.substr(0, url.find_first_of("/?#"));
  return host == "localhost" || host.starts_with("localhost:") || host.starts_with("127.") ||
         host.starts_with("[::1]");
}

bool valid_tool_name(std::string_view name) {
  // MCP 2025-11-25: 1-128 characters of A-Z a-z 0-9 _ - .
  if (name.empty() || name.size() > 128) return false;
  return std::ranges::all_of(name, [](unsigned char c) { return std::isalnum(c) || c == '_' || c == '-' || c == '.'; });
}

HttpToolConfig parse_tool(const std::string& source, std::size_t index, const YAML::Node& node) {
  const std::string prefix = fmt::format("tools[{}]", index);
  Section section(source, prefix, node,
                  {"name", "title", "description", "input_schema", "method", "url", "headers", "body", "scopes",
                   "required_roles", "tags", "result"});
  HttpToolConfig tool;
  section.read("name", tool.name);
  if (!valid_tool_name(tool.name)) fail(source, prefix + ".name", "must be 1-128 characters of A-Z a-z 0-9 _ - .");
  section.read("title", tool.title);
  section.read("description", tool.description);
  if (auto schema = section.child("input_schema"); present(schema)) {
    auto value = to_json(source, prefix + ".input_schema", schema);
    if (!value.is_object()) fail(source, prefix + ".input_schema", "must be a mapping (a JSON Schema object)");
    tool.input_schema = std::move(value.get_object());
  } else {
    tool.input_schema = {{"type", "object"}};
  }
  section.read("method", tool.method);
  std::ranges::transform(tool.method, tool.method.begin(), [](unsigned char c) { return std::toupper(c); });
  static const std::set<std::string, std::less<>> kMethods = {"GET", "POST", "PUT", "PATCH", "DELETE"};
  if (!kMethods.contains(tool.method)) fail(source, prefix + ".method", "must be GET, POST, PUT, PATCH or DELETE");
  section.read("url", tool.url);
  if (tool.url.empty()) fail(source, prefix + ".url", "must be set");
  // Compiled here too, so that `deputy check-config` finds a template that cannot work.
  if (auto url = tools::UrlTemplate::compile(tool.url); !url) fail(source, prefix + ".url", url.error());
  if (auto headers = section.child("headers"); present(headers)) {
    if (!headers.IsMap()) fail(source, prefix + ".headers", "must map header names to values");
    for (const auto& entry : headers) {
      auto name = entry.first.as<std::string>();
      std::string lower = name;
      std::ranges::transform(lower, lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      // Authorization is deputy's to set (the exchanged token, never a fixed credential in a config file); the
      // others frame the message and belong to the HTTP client.
      static const std::set<std::string, std::less<>> kReserved = {"authorization", "cookie", "host", "content-length",
                                                                   "transfer-encoding", "connection"};
      if (kReserved.contains(lower)) {
        fail(source, prefix + ".headers." + name, "is set by deputy, not by configuration");
      }
      tool.headers.emplace_back(std::move(name), entry.second.as<std::string>());
    }
  }
  section.read("body", tool.body);
  if (!tool.body.empty()) {
    if (auto body = tools::BodyTemplate::compile(tool.body); !body) fail(source, prefix + ".body", body.error());
  }
  section.read_list("scopes", tool.scopes);
  // A delegated token goes only over TLS (or to this machine): a config typo must not put it on the wire.
  if (!tool.scopes.empty() && tool.url.starts_with("http://") && !loopback_url(tool.url)) {
    fail(source, prefix + ".url", "must be https:// when the tool sends a token (scopes)");
  }
  section.read_list("required_roles", tool.required_roles);
  section.read_list("tags", tool.tags);
  if (auto result = section.child("result"); present(result)) {
    Section mapping(source, prefix + ".result", result, {"select", "messages"});
    mapping.read("select", tool.select);
    if (!tool.select.empty() && !tool.select.starts_with('/')) {
      fail(source, prefix + ".result.select", "must be a JSON pointer (starting with /)");
    }
    if (auto messages = mapping.child("messages"); present(messages)) {
      if (!messages.IsMap()) fail(source, prefix + ".result.messages", "must map HTTP statuses to messages");
      for (const auto& entry : messages) {
        unsigned status = 0;
        const auto text = entry.first.as<std::string>();
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), status);
        if (ec != std::errc() || end != text.data() + text.size() || status < 100 || status > 599) {
          fail(source, prefix + ".result.messages", fmt::format("'{}' is not an HTTP status", text));
        }
        tool.status_messages[status] = entry.second.as<std::string>();
      }
    }
  }
  return tool;
}

std::chrono::milliseconds read_milliseconds(const Section& section, const char* key, std::chrono::milliseconds value,
                                            const std::string& source) {
  long long count = value.count();
  section.read(key, count);
  if (count <= 0 || count > 600'000) fail(source, section.name(key), "must be between 1 and 600000 milliseconds");
  return std::chrono::milliseconds(count);
}

}  // namespace

void read_downstream(const std::string& source, const Section& top, const Environment& environment, Config& config) {
  auto& x = config.exchange;
  Section exchange(source, "exchange", top.child("exchange"),
                   {"protocol", "token_endpoint", "client_id", "client_secret_env", "client_secret_file",
                    "certificate_file", "private_key_file", "federated_token_file", "cache", "cache_margin_seconds",
                    "cache_max_entries", "timeout_ms"});
  exchange.read("protocol", x.protocol);
  if (x.protocol != "entra" && x.protocol != "rfc8693") fail(source, "exchange.protocol", "must be entra or rfc8693");
  exchange.read("token_endpoint", x.token_endpoint);
  exchange.read("client_id", x.client_id);
  exchange.read("client_secret_env", x.client_secret_env);
  exchange.read("client_secret_file", x.client_secret_file);
  exchange.read("certificate_file", x.certificate_file);
  exchange.read("private_key_file", x.private_key_file);
  exchange.read("federated_token_file", x.federated_token_file);
  exchange.read_bool("cache", x.cache);
  long long margin = x.cache_margin.count();
  exchange.read("cache_margin_seconds", margin);
  if (margin < 0 || margin > 3600) fail(source, "exchange.cache_margin_seconds", "must be between 0 and 3600");
  x.cache_margin = std::chrono::seconds(margin);
  exchange.read("cache_max_entries", x.cache_max_entries);
  if (x.cache_max_entries == 0) fail(source, "exchange.cache_max_entries", "must be at least 1");
  x.timeout = read_milliseconds(exchange, "timeout_ms", x.timeout, source);

  // The secret's value comes from the environment (or a file), never from deputy.yaml: config files end up
  // in repositories.
  auto given = [&](const std::string& name) -> std::optional<std::string> {
    auto value = environment(name);
    if (!value || trim(*value).empty()) return std::nullopt;
    return trim(*value);
  };
  if (auto value = given("OBO_CLIENT_ID")) x.client_id = *value;
  if (!x.client_secret_env.empty()) {
    if (auto value = given(x.client_secret_env)) x.client_secret = *value;
  } else if (auto value = given("OBO_CLIENT_SECRET")) {
    x.client_secret = *value;
  }
  if (x.federated_token_file.empty()) {
    if (auto value = given("AZURE_FEDERATED_TOKEN_FILE")) x.federated_token_file = *value;
  }
  if (x.certificate_file.empty() != x.private_key_file.empty()) {
    fail(source, "exchange.certificate_file", "needs private_key_file too (and the other way round)");
  }
  const int credentials = static_cast<int>(!x.client_secret.empty() || !x.client_secret_file.empty()) +
                          static_cast<int>(!x.certificate_file.empty()) +
                          static_cast<int>(!x.federated_token_file.empty());
  if (credentials > 1) {
    fail(source, "exchange", "give one credential: a secret, a certificate or a federated token file");
  }
  if (x.client_id.empty()) x.client_id = config.auth.client_id;
  if (x.token_endpoint.empty() && x.protocol == "entra" && !config.auth.tenant_id.empty()) {
    x.token_endpoint = config.auth.authority_host + "/" + config.auth.tenant_id + "/oauth2/v2.0/token";
  }
  if (x.protocol == "rfc8693" && x.configured() && x.token_endpoint.empty()) {
    fail(source, "exchange.token_endpoint", "must be set for rfc8693");
  }

  Section outbound(source, "outbound", top.child("outbound"), {"ca_file", "timeout_ms"});
  outbound.read("ca_file", config.outbound.ca_file);
  config.outbound.timeout = read_milliseconds(outbound, "timeout_ms", config.outbound.timeout, source);

  Section graph(source, "graph", top.child("graph"), {"base_url", "sharepoint_host", "scopes"});
  graph.read("base_url", config.graph.base_url);
  while (config.graph.base_url.ends_with('/')) config.graph.base_url.pop_back();
  if (!config.graph.base_url.starts_with("https://") && !config.graph.base_url.starts_with("http://")) {
    fail(source, "graph.base_url", "must be an http(s) URL");
  }
  graph.read("sharepoint_host", config.graph.sharepoint_host);
  if (auto value = given("SHAREPOINT_HOST")) config.graph.sharepoint_host = *value;
  if (config.graph.sharepoint_host.find_first_of("/:?#@ %") != std::string::npos ||
      config.graph.sharepoint_host == "." || config.graph.sharepoint_host == "..") {
    fail(source, "graph.sharepoint_host", "must be a host name such as contoso.sharepoint.com");
  }
  graph.read_list("scopes", config.graph.scopes);
  if (config.graph.base_url.starts_with("http://") && !loopback_url(config.graph.base_url)) {
    fail(source, "graph.base_url", "must be https:// (the tools send the user's exchanged token)");
  }

  if (auto tools = top.child("tools"); present(tools)) {
    if (!tools.IsSequence()) fail(source, "tools", "must be a list of tools");
    if (tools.size() > kMaxDeclaredTools) fail(source, "tools", "too many tools");
    std::set<std::string, std::less<>> names;
    for (std::size_t i = 0; i < tools.size(); ++i) {
      auto tool = parse_tool(source, i, tools[i]);
      if (!names.insert(tool.name).second) fail(source, fmt::format("tools[{}].name", i), "is declared twice");
      config.tools.push_back(std::move(tool));
    }
  }

  auto& a = config.audit;
  Section audit(source, "audit", top.child("audit"), {"stdout", "file", "fsync", "fsync_interval_ms", "max_bytes", "keep"});
  audit.read_bool("stdout", a.to_stdout);
  audit.read("file", a.file);
  audit.read("fsync", a.fsync);
  if (a.fsync != "none" && a.fsync != "interval" && a.fsync != "always") {
    fail(source, "audit.fsync", "must be none, interval or always");
  }
  a.fsync_interval = read_milliseconds(audit, "fsync_interval_ms", a.fsync_interval, source);
  audit.read("max_bytes", a.max_bytes);
  if (a.max_bytes < 4096) fail(source, "audit.max_bytes", "must be at least 4096");
  audit.read("keep", a.keep);
  if (a.keep > 1000) fail(source, "audit.keep", "must be at most 1000");
}

}  // namespace deputy::config::detail
