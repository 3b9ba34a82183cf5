// Rollups: per-bucket totals of spans, kept at ingest, so span-level aggregates (the
// metrics API, the dashboard) are answered without scanning spans
// (docs/architecture.md "Rollups").
//
// A RollupTable maps (bucket start, tuple) to Values. A tuple is the span's project,
// agent, tool, model, service and environment (ids in the store's StringPool), status
// and kind. Spans are folded in at minute granularity; Fold moves buckets older than
// the cut points into hours, then days. Sketches are sparse DDSketches: merging them
// gives exactly the buckets a DDSketch of the same values has.
//
// Invariants: every bucket start is aligned to its width (minute, hour or day, from the
// Unix epoch); a bucket holds at most max_tuples distinct tuples, past which it is
// marked overflowed (its totals are then incomplete and queries over it scan).
// Thread-safety: a plain object; the store guards it with its mutex.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/ddsketch.h"
#include "common/status.h"
#include "store/query_spec.h"
#include "store/string_pool.h"
#include "store/trace_agg.h"

namespace sightline::store {
class Aggregator;
}

namespace sightline::store::rollup {

inline constexpr int64_t kMinuteNs = int64_t{60} * 1000000000;
inline constexpr int64_t kHourNs = 60 * kMinuteNs;
inline constexpr int64_t kDayNs = 24 * kHourNs;

// A DDSketch as sorted (bucket, count) pairs plus exact count, min, max and sum.
class SparseSketch {
 public:
  void Add(double v);
  // Takes back one value added before (a replaced span): buckets, count and sum are
  // exact again; min and max keep the removed value's extent.
  void Remove(double v);
  void Merge(const SparseSketch& o);
  void MergeInto(DDSketch* out) const;
  // Merges all of `sketches` into out at once: their buckets are summed in one dense
  // array first, so out is extended and walked once instead of once per sketch.
  static void MergeAllInto(const std::vector<const SparseSketch*>& sketches, DDSketch* out);
  uint64_t count() const { return count_; }
  size_t MemoryBytes() const { return buckets_.capacity() * sizeof(buckets_[0]); }
  void Encode(std::string* out) const;
  static bool Decode(std::string_view* in, SparseSketch* out);

 private:
  // Key: index * 2 + (negative ? 1 : 0); values with |v| <= kMinIndexable count in zero_.
  static bool KeyOf(double v, int32_t* key);
  std::vector<std::pair<int32_t, uint64_t>> buckets_;  // ascending by key
  uint64_t count_ = 0, zero_ = 0;
  double min_ = 0, max_ = 0, sum_ = 0;
};

struct Tuple {
  uint32_t project = 0, agent = 0, tool = 0, model = 0, service = 0, environment = 0;
  uint32_t user = 0;  // the per-user run rollup's rows only; 0 elsewhere
  uint8_t status = 0, kind = 0;
  bool operator==(const Tuple&) const = default;
};
struct TupleHash {
  size_t operator()(const Tuple& t) const;
};

struct Values {
  int64_t count = 0, errors = 0, interrupts = 0, llm_calls = 0, tool_calls = 0, truncated = 0;
  int64_t input_tokens = 0, output_tokens = 0, cache_read_tokens = 0, cache_write_tokens = 0, reasoning_tokens = 0;
  double cost_usd = 0;
  int64_t cost_known = 0;
  SparseSketch duration_ns, cost;
  // Run rows only (in memory, never in the file): span counts summed, and their sketch.
  int64_t spans = 0;
  SparseSketch steps;
  void Merge(const Values& o);
};

// One run (trace) as its merged aggregate describes it: the row of a run rollup. The
// tuple's tool, model and kind stay 0; agent is the run's agent, status the run's.
struct RunFacts {
  bool valid = false;  // the trace has spans
  int64_t start_ns = 0;
  Tuple tuple;
  uint32_t user = 0;  // the run's user id (the per-user run rollup's tuple carries it)
  int64_t spans = 0, llm_calls = 0, tool_calls = 0, input_tokens = 0, output_tokens = 0;
  double cost_usd = 0, duration_ns = 0;
};

// One bucket's rows, flat: tuples and values in two parallel arrays (insertion order,
// a removed row's place taken by the last one), so a query reads the compact tuples
// alone to match and group them, and touches a row's values and sketches only when it
// counts. `slots_` finds a tuple's position for ingest and merges: an open-addressing
// table (linear probing, at most half full, erasing by shifting back the entries after
// the hole) of positions + 1, 0 for a free slot; the writer looks a tuple up for every
// span, and std::unordered_map's lookups were 1.8% of the server's CPU on a lean load.
// Not sorted by tuple: ingest adds rows in any order, and a query groups through a hash
// of group keys, which a sort would not spare it.
// Invariants: tuples_.size() == values_.size(); exactly one slot holds i + 1 for each
// row i, reachable from TupleHash(tuples_[i])'s slot without crossing a free slot.
class Bucket {
 public:
  int64_t width_ns = kMinuteNs;
  bool overflow = false;

  size_t size() const { return tuples_.size(); }
  bool empty() const { return tuples_.empty(); }
  const std::vector<Tuple>& tuples() const { return tuples_; }
  const std::vector<Values>& values() const { return values_; }
  // The row of t, or nullptr. Pointers stay valid until the next Insert or Erase.
  Values* Find(const Tuple& t);
  // A new zero row for t (t must be absent).
  Values* Insert(const Tuple& t);
  void Erase(const Tuple& t);
  // Erases the rows pred(tuple) names; returns how many.
  size_t EraseIf(const std::function<bool(const Tuple&)>& pred);

