// Which bytes of a walked request the store copies for each accepted span (received_parts.h).
#include "ingest/received_parts.h"

namespace sightline::ingest {

store::ReceivedParts ReceivedPartsOf(const RequestView& view, const std::vector<ReceivedSpan>& received) {
  using P = store::ReceivedParts;
  P parts;
  parts.spans.resize(received.size());
  parts.elements.reserve(view.attrs.size() + 8 * received.size());
  for (size_t i = 0; i < received.size(); ++i) {
    const ReceivedSpan& r = received[i];
    const SpanView& span = view.spans[r.span];
    const ScopeView& scope = view.scopes[span.scope];
    P::Span& p = parts.spans[i];
    // Field f's elements: bytes(k) for k in [first, last).
    auto add = [&](P::Field f, uint32_t first, uint32_t last, auto bytes) {
      p.from_bytes |= static_cast<uint8_t>(1u << f);
      p.begin[f] = static_cast<uint32_t>(parts.elements.size());
      for (uint32_t k = first; k < last; ++k) parts.elements.push_back(bytes(k));
      p.end[f] = static_cast<uint32_t>(parts.elements.size());
    };
    auto attr = [&](uint32_t k) { return view.attrs[k].kv; };
    if (r.attributes) {
      add(P::kAttributes, span.attrs.begin, span.attrs.end, attr);
      add(P::kEvents, span.events_begin, span.events_end, [&](uint32_t k) { return view.events[k].bytes; });
      add(P::kLinks, span.links_begin, span.links_end, [&](uint32_t k) { return view.links[k].bytes; });
    }
    if (r.resource) {
      const AttrRun run = view.resources[scope.resource].attrs;
      add(P::kResource, run.begin, run.end, attr);
    }
    if (r.scope) add(P::kScopeAttributes, scope.attrs.begin, scope.attrs.end, attr);
  }
  return parts;
}

}  // namespace sightline::ingest
