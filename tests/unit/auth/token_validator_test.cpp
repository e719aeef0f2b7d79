// The whole token check: keys fetched (from memory), signatures, claims, the verified-token cache, key
// rotation and outages of the key server.
#include "deputy/auth/token_validator.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>
#include <openssl/evp.h>

namespace deputy::auth {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::system_clock;

constexpr std::int64_t kNow = 1'800'000'000;
const std::string kIssuer = "https://login.example.com/tenant/v2.0";

PkeyPtr rsa_key() { return adopt_pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048))); }

/// A JWKS served from memory: counts fetches, can fail, can be held until the test lets it go.
class MemoryKeys final : public KeyFetcher {
 public:
  asio::awaitable<std::expected<std::string, std::string>> fetch() override {
    ++fetches;
    if (gate) {
      auto [ec] = co_await gate->async_receive(asio::as_tuple(asio::use_awaitable));
    }
    if (down) co_return std::unexpected(std::string("connection refused"));
    co_return document;
  }
  void publish(const std::vector<std::pair<std::string, const PkeyPtr*>>& keys) {
    json::array entries;
    for (const auto& [kid, key] : keys) entries.push_back(*to_json(*make_jwk(key->get(), kid)));
    document = json::serialize(json::object{{"keys", std::move(entries)}});
  }
  std::string document;
  bool down = false;
  int fetches = 0;
  std::shared_ptr<asio::experimental::concurrent_channel<void(boost::system::error_code)>> gate;
};

std::string token_for(const PkeyPtr& key, std::string_view kid, json::object changes = {}) {
  json::object claims{{"iss", kIssuer},        {"aud", "api://server"}, {"tid", "tenant"},
                      {"oid", "alice"},        {"sub", "alice-sub"},    {"scp", "access_as_user"},
                      {"roles", {"Task.All"}}, {"ver", "2.0"},          {"nbf", kNow - 10},
                      {"exp", kNow + 3600},    {"preferred_username", "alice@example.com"}};
  for (auto& [name, value] : changes) claims[name] = value;
  json::object header{{"alg", "RS256"}, {"typ", "JWT"}, {"kid", kid}};
  return *sign(header, claims, key.get(), Alg::kRs256);
}

class ValidatorTest : public ::testing::Test {
 protected:
  ValidatorTest() {
    options_.issuers = {kIssuer};
    options_.audiences = {"api://server"};
    options_.required_scopes = {"access_as_user"};
    keys_ = std::make_shared<MemoryKeys>();
    keys_->publish({{"k1", &key1_}});
  }

  TokenValidator& validator() {
    if (!validator_) {
      validator_ = std::make_unique<TokenValidator>(
          options_, keys_, [this] { return now_; }, [this] { return steady_; });
    }
    return *validator_;
  }

  std::expected<std::shared_ptr<const Principal>, Error> authenticate(const std::string& token) {
    auto future = asio::co_spawn(context_, validator().authenticate(token), asio::use_future);
    context_.restart();
    context_.run();
    return future.get();
  }

  asio::io_context context_;
  ValidatorOptions options_;
  std::shared_ptr<MemoryKeys> keys_;
  PkeyPtr key1_ = rsa_key();
  PkeyPtr key2_ = rsa_key();
  Clock::time_point now_{std::chrono::seconds(kNow)};
  JwksCache::Clock::time_point steady_{std::chrono::hours(1000)};
  std::unique_ptr<TokenValidator> validator_;
};

TEST_F(ValidatorTest, ValidTokenThenFromTheCache) {
  const auto token = token_for(key1_, "k1");
  auto first = authenticate(token);
  ASSERT_TRUE(first) << to_string(first.error());
  EXPECT_EQ((*first)->username, "alice@example.com");
  EXPECT_EQ(exchange_subject(**first), token);
  auto second = authenticate(token);
  ASSERT_TRUE(second);
  EXPECT_EQ(first->get(), second->get());  // the same verified principal, no second verification
  EXPECT_EQ(keys_->fetches, 1);
}

TEST_F(ValidatorTest, CachedTokenStillExpires) {
  const auto token = token_for(key1_, "k1", {{"exp", kNow + 100}});
  ASSERT_TRUE(authenticate(token));
  now_ += std::chrono::seconds(100 + 61);
  auto later = authenticate(token);
  ASSERT_FALSE(later);
  EXPECT_EQ(later.error(), Error::kExpired);
}

TEST_F(ValidatorTest, NewKidAppearsOneRefetchThenAccepted) {
  ASSERT_TRUE(authenticate(token_for(key1_, "k1")));
  keys_->publish({{"k1", &key1_}, {"k2", &key2_}});
  steady_ += std::chrono::seconds(61);
  auto rotated = authenticate(token_for(key2_, "k2"));
  ASSERT_TRUE(rotated) << to_string(rotated.error());
  EXPECT_EQ(keys_->fetches, 2);
}

TEST_F(ValidatorTest, UnknownKidRefetchIsRateLimited) {
  ASSERT_TRUE(authenticate(token_for(key1_, "k1")));
  steady_ += std::chrono::seconds(61);
  EXPECT_EQ(authenticate(token_for(key2_, "invented-1")).error(), Error::kUnknownKey);
  EXPECT_EQ(authenticate(token_for(key2_, "invented-2")).error(), Error::kUnknownKey);
  EXPECT_EQ(authenticate(token_for(key2_, "invented-3")).error(), Error::kUnknownKey);
  EXPECT_EQ(keys_->fetches, 2);  // the first fetch and one refetch, not one per token
  steady_ += std::chrono::seconds(61);
  EXPECT_EQ(authenticate(token_for(key2_, "invented-4")).error(), Error::kUnknownKey);
  EXPECT_EQ(keys_->fetches, 3);
}

