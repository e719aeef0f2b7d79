#pragma once
// Where messages from the server to the client go. The transport provides one per request (its SSE
// stream, or stdout) and one per session (the standalone stream).

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

namespace deputy::mcp {

class Outbound {
 public:
  virtual ~Outbound() = default;
  /// Sends one JSON-RPC message; false when the client is gone and nothing more can reach it.
  virtual boost::asio::awaitable<bool> send(const boost::json::object& message) = 0;
  /// Queues a message from any thread without waiting; false when it cannot be delivered (client gone,
  /// or its queue is full: a client that never reads must not grow our memory).
  virtual bool post(boost::json::object message) = 0;
  /// Ends the channel (the session ended); what is queued may be dropped.
  virtual void close() {}
  /// Closes the connection under a resumable stream on purpose (the client resumes with GET and
  /// Last-Event-ID, e.g. to poll a long operation); messages sent after it wait in the stream's log.
  /// Nothing happens where the stream cannot be resumed.
  virtual boost::asio::awaitable<void> disconnect() { co_return; }
};

}  // namespace deputy::mcp
