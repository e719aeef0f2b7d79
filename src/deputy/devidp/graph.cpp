#include "deputy/devidp/graph.hpp"

#include "deputy/audit/metrics.hpp"
#include "deputy/auth/bearer.hpp"
#include "deputy/devidp/directory_yaml.hpp"
#include "deputy/devidp/scopes.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <boost/beast/http/verb.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <ctime>

namespace deputy::devidp {

namespace json = boost::json;
namespace http = boost::beast::http;

namespace {

/// Graph's content type for JSON answers.
constexpr std::string_view kODataJson =
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";
constexpr std::string_view kSiteContext = "https://graph.microsoft.com/v1.0/$metadata#sites/$entity";
constexpr std::string_view kUserContext = "https://graph.microsoft.com/v1.0/$metadata#users/$entity";

/// The permissions that let a caller read a site: delegated (scp) for a user, application (roles) for an app.
constexpr std::array<std::string_view, 4> kSiteReadPermissions{"Sites.Read.All", "Sites.ReadWrite.All",
                                                               "Sites.Manage.All", "Sites.FullControl.All"};
/// The delegated permissions that let a user read their own profile.
constexpr std::array<std::string_view, 7> kMeReadPermissions{
    "User.Read",          "User.ReadWrite",     "User.ReadBasic.All",     "User.Read.All",
    "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"};

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::ranges::equal(a, b, [](unsigned char x, unsigned char y) {
           return std::tolower(x) == std::tolower(y);
         });
}

/// Whether `granted` (scp values or roles) holds one of `needed`; Entra's permission names compare
/// case-insensitively.
template <std::size_t N>
bool holds_any(const std::vector<std::string>& granted, const std::array<std::string_view, N>& needed) {
  return std::ranges::any_of(granted, [&](const std::string& value) {
    return std::ranges::any_of(needed, [&](std::string_view wanted) { return iequals(value, wanted); });
  });
}

std::string iso8601(Clock::time_point time) {
  const std::time_t seconds = Clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}", utc);
}

struct Refusal {
  GraphError error;
  std::string message;
  std::string reason;  // more precise than the error's own label when a token check failed
};

std::unexpected<Refusal> refuse(GraphError error, std::string message, std::string reason = {}) {
  return std::unexpected(Refusal{error, std::move(message), std::move(reason)});
}

/// A bad token, as Graph words it; the precise check is the log's reason.
Refusal token_refusal(auth::Error error) {
  using auth::Error;
  const std::string reason(auth::to_string(error));
  switch (error) {
    case Error::kMissingToken:
    case Error::kUnsupportedScheme:
    case Error::kEmptyToken:
      return {GraphError::kNoToken, "Access token is empty.", reason};
    case Error::kMissingExpiry:
    case Error::kExpired:
    case Error::kNotYetValid:
      return {GraphError::kExpiredToken, "Lifetime validation failed, the token is expired.", reason};
    case Error::kWrongAudience:
      return {GraphError::kInvalidToken, "Access token validation failure. Invalid audience.", reason};
    case Error::kWrongIssuer:
    case Error::kTenantNotAllowed:
      return {GraphError::kInvalidToken, "Access token validation failure. Invalid issuer.", reason};
    case Error::kUnknownKey:
    case Error::kKeyMismatch:
    case Error::kBadSignature:
    case Error::kAlgorithmNotAllowed:
    case Error::kUnsupportedCritical:
      return {GraphError::kInvalidToken, "Access token validation failure. Signature validation failed.",
              reason};
    case Error::kTooLarge:
    case Error::kMalformed:
      return {GraphError::kInvalidToken, "IDX14100: JWT is not well formed.", reason};
    default:
      return {GraphError::kInvalidToken, "Access token validation failure.", reason};
  }
}

