#include "api/json_encode.h"

#include <cmath>

#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include "api/base64.h"
#include "common/error_map.h"
#include "common/hex.h"

namespace sightline::api {

void Str(JsonWriter& w, std::string_view s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }

void StrField(JsonWriter& w, std::string_view key, std::string_view value) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  Str(w, value);
}

std::string Finish(const rapidjson::StringBuffer& buf) { return std::string(buf.GetString(), buf.GetSize()); }

namespace {

using ::opentelemetry::proto::common::v1::AnyValue;
using ::opentelemetry::proto::common::v1::KeyValue;

void Key(JsonWriter& w, std::string_view k) { w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size())); }

// JSON has no NaN or infinity: write null for them (rapidjson would emit broken JSON).
void Double(JsonWriter& w, double d) {
  if (std::isfinite(d)) w.Double(d);
  else w.Null();
}

void HexOrNull(JsonWriter& w, std::string_view bytes) {
  if (bytes.empty()) w.Null();
  else Str(w, HexEncode(bytes));
}

void Truncated(JsonWriter& w, size_t bytes) {
  w.StartObject();
  Key(w, "truncated");
  w.Bool(true);
  Key(w, "bytes");
  w.Uint64(bytes);
  w.EndObject();
}

void WriteAnyValue(JsonWriter& w, const AnyValue& v, size_t limit, int depth);

void WriteKeyValues(JsonWriter& w, const google::protobuf::RepeatedPtrField<KeyValue>& kvs, size_t limit, int depth) {
  w.StartObject();
  for (const auto& kv : kvs) {
    Key(w, kv.key());
    WriteAnyValue(w, kv.value(), limit, depth + 1);
  }
  w.EndObject();
}

void WriteAnyValue(JsonWriter& w, const AnyValue& v, size_t limit, int depth) {
  // Decoders bound nesting already; this guard keeps a hand-made deep value harmless.
  if (depth > 100) {
    w.Null();
    return;
  }
  switch (v.value_case()) {
    case AnyValue::kStringValue:
      if (limit > 0 && v.string_value().size() > limit) Truncated(w, v.string_value().size());
      else Str(w, v.string_value());
      break;
    case AnyValue::kBoolValue: w.Bool(v.bool_value()); break;
    case AnyValue::kIntValue: w.Int64(v.int_value()); break;
    case AnyValue::kDoubleValue:
      if (std::isfinite(v.double_value())) w.Double(v.double_value());
      else Str(w, std::isnan(v.double_value()) ? "NaN" : (v.double_value() > 0 ? "Infinity" : "-Infinity"));
      break;
    case AnyValue::kArrayValue:
      w.StartArray();
      for (const auto& e : v.array_value().values()) WriteAnyValue(w, e, limit, depth + 1);
      w.EndArray();
      break;
    case AnyValue::kKvlistValue: WriteKeyValues(w, v.kvlist_value().values(), limit, depth); break;
    case AnyValue::kBytesValue:
      if (limit > 0 && v.bytes_value().size() > limit) Truncated(w, v.bytes_value().size());
      else Str(w, Base64Encode(v.bytes_value()));
      break;
    default: w.Null(); break;
  }
}

void Payload(JsonWriter& w, std::string_view text, size_t limit) {
  if (text.empty()) w.Null();
  else if (limit > 0 && text.size() > limit) Truncated(w, text.size());
  else WriteEmbeddedJson(w, text);
}

template <typename T>
void OptInt(JsonWriter& w, std::string_view key, bool has, T value) {
  Key(w, key);
  if (has) w.Int64(value);
  else w.Null();
}

void IntField(JsonWriter& w, std::string_view key, int64_t value) {
  Key(w, key);
  w.Int64(value);
}

// name, kind, start/end/duration and status: the fields both span views open with.
void NameTimesStatus(JsonWriter& w, const model::Span& s) {
  StrField(w, "name", s.name());
  StrField(w, "kind", model::KindName(s.kind()));
  IntField(w, "start_ns", s.start_ns());
  IntField(w, "end_ns", s.end_ns());
  IntField(w, "duration_ns", model::DurationNs(s));
  StrField(w, "status", model::StatusName(s.status()));
}

}  // namespace

void WriteEmbeddedJson(JsonWriter& w, std::string_view text) {
  // The structure is checked; the encoding is not: the text comes from a model span's
  // string field, which protobuf has already checked for UTF-8 (and ingest made valid),
  // and re-validating it was the largest cost of serving a trace with its payloads.
  rapidjson::MemoryStream ms(text.data(), text.size());
  rapidjson::BaseReaderHandler<> handler;
  rapidjson::Reader reader;
  bool ok = !reader.Parse<rapidjson::kParseNoFlags>(ms, handler).IsError() &&
            ms.Tell() == text.size();  // an embedded NUL would end the parse early
  if (ok) w.RawValue(text.data(), text.size(), rapidjson::kObjectType);
  else Str(w, text);
}

