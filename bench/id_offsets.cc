// Locating and rewriting span ids inside encoded OTLP requests (see id_offsets.h).
#include "id_offsets.h"

#include <google/protobuf/io/coded_stream.h>

#include "workload.h"

namespace sightline::bench {

namespace {

using google::protobuf::io::CodedInputStream;

constexpr uint32_t kWireVarint = 0, kWireFixed64 = 1, kWireLen = 2, kWireFixed32 = 5;

// Calls fn(field, offset, length) for every length-delimited field of the message in
// body[begin, end); skips the others. False on malformed input.
template <typename Fn>
bool ForEachLenField(std::string_view body, size_t begin, size_t end, Fn&& fn) {
  CodedInputStream in(reinterpret_cast<const uint8_t*>(body.data() + begin), static_cast<int>(end - begin));
  while (true) {
    if (in.CurrentPosition() == static_cast<int>(end - begin)) return true;
    const uint32_t tag = in.ReadTag();
    if (tag == 0) return false;
    const uint32_t field = tag >> 3;
    switch (tag & 7) {
      case kWireVarint: {
        uint64_t v;
        if (!in.ReadVarint64(&v)) return false;
        break;
      }
      case kWireFixed64:
        if (!in.Skip(8)) return false;
        break;
      case kWireFixed32:
        if (!in.Skip(4)) return false;
        break;
      case kWireLen: {
        uint32_t len;
        if (!in.ReadVarint32(&len)) return false;
        const size_t off = begin + static_cast<size_t>(in.CurrentPosition());
        if (off + len > end) return false;
        if (!fn(field, off, static_cast<size_t>(len))) return false;
        if (!in.Skip(static_cast<int>(len))) return false;
        break;
      }
      default:
        return false;
    }
  }
}

}  // namespace

bool FindSpanIds(std::string_view body, std::vector<IdOffsets>* out) {
  out->clear();
  // ExportTraceServiceRequest.resource_spans = 1; ResourceSpans.scope_spans = 2;
  // ScopeSpans.spans = 2; Span: trace_id = 1, span_id = 2, parent_span_id = 4.
  return ForEachLenField(body, 0, body.size(), [&](uint32_t f, size_t off, size_t len) {
    if (f != 1) return true;
    return ForEachLenField(body, off, off + len, [&](uint32_t f2, size_t off2, size_t len2) {
      if (f2 != 2) return true;
      return ForEachLenField(body, off2, off2 + len2, [&](uint32_t f3, size_t off3, size_t len3) {
        if (f3 != 2) return true;
        IdOffsets ids;
        bool have_trace = false, have_span = false, bad = false;
        const bool ok = ForEachLenField(body, off3, off3 + len3, [&](uint32_t sf, size_t o, size_t l) {
          if (sf == 1) { bad |= l != 16; ids.trace_id = o; have_trace = true; }
          if (sf == 2) { bad |= l != 8; ids.span_id = o; have_span = true; }
          if (sf == 4 && l != 0) { bad |= l != 8; ids.parent_span_id = o; }
          return true;
        });
        if (!ok || bad || !have_trace || !have_span) return false;
        out->push_back(ids);
        return true;
      });
    });
  });
}

void RewriteIds(std::string* body, const std::vector<IdOffsets>& ids, uint64_t round) {
  if (round == 0) return;
  const uint64_t tk = Mix64(round * 0x9e3779b97f4a7c15ULL + 1);
  const uint64_t sk = Mix64(round * 0xc2b2ae3d27d4eb4fULL + 2);
  auto x = [&](size_t off, uint64_t key) {
    for (int i = 0; i < 8; ++i) (*body)[off + i] = static_cast<char>((*body)[off + i] ^ static_cast<char>(key >> (8 * i)));
  };
  for (const auto& id : ids) {
    x(id.trace_id, tk);
    x(id.span_id, sk);
    if (id.parent_span_id != SIZE_MAX) x(id.parent_span_id, sk);
  }
}

}  // namespace sightline::bench
