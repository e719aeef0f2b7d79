#include "deputy/transport/sse.hpp"

namespace deputy::transport::sse {

namespace {

/// A field value may not hold a line break; one in `event` or `id` would start a forged field.
void append_field(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += ": ";
  for (char c : value) {
    if (c != '\n' && c != '\r') out += c;
  }
  out += '\n';
}

}  // namespace

std::string frame(std::string_view data, std::string_view event, std::string_view id) {
  std::string out;
  out.reserve(data.size() + event.size() + id.size() + 32);
  if (!event.empty()) append_field(out, "event", event);
  if (!id.empty()) append_field(out, "id", id);
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = data.find_first_of("\r\n", start);
    out += "data: ";
    out += data.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    out += '\n';
    if (end == std::string_view::npos) break;
    start = end + 1;
    if (data[end] == '\r' && start < data.size() && data[start] == '\n') ++start;  // CRLF is one break
  }
  out += '\n';
  return out;
}

std::string_view keep_alive() { return ": keep-alive\n\n"; }

}  // namespace deputy::transport::sse
