#pragma once
// What can go wrong in the command-line client (sign-in, token cache, MCP calls): one closed list with stable
// reason strings, and a message for the person at the terminal. Messages never carry a token, a code, a
// secret or a password: they name the step, the endpoint and the provider's own error text.

#include <cstdint>
#include <string>
#include <string_view>

namespace deputy::client {

enum class ErrorCode : std::uint8_t {
  kConfig,               // a setting is missing or invalid (tenant, client id, URLs, CA file)
  kNetwork,              // an HTTP request failed before an answer (connect, TLS, timeout)
  kDiscovery,            // the OpenID configuration is missing, malformed, or lacks an endpoint we need
  kSignInRefused,        // the provider refused the sign-in (wrong password, error= at the redirect URI)
  kCallbackTimeout,      // nobody came back to the loopback redirect listener in time
  kListener,             // the loopback redirect listener could not bind its port
  kTokenRefused,         // the token endpoint answered an error
  kBadTokenResponse,     // a token response or id_token is malformed, or its nonce/audience/issuer is wrong
  kNotSignedIn,          // no account in the cache for this authority and client
  kInteractionRequired,  // the refresh token was refused: the user must sign in again
  kUnsupported,          // the provider does not offer what was asked (device code)
  kCache,                // the token cache file cannot be read or written
  kMcp,                  // the MCP server answered something we cannot use (HTTP error, JSON-RPC error)
  kUnauthorized,         // the MCP server refused our token even after renewing it
  kInvalidArgument,      // a tool argument does not fit the tool's input schema
};

[[nodiscard]] std::string_view to_string(ErrorCode code);

struct Error {
  ErrorCode code;
  std::string message;
};

}  // namespace deputy::client
