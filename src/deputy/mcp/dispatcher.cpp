#include "deputy/mcp/dispatcher.hpp"

#include "deputy/audit/metrics.hpp"

#include <boost/asio/this_coro.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <array>
#include <charconv>

namespace deputy::mcp {

namespace asio = boost::asio;

namespace {

/// Most completion values returned at once (the spec's limit).
constexpr std::size_t kMaxCompletionValues = 100;

const json::object kEmptyObject;

const json::object& params_of(const Message& message) {
  if (message.params != nullptr && message.params->is_object()) return message.params->get_object();
  return kEmptyObject;
}

std::optional<std::string_view> string_field(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  if (value == nullptr || !value->is_string()) return std::nullopt;
  return std::string_view(value->get_string());
}

/// Cursors are opaque to clients; ours are the decimal offset of the next page.
std::optional<std::size_t> parse_cursor(const json::object& params) {
  const auto* cursor = params.if_contains("cursor");
  if (cursor == nullptr || cursor->is_null()) return std::size_t{0};
  if (!cursor->is_string()) return std::nullopt;
  std::string_view text = cursor->get_string();
  std::size_t offset = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), offset);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return offset;
}

/// One page of the items `visible` lets through; the cursor counts visible items only, so a caller learns
/// nothing of what it may not see.
template <typename Items, typename Visible>
json::object page(const Items& items, std::string_view key, std::size_t offset, std::size_t page_size,
                  Visible visible) {
  json::array entries;
  std::size_t seen = 0;
  bool more = false;
  for (const auto& item : items) {
    if (!visible(*item)) continue;
    if (seen++ < offset) continue;
    if (entries.size() == page_size) {
      more = true;
      break;
    }
    entries.emplace_back(item->listing);
  }
  json::object out{{key, std::move(entries)}};
  if (more) out.emplace("nextCursor", std::to_string(offset + page_size));
  return out;
}

template <typename Spec>
authz::Item item_of(std::string_view name, const Spec& spec) {
  return {name, spec.tags, spec.required_roles};
}

RpcError method_not_found(std::string_view method) {
  return {RpcCode::kMethodNotFound, "Method not found: " + std::string(method), {}};
}

}  // namespace

Dispatcher::Dispatcher(Registry& registry, ServerInfo info, DispatcherOptions options)
    : registry_(registry), info_(std::move(info)), options_(options) {}

json::object Dispatcher::initialize(Session& session, const Message& request) const {
  const auto& params = params_of(request);
  std::string_view requested = string_field(params, "protocolVersion").value_or("");
  // Version negotiation: the client's version when we speak it, otherwise our newest; the client
  // decides whether it can go on.
  std::string version(is_supported_version(requested) ? requested : kProtocolVersions[0]);
  json::object capabilities;
  if (const auto* value = params.if_contains("capabilities"); value != nullptr && value->is_object()) {
    capabilities = value->get_object();
  }
  json::object client_info;
  if (const auto* value = params.if_contains("clientInfo"); value != nullptr && value->is_object()) {
    client_info = value->get_object();
  }
  session.set_initialized(version, std::move(capabilities), std::move(client_info));

  json::object server_info{{"name", info_.name}, {"version", info_.version}};
  if (!info_.title.empty()) server_info.emplace("title", info_.title);
  json::object result{
      {"protocolVersion", version},
      {"capabilities",
       {{"tools", {{"listChanged", true}}},
        {"resources", {{"subscribe", true}, {"listChanged", true}}},
        {"prompts", {{"listChanged", true}}},
        {"logging", json::object()},
        {"completions", json::object()}}},
      {"serverInfo", std::move(server_info)}};
  if (!info_.instructions.empty()) result.emplace("instructions", info_.instructions);
  return make_result(*request.id, std::move(result));
}

asio::awaitable<std::optional<json::object>> Dispatcher::handle_request(Session& session, const Message& request,
                                                                        Outbound& outbound,
                                                                        asio::cancellation_signal* signal,
                                                                        const auth::Principal* principal) const {
  const auto& params = params_of(request);
  const json::value* progress_token = nullptr;
  if (const auto* meta = params.if_contains("_meta"); meta != nullptr && meta->is_object()) {
    progress_token = meta->get_object().if_contains("progressToken");
  }
  auto cancellation = std::make_shared<Cancellation>(co_await asio::this_coro::executor, signal);
  session.track(*request.id, cancellation);
  RequestContext context(session, outbound, *request.id, progress_token, cancellation, principal);

  Result result = std::unexpected(internal_error());
  try {
    result = co_await route(session, request, context);
  } catch (const std::exception& e) {
    // A handler that throws is a bug in that handler: the client learns nothing of it but an internal
    // error; the log says which method failed.
    if (!cancellation->requested()) spdlog::error("{} failed: {}", request.method, e.what());
  }
  cancellation->finish();
  session.untrack(*request.id);
  if (cancellation->requested()) co_return std::nullopt;
  if (!result) co_return make_error(request.id, result.error());
  co_return make_result(*request.id, std::move(*result));
}

