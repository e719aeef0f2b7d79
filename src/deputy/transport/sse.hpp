#pragma once
// Server-sent events framing (HTML Living Standard, "event stream" format).

#include <string>
#include <string_view>

namespace deputy::transport::sse {

/// One event: optional `event:` and `id:` fields, then the data split into `data:` lines (a line break in
/// `data` starts a new `data:` line, so no payload can inject fields), then the blank line.
[[nodiscard]] std::string frame(std::string_view data, std::string_view event = "message", std::string_view id = {});

/// A comment line, ignored by clients; keeps idle connections open through proxies and finds dead peers.
[[nodiscard]] std::string_view keep_alive();

}  // namespace deputy::transport::sse
