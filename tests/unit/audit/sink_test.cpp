// The file sink, on a temporary directory: private and append-only, rotation by size that keeps `keep`
// files and never splits a line, and the trail writing through it.
#include "deputy/audit/sink.hpp"
#include "deputy/audit/trail.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <boost/json/parse.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

namespace deputy::audit {
namespace {

namespace fs = std::filesystem;

class FileSinkTest : public ::testing::Test {
 protected:
  FileSinkTest()
      : dir_(fs::temp_directory_path() / ("deputy-audit-" + std::to_string(::getpid()) + "-" +
                                          ::testing::UnitTest::GetInstance()->current_test_info()->name())) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ~FileSinkTest() override { fs::remove_all(dir_); }

  static std::string read(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
  }
  static unsigned mode(const fs::path& path) {
    struct stat info {};
    ::stat(path.c_str(), &info);
    return info.st_mode & 0777;
  }
  fs::path numbered(int n) const { return fs::path(log_.string() + "." + std::to_string(n)); }
  /// The kept files, oldest first, and the current one last.
  std::vector<fs::path> files(int keep) const {
    std::vector<fs::path> out;
    for (int n = keep; n >= 1; --n) {
      if (fs::exists(numbered(n))) out.push_back(numbered(n));
    }
    out.push_back(log_);
    return out;
  }
  /// A line of exactly `size` bytes with `i` in it.
  static std::string line(int i, std::size_t size = 30) {
    std::string text = "line " + std::to_string(i) + " ";
    text.resize(size - 1, 'x');
    return text + "\n";
  }

