#include "cli/otlp_mapping.h"

#include <cmath>

#include "common/hex.h"
#include "ingest/base64.h"

namespace sightline::cli {
namespace {

namespace ocommon = ::opentelemetry::proto::common::v1;
namespace otrace = ::opentelemetry::proto::trace::v1;
using KeyValues = google::protobuf::RepeatedPtrField<ocommon::KeyValue>;

// The first member present among the names (snake_case and lowerCamelCase spellings).
const JsonValue* AnyOf(const JsonValue& obj, std::initializer_list<std::string_view> names) {
  for (std::string_view n : names)
    if (const JsonValue* v = Member(obj, n)) return v;
  return nullptr;
}

std::string StrOf(const JsonValue& obj, std::initializer_list<std::string_view> names) {
  const JsonValue* v = AnyOf(obj, names);
  return v != nullptr && v->IsString() ? std::string(v->GetString(), v->GetStringLength()) : "";
}

int64_t IntOf(const JsonValue& obj, std::initializer_list<std::string_view> names) {
  const JsonValue* v = AnyOf(obj, names);
  return v == nullptr ? 0 : AsInt(*v).value_or(0);
}

// Hex id of the expected byte length, or "" when absent or malformed.
std::string IdOf(const JsonValue& obj, std::initializer_list<std::string_view> names, size_t bytes) {
  std::string hex = StrOf(obj, names);
  auto raw = HexDecode(hex);
  if (!raw || raw->size() != bytes) return "";
  return *raw;
}

bool IsAnyValueObject(const JsonValue& v) {
  if (!v.IsObject() || v.MemberCount() != 1) return false;
  std::string_view k(v.MemberBegin()->name.GetString(), v.MemberBegin()->name.GetStringLength());
  return k == "stringValue" || k == "boolValue" || k == "intValue" || k == "doubleValue" || k == "arrayValue" ||
         k == "kvlistValue" || k == "bytesValue" || k == "string_value" || k == "bool_value" || k == "int_value" ||
         k == "double_value" || k == "array_value" || k == "kvlist_value" || k == "bytes_value";
}

std::string ScopeKey(const otrace::ScopeSpans& s) { return s.scope().SerializeAsString(); }

int OtelKindFrom(const JsonValue& span) {
  const JsonValue* v = AnyOf(span, {"otel_kind", "otelKind", "span_kind"});
  if (v == nullptr) return 0;
  if (auto n = AsInt(*v); n && *n >= 0 && *n <= 5) return static_cast<int>(*n);
  if (!v->IsString()) return 0;
  std::string s = v->GetString();
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (s.rfind("span_kind_", 0) == 0) s = s.substr(10);
  if (s == "internal") return 1;
  if (s == "server") return 2;
  if (s == "client") return 3;
  if (s == "producer") return 4;
  if (s == "consumer") return 5;
  return 0;
}

}  // namespace

void JsonToAnyValue(const JsonValue& v, ocommon::AnyValue* out, bool otlp_form, int depth) {
  if (depth > 32) {
    out->set_string_value(ToJson(v));
    return;
  }
  if (otlp_form && IsAnyValueObject(v)) {
    const auto& m = *v.MemberBegin();
    std::string_view k(m.name.GetString(), m.name.GetStringLength());
    const JsonValue& x = m.value;
    if (k == "stringValue" || k == "string_value") {
      out->set_string_value(x.IsString() ? std::string(x.GetString(), x.GetStringLength()) : ToJson(x));
    } else if (k == "boolValue" || k == "bool_value") {
      out->set_bool_value(x.IsBool() ? x.GetBool() : (x.IsString() && std::string_view(x.GetString()) == "true"));
    } else if (k == "intValue" || k == "int_value") {
      out->set_int_value(AsInt(x).value_or(0));
    } else if (k == "doubleValue" || k == "double_value") {
      if (x.IsNumber()) {
        out->set_double_value(x.GetDouble());
      } else if (x.IsString()) {
        std::string s = x.GetString();
        out->set_double_value(s == "NaN" ? NAN : s == "Infinity" ? INFINITY : s == "-Infinity" ? -INFINITY
                                                                                                 : std::atof(s.c_str()));
      }
    } else if (k == "bytesValue" || k == "bytes_value") {
      if (x.IsString()) out->set_bytes_value(ingest::Base64Decode(x.GetString()).value_or(""));
    } else if (k == "arrayValue" || k == "array_value") {
      auto* arr = out->mutable_array_value();
      const JsonValue* vals = Member(x, "values");
      if (vals != nullptr && vals->IsArray())
        for (const auto& e : vals->GetArray()) JsonToAnyValue(e, arr->add_values(), otlp_form, depth + 1);
    } else {  // kvlist
      auto* kv = out->mutable_kvlist_value();
      const JsonValue* vals = Member(x, "values");
      if (vals != nullptr && vals->IsArray()) {
        for (const auto& e : vals->GetArray()) {
          auto* item = kv->add_values();
          item->set_key(Str(e, "key"));
          if (const JsonValue* ev = Member(e, "value")) JsonToAnyValue(*ev, item->mutable_value(), otlp_form, depth + 1);
        }
      }
    }
    return;
  }
  if (v.IsString()) {
    out->set_string_value(std::string(v.GetString(), v.GetStringLength()));
  } else if (v.IsBool()) {
    out->set_bool_value(v.GetBool());
  } else if (v.IsInt64()) {
    out->set_int_value(v.GetInt64());
  } else if (v.IsUint64()) {
    out->set_int_value(static_cast<int64_t>(v.GetUint64()));
  } else if (v.IsNumber()) {
    out->set_double_value(v.GetDouble());
  } else if (v.IsArray()) {
    auto* arr = out->mutable_array_value();
    for (const auto& e : v.GetArray()) JsonToAnyValue(e, arr->add_values(), otlp_form, depth + 1);
  } else if (v.IsObject()) {
    auto* kv = out->mutable_kvlist_value();
    for (const auto& m : v.GetObject()) {
      auto* item = kv->add_values();
      item->set_key(std::string(m.name.GetString(), m.name.GetStringLength()));
      if (!m.value.IsNull()) JsonToAnyValue(m.value, item->mutable_value(), otlp_form, depth + 1);
    }
  }
  // null: an empty AnyValue.
}

void JsonToKeyValues(const JsonValue& attrs, KeyValues* out) {
  if (attrs.IsArray()) {
    for (const auto& e : attrs.GetArray()) {
      if (!e.IsObject()) continue;
      auto* kv = out->Add();
      kv->set_key(Str(e, "key"));
      if (const JsonValue* v = Member(e, "value")) JsonToAnyValue(*v, kv->mutable_value(), /*otlp_form=*/true);
    }
  } else if (attrs.IsObject()) {
    for (const auto& m : attrs.GetObject()) {
      auto* kv = out->Add();
      kv->set_key(std::string(m.name.GetString(), m.name.GetStringLength()));
      if (!m.value.IsNull()) JsonToAnyValue(m.value, kv->mutable_value(), /*otlp_form=*/false);
    }
  }
}

Status AppendSpanAsOtlp(const JsonValue& s, ingest::ExportRequest* out) {
  otrace::Span span;
  std::string trace_id = IdOf(s, {"trace_id", "traceId"}, 16);
  std::string span_id = IdOf(s, {"span_id", "spanId"}, 8);
  if (trace_id.empty()) return Status::InvalidArgument("span without a valid trace_id: " + ToJson(s).substr(0, 120));
  if (span_id.empty())
    return Status::InvalidArgument("span of trace " + HexEncode(trace_id) + " without a valid span_id");
  span.set_trace_id(trace_id);
  span.set_span_id(span_id);
  span.set_parent_span_id(IdOf(s, {"parent_span_id", "parentSpanId"}, 8));
  span.set_name(Str(s, "name"));
  span.set_kind(static_cast<otrace::Span::SpanKind>(OtelKindFrom(s)));
  span.set_start_time_unix_nano(static_cast<uint64_t>(IntOf(s, {"start_ns", "start_time_unix_nano", "startTimeUnixNano"})));
  span.set_end_time_unix_nano(static_cast<uint64_t>(IntOf(s, {"end_ns", "end_time_unix_nano", "endTimeUnixNano"})));
  span.set_trace_state(StrOf(s, {"trace_state", "traceState"}));
  if (const JsonValue* a = Member(s, "attributes")) JsonToKeyValues(*a, span.mutable_attributes());
  span.set_dropped_attributes_count(static_cast<uint32_t>(IntOf(s, {"dropped_attributes_count", "droppedAttributesCount"})));
  span.set_dropped_events_count(static_cast<uint32_t>(IntOf(s, {"dropped_events_count", "droppedEventsCount"})));
  span.set_dropped_links_count(static_cast<uint32_t>(IntOf(s, {"dropped_links_count", "droppedLinksCount"})));
  if (const JsonValue* evs = Member(s, "events"); evs != nullptr && evs->IsArray()) {
    for (const auto& e : evs->GetArray()) {
      auto* ev = span.add_events();
      ev->set_name(Str(e, "name"));
      ev->set_time_unix_nano(static_cast<uint64_t>(IntOf(e, {"time_ns", "time_unix_nano", "timeUnixNano", "time"})));
      if (const JsonValue* a = Member(e, "attributes")) JsonToKeyValues(*a, ev->mutable_attributes());
      ev->set_dropped_attributes_count(static_cast<uint32_t>(IntOf(e, {"dropped_attributes_count", "droppedAttributesCount"})));
    }
  }
  if (const JsonValue* links = Member(s, "links"); links != nullptr && links->IsArray()) {
    for (const auto& l : links->GetArray()) {
      std::string lt = IdOf(l, {"trace_id", "traceId"}, 16), ls = IdOf(l, {"span_id", "spanId"}, 8);
      if (lt.empty() || ls.empty()) continue;  // a link the receiver would reject
      auto* link = span.add_links();
      link->set_trace_id(lt);
      link->set_span_id(ls);
      link->set_trace_state(StrOf(l, {"trace_state", "traceState"}));
      if (const JsonValue* a = Member(l, "attributes")) JsonToKeyValues(*a, link->mutable_attributes());
      link->set_dropped_attributes_count(static_cast<uint32_t>(IntOf(l, {"dropped_attributes_count", "droppedAttributesCount"})));
      link->set_flags(static_cast<uint32_t>(IntOf(l, {"flags"})));
    }
  }
  std::string status = Str(s, "status");
  if (status == "error") {
    span.mutable_status()->set_code(otrace::Status::STATUS_CODE_ERROR);
    span.mutable_status()->set_message(Str(s, "status_message"));
  } else if (status == "ok") {
    span.mutable_status()->set_code(otrace::Status::STATUS_CODE_OK);
  }

  // Resource and scope.
  opentelemetry::proto::resource::v1::Resource resource;
  if (const JsonValue* r = Member(s, "resource")) {
    // Either the attribute list itself or a Resource object {attributes:[...]}.
    const JsonValue* inner = Member(*r, "attributes");
    JsonToKeyValues(inner != nullptr && inner->IsArray() ? *inner : *r, resource.mutable_attributes());
  }
  std::string project = Str(s, "project");
  if (!project.empty() && project != "default") {
    bool has = false;
    for (const auto& kv : resource.attributes()) has |= kv.key() == "openinference.project.name";
    if (!has) {
      auto* kv = resource.add_attributes();
      kv->set_key("openinference.project.name");
      kv->mutable_value()->set_string_value(project);
    }
  }
  ocommon::InstrumentationScope scope;
  if (const JsonValue* sc = Member(s, "scope"); sc != nullptr && sc->IsObject()) {
    scope.set_name(Str(*sc, "name"));
    scope.set_version(Str(*sc, "version"));
    if (const JsonValue* a = Member(*sc, "attributes")) JsonToKeyValues(*a, scope.mutable_attributes());
  } else {
    scope.set_name(StrOf(s, {"scope_name", "scopeName"}));
    scope.set_version(StrOf(s, {"scope_version", "scopeVersion"}));
    if (const JsonValue* a = AnyOf(s, {"scope_attributes", "scopeAttributes"}))
      JsonToKeyValues(*a, scope.mutable_attributes());
  }

  std::string rkey = resource.SerializeAsString();
  otrace::ResourceSpans* rs = nullptr;
  for (auto& candidate : *out->mutable_resource_spans())
    if (candidate.resource().SerializeAsString() == rkey) rs = &candidate;
  if (rs == nullptr) {
    rs = out->add_resource_spans();
    *rs->mutable_resource() = std::move(resource);
  }
  std::string skey = scope.SerializeAsString();
  otrace::ScopeSpans* ss = nullptr;
  for (auto& candidate : *rs->mutable_scope_spans())
    if (ScopeKey(candidate) == skey) ss = &candidate;
  if (ss == nullptr) {
    ss = rs->add_scope_spans();
    *ss->mutable_scope() = std::move(scope);
  }
  *ss->add_spans() = std::move(span);
  return Status::OK();
}

bool HasTruncatedValue(const JsonValue& v) {
  if (v.IsObject()) {
    if (v.MemberCount() == 2 && Bool(v, "truncated") && Member(v, "bytes") != nullptr) return true;
    for (const auto& m : v.GetObject())
      if (HasTruncatedValue(m.value)) return true;
  } else if (v.IsArray()) {
    for (const auto& e : v.GetArray())
      if (HasTruncatedValue(e)) return true;
  }
  return false;
}

Result<ingest::ExportRequest> TraceAnswerToOtlp(const JsonValue& answer) {
  const JsonValue* spans = Member(answer, "spans");
  if (spans == nullptr || !spans->IsArray()) return Status::InvalidArgument("trace answer has no \"spans\" array");
  ingest::ExportRequest req;
  for (const auto& s : spans->GetArray()) SL_RETURN_IF_ERROR(AppendSpanAsOtlp(s, &req));
  return req;
}

int64_t CountSpans(const ingest::ExportRequest& request) {
  int64_t n = 0;
  for (const auto& rs : request.resource_spans())
    for (const auto& ss : rs.scope_spans()) n += ss.spans_size();
  return n;
}

}  // namespace sightline::cli
