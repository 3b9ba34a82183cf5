// EmbeddedStore: Sightline's durable single-machine span store (docs/wal_format.md,
// docs/segment_format.md describe its files; docs/architecture.md its place).
//
// Write path: Append (any thread) validates and serialises the spans in the caller's
// thread into one WAL record and queues it (bounded by queue_limit_bytes). One writer
// thread takes every queued record (group commit), writes them with one write(2),
// makes them durable per FsyncPolicy, applies them to the memtable and the trace
// index, and only then, holding no lock, calls each batch's callback. A failed write
// or fsync fails exactly the affected batches and puts the store in a failed state
// (Appends return Unavailable) until a probe succeeds: for a full disk, when free
// space returns, a fresh WAL file is started.
//
// Flush: when the memtable passes memtable_limit_bytes it becomes immutable, a new WAL
// file starts, and the flush thread writes it as segment files (one per time
// partition); they are installed by one manifest edit (store/manifest), and only then
// are the WAL files they cover deleted. A failing flush retries with exponential
// backoff; while it fails for lack of space, Stats().disk_full is set and Append
// answers Unavailable, until space returns and the flush succeeds.
//
// Compaction (embedded_store_compaction.cc, store/compaction): a background thread
// merges runs of similar-size segments of one partition and applies retention
// (store/retention); its output replaces its inputs by one manifest edit and one
// exclusive-lock step (file slots, SegLocs, aggregates), so a query sees the old set
// or the new one, never a mix. Replaced files are deleted when their last reader is
// done (SegmentFile::MarkObsolete).
//
// Damage: a listed segment that fails its checks at Open is quarantined (renamed
// *.corrupt, removed from the manifest, reported); the rest serves. A bad block read
// later fails that trace's read with Corruption naming the file.
//
// Read path: queries read the trace index (merged aggregates of memtables and
// segments) under a shared lock, and decode span bytes outside it.
//
// Thread-safety: every public method may be called from any thread concurrently.
// Lock order: compact_mu_ before mu_; sample_mu_ before mu_; q_mu_ and mu_ are never held together;
// flush_mu_ and comp_wait_mu_ are leaves.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <tuple>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/env.h"
#include "store/compaction/compaction.h"
#include "store/deletion/deletion.h"
#include "store/segment_io.h"
#include "store/manifest/manifest.h"
#include "store/memtable.h"
#include "store/retention/retention_policy.h"
#include "store/rollup/rollup.h"
#include "store/sampling/sampling_policy.h"
#include "store/sampling/sampling_state.h"
#include "store/span_codec.h"
#include "store/span_store.h"
#include "store/trace_index.h"

