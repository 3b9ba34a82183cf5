// EmbeddedStore tail sampling (docs/sampling.md, store/sampling/).
//
// When: a sweep (SweepSamplingLocked) at the start of every flush, every
// sampling_interval_ms on the compaction thread, and on SampleNow. It decides every
// undecided trace that is complete by its merged aggregate (the trace index's: every
// span received so far, wherever it lives), so a run whose spans went out in several
// flushes is judged whole, once. Every span was acknowledged (it is in the WAL) and
// counted in the rollups (Memtable::Add) long before.
//
// How a drop stays dropped (like a deletion on request, store/deletion): in one
// exclusive-lock step, DATA/SAMPLING is rewritten with the trace's id, the segment files
// that hold its spans and the last WAL file that may; then the trace leaves the index
// (queries no longer see it). Flushes leave its spans out, late spans of it are
// dropped when applied, and compaction, retention, repricing and salvage drop it from
// the files they rewrite. Its entry is pruned once none of those files is live and the
// WAL files are flushed. A crash before the file is renamed into place changes
// nothing (the trace is still undecided and is judged again, the same way); after,
// Open hides it again from the entry.
//
// Once: a kept trace leaves the undecided set for good (late spans do not bring it
// back); the file's decided_until_ns says which traces were decided before a restart.
#include <algorithm>

#include "store/embedded_store.h"

