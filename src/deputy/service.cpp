#include "deputy/service.hpp"

#include "deputy/audit/sink.hpp"
#include "deputy/audit/trail.hpp"
#include "deputy/auth/file_key_fetcher.hpp"
#include "deputy/auth/http_key_fetcher.hpp"
#include "deputy/auth/token_validator.hpp"
#include "deputy/devidp/idp_server.hpp"
#include "deputy/obo/caching_exchanger.hpp"
#include "deputy/obo/exchanger.hpp"
#include "deputy/tools/downstream.hpp"
#include "deputy/tools/http_tool.hpp"
#include "deputy/tools/seed_tools.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace deputy {

namespace {

/// Where the issuer's keys come from, as configured.
std::shared_ptr<auth::KeyFetcher> key_fetcher(const auth::ValidatorOptions& options, net::HttpClient& client) {
  if (!options.jwks_file.empty()) return std::make_shared<auth::FileKeyFetcher>(options.jwks_file);
  return std::make_shared<auth::HttpKeyFetcher>(client, options.jwks_uri, options.discovery_url);
}

/// The token exchange as configured, cached unless switched off; null without a credential.
std::shared_ptr<obo::TokenExchanger> exchanger(const config::Config& config, net::HttpClient& client) {
  const auto& x = config.exchange;
  if (!x.configured()) return nullptr;
  obo::ExchangeOptions options{.protocol = x.protocol == "rfc8693" ? obo::Protocol::token_exchange
                                                                   : obo::Protocol::entra_obo,
                               .token_endpoint = x.token_endpoint,
                               .client_id = x.client_id,
                               .timeout = x.timeout};
  if (!x.client_secret.empty()) {
    options.credential = obo::ClientCredential::secret(x.client_secret);
  } else if (!x.client_secret_file.empty()) {
    options.credential = obo::ClientCredential::secret_from_file(x.client_secret_file);
  } else if (!x.certificate_file.empty()) {
    auto credential = obo::ClientCredential::certificate(x.certificate_file, x.private_key_file);
    if (!credential) {
      throw config::ConfigError(fmt::format("{}: exchange.certificate_file: {}", config.source,
                                            credential.error().description));
    }
    options.credential = std::move(*credential);
  } else {
    options.credential = obo::ClientCredential::federated_token_file(x.federated_token_file);
  }
  std::shared_ptr<obo::TokenExchanger> inner;
  try {
    inner = obo::make_exchanger(std::move(options), obo::http_sender(client));
  } catch (const std::invalid_argument& e) {
    throw config::ConfigError(fmt::format("{}: exchange: {}", config.source, e.what()));
  }
  spdlog::info("token exchange: {} at {} as {} ({})", x.protocol, x.token_endpoint, x.client_id,
               x.cache ? "cached" : "one exchange per call");
  if (!x.cache) return inner;
  return std::make_shared<obo::CachingExchanger>(
      std::move(inner), x.client_id,
      obo::CacheOptions{.enabled = true, .max_entries = x.cache_max_entries, .margin = x.cache_margin});
}

/// The audit trail as configured; null when it has no sink.
std::shared_ptr<audit::Trail> make_trail(const config::Config& config) {
  const auto& a = config.audit;
  if (!a.to_stdout && a.file.empty()) return nullptr;
  audit::TrailSettings settings{.to_stdout = a.to_stdout,
                                .options = {.fsync = audit::parse_fsync_policy(a.fsync).value_or(audit::FsyncPolicy::kInterval),
                                            .fsync_interval = a.fsync_interval}};
  if (!a.file.empty()) settings.file = {.path = a.file, .max_bytes = a.max_bytes, .keep = static_cast<int>(a.keep)};
  auto trail = audit::open_trail(std::move(settings));
  if (!trail) throw config::ConfigError(fmt::format("{}: audit.file: {}", config.source, trail.error()));
  return std::move(*trail);
}

}  // namespace

