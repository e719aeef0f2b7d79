#include "deputy/net/loopback_callback.hpp"

#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <optional>
#include <vector>

namespace deputy::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
}  // namespace

struct LoopbackCallbackListener::State {
  State(asio::any_io_executor executor, std::string path)
      : acceptor(executor), done(executor), path(std::move(path)) {}
  tcp::acceptor acceptor;
  asio::steady_timer done;  // its wait ends at the deadline, or when cancelled by the request that finishes
  std::string path;
  CallbackAnswer answer;
  std::optional<std::string> result;
  std::vector<std::weak_ptr<beast::tcp_stream>> streams;
  bool closed = false;

  void close() {
    closed = true;
    boost::system::error_code ignored;
    acceptor.close(ignored);
    for (auto& weak : streams) {
      if (auto stream = weak.lock()) stream->socket().close(ignored);
    }
    streams.clear();
  }
};

namespace {

asio::awaitable<void> serve(std::shared_ptr<LoopbackCallbackListener::State> state,
                            std::shared_ptr<beast::tcp_stream> stream) {
  beast::flat_buffer buffer;
  http::request_parser<http::empty_body> parser;
  parser.header_limit(kCallbackHeaderLimit);
  stream->expires_after(kCallbackReadTimeout);
  auto [read_error, bytes] = co_await http::async_read(*stream, buffer, parser, kTuple);
  if (read_error || state->closed) co_return;
  const auto& request = parser.get();
  const std::string_view target(request.target().data(), request.target().size());
  const auto question = target.find('?');
  const std::string_view path = target.substr(0, question);
  const std::string_view query =
      question == std::string_view::npos ? std::string_view() : target.substr(question + 1);

  http::response<http::string_body> response;
  response.version(11);
  response.keep_alive(false);
  response.set(http::field::cache_control, "no-store");
  response.set(http::field::content_type, "text/html; charset=utf-8");
  // The page is ours and static: nothing on it needs to load or run.
  response.set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
  response.set("Referrer-Policy", "no-referrer");
  bool finished = false;
  std::string finished_query;
  if (request.method() == http::verb::get && path == state->path && !state->result) {
    CallbackPage page = state->answer(query);
    response.result(page.status);
    response.body() = std::move(page.html);
    if (page.done) {
      finished = true;
      finished_query = std::string(query);
    }
  } else {
    response.result(http::status::not_found);
    response.body() = "<!DOCTYPE html><title>Not found</title><p>Not found.</p>\n";
  }
  response.prepare_payload();
  stream->expires_after(kCallbackReadTimeout);
  auto [write_error, written] = co_await http::async_write(*stream, response, kTuple);
  (void)write_error;
  // The result counts once the page is written (or failed to be): the browser shows it before we close.
  if (finished && !state->result) {
    state->result = std::move(finished_query);
    state->done.cancel();
  }
  boost::system::error_code ignored;
  stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
}

asio::awaitable<void> accept_loop(std::shared_ptr<LoopbackCallbackListener::State> state) {
  while (!state->closed) {
    auto [error, socket] = co_await state->acceptor.async_accept(kTuple);
    if (error) co_return;
    auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
    state->streams.push_back(stream);
    asio::co_spawn(state->acceptor.get_executor(), serve(state, stream), asio::detached);
  }
}

}  // namespace

LoopbackCallbackListener::LoopbackCallbackListener(asio::any_io_executor executor, std::string path)
    : state_(std::make_shared<State>(std::move(executor), std::move(path))) {}

LoopbackCallbackListener::~LoopbackCallbackListener() {
  state_->close();
}

std::expected<void, std::string> LoopbackCallbackListener::listen(std::uint16_t port) {
  const tcp::endpoint endpoint(asio::ip::make_address_v4("127.0.0.1"), port);
  boost::system::error_code error;
  state_->acceptor.open(endpoint.protocol(), error);
  if (!error) state_->acceptor.set_option(tcp::acceptor::reuse_address(true), error);
  if (!error) state_->acceptor.bind(endpoint, error);
  if (!error) state_->acceptor.listen(asio::socket_base::max_listen_connections, error);
  if (error) {
    boost::system::error_code ignored;
    state_->acceptor.close(ignored);
    return std::unexpected(fmt::format("cannot listen on 127.0.0.1:{}: {}", port, error.message()));
  }
  return {};
}

std::uint16_t LoopbackCallbackListener::port() const {
  boost::system::error_code ignored;
  return state_->acceptor.local_endpoint(ignored).port();
}

asio::awaitable<std::expected<std::string, CallbackError>> LoopbackCallbackListener::wait(
    CallbackAnswer answer, std::chrono::milliseconds timeout) {
  auto state = state_;
  state->answer = std::move(answer);
  state->done.expires_after(timeout);
  asio::co_spawn(state->acceptor.get_executor(), accept_loop(state), asio::detached);
  [[maybe_unused]] auto [woken] = co_await state->done.async_wait(kTuple);
  state->close();
  if (!state->result) co_return std::unexpected(CallbackError::timeout);
  co_return *state->result;
}

}  // namespace deputy::net
