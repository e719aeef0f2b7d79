#include "deputy/auth/base64url.hpp"

#include <gtest/gtest.h>

#include <random>

namespace deputy::auth {
namespace {

// RFC 4648 §10 test vectors, in the URL-safe alphabet without padding.
TEST(Base64url, Rfc4648Vectors) {
  struct Vector {
    std::string_view bytes;
    std::string_view text;
  };
  for (const auto& [bytes, text] : {Vector{"", ""}, Vector{"f", "Zg"}, Vector{"fo", "Zm8"}, Vector{"foo", "Zm9v"},
                                    Vector{"foob", "Zm9vYg"}, Vector{"fooba", "Zm9vYmE"},
                                    Vector{"foobar", "Zm9vYmFy"}}) {
    EXPECT_EQ(base64url_encode(bytes), text);
    EXPECT_EQ(base64url_decode(text), bytes);
  }
}

TEST(Base64url, UsesTheUrlSafeAlphabet) {
  // 0xfb 0xff encodes to "+/8" in standard base64.
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  EXPECT_EQ(base64url_decode("-_8"), "\xfb\xff");
}

TEST(Base64url, RoundTripsEveryLengthAndByte) {
  std::mt19937 random(7);  // fixed seed: the test is deterministic
  for (std::size_t length = 0; length < 200; ++length) {
    std::string bytes(length, '\0');
    for (char& c : bytes) c = static_cast<char>(random());
    const std::string text = base64url_encode(bytes);
    EXPECT_EQ(text.size(), (length * 4 + 2) / 3);
    EXPECT_EQ(base64url_decode(text), bytes) << length;
  }
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  EXPECT_EQ(base64url_decode(base64url_encode(all)), all);
}

struct Refused {
  const char* name;
  std::string_view text;
};

class Base64urlRefuses : public testing::TestWithParam<Refused> {};

TEST_P(Base64urlRefuses, Strictly) {
  EXPECT_EQ(base64url_decode(GetParam().text), std::nullopt);
  std::string out = "kept";
  EXPECT_FALSE(base64url_decode_append(GetParam().text, out));
  EXPECT_EQ(out, "kept");  // untouched on failure
}

INSTANTIATE_TEST_SUITE_P(
    Inputs, Base64urlRefuses,
    testing::Values(Refused{"padding", "Zg=="}, Refused{"one pad", "Zm8="}, Refused{"pad only", "===="},
                    Refused{"plus", "+_8A"}, Refused{"slash", "-/8A"}, Refused{"space", "Zm9v Yg"},
                    Refused{"leading space", " Zm9v"}, Refused{"trailing newline", "Zm9v\n"},
                    Refused{"crlf inside", "Zm9v\r\nYmFy"}, Refused{"tab", "Zm\t9v"},
                    Refused{"length 4k+1 (1)", "Z"}, Refused{"length 4k+1 (5)", "Zm9vY"},
                    Refused{"dot", "Zm9v.mFy"}, Refused{"nul", std::string_view("Zm\0v", 4)},
                    Refused{"high byte", "Zm9\xc3"},
                    // "Zh" and "Zg" would both decode to "f": the unused low bits must be zero.
                    Refused{"non-canonical 2", "Zh"}, Refused{"non-canonical 3", "Zm9"},
                    Refused{"non-canonical 3b", "Zm_"}),
    [](const testing::TestParamInfo<Refused>& info) {
      std::string name = info.param.name;
      for (char& c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      }
      return name;
    });

TEST(Base64url, AppendKeepsWhatWasThere) {
  std::string out = "ab";
  ASSERT_TRUE(base64url_decode_append("Zm9v", out));
  EXPECT_EQ(out, "abfoo");
}

}  // namespace
}  // namespace deputy::auth