struct Service::Impl {
  explicit Impl(const config::Config& config)
      : config(config),
        client({.extra_ca_file = config.outbound.ca_file}),
        trail(make_trail(config)),
        server({.name = "deputy", .version = "0.1.0"}, dispatcher_options(config, trail)) {
    tools::add_seed_tools(server);
    auto downstream = std::make_shared<const tools::Downstream>(
        exchanger(config, client), client, trail,
        tools::DownstreamOptions{.authority = config.auth.authority_host,
                                 .tenant = config.auth.tenant_id,
                                 .client_id = config.exchange.client_id,
                                 .timeout = config.outbound.timeout});
    tools::add_graph_tools(server, downstream, config.graph);
    tools::add_http_tools(server, downstream, config.tools);
  }

  static mcp::DispatcherOptions dispatcher_options(const config::Config& config,
                                                   const std::shared_ptr<audit::Trail>& trail) {
    mcp::DispatcherOptions dispatch;
    dispatch.policy = authz::Policy(config.authz);
    dispatch.audit = trail;
    return dispatch;
  }

  config::Config config;
  // One outbound client for the process (identity provider, downstream APIs); it outlives the server.
  net::HttpClient client;
  std::shared_ptr<audit::Trail> trail;
  Server server;
};

Service::Service(const config::Config& config) : impl_(std::make_unique<Impl>(config)) {}

Service::~Service() {
  if (impl_->trail) impl_->trail->close();
}

Server& Service::server() { return impl_->server; }
audit::Trail* Service::trail() const { return impl_->trail.get(); }
void Service::stop() { impl_->server.stop(); }

int Service::run(RunOptions options) {
  const auto& config = impl_->config;
  if (config.auth.enabled) {
    options.mcp.authenticator = std::make_shared<auth::TokenValidator>(
        config.auth.validator, key_fetcher(config.auth.validator, impl_->client));
    options.mcp.resource_metadata = {.resource = config.server.public_url,
                                     .authorization_servers = config.auth.authorization_servers,
                                     .scopes_supported = config.auth.scopes_supported,
                                     .resource_name = "deputy"};
    if (!config.auth.scopes_supported.empty()) options.mcp.challenge_scope = config.auth.scopes_supported.front();
  } else {
    spdlog::warn("authentication is off: every caller is anonymous and sees only tools that ask for no role");
  }
  options.mcp.audit = impl_->trail;
  const int code = impl_->server.run(options);
  // The server has drained: nothing can be recorded after this, and everything recorded reaches its sinks.
  if (impl_->trail) impl_->trail->close();
  return code;
}

int serve(const config::Config& config, RunOptions options) {
  Service service(config);
  return service.run(std::move(options));
}

config::Config dev_config(const devidp::IdpServer& idp) {
  const auto& directory = idp.provider().directory();
  const auto* server_app = directory.find_app("server");
  if (server_app == nullptr || server_app->secrets.empty()) {
    throw config::ConfigError("the development directory has no server app with a secret");
  }
  // The seed's server setup, as a deputy.yaml would say it, against the development provider.
  const std::string yaml = fmt::format(R"(
auth:
  enabled: true
  authority_host: "{}"
  tenant_id: "{}"
  client_id: "{}"
authz:
  enabled: true
outbound:
  ca_file: "{}"
graph:
  base_url: "{}"
  sharepoint_host: "{}"
)",
                                       idp.base_url(), directory.tenant.id, server_app->client_id,
                                       idp.state().ca_certificate.string(), idp.graph_url(),
                                       directory.sites.empty() ? "" : directory.sites.front().hostname);
  config::Config config = config::parse(yaml, "(deputy dev)", [](std::string_view) -> std::optional<std::string> { return std::nullopt; });
  // A development secret, public in examples/dev-directory.yaml; a real deployment reads its secret from the
  // environment or a file.
  config.exchange.client_secret = server_app->secrets.front();
  return config;
}

}  // namespace deputy
