// Fuzz target for the JOSE module: the bearer token is the first thing an attacker controls.
//
// Each input is tried three ways:
//   1. as a compact token: parse_jws, then verify against two fixed public keys;
//   2. split at its first two newlines into header JSON, payload JSON and raw signature bytes, each
//      base64url-encoded and joined with dots, so mutations reach the JSON and the alg/crit/kid checks
//      instead of dying in base64url;
//   3. as a JWKS document (parse_jwks).
// Oracles besides the sanitizers: a verified token must have one of the two RFC signing inputs (the
// keys are the RFC's, and nobody else holds their private halves, so anything else verifying is a
// forgery); a parsed token obeys the size cap and the allowlist and has no crit; strict base64url
// round-trips exactly; every error has a reason string.
//
// libFuzzer with clang (16 or later: clang 14, Debian 12's, cannot compile libstdc++ 12's <expected>):
//   clang++ -std=c++23 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc tests/fuzz/jws_fuzz.cpp
//     src/deputy/auth/base64url.cpp src/deputy/auth/jwk.cpp src/deputy/auth/jws.cpp
//     -lboost_json -lssl -lcrypto -o jws_fuzz
//   ./jws_fuzz -max_len=4096 <scratch copy of tests/fuzz/corpus/jws>
// libFuzzer with g++ (what works on Debian 12): g++ cannot emit libFuzzer's edge coverage, but its
// -fsanitize-coverage=trace-cmp feeds libFuzzer's value profile, which is enough to grow a corpus:
//   g++ -std=c++23 -g -O1 -fsanitize=address,undefined -fsanitize-coverage=trace-cmp -Isrc
//     tests/fuzz/jws_fuzz.cpp src/deputy/auth/base64url.cpp src/deputy/auth/jwk.cpp src/deputy/auth/jws.cpp
//     /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a
//     -lboost_json -lssl -lcrypto -pthread -ldl -o /tmp/jws_fuzz
//   /tmp/jws_fuzz -use_value_profile=1 -max_len=4096 -max_total_time=60 <scratch copy of the corpus>
// Replay and mutation driver (any compiler, no libFuzzer; a quick check in CI):
//   g++ -std=c++23 -g -O1 -fsanitize=address,undefined -DDEPUTY_FUZZ_MAIN -Isrc tests/fuzz/jws_fuzz.cpp
//     src/deputy/auth/base64url.cpp src/deputy/auth/jwk.cpp src/deputy/auth/jws.cpp
//     -lboost_json -lssl -lcrypto -o /tmp/jws_fuzz
//   /tmp/jws_fuzz tests/fuzz/corpus/jws                    # replay the corpus
//   /tmp/jws_fuzz --mutate 200000 tests/fuzz/corpus/jws    # plus seeded random mutations of it
//
// The corpus (tests/fuzz/corpus/jws), decoded:
//   seed-rfc7515-a2-rs256.txt   RFC 7515 A.2, verifies with the A.2 key.
//                               header {"alg":"RS256"}
//                               payload {"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true}
//   seed-rfc7515-a3-es256.txt   RFC 7515 A.3, verifies with the A.3 key. header {"alg":"ES256"}, same payload.
//   seed-alg-none.txt           header {"alg":"none"}, payload {"sub":"alice"}, empty signature.
//   seed-es256-zero-sig.txt     header {"alg":"ES256","kid":"a3"}, payload {"sub":"alice"}, r = s = 0.
//   seed-structured-crit.txt    view 2: header {"alg":"RS256","kid":"k","crit":["exp"],"exp":1},
//                               payload {"sub":"alice","aud":["api://deputy"],"nested":{"a":[1,2.5,null]}},
//                               signature "sig".
//   seed-structured-es384.txt   view 2: header {"alg":"ES384","typ":"JWT","jku":"https://attacker.example/k"},
//                               payload {"exp":1900000000}, signature "r||s".
//   seed-jwks-rfc-keys.txt      view 3: a JWKS with the RFC 7515 A.2 and A.3 public keys and an enc key.

#include "deputy/auth/base64url.hpp"
#include "deputy/auth/jwk.hpp"
#include "deputy/auth/jws.hpp"