  fs::path dir_;
  fs::path log_ = dir_ / "audit.log";
};

TEST_F(FileSinkTest, CreatesAPrivateFileAndAppends) {
  {
    std::ofstream(log_) << "earlier\n";
    fs::permissions(log_, fs::perms::owner_read | fs::perms::owner_write);
  }
  auto sink = open_file_sink({.path = log_});
  ASSERT_TRUE(sink);
  ASSERT_TRUE((*sink)->write("one\ntwo\n"));
  ASSERT_TRUE((*sink)->sync());
  EXPECT_EQ(read(log_), "earlier\none\ntwo\n");

  const auto fresh = dir_ / "fresh.log";
  const auto old_mask = ::umask(0);  // even with a permissive umask
  auto other = open_file_sink({.path = fresh});
  ::umask(old_mask);
  ASSERT_TRUE(other);
  EXPECT_EQ(mode(fresh), 0600U);
  EXPECT_EQ((*other)->describe(), "file " + fresh.string());
}

TEST_F(FileSinkTest, BadOptionsAndUnopenablePathsFailAtOnce) {
  EXPECT_EQ(open_file_sink({.path = log_, .keep = 0}).error(), std::errc::invalid_argument);
  EXPECT_EQ(open_file_sink({.path = log_, .keep = kMaxKeepFiles + 1}).error(), std::errc::invalid_argument);
  EXPECT_EQ(open_file_sink({.path = ""}).error(), std::errc::invalid_argument);
  EXPECT_EQ(open_file_sink({.path = dir_ / "missing" / "audit.log"}).error(),
            std::errc::no_such_file_or_directory);
  const auto trail = open_trail({.file = FileSinkOptions{.path = dir_ / "missing" / "audit.log"}});
  ASSERT_FALSE(trail);
  EXPECT_NE(trail.error().find((dir_ / "missing" / "audit.log").string()), std::string::npos)
      << trail.error();
}

TEST_F(FileSinkTest, RotatesBySizeKeepsNFilesAndNeverSplitsALine) {
  constexpr int kKeep = 3;
  constexpr std::uint64_t kMax = 100;  // three 30-byte lines per file
  auto sink = open_file_sink({.path = log_, .max_bytes = kMax, .keep = kKeep});
  ASSERT_TRUE(sink);
  constexpr int kLines = 40;
  // In batches of varying size, as the trail writes them.
  int next = 0;
  for (int batch = 1; next < kLines; ++batch) {
    std::string lines;
    for (int i = 0; i < batch % 5 + 1 && next < kLines; ++i) lines += line(next++);
    ASSERT_TRUE((*sink)->write(lines));
  }
  EXPECT_FALSE(fs::exists(numbered(kKeep + 1)));
  const auto kept = files(kKeep);
  ASSERT_EQ(kept.size(), static_cast<std::size_t>(kKeep + 1));
  std::string all;
  for (const auto& file : kept) {
    const auto text = read(file);
    EXPECT_LE(text.size(), kMax) << file;
    EXPECT_EQ(text.size() % 30, 0U) << file;  // whole lines only
    EXPECT_EQ(text.size(), file == log_ ? 30U : 90U) << file;
    EXPECT_EQ(mode(file), 0600U);
    all += text;
  }
  // What is kept is the end of what was written, in order: 40 lines = 13 full files and one line.
  std::string expected;
  for (int i = kLines - 10; i < kLines; ++i) expected += line(i);
  EXPECT_EQ(all, expected);
}

TEST_F(FileSinkTest, ALineLongerThanTheLimitGetsAFileOfItsOwn) {
  auto sink = open_file_sink({.path = log_, .max_bytes = 100, .keep = 5});
  ASSERT_TRUE(sink);
  ASSERT_TRUE((*sink)->write(line(0) + line(1, 250) + line(2)));
  EXPECT_EQ(read(numbered(2)), line(0));
  EXPECT_EQ(read(numbered(1)), line(1, 250));
  EXPECT_EQ(read(log_), line(2));
}

TEST_F(FileSinkTest, AFileFromAnEarlierRunCountsTowardsTheLimit) {
  { std::ofstream(log_) << line(0) << line(1) << line(2); }  // 90 bytes
  auto sink = open_file_sink({.path = log_, .max_bytes = 100, .keep = 2});
  ASSERT_TRUE(sink);
  ASSERT_TRUE((*sink)->write(line(3)));
  EXPECT_EQ(read(numbered(1)), line(0) + line(1) + line(2));
  EXPECT_EQ(read(log_), line(3));
}

TEST_F(FileSinkTest, NoRotationWithoutALimit) {
  auto sink = open_file_sink({.path = log_, .max_bytes = 0});
  ASSERT_TRUE(sink);
  std::string lines;
  for (int i = 0; i < 100; ++i) lines += line(i);
  ASSERT_TRUE((*sink)->write(lines));
  EXPECT_EQ(read(log_), lines);
  EXPECT_FALSE(fs::exists(numbered(1)));
}

TEST_F(FileSinkTest, ATrailOnARotatingFileKeepsEveryRecordInOrder) {
  constexpr int kRecords = 2000;
  auto trail = open_trail({.file = FileSinkOptions{.path = log_, .max_bytes = 16 * 1024, .keep = 100},
                           .options = {.queue_bytes = 4096, .fsync = FsyncPolicy::kAlways}});
  ASSERT_TRUE(trail);
  for (int i = 0; i < kRecords; ++i) {
    (*trail)->record(tools_listed({.request_id = std::to_string(i)}, static_cast<std::uint64_t>(i)));
  }
  (*trail)->close();
  EXPECT_GT((*trail)->stats().syncs, 0U);
  std::string all;
  const auto kept = files(100);
  EXPECT_GT(kept.size(), 2U);
  for (const auto& file : kept) {
    const auto text = read(file);
    EXPECT_LE(text.size(), 16U * 1024);
    EXPECT_EQ(text.back(), '\n');
    all += text;
  }
  std::string expected;
  for (int i = 0; i < kRecords; ++i) {
    expected += encode(tools_listed({.request_id = std::to_string(i)}, static_cast<std::uint64_t>(i)));
  }
  EXPECT_EQ(all, expected);
}

TEST_F(FileSinkTest, StdoutSinkWritesToFileDescriptorOneAndSyncsEvenAPipe) {
  std::fflush(stdout);
  const int saved = ::dup(STDOUT_FILENO);
  ASSERT_GE(saved, 0);
  const auto file = dir_ / "stdout.txt";
  {
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ASSERT_GE(fd, 0);
    ::dup2(fd, STDOUT_FILENO);
    ::close(fd);
  }
  auto sink = stdout_sink();
  const bool wrote = sink->write("a line\n").has_value();
  const bool synced_file = sink->sync().has_value();
  int pipe_fds[2] = {-1, -1};
  const bool piped = ::pipe(pipe_fds) == 0;
  if (piped) ::dup2(pipe_fds[1], STDOUT_FILENO);
  const bool synced_pipe = sink->sync().has_value();  // EINVAL from fdatasync: nothing to make durable
  ::dup2(saved, STDOUT_FILENO);
  ::close(saved);
  if (piped) {
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
  }
  EXPECT_TRUE(wrote);
  EXPECT_TRUE(synced_file);
  ASSERT_TRUE(piped);
  EXPECT_TRUE(synced_pipe);
  EXPECT_EQ(read(file), "a line\n");
  EXPECT_EQ(sink->describe(), "stdout");
}

// The server's shutdown in a real process: producers record from 8 threads, SIGTERM arrives, the producers
// stop (as the HTTP server drains), close() runs, the process exits. Every record is in the file.
TEST_F(FileSinkTest, AProcessStoppedBySigtermWritesEveryRecordBeforeItExits) {
  constexpr int kThreads = 8;
  constexpr int kAtLeast = 500;  // per thread, before it looks at the stop flag
  int report[2];
  ASSERT_EQ(::pipe(report), 0);
  // Blocked before the fork, so a SIGTERM that comes early waits for the child's sigwait rather than
  // killing it; the producers inherit the mask, so only sigwait ever sees the signal.
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  sigset_t previous;
  ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, &term, &previous), 0);
  const pid_t child = ::fork();
  if (child != 0) ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(report[0]);
    auto trail = open_trail({.file = FileSinkOptions{.path = log_, .max_bytes = 64 * 1024, .keep = 1000},
                             .options = {.queue_bytes = 2048}});
    if (!trail) ::_exit(2);
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> recorded{0};
    std::vector<std::thread> producers;
    for (int t = 0; t < kThreads; ++t) {
      producers.emplace_back([&, t] {
        for (int i = 0; i < kAtLeast || !stop.load(); ++i) {
          const auto id = std::to_string(t) + ":" + std::to_string(i);
          (*trail)->record(tools_listed({.request_id = id}, static_cast<std::uint64_t>(i)));
          recorded.fetch_add(1);
        }
      });
    }
    int signal = 0;
    ::sigwait(&term, &signal);
    stop = true;
    for (auto& producer : producers) producer.join();  // the server's drain
    (*trail)->close();
    const std::uint64_t count = recorded.load();
    if (::write(report[1], &count, sizeof count) != sizeof count) ::_exit(3);
    ::_exit(0);  // no destructors: close() alone must have done it
  }
  ::close(report[1]);
  ::kill(child, SIGTERM);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  std::uint64_t count = 0;
  ASSERT_EQ(::read(report[0], &count, sizeof count), static_cast<ssize_t>(sizeof count));
  ::close(report[0]);
  EXPECT_GE(count, static_cast<std::uint64_t>(kThreads * kAtLeast));

  std::uint64_t lines = 0;
  std::set<std::string> ids;
  for (const auto& file : files(1000)) {
    std::istringstream in(read(file));
    for (std::string line; std::getline(in, line);) {
      ++lines;
      const auto value = boost::json::parse(line);
      ids.insert(std::string(value.at("request_id").as_string()));
    }
  }
  EXPECT_EQ(lines, count);
  EXPECT_EQ(ids.size(), count);
}

}  // namespace
}  // namespace deputy::audit
