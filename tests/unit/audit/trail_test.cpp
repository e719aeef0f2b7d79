// The trail loses nothing: many threads, a tiny queue with a slow sink, failing writes, close() without a
// flush; and it syncs as its policy says. The sinks here are fakes that count what happens to them.
#include "deputy/audit/trail.hpp"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

namespace deputy::audit {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

/// What a fake sink saw; shared with the test, as the trail owns the sink.
struct Recorded {
  std::mutex mutex;
  std::condition_variable changed;
  std::string data;
  int writes = 0;  // successful write() calls
  int syncs = 0;
  int writes_at_last_sync = -1;
  int fail_next = 0;  // write() calls still to fail (after writing half of what they get)
  bool fail_always = false;
  bool gate_open = true;  // while false, write() waits
  bool waiting = false;   // a write() is waiting at the gate

  void open_gate() {
    std::lock_guard lock(mutex);
    gate_open = true;
    changed.notify_all();
  }
  std::string text() {
    std::lock_guard lock(mutex);
    return data;
  }
};

class FakeSink final : public Sink {
 public:
  explicit FakeSink(std::shared_ptr<Recorded> recorded) : recorded_(std::move(recorded)) {}

  std::expected<void, WriteError> write(std::string_view lines) override {
    std::unique_lock lock(recorded_->mutex);
    recorded_->waiting = true;
    recorded_->changed.notify_all();
    recorded_->changed.wait(lock, [&] { return recorded_->gate_open; });
    recorded_->waiting = false;
    if (recorded_->fail_always)
      return std::unexpected(WriteError{.code = std::make_error_code(std::errc::no_space_on_device)});
    if (recorded_->fail_next > 0) {
      --recorded_->fail_next;
      const std::size_t half = lines.size() / 2;  // a short write, then the error
      recorded_->data.append(lines.substr(0, half));
      return std::unexpected(WriteError{.code = std::make_error_code(std::errc::io_error), .written = half});
    }
    recorded_->data.append(lines);
    ++recorded_->writes;
    return {};
  }
  std::expected<void, std::error_code> sync() override {
    std::lock_guard lock(recorded_->mutex);
    ++recorded_->syncs;
    recorded_->writes_at_last_sync = recorded_->writes;
    return {};
  }
  std::string describe() const override { return "fake"; }

 private:
  std::shared_ptr<Recorded> recorded_;
};

std::vector<std::unique_ptr<Sink>> sinks_for(const std::shared_ptr<Recorded>& recorded) {
  std::vector<std::unique_ptr<Sink>> sinks;
  sinks.push_back(std::make_unique<FakeSink>(recorded));
  return sinks;
}

Record numbered(int thread, int i) {
  const std::string id = std::to_string(thread) + ":" + std::to_string(i);
  return tools_listed({.time = std::chrono::system_clock::time_point{}, .request_id = id, .session = "s"},
                      static_cast<std::uint64_t>(i));
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

/// Every line is valid JSON, each request id appears once, and each thread's records are in its order.
void expect_all(const std::string& text, int threads, int per_thread) {
  ASSERT_TRUE(text.empty() || text.back() == '\n');
  const auto lines = lines_of(text);
  ASSERT_EQ(lines.size(), static_cast<std::size_t>(threads * per_thread));
  std::set<std::string> seen;
  std::map<std::string, std::int64_t> last;  // per thread: the last count seen
  for (const auto& line : lines) {
    boost::system::error_code ec;
    const auto value = json::parse(line, ec);
    ASSERT_FALSE(ec) << line;
    const auto id = std::string(value.at("request_id").as_string());
    EXPECT_TRUE(seen.insert(id).second) << "twice: " << id;
    const auto thread = id.substr(0, id.find(':'));
    const auto count = value.at("count").as_int64();
    if (last.contains(thread)) {
      EXPECT_EQ(count, last[thread] + 1) << line;
    }
    last[thread] = count;
  }
}

/// Waits (bounded) for a condition another thread makes true.
template <typename Predicate>
bool eventually(Recorded& recorded, Predicate predicate) {
  std::unique_lock lock(recorded.mutex);
  return recorded.changed.wait_for(lock, 10s, [&] { return predicate(recorded); });
}

TEST(AuditTrail, ManyThreadsExactlyNLines) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 2000;
  auto recorded = std::make_shared<Recorded>();
  Trail trail(sinks_for(recorded), {.queue_bytes = 16 * 1024, .fsync = FsyncPolicy::kNone});
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&trail, t] {
      for (int i = 0; i < kPerThread; ++i) trail.record(numbered(t, i));
    });
  }
  for (auto& thread : threads) thread.join();
  trail.flush();
  expect_all(recorded->text(), kThreads, kPerThread);
  const auto stats = trail.stats();
  EXPECT_EQ(stats.records, static_cast<std::uint64_t>(kThreads * kPerThread));
  EXPECT_EQ(stats.written, stats.records);
}