namespace sightline::store {

namespace wal {
class WalWriter;
}
namespace segment {
class SegmentReader;
}
namespace compaction {
struct MergeResult;
}

// When Append's callback reports OK (docs/wal_format.md "Fsync policies").
enum class FsyncPolicy {
  kBatch,   // group commit: one fdatasync per group of batches, then acknowledge
  kAlways,  // one write and one fdatasync per batch, no grouping
  kNever,   // acknowledge after write(2): survives a process crash, not a power loss
};

// Rollups at ingest (docs/architecture.md "Rollups"): per-minute totals per project,
// agent, tool, model, service, environment, status and kind, folded into hours and
// days as they age, persisted at each flush in DATA/ROLLUPS.
struct RollupOptions {
  bool enabled = true;
  int64_t minute_window_ns = int64_t{6} * 3600 * 1000000000;  // minutes older than this fold into hours
  int64_t hour_window_ns = int64_t{35} * retention::kDayNs;   // hours older than this fold into days
  size_t max_tuples_per_bucket = 20000;  // then the bucket overflows and queries over it scan
};

struct EmbeddedStoreOptions {
  Env* env = Env::Default();
  std::string dir = "./sightline-data";  // holds wal/, segments/ and LOCK
  FsyncPolicy fsync = FsyncPolicy::kBatch;
  size_t queue_limit_bytes = size_t{256} << 20;    // encoded bytes queued but not yet durable
  size_t memtable_limit_bytes = size_t{128} << 20; // then the memtable is flushed to a segment
  // The format flushes and compactions write (store/segment_io.h); both keep reading.
  SegmentFormat segment_format = kDefaultSegmentFormat;
  size_t wal_file_bytes = size_t{64} << 20;        // a WAL file past this is closed and a new one started
  size_t max_group_bytes = size_t{64} << 20;       // at most this much per group commit
  uint64_t min_free_bytes = uint64_t{64} << 20;    // after "disk full", resume once this much is free
  int64_t retry_interval_ms = 1000;                // probe after a write failure / first retry of a failed flush
  int64_t max_retry_interval_ms = 30000;           // flush / compaction retries back off exponentially to this
  compaction::CompactionOptions compaction;        // background merging of segments
  retention::RetentionOptions retention;           // per-project ages; also the partition width
  RollupOptions rollups;
  // Tail sampling per project (store/sampling, docs/sampling.md): decided per trace once
  // it is complete, at each flush and every sampling_interval_ms; SetSampling replaces it.
  sampling::SamplingOptions sampling;
  int64_t sampling_interval_ms = 5000;
  bool paranoid_checks = false;  // Open fails on any WAL corruption instead of skipping the damage
  // Close writes the memtable as a segment (and drops the WAL files it covers), so the
  // next start replays nothing; false leaves it to WAL replay (faster to stop).
  bool flush_on_close = true;
  std::function<void(const std::string&)> logger;  // default: stderr
  // Called once per Delete, after its record is durable (and, when complete() says so,
  // its data rewritten off disk), from the caller's thread, holding no lock: the audit
  // trail's hook. The record carries the value asked for (never written by the store).
  std::function<void(const DeletionRecord&)> on_deleted;
  // A trace search or trace-level aggregate with attribute or text filters decides
  // them by a column scan (embedded_store_query_scan.cc) once at least this many traces
  // pass the other filters; fewer are read trace by trace. Tests set 0 and SIZE_MAX to
  // compare the two paths.
  size_t search_scan_min_traces = 64;
  // Tests: called by Aggregate between the lock step that copies the file set and the
  // listing's lock steps, holding no lock (a test flushes or compacts there).
  std::function<void()> test_aggregate_between_steps;
};

// What Open found and did (also logged).
struct RecoveryReport {
  uint64_t segments = 0;
  uint64_t wal_files = 0;
  uint64_t records = 0;
  uint64_t spans = 0;
  uint64_t dropped_bytes = 0;       // skipped mid-file WAL damage (spans lost)
  uint64_t tail_dropped_bytes = 0;  // torn tail of the last WAL file (never acknowledged)
  uint64_t bad_spans = 0;           // records or spans inside intact records that did not parse
  std::vector<std::string> corruptions;
  std::vector<std::string> quarantined;  // segment files renamed *.corrupt (damaged or missing)
  bool adopted = false;                  // a pre-manifest directory: a manifest was created for it
};

class EmbeddedStore final : public SpanStore {
 public:
  static Result<std::unique_ptr<EmbeddedStore>> Open(const EmbeddedStoreOptions& options);
  ~EmbeddedStore() override;

  Status Append(std::vector<model::Span> spans, AppendCallback done) override;
  // Encodes the spans before it returns (they may be freed then).
  Status AppendSpans(model::SpanList* spans, AppendCallback done) override;
  bool TakesReceivedParts() const override { return true; }
  Status AppendReceived(model::SpanList* spans, const ReceivedParts& parts, AppendCallback done) override;
  Result<TracePage> SearchTraces(const TraceQuery& query) override;
  Result<TraceDetail> GetTrace(const std::string& trace_id, const std::vector<std::string>& projects) override;
  Result<model::Span> GetSpan(const std::string& trace_id, const std::string& span_id,
                              const std::vector<std::string>& projects) override;
  Result<SessionPage> SearchSessions(const SessionQuery& query) override;
  Result<SessionDetail> GetSession(const std::string& session_id, const std::vector<std::string>& projects) override;
  Result<AggregateResult> Aggregate(const AggregateQuery& query) override;  // embedded_store_aggregate.cc
  Result<ResumeCounts> CountResumes(const AggregateFilter& filter) override;  // embedded_store_aggregate.cc
  Result<DeletionRecord> Delete(const DeletionRequest& request) override;  // embedded_store_delete.cc
  Result<RepriceProgress> Reprice(const RepriceRequest& request) override;  // embedded_store_reprice.cc
  std::vector<DeletionRecord> Deletions() override;
  std::vector<SamplingCount> SamplingCounts() override;
  StoreStats Stats() override;
  Status Close() override;

