#pragma once
// The protocol state of one MCP session: negotiated version, client capabilities, log level,
// subscriptions, requests in flight in both directions. Thread-safe: the requests of one session may
// arrive on several connections at once.

#include "deputy/mcp/jsonrpc.hpp"
#include "deputy/mcp/outbound.hpp"
#include "deputy/mcp/types.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace deputy::mcp {

/// The answer to a server-to-client request, delivered from whichever thread received it.
using ReplyChannel =
    boost::asio::experimental::concurrent_channel<void(boost::system::error_code, json::value)>;

/// A request in flight that the client may cancel (`notifications/cancelled`). The transport owns the
/// signal that reaches the handler's awaited operations; it is emitted on the request's own executor, as
/// Asio requires, and never after the request finished (the transport reuses the signal for the next one).
class Cancellation : public std::enable_shared_from_this<Cancellation> {
 public:
  Cancellation(boost::asio::any_io_executor executor, boost::asio::cancellation_signal* signal)
      : executor_(std::move(executor)), signal_(signal) {}
  /// From any thread.
  void request();
  /// On the request's executor, when the request is over.
  void finish() { active_ = false; }
  [[nodiscard]] bool requested() const { return requested_.load(std::memory_order_acquire); }

 private:
  boost::asio::any_io_executor executor_;
  boost::asio::cancellation_signal* signal_;
  bool active_ = true;  // touched only on executor_
  std::atomic<bool> requested_{false};
};

/// Subscriptions one session may hold: each is a string kept for the session's life.
inline constexpr std::size_t kMaxSubscriptions = 1024;

class Session {
 public:
  explicit Session(std::string id) : id_(std::move(id)) {}

  [[nodiscard]] const std::string& id() const { return id_; }

  // Lifecycle.
  void set_initialized(std::string protocol_version, json::object client_capabilities, json::object client_info);
  void mark_ready() { ready_.store(true, std::memory_order_release); }
  [[nodiscard]] bool initialized() const { return initialized_.load(std::memory_order_acquire); }
  [[nodiscard]] std::string protocol_version() const;
  /// Whether the client declared a capability (e.g. "elicitation", "sampling", "roots").
  [[nodiscard]] bool client_has(std::string_view capability) const;

  // Logging.
  void set_log_level(LogLevel level) { log_level_.store(level, std::memory_order_relaxed); }
  [[nodiscard]] LogLevel log_level() const { return log_level_.load(std::memory_order_relaxed); }

  // Resource subscriptions, at most kMaxSubscriptions per session.
  /// False when the session already holds as many as it may.
  bool subscribe(std::string uri);
  void unsubscribe(const std::string& uri);
  [[nodiscard]] bool subscribed(const std::string& uri) const;

  // Server-to-client requests.
  [[nodiscard]] json::value next_request_id();
  [[nodiscard]] std::shared_ptr<ReplyChannel> expect_reply(const json::value& id,
                                                           const boost::asio::any_io_executor& executor);
  void forget_reply(const json::value& id);
  /// Hands a client's response to the request waiting for it; false when none waits.
  bool deliver_reply(const json::value& id, json::value reply);

  // Client-to-server requests in flight.
  void track(const json::value& id, std::shared_ptr<Cancellation> cancellation);
  void untrack(const json::value& id);
  /// Cancels a request in flight; false when it is not (or no longer) running.
  bool cancel(const json::value& id);

  // The standalone stream (HTTP GET), for messages not tied to a request.
  void set_standalone(std::shared_ptr<Outbound> outbound);
  void clear_standalone(const Outbound* outbound);
  [[nodiscard]] std::shared_ptr<Outbound> standalone() const;
  /// Sets the standalone stream unless the session has one; false then (one stream per session).
  bool try_set_standalone(std::shared_ptr<Outbound> outbound);

  /// Ends the session: waiting server-to-client requests fail, requests in flight are cancelled.
  void close();

 private:
  const std::string id_;
  mutable std::mutex mutex_;
  std::atomic<bool> initialized_{false};
  std::atomic<bool> ready_{false};
  std::atomic<LogLevel> log_level_{LogLevel::kInfo};
  std::atomic<std::int64_t> next_request_id_{0};
  std::string protocol_version_;
  json::object client_capabilities_;
  json::object client_info_;
  std::set<std::string, std::less<>> subscriptions_;
  std::unordered_map<std::string, std::shared_ptr<ReplyChannel>> replies_;
  // Requests in flight: a short list, scanned; kept as a vector so tracking a request allocates nothing once
  // the vector has grown to the session's usual concurrency.
  std::vector<std::pair<std::string, std::shared_ptr<Cancellation>>> in_flight_;
  std::shared_ptr<Outbound> standalone_;
};

}  // namespace deputy::mcp
