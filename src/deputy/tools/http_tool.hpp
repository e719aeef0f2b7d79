#pragma once
// Tools declared in deputy.yaml that call an HTTP API on behalf of the user, so that a team exposes an
// OBO-protected REST API (Microsoft Graph, Azure DevOps…) as an MCP tool without writing C++:
//
//   tools:
//     - name: my_profile
//       description: My Graph profile
//       method: GET
//       url: https://graph.microsoft.com/v1.0/me?$select={fields}
//       scopes: [https://graph.microsoft.com/User.Read]
//       result: {select: /displayName, messages: {404: "No such user"}}
//
// Arguments fill the URL's path and query (url_template.hpp: they can never redirect the call) and the JSON
// body; the caller's token is exchanged for `scopes`; the answer becomes the result: a status with a message
// of its own, otherwise 2xx as the selected JSON (or the body), anything else as a tool error.

#include "deputy/config/config.hpp"

#include <memory>
#include <vector>

namespace deputy {
class Server;
}

namespace deputy::tools {

class Downstream;

/// Largest body text a result carries: a tool result goes into a model's context; past this it is cut.
inline constexpr std::size_t kMaxResultText = 64 * 1024;

/// Registers the declared tools. Throws config::ConfigError naming the tool when a template does not compile.
void add_http_tools(Server& server, std::shared_ptr<const Downstream> downstream,
                    const std::vector<config::HttpToolConfig>& tools);

}  // namespace deputy::tools
