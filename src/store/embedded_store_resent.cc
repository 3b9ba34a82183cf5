// Spans re-sent after their first copy left the live memtable (an OTLP client retrying a
// batch that was written but never acknowledged). The memtable replaces a copy it holds
// (Memtable::Add); a copy in a flushed place, the frozen memtable or a segment, is
// replaced here, when the new copy is applied: its counts leave the trace index and its
// span rollup row leaves the base rollup (or the frozen memtable's delta). From then on
// the index and the rollups count the span once, its newest copy, which is the copy
// trace reads return (later segments, then the frozen memtable, then the live one).
//
// What keeps this consistent across restarts and compaction:
//   - the trace index is rebuilt at Open from the segments' partial aggregates, which
//     count every copy they hold; TakeBackRepeatsAtOpen takes the older copies back
//     there, and WAL replay does the same lookups as the live Apply did;
//   - compaction keeps the newest copy of a repeated span and, since the index already
//     counts it once, changes no counts (Install);
//   - the span rollups are written to DATA/ROLLUPS per WAL file: a retraction made for
//     a span of a WAL file the file does not cover yet is added back to what is written
//     (Memtable::retractions), and is made again when that WAL file is replayed.
// Cost: nothing for a span whose trace has no flushed place. Otherwise one hash lookup
// in the frozen memtable and a binary search in the trace's segment span ids, read once
// per trace from the span_id column (v2) or the spans (v1) and then kept: each flush adds
// the ids it wrote (AddFlushedIdsLocked), so a long trace that straddles many flushes
// reads its segments once, not once per flush. The older copy's bytes are read only when
// the id is there.
#include <algorithm>

#include "store/columnar/columnar_reader.h"
#include "store/embedded_store.h"
#include "store/segment_io.h"

