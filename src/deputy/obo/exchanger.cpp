#include "deputy/obo/exchanger.hpp"

#include "deputy/net/percent_encoding.hpp"

#include "deputy/auth/jws.hpp"
#include "deputy/obo/token_response.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/url/parse.hpp>

#include <stdexcept>

namespace deputy::obo {

namespace asio = boost::asio;
namespace http = boost::beast::http;

namespace {

using Result = std::expected<DownstreamToken, Failure>;

/// Whether a scope is one scope-token (RFC 6749 §3.3: printable ASCII but space, '"' and '\'); a space would
/// smuggle a second scope into the space-joined parameter.
bool valid_scope(std::string_view scope) {
  if (scope.empty()) return false;
  return std::ranges::all_of(scope, [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte > 0x20 && byte < 0x7f && c != '"' && c != '\\';
  });
}

std::string scope_string(const std::vector<std::string>& scopes) {
  std::string out;
  for (const auto& scope : scopes) {
    if (!out.empty()) out += ' ';
    out += scope;
  }
  return out;
}

void append_field(std::string& body, std::string_view name, std::string_view value) {
  if (!body.empty()) body += '&';
  body += name;
  body += '=';
  body += net::percent_encode(value);
}

/// The endpoint's host, or why the URL will not do. Secrets and user tokens go in the body: https only,
/// except to a loopback address, where nothing crosses a network (tests, a local provider).
std::string checked_host(const std::string& endpoint) {
  auto url = boost::urls::parse_absolute_uri(endpoint);
  if (!url || url->host().empty())
    throw std::invalid_argument("token endpoint is not an absolute URL: " + endpoint);
  const auto scheme = url->scheme_id();
  if (scheme == boost::urls::scheme::https) return std::string(url->host());
  if (scheme == boost::urls::scheme::http) {
    const std::string host(url->host_address());
    const bool loopback = host == "localhost" || host.starts_with("127.") || host == "::1";
    if (loopback) return host;
  }
  throw std::invalid_argument("token endpoint must be https (http only to a loopback host): " + endpoint);
}

asio::awaitable<void> timer_sleep(std::chrono::milliseconds delay) {
  asio::steady_timer timer(co_await asio::this_coro::executor, delay);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

Failure request_failure(Error error, std::string description, const std::vector<std::string>& scopes) {
  return Failure{.error = error, .scopes = scopes, .description = std::move(description)};
}

class FormExchanger final : public TokenExchanger {
 public:
  FormExchanger(ExchangeOptions options, Sender send, std::string host)
      : options_(std::move(options)), send_(std::move(send)), host_(std::move(host)) {
    if (!options_.sleep) options_.sleep = timer_sleep;
    if (!options_.now) options_.now = Clock::now;
    if (options_.max_attempts == 0) options_.max_attempts = 1;
  }

  asio::awaitable<Result> exchange(ExchangeRequest request) override {
    const auto& scopes = request.scopes;
    // Refused before the network: nothing the provider could say would make these work.
    if (request.subject_token.empty()) {
      co_return std::unexpected(
          request_failure(Error::invalid_grant, "there is no user token to exchange", scopes));
    }
    if (request.subject_token.size() > auth::kMaxTokenSize) {
      co_return std::unexpected(request_failure(Error::invalid_grant, "the user token is too large", scopes));
    }
    if (scopes.empty() && options_.protocol == Protocol::entra_obo) {
      co_return std::unexpected(
          request_failure(Error::invalid_scope, "no downstream scope was asked for", scopes));
    }
    if (!std::ranges::all_of(scopes, valid_scope)) {
      co_return std::unexpected(
          request_failure(Error::invalid_scope, "a downstream scope is not a scope token", scopes));
    }

    const auto started = std::chrono::steady_clock::now();
    const auto deadline = started + options_.timeout;
    for (unsigned attempt = 1;; ++attempt) {
      // A fresh client assertion per attempt: new jti, new times.
      auto body = form(request);
      if (!body) {
        body.error().scopes = scopes;
        co_return std::unexpected(std::move(body.error()));
      }
      const auto remaining =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      net::ClientRequest http_request;
      http_request.method = http::verb::post;
      http_request.url = options_.token_endpoint;
      http_request.headers.push_back({"Content-Type", "application/x-www-form-urlencoded"});
      http_request.headers.push_back({"Accept", "application/json"});
      http_request.body = std::move(*body);
      http_request.timeout = std::max(remaining, std::chrono::milliseconds(1));
      auto response = co_await send_(std::move(http_request));
      const auto now = options_.now();
      const auto elapsed =
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);

      Failure failure;
      bool retryable = false;
      if (!response) {
        failure = failure_from_transport(response.error(), scopes);
        // A keep-alive connection the provider closed as we reused it: the request never got there.
        retryable = response.error() == net::ClientError::connection_closed;
      } else if (response->status == 200) {
        auto token = parse_token_response(*response, scopes, now);
        spdlog::debug("token exchange ({}) at {}: 200{} in {} ms", to_string(options_.protocol), host_,
                      token ? "" : " unusable", elapsed.count());
        co_return token;
      } else {
        failure = failure_from_response(*response, scopes, now);
        retryable = response->status == 429 || response->status == 503;
      }
      spdlog::debug(
          "token exchange ({}) at {}: {} {} {} in {} ms (attempt {})", to_string(options_.protocol), host_,
          response ? std::to_string(response->status) : std::string(net::to_string(response.error())),
          to_string(failure.error), failure.code, elapsed.count(), attempt);
      if (!retryable || attempt >= options_.max_attempts) co_return std::unexpected(std::move(failure));
      const std::chrono::milliseconds wait = failure.retry_after ? *failure.retry_after : kExchangeRetryDelay;
      // A provider asking for a long pause, or no time left for another try: its answer goes to the caller.
      if (wait > kMaxExchangeRetryWait || std::chrono::steady_clock::now() + wait >= deadline) {
        co_return std::unexpected(std::move(failure));
      }
      co_await options_.sleep(wait);
    }
  }

 private:
  std::expected<std::string, Failure> form(const ExchangeRequest& request) const {
    std::string body;
    if (options_.protocol == Protocol::entra_obo) {
      append_field(body, "grant_type", kJwtBearerGrant);
      append_field(body, "requested_token_use", "on_behalf_of");
      append_field(body, "assertion", request.subject_token);
    } else {
      append_field(body, "grant_type", kTokenExchangeGrant);
      append_field(body, "subject_token", request.subject_token);
      append_field(body, "subject_token_type", options_.subject_token_type);
      if (!options_.audience.empty()) append_field(body, "audience", options_.audience);
      if (!options_.resource.empty()) append_field(body, "resource", options_.resource);
    }
    if (!request.scopes.empty()) append_field(body, "scope", scope_string(request.scopes));
    if (!request.claims.empty()) append_field(body, "claims", request.claims);
    append_field(body, "client_id", options_.client_id);
    if (options_.credential) {
      const auto& audience =
          options_.assertion_audience.empty() ? options_.token_endpoint : options_.assertion_audience;
      auto fields = options_.credential->form_fields(options_.client_id, audience, options_.now());
      if (!fields) return std::unexpected(std::move(fields.error()));
      for (const auto& field : *fields) append_field(body, field.name, field.value);
    }
    return body;
  }

  ExchangeOptions options_;
  Sender send_;
  std::string host_;
};

}  // namespace

std::string_view to_string(Protocol protocol) {
  switch (protocol) {
    case Protocol::entra_obo:
      return "entra_obo";
    case Protocol::token_exchange:
      return "token_exchange";
  }
  return "unknown";
}

std::unique_ptr<TokenExchanger> make_exchanger(ExchangeOptions options, Sender send) {
  std::string host = checked_host(options.token_endpoint);
  if (options.client_id.empty()) throw std::invalid_argument("token exchange needs the app's client id");
  if (options.protocol == Protocol::entra_obo && !options.credential) {
    throw std::invalid_argument(
        "Entra On-Behalf-Of needs a client credential (secret, certificate or federated token)");
  }
  if (!send) throw std::invalid_argument("token exchange needs a sender");
  return std::make_unique<FormExchanger>(std::move(options), std::move(send), std::move(host));
}

Sender http_sender(net::HttpClient& client) {
  return [&client](net::ClientRequest request) { return client.send(std::move(request)); };
}

}  // namespace deputy::obo
