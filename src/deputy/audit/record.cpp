#include "deputy/audit/record.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <iterator>

namespace deputy::audit {

namespace {

constexpr std::string_view kHexDigits = "0123456789abcdef";
/// What a cut string ends with.
constexpr std::string_view kCutMarker = "...";
/// U+FFFD in UTF-8: what an invalid byte sequence becomes.
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

void append_unicode_escape(std::string& out, unsigned code) {
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) out += kHexDigits[(code >> shift) & 0xF];
}

/// The length of the valid UTF-8 sequence at the start of `text` (1 to 4), or, when it is invalid, the
/// negated length of its maximal ill-formed prefix (Unicode 15, 3.9 "U+FFFD substitution of maximal
/// subparts").
int utf8_sequence(std::string_view text) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return 1;
  int length = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;  // the range of the second byte; later ones are always 80..BF
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;   // no overlong forms
    if (lead == 0xED) high = 0x9F;  // no surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;   // no overlong forms
    if (lead == 0xF4) high = 0x8F;  // nothing past U+10FFFF
  } else {
    return -1;  // a continuation byte, C0/C1 (always overlong) or F5..FF
  }
  for (int i = 1; i < length; ++i) {
    if (static_cast<std::size_t>(i) >= text.size()) return -i;
    const unsigned char c = byte(i);
    const bool ok = i == 1 ? (c >= low && c <= high) : (c >= 0x80 && c <= 0xBF);
    if (!ok) return -i;
  }
  return length;
}

/// Printable ASCII other than the two characters JSON escapes.
constexpr bool is_plain(char c) {
  return c >= 0x20 && c < 0x7F && c != '"' && c != '\\';
}

void append_quoted(std::string& out, std::string_view text) {
  out += '"';
  append_json_string_contents(out, text);
  out += '"';
}

void append_key(std::string& out, std::string_view key) {
  out += ",\"";
  out += key;  // keys are ours: plain ASCII
  out += "\":";
}

void append_string_field(std::string& out, std::string_view key, std::string_view value) {
  append_key(out, key);
  append_quoted(out, value);
}

template <typename Integer>
void append_number_field(std::string& out, std::string_view key, Integer value) {
  append_key(out, key);
  fmt::format_to(std::back_inserter(out), "{}", value);
}

void append_bool_field(std::string& out, std::string_view key, bool value) {
  append_key(out, key);
  out += value ? "true" : "false";
}

struct DetailsWriter {
  std::string& out;

  void operator()(const AuthnFailed& d) const { append_string_field(out, "reason", d.reason); }
  void operator()(const ToolsListed& d) const { append_number_field(out, "count", d.count); }
  void operator()(const ToolDenied& d) const {
    append_string_field(out, "tool", d.tool);
    append_string_field(out, "reason", d.reason);
  }
  void operator()(const ToolCalled& d) const {
    append_string_field(out, "tool", d.tool);
    append_key(out, "arg_names");
    out += '[';
    for (std::size_t i = 0; i < d.argument_names.size(); ++i) {
      if (i != 0) out += ',';
      append_quoted(out, d.argument_names[i]);
    }
    out += ']';
    append_string_field(out, "args_sha256", d.arguments_sha256);
  }
  void operator()(const TokenExchanged& d) const {
    append_string_field(out, "cache", d.cache == CacheResult::kHit ? "hit" : "miss");
    append_string_field(out, "scope", d.scope);
    append_string_field(out, "audience", d.audience);
    append_string_field(out, "uti", d.uti);
    append_string_field(out, "outcome", d.outcome);
  }
  void operator()(const DownstreamCall& d) const {
    append_string_field(out, "method", d.method);
    append_string_field(out, "host", d.host);
    append_string_field(out, "path_template", d.path_template);
    append_number_field(out, "status", d.status);
    append_number_field(out, "ms", d.elapsed.count());
  }
  void operator()(const ToolResult& d) const {
    append_string_field(out, "tool", d.tool);
    append_bool_field(out, "is_error", d.is_error);
    append_number_field(out, "ms", d.elapsed.count());
  }
};

