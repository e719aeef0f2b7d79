#pragma once
// Shared by the obo unit tests: running a coroutine to completion on a private io_context, a fake token
// endpoint that records the requests it gets (no sockets), token response bodies, and an
// unsigned-but-parseable JWT.

#include "deputy/auth/base64url.hpp"
#include "deputy/devidp/form.hpp"
#include "deputy/obo/exchanger.hpp"

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace deputy::obo::testing {

namespace asio = boost::asio;
namespace json = boost::json;
using SendResult = std::expected<net::ClientResponse, net::ClientError>;

/// 2027-01-15T08:00:00Z.
inline constexpr Clock::time_point kNow{std::chrono::seconds(1'800'000'000)};
inline constexpr std::string_view kEndpoint =
    "https://login.example.test/b22dd19b-fad0-4513-a43e-46a8cb3ca698/oauth2/v2.0/token";
inline constexpr std::string_view kClientId = "d894da85-e1f8-4202-b8d8-bbfc24cbe604";
inline constexpr std::string_view kGraph = "https://graph.microsoft.com/.default";

/// Runs `task` on its own io_context until it finishes (bounded: a test never hangs for ever).
template <class T>
T run(asio::awaitable<T> task) {
  asio::io_context context;
  std::optional<T> result;
  asio::co_spawn(
      context, [&]() -> asio::awaitable<void> { result.emplace(co_await std::move(task)); }, asio::detached);
  context.run_for(std::chrono::seconds(10));
  if (!result) throw std::runtime_error("the coroutine did not finish");
  return std::move(*result);
}

inline net::ClientResponse answer(unsigned status, std::string body,
                                  std::vector<net::ClientHeader> headers = {}) {
  net::ClientResponse response;
  response.status = status;
  response.body = std::move(body);
  response.headers = std::move(headers);
  return response;
}

/// A compact JWS with the given payload and a dummy signature: parseable, not verifiable (the exchanger only
/// reads the issued token's claims, it does not verify them).
inline std::string fake_jwt(const json::object& payload) {
  return auth::base64url_encode(R"({"alg":"RS256","typ":"JWT"})") + "." +
         auth::base64url_encode(json::serialize(payload)) + "." + auth::base64url_encode("signature");
}

/// A success body as Entra sends it, for a token with `uti` and aud Graph.
inline std::string success_body(std::string_view uti = "uti-1", std::int64_t expires_in = 3599) {
  json::object payload{{"aud", "https://graph.microsoft.com"}, {"uti", uti}, {"exp", 1'800'003'599}};
  json::object body{{"token_type", "Bearer"},
                    {"scope", "https://graph.microsoft.com/User.Read"},
                    {"expires_in", expires_in},
                    {"ext_expires_in", expires_in},
                    {"access_token", fake_jwt(payload)}};
  return json::serialize(body);
}

/// An Entra error body (with the trace and correlation lines Entra appends to every description).
inline std::string entra_error(std::string_view error, std::int64_t code, std::string_view message,
                               std::string_view claims = {}, std::string_view suberror = {}) {
  json::object body{{"error", error},
                    {"error_description",
                     "AADSTS" + std::to_string(code) + ": " + std::string(message) +
                         "\r\nTrace ID: 0000aaaa-1111-2222-3333-444455556666\r\nCorrelation "
                         "ID: 77778888-9999-aaaa-bbbb-ccccddddeeee\r\nTimestamp: 2027-01-15 08:00:00Z"},
                    {"error_codes", json::array{code}},
                    {"timestamp", "2027-01-15 08:00:00Z"},
                    {"trace_id", "0000aaaa-1111-2222-3333-444455556666"},
                    {"correlation_id", "77778888-9999-aaaa-bbbb-ccccddddeeee"}};
  if (!claims.empty()) body["claims"] = claims;
  if (!suberror.empty()) body["suberror"] = suberror;
  return json::serialize(body);
}

/// A token endpoint in memory: answers from a queue in order (the last one repeats once the queue is empty;
/// connect_failed before any), records every request.
class FakeEndpoint {
 public:
  void push(SendResult result) {
    const std::lock_guard lock(mutex_);
    answers_.push_back(std::move(result));
  }
  Sender sender() {
    return [this](net::ClientRequest request) -> asio::awaitable<SendResult> {
      SendResult result = take(std::move(request));
      co_return result;
    };
  }
  [[nodiscard]] std::size_t calls() const {
    const std::lock_guard lock(mutex_);
    return requests_.size();
  }
  [[nodiscard]] net::ClientRequest request(std::size_t index = 0) const {
    const std::lock_guard lock(mutex_);
    return requests_.at(index);
  }
  [[nodiscard]] devidp::Form form(std::size_t index = 0) const {
    auto form = devidp::parse_form(request(index).body);
    if (!form) throw std::runtime_error("the exchanger sent a body that is not a form");
    return *form;
  }

 private:
  SendResult take(net::ClientRequest request) {
    const std::lock_guard lock(mutex_);
    requests_.push_back(std::move(request));
    if (!answers_.empty()) {
      last_ = std::move(answers_.front());
      answers_.pop_front();
    }
    return last_;
  }

  mutable std::mutex mutex_;
  std::deque<SendResult> answers_;
  SendResult last_ = std::unexpected(net::ClientError::connect_failed);  // repeated once the queue is empty
  std::vector<net::ClientRequest> requests_;
};

}  // namespace deputy::obo::testing
