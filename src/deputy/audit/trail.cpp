#include "deputy/audit/trail.hpp"

#include "deputy/audit/metrics.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace deputy::audit {

namespace {

struct TrailCounters {
  Counter& records;
  Counter& backpressure;
  Counter& write_errors;
  Counter& sync_errors;
  Counter& to_stderr;
};

TrailCounters& counters() {
  static TrailCounters counters{
      .records = Metrics::global().counter("deputy_audit_records_total", {}, "Audit records recorded"),
      .backpressure = Metrics::global().counter("deputy_audit_backpressure_total", {},
                                                "Audit records whose caller waited for room in the queue"),
      .write_errors = Metrics::global().counter("deputy_audit_write_errors_total", {},
                                                "Failed writes to an audit sink (each retried)"),
      .sync_errors =
          Metrics::global().counter("deputy_audit_sync_errors_total", {}, "Failed syncs of an audit sink"),
      .to_stderr =
          Metrics::global().counter("deputy_audit_stderr_bytes_total", {},
                                    "Audit bytes written to stderr because a sink still failed at close"),
  };
  return counters;
}

/// The last resort at close: stderr, across short writes; what even stderr refuses is reported.
void write_stderr(std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(STDERR_FILENO, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace

std::string_view to_string(FsyncPolicy policy) {
  switch (policy) {
    case FsyncPolicy::kNone:
      return "none";
    case FsyncPolicy::kInterval:
      return "interval";
    case FsyncPolicy::kAlways:
      return "always";
  }
  return "unknown";
}

std::optional<FsyncPolicy> parse_fsync_policy(std::string_view text) {
  for (const auto policy : {FsyncPolicy::kNone, FsyncPolicy::kInterval, FsyncPolicy::kAlways}) {
    if (text == to_string(policy)) return policy;
  }
  return std::nullopt;
}

Trail::Trail(std::vector<std::unique_ptr<Sink>> sinks, TrailOptions options) : options_(std::move(options)) {
  (void)counters();  // registered (at 0) before the first record, so /metrics shows them from the start
  for (auto& sink : sinks) {
    if (sink) sinks_.push_back(SinkState{.sink = std::move(sink)});
  }
  last_sync_ = now();
  writer_ = std::thread([this] { run(); });
}

Trail::~Trail() {
  close();
}

std::chrono::steady_clock::time_point Trail::now() const {
  return options_.clock ? options_.clock() : std::chrono::steady_clock::now();
}

bool Trail::past_close_grace() const {
  std::lock_guard lock(mutex_);
  return close_deadline_ && std::chrono::steady_clock::now() >= *close_deadline_;
}

void Trail::record(const Record& record) {
  enqueue(encode(record));
}

void Trail::enqueue(std::string line) {
  counters().records.add();
  std::unique_lock lock(mutex_);
  ++stats_.records;
  if (stopped_) {
    // After close(): no writer any more, so this caller writes, in the same way the writer would.
    lock.unlock();
    std::lock_guard direct(direct_mutex_);
    write_batch(line);
    maybe_sync(true);
    std::lock_guard relock(mutex_);
    ++stats_.written;
    return;
  }
  // An empty queue takes any line, however long: otherwise a line longer than the queue would wait for ever.
  if (!pending_.empty() && pending_.size() + line.size() > options_.queue_bytes) {
    ++stats_.backpressure;
    counters().backpressure.add();
    space_.wait(lock,
                [&] { return pending_.empty() || pending_.size() + line.size() <= options_.queue_bytes; });
  }
  const bool was_empty = pending_.empty();
  pending_ += line;
  ++pending_records_;
  if (was_empty) wake_.notify_one();
}

void Trail::flush() {
  std::unique_lock lock(mutex_);
  if (stopped_) return;
  const std::uint64_t ticket = ++flush_requested_;
  wake_.notify_one();
  done_.wait(lock, [&] { return flush_served_ >= ticket || stopped_; });
}

void Trail::close() {
  std::call_once(close_once_, [this] {
    {
      std::lock_guard lock(mutex_);
      closing_ = true;
      close_deadline_ = std::chrono::steady_clock::now() + options_.close_grace;
    }
    wake_.notify_one();
    writer_.join();
  });
}

TrailStats Trail::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void Trail::run() {
  std::string batch;
  std::unique_lock lock(mutex_);
  for (;;) {
    const auto ready = [&] { return !pending_.empty() || flush_requested_ > flush_served_ || closing_; };
    if (options_.fsync == FsyncPolicy::kInterval && dirty_) {
      // Unsynced lines: wake up when the interval has passed even if nothing else happens.
      const auto due = last_sync_ + options_.fsync_interval;
      const auto current = now();
      if (current < due) wake_.wait_for(lock, due - current, ready);
    } else {
      wake_.wait(lock, ready);
    }
    batch.clear();
    batch.swap(pending_);  // the queue keeps the old batch's buffer: no allocation once warm
    const std::uint64_t records = pending_records_;
    pending_records_ = 0;
    const std::uint64_t requested = flush_requested_;
    const bool closing = closing_;
    space_.notify_all();
    lock.unlock();

    {
      std::lock_guard direct(direct_mutex_);
      if (!batch.empty()) write_batch(batch);
      maybe_sync(closing);
    }

    lock.lock();
    stats_.written += records;
    flush_served_ = requested;
    done_.notify_all();
    // closing_ was seen before this batch was taken, and the queue is empty now: nothing recorded before
    // close() remains. Later records go the synchronous way.
    if (closing && pending_.empty()) {
      stopped_ = true;
      done_.notify_all();
      space_.notify_all();
      return;
    }
  }
}

void Trail::write_batch(std::string_view batch) {
  for (auto& state : sinks_) write_to(state, batch);
  if (!sinks_.empty()) dirty_ = true;
}

void Trail::write_to(SinkState& state, std::string_view batch) {
  while (!batch.empty()) {
    auto written = state.sink->write(batch);
    if (written) break;
    batch.remove_prefix(std::min(written.error().written, batch.size()));
    counters().write_errors.add();
    {
      std::lock_guard lock(mutex_);
      ++stats_.write_errors;
    }
    if (!state.write_failing) {
      // Once per failing streak: a full disk must not become a log line per record.
      spdlog::error("audit: writing to {} failed ({}); retrying every {} ms, nothing is dropped",
                    state.sink->describe(), written.error().code.message(), options_.retry_delay.count());
      state.write_failing = true;
    }
    if (past_close_grace()) {
      spdlog::error(
          "audit: {} still fails at shutdown; the {} bytes of audit lines it missed follow on stderr",
          state.sink->describe(), batch.size());
      write_stderr(batch);
      counters().to_stderr.add(batch.size());
      std::lock_guard lock(mutex_);
      stats_.to_stderr += batch.size();
      return;  // still failing: the next batch tries the sink once more, then comes here at once
    }
    std::this_thread::sleep_for(options_.retry_delay);
  }
  if (state.write_failing) {
    spdlog::warn("audit: writing to {} works again", state.sink->describe());
    state.write_failing = false;
  }
}

void Trail::sync_all() {
  for (auto& state : sinks_) {
    auto synced = state.sink->sync();
    std::lock_guard lock(mutex_);
    ++stats_.syncs;
    if (synced) {
      state.sync_failing = false;
      continue;
    }
    ++stats_.sync_errors;
    counters().sync_errors.add();
    if (!state.sync_failing) {
      spdlog::error("audit: syncing {} failed ({})", state.sink->describe(), synced.error().message());
      state.sync_failing = true;
    }
  }
  dirty_ = false;
  last_sync_ = now();
}

void Trail::maybe_sync(bool closing) {
  if (!dirty_) return;
  switch (options_.fsync) {
    case FsyncPolicy::kNone:
      return;
    case FsyncPolicy::kAlways:
      sync_all();
      return;
    case FsyncPolicy::kInterval:
      if (closing || now() - last_sync_ >= options_.fsync_interval) sync_all();
      return;
  }
}

std::expected<std::unique_ptr<Trail>, std::string> open_trail(TrailSettings settings) {
  std::vector<std::unique_ptr<Sink>> sinks;
  if (settings.to_stdout) sinks.push_back(stdout_sink());
  if (settings.file) {
    const auto path = settings.file->path.string();
    auto sink = open_file_sink(std::move(*settings.file));
    if (!sink) return std::unexpected("audit file " + path + ": " + sink.error().message());
    sinks.push_back(std::move(*sink));
  }
  return std::make_unique<Trail>(std::move(sinks), std::move(settings.options));
}

}  // namespace deputy::audit
