#pragma once
// `deputy demo`'s stack: the development identity provider, its dev Graph and the MCP server set up as
// `deputy dev` sets them up (dev_config), all in this process on free loopback ports, with a state directory
// and an audit file in a fresh temporary directory that goes away with the stack. Nothing the demo does
// touches the user's ~/.local/state/deputy/dev or token cache.

#include "deputy/devidp/idp_server.hpp"
#include "deputy/service.hpp"

#include <expected>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

namespace deputy::demo {

class Stack {
 public:
  /// Starts the provider and the service (both listening when this returns); an error says which failed.
  [[nodiscard]] static std::expected<std::unique_ptr<Stack>, std::string> start();
  /// Stops whatever still runs and removes the temporary directory.
  ~Stack();
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;

  /// Stops the MCP server and waits for it: its audit trail is then complete on disk.
  void stop_service();
  /// Waits until the MCP server stops by itself (SIGINT/SIGTERM: `deputy demo --keep-running`).
  void wait_for_service();

  [[nodiscard]] const devidp::IdpServer& idp() const { return *idp_; }
  [[nodiscard]] const std::string& mcp_url() const { return mcp_url_; }
  [[nodiscard]] const std::filesystem::path& directory() const { return directory_; }
  [[nodiscard]] std::filesystem::path audit_file() const { return directory_ / "audit.log"; }
  [[nodiscard]] std::filesystem::path ca_file() const { return idp_->state().ca_certificate; }

 private:
  explicit Stack(std::filesystem::path directory) : directory_(std::move(directory)) {}

  std::filesystem::path directory_;
  std::unique_ptr<devidp::IdpServer> idp_;
  std::thread idp_thread_;
  std::unique_ptr<Service> service_;
  std::thread service_thread_;
  std::string mcp_url_;
};

}  // namespace deputy::demo
