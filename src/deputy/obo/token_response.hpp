#pragma once
// Reading a token endpoint's answer: a success body (RFC 6749 §5.1, Entra's and RFC 8693's additions) to a
// DownstreamToken, and an error body (RFC 6749 §5.2 plus Entra's error_codes, suberror and claims) or a
// transport error to a Failure. The one place that decides which Error a provider's answer is.

#include "deputy/net/http_client.hpp"
#include "deputy/obo/error.hpp"
#include "deputy/obo/exchanger.hpp"

#include <expected>
#include <string>
#include <vector>

namespace deputy::obo {

/// A 200 answer to a DownstreamToken: access_token required, token_type Bearer when given, expires_in (a
/// number or, as Entra v1 sent it, a numeric string) or else the JWT's exp, capped at kMaxTokenLifetime.
/// malformed_response otherwise.
[[nodiscard]] std::expected<DownstreamToken, Failure> parse_token_response(
    const net::ClientResponse& response, const std::vector<std::string>& scopes, Clock::time_point now);

/// Any other answer to a Failure (see error.hpp for the list). 429 and 5xx are unavailable whatever the body
/// says.
[[nodiscard]] Failure failure_from_response(const net::ClientResponse& response,
                                            const std::vector<std::string>& scopes, Clock::time_point now);

/// A transport error to a Failure: unavailable, or malformed_response for an oversized answer.
[[nodiscard]] Failure failure_from_transport(net::ClientError error, const std::vector<std::string>& scopes);

}  // namespace deputy::obo
