#pragma once
// The dev Graph (graph.hpp) on its own HTTPS listener, with the state directory's server certificate (the
// same local CA as the identity provider). It runs on a thread of its own, and can be stopped and started
// again on the same port, so that a test can take the downstream API away and bring it back.
//
// The admin path (/_dev/requests) is served only when the listener is bound to a loopback address, and never
// to a request carrying an Origin header (a web page in a browser on this machine) or a Host that is not
// loopback (DNS rebinding).

#include "deputy/devidp/graph.hpp"
#include "deputy/net/http_server.hpp"

#include <cstdint>
#include <expected>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace deputy::devidp {

/// The dev Graph's default port: next to the identity provider's 8443.
inline constexpr std::uint16_t kDefaultGraphPort = 8444;

struct GraphServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = kDefaultGraphPort;  // 0: any free port; a restart keeps the port first bound
  unsigned threads = 1;
  net::TlsFiles tls;
};

/// Whether `host` is a loopback address or name (127.0.0.0/8, ::1, [::1], localhost).
[[nodiscard]] bool is_loopback_host(std::string_view host);
/// Whether a request may use the /_dev/ hooks: the listener is bound to loopback, the request carries no
/// Origin and its Host header names a loopback host.
[[nodiscard]] bool admin_allowed(bool loopback_listener, std::string_view origin,
                                 std::string_view host_header);

class GraphServer {
 public:
  /// `graph` must outlive the server.
  GraphServer(const DevGraph& graph, GraphServerOptions options);
  ~GraphServer();  // stops
  GraphServer(const GraphServer&) = delete;
  GraphServer& operator=(const GraphServer&) = delete;

  /// Binds and serves on a thread of its own until stop(). After a stop, starts again on the port bound
  /// before (so a port-0 server comes back where it was). An error names the address and the reason.
  std::expected<void, std::string> start();
  /// Stops serving and waits for the thread (requests in flight finish within the grace period). Idempotent.
  void stop();

  [[nodiscard]] bool running() const;
  /// The bound port (after the first start()).
  [[nodiscard]] std::uint16_t port() const;
  /// https://host:port (after the first start()).
  [[nodiscard]] std::string url() const;

 private:
  const DevGraph& graph_;
  GraphServerOptions options_;
  mutable std::mutex mutex_;
  std::unique_ptr<net::HttpServer> http_;
  std::thread thread_;
  std::uint16_t bound_port_ = 0;
};

}  // namespace deputy::devidp
