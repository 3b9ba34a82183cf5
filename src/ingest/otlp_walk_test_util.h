// For the OTLP walk's tests and its fuzz target: whether a RequestView reads as
// libprotobuf's parse of the same bytes does, field for field and value for value.
#pragma once

#include <cstring>
#include <string>

#include "ingest/otlp_decode.h"
#include "ingest/otlp_walk.h"

namespace sightline::ingest::testing {

namespace detail {

using ::opentelemetry::proto::common::v1::AnyValue;
using ::opentelemetry::proto::common::v1::ArrayValue;
using ::opentelemetry::proto::common::v1::KeyValue;
using ::opentelemetry::proto::common::v1::KeyValueList;
using KeyValues = ::google::protobuf::RepeatedPtrField<KeyValue>;

// Whether bytes parse as a message of msg's type that serializes as msg does.
template <typename Message>
bool SameMessage(std::string_view bytes, const Message& msg) {
  Message reparsed;
  return reparsed.ParseFromString(std::string(bytes)) && reparsed.SerializeAsString() == msg.SerializeAsString();
}

inline std::string Where(const std::string& at, const std::string& what) { return at + ": " + what; }

inline std::string CompareAttr(const AttrView& v, const KeyValue& kv, const std::string& at) {
  if (v.key != kv.key()) return Where(at, "key");
  if (v.has_value != kv.has_value()) return Where(at, "has_value");
  KeyValue reparsed;
  if (!reparsed.ParseFromString(std::string(v.kv)) || reparsed.SerializeAsString() != kv.SerializeAsString())
    return Where(at, "the KeyValue's bytes");
  const AnyValue& a = kv.value();
  if (v.type != static_cast<uint8_t>(a.value_case())) return Where(at, "value type");
  switch (a.value_case()) {
    case AnyValue::kStringValue:
      if (v.value != a.string_value()) return Where(at, "string value");
      break;
    case AnyValue::kBytesValue:
      if (v.value != a.bytes_value()) return Where(at, "bytes value");
      break;
    case AnyValue::kBoolValue:
      if (v.bits != static_cast<uint64_t>(a.bool_value())) return Where(at, "bool value");
      break;
    case AnyValue::kIntValue:
      if (v.bits != static_cast<uint64_t>(a.int_value())) return Where(at, "int value");
      break;
    case AnyValue::kDoubleValue: {
      const double d = a.double_value();
      uint64_t bits = 0;
      std::memcpy(&bits, &d, sizeof bits);
      if (v.bits != bits) return Where(at, "double value");
      break;
    }
    case AnyValue::kArrayValue: {
      ArrayValue list;
      if (!list.ParseFromString(std::string(v.value)) || list.SerializeAsString() != a.array_value().SerializeAsString())
        return Where(at, "array value");
      break;
    }
    case AnyValue::kKvlistValue: {
      KeyValueList list;
      if (!list.ParseFromString(std::string(v.value)) || list.SerializeAsString() != a.kvlist_value().SerializeAsString())
        return Where(at, "kvlist value");
      break;
    }
    case AnyValue::VALUE_NOT_SET:
      break;
  }
  return {};
}

inline std::string CompareAttrs(const RequestView& view, AttrRun run, const KeyValues& kvs, const std::string& at) {
  if (run.size() != static_cast<uint32_t>(kvs.size())) return Where(at, "attribute count");
  for (int i = 0; i < kvs.size(); ++i) {
    std::string e = CompareAttr(view.attrs[run.begin + i], kvs[i], at + ".attributes[" + std::to_string(i) + "]");
    if (!e.empty()) return e;
  }
  return {};
}

}  // namespace detail

// Empty when view reads as parsed does; else where they first differ.
inline std::string CompareWalkWithParse(const RequestView& view, const ExportRequest& parsed) {
  using detail::CompareAttrs;
  using detail::Where;
  size_t scope_i = 0, span_i = 0, event_i = 0, link_i = 0;
  if (view.resources.size() != static_cast<size_t>(parsed.resource_spans_size())) return "resource count";
  for (int ri = 0; ri < parsed.resource_spans_size(); ++ri) {
    const auto& rs = parsed.resource_spans(ri);
    const ResourceView& r = view.resources[ri];
    const std::string rat = "resource_spans[" + std::to_string(ri) + "]";
    if (r.schema_url != rs.schema_url() || r.has_resource != rs.has_resource() ||
        r.dropped_attributes_count != rs.resource().dropped_attributes_count())
      return Where(rat, "resource fields");
    if (auto e = CompareAttrs(view, r.attrs, rs.resource().attributes(), rat + ".resource"); !e.empty()) return e;
    for (int si = 0; si < rs.scope_spans_size(); ++si, ++scope_i) {
      const auto& ss = rs.scope_spans(si);
      const std::string sat = rat + ".scope_spans[" + std::to_string(si) + "]";
      if (scope_i >= view.scopes.size()) return Where(sat, "missing");
      const ScopeView& s = view.scopes[scope_i];
      if (s.resource != static_cast<uint32_t>(ri) || s.schema_url != ss.schema_url() || s.has_scope != ss.has_scope() ||
          s.name != ss.scope().name() || s.version != ss.scope().version() ||
          s.dropped_attributes_count != ss.scope().dropped_attributes_count())
        return Where(sat, "scope fields");
      if (auto e = CompareAttrs(view, s.attrs, ss.scope().attributes(), sat + ".scope"); !e.empty()) return e;
      for (int pi = 0; pi < ss.spans_size(); ++pi, ++span_i) {
        const auto& p = ss.spans(pi);
        const std::string pat = sat + ".spans[" + std::to_string(pi) + "]";
        if (span_i >= view.spans.size()) return Where(pat, "missing");
        const SpanView& v = view.spans[span_i];
        if (v.scope != scope_i || v.trace_id != p.trace_id() || v.span_id != p.span_id() ||
            v.trace_state != p.trace_state() || v.parent_span_id != p.parent_span_id() || v.name != p.name() ||
            v.kind != static_cast<int32_t>(p.kind()) || v.flags != p.flags() ||
            v.start_time_unix_nano != p.start_time_unix_nano() || v.end_time_unix_nano != p.end_time_unix_nano() ||
            v.dropped_attributes_count != p.dropped_attributes_count() ||
            v.dropped_events_count != p.dropped_events_count() || v.dropped_links_count != p.dropped_links_count() ||
            v.has_status != p.has_status() || v.status_message != p.status().message() ||
            v.status_code != static_cast<int32_t>(p.status().code()))
          return Where(pat, "span fields");
        if (auto e = CompareAttrs(view, v.attrs, p.attributes(), pat); !e.empty()) return e;
        if (v.events_end - v.events_begin != static_cast<uint32_t>(p.events_size()) || v.events_begin != event_i)
          return Where(pat, "event count");
        for (int ei = 0; ei < p.events_size(); ++ei, ++event_i) {
          const auto& pe = p.events(ei);
          const EventView& e = view.events[event_i];
          const std::string eat = pat + ".events[" + std::to_string(ei) + "]";
          if (e.time_unix_nano != pe.time_unix_nano() || e.name != pe.name() ||
              e.dropped_attributes_count != pe.dropped_attributes_count())
            return Where(eat, "event fields");
          if (!detail::SameMessage(e.bytes, pe)) return Where(eat, "the Event's bytes");
          if (auto d = CompareAttrs(view, e.attrs, pe.attributes(), eat); !d.empty()) return d;
        }
        if (v.links_end - v.links_begin != static_cast<uint32_t>(p.links_size()) || v.links_begin != link_i)
          return Where(pat, "link count");
        for (int li = 0; li < p.links_size(); ++li, ++link_i) {
          const auto& pl = p.links(li);
          const LinkView& l = view.links[link_i];
          const std::string lat = pat + ".links[" + std::to_string(li) + "]";
          if (l.trace_id != pl.trace_id() || l.span_id != pl.span_id() || l.trace_state != pl.trace_state() ||
              l.dropped_attributes_count != pl.dropped_attributes_count() || l.flags != pl.flags())
            return Where(lat, "link fields");
          if (!detail::SameMessage(l.bytes, pl)) return Where(lat, "the Link's bytes");
          if (auto d = CompareAttrs(view, l.attrs, pl.attributes(), lat); !d.empty()) return d;
        }
      }
    }
  }
  if (scope_i != view.scopes.size() || span_i != view.spans.size() || event_i != view.events.size() ||
      link_i != view.links.size())
    return "rows the parse does not have";
  return {};
}

}  // namespace sightline::ingest::testing
