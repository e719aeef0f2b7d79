#include "deputy/net/http_client.hpp"

#include "deputy/auth/base64url.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <limits>
#include <random>
#include <stdexcept>
#include <unordered_map>

namespace deputy::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace urls = boost::urls;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

constexpr auto kAsTuple = asio::as_tuple(asio::use_awaitable);
/// Informational (1xx) answers skipped before the real one: we send no Expect, so a server sends at most a
/// 103 Early Hints or two; an endless stream of them is an attack on our time.
constexpr unsigned kMaxInterimResponses = 8;
/// A Retry-After beyond this is as good as infinite (and keeps the arithmetic away from overflow).
constexpr std::chrono::seconds kRetryAfterCeiling{std::numeric_limits<std::int32_t>::max()};

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view text_of(beast::string_view text) { return {text.data(), text.size()}; }

/// A host as the rules compare it: lowercase, without IPv6 brackets or a trailing dot.
std::string normalize_host(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  return lowercase(host);
}

std::optional<asio::ip::address> ip_address(std::string_view host) {
  error_code ec;
  auto address = asio::ip::make_address(std::string(host), ec);
  if (ec) return std::nullopt;
  return address;
}

bool is_loopback(std::string_view normalized_host) {
  if (normalized_host == "localhost" || normalized_host.ends_with(".localhost")) return true;
  auto address = ip_address(normalized_host);
  if (!address) return false;
  if (address->is_v6() && address->to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address->to_v6()).is_loopback();
  }
  return address->is_loopback();
}

bool in_block(const asio::ip::address& address, std::string_view block) {
  error_code ec;
  if (address.is_v4()) {
    auto network = asio::ip::make_network_v4(block, ec);
    return !ec && asio::ip::network_v4(address.to_v4(), network.prefix_length()).canonical() == network.canonical();
  }
  auto network = asio::ip::make_network_v6(block, ec);
  return !ec && asio::ip::network_v6(address.to_v6(), network.prefix_length()).canonical() == network.canonical();
}

// --- HTTP-date (RFC 9110 §5.6.7): IMF-fixdate, and the obsolete RFC 850 and asctime forms recipients must
// still accept.

class Cursor {
 public:
  explicit Cursor(std::string_view text) : text_(text) {}
  bool literal(std::string_view expected) {
    if (!text_.starts_with(expected)) return false;
    text_.remove_prefix(expected.size());
    return true;
  }
  std::optional<int> digits(std::size_t min, std::size_t max) {
    std::size_t n = 0;
    while (n < max && n < text_.size() && std::isdigit(static_cast<unsigned char>(text_[n]))) ++n;
    if (n < min) return std::nullopt;
    int value = 0;
    std::from_chars(text_.data(), text_.data() + n, value);
    text_.remove_prefix(n);
    return value;
  }
  std::optional<unsigned> month() {
    static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    for (unsigned i = 0; i < 12; ++i) {
      if (literal(kMonths[i])) return i + 1;
    }
    return std::nullopt;
  }
  bool day_name() {
    static constexpr std::string_view kDays[] = {"Monday", "Tuesday",  "Wednesday", "Thursday", "Friday",
                                                 "Saturday", "Sunday", "Mon",       "Tue",      "Wed",
                                                 "Thu",    "Fri",      "Sat",       "Sun"};
    return std::any_of(std::begin(kDays), std::end(kDays), [this](std::string_view day) { return literal(day); });
  }
  bool skip_spaces() {
    bool any = false;
    while (literal(" ")) any = true;
    return any;
  }
  [[nodiscard]] bool done() const { return text_.empty(); }

 private:
  std::string_view text_;
};

struct DateParts {
  int year = 0;
  unsigned month = 0;
  int day = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
};

bool time_of_day(Cursor& in, DateParts& parts) {
  auto hour = in.digits(2, 2);
  if (!hour || !in.literal(":")) return false;
  auto minute = in.digits(2, 2);
  if (!minute || !in.literal(":")) return false;
  auto second = in.digits(2, 2);
  if (!second) return false;
  parts.hour = *hour;
  parts.minute = *minute;
  parts.second = *second;
  return true;
}

std::optional<DateParts> parse_http_date(std::string_view text) {
  DateParts parts;
  {  // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
    Cursor in(text);
    std::optional<int> day, year;
    std::optional<unsigned> month;
    if (in.day_name() && in.literal(", ") && (day = in.digits(2, 2)) && in.literal(" ") && (month = in.month()) &&
        in.literal(" ") && (year = in.digits(4, 4)) && in.literal(" ") && time_of_day(in, parts) &&
        in.literal(" GMT") && in.done()) {
      parts.day = *day;
      parts.month = *month;
      parts.year = *year;
      return parts;
    }
  }
  {  // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
    Cursor in(text);
    std::optional<int> day, year;
    std::optional<unsigned> month;
    if (in.day_name() && in.literal(", ") && (day = in.digits(2, 2)) && in.literal("-") && (month = in.month()) &&
        in.literal("-") && (year = in.digits(2, 2)) && in.literal(" ") && time_of_day(in, parts) &&
        in.literal(" GMT") && in.done()) {
      parts.day = *day;
      parts.month = *month;
      parts.year = *year < 70 ? 2000 + *year : 1900 + *year;
      return parts;
    }
  }
  {  // asctime: Sun Nov  6 08:49:37 1994
    Cursor in(text);
    std::optional<int> day, year;
    std::optional<unsigned> month;
    if (in.day_name() && in.literal(" ") && (month = in.month()) && in.skip_spaces() && (day = in.digits(1, 2)) &&
        in.literal(" ") && time_of_day(in, parts) && in.literal(" ") && (year = in.digits(4, 4)) && in.done()) {
      parts.day = *day;
      parts.month = *month;
      parts.year = *year;
      return parts;
    }
  }
  return std::nullopt;
}