TEST(AuditTrail, FlushReturnsOnceEverythingBeforeItIsWritten) {
  auto recorded = std::make_shared<Recorded>();
  Trail trail(sinks_for(recorded), {.fsync = FsyncPolicy::kNone});
  for (int i = 0; i < 100; ++i) {
    trail.record(numbered(0, i));
    if (i % 10 == 9) {
      trail.flush();
      EXPECT_EQ(lines_of(recorded->text()).size(), static_cast<std::size_t>(i + 1));
    }
  }
}

TEST(AuditTrail, TinyQueueAndSlowSinkBlockCallersAndLoseNothing) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 200;
  auto recorded = std::make_shared<Recorded>();
  recorded->gate_open = false;  // the sink is stuck until the queue is full
  // One byte: every record beyond the first in the queue waits for the writer.
  Trail trail(sinks_for(recorded), {.queue_bytes = 1, .fsync = FsyncPolicy::kNone});
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&trail, t] {
      for (int i = 0; i < kPerThread; ++i) trail.record(numbered(t, i));
    });
  }
  // The writer is stuck in the sink with the first batch; the queue holds a line; the others wait.
  ASSERT_TRUE(eventually(*recorded, [](Recorded& r) { return r.waiting; }));
  for (int i = 0; i < 1000 && trail.stats().backpressure == 0; ++i) std::this_thread::sleep_for(1ms);
  EXPECT_GT(trail.stats().backpressure, 0U);
  EXPECT_LE(trail.stats().records, 2U + kThreads);  // one being written, one queued, one per waiting thread
  recorded->open_gate();
  for (auto& thread : threads) thread.join();
  trail.close();
  expect_all(recorded->text(), kThreads, kPerThread);
}

TEST(AuditTrail, ALineLongerThanTheQueueStillGoesThrough) {
  auto recorded = std::make_shared<Recorded>();
  Trail trail(sinks_for(recorded), {.queue_bytes = 8, .fsync = FsyncPolicy::kNone});
  trail.record(tool_denied({}, std::string(500, 't'), "r"));
  trail.record(tool_denied({}, std::string(500, 'u'), "r"));
  trail.flush();
  EXPECT_EQ(lines_of(recorded->text()).size(), 2U);
}

TEST(AuditTrail, FailedWritesAreRetriedAndNothingIsWrittenTwice) {
  auto recorded = std::make_shared<Recorded>();
  recorded->fail_next = 3;  // three short writes that fail half-way
  Trail trail(sinks_for(recorded), {.fsync = FsyncPolicy::kNone, .retry_delay = 0ms});
  for (int i = 0; i < 50; ++i) trail.record(numbered(0, i));
  trail.close();
  expect_all(recorded->text(), 1, 50);
  EXPECT_EQ(trail.stats().write_errors, 3U);
}

TEST(AuditTrail, ASinkThatStillFailsAtCloseGetsItsLinesOnStderr) {
  auto recorded = std::make_shared<Recorded>();
  recorded->fail_always = true;
  Trail trail(sinks_for(recorded), {.fsync = FsyncPolicy::kNone, .retry_delay = 0ms, .close_grace = 0ms});
  const auto record = numbered(0, 0);
  trail.record(record);
  testing::internal::CaptureStderr();
  trail.close();
  const auto err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find(encode(record)), std::string::npos);
  EXPECT_EQ(trail.stats().to_stderr, encode(record).size());
}

TEST(AuditTrail, CloseDrainsEverythingWithoutAFlush) {
  auto recorded = std::make_shared<Recorded>();
  {
    Trail trail(sinks_for(recorded), {.fsync = FsyncPolicy::kNone});
    for (int i = 0; i < 5000; ++i) trail.record(numbered(0, i));
    trail.close();
    trail.close();  // idempotent
    trail.flush();  // returns at once
    EXPECT_EQ(lines_of(recorded->text()).size(), 5000U);
    trail.record(numbered(0, 5000));  // after close: written at once, on this thread
    EXPECT_EQ(lines_of(recorded->text()).size(), 5001U);
  }
  expect_all(recorded->text(), 1, 5001);
}

TEST(AuditTrail, TheDestructorCloses) {
  auto recorded = std::make_shared<Recorded>();
  {
    Trail trail(sinks_for(recorded), {.fsync = FsyncPolicy::kNone});
    for (int i = 0; i < 3000; ++i) trail.record(numbered(0, i));
  }
  expect_all(recorded->text(), 1, 3000);
}

