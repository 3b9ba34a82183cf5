// ColumnarReader: reading blocks and payloads, rebuilding traces, column scans.
#include <atomic>
#include <xxhash.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "store/columnar/block_codec.h"
#include "store/columnar/columnar_reader.h"
#include "store/columnar/columnar_reader_internal.h"

namespace sightline::store::columnar {

Status ColumnarReader::LoadBlock(uint32_t bi, const std::vector<uint8_t>& columns, BlockView* view) const {
  const Block& b = blocks_[bi];
  std::vector<const Chunk*> want;
  uint64_t lo = UINT64_MAX, hi = 0, sum = 0;
  for (uint8_t id : columns) {
    if (id >= kColMax || b.chunk_of[id] < 0) continue;
    const Chunk* c = &b.chunks[static_cast<size_t>(b.chunk_of[id])];
    want.push_back(c);
    lo = std::min(lo, c->offset);
    hi = std::max(hi, c->offset + c->stored_len);
    sum += c->stored_len;
  }
  if (want.empty()) return Status::OK();
  // One read when the asked chunks are (nearly) contiguous, else one per chunk.
  std::string span;
  bool one_read = hi - lo <= 2 * sum + (64u << 10);
  if (one_read) {
    SL_RETURN_IF_ERROR(file_->Read(lo, static_cast<size_t>(hi - lo), &span).WithContext(path_));
    if (span.size() != hi - lo) return Corrupt("block " + std::to_string(bi) + ": short read");
  }
  std::string stored, why;
  for (const Chunk* c : want) {
    std::string where = "block " + std::to_string(bi) + " column '" + std::string(ColumnName(c->id)) +
                        "' at offset " + std::to_string(c->offset);
    std::string_view bytes;
    if (one_read) {
      bytes = std::string_view(span).substr(static_cast<size_t>(c->offset - lo), static_cast<size_t>(c->stored_len));
    } else {
      SL_RETURN_IF_ERROR(file_->Read(c->offset, static_cast<size_t>(c->stored_len), &stored).WithContext(path_));
      if (stored.size() != c->stored_len) return Corrupt(where + ": short read");
      bytes = stored;
    }
    if (XXH3_64bits(bytes.data(), bytes.size()) != c->checksum) return Corrupt(where + ": bad checksum");
    if (!DecompressChunk(bytes, c->codec, c->raw_len, &view->raw[c->id], &why)) return Corrupt(where + ": " + why);
  }
  return Status::OK();
}

Status ColumnarReader::LoadRefColumns(uint32_t bi, uint64_t refs, BlockView* view, internal::RefColumns* out) const {
  const size_t n = blocks_[bi].row_count;
  std::vector<uint8_t> load;
  for (uint8_t id = 1; id < kColMax && id < 64; ++id)
    if (((refs >> id) & 1) && view->raw[id].empty()) load.push_back(id);
  SL_RETURN_IF_ERROR(LoadBlock(bi, load, view));
  for (uint8_t id = 1; id < kColMax && id < 64; ++id) {
    if (!((refs >> id) & 1)) continue;
    const bool is_int = std::find(IntColumnIds().begin(), IntColumnIds().end(), id) != IntColumnIds().end();
    const bool ok = is_int ? DecodeNullableInts(view->col(id), n, &out->ints[id], &out->present[id])
                           : DecodeStrings(view->col(id), n, &out->strs[id]);
    if (!ok)
      return Corrupt("block " + std::to_string(bi) + " column '" + std::string(ColumnName(id)) + "' does not decode");
    if (is_int) {
      out->cols.ints[id] = &out->ints[id];
      out->cols.int_present[id] = &out->present[id];
    } else {
      out->cols.strs[id] = &out->strs[id];
    }
  }
  return Status::OK();
}

Status ColumnarReader::LoadBlockColumns(uint32_t b, const std::vector<uint8_t>& columns, BlockView* view) const {
  if (b >= blocks_.size()) return Status::InvalidArgument(path_ + ": block " + std::to_string(b) + " out of range");
  return LoadBlock(b, columns, view);
}

Status ColumnarReader::ForEachPiece(
    const std::function<Status(uint32_t piece, uint32_t frame, std::string_view bytes)>& fn) const {
  uint32_t p = 0;
  for (uint32_t fi = 0; fi < frames_.size(); ++fi) {
    if (p >= piece_frame_.size() || piece_frame_[p] != fi) continue;  // a frame without pieces
    PieceSource src;
    SL_RETURN_IF_ERROR(LoadPieces({p}, &src, /*cache=*/false));
    for (; p < piece_frame_.size() && piece_frame_[p] == fi; ++p) SL_RETURN_IF_ERROR(fn(p, fi, src.piece(p)));
  }
  return Status::OK();
}

Status ColumnarReader::LoadFrame(uint32_t fi, std::string* raw) const {
  const Frame& f = frames_[fi];
  std::string stored, why;
  std::string where = "payload frame " + std::to_string(fi) + " at offset " + std::to_string(f.offset);
  SL_RETURN_IF_ERROR(file_->Read(f.offset, static_cast<size_t>(f.stored_len), &stored).WithContext(path_));
  if (stored.size() != f.stored_len) return Corrupt(where + ": short read");
  if (XXH3_64bits(stored.data(), stored.size()) != f.checksum) return Corrupt(where + ": bad checksum");
  if (!DecompressFrame(stored, f.codec, f.raw_len, raw, &why)) return Corrupt(where + ": " + why);
  return Status::OK();
}


namespace internal {

// The decoded attributes of a block.
struct Attrs {
  std::vector<uint32_t> offsets;
  std::vector<std::string_view> keys, text, raw_values;
  std::vector<uint8_t> large, types;
  std::vector<uint8_t> ref;  // attribute -> the column its text refers to (kColAttrTextRef), or 0
  RefColumn large_lists;
  std::vector<uint32_t> large_index;  // attribute -> index in large_lists (large ones)
};

}  // namespace internal

namespace {

using internal::Attrs;

// Where column id sits in DoubleColumnIds() (and so in a decoded block's dbls).
size_t DoubleColumnIndex(uint8_t id) {
  const auto& ids = DoubleColumnIds();
  return static_cast<size_t>(std::find(ids.begin(), ids.end(), id) - ids.begin());
}

bool DecodeAttrs(const ColumnarReader::BlockView& v, size_t rows, uint32_t pieces, bool with_types, Attrs* a) {
  if (!DecodeAttrKeys(v.col(kColAttrKeys), rows, &a->offsets, &a->keys)) return false;
  size_t n = a->keys.size();
  if (!DecodeAttrValues(v.col(kColAttrText), v.col(kColAttrTextRef), n, &a->text, &a->large, &a->ref)) return false;
  if (with_types && !DecodeAttrTypes(v.col(kColAttrTypes), n, &a->types, &a->raw_values)) return false;
  size_t nlarge = 0;
  a->large_index.assign(n, 0);
  for (size_t i = 0; i < n; ++i)
    if (a->large[i]) a->large_index[i] = static_cast<uint32_t>(nlarge++);
  if (nlarge == 0) return v.col(kColAttrPayload).empty();
  return a->large_lists.Decode(v.col(kColAttrPayload), nlarge, pieces) && a->large_lists.AllPresent();
}

void CollectPieces(const RefList& l, std::vector<uint32_t>* out) { out->insert(out->end(), l.pieces.begin(), l.pieces.end()); }

// The string and integer columns of a decoded block (vectors in StringColumnIds() and
// IntColumnIds() order) as attribute references see them; skip(id): left out (damaged).
template <typename Skip>
AttrRefColumns RefColumnsOf(const std::vector<std::vector<std::string_view>>& strs,
                            const std::vector<std::vector<int64_t>>& ints,
                            const std::vector<std::vector<uint8_t>>& int_present, Skip&& skip) {
  AttrRefColumns c;
  for (size_t k = 0; k < strs.size() && k < StringColumnIds().size(); ++k)
    if (!skip(StringColumnIds()[k])) c.strs[StringColumnIds()[k]] = &strs[k];
  for (size_t k = 0; k < ints.size() && k < int_present.size() && k < IntColumnIds().size(); ++k) {
    if (skip(IntColumnIds()[k])) continue;
    c.ints[IntColumnIds()[k]] = &ints[k];
    c.int_present[IntColumnIds()[k]] = &int_present[k];
  }
  return c;
}

}  // namespace

namespace internal {

// Every column of one block, decompressed and decoded for ReadTrace. The string_views
// point into `view`, so a DecodedBlock is built in place and never moved.
struct DecodedBlock {
  ColumnarReader::BlockView view;
  size_t rows = 0;
  std::vector<TraceKey> tids;
  std::vector<uint64_t> sids, parents;
  std::vector<uint8_t> has_parent;
  std::vector<int64_t> starts, ends, received;
  std::vector<std::vector<uint8_t>> bytes;
  std::vector<std::vector<std::string_view>> strs;
  std::vector<std::vector<int64_t>> ints;
  std::vector<std::vector<uint8_t>> int_present;
  std::vector<std::vector<double>> dbls;
  std::vector<std::vector<uint8_t>> dbl_present;
  Attrs attrs;
  RefColumn inputs, outputs;
  std::vector<std::string_view> scopes, rests;
  AttrRefColumns ref_cols;  // what attributes' references resolve against (strs, ints)

