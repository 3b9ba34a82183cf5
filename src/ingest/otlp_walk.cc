#include "ingest/otlp_walk.h"

#include "common/utf8.h"
#include "common/wire.h"

namespace sightline::ingest {

using wire::kFixed32;
using wire::kFixed64;
using wire::kLengthDelimited;
using wire::kVarint;

void RequestView::Clear() {
  resources.clear();
  scopes.clear();
  spans.clear();
  events.clear();
  links.clear();
  attrs.clear();
}

namespace {

// One field of the message being walked, and the singular fields met so far.
struct Cursor {
  explicit Cursor(std::string_view bytes) : in(bytes) {}

  std::string_view in;
  uint32_t number = 0, wt = 0;
  std::string_view bytes;
  uint64_t scalar = 0;
  uint32_t seen = 0;  // bit n: singular field n (< 32) met

  bool Next() { return wire::NextField(&in, &number, &wt, &bytes, &scalar); }
  // The field is singular, of wire type want, and not met before.
  bool Once(uint32_t want) {
    const uint32_t bit = uint32_t{1} << number;
    if (wt != want || (seen & bit) != 0) return false;
    seen |= bit;
    return true;
  }
  bool OnceString(std::string_view* to) {
    if (!Once(kLengthDelimited) || !IsValidUtf8(bytes)) return false;
    *to = bytes;
    return true;
  }
  bool OnceBytes(std::string_view* to) {
    if (!Once(kLengthDelimited)) return false;
    *to = bytes;
    return true;
  }
  // uint32 fields and enums (int32) keep the varint's low 32 bits, as protobuf does.
  bool OnceU32(uint32_t* to) {
    if (!Once(kVarint)) return false;
    *to = static_cast<uint32_t>(scalar);
    return true;
  }
  bool OnceI32(int32_t* to) {
    if (!Once(kVarint)) return false;
    *to = static_cast<int32_t>(static_cast<uint32_t>(scalar));
    return true;
  }
  bool OnceFixed64(uint64_t* to) {
    if (!Once(kFixed64)) return false;
    *to = scalar;
    return true;
  }
  bool OnceFixed32(uint32_t* to) {
    if (!Once(kFixed32)) return false;
    *to = static_cast<uint32_t>(scalar);
    return true;
  }
};

bool WalkKeyValue(std::string_view bytes, AttrView* out, int depth);

// ArrayValue { repeated AnyValue values = 1; } or KeyValueList { repeated KeyValue
// values = 1; }: nothing else, each element walked down to its scalars.
bool WalkList(std::string_view bytes, bool array, int depth) {
  if (depth >= kMaxWalkDepth) return false;
  Cursor c(bytes);
  while (!c.in.empty()) {
    if (!c.Next() || c.number != 1 || c.wt != kLengthDelimited) return false;
    AttrView inner;
    if (!(array ? WalkAnyValue(c.bytes, &inner, depth + 1) : WalkKeyValue(c.bytes, &inner, depth + 1))) return false;
  }
  return true;
}

// KeyValue { string key = 1; AnyValue value = 2; }
bool WalkKeyValue(std::string_view bytes, AttrView* out, int depth) {
  *out = AttrView{};
  out->kv = bytes;
  Cursor c(bytes);
  while (!c.in.empty()) {
    if (!c.Next()) return false;
    if (c.number == 1) {
      if (!c.OnceString(&out->key)) return false;
    } else if (c.number == 2) {
      if (!c.Once(kLengthDelimited) || !WalkAnyValue(c.bytes, out, depth)) return false;
      out->has_value = true;
    } else {
      return false;
    }
  }
  return true;
}

// Appends the KeyValue in bytes to out->attrs.
bool AddAttr(std::string_view bytes, RequestView* out) {
  return WalkKeyValue(bytes, &out->attrs.emplace_back(), 0);
}

uint32_t Size32(size_t n) { return static_cast<uint32_t>(n); }

// Event { fixed64 time_unix_nano = 1; string name = 2; repeated KeyValue attributes = 3;
// uint32 dropped_attributes_count = 4; }
bool WalkEvent(std::string_view bytes, RequestView* out) {
  EventView e;
  e.bytes = bytes;
  e.attrs.begin = Size32(out->attrs.size());
  Cursor c(bytes);
  while (!c.in.empty()) {
    if (!c.Next()) return false;
    bool ok = false;
    switch (c.number) {
      case 1: ok = c.OnceFixed64(&e.time_unix_nano); break;
      case 2: ok = c.OnceString(&e.name); break;
      case 3: ok = c.wt == kLengthDelimited && AddAttr(c.bytes, out); break;
      case 4: ok = c.OnceU32(&e.dropped_attributes_count); break;
      default: break;
    }
    if (!ok) return false;
  }
  e.attrs.end = Size32(out->attrs.size());
  out->events.push_back(e);
  return true;
}

// Link { bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; repeated
// KeyValue attributes = 4; uint32 dropped_attributes_count = 5; fixed32 flags = 6; }
bool WalkLink(std::string_view bytes, RequestView* out) {
  LinkView l;
  l.bytes = bytes;
  l.attrs.begin = Size32(out->attrs.size());
  Cursor c(bytes);
  while (!c.in.empty()) {
    if (!c.Next()) return false;
    bool ok = false;
    switch (c.number) {
      case 1: ok = c.OnceBytes(&l.trace_id); break;
      case 2: ok = c.OnceBytes(&l.span_id); break;
      case 3: ok = c.OnceString(&l.trace_state); break;
      case 4: ok = c.wt == kLengthDelimited && AddAttr(c.bytes, out); break;
      case 5: ok = c.OnceU32(&l.dropped_attributes_count); break;
      case 6: ok = c.OnceFixed32(&l.flags); break;
      default: break;
    }
    if (!ok) return false;
  }
  l.attrs.end = Size32(out->attrs.size());
  out->links.push_back(l);
  return true;
}

// Status { string message = 2; StatusCode code = 3; }
bool WalkStatus(std::string_view bytes, SpanView* s) {
  Cursor c(bytes);
  while (!c.in.empty()) {
    if (!c.Next()) return false;
    bool ok = false;
    if (c.number == 2) ok = c.OnceString(&s->status_message);
    else if (c.number == 3) ok = c.OnceI32(&s->status_code);
    if (!ok) return false;
  }
  s->has_status = true;
  return true;
}

// Span (trace.proto): its own fields first, then its events and links, so that its
// attributes are one run.
bool WalkSpan(std::string_view bytes, uint32_t scope, RequestView* out) {
  SpanView s;
  s.scope = scope;
  s.attrs.begin = Size32(out->attrs.size());
  out->span_events.clear();
  out->span_links.clear();
  Cursor c(bytes);
  while (!c.in.empty()) {
    if (!c.Next()) return false;
    bool ok = false;
    switch (c.number) {
      case 1: ok = c.OnceBytes(&s.trace_id); break;
      case 2: ok = c.OnceBytes(&s.span_id); break;
      case 3: ok = c.OnceString(&s.trace_state); break;
      case 4: ok = c.OnceBytes(&s.parent_span_id); break;
      case 5: ok = c.OnceString(&s.name); break;
      case 6: ok = c.OnceI32(&s.kind); break;
      case 7: ok = c.OnceFixed64(&s.start_time_unix_nano); break;
      case 8: ok = c.OnceFixed64(&s.end_time_unix_nano); break;
      case 9: ok = c.wt == kLengthDelimited && AddAttr(c.bytes, out); break;
      case 10: ok = c.OnceU32(&s.dropped_attributes_count); break;
      case 11:
        ok = c.wt == kLengthDelimited;
        if (ok) out->span_events.push_back(c.bytes);
        break;
      case 12: ok = c.OnceU32(&s.dropped_events_count); break;
      case 13:
        ok = c.wt == kLengthDelimited;
        if (ok) out->span_links.push_back(c.bytes);
        break;
      case 14: ok = c.OnceU32(&s.dropped_links_count); break;
      case 15: ok = c.Once(kLengthDelimited) && WalkStatus(c.bytes, &s); break;
      case 16: ok = c.OnceFixed32(&s.flags); break;
      default: break;
    }
    if (!ok) return false;
  }
  s.attrs.end = Size32(out->attrs.size());
  s.events_begin = Size32(out->events.size());
  for (std::string_view e : out->span_events)
    if (!WalkEvent(e, out)) return false;
  s.events_end = Size32(out->events.size());
  s.links_begin = Size32(out->links.size());
  for (std::string_view l : out->span_links)
    if (!WalkLink(l, out)) return false;
  s.links_end = Size32(out->links.size());
  out->spans.push_back(s);
  return true;
}

// InstrumentationScope { string name = 1; string version = 2; repeated KeyValue
// attributes = 3; uint32 dropped_attributes_count = 4; }
bool WalkScope(std::string_view bytes, ScopeView* scope, RequestView* out) {
  scope->attrs.begin = Size32(out->attrs.size());
  Cursor c(bytes);
  while (!c.in.empty()) {
    if (!c.Next()) return false;
    bool ok = false;
    switch (c.number) {
      case 1: ok = c.OnceString(&scope->name); break;
      case 2: ok = c.OnceString(&scope->version); break;
      case 3: ok = c.wt == kLengthDelimited && AddAttr(c.bytes, out); break;
      case 4: ok = c.OnceU32(&scope->dropped_attributes_count); break;
      default: break;
    }
    if (!ok) return false;
  }
  scope->attrs.end = Size32(out->attrs.size());
  scope->has_scope = true;
  return true;
}

// ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; string
// schema_url = 3; }. The scope's row comes first; its spans name it by index wherever
// the scope field sits.
bool WalkScopeSpans(std::string_view bytes, uint32_t resource, RequestView* out) {
  const uint32_t index = Size32(out->scopes.size());
  ScopeView scope;
  scope.resource = resource;
  Cursor c(bytes);
  while (!c.in.empty()) {
    if (!c.Next()) return false;
    bool ok = false;
    switch (c.number) {
      case 1: ok = c.Once(kLengthDelimited) && WalkScope(c.bytes, &scope, out); break;
      case 2: ok = c.wt == kLengthDelimited && WalkSpan(c.bytes, index, out); break;
      case 3: ok = c.OnceString(&scope.schema_url); break;
      default: break;
    }
    if (!ok) return false;
  }
  out->scopes.push_back(scope);
  return true;
}

// Resource { repeated KeyValue attributes = 1; uint32 dropped_attributes_count = 2; }
// (entity_refs = 3 is not represented: refused).
bool WalkResource(std::string_view bytes, ResourceView* r, RequestView* out) {
  r->attrs.begin = Size32(out->attrs.size());
  Cursor c(bytes);
  while (!c.in.empty()) {
    if (!c.Next()) return false;
    bool ok = false;
    if (c.number == 1) ok = c.wt == kLengthDelimited && AddAttr(c.bytes, out);
    else if (c.number == 2) ok = c.OnceU32(&r->dropped_attributes_count);
    if (!ok) return false;
  }
  r->attrs.end = Size32(out->attrs.size());
  r->has_resource = true;
  return true;
}

// ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; string
// schema_url = 3; }
bool WalkResourceSpans(std::string_view bytes, RequestView* out) {
  const uint32_t index = Size32(out->resources.size());
  ResourceView r;
  Cursor c(bytes);
  while (!c.in.empty()) {
    if (!c.Next()) return false;
    bool ok = false;
    switch (c.number) {
      case 1: ok = c.Once(kLengthDelimited) && WalkResource(c.bytes, &r, out); break;
      case 2: ok = c.wt == kLengthDelimited && WalkScopeSpans(c.bytes, index, out); break;
      case 3: ok = c.OnceString(&r.schema_url); break;
      default: break;
    }
    if (!ok) return false;
  }
  out->resources.push_back(r);
  return true;
}

}  // namespace

// AnyValue: at most one field of its oneof, of its declared wire type.
bool WalkAnyValue(std::string_view bytes, AttrView* out, int depth) {
  out->type = AttrView::kNone;
  out->value = {};
  out->bits = 0;
  Cursor c(bytes);
  while (!c.in.empty()) {
    if (!c.Next() || out->type != AttrView::kNone) return false;
    switch (c.number) {
      case AttrView::kString:
        if (c.wt != kLengthDelimited || !IsValidUtf8(c.bytes)) return false;
        out->value = c.bytes;
        break;
      case AttrView::kBytes:
        if (c.wt != kLengthDelimited) return false;
        out->value = c.bytes;
        break;
      case AttrView::kBool:
        if (c.wt != kVarint) return false;
        out->bits = c.scalar != 0;
        break;
      case AttrView::kInt:
        if (c.wt != kVarint) return false;
        out->bits = c.scalar;
        break;
      case AttrView::kDouble:
        if (c.wt != kFixed64) return false;
        out->bits = c.scalar;
        break;
      case AttrView::kArray:
      case AttrView::kKvlist:
        if (c.wt != kLengthDelimited || !WalkList(c.bytes, c.number == AttrView::kArray, depth)) return false;
        out->value = c.bytes;
        break;
      default: return false;
    }
    out->type = static_cast<uint8_t>(c.number);
  }
  return true;
}

// ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
bool WalkExportRequest(std::string_view body, RequestView* out) {
  out->Clear();
  Cursor c(body);
  while (!c.in.empty()) {
    if (!c.Next() || c.number != 1 || c.wt != kLengthDelimited || !WalkResourceSpans(c.bytes, out)) return false;
  }
  return true;
}

}  // namespace sightline::ingest