TEST(AuditTrail, ConcurrentClosersBothWaitForTheDrain) {
  auto recorded = std::make_shared<Recorded>();
  Trail trail(sinks_for(recorded), {.fsync = FsyncPolicy::kNone});
  for (int i = 0; i < 1000; ++i) trail.record(numbered(0, i));
  std::thread other([&trail] { trail.close(); });
  trail.close();
  EXPECT_EQ(lines_of(recorded->text()).size(), 1000U);
  other.join();
}

TEST(AuditTrail, FsyncNoneNeverSyncs) {
  auto recorded = std::make_shared<Recorded>();
  Trail trail(sinks_for(recorded), {.fsync = FsyncPolicy::kNone});
  for (int i = 0; i < 10; ++i) {
    trail.record(numbered(0, i));
    trail.flush();
  }
  trail.close();
  EXPECT_EQ(recorded->syncs, 0);
  EXPECT_EQ(trail.stats().syncs, 0U);
}

TEST(AuditTrail, FsyncAlwaysSyncsEveryBatchBeforeFlushReturns) {
  auto recorded = std::make_shared<Recorded>();
  Trail trail(sinks_for(recorded), {.fsync = FsyncPolicy::kAlways});
  for (int i = 0; i < 10; ++i) {
    trail.record(numbered(0, i));
    trail.flush();
    std::lock_guard lock(recorded->mutex);
    EXPECT_EQ(recorded->writes_at_last_sync, recorded->writes);  // the last batch is synced
    EXPECT_EQ(recorded->syncs, recorded->writes);                // one sync per batch, none without one
  }
  trail.flush();  // nothing new: no sync
  EXPECT_EQ(recorded->syncs, recorded->writes);
  trail.close();
  EXPECT_EQ(recorded->syncs, recorded->writes);
}

TEST(AuditTrail, FsyncIntervalSyncsOncePerIntervalOnItsClock) {
  auto recorded = std::make_shared<Recorded>();
  std::atomic<std::chrono::steady_clock::rep> ticks{0};
  const auto clock = [&ticks] {
    return std::chrono::steady_clock::time_point{std::chrono::steady_clock::duration{ticks.load()}};
  };
  const auto advance = [&ticks](std::chrono::milliseconds by) {
    ticks += std::chrono::duration_cast<std::chrono::steady_clock::duration>(by).count();
  };
  Trail trail(sinks_for(recorded),
              {.fsync = FsyncPolicy::kInterval, .fsync_interval = 1000ms, .clock = clock});
  trail.record(numbered(0, 0));
  trail.flush();
  EXPECT_EQ(recorded->syncs, 0);  // written, but the interval has not passed
  advance(999ms);
  trail.flush();
  EXPECT_EQ(recorded->syncs, 0);
  advance(1ms);
  trail.flush();
  EXPECT_EQ(recorded->syncs, 1);
  trail.flush();
  EXPECT_EQ(recorded->syncs, 1);  // nothing new since
  advance(5000ms);
  trail.flush();
  EXPECT_EQ(recorded->syncs, 1);  // nothing to sync, however long ago
  trail.record(numbered(0, 1));
  trail.flush();
  EXPECT_EQ(recorded->syncs, 2);  // the interval has long passed: synced with the batch
  trail.record(numbered(0, 2));
  trail.flush();
  EXPECT_EQ(recorded->syncs, 2);
  trail.close();  // close syncs what is left, interval or not
  EXPECT_EQ(recorded->syncs, 3);
}

TEST(AuditTrail, SeveralSinksGetEveryLine) {
  auto first = std::make_shared<Recorded>();
  auto second = std::make_shared<Recorded>();
  second->fail_next = 2;
  std::vector<std::unique_ptr<Sink>> sinks;
  sinks.push_back(std::make_unique<FakeSink>(first));
  sinks.push_back(std::make_unique<FakeSink>(second));
  Trail trail(std::move(sinks), {.fsync = FsyncPolicy::kNone, .retry_delay = 0ms});
  for (int i = 0; i < 300; ++i) trail.record(numbered(0, i));
  trail.close();
  expect_all(first->text(), 1, 300);
  EXPECT_EQ(first->text(), second->text());
}

TEST(AuditTrail, FsyncPolicyNames) {
  for (const auto policy : {FsyncPolicy::kNone, FsyncPolicy::kInterval, FsyncPolicy::kAlways}) {
    EXPECT_EQ(parse_fsync_policy(to_string(policy)), policy);
  }
  EXPECT_EQ(parse_fsync_policy("sometimes"), std::nullopt);
}

}  // namespace
}  // namespace deputy::audit