json::object site_json(const Site& site) {
  json::object out;
  out["@odata.context"] = kSiteContext;
  out["createdDateTime"] = site.created;
  out["description"] = site.description;
  out["id"] = site.id;
  out["lastModifiedDateTime"] = site.created;
  out["name"] = site.path.substr(site.path.rfind('/') + 1);
  out["webUrl"] = fmt::format("https://{}/sites/{}", site.hostname, site.path);
  out["displayName"] = site.display_name;
  out["root"] = json::object();
  out["siteCollection"] = json::object{{"hostname", site.hostname}};
  return out;
}

json::value or_null(std::string_view text) {
  return text.empty() ? json::value(nullptr) : json::value(text);
}

json::object user_json(const User& user) {
  // Graph's default /me properties; the dev directory knows a display name, split for given name and surname.
  const auto space = user.display_name.find(' ');
  json::object out;
  out["@odata.context"] = kUserContext;
  out["businessPhones"] = json::array();
  out["displayName"] = user.display_name;
  out["givenName"] =
      or_null(space == std::string::npos ? user.display_name : user.display_name.substr(0, space));
  out["jobTitle"] = nullptr;
  out["mail"] = user.upn;
  out["mobilePhone"] = nullptr;
  out["officeLocation"] = nullptr;
  out["preferredLanguage"] = nullptr;
  out["surname"] = or_null(space == std::string::npos ? std::string() : user.display_name.substr(space + 1));
  out["userPrincipalName"] = user.upn;
  out["id"] = user.object_id;
  return out;
}

/// The site a path after /v1.0/sites/ names: {hostname}:/sites/{path}[:] or a site id.
const Site* find_site(const Directory& directory, std::string_view rest) {
  const auto colon = rest.find(":/");
  if (colon == std::string_view::npos) {
    auto it = std::ranges::find_if(directory.sites, [&](const Site& site) { return iequals(site.id, rest); });
    return it == directory.sites.end() ? nullptr : &*it;
  }
  const auto hostname = rest.substr(0, colon);
  auto relative = rest.substr(colon + 2);
  if (relative.ends_with(':')) relative.remove_suffix(1);  // Graph allows a closing colon: .../sites/x:
  while (relative.ends_with('/')) relative.remove_suffix(1);
  constexpr std::string_view kSites = "sites/";
  if (relative.size() <= kSites.size() || !iequals(relative.substr(0, kSites.size()), kSites)) return nullptr;
  relative.remove_prefix(kSites.size());
  auto it = std::ranges::find_if(directory.sites, [&](const Site& site) {
    return iequals(site.hostname, hostname) && iequals(site.path, relative);
  });
  return it == directory.sites.end() ? nullptr : &*it;
}

std::expected<json::object, Refusal> read_site(const Directory& directory, const auth::Principal& caller,
                                               std::string_view rest) {
  const auto& permissions = caller.app_only ? caller.roles : caller.scopes;
  if (!holds_any(permissions, kSiteReadPermissions)) {
    return refuse(GraphError::kInsufficientScope, "Insufficient privileges to complete the operation.",
                  caller.app_only ? "missing_role" : "missing_scope");
  }
  const Site* site = find_site(directory, rest);
  if (site == nullptr) return refuse(GraphError::kSiteNotFound, "Requested site could not be found");
  // An app with the application permission reads every site; a user only the sites that list them.
  if (!caller.app_only) {
    const User* user = directory.find_user_by_oid(caller.object_id);
    if (user == nullptr || std::ranges::find(site->readers, user->key) == site->readers.end()) {
      return refuse(GraphError::kAccessDenied, "Access denied", "not_a_reader");
    }
  }
  return site_json(*site);
}

std::expected<json::object, Refusal> read_me(const Directory& directory, const auth::Principal& caller) {
  if (caller.app_only) {
    return refuse(GraphError::kDelegatedOnly,
                  "/me request is only valid with delegated authentication flow.");
  }
  if (!holds_any(caller.scopes, kMeReadPermissions)) {
    return refuse(GraphError::kInsufficientScope, "Insufficient privileges to complete the operation.",
                  "missing_scope");
  }
  const User* user = directory.find_user_by_oid(caller.object_id);
  if (user == nullptr) {
    return refuse(
        GraphError::kUserNotFound,
        fmt::format("Resource '{}' does not exist or one of its queried reference-property objects are "
                    "not present.",
                    caller.object_id));
  }
  return user_json(*user);
}

