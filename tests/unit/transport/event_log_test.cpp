#include "deputy/transport/event_log.hpp"

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

namespace deputy::transport {
namespace {

TEST(EventLog, PrimingThenNumberedEvents) {
  EventLog log(7);
  EXPECT_EQ(log.prime(), "id: 7-0\nretry: 500\ndata: \n\n");
  EXPECT_EQ(log.append("a", false), "event: message\nid: 7-1\ndata: a\n\n");
  EXPECT_FALSE(log.finished());
  log.append("b", true);
  EXPECT_TRUE(log.finished());
}

TEST(EventLog, ResumeReplaysWhatWasMissedThenDeliversTheRest) {
  boost::asio::io_context context;
  EventLog log(1);
  (void)log.prime();
  log.append("a", false);  // 1-1
  log.append("b", false);  // 1-2
  auto channel = std::make_shared<EventChannel>(context, 16);
  auto replay = log.resume(1, channel);
  ASSERT_EQ(replay.events.size(), 1U);
  EXPECT_NE(replay.events[0].find("data: b"), std::string::npos);
  EXPECT_FALSE(replay.finished);
  log.append("c", true);
  std::vector<std::string> received;
  for (int i = 0; i < 2; ++i) {
    channel->async_receive([&](boost::system::error_code ec, std::string event) {
      EXPECT_FALSE(ec);
      received.push_back(std::move(event));
    });
    context.run();
    context.restart();
  }
  ASSERT_EQ(received.size(), 2U);
  EXPECT_NE(received[0].find("data: c"), std::string::npos);
  EXPECT_EQ(received[1], "");  // the end of the stream
}

TEST(EventLog, ResumingAFinishedStreamReplaysOnly) {
  boost::asio::io_context context;
  EventLog log(1);
  (void)log.prime();
  log.append("done", true);
  auto replay = log.resume(0, std::make_shared<EventChannel>(context, 1));
  EXPECT_EQ(replay.events.size(), 1U);
  EXPECT_TRUE(replay.finished);
}

TEST(EventLogs, FindParsesIdsStrictly) {
  EventLogs logs;
  auto log = logs.create();
  const auto id = std::to_string(log->stream());
  ASSERT_TRUE(logs.find(id + "-0"));
  EXPECT_EQ(logs.find(id + "-12")->second, 12U);
  for (const std::string& bad : std::vector<std::string>{"", "-", id, id + "-", "-1", id + "-x", id + "-1-2", "999-0", " " + id + "-1"}) {
    EXPECT_FALSE(logs.find(bad)) << bad;
  }
}

TEST(EventLogs, BoundedPerSession) {
  EventLogs logs;
  auto first = logs.create();
  for (std::size_t i = 0; i < kMaxStreamsPerSession; ++i) logs.create();
  EXPECT_FALSE(logs.find(std::to_string(first->stream()) + "-0"));
}

}  // namespace
}  // namespace deputy::transport
