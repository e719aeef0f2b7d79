#include "deputy/auth/bearer.hpp"

#include <boost/url/parse.hpp>

namespace deputy::auth {

namespace json = boost::json;

namespace {

bool iequals(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [&](char x, char y) {
           return lower(x) == lower(y);
         });
}

/// RFC 6750 b64token: what a bearer token may contain.
bool is_b64token(std::string_view token) {
  std::size_t i = 0;
  for (; i < token.size(); ++i) {
    const char c = token[i];
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
    if (!ok) break;
  }
  for (; i < token.size(); ++i) {
    if (token[i] != '=') return false;  // '=' only as trailing padding
  }
  return !token.empty();
}

bool has_query_token(std::string_view target) {
  const auto query_at = target.find('?');
  if (query_at == std::string_view::npos) return false;
  std::string_view query = target.substr(query_at + 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const std::string_view name = pair.substr(0, pair.find('='));
    if (iequals(name, "access_token")) return true;
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return false;
}

/// Quoted-string content for a challenge parameter: no quotes or backslashes from configuration leak in.
std::string quoted(std::string_view value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    if (c != '\r' && c != '\n') out += c;
  }
  out += '"';
  return out;
}

}  // namespace

json::object ResourceMetadata::document() const {
  json::array servers(authorization_servers.begin(), authorization_servers.end());
  json::array scopes(scopes_supported.begin(), scopes_supported.end());
  json::object out{{"resource", resource},
                   {"authorization_servers", std::move(servers)},
                   {"bearer_methods_supported", json::array{"header"}}};
  if (!scopes.empty()) out.emplace("scopes_supported", std::move(scopes));
  if (!resource_name.empty()) out.emplace("resource_name", resource_name);
  if (!documentation.empty()) out.emplace("resource_documentation", documentation);
  return out;
}

std::string ResourceMetadata::url() const {
  // RFC 9728 §3.1: the well-known path goes between the host and the resource's path.
  auto parsed = boost::urls::parse_uri(resource);
  if (!parsed) return {};
  std::string out = std::string(parsed->scheme()) + "://" + std::string(parsed->encoded_authority()) +
                    "/.well-known/oauth-protected-resource";
  std::string path(parsed->encoded_path());
  if (path != "/") out += path;
  return out;
}

std::expected<std::string_view, Error> extract_bearer(std::string_view authorization, std::string_view target) {
  if (has_query_token(target)) return std::unexpected(Error::kTokenInQuery);
  if (authorization.empty()) return std::unexpected(Error::kMissingToken);
  const auto space = authorization.find(' ');
  if (!iequals(authorization.substr(0, space), "Bearer")) return std::unexpected(Error::kUnsupportedScheme);
  if (space == std::string_view::npos) return std::unexpected(Error::kEmptyToken);
  std::string_view token = authorization.substr(space + 1);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  if (token.empty()) return std::unexpected(Error::kEmptyToken);
  if (!is_b64token(token)) return std::unexpected(Error::kMalformed);
  return token;
}

unsigned status_for(Error error) {
  if (is_forbidden(error)) return 403;
  if (is_bad_request(error)) return 400;
  if (error == Error::kKeysUnavailable) return 503;
  return 401;
}

std::string challenge(Error error, const ResourceMetadata& metadata, std::string_view scope) {
  std::string out = "Bearer";
  auto add = [&](std::string_view name, std::string_view value) {
    out += out.size() == 6 ? " " : ", ";
    out += name;
    out += '=';
    out += quoted(value);
  };
  switch (error) {
    case Error::kMissingToken:
    case Error::kUnsupportedScheme:
      break;  // RFC 6750 §3.1: no error code when the request carried no bearer token at all
    case Error::kTokenInQuery:
      add("error", "invalid_request");
      add("error_description", "Send the access token in the Authorization header");
      break;
    case Error::kAmbiguousCredentials:
      add("error", "invalid_request");
      add("error_description", "Send one Authorization header");
      break;
    case Error::kInsufficientScope:
      add("error", "insufficient_scope");
      add("error_description", "The access token lacks a required scope");
      break;
    case Error::kKeysUnavailable:
      break;  // 503: the token may be fine; nothing tells the client to drop it
    default:
      add("error", "invalid_token");
      add("error_description", "The access token is missing, malformed, expired or not meant for this server");
  }
  if (const auto url = metadata.url(); !url.empty()) add("resource_metadata", url);
  if (!scope.empty()) add("scope", scope);
  return out;
}

std::string claims_challenge(std::string_view claims_base64, const ResourceMetadata& metadata) {
  std::string out = "Bearer error=\"insufficient_claims\", error_description=";
  out += quoted("The downstream API requires more of the sign-in (for example MFA): sign in again with these claims");
  out += ", claims=";
  out += quoted(claims_base64);
  if (const auto url = metadata.url(); !url.empty()) {
    out += ", resource_metadata=";
    out += quoted(url);
  }
  return out;
}

}  // namespace deputy::auth
