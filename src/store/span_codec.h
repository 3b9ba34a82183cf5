// Span bytes and span facts: how the store moves spans without re-parsing them.
//
// A serialized SpanBatch is exactly the concatenation of (tag 0x0A, varint length,
// Span bytes) per span, so Append serialises each span once, in the caller's thread,
// straight into the WAL record payload, and remembers where each span's bytes and
// indexed fields are (EncodedBatch). The writer thread then copies bytes and applies
// facts without touching protobuf.
//
// Thread-safety: values and pure functions.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "model/span.h"
#include "store/trace_agg.h"

namespace sightline::store {

// Splits a serialized SpanBatch into the bytes of each Span. False when the bytes are
// not a SpanBatch made only of field-1 entries (the only shape Sightline writes).
bool SplitSpanBatch(std::string_view batch, std::vector<std::string_view>* spans);

// The byte ranges and indexed fields of one span inside an EncodedBatch.
struct SpanMeta {
  struct Ref {
    uint32_t off = 0, len = 0;
  };
  TraceKey trace;
  uint64_t span_id = 0;
  bool is_root = false;
  uint8_t kind = 0, status = 0;
  int64_t start_ns = 0, end_ns = 0, input_tokens = 0, output_tokens = 0;
  double cost_usd = 0;
  int64_t cache_read_tokens = 0, cache_write_tokens = 0, reasoning_tokens = 0;
  bool has_cost = false, truncated = false;
  bool flagged = false;  // carries sightline.keep = true (tail sampling keeps its trace)
  // Evaluations it carries (store/sampling): an evaluator failed; the lowest score (NaN: none).
  bool eval_failed = false;
  double min_score = std::numeric_limits<double>::quiet_NaN();
  Ref bytes;  // the span's serialized bytes, in payload
  Ref project, name, service, environment, session_id, user_id, agent_name, model, tool_name;  // in strings
};

// Parts of the spans of one Append that the caller holds as the bytes they were
// received in (the ingest path's walk of an OTLP request, ingest/otlp_walk.h), for the
// encoder to copy into the record instead of serializing the span's own fields. Each
// element is one element of a repeated field, serialized: it parses into exactly the
// value the span's field holds (attributes, events, links: the span keeps them for the
// readers on the ingest path, and the encoder leaves them out of its serialization) or
// would hold (resource, scope attributes: the span's field is then left empty). The
// record's bytes then differ from a serialization of the span only in field order; it
// parses into the same span.
struct ReceivedParts {
  enum Field : uint8_t { kAttributes, kResource, kEvents, kLinks, kScopeAttributes, kFieldCount };
  struct Span {
    // elements[begin[f], end[f]) are field f's, when bit f of from_bytes is set.
    uint32_t begin[kFieldCount] = {}, end[kFieldCount] = {};
    uint8_t from_bytes = 0;
  };
  std::vector<std::string_view> elements;
  std::vector<Span> spans;  // one per span appended, in order
};

// One Append's spans, encoded: payload is the WAL record (a serialized SpanBatch).
// The attributes a span's meta depends on (the sampling flag, evaluation results);
// AddMeta reads no other.
bool IsMetaAttribute(std::string_view key);
// The event name whose events AddMeta reads (evaluation results).
inline constexpr std::string_view kEvaluationEventName = "gen_ai.evaluation.result";

struct EncodedBatch {
  std::string payload;
  std::string strings;  // the indexed string fields of every span, back to back
  std::vector<SpanMeta> metas;

  // Serialises spans into payload and records their metas. InvalidArgument naming the
  // span when an id has the wrong size (trace_id 16 bytes, span_id 8, parent 0 or 8).
  [[nodiscard]] Status Encode(const std::vector<model::Span>& spans);
  [[nodiscard]] Status Encode(const model::SpanList& spans);
  // The same for a WAL record: each span's payloads that repeat one of its attributes
  // are first put in the record form (store/shared_payload.h), which changes *spans.
  [[nodiscard]] Status EncodeRecord(std::vector<model::Span>* spans);
  [[nodiscard]] Status EncodeRecord(model::SpanList* spans);
  // The same with parts of the spans copied from the bytes they were received in
  // (parts->spans has one entry per span).
  [[nodiscard]] Status EncodeRecord(model::SpanList* spans, const ReceivedParts& parts);
  // Records the meta of a span whose bytes are already at payload[off, off+len) (replay).
  void AddMeta(const model::Span& span, uint32_t off, uint32_t len) { AddMeta(span, &span, off, len); }
  // The same for a span held in two parts (compaction's rows): cols holds every field
  // but the attributes and events, extra (null: none) the attributes among them that
  // bear on the meta (IsMetaAttribute) and the events.
  void AddMeta(const model::Span& cols, const model::Span* extra, uint32_t off, uint32_t len);
  SpanFacts Facts(size_t i) const;
  std::string_view SpanBytes(size_t i) const {
    return std::string_view(payload).substr(metas[i].bytes.off, metas[i].bytes.len);
  }

 private:
  template <typename Spans>
  Status EncodeAll(const Spans& spans);
  Status EncodeAllReceived(model::SpanList* spans, const ReceivedParts& parts);
};

Status ValidateSpanIds(const model::Span& span, size_t index);
uint64_t SpanIdToU64(std::string_view span_id);

// An attribute value rendered as text, as attr.KEY=VALUE filters compare it: strings as
// they are, booleans "true"/"false", integers in decimal, doubles in shortest
// round-trip form, bytes in hex, arrays and maps as compact JSON.
std::string AnyValueText(const opentelemetry::proto::common::v1::AnyValue& v);
// True when the span's attributes or resource attributes have key with that text value.
bool SpanHasAttr(const model::Span& span, std::string_view key, std::string_view value);
// needle_lower must be lower-case ASCII; ASCII letters compare case-insensitively.
bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle_lower);

// ContainsIgnoreCase for one needle and many haystacks (the search's payload pieces):
// Horspool's algorithm over the case-folded text, its shift table built once, so a
// 20-byte phrase skips up to 20 bytes per step instead of comparing at every byte. Same
// answers as ContainsIgnoreCase(h, needle_lower) for every haystack.
// Thread-safety: immutable after construction; In may run concurrently.
class CaseFoldFinder {
 public:
  explicit CaseFoldFinder(std::string needle_lower);
  bool In(std::string_view haystack) const;
  const std::string& needle() const { return needle_; }

 private:
  std::string needle_;
  uint8_t shift_[256];  // by case-folded byte; needles longer than 255 use the plain scan
};
std::string AsciiLower(std::string_view s);

}  // namespace sightline::store
