// TraceIndex: the store-wide view of every trace, whichever of the memtables and
// segments hold its spans: the merged aggregate (what search filters and returns),
// where its spans live in segments, and the session summaries derived from the trace
// aggregates grouped by (project, session_id), kept up to date incrementally.
//
// Invariants: a trace's record index never changes once assigned (records live in a
// deque and are never removed: a trace retention deletes stays as an empty tombstone,
// span_count 0, no longer found by id); every trace with a session id is listed in exactly
// one session, the one its aggregate names; session totals equal the sums over their
// traces' aggregates.
// Thread-safety: none inside; the store guards it with its shared_mutex.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <unordered_map>
#include <vector>

#include "model/summary.h"
#include "store/rollup/rollup.h"
#include "store/string_pool.h"
#include "store/trace_agg.h"

namespace sightline::store {

// Where one trace's spans sit inside one segment file.
struct SegLoc {
  uint32_t segment = 0;  // slot in the store's segment list (slots are never reused)
  uint32_t length = 0;
  uint64_t offset = 0;
  uint64_t checksum = 0;
};

struct TraceRecord {
  TraceKey id;
  TraceAgg agg;
  std::vector<SegLoc> segs;  // oldest segment first
};

class TraceIndex {
 public:
  struct Session {
    uint32_t project = 0, session_id = 0, user_id = 0;
    int64_t first_start_ns = 0, last_end_ns = 0;
    int64_t span_count = 0, error_traces = 0, input_tokens = 0, output_tokens = 0;
    double cost_usd = 0;
    std::vector<uint32_t> traces;  // record indexes
  };

  StringPool& pool() { return pool_; }
  const StringPool& pool() const { return pool_; }

  // The record of id, created (empty) when new.
  uint32_t FindOrAdd(const TraceKey& id);
  std::optional<uint32_t> Find(const TraceKey& id) const;
  const TraceRecord& record(uint32_t i) const { return records_[i]; }
  // record(i).agg.start_ns from a compact array: a search ranking by start time reads
  // these 8 bytes to rule a trace out before touching its record.
  int64_t start_ns(uint32_t i) const { return starts_[i]; }
  size_t size() const { return records_.size(); }

  void AddSpan(uint32_t i, const SpanFacts& f);
  void RemoveCounts(uint32_t i, const SpanCounts& c);
  // Batches the session and run-rollup update of trace i over the AddSpan and
  // RemoveCounts calls that follow, until Release (or a Hold of another trace): a batch
  // of a trace's spans moves its session and run rows once, from the trace's state at
  // Hold to its state at Release, which is where the changes one by one would have
  // left them. Other changes (MergePartial, Remove) release first.
  void Hold(uint32_t i) {
    Release();
    held_ = i;
    held_before_ = ContributionOf(i);
  }
  void Release() {
    if (held_ == kNotHeld) return;
    const uint32_t i = held_;
    held_ = kNotHeld;
    UpdateSession(i, held_before_, ContributionOf(i));
  }
  // A stored span's cost changed by delta (a reprice): the trace's cost, its session's
  // and its run rollup row follow.
  void AdjustCost(uint32_t i, double delta);
  void MergePartial(uint32_t i, const TraceAgg& partial);
  void AddSegLoc(uint32_t i, const SegLoc& loc) { records_[i].segs.push_back(loc); }
  // Compaction: drops the locations whose slot is_old names, adds loc (when given), and
  // re-sorts the locations oldest first by age_of(slot).
  void ReplaceSegLocs(uint32_t i, const std::function<bool(uint32_t)>& is_old, const SegLoc* loc,
                      const std::function<uint64_t(uint32_t)>& age_of);
  // Retention: forgets trace i entirely (it leaves its session; its id is free again).
  void Remove(uint32_t i);

  // Sessions.
  const Session* FindSession(uint32_t project, uint32_t session_id) const;
  // The status of the session's latest trace (by start, then record index).
  model::v1::SpanStatus SessionStatus(const Session& s) const;
  const std::vector<uint32_t>& projects() const { return projects_; }
  template <typename F>
  void ForEachSession(F&& f) const {
    for (const Session& s : sessions_) f(s);
  }
  model::SessionSummary SessionSummaryOf(const Session& s) const;

  size_t MemoryBytes() const;

  // Run rollups (docs/architecture.md "Rollups"): every trace with spans counted once,
  // as its merged aggregate says, per minute (then hour, day) and (project, agent,
  // service, environment, status); kept in step with every change to an aggregate, so
  // trace-level totals need not visit every record. Off until enabled (before any
  // trace is added).
  // The per-user run rollup keeps the same runs by (project, user, status) with their
  // cost sketch only, so cost and runs per user (top by user, with the median) need not
  // visit every record either.
  void EnableRuns(size_t max_tuples_per_bucket) {
    runs_ = rollup::RollupTable(max_tuples_per_bucket);
    user_runs_ = rollup::RollupTable(max_tuples_per_bucket, kSketchCost);
    runs_on_ = true;
  }
  bool runs_enabled() const { return runs_on_; }
  const rollup::RollupTable& runs() const { return runs_; }
  const rollup::RollupTable& user_runs() const { return user_runs_; }
  void FoldRuns(const rollup::Cuts& cuts) {
    runs_.Fold(cuts);
    user_runs_.Fold(cuts);
  }

 private:
  struct Contribution {
    uint64_t key = 0;  // 0: no session
    uint32_t user_id = 0;
    int64_t start = 0, end = 0, spans = 0, in = 0, out = 0;
    double cost = 0;
    bool error = false;
    rollup::RunFacts run;
  };
  static uint64_t SessionKey(uint32_t project, uint32_t session_id) {
    return session_id == 0 ? 0 : (static_cast<uint64_t>(project) << 32) | session_id;
  }
  Contribution ContributionOf(uint32_t i) const;
  void UpdateSession(uint32_t i, const Contribution& before, const Contribution& after);
  void Recompute(Session* s) const;
  int64_t LatestTrace(const Session& s) const;

  StringPool pool_;
  std::deque<TraceRecord> records_;
  std::vector<int64_t> starts_;  // records_[i].agg.start_ns, kept in step
  std::unordered_map<TraceKey, uint32_t, TraceKeyHash> ids_;
  // Sessions in one array (a scan over every session, as top sessions by cost makes,
  // reads them in order instead of chasing a node per session: 840 ns -> a few ns a
  // session at 100k sessions), found by key through session_at_. Removing one moves the
  // last into its place, so a Session pointer is good only until the next change.
  std::vector<Session> sessions_;
  std::unordered_map<uint64_t, uint32_t> session_at_;
  std::vector<uint32_t> projects_;  // distinct project ids seen
  size_t agg_bytes_ = 0;
  bool runs_on_ = false;
  rollup::RollupTable runs_, user_runs_;
  static constexpr uint32_t kNotHeld = UINT32_MAX;
  uint32_t held_ = kNotHeld;  // Hold
  Contribution held_before_;
};

}  // namespace sightline::store
