#include "deputy/mcp/registry.hpp"

#include <gtest/gtest.h>

namespace deputy::mcp {
namespace {

ToolHandler noop() {
  return [](const json::object&, RequestContext&) -> boost::asio::awaitable<ToolResult> { co_return ToolResult{}; };
}

TEST(UriTemplate, MatchesVariables) {
  auto t = UriTemplate::parse("test://template/{id}/data");
  ASSERT_TRUE(t);
  auto vars = t->match("test://template/123/data");
  ASSERT_TRUE(vars);
  EXPECT_EQ(vars->at("id"), "123");
  EXPECT_FALSE(t->match("test://template//data"));
  EXPECT_FALSE(t->match("test://template/123/other"));
  EXPECT_FALSE(t->match("test://other/123/data"));
}

TEST(UriTemplate, SeveralVariablesAndTrailingOne) {
  auto t = UriTemplate::parse("repo://{owner}/{name}");
  ASSERT_TRUE(t);
  auto vars = t->match("repo://me/project/sub");
  ASSERT_TRUE(vars);
  EXPECT_EQ(vars->at("owner"), "me");
  EXPECT_EQ(vars->at("name"), "project/sub");
}

TEST(UriTemplate, RejectsWhatItCannotMatch) {
  EXPECT_FALSE(UriTemplate::parse("a{b"));
  EXPECT_FALSE(UriTemplate::parse("a}b"));
  EXPECT_FALSE(UriTemplate::parse("a{}"));
  EXPECT_FALSE(UriTemplate::parse("a{+path}"));
  EXPECT_FALSE(UriTemplate::parse("a{x}{y}"));
}

TEST(Registry, DuplicateNamesAndBadSchemasAreSetupErrors) {
  Registry registry;
  registry.add_tool({.name = "a"}, noop());
  EXPECT_THROW(registry.add_tool({.name = "a"}, noop()), std::invalid_argument);
  EXPECT_THROW(registry.add_tool({.name = "b", .input_schema = {{"type", "nonsense"}}}, noop()), std::invalid_argument);
}

TEST(Registry, ChangesPublishANewCatalogAndNotify) {
  Registry registry;
  std::vector<ListKind> changes;
  registry.on_change([&](ListKind kind) { changes.push_back(kind); });
  auto before = registry.snapshot();
  registry.add_tool({.name = "a"}, noop());
  auto after = registry.snapshot();
  EXPECT_EQ(before->tools.size(), 0U);  // an old snapshot never changes under its reader
  ASSERT_EQ(after->tools.size(), 1U);
  EXPECT_NE(after->find_tool("a"), nullptr);
  EXPECT_TRUE(registry.remove_tool("a"));
  EXPECT_FALSE(registry.remove_tool("a"));
  EXPECT_EQ(registry.snapshot()->tools.size(), 0U);
  EXPECT_EQ(changes, (std::vector<ListKind>{ListKind::kTools, ListKind::kTools}));
}

TEST(Registry, ListingIsBuiltOnce) {
  Registry registry;
  registry.add_tool({.name = "t", .title = "T", .description = "d", .annotations = {{"readOnlyHint", true}}}, noop());
  const auto& listing = registry.snapshot()->tools[0]->listing;
  EXPECT_EQ(listing.at("title"), "T");
  EXPECT_EQ(listing.at("annotations").at("readOnlyHint"), true);
  EXPECT_EQ(listing.at("inputSchema").at("type"), "object");
}

}  // namespace
}  // namespace deputy::mcp