TEST_F(ValidatorTest, HundredConcurrentUnknownKidsShareOneFetch) {
  ASSERT_TRUE(authenticate(token_for(key1_, "k1")));
  keys_->publish({{"k1", &key1_}, {"k2", &key2_}});
  steady_ += std::chrono::seconds(61);
  keys_->gate = std::make_shared<asio::experimental::concurrent_channel<void(boost::system::error_code)>>(context_, 1);
  int accepted = 0;
  std::vector<std::string> tokens;
  for (int i = 0; i < 100; ++i) tokens.push_back(token_for(key2_, "k2", {{"jti", std::to_string(i)}}));
  for (const auto& token : tokens) {
    asio::co_spawn(context_, validator().authenticate(token), [&](std::exception_ptr, auto result) {
      if (result) ++accepted;
    });
  }
  context_.restart();
  context_.poll();  // every request is now waiting on the one fetch
  keys_->gate->try_send(boost::system::error_code{});
  context_.run();
  EXPECT_EQ(accepted, 100);
  EXPECT_EQ(keys_->fetches, 2);
}

TEST_F(ValidatorTest, KeyServerDownCachedKeysKeepWorking) {
  ASSERT_TRUE(authenticate(token_for(key1_, "k1")));
  keys_->down = true;
  steady_ += std::chrono::hours(2);  // the set is due for a refresh, which fails
  for (int i = 0; i < 3; ++i) {
    auto result = authenticate(token_for(key1_, "k1", {{"jti", std::to_string(i)}}));
    EXPECT_TRUE(result) << (result ? "" : to_string(result.error()));
  }
}

TEST_F(ValidatorTest, NoKeysEverIsUnavailableNotInvalid) {
  keys_->down = true;
  EXPECT_EQ(authenticate(token_for(key1_, "k1")).error(), Error::kKeysUnavailable);
}

TEST_F(ValidatorTest, KeyLeavingTheSetTakesItsTokensAlong) {
  const auto token = token_for(key1_, "k1");
  ASSERT_TRUE(authenticate(token));
  ASSERT_EQ(validator().cache().size(), 1U);
  keys_->publish({{"k2", &key2_}});  // the issuer retires k1
  steady_ += std::chrono::hours(2);
  // A token of the new key brings the new set in.
  ASSERT_TRUE(authenticate(token_for(key2_, "k2")));
  // The token k1 signed was verified and cached before, but its key is gone: so is the token.
  auto again = authenticate(token);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error(), Error::kUnknownKey);
}

struct Forged {
  const char* name;
  std::function<std::string(const PkeyPtr& good, const PkeyPtr& other)> make;
  Error expected;
};

class ForgedToken : public ValidatorTest, public ::testing::WithParamInterface<Forged> {};

TEST_P(ForgedToken, IsRefusedForItsReason) {
  auto result = authenticate(GetParam().make(key1_, key2_));
  ASSERT_FALSE(result) << GetParam().name;
  EXPECT_EQ(result.error(), GetParam().expected) << GetParam().name << ": " << to_string(result.error());
}

std::string replace_part(const std::string& token, int index, const std::string& part) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (int i = 0; i < 3; ++i) {
    auto dot = token.find('.', start);
    parts.push_back(token.substr(start, dot - start));
    start = dot + 1;
  }
  parts[index] = part;
  return parts[0] + "." + parts[1] + "." + parts[2];
}

INSTANTIATE_TEST_SUITE_P(
    FromTheAttackersSide, ForgedToken,
    ::testing::Values(
        Forged{"other_key_same_kid", [](auto&, auto& other) { return token_for(other, "k1"); }, Error::kBadSignature},
        Forged{"expired", [](auto& good, auto&) { return token_for(good, "k1", {{"exp", kNow - 3600}}); },
               Error::kExpired},
        Forged{"wrong_audience",
               [](auto& good, auto&) { return token_for(good, "k1", {{"aud", "https://graph.microsoft.com"}}); },
               Error::kWrongAudience},
        Forged{"payload_swapped",
               [](auto& good, auto&) {
                 auto honest = token_for(good, "k1");
                 auto elevated = token_for(good, "k1", {{"roles", {"Admin"}}});
                 auto payload = elevated.substr(elevated.find('.') + 1);
                 return replace_part(honest, 1, payload.substr(0, payload.find('.')));
               },
               Error::kBadSignature},
        Forged{"alg_none",
               [](auto& good, auto&) { return replace_part(token_for(good, "k1"), 0, "eyJhbGciOiJub25lIn0"); },
               Error::kAlgorithmNotAllowed},  // {"alg":"none"}
        Forged{"megabyte", [](auto&, auto&) { return std::string(1 << 20, 'a'); }, Error::kTooLarge},
        Forged{"two_parts", [](auto&, auto&) { return std::string("eyJhbGciOiJSUzI1NiJ9.e30"); }, Error::kMalformed}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace deputy::auth
