#pragma once
// The sessions of the Streamable HTTP transport: created on `initialize`, found by `Mcp-Session-Id`,
// ended by DELETE, by idleness, or at shutdown. Thread-safe; ids come from a CSPRNG.

#include "deputy/mcp/session.hpp"
#include "deputy/transport/event_log.hpp"

#include <atomic>
#include <chrono>
#include <expected>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace deputy::transport {

/// Sessions at most: each costs about a kilobyte; past this, initialize answers 503.
inline constexpr std::size_t kDefaultMaxSessions = 100000;
/// Sessions one principal may hold at once. An agent host opens a session per conversation, a handful per
/// user; thousands are a leak or one valid token filling the table for everyone (kDefaultMaxSessions). Past
/// this, that user's initialize answers 429 while every other user is served.
inline constexpr std::size_t kDefaultMaxSessionsPerPrincipal = 256;
/// A session unused for this long is ended (its client would get 404 and start a new one).
inline constexpr std::chrono::minutes kDefaultSessionIdleTimeout{60};

/// A fresh session id: 128 random bits from OpenSSL's CSPRNG as 32 hex digits. Not guessable, since a
/// session id is all that addresses a session's stream.
[[nodiscard]] std::string new_session_id();

class SessionStore {
 public:
  using Clock = std::chrono::steady_clock;
  struct Entry {
    explicit Entry(std::string id) : session(std::move(id)) {}
    mcp::Session session;
    EventLogs event_logs;  // resumable streams (2025-11-25 and later)
    // The principal that created the session (Principal::key()); empty without authentication. A session
    // id is not a credential: another user's token on it finds no session.
    std::string owner;
    std::atomic<Clock::rep> last_used{0};
  };

  /// Why no session was created.
  enum class Refusal {
    kFull,       // the store holds max_sessions
    kOwnerFull,  // the owner holds max_per_owner
  };

  SessionStore(std::size_t max_sessions = kDefaultMaxSessions,
               std::chrono::milliseconds idle_timeout = kDefaultSessionIdleTimeout,
               std::size_t max_per_owner = kDefaultMaxSessionsPerPrincipal)
      : max_sessions_(max_sessions), idle_timeout_(idle_timeout), max_per_owner_(max_per_owner) {}

  /// A new session owned by `owner` (Principal::key(); empty without authentication, where only the store's
  /// own limit applies).
  [[nodiscard]] std::expected<std::shared_ptr<Entry>, Refusal> create(Clock::time_point now,
                                                                      std::string owner = {});
  /// The session and marks it used, or nullptr.
  [[nodiscard]] std::shared_ptr<Entry> find(std::string_view id, Clock::time_point now);
  /// Ends a session; false when unknown.
  bool remove(std::string_view id);
  /// Ends sessions idle for longer than the timeout; returns how many.
  std::size_t expire(Clock::time_point now);
  /// Ends all sessions (shutdown).
  void clear();
  [[nodiscard]] std::size_t size() const;
  /// Calls `visit` for each session (under the lock: keep it short).
  void for_each(const std::function<void(Entry&)>& visit) const;

 private:
  /// Under the lock: one session of `owner` fewer.
  void release_owner(const std::string& owner);

  const std::size_t max_sessions_;
  const std::chrono::milliseconds idle_timeout_;
  const std::size_t max_per_owner_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<Entry>> sessions_;
  std::unordered_map<std::string, std::size_t> per_owner_;  // owners with at least one session
};

}  // namespace deputy::transport