  const RecoveryReport& recovery_report() const { return recovery_; }
  // Blocks until the immutable memtable (if any) is written as a segment. For tests
  // and benchmarks; returns the last flush error, if any.
  Status WaitForFlush();
  // Makes the current memtable immutable and flushes it now (tests: flush + reopen).
  Status FlushNow();
  // Runs compaction rounds until nothing qualifies (tests, benchmarks); the
  // background thread does the same on its own.
  Status CompactNow();
  // Applies retention as of now_ns (tests; the background thread uses the clock).
  Status ApplyRetentionNow(int64_t now_ns);
  // The live segment files, as the manifest lists them.
  std::vector<manifest::FileMeta> LiveSegments();
  // Tail sampling: decides every trace that is complete as of now_ns (tests; the store
  // does it at each flush and every sampling_interval_ms with the clock).
  Status SampleNow(int64_t now_ns);
  // Replaces the sampling policy (a reload): InvalidArgument, and the old policy kept,
  // when it does not validate. Traces already decided keep their decision.
  Status SetSampling(const sampling::SamplingOptions& sampling);

 private:
  struct Pending {
    EncodedBatch batch;
    AppendCallback done;
    size_t bytes = 0;
    bool force_flush = false;  // FlushNow's marker: no spans, asks the writer to rotate
  };
  // Span bytes of one trace gathered from every place they live, oldest first.
  struct GatheredSpans {
    std::deque<std::string> blocks;  // segment bytes read (own the bytes; a deque never moves them)
    std::vector<std::string_view> spans;
    std::shared_ptr<Memtable> imm, mem;  // keep arena bytes alive
  };

  explicit EmbeddedStore(const EmbeddedStoreOptions& options);
  Status Recover();
  // rollup_only: the spans go into that scratch memtable only (a WAL file whose spans
  // are in segments but not yet in the rollup file).
  Status ReplayWal(const std::string& path, bool last, Memtable* rollup_only = nullptr);
  void ApplyLocked(const EncodedBatch& b);  // mu_ held exclusively

  // Re-sent spans (embedded_store_resent.cc). A span whose id the trace already holds in
  // a flushed place (the frozen memtable or a segment) replaces that copy: its counts
  // leave the trace index, and its span rollup row leaves the base rollup (or the
  // frozen memtable's delta), at once, so every answer counts the span once, its
  // newest copy. `owner` is the memtable the new copy went to: it notes the rollup
  // retraction (Memtable::retractions). mu_ held exclusively.
  void TakeBackFlushedCopyLocked(uint32_t record, const SpanFacts& f, Memtable* owner);
  // Open's catch-up of the rollup file (spans that reached segments but not the file):
  // takes the older copy of a span back from the base rollup only, looking in the
  // segments of WAL files <= max_covered_wal (those the file covers). mu_ held exclusively.
  void TakeBackFromBaseLocked(const SpanFacts& f, uint64_t max_covered_wal);
  // Removes trace record i from the index (and its cached segment span ids).
  void DropTraceLocked(uint32_t i) {
    flushed_ids_.erase(i);
    index_.Remove(i);
  }
  // A flush wrote memtable m's spans to segments: the cached traces gain their ids.
  void AddFlushedIdsLocked(const Memtable& m);
  // Finds the newest flushed copy of span_id in the trace: the frozen memtable first
  // (when max_covered_wal is UINT64_MAX), then its segments newest first (those of
  // WAL files <= max_covered_wal). *bytes points into *storage or the memtable's
  // arena; *target is the frozen memtable's seq() or 0 for a segment. mu_ held
  // exclusively (the span id cache).
  bool FindFlushedCopyLocked(uint32_t record, uint64_t span_id, uint64_t max_covered_wal,
                             std::deque<std::string>* storage, std::string_view* bytes, uint64_t* target);
  // Open, after the segments are listed: the index merged their partial aggregates, so
  // a span with copies in two segments counted twice; the older copies' counts are
  // taken back (what Apply does for copies arriving while the store runs).
  Status TakeBackRepeatsAtOpen();
  void Log(const std::string& m);

