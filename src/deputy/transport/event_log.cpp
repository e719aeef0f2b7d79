#include "deputy/transport/event_log.hpp"

#include "deputy/transport/sse.hpp"

#include <charconv>

namespace deputy::transport {

std::string EventLog::frame(std::uint64_t seq, std::string_view data) const {
  return sse::frame(data, "message", std::to_string(stream_) + "-" + std::to_string(seq));
}

std::string EventLog::prime() {
  std::lock_guard lock(mutex_);
  const auto seq = next_seq_++;
  return "id: " + std::to_string(stream_) + "-" + std::to_string(seq) + "\nretry: " +
         std::to_string(kRetryMilliseconds) + "\ndata: \n\n";
}

std::string EventLog::append(std::string_view data, bool final) {
  std::lock_guard lock(mutex_);
  const auto seq = next_seq_++;
  std::string event = frame(seq, data);
  events_.emplace_back(seq, event);
  if (events_.size() > kMaxEventsPerStream) events_.pop_front();
  if (reader_) {
    if (!reader_->try_send(boost::system::error_code{}, event)) reader_.reset();  // a reader that does not read
  }
  if (final) {
    finished_ = true;
    // An empty event ends the reader's stream. (Closing the channel instead would drop what it buffers.)
    if (reader_) reader_->try_send(boost::system::error_code{}, std::string());
    reader_.reset();
  }
  return event;
}

EventLog::Replay EventLog::resume(std::uint64_t after, std::shared_ptr<EventChannel> channel) {
  std::lock_guard lock(mutex_);
  Replay replay;
  for (const auto& [seq, event] : events_) {
    if (seq > after) replay.events.push_back(event);
  }
  replay.finished = finished_;
  if (!finished_) {
    if (reader_) reader_->try_send(boost::system::error_code{}, std::string());  // the newest reader wins
    reader_ = std::move(channel);
  }
  return replay;
}

bool EventLog::finished() const {
  std::lock_guard lock(mutex_);
  return finished_;
}

std::shared_ptr<EventLog> EventLogs::create() {
  std::lock_guard lock(mutex_);
  auto log = std::make_shared<EventLog>(next_stream_++);
  logs_.emplace(log->stream(), log);
  if (logs_.size() > kMaxStreamsPerSession) {
    // Drop the oldest finished stream, or the oldest if all still run.
    auto victim = logs_.begin();
    for (auto it = logs_.begin(); it != logs_.end(); ++it) {
      if (it->second->finished()) {
        victim = it;
        break;
      }
    }
    logs_.erase(victim);
  }
  return log;
}

std::optional<std::pair<std::shared_ptr<EventLog>, std::uint64_t>> EventLogs::find(std::string_view event_id) const {
  const auto dash = event_id.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  std::uint64_t stream = 0;
  std::uint64_t seq = 0;
  auto parse = [](std::string_view text, std::uint64_t& out) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc{} && end == text.data() + text.size() && !text.empty();
  };
  if (!parse(event_id.substr(0, dash), stream) || !parse(event_id.substr(dash + 1), seq)) return std::nullopt;
  std::lock_guard lock(mutex_);
  auto it = logs_.find(stream);
  if (it == logs_.end()) return std::nullopt;
  return std::make_pair(it->second, seq);
}

}  // namespace deputy::transport
