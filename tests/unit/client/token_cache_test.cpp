// The token cache file: MSAL's layout, mode 0600, atomic replacement, lookups, renewal decisions, logout.
#include "deputy/client/token_cache.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <boost/json.hpp>

#include <fstream>

namespace deputy::client {
namespace {

namespace fs = std::filesystem;
using std::chrono::minutes;
using std::chrono::seconds;

const Clock::time_point kNow = Clock::time_point(seconds(1'800'000'000));

Account alice() {
  return {.home_account_id = "oid-a.tid",
          .environment = "127.0.0.1",
          .realm = "tid",
          .local_account_id = "oid-a",
          .username = "alice@deputy-dev.test",
          .name = "Alice Adams"};
}

TokenSet tokens_for(const Account& account, std::string access = "at-1", std::string refresh = "rt-1") {
  return {.account = account,
          .client_id = "Client-Id",
          .access_token = std::move(access),
          .target = "api://server/access_as_user",
          .expires_on = kNow + minutes(60),
          .refresh_token = std::move(refresh),
          .id_token = "header.payload.signature"};
}

class TokenCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("deputy-cache-test-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path path() const { return dir_ / "sub" / "msal_cache.json"; }
  fs::path dir_;
};

TEST(Renewal, WithinFiveMinutesOfExpiry) {
  EXPECT_FALSE(needs_renewal(kNow + minutes(6), kNow));
  EXPECT_FALSE(needs_renewal(kNow + minutes(5), kNow));
  EXPECT_TRUE(needs_renewal(kNow + minutes(5) - seconds(1), kNow));
  EXPECT_TRUE(needs_renewal(kNow, kNow));
  EXPECT_TRUE(needs_renewal(kNow - minutes(1), kNow));
}

TEST_F(TokenCacheTest, IsWrittenOwnerOnlyInAnOwnerOnlyDirectoryAndReadBack) {
  TokenCache cache(path());
  ASSERT_TRUE(cache.load());  // no file yet: empty
  cache.store(tokens_for(alice()), kNow);
  ASSERT_TRUE(cache.save());
  struct stat info {};
  ASSERT_EQ(::stat(path().c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600U);
  ASSERT_EQ(::stat(path().parent_path().c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0700U);

  TokenCache again(path());
  ASSERT_TRUE(again.load());
  auto accounts = again.accounts("127.0.0.1", "client-id");  // client ids compare case-insensitively
  ASSERT_EQ(accounts.size(), 1U);
  EXPECT_EQ(accounts[0].username, "alice@deputy-dev.test");
  auto access = again.access_token(accounts[0], "Client-Id", "api://server/access_as_user");
  ASSERT_TRUE(access);
  EXPECT_EQ(access->secret, "at-1");
  EXPECT_EQ(access->expires_on, kNow + minutes(60));
  EXPECT_EQ(again.refresh_token(accounts[0], "Client-Id"), "rt-1");
  EXPECT_TRUE(again.accounts("login.microsoftonline.com", "client-id").empty());
  EXPECT_TRUE(again.accounts("127.0.0.1", "other-client").empty());
  EXPECT_FALSE(again.access_token(accounts[0], "Client-Id", "api://other/scope"));
}

TEST_F(TokenCacheTest, LooksLikeMsalsSerializedCache) {
  TokenCache cache(path());
  cache.store(tokens_for(alice()), kNow);
  const auto& doc = cache.document();
  const auto& access = doc.at("AccessToken").as_object();
  ASSERT_EQ(access.size(), 1U);
  EXPECT_EQ(access.begin()->key(),
            "oid-a.tid-127.0.0.1-accesstoken-client-id-tid-api://server/access_as_user");
  const auto& entry = access.begin()->value().as_object();
  EXPECT_EQ(entry.at("credential_type"), "AccessToken");
  EXPECT_EQ(entry.at("expires_on"), "1800003600");
  EXPECT_EQ(entry.at("cached_at"), "1800000000");
  EXPECT_EQ(doc.at("RefreshToken").as_object().begin()->key(),
            "oid-a.tid-127.0.0.1-refreshtoken-client-id--api://server/access_as_user");
  EXPECT_EQ(doc.at("IdToken").as_object().begin()->key(), "oid-a.tid-127.0.0.1-idtoken-client-id-tid-");
  EXPECT_EQ(doc.at("Account").as_object().begin()->key(), "oid-a.tid-127.0.0.1-tid");
  EXPECT_EQ(doc.at("Account").as_object().begin()->value().at("authority_type"), "MSSTS");
  EXPECT_TRUE(doc.contains("AppMetadata"));
}

TEST_F(TokenCacheTest, ANewTokenReplacesTheOldOneAndARefreshWithoutOneKeepsTheCachedRefreshToken) {
  TokenCache cache(path());
  cache.store(tokens_for(alice()), kNow);
  cache.store(tokens_for(alice(), "at-2", ""), kNow + minutes(58));
  EXPECT_EQ(cache.document().at("AccessToken").as_object().size(), 1U);
  EXPECT_EQ(cache.access_token(alice(), "client-id", "api://server/access_as_user")->secret, "at-2");
  EXPECT_EQ(cache.refresh_token(alice(), "client-id"), "rt-1");
}

TEST_F(TokenCacheTest, AReplacedFileIsNeverLeftHalfWrittenOrReadableByOthers) {
  // A world-readable cache from elsewhere is replaced by a 0600 one; no temporary file stays behind.
  fs::create_directories(path().parent_path());
  std::ofstream(path()) << "{}";
  fs::permissions(path(), fs::perms::owner_read | fs::perms::owner_write | fs::perms::others_read);
  TokenCache cache(path());
  ASSERT_TRUE(cache.load());
  cache.store(tokens_for(alice()), kNow);
  ASSERT_TRUE(cache.save());
  struct stat info {};
  ASSERT_EQ(::stat(path().c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600U);
  std::size_t files = 0;
  for (const auto& entry : fs::directory_iterator(path().parent_path())) {
    ++files;
    EXPECT_EQ(entry.path().filename(), "msal_cache.json");
  }
  EXPECT_EQ(files, 1U);
  // The file on disk is a whole JSON document.
  std::ifstream in(path());
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_TRUE(boost::json::parse(text.str()).is_object());
}

TEST_F(TokenCacheTest, AFileThatDoesNotParseIsAnEmptyCache) {
  fs::create_directories(path().parent_path());
  std::ofstream(path()) << "{\"AccessToken\": [truncated";
  TokenCache cache(path());
  ASSERT_TRUE(cache.load());
  EXPECT_TRUE(cache.accounts("127.0.0.1", "client-id").empty());
}

TEST_F(TokenCacheTest, AnUnwritableDirectoryIsACacheError) {
  if (::geteuid() == 0) GTEST_SKIP() << "root writes anywhere";
  fs::create_directories(path().parent_path());
  fs::permissions(path().parent_path(), fs::perms::owner_read | fs::perms::owner_exec);
  TokenCache cache(path());
  cache.store(tokens_for(alice()), kNow);
  auto saved = cache.save();
  ASSERT_FALSE(saved);
  EXPECT_EQ(saved.error().code, ErrorCode::kCache);
  fs::permissions(path().parent_path(), fs::perms::owner_all);
}

TEST_F(TokenCacheTest, LogoutRemovesEveryEntryOfTheAccountAndNothingElse) {
  TokenCache cache(path());
  cache.store(tokens_for(alice()), kNow);
  Account bob = alice();
  bob.home_account_id = "oid-b.tid";
  bob.local_account_id = "oid-b";
  bob.username = "bob@deputy-dev.test";
  cache.store(tokens_for(bob, "at-b", "rt-b"), kNow);
  EXPECT_EQ(cache.remove_account(alice()), 4U);  // access, refresh, id token, account
  EXPECT_FALSE(cache.refresh_token(alice(), "client-id"));
  EXPECT_FALSE(cache.access_token(alice(), "client-id", "api://server/access_as_user"));
  EXPECT_EQ(cache.refresh_token(bob, "client-id"), "rt-b");
  auto accounts = cache.accounts("127.0.0.1", "client-id");
  ASSERT_EQ(accounts.size(), 1U);
  EXPECT_EQ(accounts[0].username, "bob@deputy-dev.test");
  // The secret of a removed token is nowhere in the file.
  ASSERT_TRUE(cache.save());
  std::ifstream in(path());
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str().find("rt-1"), std::string::npos);
}

}  // namespace
}  // namespace deputy::client