Record make(const Context& context, Details details) {
  Record record;
  record.time = context.time;
  record.request_id = context.request_id;
  record.session = context.session;
  if (context.principal != nullptr) record.actor = Actor::of(*context.principal);
  record.details = std::move(details);
  return record;
}

void append_canonical_string(std::string& out, std::string_view text) {
  out += '"';
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20) {
      append_unicode_escape(out, byte);
    } else {
      out += c;
    }
  }
  out += '"';
}

void append_canonical(std::string& out, const boost::json::value& value);

void append_canonical_object(std::string& out, const boost::json::object& object) {
  std::vector<const boost::json::key_value_pair*> members;
  members.reserve(object.size());
  for (const auto& member : object) members.push_back(&member);
  std::ranges::sort(members, {}, [](const auto* member) { return member->key(); });
  out += '{';
  bool first = true;
  for (const auto* member : members) {
    if (!first) out += ',';
    first = false;
    append_canonical_string(out, member->key());
    out += ':';
    append_canonical(out, member->value());
  }
  out += '}';
}

void append_canonical(std::string& out, const boost::json::value& value) {
  switch (value.kind()) {
    case boost::json::kind::null:
      out += "null";
      return;
    case boost::json::kind::bool_:
      out += value.get_bool() ? "true" : "false";
      return;
    case boost::json::kind::int64:
      fmt::format_to(std::back_inserter(out), "{}", value.get_int64());
      return;
    case boost::json::kind::uint64:
      fmt::format_to(std::back_inserter(out), "{}", value.get_uint64());
      return;
    case boost::json::kind::double_: {
      // 2.0 and 2 are the same argument to a tool; -0.0 and 0 too.
      const double d = value.get_double();
      constexpr double kTwoTo63 = 9223372036854775808.0;
      if (std::isfinite(d) && std::trunc(d) == d && d >= -kTwoTo63 && d < kTwoTo63) {
        fmt::format_to(std::back_inserter(out), "{}", static_cast<std::int64_t>(d));
      } else {
        fmt::format_to(std::back_inserter(out), "{}", d);
      }
      return;
    }
    case boost::json::kind::string:
      append_canonical_string(out, value.get_string());
      return;
    case boost::json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& element : value.get_array()) {
        if (!first) out += ',';
        first = false;
        append_canonical(out, element);
      }
      out += ']';
      return;
    }
    case boost::json::kind::object:
      append_canonical_object(out, value.get_object());
      return;
  }
}

void append_time(std::string& out, std::chrono::system_clock::time_point time) {
  using namespace std::chrono;
  const auto ms = floor<milliseconds>(time);
  const auto day = floor<days>(ms);
  const year_month_day date{day};
  const auto in_day = ms - day;
  const auto hours = duration_cast<std::chrono::hours>(in_day);
  const auto minutes = duration_cast<std::chrono::minutes>(in_day - hours);
  const auto seconds = duration_cast<std::chrono::seconds>(in_day - hours - minutes);
  const auto millis = in_day - hours - minutes - seconds;
  fmt::format_to(std::back_inserter(out), "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                 static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                 static_cast<unsigned>(date.day()), hours.count(), minutes.count(), seconds.count(),
                 millis.count());
}

}  // namespace

std::string_view to_string(Event event) {
  switch (event) {
    case Event::kAuthnFailed:
      return "authn_failed";
    case Event::kToolsListed:
      return "tools_listed";
    case Event::kToolDenied:
      return "tool_denied";
    case Event::kToolCalled:
      return "tool_called";
    case Event::kTokenExchanged:
      return "token_exchanged";
    case Event::kDownstreamCall:
      return "downstream_call";
    case Event::kToolResult:
      return "tool_result";
  }
  return "unknown";
}

Actor Actor::of(const auth::Principal& principal) {
  return Actor{.oid = principal.object_id,
               .tid = principal.tenant_id,
               .upn = principal.username,
               .client = principal.client_id};
}

Record authn_failed(const Context& context, std::string_view reason) {
  return make(context, AuthnFailed{.reason = std::string(reason)});
}

Record authn_failed(const Context& context, auth::Error error) {
  return authn_failed(context, auth::to_string(error));
}

