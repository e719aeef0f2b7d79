// The `deputy` command.
#include "deputy/config/config.hpp"
#include "deputy/server.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>

int main(int argc, char** argv) {
  CLI::App app{"deputy: an MCP server that acts on behalf of its users"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "deputy 0.1.0");

  deputy::RunOptions serve_options;
  auto* serve = app.add_subcommand("serve", "Run the MCP server");
  deputy::add_run_options(*serve, serve_options);

  std::string check_path;
  auto* check = app.add_subcommand("check-config", "Validate a configuration and print the effective settings");
  check->add_option("-c,--config", check_path, "deputy.yaml (the environment and .env apply on top)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  if (check->parsed()) {
    try {
      const auto config = deputy::config::load(check_path, deputy::config::process_environment());
      std::fputs(deputy::config::describe(config).c_str(), stdout);
      return 0;
    } catch (const deputy::config::ConfigError& e) {
      std::fprintf(stderr, "invalid configuration: %s\n", e.what());
      return 2;
    }
  }
  if (serve->parsed()) {
    deputy::Server server({.name = "deputy", .version = "0.1.0"});
    // Until the seed's tools arrive, `deputy serve` offers the echo tool of examples/hello.
    server.tool({.name = "echo",
                 .description = "Echoes the message back",
                 .input_schema = {{"type", "object"},
                                  {"properties", {{"message", {{"type", "string"}}}}},
                                  {"required", {"message"}}}},
                [](const deputy::json::object& args, deputy::RequestContext&) -> deputy::Task<deputy::ToolResult> {
                  co_return deputy::ToolResult::text(args.at("message").as_string());
                });
    return server.run(serve_options);
  }
  return 0;
}
