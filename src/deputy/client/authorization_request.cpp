#include "deputy/client/authorization_request.hpp"
#include "deputy/net/percent_encoding.hpp"

#include "deputy/auth/base64url.hpp"
#include "deputy/devidp/form.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <stdexcept>
#include <vector>

namespace deputy::client {

void openssl_random(std::span<unsigned char> out) {
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
    // No randomness means no secure sign-in at all; this is not a condition to carry on through.
    throw std::runtime_error("the system random number generator failed");
  }
}

std::string random_secret(const Random& random, std::size_t bytes) {
  std::vector<unsigned char> buffer(bytes);
  random(buffer);
  return auth::base64url_encode(
      std::string_view(reinterpret_cast<const char*>(buffer.data()), buffer.size()));
}

std::string s256_challenge(std::string_view verifier) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(verifier.data(), verifier.size(), digest.data(), &length, EVP_sha256(), nullptr);
  return auth::base64url_encode(std::string_view(reinterpret_cast<const char*>(digest.data()), length));
}

FlowSecrets make_flow_secrets(const Random& random) {
  return {
      .code_verifier = random_secret(random), .state = random_secret(random), .nonce = random_secret(random)};
}

std::string authorize_url(const AuthorizeParameters& p) {
  std::string url = p.authorization_endpoint;
  char separator = url.find('?') == std::string::npos ? '?' : '&';
  auto add = [&](std::string_view name, std::string_view value) {
    if (value.empty()) return;
    url += separator;
    url += net::percent_encode(name);
    url += '=';
    url += net::percent_encode(value);
    separator = '&';
  };
  add("client_id", p.client_id);
  add("response_type", "code");
  add("redirect_uri", p.redirect_uri);
  add("response_mode", "query");
  add("scope", p.scope);
  add("state", p.secrets.state);
  add("nonce", p.secrets.nonce);
  add("code_challenge", s256_challenge(p.secrets.code_verifier));
  add("code_challenge_method", "S256");
  add("client_info", "1");
  add("prompt", p.prompt);
  add("login_hint", p.login_hint);
  add("claims", p.claims);
  return url;
}

std::optional<std::vector<std::pair<std::string, std::string>>> parse_query(std::string_view query) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  auto decode = [&](std::string_view text) -> std::optional<std::string> {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '+') {
        out += ' ';
      } else if (text[i] == '%') {
        if (i + 2 >= text.size()) return std::nullopt;
        const int high = hex(text[i + 1]);
        const int low = hex(text[i + 2]);
        if (high < 0 || low < 0) return std::nullopt;
        out += static_cast<char>(high * 16 + low);
        i += 2;
      } else {
        out += text[i];
      }
    }
    return out;
  };
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t at = 0;
  while (at < query.size()) {
    auto end = query.find('&', at);
    if (end == std::string_view::npos) end = query.size();
    const auto pair = query.substr(at, end - at);
    if (!pair.empty()) {
      const auto equals = pair.find('=');
      auto name = decode(pair.substr(0, equals));
      auto value = decode(equals == std::string_view::npos ? std::string_view() : pair.substr(equals + 1));
      if (!name || !value) return std::nullopt;
      out.emplace_back(std::move(*name), std::move(*value));
    }
    at = end + 1;
  }
  return out;
}

std::optional<RedirectResult> parse_redirect_query(std::string_view query) {
  auto fields = parse_query(query);
  if (!fields) return std::nullopt;
  RedirectResult result;
  for (auto& [name, value] : *fields) {
    if (name == "code") result.code = std::move(value);
    if (name == "state") result.state = std::move(value);
    if (name == "error") result.error = std::move(value);
    if (name == "error_description") result.error_description = std::move(value);
  }
  return result;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace deputy::client
