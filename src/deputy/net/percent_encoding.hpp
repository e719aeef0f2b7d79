#pragma once
// Percent-encoding (RFC 3986 §2.1) for query values, form bodies (application/x-www-form-urlencoded, where
// %20 is as good as '+') and path segments: every byte but the unreserved characters A-Z a-z 0-9 - . _ ~.
// One encoder for the whole program: the identity provider's redirects, the client's requests, token
// exchanges and declared tools' URLs all encode alike.

#include <string>
#include <string_view>

namespace deputy::net {

[[nodiscard]] std::string percent_encode(std::string_view text);

}  // namespace deputy::net
