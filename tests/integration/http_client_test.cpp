// The outbound HTTP client against scripted peers on loopback: round trips, keep-alive and its failure
// modes, retries and their limits, size limits, timeouts, TLS verification, proxies, threads, and logs
// that never carry a secret. Waits between retries are recorded, not slept: no test depends on timing.
#include "deputy/net/http_client.hpp"
#include "http_client_peers.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <sstream>

namespace deputy::testing {
namespace {

using net::ClientError;
using net::ClientOptions;
using net::ClientRequest;
using net::ClientResponse;
using net::HttpClient;
using net::ProxySettings;
using std::chrono::milliseconds;
using Result = std::expected<ClientResponse, ClientError>;

/// Upper bound on any one io_context run in these tests: a bug hangs a test for this long, not forever.
constexpr std::chrono::seconds kTestBound{20};

Reply answer(std::string body, http::status status = http::status::ok) {
  Reply reply;
  reply.status = status;
  reply.body = std::move(body);
  return reply;
}

Reply echo(const SeenRequest& seen) {
  return answer(std::string(http::to_string(seen.method)) + " " + seen.target + " " + seen.body);
}

/// Waits between attempts are recorded here instead of slept.
struct Sleeps {
  std::vector<milliseconds> delays;
};

ClientOptions options_recording(Sleeps& sleeps) {
  ClientOptions options;
  options.proxy = ProxySettings{};  // the test machine's environment plays no part
  options.sleep = [&sleeps](milliseconds delay) -> asio::awaitable<void> {
    sleeps.delays.push_back(delay);
    co_return;
  };
  options.random = [] { return 0.5; };
  return options;
}

ClientOptions plain_options() {
  ClientOptions options;
  options.proxy = ProxySettings{};
  return options;
}

ClientRequest get(std::string url) {
  ClientRequest request;
  request.url = std::move(url);
  return request;
}

ClientRequest post(std::string url, std::string body) {
  ClientRequest request;
  request.method = http::verb::post;
  request.url = std::move(url);
  request.body = std::move(body);
  request.headers.push_back({"Content-Type", "application/x-www-form-urlencoded"});
  return request;
}

std::string http_url(const ScriptedOrigin& origin, std::string_view path = "/") {
  return "http://127.0.0.1:" + std::to_string(origin.port()) + std::string(path);
}

class HttpClientTest : public ::testing::Test {
 protected:
  /// Sends one request from a coroutine on this test's io_context (whose pools persist between calls).
  Result send(HttpClient& client, ClientRequest request) {
    std::optional<Result> result;
    asio::co_spawn(
        context_,
        [&client, &result, request = std::move(request)]() mutable -> asio::awaitable<void> {
          result = co_await client.send(std::move(request));
        },
        asio::detached);
    context_.run_for(kTestBound);
    context_.restart();
    if (!result) {
      ADD_FAILURE() << "the request did not complete within the test bound";
      return std::unexpected(ClientError::timeout);
    }
    return std::move(*result);
  }