asio::awaitable<Dispatcher::Result> Dispatcher::route(Session& session, const Message& request,
                                                      RequestContext& context) const {
  const auto& params = params_of(request);
  const std::string_view method = request.method;
  if (method == "tools/call") co_return co_await call_tool(params, context);
  if (method == "tools/list" || method == "resources/list" || method == "resources/templates/list" ||
      method == "prompts/list") {
    co_return list(method, params, context);
  }
  if (method == "ping") co_return json::object();
  if (method == "resources/read") co_return co_await read_resource(params, context);
  if (method == "prompts/get") co_return co_await get_prompt(params, context);
  if (method == "completion/complete") co_return complete(params, context.principal());
  if (method == "logging/setLevel") {
    auto level = parse_log_level(string_field(params, "level").value_or(""));
    if (!level) co_return std::unexpected(invalid_params("Invalid params: unknown log level"));
    session.set_log_level(*level);
    co_return json::object();
  }
  if (method == "resources/subscribe" || method == "resources/unsubscribe") {
    auto uri = string_field(params, "uri");
    if (!uri) co_return std::unexpected(invalid_params("Invalid params: uri is required"));
    if (method == "resources/unsubscribe") {
      session.unsubscribe(std::string(*uri));
      co_return json::object();
    }
    // Only a resource the caller may read can be watched: updates would otherwise tell of it.
    auto catalog = registry_.snapshot();
    bool readable = false;
    if (const Resource* resource = catalog->find_resource(*uri)) {
      readable = authorize(context.principal(), item_of(resource->spec.name, resource->spec)).allowed;
    } else {
      for (const auto& entry : catalog->templates) {
        if (entry->uri_template.match(*uri)) {
          readable = authorize(context.principal(), item_of(entry->spec.name, entry->spec)).allowed;
          break;
        }
      }
    }
    if (!readable) {
      co_return std::unexpected(RpcError{RpcCode::kResourceNotFound, "Resource not found", json::object{{"uri", *uri}}});
    }
    if (!session.subscribe(std::string(*uri))) {
      co_return std::unexpected(invalid_params("Invalid params: too many subscriptions in this session"));
    }
    co_return json::object();
  }
  if (method == "initialize") {
    co_return std::unexpected(RpcError{RpcCode::kInvalidRequest, "Invalid Request: already initialized", {}});
  }
  co_return std::unexpected(method_not_found(method));
}

authz::Decision Dispatcher::authorize(const auth::Principal* principal, const authz::Item& item) const {
  // One counter per decision and reason, resolved once.
  static const auto counters = [] {
    std::array<audit::Counter*, 6> out{};
    for (std::size_t i = 0; i < out.size(); ++i) {
      const auto reason = static_cast<authz::Reason>(i);
      const bool allow = reason == authz::Reason::kNoAuthentication || reason == authz::Reason::kPolicyOff ||
                         reason == authz::Reason::kGranted;
      out[i] = &audit::Metrics::global().counter(
          "deputy_authz_total",
          fmt::format(R"(decision="{}",reason="{}")", allow ? "allow" : "deny", authz::to_string(reason)),
          "Tier-1 decisions on calls of tools, resources and prompts");
    }
    return out;
  }();
  const auto decision = options_.policy.check(principal, item);
  counters[static_cast<std::size_t>(decision.reason)]->add();
  return decision;
}

template <typename Build>
void Dispatcher::audit(const RequestContext& context, Build build) const {
  if (!options_.audit) return;
  std::string request_id;
  options_.audit->record(build(audit_context(context, request_id, options_.now())));
}

Dispatcher::Result Dispatcher::list(std::string_view method, const json::object& params,
                                    RequestContext& context) const {
  const auth::Principal* principal = context.principal();
  auto offset = parse_cursor(params);
  if (!offset) return std::unexpected(invalid_params("Invalid params: invalid cursor"));
  auto catalog = registry_.snapshot();
  const auto& policy = options_.policy;
  // Listing filters without counting: a list is not a decision on any one item.
  auto visible = [&](const auto& entry) {
    return policy.check(principal, item_of(entry.spec.name, entry.spec)).allowed;
  };
  if (method == "tools/list") {
    json::object answer = page(catalog->tools, "tools", *offset, options_.page_size, visible);
    const auto count = answer.at("tools").as_array().size();
    audit(context, [&](const audit::Context& where) { return audit::tools_listed(where, count); });
    return answer;
  }
  if (method == "resources/list") {
    return page(catalog->resources, "resources", *offset, options_.page_size, visible);
  }
  if (method == "resources/templates/list") {
    return page(catalog->templates, "resourceTemplates", *offset, options_.page_size, visible);
  }
  return page(catalog->prompts, "prompts", *offset, options_.page_size, visible);
}

