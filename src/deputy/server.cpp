#include "deputy/server.hpp"

#include "deputy/audit/metrics.hpp"
#include "deputy/transport/stdio.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>

namespace deputy {

namespace asio = boost::asio;
namespace http = boost::beast::http;

namespace {

/// How often idle sessions are looked for.
constexpr std::chrono::seconds kSessionSweepInterval{30};

void use_stderr_logger() {
  // stdout belongs to the stdio transport; every log line goes to stderr.
  static const bool done = [] {
    auto logger = spdlog::stderr_color_mt("deputy");
    spdlog::set_default_logger(logger);
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
    return true;
  }();
  (void)done;
}

bool is_loopback_address(const std::string& host) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  return !ec && address.is_loopback();
}

}  // namespace

struct Server::Impl {
  Impl(ServerInfo info, mcp::DispatcherOptions options) : dispatcher(registry, std::move(info), std::move(options)) {}
  mcp::Registry registry;
  mcp::Dispatcher dispatcher;
  std::unique_ptr<transport::StreamableHttp> http_transport;
  transport::StdioLink stdio;
  std::unique_ptr<net::HttpServer> http_server;
  std::mutex mutex;
  std::function<void()> shutdown;  // set while run() serves HTTP; runs on the first worker
};

Server::Server(ServerInfo info, mcp::DispatcherOptions options)
    : impl_(std::make_unique<Impl>(std::move(info), std::move(options))) {
  impl_->registry.on_change([this](mcp::ListKind kind) {
    const auto notification = mcp::make_notification(mcp::list_changed_method(kind), {});
    impl_->stdio.notify(notification);
    std::lock_guard lock(impl_->mutex);
    if (impl_->http_transport) impl_->http_transport->broadcast(notification);
  });
}

Server::~Server() = default;

Server& Server::tool(ToolSpec spec, mcp::ToolHandler handler) {
  impl_->registry.add_tool(std::move(spec), std::move(handler));
  return *this;
}

Server& Server::resource(ResourceSpec spec, mcp::ResourceHandler handler) {
  impl_->registry.add_resource(std::move(spec), std::move(handler));
  return *this;
}

Server& Server::resource_template(ResourceTemplateSpec spec, mcp::ResourceHandler handler,
                                  std::unordered_map<std::string, mcp::Completer> completers) {
  impl_->registry.add_resource_template(std::move(spec), std::move(handler), std::move(completers));
  return *this;
}

Server& Server::prompt(PromptSpec spec, mcp::PromptHandler handler,
                       std::unordered_map<std::string, mcp::Completer> completers) {
  impl_->registry.add_prompt(std::move(spec), std::move(handler), std::move(completers));
  return *this;
}

bool Server::remove_tool(std::string_view name) { return impl_->registry.remove_tool(name); }

mcp::Registry& Server::registry() { return impl_->registry; }

void Server::resource_updated(std::string_view uri) {
  impl_->stdio.resource_updated(uri);
  std::lock_guard lock(impl_->mutex);
  if (impl_->http_transport) impl_->http_transport->resource_updated(uri);
}

void Server::stop() {
  std::lock_guard lock(impl_->mutex);
  if (impl_->http_server && impl_->shutdown) asio::post(impl_->http_server->executor(), impl_->shutdown);
}

