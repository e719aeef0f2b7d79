#pragma once
// How a tool reaches a downstream API on behalf of its caller: exchange the caller's token for one addressed
// to that API (obo/), send the request with it, and turn every way this can fail into a tool result the user
// can act on: a claims challenge (sign in again with MFA), a consent link, "the API did not answer". The
// user's own token never leaves deputy; each exchange and each call leaves an audit record.

#include "deputy/audit/trail.hpp"
#include "deputy/mcp/context.hpp"
#include "deputy/mcp/types.hpp"
#include "deputy/net/http_client.hpp"
#include "deputy/obo/exchanger.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <expected>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace deputy::tools {

/// One request to a downstream API.
struct DownstreamRequest {
  /// What to exchange the caller's token for; empty: the request goes without a token.
  std::vector<std::string> scopes;
  net::ClientRequest http;  // its Authorization header is ours to add
  /// The path as declared ("/v1.0/sites/{host}:/sites/{site}"): audit records carry it, never the concrete
  /// path, which holds argument values.
  std::string path_template;
  /// A name for the API in messages to the user ("Microsoft Graph").
  std::string api_name;
};

struct DownstreamOptions {
  /// Where consent links point: the authority and tenant of the identity provider (Entra's adminconsent).
  std::string authority;
  std::string tenant;
  std::string client_id;
  /// One downstream call, the exchange excluded.
  std::chrono::milliseconds timeout{10000};
  std::function<std::chrono::system_clock::time_point()> now = std::chrono::system_clock::now;
};

class Downstream {
 public:
  /// `exchanger` null: no credential configured, tools that need a token answer so. `trail` may be null.
  Downstream(std::shared_ptr<obo::TokenExchanger> exchanger, net::HttpClient& client,
             std::shared_ptr<audit::Trail> trail, DownstreamOptions options);

  /// Sends `request` on behalf of the caller of `context`. Any HTTP answer comes back (the tool decides
  /// what 403 or 404 mean to it); everything else is the tool result to return as is.
  [[nodiscard]] boost::asio::awaitable<std::expected<net::ClientResponse, mcp::ToolResult>> send(
      mcp::RequestContext& context, DownstreamRequest request) const;

  /// The tool error for an HTTP answer a tool did not expect (401, 5xx…): status and API, nothing of the body.
  [[nodiscard]] static mcp::ToolResult unexpected_status(std::string_view api_name, unsigned status);

  [[nodiscard]] const std::shared_ptr<audit::Trail>& trail() const { return trail_; }

 private:
  [[nodiscard]] mcp::ToolResult exchange_failed(const obo::Failure& failure, const std::string& api_name) const;

  std::shared_ptr<obo::TokenExchanger> exchanger_;
  net::HttpClient& client_;
  std::shared_ptr<audit::Trail> trail_;
  DownstreamOptions options_;
};

}  // namespace deputy::tools
