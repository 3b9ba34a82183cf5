// AuditLog: the append-only, hash-chained audit trail (docs/audit.md), kept in its own
// directory (DATA/audit/) apart from the traces, with its own retention.
//
// Durability: a record is durable when Append returns OK (or AppendAsync's callback
// reports OK): its batch was written and fsync'd. Callers answer the audited action
// only after that (a trace is served, an ingest request acknowledged, an admin
// command reported done). Records queued together are written and synced together
// (group commit: one writer thread takes everything queued, one fsync), so a burst of
// reads costs one fsync, not one each. After each batch HEAD is rewritten with the
// last record's seq and hash, so a trail cut short at its end is noticed (verify).
// AppendAsync's callbacks run as soon as the batch is synced (a read waits for one
// fsync, not three); HEAD is rewritten by a thread of its own, which takes the newest
// end each time, so the next batch never waits behind a HEAD rewrite. Append and
// AppendBatch return only once HEAD covers their records too, so `sightline audit
// verify` run right after an admin command finds HEAD at its record;
// HEAD is replaced whole (a temporary file, fsync, rename), never edited in place, and
// signed when a signer is configured. Open re-signs HEAD and ANCHOR with the
// configured key, and records an "audit.head_behind" system record when it finds
// records HEAD did not cover (a crash between a batch and its HEAD, or lines added
// while no server ran), so they are never signed silently.
//
// Crash: bytes of an unacknowledged batch may survive in part; Open drops an
// incomplete last line and records that it did (a "audit.recovered" system record).
// A write or fsync that fails fails its batch, truncates the file back to the last
// durable record and leaves the log usable for the next batch.
//
// Files roll at segment_bytes; retention drops whole files (never the newest) whose
// last record is older than retention_days, after recording in the chain and in
// ANCHOR the seq and hash of the last dropped record, so the rest stays verifiable.
//
// Thread-safety: every method may be called from any thread. One process opens a
// directory at a time (LOCK).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "audit/audit_record.h"
#include "audit/signing.h"
#include "common/env.h"
#include "common/status.h"

namespace sightline::audit {

struct ChainPoint;  // audit/audit_reader.h

struct AuditLogOptions {
  Env* env = Env::Default();
  std::string dir;                          // DATA/audit
  uint64_t segment_bytes = uint64_t{64} << 20;
  int64_t retention_days = 0;               // 0: keep forever
  size_t max_queued_records = 100000;       // more waiting: ResourceExhausted
  std::function<void(const std::string&)> logger = nullptr;
  // Signs HEAD and ANCHOR (audit/signing.h); null: they are written unsigned.
  std::shared_ptr<const AuditSigner> signer;
};

class AuditLog {
 public:
  using Callback = std::function<void(Status)>;

  // Opens (or creates) the trail: finds the last record, drops a torn tail, checks
  // that HEAD is not ahead of the records found (Corruption: records were removed at
  // the end; `sightline audit verify` says more).
  static Result<std::unique_ptr<AuditLog>> Open(AuditLogOptions options);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Appends and waits until the records are durable.
  Status Append(AuditRecord record);
  Status AppendBatch(std::vector<AuditRecord> records);
  // Queues records; done runs on the writer thread once they are durable (or failed),
  // or with after_head on the HEAD thread once HEAD covers them too. Records of one call are
  // consecutive in the trail. done must not call Append or AppendBatch (they would wait
  // for the thread running it): post such work elsewhere.
  void AppendAsync(std::vector<AuditRecord> records, Callback done, bool after_head = false);

  // Runs done (on the HEAD thread, or here when it already does) once HEAD covers
  // every record durable now: for actions whose records were appended by others (the
  // demo's ingest) and that answer as admin actions do.
  void WhenHeadCovers(Callback done);

  // Drops whole files past retention (see above). The server calls it from its tick.
  Status ApplyRetention();

  // The newest durable record's seq (0: none) and hash.
  uint64_t last_seq() const;
  std::string last_hash() const;
  const std::string& dir() const { return opts_.dir; }
  Env* env() const { return opts_.env; }

 private:
  struct Pending {
    std::vector<AuditRecord> records;
    Callback done;
    bool after_head = false;
  };
  explicit AuditLog(AuditLogOptions options) : opts_(std::move(options)) {}
  Status Recover(std::vector<AuditRecord>* system_records);
  void WriterLoop();
  void HeadLoop();
  // Hands the HEAD thread a new end of the trail, and callbacks to run once HEAD
  // covers it.
  void PublishEnd(uint64_t seq, const std::string& hash, std::vector<Callback> after_head);
  // Writes and syncs one group; on failure rewinds to the last durable state.
  Status WriteGroup(std::vector<Pending>& group);
  Status RollIfNeeded();
  Status WriteHead(uint64_t seq, const std::string& hash);
  Status WriteAnchor(const ChainPoint& anchor);
  void Log(const std::string& s) {
    if (opts_.logger) opts_.logger(s);
  }

  AuditLogOptions opts_;
  std::unique_ptr<FileLock> lock_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;  // guarded by mu_
  size_t queued_records_ = 0;  // guarded by mu_
  bool stop_ = false;          // guarded by mu_
  uint64_t durable_seq_ = 0;   // guarded by mu_
  std::string durable_hash_;   // guarded by mu_

  // Writer state: touched only by the writer thread (and Open/ApplyRetention under
  // write_mu_).
  std::mutex write_mu_;
  std::unique_ptr<WritableFile> file_;
  std::string file_name_;
  uint64_t file_synced_size_ = 0;
  uint64_t next_seq_ = 1;
  std::string prev_hash_;
  std::thread writer_;

  // The HEAD thread: rewrites HEAD to the newest end the writer published.
  std::mutex head_mu_;
  std::condition_variable head_cv_;
  bool head_stop_ = false;              // guarded by head_mu_
  uint64_t head_target_seq_ = 0;        // guarded by head_mu_
  std::string head_target_hash_;       // guarded by head_mu_
  uint64_t head_written_seq_ = 0;       // guarded by head_mu_
  std::vector<std::pair<uint64_t, Callback>> head_waiters_;  // guarded by head_mu_
  std::thread head_writer_;
};

}  // namespace sightline::audit