  // Writer thread (embedded_store_write.cc).
  void WriterLoop();
  template <typename Spans>
  Status AppendImpl(Spans* spans, AppendCallback done, const ReceivedParts* parts = nullptr);
  Status CommitGroup(const std::vector<std::unique_ptr<Pending>>& group);
  void CompleteGroup(std::vector<std::unique_ptr<Pending>>* group, const Status& s);
  void EnterFailed(const Status& s);
  void TryRecover();
  Status StartNewWal();
  void MaybeRotate(bool force_flush);
  void WaitForFlushRoom();

  // Flush thread.
  void FlushLoop();
  Status FlushImmutable();
  // The write stall (CompactionOptions::max_live_segments), before a flush.
  void WaitForCompactionDebt();
  size_t LiveSegmentCount();

  // Segment files (embedded_store.cc, embedded_store_compaction.cc).
  Status OpenSegments(manifest::ManifestState* state);
  void Quarantine(const std::string& path, const Status& why);
  // Adds an open file to a new slot (mu_ held exclusively); returns the slot.
  uint32_t AddSlotLocked(std::shared_ptr<SegmentFile> file, const manifest::FileMeta& meta);
  bool IsDiskFull(const Status& s);
  int64_t Backoff(int failures) const;
  // Close's last step (writer and compactor stopped, flusher still running): waits for
  // a pending flush, then writes the memtable as segments on this thread.
  Status FlushForClose();

  // Compaction thread.
  void CompactLoop();
  Result<bool> CompactOnce();  // compact_mu_ held; false: nothing to do
  Status RetentionPass(int64_t now_ns);  // compact_mu_ held
  // quarantine: the inputs are renamed *.corrupt instead of being deleted. in_step, when
  // given, runs inside the exclusive-lock step that swaps the files (mu_ held).
  Status Install(const std::vector<uint64_t>& inputs, compaction::MergeResult* result, bool quarantine = false,
                 const std::function<void()>& in_step = nullptr);
  // A read found damage in segment `number`: the compaction thread salvages it.
  void ReportDamage(uint64_t number);
  // Copies the readable traces of a damaged file into a new one (the damaged parts
  // keep their summaries) and quarantines the file. compact_mu_ held.
  Status SalvageOne(uint64_t number);
  retention::Fate FateOf(const TraceKey& id, const TraceAgg& partial, const StringPool& pool, int64_t partition,
                         int64_t now_ns);

  // Tail sampling (embedded_store_sampling.cc). Sweep decides every undecided trace
  // complete at now_ns (by its merged aggregate): a kept one is only counted; a dropped
  // one is written to DATA/SAMPLING (with the files and WAL that may hold it), then
  // leaves the index, in one exclusive-lock step; entries whose data is gone from disk
  // are pruned. sample_mu_ held (flushes hold it throughout: a sweep never drops a
  // trace while a flush writes its spans).
  Status SweepSamplingLocked(int64_t now_ns);
  // Whether trace id was dropped by sampling (mu_ held).
  bool SampledOutLocked(const TraceKey& id) const {
    return (!sampled_out_.empty() && sampled_out_.count(id) > 0) ||
           (!sample_state_.drops.empty() && sample_state_.drops.count(id) > 0);
  }
  // Deleted on request or dropped by sampling (mu_ held): never written again.
  bool GoneLocked(const TraceKey& id) const { return DeletedLocked(id) || SampledOutLocked(id); }
  // Open: after WAL replay, every trace not complete at decided_until_ns is undecided.
  void RebuildUndecidedLocked();

  // Deletion (embedded_store_delete.cc). Finishes every pending deletion: flushes the
  // memtable without the tombstoned traces (retiring the WAL files that held them),
  // then rewrites every segment file that lists one. del_run_mu_ held.
  Status CompleteDeletionsLocked();
  // The traces any of whose spans names the request's user or session (in its project).
  Status NamingInFile(const DeletionRequest& r, const std::shared_ptr<SegmentFile>& file,
                      std::unordered_set<TraceKey, TraceKeyHash>* out);
  Status NamingInMemtablesLocked(const DeletionRequest& r, std::unordered_set<TraceKey, TraceKeyHash>* out) const;
  // compact_mu_ held; *rewritten counts the files replaced.
  Status RewriteForDeletions(uint64_t* rewritten);
  // mu_ held (shared or exclusive).
  bool DeletedLocked(const TraceKey& id) const { return !tombstones_.empty() && tombstones_.count(id) > 0; }
  // Recover: removes the tombstoned traces from the index (mu_ held exclusively).
  void ApplyTombstonesLocked();

