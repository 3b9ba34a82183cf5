#include "store/memtable.h"

#include <cstring>

#include "store/span_codec.h"

namespace sightline::store {
namespace {

uint64_t SlotHash(uint32_t trace, uint64_t span_id) {
  return TraceKey::Mix64(span_id ^ (static_cast<uint64_t>(trace) * 0x9E3779B97F4A7C15ull));
}

}  // namespace

Memtable::Memtable(size_t rollup_max_tuples, const rollup::Cuts& cuts)
    : slots_(1024, -1), rollups_(rollup_max_tuples > 0), rollup_(rollup_max_tuples) {
  rollup_.Fold(cuts);
}

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
    blocks_.emplace_back(new char[kArenaBlock]);
    arena_bytes_ += kArenaBlock;
    cur_ = blocks_.back().get();
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
  agg_bytes_ += t.agg.MemoryBytes() - before;
  if (rollups_ && !already_rolled) rollup_.Add(f, pool);
  return dup;
}

const Memtable::Trace* Memtable::Find(const TraceKey& id) const {
  auto it = trace_ids_.find(id);
  return it == trace_ids_.end() ? nullptr : &traces_[it->second];
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
         agg_bytes_ + rollup_.MemoryBytes();
}

}  // namespace sightline::store
