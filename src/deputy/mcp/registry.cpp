#include "deputy/mcp/registry.hpp"

#include <stdexcept>

namespace deputy::mcp {

namespace {

std::atomic<std::uint64_t> g_next_registry_id{1};

/// Each thread keeps the catalog it last saw, refreshed when the generation moves: reading the catalog
/// on the request path costs an atomic load, not a lock.
struct CachedCatalog {
  std::uint64_t registry_id;
  std::uint64_t generation;
  std::shared_ptr<const Catalog> catalog;
};
thread_local std::vector<CachedCatalog> t_catalogs;

void put_if(json::object& object, std::string_view key, const std::string& value) {
  if (!value.empty()) object.emplace(key, value);
}

json::object tool_listing(const ToolSpec& spec) {
  json::object out{{"name", spec.name}};
  put_if(out, "title", spec.title);
  put_if(out, "description", spec.description);
  out.emplace("inputSchema", spec.input_schema);
  if (spec.output_schema) out.emplace("outputSchema", *spec.output_schema);
  if (!spec.annotations.empty()) out.emplace("annotations", spec.annotations);
  if (!spec.meta.empty()) out.emplace("_meta", spec.meta);
  return out;
}

json::object resource_listing(const ResourceSpec& spec) {
  json::object out{{"uri", spec.uri}, {"name", spec.name}};
  put_if(out, "title", spec.title);
  put_if(out, "description", spec.description);
  put_if(out, "mimeType", spec.mime_type);
  return out;
}

json::object template_listing(const ResourceTemplateSpec& spec) {
  json::object out{{"uriTemplate", spec.uri_template}, {"name", spec.name}};
  put_if(out, "title", spec.title);
  put_if(out, "description", spec.description);
  put_if(out, "mimeType", spec.mime_type);
  return out;
}

json::object prompt_listing(const PromptSpec& spec) {
  json::object out{{"name", spec.name}};
  put_if(out, "title", spec.title);
  put_if(out, "description", spec.description);
  if (!spec.arguments.empty()) {
    json::array arguments;
    for (const auto& argument : spec.arguments) {
      json::object entry{{"name", argument.name}};
      put_if(entry, "description", argument.description);
      entry.emplace("required", argument.required);
      arguments.emplace_back(std::move(entry));
    }
    out.emplace("arguments", std::move(arguments));
  }
  return out;
}

template <typename T, typename Key>
const T* find_by(const std::vector<std::shared_ptr<const T>>& items, Key key, std::string_view wanted) {
  for (const auto& item : items) {
    if (key(*item) == wanted) return item.get();
  }
  return nullptr;
}

}  // namespace

std::expected<UriTemplate, std::string> UriTemplate::parse(std::string_view text) {
  UriTemplate out;
  std::string literal;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '}') return std::unexpected("unbalanced '}'");
    if (text[i] != '{') {
      literal += text[i];
      continue;
    }
    const auto close = text.find('}', i);
    if (close == std::string_view::npos) return std::unexpected("unbalanced '{'");
    std::string name(text.substr(i + 1, close - i - 1));
    if (name.empty() || name.find_first_of("+#./;?&{") != std::string::npos) {
      return std::unexpected("only simple {name} variables are supported");
    }
    if (!out.names_.empty() && literal.empty()) return std::unexpected("two variables must be separated");
    out.literals_.push_back(std::move(literal));
    literal.clear();
    out.names_.push_back(std::move(name));
    i = close;
  }
  out.literals_.push_back(std::move(literal));
  return out;
}

std::optional<json::object> UriTemplate::match(std::string_view uri) const {
  if (!uri.starts_with(literals_.front())) return std::nullopt;
  std::size_t at = literals_.front().size();
  json::object variables;
  for (std::size_t i = 0; i < names_.size(); ++i) {
    const std::string& next = literals_[i + 1];
    std::size_t end;
    if (next.empty()) {
      end = uri.size();  // the last variable takes the rest
    } else if (i + 1 == names_.size()) {
      if (!uri.ends_with(next) || uri.size() < at + next.size()) return std::nullopt;
      end = uri.size() - next.size();
    } else {
      end = uri.find(next, at);
      if (end == std::string_view::npos) return std::nullopt;
    }
    if (end == at) return std::nullopt;  // a variable matches at least one character
    variables.emplace(names_[i], uri.substr(at, end - at));
    at = end + next.size();
  }
  if (at != uri.size()) return std::nullopt;
  return variables;
}

const Tool* Catalog::find_tool(std::string_view name) const {
  return find_by(tools, [](const Tool& t) -> std::string_view { return t.spec.name; }, name);
}

const Resource* Catalog::find_resource(std::string_view uri) const {
  return find_by(resources, [](const Resource& r) -> std::string_view { return r.spec.uri; }, uri);
}

const Prompt* Catalog::find_prompt(std::string_view name) const {
  return find_by(prompts, [](const Prompt& p) -> std::string_view { return p.spec.name; }, name);
}