namespace sightline::store {

namespace {
constexpr size_t kMaxSampledOut = size_t{1} << 20;

enum class Judgement { kWait, kForget, kDecided };

// The verdict on trace id as of now (mu_ held by the caller).
Judgement Judge(const TraceIndex& index, const sampling::SamplingOptions& opts, const TraceKey& id, int64_t now,
              sampling::Decision* d, std::string_view* project, uint32_t* record) {
  auto ti = index.Find(id);
  if (!ti) return Judgement::kForget;  // deleted on request, or gone by retention
  const TraceAgg& a = index.record(*ti).agg;
  *project = index.pool().Get(a.project);
  *record = *ti;
  const sampling::SamplingPolicy& p = opts.For(*project);
  if (!p.enabled()) return Judgement::kForget;  // its project stopped sampling (a reload): kept, not counted
  if (!sampling::Complete(p, a.has_root, a.start_ns, a.end_ns, now)) return Judgement::kWait;
  const auto status = a.Status();
  *d = sampling::Decide(p, a.error_count > 0 || status == model::v1::STATUS_ERROR,
                        a.interrupt_count > 0 || status == model::v1::STATUS_INTERRUPT,
                        a.flagged || a.eval_failed || p.FlagsScore(a.min_score),
                        index.pool().Get(a.session_id), id);
  return Judgement::kDecided;
}
}  // namespace

std::vector<SamplingCount> EmbeddedStore::SamplingCounts() {
  std::vector<SamplingCount> out;
  std::shared_lock<std::shared_mutex> r(mu_);
  for (const auto& [k, n] : sample_state_.counts)
    out.push_back({std::get<0>(k), std::get<1>(k), sampling::ReasonName(static_cast<sampling::Reason>(std::get<2>(k))), n});
  return out;
}

Status EmbeddedStore::SetSampling(const sampling::SamplingOptions& sampling) {
  SL_RETURN_IF_ERROR(sampling.Validate());
  std::unique_lock<std::shared_mutex> w(mu_);
  sampling_ = sampling;
  return Status::OK();
}

Status EmbeddedStore::SampleNow(int64_t now_ns) {
  std::lock_guard<std::mutex> l(sample_mu_);
  return SweepSamplingLocked(now_ns);
}

void EmbeddedStore::RebuildUndecidedLocked() {
  undecided_.clear();
  const int64_t until = sample_state_.decided_until_ns;
  for (uint32_t i = 0; i < index_.size(); ++i) {
    const TraceRecord& r = index_.record(i);
    auto found = index_.Find(r.id);
    if (!found || *found != i) continue;  // a removed record
    const TraceAgg& a = r.agg;
    const sampling::SamplingPolicy& p = sampling_.For(index_.pool().Get(a.project));
    if (p.enabled() && !sampling::Complete(p, a.has_root, a.start_ns, a.end_ns, until)) undecided_.insert(r.id);
  }
}

Status EmbeddedStore::SweepSamplingLocked(int64_t now) {
  // A look under the shared lock first: most sweeps find nothing to do.
  auto live_files = [this] {
    std::vector<uint64_t> live;
    for (const Slot& s : files_)
      if (s.file) live.push_back(s.meta.number);
    std::sort(live.begin(), live.end());
    return live;
  };
  auto on_disk = [this](const sampling::PendingDrop& d, const std::vector<uint64_t>& live) {
    return d.wal > flushed_wal_ ||
           std::any_of(d.files.begin(), d.files.end(), [&](uint64_t f) { return std::binary_search(live.begin(), live.end(), f); });
  };
  {
    std::shared_lock<std::shared_mutex> r(mu_);
    bool work = sample_dirty_;
    for (auto it = undecided_.begin(); !work && it != undecided_.end(); ++it) {
      sampling::Decision d;
      std::string_view project;
      uint32_t rec = 0;
      work = Judge(index_, sampling_, *it, now, &d, &project, &rec) != Judgement::kWait;
    }
    if (!work && !sample_state_.drops.empty()) {
      const std::vector<uint64_t> live = live_files();
      for (auto it = sample_state_.drops.begin(); !work && it != sample_state_.drops.end(); ++it)
        work = !on_disk(it->second, live);
    }
    if (!work) return Status::OK();
  }
  std::unique_lock<std::shared_mutex> w(mu_);
  sampling::SamplingState next;
  next.decided_until_ns = std::max(sample_state_.decided_until_ns, now);
  next.counts = sample_state_.counts;
  const std::vector<uint64_t> live = live_files();
  std::vector<TraceKey> pruned;
  for (const auto& [id, d] : sample_state_.drops) {
    if (on_disk(d, live)) {
      next.drops.emplace(id, d);
    } else {
      pruned.push_back(id);
    }
  }
  std::vector<TraceKey> settled;             // kept, or nothing to decide: leave the undecided set
  std::vector<std::pair<TraceKey, uint32_t>> dropped;  // and their records
  for (const TraceKey& id : undecided_) {
    sampling::Decision d;
    std::string_view project;
    uint32_t rec = 0;
    Judgement v = Judge(index_, sampling_, id, now, &d, &project, &rec);
    if (v == Judgement::kWait) continue;
    if (v == Judgement::kDecided) ++next.counts[{std::string(project), d.keep, static_cast<int>(d.reason)}];
    if (v == Judgement::kForget || d.keep) {
      settled.push_back(id);
      continue;
    }
    sampling::PendingDrop pd;
    pd.wal = apply_wal_;
    for (const SegLoc& loc : index_.record(rec).segs) {
      const uint64_t n = files_[loc.segment].meta.number;
      if (std::find(pd.files.begin(), pd.files.end(), n) == pd.files.end()) pd.files.push_back(n);
    }
    next.drops[id] = std::move(pd);
    dropped.emplace_back(id, rec);
  }
  if (settled.empty() && dropped.empty() && pruned.empty() && !sample_dirty_) return Status::OK();
  // Durable before anything is hidden: a crash after this rename finds the drops in the file.
  SL_RETURN_IF_ERROR(sampling::WriteSamplingState(env_, opts_.dir, next).WithContext("writing the sampling state"));
  sample_state_ = std::move(next);
  sample_dirty_ = false;
  for (const TraceKey& id : settled) undecided_.erase(id);
  if (sampled_out_.size() + pruned.size() > kMaxSampledOut) sampled_out_.clear();
  // A pruned drop's data is gone from disk; late spans of it are still dropped while
  // the server remembers it.
  for (const TraceKey& id : pruned) sampled_out_.insert(id);
  for (const auto& [id, rec] : dropped) {
    undecided_.erase(id);
    DropTraceLocked(rec);
  }
  index_bytes_ = static_cast<int64_t>(index_.MemoryBytes());
  return Status::OK();
}

}  // namespace sightline::store