  asio::io_context context_;
};

// --- Round trips and keep-alive

TEST_F(HttpClientTest, GetAndPostRoundTrip) {
  ScriptedOrigin origin([](const SeenRequest& seen) {
    Reply reply = echo(seen);
    reply.headers.emplace_back("X-Seen-Type", std::string(seen.headers[http::field::content_type]));
    return reply;
  });
  HttpClient client(plain_options());

  auto got = send(client, get(http_url(origin, "/items?a=1")));
  ASSERT_TRUE(got) << to_string(got.error());
  EXPECT_EQ(got->status, 200U);
  EXPECT_EQ(got->body, "GET /items?a=1 ");
  EXPECT_EQ(got->header("content-length"), "15");  // case-insensitive lookup

  auto posted = send(client, post(http_url(origin, "/token"), "grant_type=client_credentials"));
  ASSERT_TRUE(posted) << to_string(posted.error());
  EXPECT_EQ(posted->status, 200U);
  EXPECT_EQ(posted->body, "POST /token grant_type=client_credentials");
  EXPECT_EQ(posted->header("X-Seen-Type"), "application/x-www-form-urlencoded");

  const auto seen = origin.requests();
  ASSERT_EQ(seen.size(), 2U);
  EXPECT_EQ(seen[0].headers[http::field::host], "127.0.0.1:" + std::to_string(origin.port()));
  EXPECT_EQ(seen[0].headers[http::field::user_agent], "deputy");
  EXPECT_EQ(seen[1].headers[http::field::content_length], "29");
}

TEST_F(HttpClientTest, SequentialRequestsShareOneConnection) {
  ScriptedOrigin origin(echo);
  HttpClient client(plain_options());
  for (int i = 0; i < 3; ++i) {
    auto response = send(client, get(http_url(origin)));
    ASSERT_TRUE(response) << to_string(response.error());
  }
  EXPECT_EQ(origin.connections(), 1U);
  EXPECT_EQ(origin.requests().back().on_connection, 3U);
}

TEST_F(HttpClientTest, HeadAndNoContentAnswersKeepTheConnection) {
  ScriptedOrigin origin([](const SeenRequest& seen) {
    if (seen.method == http::verb::head) {
      Reply reply;
      reply.headers.emplace_back("Content-Length", "1234");  // what a GET would carry; no body follows
      return reply;
    }
    return answer("", http::status::no_content);
  });
  HttpClient client(plain_options());
  ClientRequest head = get(http_url(origin));
  head.method = http::verb::head;
  auto first = send(client, head);
  ASSERT_TRUE(first) << to_string(first.error());
  EXPECT_EQ(first->status, 200U);
  EXPECT_TRUE(first->body.empty());
  auto second = send(client, get(http_url(origin)));
  ASSERT_TRUE(second) << to_string(second.error());
  EXPECT_EQ(second->status, 204U);
  EXPECT_EQ(origin.connections(), 1U);
}

TEST_F(HttpClientTest, ConnectionClosedByTheServerWhileIdleIsReplaced) {
  ScriptedOrigin origin([](const SeenRequest& seen) {
    Reply reply = echo(seen);
    reply.then = Reply::Then::answer_then_close;  // keep-alive said, then closed anyway
    return reply;
  });
  HttpClient client(plain_options());
  for (int i = 0; i < 2; ++i) {
    auto response = send(client, get(http_url(origin)));
    ASSERT_TRUE(response) << to_string(response.error());
    EXPECT_EQ(response->status, 200U);
  }
  EXPECT_EQ(origin.connections(), 2U);
}

TEST_F(HttpClientTest, GetDroppedOnAReusedConnectionIsRetriedOnAFreshOne) {
  // The second request on any connection is read and then dropped without an answer: what a server
  // closing an idle connection at the moment our request arrives looks like.
  ScriptedOrigin origin([](const SeenRequest& seen) {
    Reply reply = echo(seen);
    if (seen.on_connection == 2) reply.then = Reply::Then::drop;
    return reply;
  });
  HttpClient client(plain_options());
  ASSERT_TRUE(send(client, get(http_url(origin, "/one"))));
  auto second = send(client, get(http_url(origin, "/two")));
  ASSERT_TRUE(second) << to_string(second.error());
  EXPECT_EQ(second->body, "GET /two ");
  EXPECT_EQ(origin.connections(), 2U);
  EXPECT_EQ(origin.requests().size(), 3U);
}

TEST_F(HttpClientTest, PostDroppedOnAReusedConnectionIsNotRetried) {
  ScriptedOrigin origin([](const SeenRequest& seen) {
    Reply reply = echo(seen);
    if (seen.on_connection == 2) reply.then = Reply::Then::drop;
    return reply;
  });
  HttpClient client(plain_options());
  ASSERT_TRUE(send(client, post(http_url(origin), "code=first")));
  // The server read the second POST before hanging up: it may have acted on it, so it is not repeated
  // (an authorization code must not be spent twice).
  auto second = send(client, post(http_url(origin), "code=second"));
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error(), ClientError::connection_closed);
  EXPECT_EQ(origin.requests().size(), 2U);
}

TEST_F(HttpClientTest, DroppedRequestOnAFreshConnectionIsNotRetried) {
  ScriptedOrigin origin([](const SeenRequest&) {
    Reply reply;
    reply.then = Reply::Then::drop;
    return reply;
  });
  HttpClient client(plain_options());
  auto response = send(client, get(http_url(origin)));
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error(), ClientError::connection_closed);
  EXPECT_EQ(origin.requests().size(), 1U);
}

// --- Retries on 429 and 503

