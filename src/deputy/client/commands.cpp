#include "deputy/client/commands.hpp"

#include "deputy/client/arguments.hpp"
#include "deputy/client/mcp_client.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <optional>

namespace deputy::client {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr std::string_view kRed = "\033[31m";
constexpr std::string_view kBold = "\033[1m";
constexpr std::string_view kReset = "\033[0m";

/// Runs one coroutine to completion on a fresh io_context.
template <typename T>
T run(asio::awaitable<T> task) {
  asio::io_context context;
  std::optional<T> result;
  asio::co_spawn(
      context, [&]() -> asio::awaitable<void> { result.emplace(co_await std::move(task)); }, asio::detached);
  context.run();
  return std::move(*result);
}

void print_error(const CommandOptions& options, std::string_view command, const Error& error) {
  std::fprintf(options.err, "deputy %.*s: %s\n", static_cast<int>(command.size()), command.data(),
               error.message.c_str());
}

int exit_code(const Error& error) {
  return error.code == ErrorCode::kConfig || error.code == ErrorCode::kInvalidArgument ? 2 : 1;
}

std::string str(const json::object& object, std::string_view name) {
  const auto* value = object.if_contains(name);
  return value != nullptr && value->is_string() ? std::string(value->get_string()) : std::string();
}

void pretty(const json::value& value, std::string& out, int depth) {
  const std::string indent(static_cast<std::size_t>(depth + 1) * 2, ' ');
  const std::string close(static_cast<std::size_t>(depth) * 2, ' ');
  if (value.is_object() && !value.get_object().empty()) {
    out += "{\n";
    bool first = true;
    for (const auto& [key, item] : value.get_object()) {
      out += (first ? "" : ",\n") + indent + json::serialize(json::string(key)) + ": ";
      pretty(item, out, depth + 1);
      first = false;
    }
    out += "\n" + close + "}";
  } else if (value.is_array() && !value.get_array().empty()) {
    out += "[\n";
    bool first = true;
    for (const auto& item : value.get_array()) {
      out += (first ? "" : ",\n") + indent;
      pretty(item, out, depth + 1);
      first = false;
    }
    out += "\n" + close + "]";
  } else {
    out += json::serialize(value);
  }
}

/// Everything a command needs, built from the settings.
struct Client {
  explicit Client(const CommandOptions& options)
      : http(net::ClientOptions{.extra_ca_file = options.settings.ca_file}),
        cache(options.settings.cache_path),
        tokens(options.settings, http, cache) {}
  net::HttpClient http;
  TokenCache cache;
  TokenSource tokens;
};

/// The client, or the error of building it (a CA file that cannot be loaded, a cache that cannot be read).
std::expected<std::unique_ptr<Client>, Error> make_client(const CommandOptions& options) {
  std::unique_ptr<Client> client;
  try {
    client = std::make_unique<Client>(options);
  } catch (const std::exception& e) {
    return std::unexpected(Error{ErrorCode::kConfig, e.what()});
  }
  if (auto loaded = client->cache.load(); !loaded) return std::unexpected(loaded.error());
  return client;
}

/// An access token for the MCP server: cached or renewed silently, else a sign-in (as the seed's client
/// does).
asio::awaitable<std::expected<std::string, Error>> token_or_sign_in(Client& client,
                                                                    const CommandOptions& options) {
  auto token = co_await client.tokens.access_token();
  if (token) co_return token;
  if (token.error().code != ErrorCode::kNotSignedIn &&
      token.error().code != ErrorCode::kInteractionRequired) {
    co_return token;
  }
  std::fprintf(options.err, "%s; signing in\n", token.error().message.c_str());
  auto account = co_await client.tokens.login(options.login);
  if (!account) co_return std::unexpected(account.error());
  co_return co_await client.tokens.access_token();
}

Credentials credentials_for(Client& client, const CommandOptions& options) {
  if (!options.settings.auth_enabled) return {};
  Credentials credentials;
  credentials.current = [&client, &options]() { return token_or_sign_in(client, options); };
  credentials.renew = [&client]() { return client.tokens.renew(); };
  credentials.step_up = [&client,
                         &options](std::string claims) -> asio::awaitable<std::expected<std::string, Error>> {
    std::fprintf(options.err,
                 "the server asks for a stronger sign-in (claims challenge); signing in again\n");
    LoginOptions login = options.login;
    login.claims = std::move(claims);
    auto account = co_await client.tokens.login(std::move(login));
    if (!account) co_return std::unexpected(account.error());
    co_return co_await client.tokens.access_token();
  };
  return credentials;
}

}  // namespace

std::string pretty_json(const json::value& value) {
  std::string out;
  pretty(value, out, 0);
  return out;
}

