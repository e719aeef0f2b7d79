#include "deputy/transport/streamable_http.hpp"

#include "deputy/audit/record.hpp"

#include "deputy/audit/metrics.hpp"
#include "deputy/transport/event_log.hpp"
#include "deputy/transport/sse.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace deputy::transport {

namespace asio = boost::asio;
namespace json = boost::json;
namespace http = boost::beast::http;
using namespace asio::experimental::awaitable_operators;

namespace {

constexpr auto kAsTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::string_view kSessionHeader = "Mcp-Session-Id";
constexpr std::string_view kProtocolHeader = "MCP-Protocol-Version";

/// ASCII case-insensitive equality (header names and media types are ASCII; no locale lookups).
bool iequals(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c; };
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [&](char x, char y) {
           return lower(x) == lower(y);
         });
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

/// The host part of a Host header or an origin's authority, without port or brackets.
std::string_view host_part(std::string_view authority) {
  if (authority.starts_with('[')) {
    auto close = authority.find(']');
    return close == std::string_view::npos ? std::string_view{} : authority.substr(1, close - 1);
  }
  return authority.substr(0, authority.find(':'));
}

bool is_loopback_name(std::string_view host) {
  if (host == "127.0.0.1" || iequals(host, "localhost")) return true;
  // Only a literal loopback address counts: "127.0.0.1.attacker.example" is a name like any other.
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  return !ec && address.is_loopback();
}

}  // namespace

/// The headers the transport reads, found in one pass over the request (the first of duplicates wins).
struct StreamableHttp::Headers {
  std::optional<std::string_view> origin;
  std::string_view authorization;
  unsigned authorization_count = 0;  // more than one: ambiguous credentials
  std::string_view host;
  std::string_view accept;
  std::string_view content_type;
  std::string_view session_id;
  std::optional<std::string_view> protocol_version;
  std::optional<std::string_view> last_event_id;
};

namespace {

StreamableHttp::Headers scan(const net::Request& request) {
  StreamableHttp::Headers out;
  auto keep = [](std::string_view& slot, std::string_view value) {
    if (slot.empty()) slot = value;
  };
  for (const auto& field : request) {
    const std::string_view value = field.value();
    switch (field.name()) {
      case http::field::origin:
        if (!out.origin) out.origin = value;
        break;
      case http::field::host:
        keep(out.host, value);
        break;
      case http::field::accept:
        keep(out.accept, value);
        break;
      case http::field::content_type:
        keep(out.content_type, value);
        break;
      case http::field::authorization:
        keep(out.authorization, value);
        ++out.authorization_count;
        break;
      default: {
        const std::string_view name = field.name_string();
        if (iequals(name, kSessionHeader)) {
          keep(out.session_id, value);
        } else if (iequals(name, kProtocolHeader)) {
          if (!out.protocol_version) out.protocol_version = value;
        } else if (iequals(name, "Last-Event-ID")) {
          if (!out.last_event_id) out.last_event_id = value;
        }
      }
    }
  }
  return out;
}

/// Serializes into `out` (the connection's reusable body buffer), allocating nothing once it is warm.
void serialize_into(std::string& out, const json::object& message) {
  json::serializer serializer;
  serializer.reset(&message);
  out.clear();
  char chunk[2048];
  while (!serializer.done()) out += serializer.read(chunk, sizeof chunk);
}

/// A transport-level error as the official SDKs shape it: a JSON-RPC error with a null id (or the
/// request's id when it could be read).
asio::awaitable<void> send_error(net::Exchange& exchange, http::status status, mcp::RpcCode code,
                                 std::string_view message, const json::value* id = nullptr,
                                 std::span<const net::Header> headers = {}) {
  auto& body = exchange.body_buffer();
  const json::object error = mcp::make_error(id, {code, std::string(message), {}});
  serialize_into(body, error);
  co_await exchange.respond(status, "application/json", body, headers);
}

/// The base64 claims of a tool error that carries a claims challenge (mcp::kClaimsChallengeMeta), or empty.
std::string_view claims_challenge_of(const json::object& answer) {
  const auto* result = answer.if_contains("result");
  const auto* meta = result != nullptr && result->is_object() ? result->get_object().if_contains("_meta") : nullptr;
  const auto* challenge =
      meta != nullptr && meta->is_object() ? meta->get_object().if_contains(mcp::kClaimsChallengeMeta) : nullptr;
  const auto* claims =
      challenge != nullptr && challenge->is_object() ? challenge->get_object().if_contains("claims") : nullptr;
  return claims != nullptr && claims->is_string() ? std::string_view(claims->get_string()) : std::string_view();
}

/// A JSON-RPC answer as application/json.
asio::awaitable<void> send_json(net::Exchange& exchange, const json::object& message, std::string_view session_id) {
  auto& body = exchange.body_buffer();
  serialize_into(body, message);
  const std::array<net::Header, 1> headers{net::Header{kSessionHeader, session_id}};
  co_await exchange.respond(http::status::ok, "application/json", body,
                            std::span(headers.data(), session_id.empty() ? 0 : 1));
}

asio::awaitable<bool> open_event_stream(net::Exchange& exchange, std::string_view session_id) {
  const std::array<net::Header, 2> headers{net::Header{"Cache-Control", "no-cache"},
                                           net::Header{kSessionHeader, session_id}};
  co_return co_await exchange.open_stream(http::status::ok, "text/event-stream",
                                          std::span(headers.data(), session_id.empty() ? 1 : 2));
}

/// The outbound channel of one POSTed request: its first message turns the answer into an SSE stream.
/// On sessions of 2025-11-25 and later the stream is resumable: a priming event first, every event with
/// an id, all of them kept in the session's event log.
class RequestStream final : public mcp::Outbound {
 public:
  RequestStream(net::Exchange& exchange, SessionStore::Entry& entry) : exchange_(exchange), entry_(entry) {}

