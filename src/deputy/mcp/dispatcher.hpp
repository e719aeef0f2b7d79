#pragma once
// JSON-RPC dispatch for one MCP server: lifecycle, tools, resources, prompts, logging, completion.
// Pure protocol: it sees messages, a session and an outbound channel, never HTTP or a socket.

#include "deputy/audit/trail.hpp"
#include "deputy/authz/policy.hpp"
#include "deputy/mcp/jsonrpc.hpp"
#include "deputy/mcp/outbound.hpp"
#include "deputy/mcp/registry.hpp"
#include "deputy/mcp/session.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace deputy::mcp {

struct ServerInfo {
  std::string name = "deputy";
  std::string version = "0.1.0";
  std::string title;
  std::string instructions;
};

/// Entries per page of tools/list, resources/list, prompts/list. Small enough that one answer stays
/// small, large enough that most servers answer in one page.
inline constexpr std::size_t kDefaultPageSize = 100;

struct DispatcherOptions {
  std::size_t page_size = kDefaultPageSize;
  /// Who may see and call what (Tier 1). The default allows everything that asks for no role.
  authz::Policy policy;
  /// Where tools_listed, tool_denied, tool_called and tool_result records go; null: nowhere.
  std::shared_ptr<audit::Trail> audit;
  std::function<std::chrono::system_clock::time_point()> now = std::chrono::system_clock::now;
};

class Dispatcher {
 public:
  Dispatcher(Registry& registry, ServerInfo info, DispatcherOptions options = {});

  /// Answers `initialize`: negotiates the version and records the client in `session`.
  [[nodiscard]] json::object initialize(Session& session, const Message& request) const;

  /// Answers any other request. `signal`, owned by the transport, cancels the handler's awaited
  /// operations when the client sends `notifications/cancelled`. Returns nullopt when the request was
  /// cancelled: a cancelled request gets no answer.
  boost::asio::awaitable<std::optional<json::object>> handle_request(Session& session, const Message& request,
                                                                     Outbound& outbound,
                                                                     boost::asio::cancellation_signal* signal,
                                                                     const auth::Principal* principal = nullptr) const;

  void handle_notification(Session& session, const Message& notification) const;

  /// A client's answer to one of our requests; `message` is the whole response object.
  void handle_response(Session& session, const Message& response, const json::value& message) const;

  [[nodiscard]] Registry& registry() const { return registry_; }
  [[nodiscard]] const ServerInfo& info() const { return info_; }

 private:
  using Result = std::expected<json::value, RpcError>;
  boost::asio::awaitable<Result> route(Session& session, const Message& request, RequestContext& context) const;
  boost::asio::awaitable<Result> call_tool(const json::object& params, RequestContext& context) const;
  boost::asio::awaitable<Result> read_resource(const json::object& params, RequestContext& context) const;
  boost::asio::awaitable<Result> get_prompt(const json::object& params, RequestContext& context) const;
  [[nodiscard]] Result complete(const json::object& params, const auth::Principal* principal) const;
  [[nodiscard]] Result list(std::string_view method, const json::object& params, RequestContext& context) const;
  /// An audit record for this request, when there is a trail.
  template <typename Build>
  void audit(const RequestContext& context, Build build) const;
  /// Tier 1 for one item; counts the decision.
  [[nodiscard]] authz::Decision authorize(const auth::Principal* principal, const authz::Item& item) const;

  Registry& registry_;
  ServerInfo info_;
  DispatcherOptions options_;
};

}  // namespace deputy::mcp
