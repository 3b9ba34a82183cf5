#include "store/compaction/compaction.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <thread>
#include <unordered_set>

#include "model/span.h"
#include "store/columnar/block_codec.h"
#include "store/columnar/columnar_reader.h"
#include "store/segment_io.h"
#include "store/span_codec.h"

namespace sightline::store::compaction {

std::vector<uint64_t> PickSizeTiered(const std::vector<manifest::FileMeta>& files, const CompactionOptions& opts) {
  std::map<int64_t, std::vector<const manifest::FileMeta*>> by_partition;
  for (const auto& f : files) by_partition[f.partition].push_back(&f);
  const size_t min_merge = std::max<size_t>(2, opts.min_merge);
  const size_t max_merge = std::max(min_merge, opts.max_merge);
  for (auto& [partition, list] : by_partition) {
    if (list.size() < min_merge) continue;
    std::sort(list.begin(), list.end(), [](const manifest::FileMeta* a, const manifest::FileMeta* b) {
      return a->covered_wal != b->covered_wal ? a->covered_wal < b->covered_wal : a->number < b->number;
    });
    size_t best_begin = 0, best_len = 0;
    for (size_t i = 0; i < list.size(); ++i) {
      uint64_t lo = std::max<uint64_t>(1, list[i]->bytes), hi = lo, total = list[i]->bytes;
      size_t j = i + 1;
      for (; j < list.size() && j - i < max_merge; ++j) {
        uint64_t b = std::max<uint64_t>(1, list[j]->bytes);
        uint64_t nlo = std::min(lo, b), nhi = std::max(hi, b);
        if (static_cast<double>(nhi) > opts.size_ratio * static_cast<double>(nlo)) break;
        if (total + list[j]->bytes > opts.max_output_bytes) break;
        lo = nlo;
        hi = nhi;
        total += list[j]->bytes;
      }
      if (j - i >= min_merge && j - i > best_len) {
        best_begin = i;
        best_len = j - i;
      }
    }
    if (best_len > 0) {
      std::vector<uint64_t> out;
      for (size_t k = best_begin; k < best_begin + best_len; ++k) out.push_back(list[k]->number);
      return out;
    }
  }
  return {};
}

namespace {

struct Part {
  size_t input;
  SegLoc loc;
  std::string agg;
};
struct Entry {
  TraceKey id;
  Part part;
};

// Throttles reading to max_bytes_per_sec, in short sleeps so `stop` is noticed.
class Throttle {
 public:
  Throttle(Env* env, uint64_t rate, const std::function<bool()>& stop) : env_(env), rate_(rate), stop_(stop) {
    start_ = env->MonotonicNanos();
  }
  void Consumed(uint64_t bytes) {
    if (rate_ == 0) return;
    bytes_ += bytes;
    for (;;) {
      int64_t due = start_ + static_cast<int64_t>(static_cast<double>(bytes_) * 1e9 / static_cast<double>(rate_));
      int64_t wait = due - env_->MonotonicNanos();
      if (wait <= 0 || (stop_ && stop_())) return;
      std::this_thread::sleep_for(std::chrono::nanoseconds(std::min<int64_t>(wait, 50000000)));
    }
  }

 private:
  Env* env_;
  uint64_t rate_;
  const std::function<bool()>& stop_;
  int64_t start_;
  uint64_t bytes_ = 0;
};

// Whether serialized span fields hold a kind or status (a value no byte column holds:
// SplitSpan leaves it in the rest). Malformed bytes: true (the caller parses them).
bool HoldsKindOrStatus(std::string_view bytes) {
  using google::protobuf::internal::WireFormatLite;
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            static_cast<int>(bytes.size()));
  for (;;) {
    const uint32_t tag = in.ReadTag();
    if (tag == 0) return in.CurrentPosition() != static_cast<int>(bytes.size());
    const int field = WireFormatLite::GetTagFieldNumber(tag);
    if (field == model::Span::kKindFieldNumber || field == model::Span::kStatusFieldNumber) return true;
    if (!WireFormatLite::SkipField(&in, tag)) return true;
  }
}

// Adds the meta of a row's span to facts, as EncodedBatch::AddMeta of the whole span
// would: from its columns, plus the attributes IsMetaAttribute names (rebuilt in
// *scratch); the whole span but its other attributes when its rest holds what the meta
// reads too (evaluation events, or a kind or status no column holds).
void AddRowMeta(const columnar::Row& row, model::Span* scratch, EncodedBatch* facts) {
  scratch->Clear();
  const bool whole = !row.rest.empty() && (row.rest.find(kEvaluationEventName) != std::string::npos ||
                                           HoldsKindOrStatus(row.rest));
  if (whole) {
    scratch->CopyFrom(row.cols);
    (void)scratch->MergeFromString(row.rest);  // the reader checked that it parses
  }
  bool attrs = false;
  for (const columnar::AttrCell& c : row.attrs) {
    const std::string_view key(row.attr_buf.data() + c.key_off, c.key_len);
    if (!IsMetaAttribute(key)) continue;
    auto* kv = scratch->add_attributes();
    kv->set_key(std::string(key));
    if (c.type != columnar::kAttrNoValue)
      (void)columnar::AnyValueFromText(c.type, std::string_view(row.attr_buf.data() + c.text_off, c.text_len),
                                       std::string_view(row.attr_buf.data() + c.raw_off, c.raw_len),
                                       kv->mutable_value());
    attrs = true;
  }
  if (whole) {
    facts->AddMeta(*scratch, 0, 0);
  } else {
    facts->AddMeta(row.cols, attrs ? scratch : nullptr, 0, 0);
  }
  facts->metas.back().trace = row.trace;  // the row holds the trace id apart
}

}  // namespace