// --- URLs and proxies

/// 1 to 65535; Boost.URL's port_number() wraps larger values around.
std::optional<std::uint16_t> parse_port(std::string_view digits) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc{} || end != digits.data() + digits.size() || value == 0 || value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

/// Where a request goes, from its URL.
struct Target {
  bool tls = false;
  std::string host;  // normalized: resolved, verified against the certificate, matched against NO_PROXY
  bool ip_literal = false;
  std::uint16_t port = 0;
  std::string authority;       // the Host header: host[:port], IPv6 in brackets
  std::string authority_port;  // host:port always, for CONNECT
  std::string origin;          // scheme://host:port, the pool key
  std::string target;          // origin-form: path?query
  std::string path;            // for logs: never the query, which may carry codes or keys
};

std::expected<Target, ClientError> parse_target(std::string_view url) {
  auto parsed = urls::parse_uri(url);
  if (!parsed) return std::unexpected(ClientError::invalid_url);
  const urls::url_view& view = *parsed;
  Target target;
  if (view.scheme_id() == urls::scheme::https) {
    target.tls = true;
  } else if (view.scheme_id() != urls::scheme::http) {
    return std::unexpected(ClientError::unsupported_scheme);
  }
  // Credentials in a URL end up in logs, histories and Referer headers: the caller must send them as a
  // header, where our logs never look.
  if (view.has_userinfo()) return std::unexpected(ClientError::invalid_url);
  const auto host_type = view.host_type();
  if (host_type != urls::host_type::name && host_type != urls::host_type::ipv4 &&
      host_type != urls::host_type::ipv6) {
    return std::unexpected(ClientError::invalid_url);
  }
  const std::string_view encoded_host = text_of(view.encoded_host_address());
  // A percent-encoded host would be resolved as one name and verified as another: refused (internationalized
  // names come punycoded).
  if (encoded_host.empty() || encoded_host.find('%') != std::string_view::npos) {
    return std::unexpected(ClientError::invalid_url);
  }
  target.host = normalize_host(encoded_host);
  target.ip_literal = host_type != urls::host_type::name;
  const std::uint16_t default_port = target.tls ? 443 : 80;
  target.port = default_port;
  if (view.has_port() && !view.port().empty()) {
    const auto port = parse_port(text_of(view.port()));
    if (!port) return std::unexpected(ClientError::invalid_url);
    target.port = *port;
  }
  const std::string bracketed = host_type == urls::host_type::ipv6 ? "[" + target.host + "]" : target.host;
  target.authority_port = bracketed + ":" + std::to_string(target.port);
  target.authority = target.port == default_port ? bracketed : target.authority_port;
  target.origin = std::string(target.tls ? "https://" : "http://") + target.authority_port;
  target.path = view.encoded_path().empty() ? "/" : std::string(text_of(view.encoded_path()));
  target.target = target.path;
  if (view.has_query()) {
    target.target += '?';
    target.target += text_of(view.encoded_query());
  }
  return target;
}

struct Proxy {
  bool usable = false;  // configured but not an http:// URL: requests through it fail (never go direct)
  std::string host;
  bool ip_literal = false;
  std::uint16_t port = 80;
  std::string authorization;  // "Basic …" or empty; a secret: never logged
  std::string name;           // host:port, what logs say about it
};

std::optional<Proxy> parse_proxy(std::string_view text, std::string_view variable) {
  text = trim(text);
  if (text.empty()) return std::nullopt;
  const std::string url = text.find("://") == std::string_view::npos ? "http://" + std::string(text) : std::string(text);
  Proxy proxy;
  auto parsed = urls::parse_uri(url);
  const bool named = parsed && (parsed->host_type() == urls::host_type::name ||
                                parsed->host_type() == urls::host_type::ipv4 ||
                                parsed->host_type() == urls::host_type::ipv6);
  if (!named || parsed->scheme_id() != urls::scheme::http || parsed->encoded_host_address().empty()) {
    // The value is not logged: it may hold the proxy password.
    spdlog::warn("http client: {} is not an http:// proxy URL; requests that would use it fail", variable);
    return proxy;
  }
  proxy.host = normalize_host(text_of(parsed->encoded_host_address()));
  proxy.ip_literal = parsed->host_type() != urls::host_type::name;
  if (parsed->has_port() && !parsed->port().empty()) {
    const auto port = parse_port(text_of(parsed->port()));
    if (!port) {
      spdlog::warn("http client: {} has an invalid port; requests that would use it fail", variable);
      return proxy;
    }
    proxy.port = *port;
  }
  if (parsed->has_userinfo()) {
    proxy.authorization = "Basic " + auth::base64_encode(parsed->user() + ":" + parsed->password());
  }
  proxy.name = (proxy.ip_literal && parsed->host_type() == urls::host_type::ipv6 ? "[" + proxy.host + "]" : proxy.host) +
               ":" + std::to_string(proxy.port);
  proxy.usable = true;
  return proxy;
}

