// EmbeddedStore repricing (store/reprice/reprice.h has the steps and their crash
// safety; docs/pricing.md "Repricing a period" the user's view).
//
// Reprice flushes the memtable (so every stored span of the period is in a segment
// file), then, holding compact_mu_ (no compaction or retention meanwhile), rewrites each
// file that may hold spans of the period through compaction::Merge with a reprice
// hook. A file none of whose spans changes is left as it is (its new copy is removed).
// A changed file is installed like a compaction's output; in the same exclusive-lock
// step the trace aggregates (and so trace and session summaries and run rollups) and
// the span rollups trade each changed span's old cost for its new one.
#include <algorithm>
#include <array>

#include "store/embedded_store.h"

namespace sightline::store {

Result<RepriceProgress> EmbeddedStore::Reprice(const RepriceRequest& req) {
  if (!req.reprice) return Status::InvalidArgument("reprice: no pricing function");
  if (req.from_ns > req.to_ns) return Status::InvalidArgument("reprice: `from` is after `to`");
  {
    std::lock_guard<std::mutex> l(q_mu_);
    if (closing_) return Status::Unavailable("store is closed");
  }
  std::lock_guard<std::mutex> run(reprice_mu_);
  if (!reprice_blocked_.ok()) return reprice_blocked_;
  auto stopped = [&] { return comp_stop_flag_.load() || (req.cancelled && req.cancelled()); };
  // Spans still in the memtables go to segment files first: afterwards every stored
  // span of the period is in a file (spans arriving from now on are priced at ingest
  // with the catalogue in force).
  SL_RETURN_IF_ERROR(FlushNow().WithContext("reprice: flushing the memtable"));
  std::lock_guard<std::mutex> c(compact_mu_);
  struct Live {
    uint64_t number;
    int64_t partition;
    std::shared_ptr<SegmentFile> file;
  };
  std::vector<Live> files;
  {
    std::shared_lock<std::shared_mutex> r(mu_);
    for (const Slot& s : files_) {
      if (!s.file) continue;
      const bool bounds_known = s.meta.min_start_ns != 0 || s.meta.max_end_ns != 0;
      // A span starting in the period lies in a file whose [min start, max end] meets it.
      if (bounds_known && (s.meta.min_start_ns > req.to_ns || s.meta.max_end_ns < req.from_ns)) continue;
      files.push_back({s.meta.number, s.meta.partition, s.file});
    }
  }
  RepriceProgress p;
  p.segments_total = files.size();
  if (req.progress) req.progress(p);
  Status first;
  for (const Live& l : files) {
    if (stopped()) return Status::Unavailable("reprice stopped after " + std::to_string(p.segments_done) + " of " +
                                              std::to_string(p.segments_total) + " files");
    if (std::find(damaged_.begin(), damaged_.end(), l.number) != damaged_.end()) {
      if (first.ok()) first = Status::Unavailable(l.file->path() + " is damaged: repriced once salvaged");
      ++p.segments_done;
      continue;
    }
    uint64_t examined = 0;
    compaction::MergeHooks hooks;
    hooks.env = env_;
    hooks.dir = seg_dir_;
    hooks.new_file_number = [this] { return manifest_->NewFileNumber(); };
    hooks.partition_of = [part = l.partition](const TraceKey&, const TraceAgg&, const StringPool&) { return part; };
    hooks.fate = [this](const TraceKey& id, const TraceAgg&, const StringPool&) {
      std::shared_lock<std::shared_mutex> r(mu_);
      return GoneLocked(id) ? retention::Fate::kGone : retention::Fate::kFull;
    };
    hooks.stop = stopped;
    hooks.max_output_bytes = opts_.compaction.max_output_bytes;
    hooks.format = opts_.segment_format;
    hooks.reprice = [&](model::Span* s) {
      if (s->start_ns() < req.from_ns || s->start_ns() > req.to_ns) return false;
      ++examined;
      return req.reprice(s);
    };
    auto merged = compaction::Merge({l.file}, hooks);
    if (!merged.ok()) {
      if (merged.status().code() == StatusCode::kCorruption) {
        damaged_.push_back(l.number);
        ReportDamage(l.number);  // salvaged by the compaction thread; reprice again then
        if (first.ok()) first = merged.status().WithContext("reprice");
        ++p.segments_done;
        continue;
      }
      return merged.status().WithContext("reprice: rewriting " + l.file->path());
    }
    p.spans_examined += examined;
    ++p.segments_done;
    if (merged->spans_repriced == 0) {  // nothing changes: keep the file
      for (auto& o : merged->outputs) (void)env_->RemoveFile(o.file->path());
      if (req.progress) req.progress(p);
      continue;
    }
    for (const CostChange& ch : merged->cost_changes) {
      p.cost_before_usd += ch.had_cost ? ch.before : 0;
      p.cost_after_usd += ch.has_cost ? ch.after : 0;
    }
    p.spans_repriced += merged->spans_repriced;
    // The changes, for the caller, before InstallRepriced takes them (their strings too).
    std::vector<std::array<std::string, 3>> names;
    std::vector<RepriceRequest::CostDelta> deltas;
    if (req.cost_changed) {
      const StringPool& pool = *merged->change_pool;
      for (const CostChange& ch : merged->cost_changes) {
        names.push_back({std::string(pool.Get(ch.project)), std::string(pool.Get(ch.agent)), std::string(pool.Get(ch.model))});
        RepriceRequest::CostDelta d;
        d.kind = ch.kind;
        d.before = ch.had_cost ? ch.before : 0;
        d.after = ch.has_cost ? ch.after : 0;
        deltas.push_back(d);
      }
    }
    SL_RETURN_IF_ERROR(InstallRepriced(l.number, &merged.value()));
    for (size_t i = 0; i < deltas.size(); ++i) {
      deltas[i].project = names[i][0];
      deltas[i].agent = names[i][1];
      deltas[i].model = names[i][2];
      req.cost_changed(deltas[i]);
    }
    ++p.segments_rewritten;
    Log("reprice: rewrote " + l.file->path() + " (" + std::to_string(merged->spans_repriced) + " spans repriced, " +
        std::to_string(merged->cost_changes.size()) + " costs changed)");
    if (req.progress) req.progress(p);
  }
  if (!first.ok()) return first;
  return p;
}

Status EmbeddedStore::InstallRepriced(uint64_t number, compaction::MergeResult* merged) {
  std::lock_guard<std::mutex> rf(rollup_file_mu_);
  RepriceStep step;
  bool journaled = false;
  if (rollups_on_ && !merged->cost_changes.empty()) {
    uint64_t base_covered;
    {
      std::shared_lock<std::shared_mutex> r(mu_);
      step.seq = rollup_base_.rewrite_seq() + 1;
      base_covered = rollup_base_covered_;
    }
    // Open applies a step's changes to the rollups of the file, after adding the WAL
    // files it does not cover yet: those must not hold spans this step reprices, so the
    // file must cover every flushed span before the step starts.
    if (rollup_covered_wal_.load() < base_covered)
      SL_RETURN_IF_ERROR(PersistRollupsLocked().WithContext("reprice: writing the rollup file"));
    for (const auto& o : merged->outputs) step.outputs.push_back(o.meta.number);
    step.pool = std::move(merged->change_pool);
    step.changes = std::move(merged->cost_changes);
    SL_RETURN_IF_ERROR(WriteRepriceStep(env_, opts_.dir, step).WithContext("reprice: writing the journal"));
    journaled = true;
  } else {
    step.pool = std::move(merged->change_pool);
    step.changes = std::move(merged->cost_changes);
  }
  Status installed = Install({number}, merged, /*quarantine=*/false, [&] {
    for (const CostChange& c : step.changes) {
      if (auto ti = index_.Find(c.trace)) index_.AdjustCost(*ti, (c.has_cost ? c.after : 0) - (c.had_cost ? c.before : 0));
      if (journaled)
        rollup_base_.AdjustCost(FactsOf(c, *step.pool), c.had_cost, c.before, c.has_cost, c.after, &index_.pool());
    }
    if (journaled) rollup_base_.set_rewrite_seq(step.seq);
  });
  if (!installed.ok()) {
    // The manifest edit may or may not be on disk: the journal must stay as it is
    // until Open decides from the manifest, so no further step may overwrite it.
    if (journaled) reprice_blocked_ = installed.WithContext("a reprice step could not be installed (restart to recover)");
    return installed;
  }
  if (!journaled) return Status::OK();
  Status persisted = PersistRollupsLocked();
  if (!persisted.ok()) {
    // The base holds the step and will be written by the next flush; the journal stays
    // (Open finds the file's rewrite_seq and knows whether to apply it).
    reprice_blocked_ = persisted.WithContext("the rollup file could not be written after a reprice step");
    return persisted;
  }
  return RemoveRepriceStep(env_, opts_.dir);
}

Status EmbeddedStore::RecoverRepriceStep(const manifest::ManifestState& state) {
  RepriceStep step;
  Status s = ReadRepriceStep(env_, opts_.dir, &step);
  if (s.code() == StatusCode::kNotFound) return Status::OK();
  if (!s.ok()) {
    // Written by rename, so damage is the disk's: whether the rollups hold the step is
    // unknown, so they are set aside as a damaged rollup file is (queries scan).
    Log("REPRICE JOURNAL CORRUPTION: " + s.ToString() + "; span-level metrics scan spans");
    recovery_.corruptions.push_back(s.ToString());
    if (rollups_on_) {
      const std::string path = JoinPath(opts_.dir, "ROLLUPS");
      if (env_->FileExists(path)) (void)env_->RenameFile(path, path + ".corrupt");
      rollups_on_ = false;
    }
    return RemoveRepriceStep(env_, opts_.dir);
  }
  const bool installed = std::any_of(step.outputs.begin(), step.outputs.end(),
                                     [&](uint64_t n) { return state.files.count(n) > 0; });
  bool applied = false;
  if (installed && rollups_on_) {
    std::unique_lock<std::shared_mutex> w(mu_);
    if (rollup_base_.rewrite_seq() < step.seq) {
      for (const CostChange& c : step.changes)
        rollup_base_.AdjustCost(FactsOf(c, *step.pool), c.had_cost, c.before, c.has_cost, c.after, &index_.pool());
      rollup_base_.set_rewrite_seq(step.seq);
      applied = true;
    }
  }
  if (applied) {
    Log("reprice: the rollups took the " + std::to_string(step.changes.size()) +
        " cost changes of a reprice step interrupted before its rollup write");
    if (Status p = PersistRollups(); !p.ok()) {
      // The journal stays: the next Open finds the file's older rewrite_seq again.
      Log("reprice recovery: could not write the rollup file (the journal stays): " + p.ToString());
      return Status::OK();
    }
  }
  return RemoveRepriceStep(env_, opts_.dir);
}

}  // namespace sightline::store
