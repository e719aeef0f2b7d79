#pragma once
// The audit trail: every record reaches its sinks, in the order it was recorded, as one JSON line.
//
// record() encodes on the caller's thread and appends the line to an in-memory queue under a short lock;
// one writer thread takes the whole queue at a time and writes it to every sink. Nothing is dropped:
//   - the queue is bounded in bytes; when it is full, record() waits until the writer has taken the queue
//     (backpressure, counted in deputy_audit_backpressure_total). That wait blocks the calling thread, an
//     HTTP worker included: a server that cannot write its audit trail slows down rather than act
//     unrecorded;
//   - a failed write is reported once through spdlog, counted, and retried every retry_delay until it
//     succeeds (a partial write continues where it stopped; a line is never written twice to a sink);
//   - close() writes everything recorded before it; only when a sink still fails after close_grace are the
//     lines it missed written to stderr instead, with an error saying so. Lines hold no secrets
//     (record.hpp), so stderr may carry them.
//
// Lifetime, for the server (one Trail per process):
//   auto trail = audit::open_trail({.file = audit::FileSinkOptions{.path = "/var/log/deputy/audit.log"}});
//   if (!trail) { spdlog::error("{}", trail.error()); return 1; }   // before listening: fail fast
//   ... hand `audit::Trail&` (or a pointer; it is thread-safe) to the transport, dispatcher and tools ...
//   server.run(options);   // returns on SIGTERM/SIGINT once the HTTP server has drained its requests
//   (*trail)->close();     // everything recorded is written (and synced, unless fsync is none) before exit
// What the writer has not yet taken when the process dies without close() (SIGKILL, abort, a crash) is
// lost: normally nothing or the last batch, as the writer takes the queue as soon as a line arrives.
// close() must come after the last request has finished (after Server::run returns), so the records of
// requests still in flight at the signal are in the trail. A record() after close() is still not lost: it
// is written synchronously on the caller's thread. The destructor calls close().

#include "deputy/audit/record.hpp"
#include "deputy/audit/sink.hpp"

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace deputy::audit {

/// Lines waiting for the writer, in bytes. At ~400 bytes a record this is ~20,000 records: several seconds of
/// a busy server while the disk stalls, before callers wait. Memory use is at most twice this (the queue,
/// and the batch the writer is writing).
inline constexpr std::size_t kDefaultQueueBytes = 8 * 1024 * 1024;
/// `interval` syncs at most this often, so at most this much of the trail is lost if the machine dies.
inline constexpr std::chrono::milliseconds kDefaultFsyncInterval{1000};
/// Between attempts at a sink that failed: often enough to resume quickly, seldom enough not to spin.
inline constexpr std::chrono::milliseconds kDefaultRetryDelay{100};
/// How long close() keeps retrying a failing sink before writing what it missed to stderr: the server's
/// shutdown grace, so a full disk cannot hold up an exit for ever.
inline constexpr std::chrono::milliseconds kDefaultCloseGrace{10000};

enum class FsyncPolicy {
  kNone,      // never: the kernel writes back when it likes (written lines survive deputy, not the host)
  kInterval,  // when fsync_interval has passed since the last sync and lines were written since; at close()
  kAlways,    // after every batch the writer writes, so before flush() returns
};

[[nodiscard]] std::string_view to_string(FsyncPolicy policy);
/// "none", "interval", "always".
[[nodiscard]] std::optional<FsyncPolicy> parse_fsync_policy(std::string_view text);

struct TrailOptions {
  std::size_t queue_bytes = kDefaultQueueBytes;
  FsyncPolicy fsync = FsyncPolicy::kInterval;
  std::chrono::milliseconds fsync_interval = kDefaultFsyncInterval;
  std::chrono::milliseconds retry_delay = kDefaultRetryDelay;
  std::chrono::milliseconds close_grace = kDefaultCloseGrace;
  /// The clock the fsync interval is measured with; empty: std::chrono::steady_clock::now. Tests pass theirs.
  std::function<std::chrono::steady_clock::time_point()> clock;
};

struct TrailStats {
  std::uint64_t records = 0;       // record() calls
  std::uint64_t written = 0;       // records written to every sink
  std::uint64_t backpressure = 0;  // record() calls that waited for room in the queue
  std::uint64_t write_errors = 0;  // failed sink writes, each retried
  std::uint64_t syncs = 0;         // sink syncs done
  std::uint64_t sync_errors = 0;   // failed sink syncs (reported; Linux cannot retry an fsync meaningfully)
  std::uint64_t to_stderr = 0;     // bytes written to stderr instead of a sink that still failed at close
};

class Trail {
 public:
  /// Starts the writer thread. Zero sinks is allowed (records are counted and discarded).
  explicit Trail(std::vector<std::unique_ptr<Sink>> sinks, TrailOptions options = {});
  /// close().
  ~Trail();
  Trail(const Trail&) = delete;
  Trail& operator=(const Trail&) = delete;

  /// Queues the record's line; thread-safe; waits only when the queue is full.
  void record(const Record& record);
  /// Returns once everything recorded before the call is written to every sink and, with `always`, synced
  /// (with `interval`, synced too if the interval has passed). After close(), returns at once.
  void flush();
  /// Writes everything recorded, syncs (unless fsync is none), and stops the writer. Idempotent; a second
  /// caller waits for the first.
  void close();

  [[nodiscard]] TrailStats stats() const;

 private:
  struct SinkState {
    std::unique_ptr<Sink> sink;
    bool write_failing = false;
    bool sync_failing = false;
  };

  void run();
  void enqueue(std::string line);
  void write_batch(std::string_view batch);
  void write_to(SinkState& state, std::string_view batch);
  void sync_all();
  void maybe_sync(bool closing);
  [[nodiscard]] std::chrono::steady_clock::time_point now() const;
  [[nodiscard]] bool past_close_grace() const;

  std::vector<SinkState> sinks_;
  const TrailOptions options_;

  mutable std::mutex mutex_;       // guards everything below up to the writer's own state
  std::condition_variable wake_;   // the writer: lines queued, flush or close requested
  std::condition_variable space_;  // callers waiting for room
  std::condition_variable done_;   // flush() callers
  std::string pending_;
  std::uint64_t pending_records_ = 0;
  std::uint64_t flush_requested_ = 0;
  std::uint64_t flush_served_ = 0;
  bool closing_ = false;
  bool stopped_ = false;  // the writer has finished; record() writes synchronously from now on
  std::optional<std::chrono::steady_clock::time_point> close_deadline_;
  TrailStats stats_;

  // The writer's own state (after stop: the synchronous writers', under direct_mutex_).
  std::mutex direct_mutex_;
  bool dirty_ = false;  // written since the last sync
  std::chrono::steady_clock::time_point last_sync_;

  std::once_flag close_once_;
  std::thread writer_;
};

/// Which sinks a server's trail writes to, and how.
struct TrailSettings {
  bool to_stdout = false;
  std::optional<FileSinkOptions> file;
  TrailOptions options;
};

/// Opens the sinks (a file that cannot be opened is an error naming it) and starts the trail.
[[nodiscard]] std::expected<std::unique_ptr<Trail>, std::string> open_trail(TrailSettings settings);

}  // namespace deputy::audit
