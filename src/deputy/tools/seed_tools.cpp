#include "deputy/tools/seed_tools.hpp"

#include "deputy/server.hpp"

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
