#pragma once
// Counters for every allow and deny path, with stable reason labels, exposed in the Prometheus text
// format. Incrementing is one relaxed atomic add on a counter resolved once.

#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>

namespace deputy::audit {

class Counter {
 public:
  void add(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Metrics {
 public:
  /// The counter `name{labels}` (labels as Prometheus writes them: `reason="expired"`), created on first
  /// use and kept for the process's life, so the reference stays valid.
  Counter& counter(std::string_view name, std::string_view labels = {}, std::string_view help = {});
  /// All counters in the Prometheus text exposition format.
  [[nodiscard]] std::string render() const;

  /// The process's metrics.
  static Metrics& global();

 private:
  struct Entry {
    std::string name;
    std::string labels;
    std::string help;
    Counter counter;
  };
  mutable std::mutex mutex_;
  std::deque<Entry> entries_;  // a deque: references stay valid as it grows
};

}  // namespace deputy::audit
