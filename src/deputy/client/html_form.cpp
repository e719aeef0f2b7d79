#include "deputy/client/html_form.hpp"

#include <algorithm>
#include <cctype>
#include <map>

namespace deputy::client {

namespace {

/// No sign-in page has more; a bound keeps a hostile page from making us loop long.
constexpr std::size_t kMaxTags = 4096;

std::string lower(std::string_view text) {
  std::string out(text);
  std::ranges::transform(out, out.begin(),
                         [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

struct Tag {
  std::string name;  // lowercased, "/form" for a closing tag
  std::map<std::string, std::string> attributes;
  std::size_t end = 0;  // index after '>'
};

/// Reads the tag starting at html[at] == '<'.
std::optional<Tag> read_tag(std::string_view html, std::size_t at) {
  std::size_t i = at + 1;
  auto space = [&] {
    while (i < html.size() && std::isspace(static_cast<unsigned char>(html[i])) != 0) ++i;
  };
  const std::size_t name_start = i;
  while (i < html.size() &&
         (std::isalnum(static_cast<unsigned char>(html[i])) != 0 || html[i] == '/' || html[i] == '!')) {
    ++i;
  }
  if (i == name_start) return std::nullopt;
  Tag tag{.name = lower(html.substr(name_start, i - name_start))};
  for (;;) {
    space();
    if (i >= html.size()) return std::nullopt;
    if (html[i] == '>') {
      tag.end = i + 1;
      return tag;
    }
    if (html[i] == '/') {
      ++i;
      continue;
    }
    const std::size_t attr_start = i;
    while (i < html.size() && html[i] != '=' && html[i] != '>' && html[i] != '/' &&
           std::isspace(static_cast<unsigned char>(html[i])) == 0) {
      ++i;
    }
    std::string name = lower(html.substr(attr_start, i - attr_start));
    space();
    std::string value;
    if (i < html.size() && html[i] == '=') {
      ++i;
      space();
      if (i < html.size() && (html[i] == '"' || html[i] == '\'')) {
        const char quote = html[i++];
        const auto close = html.find(quote, i);
        if (close == std::string_view::npos) return std::nullopt;
        value = html_unescape(html.substr(i, close - i));
        i = close + 1;
      } else {
        const std::size_t value_start = i;
        while (i < html.size() && html[i] != '>' && std::isspace(static_cast<unsigned char>(html[i])) == 0)
          ++i;
        value = html_unescape(html.substr(value_start, i - value_start));
      }
    }
    if (name.empty()) {
      ++i;
      continue;
    }
    tag.attributes.emplace(std::move(name), std::move(value));
  }
}

std::string attribute(const Tag& tag, const std::string& name) {
  auto it = tag.attributes.find(name);
  return it == tag.attributes.end() ? std::string() : it->second;
}

}  // namespace

std::string html_unescape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '&') {
      out += text[i];
      continue;
    }
    const auto semicolon = text.find(';', i);
    if (semicolon == std::string_view::npos || semicolon - i > 10) {
      out += text[i];
      continue;
    }
    const auto entity = text.substr(i + 1, semicolon - i - 1);
    std::optional<unsigned long> code;
    if (entity == "amp") code = '&';
    if (entity == "lt") code = '<';
    if (entity == "gt") code = '>';
    if (entity == "quot") code = '"';
    if (entity == "apos") code = '\'';
    if (entity.size() > 1 && entity[0] == '#') {
      try {
        const bool hex = entity[1] == 'x' || entity[1] == 'X';
        code = std::stoul(std::string(entity.substr(hex ? 2 : 1)), nullptr, hex ? 16 : 10);
      } catch (const std::exception&) {
        code.reset();
      }
    }
    if (!code || *code > 0x10FFFF) {
      out += text[i];
      continue;
    }
    // UTF-8 of the code point.
    const unsigned long c = *code;
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else if (c < 0x800) {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
      out += static_cast<char>(0xE0 | (c >> 12));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (c >> 18));
      out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
    i = semicolon;
  }
  return out;
}

std::vector<HtmlForm> parse_forms(std::string_view html) {
  std::vector<HtmlForm> forms;
  HtmlForm* current = nullptr;
  std::size_t at = 0;
  for (std::size_t count = 0; count < kMaxTags; ++count) {
    at = html.find('<', at);
    if (at == std::string_view::npos) break;
    auto tag = read_tag(html, at);
    if (!tag) {
      ++at;
      continue;
    }
    at = tag->end;
    if (tag->name == "form") {
      std::string method = lower(attribute(*tag, "method"));
      forms.push_back({.action = attribute(*tag, "action"), .method = method.empty() ? "get" : method});
      current = &forms.back();
    } else if (tag->name == "/form") {
      current = nullptr;
    } else if (current != nullptr && tag->name == "input") {
      std::string type = lower(attribute(*tag, "type"));
      current->inputs.push_back({.type = type.empty() ? "text" : type,
                                 .name = attribute(*tag, "name"),
                                 .value = attribute(*tag, "value")});
    } else if (current != nullptr && tag->name == "button" && !attribute(*tag, "name").empty()) {
      const std::string type = lower(attribute(*tag, "type"));
      if (type.empty() || type == "submit") {
        current->inputs.push_back(
            {.type = "submit", .name = attribute(*tag, "name"), .value = attribute(*tag, "value")});
      }
    }
  }
  return forms;
}

std::optional<std::string> page_error(std::string_view html) {
  std::size_t at = 0;
  for (std::size_t count = 0; count < kMaxTags; ++count) {
    at = html.find('<', at);
    if (at == std::string_view::npos) return std::nullopt;
    auto tag = read_tag(html, at);
    if (!tag) {
      ++at;
      continue;
    }
    at = tag->end;
    if (tag->name.starts_with('/') || tag->name == "style" || tag->name == "script") continue;
    const std::string classes = " " + attribute(*tag, "class") + " ";
    const bool error = classes.find(" error ") != std::string::npos || attribute(*tag, "role") == "alert";
    if (!error) continue;
    const auto close = html.find("</" + tag->name, at);
    const auto inner = html.substr(at, close == std::string_view::npos ? std::string_view::npos : close - at);
    std::string text;
    bool in_tag = false;
    bool space = false;
    for (char c : inner) {
      if (c == '<') in_tag = true;
      if (!in_tag) {
        if (std::isspace(static_cast<unsigned char>(c)) != 0) {
          space = !text.empty();
        } else {
          if (space) text += ' ';
          space = false;
          text += c;
        }
      }
      if (c == '>') in_tag = false;
    }
    text = html_unescape(text);
    if (!text.empty()) return text;
  }
  return std::nullopt;
}

}  // namespace deputy::client
