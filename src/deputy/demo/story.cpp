#include "deputy/demo/story.hpp"

#include "deputy/auth/base64url.hpp"
#include "deputy/client/login.hpp"
#include "deputy/client/mcp_client.hpp"
#include "deputy/client/settings.hpp"
#include "deputy/client/token_cache.hpp"
#include "deputy/demo/narrator.hpp"
#include "deputy/demo/stack.hpp"
#include "deputy/demo/trail_summary.hpp"
#include "deputy/devidp/token_stats.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>

namespace deputy::demo {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

/// The development provider's one-time code for every user's MFA page (examples/dev-directory.yaml).
constexpr std::string_view kMfaCode = "000000";
/// The seed's SharePoint site: alice reads it, nobody else does.
constexpr std::string_view kSite = "test-site";
constexpr std::string_view kWriteAnswer = "This is a write test tool response";

/// Who the story is about, and what the built-in directory and the seed's role policy promise for them.
struct Cast {
  std::string_view key;
  std::vector<std::string> roles;
  std::vector<std::string> tools;  // sorted
};

std::vector<Cast> cast() {
  return {{"alice", {"Task.All"}, {"check_sharepoint_site_access", "test_write_tool", "whoami"}},
          {"bob", {"Task.Read"}, {"check_sharepoint_site_access", "whoami"}},
          {"carol", {"Task.Write"}, {"check_sharepoint_site_access", "test_write_tool", "whoami"}}};
}

/// One signed-in person: their own token cache (in the stack's temporary directory) and token source.
struct User {
  User(const Cast& who, client::Settings settings, net::HttpClient& http)
      : cast(who),
        upn(std::string(who.key) + "@deputy-dev.test"),
        password("dev-password-" + std::string(who.key)),
        cache(settings.cache_path),
        tokens(std::move(settings), http, cache) {}
  Cast cast;
  std::string upn;
  std::string password;  // public in examples/dev-directory.yaml
  client::TokenCache cache;
  client::TokenSource tokens;
};

/// The claims of a JWT's payload; empty when it does not decode (the demo only reads its own tokens).
json::object claims_of(std::string_view token) {
  const auto first = token.find('.');
  const auto second = token.find('.', first == std::string_view::npos ? 0 : first + 1);
  if (first == std::string_view::npos || second == std::string_view::npos) return {};
  const auto payload = auth::base64url_decode(token.substr(first + 1, second - first - 1));
  if (!payload) return {};
  boost::system::error_code ec;
  auto value = json::parse(*payload, ec);
  return !ec && value.is_object() ? value.get_object() : json::object();
}

std::vector<std::string> strings(const json::object& claims, std::string_view name) {
  std::vector<std::string> out;
  const auto* value = claims.if_contains(name);
  if (value == nullptr || !value->is_array()) return out;
  for (const auto& item : value->get_array()) {
    if (item.is_string()) out.emplace_back(item.get_string());
  }
  return out;
}

std::string text_of(const json::object& result) {
  std::string out;
  if (const auto* content = result.if_contains("content"); content != nullptr && content->is_array()) {
    for (const auto& item : content->get_array()) {
      const auto* text = item.is_object() ? item.get_object().if_contains("text") : nullptr;
      if (text != nullptr && text->is_string()) out += std::string(text->get_string());
    }
  }
  return out;
}

bool is_error(const json::object& result) {
  const auto* flag = result.if_contains("isError");
  return flag != nullptr && flag->is_bool() && flag->get_bool();
}

class Story {
 public:
  Story(Stack& stack, Narrator& say)
      : stack_(stack), say_(say), http_({.extra_ca_file = stack.ca_file().string()}) {
    for (const auto& who : cast()) {
      const auto directory = stack.directory();
      auto settings = client::load_settings([&](std::string_view name) -> std::optional<std::string> {
        if (name == "AUTHORITY") return stack.idp().base_url();
        if (name == "DEPUTY_CA_FILE") return stack.ca_file().string();
        if (name == "MCP_URL") return stack.mcp_url();
        if (name == "MSAL_CACHE_PATH")
          return (directory / "cache" / (std::string(who.key) + ".json")).string();
        return std::nullopt;
      });
      users_.push_back(std::make_unique<User>(who, std::move(settings), http_));
    }
  }

