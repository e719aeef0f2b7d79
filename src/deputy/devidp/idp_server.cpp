#include "deputy/devidp/idp_server.hpp"

#include "deputy/devidp/admin_endpoints.hpp"
#include "deputy/devidp/authorize_endpoint.hpp"
#include "deputy/devidp/directory_yaml.hpp"
#include "deputy/devidp/discovery.hpp"
#include "deputy/devidp/token_endpoint.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/signal_set.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <array>
#include <fstream>
#include <sstream>

namespace deputy::devidp {

namespace asio = boost::asio;
namespace http = boost::beast::http;

namespace {

/// The path's segments: the query dropped, and empty segments (from "//", which MSAL may produce when an
/// authority ends with a slash) skipped.
std::vector<std::string_view> segments(std::string_view target) {
  target = target.substr(0, target.find('?'));
  std::vector<std::string_view> out;
  while (!target.empty()) {
    const auto slash = target.find('/');
    if (slash != 0) out.push_back(target.substr(0, slash));
    if (slash == std::string_view::npos) break;
    target.remove_prefix(slash + 1);
  }
  return out;
}

bool matches(const std::vector<std::string_view>& path, std::initializer_list<std::string_view> tail) {
  return path.size() == tail.size() + 1 && std::equal(tail.begin(), tail.end(), path.begin() + 1);
}

HttpAnswer text(unsigned status, std::string body) {
  return {.status = status, .content_type = "text/plain; charset=utf-8", .body = std::move(body)};
}

std::string join_roles(const User& user) {
  std::string out;
  for (const auto& assignment : user.roles) {
    out += fmt::format("{}{}.{}", out.empty() ? "" : ", ", assignment.resource, assignment.role);
  }
  return out.empty() ? "no roles" : out;
}

}  // namespace

HttpAnswer route(const IdentityProvider& provider, http::verb method, std::string_view target,
                 std::string_view content_type, std::string_view body, std::string_view client_request_id,
                 std::string_view cookie, bool admin) {
  if (const auto raw_path = target.substr(0, target.find('?')); raw_path.starts_with("/_dev/")) {
    return admin ? admin_request(provider, method, raw_path) : text(404, "Not found\n");
  }
  const auto path = segments(target);
  if (path.empty()) return text(200, "deputy development identity provider (Entra ID v2 look-alike; not for production)\n");
  const std::string_view tenant = path.front();
  const bool get = method == http::verb::get;
  if (matches(path, {"v2.0", ".well-known", "openid-configuration"}) && get) {
    return openid_configuration(provider, tenant);
  }
  if (matches(path, {"discovery", "v2.0", "keys"}) && get) return jwks(provider, tenant);
  if (matches(path, {"oauth2", "v2.0", "token"})) {
    return handle_token_request(provider, {.tenant = tenant,
                                           .post = method == http::verb::post,
                                           .content_type = content_type,
                                           .body = body,
                                           .client_request_id = client_request_id});
  }
  if (matches(path, {"oauth2", "v2.0", "authorize"}) && (get || method == http::verb::post)) {
    const auto question = target.find('?');
    return authorize(provider, {.tenant = tenant,
                                .post = method == http::verb::post,
                                .query = question == std::string_view::npos ? std::string_view() : target.substr(question + 1),
                                .content_type = content_type,
                                .body = body,
                                .cookie = cookie});
  }
  return text(404, "Not found\n");
}

std::optional<std::string> recorded_base_url(const std::filesystem::path& state_dir) {
  std::ifstream file(state_dir / "url");
  std::string url;
  if (!file || !std::getline(file, url) || !url.starts_with("https://")) return std::nullopt;
  return url;
}

IdpServer::IdpServer(IdpOptions options)
    : options_(std::move(options)),
      directory_(options_.directory_file.empty() ? default_directory() : load_directory(options_.directory_file)),
      state_(open_state(options_.state_dir.empty() ? default_state_dir() : options_.state_dir, directory_)) {
  net::ServerOptions http;
  http.host = options_.host;
  http.port = options_.port;
  http.threads = options_.threads;
  http.body_limit = kIdpBodyLimit;
  http.tls = state_.tls;
  const bool loopback_listener = is_loopback_host(options_.host);
  http_ = std::make_unique<net::HttpServer>(
      std::move(http),
      [this, loopback_listener](net::Request& request, net::Exchange& exchange) -> asio::awaitable<void> {
        const std::string_view client_request_id = request["client-request-id"];
        // The test hooks: no other machine, no web page (Origin), no rebound DNS name (Host).
        const bool admin =
            admin_allowed(loopback_listener, request[http::field::origin], request[http::field::host]);
        HttpAnswer answer = route(*provider_, request.method(), request.target(),
                                  request[http::field::content_type], request.body(), client_request_id,
                                  request[http::field::cookie], admin);
        // Tokens, codes and sign-in pages must not be cached by anything between us and the client (RFC 6749
        // §5.1).
        std::vector<net::Header> headers{net::Header{"Cache-Control", "no-store, no-cache"},
                                         net::Header{"Pragma", "no-cache"}};
        for (const auto& [name, value] : answer.headers) headers.push_back(net::Header{name, value});
        const std::span<const net::Header> header_span(headers);
        const auto status = static_cast<http::status>(answer.status);
        co_await exchange.respond(status, answer.content_type, answer.body, header_span);
      });
}

IdpServer::~IdpServer() = default;

std::expected<void, std::string> IdpServer::listen() {
  if (auto bound = http_->listen(); !bound) return bound;
  const std::string host = options_.host == "0.0.0.0" || options_.host == "::" ? "localhost" : options_.host;
  base_url_ = fmt::format("https://{}:{}", host.find(':') != std::string::npos ? "[" + host + "]" : host, port());
  ProviderOptions provider = options_.provider;
  provider.base_url = base_url_;
  provider_ = std::make_unique<IdentityProvider>(std::move(directory_), *state_.signing_keys, std::move(provider));
  std::ofstream(state_.dir / "url") << base_url_ << '\n';
  if (options_.graph) {
    graph_ = std::make_unique<DevGraph>(*provider_);
    const std::uint16_t graph_port = options_.graph_port.value_or(options_.port == 0 ? 0 : kDefaultGraphPort);
    graph_server_ = std::make_unique<GraphServer>(
        *graph_, GraphServerOptions{.host = options_.host, .port = graph_port, .threads = 1, .tls = state_.tls});
    if (auto started = graph_server_->start(); !started) return std::unexpected("dev Graph: " + started.error());
  }
  return {};
}

void IdpServer::run() { http_->run(); }

void IdpServer::run_until_signal() {
  // The signal set lives on the server's first worker and goes before it does.
  asio::signal_set signals(http_->executor(), SIGINT, SIGTERM);
  signals.async_wait([this](boost::system::error_code error, int signal) {
    if (error) return;
    spdlog::info("signal {}: shutting down", signal);
    stop();
  });
  http_->run();
}
void IdpServer::stop() {
  if (graph_server_ != nullptr) graph_server_->stop();
  http_->stop();
}

std::string IdpServer::graph_url() const { return graph_server_ != nullptr ? graph_server_->url() : std::string(); }
std::uint16_t IdpServer::port() const { return http_->port(); }

std::string IdpServer::describe() const {
  const auto& directory = provider_->directory();
  std::ostringstream out;
  out << "deputy idp: development identity provider (an Entra ID v2 look-alike; never for production)\n";
  out << fmt::format("  tenant     {} ({})\n", directory.tenant.domain, directory.tenant.id);
  out << fmt::format("  issuer     {}\n", provider_->issuer().issuer_v2());
  out << fmt::format("  authority  {}/{}   (MSAL: instance_discovery=False)\n", base_url_, directory.tenant.id);
  out << fmt::format("  CA         {}   (export REQUESTS_CA_BUNDLE={})\n", state_.ca_certificate.string(),
                     state_.ca_certificate.string());
  out << fmt::format("  state      {}\n", state_.dir.string());
  for (const auto& app : directory.applications) {
    out << fmt::format("  app {:<7}{}  {}", app.key, app.client_id, app.primary_identifier());
    for (const auto& certificate : app.certificates) {
      out << fmt::format("  certificate {} (SHA-1 {})", certificate.certificate_path, certificate.sha1_hex);
    }
    out << '\n';
  }
  for (const auto& user : directory.users) {
    out << fmt::format("  user {:<6}{}  {}{}\n", user.key, user.upn, join_roles(user),
                       user.conditions.empty() ? "" : "  (MFA required for some resources)");
  }
  return out.str();
}

}  // namespace deputy::devidp
