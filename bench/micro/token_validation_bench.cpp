// Micro-benchmarks of token validation (Google Benchmark), with their limit measured in the same run:
// one bare RSA-2048 signature verification (OpenSSL EVP), which an uncached check cannot beat.
//   cached token:     a hash lookup and a string compare — the target is well under a microsecond
//   first-seen token: parse + one RSA verify + claims — the target is about one RSA verify
#include "deputy/auth/base64url.hpp"
#include "deputy/auth/token_validator.hpp"

#include <benchmark/benchmark.h>
#include <openssl/evp.h>

namespace {

using deputy::auth::Alg;
using deputy::auth::KeySet;
using deputy::auth::PkeyPtr;
namespace json = boost::json;

constexpr std::int64_t kNow = 1'800'000'000;

/// An Entra-shaped v2 access token's claims (about 1.3 KB once signed).
json::object claims(int serial) {
  return {{"aud", "api://11111111-2222-3333-4444-555555555555"},
          {"iss", "https://login.microsoftonline.com/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee/v2.0"},
          {"iat", kNow - 60}, {"nbf", kNow - 60}, {"exp", kNow + 3600},
          {"aio", "AWQAm/8YAAAAx0rUb7qIh3pE4GsZ1V+Z6Pm5S0pD9y9X1vQ5lC3tE2rJ8nO4mK7iH6gF5dS3aQ=="},
          {"azp", "99999999-8888-7777-6666-555555555555"}, {"azpacr", "1"},
          {"name", "Alice Example"}, {"oid", "00000000-1111-2222-3333-444444444444"},
          {"preferred_username", "alice@contoso.example"}, {"rh", "0.AXkAexample-refresh-hint."},
          {"roles", {"Task.All", "Task.Write"}}, {"scp", "access_as_user"},
          {"sub", "pairwise-subject-for-this-app-0123456789"},
          {"tid", "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"}, {"uti", "uti-" + std::to_string(serial)},
          {"ver", "2.0"}, {"xms_cc", {"cp1"}}};
}

struct Fixture {
  Fixture() {
    key = deputy::auth::adopt_pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048)));
    auto jwk = deputy::auth::make_jwk(key.get(), "k1");
    (void)keys.add(std::move(*jwk));
    options.issuers = {"https://login.microsoftonline.com/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee/v2.0"};
    options.audiences = {"api://11111111-2222-3333-4444-555555555555"};
    options.required_scopes = {"access_as_user"};
    const json::object header{{"alg", "RS256"}, {"typ", "JWT"}, {"kid", "k1"}};
    for (int i = 0; i < kTokens; ++i) tokens.push_back(*deputy::auth::sign(header, claims(i), key.get(), Alg::kRs256));
  }
  static constexpr int kTokens = 512;
  PkeyPtr key;
  KeySet keys;
  deputy::auth::ValidatorOptions options;
  std::vector<std::string> tokens;
};

Fixture& fixture() {
  static Fixture instance;
  return instance;
}

deputy::auth::TokenValidator make_validator(std::size_t cache_entries) {
  auto options = fixture().options;
  options.cache_entries = cache_entries;
  return {options, nullptr, [] { return std::chrono::system_clock::time_point(std::chrono::seconds(kNow)); }};
}

void CachedToken(benchmark::State& state) {
  auto validator = make_validator(1024);
  const auto& token = fixture().tokens[0];
  if (!validator.verify(token, fixture().keys)) state.SkipWithError("token refused");
  for (auto _ : state) benchmark::DoNotOptimize(validator.verify(token, fixture().keys));
}
BENCHMARK(CachedToken);

void FirstSeenToken(benchmark::State& state) {
  // A cache of one entry per shard and 512 tokens in turn: every lookup misses.
  auto validator = make_validator(16);
  std::size_t i = 0;
  for (auto _ : state) {
    auto result = validator.verify(fixture().tokens[i++ % Fixture::kTokens], fixture().keys);
    if (!result) state.SkipWithError("token refused");
  }
}
BENCHMARK(FirstSeenToken);

void BareRsaVerify(benchmark::State& state) {
  // The limit: one RS256 verification of the same signing input, nothing else.
  const auto& token = fixture().tokens[0];
  const auto dot = token.rfind('.');
  const std::string input = token.substr(0, dot);
  auto signature = deputy::auth::base64url_decode(std::string_view(token).substr(dot + 1));
  for (auto _ : state) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, fixture().key.get());
    const int ok = EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature->data()), signature->size(),
                                    reinterpret_cast<const unsigned char*>(input.data()), input.size());
    EVP_MD_CTX_free(ctx);
    if (ok != 1) state.SkipWithError("bad signature");
  }
}
BENCHMARK(BareRsaVerify);

}  // namespace

BENCHMARK_MAIN();