  // What the block holds in memory, roughly: the raw chunks plus the decoded vectors.
  size_t MemoryBytes() const {
    size_t b = sizeof(*this);
    for (const auto& r : view.raw) b += r.capacity();
    b += rows * (sizeof(TraceKey) + 2 * sizeof(uint64_t) + 1 + 3 * sizeof(int64_t));
    b += rows * (bytes.size() + strs.size() * sizeof(std::string_view) + ints.size() * 9 + dbls.size() * 9);
    b += attrs.keys.size() * (3 * sizeof(std::string_view) + 2 + sizeof(uint32_t)) + attrs.offsets.size() * 4;
    for (const auto* lists : {&inputs, &outputs, &attrs.large_lists}) b += lists->MemoryBytes();
    b += rows * 2 * sizeof(std::string_view);
    return b;
  }
};

}  // namespace internal

namespace {

using internal::DecodedBlock;

// Sets s's column fields from row r of a decoded block: the span and parent ids, the
// times (received_ns only when `received`: salvage leaves a damaged one out), and the
// byte, string, integer and double columns. The trace id is the caller's.
void SetColumnFields(const DecodedBlock& d, size_t r, model::Span* s, bool received = true) {
  s->set_span_id(std::string(reinterpret_cast<const char*>(&d.sids[r]), 8));
  if (d.has_parent[r]) s->set_parent_span_id(std::string(reinterpret_cast<const char*>(&d.parents[r]), 8));
  s->set_start_ns(d.starts[r]);
  s->set_end_ns(d.ends[r]);
  if (received) s->set_received_ns(d.received[r]);
  for (size_t k = 0; k < d.bytes.size(); ++k)
    if (d.bytes[k][r]) SetByteColumn(ByteColumnIds()[k], d.bytes[k][r], s);
  for (size_t k = 0; k < d.strs.size(); ++k)
    if (!d.strs[k][r].empty()) SetStringColumn(StringColumnIds()[k], d.strs[k][r], s);
  for (size_t k = 0; k < d.ints.size(); ++k)
    if (d.int_present[k][r]) SetIntColumn(IntColumnIds()[k], d.ints[k][r], s);
  for (size_t k = 0; k < d.dbls.size(); ++k)
    if (d.dbl_present[k][r]) SetDoubleColumn(DoubleColumnIds()[k], d.dbls[k][r], s);
}

// The process-wide LRU of decoded blocks and decompressed payload frames, keyed by
// (reader, kind, index), under one byte budget. A reader that closes leaves its entries
// to age out.
class DecodedBlockCache {
 public:
  enum Kind : uint64_t { kBlock = 0, kFrame = 1 };
  // current_block_only: a block is kept only until its reader's next block replaces it,
  // outside the byte budget (NoCacheFill's cache; frames still go by the budget).
  explicit DecodedBlockCache(size_t capacity = size_t{256} << 20, bool current_block_only = false)
      : capacity_(capacity), current_block_only_(current_block_only) {}

  // The cache a read uses: the process-wide one, or, while a NoCacheFill lives on this
  // thread, that thread's own (what it inserts goes there; what it finds may come from
  // either).
  static DecodedBlockCache& Get();
  static DecodedBlockCache& Shared() {
    static DecodedBlockCache* cache = new DecodedBlockCache();  // outlives every reader
    return *cache;
  }

  template <typename T>
  std::shared_ptr<const T> Find(uint64_t reader, Kind kind, uint32_t index) {
    if (auto v = FindHere<T>(reader, kind, index)) return v;
    // A NoCacheFill's cache: what the shared one holds serves too.
    return this != &Shared() ? Shared().FindHere<T>(reader, kind, index) : nullptr;
  }

  template <typename T>
  std::shared_ptr<const T> FindHere(uint64_t reader, Kind kind, uint32_t index) {
    std::lock_guard<std::mutex> l(mu_);
    if (kind == kBlock && current_block_only_) {
      auto it = current_.find(reader);
      if (it == current_.end() || it->second.first != index) return nullptr;
      return std::static_pointer_cast<const T>(it->second.second);
    }
    auto it = map_.find(MakeKey(reader, kind, index));
    if (it == map_.end()) {
      ++misses_[kind];
      return nullptr;
    }
    ++hits_[kind];
    lru_.splice(lru_.begin(), lru_, it->second);
    return std::static_pointer_cast<const T>(it->second->value);
  }

  void Insert(uint64_t reader, Kind kind, uint32_t index, std::shared_ptr<const void> value, size_t size) {
    std::lock_guard<std::mutex> l(mu_);
    if (kind == kBlock && current_block_only_) {
      current_[reader] = {index, std::move(value)};
      return;
    }
    if (size > capacity_ / 4) return;  // one entry never takes most of the cache
    const Key k = MakeKey(reader, kind, index);
    if (map_.count(k)) return;
    lru_.push_front(Entry{k, std::move(value), size});
    map_[k] = lru_.begin();
    bytes_ += size;
    ++count_[kind];
    EvictLocked();
  }

  void SetCapacity(size_t bytes) {
    std::lock_guard<std::mutex> l(mu_);
    capacity_ = bytes;
    EvictLocked();
  }

  ColumnarReader::BlockCacheStats Stats() {
    std::lock_guard<std::mutex> l(mu_);
    ColumnarReader::BlockCacheStats s;
    s.hits = hits_[kBlock];
    s.misses = misses_[kBlock];
    s.blocks = count_[kBlock];
    s.frame_hits = hits_[kFrame];
    s.frame_misses = misses_[kFrame];
    s.frames = count_[kFrame];
    s.bytes = bytes_;
    s.capacity = capacity_;
    return s;
  }

 private:
  using Key = std::pair<uint64_t, uint64_t>;  // reader; kind << 32 | index
  static Key MakeKey(uint64_t reader, Kind kind, uint32_t index) { return {reader, (uint64_t{kind} << 32) | index}; }
  struct KeyHash {
    size_t operator()(const Key& k) const { return std::hash<uint64_t>()(k.first * 0x9E3779B97F4A7C15ull ^ k.second); }
  };
  struct Entry {
    Key key;
    std::shared_ptr<const void> value;
    size_t bytes;
  };
  void EvictLocked() {
    while (bytes_ > capacity_ && !lru_.empty()) {
      bytes_ -= lru_.back().bytes;
      --count_[lru_.back().key.second >> 32];
      map_.erase(lru_.back().key);
      lru_.pop_back();
    }
  }

