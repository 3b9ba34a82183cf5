// Traceloop / OpenLLMetry, as traceloop-sdk and opentelemetry-instrumentation-openai
// (OpenLLMetry's) emit them.
#include <gtest/gtest.h>

#include "ingest/normalize/normalize_test_util.h"

namespace sightline::ingest {
namespace {

using namespace testutil;
using namespace model::v1;

std::vector<Case> Cases() {
  std::vector<Case> cases;
  {
    Case c = Row("openai.chat from OpenLLMetry: flattened prompt and completion with tool calls");
    c.span_name = "openai.chat";
    c.attrs = {
        KV("llm.request.type", "chat"), KV("gen_ai.system", "OpenAI"), KV("gen_ai.request.model", "gpt-4o"),
        KV("gen_ai.response.model", "gpt-4o-2024-08-06"), KV("llm.is_streaming", Bool(false)),
        KV("gen_ai.openai.api_base", "https://api.openai.com/v1/"),
        KV("gen_ai.prompt.0.role", "system"), KV("gen_ai.prompt.0.content", "You are a billing agent."),
        KV("gen_ai.prompt.1.role", "user"), KV("gen_ai.prompt.1.content", "Refund INV-2026-0042"),
        KV("gen_ai.prompt.2.role", "assistant"), KV("gen_ai.prompt.2.tool_calls.0.id", "call_1"),
        KV("gen_ai.prompt.2.tool_calls.0.name", "lookup_invoice"),
        KV("gen_ai.prompt.2.tool_calls.0.arguments", R"({"invoice_id":"INV-2026-0042"})"),
        KV("gen_ai.prompt.3.role", "tool"), KV("gen_ai.prompt.3.tool_call_id", "call_1"),
        KV("gen_ai.prompt.3.content", "amount 24000"),
        KV("gen_ai.completion.0.role", "assistant"), KV("gen_ai.completion.0.finish_reason", "tool_calls"),
        KV("gen_ai.completion.0.tool_calls.0.id", "call_2"),
        KV("gen_ai.completion.0.tool_calls.0.name", "issue_refund"),
        KV("gen_ai.completion.0.tool_calls.0.arguments", R"({"invoice_id":"INV-2026-0042"})"),
        KV("gen_ai.usage.prompt_tokens", 82), KV("gen_ai.usage.completion_tokens", 19),
        KV("llm.usage.total_tokens", 101), KV("gen_ai.usage.cache_read_input_tokens", 64),
        KV("traceloop.association.properties.session_id", "ticket-9421"),
        KV("traceloop.association.properties.user_id", "user_92"),
        KV("traceloop.workflow.name", "refund_flow")};
    c.want.kind = KIND_LLM;  // no kind attribute: a model attribute decides
    c.want.provider = "OpenAI";
    c.want.model = "gpt-4o-2024-08-06";
    c.want.input_tokens = 82;
    c.want.output_tokens = 19;
    c.want.cache_read_tokens = 64;
    c.want.session_id = "ticket-9421";
    c.want.user_id = "user_92";
    c.want.finish_reason = "tool_calls";
    c.want.input_json =
        R"([{"role":"system","parts":[{"type":"text","content":"You are a billing agent."}]},)"
        R"({"role":"user","parts":[{"type":"text","content":"Refund INV-2026-0042"}]},)"
        R"({"role":"assistant","parts":[{"type":"tool_call","id":"call_1","name":"lookup_invoice","arguments":{"invoice_id":"INV-2026-0042"}}]},)"
        R"({"role":"tool","parts":[{"type":"tool_result","id":"call_1","result":"amount 24000"}]}])";
    c.want.output_json =
        R"([{"role":"assistant","parts":[{"type":"tool_call","id":"call_2","name":"issue_refund","arguments":{"invoice_id":"INV-2026-0042"}}],"finish_reason":"tool_calls"}])";
    cases.push_back(c);
  }
  {
    Case c = Row("multimodal prompt content as a JSON array of parts");
    c.attrs = {KV("llm.request.type", "chat"), KV("gen_ai.prompt.0.role", "user"),
               KV("gen_ai.prompt.0.content",
                  R"([{"type": "text", "text": "What is this?"}, {"type": "image_url", "image_url": {"url": "https://x/a.png"}}])")};
    c.want.kind = KIND_LLM;
    c.want.input_json =
        R"([{"role":"user","parts":[{"type":"text","content":"What is this?"},{"type":"image_url","image_url":{"url":"https://x/a.png"}}]}])";
    cases.push_back(c);
  }
  {
    Case c = Row("workflow span with entity input/output");
    c.span_name = "refund_flow.workflow";
    c.attrs = {KV("traceloop.span.kind", "workflow"), KV("traceloop.entity.name", "refund_flow"),
               KV("traceloop.workflow.name", "refund_flow"),
               KV("traceloop.entity.input", R"({"args": [], "kwargs": {"ticket": "ticket-9421"}})"),
               KV("traceloop.entity.output", R"({"outputs": {"status": "done"}})")};
    c.want.kind = KIND_CHAIN;
    c.want.input_json = R"({"args":[],"kwargs":{"ticket":"ticket-9421"}})";
    c.want.output_json = R"({"outputs":{"status":"done"}})";
    cases.push_back(c);
  }
  {
    Case c = Row("tool span: entity name is the tool, entity input its arguments");
    c.attrs = {KV("traceloop.span.kind", "tool"), KV("traceloop.entity.name", "issue_refund"),
               KV("traceloop.entity.input", R"({"inputs": {"invoice_id": "INV-2026-0042"}})"),
               KV("traceloop.entity.output", "\"ok\"")};
    c.want.kind = KIND_TOOL;
    c.want.tool_name = "issue_refund";
    c.want.input_json = R"({"inputs":{"invoice_id":"INV-2026-0042"}})";
    c.want.output_json = R"("ok")";
    cases.push_back(c);
  }
  {
    Case c = Row("agent and task kinds");
    c.attrs = {KV("traceloop.span.kind", "agent"), KV("traceloop.entity.name", "billing-resolver")};
    c.want.kind = KIND_AGENT;
    c.want.agent_name = "billing-resolver";
    cases.push_back(c);
    Case t = Row("task");
    t.attrs = {KV("traceloop.span.kind", "task")};
    t.want.kind = KIND_CHAIN;
    cases.push_back(t);
  }
  {
    Case c = Row("legacy completion (llm.request.type completion) and function_call");
    c.attrs = {KV("llm.request.type", "completion"), KV("gen_ai.request.model", "gpt-3.5-turbo-instruct"),
               KV("gen_ai.prompt.0.content", "Say hi"), KV("gen_ai.completion.0.content", "hi"),
               KV("gen_ai.completion.0.finish_reason", "stop"),
               KV("gen_ai.completion.0.function_call.name", "f"),
               KV("gen_ai.completion.0.function_call.arguments", "not json")};
    c.want.input_json = R"([{"role":"user","parts":[{"type":"text","content":"Say hi"}]}])";
    c.want.output_json =
        R"([{"role":"assistant","parts":[{"type":"text","content":"hi"},{"type":"tool_call","name":"f","arguments":"not json"}],"finish_reason":"stop"}])";
    c.want.finish_reason = "stop";
    cases.push_back(c);
  }
  return cases;
}

TEST(Traceloop, Table) {
  for (const Case& c : Cases()) RunCase(c);
}

}  // namespace
}  // namespace sightline::ingest
