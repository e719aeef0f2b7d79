// The smallest deputy server: one tool that echoes its argument.
#include <deputy/server.hpp>

int main(int argc, char** argv) {
  deputy::Server server({.name = "hello", .version = "1.0.0"});
  server.tool({.name = "echo",
               .description = "Echoes the message back",
               .input_schema = {{"type", "object"},
                                {"properties", {{"message", {{"type", "string"}}}}},
                                {"required", {"message"}}}},
              [](const deputy::json::object& args, deputy::RequestContext&) -> deputy::Task<deputy::ToolResult> {
                co_return deputy::ToolResult::text(args.at("message").as_string());
              });
  return server.main(argc, argv);
}
