// The loopback redirect listener: the one callback it takes, what it refuses, and its deadline.
#include "deputy/net/loopback_callback.hpp"

#include "test_server.hpp"

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <thread>

namespace deputy::testing {
namespace {

namespace asio = boost::asio;

/// A bound on every io_context run here: a bug fails the test instead of hanging it.
constexpr std::chrono::seconds kTestBound{20};

std::string get(std::uint16_t port, std::string_view target) {
  RawClient client(port);
  client.send("GET " + std::string(target) + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
  auto response = client.read();
  return response ? std::to_string(response->result_int()) + " " + response->body() : "none";
}

net::CallbackPage page_for(std::string_view query) {
  if (query.find("state=good") == std::string_view::npos)
    return {.status = 400, .html = "refused", .done = false};
  return {.html = "signed in"};
}

TEST(LoopbackCallback, TakesTheCallbackPathAndAnswersOtherPathsNotFound) {
  asio::io_context context;
  net::LoopbackCallbackListener listener(context.get_executor(), "/auth/callback");
  ASSERT_TRUE(listener.listen(0));
  const auto port = listener.port();
  std::optional<std::expected<std::string, net::CallbackError>> result;
  asio::co_spawn(
      context, [&]() -> asio::awaitable<void> { result = co_await listener.wait(page_for, kTestBound); },
      asio::detached);
  std::vector<std::string> answers;
  std::thread browser([&] {
    answers.push_back(get(port, "/favicon.ico"));
    answers.push_back(get(port, "/auth/callback/../x?state=good"));
    answers.push_back(
        get(port, "/auth/callback?code=c&state=forged"));  // not ours: refused, the wait goes on
    answers.push_back(get(port, "/auth/callback?code=c&state=good"));
  });
  context.run_for(kTestBound);
  browser.join();
  ASSERT_TRUE(result);
  ASSERT_TRUE(*result);
  EXPECT_EQ(**result, "code=c&state=good");
  ASSERT_EQ(answers.size(), 4U);
  EXPECT_TRUE(answers[0].starts_with("404")) << answers[0];
  EXPECT_TRUE(answers[1].starts_with("404")) << answers[1];
  EXPECT_EQ(answers[2], "400 refused");
  EXPECT_EQ(answers[3], "200 signed in");
  // Closed once done: nothing listens on the port any more.
  EXPECT_THROW(RawClient{port}, boost::system::system_error);
}

TEST(LoopbackCallback, AConnectionThatSendsNothingBlocksNobody) {
  asio::io_context context;
  net::LoopbackCallbackListener listener(context.get_executor(), "/cb");
  ASSERT_TRUE(listener.listen(0));
  const auto port = listener.port();
  std::optional<std::expected<std::string, net::CallbackError>> result;
  asio::co_spawn(
      context, [&]() -> asio::awaitable<void> { result = co_await listener.wait(page_for, kTestBound); },
      asio::detached);
  std::string answer;
  std::thread browser([&] {
    RawClient idle(port);  // a browser's spare connection
    answer = get(port, "/cb?state=good");
  });
  context.run_for(kTestBound);
  browser.join();
  ASSERT_TRUE(result && *result);
  EXPECT_EQ(answer, "200 signed in");
}

TEST(LoopbackCallback, AnOversizedRequestIsDroppedAndTheWaitGoesOn) {
  asio::io_context context;
  net::LoopbackCallbackListener listener(context.get_executor(), "/cb");
  ASSERT_TRUE(listener.listen(0));
  const auto port = listener.port();
  std::optional<std::expected<std::string, net::CallbackError>> result;
  asio::co_spawn(
      context, [&]() -> asio::awaitable<void> { result = co_await listener.wait(page_for, kTestBound); },
      asio::detached);
  bool dropped = false;
  std::string answer;
  std::thread browser([&] {
    RawClient big(port);
    big.send("GET /cb?state=good HTTP/1.1\r\nHost: localhost\r\nX-Padding: " +
             std::string(net::kCallbackHeaderLimit, 'a') + "\r\n\r\n");
    dropped = !big.read().has_value();
    answer = get(port, "/cb?state=good");
  });
  context.run_for(kTestBound);
  browser.join();
  EXPECT_TRUE(dropped);
  EXPECT_EQ(answer, "200 signed in");
  ASSERT_TRUE(result && *result);
}

TEST(LoopbackCallback, GivesUpAtItsDeadline) {
  asio::io_context context;
  net::LoopbackCallbackListener listener(context.get_executor(), "/cb");
  ASSERT_TRUE(listener.listen(0));
  std::optional<std::expected<std::string, net::CallbackError>> result;
  asio::co_spawn(
      context,
      [&]() -> asio::awaitable<void> {
        result = co_await listener.wait(page_for, std::chrono::milliseconds(50));
      },
      asio::detached);
  context.run_for(kTestBound);
  ASSERT_TRUE(result);
  ASSERT_FALSE(*result);
  EXPECT_EQ(result->error(), net::CallbackError::timeout);
}

TEST(LoopbackCallback, APortInUseIsAClearError) {
  asio::io_context context;
  net::LoopbackCallbackListener first(context.get_executor(), "/cb");
  ASSERT_TRUE(first.listen(0));
  net::LoopbackCallbackListener second(context.get_executor(), "/cb");
  auto listening = second.listen(first.port());
  ASSERT_FALSE(listening);
  EXPECT_NE(listening.error().find("127.0.0.1:" + std::to_string(first.port())), std::string::npos)
      << listening.error();
}

}  // namespace
}  // namespace deputy::testing
