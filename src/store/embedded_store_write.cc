// EmbeddedStore write path: Append, the group-commit writer thread, failure and
// recovery from it, WAL rotation.
#include <algorithm>
#include <type_traits>

#include "common/buffer_pool.h"
#include "store/embedded_store.h"
#include "store/wal/wal_format.h"
#include "store/wal/wal_writer.h"

namespace sightline::store {

Status EmbeddedStore::Append(std::vector<model::Span> spans, AppendCallback done) {
  return AppendImpl(&spans, std::move(done));
}

Status EmbeddedStore::AppendSpans(model::SpanList* spans, AppendCallback done) {
  return AppendImpl(spans, std::move(done));
}

Status EmbeddedStore::AppendReceived(model::SpanList* spans, const ReceivedParts& parts, AppendCallback done) {
  return AppendImpl(spans, std::move(done), &parts);
}

template <typename Spans>
Status EmbeddedStore::AppendImpl(Spans* spans, AppendCallback done, const ReceivedParts* parts) {
  auto unavailable = [this]() -> Status {  // q_mu_ held
    if (closing_) return Status::Unavailable("store is closed");
    return Status::Unavailable("store is not accepting writes: " + failure_.ToString());
  };
  {
    std::lock_guard<std::mutex> l(q_mu_);
    if (closing_ || failed_) return unavailable();
  }
  if (flush_disk_full_) {
    ++rejected_;
    return Status::Unavailable("disk full: the memtable cannot be flushed to a segment; retry later");
  }
  auto p = std::make_unique<Pending>();
  p->batch.payload = BufferPool::Default()->Take();  // warm pages (common/buffer_pool.h)
  if constexpr (std::is_same_v<Spans, model::SpanList>) {
    SL_RETURN_IF_ERROR(parts != nullptr ? p->batch.EncodeRecord(spans, *parts) : p->batch.EncodeRecord(spans));
  } else {
    SL_RETURN_IF_ERROR(p->batch.EncodeRecord(spans));
  }
  p->bytes = p->batch.payload.size();
  p->done = std::move(done);
  {
    std::lock_guard<std::mutex> l(q_mu_);
    if (closing_ || failed_) return unavailable();
    // One batch larger than the whole limit is still taken when nothing is queued, so
    // no batch is refused forever.
    if (queue_bytes_ > 0 && queue_bytes_ + p->bytes > opts_.queue_limit_bytes) {
      ++rejected_;
      return Status::ResourceExhausted("store ingest queue is full (" + std::to_string(queue_bytes_) + " of " +
                                       std::to_string(opts_.queue_limit_bytes) + " bytes awaiting fsync)");
    }
    queue_bytes_ += p->bytes;
    queue_.push_back(std::move(p));
  }
  q_cv_.notify_one();
  return Status::OK();
}

void EmbeddedStore::WriterLoop() {
  std::vector<std::unique_ptr<Pending>> group;
  for (;;) {
    bool failed = false, probe = false;
    {
      std::unique_lock<std::mutex> l(q_mu_);
      for (;;) {
        if (failed_) {
          if (!queue_.empty() || closing_) break;
          int64_t wait = next_probe_ns_ - env_->MonotonicNanos();
          if (wait <= 0) {
            probe = true;
            break;
          }
          q_cv_.wait_for(l, std::chrono::nanoseconds(wait));
          continue;
        }
        if (!queue_.empty() || closing_) break;
        q_cv_.wait(l);
      }
      if (queue_.empty() && closing_) break;
      failed = failed_;
      if (!probe) {
        size_t bytes = 0;
        while (!queue_.empty()) {
          if (!group.empty() && !failed &&
              (opts_.fsync == FsyncPolicy::kAlways || bytes + queue_.front()->bytes > opts_.max_group_bytes))
            break;
          bytes += queue_.front()->bytes;
          group.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
    }
    if (probe) {
      TryRecover();
      continue;
    }
    if (failed) {  // accepted before the failure: they cannot be made durable now
      Status s;
      {
        std::lock_guard<std::mutex> l(q_mu_);
        s = Status::Unavailable("store is not accepting writes: " + failure_.ToString());
      }
      CompleteGroup(&group, s);
      continue;
    }
    WaitForFlushRoom();
    Status s = CommitGroup(group);
    if (!s.ok()) {
      EnterFailed(s);
      CompleteGroup(&group, s);
      continue;
    }
    {
      std::unique_lock<std::shared_mutex> w(mu_);
      if (wal_) apply_wal_ = wal_->file_number();
      for (const auto& p : group) ApplyLocked(p->batch);
      mem_bytes_ = static_cast<int64_t>(mem_->MemoryBytes());
    }
    MaybeRotate(std::any_of(group.begin(), group.end(), [](const auto& p) { return p->force_flush; }));
    CompleteGroup(&group, Status::OK());
  }
  // Closing: everything queued was completed above. Make the WAL durable and close it.
  if (wal_) {
    Status s = wal_->Sync();
    Status c = wal_->Close();
    writer_exit_status_ = s.ok() ? c : s;
    wal_.reset();
  }
}

Status EmbeddedStore::CommitGroup(const std::vector<std::unique_ptr<Pending>>& group) {
  if (!wal_) return Status::Unavailable("no WAL file open");
  // The group goes to the file a few MiB at a time through one reused buffer: a group
  // can be 64 MiB, and a buffer that size, fresh each time, costs a page fault every
  // 4 KiB. Should a write fail, EnterFailed cuts the file back to where the group began.
  wal_group_start_ = wal_->written_size();
  wal_buf_.clear();
  int64_t spans = 0;
  uint64_t bytes = 0;
  for (const auto& p : group) {
    if (p->force_flush) continue;
    wal_->EncodeRecord(p->batch.payload, &wal_buf_);
    spans += static_cast<int64_t>(p->batch.metas.size());
    if (wal_buf_.size() >= kWalWriteChunk) {
      SL_RETURN_IF_ERROR(wal_->Write(wal_buf_));
      bytes += wal_buf_.size();
      wal_buf_.clear();
    }
  }
  SL_RETURN_IF_ERROR(wal_->Write(wal_buf_));
  bytes += wal_buf_.size();
  if (opts_.fsync != FsyncPolicy::kNever) {
    int64_t t0 = env_->MonotonicNanos();
    SL_RETURN_IF_ERROR(wal_->Sync());
    int64_t dt = env_->MonotonicNanos() - t0;
    ++fsyncs_;
    fsync_ns_ += dt;
    for (size_t i = 0; i < std::size(StoreStats::kFsyncBucketsNs); ++i) {
      if (dt <= StoreStats::kFsyncBucketsNs[i]) {
        ++fsync_buckets_[i];
        break;
      }
    }
  }
  bytes_written_ += static_cast<int64_t>(bytes);
  spans_written_ += spans;
  if (wal_buf_.capacity() > (size_t{16} << 20)) std::string().swap(wal_buf_);  // after one huge batch
  return Status::OK();
}

void EmbeddedStore::CompleteGroup(std::vector<std::unique_ptr<Pending>>* group, const Status& s) {
  size_t bytes = 0;
  for (const auto& p : *group) bytes += p->bytes;
  {
    std::lock_guard<std::mutex> l(q_mu_);
    queue_bytes_ -= bytes;
  }
  for (auto& p : *group)
    if (p->done) p->done(s);  // no store lock is held here
  // The memtable holds copies of the spans: the batches' buffers serve the next ones.
  for (auto& p : *group) BufferPool::Default()->Give(std::move(p->batch.payload));
  group->clear();
}

void EmbeddedStore::EnterFailed(const Status& s) {
  ++write_failures_;
  bool full = s.code() == StatusCode::kUnavailable && s.message().find("disk full") != std::string::npos;
  if (wal_) {
    // Cut what the failed group may have left, so the file ends at the last
    // acknowledged record; the file is then abandoned (its fsync state is unknown).
    uint64_t good = wal_group_start_;
    std::string path = wal_->path();
    (void)wal_->Close();
    wal_.reset();
    Status t = env_->Truncate(path, good);
    if (!t.ok()) Log("could not truncate " + path + " after a failed write: " + t.ToString());
  }
  Log("WAL write failed, refusing writes until it recovers: " + s.ToString());
  disk_full_ = full;
  std::lock_guard<std::mutex> l(q_mu_);
  failed_ = true;
  failure_ = s;
  next_probe_ns_ = env_->MonotonicNanos() + opts_.retry_interval_ms * 1000000;
}

void EmbeddedStore::TryRecover() {
  Status s;
  if (disk_full_) {
    auto free = env_->FreeSpace(opts_.dir);
    if (!free.ok()) {
      s = free.status();
    } else if (*free < opts_.min_free_bytes) {
      s = Status::Unavailable("disk full: " + std::to_string(*free) + " bytes free, waiting for " +
                              std::to_string(opts_.min_free_bytes));
    }
  }
  if (s.ok()) s = StartNewWal();
  std::lock_guard<std::mutex> l(q_mu_);
  if (s.ok()) {
    failed_ = false;
    failure_ = Status::OK();
    disk_full_ = false;
    Log("WAL writable again; accepting writes");
  } else {
    if (s.code() == StatusCode::kUnavailable && s.message().find("disk full") != std::string::npos)
      disk_full_ = true;
    next_probe_ns_ = env_->MonotonicNanos() + opts_.retry_interval_ms * 1000000;
  }
}

Status EmbeddedStore::StartNewWal() {
  uint64_t number = next_wal_number_++;
  std::string path = JoinPath(wal_dir_, wal::WalFileName(number));
  SL_ASSIGN_OR_RETURN(auto w, wal::WalWriter::Create(env_, path, number));
  Status s = w->Sync();
  if (s.ok()) s = env_->SyncDir(wal_dir_);
  if (!s.ok()) {
    (void)w->Close();
    (void)env_->RemoveFile(path);
    return s;
  }
  if (wal_) (void)wal_->Close();  // every record in it was synced (or kNever: written)
  wal_ = std::move(w);
  return Status::OK();
}

void EmbeddedStore::MaybeRotate(bool force_flush) {
  bool want_flush = force_flush || mem_->MemoryBytes() >= opts_.memtable_limit_bytes;
  if (want_flush) {
    std::lock_guard<std::mutex> f(flush_mu_);
    if (imm_pending_ || (mem_->empty() && !mem_dropped_)) want_flush = false;
  }
  if (!want_flush) {
    if (wal_ && wal_->encoded_size() >= opts_.wal_file_bytes) {
      Status s = StartNewWal();
      if (!s.ok()) Log("could not start a new WAL file (keeping the current one): " + s.ToString());
    }
    return;
  }
  if (opts_.fsync == FsyncPolicy::kNever && wal_) (void)wal_->Sync();
  uint64_t covered = wal_ ? wal_->file_number() : next_wal_number_ - 1;
  Status s = StartNewWal();
  if (!s.ok()) {
    Log("could not start a new WAL file for a flush (will retry): " + s.ToString());
    return;
  }
  {
    std::unique_lock<std::shared_mutex> w(mu_);
    imm_ = std::move(mem_);
    imm_covered_wal_ = covered;
    mem_ = NewMemtable();
    mem_dropped_ = false;
  }
  mem_bytes_ = 0;
  std::lock_guard<std::mutex> f(flush_mu_);
  imm_pending_ = true;
  flush_cv_.notify_all();
}

void EmbeddedStore::WaitForFlushRoom() {
  // Back-pressure: while a flush is still writing the previous memtable, let the new
  // one grow to its limit, then stop taking groups (the queue fills and Appends get
  // ResourceExhausted) until the flush is done.
  std::unique_lock<std::mutex> f(flush_mu_);
  while (imm_pending_ && !closing_flag_ && mem_->MemoryBytes() >= opts_.memtable_limit_bytes)
    flush_cv_.wait_for(f, std::chrono::milliseconds(100));
}

}  // namespace sightline::store
