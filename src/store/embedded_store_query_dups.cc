// Copies of one span in several places. A batch re-sent after its first copy was
// flushed leaves a span in a segment and again in the memtable (or in two segments)
// until compaction merges the files and keeps the newest copy. Reads of a trace keep the
// newest copy (Gather's callers); the trace index and the rollups took the older copy
// back when the newer one was applied (embedded_store_resent.cc); span-level scans,
// which scan places rather than traces,
// find the traces whose spans live in several places, ask which of those really repeat
// a span id (FindDuplicates: the span_id column of v2 files, a few memtable spans), and
// read only those whole (ReadNewest), so each span counts once.
#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "store/columnar/columnar_reader.h"
#include "store/embedded_store.h"
#include "store/segment_io.h"

namespace sightline::store {

void EmbeddedStore::CollectPartsLocked(uint32_t idx, TraceParts* out) const {
  const TraceRecord& rec = index_.record(idx);
  out->record = idx;
  out->agg = rec.agg;
  out->segs.clear();
  for (const SegLoc& loc : rec.segs)
    out->segs.emplace_back(loc.segment < files_.size() ? files_[loc.segment].file : nullptr, loc);
  const std::shared_ptr<Memtable>* mems[2] = {&imm_, &mem_};
  for (int m = 0; m < 2; ++m) {
    out->mem_spans[m].clear();
    out->keep[m] = *mems[m];
    if (!*mems[m]) continue;
    if (const Memtable::Trace* t = (*mems[m])->Find(rec.id)) (*mems[m])->SpanBytes(*t, &out->mem_spans[m]);
  }
}

void EmbeddedStore::FindDuplicates(const std::vector<TraceParts>& traces, std::vector<uint8_t>* dup) {
  dup->assign(traces.size(), 0);
  std::vector<std::vector<uint64_t>> ids(traces.size());
  // v2 parts, by file: the span_id column of the blocks holding them.
  struct Part {
    columnar::RowRange range;
    size_t trace;
  };
  std::unordered_map<const SegmentFile*, std::pair<std::shared_ptr<const columnar::ColumnarReader>, std::vector<Part>>>
      by_file;
  model::Span span;
  for (size_t i = 0; i < traces.size(); ++i) {
    for (const auto& [file, loc] : traces[i].segs) {
      if (loc.length == 0) continue;  // summary only
      if (!file) {
        (*dup)[i] = 1;
        continue;
      }
      if (auto reader = ColumnarOf(file)) {
        auto& entry = by_file[file.get()];
        entry.first = std::move(reader);
        entry.second.push_back(Part{{static_cast<uint32_t>(loc.offset), loc.length}, i});
        continue;
      }
      std::deque<std::string> storage;
      std::vector<std::string_view> spans;
      if (!file->ReadTrace(loc, &storage, &spans).ok()) {
        (*dup)[i] = 1;
        continue;
      }
      for (std::string_view b : spans) {
        if (!span.ParseFromArray(b.data(), static_cast<int>(b.size()))) {
          (*dup)[i] = 1;
          break;
        }
        ids[i].push_back(SpanIdToU64(span.span_id()));
      }
    }
    for (const auto& views : traces[i].mem_spans) {
      for (std::string_view b : views) {
        if (!span.ParseFromArray(b.data(), static_cast<int>(b.size()))) {
          (*dup)[i] = 1;
          break;
        }
        ids[i].push_back(SpanIdToU64(span.span_id()));
      }
    }
  }
  for (auto& entry : by_file) {
    std::vector<Part>& parts = entry.second.second;
    std::sort(parts.begin(), parts.end(), [](const Part& a, const Part& b) { return a.range.first_row < b.range.first_row; });
    std::vector<columnar::RowRange> ranges;
    for (const Part& p : parts) ranges.push_back(p.range);
    std::vector<std::vector<uint64_t>> got;
    if (!entry.second.first->SpanIdsOf(ranges, &got).ok()) {
      for (const Part& p : parts) (*dup)[p.trace] = 1;
      continue;
    }
    for (size_t k = 0; k < parts.size(); ++k) ids[parts[k].trace].insert(ids[parts[k].trace].end(), got[k].begin(), got[k].end());
  }
  // Each place holds a span id once, so a repeat is a copy in another place. (A v1 id
  // longer than 8 bytes compares by its first 8: a false repeat only costs a read.)
  for (size_t i = 0; i < traces.size(); ++i) {
    if ((*dup)[i]) continue;
    std::sort(ids[i].begin(), ids[i].end());
    (*dup)[i] = std::adjacent_find(ids[i].begin(), ids[i].end()) != ids[i].end();
  }
}

Status EmbeddedStore::ReadNewest(const TraceParts& t, std::deque<std::string>* storage,
                                 std::vector<std::string_view>* newest, std::vector<std::string_view>* stale) {
  std::vector<std::string_view> all;
  for (const auto& [file, loc] : t.segs) {
    if (!file) return Status::Internal("trace location names an empty segment slot");
    Status s = file->ReadTrace(loc, storage, &all);
    if (!s.ok()) {
      if (s.code() == StatusCode::kCorruption) {
        ++corrupt_reads_;
        Log("SEGMENT CORRUPTION (read): " + s.ToString() + "; the file will be salvaged and quarantined");
        ReportDamage(file->number());
      }
      return s;
    }
  }
  for (const auto& views : t.mem_spans) all.insert(all.end(), views.begin(), views.end());
  std::unordered_set<std::string> seen;
  std::vector<std::string_view> kept;
  model::Span span;
  for (size_t i = all.size(); i-- > 0;) {  // newest first
    if (!span.ParseFromArray(all[i].data(), static_cast<int>(all[i].size())))
      return Status::Corruption("a stored span of a trace does not parse");
    (seen.insert(span.span_id()).second ? kept : *stale).push_back(all[i]);
  }
  newest->assign(kept.rbegin(), kept.rend());
  return Status::OK();
}

}  // namespace sightline::store
