// EmbeddedStore::ScanVerdicts: the attribute (attr.KEY=VALUE) and text (q) filters of a
// trace search, decided for a batch of candidate traces by scanning only the columns
// that hold them, instead of reading every candidate trace whole (ReadTrace rebuilds
// and serialises every span, MatchesExpensive parses them again).
//
// One short pass over the candidates' index records (under the shared lock, in chunks)
// lists where their spans live: row ranges of columnar (v2) files, trace blocks of v1
// files, span bytes of the memtables. Then, holding no lock, work units run on two
// threads: a v2 unit asks ColumnarReader::MatchRows for the ranges of a stretch of one
// file (only the blocks holding them; attribute, scope and payload columns only; each
// payload frame decompressed and its pieces searched once per query: the units of a
// file share its TextMemo, and a search's batches share them through ScanMemos); v1
// and memtable units parse their spans and apply
// SpanHasAttr and ContainsIgnoreCase, as MatchesExpensive does. A trace's answer is the
// OR of its spans' bits.
//
// Exactness: MatchesExpensive looks at the newest copy of each span id only. Within one
// place (a file, a memtable) a span id appears once, so for a trace whose spans live in
// one place the OR is the answer. A trace spread over several places might hold an old
// copy that matched where the newest does not: the OR can only say "maybe", and those
// traces, and any whose blocks did not read, are left to MatchesExpensive (kVerify),
// which the callers run only while they still need results. No match is ever lost: the
// OR over every copy is a superset of the OR over the newest copies.
#include <algorithm>
#include <atomic>
#include <thread>
#include <unordered_map>

#include "store/parallel_units.h"
#include "store/columnar/columnar_reader.h"
#include "store/embedded_store.h"
#include "store/shared_payload.h"
#include "store/segment_io.h"

