// What the convention files share: the per-span input they read (SpanInput), what each
// one reports it found (Candidates), and their entry points. The driver (normalize.cc)
// asks every convention for its candidates and then picks per field in SPEC order
// ("Where each field comes from, first match wins"); payloads (input/output) are built
// lazily by the first source that has one.
//
// Thread-safety: a SpanInput belongs to one NormalizeRequest call (one thread).
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include "ingest/normalize/attr_table.h"
#include "ingest/normalize/json_out.h"
#include "ingest/normalize/messages.h"
#include "ingest/normalize/normalize.h"
#include "model/span.h"
#include "opentelemetry/proto/trace/v1/trace.pb.h"

namespace sightline::ingest::norm {

using OtlpSpan = ::opentelemetry::proto::trace::v1::Span;

// The span being normalised, its attributes looked up once each in the table of every
// convention's keys (attr_table.h). Reused across the spans of a request.
struct SpanInput {
  const OtlpSpan* span = nullptr;
  AttrTable attrs;    // the span's attributes
  AttrTable details;  // attributes of its gen_ai.client.inference.operation.details event
  const NormalizeOptions* options = nullptr;
  int64_t* truncated = nullptr;  // NormalizeResult::truncated_values
  model::SpanKind kind = model::v1::KIND_OTHER;  // decided before payloads are built
  std::deque<std::string> owned;  // storage for values that had to be converted

  std::string_view Own(std::string s) { return owned.emplace_back(std::move(s)); }
  // A string view of a scalar attribute (numbers converted); empty when absent.
  std::string_view Text(const AnyValue* v);
  std::string_view Text(AttrKey key) { return Text(attrs.Find(key)); }
  JsonOut NewJson() const { return JsonOut(options->max_attribute_bytes, truncated); }
};

// What one convention found on a span. Empty / nullopt: not found.
struct Candidates {
  std::optional<model::SpanKind> kind;
  std::string_view session_id, user_id, agent_name, agent_id, provider, model;
  std::string_view tool_name, tool_call_id, prompt_name, prompt_version, finish_reason;
  std::string_view status_message, error_type, interrupt_reason, environment, version;
  std::optional<int64_t> step, input_tokens, output_tokens, cache_read_tokens,
      cache_write_tokens, reasoning_tokens;
  std::optional<double> cost_usd;
  std::optional<model::SpanStatus> status;  // this convention's status signal
  bool has_tool_attr = false;   // for the kind fallback "a tool attribute present"
  bool has_model_attr = false;  // ... "a model attribute present"
};

// A payload source: writes one JSON value to *json and returns true when the span
// carries it.
using PayloadSource = bool (*)(SpanInput& in, std::string* json);

// --- otel_genai.cc: OTel GenAI semantic conventions (current and deprecated names),
// general OTel attributes (error.type, enduser.id) and exception events.
void ExtractOtelGenAi(SpanInput& in, Candidates* c);
std::optional<model::SpanKind> KindFromOperationName(std::string_view op);
bool OtelInputMessages(SpanInput& in, std::string* json);     // gen_ai.input.messages (+system_instructions)
bool OtelOutputMessages(SpanInput& in, std::string* json);    // gen_ai.output.messages
bool OtelDetailsEventInput(SpanInput& in, std::string* json);  // ...operation.details event
bool OtelDetailsEventOutput(SpanInput& in, std::string* json);
bool OtelDeprecatedEventsInput(SpanInput& in, std::string* json);  // gen_ai.user.message, ...
bool OtelDeprecatedEventsOutput(SpanInput& in, std::string* json);  // gen_ai.choice
bool OtelToolArguments(SpanInput& in, std::string* json);     // gen_ai.tool.call.arguments
bool OtelToolResult(SpanInput& in, std::string* json);        // gen_ai.tool.call.result
std::string_view DetailsEventName();  // "gen_ai.client.inference.operation.details"

// --- openinference.cc
void ExtractOpenInference(SpanInput& in, Candidates* c);
bool OpenInferenceInputMessages(SpanInput& in, std::string* json);   // llm.input_messages.N
bool OpenInferenceOutputMessages(SpanInput& in, std::string* json);  // llm.output_messages.N
bool OpenInferenceInputValue(SpanInput& in, std::string* json);      // input.value
bool OpenInferenceOutputValue(SpanInput& in, std::string* json);     // output.value
bool OpenInferenceDocuments(SpanInput& in, std::string* json);       // retrieval.documents.N

// --- langfuse.cc
void ExtractLangfuse(SpanInput& in, Candidates* c);
bool LangfuseInput(SpanInput& in, std::string* json);   // langfuse.observation.input, trace.input
bool LangfuseOutput(SpanInput& in, std::string* json);

// --- traceloop.cc
void ExtractTraceloop(SpanInput& in, Candidates* c);
bool TraceloopPromptMessages(SpanInput& in, std::string* json);      // gen_ai.prompt.N.*
bool TraceloopCompletionMessages(SpanInput& in, std::string* json);  // gen_ai.completion.N.*
bool TraceloopEntityInput(SpanInput& in, std::string* json);
bool TraceloopEntityOutput(SpanInput& in, std::string* json);

// --- agent_schema.cc: the plain agent.* / tool.args.* / tokens.* schema.
void ExtractAgentSchema(SpanInput& in, Candidates* c);
bool AgentToolArgs(SpanInput& in, std::string* json);  // tool.args.* as one JSON object

// --- Shared by the payload sources: a free-form payload (input.value, Langfuse and
// Traceloop JSON) as canonical JSON: chat-shaped JSON becomes messages, other JSON stays
// as that value, anything else becomes a JSON string. as_value: never convert to
// messages (tool arguments and results). json_encoded: the sender always JSON-encodes
// this attribute (Langfuse, Traceloop, mime application/json), so a JSON scalar such as
// "\"done\"" is taken as its value; otherwise only objects and arrays are parsed.
std::string PayloadJson(SpanInput& in, std::string_view text, bool output, bool as_value = false,
                        bool json_encoded = false);
// The same for a structured AnyValue (Langfuse and others sometimes send objects).
std::string PayloadJson(SpanInput& in, const AnyValue& v, bool output, bool as_value = false,
                        bool json_encoded = false);

}  // namespace sightline::ingest::norm