std::string environment(const char* lower, const char* upper) {
  if (const char* value = std::getenv(lower); value != nullptr && *value != '\0') return value;
  if (const char* value = std::getenv(upper); value != nullptr && *value != '\0') return value;
  return {};
}

// --- Requests

using Message = http::request<http::string_body>;

bool is_token(std::string_view name) {
  static constexpr std::string_view kSpecials = "!#$%&'*+-.^_`|~";
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || kSpecials.find(c) != std::string_view::npos;
  });
}

bool is_field_value(std::string_view value) {
  // CR and LF would let a value start a header of its own (or a second request); other controls are
  // invalid in a field value too.
  return std::none_of(value.begin(), value.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return (byte < 0x20 && byte != '\t') || byte == 0x7f;
  });
}

/// Headers that frame the message or the connection: ours to write, or a caller could smuggle a second
/// request or desynchronize the keep-alive connection.
bool is_framing_header(std::string_view name) {
  static constexpr std::string_view kFraming[] = {"host",    "content-length", "transfer-encoding", "connection",
                                                  "keep-alive", "upgrade",     "te",                "trailer"};
  return std::any_of(std::begin(kFraming), std::end(kFraming), [name](std::string_view f) { return iequals(f, name); });
}

bool is_idempotent(http::verb method) {
  // RFC 9110 §9.2.2. POST is not: an OAuth token request repeated may spend a one-time authorization code.
  switch (method) {
    case http::verb::get:
    case http::verb::head:
    case http::verb::put:
    case http::verb::delete_:
    case http::verb::options:
      return true;
    default:
      return false;
  }
}

/// Why an exchange failed, and whether the request may go again on a fresh connection.
struct Failure {
  ClientError error;
  bool closed_before_answer = false;  // the peer closed (or reset) before a byte of the answer
  bool nothing_written = false;       // not a byte of the request left us
};

struct Reply {
  ClientResponse response;
  bool reusable = false;
};

bool closed_by_peer(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == asio::error::connection_aborted ||
         ec == asio::ssl::error::stream_truncated;
}

ClientError classify(const error_code& ec) {
  if (ec == beast::error::timeout) return ClientError::timeout;
  if (ec == asio::error::operation_aborted) return ClientError::cancelled;
  if (ec == http::error::body_limit) return ClientError::response_too_large;
  if (ec == http::error::header_limit) return ClientError::headers_too_large;
  if (closed_by_peer(ec) || ec == http::error::partial_message) return ClientError::connection_closed;
  if (ec.category() == http::make_error_code(http::error::bad_version).category()) {
    return ClientError::malformed_response;
  }
  if (ec.category() == asio::error::get_ssl_category()) return ClientError::tls_failed;
  return ClientError::connection_closed;
}

Failure failure(const error_code& ec, bool closed_before_answer, bool nothing_written) {
  Failure result{classify(ec)};
  result.closed_before_answer = closed_before_answer;
  result.nothing_written = nothing_written;
  return result;
}

struct Limits {
  std::size_t body;
  std::size_t header;
};

/// Writes the request and reads its answer on a connected stream.
template <typename Stream>
asio::awaitable<std::expected<Reply, Failure>> round_trip(Stream& stream, beast::flat_buffer& buffer,
                                                          const Message& message, Limits limits) {
  auto [write_error, written] = co_await http::async_write(stream, message, kAsTuple);
  if (write_error) co_return std::unexpected(failure(write_error, closed_by_peer(write_error), written == 0));
  const bool head = message.method() == http::verb::head;
  for (unsigned interim = 0;; ++interim) {
    http::response_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(limits.header, UINT32_MAX)));
    parser.body_limit(limits.body);
    if (head) parser.skip(true);
    auto [read_error, read] = co_await http::async_read(stream, buffer, parser, kAsTuple);
    if (read_error) {
      co_return std::unexpected(failure(read_error, closed_by_peer(read_error) && !parser.got_some(), false));
    }
    auto& answer = parser.get();
    const unsigned status = answer.result_int();
    if (status >= 100 && status < 200) {
      // We ask for no upgrade and send no Expect: a 101 is a broken peer; other 1xx precede the answer.
      if (status == 101 || interim + 1 >= kMaxInterimResponses) {
        co_return std::unexpected(Failure{ClientError::malformed_response});
      }
      continue;
    }
    Reply reply;
    // Reusable only when the answer's end is known without the connection's, and nothing unasked followed.
    reply.reusable = !answer.need_eof() && buffer.size() == 0;
    reply.response.status = status;
    reply.response.headers.reserve(static_cast<std::size_t>(std::distance(answer.begin(), answer.end())));
    for (const auto& field : answer) {
      ClientHeader header;
      header.name = std::string(text_of(field.name_string()));
      header.value = std::string(text_of(field.value()));
      reply.response.headers.push_back(std::move(header));
    }
    reply.response.body = std::move(answer.body());
    co_return reply;
  }
}