namespace sightline::store {
namespace {

using columnar::RowMatchSpec;
using columnar::RowRange;

constexpr uint64_t kUnitRows = 16384;   // v2 rows per work unit (about four blocks)
constexpr size_t kUnitTraces = 256;     // v1 traces per work unit
constexpr size_t kUnitSpans = 8192;     // memtable spans per work unit
constexpr uint32_t kUnreadable = 1u << 30;  // a bit RowMatchSpec leaves free


// The bits MatchRows would give a span (v1 files, memtables).
uint32_t SpanBits(const model::Span& s, const RowMatchSpec& spec) {
  uint32_t bits = 0;
  for (size_t k = 0; k < spec.attrs.size(); ++k)
    if (SpanHasAttr(s, spec.attrs[k].first, spec.attrs[k].second)) bits |= 1u << k;
  if (!spec.text_lower.empty() &&
      (ContainsIgnoreCase(s.input_json(), spec.text_lower) || ContainsIgnoreCase(s.output_json(), spec.text_lower)))
    bits |= RowMatchSpec::kTextBit;
  return bits;
}

// The candidates' parts in one segment file.
struct FileParts {
  std::shared_ptr<SegmentFile> file;
  std::shared_ptr<const columnar::ColumnarReader> columnar;  // null: a v1 file
  std::shared_ptr<columnar::TextMemo> memo;                   // columnar files, text searches: shared by its units
  std::vector<std::pair<SegLoc, uint32_t>> parts;             // location, candidate position
};

}  // namespace

Status EmbeddedStore::ScanVerdicts(const std::vector<uint32_t>& records, const TraceQuery& q,
                                   const std::string& text_lower, std::vector<uint8_t>* verdicts, ScanMemos* memos) {
  const size_t n = records.size();
  verdicts->assign(n, kVerify);
  if (q.attrs.size() > RowMatchSpec::kMaxAttrs) return Status::OK();
  RowMatchSpec spec;
  spec.attrs = q.attrs;
  spec.text_lower = text_lower;
  uint32_t need = spec.text_lower.empty() ? 0 : RowMatchSpec::kTextBit;
  for (size_t k = 0; k < spec.attrs.size(); ++k) need |= 1u << k;

  // Where the candidates' spans live, one shared-lock step per chunk: a trace's
  // locations, the files they name and its memtable spans come from one version of the
  // store, as in Gather.
  std::vector<uint8_t> places(n, 0);
  std::vector<uint32_t> early(n, 0);  // kUnreadable for a location naming an empty slot
  std::unordered_map<uint32_t, FileParts> files;  // by slot
  std::vector<std::shared_ptr<Memtable>> mem_keep;
  std::vector<std::string_view> mem_views;
  std::vector<uint32_t> mem_owner;  // candidate position of each view
  for (size_t begin = 0; begin < n; begin += kRecordChunk) {
    std::shared_lock<std::shared_mutex> r(mu_);
    const Memtable* mems[2] = {imm_.get(), mem_.get()};
    for (const Memtable* m : mems)
      if (m && !m->empty()) mem_keep.push_back(m == imm_.get() ? imm_ : mem_);
    for (size_t p = begin; p < std::min(n, begin + kRecordChunk); ++p) {
      const TraceRecord& rec = index_.record(records[p]);
      for (const SegLoc& loc : rec.segs) {
        places[p] = static_cast<uint8_t>(std::min(places[p] + 1, 255));
        if (loc.length == 0) continue;  // summary only
        const std::shared_ptr<SegmentFile>& file = loc.segment < files_.size() ? files_[loc.segment].file : nullptr;
        if (!file) {
          early[p] = kUnreadable;
          continue;
        }
        FileParts& fp = files[loc.segment];
        if (!fp.file) {
          fp.file = file;
          fp.columnar = ColumnarOf(file);
          if (fp.columnar && !spec.text_lower.empty()) {
            if (memos) {
              auto& m = memos->files[fp.columnar.get()];
              if (!m.second) m = {fp.columnar, fp.columnar->NewTextMemo(spec.text_lower)};
              fp.memo = m.second;
            } else {
              fp.memo = fp.columnar->NewTextMemo(spec.text_lower);
            }
          }
        }
        fp.parts.emplace_back(loc, static_cast<uint32_t>(p));
      }
      for (const Memtable* m : mems) {
        if (!m || m->empty()) continue;
        const Memtable::Trace* t = m->Find(rec.id);
        if (!t) continue;
        places[p] = static_cast<uint8_t>(std::min(places[p] + 1, 255));
        m->SpanBytes(*t, &mem_views);
        mem_owner.resize(mem_views.size(), static_cast<uint32_t>(p));
      }
    }
  }

  // Work units; no lock held from here on.
  std::vector<std::function<void(std::vector<uint32_t>* bits)>> units;
  for (auto& entry : files) {
    FileParts& fp = entry.second;
    std::sort(fp.parts.begin(), fp.parts.end(),
              [](const auto& a, const auto& b) { return a.first.offset < b.first.offset; });
    if (fp.columnar) {
      for (size_t i = 0; i < fp.parts.size();) {
        std::vector<RowRange> ranges;
        std::vector<uint32_t> owners;
        uint64_t rows = 0;
        for (; i < fp.parts.size() && rows < kUnitRows; ++i) {
          const SegLoc& loc = fp.parts[i].first;
          ranges.push_back(RowRange{static_cast<uint32_t>(loc.offset), loc.length});
          owners.push_back(fp.parts[i].second);
          rows += loc.length;
        }
        units.push_back([&spec, reader = fp.columnar, memo = fp.memo, ranges = std::move(ranges),
                         owners = std::move(owners)](std::vector<uint32_t>* bits) {
          std::vector<uint32_t> got;
          std::vector<uint8_t> unreadable;
          if (!reader->MatchRows(spec, ranges, &got, &unreadable, memo.get()).ok()) unreadable.assign(ranges.size(), 1);
          for (size_t k = 0; k < ranges.size(); ++k) (*bits)[owners[k]] |= unreadable[k] ? kUnreadable : got[k];
        });
      }
    } else {
      for (size_t i = 0; i < fp.parts.size(); i += kUnitTraces) {
        std::vector<std::pair<SegLoc, uint32_t>> parts(
            fp.parts.begin() + static_cast<ptrdiff_t>(i),
            fp.parts.begin() + static_cast<ptrdiff_t>(std::min(fp.parts.size(), i + kUnitTraces)));
        units.push_back([&spec, file = fp.file, parts = std::move(parts)](std::vector<uint32_t>* bits) {
          model::Span span;
          for (const auto& part : parts) {
            std::deque<std::string> storage;
            std::vector<std::string_view> spans;
            uint32_t got = 0;
            if (!file->ReadTrace(part.first, &storage, &spans).ok()) got = kUnreadable;
            for (std::string_view b : spans) {
              if (got & kUnreadable) break;
              if (!ParseStoredSpan(b, &span, /*payloads=*/!spec.text_lower.empty())) {
                got = kUnreadable;
                break;
              }
              got |= SpanBits(span, spec);
            }
            (*bits)[part.second] |= got;
          }
        });
      }
    }
  }
  for (size_t i = 0; i < mem_views.size(); i += kUnitSpans) {
    units.push_back([&spec, &mem_views, &mem_owner, i](std::vector<uint32_t>* bits) {
      model::Span span;
      for (size_t k = i; k < std::min(mem_views.size(), i + kUnitSpans); ++k) {
        std::string_view b = mem_views[k];
        (*bits)[mem_owner[k]] |=
            ParseStoredSpan(b, &span, /*payloads=*/!spec.text_lower.empty()) ? SpanBits(span, spec) : kUnreadable;
      }
    });
  }
  std::vector<uint32_t> bits[kScanThreads];
  for (auto& b : bits) b.assign(n, 0);
  SL_RETURN_IF_ERROR(ParallelUnits(units.size(), [&](int t, size_t u) -> Status {
    units[u](&bits[t]);
    return Status::OK();
  }));
  for (size_t p = 0; p < n; ++p) {
    uint32_t b = early[p];
    for (const auto& tb : bits) b |= tb[p];
    if (b & kUnreadable) continue;  // kVerify: the trace read reports the damage
    if ((b & need) != need) {
      (*verdicts)[p] = kNo;
    } else if (places[p] <= 1) {
      (*verdicts)[p] = kYes;
    }
  }
  return Status::OK();
}

}  // namespace sightline::store
