// The `deputy` command.
#include "deputy/auth/file_key_fetcher.hpp"
#include "deputy/auth/http_key_fetcher.hpp"
#include "deputy/auth/token_validator.hpp"
#include "deputy/config/config.hpp"
#include "deputy/server.hpp"
#include "deputy/tools/seed_tools.hpp"

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>

namespace {

/// Where the issuer's keys come from, as configured.
std::shared_ptr<deputy::auth::KeyFetcher> key_fetcher(const deputy::auth::ValidatorOptions& options,
                                                      deputy::net::HttpClient& client) {
  if (!options.jwks_file.empty()) return std::make_shared<deputy::auth::FileKeyFetcher>(options.jwks_file);
  return std::make_shared<deputy::auth::HttpKeyFetcher>(client, options.jwks_uri, options.discovery_url);
}

int serve(const std::string& config_path, deputy::RunOptions overrides, const CLI::App& command) {
  const auto config = deputy::config::load(config_path, deputy::config::process_environment());
  deputy::RunOptions options;
  options.http = config.server.http;
  options.mcp.path = config.server.path;
  options.mcp.allowed_origins = config.server.allowed_origins;
  // Flags given on the command line win over the file and the environment.
  if (command.count("--host") != 0U) options.http.host = overrides.http.host;
  if (command.count("--port") != 0U) options.http.port = overrides.http.port;
  if (command.count("--threads") != 0U) options.http.threads = overrides.http.threads;
  if (command.count("--path") != 0U) options.mcp.path = overrides.mcp.path;
  if (command.count("--allow-origin") != 0U) options.mcp.allowed_origins = overrides.mcp.allowed_origins;
  if (overrides.http.tls) options.http.tls = overrides.http.tls;
  options.stdio = overrides.stdio;
  options.metrics = config.server.metrics;

  // One outbound client for the process (identity provider, downstream APIs); it outlives the server.
  deputy::net::HttpClient client;
  if (config.auth.enabled) {
    options.mcp.authenticator = std::make_shared<deputy::auth::TokenValidator>(
        config.auth.validator, key_fetcher(config.auth.validator, client));
    options.mcp.resource_metadata = {.resource = config.server.public_url,
                                     .authorization_servers = config.auth.authorization_servers,
                                     .scopes_supported = config.auth.scopes_supported,
                                     .resource_name = "deputy"};
    if (!config.auth.scopes_supported.empty()) options.mcp.challenge_scope = config.auth.scopes_supported.front();
  } else {
    spdlog::warn("authentication is off: every caller is anonymous and sees only tools that ask for no role");
  }
  deputy::mcp::DispatcherOptions dispatch;
  dispatch.policy = deputy::authz::Policy(config.authz);
  deputy::Server server({.name = "deputy", .version = "0.1.0"}, std::move(dispatch));
  // Until the seed's tools arrive, `deputy serve` offers the echo tool of examples/hello.
  server.tool({.name = "echo",
               .description = "Echoes the message back",
               .input_schema = {{"type", "object"},
                                {"properties", {{"message", {{"type", "string"}}}}},
                                {"required", {"message"}}},
               .tags = {"read"}},
              [](const deputy::json::object& args, deputy::RequestContext&) -> deputy::Task<deputy::ToolResult> {
                co_return deputy::ToolResult::text(args.at("message").as_string());
              });
  deputy::tools::add_seed_tools(server);
  return server.run(options);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"deputy: an MCP server that acts on behalf of its users"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "deputy 0.1.0");

  deputy::RunOptions serve_options;
  std::string serve_config;
  auto* serve_command = app.add_subcommand("serve", "Run the MCP server");
  serve_command->add_option("-c,--config", serve_config, "deputy.yaml (the environment and .env apply on top)");
  deputy::add_run_options(*serve_command, serve_options);

  std::string check_path;
  auto* check = app.add_subcommand("check-config", "Validate a configuration and print the effective settings");
  check->add_option("-c,--config", check_path, "deputy.yaml (the environment and .env apply on top)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  try {
    if (check->parsed()) {
      const auto config = deputy::config::load(check_path, deputy::config::process_environment());
      std::fputs(deputy::config::describe(config).c_str(), stdout);
      return 0;
    }
    if (serve_command->parsed()) return serve(serve_config, serve_options, *serve_command);
  } catch (const deputy::config::ConfigError& e) {
    std::fprintf(stderr, "invalid configuration: %s\n", e.what());
    return 2;
  }
  return 0;
}
