// EmbeddedStore flushing: the background thread that writes the immutable memtable
// as a segment file, installs it, and deletes the WAL files it covers.
#include <algorithm>
#include <chrono>
#include <thread>

#include "store/embedded_store.h"
#include "store/segment_io.h"
#include "store/wal/wal_format.h"

namespace sightline::store {

bool EmbeddedStore::IsDiskFull(const Status& s) {
  if (s.message().find("disk full") != std::string::npos || s.message().find("No space") != std::string::npos)
    return true;
  auto free = env_->FreeSpace(opts_.dir);
  return free.ok() && *free < opts_.min_free_bytes;
}

int64_t EmbeddedStore::Backoff(int failures) const {
  int64_t d = std::max<int64_t>(1, opts_.retry_interval_ms);
  for (int i = 1; i < failures && d < opts_.max_retry_interval_ms; ++i) d *= 2;
  return std::min(d, std::max<int64_t>(opts_.max_retry_interval_ms, 1));
}

size_t EmbeddedStore::LiveSegmentCount() {
  std::shared_lock<std::shared_mutex> r(mu_);
  return static_cast<size_t>(std::count_if(files_.begin(), files_.end(), [](const Slot& s) { return s.file != nullptr; }));
}

// Ingest can outrun compaction (a payload-heavy flush writes a file every few seconds,
// and merging costs about what flushing did): files, the memory their tables take and
// the cost of each query would grow without bound. So a flush waits while too many
// files are live and compaction is merging, up to max_flush_stall_ms. The writer keeps
// filling the memtable meanwhile until it is full; then the queue fills and senders hear
// 429/503 with Retry-After. A compaction that is not merging (nothing it can merge:
// files of different partitions or sizes, damaged ones) ends the wait at once.
void EmbeddedStore::WaitForCompactionDebt() {
  const auto& c = opts_.compaction;
  if (!c.enabled || c.max_live_segments == 0 || c.max_flush_stall_ms <= 0) return;
  const int64_t start = env_->MonotonicNanos();
  const int64_t deadline = start + c.max_flush_stall_ms * 1000000;
  size_t live = 0;
  bool stalled = false;
  while (!closing_flag_ && !comp_stop_flag_ && compaction_running_ &&
         (live = LiveSegmentCount()) > c.max_live_segments) {
    if (env_->MonotonicNanos() >= deadline) break;
    if (!stalled) {
      stalled = true;
      ++flush_stalls_;
      Log("flush waits for compaction: " + std::to_string(live) + " segment files live (more than " +
          std::to_string(c.max_live_segments) + ")");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (stalled) flush_stall_ns_ += env_->MonotonicNanos() - start;
}

void EmbeddedStore::FlushLoop() {
  std::unique_lock<std::mutex> f(flush_mu_);
  for (;;) {
    flush_cv_.wait(f, [&] { return imm_pending_ || flush_stop_; });
    if (flush_stop_) return;  // an unflushed memtable stays covered by its WAL files
    f.unlock();
    Status s;
    if (flush_disk_full_) {  // do not rewrite a whole memtable into a disk still full
      auto free = env_->FreeSpace(opts_.dir);
      if (free.ok() && *free < opts_.min_free_bytes)
        s = Status::Unavailable("disk full: " + std::to_string(*free) + " bytes free, flush waits for " +
                                std::to_string(opts_.min_free_bytes));
    }
    if (s.ok()) {
      WaitForCompactionDebt();
      s = FlushImmutable();
    }
    f.lock();
    last_flush_error_ = s;
    if (s.ok()) {
      imm_pending_ = false;
      if (flush_failures_in_row_ > 0) {
        f.unlock();
        Log("flush succeeded again; accepting writes");
        f.lock();
      }
      flush_failures_in_row_ = 0;
      flush_disk_full_ = false;
      flush_cv_.notify_all();
    } else {
      // Back off exponentially (to max_retry_interval_ms): a full disk must not turn
      // the flush thread into a busy loop.
      ++flush_failures_in_row_;
      ++flush_failures_;
      bool full = IsDiskFull(s);
      flush_disk_full_ = full;
      int64_t delay = Backoff(flush_failures_in_row_);
      f.unlock();
      Log("flush failed (retrying in " + std::to_string(delay) + " ms; its WAL files are kept" +
          (full ? "; disk full: refusing writes until it succeeds" : "") + "): " + s.ToString());
      f.lock();
      flush_cv_.notify_all();
      flush_cv_.wait_for(f, std::chrono::milliseconds(delay), [&] { return flush_stop_; });
    }
  }
}

Status EmbeddedStore::FlushImmutable() {
  // Held throughout: a sampling sweep never drops a trace while its spans are written.
  std::lock_guard<std::mutex> sampling_step(sample_mu_);
  std::shared_ptr<Memtable> imm;
  uint64_t covered;
  {
    std::shared_lock<std::shared_mutex> r(mu_);
    imm = imm_;
    covered = imm_covered_wal_;
  }
  if (!imm) return Status::OK();
  const auto& traces = imm->traces();
  // Tail sampling decides what is complete first, so a dropped trace is not written.
  if (Status s = SweepSamplingLocked(env_->NowNanos()); !s.ok())
    Log("sampling: deciding at flush failed (those traces stay undecided; retried): " + s.ToString());
  // One file per time partition of the traces' start (the merged aggregate's: the
  // best knowledge of when the trace began), traces ascending by id inside each.
  std::vector<std::pair<int64_t, uint32_t>> order;
  order.reserve(traces.size());
  constexpr size_t kChunk = 1024;
  for (size_t begin = 0; begin < traces.size(); begin += kChunk) {
    std::shared_lock<std::shared_mutex> r(mu_);
    for (size_t i = begin; i < std::min(traces.size(), begin + kChunk); ++i) {
      // Deleted on request, or dropped by tail sampling: never written.
      if (GoneLocked(traces[i].id)) continue;
      auto ti = index_.Find(traces[i].id);
      int64_t start = ti ? index_.record(*ti).agg.start_ns : traces[i].agg.start_ns;
      order.emplace_back(retention::PartitionOf(start, opts_.retention.partition_width_ns), static_cast<uint32_t>(i));
    }
  }
  std::sort(order.begin(), order.end(), [&](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : traces[a.second].id < traces[b.second].id;
  });
  std::vector<std::unique_ptr<SegmentOutput>> builders;
  std::vector<int64_t> partitions;
  manifest::ManifestEdit edit;
  edit.log_number = covered;
  std::vector<std::shared_ptr<SegmentFile>> readers;
  auto fail = [&](const Status& s) {
    for (auto& b : builders) {
      b->Abandon();
      (void)env_->RemoveFile(b->path());  // complete but never listed: nothing refers to it
    }
    builders.clear();
    partitions.clear();
    readers.clear();
    edit.added.clear();
    return s;
  };
  // Writes the files in `format`; a span only v1 can hold sets want_v1 (then retried).
  bool want_v1 = false;
  auto build = [&](SegmentFormat format) -> Status {
    std::vector<std::string> aggs;
    std::vector<std::string_view> spans;
    for (size_t begin = 0; begin < order.size(); begin += kChunk) {
      size_t end = std::min(order.size(), begin + kChunk);
      aggs.assign(end - begin, std::string());
      {
        // The aggregates name interned strings; the pool may grow under the writer, so
        // read it under the shared lock, a chunk at a time.
        std::shared_lock<std::shared_mutex> r(mu_);
        for (size_t i = begin; i < end; ++i) traces[order[i].second].agg.Encode(index_.pool(), &aggs[i - begin]);
      }
      for (size_t i = begin; i < end; ++i) {
        if (partitions.empty() || partitions.back() != order[i].first) {
          auto b = SegmentOutput::Create(env_, seg_dir_, manifest_->NewFileNumber(), covered, format,
                                         columnar::kFlushZstdLevel);
          if (!b.ok()) return fail(b.status());
          builders.push_back(std::move(b).value());
          partitions.push_back(order[i].first);
        }
        SegmentOutput* builder = builders.back().get();
        const Memtable::Trace& t = traces[order[i].second];
        spans.clear();
        imm->SpanBytes(t, &spans);
        Status s = builder->AddDistinctTrace(t.id, spans, aggs[i - begin], t.agg.start_ns, t.agg.end_ns);
        if (!s.ok()) {
          want_v1 = builder->needs_v1() && format != SegmentFormat::kV1Rows;
          std::string where = builder->path();
          return fail(s.WithContext("writing " + where));
        }
      }
    }
    for (size_t i = 0; i < builders.size(); ++i) {
      auto reader = builders[i]->Finish();
      if (!reader.ok()) return fail(reader.status());
      manifest::FileMeta m;
      m.number = builders[i]->number();
      m.partition = partitions[i];
      m.min_start_ns = builders[i]->min_start_ns();
      m.max_end_ns = builders[i]->max_end_ns();
      m.spans = builders[i]->span_count();
      m.traces = builders[i]->traces().size();
      m.bytes = builders[i]->file_bytes();
      m.format = builders[i]->format_version();
      m.covered_wal = covered;
      edit.added.push_back(m);
      readers.push_back(std::move(reader).value());
    }
    return Status::OK();
  };
  Status built = build(opts_.segment_format);
  if (!built.ok() && want_v1) {
    Log("flush: writing row (v1) segments instead of columnar ones: " + built.ToString());
    built = build(SegmentFormat::kV1Rows);
  }
  SL_RETURN_IF_ERROR(built);
  // Whether a failed edit reached the disk is unknown: its files stay (Open removes
  // them if the manifest does not list them), and so do the WAL files.
  SL_RETURN_IF_ERROR(manifest_->LogAndApply(edit));
  {
    std::unique_lock<std::shared_mutex> w(mu_);
    AddFlushedIdsLocked(*imm);  // before index_ records can be removed below
    for (size_t i = 0; i < builders.size(); ++i) {
      uint32_t slot = AddSlotLocked(readers[i], edit.added[i]);
      for (const auto& t : builders[i]->traces()) {
        auto ti = index_.Find(t.id);
        SegLoc loc = t.loc;
        loc.segment = slot;
        if (ti) index_.AddSegLoc(*ti, loc);
      }
    }
    if (rollups_on_) {  // in the step that drops imm_: queries see its delta exactly once
      rollup_base_.MergeFrom(imm->rollup());
      rollup_base_.Fold(RollupCuts());
      rollup_base_covered_ = covered;
    }
    if (opts_.rollups.enabled) index_.FoldRuns(RollupCuts());
    flushed_wal_ = std::max(flushed_wal_, covered);
    imm_.reset();
    index_bytes_ = static_cast<int64_t>(index_.MemoryBytes());
  }
  // The rollups of the spans just flushed are durable once the file says so; until
  // then the WAL files stay (Open adds them to the rollups only).
  uint64_t deletable = covered;
  if (rollups_on_) {
    Status p = PersistRollups();
    if (!p.ok()) Log("rollups: could not write the rollup file (its WAL files are kept, retried at the next flush): " + p.ToString());
    deletable = std::min(covered, rollup_covered_wal_.load());
  }
  segment_count_ += static_cast<int64_t>(builders.size());
  {
    std::lock_guard<std::mutex> l(comp_wait_mu_);
    comp_cv_.notify_all();  // new files: maybe something to compact
  }
  // The segments are durable and listed: the WAL files they cover can go.
  auto names = env_->GetChildren(wal_dir_);
  if (names.ok()) {
    for (const auto& n : *names) {
      uint64_t num;
      if (wal::ParseWalFileName(n, &num) && num <= deletable) (void)env_->RemoveFile(JoinPath(wal_dir_, n));
    }
  }
  return Status::OK();
}

Status EmbeddedStore::FlushForClose() {
  SL_RETURN_IF_ERROR(WaitForFlush());  // the previous immutable memtable first
  {
    std::lock_guard<std::mutex> l(q_mu_);
    if (failed_) return Status::Unavailable("the store failed: " + failure_.ToString());
  }
  {
    std::unique_lock<std::shared_mutex> w(mu_);
    if (imm_ || (mem_->traces().empty() && !mem_dropped_)) return Status::OK();
    // The writer has stopped: every WAL file is closed and covers the memtable.
    imm_ = std::move(mem_);
    mem_dropped_ = false;
    imm_covered_wal_ = next_wal_number_ - 1;
    mem_ = NewMemtable();
  }
  mem_bytes_ = 0;
  Status s = FlushImmutable();
  if (!s.ok()) {
    // Put it back so Stats and any late reader still see it; the WAL still covers it.
    std::unique_lock<std::shared_mutex> w(mu_);
    if (imm_) {
      mem_ = std::move(imm_);
      imm_.reset();
    }
  }
  return s;
}

Status EmbeddedStore::WaitForFlush() {
  std::unique_lock<std::mutex> f(flush_mu_);
  for (;;) {
    if (!imm_pending_) return Status::OK();
    if (flush_stop_) return Status::Unavailable("store is closed");
    if (!last_flush_error_.ok()) return last_flush_error_;
    flush_cv_.wait_for(f, std::chrono::milliseconds(50));
  }
}

Status EmbeddedStore::FlushNow() {
  SL_RETURN_IF_ERROR(WaitForFlush());  // the previous immutable memtable first
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  Status result;
  auto p = std::make_unique<Pending>();
  p->force_flush = true;
  p->done = [&](Status s) {
    std::lock_guard<std::mutex> l(m);
    result = std::move(s);
    done = true;
    cv.notify_all();
  };
  {
    std::lock_guard<std::mutex> l(q_mu_);
    if (closing_) return Status::Unavailable("store is closed");
    if (failed_) return Status::Unavailable("store is not accepting writes: " + failure_.ToString());
    queue_.push_back(std::move(p));
  }
  q_cv_.notify_one();
  {
    std::unique_lock<std::mutex> l(m);
    cv.wait(l, [&] { return done; });
  }
  SL_RETURN_IF_ERROR(result);
  return WaitForFlush();
}

}  // namespace sightline::store