  void the_stack();
  asio::awaitable<void> sign_in();
  asio::awaitable<void> tools();
  asio::awaitable<void> write_tool();
  asio::awaitable<void> site_access();
  asio::awaitable<void> step_up();
  void trail();
  void keep_running();

 private:
  User& user(std::string_view key) {
    return **std::ranges::find_if(users_, [&](const auto& u) { return u->cast.key == key; });
  }
  /// Credentials that send the user's cached token (renewed when refused), without a step-up.
  static client::Credentials signed_in(User& user) {
    client::Credentials credentials;
    credentials.current = [&user]() { return user.tokens.access_token(); };
    credentials.renew = [&user]() { return user.tokens.renew(); };
    return credentials;
  }
  /// A session of its own for one tool call: initialize, tools/call, close.
  asio::awaitable<std::expected<json::object, client::Error>> call(client::Credentials credentials,
                                                                   std::string tool, json::object arguments);
  std::uint64_t exchanges(std::string_view key) const {
    return stack_.idp().provider().stats().snapshot().count(devidp::GrantType::kOnBehalfOf, "server", key);
  }
  void remember(const std::string& token) { secrets_.push_back(token); }

  Stack& stack_;
  Narrator& say_;
  net::HttpClient http_;
  std::vector<std::unique_ptr<User>> users_;
  std::vector<std::string> secrets_;  // every token the demo obtained: none may appear in the audit trail
};

void Story::the_stack() {
  say_.step("The development stack, in this process on free loopback ports");
  const auto& idp = stack_.idp();
  say_.check(idp.base_url().starts_with("https://127.0.0.1:"),
             fmt::format("identity provider (Entra ID look-alike)  {}/{}", idp.base_url(),
                         idp.provider().directory().tenant.id));
  say_.check(idp.graph_url().starts_with("https://127.0.0.1:"),
             fmt::format("dev Microsoft Graph                      {}/v1.0", idp.graph_url()));
  say_.check(stack_.mcp_url().starts_with("http://127.0.0.1:"),
             fmt::format("deputy MCP server                        {}", stack_.mcp_url()));
}

asio::awaitable<void> Story::sign_in() {
  say_.step("Sign-in without a browser: each user posts the provider's sign-in form");
  for (auto& u : users_) {
    client::LoginOptions login;
    login.username = u->upn;
    login.password = u->password;
    auto account = co_await u->tokens.login(std::move(login));
    if (!account) {
      say_.check(false, fmt::format("{} could not sign in: {}", u->upn, account.error().message));
      continue;
    }
    auto token = co_await u->tokens.access_token();
    if (!token) {
      say_.check(false, fmt::format("{} has no access token: {}", u->upn, token.error().message));
      continue;
    }
    remember(*token);
    if (auto refresh = u->cache.refresh_token(*account, u->tokens.settings().client_id)) remember(*refresh);
    auto roles = strings(claims_of(*token), "roles");
    std::ranges::sort(roles);
    say_.check(roles == u->cast.roles, fmt::format("{} ({}) signed in; roles in the token: {}",
                                                   account->username, account->name, fmt::join(roles, ", ")));
  }
}

asio::awaitable<std::expected<json::object, client::Error>> Story::call(client::Credentials credentials,
                                                                        std::string tool,
                                                                        json::object arguments) {
  client::McpClient mcp(http_, stack_.mcp_url(), std::move(credentials));
  auto initialized = co_await mcp.initialize();
  if (!initialized) co_return std::unexpected(initialized.error());
  auto result = co_await mcp.call_tool(std::move(tool), std::move(arguments));
  co_await mcp.close();
  co_return result;
}

asio::awaitable<void> Story::tools() {
  say_.step("Tier 1: the tools each user sees (tools/list filtered by the roles in their token)");
  for (auto& u : users_) {
    client::McpClient mcp(http_, stack_.mcp_url(), signed_in(*u));
    auto initialized = co_await mcp.initialize();
    if (!initialized) {
      say_.check(false, fmt::format("{}: {}", u->cast.key, initialized.error().message));
      continue;
    }
    auto listed = co_await mcp.list_tools();
    co_await mcp.close();
    if (!listed) {
      say_.check(false, fmt::format("{}: {}", u->cast.key, listed.error().message));
      continue;
    }
    std::vector<std::string> names;
    for (const auto& tool : *listed) {
      if (const auto* name = tool.if_contains("name"); name != nullptr && name->is_string()) {
        names.emplace_back(name->get_string());
      }
    }
    std::ranges::sort(names);
    say_.check(names == u->cast.tools,
               fmt::format("{:<6} sees {}", u->cast.key,
                           names.empty() ? "no tools" : fmt::format("{}", fmt::join(names, ", "))));
  }
}

asio::awaitable<void> Story::write_tool() {
  say_.step("Tier 1: test_write_tool needs Task.All or Task.Write");
  auto alice = co_await call(signed_in(user("alice")), "test_write_tool", json::object());
  if (alice) {
    say_.check(!is_error(*alice) && text_of(*alice) == kWriteAnswer,
               fmt::format("alice (Task.All) is allowed: \"{}\"", text_of(*alice)));
  } else {
    say_.check(false, "alice's call failed: " + alice.error().message);
  }
  auto bob = co_await call(signed_in(user("bob")), "test_write_tool", json::object());
  if (bob) {
    say_.check(false, fmt::format("bob (Task.Read) was answered: \"{}\"", text_of(*bob)));
  } else {
    std::string lowered = bob.error().message;
    std::ranges::transform(lowered, lowered.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    say_.check(
        bob.error().code == client::ErrorCode::kMcp && lowered.find("unknown tool") != std::string::npos,
        "bob (Task.Read) is refused, answered as if the tool did not exist");
    say_.note("server: " + bob.error().message);
  }
}

asio::awaitable<void> Story::site_access() {
  say_.step(fmt::format(
      "Tier 2: check_sharepoint_site_access(\"{}\") with the user's own token, exchanged On-Behalf-Of",
      kSite));
  struct Expected {
    std::string_view key;
    std::string answer;
  };
  const std::vector<Expected> expected{{"alice", fmt::format("✅ Access granted to site: {}", kSite)},
                                       {"bob", fmt::format("❌ Access denied to site: {}", kSite)}};
  for (const auto& [key, answer] : expected) {
    const auto before = exchanges(key);
    json::object arguments{{"site_name", kSite}};
    auto result = co_await call(signed_in(user(key)), "check_sharepoint_site_access", std::move(arguments));
    const auto exchanged = exchanges(key) - before;
    if (!result) {
      say_.check(false, fmt::format("{}'s call failed: {}", key, result.error().message));
      continue;
    }
    const auto text = text_of(*result);
    say_.check(!is_error(*result) && text == answer, fmt::format("{:<5} → {}", key, text));
    say_.check(exchanged >= 1, fmt::format("{}'s own token was exchanged On-Behalf-Of ({} exchange{} at the "
                                           "provider): Graph saw {}, not deputy",
                                           key, exchanged, exchanged == 1 ? "" : "s", key));
  }
}

asio::awaitable<void> Story::step_up() {
  say_.step("Tier 2: carol calls whoami; Graph requires MFA of her (Conditional Access)");
  auto& carol = user("carol");
  auto challenged = co_await call(signed_in(carol), "whoami", json::object());
  if (challenged) {
    say_.check(false, fmt::format("carol was answered without MFA: \"{}\"", text_of(*challenged)));
  } else {
    const auto& message = challenged.error().message;
    say_.check(challenged.error().code == client::ErrorCode::kUnauthorized &&
                   message.find("HTTP 401") != std::string::npos &&
                   message.find("insufficient_claims") != std::string::npos,
               "the call is answered HTTP 401 insufficient_claims: a claims challenge for MFA");
    say_.note(message);
  }

  std::string claims_asked;
  auto credentials = signed_in(carol);
  credentials.step_up =
      [this, &carol,
       &claims_asked](std::string claims) -> asio::awaitable<std::expected<std::string, client::Error>> {
    claims_asked = claims;
    say_.note("claims asked for: " + claims);
    client::LoginOptions login;
    login.username = carol.upn;
    login.password = carol.password;
    login.otp = std::string(kMfaCode);
    login.claims = std::move(claims);
    auto account = co_await carol.tokens.login(std::move(login));
    if (!account) co_return std::unexpected(account.error());
    auto token = co_await carol.tokens.access_token();
    if (token) remember(*token);
    if (auto refresh = carol.cache.refresh_token(*account, carol.tokens.settings().client_id))
      remember(*refresh);
    co_return token;
  };
  auto result = co_await call(std::move(credentials), "whoami", json::object());
  say_.check(!claims_asked.empty(),
             fmt::format("carol steps up: signs in again with those claims and the MFA code {}", kMfaCode));
  const auto token = co_await carol.tokens.access_token();
  const auto amr = token ? strings(claims_of(*token), "amr") : std::vector<std::string>{};
  say_.check(std::ranges::find(amr, "mfa") != amr.end(),
             fmt::format("her new token says how she signed in: amr = {}", fmt::join(amr, ", ")));
  if (!result) {
    say_.check(false, "the retried call failed: " + result.error().message);
    co_return;
  }
  const auto text = text_of(*result);
  say_.check(!is_error(*result) && text.find("Carol Clark") != std::string::npos,
             "the retried call completes: " + text);
}

void Story::keep_running() {
  say_.step("The stack keeps running: try it (Ctrl-C to stop and see the audit trail)");
  say_.text(fmt::format("export AUTHORITY={} DEPUTY_CA_FILE={} MCP_URL={} MSAL_CACHE_PATH={}",
                        stack_.idp().base_url(), stack_.ca_file().string(), stack_.mcp_url(),
                        (stack_.directory() / "cache" / "you.json").string()));
  say_.text("deputy tools --username alice@deputy-dev.test --password dev-password-alice");
  say_.text("deputy call check_sharepoint_site_access site_name=test-site");
  stack_.wait_for_service();
}

void Story::trail() {
  say_.step("The audit trail of this run (written out when the server stopped)");
  stack_.stop_service();
  std::ifstream file(stack_.audit_file(), std::ios::binary);
  std::stringstream contents;
  contents << file.rdbuf();
  const std::string text = contents.str();
  const auto rows = read_trail(text);
  if (!say_.check(!rows.empty(),
                  fmt::format("{} records in {}", rows.size(), stack_.audit_file().filename().string()))) {
    return;
  }
  say_.text(format_trail(rows));
  std::vector<std::string> counts;
  for (const auto& [event, count] : count_events(rows)) counts.push_back(fmt::format("{} {}", event, count));
  say_.note("by event: " + fmt::format("{}", fmt::join(counts, ", ")));
  say_.check(std::ranges::any_of(rows,
                                 [](const TrailRow& row) {
                                   return row.event == "tool_denied" && row.user == "bob@deputy-dev.test" &&
                                          row.detail.starts_with("test_write_tool");
                                 }),
             "bob's refused test_write_tool call is on record");
  for (const std::string_view key : {"alice", "bob"}) {
    const auto upn = std::string(key) + "@deputy-dev.test";
    say_.check(std::ranges::any_of(rows,
                                   [&](const TrailRow& row) {
                                     return row.event == "token_exchanged" && row.user == upn &&
                                            row.detail.find("→ ok") != std::string::npos;
                                   }),
               fmt::format("{}'s On-Behalf-Of exchange is on record (its token's id, not the token)", key));
  }
  const auto found = secrets_found(text, secrets_);
  say_.check(found == 0,
             fmt::format("none of the {} tokens this demo obtained appears in the trail ({} found)",
                         secrets_.size(), found));
}

/// Runs one coroutine to completion on a fresh io_context.
void run(asio::awaitable<void> task) {
  asio::io_context context;
  asio::co_spawn(context, std::move(task), asio::detached);
  context.run();
}

}  // namespace

int run_demo(const DemoOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  Narrator say(options.out, options.color);
  auto stack = Stack::start();
  if (!stack) {
    std::fprintf(options.out, "deputy demo: could not start %s\n", stack.error().c_str());
    return 1;
  }
  {
    Story story(**stack, say);
    story.the_stack();
    run([&story]() -> asio::awaitable<void> {
      co_await story.sign_in();
      co_await story.tools();
      co_await story.write_tool();
      co_await story.site_access();
      co_await story.step_up();
    }());
    if (options.keep_running) story.keep_running();
    story.trail();
  }
  stack->reset();
  const auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::fputs("\n", options.out);
  if (say.all_passed()) {
    say.check(true, fmt::format("every step behaved as told ({:.1f} s)", elapsed));
    return 0;
  }
  for (const auto& failure : say.failures()) std::fprintf(options.out, "failed: %s\n", failure.c_str());
  return 1;
}

}  // namespace deputy::demo
