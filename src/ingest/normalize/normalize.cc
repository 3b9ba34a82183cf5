// The normalisation driver: validates ids, asks each convention what it found, and
// picks every canonical field in SPEC order ("Where each field comes from, first match
// wins"). Then moves what was received into the canonical span and sanitises it.
#include "ingest/normalize/normalize.h"

#include <algorithm>
#include <initializer_list>

#include "common/utf8.h"
#include "ingest/normalize/convention.h"
#include "ingest/normalize/otlp_move.h"
#include "ingest/normalize/sanitize.h"

namespace sightline::ingest {
namespace {

using namespace norm;
using model::v1::SpanKind;

constexpr int kMaxReasonsInMessage = 5;

bool AllZero(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == 0; });
}

// The reason a span's ids are unusable, or empty when they are fine.
std::string_view IdProblem(const OtlpSpan& s) {
  if (s.trace_id().empty()) return "missing_trace_id";
  if (s.trace_id().size() != 16 || AllZero(s.trace_id())) return "invalid_trace_id";
  if (s.span_id().size() != 8 || AllZero(s.span_id())) return "invalid_span_id";
  if (!s.parent_span_id().empty() && s.parent_span_id().size() != 8) return "invalid_parent_span_id";
  return {};
}

// Resource-level facts, read once per ResourceSpans.
struct ResourceFacts {
  std::string service, environment, version, project;
};

ResourceFacts ReadResource(const KeyValues& attrs, const NormalizeOptions& options) {
  AttrIndex idx;
  idx.Build(attrs);
  ResourceFacts f;
  ScalarText(idx.Find("service.name"), &f.service);
  if (!ScalarText(idx.Find("deployment.environment.name"), &f.environment))
    ScalarText(idx.Find("deployment.environment"), &f.environment);
  ScalarText(idx.Find("service.version"), &f.version);
  f.project = options.project;
  if (f.project.empty()) ScalarText(idx.Find("openinference.project.name"), &f.project);
  if (f.project.empty()) f.project = "default";
  return f;
}

std::string_view First(std::initializer_list<std::string_view> values) {
  for (std::string_view v : values)
    if (!v.empty()) return v;
  return {};
}

template <typename T>
std::optional<T> First(std::initializer_list<std::optional<T>> values) {
  for (const auto& v : values)
    if (v) return v;
  return std::nullopt;
}

bool RunSources(SpanInput& in, std::initializer_list<PayloadSource> sources, std::string* json) {
  for (PayloadSource s : sources)
    if (s(in, json)) return true;
  return false;
}

// All conventions' findings on one span, in the order the driver consults them.
struct Found {
  Candidates otel, oi, langfuse, traceloop, agent;
};

SpanKind PickKind(const Found& f) {
  if (auto k = First<SpanKind>({f.oi.kind, f.langfuse.kind, f.otel.kind, f.traceloop.kind})) return *k;
  for (const Candidates* c : {&f.otel, &f.oi, &f.langfuse, &f.traceloop, &f.agent})
    if (c->has_tool_attr) return model::v1::KIND_TOOL;
  for (const Candidates* c : {&f.otel, &f.oi, &f.langfuse, &f.traceloop, &f.agent})
    if (c->has_model_attr) return model::v1::KIND_LLM;
  return model::v1::KIND_OTHER;
}

model::SpanStatus PickStatus(const OtlpSpan& s, const Found& f) {
  using namespace model::v1;
  auto code = s.status().code();
  if (code == ::opentelemetry::proto::trace::v1::Status::STATUS_CODE_ERROR) return STATUS_ERROR;
  if (f.agent.status == STATUS_INTERRUPT) return STATUS_INTERRUPT;
  if (f.langfuse.status == STATUS_ERROR) return STATUS_ERROR;
  if (f.otel.status == STATUS_ERROR) return STATUS_ERROR;  // error.type present
  if (f.agent.status == STATUS_ERROR) return STATUS_ERROR;
  if (code == ::opentelemetry::proto::trace::v1::Status::STATUS_CODE_OK) return STATUS_OK;
  if (f.agent.status == STATUS_OK) return STATUS_OK;
  return STATUS_UNSET;
}

