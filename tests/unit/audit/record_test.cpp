// Audit records: fixed keys in a fixed order, proper escaping, no token and no argument value in a line,
// and an argument digest that is equal for equal arguments and different otherwise.
#include "deputy/audit/record.hpp"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

#include <string>
#include <vector>

namespace deputy::audit {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

// 2026-11-27T07:47:07.123Z
const std::chrono::system_clock::time_point kTime{std::chrono::milliseconds{1795765627123}};

auth::Principal alice() {
  auth::Principal principal;
  principal.issuer = "https://login.microsoftonline.com/tid-1/v2.0";
  principal.subject = "pairwise-sub";
  principal.object_id = "oid-1";
  principal.tenant_id = "tid-1";
  principal.username = "alice@contoso.example";
  principal.name = "Alice";
  principal.client_id = "client-1";
  principal.token_id = "uti-of-the-incoming-token";
  principal.roles = {"Tools.Read"};
  principal.set_token("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl");
  return principal;
}

json::object parse_line(const std::string& line) {
  EXPECT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line";
  return json::parse(line).as_object();
}

std::vector<std::string> keys_of(const json::object& object) {
  std::vector<std::string> keys;
  for (const auto& member : object) keys.emplace_back(member.key());
  return keys;
}

TEST(AuditRecord, AnonymousAuthnFailureIsExactlyThisLine) {
  const auto record = authn_failed({.time = kTime}, auth::Error::kExpired);
  EXPECT_EQ(record.event(), Event::kAuthnFailed);
  EXPECT_EQ(encode(record),
            R"({"time":"2026-11-27T07:47:07.123Z","event":"authn_failed","request_id":"","session":"",)"
            R"("reason":"expired"})"
            "\n");
}

TEST(AuditRecord, EveryEventHasItsKeysInTheFixedOrder) {
  const auto principal = alice();
  const Context context{.time = kTime, .request_id = "7", .session = "s-1", .principal = &principal};
  const std::vector<std::string> common = {"time", "event", "request_id", "session",
                                           "oid",  "tid",   "upn",        "client"};
  struct Case {
    Record record;
    std::string_view event;
    std::vector<std::string> keys;
  };
  const std::vector<Case> cases = {
      {authn_failed(context, "malformed"), "authn_failed", {"reason"}},
      {tools_listed(context, 3), "tools_listed", {"count"}},
      {tool_denied(context, "delete_site", "missing_role"), "tool_denied", {"tool", "reason"}},
      {tool_called(context, "search", json::object{{"q", "x"}}),
       "tool_called",
       {"tool", "arg_names", "args_sha256"}},
      {token_exchanged(context, {.cache = CacheResult::kHit,
                                 .scope = "Sites.Read.All",
                                 .audience = "graph",
                                 .uti = "u-1",
                                 .outcome = "ok"}),
       "token_exchanged",
       {"cache", "scope", "audience", "uti", "outcome"}},
      {downstream_call(context, {.method = "GET",
                                 .host = "graph.microsoft.com",
                                 .path_template = "/v1.0/sites/{id}",
                                 .status = 200,
                                 .elapsed = 12ms}),
       "downstream_call",
       {"method", "host", "path_template", "status", "ms"}},
      {tool_result(context, "search", false, 40ms), "tool_result", {"tool", "is_error", "ms"}},
  };
  for (const auto& c : cases) {
    const auto object = parse_line(encode(c.record));
    auto expected = common;
    expected.insert(expected.end(), c.keys.begin(), c.keys.end());
    EXPECT_EQ(keys_of(object), expected) << c.event;
    EXPECT_EQ(object.at("event").as_string(), c.event);
    EXPECT_EQ(to_string(c.record.event()), c.event);
    EXPECT_EQ(object.at("oid").as_string(), "oid-1");
    EXPECT_EQ(object.at("tid").as_string(), "tid-1");
    EXPECT_EQ(object.at("upn").as_string(), "alice@contoso.example");
    EXPECT_EQ(object.at("client").as_string(), "client-1");
    EXPECT_EQ(object.at("request_id").as_string(), "7");
    EXPECT_EQ(object.at("session").as_string(), "s-1");
  }
}

TEST(AuditRecord, EventSpecificValues) {
  const Context context{.time = kTime, .request_id = "1", .session = "s"};
  EXPECT_EQ(parse_line(encode(tools_listed(context, 5))).at("count").as_int64(), 5);
  const auto exchanged = parse_line(encode(token_exchanged(context, {.cache = CacheResult::kMiss,
                                                                     .scope = "User.Read",
                                                                     .audience = "a",
                                                                     .uti = "",
                                                                     .outcome = "AADSTS65001"})));
  EXPECT_EQ(exchanged.at("cache").as_string(), "miss");
  EXPECT_EQ(exchanged.at("outcome").as_string(), "AADSTS65001");
  const auto call = parse_line(encode(downstream_call(
      context,
      {.method = "GET", .host = "h", .path_template = "/p/{id}", .status = 503, .elapsed = 1500ms})));
  EXPECT_EQ(call.at("status").as_int64(), 503);
  EXPECT_EQ(call.at("ms").as_int64(), 1500);
  const auto result = parse_line(encode(tool_result(context, "t", true, 7ms)));
  EXPECT_TRUE(result.at("is_error").as_bool());
  EXPECT_EQ(result.at("ms").as_int64(), 7);
}

TEST(AuditRecord, NoTokenReachesTheLine) {
  const auto principal = alice();
  const Context context{.time = kTime, .request_id = "1", .session = "s", .principal = &principal};
  for (const auto& record :
       {authn_failed(context, "expired"), tools_listed(context, 1),
        tool_called(context, "t", json::object{{"a", 1}}), tool_result(context, "t", false, 1ms)}) {
    const auto line = encode(record);
    EXPECT_EQ(line.find(auth::exchange_subject(principal)), std::string::npos);
    EXPECT_EQ(line.find("eyJ"), std::string::npos);
    EXPECT_EQ(line.find(principal.token_id),
              std::string::npos);  // the incoming token's id is not needed either
    EXPECT_EQ(line.find("Tools.Read"), std::string::npos);
  }
}

TEST(AuditRecord, ToolCallKeepsNamesAndDigestButNoArgumentValue) {
  const json::object arguments{{"query", "quarterly salaries of the board"},
                               {"limit", 987654321},
                               {"filters", json::object{{"site", "hr-confidential"}}}};
  const auto record = tool_called({.time = kTime}, "search", arguments);
  const auto line = encode(record);
  for (const char* value : {"quarterly", "salaries", "hr-confidential", "987654321"}) {
    EXPECT_EQ(line.find(value), std::string::npos) << value;
  }
  const auto object = parse_line(line);
  const auto& names = object.at("arg_names").as_array();
  ASSERT_EQ(names.size(), 3U);
  EXPECT_EQ(names[0].as_string(), "filters");  // sorted
  EXPECT_EQ(names[1].as_string(), "limit");
  EXPECT_EQ(names[2].as_string(), "query");
  EXPECT_EQ(object.at("args_sha256").as_string(), arguments_digest(arguments));
  EXPECT_EQ(object.at("args_sha256").as_string().size(), 64U);
}

TEST(AuditRecord, CanonicalSerializationSortsKeysAndNormalizesNumbers) {
  EXPECT_EQ(canonical_json(json::parse(R"({"b":{"d":true,"c":null},"a":[1,2.5,"x"]})")),
            R"({"a":[1,2.5,"x"],"b":{"c":null,"d":true}})");
  EXPECT_EQ(canonical_json(json::parse("2.0")), "2");
  EXPECT_EQ(canonical_json(json::parse("-0.0")), "0");
  EXPECT_EQ(canonical_json(json::value(std::uint64_t{7})), "7");
  EXPECT_EQ(canonical_json(json::parse("18446744073709551615")), "18446744073709551615");
  EXPECT_EQ(canonical_json(json::parse(R"("a\"b\\c\nd\u0001é")")), "\"a\\\"b\\\\c\\u000ad\\u0001\xC3\xA9\"");
}

TEST(AuditRecord, DigestIsSha256OfTheCanonicalText) {
  EXPECT_EQ(arguments_digest({}),
            "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");  // sha256("{}")
  // sha256(R"({"a":[1,2.5,"x"],"b":{"c":null,"d":true}})")
  EXPECT_EQ(arguments_digest(json::parse(R"({"b":{"d":true,"c":null},"a":[1,2.5,"x"]})").as_object()),
            "3f2209c9470486da010ac643a0abb7892811de0d5da1cca29f5c5a88356dce1d");
}

TEST(AuditRecord, DigestIsEqualForEqualArgumentsAndDifferentOtherwise) {
  const auto digest = [](std::string_view text) { return arguments_digest(json::parse(text).as_object()); };
  const auto base = digest(R"({"site":"hr","limit":2,"tags":["a","b"],"opts":{"x":1,"y":null}})");
  EXPECT_EQ(base,
            digest(R"({"limit":2,"site":"hr","opts":{"y":null,"x":1},"tags":["a","b"]})"));  // key order
  EXPECT_EQ(base, digest(R"({ "site" : "hr", "limit" : 2.0, "tags":["a","b"], "opts":{"x":1.0,"y":null} })"));
  for (const char* other : {
           R"({"site":"HR","limit":2,"tags":["a","b"],"opts":{"x":1,"y":null}})",        // a string
           R"({"site":"hr","limit":3,"tags":["a","b"],"opts":{"x":1,"y":null}})",        // a number
           R"({"site":"hr","limit":2.5,"tags":["a","b"],"opts":{"x":1,"y":null}})",      // a fraction
           R"({"site":"hr","limit":"2","tags":["a","b"],"opts":{"x":1,"y":null}})",      // a type
           R"({"site":"hr","limit":2,"tags":["b","a"],"opts":{"x":1,"y":null}})",        // array order
           R"({"site":"hr","limit":2,"tags":["a","b"],"opts":{"x":1,"y":false}})",       // null vs false
           R"({"site":"hr","limit":2,"tags":["a","b"],"opts":{"x":1}})",                 // a member fewer
           R"({"site":"hr","limit":2,"tags":["a","b"],"opts":{"x":1,"y":null},"z":0})",  // a member more
           R"({"sit":"ehr","limit":2,"tags":["a","b"],"opts":{"x":1,"y":null}})",        // shifted boundary
       }) {
    EXPECT_NE(base, digest(other)) << other;
  }
}

TEST(AuditRecord, StringsAreEscaped) {
  const std::string nasty = std::string("quote\" backslash\\ newline\n cr\r tab\t nul") + '\0' +
                            " bell\x07 del\x7F ls\xE2\x80\xA8 ps\xE2\x80\xA9 ok\xC3\xA9\xF0\x9F\x98\x80";
  const auto line = encode(tool_denied({.time = kTime}, nasty, "r"));
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  EXPECT_EQ(line.find('\r'), std::string::npos);
  EXPECT_EQ(line.find('\0'), std::string::npos);
  EXPECT_EQ(line.find('\x7F'), std::string::npos);
  EXPECT_NE(
      line.find(
          R"(quote\" backslash\\ newline\n cr\r tab\t nul\u0000 bell\u0007 del\u007f ls\u2028 ps\u2029)"),
      std::string::npos)
      << line;
  EXPECT_EQ(parse_line(line).at("tool").as_string(), nasty);  // the JSON reads back as the original
}

TEST(AuditRecord, InvalidUtf8BecomesReplacementCharacters) {
  const auto tool_of = [](std::string_view text) {
    return std::string(parse_line(encode(tool_denied({.time = kTime}, text, "r"))).at("tool").as_string());
  };
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(tool_of("a\xFF"
                    "b"),
            "a" + r + "b");
  EXPECT_EQ(tool_of("a\xC0\xAF"
                    "b"),
            "a" + r + r + "b");  // overlong '/'
  EXPECT_EQ(tool_of("a\xE0\x80"
                    "b"),
            "a" + r + r + "b");  // overlong, maximal subparts of length 1
  EXPECT_EQ(tool_of("a\xED\xA0\x80"
                    "b"),
            "a" + r + r + r + "b");                              // a UTF-16 surrogate
  EXPECT_EQ(tool_of("a\xF0\x9F\x98"), "a" + r);                  // a truncated 4-byte sequence: one
  EXPECT_EQ(tool_of("a\xF4\x90\x80\x80"), "a" + r + r + r + r);  // past U+10FFFF
  EXPECT_EQ(tool_of("\xE2\x82"
                    "\xAC"),
            "\xE2\x82\xAC");  // valid: kept
}

TEST(AuditRecord, LongStringsAreCutAtACharacterBoundary) {
  const auto tool_of = [](std::string_view text) {
    return std::string(parse_line(encode(tool_denied({.time = kTime}, text, "r"))).at("tool").as_string());
  };
  EXPECT_EQ(tool_of(std::string(kMaxFieldBytes, 'a')), std::string(kMaxFieldBytes, 'a'));
  EXPECT_EQ(tool_of(std::string(kMaxFieldBytes + 1, 'a')), std::string(kMaxFieldBytes, 'a') + "...");
  std::string accents;
  while (accents.size() < kMaxFieldBytes + 10) accents += "\xC3\xA9";
  const std::string odd = "x" + accents;  // é straddles the limit
  const auto cut = tool_of(odd);
  EXPECT_EQ(cut, "x" + accents.substr(0, kMaxFieldBytes - 2) + "...");
}

TEST(AuditRecord, TimeIsRfc3339UtcWithMilliseconds) {
  using std::chrono::system_clock;
  EXPECT_EQ(format_time(system_clock::time_point{}), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_time(kTime), "2026-11-27T07:47:07.123Z");
  EXPECT_EQ(format_time(system_clock::time_point{std::chrono::milliseconds{-1}}), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(format_time(system_clock::time_point{std::chrono::microseconds{951782400999999}}),
            "2000-02-29T00:00:00.999Z");  // truncated, not rounded
}

}  // namespace
}  // namespace deputy::audit
