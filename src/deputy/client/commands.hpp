#pragma once
// The client's subcommands as `deputy` runs them: login, logout, whoami, tools, call. Each builds the HTTP
// client (trusting DEPUTY_CA_FILE besides the system's CAs), the token cache and the token source from the
// settings, runs on its own io_context, prints for a person (or JSON with --json) on stdout and errors on
// stderr, and returns the exit code: 0 done, 1 failed (or the tool reported an error), 2 bad settings or
// input.

#include "deputy/client/login.hpp"
#include "deputy/client/settings.hpp"

#include <boost/json/object.hpp>

#include <cstdio>
#include <string>
#include <vector>

namespace deputy::client {

struct CommandOptions {
  Settings settings;
  LoginOptions login;  // how to sign in when a command needs to (and for `deputy login`)
  bool json = false;
  bool color = false;  // ANSI colours on stderr (a TTY)
  std::FILE* out = stdout;
  std::FILE* err = stderr;
};

int login_command(const CommandOptions& options);
int logout_command(const CommandOptions& options);
int whoami_command(const CommandOptions& options);
int tools_command(const CommandOptions& options);
int call_command(const CommandOptions& options, const std::string& tool,
                 const std::vector<std::string>& assignments);

/// `deputy tools`: each tool's name and description, and its arguments with their types (required ones
/// marked).
[[nodiscard]] std::string format_tools(const std::vector<boost::json::object>& tools);

struct FormattedResult {
  std::string text;
  bool is_error = false;
};
/// `deputy call`: text content as it is, other content named (images, audio, resources), structuredContent as
/// indented JSON when there is no text; an error result is marked "error:" (red with `color`).
[[nodiscard]] FormattedResult format_call_result(const boost::json::object& result, bool color);

/// `deputy whoami`: the account, the authority and until when the access token lasts.
[[nodiscard]] std::string format_status(const SignedIn& status, const Settings& settings,
                                        Clock::time_point now);

/// JSON indented by two spaces.
[[nodiscard]] std::string pretty_json(const boost::json::value& value);

}  // namespace deputy::client