  asio::awaitable<bool> send(const json::object& message) override {
    co_return co_await deliver(json::serialize(message), false);
  }
  // Only the request's own coroutine writes to its stream.
  bool post(json::object) override { return false; }

  asio::awaitable<void> disconnect() override {
    if (detached_) co_return;
    if (!exchange_.stream_open()) {
      const bool opened = co_await open();
      if (!opened) co_return;
    }
    if (!log_) co_return;
    detached_ = true;
    co_await exchange_.hang_up();
  }

  /// Sends the request's answer (the stream's last event) and ends the stream.
  asio::awaitable<void> finish(const json::object& answer) {
    co_await deliver(json::serialize(answer), true);
    if (!detached_ && exchange_.stream_open()) co_await exchange_.close_stream();
  }

 private:
  // Temporaries are named before each co_await: g++ 12 miscompiles some temporaries that live across a
  // suspension inside a condition.
  asio::awaitable<bool> open() {
    if (exchange_.answered()) co_return false;
    const bool opened = co_await open_event_stream(exchange_, entry_.session.id());
    if (!opened) co_return false;
    if (entry_.session.protocol_version() >= "2025-11-25") {
      log_ = entry_.event_logs.create();
      const std::string priming = log_->prime();
      co_await exchange_.write(priming);
    }
    co_return true;
  }

  asio::awaitable<bool> deliver(std::string data, bool final) {
    if (!detached_ && !exchange_.stream_open()) {
      const bool opened = co_await open();
      if (!opened) co_return false;
    }
    const std::string event = log_ ? log_->append(data, final) : sse::frame(data);
    if (detached_) co_return true;  // kept in the log for the client to resume
    const bool written = co_await exchange_.write(event);
    co_return written || log_ != nullptr;
  }