// --- Connections and their pools

struct Connection {
  std::optional<beast::tcp_stream> plain;
  std::optional<asio::ssl::stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;

  beast::tcp_stream& tcp() { return tls ? tls->next_layer() : *plain; }

  /// Whether an idle connection is still good: anything readable on it (end of stream, a reset, a TLS
  /// close_notify, or bytes nobody asked for) means it is not.
  bool still_open() {
    auto& socket = tcp().socket();
    if (!socket.is_open()) return false;
    pollfd descriptor{socket.native_handle(), POLLIN | POLLRDHUP, 0};
    return ::poll(&descriptor, 1, 0) == 0;
  }
};

struct IdleConnection {
  std::unique_ptr<Connection> connection;
  Clock::time_point since;
};

/// One client's idle connections on one io_context, by route (origin, and proxy if any).
struct ClientPools {
  std::weak_ptr<const void> owner;  // expired once the client is destroyed
  std::unordered_map<std::string, std::vector<IdleConnection>> idle;
};

/// The idle connections of every client on one io_context. Living in the io_context means a connection is
/// closed on the thread that runs it, and before the io_context's own services go away (a socket outliving
/// its io_context would be undefined behaviour). Touched only from that io_context's thread: see the rule
/// in http_client.hpp.
class PoolService final : public asio::execution_context::service {
 public:
  static inline asio::execution_context::id id;

  explicit PoolService(asio::execution_context& context) : asio::execution_context::service(context) {}

  ClientPools& pools_of(std::uint64_t client, const std::shared_ptr<const void>& owner) {
    // Clients destroyed since leave their idle connections here; they are closed now, on this thread.
    std::erase_if(clients_, [](const auto& entry) { return entry.second.owner.expired(); });
    auto [position, inserted] = clients_.try_emplace(client);
    if (inserted) position->second.owner = owner;
    return position->second;
  }

 private:
  void shutdown() override { clients_.clear(); }

  std::unordered_map<std::uint64_t, ClientPools> clients_;
};

std::atomic<std::uint64_t> next_client_id{1};

asio::awaitable<void> timer_sleep(milliseconds delay) {
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer timer(executor, delay);
  co_await timer.async_wait(kAsTuple);
}

double thread_random() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
}

std::string_view method_name(http::verb method) { return text_of(http::to_string(method)); }

long long elapsed_ms(Clock::time_point started) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - started).count();
}

}  // namespace

// --- Public helpers

std::string_view to_string(ClientError error) {
  switch (error) {
    case ClientError::invalid_url: return "invalid_url";
    case ClientError::unsupported_scheme: return "unsupported_scheme";
    case ClientError::invalid_request: return "invalid_request";
    case ClientError::resolve_failed: return "resolve_failed";
    case ClientError::connect_failed: return "connect_failed";
    case ClientError::tls_failed: return "tls_failed";
    case ClientError::timeout: return "timeout";
    case ClientError::response_too_large: return "response_too_large";
    case ClientError::headers_too_large: return "headers_too_large";
    case ClientError::malformed_response: return "malformed_response";
    case ClientError::connection_closed: return "connection_closed";
    case ClientError::proxy_failed: return "proxy_failed";
    case ClientError::cancelled: return "cancelled";
  }
  return "unknown";
}

std::optional<std::string_view> ClientResponse::header(std::string_view name) const {
  for (const auto& field : headers) {
    if (iequals(field.name, name)) return std::string_view(field.value);
  }
  return std::nullopt;
}

ProxySettings ProxySettings::from_environment() {
  ProxySettings settings;
  settings.https_proxy = environment("https_proxy", "HTTPS_PROXY");
  settings.http_proxy = environment("http_proxy", "HTTP_PROXY");
  settings.no_proxy = environment("no_proxy", "NO_PROXY");
  return settings;
}