void WriteSpan(JsonWriter& w, const model::Span& s, const SpanJsonOptions& o) {
  w.StartObject();
  StrField(w, "trace_id", HexEncode(s.trace_id()));
  StrField(w, "span_id", HexEncode(s.span_id()));
  Key(w, "parent_span_id");
  HexOrNull(w, s.parent_span_id());
  StrField(w, "project", s.project());
  NameTimesStatus(w, s);
  StrField(w, "status_message", s.status_message());
  StrField(w, "error_type", s.error_type());
  StrField(w, "interrupt_reason", s.interrupt_reason());
  StrField(w, "service", s.service());
  StrField(w, "environment", s.environment());
  StrField(w, "version", s.version());
  StrField(w, "session_id", s.session_id());
  StrField(w, "user_id", s.user_id());
  StrField(w, "agent_name", s.agent_name());
  StrField(w, "agent_id", s.agent_id());
  OptInt(w, "step", s.has_step(), s.step());
  StrField(w, "provider", s.provider());
  StrField(w, "model", s.model());
  OptInt(w, "input_tokens", s.has_input_tokens(), s.input_tokens());
  OptInt(w, "output_tokens", s.has_output_tokens(), s.output_tokens());
  OptInt(w, "cache_read_tokens", s.has_cache_read_tokens(), s.cache_read_tokens());
  OptInt(w, "cache_write_tokens", s.has_cache_write_tokens(), s.cache_write_tokens());
  OptInt(w, "reasoning_tokens", s.has_reasoning_tokens(), s.reasoning_tokens());
  Key(w, "cost_usd");
  if (s.has_cost_usd()) Double(w, s.cost_usd());
  else w.Null();
  StrField(w, "cost_source", model::CostSourceName(s.cost_source()));
  Key(w, "reported_cost_usd");
  if (s.has_reported_cost_usd()) Double(w, s.reported_cost_usd());
  else w.Null();
  Key(w, "computed_cost_usd");
  if (s.has_computed_cost_usd()) Double(w, s.computed_cost_usd());
  else w.Null();
  StrField(w, "tool_name", s.tool_name());
  StrField(w, "tool_call_id", s.tool_call_id());
  StrField(w, "prompt_name", s.prompt_name());
  StrField(w, "prompt_version", s.prompt_version());
  StrField(w, "finish_reason", s.finish_reason());
  Key(w, "input");
  Payload(w, s.input_json(), o.payload_limit);
  Key(w, "output");
  Payload(w, s.output_json(), o.payload_limit);
  Key(w, "attributes");
  WriteKeyValues(w, s.attributes(), o.payload_limit, 0);
  Key(w, "resource");
  WriteKeyValues(w, s.resource(), o.payload_limit, 0);
  Key(w, "events");
  w.StartArray();
  for (const auto& e : s.events()) {
    w.StartObject();
    StrField(w, "name", e.name());
    IntField(w, "time_ns", static_cast<int64_t>(e.time_unix_nano()));
    Key(w, "attributes");
    WriteKeyValues(w, e.attributes(), o.payload_limit, 0);
    w.EndObject();
  }
  w.EndArray();
  Key(w, "links");
  w.StartArray();
  for (const auto& l : s.links()) {
    w.StartObject();
    StrField(w, "trace_id", HexEncode(l.trace_id()));
    StrField(w, "span_id", HexEncode(l.span_id()));
    StrField(w, "trace_state", l.trace_state());
    Key(w, "attributes");
    WriteKeyValues(w, l.attributes(), o.payload_limit, 0);
    w.EndObject();
  }
  w.EndArray();
  Key(w, "scope");
  w.StartObject();
  StrField(w, "name", s.scope_name());
  StrField(w, "version", s.scope_version());
  Key(w, "attributes");
  WriteKeyValues(w, s.scope_attributes(), o.payload_limit, 0);
  w.EndObject();
  IntField(w, "otel_kind", s.otel_kind());
  StrField(w, "trace_state", s.trace_state());
  IntField(w, "dropped_attributes_count", s.dropped_attributes_count());
  IntField(w, "dropped_events_count", s.dropped_events_count());
  IntField(w, "dropped_links_count", s.dropped_links_count());
  IntField(w, "received_ns", s.received_ns());
  if (o.tree_fields) {
    IntField(w, "depth", o.depth);
    Key(w, "parent_missing");
    w.Bool(o.parent_missing);
  }
  w.EndObject();
}

namespace {

// The longest prefix of `text` of at most `limit` bytes that does not end inside a
// UTF-8 sequence (continuation bytes are 10xxxxxx).
std::string_view Utf8Prefix(std::string_view text, size_t limit) {
  if (text.size() <= limit) return text;
  size_t n = limit;
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  return text.substr(0, n);
}

void StrIfSet(JsonWriter& w, std::string_view key, std::string_view value) {
  if (!value.empty()) StrField(w, key, value);
}

}  // namespace

