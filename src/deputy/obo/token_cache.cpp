#include "deputy/obo/token_cache.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstdint>

namespace deputy::obo {

namespace {

void append_length_prefixed(std::string& out, std::string_view part) {
  const std::uint64_t size = part.size();
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((size >> shift) & 0xff));
  out.append(part);
}

}  // namespace

std::string cache_key(std::string_view subject_token, std::string_view subject_key,
                      std::string_view client_id, std::vector<std::string> scopes) {
  std::ranges::sort(scopes);
  const auto [first, last] = std::ranges::unique(scopes);
  scopes.erase(first, last);
  std::string input;
  input.reserve(subject_token.size() + subject_key.size() + client_id.size() + 64);
  append_length_prefixed(input, subject_token);
  append_length_prefixed(input, subject_key);
  append_length_prefixed(input, client_id);
  for (const auto& scope : scopes) append_length_prefixed(input, scope);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(input.data(), input.size(), digest.data(), &length, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<const char*>(digest.data()), length);
}

TokenCache::TokenCache(std::size_t max_entries, std::chrono::seconds margin)
    : max_entries_(std::max<std::size_t>(max_entries, 1)), margin_(margin) {}

std::optional<DownstreamToken> TokenCache::find(const std::string& key, Clock::time_point now) {
  const std::lock_guard lock(mutex_);
  const auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  if (now >= it->second.expires_at - margin_) {
    erase_locked(key);
    return std::nullopt;
  }
  return it->second;
}

void TokenCache::store(const std::string& key, DownstreamToken token, Clock::time_point now) {
  const std::lock_guard lock(mutex_);
  erase_locked(key);
  if (now >= token.expires_at - margin_) return;  // would never be served
  // Expired entries first (soonest first in by_expiry_), then, if still full, the soonest to expire: it has
  // the least use left.
  while (!by_expiry_.empty() && now >= by_expiry_.begin()->first - margin_) {
    const std::string stale = by_expiry_.begin()->second;
    erase_locked(stale);
  }
  while (entries_.size() >= max_entries_ && !by_expiry_.empty()) {
    const std::string oldest = by_expiry_.begin()->second;
    erase_locked(oldest);
  }
  token.from_cache = false;
  by_expiry_.emplace(token.expires_at, key);
  entries_.emplace(key, std::move(token));
}

void TokenCache::erase(const std::string& key) {
  const std::lock_guard lock(mutex_);
  erase_locked(key);
}

void TokenCache::clear() {
  const std::lock_guard lock(mutex_);
  entries_.clear();
  by_expiry_.clear();
}

std::size_t TokenCache::size() const {
  const std::lock_guard lock(mutex_);
  return entries_.size();
}

void TokenCache::erase_locked(const std::string& key) {
  const auto it = entries_.find(key);
  if (it == entries_.end()) return;
  by_expiry_.erase({it->second.expires_at, key});
  entries_.erase(it);
}

}  // namespace deputy::obo