TEST_F(HttpClientTest, GetIsRetriedAfterRetryAfterZero) {
  ScriptedOrigin origin([](const SeenRequest& seen) {
    if (seen.connection == 1 && seen.on_connection == 1) {
      Reply reply = answer("busy", http::status::service_unavailable);
      reply.headers.emplace_back("Retry-After", "0");
      return reply;
    }
    return answer("done");
  });
  Sleeps sleeps;
  HttpClient client(options_recording(sleeps));
  auto response = send(client, get(http_url(origin)));
  ASSERT_TRUE(response) << to_string(response.error());
  EXPECT_EQ(response->status, 200U);
  EXPECT_EQ(response->body, "done");
  EXPECT_EQ(origin.requests().size(), 2U);
  ASSERT_EQ(sleeps.delays.size(), 1U);
  EXPECT_EQ(sleeps.delays[0], milliseconds(0));
  EXPECT_EQ(origin.connections(), 1U);  // the 503 left the connection usable
}

TEST_F(HttpClientTest, PostIsNeverRetriedOn503) {
  ScriptedOrigin origin([](const SeenRequest&) {
    Reply reply = answer("busy", http::status::service_unavailable);
    reply.headers.emplace_back("Retry-After", "0");
    return reply;
  });
  Sleeps sleeps;
  HttpClient client(options_recording(sleeps));
  auto response = send(client, post(http_url(origin, "/token"), "grant_type=authorization_code&code=x"));
  ASSERT_TRUE(response) << to_string(response.error());
  EXPECT_EQ(response->status, 503U);
  EXPECT_EQ(origin.requests().size(), 1U);
  EXPECT_TRUE(sleeps.delays.empty());
}

TEST_F(HttpClientTest, RetryAfterBeyondTheCapReturnsTheAnswer) {
  ScriptedOrigin origin([](const SeenRequest& seen) {
    Reply reply = answer("throttled", http::status::too_many_requests);
    // The first asks for an hour in seconds, the second names a date far ahead.
    reply.headers.emplace_back("Retry-After", seen.target == "/seconds" ? "3600" : "Fri, 31 Dec 2100 23:59:59 GMT");
    return reply;
  });
  Sleeps sleeps;
  HttpClient client(options_recording(sleeps));
  for (const char* path : {"/seconds", "/date"}) {
    auto response = send(client, get(http_url(origin, path)));
    ASSERT_TRUE(response) << to_string(response.error());
    EXPECT_EQ(response->status, 429U);
    EXPECT_EQ(response->header("Retry-After").has_value(), true);
  }
  EXPECT_EQ(origin.requests().size(), 2U);
  EXPECT_TRUE(sleeps.delays.empty());
}

TEST_F(HttpClientTest, RetriesAreBoundedAndBackOffWithJitter) {
  ScriptedOrigin origin([](const SeenRequest&) { return answer("busy", http::status::service_unavailable); });
  Sleeps sleeps;
  ClientOptions options = options_recording(sleeps);
  options.retry_base_delay = milliseconds(100);
  HttpClient client(options);
  auto response = send(client, get(http_url(origin)));
  ASSERT_TRUE(response) << to_string(response.error());
  EXPECT_EQ(response->status, 503U);
  EXPECT_EQ(origin.requests().size(), net::kDefaultMaxAttempts);
  // No Retry-After: half the doubling backoff fixed, half random (the test's random is 0.5).
  ASSERT_EQ(sleeps.delays.size(), net::kDefaultMaxAttempts - 1);
  EXPECT_EQ(sleeps.delays[0], milliseconds(50 + 25));
  EXPECT_EQ(sleeps.delays[1], milliseconds(100 + 50));
}

TEST_F(HttpClientTest, RetryWaitsStopAtTheTotalCap) {
  ScriptedOrigin origin([](const SeenRequest&) {
    Reply reply = answer("busy", http::status::service_unavailable);
    reply.headers.emplace_back("Retry-After", "3");
    return reply;
  });
  Sleeps sleeps;
  ClientOptions options = options_recording(sleeps);
  options.max_attempts = 5;
  options.max_retry_wait = std::chrono::seconds(7);
  options.random = [] { return 0.0; };
  HttpClient client(options);
  auto response = send(client, get(http_url(origin)));
  ASSERT_TRUE(response) << to_string(response.error());
  EXPECT_EQ(response->status, 503U);
  // 3 s + 3 s fit in 7 s; a third 3 s would not, so the third answer is returned.
  EXPECT_EQ(sleeps.delays, (std::vector<milliseconds>{milliseconds(3000), milliseconds(3000)}));
  EXPECT_EQ(origin.requests().size(), 3U);
}

// --- Limits and failures

