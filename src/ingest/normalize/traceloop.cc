// Traceloop / OpenLLMetry: traceloop.span.kind, traceloop.entity.*, association
// properties, llm.request.type, and the flattened gen_ai.prompt.N.* /
// gen_ai.completion.N.* messages (with tool_calls.M.*) its instrumentations emit.
#include "ingest/normalize/convention.h"

namespace sightline::ingest::norm {
namespace {

std::optional<model::SpanKind> KindFromTraceloop(std::string_view k) {
  using namespace model::v1;
  if (k == "workflow" || k == "task") return KIND_CHAIN;
  if (k == "agent") return KIND_AGENT;
  if (k == "tool") return KIND_TOOL;
  return std::nullopt;
}

void ApplyField(SpanInput& in, std::string_view field, const AnyValue* v, FlatMessages::Slot* s) {
  std::string_view text = in.Text(v);
  if (field == "role") {
    s->msg.role.assign(text);
  } else if (field == "content") {
    s->content.assign(text);
    s->has_content = !text.empty();
  } else if (field == "finish_reason") {
    s->msg.finish_reason.assign(text);
  } else if (field == "tool_call_id") {
    s->tool_call_id.assign(text);
  } else if (field == "name") {
    s->msg.name.assign(text);
  } else if (field.starts_with("function_call.")) {
    Part& p = s->tool_calls[-1];  // legacy OpenAI function_call
    p.type = "tool_call";
    if (field == "function_call.name") p.name.assign(text);
    else if (field == "function_call.arguments") {
      p.value.assign(text);
      p.has_value = true;
    }
  } else if (field.starts_with("tool_calls.")) {
    std::string_view rest;
    int m = SplitIndex(field.substr(11), &rest);
    if (m < 0 || m > 100'000) return;
    Part& p = s->tool_calls[m];
    p.type = "tool_call";
    if (rest == "id") p.id.assign(text);
    else if (rest == "name") p.name.assign(text);
    else if (rest == "arguments") {
      p.value.assign(text);
      p.has_value = true;
    }
  }
}

bool TraceloopMessagesFrom(SpanInput& in, AttrPrefix prefix, bool output, std::string* json) {
  auto entries = in.attrs.WithPrefix(prefix);
  if (entries.empty()) return false;
  FlatMessages flat;
  for (const auto& e : entries) {
    std::string_view rest;
    int n = SplitIndex(e.key.substr(prefix.name().size()), &rest);
    if (n < 0) continue;  // gen_ai.prompt.name and friends are not messages
    if (FlatMessages::Slot* s = flat.At(n)) ApplyField(in, rest, e.value, s);
  }
  if (flat.empty()) return false;
  JsonOut out = in.NewJson();
  WriteMessages(flat.Finish(output, &out), &out);
  *json = out.Take();
  return true;
}

bool EntityPayload(SpanInput& in, AttrKey key, bool output, std::string* json) {
  const AnyValue* v = in.attrs.Find(key);
  if (v == nullptr) return false;
  *json = PayloadJson(in, *v, output, /*as_value=*/in.kind == model::v1::KIND_TOOL, /*json_encoded=*/true);
  return true;
}

}  // namespace

void ExtractTraceloop(SpanInput& in, Candidates* c) {
  const AttrTable& a = in.attrs;
  if (auto k = StringOf(a.Find("traceloop.span.kind"))) {
    c->kind = KindFromTraceloop(*k);
    // The entity is what the decorator wrapped: the tool or the agent itself.
    if (*k == "tool") c->tool_name = in.Text("traceloop.entity.name");
    if (*k == "agent") c->agent_name = in.Text("traceloop.entity.name");
  }
  if (a.HasPrefix("traceloop.association.properties.")) {
    c->session_id = in.Text("traceloop.association.properties.session_id");
    c->user_id = in.Text("traceloop.association.properties.user_id");
  }
  // llm.request.type (chat, completion, embedding, rerank) marks a model call.
  if (auto t = StringOf(a.Find("llm.request.type"))) {
    c->has_model_attr = true;
    if (*t == "embedding") c->kind = c->kind ? c->kind : std::optional(model::v1::KIND_EMBEDDING);
    if (*t == "rerank") c->kind = c->kind ? c->kind : std::optional(model::v1::KIND_RERANK);
  }
  // Before gen_ai.*, OpenLLMetry used llm.request.model / llm.response.model.
  c->model = in.Text("llm.response.model");
  if (c->model.empty()) c->model = in.Text("llm.request.model");
  if (!c->model.empty()) c->has_model_attr = true;
}

bool TraceloopPromptMessages(SpanInput& in, std::string* json) {
  return TraceloopMessagesFrom(in, "gen_ai.prompt.", false, json);
}
bool TraceloopCompletionMessages(SpanInput& in, std::string* json) {
  return TraceloopMessagesFrom(in, "gen_ai.completion.", true, json);
}
bool TraceloopEntityInput(SpanInput& in, std::string* json) {
  return EntityPayload(in, "traceloop.entity.input", false, json);
}
bool TraceloopEntityOutput(SpanInput& in, std::string* json) {
  return EntityPayload(in, "traceloop.entity.output", true, json);
}

}  // namespace sightline::ingest::norm