bool no_proxy_matches(std::string_view no_proxy, std::string_view host_in, std::uint16_t port) {
  const std::string host = normalize_host(host_in);
  const auto host_address = ip_address(host);
  while (!no_proxy.empty()) {
    const auto comma = no_proxy.find(',');
    std::string entry = lowercase(trim(no_proxy.substr(0, comma)));
    no_proxy = comma == std::string_view::npos ? std::string_view{} : no_proxy.substr(comma + 1);
    if (entry.empty()) continue;
    if (entry == "*") return true;
    if (entry.find('/') != std::string::npos) {
      if (host_address && in_block(*host_address, entry)) return true;
      continue;
    }
    // host:port and [v6]:port carry a port; a bare IPv6 address has colons but no port.
    std::optional<std::uint16_t> entry_port;
    std::string_view name = entry;
    const auto colon = name.rfind(':');
    const bool bracketed = name.starts_with('[');
    if (colon != std::string_view::npos && (bracketed ? colon > name.find(']') : name.find(':') == colon)) {
      std::uint16_t value = 0;
      const auto digits = name.substr(colon + 1);
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
      if (ec != std::errc{} || end != digits.data() + digits.size()) continue;
      entry_port = value;
      name = name.substr(0, colon);
    }
    if (entry_port && *entry_port != port) continue;
    if (name.starts_with("*.")) name.remove_prefix(1);
    if (name.starts_with('.')) name.remove_prefix(1);  // ".example.com" and "example.com" mean the same
    const std::string normalized = normalize_host(name);
    if (normalized.empty()) continue;
    if (host_address) {
      const auto entry_address = ip_address(normalized);
      if (entry_address && *entry_address == *host_address) return true;
      continue;
    }
    if (host == normalized) return true;
    if (host.size() > normalized.size() && host.ends_with(normalized) &&
        host[host.size() - normalized.size() - 1] == '.') {
      return true;
    }
  }
  return false;
}

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                      std::chrono::system_clock::time_point now) {
  value = trim(value);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    std::uint64_t seconds = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec == std::errc::result_out_of_range || seconds > static_cast<std::uint64_t>(kRetryAfterCeiling.count())) {
      return kRetryAfterCeiling;
    }
    return std::chrono::seconds(seconds);
  }
  const auto parts = parse_http_date(value);
  if (!parts) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year(parts->year), std::chrono::month(parts->month),
                                         std::chrono::day(static_cast<unsigned>(parts->day))};
  if (!date.ok() || parts->hour > 23 || parts->minute > 59 || parts->second > 60) return std::nullopt;
  const auto when = std::chrono::sys_days(date) + std::chrono::hours(parts->hour) +
                    std::chrono::minutes(parts->minute) + std::chrono::seconds(parts->second);
  if (when <= now) return std::chrono::seconds(0);
  const auto wait = std::chrono::ceil<std::chrono::seconds>(when - now);
  return std::min(wait, kRetryAfterCeiling);
}

// --- The client

struct HttpClient::Impl {
  ClientOptions options;
  asio::ssl::context tls{asio::ssl::context::tls_client};
  std::optional<Proxy> http_proxy;
  std::optional<Proxy> https_proxy;
  std::string no_proxy;
  bool proxy_loopback = false;
  std::uint64_t id = next_client_id.fetch_add(1, std::memory_order_relaxed);
  std::shared_ptr<const void> alive = std::make_shared<char>();

  explicit Impl(ClientOptions client_options);

  const Proxy* proxy_for(const Target& target) const;
  ClientPools& pools(const asio::any_io_executor& executor);
  std::unique_ptr<Connection> take_idle(const asio::any_io_executor& executor, const std::string& key);
  void put_idle(const asio::any_io_executor& executor, const std::string& key, std::unique_ptr<Connection> connection);
  std::expected<Message, ClientError> build_message(ClientRequest& request, const Target& target,
                                                    const Proxy* proxy) const;
  asio::awaitable<std::expected<std::vector<tcp::endpoint>, ClientError>> resolve(const std::string& host,
                                                                                   std::uint16_t port);
  asio::awaitable<std::expected<void, ClientError>> open_tunnel(beast::tcp_stream& stream, const Target& target,
                                                                const Proxy& proxy);
  asio::awaitable<std::expected<std::unique_ptr<Connection>, ClientError>> open(const Target& target,
                                                                                const Proxy* proxy,
                                                                                Clock::time_point deadline);
  asio::awaitable<std::expected<ClientResponse, ClientError>> exchange(const Target& target, const Proxy* proxy,
                                                                       const std::string& key, const Message& message,
                                                                       bool idempotent, Clock::time_point deadline);
};

HttpClient::Impl::Impl(ClientOptions client_options) : options(std::move(client_options)) {
  if (!options.sleep) options.sleep = timer_sleep;
  if (!options.random) options.random = thread_random;
  if (options.max_attempts == 0) options.max_attempts = 1;

  // TLS 1.2 and later only: the older versions have known breaks, and every identity provider and
  // Microsoft endpoint refuses them anyway.
  tls.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                  asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
  SSL_CTX_set_min_proto_version(tls.native_handle(), TLS1_2_VERSION);
  tls.set_verify_mode(asio::ssl::verify_peer);
  error_code ec;
  tls.set_default_verify_paths(ec);
  if (ec) spdlog::warn("http client: the system CA store could not be loaded: {}", ec.message());
  if (!options.extra_ca_file.empty()) {
    tls.load_verify_file(options.extra_ca_file, ec);
    if (ec) {
      throw std::runtime_error("the extra CA file '" + options.extra_ca_file + "' could not be loaded: " + ec.message());
    }
  }

  const ProxySettings settings = options.proxy ? *options.proxy : ProxySettings::from_environment();
  http_proxy = parse_proxy(settings.http_proxy, "HTTP_PROXY");
  https_proxy = parse_proxy(settings.https_proxy, "HTTPS_PROXY");
  no_proxy = settings.no_proxy;
  proxy_loopback = settings.proxy_loopback;
}

