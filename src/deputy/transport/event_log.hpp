#pragma once
// Resumable SSE streams (MCP 2025-11-25, "resumability and redelivery"): each POST answered as an event
// stream gets an id; its events carry `id: <stream>-<seq>` and are kept, so a client whose connection
// dropped (or that the server disconnected on purpose) resumes with GET + Last-Event-ID and receives
// what it missed and what comes after, up to the answer.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace deputy::transport {

/// Events kept per stream; a stream is one request's answer, rarely more than a few progress events.
inline constexpr std::size_t kMaxEventsPerStream = 1024;
/// Streams kept per session; the oldest finished one goes first.
inline constexpr std::size_t kMaxStreamsPerSession = 64;
/// How long a client should wait before reconnecting (the SSE `retry:` field), in milliseconds.
inline constexpr int kRetryMilliseconds = 500;

using EventChannel = boost::asio::experimental::concurrent_channel<void(boost::system::error_code, std::string)>;

class EventLog {
 public:
  explicit EventLog(std::uint64_t stream) : stream_(stream) {}

  [[nodiscard]] std::uint64_t stream() const { return stream_; }
  /// The priming event: an id and empty data, so the client has an id to resume from.
  [[nodiscard]] std::string prime();
  /// Records a message and returns its framed event; also hands it to a resumed reader, if any.
  std::string append(std::string_view data, bool final);
  /// Attaches a reader that resumes after event `after`: returns the events it missed (and whether the
  /// stream already ended), and delivers later ones to `channel`, then an empty string when it ends.
  struct Replay {
    std::vector<std::string> events;
    bool finished = false;
  };
  Replay resume(std::uint64_t after, std::shared_ptr<EventChannel> channel);
  [[nodiscard]] bool finished() const;

 private:
  std::string frame(std::uint64_t seq, std::string_view data) const;

  const std::uint64_t stream_;
  mutable std::mutex mutex_;
  std::uint64_t next_seq_ = 0;
  std::deque<std::pair<std::uint64_t, std::string>> events_;
  bool finished_ = false;
  std::shared_ptr<EventChannel> reader_;
};

/// The resumable streams of one session.
class EventLogs {
 public:
  std::shared_ptr<EventLog> create();
  /// The log and sequence number an event id names, or nullopt.
  std::optional<std::pair<std::shared_ptr<EventLog>, std::uint64_t>> find(std::string_view event_id) const;

 private:
  mutable std::mutex mutex_;
  std::uint64_t next_stream_ = 1;
  std::map<std::uint64_t, std::shared_ptr<EventLog>> logs_;
};

}  // namespace deputy::transport
