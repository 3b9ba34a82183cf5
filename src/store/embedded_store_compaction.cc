// EmbeddedStore compaction and retention: the background thread, choosing work,
// and installing a merge's output (manifest edit, then one exclusive-lock step that
// swaps file slots and remaps trace locations). The merge itself is
// store/compaction/compaction.cc; the policy arithmetic store/retention/.
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <unordered_set>

#include "store/columnar/columnar_reader.h"
#include "store/embedded_store.h"
#include "store/segment/segment_reader.h"

namespace sightline::store {

void EmbeddedStore::CompactLoop() {
  if (opts_.compaction.lower_priority) {
    // Ingest and queries come first: this thread runs at a lower CPU priority.
    (void)setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 10);
  }
  int failures = 0;
  int64_t next_retention = 0, next_sampling = 0;
  for (;;) {
    int64_t wait_ms = failures > 0 ? Backoff(failures) : std::max<int64_t>(1, opts_.compaction.interval_ms);
    {
      std::unique_lock<std::mutex> l(comp_wait_mu_);
      comp_cv_.wait_for(l, std::chrono::milliseconds(wait_ms), [&] { return comp_stop_ || !salvage_queue_.empty(); });
      if (comp_stop_) return;
    }
    Status s;
    for (;;) {
      uint64_t number = 0;
      {
        std::lock_guard<std::mutex> l(comp_wait_mu_);
        if (salvage_queue_.empty()) break;
        number = salvage_queue_.front();
        salvage_queue_.erase(salvage_queue_.begin());
      }
      std::lock_guard<std::mutex> c(compact_mu_);
      if (comp_stop_flag_) return;
      if (Status v = SalvageOne(number); !v.ok()) {
        s = v;
        std::lock_guard<std::mutex> l(comp_wait_mu_);
        salvage_queue_.push_back(number);  // retried after the backoff
        break;
      }
    }
    if (env_->MonotonicNanos() >= next_sampling) {
      // Tail sampling: traces that became complete since the last flush or sweep.
      std::lock_guard<std::mutex> sm(sample_mu_);
      if (comp_stop_flag_) return;
      Status w = SweepSamplingLocked(env_->NowNanos());
      if (!w.ok()) Log("sampling: a sweep failed (its traces stay undecided; retried): " + w.ToString());
      next_sampling = env_->MonotonicNanos() + std::max<int64_t>(1, opts_.sampling_interval_ms) * 1000000;
    }
    if (s.ok() && deletions_pending_) {  // a deletion whose rewrite failed: try again
      std::lock_guard<std::mutex> run(del_run_mu_);
      if (comp_stop_flag_) return;
      s = CompleteDeletionsLocked();
    }
    if (opts_.retention.Enabled() && env_->MonotonicNanos() >= next_retention) {
      std::lock_guard<std::mutex> c(compact_mu_);
      s = RetentionPass(env_->NowNanos());
      if (s.ok()) next_retention = env_->MonotonicNanos() + opts_.compaction.retention_interval_ms * 1000000;
    }
    if (s.ok() && opts_.compaction.enabled) {
      compaction_running_ = true;
      for (;;) {
        std::lock_guard<std::mutex> c(compact_mu_);
        if (comp_stop_flag_) return;
        auto did = CompactOnce();
        if (!did.ok()) {
          s = did.status();
          break;
        }
        if (!*did) break;
      }
      compaction_running_ = false;
    }
    if (s.ok()) {
      failures = 0;
    } else if (!comp_stop_flag_) {
      ++failures;
      Log("compaction failed (retrying in " + std::to_string(Backoff(failures)) + " ms): " + s.ToString());
    }
  }
}

Status EmbeddedStore::CompactNow() {
  std::lock_guard<std::mutex> c(compact_mu_);
  for (;;) {
    SL_ASSIGN_OR_RETURN(bool did, CompactOnce());
    if (!did) return Status::OK();
  }
}

Status EmbeddedStore::ApplyRetentionNow(int64_t now_ns) {
  std::lock_guard<std::mutex> c(compact_mu_);
  return RetentionPass(now_ns);
}

std::vector<manifest::FileMeta> EmbeddedStore::LiveSegments() {
  std::vector<manifest::FileMeta> out;
  std::shared_lock<std::shared_mutex> r(mu_);
  for (const Slot& s : files_)
    if (s.file) out.push_back(s.meta);
  return out;
}

