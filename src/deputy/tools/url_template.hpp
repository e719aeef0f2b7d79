#pragma once
// URL and body templates of declared HTTP tools: `https://graph.microsoft.com/v1.0/users/{user}?$select={fields}`.
// The one rule that matters: arguments fill holes, they never change where the call goes. The scheme, host
// and port are fixed when the template is compiled (a placeholder there is refused); an argument in the path
// fills one segment (every byte but the unreserved ones percent-encoded, so `/`, `?`, `#`, `%`, `@` and
// CR/LF stay data, and `.`/`..` are refused because servers resolve dot segments even when encoded); an
// argument in the query fills one value.

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <expected>
#include <string>
#include <string_view>
#include <vector>

namespace deputy::tools {

/// Longest expanded URL: Graph and Azure DevOps refuse past a few KiB, and a long argument is an attempt.
inline constexpr std::size_t kMaxUrlLength = 8 * 1024;

class UrlTemplate {
 public:
  /// Compiles `url`; the error names what is wrong (config loading reports it with the key).
  [[nodiscard]] static std::expected<UrlTemplate, std::string> compile(std::string_view url);

  /// The URL with `arguments` filled in. Errors are for the caller of the tool (an argument missing, not a
  /// string/number/boolean, a dot segment, too long).
  [[nodiscard]] std::expected<std::string, std::string> expand(const boost::json::object& arguments) const;

  /// scheme://host[:port], fixed.
  [[nodiscard]] const std::string& origin() const { return origin_; }
  /// The path as written, placeholders and all: what audit records show instead of the expanded path.
  [[nodiscard]] const std::string& path_template() const { return path_template_; }
  /// The names of the arguments the template uses.
  [[nodiscard]] std::vector<std::string> names() const;

 private:
  struct Piece {
    std::string text;  // literal text, or the argument's name
    bool placeholder = false;
  };
  struct QueryParameter {
    std::string name;           // already encoded as written
    std::vector<Piece> value;
  };
  std::string origin_;
  std::string path_template_;
  std::vector<Piece> path_;
  std::vector<QueryParameter> query_;
};

/// A JSON body with `{name}` placeholders (name: letters, digits, underscore; JSON's own braces are never
/// followed by a name and a closing brace), each replaced by the argument's JSON value (null when absent).
/// The result must be JSON: a template that breaks is an error at compile time.
class BodyTemplate {
 public:
  [[nodiscard]] static std::expected<BodyTemplate, std::string> compile(std::string_view body);
  [[nodiscard]] std::string expand(const boost::json::object& arguments) const;
  [[nodiscard]] bool empty() const { return pieces_.empty(); }

 private:
  struct Piece {
    std::string text;
    bool placeholder = false;
  };
  std::vector<Piece> pieces_;
};

/// `{name}` in a message replaced by the argument as text (strings unquoted); for status messages.
[[nodiscard]] std::string expand_message(std::string_view message, const boost::json::object& arguments);

}  // namespace deputy::tools
