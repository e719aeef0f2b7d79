#pragma once
// A one-shot HTTP listener on loopback for the OAuth redirect of a command-line sign-in (RFC 8252 §7.3): the
// browser is sent to http://localhost:<port>/<path>?code=...&state=..., and this listener takes that one GET,
// answers the page the caller builds from the query, and hands the query back. Any other path gets 404 and
// the wait goes on (browsers ask for /favicon.ico, and open spare connections that never send anything: each
// connection is served by its own coroutine with its own read deadline, so an idle one blocks nobody).
// Bound to 127.0.0.1 only: nothing off this machine can deliver a code to it.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace deputy::net {

/// A redirect is a short GET; ten seconds for its bytes is generous, and a connection that sends nothing is
/// closed after it.
inline constexpr std::chrono::seconds kCallbackReadTimeout{10};
/// The redirect carries a code, a state and a few more fields; a header block past this is not a redirect.
inline constexpr std::size_t kCallbackHeaderLimit = 16 * 1024;

/// What the listener answers for a GET of its path.
struct CallbackPage {
  unsigned status = 200;
  std::string html;
  /// True: this request ends the wait (its query is returned). False: answered, and the wait goes on (a
  /// request that does not belong to our sign-in, such as a forged state).
  bool done = true;
};

using CallbackAnswer = std::function<CallbackPage(std::string_view query)>;

enum class CallbackError {
  timeout,  // nothing ended the wait in time
};

class LoopbackCallbackListener {
 public:
  /// `path` is the redirect URI's path (/auth/callback).
  LoopbackCallbackListener(boost::asio::any_io_executor executor, std::string path);
  ~LoopbackCallbackListener();
  LoopbackCallbackListener(const LoopbackCallbackListener&) = delete;
  LoopbackCallbackListener& operator=(const LoopbackCallbackListener&) = delete;

  /// Binds 127.0.0.1:`port` (0: any free port); the error names the address and the reason (port in use).
  [[nodiscard]] std::expected<void, std::string> listen(std::uint16_t port);
  [[nodiscard]] std::uint16_t port() const;

  /// Serves until a GET of the path is answered with done, or `timeout` passes; returns that request's query
  /// string (without '?'). Closes the listener and every connection before returning.
  [[nodiscard]] boost::asio::awaitable<std::expected<std::string, CallbackError>> wait(
      CallbackAnswer answer, std::chrono::milliseconds timeout);

  struct State;  // opaque; public only so the connection coroutines in the .cpp can name it

 private:
  std::shared_ptr<State> state_;
};

}  // namespace deputy::net