#include <openssl/err.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#ifdef DEPUTY_FUZZ_MAIN
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <vector>
#endif

namespace {

using namespace deputy::auth;

constexpr std::string_view kA2SigningInput =
    "eyJhbGciOiJSUzI1NiJ9"
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
constexpr std::string_view kA3SigningInput =
    "eyJhbGciOiJFUzI1NiJ9"
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";

struct Fixture {
  Jwk rsa;  // RFC 7515 A.2
  Jwk ec;   // RFC 7515 A.3
  JwsPolicy policy{AlgSet::all()};
};

Jwk must_parse(std::string_view text) {
  auto jwk = parse_jwk(boost::json::parse(text).as_object());
  if (!jwk) {
    std::fprintf(stderr, "fixture key refused: %s\n", std::string(to_string(jwk.error())).c_str());
    std::abort();
  }
  return std::move(*jwk);
}

const Fixture& fixture() {
  static const Fixture f{
      must_parse(R"({"kty":"RSA","e":"AQAB","n":"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-)"
                 R"(Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7O)"
                 R"(Mg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo)"
                 R"(5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"})"),
      must_parse(R"({"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",)"
                 R"("y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"})"),
  };
  return f;
}

#ifdef DEPUTY_FUZZ_MAIN
// How often each outcome was reached: without coverage feedback, the driver's only view of whether the
// mutations get past the first checks.
std::map<std::string, long>& outcomes() {
  static std::map<std::string, long> counts;
  return counts;
}
void tally(std::string_view what) { ++outcomes()[std::string(what)]; }
#else
void tally(std::string_view) {}
#endif

[[noreturn]] void fail(const char* what, std::string_view input) {
  std::fprintf(stderr, "jws_fuzz: %s (input of %zu bytes)\n", what, input.size());
  std::abort();
}

void check_reason(std::string_view reason, std::string_view input) {
  if (reason.empty() || reason == "unknown") fail("error without a reason string", input);
}

void try_token(std::string_view token) {
  const Fixture& f = fixture();
  auto jws = parse_jws(token, f.policy);
  if (!jws) {
    check_reason(to_string(jws.error()), token);
    tally(to_string(jws.error()));
    return;
  }
  if (token.size() > kMaxTokenSize) fail("parsed a token over the size cap", token);
  if (!token.starts_with(jws->signing_input()) || token.size() <= jws->signing_input().size() + 1) {
    fail("signing input is not the token's prefix", token);
  }
  if (jws->header().contains("crit")) fail("parsed a token with crit", token);
  if (!f.policy.algorithms.contains(jws->alg())) fail("parsed an alg outside the policy", token);
  (void)jws->kid();
  (void)jws->typ();
  for (const Jwk* key : {&f.rsa, &f.ec}) {
    auto verified = verify(*jws, *key);
    tally(verified ? std::string_view("verified") : to_string(verified.error()));
    if (verified) {
      const std::string_view input = jws->signing_input();
      if (input != kA2SigningInput && input != kA3SigningInput) fail("verified a forged signing input", token);
    } else {
      check_reason(to_string(verified.error()), token);
    }
  }
  if (ERR_peek_error() != 0) fail("OpenSSL error queue left non-empty", token);
}

void try_base64url(std::string_view text) {
  auto decoded = base64url_decode(text);
  if (decoded && base64url_encode(*decoded) != text) fail("base64url decode is not canonical", text);
}

