// A server carrying the fixtures of the MCP conformance suite, written with deputy's public API.
#include <deputy/server.hpp>

int main(int argc, char** argv) {
  deputy::Server server({.name = "deputy-everything", .version = "1.0.0"});
  server.tool({.name = "test_simple_text", .description = "Tests simple text content response"},
              [](const deputy::json::object&, deputy::RequestContext&) -> deputy::Task<deputy::ToolResult> {
                co_return deputy::ToolResult::text("This is a simple text response for testing.");
              });
  return server.main(argc, argv);
}