Result<MergeResult> Merge(std::vector<std::shared_ptr<SegmentFile>> inputs, const MergeHooks& hooks) {
  // The inputs are read once, whole, and then replaced: their blocks and frames would
  // only push what queries use out of the decoded-block cache.
  columnar::ColumnarReader::NoCacheFill no_cache_fill;
  std::stable_sort(inputs.begin(), inputs.end(), [](const auto& a, const auto& b) {
    return a->covered_wal() != b->covered_wal() ? a->covered_wal() < b->covered_wal() : a->number() < b->number();
  });
  uint64_t covered = 0;
  std::vector<Entry> entries;
  for (size_t i = 0; i < inputs.size(); ++i) {
    covered = std::max(covered, inputs[i]->covered_wal());
    SL_RETURN_IF_ERROR(inputs[i]->ListTraces([&](const SegmentTraceEntry& e) {
      entries.push_back(Entry{e.id, Part{i, e.loc, std::string(e.agg)}});
      return Status::OK();
    }));
  }
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.id < b.id; });

  struct Out {
    std::unique_ptr<SegmentOutput> builder;
    int64_t partition;
    bool done = false;
    std::shared_ptr<SegmentFile> file;  // once done
  };
  std::vector<Out> outs;
  std::map<int64_t, size_t> open_out;  // partition -> index into outs of its open builder
  auto cleanup = [&] {
    for (auto& o : outs) {
      if (!o.done) {
        o.builder->Abandon();
      } else {
        (void)hooks.env->RemoveFile(o.builder->path());
      }
    }
  };

  // By reference: each input's columnar reader and piece fetcher, and per output, per
  // input, the map from input piece to output piece + 1 (0: not stored there yet).
  const bool by_ref = hooks.by_reference && !hooks.salvage && hooks.format != SegmentFormat::kV1Rows;
  std::vector<std::shared_ptr<const columnar::ColumnarReader>> readers(inputs.size());
  std::vector<std::unique_ptr<columnar::ColumnarReader::PieceFetcher>> fetchers(inputs.size());
  for (size_t i = 0; i < inputs.size() && by_ref; ++i) {
    readers[i] = ColumnarOf(inputs[i]);
    if (readers[i]) fetchers[i] = std::make_unique<columnar::ColumnarReader::PieceFetcher>(readers[i].get());
  }
  // What a part costs the throttle: a v1 location's length is its bytes; a columnar one's
  // is its row count, so its share of the file's bytes stands for it.
  std::vector<double> bytes_per_row(inputs.size(), 1.0);
  for (size_t i = 0; i < inputs.size(); ++i)
    if (auto c = ColumnarOf(inputs[i]))
      bytes_per_row[i] =
          static_cast<double>(c->file_bytes()) / static_cast<double>(std::max<uint64_t>(1, c->span_count()));
  std::vector<std::vector<std::vector<uint32_t>>> piece_maps;  // [output][input][input piece]
  std::vector<columnar::SpanPayloadRefs> view_refs, kept_refs;
  std::vector<size_t> kept_in;  // the input of each kept span (by reference)
  // By reference, spans are read parsed (into parsed), merged as messages and handed over
  // as such (swapped into kept_spans[0..kept_n)): a span's view is then empty and the
  // span is parsed[i]. Both vectors keep their messages from trace to trace, so reading a
  // span reuses the allocations of one read before.
  std::vector<model::Span> kept_spans;
  size_t kept_n = 0;
  // By rows (hooks.by_rows, no repricing): the same with the builder's rows instead of
  // messages (rows, kept_rows[0..kept_n)).
  const bool by_rows = by_ref && hooks.by_rows && !hooks.reprice;
  std::vector<columnar::Row> rows, kept_rows;
  model::Span meta_scratch;

  MergeResult result;
  StringPool pool;
  Throttle throttle(hooks.env, hooks.max_bytes_per_sec, hooks.stop);
  std::deque<std::string> storage;
  std::vector<std::string_view> views, kept;
  std::vector<size_t> view_part;
  std::vector<bool> view_counted;  // false: a salvaged part's span, counted by the part's table aggregate
  std::vector<model::Span> parsed;
  std::string agg_bytes;
  for (size_t b = 0; b < entries.size();) {
    if (hooks.stop && hooks.stop()) {
      cleanup();
      return Status::Unavailable("compaction stopped: the store is closing");
    }
    size_t e = b;
    while (e < entries.size() && entries[e].id == entries[b].id) ++e;
    const TraceKey id = entries[b].id;
    storage.clear();
    views.clear();
    view_part.clear();
    view_counted.clear();
    view_refs.clear();
    TraceAgg agg;
    uint64_t read = 0;
    // This trace's payloads go by reference when every part with spans is columnar.
    bool trace_by_ref = by_ref;
    for (size_t k = b; k < e && trace_by_ref; ++k)
      if (entries[k].part.loc.length != 0 && !readers[entries[k].part.input]) trace_by_ref = false;
    for (size_t k = b; k < e; ++k) {
      const Part& p = entries[k].part;
      if (p.loc.length == 0) {  // summary only: its aggregate is all there is
        TraceAgg partial;
        if (!TraceAgg::Decode(p.agg, &pool, &partial)) {
          cleanup();
          return Status::Corruption(inputs[p.input]->path() + ": malformed aggregate of a summary-only trace");
        }
        agg.Merge(partial);
        continue;
      }
      const size_t views_before = views.size();
      Status damage;  // salvage: what the part lost; its spans that could be rebuilt are in views
      Status s;
      if (trace_by_ref) {
        size_t used = views.size();
        s = p.loc.offset > UINT32_MAX
                ? Status::Corruption(inputs[p.input]->path() + ": trace location past the file's rows")
            : by_rows ? readers[p.input]->ReadTraceRows(static_cast<uint32_t>(p.loc.offset), p.loc.length, &rows,
                                                        &used, &view_refs)
                      : readers[p.input]->ReadTraceRefs(static_cast<uint32_t>(p.loc.offset), p.loc.length, &parsed,
                                                        &used, &view_refs);
        views.resize(used);
      } else {
        s = hooks.salvage ? inputs[p.input]->SalvageTrace(p.loc, id, &storage, &views, &damage)
                          : inputs[p.input]->ReadTrace(p.loc, &storage, &views);
      }
      if (s.ok() && !trace_by_ref) {
        // Every span of the part must parse, or the part counts as damaged too. Parsed
        // once, here, for the rest of the merge.
        if (parsed.size() < views.size()) parsed.resize(views.size());
        for (size_t v = views_before; v < views.size() && s.ok(); ++v)
          if (!parsed[v].ParseFromArray(views[v].data(), static_cast<int>(views[v].size())))
            s = Status::Corruption(inputs[p.input]->path() + ": a stored span of a trace does not parse");
      }
      if (!s.ok() || !damage.ok()) {
        TraceAgg partial;
        if (!hooks.salvage || (!s.ok() && s.code() != StatusCode::kCorruption) ||
            !TraceAgg::Decode(p.agg, &pool, &partial)) {
          cleanup();
          return s.ok() ? damage : s;
        }
        if (!s.ok()) views.resize(views_before);
        // The table's aggregate stands for the part's spans, lost or rebuilt without some
        // fields (their counts, costs and tokens as written): the rebuilt spans are kept
        // but not counted again. (Salvage merges one file, so no other part holds copies
        // of them.)
        agg.Merge(partial);
        const uint64_t rebuilt = views.size() - views_before;
        ++result.damaged_parts;
        result.spans_rebuilt += rebuilt;
        if (partial.span_count > 0 && static_cast<uint64_t>(partial.span_count) > rebuilt)
          result.spans_lost += static_cast<uint64_t>(partial.span_count) - rebuilt;
        result.damage.push_back((s.ok() ? damage : s).ToString());
        view_part.resize(views.size(), k);
        view_counted.resize(views.size(), false);
        continue;
      }
      read += static_cast<uint64_t>(static_cast<double>(p.loc.length) * bytes_per_row[p.input]);
      view_part.resize(views.size(), k);
      view_counted.resize(views.size(), true);
    }
    // Newest copy of each span id wins; surviving spans keep their oldest-first order.
    // (Every view parsed above: a part whose spans did not all parse left none here.)
    std::vector<bool> keep(views.size(), false);
    std::unordered_set<std::string> seen;
    TraceOutcome out;
    out.id = id;
    EncodedBatch facts;
    const bool trace_rows = trace_by_ref && by_rows;
    for (size_t i = views.size(); i-- > 0;)
      keep[i] = seen.insert(trace_rows ? rows[i].cols.span_id() : parsed[i].span_id()).second;
    kept.clear();
    kept_n = 0;
    kept_refs.clear();
    kept_in.clear();
    const size_t changes_before = result.cost_changes.size();
    const uint64_t repriced_before = result.spans_repriced;
    for (size_t i = 0; i < views.size(); ++i) {
      if (trace_rows) {
        AddRowMeta(rows[i], &meta_scratch, &facts);
      } else {
        facts.AddMeta(parsed[i], 0, 0);
      }
      if (!keep[i]) {
        out.removed.push_back(SpanCounts::Of(facts.Facts(facts.metas.size() - 1)));
        continue;
      }
      if (hooks.reprice) {
        const SpanMeta was = facts.metas.back();
        if (hooks.reprice(&parsed[i])) {
          ++result.spans_repriced;
          facts.AddMeta(parsed[i], 0, 0);
          const SpanFacts now = facts.Facts(facts.metas.size() - 1);
          if (now.has_cost != was.has_cost || (now.has_cost && now.cost_usd != was.cost_usd)) {
            CostChange c;
            c.trace = id;
            c.start_ns = now.start_ns;
            StringPool& cp = *result.change_pool;
            c.project = cp.Intern(now.project);
            c.agent = cp.Intern(now.agent_name);
            c.tool = cp.Intern(now.tool_name);
            c.model = cp.Intern(now.model);
            c.service = cp.Intern(now.service);
            c.environment = cp.Intern(now.environment);
            c.status = static_cast<uint8_t>(now.status);
            c.kind = static_cast<uint8_t>(now.kind);
            c.had_cost = was.has_cost;
            c.before = was.has_cost ? was.cost_usd : 0;
            c.has_cost = now.has_cost;
            c.after = now.has_cost ? now.cost_usd : 0;
            result.cost_changes.push_back(c);
          }
          if (!trace_by_ref) {
            storage.emplace_back();
            if (!parsed[i].SerializeToString(&storage.back())) {
              cleanup();
              return Status::Internal("repricing: a repriced span does not serialise");
            }
            views[i] = storage.back();
          }
        }
      }
      if (trace_rows) {
        if (kept_n == kept_rows.size()) kept_rows.emplace_back();
        kept_rows[kept_n++].Swap(rows[i]);
        kept_refs.push_back(std::move(view_refs[i]));
        kept_in.push_back(entries[view_part[i]].part.input);
      } else if (trace_by_ref) {
        if (kept_n == kept_spans.size()) kept_spans.emplace_back();
        kept_spans[kept_n++].Swap(&parsed[i]);
        kept_refs.push_back(std::move(view_refs[i]));
        kept_in.push_back(entries[view_part[i]].part.input);
      } else {
        kept.push_back(views[i]);
      }
      if (view_counted[i]) agg.AddSpan(facts.Facts(facts.metas.size() - 1), &pool);
    }
    result.spans_in += views.size();
    result.duplicates += out.removed.size();
    result.bytes_read += read;
    out.fate = hooks.fate ? hooks.fate(id, agg, pool) : retention::Fate::kFull;
    if (out.fate == retention::Fate::kGone) {  // dropped (deleted on request): nothing to reprice
      result.cost_changes.resize(changes_before);
      result.spans_repriced = repriced_before;
    }
    if (out.fate != retention::Fate::kGone && agg.span_count > 0) {
      if (out.fate == retention::Fate::kSummary) {
        kept.clear();
        kept_n = 0;
        kept_refs.clear();
        kept_in.clear();
      }
      int64_t partition = hooks.partition_of ? hooks.partition_of(id, agg, pool) : 0;
      auto it = open_out.find(partition);
      if (it != open_out.end() && outs[it->second].builder->file_bytes() >= hooks.max_output_bytes) {
        Out& full = outs[it->second];
        auto file = full.builder->Finish();
        if (!file.ok()) {
          cleanup();
          return file.status();
        }
        full.file = std::move(file).value();
        full.done = true;
        open_out.erase(it);
        it = open_out.end();
      }
      if (it == open_out.end()) {
        auto builder = SegmentOutput::Create(hooks.env, hooks.dir, hooks.new_file_number(), covered, hooks.format);
        if (!builder.ok()) {
          cleanup();
          return builder.status();
        }
        outs.push_back(Out{std::move(builder).value(), partition, false, nullptr});
        it = open_out.emplace(partition, outs.size() - 1).first;
      }
      SegmentOutput* builder = outs[it->second].builder.get();
      if (trace_by_ref && builder->format_version() == 1) {
        cleanup();
        return Status::Internal(builder->path() + ": a by-reference merge opened a v1 output");
      }
      if (trace_by_ref) {
        // Each input piece the kept spans name is stored in this output once.
        if (piece_maps.size() <= it->second) piece_maps.resize(it->second + 1);
        auto& maps = piece_maps[it->second];
        if (maps.empty()) maps.resize(inputs.size());
        Status mapped;
        for (size_t k = 0; k < kept_refs.size() && mapped.ok(); ++k) {
          const size_t in = kept_in[k];
          std::vector<uint32_t>& m = maps[in];
          if (m.empty()) m.resize(readers[in]->piece_count(), 0);
          columnar::SpanPayloadRefs& r = kept_refs[k];
          auto map_list = [&](columnar::RefList& l) {
            for (uint32_t& piece : l.pieces) {
              if (!mapped.ok()) return;
              if (piece >= m.size()) {
                mapped = Status::Corruption(inputs[in]->path() + ": payload piece " + std::to_string(piece) +
                                            " out of range");
                return;
              }
              if (m[piece] == 0) {
                std::string_view bytes;
                mapped = fetchers[in]->Get(piece, &bytes);
                if (!mapped.ok()) return;
                m[piece] = builder->AddPayloadPiece(bytes) + 1;
              }
              piece = m[piece] - 1;
            }
          };
          map_list(r.input);
          map_list(r.output);
          for (auto& [attr, l] : r.large) map_list(l);
        }
        if (!mapped.ok()) {
          cleanup();
          return mapped;
        }
      }
      agg_bytes.clear();
      agg.Encode(pool, &agg_bytes);
      const size_t kept_count = trace_by_ref ? kept_n : kept.size();
      if (Status s = trace_rows     ? builder->AddRowTrace(id, kept_rows.data(), kept_n, agg_bytes, agg.start_ns,
                                                           agg.end_ns, &kept_refs)
                     : trace_by_ref ? builder->AddParsedTrace(id, kept_spans.data(), kept_n, agg_bytes, agg.start_ns,
                                                              agg.end_ns, &kept_refs)
                                    : builder->AddTrace(id, kept, agg_bytes, agg.start_ns, agg.end_ns);
          !s.ok()) {
        const bool retry = builder->needs_v1() && hooks.format != SegmentFormat::kV1Rows;
        cleanup();
        if (retry) {  // a span only a row (v1) file can hold: merge again into v1 files
          MergeHooks v1 = hooks;
          v1.format = SegmentFormat::kV1Rows;
          return Merge(std::move(inputs), v1);
        }
        return s.WithContext("writing " + builder->path());
      }
      out.output = static_cast<int>(it->second);
      out.loc = builder->traces().back().loc;
      result.spans_out += kept_count;
    }
    result.traces.push_back(std::move(out));
    throttle.Consumed(read + 1);
    b = e;
  }
  for (auto& o : outs) {
    if (o.done) continue;
    auto file = o.builder->Finish();
    if (!file.ok()) {
      cleanup();
      return file.status();
    }
    o.file = std::move(file).value();
    o.done = true;
  }
  for (auto& o : outs) {
    OutputFile f;
    f.meta.number = o.builder->number();
    f.meta.partition = o.partition;
    f.meta.min_start_ns = o.builder->min_start_ns();
    f.meta.max_end_ns = o.builder->max_end_ns();
    f.meta.spans = o.builder->span_count();
    f.meta.traces = o.builder->traces().size();
    f.meta.bytes = o.builder->file_bytes();
    f.meta.format = o.builder->format_version();
    f.meta.covered_wal = covered;
    f.file = std::move(o.file);
    result.outputs.push_back(std::move(f));
  }
  return result;
}

}  // namespace sightline::store::compaction
