// EmbeddedStore: opening (recovery), closing and statistics. The write path is in
// embedded_store_write.cc, flushing in embedded_store_flush.cc, queries in
// embedded_store_query.cc.
#include "store/embedded_store.h"

#include <algorithm>
#include <cstdio>

#include "common/thread_name.h"
#include "store/segment/segment_format.h"
#include "store/segment_io.h"
#include "store/segment/segment_writer.h"
#include "store/segment/segment_reader.h"
#include "store/wal/wal_format.h"
#include "store/wal/wal_reader.h"
#include "store/wal/wal_writer.h"

namespace sightline::store {

EmbeddedStore::EmbeddedStore(const EmbeddedStoreOptions& options)
    : opts_(options),
      env_(options.env ? options.env : Env::Default()),
      wal_dir_(JoinPath(options.dir, "wal")),
      seg_dir_(JoinPath(options.dir, "segments")),
      mem_(std::make_shared<Memtable>()),
      rollup_base_(options.rollups.max_tuples_per_bucket),
      sampling_(options.sampling) {}

EmbeddedStore::~EmbeddedStore() { (void)Close(); }

void EmbeddedStore::Log(const std::string& m) {
  if (opts_.logger) {
    opts_.logger(m);
  } else {
    std::fprintf(stderr, "sightline store: %s\n", m.c_str());
  }
}

Result<std::unique_ptr<EmbeddedStore>> EmbeddedStore::Open(const EmbeddedStoreOptions& options) {
  if (options.dir.empty()) return Status::InvalidArgument("store: data directory is empty");
  if (options.queue_limit_bytes == 0) return Status::InvalidArgument("store: queue_limit_bytes must be > 0");
  if (options.memtable_limit_bytes == 0) return Status::InvalidArgument("store: memtable_limit_bytes must be > 0");
  if (options.wal_file_bytes == 0) return Status::InvalidArgument("store: wal_file_bytes must be > 0");
  if (options.compaction.min_merge < 2) return Status::InvalidArgument("store: compaction.min_merge must be >= 2");
  if (options.compaction.max_output_bytes == 0)
    return Status::InvalidArgument("store: compaction.max_output_bytes must be > 0");
  if (options.compaction.size_ratio < 1) return Status::InvalidArgument("store: compaction.size_ratio must be >= 1");
  if (options.rollups.enabled && (options.rollups.max_tuples_per_bucket == 0 || options.rollups.minute_window_ns < 0 ||
                                  options.rollups.hour_window_ns < options.rollups.minute_window_ns))
    return Status::InvalidArgument(
        "store: rollups need max_tuples_per_bucket > 0 and 0 <= minute_window <= hour_window");
  SL_RETURN_IF_ERROR(options.retention.Validate());
  SL_RETURN_IF_ERROR(options.sampling.Validate());
  // Freed memtable blocks are kept for the next memtable, up to one memtable's worth.
  Memtable::SetBlockPoolLimit(options.memtable_limit_bytes);
  std::unique_ptr<EmbeddedStore> s(new EmbeddedStore(options));
  SL_RETURN_IF_ERROR(s->Recover().WithContext("opening store at " + options.dir));
  s->writer_ = std::thread([p = s.get()] { p->WriterLoop(); });
  NameThread(s->writer_, "sl-writer");
  s->flusher_ = std::thread([p = s.get()] { p->FlushLoop(); });
  NameThread(s->flusher_, "sl-flush");
  s->compactor_ = std::thread([p = s.get()] { p->CompactLoop(); });
  NameThread(s->compactor_, "sl-compact");
  if (s->deletions_pending_) {
    // A deletion acknowledged before a crash whose data may still be on disk.
    std::lock_guard<std::mutex> run(s->del_run_mu_);
    Status d = s->CompleteDeletionsLocked();
    s->Log(d.ok() ? "finished the pending deletions" : "pending deletions not finished yet (retried): " + d.ToString());
  }
  s->ready_ = true;
  return s;
}

void EmbeddedStore::Quarantine(const std::string& path, const Status& why) {
  std::string msg = "SEGMENT CORRUPTION: " + why.ToString();
  if (env_->FileExists(path)) {
    Status r = env_->RenameFile(path, path + ".corrupt");
    if (r.ok()) (void)env_->SyncDir(seg_dir_);
    msg += r.ok() ? "; quarantined as " + path + ".corrupt" : "; could not quarantine it: " + r.ToString();
  }
  Log(msg + "; serving the rest of the store without it");
  recovery_.corruptions.push_back(why.ToString());
  recovery_.quarantined.push_back(path);
  ++corrupt_segments_;
}

uint32_t EmbeddedStore::AddSlotLocked(std::shared_ptr<SegmentFile> file, const manifest::FileMeta& meta) {
  auto slot = static_cast<uint32_t>(files_.size());
  segments_.push_back(std::dynamic_pointer_cast<segment::SegmentReader>(file));
  files_.push_back(Slot{std::move(file), meta});
  return slot;
}

// Opens every file the state lists (or, adopting a pre-manifest directory, every
// *.seg), oldest first, and merges their tables into the index. Damaged or missing
// files are quarantined and leave the state.
Status EmbeddedStore::OpenSegments(manifest::ManifestState* state) {
  std::vector<manifest::FileMeta> order;
  for (const auto& [n, f] : state->files) order.push_back(f);
  std::sort(order.begin(), order.end(), [](const manifest::FileMeta& a, const manifest::FileMeta& b) {
    return a.covered_wal != b.covered_wal ? a.covered_wal < b.covered_wal : a.number < b.number;
  });
  struct Pending {
    TraceKey id;
    SegLoc loc;
    std::string agg;
  };
  std::vector<Pending> entries;
  for (manifest::FileMeta meta : order) {
    std::string path = JoinPath(seg_dir_, segment::SegmentFileName(meta.number));
    entries.clear();
    uint64_t spans = 0;
    Result<std::shared_ptr<SegmentFile>> reader = Status::Corruption(path + ": listed in the manifest but missing");
    if (env_->FileExists(path)) {
      reader = OpenSegmentFile(env_, path, meta.covered_wal, [&](const SegmentTraceEntry& e) -> Status {
        entries.push_back(Pending{e.id, e.loc, std::string(e.agg)});
        spans += e.span_count;
        return Status::OK();
      });
    }
    if (!reader.ok()) {
      if (reader.status().code() != StatusCode::kCorruption) return reader.status();
      Quarantine(path, reader.status());
      state->files.erase(meta.number);
      continue;
    }
    if (recovery_.adopted) {
      meta.partition = retention::PartitionOf((*reader)->min_start_ns(), opts_.retention.partition_width_ns);
      meta.min_start_ns = (*reader)->min_start_ns();
      meta.max_end_ns = (*reader)->max_end_ns();
      meta.spans = spans;
      meta.traces = (*reader)->trace_count();
      meta.bytes = (*reader)->file_bytes();
      meta.format = (*reader)->format_version();
      meta.covered_wal = (*reader)->covered_wal();
      state->files[meta.number] = meta;
      state->log_number = std::max(state->log_number, meta.covered_wal);
    }
    std::unique_lock<std::shared_mutex> w(mu_);
    // Decode every aggregate before touching the index, so a malformed one quarantines
    // the file without leaving half of it merged.
    std::vector<TraceAgg> aggs(entries.size());
    bool bad = false;
    for (size_t i = 0; i < entries.size() && !bad; ++i)
      bad = !TraceAgg::Decode(entries[i].agg, &index_.pool(), &aggs[i]);
    if (bad) {
      w.unlock();
      Quarantine(path, Status::Corruption(path + ": malformed trace aggregate in the table"));
      state->files.erase(meta.number);
      continue;
    }
    uint32_t slot = AddSlotLocked(std::move(reader).value(), meta);
    for (size_t i = 0; i < entries.size(); ++i) {
      uint32_t ti = index_.FindOrAdd(entries[i].id);
      index_.MergePartial(ti, aggs[i]);
      SegLoc loc = entries[i].loc;
      loc.segment = slot;
      index_.AddSegLoc(ti, loc);
    }
    ++recovery_.segments;
    ++segment_count_;
  }
  return Status::OK();
}

Status EmbeddedStore::Recover() {
  SL_RETURN_IF_ERROR(env_->CreateDir(opts_.dir));
  SL_RETURN_IF_ERROR(env_->CreateDir(wal_dir_));
  SL_RETURN_IF_ERROR(env_->CreateDir(seg_dir_));
  SL_ASSIGN_OR_RETURN(lock_, env_->LockFile(JoinPath(opts_.dir, "LOCK")));
  if (opts_.rollups.enabled) {  // built as the segments' aggregates are merged below
    std::unique_lock<std::shared_mutex> w(mu_);
    index_.EnableRuns(opts_.rollups.max_tuples_per_bucket);
    index_.FoldRuns(RollupCuts());
  }

  // The live segment set: the manifest's, or (a directory written before manifests)
  // every complete *.seg file, adopted into a new manifest.
  manifest::ManifestState state;
  auto read = manifest::Manifest::Read(env_, opts_.dir);
  SL_ASSIGN_OR_RETURN(auto seg_names, env_->GetChildren(seg_dir_));
  if (read.ok()) {
    state = std::move(read).value();
  } else if (read.status().code() == StatusCode::kNotFound) {
    for (const auto& n : seg_names) {
      uint64_t num;
      if (!segment::ParseSegmentFileName(n, &num)) continue;
      manifest::FileMeta meta;
      meta.number = num;
      meta.covered_wal = num;  // the pre-manifest naming
      state.files[num] = meta;
      state.next_file_number = std::max(state.next_file_number, num + 1);
      recovery_.adopted = true;
    }
  } else {
    return read.status();
  }
  {
    // Deletions first: their traces must not come back from segments or the WAL.
    std::vector<DeletionRecord> dels;
    SL_RETURN_IF_ERROR(ReadDeletions(env_, opts_.dir, &dels));
    std::unique_lock<std::shared_mutex> w(mu_);
    for (const auto& d : dels) {
      tombstones_.insert(d.keys.begin(), d.keys.end());
      if (!d.complete()) deletions_pending_ = true;
    }
    std::lock_guard<std::mutex> l(del_mu_);
    deletions_ = std::move(dels);
  }
  {
    // So do the traces tail sampling dropped whose data may still be on disk. Without
    // the file (sampling never wrote one), every trace complete now counts as decided:
    // turning sampling on does not reach back to traces stored before.
    sampling::SamplingState st;
    bool found = false;
    SL_RETURN_IF_ERROR(sampling::ReadSamplingState(env_, opts_.dir, &st, &found));
    if (!found) st.decided_until_ns = env_->NowNanos();
    std::unique_lock<std::shared_mutex> w(mu_);
    sample_state_ = std::move(st);
  }
  SL_RETURN_IF_ERROR(OpenSegments(&state));
  {
    std::unique_lock<std::shared_mutex> w(mu_);
    ApplyTombstonesLocked();
    for (const auto& d : sample_state_.drops)
      if (auto i = index_.Find(d.first)) DropTraceLocked(*i);
    flushed_wal_ = state.log_number;
  }
  SL_RETURN_IF_ERROR(TakeBackRepeatsAtOpen());

  // Orphans: outputs of a flush or compaction that crashed before its manifest edit,
  // inputs of one that crashed before deleting them, interrupted writes.
  for (const auto& n : seg_names) {
    uint64_t num;
    bool orphan = segment::ParseSegmentFileName(n, &num) && !state.files.count(num) &&
                  std::find(recovery_.quarantined.begin(), recovery_.quarantined.end(), JoinPath(seg_dir_, n)) ==
                      recovery_.quarantined.end();
    if (orphan || (n.size() > 4 && n.substr(n.size() - 4) == ".tmp")) (void)env_->RemoveFile(JoinPath(seg_dir_, n));
    if (orphan) state.next_file_number = std::max(state.next_file_number, num + 1);
  }
  SL_ASSIGN_OR_RETURN(manifest_, manifest::Manifest::Create(env_, opts_.dir, state));
  if (recovery_.adopted)
    Log("adopted " + std::to_string(state.files.size()) + " segment files written before manifests");
  const uint64_t covered = state.log_number;

  // Rollups: the file covers WAL files <= rollup_covered; those up to `covered` whose
  // spans reached segments but not the file (a crash between the two) are replayed
  // into the rollups only, then the file is rewritten.
  uint64_t rollup_covered = covered;
  if (opts_.rollups.enabled) {
    SL_RETURN_IF_ERROR(LoadRollups(state.files.empty() && !recovery_.adopted, &rollup_covered));
  } else {
    SL_RETURN_IF_ERROR(DiscardRollups());
  }
  {
    std::unique_lock<std::shared_mutex> w(mu_);
    rollup_base_.Fold(RollupCuts());  // its cuts apply to every query
  }
  mem_ = NewMemtable();

  // WAL files: delete those the segments (and rollups) cover, replay the rest in order.
  SL_ASSIGN_OR_RETURN(auto wal_names, env_->GetChildren(wal_dir_));
  std::vector<uint64_t> wal_numbers, catch_up;
  for (const auto& n : wal_names) {
    uint64_t num;
    if (!wal::ParseWalFileName(n, &num)) continue;
    if (num > covered) {
      wal_numbers.push_back(num);
    } else if (rollups_on_ && num > rollup_covered) {
      catch_up.push_back(num);
    } else {
      (void)env_->RemoveFile(JoinPath(wal_dir_, n));
    }
  }
  std::sort(wal_numbers.begin(), wal_numbers.end());
  std::sort(catch_up.begin(), catch_up.end());
  if (!catch_up.empty()) {
    auto scratch = NewMemtable();
    for (uint64_t num : catch_up)
      SL_RETURN_IF_ERROR(ReplayWal(JoinPath(wal_dir_, wal::WalFileName(num)), false, scratch.get()));
    {
      std::unique_lock<std::shared_mutex> w(mu_);
      rollup_base_.MergeFrom(scratch->rollup());
      rollup_base_covered_ = covered;
    }
    Log("rollups: added the spans of " + std::to_string(catch_up.size()) +
        " WAL file(s) flushed before the rollup file was written");
    Status p = PersistRollups();
    if (p.ok()) {
      for (uint64_t num : catch_up) (void)env_->RemoveFile(JoinPath(wal_dir_, wal::WalFileName(num)));
    } else {
      Log("rollups: could not write the rollup file (its WAL files are kept): " + p.ToString());
    }
  }
  // A reprice step a crash interrupted: its cost changes join the rollups if its files
  // were installed and the rollup file does not hold them yet.
  SL_RETURN_IF_ERROR(RecoverRepriceStep(state));
  for (size_t i = 0; i < wal_numbers.size(); ++i) {
    {
      std::unique_lock<std::shared_mutex> w(mu_);
      apply_wal_ = wal_numbers[i];
    }
    SL_RETURN_IF_ERROR(ReplayWal(JoinPath(wal_dir_, wal::WalFileName(wal_numbers[i])), i + 1 == wal_numbers.size()));
    ++recovery_.wal_files;
  }
  {
    std::unique_lock<std::shared_mutex> w(mu_);
    RebuildUndecidedLocked();
  }
  if (recovery_.records > 0 || recovery_.segments > 0 || !recovery_.corruptions.empty()) {
    Log("recovered " + std::to_string(recovery_.segments) + " segments, " + std::to_string(recovery_.spans) +
        " spans from " + std::to_string(recovery_.wal_files) + " WAL files" +
        (recovery_.dropped_bytes ? "; LOST " + std::to_string(recovery_.dropped_bytes) + " corrupt WAL bytes" : "") +
        (recovery_.quarantined.empty() ? "" : "; QUARANTINED " + std::to_string(recovery_.quarantined.size()) +
                                                  " damaged segment files"));
  }

  next_wal_number_ = std::max(covered, wal_numbers.empty() ? uint64_t{0} : wal_numbers.back()) + 1;
  SL_RETURN_IF_ERROR(StartNewWal());
  mem_bytes_ = static_cast<int64_t>(mem_->MemoryBytes());
  index_bytes_ = static_cast<int64_t>(index_.MemoryBytes());
  if (mem_->MemoryBytes() >= opts_.memtable_limit_bytes) {
    std::unique_lock<std::shared_mutex> l(mu_);
    imm_ = std::move(mem_);
    imm_covered_wal_ = wal_->file_number() - 1;
    mem_ = NewMemtable();
    std::lock_guard<std::mutex> f(flush_mu_);
    imm_pending_ = true;
  }
  return Status::OK();
}

Status EmbeddedStore::ReplayWal(const std::string& path, bool last, Memtable* rollup_only) {
  wal::WalReadReport report;
  std::vector<std::string_view> views;
  Status s = wal::ReadWalFile(env_, path, last, [&](std::string_view record, uint64_t offset) {
    ++recovery_.records;
    if (!SplitSpanBatch(record, &views)) {
      ++recovery_.bad_spans;
      recovery_.corruptions.push_back(path + ": record at offset " + std::to_string(offset) + " is not a SpanBatch");
      return;
    }
    EncodedBatch b;
    b.payload.assign(record);
    model::Span span;
    for (std::string_view v : views) {
      if (!span.ParseFromArray(v.data(), static_cast<int>(v.size())) || !ValidateSpanIds(span, 0).ok()) {
        ++recovery_.bad_spans;
        continue;
      }
      b.AddMeta(span, static_cast<uint32_t>(v.data() - record.data()), static_cast<uint32_t>(v.size()));
    }
    std::unique_lock<std::shared_mutex> w(mu_);
    if (rollup_only) {
      SpanCounts old;
      for (size_t i = 0; i < b.metas.size(); ++i) {
        const SpanFacts f = b.Facts(i);
        // A copy replaced in the catch-up's own memtable is taken back there; an older
        // copy in a segment the rollup file covers, from the base.
        if (!rollup_only->Add(f, b.SpanBytes(i), &index_.pool(), &old)) TakeBackFromBaseLocked(f, rollup_base_covered_);
      }
      return;
    }
    ApplyLocked(b);
    recovery_.spans += b.metas.size();
  }, &report);
  recovery_.dropped_bytes += report.dropped_bytes;
  recovery_.tail_dropped_bytes += report.tail_dropped_bytes;
  for (const auto& c : report.corruptions) {
    recovery_.corruptions.push_back(c);
    Log("WAL CORRUPTION: " + c);
  }
  if (!s.ok()) {
    if (s.code() != StatusCode::kCorruption || report.bad_header || opts_.paranoid_checks) return s;
  }
  if (last && report.tail_dropped_bytes > 0) {
    // The next file will follow this one: cut the torn tail so it is not taken for
    // mid-log damage at the next Open.
    Log(path + ": dropped a torn tail of " + std::to_string(report.tail_dropped_bytes) +
        " bytes (never acknowledged)");
    SL_RETURN_IF_ERROR(env_->Truncate(path, report.valid_end));
  }
  return Status::OK();
}

void EmbeddedStore::ApplyLocked(const EncodedBatch& b) {
  // A trace's spans usually arrive together: its session and run rows move once per run
  // of its spans in the batch (TraceIndex::Hold), not once per span.
  uint32_t held = UINT32_MAX;
  for (size_t i = 0; i < b.metas.size(); ++i) {
    SpanFacts f = b.Facts(i);
    // A deleted or sampled-out trace: late spans are dropped (docs/deletion.md, sampling.md).
    if (DeletedLocked(f.trace)) {
      mem_dropped_ = true;
      continue;
    }
    if (SampledOutLocked(f.trace)) {
      // Its WAL file now holds a span of it: the drop stays in DATA/SAMPLING (written at
      // the next sweep) until that file is flushed, so a restart does not bring it back.
      sampling::PendingDrop& d = sample_state_.drops[f.trace];
      d.wal = std::max(d.wal, apply_wal_);
      sample_dirty_ = true;
      mem_dropped_ = true;
      continue;
    }
    SpanCounts old;
    bool dup = mem_->Add(f, b.SpanBytes(i), &index_.pool(), &old);
    const size_t records = index_.size();
    uint32_t ti = index_.FindOrAdd(f.trace);
    // A new trace in a project that samples: decided once it is complete.
    if (index_.size() != records && sampling_.For(f.project).enabled()) undecided_.insert(f.trace);
    if (ti != held) {
      index_.Hold(ti);
      held = ti;
    }
    if (dup) {
      index_.RemoveCounts(ti, old);
    } else {
      TakeBackFlushedCopyLocked(ti, f, mem_.get());  // a copy the memtable no longer holds
    }
    index_.AddSpan(ti, f);
  }
  index_.Release();
}

Status EmbeddedStore::Close() {
  if (writer_.joinable() && std::this_thread::get_id() == writer_.get_id())
    return Status::Internal("Close called from an Append callback (it would wait for itself)");
  std::lock_guard<std::mutex> cl(close_mu_);
  if (closed_) return close_status_;
  {
    std::lock_guard<std::mutex> l(q_mu_);
    closing_ = true;
    closing_flag_ = true;
  }
  q_cv_.notify_all();
  {
    std::lock_guard<std::mutex> l(flush_mu_);
    flush_cv_.notify_all();
  }
  {
    std::lock_guard<std::mutex> l(comp_wait_mu_);
    comp_stop_ = true;
    comp_stop_flag_ = true;
  }
  comp_cv_.notify_all();
  if (compactor_.joinable()) compactor_.join();
  if (writer_.joinable()) writer_.join();  // drains the queue, syncs and closes the WAL
  Status final_flush;
  if (opts_.flush_on_close && writer_exit_status_.ok() && flusher_.joinable()) final_flush = FlushForClose();
  {
    std::lock_guard<std::mutex> l(flush_mu_);
    flush_stop_ = true;
  }
  flush_cv_.notify_all();
  if (flusher_.joinable()) flusher_.join();
  // A failed last flush loses nothing: the memtable stays covered by its WAL files.
  if (!final_flush.ok()) Log("close: the memtable stays in the WAL (replayed at the next start): " + final_flush.ToString());
  close_status_ = writer_exit_status_;
  lock_.reset();
  ready_ = false;
  closed_ = true;
  return close_status_;
}

StoreStats EmbeddedStore::Stats() {
  StoreStats st;
  st.spans_written = spans_written_;
  st.bytes_written = bytes_written_;
  {
    std::lock_guard<std::mutex> l(q_mu_);
    st.queue_depth_bytes = static_cast<int64_t>(queue_bytes_);
  }
  st.queue_limit_bytes = static_cast<int64_t>(opts_.queue_limit_bytes);
  {
    std::shared_lock<std::shared_mutex> r(mu_);
    st.memtable_bytes = static_cast<int64_t>(mem_->MemoryBytes() + (imm_ ? imm_->MemoryBytes() : 0));
    st.traces = static_cast<int64_t>(index_.size());
    for (const Slot& f : files_) {
      if (!f.file) continue;
      ++st.segments;
      st.segment_bytes += static_cast<int64_t>(f.meta.bytes);
    }
    st.index_bytes = static_cast<int64_t>(index_.MemoryBytes());
    st.rollup_rows = static_cast<int64_t>(rollup_base_.rows() + mem_->rollup().rows() +
                                          (imm_ ? imm_->rollup().rows() : 0) + index_.runs().rows());
    st.rollup_bytes = static_cast<int64_t>(rollup_base_.MemoryBytes() + mem_->rollup().MemoryBytes() +
                                           (imm_ ? imm_->rollup().MemoryBytes() : 0));
  }
  st.fsyncs = fsyncs_;
  st.fsync_ns_total = fsync_ns_;
  for (const auto& b : fsync_buckets_) st.fsync_latency_buckets.push_back(b.load());
  st.ready = ready_;
  st.disk_full = disk_full_ || flush_disk_full_;
  st.rejected_queue_full = rejected_;
  st.write_failures = write_failures_;
  st.recovery_dropped_bytes = static_cast<int64_t>(recovery_.dropped_bytes);
  st.flush_failures = flush_failures_;
  st.compactions = compactions_;
  st.compaction_running = compaction_running_;
  st.flush_stalls = flush_stalls_;
  st.flush_stall_ns = flush_stall_ns_;
  st.compaction_bytes = compaction_bytes_;
  st.duplicates_removed = duplicates_removed_;
  st.corrupt_segments = corrupt_segments_;
  st.corrupt_reads = corrupt_reads_;
  st.retention_summarized = retention_summarized_;
  st.retention_dropped = retention_dropped_;
  return st;
}

}  // namespace sightline::store
