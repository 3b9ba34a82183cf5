// The plain agent schema of seeds/000 (agent.*, tool.args.*, tokens.*, status).
#include <gtest/gtest.h>

#include "ingest/normalize/normalize_test_util.h"

namespace sightline::ingest {
namespace {

using namespace testutil;
using namespace model::v1;

std::vector<Case> Cases() {
  std::vector<Case> cases;
  {
    // The seed's own example span, "llm.model": null etc. arriving as empty AnyValues.
    Case c = Row("call_tool.issue_refund awaiting approval");
    c.span_name = "call_tool.issue_refund";
    c.attrs = {KV("agent.name", "billing-resolver"), KV("agent.session_id", "ticket-9421"),
               KV("agent.step", 4), KV("actor.user_id", "user_92"), KV("tool.name", "issue_refund"),
               KV("tool.args.invoice_id", "INV-2026-0042"), KV("tool.args.amount_cents", 24000),
               KV("llm.model", AnyValue()), KV("tokens.in", AnyValue()), KV("tokens.out", AnyValue()),
               KV("cost_usd", 0), KV("status", "interrupt"), KV("interrupt.reason", "approval_required")};
    c.want.kind = KIND_TOOL;
    c.want.agent_name = "billing-resolver";
    c.want.session_id = "ticket-9421";
    c.want.step = 4;
    c.want.user_id = "user_92";
    c.want.tool_name = "issue_refund";
    c.want.status = STATUS_INTERRUPT;
    c.want.interrupt_reason = "approval_required";
    c.want.cost_usd = 0;
    c.want.model = "";
    c.want.input_json = R"({"invoice_id":"INV-2026-0042","amount_cents":24000})";
    c.want.output_json = "";
    cases.push_back(c);
  }
  {
    Case c = Row("model call with tokens and a string step");
    c.attrs = {KV("agent.name", "planner"), KV("agent.step", "7"), KV("llm.model", "claude-sonnet-4-5"),
               KV("tokens.in", 1500), KV("tokens.out", Str("220")), KV("cost_usd", 0.0078),
               KV("agent.status", "ok")};
    c.want.kind = KIND_LLM;
    c.want.model = "claude-sonnet-4-5";
    c.want.step = 7;
    c.want.input_tokens = 1500;
    c.want.output_tokens = 220;
    c.want.cost_usd = 0.0078;
    c.want.status = STATUS_OK;
    cases.push_back(c);
  }
  {
    Case c = Row("status=error");
    c.attrs = {KV("agent.name", "billing-resolver"), KV("status", "error")};
    c.want.kind = KIND_OTHER;
    c.want.status = STATUS_ERROR;
    cases.push_back(c);
  }
  {
    Case c = Row("interrupt.reason alone interrupts");
    c.attrs = {KV("interrupt.reason", "budget_exceeded")};
    c.want.status = STATUS_INTERRUPT;
    c.want.interrupt_reason = "budget_exceeded";
    cases.push_back(c);
  }
  return cases;
}

TEST(AgentSchema, Table) {
  for (const Case& c : Cases()) RunCase(c);
}

}  // namespace
}  // namespace sightline::ingest
