#include "deputy/devidp/token_stats.hpp"

#include <boost/json.hpp>

#include <numeric>

namespace deputy::devidp {

namespace json = boost::json;

std::string_view to_string(GrantType grant) {
  switch (grant) {
    case GrantType::kAuthorizationCode:
      return "authorization_code";
    case GrantType::kRefreshToken:
      return "refresh_token";
    case GrantType::kClientCredentials:
      return "client_credentials";
    case GrantType::kOnBehalfOf:
      return "on_behalf_of";
    case GrantType::kTokenExchange:
      return "token_exchange";
  }
  return "unknown";
}

std::uint64_t TokenStatsSnapshot::total() const {
  return std::accumulate(issued.begin(), issued.end(), std::uint64_t{0});
}

std::uint64_t TokenStatsSnapshot::count(GrantType grant, std::string_view client,
                                        std::string_view user) const {
  const auto it = by_client_user.find(IssuanceKey{grant, std::string(client), std::string(user)});
  return it == by_client_user.end() ? 0 : it->second;
}

std::uint64_t TokenStatsSnapshot::refusals(std::string_view reason) const {
  const auto it = refused.find(reason);
  return it == refused.end() ? 0 : it->second;
}

json::object TokenStatsSnapshot::to_json() const {
  json::object counts;
  for (std::size_t i = 0; i < kGrantTypeCount; ++i) counts[to_string(static_cast<GrantType>(i))] = issued[i];
  json::array entries;
  for (const auto& [key, count] : by_client_user) {
    entries.emplace_back(json::object{
        {"grant", to_string(key.grant)}, {"client", key.client}, {"user", key.user}, {"count", count}});
  }
  json::object refusals;
  for (const auto& [reason, count] : refused) refusals[reason] = count;
  json::object out;
  out["issued"] = std::move(counts);
  out["total"] = total();
  out["by_client_user"] = std::move(entries);
  out["refused"] = std::move(refusals);
  return out;
}

void TokenStats::issued(GrantType grant, std::string_view client, std::string_view user) {
  const std::scoped_lock lock(mutex_);
  ++counts_.issued[static_cast<std::size_t>(grant)];
  // Bounded by the directory: keys are apps and users of it, never the caller's text.
  ++counts_.by_client_user[IssuanceKey{grant, std::string(client), std::string(user)}];
}

void TokenStats::refused(IdpError error) {
  const std::scoped_lock lock(mutex_);
  ++counts_.refused[std::string(info(error).reason)];
}

TokenStatsSnapshot TokenStats::snapshot() const {
  const std::scoped_lock lock(mutex_);
  return counts_;
}

void TokenStats::reset() {
  const std::scoped_lock lock(mutex_);
  counts_ = {};
}

}  // namespace deputy::devidp
