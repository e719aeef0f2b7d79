#include "deputy/client/www_authenticate.hpp"

#include "deputy/auth/base64url.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>
#include <cctype>

namespace deputy::client {

namespace {

/// A header with more challenges or parameters than this is not one a server of ours sends.
constexpr std::size_t kMaxParams = 64;
/// A claims request is a few hundred bytes; Entra's largest are well under this.
constexpr std::size_t kMaxClaimsSize = 16 * 1024;

std::string lower(std::string_view text) {
  std::string out(text);
  std::ranges::transform(out, out.begin(),
                         [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

}  // namespace

std::string Challenge::param(std::string_view name) const {
  auto it = params.find(lower(name));
  return it == params.end() ? std::string() : it->second;
}

std::vector<Challenge> parse_www_authenticate(std::string_view header) {
  std::vector<Challenge> out;
  std::size_t i = 0;
  auto skip = [&] {
    while (i < header.size() && (header[i] == ' ' || header[i] == '\t' || header[i] == ',')) ++i;
  };
  auto token = [&] {
    const auto start = i;
    while (i < header.size() && is_token_char(header[i])) ++i;
    return header.substr(start, i - start);
  };
  for (std::size_t count = 0; count < kMaxParams; ++count) {
    skip();
    if (i >= header.size()) break;
    const auto name = token();
    if (name.empty()) break;
    const auto after_name = i;
    while (i < header.size() && (header[i] == ' ' || header[i] == '\t')) ++i;
    if (i < header.size() && header[i] == '=' && !out.empty()) {
      // name=value: a parameter of the current challenge.
      ++i;
      while (i < header.size() && (header[i] == ' ' || header[i] == '\t')) ++i;
      std::string value;
      if (i < header.size() && header[i] == '"') {
        ++i;
        bool closed = false;
        while (i < header.size()) {
          if (header[i] == '\\' && i + 1 < header.size()) {
            value += header[i + 1];
            i += 2;
          } else if (header[i] == '"') {
            ++i;
            closed = true;
            break;
          } else {
            value += header[i++];
          }
        }
        if (!closed) break;
      } else {
        // A token (or token68 with its padding); servers also send URLs unquoted, so up to the next comma.
        const auto start = i;
        while (i < header.size() && header[i] != ',' && header[i] != ' ' && header[i] != '\t') ++i;
        value = std::string(header.substr(start, i - start));
      }
      out.back().params[lower(name)] = std::move(value);
    } else {
      // A new challenge: its scheme, maybe followed by a token68 we do not need.
      i = after_name;
      out.push_back({.scheme = lower(name)});
      while (i < header.size() && (header[i] == ' ' || header[i] == '\t')) ++i;
      const auto peek = i;
      const auto next = token();
      std::size_t j = i;
      while (j < header.size() && (header[j] == ' ' || header[j] == '\t')) ++j;
      const bool is_param = !next.empty() && j < header.size() && header[j] == '=' &&
                            (j + 1 >= header.size() || header[j + 1] != '=');
      if (!is_param) {
        while (i < header.size() && header[i] == '=') ++i;  // token68's padding
        if (next.empty()) i = peek;
      } else {
        i = peek;
      }
    }
  }
  return out;
}

std::optional<std::string> decode_claims(std::string_view encoded) {
  if (encoded.empty() || encoded.size() > kMaxClaimsSize) return std::nullopt;
  std::string normalized;
  for (char c : encoded) {
    if (c == '=') break;
    normalized += c == '+' ? '-' : c == '/' ? '_' : c;
  }
  auto decoded = auth::base64url_decode(normalized);
  if (!decoded) return std::nullopt;
  boost::system::error_code ec;
  auto value = boost::json::parse(*decoded, ec);
  if (ec || !value.is_object()) return std::nullopt;
  return decoded;
}

ChallengeDecision decide(unsigned status, std::string_view header) {
  ChallengeDecision decision;
  const auto challenges = parse_www_authenticate(header);
  const auto bearer =
      std::ranges::find_if(challenges, [](const Challenge& c) { return c.scheme == "bearer"; });
  if (bearer != challenges.end()) {
    decision.error = bearer->param("error");
    decision.error_description = bearer->param("error_description");
  }
  if (decision.error == "insufficient_claims") {
    if (auto claims = decode_claims(bearer->param("claims"))) {
      decision.action = ChallengeAction::kStepUp;
      decision.claims = std::move(*claims);
    }
    return decision;
  }
  // 401 without an error (no token, or the server keeps its reasons to itself) or with invalid_token: a fresh
  // token may do. insufficient_scope and 403s are not fixed by renewing the same scopes.
  if (status == 401 && (decision.error.empty() || decision.error == "invalid_token")) {
    decision.action = ChallengeAction::kRenew;
  }
  return decision;
}

}  // namespace deputy::client
