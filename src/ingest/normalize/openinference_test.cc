// OpenInference, as openinference-instrumentation-openai / -langchain / -llama-index
// and Phoenix's OTel helpers emit it.
#include <gtest/gtest.h>

#include "ingest/normalize/normalize_test_util.h"

namespace sightline::ingest {
namespace {

using namespace testutil;
using namespace model::v1;

std::vector<Case> Cases() {
  std::vector<Case> cases;
  {
    Case c = Row("LLM span from openinference-instrumentation-openai with tool calls");
    c.span_name = "ChatCompletion";
    c.attrs = {
        KV("openinference.span.kind", "LLM"), KV("llm.model_name", "gpt-4o-2024-08-06"),
        KV("llm.provider", "openai"), KV("llm.system", "openai"),
        KV("llm.invocation_parameters", R"({"model": "gpt-4o", "temperature": 0})"),
        KV("input.value", R"({"messages": [{"role": "user", "content": "Refund INV-2026-0042"}], "model": "gpt-4o"})"),
        KV("input.mime_type", "application/json"),
        KV("output.value", R"({"id":"chatcmpl-1","choices":[{"index":0,"finish_reason":"tool_calls","message":{"role":"assistant","content":null}}]})"),
        KV("output.mime_type", "application/json"),
        KV("llm.input_messages.0.message.role", "system"),
        KV("llm.input_messages.0.message.content", "You are a billing agent."),
        KV("llm.input_messages.1.message.role", "user"),
        KV("llm.input_messages.1.message.contents.0.message_content.type", "text"),
        KV("llm.input_messages.1.message.contents.0.message_content.text", "Refund INV-2026-0042"),
        KV("llm.input_messages.1.message.contents.1.message_content.type", "image"),
        KV("llm.input_messages.1.message.contents.1.message_content.image.image.url", "https://x/invoice.png"),
        KV("llm.input_messages.2.message.role", "assistant"),
        KV("llm.input_messages.2.message.tool_calls.0.tool_call.id", "call_1"),
        KV("llm.input_messages.2.message.tool_calls.0.tool_call.function.name", "lookup_invoice"),
        KV("llm.input_messages.2.message.tool_calls.0.tool_call.function.arguments", R"({"invoice_id": "INV-2026-0042"})"),
        KV("llm.input_messages.3.message.role", "tool"),
        KV("llm.input_messages.3.message.tool_call_id", "call_1"),
        KV("llm.input_messages.3.message.content", R"({"amount_cents": 24000})"),
        // Index 10 sorts before 2 as text: the builder must order numerically.
        KV("llm.input_messages.10.message.role", "user"),
        KV("llm.input_messages.10.message.content", "and hurry"),
        KV("llm.output_messages.0.message.role", "assistant"),
        KV("llm.output_messages.0.message.tool_calls.0.tool_call.id", "call_2"),
        KV("llm.output_messages.0.message.tool_calls.0.tool_call.function.name", "issue_refund"),
        KV("llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments", R"({"invoice_id": "INV-2026-0042", "amount_cents": 24000})"),
        KV("llm.token_count.prompt", 412), KV("llm.token_count.completion", 37),
        KV("llm.token_count.total", 449), KV("llm.token_count.prompt_details.cache_read", 256),
        KV("llm.token_count.prompt_details.cache_write", 12),
        KV("llm.token_count.completion_details.reasoning", 20), KV("llm.cost.total", 0.00144),
        KV("session.id", "ticket-9421"), KV("user.id", "user_92"),
        KV("metadata", R"({"tenant": "acme"})"), KV("tag.tags", Arr({Str("billing"), Str("prod")})),
        KV("llm.prompt_template.version", "v3")};
    c.want.kind = KIND_LLM;
    c.want.model = "gpt-4o-2024-08-06";
    c.want.provider = "openai";
    c.want.input_tokens = 412;
    c.want.output_tokens = 37;
    c.want.cache_read_tokens = 256;
    c.want.cache_write_tokens = 12;
    c.want.reasoning_tokens = 20;
    c.want.cost_usd = 0.00144;
    c.want.session_id = "ticket-9421";
    c.want.user_id = "user_92";
    c.want.prompt_version = "v3";
    c.want.input_json =
        R"([{"role":"system","parts":[{"type":"text","content":"You are a billing agent."}]},)"
        R"({"role":"user","parts":[{"type":"text","content":"Refund INV-2026-0042"},{"type":"image","url":"https://x/invoice.png"}]},)"
        R"({"role":"assistant","parts":[{"type":"tool_call","id":"call_1","name":"lookup_invoice","arguments":{"invoice_id":"INV-2026-0042"}}]},)"
        R"({"role":"tool","parts":[{"type":"tool_result","id":"call_1","result":{"amount_cents":24000}}]},)"
        R"({"role":"user","parts":[{"type":"text","content":"and hurry"}]}])";
    c.want.output_json =
        R"([{"role":"assistant","parts":[{"type":"tool_call","id":"call_2","name":"issue_refund","arguments":{"invoice_id":"INV-2026-0042","amount_cents":24000}}]}])";
    cases.push_back(c);
  }
  {
    Case c = Row("CHAIN span from LangChain: JSON chat payload in input.value");
    c.attrs = {KV("openinference.span.kind", "CHAIN"),
               KV("input.value", R"({"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"hi"}]})"),
               KV("input.mime_type", "application/json"),
               KV("output.value", "Hello! How can I help?"), KV("output.mime_type", "text/plain")};
    c.want.kind = KIND_CHAIN;
    c.want.input_json =
        R"([{"role":"system","parts":[{"type":"text","content":"Be brief."}]},{"role":"user","parts":[{"type":"text","content":"hi"}]}])";
    c.want.output_json = R"("Hello! How can I help?")";
    cases.push_back(c);
  }
  {
    Case c = Row("CHAIN span: other JSON stays that value, text/plain stays text even if it looks like JSON");
    c.attrs = {KV("openinference.span.kind", "chain"), KV("input.value", R"({"question": "What is 2+2?"})"),
               KV("input.mime_type", "application/json"), KV("output.value", "[1, 2]"),
               KV("output.mime_type", "text/plain")};
    c.want.kind = KIND_CHAIN;
    c.want.input_json = R"({"question":"What is 2+2?"})";
    c.want.output_json = R"("[1, 2]")";
    cases.push_back(c);
  }
  {
    Case c = Row("TOOL span: input.value is the arguments, output.value the result");
    c.attrs = {KV("openinference.span.kind", "TOOL"), KV("tool.name", "issue_refund"),
               KV("tool.description", "Refund an invoice"),
               KV("tool.parameters", R"({"type":"object","properties":{"invoice_id":{"type":"string"}}})"),
               KV("tool_call.id", "call_2"),
               KV("input.value", R"({"invoice_id": "INV-2026-0042", "amount_cents": 24000})"),
               KV("input.mime_type", "application/json"), KV("output.value", "refund queued")};
    c.want.kind = KIND_TOOL;
    c.want.tool_name = "issue_refund";
    c.want.tool_call_id = "call_2";
    c.want.input_json = R"({"invoice_id":"INV-2026-0042","amount_cents":24000})";
    c.want.output_json = R"("refund queued")";
    cases.push_back(c);
  }
  {
    Case c = Row("RETRIEVER span: documents become the output");
    c.attrs = {KV("openinference.span.kind", "RETRIEVER"), KV("input.value", "refund policy"),
               KV("retrieval.documents.0.document.id", "doc-17"),
               KV("retrieval.documents.0.document.content", "Refunds within 30 days."),
               KV("retrieval.documents.0.document.score", 0.92),
               KV("retrieval.documents.0.document.metadata", R"({"source": "policy.md"})"),
               KV("retrieval.documents.1.document.id", 18),
               KV("retrieval.documents.1.document.content", "Approval above $100.")};
    c.want.kind = KIND_RETRIEVAL;
    c.want.input_json = R"("refund policy")";
    c.want.output_json =
        R"({"documents":[{"id":"doc-17","content":"Refunds within 30 days.","score":0.92,"metadata":{"source":"policy.md"}},)"
        R"({"id":"18","content":"Approval above $100."}]})";
    cases.push_back(c);
  }
  {
    Case c = Row("LLM span without flattened messages: Anthropic request and response JSON in input/output.value");
    c.attrs = {KV("openinference.span.kind", "LLM"), KV("llm.provider", "anthropic"),
               KV("input.value",
                  R"({"model":"claude-sonnet-4-5","system":"Be brief.","messages":[{"role":"user","content":"Refund?"},)"
                  R"({"role":"assistant","content":[{"type":"thinking","thinking":"check policy"},{"type":"tool_use","id":"toolu_1","name":"lookup","input":{"q":"refund"}}]},)"
                  R"({"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"30 days"}]}]})"),
               KV("input.mime_type", "application/json"),
               KV("output.value", R"({"role":"assistant","content":[{"type":"text","text":"Within 30 days."}],"stop_reason":"end_turn"})"),
               KV("output.mime_type", "application/json")};
    c.want.input_json =
        R"([{"role":"system","parts":[{"type":"text","content":"Be brief."}]},)"
        R"({"role":"user","parts":[{"type":"text","content":"Refund?"}]},)"
        R"({"role":"assistant","parts":[{"type":"reasoning","content":"check policy"},{"type":"tool_call","id":"toolu_1","name":"lookup","arguments":{"q":"refund"}}]},)"
        R"({"role":"user","parts":[{"type":"tool_result","id":"toolu_1","result":"30 days"}]}])";
    c.want.output_json =
        R"([{"role":"assistant","parts":[{"type":"text","content":"Within 30 days."}],"finish_reason":"end_turn"}])";
    c.want.finish_reason = "end_turn";
    cases.push_back(c);
  }
  for (auto [k, kind] : {std::pair{"AGENT", KIND_AGENT}, {"EMBEDDING", KIND_EMBEDDING}, {"RERANKER", KIND_RERANK},
                         {"GUARDRAIL", KIND_GUARDRAIL}, {"EVALUATOR", KIND_EVALUATOR}, {"PROMPT", KIND_CHAIN},
                         {"UNKNOWN", KIND_OTHER}}) {
    Case c = Row(std::string("span kind ") + k);
    c.attrs = {KV("openinference.span.kind", k)};
    c.want.kind = kind;
    cases.push_back(c);
  }
  return cases;
}

TEST(OpenInference, Table) {
  for (const Case& c : Cases()) RunCase(c);
}

TEST(OpenInference, ProjectFromResourceUnlessOptionsSayOtherwise) {
  Attrs resource = {KV("service.name", "svc"), KV("openinference.project.name", "billing")};
  EXPECT_EQ(NormalizeOne(MakeSpan("s", {}), {}, resource).project(), "billing");
  NormalizeOptions opts;
  opts.project = "from-key";
  EXPECT_EQ(NormalizeOne(MakeSpan("s", {}), opts, resource).project(), "from-key");
  EXPECT_EQ(NormalizeOne(MakeSpan("s", {}), {}, {KV("service.name", "svc")}).project(), "default");
}

}  // namespace
}  // namespace sightline::ingest
