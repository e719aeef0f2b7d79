#pragma once
// `deputy idp`: the development identity provider on its own HTTPS port. It loads the directory, opens the
// state directory (CA, server certificate, signing keys), binds, and routes Entra's paths to the endpoints:
//   GET  /{tenant}/v2.0/.well-known/openid-configuration     (repeated slashes are tolerated, as MSAL sends them)
//   GET  /{tenant}/discovery/v2.0/keys
//   GET, POST /{tenant}/oauth2/v2.0/authorize                (the sign-in page and the code)
//   POST /{tenant}/oauth2/v2.0/token
//   GET, DELETE /_dev/stats, POST /_dev/keys/rotate              (admin_endpoints.hpp; loopback only)
// and hosts the dev Graph (graph.hpp) on a listener of its own (graph_server.hpp), with the same certificate.
//
// "Loopback only": the admin paths are served when the listener is bound to a loopback address, to requests
// without an Origin header and with a loopback Host (graph_server.hpp says why).

#include "deputy/devidp/graph.hpp"
#include "deputy/devidp/graph_server.hpp"
#include "deputy/devidp/identity_provider.hpp"
#include "deputy/devidp/state_dir.hpp"
#include "deputy/net/http_server.hpp"

#include <cstdint>
#include <expected>
#include <filesystem>
#include <memory>
#include <string>

namespace deputy::devidp {

/// The provider's default port: 443's customary stand-in, clear of the MCP server's 8400.
inline constexpr std::uint16_t kDefaultIdpPort = 8443;
/// Token requests are small (see kMaxFormSize); the server's own cap sits above it so that an oversized form
/// still gets Entra's error rather than a bare 413.
inline constexpr std::size_t kIdpBodyLimit = 1024 * 1024;

struct IdpOptions {
  std::string directory_file;          // empty: the built-in examples/dev-directory.yaml
  std::filesystem::path state_dir;     // empty: default_state_dir()
  std::string host = "127.0.0.1";
  std::uint16_t port = kDefaultIdpPort;  // 0: any free port
  unsigned threads = 1;
  /// Serve the dev Graph as well.
  bool graph = true;
  /// The dev Graph's port; unset: any free port when `port` is 0 (tests running side by side must not
  /// collide on 8444), else kDefaultGraphPort.
  std::optional<std::uint16_t> graph_port;
  /// Overrides for tests (a fixed clock, seeded randomness); base_url is always the server's own.
  ProviderOptions provider;
};

class IdpServer {
 public:
  /// Loads the directory and the state directory. Throws DirectoryError or pki::PkiError (start-up errors).
  explicit IdpServer(IdpOptions options);
  ~IdpServer();
  IdpServer(const IdpServer&) = delete;
  IdpServer& operator=(const IdpServer&) = delete;

  /// Binds the port and makes the provider with its base URL (https://host:port); the URL is also written to
  /// <state>/url for `deputy idp mint-token`. Then starts the dev Graph, which serves on its own thread from
  /// now on.
  std::expected<void, std::string> listen();
  /// Serves until stop(); blocks.
  void run();
  /// Serves until SIGINT or SIGTERM (or stop()), then drains gracefully.
  void run_until_signal();
  /// Stops the provider and the dev Graph.
  void stop();

  [[nodiscard]] std::uint16_t port() const;
  [[nodiscard]] const std::string& base_url() const { return base_url_; }
  /// After listen().
  [[nodiscard]] const IdentityProvider& provider() const { return *provider_; }
  [[nodiscard]] const DevState& state() const { return state_; }
  /// The dev Graph's base URL (https://127.0.0.1:8444), empty without one. Its API is under /v1.0.
  [[nodiscard]] std::string graph_url() const;
  /// The dev Graph (its request log), null without one. After listen().
  [[nodiscard]] const DevGraph* graph() const { return graph_.get(); }
  /// Its server, for a test that stops it and starts it again (same port). Null without one.
  [[nodiscard]] GraphServer* graph_server() { return graph_server_.get(); }
  /// What `deputy idp` prints: issuer, authority, CA path, apps and users (no secrets).
  [[nodiscard]] std::string describe() const;

 private:
  IdpOptions options_;
  Directory directory_;  // moved into the provider by listen()
  DevState state_;
  std::string base_url_;
  std::unique_ptr<IdentityProvider> provider_;
  std::unique_ptr<DevGraph> graph_;               // uses provider_
  std::unique_ptr<GraphServer> graph_server_;     // uses graph_; goes first
  std::unique_ptr<net::HttpServer> http_;
};

/// Routes one request to an endpoint (exposed for tests): the answer for `method` on `target`. `cookie` is the
/// Cookie header (the authorization endpoint's sign-in session); `admin`: the caller may use the /_dev/ hooks
/// (otherwise they are 404).
[[nodiscard]] HttpAnswer route(const IdentityProvider& provider, boost::beast::http::verb method,
                               std::string_view target, std::string_view content_type, std::string_view body,
                               std::string_view client_request_id, std::string_view cookie = {}, bool admin = false);

/// The base URL `deputy idp` last listened on with this state directory (<state>/url), if any.
[[nodiscard]] std::optional<std::string> recorded_base_url(const std::filesystem::path& state_dir);

}  // namespace deputy::devidp