asio::awaitable<Dispatcher::Result> Dispatcher::call_tool(const json::object& params, RequestContext& context) const {
  auto name = string_field(params, "name");
  if (!name) co_return std::unexpected(invalid_params("Invalid params: name is required"));
  auto catalog = registry_.snapshot();  // keeps the tool alive while its handler runs
  const Tool* tool = catalog->find_tool(*name);
  if (tool == nullptr) {
    audit(context, [&](const audit::Context& where) { return audit::tool_denied(where, *name, "unknown_tool"); });
    co_return std::unexpected(invalid_params("Unknown tool: " + std::string(*name)));
  }
  if (const auto decision = authorize(context.principal(), item_of(tool->spec.name, tool->spec)); !decision) {
    audit(context, [&](const audit::Context& where) {
      return audit::tool_denied(where, tool->spec.name, authz::to_string(decision.reason));
    });
    // A tool the caller may not use answers like one that does not exist, unless configured to explain.
    if (!options_.policy.explain_denials()) {
      co_return std::unexpected(invalid_params("Unknown tool: " + std::string(*name)));
    }
    co_return ToolResult::error("Access denied: your roles do not allow the tool " + tool->spec.name).to_json();
  }

  const json::value* arguments = params.if_contains("arguments");
  static const json::value kNoArguments = json::object();
  if (arguments == nullptr || arguments->is_null()) arguments = &kNoArguments;
  if (!arguments->is_object()) co_return std::unexpected(invalid_params("Invalid params: arguments must be an object"));
  if (auto violation = tool->input.validate(*arguments)) {
    const std::string where = violation->path.empty() ? "arguments" : "argument " + violation->path;
    co_return std::unexpected(
        invalid_params("Invalid arguments for tool " + tool->spec.name + ": " + where + " " + violation->message));
  }

  audit(context, [&](const audit::Context& where) {
    return audit::tool_called(where, tool->spec.name, arguments->get_object());
  });
  const auto started = std::chrono::steady_clock::now();
  ToolResult result = co_await tool->handler(arguments->get_object(), context);
  audit(context, [&](const audit::Context& where) {
    return audit::tool_result(where, tool->spec.name, result.is_error,
                              std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                                    started));
  });
  if (tool->output && !result.is_error) {
    // A declared output schema is a promise to the client; breaking it is this server's bug.
    if (!result.structured_content) {
      spdlog::error("tool {} returned no structuredContent but declares an output schema", tool->spec.name);
      co_return std::unexpected(internal_error());
    }
    if (auto violation = tool->output->validate(*result.structured_content)) {
      spdlog::error("tool {} broke its output schema at '{}': {}", tool->spec.name, violation->path,
                    violation->message);
      co_return std::unexpected(internal_error());
    }
  }
  co_return std::move(result).to_json();
}

asio::awaitable<Dispatcher::Result> Dispatcher::read_resource(const json::object& params,
                                                              RequestContext& context) const {
  auto uri = string_field(params, "uri");
  if (!uri) co_return std::unexpected(invalid_params("Invalid params: uri is required"));
  auto catalog = registry_.snapshot();
  std::expected<json::array, RpcError> contents;
  auto not_found = [&] {
    return std::unexpected(RpcError{RpcCode::kResourceNotFound, "Resource not found", json::object{{"uri", *uri}}});
  };
  if (const Resource* resource = catalog->find_resource(*uri)) {
    if (!authorize(context.principal(), item_of(resource->spec.name, resource->spec))) co_return not_found();
    contents = co_await resource->handler(*uri, kEmptyObject, context);
  } else {
    const ResourceTemplate* found = nullptr;
    std::optional<json::object> variables;
    for (const auto& entry : catalog->templates) {
      variables = entry->uri_template.match(*uri);
      if (variables) {
        found = entry.get();
        break;
      }
    }
    if (found == nullptr || !authorize(context.principal(), item_of(found->spec.name, found->spec))) {
      co_return not_found();
    }
    contents = co_await found->handler(*uri, *variables, context);
  }
  if (!contents) co_return std::unexpected(std::move(contents.error()));
  co_return json::object{{"contents", std::move(*contents)}};
}

