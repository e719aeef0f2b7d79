#include "deputy/transport/session_store.hpp"

#include <openssl/rand.h>

#include <array>
#include <stdexcept>

namespace deputy::transport {

/// Random bits in a session id (the MCP spec asks for a secure random source; 128 bits cannot be guessed).
constexpr std::size_t kSessionIdBytes = 16;

std::string new_session_id() {
  std::array<unsigned char, kSessionIdBytes> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    // Without randomness no session may be created; failing loudly beats a guessable id.
    throw std::runtime_error("the system random source failed");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 0xF];
  }
  return out;
}

std::expected<std::shared_ptr<SessionStore::Entry>, SessionStore::Refusal> SessionStore::create(Clock::time_point now,
                                                                                                std::string owner) {
  auto entry = std::make_shared<Entry>(new_session_id());
  entry->last_used.store(now.time_since_epoch().count(), std::memory_order_relaxed);
  entry->owner = std::move(owner);
  std::lock_guard lock(mutex_);
  if (sessions_.size() >= max_sessions_) return std::unexpected(Refusal::kFull);
  if (!entry->owner.empty()) {
    auto& count = per_owner_[entry->owner];
    if (count >= max_per_owner_) return std::unexpected(Refusal::kOwnerFull);
    ++count;
  }
  sessions_.emplace(entry->session.id(), entry);
  return entry;
}

void SessionStore::release_owner(const std::string& owner) {
  if (owner.empty()) return;
  if (auto it = per_owner_.find(owner); it != per_owner_.end() && --it->second == 0) per_owner_.erase(it);
}

std::shared_ptr<SessionStore::Entry> SessionStore::find(std::string_view id, Clock::time_point now) {
  std::shared_ptr<Entry> entry;
  {
    std::lock_guard lock(mutex_);
    auto it = sessions_.find(std::string(id));
    if (it == sessions_.end()) return nullptr;
    entry = it->second;
  }
  entry->last_used.store(now.time_since_epoch().count(), std::memory_order_relaxed);
  return entry;
}

bool SessionStore::remove(std::string_view id) {
  std::shared_ptr<Entry> entry;
  {
    std::lock_guard lock(mutex_);
    auto it = sessions_.find(std::string(id));
    if (it == sessions_.end()) return false;
    entry = std::move(it->second);
    sessions_.erase(it);
    release_owner(entry->owner);
  }
  entry->session.close();
  return true;
}

std::size_t SessionStore::expire(Clock::time_point now) {
  const auto cutoff = (now - idle_timeout_).time_since_epoch().count();
  std::vector<std::shared_ptr<Entry>> expired;
  {
    std::lock_guard lock(mutex_);
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      // A client listening on its standalone stream is using the session, however long it only listens.
      if (it->second->last_used.load(std::memory_order_relaxed) < cutoff && !it->second->session.standalone()) {
        release_owner(it->second->owner);
        expired.push_back(std::move(it->second));
        it = sessions_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& entry : expired) entry->session.close();
  return expired.size();
}

void SessionStore::clear() {
  std::unordered_map<std::string, std::shared_ptr<Entry>> all;
  {
    std::lock_guard lock(mutex_);
    all.swap(sessions_);
    per_owner_.clear();
  }
  for (auto& [id, entry] : all) entry->session.close();
}

std::size_t SessionStore::size() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

void SessionStore::for_each(const std::function<void(Entry&)>& visit) const {
  std::lock_guard lock(mutex_);
  for (auto& [id, entry] : sessions_) visit(*entry);
}

}  // namespace deputy::transport
