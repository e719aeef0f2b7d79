#pragma once
// The deputy service assembled from a Config: token validation (Tier 1), the role policy, the token exchange
// and the seed's tools (Tier 2), declared HTTP tools, the audit trail; served over HTTP until SIGINT/SIGTERM.
// What `deputy serve` and `deputy dev` run.

#include "deputy/config/config.hpp"
#include "deputy/server.hpp"

#include <cstdint>
#include <functional>
#include <memory>

namespace deputy::devidp {
class IdpServer;
}

namespace deputy::audit {
class Trail;
}

namespace deputy {

/// The seed's MCP port, where `deputy dev` serves unless told otherwise.
inline constexpr std::uint16_t kDevMcpPort = 8400;

/// Everything `config` asks for, assembled: the outbound client, the validator, the exchange, the audit
/// trail, the server with the seed's and the declared tools. Throws config::ConfigError for what is found
/// wrong while assembling (an unreadable credential, a template that does not compile).
class Service {
 public:
  explicit Service(const config::Config& config);
  /// Closes the audit trail (after run() returned, nothing is left to record).
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  /// Serves until SIGINT/SIGTERM or stop(), drains, then writes out the audit trail; returns the exit code.
  /// `options` carry the listening address; authentication and metadata come from the configuration.
  int run(RunOptions options);
  /// Stops a running service (thread-safe).
  void stop();

  [[nodiscard]] Server& server();
  /// The audit trail; null when the configuration names no sink.
  [[nodiscard]] audit::Trail* trail() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Serves `config` (flags already applied to `options`) until a signal: Service(config).run(options).
int serve(const config::Config& config, RunOptions options);

/// The configuration `deputy dev` serves: the seed's setup against the development identity provider and
/// dev Graph of `idp` (which must be listening): Entra-shaped token validation, the seed's roles, an
/// On-Behalf-Of exchange with the server app's secret, the dev SharePoint host.
[[nodiscard]] config::Config dev_config(const devidp::IdpServer& idp);

}  // namespace deputy
