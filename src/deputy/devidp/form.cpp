#include "deputy/devidp/form.hpp"

#include <algorithm>
#include <cctype>

namespace deputy::devidp {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// Decodes one name or value; std::nullopt on a bad escape.
std::optional<std::string> decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int high = hex_value(text[i + 1]);
      const int low = hex_value(text[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      out += static_cast<char>(high * 16 + low);
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::optional<std::string_view> Form::get(std::string_view name) const {
  auto it = std::ranges::find_if(fields_, [&](const auto& field) { return field.first == name; });
  if (it == fields_.end()) return std::nullopt;
  return std::string_view(it->second);
}

std::expected<Form, FormProblem> parse_form(std::string_view body) {
  if (body.size() > kMaxFormSize) return std::unexpected(FormProblem{FormError::kTooLarge, {}});
  Form form;
  while (!body.empty()) {
    const auto amp = body.find('&');
    const std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    if (pair.empty()) continue;  // "a=1&&b=2" and a trailing '&' carry nothing; clients do send them
    const auto equals = pair.find('=');
    auto name = decode(pair.substr(0, equals));
    auto value = decode(equals == std::string_view::npos ? std::string_view() : pair.substr(equals + 1));
    if (!name || name->empty()) return std::unexpected(FormProblem{FormError::kBadEncoding, {}});
    if (!value) return std::unexpected(FormProblem{FormError::kBadEncoding, std::move(*name)});
    if (form.get(*name)) return std::unexpected(FormProblem{FormError::kDuplicate, std::move(*name)});
    if (form.fields_.size() == kMaxFormFields) return std::unexpected(FormProblem{FormError::kTooLarge, {}});
    form.fields_.emplace_back(std::move(*name), std::move(*value));
  }
  return form;
}

bool is_form_content_type(std::string_view content_type) {
  const auto semicolon = content_type.find(';');
  std::string_view type = content_type.substr(0, semicolon);
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  constexpr std::string_view kForm = "application/x-www-form-urlencoded";
  return type.size() == kForm.size() && std::ranges::equal(type, kForm, [](unsigned char a, unsigned char b) {
           return std::tolower(a) == b;
         });
}

}  // namespace deputy::devidp
