#pragma once
// How `deputy demo` tells its story on a terminal: a numbered heading per step, one line per observation,
// a ✓ or ✗ before each checked outcome, colour only when asked (a TTY without NO_COLOR or --no-color). It
// keeps the failed checks, so that the demo can end by saying which step went wrong.

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace deputy::demo {

class Narrator {
 public:
  Narrator(std::FILE* out, bool color) : out_(out), color_(color) {}

  /// The next step's heading: "\n3. <title>".
  void step(std::string_view title);
  /// A checked outcome: "  ✓ what" when it is as expected, else "  ✗ what" (and remembered as a failure).
  /// Returns `ok`.
  bool check(bool ok, std::string_view what);
  /// An observation that is not a check: "    text" (dimmed); each line of a multi-line text indented.
  void note(std::string_view text);
  /// Plain text under the current step (tables), each line indented by two spaces.
  void text(std::string_view text);

  [[nodiscard]] int current_step() const { return step_; }
  [[nodiscard]] bool all_passed() const { return failures_.empty(); }
  /// "step 4 (<title>): <what>" for every failed check, in order.
  [[nodiscard]] const std::vector<std::string>& failures() const { return failures_; }

 private:
  [[nodiscard]] std::string paint(std::string_view style, std::string_view text) const;
  void indented(std::string_view prefix, std::string_view text, std::string_view style);

  std::FILE* out_;
  bool color_;
  int step_ = 0;
  std::string title_;
  std::vector<std::string> failures_;
};

}  // namespace deputy::demo