TEST_F(HttpClientTest, ResponseOverTheLimitFailsAndTheClientGoesOn) {
  ScriptedOrigin origin([](const SeenRequest& seen) {
    Reply reply = answer(seen.target == "/small" ? "ok" : std::string(4096, 'x'));
    reply.chunked = seen.target == "/chunked";
    return reply;
  });
  ClientOptions options = plain_options();
  options.response_body_limit = 1024;
  HttpClient client(options);
  for (const char* path : {"/declared", "/chunked"}) {
    auto big = send(client, get(http_url(origin, path)));
    ASSERT_FALSE(big) << path;
    EXPECT_EQ(big.error(), ClientError::response_too_large) << path;
  }
  auto small = send(client, get(http_url(origin, "/small")));
  ASSERT_TRUE(small) << to_string(small.error());
  EXPECT_EQ(small->body, "ok");
}

TEST_F(HttpClientTest, HeadersOverTheLimitFail) {
  ScriptedOrigin origin([](const SeenRequest&) {
    Reply reply = answer("ok");
    reply.headers.emplace_back("X-Padding", std::string(8192, 'p'));
    return reply;
  });
  ClientOptions options = plain_options();
  options.response_header_limit = 4096;
  HttpClient client(options);
  auto response = send(client, get(http_url(origin)));
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error(), ClientError::headers_too_large);
}

TEST_F(HttpClientTest, GarbageIsAMalformedResponse) {
  ScriptedOrigin origin([](const SeenRequest&) {
    Reply reply;
    reply.body = "SSH-2.0-OpenSSH_9.2\r\n\r\n";
    reply.then = Reply::Then::raw;
    return reply;
  });
  HttpClient client(plain_options());
  auto response = send(client, get(http_url(origin)));
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error(), ClientError::malformed_response);
}

TEST_F(HttpClientTest, ClosedPortIsConnectFailed) {
  std::uint16_t port = 0;
  {
    tcp::acceptor probe(context_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = probe.local_endpoint().port();
  }  // closed again: nothing listens there now
  HttpClient client(plain_options());
  auto response = send(client, get("http://127.0.0.1:" + std::to_string(port) + "/"));
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error(), ClientError::connect_failed);
}

TEST_F(HttpClientTest, UnresolvableHostIsResolveFailed) {
  HttpClient client(plain_options());
  auto response = send(client, get("http://deputy-test.invalid/"));  // .invalid never resolves (RFC 6761)
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error(), ClientError::resolve_failed);
}

TEST_F(HttpClientTest, SilentServerTimesOutAndItsConnectionIsDropped) {
  ScriptedOrigin origin([](const SeenRequest& seen) {
    if (seen.target == "/silent") {
      Reply reply;
      reply.then = Reply::Then::hang;
      return reply;
    }
    return echo(seen);
  });
  HttpClient client(plain_options());
  ASSERT_TRUE(send(client, get(http_url(origin, "/warm"))));  // leaves a pooled connection
  ClientRequest request = get(http_url(origin, "/silent"));
  request.timeout = milliseconds(200);
  auto response = send(client, request);
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error(), ClientError::timeout);
  auto after = send(client, get(http_url(origin, "/after")));
  ASSERT_TRUE(after) << to_string(after.error());
  EXPECT_EQ(origin.connections(), 2U);  // the timed-out connection was not reused
}

TEST_F(HttpClientTest, CancellationEndsTheRequest) {
  ScriptedOrigin origin([](const SeenRequest&) {
    Reply reply;
    reply.then = Reply::Then::hang;
    return reply;
  });
  HttpClient client(plain_options());
  asio::cancellation_signal signal;
  std::optional<Result> result;
  asio::co_spawn(
      context_,
      [&]() -> asio::awaitable<void> { result = co_await client.send(get(http_url(origin))); },
      asio::bind_cancellation_slot(signal.slot(), asio::detached));
  for (int i = 0; i < 2000 && origin.requests().empty(); ++i) context_.run_for(milliseconds(5));
  ASSERT_EQ(origin.requests().size(), 1U);
  signal.emit(asio::cancellation_type::terminal);
  context_.run_for(kTestBound);
  ASSERT_TRUE(result);
  ASSERT_FALSE(*result);
  EXPECT_EQ(result->error(), ClientError::cancelled);
}

