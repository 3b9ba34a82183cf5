// Repricing stored spans (docs/pricing.md "Repricing a period"): what a request asks,
// what the store answers, and the journal (DATA/REPRICE) that makes a rewritten
// segment and the rollup file agree after a crash.
//
// The store rewrites every segment file holding spans that start in the period, one
// file at a time, the way compaction does (store/compaction Merge, with a hook that
// sets each span's cost fields), and moves the rollups and trace aggregates from each
// changed span's old cost to its new one. The span rollups are the one derived total
// that lives in its own file (DATA/ROLLUPS); a file step is:
//   1. merge the file into new files (orphans until installed), noting every cost
//      change (CostChange);
//   2. write DATA/REPRICE: the step's sequence number, its output files and its cost
//      changes (temporary file, fsync, rename);
//   3. install the outputs by one manifest edit; in the same exclusive-lock step the
//      trace aggregates, session totals, run rollups and span rollups take the change,
//      and the span rollups record the step's sequence number;
//   4. write DATA/ROLLUPS (which carries that sequence number).
// Open reads DATA/REPRICE: when the manifest lists the step's outputs (step 3 was
// reached) and DATA/ROLLUPS records an older sequence number (step 4 was not), it
// applies the step's cost changes to the rollups; otherwise the rollups already agree
// with the segments. Either way a span's cost is counted once, old or new. A crash
// before step 3 leaves the old file in place (the outputs are orphans Open deletes):
// run the reprice again; it is idempotent (a span whose cost does not change is not
// rewritten).
//
// Thread-safety: plain values and free functions.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/env.h"
#include "common/status.h"
#include "model/span.h"
#include "store/string_pool.h"
#include "store/trace_agg.h"

namespace sightline::store {

struct RepriceProgress {
  uint64_t segments_total = 0, segments_done = 0;  // files holding spans of the period
  uint64_t segments_rewritten = 0;                 // of those done, files that changed
  uint64_t spans_examined = 0, spans_repriced = 0;  // spans of the period; those whose cost changed
  double cost_before_usd = 0, cost_after_usd = 0;   // cost_usd of the repriced spans
};

struct RepriceRequest {
  int64_t from_ns = 0, to_ns = 0;  // spans whose start is in [from_ns, to_ns]
  // Sets a span's cost fields (cost_usd, computed_cost_usd, cost_source) from the
  // catalogue in force; true when it changed any. It must change nothing else. Called
  // from the store's thread for every stored span of the period.
  std::function<bool(model::Span*)> reprice;
  // After each file (from the caller's thread). May be empty.
  std::function<void(const RepriceProgress&)> progress;
  // After each file is installed (from the caller's thread), once per span whose
  // cost_usd changed: its project, agent_name, model and kind, and its cost_usd before
  // and after (0 when it had or has none). May be empty. (The /metrics correction
  // counter, docs/pricing.md.)
  struct CostDelta {
    std::string_view project, agent, model;
    uint8_t kind = 0;
    double before = 0, after = 0;
  };
  std::function<void(const CostDelta&)> cost_changed;
  // Polled between files and traces; true stops the reprice (Cancelled-like
  // Unavailable). Files finished before stay repriced.
  std::function<bool()> cancelled;
};

// One span whose cost a rewrite changed: its rollup tuple (ids in a StringPool the
// holder names), the minute it counts in, and its cost before and after.
struct CostChange {
  TraceKey trace;
  int64_t start_ns = 0;
  uint32_t project = 0, agent = 0, tool = 0, model = 0, service = 0, environment = 0;
  uint8_t status = 0, kind = 0;
  bool had_cost = false, has_cost = false;
  double before = 0, after = 0;
};

// A file step in flight (DATA/REPRICE).
struct RepriceStep {
  uint64_t seq = 0;                   // increases by one per installed step, across runs
  std::vector<uint64_t> outputs;      // file numbers the step installs
  std::unique_ptr<StringPool> pool = std::make_unique<StringPool>();  // strings of changes
  std::vector<CostChange> changes;
};

// DATA/REPRICE: "SLREPR01", u64 seq, varint output count and numbers, varint string
// count and strings (length-prefixed), varint change count and changes (16-byte trace
// id, zigzag start, six varint string indexes, u8 status, u8 kind, u8 flags: 1 had a
// cost, 2 has one; f64 before, f64 after), then XXH3-64 of everything before it.
inline constexpr const char* kRepriceFile = "REPRICE";
void EncodeRepriceStep(const RepriceStep& step, std::string* out);
// Corruption when the bytes are not a complete, intact file.
Status DecodeRepriceStep(std::string_view in, RepriceStep* out);
// NotFound when there is no step in flight.
Status ReadRepriceStep(Env* env, const std::string& dir, RepriceStep* out);
Status WriteRepriceStep(Env* env, const std::string& dir, const RepriceStep& step);
Status RemoveRepriceStep(Env* env, const std::string& dir);

// The SpanFacts a rollup needs to find change's row (strings from pool).
SpanFacts FactsOf(const CostChange& change, const StringPool& pool);

}  // namespace sightline::store
