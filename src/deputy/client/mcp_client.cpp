#include "deputy/client/mcp_client.hpp"

#include "deputy/client/settings.hpp"
#include "deputy/client/www_authenticate.hpp"

#include <fmt/format.h>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>

namespace deputy::client {

namespace json = boost::json;
namespace http = boost::beast::http;

namespace {

Error mcp_error(std::string message) {
  return {ErrorCode::kMcp, std::move(message)};
}

/// The server's error text, cut short: it is shown, not parsed.
std::string excerpt(std::string_view body) {
  std::string out(body.substr(0, 200));
  std::ranges::replace(out, '\n', ' ');
  std::ranges::replace(out, '\r', ' ');
  return out;
}

}  // namespace

std::vector<json::value> parse_sse(std::string_view body) {
  std::vector<json::value> out;
  std::string data;
  bool has_data = false;
  auto dispatch = [&] {
    if (has_data) {
      boost::system::error_code ec;
      auto value = json::parse(data, ec);
      if (!ec) out.push_back(std::move(value));
    }
    data.clear();
    has_data = false;
  };
  std::size_t at = 0;
  while (at < body.size()) {
    auto end = body.find('\n', at);
    if (end == std::string_view::npos) end = body.size();
    auto line = body.substr(at, end - at);
    if (line.ends_with('\r')) line.remove_suffix(1);
    at = end + 1;
    if (line.empty()) {
      dispatch();
      continue;
    }
    if (line.starts_with(':')) continue;  // a comment (keep-alive)
    const auto colon = line.find(':');
    const auto field = line.substr(0, colon);
    auto value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
    if (value.starts_with(' ')) value.remove_prefix(1);
    if (field == "data") {
      if (has_data) data += '\n';
      data += value;
      has_data = true;
    }
  }
  dispatch();  // a stream that ends without its blank line still delivers its last event
  return out;
}

bool carries_tokens_safely(std::string_view url) {
  return is_https_or_loopback(url);
}

McpClient::McpClient(net::HttpClient& http, std::string url, Credentials credentials)
    : http_(http), url_(std::move(url)), credentials_(std::move(credentials)) {}

boost::asio::awaitable<std::expected<McpClient::Answer, Error>> McpClient::post(
    const json::object& message, std::chrono::milliseconds timeout) {
  if (token_.empty() && credentials_.current) {
    if (!carries_tokens_safely(url_)) {
      co_return std::unexpected(
          Error{ErrorCode::kConfig,
                fmt::format("{}: a token goes only over https (plain http only to loopback)", url_)});
    }
    auto token = co_await credentials_.current();
    if (!token) co_return std::unexpected(token.error());
    token_ = std::move(*token);
  }
  bool renewed = false;
  bool stepped_up = false;
  for (;;) {
    net::ClientRequest request{
        .method = http::verb::post,
        .url = url_,
        .headers = {{"Content-Type", "application/json"}, {"Accept", "application/json, text/event-stream"}},
        .body = json::serialize(message),
        .timeout = timeout};
    if (!token_.empty()) request.headers.push_back({"Authorization", "Bearer " + token_});
    if (!session_id_.empty()) request.headers.push_back({"Mcp-Session-Id", session_id_});
    if (initialized_) request.headers.push_back({"MCP-Protocol-Version", std::string(kMcpProtocolVersion)});
    auto response = co_await http_.send(std::move(request));
    if (!response)
      co_return std::unexpected(
          Error{ErrorCode::kNetwork, fmt::format("{}: {}", url_, net::to_string(response.error()))});
    Answer answer{.status = response->status,
                  .www_authenticate = std::string(response->header("WWW-Authenticate").value_or("")),
                  .session_id = std::string(response->header("Mcp-Session-Id").value_or("")),
                  .content_type = std::string(response->header("Content-Type").value_or("")),
                  .body = std::move(response->body)};
    if (answer.status != 401 && answer.status != 403) co_return answer;

    const auto decision = decide(answer.status, answer.www_authenticate);
    if (decision.action == ChallengeAction::kStepUp && credentials_.step_up && !stepped_up) {
      stepped_up = true;
      auto token = co_await credentials_.step_up(decision.claims);
      if (!token) co_return std::unexpected(token.error());
      token_ = std::move(*token);
      continue;
    }
    if (decision.action == ChallengeAction::kRenew && credentials_.renew && !renewed && !token_.empty()) {
      renewed = true;
      auto token = co_await credentials_.renew();
      if (!token) co_return std::unexpected(token.error());
      token_ = std::move(*token);
      continue;
    }
    std::string why = decision.error.empty() ? std::string() : " (" + decision.error + ")";
    if (!decision.error_description.empty()) why += ": " + decision.error_description;
    if (token_.empty()) why += "; no token was sent: is AUTH_ENABLED false?";
    co_return std::unexpected(
        Error{ErrorCode::kUnauthorized, fmt::format("{} answered HTTP {}{}", url_, answer.status, why)});
  }
}

boost::asio::awaitable<std::expected<json::object, Error>> McpClient::request(
    std::string method, json::object params, std::chrono::milliseconds timeout) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    const std::int64_t id = next_id_++;
    json::object message{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}};
    if (!params.empty()) message["params"] = params;
    auto answer = co_await post(message, timeout);
    if (!answer) co_return std::unexpected(answer.error());
    if (answer->status == 404 && !session_id_.empty() && method != "initialize" && attempt == 0) {
      // The server no longer knows our session (restarted, or it expired): a new one, then the request again.
      session_id_.clear();
      initialized_ = false;
      auto again = co_await handshake();
      if (!again) co_return std::unexpected(again.error());
      continue;
    }
    if (answer->status != 200) {
      co_return std::unexpected(mcp_error(
          fmt::format("{} answered HTTP {} to {}: {}", url_, answer->status, method, excerpt(answer->body))));
    }
    if (!answer->session_id.empty()) session_id_ = answer->session_id;
    std::vector<json::value> messages;
    if (answer->content_type.starts_with("text/event-stream")) {
      messages = parse_sse(answer->body);
    } else {
      boost::system::error_code ec;
      auto value = json::parse(answer->body, ec);
      if (ec)
        co_return std::unexpected(
            mcp_error(fmt::format("{} answered {} with a body that is not JSON", url_, method)));
      messages.push_back(std::move(value));
    }
    for (const auto& value : messages) {
      const auto* object = value.if_object();
      const auto* got_id = object != nullptr ? object->if_contains("id") : nullptr;
      if (got_id == nullptr || !got_id->is_int64() || got_id->get_int64() != id || object->contains("method"))
        continue;
      if (const auto* error = object->if_contains("error"); error != nullptr && error->is_object()) {
        const auto* text = error->get_object().if_contains("message");
        co_return std::unexpected(mcp_error(
            fmt::format("{}: {}", method,
                        text != nullptr && text->is_string() ? std::string(text->get_string()) : "error")));
      }
      const auto* result = object->if_contains("result");
      if (result == nullptr || !result->is_object())
        co_return std::unexpected(mcp_error(method + ": no result"));
      co_return result->get_object();
    }
    co_return std::unexpected(mcp_error(fmt::format("{} sent no answer to {}", url_, method)));
  }
  co_return std::unexpected(mcp_error(method + ": the server lost the session twice"));
}

