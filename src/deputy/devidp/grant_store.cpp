#include "deputy/devidp/grant_store.hpp"

#include "deputy/auth/base64url.hpp"

#include <openssl/evp.h>

#include <array>

namespace deputy::devidp {

std::string secret_hash(std::string_view secret) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(secret.data(), secret.size(), digest.data(), &length, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<const char*>(digest.data()), length);
}

std::string random_secret(const Random& random) {
  std::array<unsigned char, 32> bytes{};
  random(bytes);
  return auth::base64url_encode(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

template <typename Grant>
void GrantStore::bound(Table<Grant>& table, std::size_t limit, Clock::time_point now) {
  // Past the bound, the grant nearest its end goes first: bounded memory beats a perfect memory.
  while (table.live.size() >= limit) {
    auto oldest = table.live.begin();
    for (auto it = table.live.begin(); it != table.live.end(); ++it) {
      if (it->second.expires_at < oldest->second.expires_at) oldest = it;
    }
    table.live.erase(oldest);
  }
  if (table.redeemed.size() >= limit) {
    std::erase_if(table.redeemed, [&](const auto& entry) { return entry.second < now; });
    while (table.redeemed.size() >= limit) table.redeemed.erase(table.redeemed.begin());
  }
}

template <typename Grant>
std::expected<Grant, RedeemError> GrantStore::redeem(Table<Grant>& table, std::string_view secret,
                                                     std::string_view client_id, Clock::time_point now) {
  const auto key = secret_hash(secret);
  if (auto used = table.redeemed.find(key); used != table.redeemed.end()) {
    if (used->second >= now) return std::unexpected(RedeemError::kAlreadyRedeemed);
    table.redeemed.erase(used);
    return std::unexpected(RedeemError::kExpired);
  }
  auto it = table.live.find(key);
  if (it == table.live.end()) return std::unexpected(RedeemError::kUnknown);
  // Checked before the grant is consumed: whoever holds another client's code cannot spend it for that client.
  if (it->second.client_id != client_id) return std::unexpected(RedeemError::kWrongClient);
  Grant grant = std::move(it->second);
  table.live.erase(it);
  if (grant.expires_at < now) return std::unexpected(RedeemError::kExpired);
  // Remembered until it would have expired, so that a second use is told apart from garbage.
  table.redeemed.emplace(key, grant.expires_at);
  return grant;
}

std::string GrantStore::issue_code(CodeGrant grant, const Random& random, Clock::time_point now) {
  auto code = random_secret(random);
  std::lock_guard lock(mutex_);
  bound(codes_, kMaxCodes, now);
  codes_.live.emplace(secret_hash(code), std::move(grant));
  return code;
}

std::expected<CodeGrant, RedeemError> GrantStore::redeem_code(std::string_view code, std::string_view client_id,
                                                              Clock::time_point now) {
  std::lock_guard lock(mutex_);
  return redeem(codes_, code, client_id, now);
}

std::string GrantStore::issue_refresh_token(RefreshGrant grant, const Random& random, Clock::time_point now) {
  auto token = random_secret(random);
  std::lock_guard lock(mutex_);
  bound(refresh_tokens_, kMaxRefreshTokens, now);
  refresh_tokens_.live.emplace(secret_hash(token), std::move(grant));
  return token;
}

std::expected<RefreshGrant, RedeemError> GrantStore::redeem_refresh_token(std::string_view token,
                                                                          std::string_view client_id,
                                                                          Clock::time_point now) {
  std::lock_guard lock(mutex_);
  return redeem(refresh_tokens_, token, client_id, now);
}

void GrantStore::restore_refresh_token(std::string_view token, RefreshGrant grant) {
  const auto key = secret_hash(token);
  std::lock_guard lock(mutex_);
  refresh_tokens_.redeemed.erase(key);
  refresh_tokens_.live.emplace(key, std::move(grant));
}

}  // namespace deputy::devidp
