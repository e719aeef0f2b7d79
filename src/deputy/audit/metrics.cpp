#include "deputy/audit/metrics.hpp"

#include <map>
#include <vector>

namespace deputy::audit {

Counter& Metrics::counter(std::string_view name, std::string_view labels, std::string_view help) {
  std::lock_guard lock(mutex_);
  for (auto& entry : entries_) {
    if (entry.name == name && entry.labels == labels) return entry.counter;
  }
  auto& entry = entries_.emplace_back();
  entry.name = name;
  entry.labels = labels;
  entry.help = help;
  return entry.counter;
}

std::string Metrics::render() const {
  std::lock_guard lock(mutex_);
  // Grouped by name, as the format wants one HELP/TYPE block per metric.
  std::map<std::string_view, std::vector<const Entry*>> by_name;
  for (const auto& entry : entries_) by_name[entry.name].push_back(&entry);
  std::string out;
  for (const auto& [name, entries] : by_name) {
    for (const auto* entry : entries) {
      if (!entry->help.empty()) {
        out += "# HELP " + std::string(name) + " " + entry->help + "\n";
        break;
      }
    }
    out += "# TYPE " + std::string(name) + " counter\n";
    for (const auto* entry : entries) {
      out += name;
      if (!entry->labels.empty()) out += "{" + entry->labels + "}";
      out += " " + std::to_string(entry->counter.value()) + "\n";
    }
  }
  return out;
}

Metrics& Metrics::global() {
  static Metrics metrics;
  return metrics;
}

}  // namespace deputy::audit
