// Span ids inside an encoded ExportTraceServiceRequest: where they sit, so the load
// generator can log exactly what it sent and resend a pooled body as new spans by
// rewriting ids in place, without decoding and re-encoding the request.
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sightline::bench {

// Where the ids of each span sit inside an encoded ExportTraceServiceRequest, so a
// driver can rewrite them in place (to resend a pooled body as new spans) or log them.
struct IdOffsets {
  size_t trace_id = 0;  // 16 bytes at body[trace_id]
  size_t span_id = 0;   // 8 bytes
  size_t parent_span_id = SIZE_MAX;  // 8 bytes, or SIZE_MAX for a root
};
// Walks the protobuf wire format; false when the bytes are not a well-formed request
// (or an id has an unexpected length).
bool FindSpanIds(std::string_view body, std::vector<IdOffsets>* out);
// Rewrites every id in place so that the spans become new, distinct ones (for round >= 1)
// while parent links stay consistent: ids are XORed with values derived from round.
void RewriteIds(std::string* body, const std::vector<IdOffsets>& ids, uint64_t round);

}  // namespace sightline::bench
