// EmbeddedStore::Aggregate: group-by totals and quantile sketches (query_spec.h
// "Aggregates"), on both cores.
//
// Trace level reads the trace index only: the merged aggregates already hold each
// run's span count, calls, tokens, cost, time range and status, so no span is decoded
// (except for attr/text filters, decided like search's: ScanVerdicts, then trace reads
// for the traces it cannot decide alone).
// The index is cut into chunks of records; two threads each take the shared lock for
// one chunk at a time, so the writer is never held up for long.
//
// Span level scans span bytes. A short pass over the index (under the shared lock, in
// chunks) prunes whole traces whose aggregate rules the filter out (time range, kinds,
// agents, names, tools seen) and lists where the others' spans live: blocks of the
// segments, and spans of the memtables. Then, holding no lock, work units are handed
// to two threads; each unit is a SpanSource, a function producing SpanColumns batches
// (today: v1 segment blocks or memtable spans run through DecodeColumns; the columnar
// v2 reader will hand its blocks' columns straight through the same interface). Each
// thread aggregates into its own Aggregator; the partials are merged at the end.
//
// Consistency: the listing sees one version of the segment files and memtables (it
// starts again when a flush or compaction lands in between), plus spans appended to
// those memtables while it runs. A span re-sent after its first copy was flushed
// counts once, its newest copy, at both levels: trace level from the trace index, which
// took the older copy's counts back (embedded_store_resent.cc); span level by checking
// the traces whose spans live in several places for repeated span ids
// (embedded_store_query_dups.cc) and reading those that repeat one whole. (A copy
// appended while a span-level scan runs may still count twice in that query.)
#include <algorithm>
#include <atomic>
#include <deque>
#include <iterator>
#include <thread>
#include <unordered_map>

#include "store/parallel_units.h"
#include "store/aggregator.h"
#include "store/embedded_store.h"
#include "store/columnar/columnar_reader.h"
#include "store/segment_io.h"
#include "store/segment/segment_reader.h"

