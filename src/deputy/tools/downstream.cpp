#include "deputy/tools/downstream.hpp"

#include <boost/url/parse.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace deputy::tools {

namespace {


std::string join(const std::vector<std::string>& values) {
  std::string out;
  for (const auto& value : values) out += (out.empty() ? "" : " ") + value;
  return out;
}

std::string_view method_name(boost::beast::http::verb verb) {
  return boost::beast::http::to_string(verb);
}

/// The host of a URL for audit records and messages.
std::string host_of(std::string_view url) {
  auto parsed = boost::urls::parse_uri(url);
  return parsed ? std::string(parsed->host()) : std::string();
}

}  // namespace

Downstream::Downstream(std::shared_ptr<obo::TokenExchanger> exchanger, net::HttpClient& client,
                       std::shared_ptr<audit::Trail> trail, DownstreamOptions options)
    : exchanger_(std::move(exchanger)), client_(client), trail_(std::move(trail)), options_(std::move(options)) {}

mcp::ToolResult Downstream::unexpected_status(std::string_view api, unsigned status) {
  switch (status) {
    case 401:
      return mcp::ToolResult::error(
          fmt::format("{} refused the delegated token (HTTP 401). Sign in again; if it persists, the server's "
                      "token exchange is misconfigured.",
                      api));
    case 403:
      return mcp::ToolResult::error(fmt::format("{} denied access (HTTP 403): your account lacks the permission.", api));
    case 404:
      return mcp::ToolResult::error(fmt::format("{} found nothing there (HTTP 404).", api));
    case 429:
      return mcp::ToolResult::error(fmt::format("{} is throttling requests (HTTP 429). Try again shortly.", api));
    default:
      break;
  }
  if (status >= 500) {
    return mcp::ToolResult::error(fmt::format("{} failed (HTTP {}). Try again later.", api, status));
  }
  return mcp::ToolResult::error(fmt::format("{} answered HTTP {}.", api, status));
}

mcp::ToolResult Downstream::exchange_failed(const obo::Failure& failure, const std::string& api_name) const {
  using obo::Error;
  switch (failure.error) {
    case Error::interaction_required:
      if (!failure.claims.empty()) {
        return mcp::ToolResult::claims_challenge(
            fmt::format("{} requires a stronger sign-in (for example multi-factor authentication). Sign in again "
                        "with the claims of this challenge, then retry.",
                        api_name),
            failure.claims);
      }
      return mcp::ToolResult::error(
          fmt::format("{} requires you to sign in again interactively, then retry.", api_name));
    case Error::consent_required:
      return mcp::ToolResult::error(fmt::format(
          "Consent is missing for {} on {}. An administrator can grant it at {}", join(failure.scopes), api_name,
          obo::admin_consent_url(options_.authority, options_.tenant, options_.client_id, failure.scopes)));
    case Error::invalid_grant:
      return mcp::ToolResult::error(fmt::format(
          "Your sign-in could not be used to reach {} ({}). Sign in again.", api_name,
          failure.code.empty() ? std::string(obo::to_string(failure.error)) : failure.code));
    case Error::unavailable:
      return mcp::ToolResult::error(
          "The identity provider could not be reached to obtain access. Try again in a moment.");
    case Error::invalid_client:
    case Error::invalid_scope:
    case Error::invalid_request:
    case Error::malformed_response:
    case Error::credential_unavailable:
      break;
  }
  // Ours to fix, not the user's: the operator's configuration (credential, scopes, grant).
  return mcp::ToolResult::error(fmt::format(
      "The server could not obtain access to {} ({}). This is a server configuration problem; tell its operator.",
      api_name, failure.code.empty() ? std::string(obo::to_string(failure.error)) : failure.code));
}

boost::asio::awaitable<std::expected<net::ClientResponse, mcp::ToolResult>> Downstream::send(
    mcp::RequestContext& context, DownstreamRequest request) const {
  const std::string api_name = request.api_name.empty() ? host_of(request.http.url) : request.api_name;
  std::string request_id;
  if (!request.scopes.empty()) {
    const auth::Principal* principal = context.principal();
    if (principal == nullptr || principal->app_only) {
      co_return std::unexpected(mcp::ToolResult::error(fmt::format(
          "{} is reached on behalf of a signed-in user; this server has no user for this request (authentication is "
          "off, or the token is an application's).",
          api_name)));
    }
    if (!exchanger_) {
      co_return std::unexpected(mcp::ToolResult::error(fmt::format(
          "The server has no credential to obtain access to {} on your behalf; tell its operator.", api_name)));
    }
    const std::string_view subject = auth::exchange_subject(*principal);
    const std::string subject_key = principal->key();
    obo::ExchangeRequest exchange{.subject_token = subject, .subject_key = subject_key, .scopes = request.scopes};
    auto token = co_await exchanger_->exchange(std::move(exchange));
    if (trail_) {
      audit::TokenExchanged record{.cache = token && token->from_cache ? audit::CacheResult::kHit
                                                                          : audit::CacheResult::kMiss,
                                   .scope = join(request.scopes)};
      if (token) {
        record.audience = token->audience;
        record.uti = token->token_id;
        record.outcome = "ok";
      } else {
        record.outcome = token.error().code.empty() ? std::string(obo::to_string(token.error().error))
                                                     : token.error().code;
      }
      trail_->record(audit::token_exchanged(mcp::audit_context(context, request_id, options_.now()), std::move(record)));
    }
    if (!token) {
      spdlog::info("token exchange for {} failed: {} {}", principal->describe(), obo::to_string(token.error().error),
                   token.error().code);
      co_return std::unexpected(exchange_failed(token.error(), api_name));
    }
    request.http.headers.push_back({"Authorization", "Bearer " + token->access_token});
  }
  if (!request.http.timeout) request.http.timeout = options_.timeout;
  const auto timeout = *request.http.timeout;
  const auto method = request.http.method;
  const std::string host = host_of(request.http.url);
  const auto started = std::chrono::steady_clock::now();
  auto response = co_await client_.send(std::move(request.http));
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  if (trail_) {
    trail_->record(audit::downstream_call(mcp::audit_context(context, request_id, options_.now()),
                                          {.method = std::string(method_name(method)),
                                           .host = host,
                                           .path_template = request.path_template,
                                           .status = response ? static_cast<int>(response->status) : 0,
                                           .elapsed = elapsed}));
  }
  if (!response) {
    const auto error = response.error();
    spdlog::info("downstream {} {}{} failed: {}", method_name(method), host, request.path_template,
                 net::to_string(error));
    if (error == net::ClientError::timeout) {
      co_return std::unexpected(mcp::ToolResult::error(
          fmt::format("{} did not answer within {} s. Try again later.", api_name,
                      std::chrono::duration_cast<std::chrono::seconds>(timeout).count())));
    }
    co_return std::unexpected(mcp::ToolResult::error(
        fmt::format("{} could not be reached ({}). Try again later.", api_name, net::to_string(error))));
  }
  co_return std::move(*response);
}

}  // namespace deputy::tools
