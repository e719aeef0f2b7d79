#include "deputy/tools/url_template.hpp"

#include "deputy/net/percent_encoding.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include <cctype>
#include <optional>

namespace deputy::tools {

namespace json = boost::json;

namespace {

const json::object kNoArguments;

struct MessagePiece {
  std::string text;
  bool placeholder = false;
};

bool name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }

/// Splits `text` into literals and `{name}` placeholders. `strict`: a brace that does not open a
/// placeholder is an error (URLs); otherwise it is literal text (JSON bodies).
template <typename Piece>
std::expected<std::vector<Piece>, std::string> split(std::string_view text, bool strict) {
  std::vector<Piece> pieces;
  std::string literal;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '{') {
      std::size_t end = i + 1;
      while (end < text.size() && name_char(text[end])) ++end;
      if (end > i + 1 && end < text.size() && text[end] == '}') {
        if (!literal.empty()) pieces.push_back({std::move(literal), false});
        literal.clear();
        pieces.push_back({std::string(text.substr(i + 1, end - i - 1)), true});
        i = end;
        continue;
      }
      if (strict) return std::unexpected(fmt::format("'{{' at {} does not open a {{name}} placeholder", i));
    } else if (text[i] == '}' && strict) {
      return std::unexpected(fmt::format("'}}' at {} closes no placeholder", i));
    }
    literal += text[i];
  }
  if (!literal.empty()) pieces.push_back({std::move(literal), false});
  return pieces;
}

/// An argument as text for a URL; nullopt when absent or null.
std::expected<std::optional<std::string>, std::string> argument_text(const json::object& arguments,
                                                                     std::string_view name) {
  const auto* value = arguments.if_contains(name);
  if (value == nullptr || value->is_null()) return std::nullopt;
  if (value->is_string()) return std::string(value->get_string());
  if (value->is_bool()) return std::string(value->get_bool() ? "true" : "false");
  if (value->is_number()) return json::serialize(*value);
  return std::unexpected(fmt::format("argument {} must be a string, a number or a boolean", name));
}

}  // namespace

std::expected<UrlTemplate, std::string> UrlTemplate::compile(std::string_view url) {
  UrlTemplate out;
  std::size_t scheme_end = 0;
  if (url.starts_with("https://")) {
    scheme_end = 8;
  } else if (url.starts_with("http://")) {
    scheme_end = 7;
  } else {
    return std::unexpected("must start with https:// (or http://)");
  }
  const std::size_t authority_end = url.find_first_of("/?#", scheme_end);
  const std::string_view authority = url.substr(scheme_end, authority_end - scheme_end);
  // The destination is configuration, never an argument: no placeholder, no user info, no stray bytes.
  if (authority.empty()) return std::unexpected("has no host");
  for (const char c : authority) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-' || c == ':' || c == '[' ||
          c == ']')) {
      return std::unexpected("the host must be fixed: no placeholder, user info or other characters there");
    }
  }
  out.origin_ = std::string(url.substr(0, scheme_end)) + std::string(authority);
  if (authority_end == std::string_view::npos) {
    out.path_template_ = "/";
    out.path_ = {{"/", false}};
    return out;
  }
  std::string_view rest = url.substr(authority_end);
  if (rest.find('#') != std::string_view::npos) return std::unexpected("must not have a fragment");
  const std::size_t question = rest.find('?');
  const std::string_view path = rest.substr(0, question);
  out.path_template_ = path.empty() ? "/" : std::string(path);
  if (out.path_template_.find("/./") != std::string::npos || out.path_template_.find("/../") != std::string::npos ||
      out.path_template_.ends_with("/.") || out.path_template_.ends_with("/..")) {
    return std::unexpected("the path must not have '.' or '..' segments");
  }
  auto path_pieces = split<Piece>(out.path_template_, true);
  if (!path_pieces) return std::unexpected("path: " + path_pieces.error());
  out.path_ = std::move(*path_pieces);
  if (question != std::string_view::npos) {
    std::string_view query = rest.substr(question + 1);
    while (!query.empty()) {
      const std::size_t amp = query.find('&');
      const std::string_view parameter = query.substr(0, amp);
      query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
      if (parameter.empty()) continue;
      const std::size_t equals = parameter.find('=');
      QueryParameter entry{.name = std::string(parameter.substr(0, equals))};
      if (entry.name.find_first_of("{}") != std::string::npos) {
        return std::unexpected("query: parameter names must be fixed");
      }
      if (equals != std::string_view::npos) {
        auto value = split<Piece>(parameter.substr(equals + 1), true);
        if (!value) return std::unexpected("query: " + value.error());
        entry.value = std::move(*value);
      }
      out.query_.push_back(std::move(entry));
    }
  }
  return out;
}

