#pragma once
// Just enough HTML reading for the non-interactive sign-in to play the browser's part on a sign-in page: the
// forms (action, method, inputs, submit buttons) and the error text a page shows. Tolerant on purpose: the
// provider's pages change (consent, MFA, account picker), and this reads any well-formed <form> and <input>
// tags, attributes in any order and quoting, character references decoded.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace deputy::client {

struct HtmlInput {
  std::string type;  // lowercased; "text" when absent
  std::string name;
  std::string value;
};

struct HtmlForm {
  std::string action;
  std::string method;             // lowercased; "get" when absent
  std::vector<HtmlInput> inputs;  // <input>, and <button> with a name (type "submit")
};

/// Every <form> of the page, in order.
[[nodiscard]] std::vector<HtmlForm> parse_forms(std::string_view html);

/// The text of the first element marked as an error (class containing "error", or role="alert"), tags
/// stripped and whitespace collapsed; nullopt when there is none.
[[nodiscard]] std::optional<std::string> page_error(std::string_view html);

/// &amp; &lt; &gt; &quot; &#39; &#NN; &#xNN; decoded (others left as they are).
[[nodiscard]] std::string html_unescape(std::string_view text);

}  // namespace deputy::client
