#include "deputy/auth/token_validator.hpp"

#include "deputy/audit/metrics.hpp"

#include <spdlog/spdlog.h>

namespace deputy::auth {

namespace asio = boost::asio;

namespace {

Error from(JwsError error) {
  switch (error) {
    case JwsError::kTokenTooLarge: return Error::kTooLarge;
    case JwsError::kMalformed:
    case JwsError::kBadBase64url:
    case JwsError::kHeaderNotObject:
    case JwsError::kPayloadNotObject: return Error::kMalformed;
    case JwsError::kAlgNone:
    case JwsError::kAlgHmac:
    case JwsError::kAlgNotAllowed: return Error::kAlgorithmNotAllowed;
    case JwsError::kCritUnsupported: return Error::kUnsupportedCritical;
    case JwsError::kKeyTypeMismatch:
    case JwsError::kKeyAlgMismatch: return Error::kKeyMismatch;
    case JwsError::kSignatureMalformed:
    case JwsError::kSignatureInvalid:
    case JwsError::kInternal: return Error::kBadSignature;
  }
  return Error::kMalformed;
}

VerifiedTokenCache::Clock::time_point not_before_of(const json::object& payload) {
  const auto* nbf = payload.if_contains("nbf");
  if (nbf == nullptr) return VerifiedTokenCache::Clock::time_point::min();
  const auto seconds = nbf->is_int64()    ? nbf->get_int64()
                       : nbf->is_double() ? static_cast<std::int64_t>(nbf->get_double())
                                          : 0;
  return VerifiedTokenCache::Clock::time_point(std::chrono::seconds(seconds));
}

}  // namespace

VerifiedTokenCache::VerifiedTokenCache(std::size_t capacity) : per_shard_(std::max<std::size_t>(1, capacity / kShards)) {}

std::shared_ptr<const Principal> VerifiedTokenCache::find(std::string_view token, Clock::time_point now) const {
  const std::size_t hash = std::hash<std::string_view>{}(token);
  auto& shard = shard_for(hash);
  std::lock_guard lock(shard.mutex);
  auto [begin, end] = shard.entries.equal_range(hash);
  for (auto it = begin; it != end; ++it) {
    // The hash only finds candidates; the whole token must match.
    if (exchange_subject(*it->second.principal) != token) continue;
    if (now >= it->second.principal->expires_at || now < it->second.not_before) {
      shard.entries.erase(it);  // rechecked by the full path, which applies the leeway and says why
      return nullptr;
    }
    return it->second.principal;
  }
  return nullptr;
}

void VerifiedTokenCache::insert(std::shared_ptr<const Principal> principal, std::string kid,
                                Clock::time_point not_before, Clock::time_point now) {
  const std::size_t hash = std::hash<std::string_view>{}(exchange_subject(*principal));
  auto& shard = shard_for(hash);
  std::lock_guard lock(shard.mutex);
  if (shard.entries.size() >= per_shard_) {
    // Full: drop the expired first; if none, an arbitrary one (bounded memory beats a perfect hit rate).
    std::erase_if(shard.entries, [&](const auto& entry) { return entry.second.principal->expires_at <= now; });
    if (shard.entries.size() >= per_shard_) shard.entries.erase(shard.entries.begin());
  }
  shard.entries.emplace(hash, Entry{std::move(principal), std::move(kid), not_before});
}

void VerifiedTokenCache::forget_kids(const std::vector<std::string>& kids) {
  for (auto& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    std::erase_if(shard.entries, [&](const auto& entry) {
      return std::ranges::find(kids, entry.second.kid) != kids.end();
    });
  }
}

std::size_t VerifiedTokenCache::size() const {
  std::size_t total = 0;
  for (auto& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    total += shard.entries.size();
  }
  return total;
}

TokenValidator::TokenValidator(const ValidatorOptions& options, std::shared_ptr<KeyFetcher> fetcher, Now now,
                               JwksCache::Now steady_now)
    : required_type_(options.required_type),
      claims_(options),
      now_(std::move(now)),
      jwks_(std::move(fetcher), options.jwks_refresh, options.unknown_kid_refetch, std::move(steady_now)),
      cache_(options.cache_entries) {
  policy_.algorithms = AlgSet();
  for (const auto& name : options.algorithms) {
    if (auto alg = alg_from_string(name)) policy_.algorithms.insert(*alg);
  }
  // A key that leaves the issuer's set takes the tokens it signed with it.
  jwks_.on_keys_removed([this](const std::vector<std::string>& kids) { cache_.forget_kids(kids); });
}

std::expected<Jws, Error> TokenValidator::parse(std::string_view token) const {
  auto jws = parse_jws(token, policy_);
  if (!jws) return std::unexpected(from(jws.error()));
  if (!required_type_.empty()) {
    const auto typ = jws->typ();
    if (!typ || *typ != required_type_) return std::unexpected(Error::kWrongType);
  }
  return std::move(*jws);
}

std::expected<std::shared_ptr<const Principal>, Error> TokenValidator::check(const Jws& jws, const Jwk& key,
                                                                             std::string_view token) const {
  if (auto verified = auth::verify(jws, key); !verified) {
    if (verified.error() == JwsError::kInternal) spdlog::error("token verification failed inside OpenSSL");
    return std::unexpected(from(verified.error()));
  }
  const auto now = now_();
  auto principal = claims_.check(jws.payload(), now);
  if (!principal) return std::unexpected(principal.error());
  principal->set_token(std::string(token));
  auto shared = std::make_shared<const Principal>(std::move(*principal));
  cache_.insert(shared, std::string(jws.kid().value_or("")),
                                                 not_before_of(jws.payload()), now);
  return shared;
}

std::expected<std::shared_ptr<const Principal>, Error> TokenValidator::verify(std::string_view token,
                                                                              const KeySet& keys) const {
  if (token.size() > kMaxTokenSize) return std::unexpected(Error::kTooLarge);
  if (auto cached = cache_.find(token, now_())) return cached;
  auto jws = parse(token);
  if (!jws) return std::unexpected(jws.error());
  auto key = keys.select(jws->kid());
  if (!key) return std::unexpected(Error::kUnknownKey);
  return check(*jws, **key, token);
}

asio::awaitable<std::expected<std::shared_ptr<const Principal>, Error>> TokenValidator::authenticate(
    std::string_view token) {
  static auto& hits = audit::Metrics::global().counter("deputy_token_cache_total", R"(result="hit")",
                                                       "Verified-token cache lookups");
  static auto& misses = audit::Metrics::global().counter("deputy_token_cache_total", R"(result="miss")");
  // The size cap comes before anything else touches the token, even the cache's hash.
  if (token.size() > kMaxTokenSize) co_return std::unexpected(Error::kTooLarge);
  if (auto cached = cache_.find(token, now_())) {
    hits.add();
    co_return cached;
  }
  misses.add();
  auto jws = parse(token);
  if (!jws) co_return std::unexpected(jws.error());

  auto keys = co_await jwks_.keys();
  if (!keys) co_return std::unexpected(Error::kKeysUnavailable);
  auto key = keys->select(jws->kid());
  if (!key && key.error() == KeySelectError::kKidUnknown) {
    // Keys rotate: a kid we do not know may be a new key. One rate-limited, shared refetch finds out.
    keys = co_await jwks_.refetch_for_unknown_kid();
    if (!keys) co_return std::unexpected(Error::kKeysUnavailable);
    key = keys->select(jws->kid());
  }
  if (!key) co_return std::unexpected(Error::kUnknownKey);
  co_return check(*jws, **key, token);
}

}  // namespace deputy::auth
