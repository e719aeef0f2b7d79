#include "deputy/tools/seed_tools.hpp"

#include "deputy/server.hpp"
#include "deputy/tools/downstream.hpp"
#include "deputy/tools/url_template.hpp"

#include <boost/json/parse.hpp>
#include <fmt/format.h>

#include <stdexcept>

namespace deputy::tools {

void add_seed_tools(Server& server) {
  server.tool(
      {.name = "test_write_tool",
       .title = "Test write tool",
       .description = "A write operation for testing role-based access: needs the Task.All or Task.Write role",
       .input_schema = {{"type", "object"}, {"properties", json::object()}, {"additionalProperties", false}},
       .output_schema = json::object{{"type", "object"},
                                     {"properties", {{"message", {{"type", "string"}}}}},
                                     {"required", {"message"}}},
       .annotations = {{"readOnlyHint", false}, {"destructiveHint", false}},
       .tags = {"write"},
       .required_roles = {"Task.All", "Task.Write"}},
      [](const json::object&, RequestContext&) -> Task<ToolResult> {
        // The role check happened before this runs (the tool's required roles): no token parsing here.
        constexpr std::string_view kMessage = "This is a write test tool response";
        ToolResult result = ToolResult::text(kMessage);
        result.structured_content = json::object{{"message", kMessage}};
        co_return result;
      });
}

}  // namespace deputy::tools

namespace deputy::tools {

namespace {

/// Graph's site path: the host is configuration, the site name an argument (one percent-encoded segment).
constexpr std::string_view kSitePath = "/v1.0/sites/{host}:/sites/{site_name}";

}  // namespace

void add_graph_tools(Server& server, std::shared_ptr<const Downstream> downstream, const config::GraphConfig& graph) {
  if (!graph.sharepoint_host.empty()) {
    auto url = UrlTemplate::compile(graph.base_url + std::string(kSitePath));
    if (!url) throw config::ConfigError("graph.base_url: " + url.error());
    server.tool(
        {.name = "check_sharepoint_site_access",
         .title = "Check SharePoint site access",
         .description = "Check if the user has access to a specific SharePoint site using Microsoft Graph.",
         .input_schema = {{"type", "object"},
                          {"properties",
                           {{"site_name",
                             {{"type", "string"},
                              {"minLength", 1},
                              {"maxLength", 256},
                              {"description", "The site's name as in /sites/<name>, e.g. test-site"}}}}},
                          {"required", {"site_name"}},
                          {"additionalProperties", false}},
         .annotations = {{"readOnlyHint", true}, {"openWorldHint", true}},
         .tags = {"read"}},
        [downstream, url = std::move(*url), host = graph.sharepoint_host, scopes = graph.scopes](
            const json::object& args, RequestContext& context) -> Task<ToolResult> {
          const std::string site(args.at("site_name").as_string());
          json::object values{{"host", host}, {"site_name", site}};
          auto target = url.expand(values);
          if (!target) co_return ToolResult::error("Invalid site name: " + target.error());
          DownstreamRequest request{.scopes = scopes,
                                    .http = {.url = std::move(*target)},
                                    .path_template = url.path_template(),
                                    .api_name = "Microsoft Graph"};
          auto response = co_await downstream->send(context, std::move(request));
          if (!response) co_return std::move(response.error());
          // The seed's three answers, word for word; an unexpected status is an error, as the seed's "Error:".
          if (response->status == 200) co_return ToolResult::text("✅ Access granted to site: " + site);
          if (response->status == 403 || response->status == 404) {
            co_return ToolResult::text("❌ Access denied to site: " + site);
          }
          ToolResult result = ToolResult::error(fmt::format("⚠️ Error: {}", response->status));
          co_return result;
        });
  }

  auto me = UrlTemplate::compile(graph.base_url + "/v1.0/me");
  if (!me) throw config::ConfigError("graph.base_url: " + me.error());
  server.tool(
      {.name = "whoami",
       .title = "Who am I (Microsoft Graph)",
       .description = "Shows who Microsoft Graph sees when deputy calls it on your behalf (GET /v1.0/me).",
       .input_schema = {{"type", "object"}, {"properties", json::object()}, {"additionalProperties", false}},
       .annotations = {{"readOnlyHint", true}, {"openWorldHint", true}},
       .tags = {"read"}},
      [downstream, me = std::move(*me), scopes = graph.scopes](const json::object&,
                                                                RequestContext& context) -> Task<ToolResult> {
        DownstreamRequest request{.scopes = scopes,
                                  .http = {.url = *me.expand({})},
                                  .path_template = me.path_template(),
                                  .api_name = "Microsoft Graph"};
        auto response = co_await downstream->send(context, std::move(request));
        if (!response) co_return std::move(response.error());
        if (response->status != 200) co_return Downstream::unexpected_status("Microsoft Graph", response->status);
        boost::system::error_code ec;
        auto body = json::parse(response->body, ec);
        if (ec || !body.is_object()) co_return ToolResult::error("Microsoft Graph answered /me with something other than JSON");
        const auto& user = body.get_object();
        json::object summary;
        for (const char* key : {"id", "displayName", "userPrincipalName", "mail"}) {
          if (const auto* value = user.if_contains(key); value != nullptr && value->is_string()) {
            summary[key] = *value;
          }
        }
        auto field = [&](const char* key) {
          const auto* value = summary.if_contains(key);
          return value != nullptr ? std::string(value->get_string()) : std::string();
        };
        ToolResult result = ToolResult::text(fmt::format("Microsoft Graph sees you as {} ({}, object id {})",
                                                         field("displayName"), field("userPrincipalName"),
                                                         field("id")));
        result.structured_content = std::move(summary);
        co_return result;
      });
}

}  // namespace deputy::tools
