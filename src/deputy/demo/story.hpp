#pragma once
// `deputy demo`: the seed's story told against the development stack (stack.hpp), without a human. alice,
// bob and carol sign in by posting the development provider's sign-in form as a browser would; then, step
// by step: the tools each one sees (Tier 1), test_write_tool allowed for alice and answered as unknown to
// bob, the SharePoint site granted to alice and denied to bob with each one's own token exchanged
// On-Behalf-Of (Tier 2), carol's MFA claims challenge and her step-up, and the audit trail of it all, with no
// token in it. Every observation is compared with the expected outcome; the exit code is 0 only when all of
// them hold.

#include <cstdio>

namespace deputy::demo {

struct DemoOptions {
  /// Before the audit step, keep the stack serving until SIGINT/SIGTERM (try it with `deputy tools`).
  bool keep_running = false;
  bool color = false;
  std::FILE* out = stdout;
};

/// Runs the demo; 0 when every step behaved as told, else 1 (the failed steps are named at the end).
[[nodiscard]] int run_demo(const DemoOptions& options);

}  // namespace deputy::demo
