// Operational routes: /healthz (liveness), /readyz (store open and recovered, not
// draining), /metrics (Prometheus text 0.0.4), and / (how to send data, until the
// web UI lands). With auth on, /metrics shows a caller only the samples of the
// projects it may read, plus the server-wide ones.
#include <optional>

#include <boost/beast/http/field.hpp>

#include "api/router.h"
#include "store/columnar/columnar_reader.h"

namespace sightline::api {
namespace {

namespace http = boost::beast::http;

std::string HtmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

// The value of the label `project` in one sample line, or nullopt when it has none.
std::optional<std::string> ProjectLabel(std::string_view line) {
  size_t brace = line.find('{');
  if (brace == std::string_view::npos) return std::nullopt;
  for (size_t at = line.find("project=\"", brace); at != std::string_view::npos; at = line.find("project=\"", at + 1)) {
    if (line[at - 1] != '{' && line[at - 1] != ',') continue;
    std::string value;
    for (size_t i = at + 9; i < line.size(); ++i) {
      char c = line[i];
      if (c == '"') return value;
      if (c == '\\' && i + 1 < line.size()) {
        char e = line[++i];
        value += e == 'n' ? '\n' : e;
      } else {
        value += c;
      }
    }
    return value;  // unterminated: treat what there is as the name
  }
  return std::nullopt;
}

// Drops the samples labelled with a project the caller may not read; server-wide
// samples (no project label) stay.
std::string ScopeMetricsText(const std::string& text, const auth::Principal& caller) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + pos, end - pos);
    bool keep = true;
    if (!line.empty() && line[0] != '#') {
      auto project = ProjectLabel(line);
      keep = !project || caller.CanRead(*project);
    }
    if (keep) {
      out.append(line);
      out.push_back('\n');
    }
    pos = end + 1;
  }
  return out;
}

}  // namespace

HttpResponse ApiRouter::Healthz() { return Json(200, R"({"status":"ok"})"); }

HttpResponse ApiRouter::Readyz() {
  if (draining_.load()) return Json(503, R"({"status":"draining"})");
  store::StoreStats stats = store_->Stats();
  if (!stats.ready) return Json(503, R"({"status":"starting"})");
  if (stats.disk_full) return Json(503, R"({"status":"disk_full"})");
  return Json(200, R"({"status":"ready"})");
}

HttpResponse ApiRouter::MetricsPage(const auth::Principal& caller) {
  std::string text = metrics_->Render();
  MetricsWriter w(&text);
  store::StoreStats s = store_->Stats();
  w.Gauge("sightline_store_queue_depth_bytes", "Bytes appended but not yet durable.",
          static_cast<double>(s.queue_depth_bytes));
  w.Gauge("sightline_store_queue_limit_bytes", "Ingest queue limit (--queue-limit-bytes).",
          static_cast<double>(s.queue_limit_bytes));
  w.Gauge("sightline_store_memtable_bytes", "Bytes held in the memtable.", static_cast<double>(s.memtable_bytes));
  w.Gauge("sightline_store_segments", "Segment files.", static_cast<double>(s.segments));
  w.Gauge("sightline_store_traces", "Traces stored.", static_cast<double>(s.traces));
  w.Counter("sightline_store_spans_written_total", "Spans made durable since start.",
            static_cast<double>(s.spans_written));
  w.Counter("sightline_store_wal_bytes_total", "WAL bytes written since start.", static_cast<double>(s.bytes_written));
  w.Gauge("sightline_store_ready", "1 when the store is open and recovery is done.", s.ready ? 1 : 0);
  w.Counter("sightline_store_compactions_total", "Compactions (merges and retention rewrites) installed since start.",
            static_cast<double>(s.compactions));
  w.Counter("sightline_store_compaction_read_bytes_total", "Segment bytes compactions read since start.",
            static_cast<double>(s.compaction_bytes));
  w.Gauge("sightline_store_compaction_running", "1 while the background compaction is merging segment files.",
          s.compaction_running ? 1 : 0);
  w.Counter("sightline_store_flush_stalls_total",
            "Flushes that waited for compaction because too many segment files were live.",
            static_cast<double>(s.flush_stalls));
  w.Counter("sightline_store_flush_stall_seconds_total", "Time flushes spent waiting for compaction.",
            static_cast<double>(s.flush_stall_ns) / 1e9);
  {
    auto counts = store_->SamplingCounts();
    if (!counts.empty()) {
      w.Header("sightline_sampling_traces_total", "Tail sampling decisions (docs/sampling.md), by project, decision and reason.",
               "counter");
      for (const auto& c : counts)
        w.Sample("sightline_sampling_traces_total",
                 {{"project", c.project}, {"decision", c.kept ? "keep" : "drop"}, {"reason", c.reason}},
                 static_cast<double>(c.traces));
    }
  }
  w.Gauge("sightline_store_disk_full", "1 while the store refuses writes for lack of disk space.", s.disk_full ? 1 : 0);
  {
    auto bc = store::columnar::ColumnarReader::GetBlockCacheStats();
    w.Counter("sightline_block_cache_hits_total", "Segment block reads served from the decoded-block cache.",
              static_cast<double>(bc.hits));
    w.Counter("sightline_block_cache_misses_total", "Segment block reads that decoded the block.",
              static_cast<double>(bc.misses));
    w.Counter("sightline_frame_cache_hits_total",
              "Payload frame reads served from the decoded-block cache (decompressed frames).",
              static_cast<double>(bc.frame_hits));
    w.Counter("sightline_frame_cache_misses_total", "Payload frame reads that decompressed the frame.",
              static_cast<double>(bc.frame_misses));
    w.Gauge("sightline_block_cache_bytes", "Decoded segment blocks and payload frames held in memory (estimate).",
            static_cast<double>(bc.bytes));
    w.Gauge("sightline_block_cache_capacity_bytes", "Decoded-block cache limit (--block-cache-bytes).",
            static_cast<double>(bc.capacity));
  }
  {
    std::vector<double> bounds;
    for (int64_t ns : store::StoreStats::kFsyncBucketsNs) bounds.push_back(static_cast<double>(ns) / 1e9);
    std::vector<uint64_t> counts(bounds.size() + 1, 0);
    uint64_t bucketed = 0;
    for (size_t i = 0; i < s.fsync_latency_buckets.size() && i < counts.size(); ++i) {
      counts[i] = static_cast<uint64_t>(s.fsync_latency_buckets[i]);
      bucketed += counts[i];
    }
    // Fsyncs slower than the last bound land in +Inf.
    uint64_t total = static_cast<uint64_t>(s.fsyncs);
    if (total > bucketed && s.fsync_latency_buckets.size() <= bounds.size()) counts[bounds.size()] += total - bucketed;
    w.Header("sightline_store_fsync_duration_seconds", "WAL fsync latency.", "histogram");
    w.HistogramSamples("sightline_store_fsync_duration_seconds", {}, bounds, counts,
                       static_cast<double>(s.fsync_ns_total) / 1e9, total);
  }
  if (options_.auth != nullptr) {
    // The cap on slow credential hashes (docs/auth.md, "Slow hashes are capped").
    w.Counter("sightline_auth_verifications_refused_total",
              "Credential checks refused with 503 / UNAVAILABLE because every slow-hash slot was taken.",
              static_cast<double>(options_.auth->refused_verifications()));
    w.Counter("sightline_auth_slow_verifications_total", "API key and token secrets checked with the slow hash.",
              static_cast<double>(options_.auth->slow_verifications()));
    w.Gauge("sightline_auth_verifications_in_progress", "Slow-hash credential checks running now.",
            static_cast<double>(options_.auth->verifications_in_progress()));
    w.Gauge("sightline_auth_verification_slots", "Slow-hash credential checks allowed at once.",
            static_cast<double>(options_.auth->max_concurrent_verifications()));
  }
  w.Gauge("sightline_process_resident_memory_bytes", "Resident set size (VmRSS).",
          static_cast<double>(ProcessRssBytes()));
  HttpResponse res{http::status::ok, 11};
  res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
  res.body() = caller.all_projects ? std::move(text) : ScopeMetricsText(text, caller);
  return res;
}

