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
// file starts, and the flush thread writes it as a segment file; once the segment is
// durable and installed, the WAL files it covers are deleted.
//
// Read path: queries read the trace index (merged aggregates of memtables and
// segments) under a shared lock, and decode span bytes outside it.
//
// Thread-safety: every public method may be called from any thread concurrently.
// Lock order: q_mu_ and mu_ are never held together; flush_mu_ is a leaf.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/env.h"
#include "store/memtable.h"
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

// When Append's callback reports OK (docs/wal_format.md "Fsync policies").
enum class FsyncPolicy {
  kBatch,   // group commit: one fdatasync per group of batches, then acknowledge
  kAlways,  // one write and one fdatasync per batch, no grouping
  kNever,   // acknowledge after write(2): survives a process crash, not a power loss
};

struct EmbeddedStoreOptions {
  Env* env = Env::Default();
  std::string dir = "./sightline-data";  // holds wal/, segments/ and LOCK
  FsyncPolicy fsync = FsyncPolicy::kBatch;
  size_t queue_limit_bytes = size_t{256} << 20;    // encoded bytes queued but not yet durable
  size_t memtable_limit_bytes = size_t{128} << 20; // then the memtable is flushed to a segment
  size_t wal_file_bytes = size_t{64} << 20;        // a WAL file past this is closed and a new one started
  size_t max_group_bytes = size_t{64} << 20;       // at most this much per group commit
  uint64_t min_free_bytes = uint64_t{64} << 20;    // after "disk full", resume once this much is free
  int64_t retry_interval_ms = 1000;                // probe after a write failure / retry a failed flush
  bool paranoid_checks = false;  // Open fails on any WAL corruption instead of skipping the damage
  std::function<void(const std::string&)> logger;  // default: stderr
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
};

class EmbeddedStore final : public SpanStore {
 public:
  static Result<std::unique_ptr<EmbeddedStore>> Open(const EmbeddedStoreOptions& options);
  ~EmbeddedStore() override;

  Status Append(std::vector<model::Span> spans, AppendCallback done) override;
  Result<TracePage> SearchTraces(const TraceQuery& query) override;
  Result<TraceDetail> GetTrace(const std::string& trace_id, const std::vector<std::string>& projects) override;
  Result<model::Span> GetSpan(const std::string& trace_id, const std::string& span_id,
                              const std::vector<std::string>& projects) override;
  Result<SessionPage> SearchSessions(const SessionQuery& query) override;
  Result<SessionDetail> GetSession(const std::string& session_id, const std::vector<std::string>& projects) override;
  StoreStats Stats() override;
  Status Close() override;

  const RecoveryReport& recovery_report() const { return recovery_; }
  // Blocks until the immutable memtable (if any) is written as a segment. For tests
  // and benchmarks; returns the last flush error, if any.
  Status WaitForFlush();
  // Makes the current memtable immutable and flushes it now (tests: flush + reopen).
  Status FlushNow();

 private:
  struct Pending {
    EncodedBatch batch;
    AppendCallback done;
    size_t bytes = 0;
    bool force_flush = false;  // FlushNow's marker: no spans, asks the writer to rotate
  };
  // Span bytes of one trace gathered from every place they live, oldest first.
  struct GatheredSpans {
    std::vector<std::string> blocks;  // segment blocks read (own the bytes)
    std::vector<std::string_view> spans;
    std::shared_ptr<Memtable> imm, mem;  // keep arena bytes alive
  };

  explicit EmbeddedStore(const EmbeddedStoreOptions& options);
  Status Recover();
  Status ReplayWal(const std::string& path, bool last);
  void ApplyLocked(const EncodedBatch& b);  // mu_ held exclusively
  void Log(const std::string& m);

  // Writer thread (embedded_store_write.cc).
  void WriterLoop();
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

  // Queries (embedded_store_query.cc). Gather: mu_ must not be held.
  Status Gather(uint32_t record, GatheredSpans* out);
  bool MatchesExpensive(uint32_t record, const TraceQuery& q, const std::string& text_lower);

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
  Status writer_exit_status_;

  // Read state.
  mutable std::shared_mutex mu_;
  TraceIndex index_;                                          // guarded by mu_
  std::shared_ptr<Memtable> mem_;                             // guarded by mu_ (writer reads it unlocked)
  std::shared_ptr<Memtable> imm_;                             // guarded by mu_
  uint64_t imm_covered_wal_ = 0;                              // guarded by mu_
  std::vector<std::shared_ptr<segment::SegmentReader>> segments_;  // guarded by mu_

  // Flush coordination.
  std::mutex flush_mu_;
  std::condition_variable flush_cv_;
  bool imm_pending_ = false;  // guarded by flush_mu_
  bool flush_stop_ = false;   // guarded by flush_mu_
  Status last_flush_error_;   // guarded by flush_mu_

  std::thread writer_, flusher_;
  std::mutex close_mu_;
  bool closed_ = false;  // guarded by close_mu_
  Status close_status_;  // guarded by close_mu_

  // Statistics.
  std::atomic<bool> ready_{false};
  std::atomic<int64_t> spans_written_{0}, bytes_written_{0}, fsyncs_{0}, fsync_ns_{0}, rejected_{0},
      write_failures_{0}, segment_count_{0};
  std::atomic<int64_t> mem_bytes_{0}, index_bytes_{0};
  std::atomic<int64_t> fsync_buckets_[std::size(StoreStats::kFsyncBucketsNs)] = {};
};

}  // namespace sightline::store