void PickPayloads(SpanInput& in, model::Span* out) {
  std::string json;
  if (in.kind == model::v1::KIND_TOOL &&
      RunSources(in, {OtelToolArguments, OpenInferenceInputValue, AgentToolArgs}, &json)) {
  } else {
    RunSources(in,
               {OtelInputMessages, OpenInferenceInputMessages, TraceloopPromptMessages, LangfuseInput,
                TraceloopEntityInput, OpenInferenceInputValue, OtelDetailsEventInput,
                OtelDeprecatedEventsInput},
               &json);
  }
  if (!json.empty()) out->set_input_json(std::move(json));
  json.clear();
  if (in.kind == model::v1::KIND_TOOL && RunSources(in, {OtelToolResult, OpenInferenceOutputValue}, &json)) {
  } else if (in.kind == model::v1::KIND_RETRIEVAL && OpenInferenceDocuments(in, &json)) {
  } else {
    RunSources(in,
               {OtelOutputMessages, OpenInferenceOutputMessages, TraceloopCompletionMessages,
                LangfuseOutput, TraceloopEntityOutput, OpenInferenceOutputValue,
                OtelDetailsEventOutput, OtelDeprecatedEventsOutput},
               &json);
  }
  if (!json.empty()) out->set_output_json(std::move(json));
}

// finish_reason when no attribute carries it: the first output message's.
std::string FinishReasonFromOutput(const std::string& output_json) {
  if (output_json.find("\"finish_reason\"") == std::string::npos) return {};
  ScratchDocument doc;
  if (!ParseJson(output_json, &doc) || !doc.IsArray()) return {};
  for (const auto& m : doc.GetArray())
    if (auto fr = MemberString(m, "finish_reason"); !fr.empty()) return std::string(fr);
  return {};
}

void Fill(SpanInput& in, const Found& f, model::Span* out) {
  const OtlpSpan& s = *in.span;
  in.kind = PickKind(f);
  out->set_kind(in.kind);
  out->set_status(PickStatus(s, f));
  // Only non-empty values are written: a string field left unset reads and serializes
  // as empty, and setting one allocates its string (on the request's arena).
  using S = model::Span;
  auto set = [out](std::string* (S::*field)(), std::string_view v) {
    if (!v.empty()) (out->*field)()->assign(v.data(), v.size());
  };
  set(&S::mutable_status_message,
      First({s.status().message(), f.otel.status_message, f.langfuse.status_message}));
  set(&S::mutable_error_type, f.otel.error_type);
  set(&S::mutable_interrupt_reason, f.agent.interrupt_reason);
  set(&S::mutable_session_id, First({f.oi.session_id, f.otel.session_id, f.langfuse.session_id,
                                        f.agent.session_id, f.traceloop.session_id}));
  set(&S::mutable_user_id, First({f.oi.user_id, f.langfuse.user_id, f.otel.user_id,
                                     f.agent.user_id, f.traceloop.user_id}));
  set(&S::mutable_agent_name, First({f.otel.agent_name, f.agent.agent_name, f.traceloop.agent_name}));
  set(&S::mutable_agent_id, f.otel.agent_id);
  if (f.agent.step) out->set_step(*f.agent.step);
  set(&S::mutable_provider, First({f.otel.provider, f.oi.provider}));
  set(&S::mutable_model, First({f.otel.model, f.langfuse.model, f.oi.model, f.traceloop.model, f.agent.model}));
  if (auto n = First<int64_t>({f.otel.input_tokens, f.oi.input_tokens, f.agent.input_tokens, f.langfuse.input_tokens}))
    out->set_input_tokens(*n);
  if (auto n = First<int64_t>({f.otel.output_tokens, f.oi.output_tokens, f.agent.output_tokens, f.langfuse.output_tokens}))
    out->set_output_tokens(*n);
  if (auto n = First<int64_t>({f.otel.cache_read_tokens, f.oi.cache_read_tokens, f.langfuse.cache_read_tokens}))
    out->set_cache_read_tokens(*n);
  if (auto n = First<int64_t>({f.otel.cache_write_tokens, f.oi.cache_write_tokens, f.langfuse.cache_write_tokens}))
    out->set_cache_write_tokens(*n);
  if (auto n = First<int64_t>({f.otel.reasoning_tokens, f.oi.reasoning_tokens, f.langfuse.reasoning_tokens}))
    out->set_reasoning_tokens(*n);
  if (auto cost = First<double>({f.otel.cost_usd, f.oi.cost_usd, f.agent.cost_usd, f.langfuse.cost_usd})) {
    out->set_cost_usd(*cost);
    out->set_reported_cost_usd(*cost);
    out->set_cost_source(model::v1::COST_REPORTED);
  }
  set(&S::mutable_tool_name, First({f.otel.tool_name, f.oi.tool_name, f.agent.tool_name, f.traceloop.tool_name}));
  set(&S::mutable_tool_call_id, First({f.otel.tool_call_id, f.oi.tool_call_id}));
  set(&S::mutable_prompt_name, First({f.otel.prompt_name, f.langfuse.prompt_name}));
  set(&S::mutable_prompt_version, First({f.langfuse.prompt_version, f.oi.prompt_version}));
  set(&S::mutable_finish_reason, First({f.otel.finish_reason, f.oi.finish_reason}));
  PickPayloads(in, out);
  if (out->finish_reason().empty()) set(&S::mutable_finish_reason, FinishReasonFromOutput(out->output_json()));
}

