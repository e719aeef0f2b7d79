#pragma once
// Counters of what the token endpoint issued and refused, for tests that must know whether a token was really
// requested (a cache hit on the middle tier issues nothing) and for whom: by grant type, by (grant, client,
// user), and refusals by reason. Served at GET /_dev/stats (admin_endpoints.hpp) and readable in-process from
// IdentityProvider::stats(). Thread-safe.

#include "deputy/devidp/errors.hpp"

#include <boost/json/object.hpp>

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>

namespace deputy::devidp {

enum class GrantType : std::uint8_t {
  kAuthorizationCode,  // authorization_code
  kRefreshToken,       // refresh_token
  kClientCredentials,  // client_credentials
  kOnBehalfOf,         // urn:ietf:params:oauth:grant-type:jwt-bearer, requested_token_use=on_behalf_of
  kTokenExchange,      // urn:ietf:params:oauth:grant-type:token-exchange (RFC 8693)
};
inline constexpr std::size_t kGrantTypeCount = 5;

/// The label of a grant in the stats: authorization_code, refresh_token, client_credentials, on_behalf_of,
/// token_exchange.
[[nodiscard]] std::string_view to_string(GrantType grant);

/// One (grant, client, user) key. client is the application's key in the directory (server, client); user the
/// user's key (alice), empty for app-only tokens.
struct IssuanceKey {
  GrantType grant;
  std::string client;
  std::string user;
  auto operator<=>(const IssuanceKey&) const = default;
};

struct TokenStatsSnapshot {
  std::array<std::uint64_t, kGrantTypeCount> issued{};  // by GrantType
  std::map<IssuanceKey, std::uint64_t> by_client_user;
  std::map<std::string, std::uint64_t, std::less<>> refused;  // by ErrorInfo::reason

  [[nodiscard]] std::uint64_t total() const;
  [[nodiscard]] std::uint64_t count(GrantType grant) const { return issued[static_cast<std::size_t>(grant)]; }
  [[nodiscard]] std::uint64_t count(GrantType grant, std::string_view client, std::string_view user) const;
  [[nodiscard]] std::uint64_t refusals(std::string_view reason) const;
  /// {"issued":{"authorization_code":n,...},"total":n,"by_client_user":[{"grant","client","user","count"}],
  /// "refused":{"consent_required":n,...}}
  [[nodiscard]] boost::json::object to_json() const;
};

class TokenStats {
 public:
  void issued(GrantType grant, std::string_view client, std::string_view user);
  void refused(IdpError error);
  [[nodiscard]] TokenStatsSnapshot snapshot() const;
  void reset();

 private:
  mutable std::mutex mutex_;
  TokenStatsSnapshot counts_;
};

}  // namespace deputy::devidp