TEST_F(HttpClientTest, InvalidUrlsAreRefused) {
  HttpClient client(plain_options());
  const std::pair<const char*, ClientError> cases[] = {
      {"not a url", ClientError::invalid_url},
      {"http://", ClientError::invalid_url},
      {"http:///path", ClientError::invalid_url},
      {"http://user:secret@example.com/", ClientError::invalid_url},
      {"http://example.com:99999/", ClientError::invalid_url},
      {"http://ex%61mple.com/", ClientError::invalid_url},
      {"ftp://example.com/file", ClientError::unsupported_scheme},
      {"file:///etc/passwd", ClientError::unsupported_scheme},
  };
  for (const auto& [url, error] : cases) {
    auto response = send(client, get(url));
    ASSERT_FALSE(response) << url;
    EXPECT_EQ(response.error(), error) << url << ": " << to_string(response.error());
  }
}

TEST_F(HttpClientTest, HeadersThatCouldSplitOrReframeTheRequestAreRefused) {
  ScriptedOrigin origin(echo);
  HttpClient client(plain_options());
  const std::pair<const char*, const char*> cases[] = {
      {"X-Injected", "a\r\nX-Evil: 1"}, {"X-Bare-Lf", "a\nb"},       {"Bad Name", "v"},
      {"", "v"},                        {"Content-Length", "5"},     {"Transfer-Encoding", "chunked"},
      {"Host", "elsewhere.example"},    {"connection", "upgrade"},
  };
  for (const auto& [name, value] : cases) {
    ClientRequest request = get(http_url(origin));
    request.headers.push_back({name, value});
    auto response = send(client, request);
    ASSERT_FALSE(response) << name;
    EXPECT_EQ(response.error(), ClientError::invalid_request) << name;
  }
  EXPECT_TRUE(origin.requests().empty());
}

// --- TLS

class HttpClientTlsTest : public HttpClientTest {
 protected:
  static void SetUpTestSuite() { pki_ = std::make_unique<TestPki>(); }
  static void TearDownTestSuite() { pki_.reset(); }

  static ClientOptions trusting() {
    ClientOptions options = plain_options();
    options.extra_ca_file = pki_->ca();
    return options;
  }

  static std::unique_ptr<TestPki> pki_;
};

std::unique_ptr<TestPki> HttpClientTlsTest::pki_;

TEST_F(HttpClientTlsTest, TrustedThroughTheExtraCaFile) {
  ScriptedOrigin origin(echo, pki_->certificate("localhost"), pki_->key("localhost"));
  HttpClient client(trusting());
  for (const std::string host : {"localhost", "127.0.0.1"}) {
    auto response = send(client, get("https://" + host + ":" + std::to_string(origin.port()) + "/jwks"));
    ASSERT_TRUE(response) << host << ": " << to_string(response.error());
    EXPECT_EQ(response->status, 200U);
    EXPECT_EQ(response->body, "GET /jwks ");
  }
  auto again = send(client, get("https://localhost:" + std::to_string(origin.port()) + "/again"));
  ASSERT_TRUE(again) << to_string(again.error());
  EXPECT_EQ(origin.connections(), 2U);  // one per origin (localhost, 127.0.0.1), each kept alive
}

TEST_F(HttpClientTlsTest, UntrustedCertificateIsTlsFailed) {
  ScriptedOrigin origin(echo, pki_->certificate("localhost"), pki_->key("localhost"));
  HttpClient client(plain_options());  // system CAs only
  auto response = send(client, get("https://localhost:" + std::to_string(origin.port()) + "/"));
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error(), ClientError::tls_failed);
  EXPECT_TRUE(origin.requests().empty());
}

TEST_F(HttpClientTlsTest, CertificateForAnotherHostIsTlsFailed) {
  // Signed by the trusted CA, but for other.example: a valid chain proves nothing about which host.
  ScriptedOrigin origin(echo, pki_->certificate("other"), pki_->key("other"));
  HttpClient client(trusting());
  auto response = send(client, get("https://localhost:" + std::to_string(origin.port()) + "/"));
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error(), ClientError::tls_failed);
  EXPECT_TRUE(origin.requests().empty());
}

TEST_F(HttpClientTlsTest, PlainHttpServerOnAnHttpsUrlIsTlsFailed) {
  ScriptedOrigin origin(echo);
  HttpClient client(trusting());
  auto response = send(client, get("https://127.0.0.1:" + std::to_string(origin.port()) + "/"));
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error(), ClientError::tls_failed);
}

TEST_F(HttpClientTlsTest, MissingCaFileIsAConstructionError) {
  ClientOptions options = plain_options();
  options.extra_ca_file = "/nonexistent/test-ca.pem";
  try {
    HttpClient client(options);
    FAIL() << "constructed without its CA file";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/test-ca.pem"), std::string::npos);
  }
}

// --- Proxies

