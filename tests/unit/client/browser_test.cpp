// Which commands open the browser, and the pages the loopback listener answers.
#include "deputy/client/browser.hpp"

#include <gtest/gtest.h>

namespace deputy::client {
namespace {

using Commands = std::vector<std::vector<std::string>>;

TEST(Browser, XdgOpenWhenBrowserIsUnset) {
  EXPECT_EQ(browser_commands("https://x/a?b=1&c=2", ""), (Commands{{"xdg-open", "https://x/a?b=1&c=2"}}));
}

TEST(Browser, EachBrowserEntryFirstWithTheUrlInPlaceOfPercentS) {
  EXPECT_EQ(browser_commands("U", "firefox --new-window:  :/opt/w3m %s -o x"),
            (Commands{{"firefox", "--new-window", "U"}, {"/opt/w3m", "U", "-o", "x"}, {"xdg-open", "U"}}));
}

TEST(Browser, TheUrlIsOneArgumentWhateverItHolds) {
  // No shell is involved: a URL with spaces or quotes cannot become a second command.
  const auto commands = browser_commands("https://x/?a=b c;rm -rf ~", "sensible-browser");
  ASSERT_EQ(commands.front().size(), 2U);
  EXPECT_EQ(commands.front()[1], "https://x/?a=b c;rm -rf ~");
}

TEST(Browser, PagesEscapeTheProvidersText) {
  EXPECT_NE(signed_in_page().find("You can close this window"), std::string::npos);
  const auto page = sign_in_failed_page("access_denied", "AADSTS65004: <script>x</script>\r\nTrace ID: 1");
  EXPECT_NE(page.find("&lt;script&gt;"), std::string::npos);
  EXPECT_EQ(page.find("<script>"), std::string::npos);
  EXPECT_EQ(page.find("Trace ID"), std::string::npos);  // the first line only
}

}  // namespace
}  // namespace deputy::client
