// The HTTP server over TLS: a certificate made for the test, a client that speaks TLS, and one that does not.
#include "test_server.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

namespace deputy::testing {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;

constexpr std::string_view kInitialize =
    R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}})";

/// A throw-away self-signed certificate for localhost, made with the openssl command.
class TestCertificate {
 public:
  TestCertificate() : dir_(fs::temp_directory_path() / ("deputy-tls-" + std::to_string(::getpid()))) {
    fs::create_directories(dir_);
    const std::string command = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost -keyout '" +
                                key().string() + "' -out '" + certificate().string() + "' >/dev/null 2>&1";
    if (std::system(command.c_str()) != 0) throw std::runtime_error("openssl could not make a test certificate");
  }
  ~TestCertificate() {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  [[nodiscard]] fs::path certificate() const { return dir_ / "test-certificate.pem"; }
  [[nodiscard]] fs::path key() const { return dir_ / "test-private-key.pem"; }

 private:
  fs::path dir_;
};

TEST(Tls, ServesMcpOverTls) {
  TestCertificate certificate;
  TestServer server({.tls = net::TlsFiles{certificate.certificate().string(), certificate.key().string()}});

  asio::io_context context;
  asio::ssl::context tls(asio::ssl::context::tls_client);
  tls.set_verify_mode(asio::ssl::verify_none);  // the test's own self-signed certificate
  asio::ssl::stream<tcp::socket> stream(context, tls);
  stream.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.port()));
  stream.handshake(asio::ssl::stream_base::client);
  const std::string request = post_request(kInitialize);
  asio::write(stream, asio::buffer(request));
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(stream, buffer, response);
  EXPECT_EQ(response.result(), http::status::ok);
  EXPECT_EQ(response["Mcp-Session-Id"].size(), 32U);
}

TEST(Tls, PlainHttpOnATlsPortIsDroppedAndOthersAreServed) {
  TestCertificate certificate;
  TestServer server({.tls = net::TlsFiles{certificate.certificate().string(), certificate.key().string()}});
  RawClient plain(server.port());
  plain.send(post_request(kInitialize));
  EXPECT_TRUE(plain.closed_by_peer());
}

TEST(Tls, MissingCertificateIsAStartError) {
  net::ServerOptions options{.port = 0, .tls = net::TlsFiles{"/nonexistent/cert.pem", "/nonexistent/key.pem"}};
  net::HttpServer server(options, [](net::Request&, net::Exchange&) -> asio::awaitable<void> { co_return; });
  auto listening = server.listen();
  ASSERT_FALSE(listening);
  EXPECT_NE(listening.error().find("TLS"), std::string::npos);
}

}  // namespace
}  // namespace deputy::testing