void WriteLightSpan(JsonWriter& w, const model::Span& s, int depth, bool parent_missing) {
  w.StartObject();
  StrField(w, "span_id", HexEncode(s.span_id()));
  Key(w, "parent_span_id");
  HexOrNull(w, s.parent_span_id());
  IntField(w, "depth", depth);
  Key(w, "parent_missing");
  w.Bool(parent_missing);
  NameTimesStatus(w, s);
  StrIfSet(w, "status_message", Utf8Prefix(s.status_message(), kLightStatusMessageLimit));
  StrIfSet(w, "error_type", s.error_type());
  StrIfSet(w, "interrupt_reason", s.interrupt_reason());
  StrIfSet(w, "agent_name", s.agent_name());
  StrIfSet(w, "tool_name", s.tool_name());
  StrIfSet(w, "provider", s.provider());
  StrIfSet(w, "model", s.model());
  if (s.has_step()) IntField(w, "step", s.step());
  if (s.has_input_tokens()) IntField(w, "input_tokens", s.input_tokens());
  if (s.has_output_tokens()) IntField(w, "output_tokens", s.output_tokens());
  if (s.has_cache_read_tokens()) IntField(w, "cache_read_tokens", s.cache_read_tokens());
  if (s.has_cache_write_tokens()) IntField(w, "cache_write_tokens", s.cache_write_tokens());
  if (s.has_reasoning_tokens()) IntField(w, "reasoning_tokens", s.reasoning_tokens());
  if (s.has_cost_usd() && std::isfinite(s.cost_usd())) {
    Key(w, "cost_usd");
    w.Double(s.cost_usd());
  }
  // Where the waterfall marks exceptions; their messages and stacks are in the span.
  bool any = false;
  for (const auto& e : s.events()) {
    if (e.name() != "exception") continue;
    if (!any) {
      Key(w, "exception_ns");
      w.StartArray();
      any = true;
    }
    w.Int64(static_cast<int64_t>(e.time_unix_nano()));
  }
  if (any) w.EndArray();
  w.EndObject();
}

void WriteTraceSummary(JsonWriter& w, const model::TraceSummary& s) {
  w.StartObject();
  StrField(w, "trace_id", HexEncode(s.trace_id));
  StrField(w, "project", s.project);
  StrField(w, "root_name", s.root_name);
  StrField(w, "service", s.service);
  StrField(w, "agent_name", s.agent_name);
  StrField(w, "session_id", s.session_id);
  StrField(w, "user_id", s.user_id);
  StrField(w, "environment", s.environment);
  IntField(w, "start_ns", s.start_ns);
  IntField(w, "end_ns", s.end_ns);
  IntField(w, "duration_ns", s.duration_ns);
  StrField(w, "status", model::StatusName(s.status));
  IntField(w, "span_count", s.span_count);
  IntField(w, "error_count", s.error_count);
  IntField(w, "interrupt_count", s.interrupt_count);
  IntField(w, "llm_calls", s.llm_calls);
  IntField(w, "tool_calls", s.tool_calls);
  IntField(w, "input_tokens", s.input_tokens);
  IntField(w, "output_tokens", s.output_tokens);
  Key(w, "cost_usd");
  Double(w, s.cost_usd);
  Key(w, "models");
  w.StartArray();
  for (const auto& m : s.models) Str(w, m);
  w.EndArray();
  Key(w, "has_root");
  w.Bool(s.has_root);
  w.EndObject();
}

void WriteSessionSummary(JsonWriter& w, const model::SessionSummary& s) {
  w.StartObject();
  StrField(w, "session_id", s.session_id);
  StrField(w, "project", s.project);
  StrField(w, "user_id", s.user_id);
  IntField(w, "first_start_ns", s.first_start_ns);
  IntField(w, "last_end_ns", s.last_end_ns);
  IntField(w, "trace_count", s.trace_count);
  IntField(w, "span_count", s.span_count);
  StrField(w, "status", model::StatusName(s.status));
  IntField(w, "error_traces", s.error_traces);
  IntField(w, "input_tokens", s.input_tokens);
  IntField(w, "output_tokens", s.output_tokens);
  Key(w, "cost_usd");
  Double(w, s.cost_usd);
  w.EndObject();
}

std::string ErrorJson(std::string_view code, std::string_view message) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  Key(w, "error");
  w.StartObject();
  StrField(w, "code", code);
  StrField(w, "message", message);
  w.EndObject();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

std::string ErrorJson(const Status& status) { return ErrorJson(ErrorCodeString(status.code()), status.message()); }

}  // namespace sightline::api