retention::Fate EmbeddedStore::FateOf(const TraceKey& id, const TraceAgg& partial, const StringPool& pool,
                                      int64_t partition, int64_t now_ns) {
  std::string project;
  model::SpanStatus status;
  {
    // The merged aggregate decides (a failure may sit in another part of the trace).
    std::shared_lock<std::shared_mutex> r(mu_);
    if (GoneLocked(id)) return retention::Fate::kGone;  // deleted on request, or dropped by sampling
    auto ti = index_.Find(id);
    if (ti) {
      const TraceAgg& a = index_.record(*ti).agg;
      project = std::string(index_.pool().Get(a.project));
      status = a.Status();
    } else {
      project = std::string(pool.Get(partial.project));
      status = partial.Status();
    }
  }
  bool failed = status == model::v1::STATUS_ERROR || status == model::v1::STATUS_INTERRUPT;
  return retention::Decide(opts_.retention.For(project), failed,
                           retention::PartitionEndNs(partition, opts_.retention.partition_width_ns), now_ns);
}

Result<bool> EmbeddedStore::CompactOnce() {
  std::vector<manifest::FileMeta> live;
  for (const auto& m : LiveSegments())
    if (std::find(damaged_.begin(), damaged_.end(), m.number) == damaged_.end()) live.push_back(m);
  std::vector<uint64_t> numbers = compaction::PickSizeTiered(live, opts_.compaction);
  if (numbers.empty()) return false;
  std::vector<std::shared_ptr<SegmentFile>> inputs;
  uint64_t bytes = 0;
  int64_t partition = 0;
  {
    std::shared_lock<std::shared_mutex> r(mu_);
    for (const Slot& s : files_) {
      if (s.file && std::find(numbers.begin(), numbers.end(), s.meta.number) != numbers.end()) {
        inputs.push_back(s.file);
        bytes += s.meta.bytes;
        partition = s.meta.partition;
      }
    }
  }
  if (inputs.size() != numbers.size()) return Status::Internal("compaction picked a file that is not live");
  // Never fill the disk with a merge: it needs room for its output next to its inputs.
  auto free = env_->FreeSpace(opts_.dir);
  if (free.ok() && *free < bytes + opts_.min_free_bytes)
    return Status::Unavailable("disk full: compaction of " + std::to_string(bytes) + " bytes waits for space (" +
                               std::to_string(*free) + " bytes free)");
  compaction::MergeHooks hooks;
  hooks.env = env_;
  hooks.dir = seg_dir_;
  hooks.new_file_number = [this] { return manifest_->NewFileNumber(); };
  hooks.partition_of = [partition](const TraceKey&, const TraceAgg&, const StringPool&) { return partition; };
  hooks.fate = [this](const TraceKey& id, const TraceAgg&, const StringPool&) {
    std::shared_lock<std::shared_mutex> r(mu_);
    // Deleted on request, or dropped by tail sampling.
    return GoneLocked(id) ? retention::Fate::kGone : retention::Fate::kFull;
  };
  hooks.stop = [this] { return comp_stop_flag_.load(); };
  hooks.max_output_bytes = opts_.compaction.max_output_bytes;
  hooks.max_bytes_per_sec = opts_.compaction.max_bytes_per_sec;
  hooks.format = opts_.segment_format;
  auto merged = compaction::Merge(inputs, hooks);
  if (!merged.ok()) {
    if (merged.status().code() == StatusCode::kCorruption) {
      // A damaged input: leave this run alone (its other traces keep serving) rather
      // than retry it forever; reads of the damaged trace report the damage.
      for (uint64_t n : numbers) {
        damaged_.push_back(n);
        ReportDamage(n);  // each is checked; the damaged ones are salvaged and quarantined
      }
      ++corrupt_reads_;
      Log("SEGMENT CORRUPTION (compaction): " + merged.status().ToString() + "; checking its input files");
      return true;
    }
    return merged.status();
  }
  SL_RETURN_IF_ERROR(Install(numbers, &merged.value()));
  Log("compacted " + std::to_string(numbers.size()) + " segments (" + std::to_string(bytes) + " bytes) of partition " +
      std::to_string(partition) + " into " + std::to_string(merged->outputs.size()) + "; " +
      std::to_string(merged->duplicates) + " duplicate spans removed");
  return true;
}