const Proxy* HttpClient::Impl::proxy_for(const Target& target) const {
  const auto& proxy = target.tls ? https_proxy : http_proxy;
  if (!proxy) return nullptr;
  // Loopback goes direct: a proxy on another host cannot reach our loopback, and the development identity
  // provider lives there. Only a proxy configured with proxy_loopback sees it.
  if (!proxy_loopback && is_loopback(target.host)) return nullptr;
  if (no_proxy_matches(no_proxy, target.host, target.port)) return nullptr;
  return &*proxy;
}

ClientPools& HttpClient::Impl::pools(const asio::any_io_executor& executor) {
  // The io_context of the calling coroutine: its pools are reached through Asio's service registry (the
  // same lookup every socket construction makes), so no lock of ours sits on the path.
  auto& context = asio::query(executor, asio::execution::context);
  return asio::use_service<PoolService>(context).pools_of(id, alive);
}

std::unique_ptr<Connection> HttpClient::Impl::take_idle(const asio::any_io_executor& executor,
                                                        const std::string& key) {
  auto& idle_by_route = pools(executor).idle;
  auto found = idle_by_route.find(key);
  if (found == idle_by_route.end()) return nullptr;
  auto& idle = found->second;
  const auto now = Clock::now();
  // Most recently used first: it is the likeliest to be open, and the older ones age out.
  while (!idle.empty()) {
    IdleConnection entry = std::move(idle.back());
    idle.pop_back();
    if (now - entry.since < options.idle_lifetime && entry.connection->still_open()) {
      return std::move(entry.connection);
    }
  }
  return nullptr;
}

void HttpClient::Impl::put_idle(const asio::any_io_executor& executor, const std::string& key,
                                std::unique_ptr<Connection> connection) {
  if (options.max_idle_per_origin == 0) return;
  auto& idle = pools(executor).idle[key];
  const auto now = Clock::now();
  std::erase_if(idle, [&](const IdleConnection& entry) { return now - entry.since >= options.idle_lifetime; });
  if (idle.size() >= options.max_idle_per_origin) idle.erase(idle.begin());  // the oldest goes
  IdleConnection entry;
  entry.connection = std::move(connection);
  entry.since = now;
  idle.push_back(std::move(entry));
}

std::expected<Message, ClientError> HttpClient::Impl::build_message(ClientRequest& request, const Target& target,
                                                                    const Proxy* proxy) const {
  if (request.method == http::verb::unknown) return std::unexpected(ClientError::invalid_request);
  // Plain http through a proxy is an absolute-form request to it (RFC 9112 §3.2.2); https goes through a
  // CONNECT tunnel and the request inside is the origin's.
  const bool absolute_form = proxy != nullptr && !target.tls;
  Message message;
  message.method(request.method);
  message.target(absolute_form ? "http://" + target.authority + target.target : target.target);
  message.version(11);
  message.set(http::field::host, target.authority);
  bool user_agent = false;
  for (const auto& header : request.headers) {
    if (!is_token(header.name) || !is_field_value(header.value) || is_framing_header(header.name)) {
      return std::unexpected(ClientError::invalid_request);
    }
    user_agent = user_agent || iequals(header.name, "user-agent");
    message.insert(header.name, header.value);
  }
  if (!user_agent && !options.user_agent.empty()) message.set(http::field::user_agent, options.user_agent);
  if (absolute_form && !proxy->authorization.empty()) {
    message.set(http::field::proxy_authorization, proxy->authorization);
  }
  message.body() = std::move(request.body);
  message.prepare_payload();
  return message;
}

asio::awaitable<std::expected<std::vector<tcp::endpoint>, ClientError>> HttpClient::Impl::resolve(
    const std::string& host, std::uint16_t port) {
  std::vector<tcp::endpoint> endpoints;
  if (const auto address = ip_address(host)) {
    endpoints.emplace_back(*address, port);
    co_return endpoints;
  }
  // TODO: getaddrinfo cannot be interrupted, so a hung DNS server holds the request past its timeout (up to
  // the resolver's own, typically 5 s per attempt); the deadline is checked when it answers.
  auto executor = co_await asio::this_coro::executor;
  tcp::resolver resolver(executor);
  const std::string service = std::to_string(port);
  auto [ec, results] = co_await resolver.async_resolve(host, service, tcp::resolver::numeric_service, kAsTuple);
  if (ec == asio::error::operation_aborted) co_return std::unexpected(ClientError::cancelled);
  if (ec || results.empty()) {
    spdlog::debug("http client: {} did not resolve: {}", host, ec.message());
    co_return std::unexpected(ClientError::resolve_failed);
  }
  for (const auto& entry : results) endpoints.push_back(entry.endpoint());
  co_return endpoints;
}