auth::ValidatorOptions graph_validation(const Directory& directory, const GraphOptions& options) {
  auth::ValidatorOptions validation;
  // Graph's tokens are v1 (sts.windows.net); a v2 token for Graph is accepted as well, as Graph does.
  validation.issuers = {fmt::format("https://sts.windows.net/{}/", directory.tenant.id),
                        fmt::format("{}/{}/v2.0", options.idp_base_url, directory.tenant.id)};
  validation.tenant_id = directory.tenant.id;
  validation.audiences = {std::string(kGraphResource), std::string(kGraphResource) + "/",
                          std::string(kGraphClientId)};
  validation.leeway = options.leeway;
  validation.allow_app_only = true;  // applications read sites with the Sites.Read.All role
  return validation;
}

}  // namespace

const GraphErrorInfo& info(GraphError error) {
  static const GraphErrorInfo kNoToken{401, "InvalidAuthenticationToken", "no_token"};
  static const GraphErrorInfo kInvalidToken{401, "InvalidAuthenticationToken", "invalid_token"};
  static const GraphErrorInfo kExpiredToken{401, "InvalidAuthenticationToken", "expired_token"};
  static const GraphErrorInfo kInsufficientScope{403, "Authorization_RequestDenied", "insufficient_scope"};
  static const GraphErrorInfo kAccessDenied{403, "accessDenied", "access_denied"};
  static const GraphErrorInfo kSiteNotFound{404, "itemNotFound", "site_not_found"};
  static const GraphErrorInfo kUserNotFound{404, "Request_ResourceNotFound", "user_not_found"};
  static const GraphErrorInfo kDelegatedOnly{400, "BadRequest", "delegated_only"};
  static const GraphErrorInfo kUnknownSegment{400, "BadRequest", "unknown_segment"};
  static const GraphErrorInfo kMethodNotAllowed{405, "Request_BadRequest", "method_not_allowed"};
  switch (error) {
    case GraphError::kNoToken:
      return kNoToken;
    case GraphError::kInvalidToken:
      return kInvalidToken;
    case GraphError::kExpiredToken:
      return kExpiredToken;
    case GraphError::kInsufficientScope:
      return kInsufficientScope;
    case GraphError::kAccessDenied:
      return kAccessDenied;
    case GraphError::kSiteNotFound:
      return kSiteNotFound;
    case GraphError::kUserNotFound:
      return kUserNotFound;
    case GraphError::kDelegatedOnly:
      return kDelegatedOnly;
    case GraphError::kUnknownSegment:
      return kUnknownSegment;
    case GraphError::kMethodNotAllowed:
      return kMethodNotAllowed;
  }
  return kInvalidToken;
}

DevGraph::DevGraph(const Directory& directory, const SigningKeys& keys, GraphOptions options)
    : directory_(directory),
      options_(std::move(options)),
      validator_(graph_validation(directory_, options_), keys, options_.now) {}

DevGraph::DevGraph(const IdentityProvider& provider)
    : DevGraph(provider.directory(), provider.keys(),
               GraphOptions{.idp_base_url = provider.base_url(),
                            .now = [&provider] { return provider.now(); },
                            .random = provider.random(),
                            .leeway = provider.leeway()}) {}

