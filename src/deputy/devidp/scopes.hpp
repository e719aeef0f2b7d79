#pragma once
// The `scope` parameter of a token request as Entra reads it: space-separated; `<resource>/<scope>` names a
// delegated permission of the app whose identifier URI (or client id) is `<resource>`; `<resource>/.default`
// asks for whatever has been consented (or, app-only, granted); a bare name means Microsoft Graph; openid,
// profile, email and offline_access are OpenID Connect's and name no resource. One request, one resource.

#include "deputy/devidp/directory.hpp"
#include "deputy/devidp/errors.hpp"

#include <expected>
#include <string>
#include <string_view>
#include <vector>

namespace deputy::devidp {

/// Graph's identifier: bare scope names (User.Read) belong to it.
inline constexpr std::string_view kGraphResource = "https://graph.microsoft.com";

struct ScopeRequest {
  const Application* resource = nullptr;  // null when only OpenID Connect scopes were asked for
  bool default_scope = false;             // <resource>/.default
  std::vector<std::string> scopes;        // delegated scope values, spelled as the resource spells them
  bool openid = false;
  bool profile = false;
  bool email = false;
  bool offline_access = false;
};

/// Reads a scope parameter against the directory: kUnknownResource for an identifier no app has,
/// kMultipleResources for scopes of two apps, kInvalidScope for a name the resource does not expose or for
/// .default mixed with other scopes of the resource.
[[nodiscard]] std::expected<ScopeRequest, Failure> parse_scopes(const Directory& directory, std::string_view scope);

/// The scopes split on spaces, empty entries dropped.
[[nodiscard]] std::vector<std::string_view> split_scopes(std::string_view scope);

}  // namespace deputy::devidp
