// The ingest ceiling on one core: the server's own OTLP protobuf decode and
// normalisation (ingest::DecodeOtlpProtobuf + ingest::NormalizeRequest) over the same
// request bodies the load generator sends. items_per_second is spans/s, bytes_per_second
// wire bytes/s. No network, no store: what end-to-end numbers are measured against.
#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <benchmark/benchmark.h>

#include "common/metrics.h"
#include "ingest/ingest_service.h"
#include "ingest/normalize/normalize.h"
#include "ingest/otlp_decode.h"
#include "ingest/otlp_walk.h"
#include "ingest/otlp_walk_test_util.h"
#include "ingest/request_arena.h"
#include "pipeline/agent_metrics.h"
#include "pipeline/redaction.h"
#include "pipeline/redaction_service.h"
#include "common/mem_env.h"
#include "store/columnar/columnar_builder.h"
#include "store/columnar/columnar_format.h"
#include "store/columnar/columnar_reader.h"
#include "store/compaction/compaction.h"
#include "store/segment/segment_format.h"
#include "store/segment_io.h"
#include "store/shared_payload.h"
#include "store/write_only_store.h"
#include "workload.h"

namespace sightline::bench {
namespace {

// The first n_batches bodies of the workload for variant, encoded once.
const std::vector<std::string>& Bodies(Variant v) {
  static std::vector<std::string> lean, payload;
  std::vector<std::string>& out = v == Variant::kLean ? lean : payload;
  if (out.empty()) {
    WorkloadOptions o;
    o.variant = v;
    o.seed = 1;
    o.batch_spans = 500;
    o.total_spans = v == Variant::kLean ? 40 * 500 : 24 * 500;
    WorkloadGenerator g(o);
    ExportRequest req;
    while (g.NextBatch(&req)) out.push_back(req.SerializeAsString());
  }
  return out;
}

// The workload's requests for variant, decoded and normalised as the server does them
// (received at one fixed time): one vector of canonical spans a request. False, with the
// benchmark marked skipped, when a body does not decode.
bool NormalizedBatches(benchmark::State& state, Variant v, std::vector<std::vector<model::Span>>* out) {
  ingest::NormalizeOptions opts;
  opts.received_ns = 1'767'225'600'000'000'000;
  for (const std::string& body : Bodies(v)) {
    ingest::RequestArena arena;
    ingest::ExportRequest& req = *arena.NewRequest();
    if (Status st = ingest::DecodeOtlpProtobuf(body, &req); !st.ok()) {
      state.SkipWithError(st.ToString().c_str());
      return false;
    }
    out->push_back(std::move(ingest::NormalizeRequest(&req, opts).spans).ToVector());
  }
  return true;
}

void Run(benchmark::State& state, Variant v, bool normalize, bool gzip) {
  std::vector<std::string> bodies = Bodies(v);
  if (gzip)
    for (auto& b : bodies) b = ingest::Gzip(b);
  ingest::NormalizeOptions opts;
  opts.received_ns = 1'767'225'600'000'000'000;
  int64_t spans = 0, bytes = 0;
  size_t i = 0;
  for (auto _ : state) {
    const std::string& body = bodies[i++ % bodies.size()];
    std::string inflated;
    std::string_view proto = body;
    if (gzip) {
      auto r = ingest::GunzipBounded(body, 64u << 20);
      if (!r.ok()) {
        state.SkipWithError(r.status().ToString().c_str());
        return;
      }
      inflated = std::move(r).value();
      proto = inflated;
    }
    // As the server does it (IngestService::Submit): decoded on a RequestArena.
    ingest::RequestArena arena;
    ingest::ExportRequest& req = *arena.NewRequest();
    Status st = ingest::DecodeOtlpProtobuf(proto, &req);
    if (!st.ok()) {
      state.SkipWithError(st.ToString().c_str());
      return;
    }
    int64_t n = 0;
    if (normalize) {
      opts.arena = arena.arena();  // canonical spans on the request's arena, as the server makes them
      ingest::NormalizeResult res = ingest::NormalizeRequest(&req, opts);
      n = static_cast<int64_t>(res.spans.size());
      benchmark::DoNotOptimize(res.spans.pointers().data());
    } else {
      for (const auto& rs : req.resource_spans())
        for (const auto& ss : rs.scope_spans()) n += ss.spans_size();
      benchmark::DoNotOptimize(req);
    }
    spans += n;
    bytes += static_cast<int64_t>(body.size());
  }
  state.SetItemsProcessed(spans);
  state.SetBytesProcessed(bytes);
}

// The agents' metrics on the same spans (IngestService::Submit's extra work per
// request): fold a normalised request into a RequestAgentMetrics, merge it into the
// shared series. Compare its items_per_second with BM_DecodeNormalize_*.
// The HTTP thread's whole share of a request, as the server runs it with its default
// redaction policy: IngestService::Submit (decode, redact, normalise, price-free, agent
// metrics off) down to the WAL record's encoding (EncodedBatch::EncodeRecord, as
// EmbeddedStore::Append does on the caller's thread). received: the record's received
// parts copied from the request's bytes (IngestOptions::copy_received_bytes); otherwise
// every span serialized. Run both in one process to compare.
class EncodingStore : public store::WriteOnlyStore {
 public:
  bool TakesReceivedParts() const override { return true; }
  Status AppendReceived(model::SpanList* spans, const store::ReceivedParts& parts, AppendCallback done) override {
    return Done(batch_.EncodeRecord(spans, parts), done);
  }
  Status AppendSpans(model::SpanList* spans, AppendCallback done) override {
    return Done(batch_.EncodeRecord(spans), done);
  }
  Status Append(std::vector<model::Span>, AppendCallback) override { return Status::Internal("unused"); }
  size_t record_bytes = 0;