TEST_F(HttpClientTlsTest, HttpsGoesThroughOneConnectTunnelWithProxyCredentials) {
  ScriptedOrigin origin(echo, pki_->certificate("localhost"), pki_->key("localhost"));
  TestProxy proxy;
  ClientOptions options = trusting();
  options.proxy = ProxySettings{.https_proxy = proxy.url("user:pa%3Ass"), .proxy_loopback = true};
  HttpClient client(options);
  const std::string url = "https://localhost:" + std::to_string(origin.port()) + "/me";
  for (int i = 0; i < 2; ++i) {
    auto response = send(client, get(url));
    ASSERT_TRUE(response) << to_string(response.error());
    EXPECT_EQ(response->body, "GET /me ");
  }
  const auto seen = proxy.seen();
  ASSERT_EQ(seen.size(), 1U);  // one tunnel, kept alive for both requests
  EXPECT_EQ(seen[0].method, http::verb::connect);
  EXPECT_EQ(seen[0].target, "localhost:" + std::to_string(origin.port()));
  EXPECT_EQ(seen[0].proxy_authorization, "Basic dXNlcjpwYTpzcw==");  // user:pa:ss
  // The proxy's credentials are for the proxy: the origin never sees them.
  for (const auto& request : origin.requests()) {
    EXPECT_EQ(request.headers.count(http::field::proxy_authorization), 0U);
  }
}

TEST_F(HttpClientTest, PlainHttpGoesToTheProxyInAbsoluteForm) {
  TestProxy proxy;
  ClientOptions options = plain_options();
  options.proxy = ProxySettings{.http_proxy = proxy.url("user:pass")};
  HttpClient client(options);
  // The host need not resolve here: the proxy does that.
  auto response = send(client, get("http://upstream.invalid:8080/path?q=1"));
  ASSERT_TRUE(response) << to_string(response.error());
  EXPECT_EQ(response->body, "via proxy");
  const auto seen = proxy.seen();
  ASSERT_EQ(seen.size(), 1U);
  EXPECT_EQ(seen[0].method, http::verb::get);
  EXPECT_EQ(seen[0].target, "http://upstream.invalid:8080/path?q=1");
  EXPECT_EQ(seen[0].proxy_authorization, "Basic dXNlcjpwYXNz");
}

TEST_F(HttpClientTest, LoopbackAndNoProxyHostsGoDirect) {
  ScriptedOrigin origin(echo);
  TestProxy proxy;
  {
    ClientOptions options = plain_options();
    options.proxy = ProxySettings{.http_proxy = proxy.url()};  // loopback not opted in
    HttpClient client(options);
    ASSERT_TRUE(send(client, get(http_url(origin))));
  }
  {
    ClientOptions options = plain_options();
    options.proxy = ProxySettings{.http_proxy = proxy.url(), .no_proxy = "example.com, 127.0.0.1", .proxy_loopback = true};
    HttpClient client(options);
    ASSERT_TRUE(send(client, get(http_url(origin))));
  }
  EXPECT_TRUE(proxy.seen().empty());
  EXPECT_EQ(origin.requests().size(), 2U);
}

