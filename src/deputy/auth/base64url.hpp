#pragma once
// base64url as JOSE uses it (RFC 7515 §2, RFC 4648 §5): the URL-safe alphabet and no padding. And plain
// base64 (RFC 4648 §4, padded) for the places that want it: x5c, Basic credentials, claims challenges.

#include <optional>
#include <string>
#include <string_view>

namespace deputy::auth {

/// Encodes `bytes` without padding.
[[nodiscard]] std::string base64url_encode(std::string_view bytes);

/// Standard base64 with padding.
[[nodiscard]] std::string base64_encode(std::string_view bytes);

/// Decodes strictly; std::nullopt for anything but the one canonical encoding of some byte string:
/// only A-Z a-z 0-9 - _ (no '+', '/', '=' or whitespace), no length of the form 4k+1, and the unused low
/// bits of the last character zero. Strictness keeps one token from having several spellings (a cache
/// keyed by the token text sees each token once) and refuses the garbage other decoders silently skip.
[[nodiscard]] std::optional<std::string> base64url_decode(std::string_view text);

/// As base64url_decode, appending to `out` (which it leaves as it was on failure); for callers that reuse
/// a buffer. Returns false when `text` is not canonical base64url.
[[nodiscard]] bool base64url_decode_append(std::string_view text, std::string& out);

}  // namespace deputy::auth
