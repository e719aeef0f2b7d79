#pragma once
// The tools of the seed article that need no downstream API. (Those that call Microsoft Graph on behalf of
// the user come with the token exchange.)

namespace deputy {
class Server;
}

namespace deputy::tools {

/// test_write_tool: a write tool for Task.All and Task.Write only, checked from the verified token's roles
/// (the seed decoded the token unverified inside the tool).
void add_seed_tools(Server& server);

}  // namespace deputy::tools