TEST_F(HttpClientTest, ProxyFailuresAreProxyFailed) {
  std::uint16_t closed_port = 0;
  {
    tcp::acceptor probe(context_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    closed_port = probe.local_endpoint().port();
  }
  TestProxy proxy;
  const std::pair<std::string, std::string> cases[] = {
      // nothing listens at the proxy's address
      {"http://127.0.0.1:" + std::to_string(closed_port), "https://origin.example/"},
      // not an http:// proxy URL: requests fail rather than go around the proxy
      {"socks5://127.0.0.1:1080", "https://origin.example/"},
      // the proxy cannot reach the origin and answers CONNECT with 502
      {proxy.url(), "https://127.0.0.1:" + std::to_string(closed_port) + "/"},
  };
  for (const auto& [proxy_url, url] : cases) {
    ClientOptions options = plain_options();
    options.proxy = ProxySettings{.https_proxy = proxy_url, .proxy_loopback = true};
    HttpClient client(options);
    auto response = send(client, get(url));
    ASSERT_FALSE(response) << proxy_url;
    EXPECT_EQ(response.error(), ClientError::proxy_failed) << proxy_url << ": " << to_string(response.error());
  }
}

TEST(ProxySettings, ReadFromTheEnvironmentLowercaseFirst) {
  ::setenv("https_proxy", "http://lower:3128", 1);
  ::setenv("HTTPS_PROXY", "http://upper:3128", 1);
  ::setenv("HTTP_PROXY", "http://only-upper:3128", 1);
  ::unsetenv("http_proxy");
  ::setenv("no_proxy", ".corp.example,localhost", 1);
  const auto settings = ProxySettings::from_environment();
  ::unsetenv("https_proxy");
  ::unsetenv("HTTPS_PROXY");
  ::unsetenv("HTTP_PROXY");
  ::unsetenv("no_proxy");
  EXPECT_EQ(settings.https_proxy, "http://lower:3128");
  EXPECT_EQ(settings.http_proxy, "http://only-upper:3128");
  EXPECT_EQ(settings.no_proxy, ".corp.example,localhost");
  EXPECT_FALSE(settings.proxy_loopback);
}

TEST(NoProxy, Matching) {
  using net::no_proxy_matches;
  EXPECT_TRUE(no_proxy_matches("*", "anything.example", 443));
  EXPECT_FALSE(no_proxy_matches("", "graph.microsoft.com", 443));
  // Domains match themselves and their subdomains, with or without a leading dot, never a mere suffix.
  EXPECT_TRUE(no_proxy_matches("example.com", "example.com", 443));
  EXPECT_TRUE(no_proxy_matches("example.com", "api.example.com", 443));
  EXPECT_TRUE(no_proxy_matches(".example.com", "example.com", 443));
  EXPECT_TRUE(no_proxy_matches(".example.com", "a.b.example.com", 443));
  EXPECT_TRUE(no_proxy_matches("*.example.com", "a.example.com", 443));
  EXPECT_FALSE(no_proxy_matches("example.com", "notexample.com", 443));
  EXPECT_FALSE(no_proxy_matches("example.com", "example.com.evil.test", 443));
  // Case, spaces and trailing dots do not matter.
  EXPECT_TRUE(no_proxy_matches(" other.test , Login.Corp.Example ", "login.corp.example.", 443));
  // host:port matches only that port.
  EXPECT_TRUE(no_proxy_matches("idp.corp:8443", "idp.corp", 8443));
  EXPECT_FALSE(no_proxy_matches("idp.corp:8443", "idp.corp", 443));
  // Addresses and CIDR blocks, v4 and v6.
  EXPECT_TRUE(no_proxy_matches("10.1.2.3", "10.1.2.3", 80));
  EXPECT_TRUE(no_proxy_matches("10.0.0.0/8", "10.200.0.1", 80));
  EXPECT_FALSE(no_proxy_matches("10.0.0.0/8", "11.0.0.1", 80));
  EXPECT_FALSE(no_proxy_matches("10.0.0.0/8", "ten.example", 80));
  EXPECT_TRUE(no_proxy_matches("fd00::/8", "[fd12::1]", 443));
  EXPECT_TRUE(no_proxy_matches("::1", "[::1]", 443));
  EXPECT_TRUE(no_proxy_matches("[::1]:8080", "::1", 8080));
  EXPECT_FALSE(no_proxy_matches("[::1]:8080", "::1", 8081));
  // A malformed entry is skipped, not a wildcard.
  EXPECT_FALSE(no_proxy_matches("host:notaport,:,.", "host", 80));
}

TEST(RetryAfter, Parsing) {
  using net::parse_retry_after;
  using std::chrono::seconds;
  // 1994-11-06 08:49:37 UTC
  const auto now = std::chrono::sys_days(std::chrono::year(1994) / 11 / 6) + std::chrono::hours(8) +
                   std::chrono::minutes(49) + seconds(7);
  EXPECT_EQ(parse_retry_after("0", now), seconds(0));
  EXPECT_EQ(parse_retry_after(" 120 ", now), seconds(120));
  EXPECT_EQ(parse_retry_after("99999999999999999999999", now), seconds(std::numeric_limits<std::int32_t>::max()));
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now), seconds(30));
  EXPECT_EQ(parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", now), seconds(30));
  EXPECT_EQ(parse_retry_after("Sun Nov  6 08:49:37 1994", now), seconds(30));
  EXPECT_EQ(parse_retry_after("Sat, 05 Nov 1994 08:49:37 GMT", now), seconds(0));  // past: now
  EXPECT_EQ(parse_retry_after("-1", now), std::nullopt);
  EXPECT_EQ(parse_retry_after("1.5", now), std::nullopt);
  EXPECT_EQ(parse_retry_after("", now), std::nullopt);
  EXPECT_EQ(parse_retry_after("soon", now), std::nullopt);
  EXPECT_EQ(parse_retry_after("Sun, 31 Feb 1994 08:49:37 GMT", now), std::nullopt);
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 PST", now), std::nullopt);
}