  net::Exchange& exchange_;
  SessionStore::Entry& entry_;
  std::shared_ptr<EventLog> log_;
  bool detached_ = false;
};

/// Writes pre-framed events from `channel` to an open SSE exchange, with keep-alive comments, until the
/// channel closes, the client leaves or the server stops.
asio::awaitable<void> pump(net::Exchange& exchange, EventChannel& channel) {
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer keep_alive(executor);
  while (!exchange.stopping()) {
    keep_alive.expires_after(kKeepAliveInterval);
    auto event = co_await (channel.async_receive(kAsTuple) || keep_alive.async_wait(kAsTuple));
    bool written = false;
    if (event.index() == 0) {
      auto [ec, text] = std::get<0>(std::move(event));
      if (ec || text.empty()) break;  // the session or stream ended, or the server is stopping
      written = co_await exchange.write(text);
    } else {
      if (std::get<1>(event) != std::tuple{boost::system::error_code{}}) break;  // cancelled
      const std::string_view comment = sse::keep_alive();
      written = co_await exchange.write(comment);
    }
    if (!written) break;  // the client went away
  }
}

/// The standalone stream (GET): messages not tied to a request, queued from any thread.
class StandaloneStream final : public mcp::Outbound {
 public:
  explicit StandaloneStream(const asio::any_io_executor& executor) : channel_(executor, kStandaloneQueueDepth) {}

  asio::awaitable<bool> send(const json::object& message) override { co_return post(message); }
  bool post(json::object message) override {
    if (channel_.try_send(boost::system::error_code{}, sse::frame(json::serialize(message)))) return true;
    // A full queue: the client does not read. It loses the stream (and reconnects) rather than silently
    // missing messages while it stays open.
    channel_.close();
    return false;
  }
  void close() override { channel_.close(); }
  EventChannel& channel() { return channel_; }

 private:
  EventChannel channel_;
};

}  // namespace

bool is_loopback_host(std::string_view host) { return is_loopback_name(host_part(trim(host))); }

bool is_loopback_origin(std::string_view origin) {
  origin = trim(origin);
  for (std::string_view scheme : {"http://", "https://"}) {
    if (origin.starts_with(scheme)) return is_loopback_name(host_part(origin.substr(scheme.size())));
  }
  return false;
}

bool accepts(std::string_view accept_header, std::string_view mime) {
  const std::string_view type = mime.substr(0, mime.find('/'));
  while (!accept_header.empty()) {
    auto comma = accept_header.find(',');
    std::string_view item = trim(accept_header.substr(0, comma).substr(0, accept_header.substr(0, comma).find(';')));
    if (iequals(item, mime) || item == "*/*") return true;
    if (item.size() == type.size() + 2 && item.ends_with("/*") && iequals(item.substr(0, type.size()), type)) {
      return true;
    }
    if (comma == std::string_view::npos) break;
    accept_header.remove_prefix(comma + 1);
  }
  return false;
}

StreamableHttp::StreamableHttp(const mcp::Dispatcher& dispatcher, StreamableHttpOptions options)
    : dispatcher_(dispatcher),
      options_(std::move(options)),
      sessions_(options_.max_sessions, options_.session_idle_timeout) {}

bool StreamableHttp::origin_allowed(std::string_view origin) const {
  if (is_loopback_origin(origin)) return true;
  return std::ranges::any_of(options_.allowed_origins,
                             [&](const std::string& allowed) { return allowed == "*" || iequals(allowed, origin); });
}

