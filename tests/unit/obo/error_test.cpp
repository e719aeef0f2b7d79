// Reason strings, the safe description, and the admin-consent link.
#include "deputy/obo/error.hpp"

#include <gtest/gtest.h>

#include <set>

namespace deputy::obo {
namespace {

TEST(OboError, EveryErrorHasItsOwnReason) {
  const Error all[] = {Error::interaction_required, Error::consent_required,   Error::invalid_grant,
                       Error::invalid_client,       Error::invalid_scope,      Error::invalid_request,
                       Error::unavailable,          Error::malformed_response, Error::credential_unavailable};
  std::set<std::string_view> reasons;
  for (const Error error : all) {
    EXPECT_NE(to_string(error), "unknown");
    reasons.insert(to_string(error));
  }
  EXPECT_EQ(reasons.size(), std::size(all));
  EXPECT_EQ(to_string(Error::consent_required), "consent_required");
}

TEST(OboError, SafeDescriptionKeepsTheFirstLineWithoutControlCharacters) {
  EXPECT_EQ(safe_description("AADSTS50076: MFA needed.\r\nTrace ID: abc\r\nCorrelation ID: def"),
            "AADSTS50076: MFA needed.");
  EXPECT_EQ(safe_description("a\tb\x1b[31mc"), "ab[31mc");
  EXPECT_EQ(safe_description(std::string(5000, 'x')).size(), kMaxDescriptionLength);
  // A multi-byte character the limit would split is left out whole.
  const std::string accented = std::string(kMaxDescriptionLength - 1, 'x') + "\xC3\xA9tait";
  EXPECT_EQ(safe_description(accented), std::string(kMaxDescriptionLength - 1, 'x'));
  const std::string fits = std::string(kMaxDescriptionLength - 2, 'x') + "\xC3\xA9tait";
  EXPECT_EQ(safe_description(fits), std::string(kMaxDescriptionLength - 2, 'x') + "\xC3\xA9");
}

TEST(OboError, AdminConsentUrl) {
  EXPECT_EQ(
      admin_consent_url(
          "https://login.microsoftonline.com/", "b22dd19b-fad0-4513-a43e-46a8cb3ca698",
          "d894da85-e1f8-4202-b8d8-bbfc24cbe604",
          {"https://graph.microsoft.com/User.Read", "https://graph.microsoft.com/Sites.Read.All"}),
      "https://login.microsoftonline.com/b22dd19b-fad0-4513-a43e-46a8cb3ca698/v2.0/adminconsent?"
      "client_id=d894da85-e1f8-4202-b8d8-bbfc24cbe604&scope=https%3A%2F%2Fgraph.microsoft.com%2FUser.Read%20"
      "https%3A%2F%2Fgraph.microsoft.com%2FSites.Read.All");
  // A hostile value cannot add parameters.
  EXPECT_EQ(admin_consent_url("https://idp", "t", "id&redirect_uri=https://evil", {}),
            "https://idp/t/v2.0/adminconsent?client_id=id%26redirect_uri%3Dhttps%3A%2F%2Fevil&scope=");
}

}  // namespace
}  // namespace deputy::obo
