// SpanStore: the one interface every backend of Sightline implements (the embedded
// store now; a ClickHouse cluster later). Receivers append through it; the API reads
// through it with backend-neutral queries (query_spec.h).
//
// Durability contract: Append's callback reports OK only after the spans are durable
// under the configured fsync policy and visible to queries. Nothing acknowledged is
// ever lost.
//
// Thread-safety: all methods may be called concurrently from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "model/span.h"
#include "store/deletion/deletion.h"
#include "store/query_spec.h"
#include "store/reprice/reprice.h"
#include "store/span_codec.h"

namespace sightline::store {

struct StoreStats {
  int64_t spans_written = 0;     // acknowledged since start
  int64_t bytes_written = 0;     // WAL bytes since start
  int64_t queue_depth_bytes = 0; // appended but not yet durable
  int64_t queue_limit_bytes = 0;
  int64_t memtable_bytes = 0;
  int64_t segments = 0;
  int64_t traces = 0;
  int64_t fsyncs = 0;
  int64_t fsync_ns_total = 0;    // cumulative fsync time
  std::vector<int64_t> fsync_latency_buckets;  // counts per StoreStats::kFsyncBucketsNs upper bound
  static constexpr int64_t kFsyncBucketsNs[] = {100000, 250000, 500000, 1000000, 2500000, 5000000,
                                                10000000, 25000000, 50000000, 100000000, 250000000, 1000000000};
  bool ready = false;
  bool disk_full = false;
  // Added by the embedded store (zero where a backend has no such thing):
  int64_t index_bytes = 0;             // in-memory trace index, sessions and interned strings
  int64_t rejected_queue_full = 0;     // Appends refused with ResourceExhausted
  int64_t write_failures = 0;          // failed WAL writes / fsyncs (each failed its batches)
  int64_t recovery_dropped_bytes = 0;  // WAL bytes skipped as corrupt at the last Open
  // Segments, compaction, retention, damage (embedded store):
  int64_t segment_bytes = 0;           // live segment files on disk
  int64_t flush_failures = 0;          // failed flush attempts (retried with backoff)
  int64_t compactions = 0;             // merges and retention rewrites installed
  int64_t compaction_bytes = 0;        // input bytes they read
  bool compaction_running = false;     // a merge is in progress now
  int64_t flush_stalls = 0;            // flushes that waited for compaction (too many live segments)
  int64_t flush_stall_ns = 0;          // how long they waited in all
  int64_t duplicates_removed = 0;      // duplicate span copies compaction dropped
  int64_t corrupt_segments = 0;        // segment files quarantined (*.corrupt) since Open
  int64_t corrupt_reads = 0;           // reads that hit a damaged block (Corruption returned)
  int64_t retention_summarized = 0;    // traces whose spans retention dropped (summary kept)
  int64_t retention_dropped = 0;       // traces retention removed entirely
  int64_t rollup_rows = 0;             // rollup rows in memory (base and memtable deltas)
  int64_t rollup_bytes = 0;            // their estimated memory
};

// Tail sampling's decisions since start (docs/sampling.md), per project.
struct SamplingCount {
  std::string project;
  bool kept = true;
  std::string reason;  // error, interrupt, flagged, sampled_in, sampled_out, incomplete
  int64_t traces = 0;
};

class SpanStore {
 public:
  using AppendCallback = std::function<void(Status)>;

  virtual ~SpanStore() = default;

  // Queues spans for the write-ahead log. Returns ResourceExhausted at once when the
  // ingest queue is full (the caller answers 429 / RESOURCE_EXHAUSTED), Unavailable
  // when the store is closing or the disk is full. Otherwise returns OK and later
  // calls `done` exactly once, from a store thread, when the spans are durable and
  // searchable (OK) or could not be made durable (an error).
  virtual Status Append(std::vector<model::Span> spans, AppendCallback done) = 0;
  // The same for spans that live on a request's arena (the ingest path): the store
  // must be done reading them when this returns, and may change them (they are the
  // caller's to free, not to read again). By default, a copy into Append.
  virtual Status AppendSpans(model::SpanList* spans, AppendCallback done) {
    std::vector<model::Span> copy(spans->size());
    for (size_t i = 0; i < spans->size(); ++i) copy[i] = (*spans)[i];
    return Append(std::move(copy), std::move(done));
  }
  // Whether AppendReceived may be called: the store writes spans from the bytes they
  // were received in (span_codec.h, ReceivedParts).
  virtual bool TakesReceivedParts() const { return false; }
  // AppendSpans with parts of the spans held as received bytes (parts.spans parallel to
  // spans); only for a store whose TakesReceivedParts() is true: the spans alone may lack
  // what the parts hold.
  virtual Status AppendReceived(model::SpanList* spans, const ReceivedParts& parts, AppendCallback done) {
    (void)spans, (void)parts, (void)done;
    return Status::Internal("this store does not take spans in their received bytes");
  }

  virtual Result<TracePage> SearchTraces(const TraceQuery& query) = 0;
  // trace_id is 16 raw bytes. NotFound when no span of it is stored. projects
  // restricts the read (empty: any).
  virtual Result<TraceDetail> GetTrace(const std::string& trace_id, const std::vector<std::string>& projects) = 0;
  virtual Result<model::Span> GetSpan(const std::string& trace_id, const std::string& span_id,
                                      const std::vector<std::string>& projects) = 0;
  virtual Result<SessionPage> SearchSessions(const SessionQuery& query) = 0;
  virtual Result<SessionDetail> GetSession(const std::string& session_id, const std::vector<std::string>& projects) = 0;

  // Group-by totals and quantile sketches over spans or traces (query_spec.h
  // "Aggregates"). InvalidArgument for a malformed query (naming what). Backends that
  // have no aggregate engine keep this default.
  virtual Result<AggregateResult> Aggregate(const AggregateQuery& query) {
    return Status::Internal("this store does not implement aggregate queries");
  }

  // Deletion on request (store/deletion/deletion.h, docs/deletion.md): forgets every
  // trace naming the user or session. Returns once the record is durable and the traces
  // are hidden from every query; complete() in the answer says whether the rewrite that
  // takes the data off disk is done too (otherwise it is retried in the background).
  virtual Result<DeletionRecord> Delete(const DeletionRequest& request) {
    return Status::Internal("this store does not implement deletion");
  }
  // Interrupted runs the filter keeps, and those a later run of their session resumed
  // (query_spec.h ResumeCounts). InvalidArgument with attr or text filters.
  virtual Result<ResumeCounts> CountResumes(const AggregateFilter& filter) {
    return Status::Internal("this store does not count resumes");
  }
  // Repricing (store/reprice/reprice.h, docs/pricing.md): rewrites the stored spans that
  // start in the period with the costs request.reprice gives them, and moves every
  // derived total (trace and session summaries, rollups) to the new costs.
  virtual Result<RepriceProgress> Reprice(const RepriceRequest& request) {
    return Status::Internal("this store does not implement repricing");
  }
  // Tail sampling's decision counts since start (empty: no sampling).
  virtual std::vector<SamplingCount> SamplingCounts() { return {}; }
  // Every deletion made, oldest first (value empty).
  virtual std::vector<DeletionRecord> Deletions() { return {}; }

  virtual StoreStats Stats() = 0;
  // Stops accepting appends, completes queued ones, flushes and syncs. Idempotent.
  // Must not be called from an Append callback.
  virtual Status Close() = 0;
};

}  // namespace sightline::store