asio::awaitable<void> StreamableHttp::handle(net::Request& request, net::Exchange& exchange) {
  const Headers headers = scan(request);
  // DNS rebinding: a web page may make a browser talk to a local server under the page's own name. The
  // Origin header (sent by browsers) and, on loopback, the Host header give it away.
  if (headers.origin && !origin_allowed(*headers.origin)) {
    co_await send_error(exchange, http::status::forbidden, mcp::RpcCode::kTransportError,
                        "Forbidden: origin not allowed");
    co_return;
  }
  if (options_.require_loopback_host && !is_loopback_host(headers.host)) {
    co_await send_error(exchange, http::status::forbidden, mcp::RpcCode::kTransportError, "Forbidden: host not allowed");
    co_return;
  }
  const auto method = request.method();
  if (method != http::verb::post && method != http::verb::get && method != http::verb::delete_) {
    // Before authentication: a method we never serve is 405 for everyone (a CORS preflight included).
    static constexpr std::array<net::Header, 1> kAllow{net::Header{"Allow", "GET, POST, DELETE"}};
    co_await send_error(exchange, http::status::method_not_allowed, mcp::RpcCode::kTransportError,
                        "Method not allowed", nullptr, kAllow);
    co_return;
  }
  std::shared_ptr<const auth::Principal> principal;
  if (options_.authenticator) {
    auto authenticated = co_await authenticate(request, headers);
    if (!authenticated) {
      co_await refuse(exchange, authenticated.error());
      co_return;
    }
    principal = std::move(*authenticated);
  }
  switch (request.method()) {
    case http::verb::post:
      co_await post(request, headers, principal.get(), exchange);
      break;
    case http::verb::get:
      co_await get(headers, principal.get(), exchange);
      break;
    default:  // DELETE: the other methods were answered 405 above
      co_await remove(headers, principal.get(), exchange);
      break;
  }
}

asio::awaitable<std::expected<std::shared_ptr<const auth::Principal>, auth::Error>> StreamableHttp::authenticate(
    const net::Request& request, const Headers& headers) {
  // Counters for each outcome, resolved once.
  static const auto counters = [] {
    std::array<audit::Counter*, static_cast<std::size_t>(auth::Error::kInsufficientScope) + 2> out{};
    auto& metrics = audit::Metrics::global();
    constexpr std::string_view kHelp = "Bearer token checks on MCP requests";
    out[0] = &metrics.counter("deputy_authn_total", R"(result="ok")", kHelp);
    for (std::size_t i = 1; i < out.size(); ++i) {
      out[i] = &metrics.counter("deputy_authn_total",
                                fmt::format(R"(result="refused",reason="{}")",
                                            auth::to_string(static_cast<auth::Error>(i - 1))),
                                kHelp);
    }
    return out;
  }();
  std::expected<std::shared_ptr<const auth::Principal>, auth::Error> result;
  const std::string_view target = request.target();
  auto token = auth::extract_bearer(headers.authorization, target);
  // Two Authorization lines: a proxy in front may read the other one; refuse rather than pick.
  if (token && headers.authorization_count > 1) token = std::unexpected(auth::Error::kAmbiguousCredentials);
  if (!token) {
    result = std::unexpected(token.error());
  } else {
    result = co_await options_.authenticator->authenticate(*token);
  }
  counters[result ? 0 : static_cast<std::size_t>(result.error()) + 1]->add();
  if (!result) {
    spdlog::info("authentication refused: {}", auth::to_string(result.error()));
    if (options_.audit) {
      options_.audit->record(audit::authn_failed({.time = std::chrono::system_clock::now(), .session = headers.session_id},
                                                 result.error()));
    }
  }
  co_return result;
}

asio::awaitable<void> StreamableHttp::refuse(net::Exchange& exchange, auth::Error error) {
  const std::string challenge = auth::challenge(error, options_.resource_metadata, options_.challenge_scope);
  const std::array<net::Header, 1> headers{net::Header{"WWW-Authenticate", challenge}};
  const unsigned status = auth::status_for(error);
  std::string_view body = R"({"error":"invalid_token","error_description":"The access token is missing, malformed, expired or not meant for this server"})";
  if (status == 403) {
    body = R"({"error":"insufficient_scope","error_description":"The access token lacks a required scope"})";
  } else if (status == 503) {
    body = R"({"error":"temporarily_unavailable","error_description":"Access tokens cannot be validated right now"})";
  } else if (error == auth::Error::kTokenInQuery) {
    body = R"({"error":"invalid_request","error_description":"Send the access token in the Authorization header"})";
  } else if (error == auth::Error::kAmbiguousCredentials) {
    body = R"({"error":"invalid_request","error_description":"Send one Authorization header"})";
  } else if (error == auth::Error::kMissingToken || error == auth::Error::kUnsupportedScheme) {
    // RFC 6750 §3.1: no error code for a request that carried no bearer token at all.
    body = R"({"error_description":"An access token is required"})";
  }
  co_await exchange.respond(static_cast<http::status>(status), "application/json", body, headers);
}

