#pragma once
// MCP over standard input and output: one JSON-RPC message per line each way, logs on stderr. This is
// how most MCP clients launch local servers.

#include "deputy/mcp/dispatcher.hpp"

#include <cstddef>
#include <functional>
#include <mutex>

namespace deputy::transport {

/// Longest line (one message) read from stdin; longer ones are answered with an error and skipped.
inline constexpr std::size_t kMaxStdioLine = 4 * 1024 * 1024;

/// Reaches a running stdio session from any thread, for messages not tied to a request.
class StdioLink {
 public:
  /// A notification for the client (e.g. list_changed); false when no session runs.
  bool notify(boost::json::object message);
  /// `notifications/resources/updated`, when the client subscribed to `uri`.
  void resource_updated(std::string_view uri);

 private:
  friend int run_stdio(const mcp::Dispatcher&, StdioLink*, int, int);
  std::mutex mutex_;
  std::function<void(boost::json::object)> post_;  // set while a session runs
  const mcp::Session* session_ = nullptr;
};

/// Serves one session on stdin/stdout until stdin ends; returns the process exit code.
int run_stdio(const mcp::Dispatcher& dispatcher, StdioLink* link = nullptr, int in_fd = 0, int out_fd = 1);

}  // namespace deputy::transport