int Server::run(const RunOptions& options) {
  use_stderr_logger();
  if (options.stdio) return transport::run_stdio(impl_->dispatcher, &impl_->stdio);

  auto mcp_options = options.mcp;
  const bool loopback = is_loopback_address(options.http.host);
  mcp_options.require_loopback_host = mcp_options.require_loopback_host && loopback;
  const bool metrics = options.metrics.value_or(loopback);
  const std::string mcp_path = mcp_options.path;
  auto handler = [this, mcp_path, metrics](net::Request& request,
                                           net::Exchange& exchange) -> asio::awaitable<void> {
    auto& transport = *impl_->http_transport;
    std::string_view target = request.target();
    std::string_view path = target.substr(0, target.find('?'));
    if (path == mcp_path || (path.size() == mcp_path.size() + 1 && path.starts_with(mcp_path) && path.back() == '/')) {
      co_await transport.handle(request, exchange);
      co_return;
    }
    const auto& metadata = transport.options().resource_metadata;
    if (transport.options().authenticator && request.method() == http::verb::get &&
        (path == "/.well-known/oauth-protected-resource" ||
         path == "/.well-known/oauth-protected-resource" + mcp_path)) {
      // RFC 9728: public, and fetched by browser-based clients too.
      static constexpr std::array<net::Header, 1> kCors{net::Header{"Access-Control-Allow-Origin", "*"}};
      const std::string document = json::serialize(metadata.document());
      co_await exchange.respond(http::status::ok, "application/json", document, kCors);
      co_return;
    }
    if (metrics && path == "/metrics" && request.method() == http::verb::get &&
        // The same DNS-rebinding rule as the MCP endpoint: a web page must not read the counters.
        (!transport.options().require_loopback_host || transport::is_loopback_host(request[http::field::host]))) {
      const std::string text = audit::Metrics::global().render();
      co_await exchange.respond(http::status::ok, "text/plain; version=0.0.4", text);
      co_return;
    }
    if (path == "/healthz" && request.method() == http::verb::get) {
      co_await exchange.respond(http::status::ok, "text/plain", "ok\n");
      co_return;
    }
    co_await exchange.respond(http::status::not_found, "application/json", R"({"error":"not found"})");
  };
  {
    std::lock_guard lock(impl_->mutex);
    impl_->http_server = std::make_unique<net::HttpServer>(options.http, handler);
  }
  auto& server = *impl_->http_server;
  if (auto listening = server.listen(); !listening) {
    spdlog::error("{}", listening.error());
    return 1;
  }
  const bool v6 = options.http.host.find(':') != std::string::npos;
  const std::string url = fmt::format("{}://{}{}{}:{}{}", options.http.tls ? "https" : "http", v6 ? "[" : "",
                                      options.http.host, v6 ? "]" : "", server.port(), mcp_path);
  // The protected resource is this server as clients reach it: configured, or the address just bound
  // (with port 0, known only now).
  if (mcp_options.resource_metadata.resource.empty()) {
    const bool any = options.http.host == "0.0.0.0" || options.http.host == "::";
    mcp_options.resource_metadata.resource =
        any ? fmt::format("{}://localhost:{}{}", options.http.tls ? "https" : "http", server.port(), mcp_path) : url;
  }
  {
    std::lock_guard lock(impl_->mutex);
    impl_->http_transport = std::make_unique<transport::StreamableHttp>(impl_->dispatcher, mcp_options);
  }
  auto& transport = *impl_->http_transport;
  serve(server, transport, url, options.on_listening);
  {
    std::lock_guard lock(impl_->mutex);
    // Sessions hold channels on the workers' contexts: they end while those contexts still exist.
    impl_->http_transport->close_sessions();
    impl_->http_server.reset();
    impl_->http_transport.reset();
  }
  return 0;
}

void Server::serve(net::HttpServer& server, transport::StreamableHttp& transport, const std::string& url,
                   const std::function<void(const std::string&)>& on_listening) {
  // The signal set and the sweeper live on the server's first worker: they must go before it does.
  asio::signal_set signals(server.executor(), SIGINT, SIGTERM);
  asio::steady_timer sweeper(server.executor());
  bool stopping = false;
  auto shutdown = [&] {
    if (stopping) return;
    stopping = true;
    boost::system::error_code ignored;
    signals.cancel(ignored);
    sweeper.cancel();
    server.stop();  // requests in flight finish; standalone streams end now
  };
  signals.async_wait([&](boost::system::error_code ec, int signal) {
    if (ec) return;
    spdlog::info("signal {}: shutting down", signal);
    shutdown();
  });
  {
    std::lock_guard lock(impl_->mutex);
    impl_->shutdown = shutdown;
  }
  std::function<void()> sweep = [&] {
    sweeper.expires_after(kSessionSweepInterval);
    sweeper.async_wait([&](boost::system::error_code ec) {
      if (ec || stopping) return;
      if (auto expired = transport.expire_sessions()) spdlog::info("{} idle sessions ended", expired);
      sweep();
    });
  };
  sweep();

  std::fprintf(stderr, "listening on %s\n", url.c_str());
  std::fflush(stderr);
  if (on_listening) on_listening(url);
  server.run();
  std::lock_guard lock(impl_->mutex);
  impl_->shutdown = nullptr;
}

void add_run_options(CLI::App& app, RunOptions& options) {
  app.add_option("--host", options.http.host, "Address to listen on")->capture_default_str();
  app.add_option("--port", options.http.port, "Port to listen on (0: any free port)")->capture_default_str();
  app.add_option("--threads", options.http.threads, "Server threads (0: one per core)")->capture_default_str();
  app.add_flag("--stdio", options.stdio, "Serve one session on stdin/stdout instead of HTTP");
  app.add_option("--allow-origin", options.mcp.allowed_origins, "Origins allowed besides loopback ones");
  app.add_option("--path", options.mcp.path, "Path of the MCP endpoint")->capture_default_str();
  auto* cert = app.add_option_function<std::string>("--tls-cert", [&options](const std::string& file) {
    if (!options.http.tls) options.http.tls.emplace();
    options.http.tls->certificate_chain = file;
  }, "TLS certificate chain (PEM)");
  auto* key = app.add_option_function<std::string>("--tls-key", [&options](const std::string& file) {
    if (!options.http.tls) options.http.tls.emplace();
    options.http.tls->private_key = file;
  }, "TLS private key (PEM)");
  cert->needs(key);
  key->needs(cert);
}

int Server::main(int argc, char** argv) {
  CLI::App app{"MCP server"};
  RunOptions options;
  add_run_options(app, options);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return run(options);
}

}  // namespace deputy
