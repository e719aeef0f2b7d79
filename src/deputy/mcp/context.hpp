#pragma once
// What a handler gets besides its arguments: progress, logging, cancellation, and requests to the client
// (elicitation, sampling, roots), all on the stream of the request being answered.

#include "deputy/audit/record.hpp"
#include "deputy/auth/principal.hpp"
#include "deputy/mcp/jsonrpc.hpp"
#include "deputy/mcp/outbound.hpp"
#include "deputy/mcp/session.hpp"
#include "deputy/mcp/types.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <expected>
#include <memory>
#include <optional>
#include <string_view>

namespace deputy::mcp {

/// How long a server-to-client request waits for the client's answer. Elicitation waits for a person.
inline constexpr std::chrono::seconds kClientRequestTimeout{300};

class RequestContext {
 public:
  RequestContext(Session& session, Outbound& outbound, const json::value& request_id,
                 const json::value* progress_token, std::shared_ptr<Cancellation> cancellation,
                 const auth::Principal* principal = nullptr)
      : session_(session),
        outbound_(outbound),
        request_id_(request_id),
        progress_token_(progress_token),
        cancellation_(std::move(cancellation)),
        principal_(principal) {}

  [[nodiscard]] Session& session() const { return session_; }
  /// Who is calling: the validated token's user (or app); null when authentication is off. The seed's
  /// get_access_token(), without the parsing.
  [[nodiscard]] const auth::Principal* principal() const { return principal_; }
  [[nodiscard]] const json::value& request_id() const { return request_id_; }
  /// Whether the client cancelled this request. Asio operations awaited by the handler are also
  /// cancelled (they complete with `operation_aborted`).
  [[nodiscard]] bool cancelled() const { return cancellation_ && cancellation_->requested(); }

  /// `notifications/progress`, when the client asked for progress (sent a progressToken).
  boost::asio::awaitable<void> progress(double progress, std::optional<double> total = {},
                                        std::string_view message = {});
  /// `notifications/message`, when `level` reaches the session's log level.
  boost::asio::awaitable<void> log(LogLevel level, json::value data, std::string_view logger = {});
  /// Any other notification related to this request.
  boost::asio::awaitable<void> notify(std::string_view method, json::object params);

  /// A request to the client, answered by a POST of the client (HTTP) or a line on stdin (stdio).
  boost::asio::awaitable<std::expected<json::value, RpcError>> request(
      std::string_view method, json::object params,
      std::chrono::milliseconds timeout = kClientRequestTimeout);
  /// `elicitation/create` in form mode; the result holds `action` and, when accepted, `content`.
  boost::asio::awaitable<std::expected<json::value, RpcError>> elicit(std::string_view message,
                                                                      json::object requested_schema);
  /// `sampling/createMessage`.
  boost::asio::awaitable<std::expected<json::value, RpcError>> create_message(json::object params);
  /// `roots/list`.
  boost::asio::awaitable<std::expected<json::value, RpcError>> list_roots();

  /// Closes this request's SSE connection while the handler goes on; the client resumes the stream
  /// (GET + Last-Event-ID) and gets what follows. A no-op where the stream is not resumable.
  boost::asio::awaitable<void> close_sse_stream() { co_await outbound_.disconnect(); }

  /// Waits, or stops early when the request is cancelled; false when cancelled.
  boost::asio::awaitable<bool> sleep_for(std::chrono::milliseconds duration);

 private:
  Session& session_;
  Outbound& outbound_;
  const json::value& request_id_;
  const json::value* progress_token_;
  std::shared_ptr<Cancellation> cancellation_;
  const auth::Principal* principal_;
};

/// Where an audit record of this request happened: time, request id (as text, kept in `request_id_text`,
/// which must outlive the result), session, principal.
[[nodiscard]] audit::Context audit_context(const RequestContext& context, std::string& request_id_text,
                                           std::chrono::system_clock::time_point now);

}  // namespace deputy::mcp
