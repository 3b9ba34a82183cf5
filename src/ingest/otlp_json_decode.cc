// DecodeOtlpJson (declared in otlp_decode.h): the OTLP "JSON Protobuf Encoding".
//
// ParseJsonBounded builds a DOM without recursion and with nesting bounded by
// DecodeLimits::max_json_depth; JsonDecoder then walks the DOM into the protobuf
// request. Errors outside a span (the request's shape, a resource, a scope) reject the
// request with the JSON path; an error inside a span drops only that span and is
// counted in the report, so a batch's valid spans are kept (SPEC "Errors").
#include <rapidjson/document.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "common/hex.h"
#include "common/utf8.h"
#include "ingest/base64.h"
#include "ingest/json_parse.h"
#include "ingest/otlp_decode.h"

namespace sightline::ingest {
namespace {

namespace rj = rapidjson;
namespace otrace = ::opentelemetry::proto::trace::v1;
namespace ocommon = ::opentelemetry::proto::common::v1;
namespace oresource = ::opentelemetry::proto::resource::v1;
using Value = rj::Value;

// The decoder recurses once per AnyValue level; whatever the configured limit, nesting
// past this is refused so the walk stays well inside the thread's stack.
constexpr int kHardMaxDepth = 1000;
constexpr int kMaxReportedErrors = 5;

bool KeyIs(std::string_view key, std::string_view camel, std::string_view snake = {}) {
  return key == camel || (!snake.empty() && key == snake);
}

// Walks a parsed OTLP JSON document into an ExportTraceServiceRequest.
// Invariant: path_ mirrors the position of the value being decoded, for error messages.
// Thread-safety: one instance per call.
class JsonDecoder {
 public:
  JsonDecoder(int max_depth, JsonDecodeReport* report) : max_depth_(max_depth), report_(report) {}

  Status DecodeRequest(const Value& root, ExportRequest* out) {
    if (!root.IsObject()) return Error("expected an object at the top level");
    for (const auto& m : root.GetObject()) {
      if (!KeyIs(Key(m), "resourceSpans", "resource_spans") || m.value.IsNull()) continue;
      SL_RETURN_IF_ERROR(ForEach(m.value, "resourceSpans", [&](const Value& v) {
        return DecodeResourceSpans(v, out->add_resource_spans());
      }));
    }
    return Status::OK();
  }

 private:
  struct PathElem {
    std::string_view name;
    int64_t index;  // -1: not an array element
  };
  struct Scope {  // pushes a path element for the lifetime of a block
    Scope(JsonDecoder* d, std::string_view name, int64_t index = -1) : d(d) { d->path_.push_back({name, index}); }
    ~Scope() { d->path_.pop_back(); }
    JsonDecoder* d;
  };

  static std::string_view Key(const Value::Member& m) { return {m.name.GetString(), m.name.GetStringLength()}; }

  std::string Path() const {
    std::string p;
    for (const auto& e : path_) {
      if (e.name.empty()) continue;
      if (e.index >= 0) {
        p += '[';
        p += std::to_string(e.index);
        p += ']';
      } else {
        if (!p.empty()) p += '.';
        p += e.name;
      }
    }
    return p;
  }
  Status Error(std::string_view what) const {
    std::string path = Path();
    return Status::InvalidArgument("JSON: " + (path.empty() ? std::string() : path + ": ") + std::string(what));
  }

  // Calls fn on each element of the array v (named name), with the path kept.
  template <typename Fn>
  Status ForEach(const Value& v, std::string_view name, Fn&& fn) {
    Scope s(this, name);
    if (!v.IsArray()) return Error("expected an array");
    int64_t i = 0;
    for (const auto& e : v.GetArray()) {
      Scope si(this, name, i++);
      SL_RETURN_IF_ERROR(fn(e));
    }
    return Status::OK();
  }

  Status ExpectObject(const Value& v) { return v.IsObject() ? Status::OK() : Error("expected an object"); }

