#pragma once
// deputy's public surface for tool authors: declare tools, resources and prompts; run over HTTP or stdio.
//
//   deputy::Server server({.name = "hello"});
//   server.tool({.name = "echo", .input_schema = ...},
//               [](const json::object& args, deputy::RequestContext&) -> deputy::Task<deputy::ToolResult> {
//                 co_return deputy::ToolResult::text(args.at("message").as_string());
//               });
//   return server.main(argc, argv);

#include "deputy/mcp/context.hpp"
#include "deputy/mcp/dispatcher.hpp"
#include "deputy/mcp/registry.hpp"
#include "deputy/mcp/types.hpp"
#include "deputy/net/http_server.hpp"
#include "deputy/transport/streamable_http.hpp"

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <memory>
#include <optional>

namespace CLI {
class App;
}

namespace deputy {

namespace json = boost::json;
template <typename T>
using Task = boost::asio::awaitable<T>;

using mcp::PromptArgument;
using mcp::PromptResult;
using mcp::PromptSpec;
using mcp::RequestContext;
using mcp::ResourceSpec;
using mcp::ResourceTemplateSpec;
using mcp::RpcCode;
using mcp::RpcError;
using mcp::ServerInfo;
using mcp::ToolResult;
using mcp::ToolSpec;
namespace content = mcp::content;

struct RunOptions {
  net::ServerOptions http;
  transport::StreamableHttpOptions mcp;
  bool stdio = false;
  /// Serve /metrics; unset: only when bound to loopback (its reason labels are for operators, not for
  /// whoever probes the server with forged tokens).
  std::optional<bool> metrics;
  /// Called once the server listens, with its MCP URL (tests serving on port 0 learn the port here).
  std::function<void(const std::string& url)> on_listening;
};

class Server {
 public:
  explicit Server(ServerInfo info, mcp::DispatcherOptions options = {});
  ~Server();

  Server& tool(ToolSpec spec, mcp::ToolHandler handler);
  Server& resource(ResourceSpec spec, mcp::ResourceHandler handler);
  Server& resource_template(ResourceTemplateSpec spec, mcp::ResourceHandler handler,
                            std::unordered_map<std::string, mcp::Completer> completers = {});
  Server& prompt(PromptSpec spec, mcp::PromptHandler handler,
                 std::unordered_map<std::string, mcp::Completer> completers = {});
  bool remove_tool(std::string_view name);

  /// Tells subscribed sessions that a resource changed.
  void resource_updated(std::string_view uri);

  /// Serves until SIGINT/SIGTERM (HTTP) or the end of stdin (stdio); returns the exit code. Prints
  /// `listening on http://HOST:PORT/mcp` on stderr once ready.
  int run(const RunOptions& options);
  /// Parses `--host`, `--port`, `--threads`, `--stdio`, `--allow-origin`, `--tls-cert`, `--tls-key`, then runs.
  int main(int argc, char** argv);
  /// Stops a running server (thread-safe).
  void stop();

  [[nodiscard]] mcp::Registry& registry();

 private:
  void serve(net::HttpServer& server, transport::StreamableHttp& transport, const std::string& url,
             const std::function<void(const std::string&)>& on_listening);

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The command-line options of `Server::main` and `deputy serve`, added to an existing CLI11 app.
void add_run_options(CLI::App& app, RunOptions& options);

}  // namespace deputy
