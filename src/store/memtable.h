// Memtable: the spans acknowledged since the last flush, held compactly as their
// serialized bytes in large arena blocks (not as parsed protobuf objects), indexed by
// trace id, with the partial aggregate of each trace (what a segment stores).
//
// Invariants:
//   - span bytes, once copied into the arena, never move or change until the memtable
//     is destroyed, so readers may keep string_views to them while they hold a
//     shared_ptr to the memtable;
//   - a (trace_id, span_id) pair appears once: a duplicate replaces the earlier bytes in
//     place (a sender retrying a batch that was written but never acknowledged);
//   - MemoryBytes() counts the arena blocks, the span and trace tables and the
//     dedupe hash table at their allocated sizes, and the rollup delta (estimated);
//   - rollup() holds exactly the spans held (a replaced span's contribution is taken
//     back before its replacement's is added), when rollups are on.
// Thread-safety: none inside. The store calls Add under its exclusive lock and the
// readers under its shared lock; arena bytes may be read without a lock (see above).
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/rollup/rollup.h"
#include "store/trace_agg.h"

namespace sightline::store {

class Memtable {
 public:
  struct SpanEntry {
    const char* data;
    uint32_t len;
    uint32_t trace;  // index into traces()
    uint64_t span_id;
    int32_t next;  // next span of the same trace, -1 at the end
    SpanCounts counts;
  };
  struct Trace {
    TraceKey id;
    int32_t first = -1, last = -1;
    uint32_t span_count = 0;
    TraceAgg agg;  // partial: the spans in this memtable only
    bool flagged = false;  // a span of it carries sightline.keep (tail sampling)
  };

  // rollup_max_tuples: the per-bucket cap of the rollup delta; 0 turns rollups off.
  // cuts: the store's rollup granularity now, so old spans land in hour or day rows.
  explicit Memtable(size_t rollup_max_tuples = 0, const rollup::Cuts& cuts = {});
  Memtable(const Memtable&) = delete;
  // Arena blocks the pool keeps for the next memtables: at most this many bytes (the
  // rest is freed). Process-wide; the store sets it from its memtable limit.
  static void SetBlockPoolLimit(size_t bytes);
  static size_t BlockPoolBytes();  // bytes held by the pool now
  Memtable& operator=(const Memtable&) = delete;

  // Adds one span. When it replaces an earlier span with the same id, returns true and
  // sets *replaced to the earlier span's counts (the caller takes them back from any
  // aggregate that counted it).
  bool Add(const SpanFacts& f, std::string_view bytes, StringPool* pool, SpanCounts* replaced);

  const Trace* Find(const TraceKey& id) const;
  // The bytes of the span (trace, span_id) when this memtable holds it.
  bool FindSpan(const TraceKey& trace, uint64_t span_id, std::string_view* bytes) const;
  // A span re-sent after its first copy left this memtable (flushed, or in the frozen
  // memtable): the older copy's rollup row, counted in an earlier delta or the base,
  // is taken back in this one (its rows may go negative until merged).
  void TakeBackRollup(const SpanFacts& older, StringPool* pool) {
    if (rollups_) rollup_.Remove(older, pool);
  }
  // A process-wide number told to no other memtable (never 0).
  uint64_t seq() const { return seq_; }
  // Retractions: older copies of this memtable's spans that were counted in the store's
  // base rollup (target 0) or in the frozen memtable's delta (target: its seq()) and
  // were taken back there when their re-sent copy arrived here. The rollup file covers
  // WAL files, not single spans: it must be written as if these had not happened yet
  // (they are redone when this memtable's WAL is replayed), so the writer adds them
  // back to a copy of the base first (EmbeddedStore::PersistRollupsLocked).
  struct Retraction {
    std::string_view bytes;  // the older copy's span bytes (in this memtable's arena)
    uint64_t target = 0;
  };
  void NoteRetraction(std::string_view older_bytes, uint64_t target) {
    retractions_.push_back(Retraction{std::string_view(CopyToArena(older_bytes), older_bytes.size()), target});
  }
  const std::vector<Retraction>& retractions() const { return retractions_; }
  // Appends views of the trace's span bytes (valid while the memtable lives).
  void SpanBytes(const Trace& t, std::vector<std::string_view>* out) const;
  // Appends the trace's span ids (SpanIdToU64), unsorted.
  void SpanIds(const Trace& t, std::vector<uint64_t>* out) const;
  const std::vector<Trace>& traces() const { return traces_; }
  size_t span_count() const { return spans_.size(); }
  size_t MemoryBytes() const;
  bool empty() const { return spans_.empty(); }
  // The rollup of the spans in this memtable (empty when rollups are off).
  const rollup::RollupTable& rollup() const { return rollup_; }

 private:
  const char* CopyToArena(std::string_view bytes);
  int32_t* Slot(uint32_t trace, uint64_t span_id);
  void GrowSlots();

  // Small spans are copied into 2 MiB blocks that come from a process-wide pool and go
  // back to it when the memtable dies (ArenaBlockPool in memtable.cc), so a new
  // memtable writes into pages that are already mapped; big spans get their own block.
  static constexpr size_t kArenaBlock = size_t{2} << 20;
  struct PooledBlock {
    char* p = nullptr;
    PooledBlock() = default;
    explicit PooledBlock(char* b) : p(b) {}
    PooledBlock(PooledBlock&& o) noexcept : p(o.p) { o.p = nullptr; }
    PooledBlock& operator=(PooledBlock&& o) noexcept;
    ~PooledBlock();
  };
  std::vector<PooledBlock> pooled_;
  std::vector<std::unique_ptr<char[]>> blocks_;  // big spans
  char* cur_ = nullptr;
  size_t cur_left_ = 0;
  size_t arena_bytes_ = 0;

  std::vector<SpanEntry> spans_;
  std::vector<Trace> traces_;
  std::unordered_map<TraceKey, uint32_t, TraceKeyHash> trace_ids_;
  std::vector<int32_t> slots_;  // open addressing: span index or -1; power-of-two size
  size_t agg_bytes_ = 0;        // side-set growth of the partial aggregates
  bool rollups_;
  rollup::RollupTable rollup_;
  uint64_t seq_;
  std::vector<Retraction> retractions_;
};

}  // namespace sightline::store