namespace sightline::store {
namespace {

using columnar::SpanColumns;
using BatchFn = std::function<Status(const SpanColumns&)>;
// Produces the source's spans as SpanColumns batches holding at least the columns in
// mask, handing each to fn. Damaged stored data it can skip is reported to on_skip.
using SpanSource = std::function<Status(uint64_t mask, const BatchFn& fn)>;

constexpr size_t kBatchSpans = 4096;
constexpr uint64_t kUnitBytes = 8u << 20;  // segment bytes per work unit
constexpr size_t kRepeatedPerUnit = 64;  // traces read whole per work unit (repeated spans)

// Filter strings resolved to interned ids; a string never interned matches nothing.
struct CompiledFilter {
  bool impossible = false;
  std::vector<uint32_t> projects;
  uint32_t service = 0, agent = 0, session = 0, user = 0, name = 0, model = 0, tool = 0, environment = 0;
};

CompiledFilter Compile(const StringPool& pool, const AggregateFilter& f) {
  CompiledFilter c;
  auto resolve = [&](const std::string& s) -> uint32_t {
    if (s.empty()) return 0;
    uint32_t id = pool.Find(s);
    if (id == StringPool::kMissing) c.impossible = true;
    return id;
  };
  for (const auto& p : f.projects) {
    uint32_t id = pool.Find(p);
    if (id != StringPool::kMissing) c.projects.push_back(id);
  }
  if (!f.projects.empty() && c.projects.empty()) c.impossible = true;
  c.service = resolve(f.service);
  c.agent = resolve(f.agent);
  c.session = resolve(f.session_id);
  c.user = resolve(f.user_id);
  c.name = resolve(f.name);
  c.model = resolve(f.model);
  c.tool = resolve(f.tool);
  c.environment = resolve(f.environment);
  return c;
}

uint32_t KindBit(model::SpanKind k) { return 1u << (static_cast<unsigned>(k) & 31); }

// Trace level: does the run match (everything but attrs and text)?
bool TraceMatches(const TraceAgg& a, const CompiledFilter& c, const AggregateFilter& f) {
  if (a.span_count <= 0) return false;
  if (f.from_ns && a.start_ns < *f.from_ns) return false;
  if (f.to_ns && a.start_ns > *f.to_ns) return false;
  if (!c.projects.empty() && std::find(c.projects.begin(), c.projects.end(), a.project) == c.projects.end())
    return false;
  if (c.service && a.service != c.service) return false;
  if (c.session && a.session_id != c.session) return false;
  if (c.user && a.user_id != c.user) return false;
  if (c.environment && a.environment != c.environment) return false;
  if (f.status && a.Status() != *f.status) return false;
  if (f.kind && !(a.kinds_mask & KindBit(*f.kind))) return false;
  if (c.agent && !Has(a.agents, c.agent)) return false;
  if (c.name && !Has(a.names, c.name)) return false;
  if (c.model && !Has(a.models, c.model)) return false;
  if (c.tool && !Has(a.tools, c.tool)) return false;
  if (f.min_duration_ns && a.DurationNs() < *f.min_duration_ns) return false;
  if (f.max_duration_ns && a.DurationNs() > *f.max_duration_ns) return false;
  if (f.min_cost_usd && a.cost_usd < *f.min_cost_usd) return false;
  return true;
}

// Span level: may some span of this (partial) aggregate match? Only conditions that
// hold for every span of the trace: a span's start lies in [agg start, agg end].
bool TraceMayHoldSpans(const TraceAgg& a, const CompiledFilter& c, const AggregateFilter& f) {
  if (a.span_count <= 0) return false;
  if (f.to_ns && a.start_ns > *f.to_ns) return false;
  if (f.from_ns && a.end_ns < *f.from_ns) return false;
  if (f.kind && !(a.kinds_mask & KindBit(*f.kind))) return false;
  if (f.status == model::v1::STATUS_ERROR && a.error_count <= 0) return false;
  if (f.status == model::v1::STATUS_INTERRUPT && a.interrupt_count <= 0) return false;
  if (c.agent && !Has(a.agents, c.agent)) return false;
  if (c.name && !Has(a.names, c.name)) return false;
  if (c.tool && !Has(a.tools, c.tool)) return false;
  // The models side set holds llm spans' models only.
  if (c.model && f.kind == model::v1::KIND_LLM && !Has(a.models, c.model)) return false;
  return true;
}

TraceRow RowOf(const TraceAgg& a, const StringPool& pool) {
  TraceRow r;
  r.project = pool.Get(a.project);
  r.service = pool.Get(a.service);
  r.agent_name = pool.Get(a.agent_name);
  r.session_id = pool.Get(a.session_id);
  r.user_id = pool.Get(a.user_id);
  r.environment = pool.Get(a.environment);
  r.status = a.Status();
  r.start_ns = a.start_ns;
  r.duration_ns = a.DurationNs();
  r.span_count = a.span_count;
  r.llm_calls = a.llm_calls;
  r.tool_calls = a.tool_calls;
  r.input_tokens = a.input_tokens;
  r.output_tokens = a.output_tokens;
  r.cost_usd = a.cost_usd;
  return r;
}

Status DecodeInBatches(const std::vector<std::string_view>& views, uint64_t mask, const BatchFn& fn) {
  SpanColumns cols;
  std::deque<std::string> storage;
  std::vector<std::string_view> part;
  for (size_t i = 0; i < views.size(); i += kBatchSpans) {
    part.assign(views.begin() + static_cast<ptrdiff_t>(i),
                views.begin() + static_cast<ptrdiff_t>(std::min(views.size(), i + kBatchSpans)));
    storage.clear();
    SL_RETURN_IF_ERROR(DecodeColumns(part, mask, &cols, &storage));
    SL_RETURN_IF_ERROR(fn(cols));
  }
  return Status::OK();
}

// Spans of a memtable (views into its arena, alive while `keep` is).
SpanSource MemtableSource(std::shared_ptr<Memtable> keep, std::vector<std::string_view> views) {
  return [keep = std::move(keep), views = std::move(views)](uint64_t mask, const BatchFn& fn) {
    return DecodeInBatches(views, mask, fn);
  };
}

// Blocks of one v1 segment (serialized SpanBatches), in file order, decoded a few
// thousand spans at a time. A block that fails its checksum or does not parse is
// skipped and reported; the rest still count.
SpanSource SegmentBlocksSource(std::shared_ptr<segment::SegmentReader> reader, std::vector<SegLoc> blocks,
                               std::function<void(const Status&)> on_skip) {
  return [reader = std::move(reader), blocks = std::move(blocks), on_skip = std::move(on_skip)](
             uint64_t mask, const BatchFn& fn) -> Status {
    std::deque<std::string> bytes;  // the pending blocks; a deque never moves them
    std::vector<size_t> starts;     // where each pending block's spans begin in views
    std::vector<uint64_t> offsets;  // each pending block's file offset
    std::vector<std::string_view> views, split;
    SpanColumns cols;
    std::deque<std::string> storage;
    auto decode = [&](const std::vector<std::string_view>& v) -> Status {
      storage.clear();
      SL_RETURN_IF_ERROR(DecodeColumns(v, mask, &cols, &storage));
      return fn(cols);
    };
    auto flush = [&]() -> Status {
      if (views.empty()) return Status::OK();
      Status s = decode(views);
      if (s.code() == StatusCode::kCorruption) {  // nothing was counted: redo block by block
        s = Status::OK();
        for (size_t b = 0; b < starts.size() && s.ok(); ++b) {
          size_t e = b + 1 < starts.size() ? starts[b + 1] : views.size();
          std::vector<std::string_view> one(views.begin() + static_cast<ptrdiff_t>(starts[b]),
                                            views.begin() + static_cast<ptrdiff_t>(e));
          Status sb = decode(one);
          if (sb.code() == StatusCode::kCorruption) {
            on_skip(Status::Corruption(reader->path() + ": block at offset " + std::to_string(offsets[b]) + ": " +
                                       sb.message()));
          } else {
            s = sb;
          }
        }
      }
      views.clear();
      bytes.clear();
      starts.clear();
      offsets.clear();
      return s;
    };
    for (const SegLoc& loc : blocks) {
      std::string block;
      Status s = reader->ReadBlock(loc.offset, loc.length, loc.checksum, &block);
      if (!s.ok()) {
        on_skip(s);
        continue;
      }
      bytes.push_back(std::move(block));
      if (!SplitSpanBatch(bytes.back(), &split)) {
        on_skip(Status::Corruption(reader->path() + ": block at offset " + std::to_string(loc.offset) +
                                   " is not a SpanBatch"));
        bytes.pop_back();
        continue;
      }
      starts.push_back(views.size());
      offsets.push_back(loc.offset);
      views.insert(views.end(), split.begin(), split.end());
      if (views.size() >= kBatchSpans) SL_RETURN_IF_ERROR(flush());
    }
    return flush();
  };
}

}  // namespace

Result<ResumeCounts> EmbeddedStore::CountResumes(const AggregateFilter& f) {
  if (!f.attrs.empty() || !f.text.empty())
    return Status::InvalidArgument("resumes are not counted with attr.* or text filters");
  ResumeCounts out;
  std::shared_lock<std::shared_mutex> r(mu_);
  const CompiledFilter c = Compile(index_.pool(), f);
  if (c.impossible) return out;
  // One pass over the trace records (no span is read); the sessions of the interrupted
  // ones are looked up, and interrupted runs are few.
  for (uint32_t i = 0; i < index_.size(); ++i) {
    const TraceAgg& a = index_.record(i).agg;
    if (a.Status() != model::v1::STATUS_INTERRUPT || !TraceMatches(a, c, f)) continue;
    ++out.interrupted;
    if (a.session_id == 0) continue;
    const TraceIndex::Session* s = index_.FindSession(a.project, a.session_id);
    if (!s) continue;
    for (uint32_t t : s->traces) {
      const TraceAgg& later = index_.record(t).agg;
      if (t != i && later.span_count > 0 && later.start_ns > a.start_ns) {
        ++out.resumed;
        break;
      }
    }
  }
  return out;
}

Result<AggregateResult> EmbeddedStore::Aggregate(const AggregateQuery& q) {
  SL_RETURN_IF_ERROR(Aggregator::Validate(q));
  if (auto answer = AggregateFromRollups(q)) return std::move(*answer);
  const AggregateFilter& f = q.filter;
  std::vector<Aggregator> aggs;
  auto reset = [&]() {
    aggs.clear();
    aggs.reserve(kScanThreads);
    for (int t = 0; t < kScanThreads; ++t) aggs.emplace_back(q);
  };
  auto finish = [&](int64_t skipped) -> Result<AggregateResult> {
    for (int t = 1; t < kScanThreads; ++t) SL_RETURN_IF_ERROR(aggs[0].Merge(std::move(aggs[t])));
    AggregateResult res = aggs[0].Finish();
    res.blocks_skipped = skipped;
    return res;
  };

  // The listing passes below take the shared lock one chunk at a time, yet must see one
  // version of the files and memtables: a flush or compaction between two chunks moves
  // spans to other places, which a scan planned from both versions would count twice or
  // not at all. Each chunk checks the version it started from; when it changed, the
  // listing starts again, and the third attempt holds the lock throughout.
  struct Version {
    size_t slots = 0, live = 0;
    const Memtable* imm = nullptr;
    const Memtable* mem = nullptr;
    bool operator==(const Version&) const = default;
  };
  auto version_locked = [this]() {
    Version v{files_.size(), 0, imm_.get(), mem_.get()};
    for (const Slot& s : files_) v.live += s.file != nullptr;
    return v;
  };
  const Status moved = Status::Unavailable("the store's files changed during the listing");

  CompiledFilter c;
  size_t n_records;
  std::vector<std::shared_ptr<segment::SegmentReader>> segments;
  std::vector<std::shared_ptr<const columnar::ColumnarReader>> columnar_files;  // v2, slot for slot
  std::shared_ptr<Memtable> mems[2];
  size_t mem_traces[2] = {0, 0};
  Version v0;
  // Copies the state above (mu_ held).
  auto snapshot_locked = [&]() {
    c = Compile(index_.pool(), f);
    n_records = index_.size();
    segments = segments_;
    columnar_files.assign(files_.size(), nullptr);
    for (size_t i = 0; i < files_.size(); ++i)
      if (files_[i].file && !segments_[i]) columnar_files[i] = ColumnarOf(files_[i].file);
    mems[0] = imm_;
    mems[1] = mem_;
    for (int m = 0; m < 2; ++m) mem_traces[m] = mems[m] ? mems[m]->traces().size() : 0;
    v0 = version_locked();
  };

  if (q.level == AggLevel::kTrace) {
    const bool expensive = !f.attrs.empty() || !f.text.empty();
    std::vector<uint32_t> maybe[kScanThreads];  // need a span decode (attr / text filters)
    std::vector<TraceParts> multi[kScanThreads];  // spans in several places: a span may repeat
    for (int attempt = 0;; ++attempt) {
      const bool one_lock = attempt >= 2;
      std::shared_lock<std::shared_mutex> whole(mu_, std::defer_lock);
      if (one_lock) whole.lock();
      auto section = [&]() {
        return one_lock ? std::shared_lock<std::shared_mutex>() : std::shared_lock<std::shared_mutex>(mu_);
      };
      reset();
      std::vector<uint8_t> in_mem;  // memtables holding spans of record i
      {
        auto r = section();
        snapshot_locked();
        if (c.impossible) return finish(0);
        in_mem.assign(n_records, 0);
        for (int m = 0; m < 2; ++m) {
          if (!mems[m]) continue;
          for (const Memtable::Trace& t : mems[m]->traces())
            if (auto idx = index_.Find(t.id); idx && *idx < n_records) ++in_mem[*idx];
        }
      }
      if (!one_lock && opts_.test_aggregate_between_steps) opts_.test_aggregate_between_steps();
      const size_t n_chunks = (n_records + kRecordChunk - 1) / kRecordChunk;
      for (int t = 0; t < kScanThreads; ++t) {
        maybe[t].clear();
        multi[t].clear();
      }
      auto chunk_fn = [&](int t, size_t chunk) -> Status {
        auto r = section();
        if (!one_lock && !(version_locked() == v0)) return moved;
        Aggregator& agg = aggs[static_cast<size_t>(t)];
        const size_t end = std::min(n_records, (chunk + 1) * kRecordChunk);
        for (size_t i = chunk * kRecordChunk; i < end; ++i) {
          const TraceRecord& rec = index_.record(static_cast<uint32_t>(i));
          const TraceAgg& a = rec.agg;
          if (a.span_count > 0 && rec.segs.size() + in_mem[i] > 1) {  // decided below
            CollectPartsLocked(static_cast<uint32_t>(i), &multi[t].emplace_back());
            continue;
          }
          if (!TraceMatches(a, c, f)) {
            agg.AddScanned(1);
            continue;
          }
          if (expensive) {
            maybe[t].push_back(static_cast<uint32_t>(i));
            continue;
          }
          SL_RETURN_IF_ERROR(agg.AddTrace(RowOf(a, index_.pool())));
        }
        return Status::OK();
      };
      Status st;
      if (one_lock) {
        for (size_t chunk = 0; chunk < n_chunks && st.ok(); ++chunk) st = chunk_fn(0, chunk);
      } else {
        st = ParallelUnits(n_chunks, chunk_fn);
      }
      if (st.code() == StatusCode::kUnavailable && !one_lock && st.message() == moved.message()) continue;
      SL_RETURN_IF_ERROR(st);
      break;
    }

    // Traces in several places: the index counts a re-sent span once already (its
    // older copies were taken back when the newer one arrived, or at Open), so their
    // aggregates stand as they are.
    std::vector<TraceParts> parts;
    for (auto& m : multi) std::move(m.begin(), m.end(), std::back_inserter(parts));
    std::unordered_map<uint32_t, TraceAgg> corrected;  // record -> aggregate as copied
    for (size_t k = 0; k < parts.size(); ++k) {
      TraceAgg a = parts[k].agg;
      if (!TraceMatches(a, c, f)) {
        aggs[0].AddScanned(1);
        continue;
      }
      if (expensive) {
        maybe[0].push_back(parts[k].record);
        corrected.emplace(parts[k].record, std::move(a));
        continue;
      }
      std::shared_lock<std::shared_mutex> r(mu_);
      SL_RETURN_IF_ERROR(aggs[0].AddTrace(RowOf(a, index_.pool())));
    }
    if (expensive) {
      TraceQuery tq;
      tq.attrs = f.attrs;
      tq.text = f.text;
      const std::string text_lower = AsciiLower(f.text);
      std::vector<uint32_t> records = std::move(maybe[0]);
      for (int t = 1; t < kScanThreads; ++t) records.insert(records.end(), maybe[t].begin(), maybe[t].end());
      std::vector<uint8_t> verdicts(records.size(), kVerify);
      if (records.size() >= opts_.search_scan_min_traces)
        SL_RETURN_IF_ERROR(ScanVerdicts(records, tq, text_lower, &verdicts));
      for (size_t i = 0; i < records.size(); ++i) {
        const uint32_t idx = records[i];
        if (verdicts[i] == kNo || (verdicts[i] == kVerify && !MatchesExpensive(idx, tq, text_lower))) {
          aggs[0].AddScanned(1);
          continue;
        }
        std::shared_lock<std::shared_mutex> r(mu_);
        auto it = corrected.find(idx);
        SL_RETURN_IF_ERROR(aggs[0].AddTrace(RowOf(it != corrected.end() ? it->second : index_.record(idx).agg, index_.pool())));
      }
    }
    return finish(0);
  }

  // Span level: list where candidate spans live (under the lock, in chunks). A v2
  // (columnar) file with any candidate is scanned by column, its blocks pruned by time,
  // session and user; the aggregator filters its rows. A trace whose spans live in
  // several places is set aside (multi) and scanned with the rest unless it repeats a
  // span id, in which case it is read whole and counted once (its rows are left out
  // of the file scans).
  std::vector<std::vector<SegLoc>> seg_blocks;
  std::vector<char> scan_columnar;
  std::vector<std::string_view> mem_views[2];
  std::unordered_map<uint32_t, TraceParts> multi;  // by record
  for (int attempt = 0;; ++attempt) {
    const bool one_lock = attempt >= 2;
    std::shared_lock<std::shared_mutex> whole(mu_, std::defer_lock);
    if (one_lock) whole.lock();
    auto section = [&]() {
      return one_lock ? std::shared_lock<std::shared_mutex>() : std::shared_lock<std::shared_mutex>(mu_);
    };
    {
      auto r = section();
      snapshot_locked();
    }
    if (c.impossible) {
      reset();
      return finish(0);
    }
    if (!one_lock && opts_.test_aggregate_between_steps) opts_.test_aggregate_between_steps();
    const size_t n_chunks = (n_records + kRecordChunk - 1) / kRecordChunk;
    seg_blocks.assign(segments.size(), {});
    scan_columnar.assign(columnar_files.size(), 0);
    multi.clear();
    for (auto& v : mem_views) v.clear();
    bool stale = false;
    for (size_t chunk = 0; chunk < n_chunks && !stale; ++chunk) {
      auto r = section();
      if (!one_lock && !(version_locked() == v0)) {
        stale = true;
        break;
      }
      const size_t end = std::min(n_records, (chunk + 1) * kRecordChunk);
      for (size_t i = chunk * kRecordChunk; i < end; ++i) {
        const TraceRecord& rec = index_.record(static_cast<uint32_t>(i));
        if (rec.segs.empty() || !TraceMayHoldSpans(rec.agg, c, f)) continue;
        if (rec.segs.size() > 1 && !multi.count(static_cast<uint32_t>(i)))
          CollectPartsLocked(static_cast<uint32_t>(i), &multi[static_cast<uint32_t>(i)]);
        for (const SegLoc& loc : rec.segs) {
          if (loc.segment < columnar_files.size() && columnar_files[loc.segment]) {
            scan_columnar[loc.segment] = 1;
          } else if (loc.segment < segments.size()) {
            seg_blocks[loc.segment].push_back(loc);
          }
        }
      }
    }
    for (int m = 0; m < 2 && !stale; ++m) {
      for (size_t begin = 0; begin < mem_traces[m] && !stale; begin += kRecordChunk) {
        auto r = section();
        if (!one_lock && !(version_locked() == v0)) {
          stale = true;
          break;
        }
        const auto& traces = mems[m]->traces();
        const Memtable* other = mems[1 - m].get();
        for (size_t i = begin; i < std::min(mem_traces[m], begin + kRecordChunk); ++i) {
          if (!TraceMayHoldSpans(traces[i].agg, c, f)) continue;
          auto idx = index_.Find(traces[i].id);
          if (!idx) continue;  // deleted on request (store/deletion): hidden until flushed away
          if (idx && (multi.count(*idx) || !index_.record(*idx).segs.empty() || (other && other->Find(traces[i].id)))) {
            if (!multi.count(*idx)) CollectPartsLocked(*idx, &multi[*idx]);
            continue;
          }
          mems[m]->SpanBytes(traces[i], &mem_views[m]);
        }
      }
    }
    if (stale) continue;
    break;
  }
  reset();

  // Which set-aside traces repeat a span id.
  std::vector<TraceParts> parts;
  parts.reserve(multi.size());
  for (auto& entry : multi) parts.push_back(std::move(entry.second));
  multi.clear();
  std::vector<uint8_t> dup;
  FindDuplicates(parts, &dup);
  std::vector<std::vector<columnar::RowRange>> v2_left_out(columnar_files.size());
  std::vector<std::vector<uint64_t>> v1_left_out(segments.size());  // block offsets
  std::vector<const TraceParts*> repeated;
  std::vector<std::string_view> extra_views;  // memtable spans of set-aside traces without repeats
  for (size_t k = 0; k < parts.size(); ++k) {
    if (!dup[k]) {
      for (const auto& views : parts[k].mem_spans) extra_views.insert(extra_views.end(), views.begin(), views.end());
      continue;
    }
    repeated.push_back(&parts[k]);
    for (const auto& part : parts[k].segs) {
      const SegLoc& loc = part.second;
      if (loc.segment < columnar_files.size() && columnar_files[loc.segment]) {
        v2_left_out[loc.segment].push_back({static_cast<uint32_t>(loc.offset), loc.length});
      } else if (loc.segment < segments.size()) {
        v1_left_out[loc.segment].push_back(loc.offset);
      }
    }
  }

  // Work units, no lock held from here on.
  std::atomic<int64_t> skipped{0};
  auto on_skip = [this, &skipped](const Status& s) {
    skipped.fetch_add(1);
    Log("aggregate: skipping a damaged block: " + s.ToString());
  };
  std::vector<SpanSource> units;
  for (size_t s = 0; s < segments.size(); ++s) {
    auto& blocks = seg_blocks[s];
    std::sort(blocks.begin(), blocks.end(), [](const SegLoc& a, const SegLoc& b) { return a.offset < b.offset; });
    blocks.erase(std::unique(blocks.begin(), blocks.end(),
                             [](const SegLoc& a, const SegLoc& b) { return a.offset == b.offset; }),
                 blocks.end());
    if (!v1_left_out[s].empty()) {
      std::sort(v1_left_out[s].begin(), v1_left_out[s].end());
      std::erase_if(blocks, [&](const SegLoc& loc) {
        return std::binary_search(v1_left_out[s].begin(), v1_left_out[s].end(), loc.offset);
      });
    }
    std::vector<SegLoc> unit;
    uint64_t bytes = 0;
    for (const SegLoc& loc : blocks) {
      unit.push_back(loc);
      bytes += loc.length;
      if (bytes >= kUnitBytes) {
        units.push_back(SegmentBlocksSource(segments[s], std::move(unit), on_skip));
        unit.clear();
        bytes = 0;
      }
    }
    if (!unit.empty()) units.push_back(SegmentBlocksSource(segments[s], std::move(unit), on_skip));
  }
  for (size_t s = 0; s < columnar_files.size(); ++s) {
    if (!scan_columnar[s]) continue;
    columnar::BlockFilter bf;
    bf.from_ns = f.from_ns;
    bf.to_ns = f.to_ns;
    if (!f.session_id.empty()) bf.session_id = f.session_id;
    if (!f.user_id.empty()) bf.user_id = f.user_id;
    std::vector<columnar::RowRange> left_out = std::move(v2_left_out[s]);
    std::sort(left_out.begin(), left_out.end(),
              [](const columnar::RowRange& a, const columnar::RowRange& b) { return a.first_row < b.first_row; });
    units.push_back([reader = columnar_files[s], bf, on_skip, left_out = std::move(left_out)](
                        uint64_t mask, const BatchFn& fn) -> Status {
      // Rows of traces counted through ReadNewest are left out of the block.
      auto visit = [&](const SpanColumns& cols, uint32_t first_row) -> Status {
        const uint64_t end = static_cast<uint64_t>(first_row) + cols.rows;
        auto it = std::upper_bound(left_out.begin(), left_out.end(), first_row,
                                   [](uint32_t row, const columnar::RowRange& r) { return row < r.first_row; });
        if (it != left_out.begin()) --it;
        std::vector<uint8_t> keep;
        for (; it != left_out.end() && it->first_row < end; ++it) {
          const uint64_t lo = std::max<uint64_t>(it->first_row, first_row);
          const uint64_t hi = std::min<uint64_t>(static_cast<uint64_t>(it->first_row) + it->row_count, end);
          if (lo >= hi) continue;
          if (keep.empty()) keep.assign(cols.rows, 1);
          for (uint64_t r = lo; r < hi; ++r) keep[static_cast<size_t>(r - first_row)] = 0;
        }
        if (keep.empty()) return fn(cols);
        SpanColumns part = cols;
        part.KeepRows(keep);
        return fn(part);
      };
      // A damaged block is skipped and counted; the file's other blocks still count.
      Status st = reader->Scan(mask, bf, visit, on_skip);
      if (st.code() != StatusCode::kCorruption) return st;
      on_skip(st);  // the file's meta or payloads: the rest of this file does not count
      return Status::OK();
    });
  }
  for (int m = 0; m < 3; ++m) {
    const auto& views = m < 2 ? mem_views[m] : extra_views;
    for (size_t i = 0; i < views.size(); i += 4 * kBatchSpans) {
      std::vector<std::string_view> part(views.begin() + static_cast<ptrdiff_t>(i),
                                         views.begin() + static_cast<ptrdiff_t>(std::min(views.size(), i + 4 * kBatchSpans)));
      // extra_views point into memtables `parts` keeps alive until the units are done.
      units.push_back(MemtableSource(m < 2 ? mems[m] : nullptr, std::move(part)));
    }
  }
  for (size_t i = 0; i < repeated.size(); i += kRepeatedPerUnit) {
    std::vector<const TraceParts*> some(repeated.begin() + static_cast<ptrdiff_t>(i),
                                        repeated.begin() + static_cast<ptrdiff_t>(std::min(repeated.size(), i + kRepeatedPerUnit)));
    units.push_back([this, some = std::move(some), on_skip](uint64_t mask, const BatchFn& fn) -> Status {
      for (const TraceParts* t : some) {
        std::deque<std::string> storage;
        std::vector<std::string_view> newest, stale;
        Status s = ReadNewest(*t, &storage, &newest, &stale);
        if (!s.ok()) {
          on_skip(s);
          continue;
        }
        SL_RETURN_IF_ERROR(DecodeInBatches(newest, mask, fn));
      }
      return Status::OK();
    });
  }
  const uint64_t mask = aggs[0].ColumnMask();
  SL_RETURN_IF_ERROR(ParallelUnits(units.size(), [&](int t, size_t u) -> Status {
    Aggregator& agg = aggs[static_cast<size_t>(t)];
    return units[u](mask, [&agg](const SpanColumns& cols) { return agg.AddSpans(cols); });
  }));
  return finish(skipped.load());
}

}  // namespace sightline::store
