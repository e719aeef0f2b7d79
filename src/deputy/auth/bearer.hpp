#pragma once
// The resource-server side of OAuth on the wire: taking the bearer token from a request (RFC 6750),
// challenging when it is missing or bad, and the protected resource metadata (RFC 9728) that tells an
// MCP client where to get a token.

#include "deputy/auth/error.hpp"
#include "deputy/auth/principal.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <expected>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace deputy::auth {

/// RFC 9728 protected resource metadata, as configured.
struct ResourceMetadata {
  std::string resource;                            // this server's MCP URL, e.g. http://localhost:8400/mcp
  std::vector<std::string> authorization_servers;  // issuer URLs
  std::vector<std::string> scopes_supported;       // e.g. api://<client id>/access_as_user
  std::string resource_name;
  std::string documentation;

  [[nodiscard]] boost::json::object document() const;
  /// Where the document is served: /.well-known/oauth-protected-resource plus the resource's path.
  [[nodiscard]] std::string url() const;
};

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive). `target` is the
/// request target: a token in its query string is refused whatever the header says, since URLs end up in
/// logs and browser histories.
[[nodiscard]] std::expected<std::string_view, Error> extract_bearer(std::string_view authorization,
                                                                    std::string_view target);

/// The HTTP status for a failure: 401, 403 (insufficient scope) or 503 (keys unavailable).
[[nodiscard]] unsigned status_for(Error error);

/// The WWW-Authenticate value for a failure. Descriptions are stable and generic: which check failed is
/// for our logs and metrics, not an oracle for the caller.
[[nodiscard]] std::string challenge(Error error, const ResourceMetadata& metadata, std::string_view scope);

/// The WWW-Authenticate value that asks the client to sign in again and satisfy `claims_base64` (the
/// identity provider's claims challenge, base64 as Entra sends it): MFA or Conditional Access for a
/// downstream API. `Bearer error="insufficient_claims", claims="…", resource_metadata="…"`.
[[nodiscard]] std::string claims_challenge(std::string_view claims_base64, const ResourceMetadata& metadata);

/// What validates a bearer token; implemented by TokenValidator. The principal is shared: a token seen
/// before costs a cache lookup and a reference count, not a copy.
class Authenticator {
 public:
  virtual ~Authenticator() = default;
  virtual boost::asio::awaitable<std::expected<std::shared_ptr<const Principal>, Error>> authenticate(
      std::string_view token) = 0;
};

}  // namespace deputy::auth