HttpResponse ApiRouter::IndexPage(std::string_view host) {
  std::string http_ep = HtmlEscape("http://" + std::string(host.empty() ? "127.0.0.1:4318" : host));
  std::string grpc_ep = HtmlEscape(options_.grpc_endpoint.empty() ? "(gRPC is off)" : options_.grpc_endpoint);
  std::string html = R"(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sightline</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#222}
code,pre{background:#f3f3f3;border-radius:4px}pre{padding:.75rem;overflow:auto}</style></head>
<body>
<h1>Sightline</h1>
<p>The flight recorder for AI agents is running. Point any OpenTelemetry, OpenInference,
Langfuse or Traceloop/OpenLLMetry exporter here:</p>
<pre>export OTEL_EXPORTER_OTLP_ENDPOINT=)" + http_ep + R"(
export OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf   # or http/json

# or over gRPC:
export OTEL_EXPORTER_OTLP_ENDPOINT=)" + grpc_ep + R"(
export OTEL_EXPORTER_OTLP_PROTOCOL=grpc</pre>
<p>Langfuse SDKs: set the base URL to <code>)" + http_ep + R"(</code> (spans arrive at
<code>/api/public/otel/v1/traces</code>). Set <code>x-sightline-project</code> as a header
to choose the project.</p>
<h2>API</h2>
<ul>
<li><a href="/api/v1/traces">GET /api/v1/traces</a>: search traces
(<code>from, to, project, service, agent, session_id, user_id, status, kind, name, model, tool,
min_duration_ms, max_duration_ms, min_cost_usd, attr.KEY=VALUE, q, limit, cursor</code>)</li>
<li>GET /api/v1/traces/{trace_id}: one trace as a tree</li>
<li>GET /api/v1/traces/{trace_id}/spans/{span_id}: one span with full payloads</li>
<li><a href="/api/v1/sessions">GET /api/v1/sessions</a>: search sessions</li>
<li>GET /api/v1/sessions/{session_id}: one session's traces in order</li>
<li><a href="/api/v1/pricing/models">GET /api/v1/pricing/models</a>: the price catalogue in force;
<a href="/api/v1/pricing/unpriced">GET /api/v1/pricing/unpriced</a>: models seen without a price</li>
<li><a href="/healthz">/healthz</a>, <a href="/readyz">/readyz</a>, <a href="/metrics">/metrics</a></li>
</ul>
<p>From a terminal: <code>sightline traces</code>, <code>sightline trace ID</code>,
<code>sightline demo</code> to send a sample run.</p>
</body></html>
)";
  HttpResponse res{http::status::ok, 11};
  res.set(http::field::content_type, "text/html; charset=utf-8");
  res.body() = std::move(html);
  return res;
}

}  // namespace sightline::api
