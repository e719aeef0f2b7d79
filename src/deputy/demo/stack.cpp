#include "deputy/demo/stack.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <future>
#include <memory>

namespace deputy::demo {

namespace {

/// How long the MCP server may take to listen: it binds a loopback port and builds its tools; anything
/// longer means it failed (its error is on stderr) and the demo says so instead of hanging.
constexpr std::chrono::seconds kStartTimeout{20};

std::expected<std::filesystem::path, std::string> make_temporary_directory() {
  std::string pattern = (std::filesystem::temp_directory_path() / "deputy-demo-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) return std::unexpected("cannot create a temporary directory");
  return std::filesystem::path(pattern);
}

}  // namespace

std::expected<std::unique_ptr<Stack>, std::string> Stack::start() {
  auto directory = make_temporary_directory();
  if (!directory) return std::unexpected(directory.error());
  std::unique_ptr<Stack> stack(new Stack(*directory));
  try {
    stack->idp_ = std::make_unique<devidp::IdpServer>(
        devidp::IdpOptions{.state_dir = *directory / "state", .port = 0, .graph_port = 0});
    if (auto listening = stack->idp_->listen(); !listening) {
      return std::unexpected("the identity provider: " + listening.error());
    }
    stack->idp_thread_ = std::thread([idp = stack->idp_.get()] { idp->run(); });

    auto config = dev_config(*stack->idp_);
    config.audit.file = stack->audit_file().string();
    config.audit.fsync = "none";  // read after the service stopped, which flushes it
    stack->service_ = std::make_unique<Service>(config);
  } catch (const std::exception& e) {
    return std::unexpected(fmt::format("the development stack: {}", e.what()));
  }

  // Shared: the server may call back after a timeout made this function return.
  auto listening = std::make_shared<std::promise<std::string>>();
  auto url = listening->get_future();
  RunOptions options;
  options.http.host = "127.0.0.1";
  options.http.port = 0;
  options.on_listening = [listening](const std::string& address) { listening->set_value(address); };
  stack->service_thread_ = std::thread([service = stack->service_.get(), options] { service->run(options); });
  if (url.wait_for(kStartTimeout) != std::future_status::ready) {
    return std::unexpected("the MCP server did not start listening");
  }
  stack->mcp_url_ = url.get();
  return stack;
}

void Stack::stop_service() {
  if (service_) service_->stop();
  wait_for_service();
}

void Stack::wait_for_service() {
  if (service_thread_.joinable()) service_thread_.join();
}

Stack::~Stack() {
  stop_service();
  service_.reset();  // closes the audit trail
  if (idp_) idp_->stop();
  if (idp_thread_.joinable()) idp_thread_.join();
  idp_.reset();
  std::error_code ignored;
  std::filesystem::remove_all(directory_, ignored);
}

}  // namespace deputy::demo
