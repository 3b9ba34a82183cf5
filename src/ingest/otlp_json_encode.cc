// EncodeOtlpJson and EncodeExportResponseJson (declared in otlp_decode.h): the OTLP JSON
// mapping, written so that DecodeOtlpJson(EncodeOtlpJson(x)) == x: ids as lowercase hex,
// 64-bit integers as decimal strings, enums as numbers, lowerCamelCase names, fields at
// their default value omitted except where presence matters (a set oneof in AnyValue,
// a present sub-message). Strings are repaired to valid UTF-8 on the way out, so the
// output is always valid JSON text.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cmath>
#include <string>

#include "common/hex.h"
#include "common/utf8.h"
#include "ingest/base64.h"
#include "ingest/otlp_decode.h"

namespace sightline::ingest {
namespace {

namespace rj = rapidjson;
namespace otrace = ::opentelemetry::proto::trace::v1;
namespace ocommon = ::opentelemetry::proto::common::v1;
namespace oresource = ::opentelemetry::proto::resource::v1;
using Writer = rj::Writer<rj::StringBuffer>;
using KeyValues = google::protobuf::RepeatedPtrField<ocommon::KeyValue>;

void Str(Writer& w, std::string_view s) {
  if (IsValidUtf8(s)) {
    w.String(s.data(), static_cast<rj::SizeType>(s.size()));
  } else {
    std::string fixed = RepairUtf8(s);
    w.String(fixed.data(), static_cast<rj::SizeType>(fixed.size()));
  }
}
void Key(Writer& w, const char* k) { w.Key(k); }
void StrField(Writer& w, const char* k, const std::string& s) {
  if (s.empty()) return;
  Key(w, k);
  Str(w, s);
}
void HexField(Writer& w, const char* k, const std::string& bytes) {
  if (bytes.empty()) return;
  Key(w, k);
  std::string hex = HexEncode(bytes);
  w.String(hex.data(), static_cast<rj::SizeType>(hex.size()));
}
void U64Field(Writer& w, const char* k, uint64_t v) {
  if (v == 0) return;
  Key(w, k);
  std::string s = std::to_string(v);
  w.String(s.data(), static_cast<rj::SizeType>(s.size()));
}
void U32Field(Writer& w, const char* k, uint32_t v) {
  if (v == 0) return;
  Key(w, k);
  w.Uint(v);
}
void IntField(Writer& w, const char* k, int v) {
  if (v == 0) return;
  Key(w, k);
  w.Int(v);
}

void WriteKeyValues(Writer& w, const char* k, const KeyValues& kvs);

void WriteAnyValue(Writer& w, const ocommon::AnyValue& v) {
  w.StartObject();
  switch (v.value_case()) {
    case ocommon::AnyValue::kStringValue:
      Key(w, "stringValue");
      Str(w, v.string_value());
      break;
    case ocommon::AnyValue::kBoolValue:
      Key(w, "boolValue");
      w.Bool(v.bool_value());
      break;
    case ocommon::AnyValue::kIntValue: {
      Key(w, "intValue");
      std::string s = std::to_string(v.int_value());
      w.String(s.data(), static_cast<rj::SizeType>(s.size()));
      break;
    }
    case ocommon::AnyValue::kDoubleValue: {
      Key(w, "doubleValue");
      double d = v.double_value();
      // The proto3 JSON mapping spells non-finite doubles as strings.
      if (std::isnan(d)) w.String("NaN");
      else if (std::isinf(d)) w.String(d > 0 ? "Infinity" : "-Infinity");
      else w.Double(d);
      break;
    }
    case ocommon::AnyValue::kArrayValue:
      Key(w, "arrayValue");
      w.StartObject();
      if (v.array_value().values_size() > 0) {
        Key(w, "values");
        w.StartArray();
        for (const auto& e : v.array_value().values()) WriteAnyValue(w, e);
        w.EndArray();
      }
      w.EndObject();
      break;
    case ocommon::AnyValue::kKvlistValue:
      Key(w, "kvlistValue");
      w.StartObject();
      WriteKeyValues(w, "values", v.kvlist_value().values());
      w.EndObject();
      break;
    case ocommon::AnyValue::kBytesValue: {
      Key(w, "bytesValue");
      std::string b64 = Base64Encode(v.bytes_value());
      w.String(b64.data(), static_cast<rj::SizeType>(b64.size()));
      break;
    }
    case ocommon::AnyValue::VALUE_NOT_SET:
      break;
  }
  w.EndObject();
}

void WriteKeyValues(Writer& w, const char* k, const KeyValues& kvs) {
  if (kvs.empty()) return;
  Key(w, k);
  w.StartArray();
  for (const auto& kv : kvs) {
    w.StartObject();
    StrField(w, "key", kv.key());
    if (kv.has_value()) {
      Key(w, "value");
      WriteAnyValue(w, kv.value());
    }
    w.EndObject();
  }
  w.EndArray();
}

void WriteResource(Writer& w, const oresource::Resource& r) {
  w.StartObject();
  WriteKeyValues(w, "attributes", r.attributes());
  U32Field(w, "droppedAttributesCount", r.dropped_attributes_count());
  if (r.entity_refs_size() > 0) {
    Key(w, "entityRefs");
    w.StartArray();
    for (const auto& ref : r.entity_refs()) {
      w.StartObject();
      StrField(w, "schemaUrl", ref.schema_url());
      StrField(w, "type", ref.type());
      for (auto [name, keys] : {std::pair{"idKeys", &ref.id_keys()}, std::pair{"descriptionKeys", &ref.description_keys()}}) {
        if (keys->empty()) continue;
        Key(w, name);
        w.StartArray();
        for (const auto& s : *keys) Str(w, s);
        w.EndArray();
      }
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
}

void WriteScope(Writer& w, const ocommon::InstrumentationScope& s) {
  w.StartObject();
  StrField(w, "name", s.name());
  StrField(w, "version", s.version());
  WriteKeyValues(w, "attributes", s.attributes());
  U32Field(w, "droppedAttributesCount", s.dropped_attributes_count());
  w.EndObject();
}

void WriteSpan(Writer& w, const otrace::Span& s) {
  w.StartObject();
  HexField(w, "traceId", s.trace_id());
  HexField(w, "spanId", s.span_id());
  StrField(w, "traceState", s.trace_state());
  HexField(w, "parentSpanId", s.parent_span_id());
  U32Field(w, "flags", s.flags());
  StrField(w, "name", s.name());
  IntField(w, "kind", s.kind());
  U64Field(w, "startTimeUnixNano", s.start_time_unix_nano());
  U64Field(w, "endTimeUnixNano", s.end_time_unix_nano());
  WriteKeyValues(w, "attributes", s.attributes());
  U32Field(w, "droppedAttributesCount", s.dropped_attributes_count());
  if (s.events_size() > 0) {
    Key(w, "events");
    w.StartArray();
    for (const auto& e : s.events()) {
      w.StartObject();
      U64Field(w, "timeUnixNano", e.time_unix_nano());
      StrField(w, "name", e.name());
      WriteKeyValues(w, "attributes", e.attributes());
      U32Field(w, "droppedAttributesCount", e.dropped_attributes_count());
      w.EndObject();
    }
    w.EndArray();
  }
  U32Field(w, "droppedEventsCount", s.dropped_events_count());
  if (s.links_size() > 0) {
    Key(w, "links");
    w.StartArray();
    for (const auto& l : s.links()) {
      w.StartObject();
      HexField(w, "traceId", l.trace_id());
      HexField(w, "spanId", l.span_id());
      StrField(w, "traceState", l.trace_state());
      WriteKeyValues(w, "attributes", l.attributes());
      U32Field(w, "droppedAttributesCount", l.dropped_attributes_count());
      U32Field(w, "flags", l.flags());
      w.EndObject();
    }
    w.EndArray();
  }
  U32Field(w, "droppedLinksCount", s.dropped_links_count());
  if (s.has_status()) {
    Key(w, "status");
    w.StartObject();
    StrField(w, "message", s.status().message());
    IntField(w, "code", s.status().code());
    w.EndObject();
  }
  w.EndObject();
}

std::string Take(rj::StringBuffer& buf) { return std::string(buf.GetString(), buf.GetSize()); }

}  // namespace

std::string EncodeOtlpJson(const ExportRequest& request) {
  rj::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  Key(w, "resourceSpans");
  w.StartArray();
  for (const auto& rs : request.resource_spans()) {
    w.StartObject();
    if (rs.has_resource()) {
      Key(w, "resource");
      WriteResource(w, rs.resource());
    }
    Key(w, "scopeSpans");
    w.StartArray();
    for (const auto& ss : rs.scope_spans()) {
      w.StartObject();
      if (ss.has_scope()) {
        Key(w, "scope");
        WriteScope(w, ss.scope());
      }
      Key(w, "spans");
      w.StartArray();
      for (const auto& span : ss.spans()) WriteSpan(w, span);
      w.EndArray();
      StrField(w, "schemaUrl", ss.schema_url());
      w.EndObject();
    }
    w.EndArray();
    StrField(w, "schemaUrl", rs.schema_url());
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return Take(buf);
}

std::string EncodeExportResponseJson(const ExportResponse& response) {
  const auto& ps = response.partial_success();
  if (!response.has_partial_success() || (ps.rejected_spans() == 0 && ps.error_message().empty())) return "{}";
  rj::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  Key(w, "partialSuccess");
  w.StartObject();
  Key(w, "rejectedSpans");
  std::string n = std::to_string(ps.rejected_spans());
  w.String(n.data(), static_cast<rj::SizeType>(n.size()));
  Key(w, "errorMessage");
  Str(w, ps.error_message());
  w.EndObject();
  w.EndObject();
  return Take(buf);
}

}  // namespace sightline::ingest
