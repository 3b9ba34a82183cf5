// EmbeddedStore tail sampling (docs/sampling.md, store/sampling/sampling_policy.h).
//
// Where: at flush. Every span was acknowledged (it is in the WAL) and counted in the
// rollups (Memtable::Add) long before. A trace is decided here only when the whole of
// it is in the memtable being flushed (no part in a segment or in the live memtable)
// and it is complete by the policy's clock; anything else is written as usual and kept
// for good (counted as "incomplete"): sampling may drop data late, never a trace it
// could not judge whole. A dropped trace leaves the index in one exclusive-lock step
// (re-checking that no span of it arrived meanwhile), its spans are left out of the
// segment, and the WAL files that held them go with the flush like any other.
#include <algorithm>

#include "store/embedded_store.h"

namespace sightline::store {

namespace {
constexpr size_t kMaxSampledOut = size_t{1} << 20;
}

void EmbeddedStore::CountSampling(std::string_view project, bool kept, sampling::Reason reason, int64_t n) {
  std::lock_guard<std::mutex> l(sampling_mu_);
  sampling_counts_[{std::string(project), kept, static_cast<int>(reason)}] += n;
}

std::vector<SamplingCount> EmbeddedStore::SamplingCounts() {
  std::vector<SamplingCount> out;
  std::lock_guard<std::mutex> l(sampling_mu_);
  for (const auto& [k, n] : sampling_counts_)
    out.push_back({std::get<0>(k), std::get<1>(k), sampling::ReasonName(static_cast<sampling::Reason>(std::get<2>(k))), n});
  return out;
}

void EmbeddedStore::SampleForFlush(const Memtable& imm, std::unordered_set<TraceKey, TraceKeyHash>* drop) {
  const int64_t now = env_->NowNanos();
  struct Candidate {
    TraceKey id;
    std::string project;
  };
  std::vector<Candidate> candidates;
  std::map<std::pair<std::string, int>, int64_t> kept;  // counted once the lock is released
  const auto& traces = imm.traces();
  constexpr size_t kChunk = 1024;
  for (size_t begin = 0; begin < traces.size(); begin += kChunk) {
    std::shared_lock<std::shared_mutex> r(mu_);
    for (size_t i = begin; i < std::min(traces.size(), begin + kChunk); ++i) {
      const Memtable::Trace& t = traces[i];
      if (DeletedLocked(t.id)) continue;
      auto ti = index_.Find(t.id);
      if (!ti) continue;
      const TraceRecord& rec = index_.record(*ti);
      const TraceAgg& a = rec.agg;
      std::string_view project = index_.pool().Get(a.project);
      const sampling::SamplingPolicy& p = opts_.sampling.For(project);
      if (!p.enabled()) continue;
      const bool whole = rec.segs.empty() && !mem_->Find(t.id);
      if (!whole || !sampling::Complete(p, a.has_root, a.start_ns, a.end_ns, now)) {
        ++kept[{std::string(project), static_cast<int>(sampling::Reason::kIncomplete)}];
        continue;
      }
      const auto status = a.Status();
      auto d = sampling::Decide(p, a.error_count > 0 || status == model::v1::STATUS_ERROR,
                                a.interrupt_count > 0 || status == model::v1::STATUS_INTERRUPT, t.flagged,
                                index_.pool().Get(a.session_id), t.id);
      if (d.keep) {
        ++kept[{std::string(project), static_cast<int>(d.reason)}];
      } else {
        candidates.push_back({t.id, std::string(project)});
      }
    }
  }
  std::vector<Candidate> dropped;
  if (!candidates.empty()) {
    std::unique_lock<std::shared_mutex> w(mu_);
    if (sampled_out_.size() + candidates.size() > kMaxSampledOut) sampled_out_.clear();
    for (auto& c : candidates) {
      auto ti = index_.Find(c.id);
      if (!ti) continue;
      if (!index_.record(*ti).segs.empty() || mem_->Find(c.id)) {  // a span arrived meanwhile
        ++kept[{c.project, static_cast<int>(sampling::Reason::kIncomplete)}];
        continue;
      }
      index_.Remove(*ti);
      sampled_out_.insert(c.id);
      drop->insert(c.id);
      dropped.push_back(std::move(c));
    }
    index_bytes_ = static_cast<int64_t>(index_.MemoryBytes());
  }
  for (const auto& [k, n] : kept) CountSampling(k.first, true, static_cast<sampling::Reason>(k.second), n);
  for (const auto& c : dropped) CountSampling(c.project, false, sampling::Reason::kSampledOut);
}

}  // namespace sightline::store
