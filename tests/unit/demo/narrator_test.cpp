// How `deputy demo` prints its steps, and how it remembers which ones failed.
#include "deputy/demo/narrator.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace deputy::demo {
namespace {

/// A FILE* whose contents the test reads back.
class Captured {
 public:
  Captured() : file_(::open_memstream(&buffer_, &size_)) {}
  ~Captured() {
    if (file_ != nullptr) std::fclose(file_);
    std::free(buffer_);
  }
  Captured(const Captured&) = delete;
  Captured& operator=(const Captured&) = delete;
  std::FILE* file() { return file_; }
  std::string text() {
    std::fflush(file_);
    return std::string(buffer_, size_);
  }

 private:
  char* buffer_ = nullptr;
  std::size_t size_ = 0;
  std::FILE* file_;
};

TEST(Narrator, NumbersStepsAndMarksChecksWithoutColour) {
  Captured out;
  Narrator say(out.file(), false);
  say.step("The stack");
  EXPECT_TRUE(say.check(true, "listening"));
  say.note("one\ntwo\n");
  say.step("Sign-in");
  say.text("a table\nrow");
  EXPECT_EQ(out.text(), "\n1. The stack\n  ✓ listening\n    one\n    two\n\n2. Sign-in\n  a table\n  row\n");
  EXPECT_TRUE(say.all_passed());
  EXPECT_EQ(say.current_step(), 2);
}

TEST(Narrator, AFailedCheckIsRememberedWithItsStep) {
  Captured out;
  Narrator say(out.file(), false);
  say.step("The stack");
  say.check(true, "fine");
  say.step("Tier 1");
  EXPECT_FALSE(say.check(false, "bob sees test_write_tool"));
  EXPECT_NE(out.text().find("  ✗ bob sees test_write_tool\n"), std::string::npos);
  EXPECT_FALSE(say.all_passed());
  ASSERT_EQ(say.failures().size(), 1U);
  EXPECT_EQ(say.failures().front(), "step 2 (Tier 1): bob sees test_write_tool");
}

TEST(Narrator, ColourOnlyWhenAsked) {
  Captured plain;
  Narrator quiet(plain.file(), false);
  quiet.step("x");
  quiet.check(true, "y");
  EXPECT_EQ(plain.text().find('\033'), std::string::npos);

  Captured coloured;
  Narrator loud(coloured.file(), true);
  loud.step("x");
  loud.check(false, "y");
  EXPECT_NE(coloured.text().find("\033[31m✗\033[0m y"), std::string::npos);
  EXPECT_NE(coloured.text().find("\033[1m1. x\033[0m"), std::string::npos);
}

}  // namespace
}  // namespace deputy::demo
