// OpenInference (Arize Phoenix and its instrumentors): openinference.span.kind, llm.*,
// the flattened llm.input_messages.N.message.* attributes, input.value/output.value with
// their mime types, session.id/user.id, tool.*, retrieval.documents.N.document.*.
#include <array>
#include <map>

#include "ingest/normalize/convention.h"

namespace sightline::ingest::norm {
namespace {

std::optional<model::SpanKind> KindFromOpenInference(std::string_view k) {
  using namespace model::v1;
  static constexpr std::array<std::pair<std::string_view, model::SpanKind>, 10> kKinds = {{
      {"LLM", KIND_LLM}, {"CHAIN", KIND_CHAIN}, {"TOOL", KIND_TOOL}, {"AGENT", KIND_AGENT},
      {"RETRIEVER", KIND_RETRIEVAL}, {"EMBEDDING", KIND_EMBEDDING}, {"RERANKER", KIND_RERANK},
      {"GUARDRAIL", KIND_GUARDRAIL}, {"EVALUATOR", KIND_EVALUATOR},
      {"PROMPT", KIND_CHAIN},  // prompt-template rendering: a step of a chain
  }};
  for (const auto& [name, kind] : kKinds)
    if (EqualsIgnoreCase(k, name)) return kind;
  return std::nullopt;  // UNKNOWN and anything new: let later sources decide
}

// Applies one "message.<field>" attribute of a flattened message to its slot.
void ApplyMessageField(SpanInput& in, std::string_view field, const AnyValue* v,
                       FlatMessages::Slot* s) {
  if (!field.starts_with("message.")) return;
  field.remove_prefix(8);
  std::string_view text = in.Text(v);
  if (field == "role") {
    s->msg.role.assign(text);
  } else if (field == "content") {
    s->content.assign(text);
    s->has_content = !text.empty();
  } else if (field == "name") {
    s->msg.name.assign(text);
  } else if (field == "tool_call_id") {
    s->tool_call_id.assign(text);
  } else if (field == "function_call_name" || field == "function_call_arguments_json") {
    Part& p = s->tool_calls[-1];  // legacy OpenAI function_call: before the tool_calls
    p.type = "tool_call";
    if (field == "function_call_name") {
      p.name.assign(text);
    } else {
      p.value.assign(text);
      p.has_value = true;
    }
  } else if (field.starts_with("contents.")) {
    std::string_view rest;
    int m = SplitIndex(field.substr(9), &rest);
    if (m < 0 || m > 100'000 || !rest.starts_with("message_content.")) return;
    rest.remove_prefix(16);
    Part& p = s->contents[m];
    if (rest == "type") {
      p.type.assign(text);
    } else if (rest == "text") {
      p.content.assign(text);
    } else if (rest == "image.image.url") {
      p.name.assign(text);  // the url, written out when the part is finished
    }
  } else if (field.starts_with("tool_calls.")) {
    std::string_view rest;
    int m = SplitIndex(field.substr(11), &rest);
    if (m < 0 || m > 100'000 || !rest.starts_with("tool_call.")) return;
    rest.remove_prefix(10);
    Part& p = s->tool_calls[m];
    p.type = "tool_call";
    if (rest == "id") p.id.assign(text);
    else if (rest == "function.name") p.name.assign(text);
    else if (rest == "function.arguments") {
      p.value.assign(text);
      p.has_value = true;
    }
  }
}

bool FlatFrom(SpanInput& in, AttrPrefix prefix, bool output, std::string* json) {
  auto entries = in.attrs.WithPrefix(prefix);
  if (entries.empty()) return false;
  FlatMessages flat;
  for (const auto& e : entries) {
    std::string_view rest;
    int n = SplitIndex(e.key.substr(prefix.name().size()), &rest);
    if (n < 0) continue;
    if (FlatMessages::Slot* s = flat.At(n)) ApplyMessageField(in, rest, e.value, s);
  }
  if (flat.empty()) return false;
  JsonOut out = in.NewJson();
  std::vector<Message> msgs = flat.Finish(output, &out);
  for (Message& m : msgs) {
    for (Part& p : m.parts) {
      if (p.type.empty()) p.type = "text";
      if (p.type == "image" && !p.name.empty()) {
        JsonOut v = in.NewJson();
        v.StartObject();
        v.Key("type");
        v.String("image");
        v.Key("url");
        v.String(p.name);
        v.EndObject();
        p.verbatim = v.Take();
      }
    }
  }
  WriteMessages(msgs, &out);
  *json = out.Take();
  return true;
}

bool ValueFrom(SpanInput& in, AttrKey key, AttrKey mime_key, bool output,
               std::string* json) {
  const AnyValue* v = in.attrs.Find(key);
  if (v == nullptr) return false;
  bool tool = in.kind == model::v1::KIND_TOOL;
  auto mime = StringOf(in.attrs.Find(mime_key));
  if (mime && *mime == "text/plain" && !tool && v->value_case() == AnyValue::kStringValue) {
    JsonOut out = in.NewJson();
    out.String(v->string_value());
    *json = out.Take();
    return true;
  }
  *json = PayloadJson(in, *v, output, /*as_value=*/tool, /*json_encoded=*/mime && *mime == "application/json");
  return true;
}

}  // namespace

void ExtractOpenInference(SpanInput& in, Candidates* c) {
  const AttrTable& a = in.attrs;
  if (auto k = StringOf(a.Find("openinference.span.kind"))) c->kind = KindFromOpenInference(*k);
  c->session_id = in.Text("session.id");
  c->user_id = in.Text("user.id");
  c->tool_name = in.Text("tool.name");
  c->tool_call_id = in.Text("tool_call.id");
  c->has_tool_attr = !c->tool_name.empty() || !c->tool_call_id.empty();
  if (!a.HasPrefix("llm.")) return;
  c->provider = in.Text("llm.provider");
  if (c->provider.empty()) c->provider = in.Text("llm.system");
  c->model = in.Text("llm.model_name");
  if (c->model.empty()) c->model = in.Text("llm.response.model_name");
  c->has_model_attr = !c->model.empty();
  c->input_tokens = IntOf(a.Find("llm.token_count.prompt"));
  c->output_tokens = IntOf(a.Find("llm.token_count.completion"));
  c->cache_read_tokens = IntOf(a.Find("llm.token_count.prompt_details.cache_read"));
  c->cache_write_tokens = IntOf(a.Find("llm.token_count.prompt_details.cache_write"));
  c->reasoning_tokens = IntOf(a.Find("llm.token_count.completion_details.reasoning"));
  c->cost_usd = DoubleOf(a.Find("llm.cost.total"));
  c->prompt_version = in.Text("llm.prompt_template.version");
  c->finish_reason = in.Text("llm.finish_reason");
}

bool OpenInferenceInputMessages(SpanInput& in, std::string* json) {
  return FlatFrom(in, "llm.input_messages.", false, json);
}
bool OpenInferenceOutputMessages(SpanInput& in, std::string* json) {
  return FlatFrom(in, "llm.output_messages.", true, json);
}
bool OpenInferenceInputValue(SpanInput& in, std::string* json) {
  return ValueFrom(in, "input.value", "input.mime_type", false, json);
}
bool OpenInferenceOutputValue(SpanInput& in, std::string* json) {
  return ValueFrom(in, "output.value", "output.mime_type", true, json);
}

bool OpenInferenceDocuments(SpanInput& in, std::string* json) {
  constexpr AttrPrefix kPrefix = "retrieval.documents.";
  auto entries = in.attrs.WithPrefix(kPrefix);
  if (entries.empty()) return false;
  struct Doc {
    const AnyValue *id = nullptr, *content = nullptr, *score = nullptr, *metadata = nullptr;
  };
  std::map<int, Doc> docs;
  for (const auto& e : entries) {
    std::string_view rest;
    int n = SplitIndex(e.key.substr(kPrefix.name().size()), &rest);
    if (n < 0 || n > 1'000'000 || (docs.size() >= 10'000 && !docs.contains(n))) continue;
    Doc& d = docs[n];
    if (rest == "document.id") d.id = e.value;
    else if (rest == "document.content") d.content = e.value;
    else if (rest == "document.score") d.score = e.value;
    else if (rest == "document.metadata") d.metadata = e.value;
  }
  JsonOut out = in.NewJson();
  out.StartObject();
  out.Key("documents");
  out.StartArray();
  for (const auto& [n, d] : docs) {
    out.StartObject();
    if (d.id != nullptr) {
      out.Key("id");
      out.String(in.Text(d.id));
    }
    if (d.content != nullptr) {
      out.Key("content");
      out.AnyValue(*d.content);
    }
    if (auto score = DoubleOf(d.score)) {
      out.Key("score");
      out.Double(*score);
    }
    if (d.metadata != nullptr) {
      out.Key("metadata");
      if (auto s = StringOf(d.metadata)) out.JsonOrString(*s);
      else out.AnyValue(*d.metadata);
    }
    out.EndObject();
  }
  out.EndArray();
  out.EndObject();
  *json = out.Take();
  return true;
}

}  // namespace sightline::ingest::norm