asio::awaitable<std::expected<void, ClientError>> HttpClient::Impl::open_tunnel(beast::tcp_stream& stream,
                                                                                const Target& target,
                                                                                const Proxy& proxy) {
  http::request<http::empty_body> connect;
  connect.method(http::verb::connect);
  connect.target(target.authority_port);
  connect.version(11);
  connect.set(http::field::host, target.authority_port);
  if (!proxy.authorization.empty()) connect.set(http::field::proxy_authorization, proxy.authorization);
  auto [write_error, written] = co_await http::async_write(stream, connect, kAsTuple);
  if (write_error) {
    const auto error = classify(write_error);
    co_return std::unexpected(error == ClientError::timeout || error == ClientError::cancelled
                                  ? error
                                  : ClientError::proxy_failed);
  }
  beast::flat_buffer buffer;
  http::response_parser<http::empty_body> parser;
  parser.skip(true);  // a 2xx to CONNECT has no body: the tunnel starts after the header
  parser.header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(options.response_header_limit, UINT32_MAX)));
  auto [read_error, read] = co_await http::async_read(stream, buffer, parser, kAsTuple);
  if (read_error) {
    const auto error = classify(read_error);
    co_return std::unexpected(error == ClientError::timeout || error == ClientError::cancelled
                                  ? error
                                  : ClientError::proxy_failed);
  }
  const unsigned status = parser.get().result_int();
  if (status / 100 != 2) {
    spdlog::debug("http client: proxy {} answered CONNECT {} with {}", proxy.name, target.authority_port, status);
    co_return std::unexpected(ClientError::proxy_failed);
  }
  // Bytes after the proxy's answer, before we said anything in the tunnel, came from neither the origin nor
  // a proxy that behaves: refused rather than fed to TLS.
  if (buffer.size() != 0) co_return std::unexpected(ClientError::proxy_failed);
  co_return std::expected<void, ClientError>{};
}

asio::awaitable<std::expected<std::unique_ptr<Connection>, ClientError>> HttpClient::Impl::open(
    const Target& target, const Proxy* proxy, Clock::time_point deadline) {
  auto executor = co_await asio::this_coro::executor;
  const bool via_proxy = proxy != nullptr;
  const std::string& host = via_proxy ? proxy->host : target.host;
  const std::uint16_t port = via_proxy ? proxy->port : target.port;

  auto endpoints = co_await resolve(host, port);
  if (!endpoints) {
    const bool proxy_error = via_proxy && endpoints.error() != ClientError::cancelled;
    co_return std::unexpected(proxy_error ? ClientError::proxy_failed : endpoints.error());
  }
  if (Clock::now() >= deadline) co_return std::unexpected(ClientError::timeout);

  auto connection = std::make_unique<Connection>();
  connection->plain.emplace(executor);
  const auto connect_deadline = std::min(deadline, Clock::now() + options.connect_timeout);
  connection->plain->expires_at(connect_deadline);
  auto [connect_error, endpoint] = co_await connection->plain->async_connect(*endpoints, kAsTuple);
  if (connect_error) {
    if (connect_error == asio::error::operation_aborted) co_return std::unexpected(ClientError::cancelled);
    // The total timeout ran out first: that is the caller's timeout, not the host's fault.
    if (connect_error == beast::error::timeout && connect_deadline == deadline) {
      co_return std::unexpected(ClientError::timeout);
    }
    spdlog::debug("http client: connecting to {}:{} failed: {}", host, port, connect_error.message());
    co_return std::unexpected(via_proxy ? ClientError::proxy_failed : ClientError::connect_failed);
  }
  error_code ignored;
  connection->plain->socket().set_option(tcp::no_delay(true), ignored);
  connection->plain->expires_at(deadline);

  if (via_proxy && target.tls) {
    auto tunnel = co_await open_tunnel(*connection->plain, target, *proxy);
    if (!tunnel) co_return std::unexpected(tunnel.error());
  }
  if (target.tls) {
    connection->tls.emplace(std::move(*connection->plain), tls);
    connection->plain.reset();
    auto& stream = *connection->tls;
    stream.next_layer().expires_at(deadline);
    // SNI names the host for virtual hosting; it must not carry an IP address (RFC 6066 §3).
    if (!target.ip_literal && SSL_set_tlsext_host_name(stream.native_handle(), target.host.c_str()) != 1) {
      co_return std::unexpected(ClientError::tls_failed);
    }
    // The certificate must name the host we asked for (RFC 6125 rules, IP addresses against iPAddress):
    // a chain that verifies proves only that some host owns it.
    stream.set_verify_mode(asio::ssl::verify_peer);
    stream.set_verify_callback(asio::ssl::host_name_verification(target.host));
    auto [handshake_error] = co_await stream.async_handshake(asio::ssl::stream_base::client, kAsTuple);
    if (handshake_error) {
      const auto error = classify(handshake_error);
      if (error == ClientError::timeout || error == ClientError::cancelled) co_return std::unexpected(error);
      spdlog::debug("http client: TLS with {} failed: {}", target.authority_port, handshake_error.message());
      co_return std::unexpected(ClientError::tls_failed);
    }
  }
  co_return connection;
}