std::shared_ptr<SessionStore::Entry> StreamableHttp::find_session(std::string_view id,
                                                                   const auth::Principal* principal) {
  auto entry = sessions_.find(id, SessionStore::Clock::now());
  // A session belongs to whoever created it: another principal's request finds nothing there, exactly as
  // if the id were unknown.
  if (entry == nullptr) return nullptr;
  const bool same = principal == nullptr ? entry->owner.empty()
                    : !principal->identity.empty() ? entry->owner == principal->identity
                                                   : entry->owner == principal->key();
  return same ? entry : nullptr;
}

asio::awaitable<void> StreamableHttp::post(net::Request& request, const Headers& headers,
                                           const auth::Principal* principal, net::Exchange& exchange) {
  const auto now = SessionStore::Clock::now();
  if (!accepts(headers.accept, "application/json") || !accepts(headers.accept, "text/event-stream")) {
    co_await send_error(exchange, http::status::not_acceptable, mcp::RpcCode::kTransportError,
                        "Not Acceptable: Client must accept both application/json and text/event-stream");
    co_return;
  }
  const std::string_view content_type = headers.content_type;
  if (!iequals(trim(content_type.substr(0, content_type.find(';'))), "application/json")) {
    co_await send_error(exchange, http::status::unsupported_media_type, mcp::RpcCode::kTransportError,
                        "Unsupported Media Type: Content-Type must be application/json");
    co_return;
  }

  // The message is parsed into the connection's own buffer: no allocation for a typical request.
  auto scratch = exchange.parse_buffer();
  json::monotonic_resource arena(scratch.data(), scratch.size());
  boost::system::error_code ec;
  json::value body = json::parse(std::string_view(request.body()), ec, &arena, mcp::parse_options());
  if (ec) {
    co_await send_error(exchange, http::status::bad_request, mcp::RpcCode::kParseError,
                        ec == json::error::too_deep ? "Parse error: nesting too deep" : "Parse error: invalid JSON");
    co_return;
  }
  if (body.is_array()) {
    // JSON-RPC batches left MCP in 2025-06-18; one message per POST.
    co_await send_error(exchange, http::status::bad_request, mcp::RpcCode::kInvalidRequest,
                        "Invalid Request: batches are not supported");
    co_return;
  }
  auto message = mcp::classify(body);
  if (!message) {
    const json::value* id = body.is_object() ? body.get_object().if_contains("id") : nullptr;
    const bool echo_id = id != nullptr && (id->is_string() || id->is_int64()) &&
                         (!id->is_string() || id->get_string().size() <= mcp::kMaxIdLength);
    co_await send_error(exchange, http::status::bad_request, message.error().code, message.error().message,
                        echo_id ? id : nullptr);
    co_return;
  }

  const std::string_view session_id = headers.session_id;
  if (message->kind == mcp::MessageKind::kRequest && message->method == "initialize") {
    if (!session_id.empty() && find_session(session_id, principal)) {
      co_await send_error(exchange, http::status::bad_request, mcp::RpcCode::kInvalidRequest,
                          "Invalid Request: Server already initialized");
      co_return;
    }
    auto created = sessions_.create(now, principal != nullptr ? principal->key() : std::string());
    if (!created) {
      if (created.error() == SessionStore::Refusal::kOwnerFull) {
        co_await send_error(exchange, http::status::too_many_requests, mcp::RpcCode::kTransportError,
                            "Too Many Requests: too many open sessions for this user; end unused ones (DELETE)");
      } else {
        co_await send_error(exchange, http::status::service_unavailable, mcp::RpcCode::kTransportError,
                            "Service Unavailable: too many sessions");
      }
      co_return;
    }
    auto entry = std::move(*created);
    const json::object answer = dispatcher_.initialize(entry->session, *message);
    co_await send_json(exchange, answer, entry->session.id());
    co_return;
  }

  if (session_id.empty()) {
    co_await send_error(exchange, http::status::bad_request, mcp::RpcCode::kTransportError,
                        "Bad Request: Mcp-Session-Id header is required");
    co_return;
  }
  auto entry = find_session(session_id, principal);
  if (!entry) {
    co_await send_error(exchange, http::status::not_found, mcp::RpcCode::kSessionNotFound, "Session not found");
    co_return;
  }
  if (headers.protocol_version && !mcp::is_supported_version(*headers.protocol_version)) {
    co_await send_error(exchange, http::status::bad_request, mcp::RpcCode::kTransportError,
                        "Bad Request: Unsupported protocol version");
    co_return;
  }

  mcp::Session& session = entry->session;
  switch (message->kind) {
    case mcp::MessageKind::kNotification:
      dispatcher_.handle_notification(session, *message);
      co_await exchange.respond(http::status::accepted, {}, {});
      co_return;
    case mcp::MessageKind::kResponse:
    case mcp::MessageKind::kErrorResponse:
      // The reply outlives this request's arena: copy it to the heap.
      dispatcher_.handle_response(session, *message, json::value(body, json::storage_ptr()));
      co_await exchange.respond(http::status::accepted, {}, {});
      co_return;
    case mcp::MessageKind::kRequest:
      break;
  }

  RequestStream stream(exchange, *entry);
  auto answer =
      co_await dispatcher_.handle_request(session, *message, stream, &exchange.cancellation_signal(), principal);
  if (exchange.answered()) {
    // Already an event stream (or hung up on purpose): the answer is its last event.
    if (answer) {
      co_await stream.finish(*answer);
    } else if (exchange.stream_open()) {
      co_await exchange.close_stream();
    }
  } else if (const std::string_view claims = answer ? claims_challenge_of(*answer) : std::string_view();
             !claims.empty()) {
    // A downstream identity provider wants more of the sign-in (MFA, Conditional Access) and nothing of
    // the answer has gone out: tell the client in HTTP, where OAuth clients look for it (MCP authorization,
    // RFC 6750 §3). The tool error in the body says the same to clients that only read JSON-RPC.
    const std::string challenge = auth::claims_challenge(claims, options_.resource_metadata);
    const std::array<net::Header, 1> challenge_headers{net::Header{"WWW-Authenticate", challenge}};
    auto& body = exchange.body_buffer();
    serialize_into(body, *answer);
    co_await exchange.respond(http::status::unauthorized, "application/json", body, challenge_headers);
  } else if (answer) {
    co_await send_json(exchange, *answer, {});
  } else {
    // Cancelled: no answer is due, but the HTTP exchange must end; an empty event stream says nothing.
    const bool opened = co_await open_event_stream(exchange, session.id());
    if (opened) co_await exchange.close_stream();
  }
}