  Status GetString(const Value& v, std::string_view name, std::string* out) {
    Scope s(this, name);
    if (!v.IsString()) return Error("expected a string");
    out->assign(v.GetString(), v.GetStringLength());
    RepairUtf8InPlace(out);
    return Status::OK();
  }

  Status GetBool(const Value& v, std::string_view name, bool* out) {
    Scope s(this, name);
    if (!v.IsBool()) return Error("expected true or false");
    *out = v.GetBool();
    return Status::OK();
  }

  // int64/uint64 fields: a decimal string (the mapping's form), a number, or the
  // {"low":L,"high":H} form older JavaScript exporters sent for 64-bit values.
  Status GetInteger(const Value& v, std::string_view name, bool is_signed, uint64_t* out) {
    Scope s(this, name);
    if (v.IsString()) {
      std::string_view t(v.GetString(), v.GetStringLength());
      const char* end = t.data() + t.size();
      std::from_chars_result r;
      if (is_signed) {
        int64_t x = 0;
        r = std::from_chars(t.data(), end, x);
        *out = static_cast<uint64_t>(x);
      } else {
        r = std::from_chars(t.data(), end, *out);
      }
      if (t.empty() || r.ec != std::errc() || r.ptr != end) return Error("expected an integer, got \"" + std::string(t.substr(0, 40)) + "\"");
      return Status::OK();
    }
    if (v.IsUint64()) {
      if (is_signed && v.GetUint64() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return Error("integer out of range");
      *out = v.GetUint64();
      return Status::OK();
    }
    if (v.IsInt64()) {
      if (!is_signed) return Error("expected an unsigned integer");
      *out = static_cast<uint64_t>(v.GetInt64());
      return Status::OK();
    }
    if (v.IsDouble()) {
      double d = v.GetDouble();
      // 2^63 and 2^64 are exact doubles; the ranges below exclude them.
      bool in_range = is_signed ? (d >= -9223372036854775808.0 && d < 9223372036854775808.0) : (d >= 0 && d < 18446744073709551616.0);
      if (std::trunc(d) != d || !in_range) return Error("expected an integer");
      *out = is_signed ? static_cast<uint64_t>(static_cast<int64_t>(d)) : static_cast<uint64_t>(d);
      return Status::OK();
    }
    if (v.IsObject() && v.HasMember("low") && v.HasMember("high") && v["low"].IsInt64() && v["high"].IsInt64()) {
      *out = static_cast<uint64_t>(static_cast<uint32_t>(v["high"].GetInt64())) << 32 | static_cast<uint32_t>(v["low"].GetInt64());
      return Status::OK();
    }
    return Error("expected an integer (number or decimal string)");
  }

  Status GetUint32(const Value& v, std::string_view name, uint32_t* out) {
    uint64_t x = 0;
    SL_RETURN_IF_ERROR(GetInteger(v, name, false, &x));
    if (x > UINT32_MAX) {
      Scope s(this, name);
      return Error("integer out of range for uint32");
    }
    *out = static_cast<uint32_t>(x);
    return Status::OK();
  }

  // Enums: a number (unknown values kept, proto3 enums are open) or the value's name.
  template <typename ParseName>
  Status GetEnum(const Value& v, std::string_view name, ParseName parse, int* out) {
    Scope s(this, name);
    if (v.IsInt()) {
      *out = v.GetInt();
      return Status::OK();
    }
    if (v.IsString()) {
      if (parse(std::string(v.GetString(), v.GetStringLength()), out)) return Status::OK();
      return Error("unknown enum value \"" + RepairUtf8(std::string_view(v.GetString(), std::min<size_t>(v.GetStringLength(), 40))) + "\"");
    }
    return Error("expected an enum number or name");
  }

  Status GetDouble(const Value& v, std::string_view name, double* out) {
    Scope s(this, name);
    if (v.IsNumber()) {
      *out = v.GetDouble();
      return Status::OK();
    }
    if (v.IsString()) {
      std::string_view t(v.GetString(), v.GetStringLength());
      if (t == "NaN") *out = std::numeric_limits<double>::quiet_NaN();
      else if (t == "Infinity") *out = std::numeric_limits<double>::infinity();
      else if (t == "-Infinity") *out = -std::numeric_limits<double>::infinity();
      else {
        auto r = std::from_chars(t.data(), t.data() + t.size(), *out);
        if (t.empty() || r.ec != std::errc() || r.ptr != t.data() + t.size()) return Error("expected a number");
      }
      return Status::OK();
    }
    return Error("expected a number");
  }

  Status GetHexId(const Value& v, std::string_view name, std::string* out) {
    Scope s(this, name);
    if (!v.IsString()) return Error("expected a hex string");
    auto bytes = HexDecode(std::string_view(v.GetString(), v.GetStringLength()));
    if (!bytes) return Error("not hex");
    *out = std::move(*bytes);
    return Status::OK();
  }

  Status GetBase64(const Value& v, std::string_view name, std::string* out) {
    Scope s(this, name);
    if (!v.IsString()) return Error("expected a base64 string");
    auto bytes = Base64Decode(std::string_view(v.GetString(), v.GetStringLength()));
    if (!bytes) return Error("not base64");
    *out = std::move(*bytes);
    return Status::OK();
  }

  void Reject(const Status& st) {
    ++report_->rejected_spans;
    if (report_->rejected_spans > kMaxReportedErrors) return;
    if (!report_->first_errors.empty()) report_->first_errors += "; ";
    std::string_view m = st.message();
    if (m.starts_with("JSON: ")) m.remove_prefix(6);
    report_->first_errors += m;
  }

  Status DecodeResourceSpans(const Value& v, otrace::ResourceSpans* out);
  Status DecodeResource(const Value& v, oresource::Resource* out);
  Status DecodeScopeSpans(const Value& v, otrace::ScopeSpans* out);
  Status DecodeScope(const Value& v, ocommon::InstrumentationScope* out);
  Status DecodeSpan(const Value& v, otrace::Span* out);
  Status DecodeEvent(const Value& v, otrace::Span::Event* out);
  Status DecodeLink(const Value& v, otrace::Span::Link* out);
  Status DecodeStatus(const Value& v, otrace::Status* out);
  Status DecodeAttributes(const Value& v, std::string_view name,
                          google::protobuf::RepeatedPtrField<ocommon::KeyValue>* out, int depth);
  Status DecodeKeyValue(const Value& v, ocommon::KeyValue* out, int depth);
  Status DecodeAnyValue(const Value& v, ocommon::AnyValue* out, int depth);

  int max_depth_;
  JsonDecodeReport* report_;
  std::vector<PathElem> path_;
};


Status JsonDecoder::DecodeResourceSpans(const Value& v, otrace::ResourceSpans* out) {
  SL_RETURN_IF_ERROR(ExpectObject(v));
  for (const auto& m : v.GetObject()) {
    std::string_view k = Key(m);
    if (m.value.IsNull()) continue;
    if (KeyIs(k, "resource")) {
      Scope s(this, "resource");
      SL_RETURN_IF_ERROR(DecodeResource(m.value, out->mutable_resource()));
    } else if (KeyIs(k, "scopeSpans", "scope_spans")) {
      SL_RETURN_IF_ERROR(ForEach(m.value, "scopeSpans", [&](const Value& e) {
        return DecodeScopeSpans(e, out->add_scope_spans());
      }));
    } else if (KeyIs(k, "schemaUrl", "schema_url")) {
      SL_RETURN_IF_ERROR(GetString(m.value, "schemaUrl", out->mutable_schema_url()));
    }
  }
  return Status::OK();
}

Status JsonDecoder::DecodeResource(const Value& v, oresource::Resource* out) {
  SL_RETURN_IF_ERROR(ExpectObject(v));
  for (const auto& m : v.GetObject()) {
    std::string_view k = Key(m);
    if (m.value.IsNull()) continue;
    if (KeyIs(k, "attributes")) {
      SL_RETURN_IF_ERROR(DecodeAttributes(m.value, "attributes", out->mutable_attributes(), 0));
    } else if (KeyIs(k, "droppedAttributesCount", "dropped_attributes_count")) {
      uint32_t n = 0;
      SL_RETURN_IF_ERROR(GetUint32(m.value, "droppedAttributesCount", &n));
      out->set_dropped_attributes_count(n);
    } else if (KeyIs(k, "entityRefs", "entity_refs")) {
      SL_RETURN_IF_ERROR(ForEach(m.value, "entityRefs", [&](const Value& e) -> Status {
        SL_RETURN_IF_ERROR(ExpectObject(e));
        auto* ref = out->add_entity_refs();
        for (const auto& f : e.GetObject()) {
          std::string_view fk = Key(f);
          if (f.value.IsNull()) continue;
          if (KeyIs(fk, "schemaUrl", "schema_url")) {
            SL_RETURN_IF_ERROR(GetString(f.value, "schemaUrl", ref->mutable_schema_url()));
          } else if (KeyIs(fk, "type")) {
            SL_RETURN_IF_ERROR(GetString(f.value, "type", ref->mutable_type()));
          } else if (KeyIs(fk, "idKeys", "id_keys") || KeyIs(fk, "descriptionKeys", "description_keys")) {
            bool id = KeyIs(fk, "idKeys", "id_keys");
            std::string_view name = id ? "idKeys" : "descriptionKeys";
            SL_RETURN_IF_ERROR(ForEach(f.value, name, [&](const Value& s) {
              return GetString(s, {}, id ? ref->add_id_keys() : ref->add_description_keys());
            }));
          }
        }
        return Status::OK();
      }));
    }
  }
  return Status::OK();
}

Status JsonDecoder::DecodeScopeSpans(const Value& v, otrace::ScopeSpans* out) {
  SL_RETURN_IF_ERROR(ExpectObject(v));
  for (const auto& m : v.GetObject()) {
    std::string_view k = Key(m);
    if (m.value.IsNull()) continue;
    if (KeyIs(k, "scope")) {
      Scope s(this, "scope");
      SL_RETURN_IF_ERROR(DecodeScope(m.value, out->mutable_scope()));
    } else if (KeyIs(k, "spans")) {
      // A span that fails to decode is dropped and reported; its siblings stay.
      SL_RETURN_IF_ERROR(ForEach(m.value, "spans", [&](const Value& e) {
        Status st = DecodeSpan(e, out->add_spans());
        if (!st.ok()) {
          out->mutable_spans()->RemoveLast();
          Reject(st);
        }
        return Status::OK();
      }));
    } else if (KeyIs(k, "schemaUrl", "schema_url")) {
      SL_RETURN_IF_ERROR(GetString(m.value, "schemaUrl", out->mutable_schema_url()));
    }
  }
  return Status::OK();
}

Status JsonDecoder::DecodeScope(const Value& v, ocommon::InstrumentationScope* out) {
  SL_RETURN_IF_ERROR(ExpectObject(v));
  for (const auto& m : v.GetObject()) {
    std::string_view k = Key(m);
    if (m.value.IsNull()) continue;
    if (KeyIs(k, "name")) {
      SL_RETURN_IF_ERROR(GetString(m.value, "name", out->mutable_name()));
    } else if (KeyIs(k, "version")) {
      SL_RETURN_IF_ERROR(GetString(m.value, "version", out->mutable_version()));
    } else if (KeyIs(k, "attributes")) {
      SL_RETURN_IF_ERROR(DecodeAttributes(m.value, "attributes", out->mutable_attributes(), 0));
    } else if (KeyIs(k, "droppedAttributesCount", "dropped_attributes_count")) {
      uint32_t n = 0;
      SL_RETURN_IF_ERROR(GetUint32(m.value, "droppedAttributesCount", &n));
      out->set_dropped_attributes_count(n);
    }
  }
  return Status::OK();
}

Status JsonDecoder::DecodeSpan(const Value& v, otrace::Span* out) {
  SL_RETURN_IF_ERROR(ExpectObject(v));
  for (const auto& m : v.GetObject()) {
    std::string_view k = Key(m);
    const Value& x = m.value;
    if (x.IsNull()) continue;
    uint64_t u = 0;
    uint32_t u32 = 0;
    int e = 0;
    if (KeyIs(k, "traceId", "trace_id")) {
      SL_RETURN_IF_ERROR(GetHexId(x, "traceId", out->mutable_trace_id()));
    } else if (KeyIs(k, "spanId", "span_id")) {
      SL_RETURN_IF_ERROR(GetHexId(x, "spanId", out->mutable_span_id()));
    } else if (KeyIs(k, "parentSpanId", "parent_span_id")) {
      SL_RETURN_IF_ERROR(GetHexId(x, "parentSpanId", out->mutable_parent_span_id()));
    } else if (KeyIs(k, "name")) {
      SL_RETURN_IF_ERROR(GetString(x, "name", out->mutable_name()));
    } else if (KeyIs(k, "kind")) {
      SL_RETURN_IF_ERROR(GetEnum(x, "kind", [](const std::string& n, int* o) {
        otrace::Span::SpanKind kind;
        if (!otrace::Span::SpanKind_Parse(n, &kind)) return false;
        *o = kind;
        return true;
      }, &e));
      out->set_kind(static_cast<otrace::Span::SpanKind>(e));
    } else if (KeyIs(k, "startTimeUnixNano", "start_time_unix_nano")) {
      SL_RETURN_IF_ERROR(GetInteger(x, "startTimeUnixNano", false, &u));
      out->set_start_time_unix_nano(u);
    } else if (KeyIs(k, "endTimeUnixNano", "end_time_unix_nano")) {
      SL_RETURN_IF_ERROR(GetInteger(x, "endTimeUnixNano", false, &u));
      out->set_end_time_unix_nano(u);
    } else if (KeyIs(k, "attributes")) {
      SL_RETURN_IF_ERROR(DecodeAttributes(x, "attributes", out->mutable_attributes(), 0));
    } else if (KeyIs(k, "events")) {
      SL_RETURN_IF_ERROR(ForEach(x, "events", [&](const Value& ev) { return DecodeEvent(ev, out->add_events()); }));
    } else if (KeyIs(k, "links")) {
      SL_RETURN_IF_ERROR(ForEach(x, "links", [&](const Value& l) { return DecodeLink(l, out->add_links()); }));
    } else if (KeyIs(k, "status")) {
      Scope s(this, "status");
      SL_RETURN_IF_ERROR(DecodeStatus(x, out->mutable_status()));
    } else if (KeyIs(k, "traceState", "trace_state")) {
      SL_RETURN_IF_ERROR(GetString(x, "traceState", out->mutable_trace_state()));
    } else if (KeyIs(k, "flags")) {
      SL_RETURN_IF_ERROR(GetUint32(x, "flags", &u32));
      out->set_flags(u32);
    } else if (KeyIs(k, "droppedAttributesCount", "dropped_attributes_count")) {
      SL_RETURN_IF_ERROR(GetUint32(x, "droppedAttributesCount", &u32));
      out->set_dropped_attributes_count(u32);
    } else if (KeyIs(k, "droppedEventsCount", "dropped_events_count")) {
      SL_RETURN_IF_ERROR(GetUint32(x, "droppedEventsCount", &u32));
      out->set_dropped_events_count(u32);
    } else if (KeyIs(k, "droppedLinksCount", "dropped_links_count")) {
      SL_RETURN_IF_ERROR(GetUint32(x, "droppedLinksCount", &u32));
      out->set_dropped_links_count(u32);
    }
  }
  return Status::OK();
}

Status JsonDecoder::DecodeEvent(const Value& v, otrace::Span::Event* out) {
  SL_RETURN_IF_ERROR(ExpectObject(v));
  for (const auto& m : v.GetObject()) {
    std::string_view k = Key(m);
    if (m.value.IsNull()) continue;
    if (KeyIs(k, "timeUnixNano", "time_unix_nano")) {
      uint64_t u = 0;
      SL_RETURN_IF_ERROR(GetInteger(m.value, "timeUnixNano", false, &u));
      out->set_time_unix_nano(u);
    } else if (KeyIs(k, "name")) {
      SL_RETURN_IF_ERROR(GetString(m.value, "name", out->mutable_name()));
    } else if (KeyIs(k, "attributes")) {
      SL_RETURN_IF_ERROR(DecodeAttributes(m.value, "attributes", out->mutable_attributes(), 0));
    } else if (KeyIs(k, "droppedAttributesCount", "dropped_attributes_count")) {
      uint32_t n = 0;
      SL_RETURN_IF_ERROR(GetUint32(m.value, "droppedAttributesCount", &n));
      out->set_dropped_attributes_count(n);
    }
  }
  return Status::OK();
}

Status JsonDecoder::DecodeLink(const Value& v, otrace::Span::Link* out) {
  SL_RETURN_IF_ERROR(ExpectObject(v));
  for (const auto& m : v.GetObject()) {
    std::string_view k = Key(m);
    if (m.value.IsNull()) continue;
    uint32_t u32 = 0;
    if (KeyIs(k, "traceId", "trace_id")) {
      SL_RETURN_IF_ERROR(GetHexId(m.value, "traceId", out->mutable_trace_id()));
    } else if (KeyIs(k, "spanId", "span_id")) {
      SL_RETURN_IF_ERROR(GetHexId(m.value, "spanId", out->mutable_span_id()));
    } else if (KeyIs(k, "traceState", "trace_state")) {
      SL_RETURN_IF_ERROR(GetString(m.value, "traceState", out->mutable_trace_state()));
    } else if (KeyIs(k, "attributes")) {
      SL_RETURN_IF_ERROR(DecodeAttributes(m.value, "attributes", out->mutable_attributes(), 0));
    } else if (KeyIs(k, "droppedAttributesCount", "dropped_attributes_count")) {
      SL_RETURN_IF_ERROR(GetUint32(m.value, "droppedAttributesCount", &u32));
      out->set_dropped_attributes_count(u32);
    } else if (KeyIs(k, "flags")) {
      SL_RETURN_IF_ERROR(GetUint32(m.value, "flags", &u32));
      out->set_flags(u32);
    }
  }
  return Status::OK();
}

Status JsonDecoder::DecodeStatus(const Value& v, otrace::Status* out) {
  SL_RETURN_IF_ERROR(ExpectObject(v));
  for (const auto& m : v.GetObject()) {
    std::string_view k = Key(m);
    if (m.value.IsNull()) continue;
    if (KeyIs(k, "message")) {
      SL_RETURN_IF_ERROR(GetString(m.value, "message", out->mutable_message()));
    } else if (KeyIs(k, "code")) {
      int e = 0;
      SL_RETURN_IF_ERROR(GetEnum(m.value, "code", [](const std::string& n, int* o) {
        otrace::Status::StatusCode code;
        if (!otrace::Status::StatusCode_Parse(n, &code)) return false;
        *o = code;
        return true;
      }, &e));
      out->set_code(static_cast<otrace::Status::StatusCode>(e));
    }
  }
  return Status::OK();
}

Status JsonDecoder::DecodeAttributes(const Value& v, std::string_view name,
                                     google::protobuf::RepeatedPtrField<ocommon::KeyValue>* out, int depth) {
  return ForEach(v, name, [&](const Value& e) { return DecodeKeyValue(e, out->Add(), depth); });
}

Status JsonDecoder::DecodeKeyValue(const Value& v, ocommon::KeyValue* out, int depth) {
  SL_RETURN_IF_ERROR(ExpectObject(v));
  for (const auto& m : v.GetObject()) {
    std::string_view k = Key(m);
    if (m.value.IsNull()) continue;
    if (KeyIs(k, "key")) {
      SL_RETURN_IF_ERROR(GetString(m.value, "key", out->mutable_key()));
    } else if (KeyIs(k, "value")) {
      Scope s(this, "value");
      SL_RETURN_IF_ERROR(DecodeAnyValue(m.value, out->mutable_value(), depth + 1));
    }
  }
  return Status::OK();
}

Status JsonDecoder::DecodeAnyValue(const Value& v, ocommon::AnyValue* out, int depth) {
  // The parser bounds JSON nesting already; this guards the recursion on its own terms.
  if (depth > max_depth_) return Error("AnyValue nested deeper than " + std::to_string(max_depth_));
  SL_RETURN_IF_ERROR(ExpectObject(v));
  for (const auto& m : v.GetObject()) {
    std::string_view k = Key(m);
    const Value& x = m.value;
    if (x.IsNull()) continue;
    if (KeyIs(k, "stringValue", "string_value")) {
      SL_RETURN_IF_ERROR(GetString(x, "stringValue", out->mutable_string_value()));
    } else if (KeyIs(k, "boolValue", "bool_value")) {
      bool b = false;
      SL_RETURN_IF_ERROR(GetBool(x, "boolValue", &b));
      out->set_bool_value(b);
    } else if (KeyIs(k, "intValue", "int_value")) {
      uint64_t u = 0;
      SL_RETURN_IF_ERROR(GetInteger(x, "intValue", true, &u));
      out->set_int_value(static_cast<int64_t>(u));
    } else if (KeyIs(k, "doubleValue", "double_value")) {
      double d = 0;
      SL_RETURN_IF_ERROR(GetDouble(x, "doubleValue", &d));
      out->set_double_value(d);
    } else if (KeyIs(k, "bytesValue", "bytes_value")) {
      SL_RETURN_IF_ERROR(GetBase64(x, "bytesValue", out->mutable_bytes_value()));
    } else if (KeyIs(k, "arrayValue", "array_value") || KeyIs(k, "kvlistValue", "kvlist_value")) {
      const bool array = KeyIs(k, "arrayValue", "array_value");
      Scope s(this, array ? "arrayValue" : "kvlistValue");
      SL_RETURN_IF_ERROR(ExpectObject(x));
      auto* list = array ? nullptr : out->mutable_kvlist_value();
      auto* arr = array ? out->mutable_array_value() : nullptr;
      for (const auto& f : x.GetObject()) {
        if (Key(f) != "values" || f.value.IsNull()) continue;
        if (array) {
          SL_RETURN_IF_ERROR(ForEach(f.value, "values", [&](const Value& e) {
            return DecodeAnyValue(e, arr->add_values(), depth + 1);
          }));
        } else {
          SL_RETURN_IF_ERROR(DecodeAttributes(f.value, "values", list->mutable_values(), depth + 1));
        }
      }
    }
  }
  return Status::OK();
}

}  // namespace

Status DecodeOtlpJson(std::string_view body, ExportRequest* out, const DecodeLimits& limits,
                      JsonDecodeReport* report) {
  out->Clear();
  JsonDecodeReport scratch;
  if (report == nullptr) report = &scratch;
  *report = {};
  if (body.size() > limits.max_body_bytes) {
    return Status::TooLarge("JSON body exceeds " + std::to_string(limits.max_body_bytes) + " bytes");
  }
  const int max_depth = std::clamp(limits.max_json_depth, 1, kHardMaxDepth);

  rj::Document doc;
  SL_RETURN_IF_ERROR(ParseJsonBounded(body, max_depth, &doc));
  JsonDecoder decoder(max_depth, report);
  Status st = decoder.DecodeRequest(doc, out);
  if (!st.ok()) out->Clear();
  return st;
}

}  // namespace sightline::ingest
