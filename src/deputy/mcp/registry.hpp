#pragma once
// The tools, resources, resource templates and prompts a server offers. Changes publish a new immutable
// catalog; requests read a snapshot, so a list never changes under a request that is using it.

#include "deputy/mcp/context.hpp"
#include "deputy/mcp/json_schema.hpp"
#include "deputy/mcp/types.hpp"

#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace deputy::mcp {

using ToolHandler = std::function<boost::asio::awaitable<ToolResult>(const json::object& arguments, RequestContext&)>;
/// Reads a resource; `variables` holds the template's variables (empty for a fixed resource). Returns
/// the `contents` array of `resources/read`.
using ResourceHandler = std::function<boost::asio::awaitable<std::expected<json::array, RpcError>>(
    std::string_view uri, const json::object& variables, RequestContext&)>;
using PromptHandler = std::function<boost::asio::awaitable<std::expected<PromptResult, RpcError>>(
    const json::object& arguments, RequestContext&)>;

struct Tool {
  ToolSpec spec;
  JsonSchema input;
  std::optional<JsonSchema> output;
  ToolHandler handler;
  json::object listing;  // the tools/list entry, built once
};

struct Resource {
  ResourceSpec spec;
  ResourceHandler handler;
  json::object listing;
};

/// A parsed RFC 6570 level-1 template: literals and `{name}` variables, alternating.
class UriTemplate {
 public:
  static std::expected<UriTemplate, std::string> parse(std::string_view text);
  /// The variables when `uri` matches, nullopt when it does not.
  [[nodiscard]] std::optional<json::object> match(std::string_view uri) const;
  [[nodiscard]] const std::vector<std::string>& variables() const { return names_; }

 private:
  std::vector<std::string> literals_;  // literals_.size() == names_.size() + 1
  std::vector<std::string> names_;
};

struct ResourceTemplate {
  ResourceTemplateSpec spec;
  UriTemplate uri_template;
  ResourceHandler handler;
  std::unordered_map<std::string, Completer> completers;  // per variable
  json::object listing;
};

struct Prompt {
  PromptSpec spec;
  PromptHandler handler;
  std::unordered_map<std::string, Completer> completers;  // per argument
  json::object listing;
};

/// One immutable version of everything offered.
struct Catalog {
  std::vector<std::shared_ptr<const Tool>> tools;
  std::vector<std::shared_ptr<const Resource>> resources;
  std::vector<std::shared_ptr<const ResourceTemplate>> templates;
  std::vector<std::shared_ptr<const Prompt>> prompts;

  [[nodiscard]] const Tool* find_tool(std::string_view name) const;
  [[nodiscard]] const Resource* find_resource(std::string_view uri) const;
  [[nodiscard]] const Prompt* find_prompt(std::string_view name) const;
};

enum class ListKind { kTools, kResources, kPrompts };
[[nodiscard]] std::string_view list_changed_method(ListKind kind);

class Registry {
 public:
  Registry();

  // Setup-time errors (a duplicate name, a schema that does not compile) throw std::invalid_argument
  // with the name and the reason: they are configuration errors, found before serving.
  void add_tool(ToolSpec spec, ToolHandler handler);
  void add_resource(ResourceSpec spec, ResourceHandler handler);
  void add_resource_template(ResourceTemplateSpec spec, ResourceHandler handler,
                             std::unordered_map<std::string, Completer> completers = {});
  void add_prompt(PromptSpec spec, PromptHandler handler,
                  std::unordered_map<std::string, Completer> completers = {});
  bool remove_tool(std::string_view name);

  /// The current catalog. Cheap: a per-thread copy is refreshed only when the catalog changed.
  [[nodiscard]] std::shared_ptr<const Catalog> snapshot() const;

  /// Called after each change, e.g. to send `notifications/*/list_changed`.
  void on_change(std::function<void(ListKind)> listener);

 private:
  void publish(std::shared_ptr<const Catalog> next, ListKind kind);

  std::mutex write_mutex_;
  mutable std::mutex mutex_;
  std::shared_ptr<const Catalog> current_;
  std::atomic<std::uint64_t> generation_{1};
  const std::uint64_t id_;
  std::vector<std::function<void(ListKind)>> listeners_;
};

}  // namespace deputy::mcp
