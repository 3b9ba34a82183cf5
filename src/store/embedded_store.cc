// EmbeddedStore: opening (recovery), closing and statistics. The write path is in
// embedded_store_write.cc, flushing in embedded_store_flush.cc, queries in
// embedded_store_query.cc.
#include "store/embedded_store.h"

#include <algorithm>
#include <cstdio>

#include "store/segment/segment_format.h"
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
      mem_(std::make_shared<Memtable>()) {}

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
  std::unique_ptr<EmbeddedStore> s(new EmbeddedStore(options));
  SL_RETURN_IF_ERROR(s->Recover().WithContext("opening store at " + options.dir));
  s->writer_ = std::thread([p = s.get()] { p->WriterLoop(); });
  s->flusher_ = std::thread([p = s.get()] { p->FlushLoop(); });
  s->ready_ = true;
  return s;
}

Status EmbeddedStore::Recover() {
  SL_RETURN_IF_ERROR(env_->CreateDir(opts_.dir));
  SL_RETURN_IF_ERROR(env_->CreateDir(wal_dir_));
  SL_RETURN_IF_ERROR(env_->CreateDir(seg_dir_));
  SL_ASSIGN_OR_RETURN(lock_, env_->LockFile(JoinPath(opts_.dir, "LOCK")));

  // Segments: load tables and partial aggregates only (no span data).
  SL_ASSIGN_OR_RETURN(auto seg_names, env_->GetChildren(seg_dir_));
  std::vector<uint64_t> seg_numbers;
  for (const auto& n : seg_names) {
    uint64_t num;
    if (segment::ParseSegmentFileName(n, &num)) {
      seg_numbers.push_back(num);
    } else if (n.size() > 4 && n.substr(n.size() - 4) == ".tmp") {
      (void)env_->RemoveFile(JoinPath(seg_dir_, n));  // an interrupted flush
    }
  }
  std::sort(seg_numbers.begin(), seg_numbers.end());
  uint64_t covered = 0;
  std::unique_lock<std::shared_mutex> w(mu_);
  for (uint64_t num : seg_numbers) {
    auto seg_index = static_cast<uint32_t>(segments_.size());
    std::string path = JoinPath(seg_dir_, segment::SegmentFileName(num));
    auto reader = segment::SegmentReader::Open(env_, path, [&](const segment::TableEntry& e) -> Status {
      TraceAgg agg;
      if (!TraceAgg::Decode(e.agg, &index_.pool(), &agg))
        return Status::Corruption(path + ": malformed aggregate of trace entry at offset " + std::to_string(e.offset));
      uint32_t ti = index_.FindOrAdd(e.id);
      index_.MergePartial(ti, agg);
      index_.AddSegLoc(ti, SegLoc{seg_index, e.length, e.offset, e.checksum});
      return Status::OK();
    });
    if (!reader.ok()) return reader.status();
    covered = std::max(covered, (*reader)->covered_wal());
    segments_.push_back(std::move(reader).value());
    ++recovery_.segments;
  }
  segment_count_ = static_cast<int64_t>(segments_.size());
  w.unlock();

  // WAL files: delete those a segment covers, replay the rest in order.
  SL_ASSIGN_OR_RETURN(auto wal_names, env_->GetChildren(wal_dir_));
  std::vector<uint64_t> wal_numbers;
  for (const auto& n : wal_names) {
    uint64_t num;
    if (!wal::ParseWalFileName(n, &num)) continue;
    if (num <= covered) {
      (void)env_->RemoveFile(JoinPath(wal_dir_, n));
    } else {
      wal_numbers.push_back(num);
    }
  }
  std::sort(wal_numbers.begin(), wal_numbers.end());
  for (size_t i = 0; i < wal_numbers.size(); ++i) {
    SL_RETURN_IF_ERROR(ReplayWal(JoinPath(wal_dir_, wal::WalFileName(wal_numbers[i])), i + 1 == wal_numbers.size()));
    ++recovery_.wal_files;
  }
  if (recovery_.records > 0 || recovery_.segments > 0 || !recovery_.corruptions.empty()) {
    Log("recovered " + std::to_string(recovery_.segments) + " segments, " + std::to_string(recovery_.spans) +
        " spans from " + std::to_string(recovery_.wal_files) + " WAL files" +
        (recovery_.dropped_bytes ? "; LOST " + std::to_string(recovery_.dropped_bytes) + " corrupt WAL bytes" : ""));
  }

  next_wal_number_ = std::max(covered, wal_numbers.empty() ? uint64_t{0} : wal_numbers.back()) + 1;
  SL_RETURN_IF_ERROR(StartNewWal());
  mem_bytes_ = static_cast<int64_t>(mem_->MemoryBytes());
  index_bytes_ = static_cast<int64_t>(index_.MemoryBytes());
  if (mem_->MemoryBytes() >= opts_.memtable_limit_bytes) {
    std::unique_lock<std::shared_mutex> l(mu_);
    imm_ = std::move(mem_);
    imm_covered_wal_ = wal_->file_number() - 1;
    mem_ = std::make_shared<Memtable>();
    std::lock_guard<std::mutex> f(flush_mu_);
    imm_pending_ = true;
  }
  return Status::OK();
}

Status EmbeddedStore::ReplayWal(const std::string& path, bool last) {
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
  for (size_t i = 0; i < b.metas.size(); ++i) {
    SpanFacts f = b.Facts(i);
    SpanCounts old;
    bool dup = mem_->Add(f, b.SpanBytes(i), &index_.pool(), &old);
    uint32_t ti = index_.FindOrAdd(f.trace);
    if (dup) index_.RemoveCounts(ti, old);
    index_.AddSpan(ti, f);
  }
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
  if (writer_.joinable()) writer_.join();  // drains the queue, syncs and closes the WAL
  {
    std::lock_guard<std::mutex> l(flush_mu_);
    flush_stop_ = true;
  }
  flush_cv_.notify_all();
  if (flusher_.joinable()) flusher_.join();
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
    st.segments = static_cast<int64_t>(segments_.size());
    st.index_bytes = static_cast<int64_t>(index_.MemoryBytes());
  }
  st.fsyncs = fsyncs_;
  st.fsync_ns_total = fsync_ns_;
  for (const auto& b : fsync_buckets_) st.fsync_latency_buckets.push_back(b.load());
  st.ready = ready_;
  st.disk_full = disk_full_;
  st.rejected_queue_full = rejected_;
  st.write_failures = write_failures_;
  st.recovery_dropped_bytes = static_cast<int64_t>(recovery_.dropped_bytes);
  return st;
}

}  // namespace sightline::store