std::vector<std::string> UrlTemplate::names() const {
  std::vector<std::string> out;
  for (const auto& piece : path_) {
    if (piece.placeholder) out.push_back(piece.text);
  }
  for (const auto& parameter : query_) {
    for (const auto& piece : parameter.value) {
      if (piece.placeholder) out.push_back(piece.text);
    }
  }
  return out;
}

std::expected<std::string, std::string> UrlTemplate::expand(const json::object& arguments) const {
  std::string url = origin_;
  for (const auto& piece : path_) {
    if (!piece.placeholder) {
      url += piece.text;
      continue;
    }
    auto text = argument_text(arguments, piece.text);
    if (!text) return std::unexpected(text.error());
    if (!*text || (*text)->empty()) return std::unexpected(fmt::format("argument {} is required", piece.text));
    // "." and ".." survive percent-encoding as dot segments (RFC 3986 §6.2.2.2 lets servers decode %2E):
    // they would move the call up the path.
    if (**text == "." || **text == "..") return std::unexpected(fmt::format("argument {} is not a valid name", piece.text));
    url += net::percent_encode(**text);
  }
  // A segment made of dots, however the arguments and the literal text around them put it together
  // ("{a}{b}" with "." and ".", ".{a}" with "."), would move the call up the path.
  for (std::string_view rest = std::string_view(url).substr(origin_.size()); !rest.empty();) {
    const auto slash = rest.find('/', 1);
    const std::string_view segment = rest.substr(1, slash == std::string_view::npos ? std::string_view::npos : slash - 1);
    if (segment == "." || segment == "..") return std::unexpected("the arguments make a '.' or '..' path segment");
    if (slash == std::string_view::npos) break;
    rest = rest.substr(slash);
  }
  char separator = '?';
  for (const auto& parameter : query_) {
    std::string value;
    bool dropped = false;
    for (const auto& piece : parameter.value) {
      if (!piece.placeholder) {
        value += piece.text;
        continue;
      }
      auto text = argument_text(arguments, piece.text);
      if (!text) return std::unexpected(text.error());
      if (!*text) {
        // An optional argument that is the whole value: the parameter is left out.
        if (parameter.value.size() == 1) {
          dropped = true;
          break;
        }
        return std::unexpected(fmt::format("argument {} is required", piece.text));
      }
      value += net::percent_encode(**text);
    }
    if (dropped) continue;
    url += separator;
    separator = '&';
    url += parameter.name;
    if (!parameter.value.empty()) url += '=' + value;
  }
  if (url.size() > kMaxUrlLength) return std::unexpected("the arguments make the URL too long");
  return url;
}

std::expected<BodyTemplate, std::string> BodyTemplate::compile(std::string_view body) {
  BodyTemplate out;
  auto pieces = split<Piece>(body, false);
  if (!pieces) return std::unexpected(pieces.error());
  out.pieces_ = std::move(*pieces);
  // Every placeholder as null and as a string must leave valid JSON: a template that cannot parse is a
  // config error, and so is a placeholder inside a JSON string (its value's quotes would end the string).
  json::object strings;
  for (const auto& piece : out.pieces_) {
    if (piece.placeholder) strings[piece.text] = "s";
  }
  for (const json::object* arguments : std::initializer_list<const json::object*>{&strings, &kNoArguments}) {
    boost::system::error_code ec;
    (void)json::parse(out.expand(*arguments), ec);
    if (ec) return std::unexpected("is not JSON once its placeholders are filled (a placeholder stands for a whole value)");
  }
  return out;
}

std::string BodyTemplate::expand(const json::object& arguments) const {
  std::string out;
  for (const auto& piece : pieces_) {
    if (!piece.placeholder) {
      out += piece.text;
    } else if (const auto* value = arguments.if_contains(piece.text)) {
      out += json::serialize(*value);  // JSON-encoded: quotes and escapes keep it a value, never syntax
    } else {
      out += "null";
    }
  }
  return out;
}

std::string expand_message(std::string_view message, const json::object& arguments) {
  auto pieces = split<MessagePiece>(message, false);
  std::string out;
  for (const auto& piece : *pieces) {
    if (!piece.placeholder) {
      out += piece.text;
    } else if (const auto* value = arguments.if_contains(piece.text)) {
      out += value->is_string() ? std::string(value->get_string()) : json::serialize(*value);
    }
  }
  return out;
}

}  // namespace deputy::tools
