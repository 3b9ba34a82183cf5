// The plain agent schema many teams hand-roll (seeds/000): agent.name,
// agent.session_id, agent.step, actor.user_id, tool.name, tool.args.*, llm.model,
// tokens.in/out, cost_usd, status / agent.status, interrupt.reason.
#include <algorithm>

#include "ingest/normalize/convention.h"

namespace sightline::ingest::norm {
namespace {

std::optional<model::SpanStatus> StatusWord(std::string_view s) {
  using namespace model::v1;
  if (EqualsIgnoreCase(s, "interrupt") || EqualsIgnoreCase(s, "interrupted")) return STATUS_INTERRUPT;
  if (EqualsIgnoreCase(s, "error") || EqualsIgnoreCase(s, "failed") || EqualsIgnoreCase(s, "failure"))
    return STATUS_ERROR;
  if (EqualsIgnoreCase(s, "ok") || EqualsIgnoreCase(s, "success") || EqualsIgnoreCase(s, "succeeded"))
    return STATUS_OK;
  return std::nullopt;
}

}  // namespace

void ExtractAgentSchema(SpanInput& in, Candidates* c) {
  const AttrTable& a = in.attrs;
  if (a.HasPrefix("agent.")) {
    c->agent_name = in.Text("agent.name");
    c->session_id = in.Text("agent.session_id");
    c->step = IntOf(a.Find("agent.step"));
  }
  c->user_id = in.Text("actor.user_id");
  c->tool_name = in.Text("tool.name");
  c->has_tool_attr = !c->tool_name.empty() || a.HasPrefix("tool.args.");
  c->model = in.Text("llm.model");
  c->has_model_attr = !c->model.empty();
  c->input_tokens = IntOf(a.Find("tokens.in"));
  c->output_tokens = IntOf(a.Find("tokens.out"));
  c->cost_usd = DoubleOf(a.Find("cost_usd"));
  c->interrupt_reason = in.Text("interrupt.reason");
  auto status = StringOf(a.Find("status"));
  if (!status) status = StringOf(a.Find("agent.status"));
  if (status) c->status = StatusWord(*status);
  if (!c->interrupt_reason.empty()) c->status = model::v1::STATUS_INTERRUPT;
}

bool AgentToolArgs(SpanInput& in, std::string* json) {
  constexpr AttrPrefix kPrefix = "tool.args.";
  auto entries = in.attrs.WithPrefix(kPrefix);
  if (entries.empty()) return false;
  // Keys in the order received, values typed as sent (ints stay ints).
  std::vector<const AttrIndex::Entry*> ordered;
  ordered.reserve(entries.size());
  for (const auto& e : entries) {
    if (!ordered.empty() && ordered.back()->key == e.key) continue;  // duplicate: first wins
    ordered.push_back(&e);
  }
  std::sort(ordered.begin(), ordered.end(), [](auto* x, auto* y) { return x->pos < y->pos; });
  JsonOut out = in.NewJson();
  out.StartObject();
  for (const auto* e : ordered) {
    out.Key(e->key.substr(kPrefix.name().size()));
    out.AnyValue(*e->value);
  }
  out.EndObject();
  *json = out.Take();
  return true;
}

}  // namespace sightline::ingest::norm