TEST(ClientError, ReasonStringsAreStable) {
  EXPECT_EQ(to_string(ClientError::invalid_url), "invalid_url");
  EXPECT_EQ(to_string(ClientError::tls_failed), "tls_failed");
  EXPECT_EQ(to_string(ClientError::response_too_large), "response_too_large");
  EXPECT_EQ(to_string(ClientError::proxy_failed), "proxy_failed");
  EXPECT_EQ(to_string(ClientError::cancelled), "cancelled");
}

// --- Logs

TEST_F(HttpClientTest, LogsCarryNoSecrets) {
  ScriptedOrigin origin(echo);
  TestProxy proxy;
  std::ostringstream captured;
  auto previous = spdlog::default_logger();
  auto logger = std::make_shared<spdlog::logger>("capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(captured));
  logger->set_level(spdlog::level::debug);
  spdlog::set_default_logger(logger);
  {
    ClientOptions options = plain_options();
    options.proxy = ProxySettings{.http_proxy = proxy.url("proxyuser:proxy-password"), .no_proxy = "127.0.0.1"};
    HttpClient client(options);
    ClientRequest request = post(http_url(origin, "/oauth2/token?code=query-secret"), "client_secret=body-secret");
    request.headers.push_back({"Authorization", "Bearer header-secret"});
    auto response = send(client, request);
    ASSERT_TRUE(response);
    auto failed = send(client, get("http://127.0.0.1:1/never?key=query-secret-2"));
    ASSERT_FALSE(failed);
    auto proxied = send(client, get("http://elsewhere.invalid/x?token=query-secret-3"));
    ASSERT_TRUE(proxied);
  }
  spdlog::set_default_logger(previous);
  const std::string log = captured.str();
  EXPECT_NE(log.find("POST 127.0.0.1:" + std::to_string(origin.port()) + "/oauth2/token 200"), std::string::npos)
      << log;
  for (const char* secret : {"query-secret", "body-secret", "header-secret", "Bearer", "proxy-password",
                             "proxyuser", "code="}) {
    EXPECT_EQ(log.find(secret), std::string::npos) << secret << " in:\n" << log;
  }
}

// --- Threads

/// Several coroutines on each of two io_contexts, each context on its own thread, share one client.
void hammer(HttpClient& client, const std::string& url, std::atomic<int>& succeeded) {
  constexpr int kCoroutines = 6;
  constexpr int kRequestsEach = 8;
  asio::io_context context{1};
  for (int c = 0; c < kCoroutines; ++c) {
    asio::co_spawn(
        context,
        [&client, &url, &succeeded]() -> asio::awaitable<void> {
          for (int i = 0; i < kRequestsEach; ++i) {
            auto response = co_await client.send(get(url));
            if (response && response->status == 200) succeeded.fetch_add(1);
          }
        },
        asio::detached);
  }
  context.run_for(kTestBound);
}

TEST(HttpClientThreads, TwoIoContextsOnTwoThreadsShareOneClient) {
  ScriptedOrigin origin(echo);
  HttpClient client(plain_options());
  std::atomic<int> succeeded{0};
  const std::string url = http_url(origin, "/concurrent");
  std::thread first([&] { hammer(client, url, succeeded); });
  std::thread second([&] { hammer(client, url, succeeded); });
  first.join();
  second.join();
  EXPECT_EQ(succeeded.load(), 2 * 6 * 8);
  // Each context keeps its own pool: at most one connection per coroutine in flight on it.
  EXPECT_LE(origin.connections(), 2U * 6U);
}

TEST(HttpClientThreads, TwoIoContextsOverTls) {
  TestPki pki;
  ScriptedOrigin origin(echo, pki.certificate("localhost"), pki.key("localhost"));
  ClientOptions options = plain_options();
  options.extra_ca_file = pki.ca();
  HttpClient client(options);
  std::atomic<int> succeeded{0};
  const std::string url = "https://localhost:" + std::to_string(origin.port()) + "/concurrent";
  std::thread first([&] { hammer(client, url, succeeded); });
  std::thread second([&] { hammer(client, url, succeeded); });
  first.join();
  second.join();
  EXPECT_EQ(succeeded.load(), 2 * 6 * 8);
  EXPECT_LE(origin.connections(), 2U * 6U);
}

}  // namespace
}  // namespace deputy::testing