asio::awaitable<void> StreamableHttp::get(const Headers& headers, const auth::Principal* principal,
                                          net::Exchange& exchange) {
  if (!accepts(headers.accept, "text/event-stream")) {
    co_await send_error(exchange, http::status::not_acceptable, mcp::RpcCode::kTransportError,
                        "Not Acceptable: Client must accept text/event-stream");
    co_return;
  }
  if (headers.session_id.empty()) {
    co_await send_error(exchange, http::status::bad_request, mcp::RpcCode::kTransportError,
                        "Bad Request: Mcp-Session-Id header is required");
    co_return;
  }
  auto entry = find_session(headers.session_id, principal);
  if (!entry) {
    co_await send_error(exchange, http::status::not_found, mcp::RpcCode::kSessionNotFound, "Session not found");
    co_return;
  }
  if (headers.protocol_version && !mcp::is_supported_version(*headers.protocol_version)) {
    co_await send_error(exchange, http::status::bad_request, mcp::RpcCode::kTransportError,
                        "Bad Request: Unsupported protocol version");
    co_return;
  }
  mcp::Session& session = entry->session;
  exchange.set_long_lived();
  co_await asio::this_coro::throw_if_cancelled(false);
  auto executor = co_await asio::this_coro::executor;

  if (headers.last_event_id) {
    // Resuming a request's stream: what the client missed, then the rest as it comes.
    auto found = entry->event_logs.find(*headers.last_event_id);
    if (!found) {
      co_await send_error(exchange, http::status::not_found, mcp::RpcCode::kTransportError,
                          "Not Found: unknown Last-Event-ID");
      co_return;
    }
    auto channel = std::make_shared<EventChannel>(executor, kStandaloneQueueDepth);
    auto replay = found->first->resume(found->second, channel);
    const bool opened = co_await open_event_stream(exchange, session.id());
    if (!opened) co_return;
    for (const auto& event : replay.events) {
      const bool written = co_await exchange.write(event);
      if (!written) co_return;
    }
    if (!replay.finished) co_await pump(exchange, *channel);
    co_return;
  }

  auto stream = std::make_shared<StandaloneStream>(executor);
  if (!session.try_set_standalone(stream)) {
    co_await send_error(exchange, http::status::conflict, mcp::RpcCode::kTransportError,
                        "Conflict: Only one SSE stream is allowed per session");
    co_return;
  }
  const bool opened = co_await open_event_stream(exchange, session.id());
  if (opened) co_await pump(exchange, stream->channel());
  session.clear_standalone(stream.get());
  stream->channel().close();
}

