#pragma once
// MCP over standard input and output: one JSON-RPC message per line each way, logs on stderr. This is
// how most MCP clients launch local servers.

#include "deputy/mcp/dispatcher.hpp"

#include <cstddef>

namespace deputy::transport {

/// Longest line (one message) read from stdin; longer ones are answered with an error and skipped.
inline constexpr std::size_t kMaxStdioLine = 4 * 1024 * 1024;

/// Serves one session on stdin/stdout until stdin ends; returns the process exit code.
int run_stdio(const mcp::Dispatcher& dispatcher, int in_fd = 0, int out_fd = 1);

}  // namespace deputy::transport