 private:
  // Erases the row whose position + 1 slot `hole` holds.
  void EraseSlot(size_t hole);
  // The slot holding row + 1 for t, or of the free slot where t would go.
  size_t SlotOf(const Tuple& t) const;
  void Rehash(size_t slots);

  std::vector<Tuple> tuples_;
  std::vector<Values> values_;
  std::vector<uint32_t> slots_;  // power-of-two size; empty until the first row
};

// Where the granularity changes: buckets starting before hour_cut are days, before
// minute_cut hours, the rest minutes. Both only move forward.
struct Cuts {
  int64_t minute_cut = INT64_MIN, hour_cut = INT64_MIN;
  int64_t WidthAt(int64_t t) const { return t < hour_cut ? kDayNs : t < minute_cut ? kHourNs : kMinuteNs; }
};

int64_t FloorTo(int64_t t, int64_t width);

class RollupTable {
 public:
  // run_sketches: the AggSketch bits AddRun and ReplaceRun keep (a table that never
  // answers a sketch need not pay for it at every span).
  explicit RollupTable(size_t max_tuples = 20000, uint32_t run_sketches = kSketchDuration | kSketchCost | kSketchSteps)
      : max_tuples_(max_tuples), run_sketches_(run_sketches) {}
  uint32_t run_sketches() const { return run_sketches_; }

  // Folds one span in (sign +1) or takes it back (-1), at minute granularity.
  void Add(const SpanFacts& f, StringPool* pool) { Apply(f, pool, +1); }
  void Remove(const SpanFacts& f, StringPool* pool) { Apply(f, pool, -1); }
  // A stored span's cost changed (a reprice): its row (found by f's tuple and start)
  // trades the old cost for the new in cost_usd, cost_known and the cost sketch;
  // counts, tokens and durations stay. A row that is not there (expired, overflowed)
  // is left alone.
  void AdjustCost(const SpanFacts& f, bool had_cost, double before, bool has_cost, double after, StringPool* pool);
  // The last store rewrite (a reprice step, store/reprice) whose cost changes this
  // table holds; saved in the file, so Open knows whether a step's changes are in it.
  uint64_t rewrite_seq() const { return rewrite_seq_; }
  void set_rewrite_seq(uint64_t seq) { rewrite_seq_ = seq; }
  // Adds one run (sign +1) or takes it back (-1).
  void AddRun(const RunFacts& r, int sign);
  // A run changed (a span arrived): AddRun(before, -1) then AddRun(after, +1), in one
  // row lookup when it stays in its row (the usual case).
  void ReplaceRun(const RunFacts& before, const RunFacts& after);
  // Adds every row of o (its buckets mapped to this table's cuts).
  void MergeFrom(const RollupTable& o);
  // Moves the cuts forward (never back) and folds the buckets they pass.
  void Fold(const Cuts& cuts);
  // Drops the rows whose bucket ended more than max_age_ns(project) before now
  // (max_age_ns < 0: kept forever). Returns the rows dropped.
  size_t DropExpired(const std::function<int64_t(uint32_t project)>& max_age_ns, int64_t now_ns);

  const std::map<int64_t, Bucket>& buckets() const { return buckets_; }
  const Cuts& cuts() const { return cuts_; }
  size_t rows() const { return rows_; }
  size_t MemoryBytes() const;
  bool empty() const { return buckets_.empty(); }

  // The file format (docs/architecture.md "Rollups"), strings inline.
  void Encode(const StringPool& pool, uint64_t covered_wal, std::string* out) const;
  // Corruption naming what is wrong; strings are interned into pool.
  static Status Decode(std::string_view in, StringPool* pool, RollupTable* out, uint64_t* covered_wal);

 private:
  void Apply(const SpanFacts& f, StringPool* pool, int sign);
  Values* Row(int64_t start, int64_t width, const Tuple& t);

  size_t max_tuples_;
  uint32_t run_sketches_;
  Cuts cuts_;
  std::map<int64_t, Bucket> buckets_;  // by bucket start
  size_t rows_ = 0;
  uint64_t rewrite_seq_ = 0;
};

// Span rollups answer span-level queries; run rollups (TraceIndex::runs) trace-level
// ones, as long as no filter needs a trace's spans (agent, kind, name, model, tool test
// "some span of the run").
// Can q be answered from tables (the store's base rollup first, whose cuts apply)?
// Checks the level, filters, group-bys, sketches, the time bucket against the coarsest
// bucket width in the range, and overflowed buckets.
// by_user: tables are per-user run rollups (tuple: project, user, status), which answer
// group-bys and filters on those and time only, and the sketches they keep.
bool CanAnswer(const AggregateQuery& q, const std::vector<const RollupTable*>& tables, bool by_user = false);

// Adds the matching rows of tables to agg, grouped as q asks; the range is widened to
// whole buckets (a bucket counts when it intersects [from, to]). Returns rows read.
Result<int64_t> Answer(const AggregateQuery& q, const StringPool& pool, const std::vector<const RollupTable*>& tables,
                       Aggregator* agg);

}  // namespace sightline::store::rollup