boost::asio::awaitable<std::expected<json::object, Error>> McpClient::handshake() {
  json::object params{{"protocolVersion", kMcpProtocolVersion},
                      {"capabilities", json::object()},
                      {"clientInfo", {{"name", "deputy"}, {"version", "0.1.0"}}}};
  std::string method = "initialize";
  const std::chrono::milliseconds timeout = kRequestTimeout;
  auto result = co_await request(std::move(method), std::move(params), timeout);
  if (!result) co_return result;
  initialized_ = true;
  json::object notification{{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}};
  auto sent = co_await post(notification, timeout);
  if (!sent) co_return std::unexpected(sent.error());
  if (sent->status != 202 && sent->status != 200) {
    co_return std::unexpected(
        mcp_error(fmt::format("{} answered HTTP {} to notifications/initialized", url_, sent->status)));
  }
  co_return result;
}

boost::asio::awaitable<std::expected<json::object, Error>> McpClient::initialize() {
  co_return co_await handshake();
}

boost::asio::awaitable<std::expected<std::vector<json::object>, Error>> McpClient::list_tools() {
  std::vector<json::object> tools;
  std::string cursor;
  for (int page = 0; page < kMaxListPages; ++page) {
    json::object params;
    if (!cursor.empty()) params["cursor"] = cursor;
    std::string method = "tools/list";
    const std::chrono::milliseconds timeout = kRequestTimeout;
    auto result = co_await request(std::move(method), std::move(params), timeout);
    if (!result) co_return std::unexpected(result.error());
    if (const auto* list = result->if_contains("tools"); list != nullptr && list->is_array()) {
      for (const auto& tool : list->get_array()) {
        if (tool.is_object()) tools.push_back(tool.get_object());
      }
    }
    const auto* next = result->if_contains("nextCursor");
    if (next == nullptr || !next->is_string() || next->get_string().empty()) co_return tools;
    cursor = std::string(next->get_string());
  }
  co_return std::unexpected(mcp_error(fmt::format("tools/list: more than {} pages", kMaxListPages)));
}

boost::asio::awaitable<std::expected<json::object, Error>> McpClient::call_tool(std::string name,
                                                                                json::object arguments) {
  json::object params{{"name", std::move(name)}, {"arguments", std::move(arguments)}};
  std::string method = "tools/call";
  const std::chrono::milliseconds timeout = kToolCallTimeout;
  co_return co_await request(std::move(method), std::move(params), timeout);
}

boost::asio::awaitable<void> McpClient::close() {
  if (session_id_.empty()) co_return;
  net::ClientRequest request{.method = http::verb::delete_,
                             .url = url_,
                             .headers = {{"Mcp-Session-Id", session_id_},
                                         {"MCP-Protocol-Version", std::string(kMcpProtocolVersion)}}};
  if (!token_.empty()) request.headers.push_back({"Authorization", "Bearer " + token_});
  auto ignored = co_await http_.send(std::move(request));
  (void)ignored;
  session_id_.clear();
  initialized_ = false;
}

}  // namespace deputy::client