asio::awaitable<Dispatcher::Result> Dispatcher::get_prompt(const json::object& params, RequestContext& context) const {
  auto name = string_field(params, "name");
  if (!name) co_return std::unexpected(invalid_params("Invalid params: name is required"));
  auto catalog = registry_.snapshot();
  const Prompt* prompt = catalog->find_prompt(*name);
  if (prompt == nullptr || !authorize(context.principal(), item_of(prompt->spec.name, prompt->spec))) {
    co_return std::unexpected(invalid_params("Unknown prompt: " + std::string(*name)));
  }
  const json::object* arguments = &kEmptyObject;
  if (const auto* value = params.if_contains("arguments"); value != nullptr && !value->is_null()) {
    if (!value->is_object()) co_return std::unexpected(invalid_params("Invalid params: arguments must be an object"));
    arguments = &value->get_object();
  }
  for (const auto& argument : prompt->spec.arguments) {
    const auto* value = arguments->if_contains(argument.name);
    if (argument.required && value == nullptr) {
      co_return std::unexpected(invalid_params("Missing required argument: " + argument.name));
    }
    if (value != nullptr && !value->is_string()) {
      co_return std::unexpected(invalid_params("Argument " + argument.name + " must be a string"));
    }
  }
  auto result = co_await prompt->handler(*arguments, context);
  if (!result) co_return std::unexpected(std::move(result.error()));
  json::object out;
  if (!result->description.empty()) out.emplace("description", result->description);
  out.emplace("messages", std::move(result->messages));
  co_return out;
}

Dispatcher::Result Dispatcher::complete(const json::object& params, const auth::Principal* principal) const {
  const auto* ref_value = params.if_contains("ref");
  const auto* argument_value = params.if_contains("argument");
  if (ref_value == nullptr || !ref_value->is_object() || argument_value == nullptr || !argument_value->is_object()) {
    return std::unexpected(invalid_params("Invalid params: ref and argument are required"));
  }
  const auto& ref = ref_value->get_object();
  const auto& argument = argument_value->get_object();
  auto type = string_field(ref, "type").value_or("");
  auto argument_name = string_field(argument, "name");
  auto value = string_field(argument, "value");
  if (!argument_name || !value) return std::unexpected(invalid_params("Invalid params: argument needs name and value"));
  json::object context_arguments;
  if (const auto* context = params.if_contains("context"); context != nullptr && context->is_object()) {
    if (const auto* args = context->get_object().if_contains("arguments"); args != nullptr && args->is_object()) {
      context_arguments = args->get_object();
    }
  }

  auto catalog = registry_.snapshot();
  const Completer* completer = nullptr;
  if (type == "ref/prompt") {
    const Prompt* prompt = catalog->find_prompt(string_field(ref, "name").value_or(""));
    if (prompt == nullptr || !options_.policy.check(principal, item_of(prompt->spec.name, prompt->spec))) {
      return std::unexpected(invalid_params("Unknown prompt"));
    }
    if (auto it = prompt->completers.find(std::string(*argument_name)); it != prompt->completers.end()) {
      completer = &it->second;
    }
  } else if (type == "ref/resource") {
    auto uri = string_field(ref, "uri").value_or("");
    const ResourceTemplate* found = nullptr;
    for (const auto& entry : catalog->templates) {
      if (entry->spec.uri_template == uri) found = entry.get();
    }
    if (found == nullptr && catalog->find_resource(uri) == nullptr) {
      return std::unexpected(invalid_params("Unknown resource"));
    }
    if (found != nullptr && !options_.policy.check(principal, item_of(found->spec.name, found->spec))) {
      return std::unexpected(invalid_params("Unknown resource"));
    }
    if (found != nullptr) {
      if (auto it = found->completers.find(std::string(*argument_name)); it != found->completers.end()) {
        completer = &it->second;
      }
    }
  } else {
    return std::unexpected(invalid_params("Invalid params: ref.type must be ref/prompt or ref/resource"));
  }

  json::array values;
  std::size_t total = 0;
  if (completer != nullptr) {
    auto candidates = (*completer)(*value, context_arguments);
    total = candidates.size();
    for (std::size_t i = 0; i < candidates.size() && i < kMaxCompletionValues; ++i) values.emplace_back(candidates[i]);
  }
  const bool has_more = total > values.size();
  return json::object{
      {"completion", {{"values", std::move(values)}, {"total", total}, {"hasMore", has_more}}}};
}

void Dispatcher::handle_notification(Session& session, const Message& notification) const {
  const auto& params = params_of(notification);
  if (notification.method == "notifications/initialized") {
    session.mark_ready();
  } else if (notification.method == "notifications/cancelled") {
    if (const auto* id = params.if_contains("requestId")) session.cancel(*id);
  }
  // Other notifications (progress of our requests, roots/list_changed) need no action; unknown ones are
  // ignored, as JSON-RPC asks.
}

void Dispatcher::handle_response(Session& session, const Message& response, const json::value& message) const {
  session.deliver_reply(*response.id, message);
}

}  // namespace deputy::mcp