 private:
  Status Done(Status st, const AppendCallback& done) {
    record_bytes += batch_.payload.size();
    batch_.payload.clear();  // its capacity serves the next request, as the buffer pool's does
    batch_.strings.clear();
    batch_.metas.clear();
    done(st);
    return Status::OK();
  }
  store::EncodedBatch batch_;
};

void RunSubmit(benchmark::State& state, Variant v, bool received) {
  const std::vector<std::string>& bodies = Bodies(v);
  MemEnv env;
  pipeline::RedactionService::Options ro;
  ro.env = &env;  // the built-in policy, an all-zero key: no files
  auto redaction = pipeline::RedactionService::Create(std::move(ro));
  if (!redaction.ok()) {
    state.SkipWithError(redaction.status().ToString().c_str());
    return;
  }
  EncodingStore store;
  MetricsRegistry metrics;
  ingest::IngestOptions o;
  o.redaction = redaction->get();
  o.copy_received_bytes = received;
  ingest::IngestService service(&store, &metrics, o, &env);
  int64_t spans = 0;
  size_t i = 0;
  for (auto _ : state) {
    ingest::IngestRequest r;
    r.body = bodies[i++ % bodies.size()];  // a copy, as the HTTP server's read makes one (under 1%)
    bool ok = false;
    service.Submit(std::move(r), [&](ingest::IngestResult res) {
      ok = res.status.ok();
      spans += res.accepted;
    });
    if (!ok) {
      state.SkipWithError("a request was not accepted");
      return;
    }
  }
  state.SetItemsProcessed(spans);
  state.counters["record_bytes_per_span"] =
      benchmark::Counter(static_cast<double>(store.record_bytes) / static_cast<double>(std::max<int64_t>(spans, 1)));
}

void RunAgentMetrics(benchmark::State& state, Variant v) {
  std::vector<std::vector<model::Span>> batches;
  if (!NormalizedBatches(state, v, &batches)) return;
  pipeline::AgentMetrics metrics;
  int64_t spans = 0;
  size_t i = 0;
  for (auto _ : state) {
    const auto& spans_of_request = batches[i++ % batches.size()];
    pipeline::RequestAgentMetrics tally;
    tally.AddAll(spans_of_request);
    metrics.Merge(tally);
    spans += static_cast<int64_t>(spans_of_request.size());
  }
  state.SetItemsProcessed(spans);
}

// Redaction's share of ingest (pipeline/redaction.h) with the default policy: every
// string of a decoded request scanned, as IngestService does before normalising. The
// workload holds no secrets, so after the first pass nothing changes and each pass
// measures the scan alone. Compare items_per_second with BM_DecodeNormalize_*.
void RunRedact(benchmark::State& state, Variant v) {
  std::vector<ingest::ExportRequest> requests;
  for (const std::string& body : Bodies(v)) {
    requests.emplace_back();
    if (!ingest::DecodeOtlpProtobuf(body, &requests.back()).ok()) {
      state.SkipWithError("decode failed");
      return;
    }
  }
  auto policy = pipeline::redaction::Policy::Builtin(std::string(32, 'k'));
  if (!policy.ok()) {
    state.SkipWithError(policy.status().ToString().c_str());
    return;
  }
  const auto& p = (*policy)->For("default");
  int64_t spans = 0;
  size_t i = 0;
  for (auto _ : state) {
    ingest::ExportRequest& req = requests[i++ % requests.size()];
    pipeline::redaction::Counts counts;
    for (auto& rs : *req.mutable_resource_spans()) {
      pipeline::redaction::RedactResourceSpans(p, "default", &rs, &counts);
      for (const auto& ss : rs.scope_spans()) spans += ss.spans_size();
    }
    benchmark::DoNotOptimize(counts);
  }
  state.SetItemsProcessed(spans);
}

// ---- The first step of the one-pass ingest path (docs/architecture.md): each request's
// bytes walked once into views (ingest/otlp_walk.h: every resource, scope, span, event
// and link, every attribute down to its value, strings UTF-8 checked), with no protobuf
// objects, arena or copies. What DecodeOtlpProtobuf costs above this is the object
// model's share of the decode. Before timing, each body's views are checked against
// protobuf's parse of it, field for field.
void RunWalk(benchmark::State& state, Variant v) {
  const std::vector<std::string>& bodies = Bodies(v);
  ingest::RequestView view;
  for (const std::string& body : bodies) {
    ExportRequest req;
    if (!req.ParseFromString(body) || !ingest::WalkExportRequest(body, &view)) {
      state.SkipWithError("a body does not parse or walk");
      return;
    }
    if (!ingest::testing::CompareWalkWithParse(view, req).empty()) {
      state.SkipWithError("the walk and protobuf's parse disagree on a body");
      return;
    }
  }
  int64_t spans = 0, bytes = 0;
  size_t i = 0;
  for (auto _ : state) {
    const std::string& body = bodies[i++ % bodies.size()];
    if (!ingest::WalkExportRequest(body, &view)) {
      state.SkipWithError("a body does not walk");
      return;
    }
    benchmark::DoNotOptimize(view.spans.data());
    spans += static_cast<int64_t>(view.spans.size());
    bytes += static_cast<int64_t>(body.size());
  }
  state.SetItemsProcessed(spans);
  state.SetBytesProcessed(bytes);
}

// The flush's share (EmbeddedStore::FlushImmutable -> SegmentOutput::AddDistinctTrace
// -> ColumnarBuilder): the same normalised spans, serialized as the memtable holds them
// and grouped by trace in trace_id order, written as one v2 segment at the flush's zstd
// level into a MemEnv (no disk). items_per_second is spans/s on one core; compare with
// BM_DecodeNormalize_*.
// One segment of all the traces; its size. Not inlined, so that
// `valgrind --tool=callgrind --toggle-collect='*FlushOnce*'` counts the flush alone.
[[gnu::noinline]] Result<uint64_t> FlushOnce(
    const std::map<store::TraceKey, std::vector<std::string>>& traces,
    const std::map<store::TraceKey, std::pair<int64_t, int64_t>>& ranges) {
  MemEnv env;
  SL_RETURN_IF_ERROR(env.CreateDir("/seg"));
  auto b = store::SegmentOutput::Create(&env, "/seg", 1, 1, store::SegmentFormat::kV2Columnar,
                                       store::columnar::kFlushZstdLevel);
  if (!b.ok()) return b.status();
  std::vector<std::string_view> views;
  for (const auto& [k, serialized] : traces) {
    views.assign(serialized.begin(), serialized.end());
    const auto& r = ranges.at(k);
    SL_RETURN_IF_ERROR((*b)->AddDistinctTrace(k, views, {}, r.first, r.second));
  }
  SL_RETURN_IF_ERROR((*b)->Finish().status());
  return (*b)->file_bytes();
}

// records: the spans as the WAL and the memtable hold them, a payload that repeats one
// of the span's attributes kept once (store/shared_payload.h), which is what the flush
// reads; else whole, as before that form (BM_Flush_PayloadWhole compares).
void RunFlush(benchmark::State& state, Variant v, bool records = true) {
  std::map<store::TraceKey, std::vector<std::string>> traces;
  std::map<store::TraceKey, std::pair<int64_t, int64_t>> ranges;
  int64_t total = 0;
  std::vector<std::vector<model::Span>> batches;
  if (!NormalizedBatches(state, v, &batches)) return;
  for (const auto& batch : batches) {
    for (const model::Span& sp : batch) {
      const store::TraceKey k = store::TraceKey::FromBytes(sp.trace_id());
      model::Span record = sp;
      if (records) store::SharePayloads(&record);
      traces[k].push_back(record.SerializeAsString());
      auto [it, fresh] = ranges.try_emplace(k, sp.start_ns(), sp.end_ns());
      if (!fresh) it->second = {std::min(it->second.first, sp.start_ns()), std::max(it->second.second, sp.end_ns())};
      ++total;
    }
  }
  int64_t spans = 0, bytes = 0;
  for (auto _ : state) {
    Result<uint64_t> written = FlushOnce(traces, ranges);
    if (!written.ok()) {
      state.SkipWithError(written.status().ToString().c_str());
      return;
    }
    spans += total;
    bytes += static_cast<int64_t>(*written);
  }
  state.SetItemsProcessed(spans);
  state.SetBytesProcessed(bytes);
}

// A trace read as Q1 makes it (ColumnarReader::ReadTrace, the store's by-id read) from a
// compacted file: the workload's spans written at the compaction's zstd level into a
// MemEnv, traces read round-robin. Cold: the decoded-block cache off, so every read
// decompresses and decodes what it needs (a query for a trace no one read lately);
// warm: the cache on (default size). items_per_second is traces/s.
void RunReadTrace(benchmark::State& state, Variant v, bool cold) {
  static MemEnv env;
  static std::vector<std::shared_ptr<store::columnar::ColumnarReader>> readers(2);
  static std::vector<std::vector<std::pair<uint32_t, uint32_t>>> ranges(2);
  static double bytes_per_span[2] = {0, 0};
  const size_t vi = v == Variant::kLean ? 0 : 1;
  if (!readers[vi]) {
    std::map<store::TraceKey, std::vector<std::string>> traces;
    std::vector<std::vector<model::Span>> batches;
    if (!NormalizedBatches(state, v, &batches)) return;
    for (const auto& batch : batches)
      for (const model::Span& sp : batch)
        traces[store::TraceKey::FromBytes(sp.trace_id())].push_back(sp.SerializeAsString());
    (void)env.CreateDir("/read");
    const std::string name = vi == 0 ? "lean.seg" : "payload.seg";
    auto b = store::columnar::ColumnarBuilder::Create(&env, "/read", name, store::columnar::kZstdLevel);
    if (!b.ok()) {
      state.SkipWithError(b.status().ToString().c_str());
      return;
    }
    std::vector<std::string_view> views;
    for (const auto& [k, serialized] : traces) {
      views.assign(serialized.begin(), serialized.end());
      if (Status st = (*b)->AddTrace(k, views, {}, 0, 0); !st.ok()) {
        state.SkipWithError(st.ToString().c_str());
        return;
      }
    }
    if (Status st = (*b)->Finish(); !st.ok()) {
      state.SkipWithError(st.ToString().c_str());
      return;
    }
    bytes_per_span[vi] = static_cast<double>((*b)->file_bytes()) / static_cast<double>((*b)->row_count());
    auto r = store::columnar::ColumnarReader::Open(&env, "/read/" + name, [&](const store::columnar::TraceEntry& e) {
      ranges[vi].emplace_back(e.first_row, e.row_count);
      return Status::OK();
    });
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      return;
    }
    readers[vi] = std::move(r).value();
  }
  store::columnar::ColumnarReader::SetBlockCacheBytes(cold ? 0 : size_t{256} << 20);
  // A stride through the traces, so that consecutive reads land in different blocks.
  const auto& rs = ranges[vi];
  size_t i = 0;
  int64_t traces = 0, spans = 0;
  std::vector<std::string> out;
  for (auto _ : state) {
    const auto& [first, count] = rs[(i++ * 7919) % rs.size()];
    out.clear();
    if (Status st = readers[vi]->ReadTrace(first, count, &out); !st.ok()) {
      state.SkipWithError(st.ToString().c_str());
      return;
    }
    ++traces;
    spans += static_cast<int64_t>(out.size());
  }
  store::columnar::ColumnarReader::SetBlockCacheBytes(size_t{256} << 20);
  state.SetItemsProcessed(traces);
  state.counters["spans_per_trace"] = traces ? static_cast<double>(spans) / static_cast<double>(traces) : 0;
  state.counters["file_bytes_per_span"] = bytes_per_span[vi];
}

// A compaction's merge (compaction::Merge, as EmbeddedStore::CompactOnce runs it): the
// workload's spans flushed into four files, a quarter of the requests each in arrival
// order (as four memtable flushes would write them), merged into one file in a MemEnv.
// by_reference: payloads carried as reference lists (MergeHooks::by_reference), else
// put together and split again; by_rows: spans carried as the builder's rows
// (MergeHooks::by_rows, the default), else as messages. items_per_second is input
// spans/s on one core.
void RunMerge(benchmark::State& state, Variant v, bool by_reference, bool by_rows = true) {
  static MemEnv env;
  static std::vector<std::shared_ptr<store::SegmentFile>> inputs[2];
  static int64_t input_spans[2] = {0, 0};
  const size_t vi = v == Variant::kLean ? 0 : 1;
  const std::string dir = vi == 0 ? "/merge-lean" : "/merge-payload";
  if (inputs[vi].empty()) {
    std::vector<std::vector<model::Span>> batches;
    if (!NormalizedBatches(state, v, &batches)) return;
    (void)env.CreateDir(dir);
    constexpr size_t kFiles = 4;
    for (size_t f = 0; f < kFiles; ++f) {
      std::map<store::TraceKey, std::vector<std::string>> traces;
      std::map<store::TraceKey, std::pair<int64_t, int64_t>> ranges;
      for (size_t b = f * batches.size() / kFiles; b < (f + 1) * batches.size() / kFiles; ++b) {
        for (const model::Span& sp : batches[b]) {
          const store::TraceKey k = store::TraceKey::FromBytes(sp.trace_id());
          traces[k].push_back(sp.SerializeAsString());
          auto [it, fresh] = ranges.try_emplace(k, sp.start_ns(), sp.end_ns());
          if (!fresh)
            it->second = {std::min(it->second.first, sp.start_ns()), std::max(it->second.second, sp.end_ns())};
          ++input_spans[vi];
        }
      }
      const std::string name = store::segment::SegmentFileName(f + 1);
      auto b = store::columnar::ColumnarBuilder::Create(&env, dir, name, store::columnar::kFlushZstdLevel);
      if (!b.ok()) {
        state.SkipWithError(b.status().ToString().c_str());
        return;
      }
      std::vector<std::string_view> views;
      std::string agg;
      for (const auto& [k, serialized] : traces) {
        views.assign(serialized.begin(), serialized.end());
        const auto& r = ranges.at(k);
        store::TraceAgg a;
        a.span_count = static_cast<int64_t>(serialized.size());
        a.start_ns = r.first;
        a.end_ns = r.second;
        store::StringPool pool;
        agg.clear();
        a.Encode(pool, &agg);
        if (Status st = (*b)->AddTrace(k, views, agg, r.first, r.second); !st.ok()) {
          state.SkipWithError(st.ToString().c_str());
          return;
        }
      }
      if (Status st = (*b)->Finish(); !st.ok()) {
        state.SkipWithError(st.ToString().c_str());
        return;
      }
      auto file = store::OpenSegmentFile(&env, dir + "/" + name, f + 1,
                                         [](const store::SegmentTraceEntry&) { return Status::OK(); });
      if (!file.ok()) {
        state.SkipWithError(file.status().ToString().c_str());
        return;
      }
      inputs[vi].push_back(std::move(file).value());
    }
  }
  uint64_t next_number = 100;
  int64_t spans = 0;
  double out_bytes = 0;
  for (auto _ : state) {
    store::compaction::MergeHooks hooks;
    hooks.env = &env;
    hooks.dir = dir;
    hooks.new_file_number = [&] { return next_number++; };
    hooks.by_reference = by_reference;
    hooks.by_rows = by_rows;
    auto merged = store::compaction::Merge(inputs[vi], hooks);
    if (!merged.ok()) {
      state.SkipWithError(merged.status().ToString().c_str());
      return;
    }
    out_bytes = 0;
    for (const auto& o : merged->outputs) {
      out_bytes += static_cast<double>(o.meta.bytes);
      (void)env.RemoveFile(dir + "/" + store::segment::SegmentFileName(o.meta.number));
    }
    spans += input_spans[vi];
  }
  state.SetItemsProcessed(spans);
  state.counters["output_bytes_per_span"] = input_spans[vi] ? out_bytes / static_cast<double>(input_spans[vi]) : 0;
}

void BM_Merge_Payload_ByReference(benchmark::State& s) { RunMerge(s, Variant::kPayload, true); }
void BM_Merge_Payload_Whole(benchmark::State& s) { RunMerge(s, Variant::kPayload, false); }
void BM_Merge_Lean_ByReference(benchmark::State& s) { RunMerge(s, Variant::kLean, true); }
void BM_Merge_Lean_Whole(benchmark::State& s) { RunMerge(s, Variant::kLean, false); }
void BM_Merge_Payload_Messages(benchmark::State& s) { RunMerge(s, Variant::kPayload, true, false); }
void BM_Merge_Lean_Messages(benchmark::State& s) { RunMerge(s, Variant::kLean, true, false); }

void BM_ReadTrace_Payload_Cold(benchmark::State& s) { RunReadTrace(s, Variant::kPayload, true); }
void BM_ReadTrace_Payload_Warm(benchmark::State& s) { RunReadTrace(s, Variant::kPayload, false); }
void BM_ReadTrace_Lean_Cold(benchmark::State& s) { RunReadTrace(s, Variant::kLean, true); }

void BM_Flush_Lean(benchmark::State& s) { RunFlush(s, Variant::kLean); }
void BM_Flush_Payload(benchmark::State& s) { RunFlush(s, Variant::kPayload); }
void BM_Flush_PayloadWhole(benchmark::State& s) { RunFlush(s, Variant::kPayload, /*records=*/false); }
void BM_Submit_Lean_Received(benchmark::State& s) { RunSubmit(s, Variant::kLean, true); }
void BM_Submit_Lean_Serialized(benchmark::State& s) { RunSubmit(s, Variant::kLean, false); }
void BM_Submit_Payload_Received(benchmark::State& s) { RunSubmit(s, Variant::kPayload, true); }
void BM_Submit_Payload_Serialized(benchmark::State& s) { RunSubmit(s, Variant::kPayload, false); }
void BM_AgentMetrics_Lean(benchmark::State& s) { RunAgentMetrics(s, Variant::kLean); }
void BM_Redact_Lean(benchmark::State& s) { RunRedact(s, Variant::kLean); }
void BM_Redact_Payload(benchmark::State& s) { RunRedact(s, Variant::kPayload); }

void BM_DecodeNormalize_Lean(benchmark::State& s) { Run(s, Variant::kLean, true, false); }
void BM_DecodeNormalize_Payload(benchmark::State& s) { Run(s, Variant::kPayload, true, false); }
void BM_DecodeOnly_Lean(benchmark::State& s) { Run(s, Variant::kLean, false, false); }
void BM_DecodeOnly_Payload(benchmark::State& s) { Run(s, Variant::kPayload, false, false); }
void BM_WalkOnly_Lean(benchmark::State& s) { RunWalk(s, Variant::kLean); }
void BM_WalkOnly_Payload(benchmark::State& s) { RunWalk(s, Variant::kPayload); }
void BM_GunzipDecodeNormalize_Lean(benchmark::State& s) { Run(s, Variant::kLean, true, true); }

BENCHMARK(BM_DecodeNormalize_Lean)->Unit(benchmark::kMicrosecond)->MinTime(1.0);
BENCHMARK(BM_DecodeNormalize_Payload)->Unit(benchmark::kMicrosecond)->MinTime(1.0);
BENCHMARK(BM_DecodeOnly_Lean)->Unit(benchmark::kMicrosecond)->MinTime(0.5);
BENCHMARK(BM_DecodeOnly_Payload)->Unit(benchmark::kMicrosecond)->MinTime(0.5);
BENCHMARK(BM_WalkOnly_Lean)->Unit(benchmark::kMicrosecond)->MinTime(0.5);
BENCHMARK(BM_WalkOnly_Payload)->Unit(benchmark::kMicrosecond)->MinTime(0.5);
BENCHMARK(BM_GunzipDecodeNormalize_Lean)->Unit(benchmark::kMicrosecond)->MinTime(0.5);
BENCHMARK(BM_Submit_Lean_Received)->Unit(benchmark::kMicrosecond)->MinTime(1.0);
BENCHMARK(BM_Submit_Lean_Serialized)->Unit(benchmark::kMicrosecond)->MinTime(1.0);
BENCHMARK(BM_Submit_Payload_Received)->Unit(benchmark::kMicrosecond)->MinTime(1.0);
BENCHMARK(BM_Submit_Payload_Serialized)->Unit(benchmark::kMicrosecond)->MinTime(1.0);
BENCHMARK(BM_AgentMetrics_Lean)->Unit(benchmark::kMicrosecond)->MinTime(0.5);
BENCHMARK(BM_Redact_Lean)->Unit(benchmark::kMicrosecond)->MinTime(0.5);
BENCHMARK(BM_Redact_Payload)->Unit(benchmark::kMicrosecond)->MinTime(0.5);
BENCHMARK(BM_Flush_Lean)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK(BM_Flush_Payload)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK(BM_Flush_PayloadWhole)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK(BM_Merge_Payload_ByReference)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK(BM_Merge_Payload_Whole)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK(BM_Merge_Lean_ByReference)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK(BM_Merge_Lean_Whole)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK(BM_Merge_Payload_Messages)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK(BM_Merge_Lean_Messages)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK(BM_ReadTrace_Payload_Cold)->Unit(benchmark::kMicrosecond)->MinTime(1.0);
BENCHMARK(BM_ReadTrace_Payload_Warm)->Unit(benchmark::kMicrosecond)->MinTime(1.0);
BENCHMARK(BM_ReadTrace_Lean_Cold)->Unit(benchmark::kMicrosecond)->MinTime(1.0);

}  // namespace
}  // namespace sightline::bench

BENCHMARK_MAIN();
