// Trace aggregates: the running TraceSummary of one trace, kept incrementally as its
// spans arrive in any order (children before parents, the root last, over hours), and
// mergeable, so a segment can store the partial aggregate of the spans it holds and
// Open can merge partials without re-reading span data.
//
// Rules (SPEC "A trace's status", and the store's choices, docs/segment_format.md):
//   - root_name, service, agent_name: from the root once it has arrived (service and
//     agent_name only when the root has them); before that from the earliest-starting
//     span; any still-empty one is filled from any span.
//   - session_id, user_id, environment: the root's when it has one, else the first
//     non-empty seen.
//   - status: the root's when the root arrived with a set status; else interrupt if any
//     span is interrupted, else error if any failed, else ok.
//   - counts, tokens, cost: sums over every span (tokens of llm spans and of their
//     parents are both counted when both carry them: the store does not guess which is
//     the double).
//   - side sets for span-level filters: distinct agent names, span names, models (of
//     llm spans), tools, and a bitmask of kinds.
// Merging partials a (older) then b (newer) gives the aggregate of adding a's spans then
// b's, except the "first seen" tie-breaks which follow the merge order.
//
// Thread-safety: plain values; the owner synchronises.
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "model/summary.h"
#include "store/string_pool.h"

namespace sightline::store {

// A trace id (16 raw bytes) as two integers: cheap to hash, compare and store.
struct TraceKey {
  uint64_t hi = 0, lo = 0;
  static TraceKey FromBytes(std::string_view b) {  // b.size() == 16
    TraceKey k;
    std::memcpy(&k.hi, b.data(), 8);
    std::memcpy(&k.lo, b.data() + 8, 8);
    return k;
  }
  std::string ToBytes() const {
    std::string s(16, '\0');
    std::memcpy(s.data(), &hi, 8);
    std::memcpy(s.data() + 8, &lo, 8);
    return s;
  }
  bool operator==(const TraceKey& o) const { return hi == o.hi && lo == o.lo; }
  // Orders like the raw bytes (memcmp), which is the trace_id order queries use.
  bool operator<(const TraceKey& o) const;
  uint64_t Hash() const { return Mix64(hi ^ Mix64(lo)); }
  // MurmurHash3's finalizer: every input bit affects every output bit, so ids that
  // differ only in a few bytes (sequential test ids, big-endian counters) still spread.
  static uint64_t Mix64(uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
  }
};
struct TraceKeyHash {
  size_t operator()(const TraceKey& k) const { return static_cast<size_t>(k.Hash()); }
};

// What one span contributes to its trace's aggregate; string_views point into memory
// owned by the caller for the duration of the call.
struct SpanFacts {
  TraceKey trace;
  uint64_t span_id = 0;
  bool is_root = false;
  model::SpanKind kind = model::v1::KIND_OTHER;
  model::SpanStatus status = model::v1::STATUS_UNSET;
  int64_t start_ns = 0, end_ns = 0;
  int64_t input_tokens = 0, output_tokens = 0;
  double cost_usd = 0;
  std::string_view project, name, service, environment, session_id, user_id, agent_name, model, tool_name;
  // For the rollups (store/rollup): the other token counts (0 when absent), whether
  // cost_usd was set, and whether finish_reason is "length".
  int64_t cache_read_tokens = 0, cache_write_tokens = 0, reasoning_tokens = 0;
  bool has_cost = false, truncated = false;
  bool flagged = false;  // tail sampling: the span asks that its trace be kept
  // Evaluations it carries (store/span_codec.cc): an evaluator failed; its lowest score (NaN: none).
  bool eval_failed = false;
  double min_score = std::numeric_limits<double>::quiet_NaN();
};

// The part of a span's contribution that a replacement (duplicate span id) must take back.
struct SpanCounts {
  uint8_t kind = 0;
  uint8_t status = 0;
  int64_t input_tokens = 0, output_tokens = 0;
  double cost_usd = 0;
  static SpanCounts Of(const SpanFacts& f) {
    return {static_cast<uint8_t>(f.kind), static_cast<uint8_t>(f.status), f.input_tokens, f.output_tokens,
            f.cost_usd};
  }
};

// A small set of interned ids, in first-seen order.
using IdSet = std::vector<uint32_t>;
inline bool Has(const IdSet& set, uint32_t id) {
  for (uint32_t x : set)
    if (x == id) return true;
  return false;
}

struct TraceAgg {
  uint32_t project = 0, root_name = 0, service = 0, agent_name = 0, environment = 0, session_id = 0, user_id = 0;
  bool has_root = false;
  bool session_from_root = false, user_from_root = false, env_from_root = false;
  bool flagged = false;  // tail sampling: a span of it asks that the trace be kept (SpanFacts::flagged)
  bool eval_failed = false;  // an evaluation of it failed (SpanFacts::eval_failed)
  // The lowest evaluation score of its spans (+infinity: none).
  double min_score = std::numeric_limits<double>::infinity();
  uint8_t root_status = 0;
  uint32_t kinds_mask = 0;
  int64_t start_ns = std::numeric_limits<int64_t>::max();
  int64_t end_ns = std::numeric_limits<int64_t>::min();
  int64_t fallback_start = std::numeric_limits<int64_t>::max();  // start of the span names came from (no root)
  int64_t span_count = 0, error_count = 0, interrupt_count = 0, llm_calls = 0, tool_calls = 0;
  int64_t input_tokens = 0, output_tokens = 0;
  double cost_usd = 0;
  IdSet models, agents, names, tools;

  void AddSpan(const SpanFacts& f, StringPool* pool);
  // A span with the same id replaces one counted before: take back its counts. (Its
  // time range and side-set entries stay: retried spans carry the same ones.)
  void RemoveCounts(const SpanCounts& c);
  void Merge(const TraceAgg& newer);

  bool has_score() const { return min_score < std::numeric_limits<double>::infinity(); }
  model::SpanStatus Status() const;
  int64_t DurationNs() const { return span_count > 0 && end_ns > start_ns ? end_ns - start_ns : 0; }
  model::TraceSummary ToSummary(const TraceKey& key, const StringPool& pool) const;
  size_t MemoryBytes() const;

  // Segment encoding (docs/segment_format.md "trace aggregate"); strings inline.
  void Encode(const StringPool& pool, std::string* out) const;
  // False when `in` is malformed.
  static bool Decode(std::string_view in, StringPool* pool, TraceAgg* out);
};

}  // namespace sightline::store
