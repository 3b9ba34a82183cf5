#include "store/memtable.h"

#include <sys/mman.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "store/span_codec.h"

namespace sightline::store {
namespace {

// Every memtable fills its blocks once and dies at its flush; freshly allocated blocks
// cost a page fault per 4 KiB on first touch, which profiling showed as the writer
// thread's largest cost (about a fifth of the server's CPU at full lean ingest on a
// VM). The pool hands freed blocks to the next memtable, and new blocks are 2 MiB
// aligned and advised for transparent huge pages (one fault per block where the
// kernel allows it).
class ArenaBlockPool {
 public:
  static ArenaBlockPool& Get() {
    static ArenaBlockPool* pool = new ArenaBlockPool();  // never destroyed: used at exit
    return *pool;
  }
  char* Take(size_t size) {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (!free_.empty()) {
        char* p = free_.back();
        free_.pop_back();
        return p;
      }
    }
    void* p = std::aligned_alloc(size, size);
    if (p == nullptr) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
    (void)madvise(p, size, MADV_HUGEPAGE);
#endif
    return static_cast<char*>(p);
  }
  void Return(char* p, size_t size) {
    {
      std::lock_guard<std::mutex> l(mu_);
      if ((free_.size() + 1) * size <= limit_) {
        free_.push_back(p);
        return;
      }
    }
    std::free(p);
  }
  void SetLimit(size_t bytes, size_t size) {
    std::vector<char*> drop;
    {
      std::lock_guard<std::mutex> l(mu_);
      limit_ = bytes;
      while (!free_.empty() && free_.size() * size > limit_) {
        drop.push_back(free_.back());
        free_.pop_back();
      }
    }
    for (char* p : drop) std::free(p);
  }
  size_t Bytes(size_t size) {
    std::lock_guard<std::mutex> l(mu_);
    return free_.size() * size;
  }