namespace sightline::store {

bool EmbeddedStore::FindFlushedCopyLocked(uint32_t record, uint64_t span_id, uint64_t max_covered_wal,
                                          std::deque<std::string>* storage, std::string_view* bytes,
                                          uint64_t* target) {
  const TraceRecord& rec = index_.record(record);
  const bool live = max_covered_wal == UINT64_MAX;
  if (live && imm_ && imm_->FindSpan(rec.id, span_id, bytes)) {
    *target = imm_->seq();
    return true;
  }
  if (rec.segs.empty()) return false;
  // The segment span ids of the trace, read once per segment set.
  auto ids_of = [&](const SegLoc& loc, std::vector<uint64_t>* out) -> Status {
    const std::shared_ptr<SegmentFile>& file = files_[loc.segment].file;
    if (auto reader = ColumnarOf(file)) {
      std::vector<std::vector<uint64_t>> got;
      SL_RETURN_IF_ERROR(reader->SpanIdsOf({columnar::RowRange{static_cast<uint32_t>(loc.offset), loc.length}}, &got));
      if (!got.empty()) out->insert(out->end(), got[0].begin(), got[0].end());
      return Status::OK();
    }
    std::deque<std::string> st;
    std::vector<std::string_view> spans;
    SL_RETURN_IF_ERROR(file->ReadTrace(loc, &st, &spans));
    model::Span span;
    for (std::string_view b : spans) {
      if (!span.ParseFromArray(b.data(), static_cast<int>(b.size())))
        return Status::Corruption(file->path() + ": a stored span does not parse");
      out->push_back(SpanIdToU64(span.span_id()));
    }
    return Status::OK();
  };
  auto usable = [&](const SegLoc& loc) {
    return loc.length > 0 && loc.segment < files_.size() && files_[loc.segment].file &&
           files_[loc.segment].meta.covered_wal <= max_covered_wal;
  };
  if (live) {
    auto it = flushed_ids_.find(record);
    if (it == flushed_ids_.end()) {
      if (flushed_ids_total_ > kMaxFlushedIds) {
        flushed_ids_.clear();
        flushed_ids_total_ = 0;
      }
      std::vector<uint64_t> ids;
      for (const SegLoc& loc : rec.segs) {
        if (!usable(loc)) continue;
        if (Status s = ids_of(loc, &ids); !s.ok()) {
          // Not cached: the next span looks again. The copy, if there, counts twice
          // until the next Open; the read path reports the damage for salvage.
          Log("re-sent span check: " + s.ToString());
          return false;
        }
      }
      std::sort(ids.begin(), ids.end());
      flushed_ids_total_ += ids.size();
      it = flushed_ids_.emplace(record, std::move(ids)).first;
    }
    if (!std::binary_search(it->second.begin(), it->second.end(), span_id)) return false;
  }
  model::Span span;
  for (size_t k = rec.segs.size(); k-- > 0;) {  // newest first
    const SegLoc& loc = rec.segs[k];
    if (!usable(loc)) continue;
    const std::shared_ptr<SegmentFile>& file = files_[loc.segment].file;
    std::vector<std::string_view> spans;
    if (Status s = file->ReadTrace(loc, storage, &spans); !s.ok()) {
      Log("re-sent span check: " + s.ToString());
      continue;
    }
    for (std::string_view b : spans) {
      if (span.ParseFromArray(b.data(), static_cast<int>(b.size())) && SpanIdToU64(span.span_id()) == span_id) {
        *bytes = b;
        *target = 0;
        return true;
      }
    }
  }
  return false;
}

void EmbeddedStore::AddFlushedIdsLocked(const Memtable& m) {
  if (flushed_ids_.empty()) return;
  std::vector<uint64_t> added;
  for (const Memtable::Trace& t : m.traces()) {
    auto ti = index_.Find(t.id);
    if (!ti) continue;
    auto it = flushed_ids_.find(*ti);
    if (it == flushed_ids_.end()) continue;
    added.clear();
    m.SpanIds(t, &added);
    std::sort(added.begin(), added.end());
    std::vector<uint64_t>& ids = it->second;
    const size_t before = ids.size();
    ids.insert(ids.end(), added.begin(), added.end());
    std::inplace_merge(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(before), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    flushed_ids_total_ += ids.size() - before;
  }
}

void EmbeddedStore::TakeBackFlushedCopyLocked(uint32_t record, const SpanFacts& f, Memtable* owner) {
  const TraceRecord& rec = index_.record(record);
  if (rec.segs.empty() && !(imm_ && imm_.get() != owner && imm_->Find(rec.id))) return;  // the usual case
  std::deque<std::string> storage;
  std::string_view bytes;
  uint64_t target = 0;
  if (!FindFlushedCopyLocked(record, f.span_id, UINT64_MAX, &storage, &bytes, &target)) return;
  model::Span older;
  if (!older.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return;
  EncodedBatch one;
  one.AddMeta(older, 0, 0);
  const SpanFacts of = one.Facts(0);
  index_.RemoveCounts(record, SpanCounts::Of(of));
  if (!rollups_on_) return;
  if (target != 0) {
    imm_->TakeBackRollup(of, &index_.pool());
  } else {
    rollup_base_.Remove(of, &index_.pool());
  }
  owner->NoteRetraction(bytes, target);
}

void EmbeddedStore::TakeBackFromBaseLocked(const SpanFacts& f, uint64_t max_covered_wal) {
  auto ti = index_.Find(f.trace);
  if (!ti) return;
  std::deque<std::string> storage;
  std::string_view bytes;
  uint64_t target = 0;
  if (!FindFlushedCopyLocked(*ti, f.span_id, max_covered_wal, &storage, &bytes, &target)) return;
  model::Span older;
  if (!older.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return;
  EncodedBatch one;
  one.AddMeta(older, 0, 0);
  rollup_base_.Remove(one.Facts(0), &index_.pool());
}

Status EmbeddedStore::TakeBackRepeatsAtOpen() {
  std::vector<TraceParts> parts;
  {
    std::shared_lock<std::shared_mutex> r(mu_);
    for (uint32_t i = 0; i < index_.size(); ++i) {
      const TraceRecord& rec = index_.record(i);
      if (rec.agg.span_count <= 0) continue;
      size_t places = 0;
      for (const SegLoc& loc : rec.segs) places += loc.length > 0;
      if (places > 1) CollectPartsLocked(i, &parts.emplace_back());
    }
  }
  if (parts.empty()) return Status::OK();
  std::vector<uint8_t> dup;
  FindDuplicates(parts, &dup);
  model::Span span;
  int64_t taken = 0;
  for (size_t k = 0; k < parts.size(); ++k) {
    if (!dup[k]) continue;
    std::deque<std::string> storage;
    std::vector<std::string_view> newest, stale;
    if (Status s = ReadNewest(parts[k], &storage, &newest, &stale); !s.ok()) {
      Log("open: a trace with repeated spans does not read (its copies count until it is salvaged): " + s.ToString());
      continue;
    }
    EncodedBatch facts;
    for (std::string_view b : stale) {
      if (!span.ParseFromArray(b.data(), static_cast<int>(b.size()))) continue;
      facts.AddMeta(span, 0, 0);
    }
    std::unique_lock<std::shared_mutex> w(mu_);
    for (size_t i = 0; i < facts.metas.size(); ++i) index_.RemoveCounts(parts[k].record, SpanCounts::Of(facts.Facts(i)));
    index_.Release();
    taken += static_cast<int64_t>(facts.metas.size());
  }
  if (taken > 0) Log("open: " + std::to_string(taken) + " older copies of re-sent spans in segments counted once");
  return Status::OK();
}

}  // namespace sightline::store