void run_one(std::string_view input) {
  try_token(input);
  try_base64url(input.substr(0, 512));

  // View 2: header \n payload \n signature bytes (the rest, newlines included).
  const std::size_t first = input.find('\n');
  if (first != std::string_view::npos) {
    const std::size_t second = input.find('\n', first + 1);
    if (second != std::string_view::npos) {
      const std::string token = base64url_encode(input.substr(0, first)) + "." +
                                base64url_encode(input.substr(first + 1, second - first - 1)) + "." +
                                base64url_encode(input.substr(second + 1));
      try_token(token);
    }
  }

  // View 3: a JWKS document.
  auto set = parse_jwks(input);
  if (set) {
    for (const Jwk& key : set->keys()) {
      if (!key.key) fail("key set entry without a key", input);
      (void)thumbprint(key);
      (void)to_json(key);
    }
    for (const SkippedKey& skipped : set->skipped()) check_reason(to_string(skipped.reason), input);
  } else {
    check_reason(to_string(set.error()), input);
  }
  if (ERR_peek_error() != 0) fail("OpenSSL error queue left non-empty", input);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  run_one(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}

#ifdef DEPUTY_FUZZ_MAIN
// A replay driver for toolchains without libFuzzer: runs every corpus file, then (with --mutate N) N
// inputs made by a few random edits of corpus files. Seeded, so a failure is reproducible: the seed and
// iteration are printed before each input when DEPUTY_FUZZ_VERBOSE is set.
namespace {

std::string mutate(std::string input, const std::vector<std::string>& corpus, std::mt19937_64& random) {
  // Bytes that matter to the parsers: separators, JSON punctuation, base64url edge characters, NUL, 0xff.
  static constexpr char kBytes[] = ".=\"{}[]:,\n\r\t \\-_+/0AQgw\x00\xff";
  static constexpr std::string_view kInteresting(kBytes, sizeof kBytes - 1);
  const int edits = 1 + static_cast<int>(random() % 4);
  for (int e = 0; e < edits; ++e) {
    const std::size_t at = input.empty() ? 0 : random() % input.size();
    switch (random() % 7) {
      case 0:  // flip a bit
        if (!input.empty()) input[at] = static_cast<char>(input[at] ^ (1 << (random() % 8)));
        break;
      case 1:  // overwrite with an interesting byte
        if (!input.empty()) input[at] = kInteresting[random() % kInteresting.size()];
        break;
      case 2:  // insert an interesting byte
        input.insert(input.begin() + static_cast<std::ptrdiff_t>(at), kInteresting[random() % kInteresting.size()]);
        break;
      case 3:  // delete a run
        if (!input.empty()) input.erase(at, 1 + random() % 8);
        break;
      case 4:  // duplicate a run
        if (!input.empty()) input.insert(at, input.substr(at, 1 + random() % 32));
        break;
      case 5: {  // splice in part of another corpus entry
        const std::string& other = corpus[random() % corpus.size()];
        if (!other.empty()) {
          const std::size_t from = random() % other.size();
          input.insert(at, other.substr(from, 1 + random() % 64));
        }
        break;
      }
      case 6:  // truncate
        input.resize(at);
        break;
    }
  }
  return input;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> corpus;
  long iterations = 0;
  unsigned long long seed = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--mutate" && i + 1 < argc) {
      iterations = std::atol(argv[++i]);
      continue;
    }
    if (arg == "--seed" && i + 1 < argc) {
      seed = std::strtoull(argv[++i], nullptr, 10);
      continue;
    }
    auto read = [&](const std::filesystem::path& path) {
      std::ifstream file(path, std::ios::binary);
      std::stringstream content;
      content << file.rdbuf();
      corpus.push_back(content.str());
    };
    if (std::filesystem::is_directory(arg)) {
      for (const auto& entry : std::filesystem::directory_iterator(arg)) {
        if (entry.is_regular_file()) read(entry.path());
      }
    } else {
      read(arg);
    }
  }
  if (corpus.empty()) {
    std::fprintf(stderr, "usage: %s [--mutate N] [--seed S] corpus-dir-or-files...\n", argv[0]);
    return 2;
  }
  for (const std::string& input : corpus) run_one(input);
  std::mt19937_64 random(seed);
  const bool verbose = std::getenv("DEPUTY_FUZZ_VERBOSE") != nullptr;
  for (long i = 0; i < iterations; ++i) {
    const std::string input = mutate(corpus[random() % corpus.size()], corpus, random);
    if (verbose) std::fprintf(stderr, "seed %llu iteration %ld\n", seed, i);
    run_one(input);
  }
  std::printf("jws_fuzz: %zu corpus inputs and %ld mutations, no findings\n", corpus.size(), iterations);
  for (const auto& [what, count] : outcomes()) std::printf("  %-20s %ld\n", what.c_str(), count);
  return 0;
}
#endif