Record tools_listed(const Context& context, std::uint64_t count) {
  return make(context, ToolsListed{.count = count});
}

Record tool_denied(const Context& context, std::string_view tool, std::string_view reason) {
  return make(context, ToolDenied{.tool = std::string(tool), .reason = std::string(reason)});
}

Record tool_called(const Context& context, std::string_view tool, const boost::json::object& arguments) {
  ToolCalled called{
      .tool = std::string(tool), .argument_names = {}, .arguments_sha256 = arguments_digest(arguments)};
  called.argument_names.reserve(arguments.size());
  for (const auto& member : arguments) called.argument_names.emplace_back(member.key());
  std::ranges::sort(called.argument_names);
  return make(context, std::move(called));
}

Record token_exchanged(const Context& context, TokenExchanged exchange) {
  return make(context, std::move(exchange));
}

Record downstream_call(const Context& context, DownstreamCall call) {
  return make(context, std::move(call));
}

Record tool_result(const Context& context, std::string_view tool, bool is_error,
                   std::chrono::milliseconds elapsed) {
  return make(context, ToolResult{.tool = std::string(tool), .is_error = is_error, .elapsed = elapsed});
}

void append_json_string_contents(std::string& out, std::string_view text, std::size_t max_bytes) {
  std::size_t i = 0;
  while (i < text.size()) {
    // The common case first: a run of printable ASCII that needs no escaping, copied at once.
    std::size_t run = i;
    const std::size_t run_end = std::min(text.size(), max_bytes);
    while (run < run_end && is_plain(text[run])) ++run;
    if (run > i) {
      out.append(text.substr(i, run - i));
      i = run;
      continue;
    }
    const int sequence = utf8_sequence(text.substr(i));
    const std::size_t length =
        sequence > 0 ? static_cast<std::size_t>(sequence) : static_cast<std::size_t>(-sequence);
    if (i + length > max_bytes) {  // cut at a character boundary
      out += kCutMarker;
      return;
    }
    const auto byte = static_cast<unsigned char>(text[i]);
    if (sequence < 0) {
      out += kReplacement;
    } else if (length == 1) {
      switch (byte) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        default:
          if (byte < 0x20 || byte == 0x7F) {
            append_unicode_escape(out, byte);
          } else {
            out += static_cast<char>(byte);
          }
      }
    } else if (length == 3 && byte == 0xE2 && static_cast<unsigned char>(text[i + 1]) == 0x80 &&
               (static_cast<unsigned char>(text[i + 2]) == 0xA8 ||
                static_cast<unsigned char>(text[i + 2]) == 0xA9)) {
      // U+2028 and U+2029 are valid in JSON but end a line for JavaScript and some log viewers.
      append_unicode_escape(out, static_cast<unsigned char>(text[i + 2]) == 0xA8 ? 0x2028 : 0x2029);
    } else {
      out.append(text.substr(i, length));
    }
    i += length;
  }
}

std::string format_time(std::chrono::system_clock::time_point time) {
  std::string out;
  append_time(out, time);
  return out;
}

std::string encode(const Record& record) {
  std::string out;
  out.reserve(256);
  out += R"({"time":")";
  append_time(out, record.time);
  out += R"(","event":")";
  out += to_string(record.event());
  out += '"';
  append_string_field(out, "request_id", record.request_id);
  append_string_field(out, "session", record.session);
  if (record.actor) {
    append_string_field(out, "oid", record.actor->oid);
    append_string_field(out, "tid", record.actor->tid);
    append_string_field(out, "upn", record.actor->upn);
    append_string_field(out, "client", record.actor->client);
  }
  std::visit(DetailsWriter{out}, record.details);
  out += "}\n";
  return out;
}

std::string canonical_json(const boost::json::value& value) {
  std::string out;
  append_canonical(out, value);
  return out;
}

std::string arguments_digest(const boost::json::object& arguments) {
  std::string text;
  append_canonical_object(text, arguments);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned length = 0;
  EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha256(), nullptr);
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned i = 0; i < length; ++i) {
    hex += kHexDigits[digest[i] >> 4];
    hex += kHexDigits[digest[i] & 0xF];
  }
  return hex;
}

}  // namespace deputy::audit