  // Rollups (embedded_store_rollup.cc).
  std::shared_ptr<Memtable> NewMemtable();
  rollup::Cuts RollupCuts();
  // Open: reads DATA/ROLLUPS and decides whether rollups are on (fresh: no segments).
  // Sets *file_covered to the WAL number the file covers.
  Status LoadRollups(bool fresh, uint64_t* file_covered);
  // Writes the base rollup to DATA/ROLLUPS with the WAL number it covers
  // (rollup_base_covered_). PersistRollups takes rollup_file_mu_ (the caller holds no
  // lock); PersistRollupsLocked needs it held.
  Status PersistRollups();
  Status PersistRollupsLocked();

  // Repricing (embedded_store_reprice.cc). Installs one repriced file (compact_mu_
  // held): journal, manifest edit with the cost changes, rollup file.
  Status InstallRepriced(uint64_t number, compaction::MergeResult* merged);
  // Open: finishes the reprice step DATA/REPRICE records, if any (after the rollups
  // and their WAL catch-up are loaded).
  Status RecoverRepriceStep(const manifest::ManifestState& state);
  // Open with rollups off: removes the rollup file, which would stop covering the spans
  // written from now on (turned on again, the store scans span-level queries).
  Status DiscardRollups();
  // Retention: drops rollup rows older than their project keeps anything.
  void ExpireRollups(int64_t now_ns);
  // Span-level answers from the rollups when they can give them (nullopt: scan).
  std::optional<Result<AggregateResult>> AggregateFromRollups(const AggregateQuery& q);
  // Trace level, grouped by session with an order and a limit: a bounded top-k over the
  // trace index's session records (nullopt: the query needs the general path).
  std::optional<Result<AggregateResult>> TopSessions(const AggregateQuery& q);

  // Queries (embedded_store_query.cc). Gather: mu_ must not be held.
  Status Gather(uint32_t record, GatheredSpans* out);
  bool MatchesExpensive(uint32_t record, const TraceQuery& q, const std::string& text_lower);
  // The attribute and text filters of q (text_lower: q.text lowercased) decided for many
  // traces at once by scanning the columns that hold them, across segment files and
  // memtables on both cores (embedded_store_query_scan.cc). (*verdicts)[i] is for
  // records[i]: kNo, kYes, or kVerify when only MatchesExpensive can tell (a trace whose
  // spans live in several places may hold an older copy of a span that matched; a
  // block that did not read). mu_ must not be held.
  enum Verdict : uint8_t { kNo = 0, kYes = 1, kVerify = 2 };

  // Where one trace's spans live, copied in one shared-lock step: a span id repeated in
  // two places (a batch re-sent after its first copy was flushed) counts once, its
  // newest copy: later segments (rec.segs order), then the frozen memtable, then the
  // live one (embedded_store_query_dups.cc).
  struct TraceParts {
    uint32_t record = 0;
    TraceAgg agg;  // the record's merged aggregate (counts every copy)
    std::vector<std::pair<std::shared_ptr<SegmentFile>, SegLoc>> segs;  // oldest first
    std::vector<std::string_view> mem_spans[2];                         // imm_, then mem_
    std::shared_ptr<Memtable> keep[2];                                  // own the arena bytes
  };
  // The parts of record i. mu_ held.
  void CollectPartsLocked(uint32_t record, TraceParts* out) const;
  // For each trace, whether two of its places hold a copy of one span id (read from the
  // span_id column of v2 files, or the spans). A place that does not read counts as
  // duplicated: ReadNewest then reports the damage.
  void FindDuplicates(const std::vector<TraceParts>& traces, std::vector<uint8_t>* dup);
  // The trace's spans, the newest copy of each span id in `newest` and the copies it
  // replaces in `stale` (bytes in *storage). Corruption (reported for salvage, as
  // Gather does) when a part does not read.
  Status ReadNewest(const TraceParts& t, std::deque<std::string>* storage, std::vector<std::string_view>* newest,
                    std::vector<std::string_view>* stale);
  // A query's text memos, by columnar file: passed to every ScanVerdicts call of one
  // query, so each payload frame is searched once per query, not once per batch.
  struct ScanMemos {
    std::unordered_map<const columnar::ColumnarReader*,
                       std::pair<std::shared_ptr<const columnar::ColumnarReader>, std::shared_ptr<columnar::TextMemo>>>
        files;
  };
  Status ScanVerdicts(const std::vector<uint32_t>& records, const TraceQuery& q, const std::string& text_lower,
                      std::vector<uint8_t>* verdicts, ScanMemos* memos = nullptr);

