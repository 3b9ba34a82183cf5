// The OTLP walk: an ExportTraceServiceRequest's protobuf bytes read once into views
// (docs/architecture.md, "The one-pass ingest path", step 1), with no message objects
// and, once a RequestView is warm, no allocation. Each span, event, link, resource and
// scope becomes a row of plain fields whose strings are views of the body; every
// attribute down to its value becomes an AttrView. The views stay valid as long as the
// body's bytes do.
//
// The walk takes only what it can represent exactly. A request it takes reads, field
// for field and value for value, as libprotobuf's parse of the same bytes does (the
// unit tests and the otlp_walk_fuzz target compare the two on every input); anything
// else makes WalkExportRequest return false, and the caller then takes today's path
// (DecodeOtlpProtobuf), which defines the behaviour: its error messages, its UTF-8
// repair, its handling of unknown fields. The walk refuses:
//   - bytes that are not well-formed fields (the framing rules of common/wire.h);
//   - a field of a known number with another wire type than its declared one;
//   - a field number the OTLP trace protos do not declare (unknown fields), and the
//     declared fields it does not represent (a Resource's entity_refs);
//   - a singular field given twice (protobuf would keep the last, or merge messages),
//     and an AnyValue holding more than one of its oneof's fields;
//   - a string field (not a bytes field) that is not valid UTF-8;
//   - AnyValue arrays and key-value lists nested deeper than kMaxWalkDepth.
// Enums and uint32 counts are kept as protobuf's parser keeps them (the varint's low 32
// bits).
//
// Thread-safety: none; one RequestView per thread.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace sightline::ingest {

// A run of RequestView::attrs: [begin, end).
struct AttrRun {
  uint32_t begin = 0, end = 0;
  uint32_t size() const { return end - begin; }
};

// One KeyValue. type is the number of the AnyValue field set, as AnyValue::ValueCase
// numbers them (kString = 1 ... kBytes = 7), 0 when none is (or there is no AnyValue:
// has_value then tells the two apart, as KeyValue::has_value does).
struct AttrView {
  enum Type : uint8_t { kNone = 0, kString = 1, kBool = 2, kInt = 3, kDouble = 4, kArray = 5, kKvlist = 6, kBytes = 7 };
  std::string_view kv;   // the whole KeyValue's bytes
  std::string_view key;
  // kString and kBytes: the value; kArray and kKvlist: the serialized ArrayValue or
  // KeyValueList (already walked: well-formed, UTF-8, within the depth limit).
  std::string_view value;
  uint64_t bits = 0;  // kBool: 0 or 1; kInt: two's complement; kDouble: IEEE bits
  uint8_t type = kNone;
  bool has_value = false;
};

struct ResourceView {
  std::string_view schema_url;  // ResourceSpans.schema_url
  AttrRun attrs;
  uint32_t dropped_attributes_count = 0;
  bool has_resource = false;  // ResourceSpans.resource was present (possibly empty)
};

struct ScopeView {
  uint32_t resource = 0;  // index in RequestView::resources
  std::string_view schema_url;  // ScopeSpans.schema_url
  std::string_view name, version;
  AttrRun attrs;
  uint32_t dropped_attributes_count = 0;
  bool has_scope = false;  // ScopeSpans.scope was present (possibly empty)
};

struct EventView {
  std::string_view bytes;  // the whole Event message
  uint64_t time_unix_nano = 0;
  std::string_view name;
  AttrRun attrs;
  uint32_t dropped_attributes_count = 0;
};

struct LinkView {
  std::string_view bytes;  // the whole Link message
  std::string_view trace_id, span_id, trace_state;
  AttrRun attrs;
  uint32_t dropped_attributes_count = 0;
  uint32_t flags = 0;
};

struct SpanView {
  uint32_t scope = 0;  // index in RequestView::scopes
  std::string_view trace_id, span_id, trace_state, parent_span_id, name;
  int32_t kind = 0;
  uint32_t flags = 0;
  uint64_t start_time_unix_nano = 0, end_time_unix_nano = 0;
  AttrRun attrs;
  uint32_t dropped_attributes_count = 0;
  uint32_t events_begin = 0, events_end = 0;  // in RequestView::events
  uint32_t dropped_events_count = 0;
  uint32_t links_begin = 0, links_end = 0;  // in RequestView::links
  uint32_t dropped_links_count = 0;
  std::string_view status_message;
  int32_t status_code = 0;
  bool has_status = false;
};

// A request walked: rows in the order their messages appear in the body.
struct RequestView {
  std::vector<ResourceView> resources;
  std::vector<ScopeView> scopes;
  std::vector<SpanView> spans;
  std::vector<EventView> events;
  std::vector<LinkView> links;
  std::vector<AttrView> attrs;  // every attribute of the request, runs named above

  // Scratch of the walk, kept between requests: one span's events and links, walked
  // after its own fields so that each row's attributes stay one run.
  std::vector<std::string_view> span_events, span_links;

  void Clear();
  std::span<const AttrView> Attrs(AttrRun run) const { return {attrs.data() + run.begin, run.size()}; }
};

// AnyValue arrays and key-value lists nested deeper than this are left to the parser.
inline constexpr int kMaxWalkDepth = 32;

// Walks body into *out (cleared first). False when the walk does not take the body (the
// header above says when): *out is then unspecified, and the caller decodes the body
// with DecodeOtlpProtobuf.
bool WalkExportRequest(std::string_view body, RequestView* out);

// Walks the bytes of one AnyValue (depth: its nesting, 0 for an attribute's value) into
// *out's type, value and bits; false as above. For callers holding a KeyValue's value.
bool WalkAnyValue(std::string_view bytes, AttrView* out, int depth = 0);

}  // namespace sightline::ingest
