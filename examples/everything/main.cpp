// A server carrying every fixture of the MCP conformance suite (docs/conformance-fixtures.md), written
// with deputy's public API only. It doubles as a tour of that API.
#include <deputy/server.hpp>

#include <fmt/format.h>

#include <chrono>

namespace {

using deputy::json::array;
using deputy::json::object;
using deputy::RequestContext;
using deputy::Task;
using deputy::ToolResult;
namespace content = deputy::content;

// 1×1 PNG and a 44-byte WAV header, base64.
constexpr std::string_view kPng =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
constexpr std::string_view kWav = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=";

object string_property(std::string_view description) { return {{"type", "string"}, {"description", description}}; }

object schema_with(std::string_view name, std::string_view description) {
  return {{"type", "object"}, {"properties", {{name, string_property(description)}}}, {"required", {name}}};
}

ToolResult contents(array blocks) {
  ToolResult result;
  result.content = std::move(blocks);
  return result;
}

/// "action=accept, content={...}" from an elicitation answer.
std::string describe_answer(const deputy::json::value& answer) {
  const auto& object = answer.as_object();
  std::string text = "action=";
  if (const auto* action = object.if_contains("action"); action != nullptr && action->is_string()) {
    text += action->get_string();
  }
  if (const auto* given = object.if_contains("content")) text += ", content=" + deputy::json::serialize(*given);
  return text;
}

void add_tools(deputy::Server& server) {
  server.tool({.name = "test_simple_text", .description = "Tests simple text content response"},
              [](const object&, RequestContext&) -> Task<ToolResult> {
                co_return ToolResult::text("This is a simple text response for testing.");
              });
  server.tool({.name = "test_image_content", .description = "Tests image content response"},
              [](const object&, RequestContext&) -> Task<ToolResult> {
                co_return contents({content::image(kPng, "image/png")});
              });
  server.tool({.name = "test_audio_content", .description = "Tests audio content response"},
              [](const object&, RequestContext&) -> Task<ToolResult> {
                co_return contents({content::audio(kWav, "audio/wav")});
              });
  server.tool({.name = "test_embedded_resource", .description = "Tests embedded resource content response"},
              [](const object&, RequestContext&) -> Task<ToolResult> {
                co_return contents({content::embedded_resource({{"uri", "test://embedded-resource"},
                                                                {"mimeType", "text/plain"},
                                                                {"text", "This is an embedded resource content."}})});
              });
  server.tool({.name = "test_multiple_content_types", .description = "Tests response with multiple content types"},
              [](const object&, RequestContext&) -> Task<ToolResult> {
                co_return contents({content::text("Multiple content types test:"), content::image(kPng, "image/png"),
                                    content::embedded_resource({{"uri", "test://mixed-content-resource"},
                                                                {"mimeType", "application/json"},
                                                                {"text", R"({"test":"data","value":123})"}})});
              });
  server.tool({.name = "test_tool_with_logging", .description = "Tests tool that emits log messages during execution"},
              [](const object&, RequestContext& context) -> Task<ToolResult> {
                using deputy::mcp::LogLevel;
                co_await context.log(LogLevel::kInfo, "Tool execution started");
                co_await context.sleep_for(std::chrono::milliseconds(50));
                co_await context.log(LogLevel::kInfo, "Tool processing data");
                co_await context.sleep_for(std::chrono::milliseconds(50));
                co_await context.log(LogLevel::kInfo, "Tool execution completed");
                co_return ToolResult::text("Tool with logging executed successfully");
              });
  server.tool({.name = "test_error_handling", .description = "Tests error response handling"},
              [](const object&, RequestContext&) -> Task<ToolResult> {
                co_return ToolResult::error("This tool intentionally returns an error for testing");
              });
  server.tool({.name = "test_tool_with_progress", .description = "Tests tool that reports progress notifications"},
              [](const object&, RequestContext& context) -> Task<ToolResult> {
                for (double step : {0.0, 50.0, 100.0}) {
                  co_await context.progress(step, 100.0, fmt::format("Completed step {} of 100", step));
                  if (step < 100 && !co_await context.sleep_for(std::chrono::milliseconds(50))) break;
                }
                co_return ToolResult::text("Progress test completed");
              });
  server.tool({.name = "test_sampling",
               .description = "Tests server-initiated sampling (LLM completion request)",
               .input_schema = schema_with("prompt", "The prompt to send to the LLM")},
              [](const object& args, RequestContext& context) -> Task<ToolResult> {
                object message{{"role", "user"}, {"content", {{"type", "text"}, {"text", args.at("prompt")}}}};
                // (Built before the co_await: g++ 12 cannot hold a braced initializer across a suspension.)
                object request{{"messages", array{message}}, {"maxTokens", 100}};
                auto answer = co_await context.create_message(std::move(request));
                if (!answer) co_return ToolResult::error("Sampling failed: " + answer.error().message);
                std::string text;
                if (const auto* block = answer->as_object().if_contains("content"); block && block->is_object()) {
                  if (const auto* t = block->as_object().if_contains("text"); t && t->is_string()) text = t->get_string();
                }
                co_return ToolResult::text("LLM response: " + text);
              });
  server.tool({.name = "test_elicitation",
               .description = "Tests server-initiated elicitation (user input request)",
               .input_schema = schema_with("message", "The message to show the user")},
              [](const object& args, RequestContext& context) -> Task<ToolResult> {
                object schema{{"type", "object"},
                              {"properties",
                               {{"username", string_property("User's response")},
                                {"email", string_property("User's email address")}}},
                              {"required", {"username", "email"}}};
                auto answer = co_await context.elicit(args.at("message").as_string(), std::move(schema));
                if (!answer) co_return ToolResult::error("Elicitation failed: " + answer.error().message);
                co_return ToolResult::text("User response: " + describe_answer(*answer));
              });
  server.tool({.name = "test_elicitation_sep1034_defaults",
               .description = "Tests elicitation with default values per SEP-1034"},
              [](const object&, RequestContext& context) -> Task<ToolResult> {
                object schema{
                    {"type", "object"},
                    {"properties",
                     {{"name", {{"type", "string"}, {"description", "User name"}, {"default", "John Doe"}}},
                      {"age", {{"type", "integer"}, {"description", "User age"}, {"default", 30}}},
                      {"score", {{"type", "number"}, {"description", "User score"}, {"default", 95.5}}},
                      {"status",
                       {{"type", "string"},
                        {"description", "User status"},
                        {"enum", {"active", "inactive", "pending"}},
                        {"default", "active"}}},
                      {"verified", {{"type", "boolean"}, {"description", "Verification status"}, {"default", true}}}}},
                    {"required", array()}};
                auto answer =
                    co_await context.elicit("Please review and update the form fields with defaults", std::move(schema));
                if (!answer) co_return ToolResult::error("Elicitation failed: " + answer.error().message);
                co_return ToolResult::text("Elicitation completed: " + describe_answer(*answer));
              });
  server.tool({.name = "test_elicitation_sep1330_enums",
               .description = "Tests elicitation with enum schema improvements per SEP-1330"},
              [](const object&, RequestContext& context) -> Task<ToolResult> {
                auto titled = [](std::string_view prefix, std::string_view kind) {
                  array options;
                  const char* names[] = {"First", "Second", "Third"};
                  for (int i = 0; i < 3; ++i) {
                    options.push_back(object{{"const", fmt::format("{}{}", prefix, i + 1)},
                                             {"title", fmt::format("{} {}", names[i], kind)}});
                  }
                  return options;
                };
                object schema{
                    {"type", "object"},
                    {"properties",
                     {{"untitledSingle", {{"type", "string"}, {"enum", {"option1", "option2", "option3"}}}},
                      {"titledSingle", {{"type", "string"}, {"oneOf", titled("value", "Option")}}},
                      {"legacyEnum",
                       {{"type", "string"},
                        {"enum", {"opt1", "opt2", "opt3"}},
                        {"enumNames", {"Option One", "Option Two", "Option Three"}}}},
                      {"untitledMulti",
                       {{"type", "array"},
                        {"minItems", 1},
                        {"maxItems", 3},
                        {"items", {{"type", "string"}, {"enum", {"option1", "option2", "option3"}}}}}},
                      {"titledMulti",
                       {{"type", "array"},
                        {"minItems", 1},
                        {"maxItems", 3},
                        {"items", {{"anyOf", titled("value", "Choice")}}}}}}},
                    {"required", array()}};
                auto answer = co_await context.elicit("Please select options from the enum fields", std::move(schema));
                if (!answer) co_return ToolResult::error("Elicitation failed: " + answer.error().message);
                co_return ToolResult::text("Elicitation completed: " + describe_answer(*answer));
              });
  server.tool(
      {.name = "json_schema_2020_12_tool",
       .description = "Tool with JSON Schema 2020-12 features",
       .input_schema = {{"$schema", "https://json-schema.org/draft/2020-12/schema"},
                        {"type", "object"},
                        {"$defs",
                         {{"address",
                           {{"type", "object"},
                            {"properties", {{"street", {{"type", "string"}}}, {"city", {{"type", "string"}}}}}}}}},
                        {"properties", {{"name", {{"type", "string"}}}, {"address", {{"$ref", "#/$defs/address"}}}}},
                        {"additionalProperties", false}}},
      [](const object& args, RequestContext&) -> Task<ToolResult> {
        co_return ToolResult::text("JSON Schema 2020-12 tool called with: " + deputy::json::serialize(args));
      });
  server.tool({.name = "test_cancellable",
               .description = "Waits up to 30 seconds, reporting progress every 100 ms, until the client cancels"},
              [](const object&, RequestContext& context) -> Task<ToolResult> {
                for (int tick = 0; tick < 300; ++tick) {
                  co_await context.progress(tick, 300);
                  if (!co_await context.sleep_for(std::chrono::milliseconds(100))) co_return ToolResult::error("cancelled");
                }
                co_return ToolResult::text("Waited 30 seconds without being cancelled");
              });
  // Tools can come and go while serving: clients hear of it through notifications/tools/list_changed.
  server.tool({.name = "toggle_dynamic_tool",
               .description = "Adds the tool dynamic_echo when it is absent, removes it when present"},
              [&server](const object&, RequestContext&) -> Task<ToolResult> {
                if (server.remove_tool("dynamic_echo")) co_return ToolResult::text("dynamic_echo removed");
                server.tool({.name = "dynamic_echo",
                             .description = "Echoes its message; exists only between two toggles",
                             .input_schema = schema_with("message", "What to echo")},
                            [](const object& args, RequestContext&) -> Task<ToolResult> {
                              co_return ToolResult::text(args.at("message").as_string());
                            });
                co_return ToolResult::text("dynamic_echo added");
              });
  server.tool({.name = "test_reconnection",
               .description = "Closes its SSE connection before answering; the answer arrives on the resumed stream"},
              [](const object&, RequestContext& context) -> Task<ToolResult> {
                co_await context.close_sse_stream();
                co_await context.sleep_for(std::chrono::milliseconds(100));
                co_return ToolResult::text("Reconnection test completed successfully");
              });
}

void add_resources(deputy::Server& server) {
  auto text_resource = [](std::string text, std::string mime) {
    return [text = std::move(text), mime = std::move(mime)](std::string_view uri, const object&,
                                                            RequestContext&) -> Task<std::expected<array, deputy::RpcError>> {
      co_return array{object{{"uri", uri}, {"mimeType", mime}, {"text", text}}};
    };
  };
  server.resource({.uri = "test://static-text",
                   .name = "Static Text Resource",
                   .description = "A static text resource for testing",
                   .mime_type = "text/plain"},
                  text_resource("This is the content of the static text resource.", "text/plain"));
  server.resource({.uri = "test://static-binary",
                   .name = "Static Binary Resource",
                   .description = "A static binary resource (image) for testing",
                   .mime_type = "image/png"},
                  [](std::string_view uri, const object&, RequestContext&) -> Task<std::expected<array, deputy::RpcError>> {
                    co_return array{object{{"uri", uri}, {"mimeType", "image/png"}, {"blob", kPng}}};
                  });
  server.resource({.uri = "test://watched-resource",
                   .name = "Watched Resource",
                   .description = "A resource that can be subscribed to for updates",
                   .mime_type = "text/plain"},
                  text_resource("Watched resource content", "text/plain"));
  server.resource_template(
      {.uri_template = "test://template/{id}/data",
       .name = "Resource Template",
       .description = "A resource template with parameter substitution",
       .mime_type = "application/json"},
      [](std::string_view uri, const object& variables, RequestContext&) -> Task<std::expected<array, deputy::RpcError>> {
        const auto& id = variables.at("id");
        object data{{"id", id}, {"templateTest", true}, {"data", fmt::format("Data for ID: {}", id.as_string().c_str())}};
        co_return array{object{{"uri", uri}, {"mimeType", "application/json"}, {"text", deputy::json::serialize(data)}}};
      },
      {{"id", [](std::string_view value, const object&) {
          std::vector<std::string> ids;
          for (std::string id : {"123", "456", "789"}) {
            if (id.starts_with(value)) ids.push_back(id);
          }
          return ids;
        }}});
}

void add_prompts(deputy::Server& server) {
  auto user_text = [](std::string text) { return object{{"role", "user"}, {"content", content::text(text)}}; };
  server.prompt({.name = "test_simple_prompt", .description = "A simple prompt without arguments"},
                [user_text](const object&, RequestContext&) -> Task<std::expected<deputy::PromptResult, deputy::RpcError>> {
                  co_return deputy::PromptResult{.messages = {user_text("This is a simple prompt for testing.")}};
                });
  server.prompt(
      {.name = "test_prompt_with_arguments",
       .description = "A prompt with required arguments",
       .arguments = {{.name = "arg1", .description = "First test argument", .required = true},
                     {.name = "arg2", .description = "Second test argument", .required = true}}},
      [user_text](const object& args, RequestContext&) -> Task<std::expected<deputy::PromptResult, deputy::RpcError>> {
        co_return deputy::PromptResult{.messages = {user_text(fmt::format(
            "Prompt with arguments: arg1='{}', arg2='{}'", std::string_view(args.at("arg1").as_string()),
            std::string_view(args.at("arg2").as_string())))}};
      },
      {{"arg1", [](std::string_view value, const object&) {
          std::vector<std::string> out;
          for (std::string option : {"test", "testValue1", "testing", "example"}) {
            if (option.starts_with(value)) out.push_back(option);
          }
          return out;
        }}});
  server.prompt(
      {.name = "test_prompt_with_embedded_resource",
       .description = "A prompt that includes an embedded resource",
       .arguments = {{.name = "resourceUri", .description = "URI of the resource to embed", .required = true}}},
      [user_text](const object& args, RequestContext&) -> Task<std::expected<deputy::PromptResult, deputy::RpcError>> {
        object resource{{"uri", args.at("resourceUri")},
                        {"mimeType", "text/plain"},
                        {"text", "Embedded resource content for testing."}};
        co_return deputy::PromptResult{
            .messages = {object{{"role", "user"}, {"content", content::embedded_resource(std::move(resource))}},
                         user_text("Please process the embedded resource above.")}};
      });
  server.prompt({.name = "test_prompt_with_image", .description = "A prompt that includes image content"},
                [user_text](const object&, RequestContext&) -> Task<std::expected<deputy::PromptResult, deputy::RpcError>> {
                  co_return deputy::PromptResult{
                      .messages = {object{{"role", "user"}, {"content", content::image(kPng, "image/png")}},
                                   user_text("Please analyze the image above.")}};
                });
}

}  // namespace

int main(int argc, char** argv) {
  deputy::Server server({.name = "deputy-everything", .version = "1.0.0"});
  add_tools(server);
  add_resources(server);
  add_prompts(server);
  return server.main(argc, argv);
}