asio::awaitable<void> StreamableHttp::remove(const Headers& headers, const auth::Principal* principal,
                                             net::Exchange& exchange) {
  if (headers.session_id.empty()) {
    co_await send_error(exchange, http::status::bad_request, mcp::RpcCode::kTransportError,
                        "Bad Request: Mcp-Session-Id header is required");
    co_return;
  }
  if (!find_session(headers.session_id, principal)) {
    co_await send_error(exchange, http::status::not_found, mcp::RpcCode::kSessionNotFound, "Session not found");
    co_return;
  }
  // The version header is checked on every request of a session (MCP 2025-06-18 §Protocol Version Header),
  // not only on POST: a client speaking a version we do not is refused before it changes anything.
  if (headers.protocol_version && !mcp::is_supported_version(*headers.protocol_version)) {
    co_await send_error(exchange, http::status::bad_request, mcp::RpcCode::kTransportError,
                        "Bad Request: Unsupported protocol version");
    co_return;
  }
  if (!sessions_.remove(headers.session_id)) {
    co_await send_error(exchange, http::status::not_found, mcp::RpcCode::kSessionNotFound, "Session not found");
    co_return;
  }
  co_await exchange.respond(http::status::ok, {}, {});
}

void StreamableHttp::broadcast(const json::object& notification) {
  sessions_.for_each([&](SessionStore::Entry& entry) {
    if (auto stream = entry.session.standalone()) stream->post(notification);
  });
}

void StreamableHttp::resource_updated(std::string_view uri) {
  const std::string key(uri);
  const auto notification = mcp::make_notification("notifications/resources/updated", {{"uri", uri}});
  sessions_.for_each([&](SessionStore::Entry& entry) {
    if (!entry.session.subscribed(key)) return;
    if (auto stream = entry.session.standalone()) stream->post(notification);
  });
}

std::size_t StreamableHttp::expire_sessions() { return sessions_.expire(SessionStore::Clock::now()); }

}  // namespace deputy::transport
