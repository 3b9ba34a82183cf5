// Langfuse OTel attributes, as the Langfuse Python SDK v3 / JS SDK v4 exporters emit them.
#include <gtest/gtest.h>

#include "ingest/normalize/normalize_test_util.h"

namespace sightline::ingest {
namespace {

using namespace testutil;
using namespace model::v1;

std::vector<Case> Cases() {
  std::vector<Case> cases;
  {
    Case c = Row("generation with usage and cost details, prompt, session, environment");
    c.span_name = "support-answer";
    c.attrs = {
        KV("langfuse.observation.type", "generation"), KV("langfuse.observation.model.name", "gpt-4o"),
        KV("langfuse.observation.model.parameters", R"({"temperature": 0.1, "max_tokens": 256})"),
        KV("langfuse.observation.input", R"([{"role": "system", "content": "Be kind."}, {"role": "user", "content": "Where is my refund?"}])"),
        KV("langfuse.observation.output", R"({"role": "assistant", "content": "It was issued today."})"),
        KV("langfuse.observation.usage_details",
           R"({"input": 120, "output": 18, "total": 138, "input_cached_tokens": 64, "output_reasoning_tokens": 6})"),
        KV("langfuse.observation.cost_details", R"({"input": 0.0003, "output": 0.00018, "total": 0.00048})"),
        KV("langfuse.observation.prompt.name", "support-answer"), KV("langfuse.observation.prompt.version", 3),
        KV("langfuse.observation.level", "DEFAULT"), KV("langfuse.session.id", "ticket-9421"),
        KV("langfuse.user.id", "user_92"), KV("langfuse.trace.name", "support"),
        KV("langfuse.environment", "production"), KV("langfuse.release", "2026.03.1"),
        KV("langfuse.observation.metadata.tenant", "acme"), KV("langfuse.trace.metadata.region", "eu"),
        KV("langfuse.trace.tags", Arr({Str("billing")}))};
    c.want.kind = KIND_LLM;
    c.want.model = "gpt-4o";
    c.want.input_tokens = 120;
    c.want.output_tokens = 18;
    c.want.cache_read_tokens = 64;
    c.want.reasoning_tokens = 6;
    c.want.cost_usd = 0.00048;
    c.want.prompt_name = "support-answer";
    c.want.prompt_version = "3";
    c.want.session_id = "ticket-9421";
    c.want.user_id = "user_92";
    c.want.environment = "production";  // no deployment.environment on the resource
    c.want.version = "2026.03.1";
    c.want.status = STATUS_UNSET;
    c.want.input_json =
        R"([{"role":"system","parts":[{"type":"text","content":"Be kind."}]},{"role":"user","parts":[{"type":"text","content":"Where is my refund?"}]}])";
    c.want.output_json = R"([{"role":"assistant","parts":[{"type":"text","content":"It was issued today."}]}])";
    cases.push_back(c);
  }
  {
    Case c = Row("span at level ERROR with a status message; cost total is the sum when absent");
    c.attrs = {KV("langfuse.observation.type", "span"), KV("langfuse.observation.level", "ERROR"),
               KV("langfuse.observation.status_message", "upstream 502"),
               KV("langfuse.observation.cost_details", R"({"input": 0.25, "output": 0.5})"),
               KV("langfuse.observation.input", R"({"invoice": "INV-1"})"),
               KV("langfuse.observation.output", "plain words")};
    c.want.kind = KIND_OTHER;
    c.want.status = STATUS_ERROR;
    c.want.status_message = "upstream 502";
    c.want.cost_usd = 0.75;
    c.want.input_json = R"({"invoice":"INV-1"})";
    c.want.output_json = R"("plain words")";
    cases.push_back(c);
  }
  {
    Case c = Row("tool observation: input is the arguments, even when they look like a message");
    c.attrs = {KV("langfuse.observation.type", "tool"), KV("langfuse.observation.input", R"({"role": "admin", "content": "x"})"),
               KV("langfuse.observation.output", R"(["ok"])")};
    c.want.kind = KIND_TOOL;
    c.want.input_json = R"({"role":"admin","content":"x"})";
    c.want.output_json = R"(["ok"])";
    cases.push_back(c);
  }
  {
    Case c = Row("root span carries the trace input and output");
    c.attrs = {KV("langfuse.trace.name", "support"), KV("langfuse.trace.input", R"({"ticket": 9421})"),
               KV("langfuse.trace.output", "\"resolved\"")};
    c.want.input_json = R"({"ticket":9421})";
    c.want.output_json = R"("resolved")";  // Langfuse JSON-encodes: the string itself
    cases.push_back(c);
  }
  {
    Case c = Row("generic span type defers to gen_ai.operation.name");
    c.attrs = {KV("langfuse.observation.type", "span"), KV("gen_ai.operation.name", "execute_tool")};
    c.want.kind = KIND_TOOL;
    cases.push_back(c);
  }
  for (auto [t, kind] : {std::pair{"agent", KIND_AGENT}, {"chain", KIND_CHAIN}, {"retriever", KIND_RETRIEVAL},
                         {"evaluator", KIND_EVALUATOR}, {"embedding", KIND_EMBEDDING},
                         {"guardrail", KIND_GUARDRAIL}, {"event", KIND_OTHER}}) {
    Case c = Row(std::string("observation type ") + t);
    c.attrs = {KV("langfuse.observation.type", t)};
    c.want.kind = kind;
    cases.push_back(c);
  }
  return cases;
}

TEST(Langfuse, Table) {
  for (const Case& c : Cases()) RunCase(c);
}

TEST(Langfuse, MalformedUsageJsonIsIgnored) {
  model::Span s = NormalizeOne(MakeSpan("g", {KV("langfuse.observation.type", "generation"),
                                              KV("langfuse.observation.usage_details", R"({"input": 12,)")}));
  EXPECT_FALSE(s.has_input_tokens());
  EXPECT_EQ(s.kind(), KIND_LLM);
}

TEST(Langfuse, ResourceEnvironmentWinsOverLangfuseEnvironment) {
  model::Span s = NormalizeOne(MakeSpan("g", {KV("langfuse.environment", "staging")}), {},
                               {KV("service.name", "svc"), KV("deployment.environment.name", "prod"),
                                KV("service.version", "1.4.2")});
  EXPECT_EQ(s.environment(), "prod");
  EXPECT_EQ(s.version(), "1.4.2");
  EXPECT_EQ(s.service(), "svc");
}

}  // namespace
}  // namespace sightline::ingest
