// OpenTelemetry GenAI semantic conventions: the current names (gen_ai.provider.name,
// gen_ai.input.messages, ...), the deprecated ones (gen_ai.system, prompt_tokens, the
// per-message span events), the operation-details event, and the general OTel
// attributes normalisation needs (error.type, enduser.id, exception events).
#include <array>

#include "ingest/normalize/convention.h"

namespace sightline::ingest::norm {
namespace {

constexpr std::string_view kDetailsEvent = "gen_ai.client.inference.operation.details";

// A gen_ai attribute from the span, else from its operation-details event (which
// carries the same attributes when the SDK records details as an event).
const AnyValue* GenAi(const SpanInput& in, AttrKey key) {
  const AnyValue* v = in.attrs.Find(key);
  return v != nullptr ? v : in.details.Find(key);
}

std::optional<int64_t> FirstInt(const SpanInput& in, std::initializer_list<AttrKey> keys) {
  for (AttrKey k : keys)
    if (auto n = IntOf(GenAi(in, k))) return n;
  return std::nullopt;
}

// gen_ai.response.finish_reasons: a string array, or a string (plain or a JSON array).
std::string_view FirstFinishReason(SpanInput& in, const AnyValue* v) {
  if (v == nullptr) return {};
  if (v->value_case() == AnyValue::kArrayValue) {
    for (const AnyValue& e : v->array_value().values())
      if (auto s = StringOf(&e)) return *s;
    return {};
  }
  auto s = StringOf(v);
  if (!s) return {};
  if (LooksLikeJsonContainer(*s)) {
    ScratchDocument doc;
    if (ParseJson(*s, &doc) && doc.IsArray() && !doc.Empty() && doc[0].IsString())
      return in.Own(std::string(doc[0].GetString(), doc[0].GetStringLength()));
    return {};
  }
  return *s;
}

// Messages from an attribute holding them as a JSON string or as structured AnyValues.
bool MessagesFromAttr(const AnyValue* v, bool output, JsonOut* out, std::vector<Message>* msgs) {
  if (v == nullptr) return false;
  ScratchDocument doc;
  if (auto s = StringOf(v)) {
    if (!ParseJson(*s, &doc)) return false;
  } else if (!AnyValueToDocument(*v, &doc)) {
    return false;
  }
  return MessagesFromJson(doc, output, out, msgs);
}

// gen_ai.system_instructions: a JSON array of parts, structured parts, or plain text.
bool SystemMessage(const AnyValue* v, JsonOut* out, Message* m) {
  if (v == nullptr) return false;
  m->role = "system";
  ScratchDocument doc;
  if (auto s = StringOf(v)) {
    if (LooksLikeJsonContainer(*s) && ParseJson(*s, &doc)) PartsFromJson(doc, out, &m->parts);
    else m->parts.push_back(TextPart(*s));
  } else if (AnyValueToDocument(*v, &doc)) {
    PartsFromJson(doc, out, &m->parts);
  }
  return !m->parts.empty();
}

bool InputFrom(SpanInput& in, const AttrTable& idx, std::string* json) {
  const AnyValue* msgs_v = idx.Find("gen_ai.input.messages");
  const AnyValue* sys_v = idx.Find("gen_ai.system_instructions");
  if (msgs_v == nullptr && sys_v == nullptr) return false;
  JsonOut out = in.NewJson();
  std::vector<Message> msgs;
  Message sys;
  if (SystemMessage(sys_v, &out, &sys)) msgs.push_back(std::move(sys));
  // The conventions' text messages are the canonical form already: the history is
  // written element by element, text messages copied as they came and only the others
  // parsed and written (what parsing and writing the whole array would give).
  if (auto text = msgs_v != nullptr ? StringOf(msgs_v) : std::nullopt; text) {
    std::string body;
    if (CanonicalHistoryBody(*text, &out, &body)) {
      if (msgs.empty()) {
        json->assign("[").append(body).push_back(']');
        return true;
      }
      WriteMessages(msgs, &out);  // [system]
      *json = out.Take();
      json->back() = ',';
      json->append(body).push_back(']');
      return true;
    }
  }
  if (msgs_v != nullptr && !MessagesFromAttr(msgs_v, false, &out, &msgs)) {
    // Not message-shaped (an SDK that cut the JSON, or plain text): keep the text.
    std::string text;
    if (!ScalarText(msgs_v, &text)) text = AnyValueToJson(*msgs_v, static_cast<size_t>(-1), nullptr);
    if (msgs.empty()) {
      *json = PayloadJson(in, text, false);
      return true;
    }
    Message m;
    m.role = "user";
    m.parts.push_back(TextPart(text));
    msgs.push_back(std::move(m));
  }
  WriteMessages(msgs, &out);
  *json = out.Take();
  return true;
}

bool OutputFrom(SpanInput& in, const AttrTable& idx, std::string* json) {
  const AnyValue* v = idx.Find("gen_ai.output.messages");
  if (v == nullptr) return false;
  JsonOut out = in.NewJson();
  std::vector<Message> msgs;
  if (!MessagesFromAttr(v, true, &out, &msgs)) {
    *json = PayloadJson(in, *v, true);
    return true;
  }
  WriteMessages(msgs, &out);
  *json = out.Take();
  return true;
}

// The body of a deprecated message event as one JSON object: the JSON in
// gen_ai.event.content when an older SDK put it there, else the event's attributes.
bool EventBody(const OtlpSpan::Event& ev, rapidjson::Document* doc) {
  for (const KeyValue& kv : ev.attributes()) {
    if (kv.key() == "gen_ai.event.content" || kv.key() == "event.body" || kv.key() == "body") {
      if (auto s = StringOf(&kv.value())) {
        if (ParseJson(*s, doc) && doc->IsObject()) return true;
      } else if (AnyValueToDocument(kv.value(), doc) && doc->IsObject()) {
        return true;
      }
    }
  }
  AnyValue obj;  // attributes as a kvlist, then as JSON
  for (const KeyValue& kv : ev.attributes()) *obj.mutable_kvlist_value()->add_values() = kv;
  return AnyValueToDocument(obj, doc) && doc->IsObject();
}

std::string_view RoleOfEvent(std::string_view name) {
  if (name == "gen_ai.system.message") return "system";
  if (name == "gen_ai.user.message") return "user";
  if (name == "gen_ai.assistant.message") return "assistant";
  if (name == "gen_ai.tool.message") return "tool";
  return {};
}

bool DeprecatedEvents(SpanInput& in, bool output, std::string* json) {
  JsonOut out = in.NewJson();
  std::vector<Message> msgs;
  for (const OtlpSpan::Event& ev : in.span->events()) {
    const std::string& name = ev.name();
    if (!name.starts_with("gen_ai.")) continue;
    // Semconv 1.26 and older: the whole prompt / completion as JSON in one event.
    if (name == (output ? "gen_ai.content.completion" : "gen_ai.content.prompt")) {
      for (const KeyValue& kv : ev.attributes()) {
        if (kv.key() != (output ? "gen_ai.completion" : "gen_ai.prompt")) continue;
        MessagesFromAttr(&kv.value(), output, &out, &msgs);
      }
      continue;
    }
    std::string_view role = output ? std::string_view() : RoleOfEvent(name);
    if (output ? name != "gen_ai.choice" : role.empty()) continue;
    ScratchDocument body;
    if (!EventBody(ev, &body)) continue;
    if (!role.empty() && !body.HasMember("role"))
      body.AddMember("role", rapidjson::Value(role.data(), static_cast<rapidjson::SizeType>(role.size())),
                     body.GetAllocator());
    Message m;
    if (MessageFromJson(body, output, &out, &m)) msgs.push_back(std::move(m));
  }
  if (msgs.empty()) return false;
  WriteMessages(msgs, &out);
  *json = out.Take();
  return true;
}

bool ToolPayload(SpanInput& in, AttrKey key, bool output, std::string* json) {
  const AnyValue* v = in.attrs.Find(key);
  if (v == nullptr) return false;
  *json = PayloadJson(in, *v, output, /*as_value=*/true);
  return true;
}

}  // namespace

std::optional<model::SpanKind> KindFromOperationName(std::string_view op) {
  using namespace model::v1;
  static constexpr std::array<std::pair<std::string_view, model::SpanKind>, 11> kOps = {{
      {"chat", KIND_LLM}, {"text_completion", KIND_LLM}, {"generate_content", KIND_LLM},
      {"embeddings", KIND_EMBEDDING}, {"execute_tool", KIND_TOOL}, {"invoke_agent", KIND_AGENT},
      {"create_agent", KIND_AGENT}, {"plan", KIND_AGENT}, {"invoke_workflow", KIND_CHAIN},
      {"retrieval", KIND_RETRIEVAL}, {"completion", KIND_LLM},
  }};
  for (const auto& [name, kind] : kOps)
    if (op == name) return kind;
  if (op.ends_with("_memory")) return KIND_MEMORY;  // search_memory, update_memory, ...
  return std::nullopt;
}

void ExtractOtelGenAi(SpanInput& in, Candidates* c) {
  const AttrTable& a = in.attrs;
  bool genai = a.HasPrefix("gen_ai.") || !in.details.empty();
  if (genai) {
    if (auto op = StringOf(a.Find("gen_ai.operation.name"))) c->kind = KindFromOperationName(*op);
    c->session_id = in.Text("gen_ai.conversation.id");
    c->agent_name = in.Text("gen_ai.agent.name");
    c->agent_id = in.Text("gen_ai.agent.id");
    c->provider = in.Text(GenAi(in, "gen_ai.provider.name"));
    if (c->provider.empty()) c->provider = in.Text(GenAi(in, "gen_ai.system"));
    c->model = in.Text(GenAi(in, "gen_ai.response.model"));
    if (c->model.empty()) c->model = in.Text(GenAi(in, "gen_ai.request.model"));
    c->has_model_attr = !c->model.empty();
    c->input_tokens = FirstInt(in, {"gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"});
    c->output_tokens = FirstInt(in, {"gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens"});
    // The dotted names are semconv's; the underscored ones are what OpenLLMetry emits.
    c->cache_read_tokens = FirstInt(
        in, {"gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.cache_read_input_tokens"});
    c->cache_write_tokens = FirstInt(
        in, {"gen_ai.usage.cache_creation.input_tokens", "gen_ai.usage.cache_creation_input_tokens"});
    c->reasoning_tokens = FirstInt(
        in, {"gen_ai.usage.reasoning.output_tokens", "gen_ai.usage.reasoning_tokens"});
    c->cost_usd = DoubleOf(GenAi(in, "gen_ai.usage.cost"));
    c->tool_name = in.Text("gen_ai.tool.name");
    c->tool_call_id = in.Text("gen_ai.tool.call.id");
    c->has_tool_attr = !c->tool_name.empty() || !c->tool_call_id.empty();
    c->prompt_name = in.Text("gen_ai.prompt.name");
    c->finish_reason = FirstFinishReason(in, GenAi(in, "gen_ai.response.finish_reasons"));
  }
  c->user_id = in.Text("enduser.id");
  c->error_type = in.Text("error.type");
  if (!c->error_type.empty()) c->status = model::v1::STATUS_ERROR;
  // The OTel exception event: message and type for spans whose status carries none.
  for (const OtlpSpan::Event& ev : in.span->events()) {
    if (ev.name() != "exception") continue;
    for (const KeyValue& kv : ev.attributes()) {
      if (kv.key() == "exception.message" && c->status_message.empty())
        c->status_message = in.Text(&kv.value());
      else if (kv.key() == "exception.type" && c->error_type.empty())
        c->error_type = in.Text(&kv.value());
    }
    break;
  }
}

bool OtelInputMessages(SpanInput& in, std::string* json) { return InputFrom(in, in.attrs, json); }
bool OtelOutputMessages(SpanInput& in, std::string* json) { return OutputFrom(in, in.attrs, json); }
bool OtelDetailsEventInput(SpanInput& in, std::string* json) {
  return !in.details.empty() && InputFrom(in, in.details, json);
}
bool OtelDetailsEventOutput(SpanInput& in, std::string* json) {
  return !in.details.empty() && OutputFrom(in, in.details, json);
}
bool OtelDeprecatedEventsInput(SpanInput& in, std::string* json) {
  return in.span->events_size() > 0 && DeprecatedEvents(in, false, json);
}
bool OtelDeprecatedEventsOutput(SpanInput& in, std::string* json) {
  return in.span->events_size() > 0 && DeprecatedEvents(in, true, json);
}
bool OtelToolArguments(SpanInput& in, std::string* json) {
  return ToolPayload(in, "gen_ai.tool.call.arguments", false, json);
}
bool OtelToolResult(SpanInput& in, std::string* json) {
  return ToolPayload(in, "gen_ai.tool.call.result", true, json);
}

// Used by the driver to find the details event once per span.
std::string_view DetailsEventName() { return kDetailsEvent; }

}  // namespace sightline::ingest::norm
