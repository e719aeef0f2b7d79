#include "deputy/mcp/context.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>

namespace deputy::mcp {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

asio::awaitable<void> RequestContext::progress(double progress, std::optional<double> total,
                                               std::string_view message) {
  if (progress_token_ == nullptr) co_return;
  json::object params{{"progressToken", *progress_token_}, {"progress", progress}};
  if (total) params.emplace("total", *total);
  if (!message.empty()) params.emplace("message", message);
  const json::object notification = make_notification("notifications/progress", std::move(params));
  co_await outbound_.send(notification);
}

asio::awaitable<void> RequestContext::log(LogLevel level, json::value data, std::string_view logger) {
  if (level < session_.log_level()) co_return;
  json::object params{{"level", to_string(level)}, {"data", std::move(data)}};
  if (!logger.empty()) params.emplace("logger", logger);
  const json::object notification = make_notification("notifications/message", std::move(params));
  co_await outbound_.send(notification);
}

asio::awaitable<void> RequestContext::notify(std::string_view method, json::object params) {
  const json::object notification = make_notification(method, std::move(params));
  co_await outbound_.send(notification);
}

asio::awaitable<std::expected<json::value, RpcError>> RequestContext::request(std::string_view method,
                                                                              json::object params,
                                                                              std::chrono::milliseconds timeout) {
  auto executor = co_await asio::this_coro::executor;
  const json::value id = session_.next_request_id();
  auto channel = session_.expect_reply(id, executor);
  // The reply slot must not outlive this wait, whatever ends it.
  struct Forget {
    Session& session;
    const json::value& id;
    ~Forget() { session.forget_reply(id); }
  } forget{session_, id};

  const json::object outgoing = make_request(id, method, std::move(params));
  const bool sent = co_await outbound_.send(outgoing);
  if (!sent) {
    co_return std::unexpected(RpcError{RpcCode::kConnectionClosed, "Connection closed", {}});
  }
  asio::steady_timer timer(executor, timeout);
  auto outcome = co_await (channel->async_receive(asio::as_tuple(asio::use_awaitable)) ||
                           timer.async_wait(asio::as_tuple(asio::use_awaitable)));
  if (outcome.index() == 1) {
    co_return std::unexpected(RpcError{RpcCode::kRequestTimeout, "The client did not answer in time", {}});
  }
  auto [ec, reply] = std::get<0>(std::move(outcome));
  if (ec) co_return std::unexpected(RpcError{RpcCode::kConnectionClosed, "Connection closed", {}});
  // The transport hands over the whole response message; split result from error here.
  auto& message = reply.as_object();
  if (auto* result = message.if_contains("result")) co_return std::move(*result);
  const auto* error = message.if_contains("error");
  RpcError failure{RpcCode::kInternalError, "The client answered with an error", {}};
  if (error != nullptr && error->is_object()) {
    if (const auto* code = error->as_object().if_contains("code"); code != nullptr && code->is_int64()) {
      failure.code = static_cast<RpcCode>(code->get_int64());
    }
    if (const auto* text = error->as_object().if_contains("message"); text != nullptr && text->is_string()) {
      failure.message = text->get_string();
    }
  }
  co_return std::unexpected(std::move(failure));
}

asio::awaitable<std::expected<json::value, RpcError>> RequestContext::elicit(std::string_view message,
                                                                             json::object requested_schema) {
  if (!session_.client_has("elicitation")) {
    co_return std::unexpected(RpcError{RpcCode::kInvalidRequest, "The client does not support elicitation", {}});
  }
  json::object params;
  params.emplace("message", message);
  params.emplace("requestedSchema", std::move(requested_schema));
  co_return co_await request("elicitation/create", std::move(params));
}

asio::awaitable<std::expected<json::value, RpcError>> RequestContext::create_message(json::object params) {
  if (!session_.client_has("sampling")) {
    co_return std::unexpected(RpcError{RpcCode::kInvalidRequest, "The client does not support sampling", {}});
  }
  co_return co_await request("sampling/createMessage", std::move(params));
}

asio::awaitable<std::expected<json::value, RpcError>> RequestContext::list_roots() {
  if (!session_.client_has("roots")) {
    co_return std::unexpected(RpcError{RpcCode::kInvalidRequest, "The client does not support roots", {}});
  }
  co_return co_await request("roots/list", json::object());
}

asio::awaitable<bool> RequestContext::sleep_for(std::chrono::milliseconds duration) {
  asio::steady_timer timer(co_await asio::this_coro::executor, duration);
  auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  co_return !ec && !cancelled();
}

audit::Context audit_context(const RequestContext& context, std::string& request_id_text,
                             std::chrono::system_clock::time_point now) {
  const auto& id = context.request_id();
  request_id_text = id.is_string() ? std::string(id.get_string()) : json::serialize(id);
  return {.time = now, .request_id = request_id_text, .session = context.session().id(), .principal = context.principal()};
}

}  // namespace deputy::mcp
