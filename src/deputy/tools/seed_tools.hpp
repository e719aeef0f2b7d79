#pragma once
// The tools of the seed article: test_write_tool (Tier 1: roles), check_sharepoint_site_access and whoami
// (Tier 2: Microsoft Graph on behalf of the user).

#include "deputy/config/config.hpp"

#include <memory>

namespace deputy {
class Server;
}

namespace deputy::tools {

class Downstream;

/// test_write_tool: a write tool for Task.All and Task.Write only, checked from the verified token's roles
/// (the seed decoded the token unverified inside the tool).
void add_seed_tools(Server& server);

/// check_sharepoint_site_access(site_name), as the seed words its answers, on `graph.sharepoint_host`
/// (the seed hard-codes its company's host; without one configured the tool is not offered), and whoami
/// (Graph /me). Both exchange the caller's token for `graph.scopes` through `downstream`.
void add_graph_tools(Server& server, std::shared_ptr<const Downstream> downstream, const config::GraphConfig& graph);

}  // namespace deputy::tools
