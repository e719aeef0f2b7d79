#pragma once
// The dev Graph: the downstream API of the seed (Microsoft Graph's SharePoint sites and /me), enforcing each
// user's own access, so that an On-Behalf-Of chain can be tested end to end without the real Graph:
//   GET /v1.0/sites/{hostname}:/sites/{path}   the site (Graph's JSON) when the token's user is a reader
//                                              (app-only tokens with the Sites.Read.All role read every
//                                              site); 403 accessDenied otherwise, 404 itemNotFound when
//                                              unknown
//   GET /v1.0/sites/{site id}                  the same, by Graph's site id
//   GET /v1.0/me                               the token's user (delegated tokens only)
//   GET, DELETE /_dev/requests                 the request log (request_log.hpp), on a loopback listener only
// Every API request's bearer token is validated as Graph would: RS256 by the identity provider's keys (as
// they are now, rotation included), audience Graph (https://graph.microsoft.com or its client id), issuer
// this tenant (v1, as Graph's tokens are, or v2), expiry and nbf with leeway; then the permission the
// endpoint needs (scp for users, roles for apps). A bad token is 401 with WWW-Authenticate and Graph's
// InvalidAuthenticationToken; a missing permission 403 Authorization_RequestDenied.
//
// A function of the directory, the keys and a clock: unit tests drive it without sockets; graph_server.hpp
// serves it over HTTPS.

#include "deputy/devidp/directory.hpp"
#include "deputy/devidp/identity_provider.hpp"
#include "deputy/devidp/own_token_validator.hpp"
#include "deputy/devidp/request_log.hpp"
#include "deputy/devidp/signing_keys.hpp"

#include <boost/beast/http/verb.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace deputy::devidp {

/// Graph's application id: a v2 token's aud, and the WWW-Authenticate client_id.
inline constexpr std::string_view kGraphClientId = "00000003-0000-0000-c000-000000000000";

/// Why a Graph request was refused; each has its status and Graph's error code (graph.cpp's table).
enum class GraphError : std::uint8_t {
  kNoToken,            // 401 InvalidAuthenticationToken: no Authorization header, or not Bearer
  kInvalidToken,       // 401 InvalidAuthenticationToken: malformed, forged, foreign, wrong audience or issuer
  kExpiredToken,       // 401 InvalidAuthenticationToken: past exp (or before nbf), leeway included
  kInsufficientScope,  // 403 Authorization_RequestDenied: valid token without the permission the endpoint
                       // needs
  kAccessDenied,       // 403 accessDenied: the user may not read this site
  kSiteNotFound,       // 404 itemNotFound: no such site
  kUserNotFound,       // 404 Request_ResourceNotFound: /me for a user the directory does not hold
  kDelegatedOnly,      // 400 BadRequest: /me with an app-only token
  kUnknownSegment,     // 400 BadRequest: a path Graph (this one) does not serve
  kMethodNotAllowed,   // 405 Request_BadRequest: anything but GET on the API
};

struct GraphErrorInfo {
  unsigned status;
  std::string_view code;    // Graph's error.code
  std::string_view reason;  // a stable label for logs and metrics
};
[[nodiscard]] const GraphErrorInfo& info(GraphError error);

struct GraphOptions {
  /// The identity provider's base URL (https://127.0.0.1:8443): its v2 issuer is <base>/<tid>/v2.0, and 401s
  /// point at its authorize endpoint.
  std::string idp_base_url;
  std::function<Clock::time_point()> now = Clock::now;
  Random random = openssl_random;  // request-id GUIDs
  std::chrono::seconds leeway = auth::kDefaultLeeway;
};

struct GraphRequest {
  boost::beast::http::verb method = boost::beast::http::verb::get;
  std::string_view target;             // path and query, as sent
  std::string_view authorization;      // the Authorization header, empty when absent
  std::string_view client_request_id;  // echoed, as Graph does, when it is a GUID
  bool admin = false;                  // /_dev/ paths are served (a loopback listener; graph_server.cpp)
};

class DevGraph {
 public:
  DevGraph(const Directory& directory, const SigningKeys& keys, GraphOptions options);
  /// The provider's directory, keys and clock.
  explicit DevGraph(const IdentityProvider& provider);
  DevGraph(const DevGraph&) = delete;
  DevGraph& operator=(const DevGraph&) = delete;

  /// The answer, logged (admin requests are not).
  [[nodiscard]] HttpAnswer handle(const GraphRequest& request) const;

  /// Every API request so far (bounded), synchronized inside.
  [[nodiscard]] RequestLog& log() const { return *log_; }

 private:
  const Directory& directory_;
  GraphOptions options_;
  OwnTokenValidator validator_;
  std::unique_ptr<RequestLog> log_ = std::make_unique<RequestLog>();
};

}  // namespace deputy::devidp
