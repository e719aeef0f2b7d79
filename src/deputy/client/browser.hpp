#pragma once
// The browser's side of an interactive sign-in: starting one on the authorize URL, and the pages the loopback
// listener shows it when the provider sends it back.

#include <string>
#include <string_view>
#include <vector>

namespace deputy::client {

/// The commands tried, in order, to open `url`: each ':'-separated entry of $BROWSER (as Python's webbrowser
/// reads it: "%s" stands for the URL, else the URL is appended), then xdg-open.
[[nodiscard]] std::vector<std::vector<std::string>> browser_commands(const std::string& url,
                                                                     std::string_view browser_variable);

/// Starts the first of browser_commands() whose program is on PATH, detached, its output discarded (scripts
/// read ours); false when none could be started. The child is not waited for: a browser outlives the sign-in.
[[nodiscard]] bool open_in_browser(const std::string& url);

/// What the listener answers: signed in (close this window), or the provider's error.
[[nodiscard]] std::string signed_in_page();
[[nodiscard]] std::string sign_in_failed_page(std::string_view error, std::string_view description);

}  // namespace deputy::client
