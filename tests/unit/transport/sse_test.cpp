#include "deputy/transport/sse.hpp"

#include <gtest/gtest.h>

namespace deputy::transport::sse {
namespace {

TEST(SseFrame, OneLine) { EXPECT_EQ(frame(R"({"a":1})"), "event: message\ndata: {\"a\":1}\n\n"); }

TEST(SseFrame, WithId) { EXPECT_EQ(frame("x", "message", "3-1"), "event: message\nid: 3-1\ndata: x\n\n"); }

TEST(SseFrame, LineBreaksBecomeDataLines) {
  EXPECT_EQ(frame("a\nb\r\nc\rd", ""), "data: a\ndata: b\ndata: c\ndata: d\n\n");
}

TEST(SseFrame, FieldsCannotBeInjected) {
  // A line break in the event name or id would start a forged field.
  EXPECT_EQ(frame("x", "message\ndata: forged", "1\nretry: 1"), "event: messagedata: forged\nid: 1retry: 1\ndata: x\n\n");
}

TEST(SseFrame, EmptyData) { EXPECT_EQ(frame("", ""), "data: \n\n"); }

TEST(SseKeepAlive, IsAComment) { EXPECT_TRUE(keep_alive().starts_with(":")); }

}  // namespace
}  // namespace deputy::transport::sse
