#include "deputy/transport/stdio.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>
#include <thread>

namespace deputy::transport {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

/// Messages waiting for stdout at most; producers wait beyond it (back-pressure, not growth).
constexpr std::size_t kOutputQueueDepth = 256;
/// After stdin ends, requests in flight get this long to finish.
constexpr std::chrono::seconds kDrainTimeout{10};

/// Writes whole buffers to a file descriptor, retrying short writes.
bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

class StdioSession {
 public:
  StdioSession(const mcp::Dispatcher& dispatcher, asio::io_context& context, int out_fd)
      : dispatcher_(dispatcher), context_(context), out_fd_(out_fd), output_(context, kOutputQueueDepth) {}

  /// The single outbound channel: every message of the session goes to stdout, one per line.
  class Output final : public mcp::Outbound {
   public:
    explicit Output(StdioSession& owner) : owner_(owner) {}
    asio::awaitable<bool> send(const json::object& message) override {
      auto [ec] = co_await owner_.output_.async_send(boost::system::error_code{}, json::serialize(message) + "\n",
                                                     asio::as_tuple(asio::use_awaitable));
      co_return !ec;
    }
    bool post(json::object message) override {
      return owner_.output_.try_send(boost::system::error_code{}, json::serialize(message) + "\n");
    }

   private:
    StdioSession& owner_;
  };

  asio::awaitable<void> writer() {
    for (;;) {
      auto [ec, line] = co_await output_.async_receive(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      // stdout may be a file or a pipe; a blocking write keeps lines whole and in order.
      if (!write_all(out_fd_, line)) {
        spdlog::warn("stdout closed; stopping");
        context_.stop();
        co_return;
      }
    }
  }

  void on_line(std::string line) {
    auto body = std::make_shared<json::value>();
    boost::system::error_code ec;
    *body = json::parse(line, ec, {}, mcp::parse_options());
    if (ec) {
      enqueue((mcp::make_error(nullptr, {mcp::RpcCode::kParseError,
                                                                     "Parse error: invalid JSON", {}})));
      return;
    }
    auto message = mcp::classify(*body);
    if (!message) {
      const json::value* id = nullptr;
      if (body->is_object()) id = body->get_object().if_contains("id");
      if (id != nullptr && !(id->is_string() || id->is_int64())) id = nullptr;
      enqueue(mcp::make_error(id, message.error()));
      return;
    }
    switch (message->kind) {
      case mcp::MessageKind::kNotification:
        dispatcher_.handle_notification(session_, *message);
        return;
      case mcp::MessageKind::kResponse:
      case mcp::MessageKind::kErrorResponse:
        dispatcher_.handle_response(session_, *message, *body);
        return;
      case mcp::MessageKind::kRequest:
        break;
    }
    if (message->method == "initialize") {
      enqueue(dispatcher_.initialize(session_, *message));
      return;
    }
    if (!session_.initialized() && message->method != "ping") {
      enqueue(mcp::make_error(message->id, {mcp::RpcCode::kInvalidRequest, "Invalid Request: not initialized", {}}));
      return;
    }
    // Requests run concurrently: a tool waiting for the client's answer to an elicitation must not stop
    // the reading of that answer.
    auto signal = std::make_shared<asio::cancellation_signal>();
    ++in_flight_;
    asio::co_spawn(
        context_,
        [this, body, message = *message, signal]() -> asio::awaitable<void> {
          co_await asio::this_coro::throw_if_cancelled(false);
          Output output(*this);
          auto answer = co_await dispatcher_.handle_request(session_, message, output, signal.get());
          if (answer) co_await output.send(*answer);
          --in_flight_;
        },
        asio::bind_cancellation_slot(signal->slot(), asio::detached));
  }

  /// Queues an answer produced outside a request coroutine (parse errors, initialize).
  void enqueue(const json::object& message) {
    asio::co_spawn(
        context_,
        [this, line = json::serialize(message) + "\n"]() mutable -> asio::awaitable<void> {
          co_await output_.async_send(boost::system::error_code{}, std::move(line), asio::as_tuple(asio::use_awaitable));
        },
        asio::detached);
  }

  [[nodiscard]] const mcp::Session& session() const { return session_; }

  asio::awaitable<void> drain() {
    asio::steady_timer timer(context_);
    const auto deadline = std::chrono::steady_clock::now() + kDrainTimeout;
    while (in_flight_ > 0 && std::chrono::steady_clock::now() < deadline) {
      timer.expires_after(std::chrono::milliseconds(20));
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    session_.close();
    output_.close();
  }

 private:
  const mcp::Dispatcher& dispatcher_;
  asio::io_context& context_;
  int out_fd_;
  asio::experimental::channel<void(boost::system::error_code, std::string)> output_;
  mcp::Session session_{"stdio"};
  std::size_t in_flight_ = 0;
};

}  // namespace

bool StdioLink::notify(json::object message) {
  std::lock_guard lock(mutex_);
  if (!post_) return false;
  post_(std::move(message));
  return true;
}

void StdioLink::resource_updated(std::string_view uri) {
  std::lock_guard lock(mutex_);
  if (!post_ || session_ == nullptr || !session_->subscribed(std::string(uri))) return;
  post_(mcp::make_notification("notifications/resources/updated", {{"uri", uri}}));
}

int run_stdio(const mcp::Dispatcher& dispatcher, StdioLink* link, int in_fd, int out_fd) {
  asio::io_context context(1);
  auto work = asio::make_work_guard(context);
  StdioSession session(dispatcher, context, out_fd);
  asio::co_spawn(context, session.writer(), asio::detached);
  struct Attach {
    StdioLink* link;
    Attach(StdioLink* l, asio::io_context& context, StdioSession& session) : link(l) {
      if (link == nullptr) return;
      std::lock_guard lock(link->mutex_);
      link->session_ = &session.session();
      link->post_ = [&context, &session](json::object message) {
        asio::post(context, [&session, message = std::move(message)] { session.enqueue(message); });
      };
    }
    ~Attach() {
      if (link == nullptr) return;
      std::lock_guard lock(link->mutex_);
      link->post_ = nullptr;
      link->session_ = nullptr;
    }
  } attach(link, context, session);

  // stdin may be a pipe, a file or a terminal; a blocking reader thread handles all three.
  std::atomic<bool> input_ended{false};
  std::thread reader([&] {
    std::string pending;
    char chunk[65536];
    bool oversized = false;
    for (;;) {
      const ssize_t n = ::read(in_fd, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      for (ssize_t i = 0; i < n; ++i) {
        if (chunk[i] != '\n') {
          if (pending.size() < kMaxStdioLine) {
            pending += chunk[i];
          } else {
            oversized = true;
          }
          continue;
        }
        if (oversized) {
          asio::post(context, [&session] { session.on_line("\x01"); });  // answered as a parse error
        } else if (!pending.empty() && pending != "\r") {
          asio::post(context, [&session, line = std::move(pending)]() mutable { session.on_line(std::move(line)); });
        }
        pending.clear();
        oversized = false;
      }
    }
    input_ended = true;
    asio::post(context, [&] {
      asio::co_spawn(context, session.drain(), [&](std::exception_ptr) { work.reset(); });
    });
  });
  context.run();
  if (!input_ended) {
    // stdout closed while stdin is still open: the client is gone, and the reader thread is blocked in
    // read(2) on an input nobody will close. Leave without waiting for it.
    spdlog::shutdown();
    ::_exit(0);
  }
  reader.join();
  return 0;
}

}  // namespace deputy::transport
