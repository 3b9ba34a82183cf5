// OTel GenAI semantic conventions, as opentelemetry-instrumentation-openai-v2,
// -vertexai, -google-genai and the OTel Anthropic/Bedrock instrumentations emit them
// (current names, deprecated names, content as attributes, as a details event and as
// the deprecated per-message events).
#include <gtest/gtest.h>

#include "ingest/normalize/normalize_test_util.h"
#include "store/shared_payload.h"

namespace sightline::ingest {
namespace {

using namespace testutil;
using namespace model::v1;

constexpr const char* kInputMessages =
    R"([{"role":"user","parts":[{"type":"text","content":"Weather in Paris?"}]},)"
    R"({"role":"assistant","parts":[{"type":"tool_call","id":"call_VSPygqKTWdrhaFErNvMV18Yl","name":"get_weather","arguments":{"location":"Paris"}}]},)"
    R"({"role":"tool","parts":[{"type":"tool_call_response","id":"call_VSPygqKTWdrhaFErNvMV18Yl","response":"rainy, 57°F"}]}])";
constexpr const char* kOutputMessages =
    R"([{"role":"assistant","parts":[{"type":"text","content":"The weather in Paris is currently rainy with a temperature of 57°F."}],"finish_reason":"stop"}])";
constexpr const char* kCanonicalInput =
    R"([{"role":"system","parts":[{"type":"text","content":"You are a helpful bot"}]},)"
    R"({"role":"user","parts":[{"type":"text","content":"Weather in Paris?"}]},)"
    R"({"role":"assistant","parts":[{"type":"tool_call","id":"call_VSPygqKTWdrhaFErNvMV18Yl","name":"get_weather","arguments":{"location":"Paris"}}]},)"
    R"({"role":"tool","parts":[{"type":"tool_result","id":"call_VSPygqKTWdrhaFErNvMV18Yl","result":"rainy, 57°F"}]}])";

std::vector<Case> Cases() {
  std::vector<Case> cases;
  {
    Case c = Row("current names, content as JSON attributes");
    c.attrs = {KV("gen_ai.operation.name", "chat"), KV("gen_ai.provider.name", "openai"),
               KV("gen_ai.request.model", "gpt-4o"), KV("gen_ai.response.model", "gpt-4o-2024-08-06"),
               KV("gen_ai.response.id", "chatcmpl-9J3uIL87gldCFtiIbyaOvTeYBRA3l"),
               KV("gen_ai.request.temperature", 0.2), KV("gen_ai.usage.input_tokens", 97),
               KV("gen_ai.usage.output_tokens", 52),
               KV("gen_ai.response.finish_reasons", Arr({Str("stop")})),
               KV("server.address", "api.openai.com"), KV("server.port", 443),
               KV("gen_ai.system_instructions", R"([{"type":"text","content":"You are a helpful bot"}])"),
               KV("gen_ai.input.messages", kInputMessages), KV("gen_ai.output.messages", kOutputMessages)};
    c.want.kind = KIND_LLM;
    c.want.provider = "openai";
    c.want.model = "gpt-4o-2024-08-06";
    c.want.input_tokens = 97;
    c.want.output_tokens = 52;
    c.want.finish_reason = "stop";
    c.want.input_json = kCanonicalInput;
    c.want.output_json = kOutputMessages;
    cases.push_back(c);
  }
  {
    Case c = Row("deprecated names: gen_ai.system, prompt/completion tokens, finish reason as string");
    c.attrs = {KV("gen_ai.operation.name", "chat"), KV("gen_ai.system", "openai"),
               KV("gen_ai.request.model", "gpt-4o-mini"), KV("gen_ai.usage.prompt_tokens", 24),
               KV("gen_ai.usage.completion_tokens", Str("8")),
               KV("gen_ai.response.finish_reasons", "length")};
    c.want.provider = "openai";
    c.want.model = "gpt-4o-mini";
    c.want.input_tokens = 24;
    c.want.output_tokens = 8;
    c.want.finish_reason = "length";
    c.want.input_json = "";
    cases.push_back(c);
  }
  {
    Case c = Row("messages as structured AnyValue arrays, anthropic cache and reasoning usage");
    c.attrs = {
        KV("gen_ai.operation.name", "chat"), KV("gen_ai.provider.name", "anthropic"),
        KV("gen_ai.request.model", "claude-sonnet-4-5"),
        KV("gen_ai.usage.input_tokens", 1200), KV("gen_ai.usage.output_tokens", 310),
        KV("gen_ai.usage.cache_read.input_tokens", 1024),
        KV("gen_ai.usage.cache_creation.input_tokens", 128),
        KV("gen_ai.usage.reasoning.output_tokens", 200),
        KV("gen_ai.response.finish_reasons", Arr({Str("end_turn"), Str("stop")})),
        KV("gen_ai.system_instructions", "Be terse."),
        KV("gen_ai.input.messages",
           Arr({KvList({KV("role", "user"),
                        KV("parts", Arr({KvList({KV("type", "text"), KV("content", "hi")}),
                                         KvList({KV("type", "uri"), KV("modality", "image"),
                                                 KV("uri", "https://x/cat.png")})}))})})),
        KV("gen_ai.output.messages",
           Arr({KvList({KV("role", "assistant"), KV("finish_reason", "end_turn"),
                        KV("parts", Arr({KvList({KV("type", "reasoning"), KV("content", "user greets")}),
                                         KvList({KV("type", "text"), KV("content", "Hello.")})}))})}))};
    c.want.model = "claude-sonnet-4-5";
    c.want.cache_read_tokens = 1024;
    c.want.cache_write_tokens = 128;
    c.want.reasoning_tokens = 200;
    c.want.finish_reason = "end_turn";
    c.want.input_json =
        R"([{"role":"system","parts":[{"type":"text","content":"Be terse."}]},)"
        R"({"role":"user","parts":[{"type":"text","content":"hi"},{"type":"uri","modality":"image","uri":"https://x/cat.png"}]}])";
    c.want.output_json =
        R"([{"role":"assistant","parts":[{"type":"reasoning","content":"user greets"},{"type":"text","content":"Hello."}],"finish_reason":"end_turn"}])";
    cases.push_back(c);
  }
  {
    Case c = Row("content in the gen_ai.client.inference.operation.details event");
    c.attrs = {KV("gen_ai.operation.name", "chat"), KV("gen_ai.provider.name", "gcp.vertex_ai"),
               KV("gen_ai.request.model", "gemini-2.5-flash")};
    c.events = {{"gen_ai.client.inference.operation.details",
                 {KV("gen_ai.input.messages", R"([{"role":"user","parts":[{"type":"text","content":"Summarise"}]}])"),
                  KV("gen_ai.output.messages", kOutputMessages),
                  KV("gen_ai.response.model", "gemini-2.5-flash-001"),
                  KV("gen_ai.usage.input_tokens", 11)}}};
    c.want.model = "gemini-2.5-flash-001";
    c.want.input_tokens = 11;
    c.want.input_json = R"([{"role":"user","parts":[{"type":"text","content":"Summarise"}]}])";
    c.want.output_json = kOutputMessages;
    cases.push_back(c);
  }
  {
    Case c = Row("deprecated message events (openai-v2 with events, body in attributes)");
    c.attrs = {KV("gen_ai.operation.name", "chat"), KV("gen_ai.system", "openai"),
               KV("gen_ai.request.model", "gpt-4o")};
    c.events = {
        {"gen_ai.system.message", {KV("gen_ai.system", "openai"), KV("content", "You are a billing agent.")}},
        {"gen_ai.user.message", {KV("gen_ai.system", "openai"), KV("content", "Refund INV-2026-0042")}},
        {"gen_ai.assistant.message",
         {KV("gen_ai.system", "openai"),
          KV("tool_calls", Arr({KvList({KV("id", "call_1"), KV("type", "function"),
                                        KV("function", KvList({KV("name", "issue_refund"),
                                                               KV("arguments", R"({"invoice_id":"INV-2026-0042"})")}))})}))}},
        {"gen_ai.tool.message", {KV("gen_ai.system", "openai"), KV("id", "call_1"), KV("content", R"({"ok":true})")}},
        {"gen_ai.choice",
         {KV("gen_ai.system", "openai"), KV("index", 0), KV("finish_reason", "stop"),
          KV("message", KvList({KV("role", "assistant"), KV("content", "Refund issued.")}))}}};
    c.want.input_json =
        R"([{"role":"system","parts":[{"type":"text","content":"You are a billing agent."}]},)"
        R"({"role":"user","parts":[{"type":"text","content":"Refund INV-2026-0042"}]},)"
        R"({"role":"assistant","parts":[{"type":"tool_call","id":"call_1","name":"issue_refund","arguments":{"invoice_id":"INV-2026-0042"}}]},)"
        R"({"role":"tool","parts":[{"type":"tool_result","id":"call_1","result":{"ok":true}}]}])";
    c.want.output_json =
        R"([{"role":"assistant","parts":[{"type":"text","content":"Refund issued."}],"finish_reason":"stop"}])";
    c.want.finish_reason = "stop";  // from the output message: no finish_reasons attribute
    cases.push_back(c);
  }
  {
    Case c = Row("older SDK: event body as gen_ai.event.content JSON");
    c.attrs = {KV("gen_ai.system", "openai"), KV("gen_ai.request.model", "gpt-3.5-turbo")};
    c.events = {{"gen_ai.user.message", {KV("gen_ai.event.content", R"({"content":"ping"})")}},
                {"gen_ai.choice", {KV("gen_ai.event.content", R"({"index":0,"finish_reason":"stop","message":{"content":"pong"}})")}}};
    c.want.kind = KIND_LLM;  // no operation name: a model attribute decides
    c.want.input_json = R"([{"role":"user","parts":[{"type":"text","content":"ping"}]}])";
    c.want.output_json = R"([{"role":"assistant","parts":[{"type":"text","content":"pong"}],"finish_reason":"stop"}])";
    cases.push_back(c);
  }
  {
    Case c = Row("execute_tool span: arguments and result are the payloads");
    c.span_name = "execute_tool get_weather";
    c.attrs = {KV("gen_ai.operation.name", "execute_tool"), KV("gen_ai.tool.name", "get_weather"),
               KV("gen_ai.tool.call.id", "call_VSPygqKTWdrhaFErNvMV18Yl"), KV("gen_ai.tool.type", "function"),
               KV("gen_ai.tool.call.arguments", R"({"location":"Paris"})"),
               KV("gen_ai.tool.call.result", "rainy, 57°F")};
    c.want.kind = KIND_TOOL;
    c.want.tool_name = "get_weather";
    c.want.tool_call_id = "call_VSPygqKTWdrhaFErNvMV18Yl";
    c.want.input_json = R"({"location":"Paris"})";
    c.want.output_json = R"("rainy, 57°F")";
    cases.push_back(c);
  }
  {
    Case c = Row("invoke_agent with conversation, agent ids, reported cost");
    c.attrs = {KV("gen_ai.operation.name", "invoke_agent"), KV("gen_ai.provider.name", "openai"),
               KV("gen_ai.agent.name", "billing-resolver"), KV("gen_ai.agent.id", "asst_5j66UpCpwteGg4YSxUnt7lPY"),
               KV("gen_ai.conversation.id", "conv_5j66UpCpwteGg4YSxUnt7lPY"), KV("gen_ai.usage.cost", 0.0123),
               KV("gen_ai.prompt.name", "billing-v2")};
    c.want.kind = KIND_AGENT;
    c.want.agent_name = "billing-resolver";
    c.want.agent_id = "asst_5j66UpCpwteGg4YSxUnt7lPY";
    c.want.session_id = "conv_5j66UpCpwteGg4YSxUnt7lPY";
    c.want.cost_usd = 0.0123;
    c.want.prompt_name = "billing-v2";
    cases.push_back(c);
  }
  for (auto [op, kind] : {std::pair{"embeddings", KIND_EMBEDDING}, {"search_memory", KIND_MEMORY},
                          {"invoke_workflow", KIND_CHAIN}, {"create_agent", KIND_AGENT},
                          {"retrieval", KIND_RETRIEVAL}, {"generate_content", KIND_LLM},
                          {"text_completion", KIND_LLM}, {"plan", KIND_AGENT}}) {
    Case c = Row(std::string("operation ") + op);
    c.attrs = {KV("gen_ai.operation.name", op)};
    c.want.kind = kind;
    cases.push_back(c);
  }
  {
    Case c = Row("exception event gives message and type; enduser.id is the user");
    c.attrs = {KV("gen_ai.operation.name", "chat"), KV("gen_ai.request.model", "gpt-4o"),
               KV("enduser.id", "user_92")};
    c.events = {{"exception", {KV("exception.type", "openai.RateLimitError"),
                               KV("exception.message", "Rate limit reached for gpt-4o"),
                               KV("exception.stacktrace", "Traceback ...")}}};
    c.want.status = STATUS_UNSET;  // an exception event alone does not fail the span
    c.want.status_message = "Rate limit reached for gpt-4o";
    c.want.error_type = "openai.RateLimitError";
    c.want.user_id = "user_92";
    cases.push_back(c);
  }
  return cases;
}

TEST(OtelGenAi, Table) {
  for (const Case& c : Cases()) RunCase(c);
}

TEST(OtelGenAi, ErrorTypeMakesError) {
  model::Span s = NormalizeOne(MakeSpan("chat gpt-4o", {KV("gen_ai.operation.name", "chat"), KV("error.type", "timeout")}));
  EXPECT_EQ(s.status(), STATUS_ERROR);
  EXPECT_EQ(s.error_type(), "timeout");
}

TEST(OtelGenAi, MalformedMessagesJsonIsKeptAsText) {
  model::Span s = NormalizeOne(MakeSpan("chat", {KV("gen_ai.input.messages", R"([{"role":"user","parts":[{"ty)")}));
  ExpectJsonEq(s.input_json(), R"("[{\"role\":\"user\",\"parts\":[{\"ty")");
}

// The store keeps a history once when the canonical input ends with the attribute's
// elements byte for byte (store/shared_payload.h): so the canonical form of a text
// message must stay the OTel GenAI form, as a text-only conversation shows. A tool
// response part is renamed (tool_call_response -> tool_result), so such a history is
// kept twice; its output, the same bytes, is still kept once.
TEST(OtelGenAi, TheCanonicalFormOfTextMessagesIsTheConventionsBytes) {
  const std::string history =
      R"([{"role":"user","parts":[{"type":"text","content":"Where is my order 1234? It was due on Monday."}]},)"
      R"({"role":"assistant","parts":[{"type":"text","content":"It left the warehouse on Saturday and arrives tomorrow."}]},)"
      R"({"role":"user","parts":[{"type":"text","content":"Can you make it arrive before noon?"}]}])";
  model::Span s = NormalizeOne(MakeSpan(
      "chat gpt-4o", {KV("gen_ai.operation.name", "chat"),
                      KV("gen_ai.system_instructions", R"([{"type":"text","content":"You are Acme's support agent."}])"),
                      KV("gen_ai.input.messages", history), KV("gen_ai.output.messages", kOutputMessages)}));
  const std::string input = s.input_json();
  // The history is taken as it came (IsCanonicalTextHistory), after the system message.
  EXPECT_EQ(input, R"([{"role":"system","parts":[{"type":"text","content":"You are Acme's support agent."}]},)" +
                       history.substr(1));
  EXPECT_EQ(store::SharePayloads(&s), 2);
  EXPECT_EQ(s.input_tail_key(), "gen_ai.input.messages");
  EXPECT_EQ(s.input_head(), R"([{"role":"system","parts":[{"type":"text","content":"You are Acme's support agent."}]},)");
  EXPECT_EQ(s.output_tail_key(), "gen_ai.output.messages");
  EXPECT_TRUE(store::ResolvePayloads(&s));
  EXPECT_EQ(s.input_json(), input);

  model::Span tools = NormalizeOne(MakeSpan(
      "chat gpt-4o", {KV("gen_ai.operation.name", "chat"), KV("gen_ai.input.messages", kInputMessages),
                      KV("gen_ai.output.messages", kOutputMessages)}));
  EXPECT_EQ(store::SharePayloads(&tools), 1);
  EXPECT_TRUE(tools.input_tail_key().empty());
  EXPECT_EQ(tools.output_tail_key(), "gen_ai.output.messages");
}

}  // namespace
}  // namespace sightline::ingest
