#include "deputy/client/browser.hpp"

#include "deputy/devidp/pages.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

extern char** environ;

namespace deputy::client {

namespace {

std::string first_line(std::string_view text) {
  return std::string(text.substr(0, text.find_first_of("\r\n")));
}

bool on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return false;
  std::string_view rest(path);
  while (!rest.empty()) {
    const auto colon = rest.find(':');
    const auto dir = rest.substr(0, colon);
    std::error_code ignored;
    const auto candidate = std::filesystem::path(dir.empty() ? "." : std::string(dir)) / program;
    if (::access(candidate.c_str(), X_OK) == 0) return true;
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  return false;
}

/// Runs argv detached from our terminal's output; false when it could not be started.
bool spawn(std::vector<std::string> argv) {
  if (argv.empty()) return false;
  std::vector<char*> args;
  for (auto& arg : argv) args.push_back(arg.data());
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // The browser's chatter must not mix with our output (which scripts read).
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int result = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return result == 0;
}

std::vector<std::string> split_words(std::string_view command) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < command.size()) {
    const auto start = command.find_first_not_of(' ', at);
    if (start == std::string_view::npos) break;
    auto end = command.find(' ', start);
    if (end == std::string_view::npos) end = command.size();
    out.emplace_back(command.substr(start, end - start));
    at = end;
  }
  return out;
}

}  // namespace

std::vector<std::vector<std::string>> browser_commands(const std::string& url,
                                                       std::string_view browser_variable) {
  std::vector<std::vector<std::string>> out;
  std::string_view rest = browser_variable;
  while (!rest.empty()) {
    const auto colon = rest.find(':');
    auto words = split_words(rest.substr(0, colon));
    if (!words.empty()) {
      bool placed = false;
      for (auto& word : words) {
        if (auto at = word.find("%s"); at != std::string::npos) {
          word.replace(at, 2, url);
          placed = true;
        }
      }
      if (!placed) words.push_back(url);
      out.push_back(std::move(words));
    }
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  out.push_back({"xdg-open", url});
  return out;
}

bool open_in_browser(const std::string& url) {
  const char* browser = std::getenv("BROWSER");
  for (auto& command : browser_commands(url, browser != nullptr ? browser : "")) {
    if (on_path(command.front()) && spawn(std::move(command))) return true;
  }
  return false;
}

std::string signed_in_page() {
  return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Signed in</title></head>"
         "<body style=\"font-family:system-ui,sans-serif;margin:4rem\"><h1>Signed in</h1>"
         "<p>deputy has your sign-in. You can close this window.</p></body></html>\n";
}

std::string sign_in_failed_page(std::string_view error, std::string_view description) {
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign-in failed</title></head>"
      "<body style=\"font-family:system-ui,sans-serif;margin:4rem\"><h1>Sign-in failed</h1>"
      "<p>{}</p><p>{}</p><p>You can close this window; deputy shows the error too.</p></body></html>\n",
      devidp::html_escape(error), devidp::html_escape(first_line(description)));
}

}  // namespace deputy::client
