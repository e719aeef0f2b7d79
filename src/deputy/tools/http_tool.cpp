#include "deputy/tools/http_tool.hpp"

#include "deputy/server.hpp"
#include "deputy/tools/downstream.hpp"
#include "deputy/tools/url_template.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include <stdexcept>

namespace deputy::tools {

namespace {

struct CompiledTool {
  config::HttpToolConfig spec;
  UrlTemplate url;
  std::optional<BodyTemplate> body;
  std::string api_name;  // the host: what messages name
};

boost::beast::http::verb verb_of(std::string_view method) { return boost::beast::http::string_to_verb(method); }

std::string cut(std::string text) {
  if (text.size() > kMaxResultText) {
    // At a character boundary: a UTF-8 sequence cut in two would make the whole JSON-RPC answer invalid.
    std::size_t end = kMaxResultText;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    text.resize(end);
    text += "\n[cut at 64 KiB]";
  }
  return text;
}

ToolResult success(const CompiledTool& tool, const net::ClientResponse& response) {
  boost::system::error_code ec;
  auto body = json::parse(response.body, ec);
  if (ec) return ToolResult::text(cut(response.body));  // not JSON: the text as it came
  if (tool.spec.select.empty()) return ToolResult::text(cut(json::serialize(body)));
  const json::value* selected = body.find_pointer(tool.spec.select, ec);
  if (ec || selected == nullptr) {
    return ToolResult::error(fmt::format("{} answered without {} in its JSON", tool.api_name, tool.spec.select));
  }
  return ToolResult::text(cut(selected->is_string() ? std::string(selected->get_string()) : json::serialize(*selected)));
}

}  // namespace

void add_http_tools(Server& server, std::shared_ptr<const Downstream> downstream,
                    const std::vector<config::HttpToolConfig>& tools) {
  for (const auto& spec : tools) {
    auto url = UrlTemplate::compile(spec.url);
    if (!url) throw config::ConfigError(fmt::format("tools: {}: url {}", spec.name, url.error()));
    auto tool = std::make_shared<CompiledTool>(CompiledTool{.spec = spec, .url = std::move(*url)});
    if (!spec.body.empty()) {
      auto body = BodyTemplate::compile(spec.body);
      if (!body) throw config::ConfigError(fmt::format("tools: {}: body {}", spec.name, body.error()));
      tool->body = std::move(*body);
    }
    tool->api_name = tool->url.origin().substr(tool->url.origin().find("://") + 3);
    const bool read_only = spec.method == "GET";
    try {
    server.tool({.name = spec.name,
                 .title = spec.title,
                 .description = spec.description,
                 .input_schema = spec.input_schema,
                 .annotations = {{"readOnlyHint", read_only}, {"openWorldHint", true}},
                 .tags = spec.tags,
                 .required_roles = spec.required_roles},
                [downstream, tool](const json::object& args, RequestContext& context) -> Task<ToolResult> {
                  auto target = tool->url.expand(args);
                  if (!target) co_return ToolResult::error("Invalid arguments: " + target.error());
                  DownstreamRequest request{.scopes = tool->spec.scopes,
                                            .http = {.method = verb_of(tool->spec.method), .url = std::move(*target)},
                                            .path_template = tool->url.path_template(),
                                            .api_name = tool->api_name};
                  for (const auto& [name, value] : tool->spec.headers) request.http.headers.push_back({name, value});
                  if (tool->body) {
                    request.http.body = tool->body->expand(args);
                    request.http.headers.push_back({"Content-Type", "application/json"});
                  }
                  request.http.headers.push_back({"Accept", "application/json"});
                  auto response = co_await downstream->send(context, std::move(request));
                  if (!response) co_return std::move(response.error());
                  const unsigned status = response->status;
                  if (auto message = tool->spec.status_messages.find(status);
                      message != tool->spec.status_messages.end()) {
                    ToolResult result = ToolResult::text(expand_message(message->second, args));
                    result.is_error = status >= 400;
                    co_return result;
                  }
                  if (status >= 200 && status < 300) co_return success(*tool, *response);
                  co_return Downstream::unexpected_status(tool->api_name, status);
                });
    } catch (const std::invalid_argument& e) {
      // The registry refuses an input schema that does not compile, or a name already taken (a built-in tool).
      throw config::ConfigError(fmt::format("tools: {}: {}", spec.name, e.what()));
    }
  }
}

}  // namespace deputy::tools
