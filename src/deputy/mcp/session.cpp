#include "deputy/mcp/session.hpp"

#include <boost/asio/post.hpp>

namespace deputy::mcp {

/// Bound on a session's unanswered server-to-client requests: one reply slot each.
constexpr std::size_t kReplyChannelCapacity = 1;

void Cancellation::request() {
  if (requested_.exchange(true, std::memory_order_acq_rel)) return;
  boost::asio::post(executor_, [self = shared_from_this()] {
    if (self->active_ && self->signal_ != nullptr) self->signal_->emit(boost::asio::cancellation_type::terminal);
  });
}

void Session::set_initialized(std::string protocol_version, json::object client_capabilities,
                              json::object client_info) {
  std::lock_guard lock(mutex_);
  protocol_version_ = std::move(protocol_version);
  client_capabilities_ = std::move(client_capabilities);
  client_info_ = std::move(client_info);
  initialized_.store(true, std::memory_order_release);
}

std::string Session::protocol_version() const {
  std::lock_guard lock(mutex_);
  return protocol_version_;
}

bool Session::client_has(std::string_view capability) const {
  std::lock_guard lock(mutex_);
  return client_capabilities_.contains(capability);
}

bool Session::subscribe(std::string uri) {
  std::lock_guard lock(mutex_);
  if (subscriptions_.size() >= kMaxSubscriptions && !subscriptions_.contains(uri)) return false;
  subscriptions_.insert(std::move(uri));
  return true;
}

void Session::unsubscribe(const std::string& uri) {
  std::lock_guard lock(mutex_);
  subscriptions_.erase(uri);
}

bool Session::subscribed(const std::string& uri) const {
  std::lock_guard lock(mutex_);
  return subscriptions_.contains(uri);
}

json::value Session::next_request_id() { return json::value(next_request_id_.fetch_add(1) ); }

std::shared_ptr<ReplyChannel> Session::expect_reply(const json::value& id,
                                                    const boost::asio::any_io_executor& executor) {
  auto channel = std::make_shared<ReplyChannel>(executor, kReplyChannelCapacity);
  std::lock_guard lock(mutex_);
  replies_[id_key(id)] = channel;
  return channel;
}

void Session::forget_reply(const json::value& id) {
  std::lock_guard lock(mutex_);
  replies_.erase(id_key(id));
}

bool Session::deliver_reply(const json::value& id, json::value reply) {
  std::shared_ptr<ReplyChannel> channel;
  {
    std::lock_guard lock(mutex_);
    auto it = replies_.find(id_key(id));
    if (it == replies_.end()) return false;
    channel = std::move(it->second);
    replies_.erase(it);
  }
  return channel->try_send(boost::system::error_code{}, std::move(reply));
}

void Session::track(const json::value& id, std::shared_ptr<Cancellation> cancellation) {
  std::string key = id_key(id);
  std::lock_guard lock(mutex_);
  in_flight_.emplace_back(std::move(key), std::move(cancellation));
}

void Session::untrack(const json::value& id) {
  const std::string key = id_key(id);
  std::lock_guard lock(mutex_);
  // The newest entry of that id goes: a client that reuses an id while the first is in flight gets
  // each one untracked in turn.
  for (auto it = in_flight_.rbegin(); it != in_flight_.rend(); ++it) {
    if (it->first == key) {
      if (&*it != &in_flight_.back()) *it = std::move(in_flight_.back());
      in_flight_.pop_back();
      return;
    }
  }
}

bool Session::cancel(const json::value& id) {
  const std::string key = id_key(id);
  std::vector<std::shared_ptr<Cancellation>> matching;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [entry_key, cancellation] : in_flight_) {
      if (entry_key == key) matching.push_back(cancellation);
    }
  }
  for (auto& cancellation : matching) cancellation->request();
  return !matching.empty();
}

void Session::set_standalone(std::shared_ptr<Outbound> outbound) {
  std::lock_guard lock(mutex_);
  standalone_ = std::move(outbound);
}

void Session::clear_standalone(const Outbound* outbound) {
  std::lock_guard lock(mutex_);
  if (standalone_.get() == outbound) standalone_.reset();
}

bool Session::try_set_standalone(std::shared_ptr<Outbound> outbound) {
  std::lock_guard lock(mutex_);
  if (standalone_) return false;
  standalone_ = std::move(outbound);
  return true;
}

std::shared_ptr<Outbound> Session::standalone() const {
  std::lock_guard lock(mutex_);
  return standalone_;
}

void Session::close() {
  std::unordered_map<std::string, std::shared_ptr<ReplyChannel>> replies;
  std::vector<std::pair<std::string, std::shared_ptr<Cancellation>>> in_flight;
  std::shared_ptr<Outbound> standalone;
  {
    std::lock_guard lock(mutex_);
    replies.swap(replies_);
    in_flight.swap(in_flight_);
    standalone.swap(standalone_);
  }
  if (standalone) standalone->close();
  for (auto& [key, channel] : replies) {
    channel->try_send(boost::asio::experimental::error::channel_closed, json::value());
  }
  for (auto& [key, cancellation] : in_flight) cancellation->request();
}

}  // namespace deputy::mcp
