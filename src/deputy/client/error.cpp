#include "deputy/client/error.hpp"

namespace deputy::client {

std::string_view to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::kConfig:
      return "config";
    case ErrorCode::kNetwork:
      return "network";
    case ErrorCode::kDiscovery:
      return "discovery";
    case ErrorCode::kSignInRefused:
      return "sign_in_refused";
    case ErrorCode::kCallbackTimeout:
      return "callback_timeout";
    case ErrorCode::kListener:
      return "listener";
    case ErrorCode::kTokenRefused:
      return "token_refused";
    case ErrorCode::kBadTokenResponse:
      return "bad_token_response";
    case ErrorCode::kNotSignedIn:
      return "not_signed_in";
    case ErrorCode::kInteractionRequired:
      return "interaction_required";
    case ErrorCode::kUnsupported:
      return "unsupported";
    case ErrorCode::kCache:
      return "cache";
    case ErrorCode::kMcp:
      return "mcp";
    case ErrorCode::kUnauthorized:
      return "unauthorized";
    case ErrorCode::kInvalidArgument:
      return "invalid_argument";
  }
  return "unknown";
}

}  // namespace deputy::client