std::string_view list_changed_method(ListKind kind) {
  switch (kind) {
    case ListKind::kTools:
      return "notifications/tools/list_changed";
    case ListKind::kResources:
      return "notifications/resources/list_changed";
    case ListKind::kPrompts:
      return "notifications/prompts/list_changed";
  }
  return {};
}

Registry::Registry() : current_(std::make_shared<Catalog>()), id_(g_next_registry_id.fetch_add(1)) {}

std::shared_ptr<const Catalog> Registry::snapshot() const {
  const auto generation = generation_.load(std::memory_order_acquire);
  for (auto& cached : t_catalogs) {
    if (cached.registry_id != id_) continue;
    if (cached.generation != generation) {
      std::lock_guard lock(mutex_);
      cached.catalog = current_;
      cached.generation = generation_.load(std::memory_order_acquire);
    }
    return cached.catalog;
  }
  std::lock_guard lock(mutex_);
  t_catalogs.push_back({id_, generation_.load(std::memory_order_acquire), current_});
  return current_;
}

void Registry::on_change(std::function<void(ListKind)> listener) {
  std::lock_guard lock(mutex_);
  listeners_.push_back(std::move(listener));
}

void Registry::publish(std::shared_ptr<const Catalog> next, ListKind kind) {
  std::vector<std::function<void(ListKind)>> listeners;
  {
    std::lock_guard lock(mutex_);
    current_ = std::move(next);
    generation_.fetch_add(1, std::memory_order_acq_rel);
    listeners = listeners_;
  }
  for (const auto& listener : listeners) listener(kind);
}

void Registry::add_tool(ToolSpec spec, ToolHandler handler) {
  auto input = JsonSchema::compile(json::value(spec.input_schema));
  if (!input) throw std::invalid_argument("tool " + spec.name + ": input schema: " + input.error());
  std::optional<JsonSchema> output;
  if (spec.output_schema) {
    auto compiled = JsonSchema::compile(json::value(*spec.output_schema));
    if (!compiled) throw std::invalid_argument("tool " + spec.name + ": output schema: " + compiled.error());
    output = std::move(*compiled);
  }
  auto tool = std::make_shared<Tool>(Tool{std::move(spec), std::move(*input), std::move(output), std::move(handler), {}});
  tool->listing = tool_listing(tool->spec);
  std::lock_guard writer(write_mutex_);  // one change at a time: none is lost
  auto next = std::make_shared<Catalog>(*snapshot());
  if (next->find_tool(tool->spec.name) != nullptr) {
    throw std::invalid_argument("tool " + tool->spec.name + " is registered twice");
  }
  next->tools.push_back(std::move(tool));
  publish(std::move(next), ListKind::kTools);
}

bool Registry::remove_tool(std::string_view name) {
  std::lock_guard writer(write_mutex_);  // one change at a time: none is lost
  auto next = std::make_shared<Catalog>(*snapshot());
  auto removed = std::erase_if(next->tools, [&](const auto& tool) { return tool->spec.name == name; });
  if (removed == 0) return false;
  publish(std::move(next), ListKind::kTools);
  return true;
}

void Registry::add_resource(ResourceSpec spec, ResourceHandler handler) {
  auto resource = std::make_shared<Resource>(Resource{std::move(spec), std::move(handler), {}});
  resource->listing = resource_listing(resource->spec);
  std::lock_guard writer(write_mutex_);  // one change at a time: none is lost
  auto next = std::make_shared<Catalog>(*snapshot());
  if (next->find_resource(resource->spec.uri) != nullptr) {
    throw std::invalid_argument("resource " + resource->spec.uri + " is registered twice");
  }
  next->resources.push_back(std::move(resource));
  publish(std::move(next), ListKind::kResources);
}

void Registry::add_resource_template(ResourceTemplateSpec spec, ResourceHandler handler,
                                     std::unordered_map<std::string, Completer> completers) {
  auto parsed = UriTemplate::parse(spec.uri_template);
  if (!parsed) throw std::invalid_argument("resource template " + spec.uri_template + ": " + parsed.error());
  auto entry = std::make_shared<ResourceTemplate>(
      ResourceTemplate{std::move(spec), std::move(*parsed), std::move(handler), std::move(completers), {}});
  entry->listing = template_listing(entry->spec);
  std::lock_guard writer(write_mutex_);  // one change at a time: none is lost
  auto next = std::make_shared<Catalog>(*snapshot());
  next->templates.push_back(std::move(entry));
  publish(std::move(next), ListKind::kResources);
}

void Registry::add_prompt(PromptSpec spec, PromptHandler handler,
                          std::unordered_map<std::string, Completer> completers) {
  auto prompt = std::make_shared<Prompt>(Prompt{std::move(spec), std::move(handler), std::move(completers), {}});
  prompt->listing = prompt_listing(prompt->spec);
  std::lock_guard writer(write_mutex_);  // one change at a time: none is lost
  auto next = std::make_shared<Catalog>(*snapshot());
  if (next->find_prompt(prompt->spec.name) != nullptr) {
    throw std::invalid_argument("prompt " + prompt->spec.name + " is registered twice");
  }
  next->prompts.push_back(std::move(prompt));
  publish(std::move(next), ListKind::kPrompts);
}

}  // namespace deputy::mcp
