// The transport's pure helpers; its HTTP behaviour is covered by tests/integration/streamable_http_test.cpp.
#include "deputy/transport/streamable_http.hpp"

#include <gtest/gtest.h>

namespace deputy::transport {
namespace {

TEST(Accepts, ExactWildcardAndParameters) {
  EXPECT_TRUE(accepts("application/json, text/event-stream", "text/event-stream"));
  EXPECT_TRUE(accepts("text/event-stream;q=0.9, application/json", "application/json"));
  EXPECT_TRUE(accepts("*/*", "application/json"));
  EXPECT_TRUE(accepts("text/*", "text/event-stream"));
  EXPECT_TRUE(accepts("APPLICATION/JSON", "application/json"));
  EXPECT_FALSE(accepts("application/json", "text/event-stream"));
  EXPECT_FALSE(accepts("", "application/json"));
  EXPECT_FALSE(accepts("application/jsonx", "application/json"));
  EXPECT_FALSE(accepts("text/*", "application/json"));
}

TEST(LoopbackHost, AcceptsLoopbackNamesOnly) {
  for (const char* host : {"localhost", "localhost:8400", "127.0.0.1", "127.0.0.1:1", "127.5.5.5", "[::1]", "[::1]:8400",
                           "LOCALHOST:1"}) {
    EXPECT_TRUE(is_loopback_host(host)) << host;
  }
  for (const char* host : {"", "evil.example.com", "localhost.evil.com", "127.0.0.1.nip.io", "0.0.0.0", "[::2]",
                           "10.0.0.1:8400", "evil.com:127"}) {
    EXPECT_FALSE(is_loopback_host(host)) << host;
  }
}

TEST(LoopbackOrigin, SchemeAndHost) {
  EXPECT_TRUE(is_loopback_origin("http://localhost:6274"));
  EXPECT_TRUE(is_loopback_origin("https://127.0.0.1"));
  EXPECT_TRUE(is_loopback_origin("http://[::1]:3000"));
  EXPECT_FALSE(is_loopback_origin("http://localhost.evil.com"));
  EXPECT_FALSE(is_loopback_origin("null"));
  EXPECT_FALSE(is_loopback_origin("file://localhost"));
  EXPECT_FALSE(is_loopback_origin("http://evil.com/?127.0.0.1"));
}

}  // namespace
}  // namespace deputy::transport