std::string format_tools(const std::vector<json::object>& tools) {
  std::string out;
  for (const auto& tool : tools) {
    out += str(tool, "name");
    const auto description = str(tool, "description");
    if (!description.empty()) out += "\n    " + description;
    const auto* schema = tool.if_contains("inputSchema");
    const auto* properties =
        schema != nullptr && schema->is_object() ? schema->get_object().if_contains("properties") : nullptr;
    if (properties != nullptr && properties->is_object() && !properties->get_object().empty()) {
      std::vector<std::string> required;
      if (const auto* list = schema->get_object().if_contains("required");
          list != nullptr && list->is_array()) {
        for (const auto& name : list->get_array()) {
          if (name.is_string()) required.emplace_back(name.get_string());
        }
      }
      std::string arguments;
      for (const auto& [name, property] : properties->get_object()) {
        std::string type = "any";
        if (const auto* t = property.is_object() ? property.get_object().if_contains("type") : nullptr) {
          type = t->is_string() ? std::string(t->get_string()) : json::serialize(*t);
        }
        const bool needed = std::ranges::find(required, std::string_view(name)) != required.end();
        arguments += fmt::format("{}{}={}{}", arguments.empty() ? "" : " ", std::string_view(name), type,
                                 needed ? "" : "?");
      }
      out += "\n    arguments: " + arguments;
    }
    out += "\n";
  }
  if (tools.empty()) out = "(no tools)\n";
  return out;
}

FormattedResult format_call_result(const json::object& result, bool color) {
  FormattedResult out;
  const auto* is_error = result.if_contains("isError");
  out.is_error = is_error != nullptr && is_error->is_bool() && is_error->get_bool();
  std::string body;
  bool has_text = false;
  if (const auto* content = result.if_contains("content"); content != nullptr && content->is_array()) {
    for (const auto& item : content->get_array()) {
      if (!item.is_object()) continue;
      const auto& block = item.get_object();
      const auto type = str(block, "type");
      std::string line;
      if (type == "text") {
        line = str(block, "text");
        has_text = true;
      } else if (type == "image" || type == "audio") {
        line = fmt::format("[{}: {}, {} bytes of base64]", type, str(block, "mimeType"),
                           str(block, "data").size());
      } else if (type == "resource_link") {
        line = fmt::format("[link: {}]", str(block, "uri"));
      } else if (type == "resource") {
        const auto* resource = block.if_contains("resource");
        if (resource != nullptr && resource->is_object()) {
          const auto text = str(resource->get_object(), "text");
          line = fmt::format("[resource: {}]{}{}", str(resource->get_object(), "uri"),
                             text.empty() ? "" : "\n", text);
        }
      } else {
        line = json::serialize(block);
      }
      if (!body.empty() && !body.ends_with('\n')) body += '\n';
      body += line;
    }
  }
  if (!has_text) {
    if (const auto* structured = result.if_contains("structuredContent")) {
      if (!body.empty() && !body.ends_with('\n')) body += '\n';
      body += pretty_json(*structured);
    }
  }
  if (!body.empty() && !body.ends_with('\n')) body += '\n';
  if (out.is_error) {
    out.text = color ? fmt::format("{}{}error:{} {}{}{}", kBold, kRed, kReset, kRed, body, kReset)
                     : "error: " + body;
    if (out.text.empty() || !out.text.ends_with('\n')) out.text += '\n';
  } else {
    out.text = std::move(body);
  }
  return out;
}

std::string format_status(const SignedIn& status, const Settings& settings, Clock::time_point now) {
  const auto& account = status.account;
  std::string out = account.username.empty() ? account.local_account_id : account.username;
  if (!account.name.empty()) out += " (" + account.name + ")";
  out += fmt::format("\n  tenant    {}\n  authority {}\n  client    {}\n", account.realm, settings.authority,
                     settings.client_id);
  if (status.access_token_expires_on.time_since_epoch().count() != 0) {
    const auto left = std::chrono::duration_cast<std::chrono::minutes>(status.access_token_expires_on - now);
    out += fmt::format("  access token for {} until {:%Y-%m-%d %H:%M:%S} UTC ({})\n", settings.scope,
                       std::chrono::floor<std::chrono::seconds>(status.access_token_expires_on),
                       left.count() > 0 ? fmt::format("{} min left", left.count()) : std::string("expired"));
  } else {
    out += fmt::format("  no access token for {}\n", settings.scope);
  }
  out += status.has_refresh_token ? "  refresh token cached: renewed silently\n"
                                  : "  no refresh token: `deputy login` when the access token expires\n";
  return out;
}

int login_command(const CommandOptions& options) {
  auto client = make_client(options);
  if (!client) {
    print_error(options, "login", client.error());
    return exit_code(client.error());
  }
  auto account = run((*client)->tokens.login(options.login));
  if (!account) {
    print_error(options, "login", account.error());
    return exit_code(account.error());
  }
  std::fprintf(options.out, "Signed in as %s%s\n", account->username.c_str(),
               account->name.empty() ? "" : (" (" + account->name + ")").c_str());
  return 0;
}