// service, environment, version and project come from the resource, which was sanitised
// once per ResourceSpans, so they are not cut again here (the marker would be cut).
void SanitizeSpan(model::Span* s, size_t max, int64_t* truncated) {
  using S = model::Span;
  // Canonical fields are copies of attribute values: a cut here is not counted again.
  // Empty fields are skipped: asking for one to be mutable would allocate its string.
  for (auto [get, mut] : {std::pair{&S::name, &S::mutable_name},
                          std::pair{&S::status_message, &S::mutable_status_message},
                          std::pair{&S::error_type, &S::mutable_error_type},
                          std::pair{&S::interrupt_reason, &S::mutable_interrupt_reason},
                          std::pair{&S::session_id, &S::mutable_session_id},
                          std::pair{&S::user_id, &S::mutable_user_id},
                          std::pair{&S::agent_name, &S::mutable_agent_name},
                          std::pair{&S::agent_id, &S::mutable_agent_id},
                          std::pair{&S::provider, &S::mutable_provider},
                          std::pair{&S::model, &S::mutable_model},
                          std::pair{&S::tool_name, &S::mutable_tool_name},
                          std::pair{&S::tool_call_id, &S::mutable_tool_call_id},
                          std::pair{&S::prompt_name, &S::mutable_prompt_name},
                          std::pair{&S::prompt_version, &S::mutable_prompt_version},
                          std::pair{&S::finish_reason, &S::mutable_finish_reason},
                          std::pair{&S::trace_state, &S::mutable_trace_state}}) {
    if (!(s->*get)().empty()) SanitizeString((s->*mut)(), max, nullptr);
  }
  // Payload strings were limited one by one while written; the text only needs repair.
  if (!s->input_json().empty()) RepairUtf8InPlace(s->mutable_input_json());
  if (!s->output_json().empty()) RepairUtf8InPlace(s->mutable_output_json());
  SanitizeKeyValues(s->mutable_attributes(), max, truncated);
  for (auto& ev : *s->mutable_events()) {
    SanitizeString(ev.mutable_name(), max, truncated);
    SanitizeKeyValues(ev.mutable_attributes(), max, truncated);
  }
  for (auto& link : *s->mutable_links()) {
    SanitizeString(link.mutable_trace_state(), max, truncated);
    SanitizeKeyValues(link.mutable_attributes(), max, truncated);
  }
}

void Reject(std::string_view reason, const OtlpSpan& s, NormalizeResult* r) {
  ++r->rejected;
  ++r->rejected_by_reason[std::string(reason)];
  if (r->rejected > kMaxReasonsInMessage) return;
  if (!r->error_message.empty()) r->error_message += "; ";
  std::string name = RepairUtf8(std::string_view(s.name()).substr(0, 128));
  r->error_message += "span \"" + name + "\": " + std::string(reason);
  if (reason == "invalid_trace_id") r->error_message += " (" + std::to_string(s.trace_id().size()) + " bytes, want 16 non-zero)";
  if (reason == "invalid_span_id") r->error_message += " (" + std::to_string(s.span_id().size()) + " bytes, want 8 non-zero)";
  if (reason == "invalid_parent_span_id") r->error_message += " (" + std::to_string(s.parent_span_id().size()) + " bytes, want 8 or none)";
}

}  // namespace