  EmbeddedStoreOptions opts_;
  Env* env_;
  std::string wal_dir_, seg_dir_;
  std::unique_ptr<FileLock> lock_;
  RecoveryReport recovery_;

  // Ingest queue.
  std::mutex q_mu_;
  std::condition_variable q_cv_;
  std::deque<std::unique_ptr<Pending>> queue_;  // guarded by q_mu_
  size_t queue_bytes_ = 0;                      // guarded by q_mu_; queued + in flight
  bool closing_ = false;                        // guarded by q_mu_
  bool failed_ = false;                         // guarded by q_mu_
  Status failure_;                              // guarded by q_mu_
  int64_t next_probe_ns_ = 0;                   // guarded by q_mu_
  std::atomic<bool> closing_flag_{false};
  std::atomic<bool> disk_full_{false};

  // Writer-thread state (also touched by Open/Close before/after the thread runs).
  std::unique_ptr<wal::WalWriter> wal_;
  uint64_t next_wal_number_ = 1;
  std::string wal_buf_;
  static constexpr size_t kWalWriteChunk = size_t{4} << 20;  // CommitGroup writes at least this much at once
  uint64_t wal_group_start_ = 0;  // WAL offset where the group being committed begins
  Status writer_exit_status_;

  // Read state.
  mutable std::shared_mutex mu_;
  TraceIndex index_;                                          // guarded by mu_
  std::shared_ptr<Memtable> mem_;                             // guarded by mu_ (writer reads it unlocked)
  // Spans were dropped when applied to mem_ (deleted or sampled-out traces): its WAL
  // files hold records no memtable does, so an empty mem_ still needs a flush to retire
  // them. Guarded by mu_ (the writer reads it unlocked, as mem_).
  bool mem_dropped_ = false;
  std::shared_ptr<Memtable> imm_;                             // guarded by mu_
  uint64_t imm_covered_wal_ = 0;                              // guarded by mu_
  // Segment files by slot (SegLoc::segment). Slots are never reused: a replaced file's
  // slot is emptied, so a SegLoc always names the file it was written for.
  struct Slot {
    std::shared_ptr<SegmentFile> file;  // null: replaced or quarantined
    manifest::FileMeta meta;
  };
  std::vector<Slot> files_;  // guarded by mu_
  // The v1 readers of files_, slot for slot (null elsewhere), for the span scans of
  // embedded_store_aggregate.cc. Guarded by mu_.
  std::vector<std::shared_ptr<segment::SegmentReader>> segments_;
  // Re-sent spans: the span ids (SpanIdToU64) each trace holds in its segments, sorted,
  // for the traces Apply looked up. A superset is safe (the copy is then looked for and
  // not found), a subset is not: a flush adds the ids it wrote to the traces held here,
  // compaction keeps them (it moves spans, and drops only older copies of re-sent ones),
  // and a trace leaves when its index record is removed (DropTraceLocked). Cleared past
  // kMaxFlushedIds ids. Guarded by mu_.
  std::unordered_map<uint32_t, std::vector<uint64_t>> flushed_ids_;
  size_t flushed_ids_total_ = 0;
  static constexpr size_t kMaxFlushedIds = size_t{1} << 20;
  std::unique_ptr<manifest::Manifest> manifest_;
  // Rollups: the base covers every flushed span; each memtable carries its own delta.
  bool rollups_on_ = false;         // set at Open: enabled and the base covers every segment
  rollup::RollupTable rollup_base_; // guarded by mu_
  std::atomic<uint64_t> rollup_covered_wal_{0};  // WAL files <= this are in the rollup file
  uint64_t rollup_base_covered_ = 0;  // guarded by mu_: WAL files <= this are in rollup_base_
  // Serialises writes of DATA/ROLLUPS, so the file never goes back to an older base, and
  // holds them off during a reprice step (store/reprice). Lock order: compact_mu_ before
  // rollup_file_mu_ before mu_.
  std::mutex rollup_file_mu_;