int logout_command(const CommandOptions& options) {
  auto client = make_client(options);
  if (!client) {
    print_error(options, "logout", client.error());
    return exit_code(client.error());
  }
  auto removed = (*client)->tokens.logout();
  if (!removed) {
    print_error(options, "logout", removed.error());
    return exit_code(removed.error());
  }
  if (!*removed) {
    std::fprintf(options.out, "Not signed in.\n");
    return 0;
  }
  std::fprintf(options.out, "Signed out %s.\n", (*removed)->username.c_str());
  return 0;
}

int whoami_command(const CommandOptions& options) {
  auto client = make_client(options);
  if (!client) {
    print_error(options, "whoami", client.error());
    return exit_code(client.error());
  }
  auto status = (*client)->tokens.status();
  if (!status) {
    std::fprintf(options.err, "Not signed in to %s: run `deputy login`.\n",
                 options.settings.authority_url().c_str());
    return 1;
  }
  if (options.json) {
    json::object out{{"username", status->account.username},
                     {"name", status->account.name},
                     {"home_account_id", status->account.home_account_id},
                     {"tenant_id", status->account.realm},
                     {"authority", options.settings.authority_url()},
                     {"client_id", options.settings.client_id},
                     {"access_token_expires_on", std::chrono::duration_cast<std::chrono::seconds>(
                                                     status->access_token_expires_on.time_since_epoch())
                                                     .count()},
                     {"refresh_token", status->has_refresh_token}};
    std::fprintf(options.out, "%s\n", pretty_json(out).c_str());
    return 0;
  }
  std::fputs(format_status(*status, options.settings, Clock::now()).c_str(), options.out);
  return 0;
}

int tools_command(const CommandOptions& options) {
  auto client = make_client(options);
  if (!client) {
    print_error(options, "tools", client.error());
    return exit_code(client.error());
  }
  McpClient mcp((*client)->http, options.settings.mcp_url, credentials_for(**client, options));
  auto tools = run([&]() -> asio::awaitable<std::expected<std::vector<json::object>, Error>> {
    auto initialized = co_await mcp.initialize();
    if (!initialized) co_return std::unexpected(initialized.error());
    auto listed = co_await mcp.list_tools();
    co_await mcp.close();
    co_return listed;
  }());
  if (!tools) {
    print_error(options, "tools", tools.error());
    return exit_code(tools.error());
  }
  if (options.json) {
    json::array out;
    for (auto& tool : *tools) out.emplace_back(std::move(tool));
    std::fprintf(options.out, "%s\n", pretty_json(out).c_str());
  } else {
    std::fputs(format_tools(*tools).c_str(), options.out);
  }
  return 0;
}

int call_command(const CommandOptions& options, const std::string& tool,
                 const std::vector<std::string>& assignments) {
  auto client = make_client(options);
  if (!client) {
    print_error(options, "call", client.error());
    return exit_code(client.error());
  }
  McpClient mcp((*client)->http, options.settings.mcp_url, credentials_for(**client, options));
  auto result = run([&]() -> asio::awaitable<std::expected<json::object, Error>> {
    auto initialized = co_await mcp.initialize();
    if (!initialized) co_return std::unexpected(initialized.error());
    // The arguments are typed by the schema the server lists for this tool.
    auto tools = co_await mcp.list_tools();
    if (!tools) co_return std::unexpected(tools.error());
    const auto found =
        std::ranges::find_if(*tools, [&](const json::object& t) { return str(t, "name") == tool; });
    if (found == tools->end()) {
      co_await mcp.close();
      co_return std::unexpected(
          Error{ErrorCode::kInvalidArgument,
                fmt::format("no tool '{}' is listed to you (see `deputy tools`)", tool)});
    }
    const auto* schema = found->if_contains("inputSchema");
    auto arguments = tool_arguments(
        schema != nullptr && schema->is_object() ? schema->get_object() : json::object(), assignments);
    if (!arguments) {
      co_await mcp.close();
      co_return std::unexpected(arguments.error());
    }
    auto called = co_await mcp.call_tool(tool, std::move(*arguments));
    co_await mcp.close();
    co_return called;
  }());
  if (!result) {
    print_error(options, "call", result.error());
    return exit_code(result.error());
  }
  if (options.json) {
    std::fprintf(options.out, "%s\n", pretty_json(*result).c_str());
    const auto* is_error = result->if_contains("isError");
    return is_error != nullptr && is_error->is_bool() && is_error->get_bool() ? 1 : 0;
  }
  const auto formatted = format_call_result(*result, options.color);
  std::fputs(formatted.text.c_str(), formatted.is_error ? options.err : options.out);
  return formatted.is_error ? 1 : 0;
}

}  // namespace deputy::client