asio::awaitable<std::expected<ClientResponse, ClientError>> HttpClient::Impl::exchange(
    const Target& target, const Proxy* proxy, const std::string& key, const Message& message, bool idempotent,
    Clock::time_point deadline) {
  auto executor = co_await asio::this_coro::executor;
  const Limits limits{options.response_body_limit, options.response_header_limit};
  bool fresh_only = false;
  for (int round = 0; round < 2; ++round) {
    std::unique_ptr<Connection> connection;
    if (!fresh_only) connection = take_idle(executor, key);
    const bool reused = connection != nullptr;
    if (!reused) {
      auto opened = co_await open(target, proxy, deadline);
      if (!opened) co_return std::unexpected(opened.error());
      connection = std::move(*opened);
    }
    connection->tcp().expires_at(deadline);
    std::expected<Reply, Failure> outcome;
    if (connection->tls) {
      outcome = co_await round_trip(*connection->tls, connection->buffer, message, limits);
    } else {
      outcome = co_await round_trip(*connection->plain, connection->buffer, message, limits);
    }
    if (outcome) {
      connection->tcp().expires_never();
      if (outcome->reusable) put_idle(executor, key, std::move(connection));
      co_return std::move(outcome->response);
    }
    // Any failure leaves the connection unframed (or timed out): it is dropped here, never pooled.
    const Failure failed = outcome.error();
    // A kept-alive connection the server closed while it sat idle: once, the request goes again on a fresh
    // connection. Safe for any request when none of it was written; for idempotent ones also when the
    // server hung up without a byte of answer (it may have read the request; repeating it is harmless). A
    // POST that may have been processed is never repeated: a token request could spend an authorization code.
    if (reused && failed.closed_before_answer && (idempotent || failed.nothing_written)) {
      spdlog::debug("http client: kept-alive connection to {} was closed; retrying on a fresh one", target.authority);
      fresh_only = true;
      continue;
    }
    co_return std::unexpected(failed.error);
  }
  co_return std::unexpected(ClientError::connection_closed);
}

HttpClient::HttpClient(ClientOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

HttpClient::~HttpClient() = default;

asio::awaitable<std::expected<ClientResponse, ClientError>> HttpClient::send(ClientRequest request) {
  Impl& impl = *impl_;
  const auto started = Clock::now();
  const http::verb method = request.method;
  auto target = parse_target(request.url);
  if (!target) {
    // Not even the host is logged: the URL did not parse, so no part of it is known to be harmless.
    spdlog::debug("http client: {} refused: {}", method_name(method), to_string(target.error()));
    co_return std::unexpected(target.error());
  }
  // Logs name the method, host, path, outcome and time; never the query, a header value or a body.
  const auto log_error = [&](ClientError error) {
    spdlog::debug("http client: {} {}{} failed: {} after {} ms", method_name(method), target->authority,
                  target->path, to_string(error), elapsed_ms(started));
  };
  const Proxy* proxy = impl.proxy_for(*target);
  if (proxy != nullptr && !proxy->usable) {
    log_error(ClientError::proxy_failed);
    co_return std::unexpected(ClientError::proxy_failed);
  }
  auto message = impl.build_message(request, *target, proxy);
  if (!message) {
    log_error(message.error());
    co_return std::unexpected(message.error());
  }
  const auto deadline = started + request.timeout.value_or(impl.options.total_timeout);
  const bool idempotent = is_idempotent(method);
  const std::string key = proxy != nullptr ? target->origin + " via " + proxy->name : target->origin;

  milliseconds waited{0};
  for (unsigned attempt = 1;; ++attempt) {
    auto result = co_await impl.exchange(*target, proxy, key, *message, idempotent, deadline);
    if (!result) {
      log_error(result.error());
      co_return result;
    }
    const unsigned status = result->status;
    // 429 and 503 say "later": an idempotent request may go again, within the attempt and wait caps and the
    // request's deadline. Anything else, and any POST, goes back to the caller as it is.
    if ((status == 429 || status == 503) && idempotent && attempt < impl.options.max_attempts) {
      milliseconds asked;
      milliseconds jitter;
      const auto retry_after = result->header("retry-after");
      const auto seconds = retry_after ? parse_retry_after(*retry_after, std::chrono::system_clock::now())
                                       : std::optional<std::chrono::seconds>();
      if (seconds) {
        // The server named the moment; a little jitter past it keeps clients throttled together from
        // coming back together.
        asked = std::chrono::duration_cast<milliseconds>(*seconds);
        jitter = milliseconds(static_cast<milliseconds::rep>(impl.options.random() * static_cast<double>(asked.count()) / 10));
      } else {
        // Exponential backoff with equal jitter: half of it fixed, half random.
        const auto backoff = impl.options.retry_base_delay * (1U << std::min(attempt - 1, 16U));
        asked = backoff / 2;
        jitter = milliseconds(static_cast<milliseconds::rep>(impl.options.random() * static_cast<double>(backoff.count()) / 2));
      }
      const auto allowance = impl.options.max_retry_wait - waited;
      const auto delay = std::min(asked + jitter, allowance);
      if (asked <= allowance && Clock::now() + delay < deadline) {
        spdlog::debug("http client: {} {}{} answered {}; attempt {} in {} ms", method_name(method),
                      target->authority, target->path, status, attempt + 1, delay.count());
        co_await impl.options.sleep(delay);
        waited += delay;
        const auto state = co_await asio::this_coro::cancellation_state;
        if (state.cancelled() != asio::cancellation_type::none) {
          log_error(ClientError::cancelled);
          co_return std::unexpected(ClientError::cancelled);
        }
        continue;
      }
    }
    spdlog::debug("http client: {} {}{} {} in {} ms", method_name(method), target->authority, target->path, status,
                  elapsed_ms(started));
    co_return result;
  }
}

}  // namespace deputy::net
