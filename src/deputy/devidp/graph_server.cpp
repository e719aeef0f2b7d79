#include "deputy/devidp/graph_server.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>

#include <vector>

namespace deputy::devidp {

namespace asio = boost::asio;
namespace http = boost::beast::http;

bool is_loopback_host(std::string_view host) {
  if (host == "localhost") return true;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  boost::system::error_code error;
  const auto address = asio::ip::make_address(std::string(host), error);
  return !error && address.is_loopback();
}

bool admin_allowed(bool loopback_listener, std::string_view origin, std::string_view host_header) {
  // The host of the Host header, without the port ("[::1]:8444" → "[::1]").
  std::string_view host = host_header;
  if (host.starts_with('[')) {
    const auto close = host.find(']');
    host = close == std::string_view::npos ? host : host.substr(0, close + 1);
  } else {
    host = host.substr(0, host.rfind(':'));
  }
  return loopback_listener && origin.empty() && is_loopback_host(host);
}

GraphServer::GraphServer(const DevGraph& graph, GraphServerOptions options)
    : graph_(graph), options_(std::move(options)) {}

GraphServer::~GraphServer() {
  stop();
}

std::expected<void, std::string> GraphServer::start() {
  const std::scoped_lock lock(mutex_);
  if (http_ != nullptr) return {};
  net::ServerOptions http;
  http.host = options_.host;
  http.port = bound_port_ != 0 ? bound_port_ : options_.port;
  http.threads = options_.threads;
  http.tls = options_.tls;
  const bool loopback_listener = is_loopback_host(options_.host);
  auto server = std::make_unique<net::HttpServer>(
      std::move(http),
      [this, loopback_listener](net::Request& request, net::Exchange& exchange) -> asio::awaitable<void> {
        // The admin path: only where no other machine can connect, and not for a browser's page (Origin) or a
        // rebound DNS name (Host).
        const bool admin =
            admin_allowed(loopback_listener, request[http::field::origin], request[http::field::host]);
        const HttpAnswer answer = graph_.handle({.method = request.method(),
                                                 .target = request.target(),
                                                 .authorization = request[http::field::authorization],
                                                 .client_request_id = request["client-request-id"],
                                                 .admin = admin});
        std::vector<net::Header> headers{net::Header{"Cache-Control", "no-store, no-cache"}};
        for (const auto& [name, value] : answer.headers) headers.push_back(net::Header{name, value});
        const std::span<const net::Header> header_span(headers);
        const auto status = static_cast<http::status>(answer.status);
        co_await exchange.respond(status, answer.content_type, answer.body, header_span);
      });
  if (auto bound = server->listen(); !bound) return bound;
  bound_port_ = server->port();
  http_ = std::move(server);
  thread_ = std::thread([server = http_.get()] { server->run(); });
  spdlog::info("dev Graph listening on {}", fmt::format("https://{}:{}", options_.host, bound_port_));
  return {};
}

void GraphServer::stop() {
  std::unique_ptr<net::HttpServer> server;
  std::thread thread;
  {
    const std::scoped_lock lock(mutex_);
    server = std::move(http_);
    thread = std::move(thread_);
  }
  if (server == nullptr) return;
  server->stop();
  if (thread.joinable()) thread.join();
}

bool GraphServer::running() const {
  const std::scoped_lock lock(mutex_);
  return http_ != nullptr;
}

std::uint16_t GraphServer::port() const {
  const std::scoped_lock lock(mutex_);
  return bound_port_;
}

std::string GraphServer::url() const {
  const std::string host = options_.host == "0.0.0.0" || options_.host == "::" ? "localhost" : options_.host;
  return fmt::format("https://{}:{}", host.find(':') != std::string::npos ? "[" + host + "]" : host, port());
}

}  // namespace deputy::devidp