 private:
  std::mutex mu_;
  std::vector<char*> free_;
  size_t limit_ = size_t{128} << 20;
};

uint64_t SlotHash(uint32_t trace, uint64_t span_id) {
  return TraceKey::Mix64(span_id ^ (static_cast<uint64_t>(trace) * 0x9E3779B97F4A7C15ull));
}

uint64_t NextSeq() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

Memtable::Memtable(size_t rollup_max_tuples, const rollup::Cuts& cuts)
    : slots_(1024, -1), rollups_(rollup_max_tuples > 0), rollup_(rollup_max_tuples), seq_(NextSeq()) {
  rollup_.Fold(cuts);
}

Memtable::PooledBlock& Memtable::PooledBlock::operator=(PooledBlock&& o) noexcept {
  if (this != &o) {
    if (p != nullptr) ArenaBlockPool::Get().Return(p, kArenaBlock);
    p = o.p;
    o.p = nullptr;
  }
  return *this;
}

Memtable::PooledBlock::~PooledBlock() {
  if (p != nullptr) ArenaBlockPool::Get().Return(p, kArenaBlock);
}

void Memtable::SetBlockPoolLimit(size_t bytes) { ArenaBlockPool::Get().SetLimit(bytes, kArenaBlock); }
size_t Memtable::BlockPoolBytes() { return ArenaBlockPool::Get().Bytes(kArenaBlock); }

const char* Memtable::CopyToArena(std::string_view bytes) {
  if (bytes.size() > kArenaBlock / 4) {  // a big span gets a block of its own
    blocks_.emplace_back(new char[bytes.size()]);
    arena_bytes_ += bytes.size();
    char* p = blocks_.back().get();
    std::memcpy(p, bytes.data(), bytes.size());
    // keep the current small-span block usable: it stays where cur_ points
    return p;
  }
  if (bytes.size() > cur_left_) {
    pooled_.emplace_back(ArenaBlockPool::Get().Take(kArenaBlock));
    arena_bytes_ += kArenaBlock;
    cur_ = pooled_.back().p;
    cur_left_ = kArenaBlock;
  }
  char* p = cur_;
  if (!bytes.empty()) std::memcpy(p, bytes.data(), bytes.size());
  cur_ += bytes.size();
  cur_left_ -= bytes.size();
  return p;
}

int32_t* Memtable::Slot(uint32_t trace, uint64_t span_id) {
  size_t mask = slots_.size() - 1;
  for (size_t i = SlotHash(trace, span_id) & mask;; i = (i + 1) & mask) {
    int32_t s = slots_[i];
    if (s < 0) return &slots_[i];
    const SpanEntry& e = spans_[static_cast<size_t>(s)];
    if (e.span_id == span_id && e.trace == trace) return &slots_[i];
  }
}

void Memtable::GrowSlots() {
  std::vector<int32_t> old(slots_.size() * 2, -1);
  old.swap(slots_);
  for (int32_t s : old)
    if (s >= 0) *Slot(spans_[static_cast<size_t>(s)].trace, spans_[static_cast<size_t>(s)].span_id) = s;
}

bool Memtable::Add(const SpanFacts& f, std::string_view bytes, StringPool* pool, SpanCounts* replaced) {
  auto [it, inserted] = trace_ids_.try_emplace(f.trace, static_cast<uint32_t>(traces_.size()));
  if (inserted) {
    traces_.emplace_back();
    traces_.back().id = f.trace;
  }
  uint32_t ti = it->second;
  Trace& t = traces_[ti];
  size_t before = t.agg.MemoryBytes();

  int32_t* slot = Slot(ti, f.span_id);
  bool dup = *slot >= 0;
  bool already_rolled = false;  // a byte-identical copy replaced: the rollup has it already
  if (dup) {
    SpanEntry& e = spans_[static_cast<size_t>(*slot)];
    *replaced = e.counts;
    if (rollups_) {
      const std::string_view old(e.data, e.len);
      if (old == bytes) {  // the usual retry: the same span again, the rollup already has it
        already_rolled = true;
      } else {
        // Take the earlier copy back (its bytes stay in the arena) before adding this one.
        model::Span span;
        EncodedBatch one;
        if (span.ParseFromArray(old.data(), static_cast<int>(old.size()))) {
          one.AddMeta(span, 0, 0);
          rollup_.Remove(one.Facts(0), pool);
        }
      }
    }
    t.agg.RemoveCounts(e.counts);
    e.data = CopyToArena(bytes);
    e.len = static_cast<uint32_t>(bytes.size());
    e.counts = SpanCounts::Of(f);
  } else {
    auto idx = static_cast<int32_t>(spans_.size());
    spans_.push_back(SpanEntry{CopyToArena(bytes), static_cast<uint32_t>(bytes.size()), ti, f.span_id, -1,
                               SpanCounts::Of(f)});
    *slot = idx;
    if (t.last >= 0) {
      spans_[static_cast<size_t>(t.last)].next = idx;
    } else {
      t.first = idx;
    }
    t.last = idx;
    ++t.span_count;
    if (spans_.size() * 2 > slots_.size()) GrowSlots();
  }
  t.agg.AddSpan(f, pool);
  if (f.flagged) t.flagged = true;
  agg_bytes_ += t.agg.MemoryBytes() - before;
  if (rollups_ && !already_rolled) rollup_.Add(f, pool);
  return dup;
}

const Memtable::Trace* Memtable::Find(const TraceKey& id) const {
  auto it = trace_ids_.find(id);
  return it == trace_ids_.end() ? nullptr : &traces_[it->second];
}

bool Memtable::FindSpan(const TraceKey& trace, uint64_t span_id, std::string_view* bytes) const {
  auto it = trace_ids_.find(trace);
  if (it == trace_ids_.end()) return false;
  const uint32_t ti = it->second;
  const size_t mask = slots_.size() - 1;
  for (size_t i = SlotHash(ti, span_id) & mask;; i = (i + 1) & mask) {
    const int32_t s = slots_[i];
    if (s < 0) return false;
    const SpanEntry& e = spans_[static_cast<size_t>(s)];
    if (e.span_id == span_id && e.trace == ti) {
      *bytes = std::string_view(e.data, e.len);
      return true;
    }
  }
}

void Memtable::SpanIds(const Trace& t, std::vector<uint64_t>* out) const {
  for (int32_t i = t.first; i >= 0; i = spans_[static_cast<size_t>(i)].next) out->push_back(spans_[static_cast<size_t>(i)].span_id);
}

void Memtable::SpanBytes(const Trace& t, std::vector<std::string_view>* out) const {
  for (int32_t i = t.first; i >= 0; i = spans_[static_cast<size_t>(i)].next) {
    const SpanEntry& e = spans_[static_cast<size_t>(i)];
    out->emplace_back(e.data, e.len);
  }
}

size_t Memtable::MemoryBytes() const {
  constexpr size_t kNode = sizeof(TraceKey) + sizeof(uint32_t) + 2 * sizeof(void*);
  return arena_bytes_ + spans_.capacity() * sizeof(SpanEntry) + traces_.capacity() * sizeof(Trace) +
         trace_ids_.size() * kNode + trace_ids_.bucket_count() * sizeof(void*) + slots_.capacity() * sizeof(int32_t) +
         agg_bytes_ + rollup_.MemoryBytes() + retractions_.capacity() * sizeof(Retraction);
}

}  // namespace sightline::store