  std::mutex mu_;
  std::list<Entry> lru_;  // most recent first
  std::unordered_map<Key, std::list<Entry>::iterator, KeyHash> map_;
  size_t capacity_;
  const bool current_block_only_;
  std::unordered_map<uint64_t, std::pair<uint32_t, std::shared_ptr<const void>>> current_;  // reader -> block
  size_t bytes_ = 0;
  uint64_t hits_[2] = {0, 0}, misses_[2] = {0, 0}, count_[2] = {0, 0};
};

// NoCacheFill's cache: a reader of whole files (compaction) reads a block's traces one
// after another, and each would decode the block, and decompress its frames, again.
// It keeps each file's current block (a merge reads each input's traces in the order
// they were written; an LRU smaller than all inputs' blocks would miss every time) and
// the frames it decompressed last, away from what queries use, and is freed with the
// NoCacheFill.
constexpr size_t kNoFillCacheBytes = size_t{64} << 20;
thread_local DecodedBlockCache* tl_no_fill_cache = nullptr;

std::atomic<uint64_t> g_block_decodes{0};

DecodedBlockCache& DecodedBlockCache::Get() { return tl_no_fill_cache != nullptr ? *tl_no_fill_cache : Shared(); }

}  // namespace

Status ColumnarReader::LoadPieces(const std::vector<uint32_t>& pieces, PieceSource* src, bool cache) const {
  src->reader = this;
  for (uint32_t p : pieces) {
    if (p >= piece_frame_.size()) return Corrupt("payload piece " + std::to_string(p) + " out of range");
    uint32_t fi = piece_frame_[p];
    if (src->frames.count(fi)) continue;
    if (cache) {
      if (auto hit = DecodedBlockCache::Get().Find<std::string>(cache_id_, DecodedBlockCache::kFrame, fi)) {
        src->frames[fi] = std::move(hit);
        continue;
      }
    }
    auto raw = std::make_shared<std::string>();
    SL_RETURN_IF_ERROR(LoadFrame(fi, raw.get()));
    if (cache) DecodedBlockCache::Get().Insert(cache_id_, DecodedBlockCache::kFrame, fi, raw, raw->capacity() + 64);
    src->frames[fi] = std::move(raw);
  }
  return Status::OK();
}

ColumnarReader::NoCacheFill::NoCacheFill() : before_(tl_no_fill_cache != nullptr) {
  if (!before_) tl_no_fill_cache = new DecodedBlockCache(kNoFillCacheBytes, /*current_block_only=*/true);
}
ColumnarReader::NoCacheFill::~NoCacheFill() {
  if (!before_) {
    delete tl_no_fill_cache;
    tl_no_fill_cache = nullptr;
  }
}

void ColumnarReader::SetBlockCacheBytes(size_t bytes) { DecodedBlockCache::Shared().SetCapacity(bytes); }

ColumnarReader::BlockCacheStats ColumnarReader::GetBlockCacheStats() {
  BlockCacheStats s = DecodedBlockCache::Shared().Stats();
  s.block_decodes = g_block_decodes.load(std::memory_order_relaxed);
  return s;
}

Status ColumnarReader::DecodeWholeBlock(uint32_t bi, internal::DecodedBlock* d) const {
  g_block_decodes.fetch_add(1, std::memory_order_relaxed);
  static const std::vector<uint8_t> all = [] {
    std::vector<uint8_t> ids;
    for (uint8_t id = 1; id < kColMax; ++id) ids.push_back(id);
    return ids;
  }();
  const size_t n = blocks_[bi].row_count;
  const std::string bn = "block " + std::to_string(bi);
  SL_RETURN_IF_ERROR(LoadBlock(bi, all, &d->view));
  const BlockView& v = d->view;
  d->rows = n;
  auto& tids = d->tids;
  auto& sids = d->sids;
  auto& parents = d->parents;
  auto& has_parent = d->has_parent;
  auto& starts = d->starts;
  auto& ends = d->ends;
  auto& received = d->received;
  auto& bytes = d->bytes;
  auto& strs = d->strs;
  auto& ints = d->ints;
  auto& int_present = d->int_present;
  auto& dbls = d->dbls;
  auto& dbl_present = d->dbl_present;
  auto& attrs = d->attrs;
  auto& inputs = d->inputs;
  auto& outputs = d->outputs;
  auto& scopes = d->scopes;
  auto& rests = d->rests;
  if (!DecodeTraceIds(v.col(kColTraceId), n, &tids) || !DecodeSpanIds(v.col(kColSpanId), n, &sids) ||
      !DecodeParents(v.col(kColParentSpanId), n, &parents, &has_parent) || !DecodeStarts(v.col(kColStart), n, &starts) ||
      !DecodeOffsets(v.col(kColEnd), starts, &ends))
    return Corrupt(bn + ": id or time column does not decode");
  if (!v.col(kColReceivedRun).empty()) {  // running deltas (DecodeStarts' form) instead of offsets from end
    if (!v.col(kColReceived).empty() || !DecodeStarts(v.col(kColReceivedRun), n, &received))
      return Corrupt(bn + " column 'received_ns_run' does not decode");
  } else if (!DecodeOffsets(v.col(kColReceived), ends, &received)) {
    return Corrupt(bn + ": id or time column does not decode");
  }
  bytes.resize(ByteColumnIds().size());
  for (size_t k = 0; k < bytes.size(); ++k)
    if (!DecodeBytes(v.col(ByteColumnIds()[k]), n, &bytes[k]))
      return Corrupt(bn + " column '" + std::string(ColumnName(ByteColumnIds()[k])) + "' does not decode");
  strs.resize(StringColumnIds().size());
  for (size_t k = 0; k < strs.size(); ++k)
    if (!DecodeStrings(v.col(StringColumnIds()[k]), n, &strs[k]))
      return Corrupt(bn + " column '" + std::string(ColumnName(StringColumnIds()[k])) + "' does not decode");
  ints.resize(IntColumnIds().size());
  int_present.resize(ints.size());
  for (size_t k = 0; k < ints.size(); ++k)
    if (!DecodeNullableInts(v.col(IntColumnIds()[k]), n, &ints[k], &int_present[k]))
      return Corrupt(bn + " column '" + std::string(ColumnName(IntColumnIds()[k])) + "' does not decode");
  dbls.resize(DoubleColumnIds().size());
  dbl_present.resize(dbls.size());
  for (size_t k = 0; k < dbls.size(); ++k)
    if (!DecodeNullableDoubles(v.col(DoubleColumnIds()[k]), n, &dbls[k], &dbl_present[k]))
      return Corrupt(bn + " column '" + std::string(ColumnName(DoubleColumnIds()[k])) + "' does not decode");
  if (!v.col(kColComputedCostRef).empty()) {
    const size_t cost = DoubleColumnIndex(kColCostUsd), computed = DoubleColumnIndex(kColComputedCostUsd);
    if (!v.col(kColComputedCostUsd).empty() ||
        !DecodeComputedCostRef(v.col(kColComputedCostRef), dbls[cost], dbl_present[cost], &dbls[computed],
                               &dbl_present[computed]))
      return Corrupt(bn + " column 'computed_cost_usd_ref' does not decode");
  }
  const uint32_t npieces = payload_piece_count();
  // Attributes whose text is another column's value are resolved row by row as rows are
  // read (ReadTrace), not for the whole block here.
  if (!DecodeAttrs(v, n, npieces, true, &attrs) || attrs.offsets.size() != n + 1 ||
      attrs.offsets.back() != attrs.ref.size() || attrs.text.size() != attrs.ref.size())
    return Corrupt(bn + ": attribute columns do not decode");
  d->ref_cols = RefColumnsOf(strs, ints, int_present, [](uint8_t) { return false; });
  if (!inputs.Decode(v.col(kColInput), n, npieces) || !outputs.Decode(v.col(kColOutput), n, npieces))
    return Corrupt(bn + ": payload reference columns do not decode");
  if (!DecodeStrings(v.col(kColScope), n, &scopes) || !DecodeLengthPrefixed(v.col(kColRest), n, &rests))
    return Corrupt(bn + ": scope or rest column does not decode");

  return Status::OK();
}

Status ColumnarReader::ReadTrace(uint32_t first_row, uint32_t row_count, std::vector<std::string>* spans) const {
  return ReadTraceImpl(first_row, row_count, spans, nullptr, nullptr, nullptr);
}

Status ColumnarReader::ReadTraceRefs(uint32_t first_row, uint32_t row_count, std::vector<model::Span>* spans,
                                     size_t* used, std::vector<SpanPayloadRefs>* refs) const {
  return ReadTraceImpl(first_row, row_count, nullptr, spans, used, refs);
}

Status ColumnarReader::PieceFetcher::Get(uint32_t p, std::string_view* out) {
  const ColumnarReader& r = *reader_;
  if (p >= r.piece_frame_.size()) return r.Corrupt("payload piece " + std::to_string(p) + " out of range");
  const uint32_t fi = r.piece_frame_[p];
  Slot* slot = nullptr;
  for (Slot& s : slots_)
    if (s.frame == fi) slot = &s;
  if (slot == nullptr) {
    slot = &slots_[0];
    for (Slot& s : slots_)
      if (s.used < slot->used) slot = &s;
    slot->frame = UINT32_MAX;
    SL_RETURN_IF_ERROR(r.LoadFrame(fi, &slot->raw));
    slot->frame = fi;
  }
  slot->used = ++tick_;
  // LoadFrame checked the frame's length against its pieces (Open checked the index).
  *out = std::string_view(slot->raw).substr(static_cast<size_t>(r.piece_offset_[p]), r.piece_len_[p]);
  return Status::OK();
}

Status ColumnarReader::CachedBlock(uint32_t bi, std::shared_ptr<const DecodedBlock>* out) const {
  *out = DecodedBlockCache::Get().Find<DecodedBlock>(cache_id_, DecodedBlockCache::kBlock, bi);
  if (*out) return Status::OK();
  auto d = std::make_shared<DecodedBlock>();
  SL_RETURN_IF_ERROR(DecodeWholeBlock(bi, d.get()));
  DecodedBlockCache::Get().Insert(cache_id_, DecodedBlockCache::kBlock, bi, d, d->MemoryBytes());
  *out = std::move(d);
  return Status::OK();
}

Status ColumnarReader::FirstBlockOf(uint32_t first_row, uint32_t row_count, size_t* block) const {
  if (static_cast<uint64_t>(first_row) + row_count > row_count_)
    return Status::InvalidArgument(path_ + ": rows " + std::to_string(first_row) + "+" + std::to_string(row_count) +
                                   " outside the segment's " + std::to_string(row_count_));
  auto it = std::upper_bound(blocks_.begin(), blocks_.end(), first_row,
                             [](uint32_t row, const Block& b) { return row < b.first_row; });
  *block = static_cast<size_t>(it - blocks_.begin()) - 1;  // blocks_[0].first_row == 0
  return Status::OK();
}

uint64_t ColumnarReader::ValueBytes(const RefList& l) const {
  if (l.kind == kRefAbsent) return 0;
  const uint64_t sep = l.kind == kRefArraySpaced ? 2 : 1;
  uint64_t n = l.kind == kRefWhole ? 0 : 2 + (l.pieces.empty() ? 0 : (l.pieces.size() - 1) * sep);
  for (uint32_t p : l.pieces) n += piece_len_[p];
  return n;
}

Status ColumnarReader::ReadTraceRows(uint32_t first_row, uint32_t row_count, std::vector<Row>* rows, size_t* used,
                                     std::vector<SpanPayloadRefs>* refs) const {
  if (row_count == 0) return Status::OK();
  size_t bi = 0;
  SL_RETURN_IF_ERROR(FirstBlockOf(first_row, row_count, &bi));
  const uint64_t end_row = static_cast<uint64_t>(first_row) + row_count;
  std::optional<TraceKey> trace;
  opentelemetry::proto::common::v1::AnyValue check;  // what a cell's text is checked by
  model::Span check_span;                            // what scope and rest are checked by
  std::deque<std::string> ref_arena;  // texts of attributes referring to an integer column
  for (; bi < blocks_.size() && blocks_[bi].first_row < end_row; ++bi) {
    const Block& b = blocks_[bi];
    std::shared_ptr<const DecodedBlock> dec;
    SL_RETURN_IF_ERROR(CachedBlock(static_cast<uint32_t>(bi), &dec));
    const DecodedBlock& d = *dec;
    const Attrs& attrs = d.attrs;
    const size_t lo = first_row > b.first_row ? first_row - b.first_row : 0;
    const size_t hi = static_cast<size_t>(std::min<uint64_t>(b.row_count, end_row - b.first_row));
    const char* scope_checked = nullptr;  // rows of one trace mostly share their scope's bytes
    for (size_t r = lo; r < hi; ++r) {
      auto rn = [&] { return "block " + std::to_string(bi) + " row " + std::to_string(b.first_row + r); };
      if (!trace) trace = d.tids[r];
      if (!(d.tids[r] == *trace)) return Corrupt(rn() + ": rows of two traces in one trace's range");
      if (*used == rows->size()) rows->emplace_back();
      Row& row = (*rows)[(*used)++];
      row.trace = d.tids[r];
      model::Span& c = row.cols;
      c.Clear();
      SetColumnFields(d, r, &c);
      SpanPayloadRefs& out = refs->emplace_back();
      d.inputs.Get(r, &out.input);
      d.outputs.Get(r, &out.output);
      out.payload_bytes = ValueBytes(out.input) + ValueBytes(out.output);
      row.attrs.clear();
      row.attr_buf.clear();
      for (uint32_t a = attrs.offsets[r]; a < attrs.offsets[r + 1]; ++a) {
        std::string_view val = attrs.text[a];
        if (attrs.ref[a] != 0 && !AttrRefText(attrs.ref[a], r, d.ref_cols, &val, &ref_arena))
          return Corrupt(rn() + ": attribute '" + std::string(attrs.keys[a]) + "' does not decode");
        if (attrs.large[a]) {
          RefList& l = out.large.emplace_back(a - attrs.offsets[r], RefList()).second;
          attrs.large_lists.Get(attrs.large_index[a], &l);
          out.payload_bytes += ValueBytes(l);
          AddCell(&row, attrs.keys[a], kAttrString, {}, {}, true);
          continue;
        }
        const uint8_t type = attrs.types[a];
        // Checked as ReadTrace's rebuilding of the value checks it (a string needs none).
        if (type == kAttrNoValue ? !val.empty()
                                 : type != kAttrString && !AnyValueFromText(type, val, attrs.raw_values[a], &check))
          return Corrupt(rn() + ": attribute '" + std::string(attrs.keys[a]) + "' does not decode");
        AddCell(&row, attrs.keys[a], type, val, type == kAttrRaw ? attrs.raw_values[a] : std::string_view(), false);
      }
      ref_arena.clear();
      // The scope and rest go as stored; each must parse, as ReadTrace requires.
      if (!d.scopes[r].empty() && d.scopes[r].data() != scope_checked) {
        if (!check_span.ParseFromArray(d.scopes[r].data(), static_cast<int>(d.scopes[r].size())))
          return Corrupt(rn() + ": scope does not parse");
        scope_checked = d.scopes[r].data();
      }
      if (!d.rests[r].empty() && !check_span.ParseFromArray(d.rests[r].data(), static_cast<int>(d.rests[r].size())))
        return Corrupt(rn() + ": rest does not parse");
      row.scope.assign(d.scopes[r]);
      row.rest.assign(d.rests[r]);
    }
  }
  return Status::OK();
}

Status ColumnarReader::ReadTraceImpl(uint32_t first_row, uint32_t row_count, std::vector<std::string>* spans,
                                     std::vector<model::Span>* parsed, size_t* used,
                                     std::vector<SpanPayloadRefs>* refs) const {
  if (row_count == 0) return Status::OK();
  size_t bi = 0;
  SL_RETURN_IF_ERROR(FirstBlockOf(first_row, row_count, &bi));
  const uint64_t end_row = static_cast<uint64_t>(first_row) + row_count;
  std::optional<TraceKey> trace;
  for (; bi < blocks_.size() && blocks_[bi].first_row < end_row; ++bi) {
    const Block& b = blocks_[bi];
    const size_t n = b.row_count;
    const std::string bn = "block " + std::to_string(bi);
    std::shared_ptr<const DecodedBlock> dec;
    SL_RETURN_IF_ERROR(CachedBlock(static_cast<uint32_t>(bi), &dec));
    const auto& tids = dec->tids;
    const Attrs& attrs = dec->attrs;
    const auto& inputs = dec->inputs;
    const auto& outputs = dec->outputs;
    const auto& scopes = dec->scopes;
    const auto& rests = dec->rests;

    size_t lo = first_row > b.first_row ? first_row - b.first_row : 0;
    size_t hi = static_cast<size_t>(std::min<uint64_t>(n, end_row - b.first_row));
    // The rows' reference lists, put together once: from lists[row_first[row - lo]], the
    // input's, the output's, then the large attributes' in order.
    std::vector<RefList> lists;
    std::vector<size_t> row_first(hi - lo);
    for (size_t r = lo; r < hi; ++r) {
      row_first[r - lo] = lists.size();
      inputs.Get(r, &lists.emplace_back());
      outputs.Get(r, &lists.emplace_back());
      for (uint32_t a = attrs.offsets[r]; a < attrs.offsets[r + 1]; ++a)
        if (attrs.large[a]) attrs.large_lists.Get(attrs.large_index[a], &lists.emplace_back());
    }
    PieceSource src;
    if (refs == nullptr) {
      std::vector<uint32_t> need;
      for (const RefList& l : lists) CollectPieces(l, &need);
      SL_RETURN_IF_ERROR(LoadPieces(need, &src));
    }
    auto piece = [&](uint32_t p) { return src.piece(p); };
    std::unordered_map<const char*, model::Span> scope_cache;
    std::string text;
    std::deque<std::string> ref_arena;  // texts of attributes referring to an integer column
    for (size_t r = lo; r < hi; ++r) {
      const std::string rn = bn + " row " + std::to_string(b.first_row + r);
      if (!trace) trace = tids[r];
      if (!(tids[r] == *trace)) return Corrupt(rn + ": rows of two traces in one trace's range");
      model::Span own;
      model::Span* into = &own;
      if (parsed != nullptr) {
        if (*used == parsed->size()) parsed->emplace_back();
        into = &(*parsed)[(*used)++];
        into->Clear();
      }
      model::Span& s = *into;
      if (!rests[r].empty() && !s.ParseFromArray(rests[r].data(), static_cast<int>(rests[r].size())))
        return Corrupt(rn + ": rest does not parse");
      if (!scopes[r].empty()) {
        auto [sit, fresh] = scope_cache.try_emplace(scopes[r].data());
        if (fresh && !sit->second.ParseFromArray(scopes[r].data(), static_cast<int>(scopes[r].size())))
          return Corrupt(rn + ": scope does not parse");
        s.MergeFrom(sit->second);
      }
      s.set_trace_id(tids[r].ToBytes());
      SetColumnFields(*dec, r, &s);
      RefList* row_lists = &lists[row_first[r - lo]];
      size_t next_large = 2;
      SpanPayloadRefs* out_refs = nullptr;
      if (refs != nullptr) {
        out_refs = &refs->emplace_back();
        out_refs->input = std::move(row_lists[0]);
        out_refs->output = std::move(row_lists[1]);
        out_refs->payload_bytes = ValueBytes(out_refs->input) + ValueBytes(out_refs->output);
      }
      for (uint32_t a = attrs.offsets[r]; a < attrs.offsets[r + 1]; ++a) {
        auto* kv = s.add_attributes();
        kv->set_key(std::string(attrs.keys[a]));
        std::string_view val = attrs.text[a];
        if (attrs.ref[a] != 0 && !AttrRefText(attrs.ref[a], r, dec->ref_cols, &val, &ref_arena))
          return Corrupt(rn + ": attribute '" + std::string(attrs.keys[a]) + "' does not decode");
        if (attrs.large[a] && out_refs != nullptr) {
          kv->mutable_value()->set_string_value(std::string());
          out_refs->payload_bytes += ValueBytes(row_lists[next_large]);
          out_refs->large.emplace_back(a - attrs.offsets[r], std::move(row_lists[next_large++]));
        } else if (attrs.large[a]) {
          RenderRefList(row_lists[next_large++], piece, &text);
          kv->mutable_value()->set_string_value(text);
        } else if (attrs.types[a] == kAttrNoValue) {
          if (!val.empty()) return Corrupt(rn + ": attribute '" + std::string(attrs.keys[a]) + "' does not decode");
        } else if (!AnyValueFromText(attrs.types[a], val, attrs.raw_values[a], kv->mutable_value())) {
          return Corrupt(rn + ": attribute '" + std::string(attrs.keys[a]) + "' does not decode");
        }
      }
      if (out_refs == nullptr) {
        RenderRefList(row_lists[0], piece, &text);
        if (!text.empty()) s.set_input_json(text);
        RenderRefList(row_lists[1], piece, &text);
        if (!text.empty()) s.set_output_json(text);
      }
      if (spans != nullptr) spans->push_back(s.SerializeAsString());
    }
  }
  return Status::OK();
}

namespace internal {

// A block decoded column by column for salvage: the columns that did not read or
// decode are marked in `bad` and hold defaults.
struct SalvagedBlock {
  DecodedBlock d;
  uint64_t bad = 0;  // bit id: column id is damaged
  Status damage;     // the first damage found in the block; OK when none
  bool tids_ok = false, rows_ok = false, large_ok = false;
  bool ok(uint8_t col) const { return ((bad >> col) & 1) == 0; }
};

}  // namespace internal

Status ColumnarReader::SalvageBlock(uint32_t bi, std::shared_ptr<const internal::SalvagedBlock>* out) const {
  // The last block salvaged: a damaged block's traces are salvaged one after the other,
  // and each would otherwise decode the whole block again.
  {
    std::lock_guard<std::mutex> l(salvage_mu_);
    if (salvage_cache_ && salvage_block_ == bi) {
      *out = salvage_cache_;
      return Status::OK();
    }
  }
  const Block& b = blocks_[bi];
  const size_t n = b.row_count;
  const std::string bn = "block " + std::to_string(bi);
  const uint32_t npieces = payload_piece_count();
  auto sb = std::make_shared<internal::SalvagedBlock>();
  DecodedBlock* d = &sb->d;
  BlockView& v = d->view;
  auto damage = [&](const Status& st) {
    if (sb->damage.ok()) sb->damage = st;
  };
  // Each chunk on its own: a damaged one costs its column only.
  for (const Chunk& c : b.chunks) {
    Status st = LoadBlock(bi, {c.id}, &v);
    if (st.ok()) continue;
    if (st.code() != StatusCode::kCorruption) return st;
    sb->bad |= uint64_t{1} << c.id;
    v.raw[c.id].clear();
    damage(st);
  }
  // Decodes column col with fn unless its chunk is damaged; a failure marks it damaged.
  auto decode = [&](uint8_t col, const std::function<bool()>& fn) {
    if (!sb->ok(col)) return false;
    if (fn()) return true;
    sb->bad |= uint64_t{1} << col;
    damage(Corrupt(bn + " column '" + std::string(ColumnName(col)) + "' does not decode"));
    return false;
  };
  sb->tids_ok = decode(kColTraceId, [&] { return DecodeTraceIds(v.col(kColTraceId), n, &d->tids); });
  const bool ids_ok = decode(kColSpanId, [&] { return DecodeSpanIds(v.col(kColSpanId), n, &d->sids); });
  const bool parents_ok =
      decode(kColParentSpanId, [&] { return DecodeParents(v.col(kColParentSpanId), n, &d->parents, &d->has_parent); });
  const bool starts_ok = decode(kColStart, [&] { return DecodeStarts(v.col(kColStart), n, &d->starts); });
  const bool ends_ok = starts_ok && decode(kColEnd, [&] { return DecodeOffsets(v.col(kColEnd), d->starts, &d->ends); });
  // received_ns is in one of two columns (10, or 47's running form): either damaged loses it.
  if (!sb->ok(kColReceivedRun)) sb->bad |= uint64_t{1} << kColReceived;
  if (!ends_ok || !decode(kColReceived, [&] {
        if (!v.col(kColReceivedRun).empty())
          return v.col(kColReceived).empty() && DecodeStarts(v.col(kColReceivedRun), n, &d->received);
        return DecodeOffsets(v.col(kColReceived), d->ends, &d->received);
      }))
    d->received.assign(n, 0);
  d->bytes.resize(ByteColumnIds().size());
  for (size_t k = 0; k < d->bytes.size(); ++k)
    if (!decode(ByteColumnIds()[k], [&] { return DecodeBytes(v.col(ByteColumnIds()[k]), n, &d->bytes[k]); }))
      d->bytes[k].assign(n, 0);
  d->strs.resize(StringColumnIds().size());
  bool project_ok = true;
  for (size_t k = 0; k < d->strs.size(); ++k) {
    if (!decode(StringColumnIds()[k], [&] { return DecodeStrings(v.col(StringColumnIds()[k]), n, &d->strs[k]); })) {
      d->strs[k].assign(n, std::string_view());
      if (StringColumnIds()[k] == kColProject) project_ok = false;
    }
  }
  d->ints.resize(IntColumnIds().size());
  d->int_present.resize(d->ints.size());
  for (size_t k = 0; k < d->ints.size(); ++k)
    if (!decode(IntColumnIds()[k],
                [&] { return DecodeNullableInts(v.col(IntColumnIds()[k]), n, &d->ints[k], &d->int_present[k]); }))
      d->int_present[k].assign(n, 0);
  d->dbls.resize(DoubleColumnIds().size());
  d->dbl_present.resize(d->dbls.size());
  for (size_t k = 0; k < d->dbls.size(); ++k)
    if (!decode(DoubleColumnIds()[k],
                [&] { return DecodeNullableDoubles(v.col(DoubleColumnIds()[k]), n, &d->dbls[k], &d->dbl_present[k]); }))
      d->dbl_present[k].assign(n, 0);
  {  // computed_cost_usd by reference (48) needs cost_usd too: a damage to either loses it
    const size_t cost = DoubleColumnIndex(kColCostUsd), computed = DoubleColumnIndex(kColComputedCostUsd);
    const bool by_ref = !v.col(kColComputedCostRef).empty() || !sb->ok(kColComputedCostRef);
    if (by_ref && (!sb->ok(kColComputedCostRef) || !sb->ok(kColCostUsd))) sb->bad |= uint64_t{1} << kColComputedCostUsd;
    if (by_ref && !decode(kColComputedCostUsd, [&] {
          return v.col(kColComputedCostUsd).empty() &&
                 DecodeComputedCostRef(v.col(kColComputedCostRef), d->dbls[cost], d->dbl_present[cost], &d->dbls[computed],
                                       &d->dbl_present[computed]);
        }))
      d->dbl_present[computed].assign(n, 0);
  }
  // Attributes: keys, text and types together (without any one of them no value is
  // exact); large values also need their reference lists. The text is in one of two
  // columns (40, or 49 with references): either damaged loses it.
  Attrs& a = d->attrs;
  if (!sb->ok(kColAttrTextRef)) sb->bad |= uint64_t{1} << kColAttrText;
  const bool attrs_ok =
      decode(kColAttrKeys, [&] { return DecodeAttrKeys(v.col(kColAttrKeys), n, &a.offsets, &a.keys); }) &&
      decode(kColAttrText, [&] {
        return DecodeAttrValues(v.col(kColAttrText), v.col(kColAttrTextRef), a.keys.size(), &a.text, &a.large, &a.ref);
      }) &&
      decode(kColAttrTypes, [&] { return DecodeAttrTypes(v.col(kColAttrTypes), a.keys.size(), &a.types, &a.raw_values); });
  if (!attrs_ok) {
    for (uint8_t col : {kColAttrKeys, kColAttrText, kColAttrTypes}) sb->bad |= uint64_t{1} << col;  // all three lost
    a.offsets.assign(n + 1, 0);
    a.keys.clear();
  }
  sb->large_ok = attrs_ok;
  if (attrs_ok) {
    size_t nlarge = 0;
    a.large_index.assign(a.keys.size(), 0);
    for (size_t i = 0; i < a.keys.size(); ++i)
      if (a.large[i]) a.large_index[i] = static_cast<uint32_t>(nlarge++);
    if (nlarge > 0)
      sb->large_ok = decode(kColAttrPayload, [&] {
        return a.large_lists.Decode(v.col(kColAttrPayload), nlarge, npieces) && a.large_lists.AllPresent();
      });
  }
  if (!decode(kColInput, [&] { return d->inputs.Decode(v.col(kColInput), n, npieces); })) d->inputs.Reset(n);
  if (!decode(kColOutput, [&] { return d->outputs.Decode(v.col(kColOutput), n, npieces); })) d->outputs.Reset(n);
  if (!decode(kColScope, [&] { return DecodeStrings(v.col(kColScope), n, &d->scopes); }))
    d->scopes.assign(n, std::string_view());
  if (!decode(kColRest, [&] { return DecodeLengthPrefixed(v.col(kColRest), n, &d->rests); }))
    d->rests.assign(n, std::string_view());
  sb->rows_ok = ids_ok && parents_ok && ends_ok && project_ok;
  {
    std::lock_guard<std::mutex> l(salvage_mu_);
    salvage_block_ = bi;
    salvage_cache_ = sb;
  }
  *out = std::move(sb);
  return Status::OK();
}

Status ColumnarReader::SalvageTrace(const TraceKey& id, uint32_t first_row, uint32_t row_count,
                                    std::vector<std::string>* spans, SalvageReport* report) const {
  if (row_count == 0) return Status::OK();
  // Most traces of a damaged file read whole: the plain read (and its block cache) first.
  std::vector<std::string> whole;
  Status plain = ReadTrace(first_row, row_count, &whole);
  if (plain.ok()) {
    for (auto& s : whole) spans->push_back(std::move(s));
    return Status::OK();
  }
  if (plain.code() != StatusCode::kCorruption) return plain;
  size_t bi = 0;
  SL_RETURN_IF_ERROR(FirstBlockOf(first_row, row_count, &bi));
  const uint64_t end_row = static_cast<uint64_t>(first_row) + row_count;
  auto damage = [&](const Status& st) {
    if (report->damage.ok()) report->damage = st;
  };
  for (; bi < blocks_.size() && blocks_[bi].first_row < end_row; ++bi) {
    const Block& b = blocks_[bi];
    const size_t n = b.row_count;
    const std::string bn = "block " + std::to_string(bi);
    std::shared_ptr<const internal::SalvagedBlock> sb;
    SL_RETURN_IF_ERROR(SalvageBlock(static_cast<uint32_t>(bi), &sb));
    if (!sb->damage.ok()) damage(sb->damage);
    const DecodedBlock* d = &sb->d;
    const Attrs& a = d->attrs;
    auto ok = [&](uint8_t col) { return sb->ok(col); };
    const bool rows_ok = sb->rows_ok, large_ok = sb->large_ok;

    const size_t lo = first_row > b.first_row ? first_row - b.first_row : 0;
    const size_t hi = static_cast<size_t>(std::min<uint64_t>(n, end_row - b.first_row));
    // Payload frames one by one: a damaged frame costs the values naming its pieces.
    std::vector<uint32_t> need;
    for (size_t r = lo; r < hi && rows_ok; ++r) {
      CollectPieces(d->inputs[r], &need);
      CollectPieces(d->outputs[r], &need);
      if (large_ok)
        for (uint32_t i = a.offsets[r]; i < a.offsets[r + 1]; ++i)
          if (a.large[i]) CollectPieces(a.large_lists[a.large_index[i]], &need);
    }
    std::sort(need.begin(), need.end());
    need.erase(std::unique(need.begin(), need.end()), need.end());
    PieceSource src;
    src.reader = this;
    std::vector<uint32_t> bad_frames;
    for (uint32_t p : need) {
      const uint32_t fi = piece_frame_[p];  // DecodeRefLists checked p < npieces
      if (src.frames.count(fi) || std::binary_search(bad_frames.begin(), bad_frames.end(), fi)) continue;
      auto raw = std::make_shared<std::string>();
      Status st = LoadFrame(fi, raw.get());
      if (st.ok()) {
        src.frames[fi] = std::move(raw);
        continue;
      }
      if (st.code() != StatusCode::kCorruption) return st;
      bad_frames.insert(std::upper_bound(bad_frames.begin(), bad_frames.end(), fi), fi);
      damage(st);
    }
    auto readable = [&](const RefList& l) {
      return std::all_of(l.pieces.begin(), l.pieces.end(), [&](uint32_t p) { return src.frames.count(piece_frame_[p]) > 0; });
    };
    auto piece = [&](uint32_t p) { return src.piece(p); };

    // The columns every row of this block lost (the essential ones lose the rows).
    std::vector<std::string> block_lost;
    for (uint8_t col = 1; col < kColMax; ++col)
      // The alternative encodings (47, 48, 49) are reported as the fields they hold (10, 38, 40).
      if (!ok(col) && col != kColTraceId && col != kColReceivedRun && col != kColComputedCostRef &&
          col != kColAttrTextRef)
        block_lost.emplace_back(ColumnName(col));
    std::unordered_map<const char*, std::pair<bool, model::Span>> scope_cache;  // parsed?, the scope
    std::string text;
    // Attributes referring to a column take its value; one whose column is damaged is
    // lost with it (the span lists attr_text and that column).
    const AttrRefColumns ref_cols =
        RefColumnsOf(d->strs, d->ints, d->int_present, [&](uint8_t col) { return !ok(col); });
    std::deque<std::string> ref_arena;
    for (size_t r = lo; r < hi; ++r) {
      if (!rows_ok || (sb->tids_ok && !(d->tids[r] == id))) {
        ++report->spans_lost;
        continue;
      }
      std::vector<std::string> lost = block_lost;
      model::Span s;
      if (!d->rests[r].empty() && !s.ParseFromArray(d->rests[r].data(), static_cast<int>(d->rests[r].size()))) {
        s.Clear();
        lost.emplace_back(ColumnName(kColRest));
        damage(Corrupt(bn + " row " + std::to_string(b.first_row + r) + ": rest does not parse"));
      }
      if (!d->scopes[r].empty()) {
        auto [sit, fresh] = scope_cache.try_emplace(d->scopes[r].data());
        if (fresh)
          sit->second.first =
              sit->second.second.ParseFromArray(d->scopes[r].data(), static_cast<int>(d->scopes[r].size()));
        if (sit->second.first) {
          s.MergeFrom(sit->second.second);
        } else {
          lost.emplace_back(ColumnName(kColScope));
          damage(Corrupt(bn + " row " + std::to_string(b.first_row + r) + ": scope does not parse"));
        }
      }
      s.set_trace_id(id.ToBytes());
      SetColumnFields(*d, r, &s, ok(kColReceived));
      bool attr_lost = false, large_lost = false;
      for (uint32_t i = a.offsets[r]; i < a.offsets[r + 1]; ++i) {
        if (a.large[i]) {
          if (!large_ok || !readable(a.large_lists[a.large_index[i]])) {
            large_lost = true;
            continue;
          }
          auto* kv = s.add_attributes();
          kv->set_key(std::string(a.keys[i]));
          RenderRefList(a.large_lists[a.large_index[i]], piece, &text);
          kv->mutable_value()->set_string_value(text);
          continue;
        }
        opentelemetry::proto::common::v1::AnyValue value;
        std::string_view val = a.text[i];
        if (a.ref[i] != 0 && !AttrRefText(a.ref[i], r, ref_cols, &val, &ref_arena)) {
          attr_lost = true;
          continue;
        }
        if (a.types[i] == kAttrNoValue) {
          if (!val.empty()) {
            attr_lost = true;
            continue;
          }
          s.add_attributes()->set_key(std::string(a.keys[i]));
          continue;
        }
        if (!AnyValueFromText(a.types[i], val, a.raw_values[i], &value)) {
          attr_lost = true;
          continue;
        }
        auto* kv = s.add_attributes();
        kv->set_key(std::string(a.keys[i]));
        *kv->mutable_value() = std::move(value);
      }
      if (attr_lost) {
        lost.emplace_back(ColumnName(kColAttrText));
        damage(Corrupt(bn + " row " + std::to_string(b.first_row + r) + ": an attribute does not decode"));
      }
      if (large_lost && ok(kColAttrPayload)) lost.emplace_back(ColumnName(kColAttrPayload));
      for (const uint8_t col : {kColInput, kColOutput}) {
        const RefList& l = (col == kColInput ? d->inputs : d->outputs)[r];
        if (l.kind == kRefAbsent) continue;
        if (!readable(l)) {
          if (ok(col)) lost.emplace_back(ColumnName(col));
          continue;
        }
        RenderRefList(l, piece, &text);
        if (text.empty()) continue;
        if (col == kColInput) {
          s.set_input_json(text);
        } else {
          s.set_output_json(text);
        }
      }
      if (!lost.empty()) {
        std::sort(lost.begin(), lost.end());
        lost.erase(std::unique(lost.begin(), lost.end()), lost.end());
        std::string names;
        for (const auto& x : lost) names += (names.empty() ? "" : ",") + x;
        auto* kv = s.add_attributes();
        kv->set_key(kSalvageLostAttribute);
        kv->mutable_value()->set_string_value(names);
        ++report->spans_partial;
      }
      spans->push_back(s.SerializeAsString());
    }
  }
  if (report->damage.ok()) report->damage = plain;  // whatever the plain read refused
  return Status::OK();
}

Status ColumnarReader::Scan(uint64_t mask, const BlockFilter& filter,
                            const std::function<Status(const SpanColumns&, uint32_t first_row)>& fn,
                            const std::function<void(const Status&)>& on_corrupt_block) const {
  std::vector<uint8_t> ids;
  auto want = [&](uint64_t bit, std::initializer_list<uint8_t> cols) {
    if (mask & bit) ids.insert(ids.end(), cols.begin(), cols.end());
  };
  want(kTraceId, {kColTraceId});
  want(kSpanId, {kColSpanId});
  want(kParentSpanId, {kColParentSpanId});
  want(kStart, {kColStart});
  want(kEnd, {kColStart, kColEnd});
  want(kKind, {kColKind});
  want(kStatus, {kColStatus});
  struct StrCol {
    uint64_t bit;
    uint8_t id;
    std::vector<std::string_view> SpanColumns::*field;
  };
  static const StrCol kStr[] = {
      {kProject, kColProject, &SpanColumns::project},       {kName, kColName, &SpanColumns::name},
      {kService, kColService, &SpanColumns::service},       {kEnvironment, kColEnvironment, &SpanColumns::environment},
      {kSessionId, kColSessionId, &SpanColumns::session_id}, {kUserId, kColUserId, &SpanColumns::user_id},
      {kAgentName, kColAgentName, &SpanColumns::agent_name}, {kModel, kColModel, &SpanColumns::model},
      {kToolName, kColToolName, &SpanColumns::tool_name},   {kFinishReason, kColFinishReason, &SpanColumns::finish_reason},
      {kErrorType, kColErrorType, &SpanColumns::error_type}};
  for (const auto& s : kStr) want(s.bit, {s.id});
  struct IntCol {
    uint64_t bit;
    uint8_t id;
    std::vector<int64_t> SpanColumns::*field;
  };
  static const IntCol kInt[] = {{kTokens, kColInputTokens, &SpanColumns::input_tokens},
                                {kTokens, kColOutputTokens, &SpanColumns::output_tokens},
                                {kTokens, kColCacheReadTokens, &SpanColumns::cache_read_tokens},
                                {kTokens, kColCacheWriteTokens, &SpanColumns::cache_write_tokens},
                                {kTokens, kColReasoningTokens, &SpanColumns::reasoning_tokens},
                                {kStep, kColStep, &SpanColumns::step}};
  for (const auto& s : kInt) want(s.bit, {s.id});
  want(kCost, {kColCostUsd});
  want(kAttributes, {kColAttrKeys, kColAttrText, kColAttrPayload, kColAttrTextRef});
  want(kInput, {kColInput});
  want(kOutput, {kColOutput});
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  const uint32_t npieces = payload_piece_count();

  Status fn_status;  // fn's own answer, told apart from the block's damage
  auto scan_block = [&](size_t bi) -> Status {
    const Block& b = blocks_[bi];
    const size_t n = b.row_count;
    const std::string bn = "block " + std::to_string(bi);
    BlockView v;
    SL_RETURN_IF_ERROR(LoadBlock(static_cast<uint32_t>(bi), ids, &v));
    SpanColumns c;
    c.rows = n;
    c.mask = mask & kAll;
    std::deque<std::string> arena;
    std::vector<uint8_t> present;
    auto bad = [&](uint8_t id) { return Corrupt(bn + " column '" + std::string(ColumnName(id)) + "' does not decode"); };
    if ((mask & kTraceId) && !DecodeTraceIds(v.col(kColTraceId), n, &c.trace_id)) return bad(kColTraceId);
    if ((mask & kSpanId) && !DecodeSpanIds(v.col(kColSpanId), n, &c.span_id)) return bad(kColSpanId);
    if ((mask & kParentSpanId) && !DecodeParents(v.col(kColParentSpanId), n, &c.parent_span_id, &present))
      return bad(kColParentSpanId);
    if (mask & (kStart | kEnd)) {
      std::vector<int64_t> starts;
      if (!DecodeStarts(v.col(kColStart), n, &starts)) return bad(kColStart);
      if ((mask & kEnd) && !DecodeOffsets(v.col(kColEnd), starts, &c.end_ns)) return bad(kColEnd);
      if (mask & kStart) c.start_ns = std::move(starts);
    }
    if ((mask & kKind) && !DecodeBytes(v.col(kColKind), n, &c.kind)) return bad(kColKind);
    if ((mask & kStatus) && !DecodeBytes(v.col(kColStatus), n, &c.status)) return bad(kColStatus);
    for (const auto& s : kStr)
      if ((mask & s.bit) && !DecodeStrings(v.col(s.id), n, &(c.*s.field))) return bad(s.id);
    for (const auto& s : kInt)
      if ((mask & s.bit) && !DecodeNullableInts(v.col(s.id), n, &(c.*s.field), &present)) return bad(s.id);
    if ((mask & kCost) && !DecodeNullableDoubles(v.col(kColCostUsd), n, &c.cost_usd, &present)) return bad(kColCostUsd);
    if (mask & kAttributes) {
      Attrs a;
      if (!DecodeAttrs(v, n, npieces, false, &a)) return bad(kColAttrKeys);
      if (const uint64_t refs = AttrRefMask(a.ref); refs != 0) {
        internal::RefColumns rc;
        SL_RETURN_IF_ERROR(LoadRefColumns(static_cast<uint32_t>(bi), refs, &v, &rc));
        if (!ResolveAttrRefs(a.offsets, a.ref, rc.cols, &a.text, &arena)) return bad(kColAttrTextRef);
      }
      std::vector<uint32_t> need;
      RefList l;
      for (size_t k = 0; k < a.large_lists.size(); ++k) {
        a.large_lists.Get(k, &l);
        CollectPieces(l, &need);
      }
      PieceSource src;
      SL_RETURN_IF_ERROR(LoadPieces(need, &src));
      for (size_t i = 0; i < a.text.size(); ++i) {
        if (!a.large[i]) continue;
        std::string& s = arena.emplace_back();
        RenderRefList(a.large_lists[a.large_index[i]], [&](uint32_t p) { return src.piece(p); }, &s);
        a.text[i] = s;
      }
      c.attr_offsets = std::move(a.offsets);
      c.attr_keys = std::move(a.keys);
      c.attr_values = std::move(a.text);
    }
    for (auto [bit, id, out] : {std::tuple{kInput, kColInput, &c.input_json}, std::tuple{kOutput, kColOutput, &c.output_json}}) {
      if (!(mask & bit)) continue;
      std::vector<RefList> lists;
      if (!DecodeRefLists(v.col(id), n, npieces, &lists)) return bad(id);
      std::vector<uint32_t> need;
      for (const RefList& l : lists) CollectPieces(l, &need);
      PieceSource src;
      SL_RETURN_IF_ERROR(LoadPieces(need, &src));
      out->assign(n, std::string_view());
      for (size_t r = 0; r < n; ++r) {
        if (lists[r].kind == kRefAbsent) continue;
        std::string& s = arena.emplace_back();
        RenderRefList(lists[r], [&](uint32_t p) { return src.piece(p); }, &s);
        (*out)[r] = s;
      }
    }
    fn_status = fn(c, b.first_row);
    return fn_status;
  };
  for (size_t bi = 0; bi < blocks_.size(); ++bi) {
    if (!BlockMayMatch(blocks_[bi], filter)) continue;
    Status st = scan_block(bi);
    if (st.ok()) continue;
    if (!fn_status.ok() || !on_corrupt_block || st.code() != StatusCode::kCorruption) return st;
    on_corrupt_block(st);  // the block's rows are skipped; the scan goes on
  }
  return Status::OK();
}

}  // namespace sightline::store::columnar
