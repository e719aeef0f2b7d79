#pragma once
// application/x-www-form-urlencoded bodies, parsed strictly (RFC 6749 §3.2 and appendix B): every name=value
// pair decoded once, '+' as space, percent escapes that are two hex digits, and no parameter twice (RFC 6749
// §3.1: "Request and response parameters MUST NOT be included more than once").

#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace deputy::devidp {

/// A token request is a few parameters and at most two JWTs (an assertion and a client assertion, 16 KiB
/// each, see auth::kMaxTokenSize); more is not a token request.
inline constexpr std::size_t kMaxFormSize = 64 * 1024;
/// Entra's token requests carry about a dozen parameters; MSAL adds a few of its own.
inline constexpr std::size_t kMaxFormFields = 64;

enum class FormError : std::uint8_t {
  kTooLarge,      // body over kMaxFormSize or more than kMaxFormFields pairs
  kBadEncoding,   // a '%' not followed by two hex digits, or a name that decodes to nothing
  kDuplicate,     // a parameter given twice
};

struct FormProblem {
  FormError error;
  std::string name;  // the parameter concerned, when there is one (decoded; a name, never a value)
};

class Form {
 public:
  /// The value of `name`, std::nullopt when absent. Empty values are present (and usually refused by callers).
  [[nodiscard]] std::optional<std::string_view> get(std::string_view name) const;
  /// The value, or empty when absent.
  [[nodiscard]] std::string_view value(std::string_view name) const { return get(name).value_or(""); }
  [[nodiscard]] const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }

 private:
  friend std::expected<Form, FormProblem> parse_form(std::string_view body);
  std::vector<std::pair<std::string, std::string>> fields_;
};

[[nodiscard]] std::expected<Form, FormProblem> parse_form(std::string_view body);

/// Whether a Content-Type header names a form body (any parameters, such as charset, are allowed).
[[nodiscard]] bool is_form_content_type(std::string_view content_type);

}  // namespace deputy::devidp
