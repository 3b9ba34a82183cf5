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
    auto begin = [&](P::Field f) {
      p.begin[f] = static_cast<uint32_t>(parts.elements.size());
      p.from_bytes |= static_cast<uint8_t>(1u << f);
    };
    auto end = [&](P::Field f) { p.end[f] = static_cast<uint32_t>(parts.elements.size()); };
    auto attrs = [&](P::Field f, AttrRun run) {
      begin(f);
      for (uint32_t a = run.begin; a < run.end; ++a) parts.elements.push_back(view.attrs[a].kv);
      end(f);
    };
    if (r.attributes) {
      attrs(P::kAttributes, span.attrs);
      begin(P::kEvents);
      for (uint32_t e = span.events_begin; e < span.events_end; ++e) parts.elements.push_back(view.events[e].bytes);
      end(P::kEvents);
      begin(P::kLinks);
      for (uint32_t l = span.links_begin; l < span.links_end; ++l) parts.elements.push_back(view.links[l].bytes);
      end(P::kLinks);
    }
    if (r.resource) attrs(P::kResource, view.resources[scope.resource].attrs);
    if (r.scope) attrs(P::kScopeAttributes, scope.attrs);
  }
  return parts;
}


}  // namespace sightline::ingest
