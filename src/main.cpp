// The `deputy` command.
#include "deputy/client/commands.hpp"
#include "deputy/config/config.hpp"
#include "deputy/demo/story.hpp"
#include "deputy/devidp/directory_yaml.hpp"
#include "deputy/devidp/idp_server.hpp"
#include "deputy/devidp/pki.hpp"
#include "deputy/server.hpp"
#include "deputy/service.hpp"

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <thread>
#include <unistd.h>

namespace {

/// `deputy serve`: the configuration, with the flags given on the command line over it.
deputy::RunOptions run_options(const deputy::config::Config& config, const deputy::RunOptions& overrides,
                               const CLI::App& command) {
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
  return options;
}

int serve(const std::string& config_path, const deputy::RunOptions& overrides, const CLI::App& command) {
  const auto config = deputy::config::load(config_path, deputy::config::process_environment());
  return deputy::serve(config, run_options(config, overrides, command));
}

struct DevArguments {
  std::string audit_file;
  bool audit_stdout = false;
  bool no_cache = false;
};

/// `deputy dev`: the development identity provider and dev Graph on their ports, and the MCP server set up
/// like the seed's against them, in one process, until SIGINT/SIGTERM.
int run_dev(deputy::devidp::IdpOptions idp_options, const deputy::RunOptions& overrides, const CLI::App& command,
            const DevArguments& arguments) {
  deputy::devidp::IdpServer idp(std::move(idp_options));
  if (auto listening = idp.listen(); !listening) {
    std::fprintf(stderr, "deputy dev: %s\n", listening.error().c_str());
    return 1;
  }
  auto config = deputy::dev_config(idp);
  config.audit.file = arguments.audit_file;
  config.audit.to_stdout = arguments.audit_stdout;
  config.exchange.cache = !arguments.no_cache;
  auto options = run_options(config, overrides, command);
  if (command.count("--port") == 0U) options.http.port = deputy::kDevMcpPort;
  std::fputs(idp.describe().c_str(), stderr);
  std::fprintf(stderr, "dev graph:  %s/v1.0\n", idp.graph_url().c_str());
  std::thread provider([&idp] { idp.run(); });
  int code = 1;
  try {
    code = deputy::serve(config, options);
  } catch (...) {
    // The provider's thread must end before the error leaves (a joinable thread would terminate the process).
    idp.stop();
    provider.join();
    throw;
  }
  idp.stop();
  provider.join();
  return code;
}

/// `deputy idp`: the development identity provider alone, until SIGINT/SIGTERM.
int run_idp(deputy::devidp::IdpOptions options) {
  deputy::devidp::IdpServer server(std::move(options));
  if (auto listening = server.listen(); !listening) {
    std::fprintf(stderr, "deputy idp: %s\n", listening.error().c_str());
    return 1;
  }
  std::fputs(server.describe().c_str(), stdout);
  if (const auto graph = server.graph_url(); !graph.empty()) std::fprintf(stdout, "graph on %s/\n", graph.c_str());
  // The last line, parsed by tests and scripts: the URL with the port actually bound (also for --port 0).
  std::fprintf(stdout, "listening on %s/\n", server.base_url().c_str());
  std::fflush(stdout);
  server.run_until_signal();
  return 0;
}

struct MintArguments {
  std::string user;
  std::string directory_file;
  std::string state_dir;
  std::string url;
  std::string client = "client";
  std::string resource = "server";
  std::vector<std::string> scopes{"access_as_user"};
  int lifetime_seconds = 3600;
  int issued_seconds_ago = 0;
  bool mfa = false;
};

/// `deputy idp mint-token`: prints a user's access token exactly as the token endpoint issues it, signed with
/// the state directory's key, for the issuer `deputy idp` last listened on (<state>/url) unless --url says.
int mint_token(const MintArguments& arguments) {
  namespace devidp = deputy::devidp;
  auto directory = arguments.directory_file.empty() ? devidp::default_directory()
                                                    : devidp::load_directory(arguments.directory_file);
  const std::filesystem::path state_dir =
      arguments.state_dir.empty() ? devidp::default_state_dir() : std::filesystem::path(arguments.state_dir);
  auto state = devidp::open_state(state_dir, directory);
  std::string url = arguments.url;
  if (url.empty()) {
    url = devidp::recorded_base_url(state_dir)
              .value_or(fmt::format("https://127.0.0.1:{}", devidp::kDefaultIdpPort));
  }
  while (url.ends_with('/')) url.pop_back();
  devidp::IdentityProvider provider(std::move(directory), *state.signing_keys, {.base_url = url});
  auto token = provider.mint_user_token(arguments.user, {.client = arguments.client,
                                                         .resource = arguments.resource,
                                                         .scopes = arguments.scopes,
                                                         .lifetime = std::chrono::seconds(arguments.lifetime_seconds),
                                                         .issued_before = std::chrono::seconds(arguments.issued_seconds_ago),
                                                         .mfa = arguments.mfa});
  if (!token) {
    std::fprintf(stderr, "deputy idp mint-token: %s\n", token.error().message.c_str());
    return 1;
  }
  std::fprintf(stdout, "%s\n", token->c_str());
  return 0;
}

/// The client's settings as given on the command line; each one set overrides the environment and .env.
struct ClientFlags {
  std::string env_file = ".env";
  std::string authority, tenant, client_id, client_secret, scope, redirect_uri, mcp_url, cache, ca_file;
  bool no_auth = false;
  bool json = false;
  std::string username, password, otp;
  bool device_code = false;
  int timeout_seconds = 300;
  std::string prompt = deputy::client::LoginOptions{}.prompt;  // the browser sign-in's default
};

void add_client_flags(CLI::App& command, ClientFlags& flags) {
  command.add_option("--env-file", flags.env_file, "The .env file under the environment")->capture_default_str();
  command.add_option("--authority", flags.authority, "AUTHORITY: identity provider host (default: deputy dev's)");
  command.add_option("--tenant", flags.tenant, "TENANT_ID");
  command.add_option("--client-id", flags.client_id, "CLIENT_ID: the client app registration");
  command.add_option("--client-secret", flags.client_secret, "CLIENT_SECRET (empty: a public client)");
  command.add_option("--scope", flags.scope, "API_A_SCOPE: api://<server id>/access_as_user");
  command.add_option("--redirect-uri", flags.redirect_uri, "REDIRECT_URI: http://localhost:<port>/<path>");
  command.add_option("--mcp-url", flags.mcp_url, "MCP_URL: the MCP endpoint");
  command.add_option("--cache", flags.cache, "MSAL_CACHE_PATH: the token cache file");
  command.add_option("--ca-file", flags.ca_file, "DEPUTY_CA_FILE: PEM CAs trusted besides the system's");
  command.add_flag("--no-auth", flags.no_auth, "AUTH_ENABLED=false: call the MCP server without a token");
}

void add_sign_in_flags(CLI::App& command, ClientFlags& flags) {
  command.add_option("--username", flags.username,
                     "Sign in without a browser (development provider): user name (or DEPUTY_USERNAME)");
  command.add_option("--password", flags.password, "Password for --username (better: DEPUTY_PASSWORD)");
  command.add_option("--otp", flags.otp,
                     "One-time code for an MFA page with --username (or DEPUTY_OTP; the development provider's: 000000)");
  command.add_flag("--device-code", flags.device_code, "Device code flow (when the provider offers it)");
  command.add_option("--timeout", flags.timeout_seconds, "Seconds to wait for the browser to come back")
      ->capture_default_str();
  command.add_option("--prompt", flags.prompt, "The authorize request's prompt (browser sign-in)")
      ->check(CLI::IsMember({"none", "login", "consent", "select_account"}))
      ->capture_default_str();
}

deputy::client::CommandOptions client_options(const ClientFlags& flags) {
  const auto environment = deputy::config::process_environment(flags.env_file);
  deputy::client::CommandOptions options;
  options.settings = deputy::client::load_settings(environment);
  auto& settings = options.settings;
  auto set = [](std::string& field, const std::string& flag) {
    if (!flag.empty()) field = flag;
  };
  set(settings.authority, flags.authority);
  while (settings.authority.ends_with('/')) settings.authority.pop_back();
  set(settings.tenant_id, flags.tenant);
  set(settings.client_id, flags.client_id);
  set(settings.client_secret, flags.client_secret);
  set(settings.scope, flags.scope);
  set(settings.redirect_uri, flags.redirect_uri);
  set(settings.mcp_url, flags.mcp_url);
  if (!flags.cache.empty()) settings.cache_path = flags.cache;
  set(settings.ca_file, flags.ca_file);
  if (flags.no_auth) settings.auth_enabled = false;
  options.login.username = flags.username.empty() ? environment("DEPUTY_USERNAME").value_or("") : flags.username;
  options.login.password = flags.password.empty() ? environment("DEPUTY_PASSWORD").value_or("") : flags.password;
  options.login.otp = flags.otp.empty() ? environment("DEPUTY_OTP").value_or("") : flags.otp;
  options.login.device_code = flags.device_code;
  options.login.callback_timeout = std::chrono::seconds(flags.timeout_seconds);
  options.login.prompt = flags.prompt;
  options.json = flags.json;
  // The one coloured text, a tool's error result, goes to stderr.
  options.color = ::isatty(STDERR_FILENO) != 0 && std::getenv("NO_COLOR") == nullptr;
  return options;
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

  deputy::devidp::IdpOptions idp_options;
  std::string idp_state;
  auto* idp_command = app.add_subcommand("idp", "Run the development identity provider (an Entra ID look-alike)");
  idp_command->add_option("--directory", idp_options.directory_file,
                          "Directory YAML (default: the built-in examples/dev-directory.yaml)");
  idp_command->add_option("--state", idp_state, "State directory: CA, certificates, signing keys "
                                                "(default: ~/.local/state/deputy/dev)");
  idp_command->add_option("--host", idp_options.host, "Address to listen on")->capture_default_str();
  idp_command->add_option("--port", idp_options.port, "HTTPS port (0: any free port)")->capture_default_str();
  std::uint16_t graph_port = deputy::devidp::kDefaultGraphPort;
  auto* graph_port_option =
      idp_command->add_option("--graph-port", graph_port, "HTTPS port of the dev Graph (0: any free port)")
          ->capture_default_str();
  idp_command->require_subcommand(0, 1);

  deputy::devidp::IdpOptions dev_idp;
  deputy::RunOptions dev_options;
  DevArguments dev_arguments;
  std::string dev_state;
  auto* dev_command = app.add_subcommand(
      "dev", "Run the development stack: identity provider, dev Graph and the MCP server, set up like the seed");
  deputy::add_run_options(*dev_command, dev_options);
  dev_command->add_option("--idp-port", dev_idp.port, "HTTPS port of the identity provider (0: any free port)")
      ->capture_default_str();
  dev_command->add_option("--graph-port", dev_idp.graph_port, "HTTPS port of the dev Graph (0: any free port)");
  dev_command->add_option("--directory", dev_idp.directory_file, "Directory YAML (default: built in)");
  dev_command->add_option("--state", dev_state, "State directory (default: ~/.local/state/deputy/dev)");
  dev_command->add_option("--audit-file", dev_arguments.audit_file, "Write the audit trail to this file");
  dev_command->add_flag("--audit-stdout", dev_arguments.audit_stdout, "Write the audit trail to stdout");
  dev_command->add_flag("--no-token-cache", dev_arguments.no_cache,
                        "Exchange the user's token at every tool call (the seed's advice) instead of caching");

  MintArguments mint_arguments;
  auto* mint_command = idp_command->add_subcommand(
      "mint-token", "Print a user's access token as the token endpoint issues it (tests, demos)");
  mint_command->add_option("--user", mint_arguments.user, "User key, UPN or object id (alice, bob, carol)")->required();
  mint_command->add_option("--directory", mint_arguments.directory_file, "Directory YAML (default: built in)");
  mint_command->add_option("--state", mint_arguments.state_dir, "State directory (default: ~/.local/state/deputy/dev)");
  mint_command->add_option("--url", mint_arguments.url,
                           "Base URL of the provider (default: the one `deputy idp` last listened on)");
  mint_command->add_option("--client", mint_arguments.client, "Client app (azp)")->capture_default_str();
  mint_command->add_option("--resource", mint_arguments.resource, "Resource app (aud)")->capture_default_str();
  mint_command->add_option("--scope", mint_arguments.scopes, "Delegated scopes (scp)");
  mint_command->add_option("--lifetime", mint_arguments.lifetime_seconds, "Seconds the token lives")
      ->capture_default_str();
  mint_command->add_option("--issued-ago", mint_arguments.issued_seconds_ago,
                           "Seconds before now the token was issued (past its lifetime: an expired token)");
  mint_command->add_flag("--mfa", mint_arguments.mfa, "The sign-in used MFA (amr holds mfa)");

  ClientFlags client_flags;
  auto* login_command = app.add_subcommand("login", "Sign in (browser, or --username/--password) and cache the tokens");
  add_client_flags(*login_command, client_flags);
  add_sign_in_flags(*login_command, client_flags);
  auto* logout_command = app.add_subcommand("logout", "Remove the signed-in account's tokens from the cache");
  add_client_flags(*logout_command, client_flags);
  auto* whoami_command = app.add_subcommand("whoami", "Who is signed in, and until when");
  add_client_flags(*whoami_command, client_flags);
  whoami_command->add_flag("--json", client_flags.json, "As JSON");
  auto* tools_command = app.add_subcommand("tools", "List the MCP server's tools (signing in when needed)");
  add_client_flags(*tools_command, client_flags);
  add_sign_in_flags(*tools_command, client_flags);
  tools_command->add_flag("--json", client_flags.json, "As JSON");
  std::string call_tool;
  std::vector<std::string> call_arguments;
  auto* call_command = app.add_subcommand("call", "Call a tool: deputy call TOOL key=value...");
  add_client_flags(*call_command, client_flags);
  add_sign_in_flags(*call_command, client_flags);
  call_command->add_flag("--json", client_flags.json, "The result as JSON");
  call_command->add_option("tool", call_tool, "Tool name")->required();
  call_command->add_option("arguments", call_arguments, "key=value (typed by the tool's input schema)");

  deputy::demo::DemoOptions demo_options;
  bool demo_no_color = false;
  auto* demo_command = app.add_subcommand(
      "demo", "Play the seed's story against the development stack, without a human (what `make demo` shows)");
  demo_command->add_flag("--keep-running", demo_options.keep_running,
                         "Keep the stack running after the story, until Ctrl-C, then show the audit trail");
  demo_command->add_flag("--no-color", demo_no_color, "No colour, even on a terminal");

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
    for (auto* command : {login_command, logout_command, whoami_command, tools_command, call_command}) {
      if (!command->parsed()) continue;
      // The client's output is for people and scripts (--json): its warnings go to stderr, never into stdout.
      spdlog::set_default_logger(spdlog::stderr_color_mt("deputy-client"));
      const auto options = client_options(client_flags);
      try {
        if (command == login_command) return deputy::client::login_command(options);
        if (command == logout_command) return deputy::client::logout_command(options);
        if (command == whoami_command) return deputy::client::whoami_command(options);
        if (command == tools_command) return deputy::client::tools_command(options);
        return deputy::client::call_command(options, call_tool, call_arguments);
      } catch (const std::exception& e) {
        // The client reports its failures as values; what still throws (no randomness, no memory) ends here,
        // said plainly instead of as an abort.
        std::fprintf(stderr, "deputy %s: %s\n", command->get_name().c_str(), e.what());
        return 1;
      }
    }
    if (demo_command->parsed()) {
      // The story goes to stdout; the stack's own warnings to stderr, and nothing below them.
      spdlog::set_default_logger(spdlog::stderr_color_mt("deputy-demo"));
      spdlog::set_level(spdlog::level::warn);
      demo_options.color = !demo_no_color && ::isatty(STDOUT_FILENO) != 0 && std::getenv("NO_COLOR") == nullptr;
      return deputy::demo::run_demo(demo_options);
    }
    if (serve_command->parsed()) return serve(serve_config, serve_options, *serve_command);
    if (dev_command->parsed()) {
      dev_idp.state_dir = dev_state;
      return run_dev(std::move(dev_idp), dev_options, *dev_command, dev_arguments);
    }
    if (mint_command->parsed()) {
      if (mint_arguments.state_dir.empty()) mint_arguments.state_dir = idp_state;
      if (mint_arguments.directory_file.empty()) mint_arguments.directory_file = idp_options.directory_file;
      return mint_token(mint_arguments);
    }
    if (idp_command->parsed()) {
      idp_options.state_dir = idp_state;
      // Not given: 8444 next to the default port, any free port next to --port 0 (idp_server.hpp).
      if (graph_port_option->count() > 0) idp_options.graph_port = graph_port;
      return run_idp(std::move(idp_options));
    }
  } catch (const deputy::config::ConfigError& e) {
    std::fprintf(stderr, "invalid configuration: %s\n", e.what());
    return 2;
  } catch (const deputy::devidp::DirectoryError& e) {
    std::fprintf(stderr, "invalid directory: %s\n", e.what());
    return 2;
  } catch (const deputy::devidp::pki::PkiError& e) {
    std::fprintf(stderr, "state directory: %s\n", e.what());
    return 2;
  }
  return 0;
}