NormalizeResult NormalizeRequest(ExportRequest* request, const NormalizeOptions& options) {
  NormalizeResult result;
  result.spans = model::SpanList(options.arena);
  const size_t max = options.max_attribute_bytes;
  size_t total = 0;
  for (const auto& rs : request->resource_spans())
    for (const auto& ss : rs.scope_spans()) total += ss.spans_size();
  result.spans.reserve(total);

  if (options.received_bytes) result.received.reserve(total);

  SpanInput in;
  in.options = &options;
  in.truncated = &result.truncated_values;
  uint32_t span_index = 0;  // in the request, as the walk numbers them
  for (auto& rs : *request->mutable_resource_spans()) {
    KeyValues* resource = rs.mutable_resource()->mutable_attributes();
    const int64_t cut_before_resource = result.truncated_values;
    SanitizeKeyValues(resource, max, &result.truncated_values);  // once, not once per span
    const bool resource_received = options.received_bytes && result.truncated_values == cut_before_resource;
    const ResourceFacts facts = ReadResource(*resource, options);
    for (auto& ss : *rs.mutable_scope_spans()) {
      auto* scope = ss.mutable_scope();
      SanitizeString(scope->mutable_name(), max, &result.truncated_values);
      SanitizeString(scope->mutable_version(), max, &result.truncated_values);
      const int64_t cut_before_scope = result.truncated_values;
      SanitizeKeyValues(scope->mutable_attributes(), max, &result.truncated_values);
      const bool scope_received = options.received_bytes && result.truncated_values == cut_before_scope;
      for (OtlpSpan& s : *ss.mutable_spans()) {
        const uint32_t this_span = span_index++;
        if (std::string_view problem = IdProblem(s); !problem.empty()) {
          Reject(problem, s, &result);
          if (result.rejected == kMaxReasonsInMessage + 1) result.error_message += "; ...";
          continue;
        }
        in.span = &s;
        in.attrs.Build(s.attributes());
        in.details.Clear();
        for (const auto& ev : s.events()) {
          if (ev.name() == DetailsEventName()) {
            in.details.Build(ev.attributes());
            break;
          }
        }
        in.owned.clear();
        Found f;
        ExtractOtelGenAi(in, &f.otel);
        ExtractOpenInference(in, &f.oi);
        ExtractLangfuse(in, &f.langfuse);
        ExtractTraceloop(in, &f.traceloop);
        ExtractAgentSchema(in, &f.agent);

        model::Span& out = result.spans.emplace_back();
        Fill(in, f, &out);
        if (!facts.environment.empty()) out.set_environment(facts.environment);
        if (!facts.version.empty()) out.set_version(facts.version);
        if (facts.environment.empty() && !f.langfuse.environment.empty()) {
          out.set_environment(std::string(f.langfuse.environment));
          SanitizeString(out.mutable_environment(), max, nullptr);
        }
        if (facts.version.empty() && !f.langfuse.version.empty()) {
          out.set_version(std::string(f.langfuse.version));
          SanitizeString(out.mutable_version(), max, nullptr);
        }
        in.attrs.Clear();  // the views into s end here: its fields move below
        in.details.Clear();

        out.set_trace_id(std::move(*s.mutable_trace_id()));
        out.set_span_id(std::move(*s.mutable_span_id()));
        if (!AllZero(s.parent_span_id())) out.set_parent_span_id(std::move(*s.mutable_parent_span_id()));
        out.set_project(facts.project);
        out.set_name(std::move(*s.mutable_name()));
        out.set_start_ns(static_cast<int64_t>(s.start_time_unix_nano()));
        out.set_end_ns(static_cast<int64_t>(s.end_time_unix_nano()));
        if (!facts.service.empty()) out.set_service(facts.service);
        // Moved, not swapped: s may live on the request's arena (see otlp_move.h).
        MoveKeyValues(s.mutable_attributes(), out.mutable_attributes());
        MoveEvents(s.mutable_events(), out.mutable_events());
        MoveLinks(s.mutable_links(), out.mutable_links());
        if (!resource_received) *out.mutable_resource() = *resource;
        if (!scope->name().empty()) out.set_scope_name(scope->name());
        if (!scope->version().empty()) out.set_scope_version(scope->version());
        if (!scope_received && !scope->attributes().empty()) *out.mutable_scope_attributes() = scope->attributes();
        out.set_otel_kind(s.kind());
        if (!s.trace_state().empty()) out.set_trace_state(std::move(*s.mutable_trace_state()));
        out.set_dropped_attributes_count(s.dropped_attributes_count());
        out.set_dropped_events_count(s.dropped_events_count());
        out.set_dropped_links_count(s.dropped_links_count());
        out.set_received_ns(options.received_ns);
        const int64_t cut_before_span = result.truncated_values;
        SanitizeSpan(&out, max, &result.truncated_values);
        if (options.received_bytes) {
          // SanitizeSpan counts the cuts of attribute values, event names and link trace
          // states, not those of canonical fields (which are not received parts).
          result.received.push_back(
              {this_span, result.truncated_values == cut_before_span, resource_received, scope_received});
        }
      }
    }
  }
  return result;
}

}  // namespace sightline::ingest
