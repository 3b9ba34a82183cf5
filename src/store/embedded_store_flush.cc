// EmbeddedStore flushing: the background thread that writes the immutable memtable
// as a segment file, installs it, and deletes the WAL files it covers.
#include <algorithm>
#include <numeric>

#include "store/embedded_store.h"
#include "store/segment/segment_reader.h"
#include "store/segment/segment_writer.h"
#include "store/wal/wal_format.h"

namespace sightline::store {

void EmbeddedStore::FlushLoop() {
  std::unique_lock<std::mutex> f(flush_mu_);
  for (;;) {
    flush_cv_.wait(f, [&] { return imm_pending_ || flush_stop_; });
    if (flush_stop_) return;  // an unflushed memtable stays covered by its WAL files
    f.unlock();
    Status s = FlushImmutable();
    f.lock();
    last_flush_error_ = s;
    if (s.ok()) {
      imm_pending_ = false;
      flush_cv_.notify_all();
    } else {
      f.unlock();
      Log("flush failed (will retry; its WAL files are kept): " + s.ToString());
      f.lock();
      flush_cv_.notify_all();
      flush_cv_.wait_for(f, std::chrono::milliseconds(opts_.retry_interval_ms), [&] { return flush_stop_; });
    }
  }
}

Status EmbeddedStore::FlushImmutable() {
  std::shared_ptr<Memtable> imm;
  uint64_t covered;
  {
    std::shared_lock<std::shared_mutex> r(mu_);
    imm = imm_;
    covered = imm_covered_wal_;
  }
  if (!imm) return Status::OK();
  SL_ASSIGN_OR_RETURN(auto builder, segment::SegmentBuilder::Create(env_, seg_dir_, covered));
  const auto& traces = imm->traces();
  std::vector<uint32_t> order(traces.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return traces[a].id < traces[b].id; });
  std::vector<std::string> aggs;
  std::vector<std::string_view> spans;
  constexpr size_t kChunk = 1024;
  for (size_t begin = 0; begin < order.size(); begin += kChunk) {
    size_t end = std::min(order.size(), begin + kChunk);
    aggs.assign(end - begin, std::string());
    {
      // The aggregates name interned strings; the pool may grow under the writer, so
      // read it under the shared lock, a chunk at a time.
      std::shared_lock<std::shared_mutex> r(mu_);
      for (size_t i = begin; i < end; ++i) traces[order[i]].agg.Encode(index_.pool(), &aggs[i - begin]);
    }
    for (size_t i = begin; i < end; ++i) {
      const Memtable::Trace& t = traces[order[i]];
      spans.clear();
      imm->SpanBytes(t, &spans);
      SL_RETURN_IF_ERROR(builder->AddTrace(t.id, spans, aggs[i - begin], t.agg.start_ns, t.agg.end_ns)
                             .WithContext("writing " + builder->path()));
    }
  }
  SL_RETURN_IF_ERROR(builder->Finish());
  SL_ASSIGN_OR_RETURN(auto reader, segment::SegmentReader::Open(env_, builder->path(),
                                                               [](const segment::TableEntry&) { return Status::OK(); }));
  {
    std::unique_lock<std::shared_mutex> w(mu_);
    auto seg_index = static_cast<uint32_t>(segments_.size());
    segments_.push_back(std::move(reader));
    for (const auto& t : builder->traces()) {
      auto ti = index_.Find(t.id);
      if (ti) index_.AddSegLoc(*ti, SegLoc{seg_index, t.length, t.offset, t.checksum});
    }
    imm_.reset();
    index_bytes_ = static_cast<int64_t>(index_.MemoryBytes());
  }
  segment_count_ = segment_count_ + 1;
  // The segment is durable and installed: the WAL files it covers can go.
  auto names = env_->GetChildren(wal_dir_);
  if (names.ok()) {
    for (const auto& n : *names) {
      uint64_t num;
      if (wal::ParseWalFileName(n, &num) && num <= covered) (void)env_->RemoveFile(JoinPath(wal_dir_, n));
    }
  }
  return Status::OK();
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