Status EmbeddedStore::RetentionPass(int64_t now_ns) {
  if (!opts_.retention.Enabled()) return Status::OK();
  ExpireRollups(now_ns);
  const int64_t width = opts_.retention.partition_width_ns;
  std::map<int64_t, std::vector<manifest::FileMeta>> parts;
  for (const auto& m : LiveSegments()) parts[m.partition].push_back(m);
  for (const auto& part : parts) {
    // A plain variable, not a structured binding: the lambdas below capture it.
    const int64_t partition = part.first;
    if (comp_stop_flag_) return Status::OK();
    if (now_ns - retention::PartitionEndNs(partition, width) < opts_.retention.FirstThresholdNs()) continue;
    std::vector<uint64_t> numbers;
    std::vector<std::shared_ptr<SegmentFile>> inputs;
    {
      std::shared_lock<std::shared_mutex> r(mu_);
      for (const Slot& s : files_) {
        if (s.file && s.meta.partition == partition) {
          numbers.push_back(s.meta.number);
          inputs.push_back(s.file);
        }
      }
    }
    if (std::any_of(numbers.begin(), numbers.end(), [&](uint64_t n) {
          return std::find(damaged_.begin(), damaged_.end(), n) != damaged_.end();
        }))
      continue;
    // Decide from the tables alone (no span reads) whether anything changes, and
    // whether everything goes (then the files are dropped without being read).
    bool change = false, all_gone = true;
    std::vector<compaction::TraceOutcome> gone;
    StringPool pool;
    for (const auto& f : inputs) {
      Status s = f->ListTraces([&](const SegmentTraceEntry& e) -> Status {
        TraceAgg partial;
        if (!TraceAgg::Decode(e.agg, &pool, &partial)) return Status::Corruption(f->path() + ": malformed aggregate");
        retention::Fate fate = FateOf(e.id, partial, pool, partition, now_ns);
        retention::Fate now = e.loc.length == 0 ? retention::Fate::kSummary : retention::Fate::kFull;
        if (fate != now) change = true;
        if (fate != retention::Fate::kGone) all_gone = false;
        compaction::TraceOutcome o;
        o.id = e.id;
        o.fate = retention::Fate::kGone;
        gone.push_back(std::move(o));
        return Status::OK();
      });
      SL_RETURN_IF_ERROR(s);
    }
    if (!change) continue;
    compaction::MergeResult result;
    if (all_gone) {
      std::sort(gone.begin(), gone.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
      gone.erase(std::unique(gone.begin(), gone.end(), [](const auto& a, const auto& b) { return a.id == b.id; }),
                 gone.end());
      result.traces = std::move(gone);
    } else {
      compaction::MergeHooks hooks;
      hooks.env = env_;
      hooks.dir = seg_dir_;
      hooks.new_file_number = [this] { return manifest_->NewFileNumber(); };
      hooks.partition_of = [p = partition](const TraceKey&, const TraceAgg&, const StringPool&) { return p; };
      hooks.fate = [&, p = partition](const TraceKey& id, const TraceAgg& agg, const StringPool& pl) {
        return FateOf(id, agg, pl, p, now_ns);
      };
      hooks.stop = [this] { return comp_stop_flag_.load(); };
      hooks.max_output_bytes = opts_.compaction.max_output_bytes;
      hooks.max_bytes_per_sec = opts_.compaction.max_bytes_per_sec;
      hooks.format = opts_.segment_format;
      SL_ASSIGN_OR_RETURN(result, compaction::Merge(inputs, hooks));
    }
    SL_RETURN_IF_ERROR(Install(numbers, &result));
    Log("retention: partition " + std::to_string(partition) + (all_gone ? " dropped" : " rewritten") + " (" +
        std::to_string(numbers.size()) + " files)");
  }
  return Status::OK();
}

void EmbeddedStore::ReportDamage(uint64_t number) {
  {
    std::lock_guard<std::mutex> l(comp_wait_mu_);
    if (std::find(salvage_queue_.begin(), salvage_queue_.end(), number) != salvage_queue_.end()) return;
    salvage_queue_.push_back(number);
  }
  comp_cv_.notify_all();
}

Status EmbeddedStore::SalvageOne(uint64_t number) {
  std::shared_ptr<SegmentFile> file;
  int64_t partition = 0;
  {
    std::shared_lock<std::shared_mutex> r(mu_);
    for (const Slot& s : files_) {
      if (s.file && s.meta.number == number) {
        file = s.file;
        partition = s.meta.partition;
      }
    }
  }
  auto forget = [&] { damaged_.erase(std::remove(damaged_.begin(), damaged_.end(), number), damaged_.end()); };
  if (!file) {  // already replaced or quarantined
    forget();
    return Status::OK();
  }
  compaction::MergeHooks hooks;
  hooks.env = env_;
  hooks.dir = seg_dir_;
  hooks.new_file_number = [this] { return manifest_->NewFileNumber(); };
  hooks.partition_of = [partition](const TraceKey&, const TraceAgg&, const StringPool&) { return partition; };
  hooks.stop = [this] { return comp_stop_flag_.load(); };
  hooks.max_output_bytes = opts_.compaction.max_output_bytes;
  hooks.salvage = true;
  hooks.format = opts_.segment_format;
  hooks.fate = [this](const TraceKey& id, const TraceAgg&, const StringPool&) {
    std::shared_lock<std::shared_mutex> r(mu_);  // deleted or sampled out: not copied
    return GoneLocked(id) ? retention::Fate::kGone : retention::Fate::kFull;
  };
  auto merged = compaction::Merge({file}, hooks);
  if (!merged.ok()) return merged.status().WithContext("salvaging " + file->path());
  if (merged->damaged_parts == 0) {
    // Every trace reads: the damage was elsewhere (or transient). Keep the file.
    for (auto& o : merged->outputs) (void)env_->RemoveFile(o.file->path());
    forget();
    Log("segment check: " + file->path() + " reads whole; kept");
    return Status::OK();
  }
  const uint64_t parts = merged->damaged_parts, traces = merged->traces.size();
  const uint64_t lost = merged->spans_lost, rebuilt = merged->spans_rebuilt;
  const std::string first = merged->damage.empty() ? "" : merged->damage.front();
  SL_RETURN_IF_ERROR(Install({number}, &merged.value(), /*quarantine=*/true));
  forget();
  Log("SEGMENT CORRUPTION: " + file->path() + ": " + std::to_string(parts) + " of " + std::to_string(traces) +
      " traces damaged: " + std::to_string(lost) + " spans lost, " + std::to_string(rebuilt) +
      " of their spans kept (those missing a damaged field say so in the attribute " +
      columnar::ColumnarReader::kSalvageLostAttribute + "); their summaries stay (first damage: " + first +
      "); the readable rest was copied to " + std::to_string(merged->outputs.size()) + " new file(s); quarantined as " +
      file->path() + ".corrupt");
  return Status::OK();
}

Status EmbeddedStore::Install(const std::vector<uint64_t>& inputs, compaction::MergeResult* result, bool quarantine,
                              const std::function<void()>& in_step) {
  manifest::ManifestEdit edit;
  edit.removed = inputs;
  for (const auto& o : result->outputs) edit.added.push_back(o.meta);
  // A failed edit may or may not be on disk: keep inputs and outputs (Open sorts out
  // which set the manifest names and deletes the other).
  SL_RETURN_IF_ERROR(manifest_->LogAndApply(edit));
  std::vector<model::TraceSummary> expired;
  int64_t summarized = 0, dropped = 0;
  {
    std::unique_lock<std::shared_mutex> w(mu_);
    std::unordered_set<uint32_t> old_slots;
    for (uint32_t i = 0; i < files_.size(); ++i) {
      Slot& s = files_[i];
      if (!s.file || std::find(inputs.begin(), inputs.end(), s.meta.number) == inputs.end()) continue;
      compaction_bytes_ += static_cast<int64_t>(s.meta.bytes);
      if (quarantine) {
        // Kept for inspection; open handles keep reading the old inode.
        const std::string& path = s.file->path();
        Status r = env_->RenameFile(path, path + ".corrupt");
        if (r.ok()) (void)env_->SyncDir(seg_dir_);
        if (!r.ok()) Log("could not quarantine " + path + ": " + r.ToString());
        ++corrupt_segments_;
      } else {
        s.file->MarkObsolete(env_);  // deleted when the last query holding it is done
      }
      s.file.reset();
      segments_[i].reset();
      old_slots.insert(i);
    }
    std::vector<uint32_t> new_slots;
    for (auto& o : result->outputs) new_slots.push_back(AddSlotLocked(std::move(o.file), o.meta));
    auto is_old = [&](uint32_t slot) { return old_slots.count(slot) > 0; };
    auto age_of = [&](uint32_t slot) { return files_[slot].meta.covered_wal; };
    for (const auto& t : result->traces) {
      auto ti = index_.Find(t.id);
      if (!ti) continue;
      SegLoc loc = t.loc;
      if (t.output >= 0) loc.segment = new_slots[static_cast<size_t>(t.output)];
      index_.ReplaceSegLocs(*ti, is_old, t.output >= 0 ? &loc : nullptr, age_of);
      // t.removed: older copies of re-sent spans, which the index no longer counts
      // (taken back when the newer copy arrived, or at Open): no count changes.
      if (t.fate == retention::Fate::kSummary) ++summarized;
      if (t.fate != retention::Fate::kGone) continue;
      const TraceRecord& rec = index_.record(*ti);
      bool elsewhere = !rec.segs.empty() || (imm_ && imm_->Find(t.id)) || mem_->Find(t.id);
      if (elsewhere) continue;  // spans that arrived later still stand
      if (opts_.retention.on_expire) expired.push_back(rec.agg.ToSummary(t.id, index_.pool()));
      DropTraceLocked(*ti);
      ++dropped;
    }
    if (in_step) in_step();
    index_bytes_ = static_cast<int64_t>(index_.MemoryBytes());
  }
  segment_count_ += static_cast<int64_t>(result->outputs.size()) - static_cast<int64_t>(inputs.size());
  ++compactions_;
  duplicates_removed_ += static_cast<int64_t>(result->duplicates);
  retention_summarized_ += summarized;
  retention_dropped_ += dropped;
  for (const auto& s : expired) opts_.retention.on_expire(s);
  return Status::OK();
}

}  // namespace sightline::store