HttpAnswer DevGraph::handle(const GraphRequest& request) const {
  const auto question = request.target.find('?');
  const std::string_view raw_path = request.target.substr(0, question);
  auto parsed = boost::urls::parse_origin_form(request.target);
  const std::string path = parsed ? std::string(parsed->path()) : std::string(raw_path);

  if (path.starts_with("/_dev/")) {
    // The test hooks: only on a listener no other machine reaches (graph_server.cpp decides), and never
    // logged.
    if (request.admin && path == "/_dev/requests") {
      if (request.method == http::verb::get) return {.body = json::serialize(log_->to_json())};
      if (request.method == http::verb::delete_) {
        log_->clear();
        return {.status = 204, .content_type = "application/json; charset=utf-8"};
      }
      return {.status = 405, .content_type = "text/plain; charset=utf-8", .body = "Method not allowed\n"};
    }
    return {.status = 404, .content_type = "text/plain; charset=utf-8", .body = "Not found\n"};
  }

  LoggedRequest entry;
  entry.time = options_.now();
  entry.method = std::string(http::to_string(request.method));
  entry.path = std::string(raw_path.substr(0, std::min<std::size_t>(raw_path.size(), 2048)));

  auto served = [&]() -> std::expected<json::object, Refusal> {
    // The token first, whatever the path: Graph answers 401 before it looks at what is asked for.
    auto token = auth::extract_bearer(request.authorization, request.target);
    if (!token) return std::unexpected(token_refusal(token.error()));
    auto caller = validator_.verify(*token);
    entry.token = describe_token(*token, caller.has_value());
    if (!caller) return std::unexpected(token_refusal(caller.error()));

    if (!parsed) return refuse(GraphError::kUnknownSegment, "Invalid request URI.");
    if (request.method != http::verb::get) {
      return refuse(GraphError::kMethodNotAllowed,
                    "Specified HTTP method is not allowed for the request target.");
    }
    std::string_view rest = path;
    constexpr std::string_view kVersion = "/v1.0/";
    if (!rest.starts_with(kVersion)) {
      return refuse(GraphError::kUnknownSegment, "Invalid version: the path must start with /v1.0/.");
    }
    rest.remove_prefix(kVersion.size());
    if (rest == "me" || rest == "me/") return read_me(directory_, **caller);
    constexpr std::string_view kSites = "sites/";
    if (rest.starts_with(kSites) && rest.size() > kSites.size()) {
      return read_site(directory_, **caller, rest.substr(kSites.size()));
    }
    const auto segment = rest.substr(0, std::min(rest.find('/'), std::size_t{100}));
    return refuse(GraphError::kUnknownSegment,
                  fmt::format("Resource not found for the segment '{}'.", segment));
  }();

  const std::string request_id = random_guid(options_.random);
  HttpAnswer answer;
  answer.content_type = kODataJson;
  answer.headers.emplace_back("request-id", request_id);
  const std::string client_request_id =
      is_guid(request.client_request_id) ? std::string(request.client_request_id) : request_id;
  answer.headers.emplace_back("client-request-id", client_request_id);
  if (served) {
    answer.body = json::serialize(*served);
  } else {
    const auto& error = info(served.error().error);
    answer.status = error.status;
    json::object inner{
        {"date", iso8601(entry.time)}, {"request-id", request_id}, {"client-request-id", client_request_id}};
    json::object body{{"error", json::object{{"code", error.code},
                                             {"message", served.error().message},
                                             {"innerError", std::move(inner)}}}};
    answer.body = json::serialize(body);
    if (error.status == 401) {
      // Graph's challenge names where to get a token; RFC 6750 §3.1 adds error="invalid_token" when one was
      // sent.
      std::string challenge =
          fmt::format(R"(Bearer realm="", authorization_uri="{}/{}/oauth2/v2.0/authorize", client_id="{}")",
                      options_.idp_base_url, directory_.tenant.id, kGraphClientId);
      if (served.error().error != GraphError::kNoToken) challenge += R"(, error="invalid_token")";
      answer.headers.emplace_back("WWW-Authenticate", std::move(challenge));
    }
    entry.error = std::string(error.code);
    entry.reason = served.error().reason.empty() ? std::string(error.reason) : served.error().reason;
  }
  entry.status = answer.status;
  // Every answer counts itself, by a reason from a closed set (never the caller's text).
  audit::Metrics::global()
      .counter("deputy_devgraph_requests_total",
               served ? std::string(R"(result="served")")
                      : fmt::format(R"(result="refused",reason="{}")", entry.reason),
               "Requests of the dev Graph")
      .add();
  log_->record(std::move(entry));
  return answer;
}

}  // namespace deputy::devidp
