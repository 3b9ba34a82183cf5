// Langfuse's OTel attributes (the Langfuse SDK v3 exporter and its OTel endpoint):
// langfuse.observation.* (type, input/output, model, usage and cost details as JSON,
// level, prompt), langfuse.session.id / user.id, langfuse.trace.*, environment, release.
#include <array>

#include "ingest/normalize/convention.h"

namespace sightline::ingest::norm {
namespace {

std::optional<model::SpanKind> KindFromLangfuse(std::string_view t) {
  using namespace model::v1;
  static constexpr std::array<std::pair<std::string_view, model::SpanKind>, 9> kTypes = {{
      {"generation", KIND_LLM}, {"agent", KIND_AGENT}, {"tool", KIND_TOOL}, {"chain", KIND_CHAIN},
      {"retriever", KIND_RETRIEVAL}, {"evaluator", KIND_EVALUATOR}, {"embedding", KIND_EMBEDDING},
      {"guardrail", KIND_GUARDRAIL}, {"reranker", KIND_RERANK},
  }};
  for (const auto& [name, kind] : kTypes)
    if (EqualsIgnoreCase(t, name)) return kind;
  // "span" and "event" are Langfuse's generic observations: they say nothing about what
  // the span did, so later sources (gen_ai.operation.name, tool attributes) decide.
  return std::nullopt;
}

// A JSON object attribute (usage_details, cost_details); also accepts a kvlist.
bool ObjectAttr(const AnyValue* v, rapidjson::Document* doc) {
  if (v == nullptr) return false;
  if (auto s = StringOf(v)) return ParseJson(*s, doc) && doc->IsObject();
  return v->value_case() == AnyValue::kKvlistValue && AnyValueToDocument(*v, doc) && doc->IsObject();
}

std::optional<double> Number(const rapidjson::Value& obj, std::initializer_list<const char*> keys) {
  for (const char* k : keys) {
    const rapidjson::Value* v = Member(obj, k);
    if (v == nullptr) continue;
    if (v->IsNumber()) return v->GetDouble();
    if (v->IsString()) {
      if (auto d = ParseDouble({v->GetString(), v->GetStringLength()})) return d;
    }
  }
  return std::nullopt;
}

std::optional<int64_t> Count(const rapidjson::Value& obj, std::initializer_list<const char*> keys) {
  auto d = Number(obj, keys);
  if (!d || *d < 0 || *d > 9e18) return std::nullopt;
  return static_cast<int64_t>(*d);
}

bool PayloadFrom(SpanInput& in, AttrKey observation_key, AttrKey trace_key,
                 bool output, std::string* json) {
  const AnyValue* v = in.attrs.Find(observation_key);
  if (v == nullptr) v = in.attrs.Find(trace_key);
  if (v == nullptr) return false;
  *json = PayloadJson(in, *v, output, /*as_value=*/in.kind == model::v1::KIND_TOOL, /*json_encoded=*/true);
  return true;
}

}  // namespace

void ExtractLangfuse(SpanInput& in, Candidates* c) {
  const AttrTable& a = in.attrs;
  if (!a.HasPrefix("langfuse.")) return;
  if (auto t = StringOf(a.Find("langfuse.observation.type"))) c->kind = KindFromLangfuse(*t);
  c->session_id = in.Text("langfuse.session.id");
  c->user_id = in.Text("langfuse.user.id");
  c->model = in.Text("langfuse.observation.model.name");
  c->has_model_attr = !c->model.empty();
  c->prompt_name = in.Text("langfuse.observation.prompt.name");
  c->prompt_version = in.Text("langfuse.observation.prompt.version");
  c->status_message = in.Text("langfuse.observation.status_message");
  if (auto level = StringOf(a.Find("langfuse.observation.level")); level && EqualsIgnoreCase(*level, "ERROR"))
    c->status = model::v1::STATUS_ERROR;
  c->environment = in.Text("langfuse.environment");
  c->version = in.Text("langfuse.release");
  if (c->version.empty()) c->version = in.Text("langfuse.version");

  ScratchDocument usage;
  if (ObjectAttr(a.Find("langfuse.observation.usage_details"), &usage)) {
    c->input_tokens = Count(usage, {"input", "prompt_tokens", "input_tokens"});
    c->output_tokens = Count(usage, {"output", "completion_tokens", "output_tokens"});
    c->cache_read_tokens = Count(usage, {"input_cached_tokens", "cache_read_input_tokens",
                                         "input_cache_read", "cached_tokens"});
    c->cache_write_tokens =
        Count(usage, {"cache_creation_input_tokens", "input_cache_creation", "input_cache_write"});
    c->reasoning_tokens = Count(usage, {"output_reasoning_tokens", "reasoning_tokens", "output_reasoning"});
  }
  ScratchDocument cost;
  if (ObjectAttr(a.Find("langfuse.observation.cost_details"), &cost)) {
    c->cost_usd = Number(cost, {"total"});
    if (!c->cost_usd) {  // Langfuse's own rule: the total is the sum of the parts
      double sum = 0;
      bool any = false;
      // Const member iterators: rapidjson's mutable ones compare ambiguously in C++20.
      const rapidjson::Value& parts = cost;
      for (auto m = parts.MemberBegin(); m != parts.MemberEnd(); ++m) {
        if (!m->value.IsNumber()) continue;
        sum += m->value.GetDouble();
        any = true;
      }
      if (any) c->cost_usd = sum;
    }
  }
}

bool LangfuseInput(SpanInput& in, std::string* json) {
  return PayloadFrom(in, "langfuse.observation.input", "langfuse.trace.input", false, json);
}
bool LangfuseOutput(SpanInput& in, std::string* json) {
  return PayloadFrom(in, "langfuse.observation.output", "langfuse.trace.output", true, json);
}

}  // namespace sightline::ingest::norm