  // Repricing: one at a time (reprice_mu_ before compact_mu_). reprice_blocked_: a step
  // whose install or rollup write failed leaves the journal to Open; guarded by reprice_mu_.
  std::mutex reprice_mu_;
  Status reprice_blocked_;

  // Flush coordination.
  std::mutex flush_mu_;
  std::condition_variable flush_cv_;
  bool imm_pending_ = false;  // guarded by flush_mu_
  bool flush_stop_ = false;   // guarded by flush_mu_
  Status last_flush_error_;   // guarded by flush_mu_

  std::atomic<bool> flush_disk_full_{false};  // the last flush failed for lack of space
  int flush_failures_in_row_ = 0;              // flush thread only

  // Deletion. Lock order: del_run_mu_ before compact_mu_ before mu_; del_mu_ is a leaf.
  std::mutex del_run_mu_;  // one deletion (or completion of pending ones) at a time
  std::mutex del_mu_;
  std::vector<DeletionRecord> deletions_;  // guarded by del_mu_: DATA/DELETIONS as on disk
  std::unordered_set<TraceKey, TraceKeyHash> tombstones_;  // guarded by mu_
  std::atomic<bool> deletions_pending_{false};  // a deletion's rewrite is not done yet
  // Sampling. Lock order: sample_mu_ before mu_.
  std::mutex sample_mu_;  // one sweep (or flush) at a time
  sampling::SamplingOptions sampling_;  // guarded by mu_ (SetSampling replaces it)
  // Traces not decided yet (their project samples and they are not complete).
  std::unordered_set<TraceKey, TraceKeyHash> undecided_;  // guarded by mu_
  // Traces dropped since start whose data is gone from disk (late spans of them are
  // dropped too); cleared past kMaxSampledOut entries. Guarded by mu_.
  std::unordered_set<TraceKey, TraceKeyHash> sampled_out_;
  // DATA/SAMPLING as on disk, except drops' wal numbers, which late spans raise in
  // memory. Guarded by mu_ (counts: also copied under sampling_mu_ for readers).
  sampling::SamplingState sample_state_;
  bool sample_dirty_ = false;  // guarded by mu_: sample_state_ differs from the file
  uint64_t apply_wal_ = 0;     // guarded by mu_: the WAL file the spans being applied are in
  uint64_t flushed_wal_ = 0;   // guarded by mu_: WAL files <= this are in segments

  // Compaction coordination.
  std::mutex compact_mu_;          // one compaction or retention pass at a time
  std::mutex comp_wait_mu_;
  std::condition_variable comp_cv_;
  bool comp_stop_ = false;         // guarded by comp_wait_mu_
  std::atomic<bool> comp_stop_flag_{false};
  std::vector<uint64_t> damaged_;  // guarded by compact_mu_: files a compaction could not read
  std::vector<uint64_t> salvage_queue_;  // guarded by comp_wait_mu_: files reads found damaged

  std::thread writer_, flusher_, compactor_;
  std::mutex close_mu_;
  bool closed_ = false;  // guarded by close_mu_
  Status close_status_;  // guarded by close_mu_

  // Statistics.
  std::atomic<bool> ready_{false};
  std::atomic<int64_t> spans_written_{0}, bytes_written_{0}, fsyncs_{0}, fsync_ns_{0}, rejected_{0},
      write_failures_{0}, segment_count_{0};
  std::atomic<bool> compaction_running_{false};  // the background thread is merging (or looking for a merge)
  std::atomic<int64_t> flush_failures_{0}, compactions_{0}, compaction_bytes_{0}, duplicates_removed_{0},
      corrupt_segments_{0}, corrupt_reads_{0}, retention_summarized_{0}, retention_dropped_{0}, flush_stalls_{0},
      flush_stall_ns_{0};
  std::atomic<int64_t> mem_bytes_{0}, index_bytes_{0};
  std::atomic<int64_t> fsync_buckets_[std::size(StoreStats::kFsyncBucketsNs)] = {};
};

}  // namespace sightline::store
