#include "deputy/devidp/token_endpoint.hpp"

#include "deputy/audit/metrics.hpp"
#include "deputy/auth/jws.hpp"
#include "deputy/devidp/client_auth.hpp"
#include "deputy/devidp/discovery.hpp"
#include "deputy/devidp/form.hpp"
#include "deputy/devidp/grants.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace deputy::devidp {

namespace json = boost::json;

namespace {

Failure form_failure(const FormProblem& problem) {
  switch (problem.error) {
    case FormError::kTooLarge:
      return {IdpError::kMalformedRequest, "Invalid request. The request body is too large."};
    case FormError::kBadEncoding:
      return {IdpError::kMalformedRequest, "Invalid request. The request body is not a valid form encoding."};
    case FormError::kDuplicate:
      // A repeated parameter is refused rather than resolved (first or last?): two readers of one request must
      // never see two different requests.
      return {IdpError::kMalformedRequest,
              fmt::format("Invalid request. The parameter '{}' appears more than once.",
                          problem.name.substr(0, std::min<std::size_t>(problem.name.size(), 100)))};
  }
  return {IdpError::kMalformedRequest, "Invalid request."};
}

/// The user a successful grant issued for (the key in the directory), read back from the token it just signed;
/// empty for an app-only token.
std::string issued_to(const IdentityProvider& provider, const json::object& body) {
  for (std::string_view member : {"access_token", "id_token"}) {
    const auto* token = body.if_contains(member);
    if (token == nullptr || !token->is_string()) continue;
    auto jws = auth::parse_jws(token->get_string(), {.algorithms = auth::AlgSet::all()});
    if (!jws) continue;
    const auto* idtyp = jws->payload().if_contains("idtyp");
    if (idtyp != nullptr && idtyp->is_string() && idtyp->get_string() == "app") return {};
    const auto* oid = jws->payload().if_contains("oid");
    if (oid == nullptr || !oid->is_string()) continue;
    const auto* user = provider.directory().find_user_by_oid(oid->get_string());
    return user != nullptr ? user->key : std::string();
  }
  return {};
}

}  // namespace

std::expected<void, Failure> require_credential(const AuthenticatedClient& client, std::string_view grant_type) {
  if (client.method != ClientAuthMethod::kNone) return {};
  return std::unexpected(Failure{
      IdpError::kClientCredentialsRequired,
      fmt::format("The request body must contain the following parameter: 'client_assertion' or 'client_secret'. "
                  "The '{}' grant needs a confidential client.",
                  grant_type)});
}

namespace {

/// The grant, counted when it issues.
std::expected<json::object, Failure> counted_grant(const IdentityProvider& provider, const TokenRequest& request) {
  if (!request.post) {
    return std::unexpected(Failure{IdpError::kPostRequired,
                                   "The endpoint only accepts POST, OPTIONS requests. Received a GET request."});
  }
  if (!provider.directory().names_tenant(request.tenant)) {
    return std::unexpected(Failure{IdpError::kTenantNotFound,
                                   fmt::format("Tenant '{}' not found. Check to make sure you have the correct tenant "
                                               "ID and are signing into the correct cloud.",
                                               request.tenant.substr(0, std::min<std::size_t>(request.tenant.size(), 100)))});
  }
  // A body that is not a form carries no parameters: Entra reports the first one it misses.
  if (!is_form_content_type(request.content_type)) return std::unexpected(missing_body_parameter("grant_type"));
  auto form = parse_form(request.body);
  if (!form) return std::unexpected(form_failure(form.error()));

  const auto grant_type = form->value("grant_type");
  if (grant_type.empty()) return std::unexpected(missing_body_parameter("grant_type"));
  GrantType grant;
  if (grant_type == "client_credentials") {
    grant = GrantType::kClientCredentials;
  } else if (grant_type == kJwtBearerGrant) {
    grant = GrantType::kOnBehalfOf;
  } else if (grant_type == "authorization_code") {
    grant = GrantType::kAuthorizationCode;
  } else if (grant_type == "refresh_token") {
    grant = GrantType::kRefreshToken;
  } else if (grant_type == kTokenExchangeGrant) {
    grant = GrantType::kTokenExchange;
  } else {
    // password and device_code are not offered.
    return std::unexpected(Failure{
        IdpError::kUnsupportedGrantType,
        fmt::format("The app requested an unsupported grant type '{}'.",
                    grant_type.substr(0, std::min<std::size_t>(grant_type.size(), 100)))});
  }

  auto client = authenticate_client(provider, *form, request.tenant);
  if (!client) return std::unexpected(client.error());
  auto granted = [&]() -> std::expected<json::object, Failure> {
    switch (grant) {
      case GrantType::kClientCredentials: return client_credentials_grant(provider, *form, *client);
      case GrantType::kOnBehalfOf: return on_behalf_of_grant(provider, *form, *client);
      case GrantType::kAuthorizationCode: return authorization_code_grant(provider, *form, *client);
      case GrantType::kRefreshToken: return refresh_token_grant(provider, *form, *client);
      case GrantType::kTokenExchange: return token_exchange_grant(provider, *form, *client);
    }
    return std::unexpected(Failure{IdpError::kInternal, "Unreachable."});
  }();
  if (!granted) return std::unexpected(granted.error());
  provider.stats().issued(grant, client->app->key, issued_to(provider, *granted));
  return granted;
}

}  // namespace

std::expected<json::object, Failure> token_grant(const IdentityProvider& provider, const TokenRequest& request) {
  auto granted = counted_grant(provider, request);
  if (!granted) provider.stats().refused(granted.error().error);
  return granted;
}

HttpAnswer handle_token_request(const IdentityProvider& provider, const TokenRequest& request) {
  auto granted = token_grant(provider, request);
  if (!granted) {
    // Logged with the reason and code only: the form may hold secrets and tokens.
    const auto& error = info(granted.error().error);
    spdlog::info("devidp token request refused: {} (AADSTS{})", error.reason, error.code);
    audit::Metrics::global()
        .counter("deputy_devidp_token_requests_total", fmt::format(R"(result="refused",reason="{}")", error.reason),
                 "Token requests of the development identity provider")
        .add();
    return error_answer(provider, granted.error(), request.client_request_id);
  }
  static auto& issued = audit::Metrics::global().counter("deputy_devidp_token_requests_total", R"(result="issued")");
  issued.add();
  return {.body = json::serialize(*granted)};
}

}  // namespace deputy::devidp
