// sightline-loadgen: sends the deterministic agent workload (workload.h) to an OTLP/HTTP
// endpoint as protobuf over keep-alive connections, one blocking thread per connection
// (cheap on a small machine shared with the server), and reports spans/s, MB/s and
// request latency. Bodies are prepared before the clock starts (see BodyPool) so the
// generator is not what is measured. With --ack-log it appends the ids of every span
// the server acknowledged (200, nothing rejected), for the crash test.
#include <signal.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "http_conn.h"
#include "id_offsets.h"
#include "workload.h"

namespace sightline::bench {
namespace {

using Clock = std::chrono::steady_clock;
using ExportResponse = ::opentelemetry::proto::collector::trace::v1::ExportTraceServiceResponse;

std::atomic<bool> g_stop{false};
extern "C" void OnSignal(int) { g_stop.store(true); }

struct Config {
  std::string url = "http://127.0.0.1:4318/v1/traces";
  int connections = 4;
  int64_t spans = 1'000'000;
  int batch = 500;
  std::string variant = "lean";
  uint64_t seed = 1;
  double duration_s = 0;
  bool gzip = false;
  int gzip_level = 1;
  std::string ack_log;
  bool json = false;
  int64_t pool_mb = 256;
  int64_t start_ns = -1;
  double give_up_s = 60;
  double timeout_s = 60;
  std::string project;
  double rate = 0;  // spans per second over all connections; 0: as fast as the server answers
};

std::string GzipBytes(std::string_view in, int level) {
  z_stream zs{};
  deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, static_cast<uLong>(in.size())) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

// One encoded request body and where its span ids sit.
struct Body {
  std::string raw;
  std::string gz;  // pre-compressed raw (pool mode "all" with --gzip)
  std::vector<IdOffsets> ids;
};

// The bodies to send. Three modes, chosen before the clock starts:
//  all    - the whole workload fits the pool budget: every body pre-encoded, sent once.
//  cycled - it does not: a pool of distinct bodies is pre-encoded and cycled; from the
//           second pass on, each copy's ids are rewritten (RewriteIds), so every span
//           the server receives is new and parent links stay intact. It sends
//           ceil(spans / batch) full bodies (spans rounded up to whole batches).
//  stream - --pool-mb 0: a producer thread generates bodies into a bounded queue.
// Thread-safety: Get() may be called from any thread.
class BodySource {
 public:
  BodySource(const Config& c, const WorkloadOptions& wo) : c_(c), gen_(wo) {}
  ~BodySource() {
    {
      std::lock_guard<std::mutex> l(mu_);
      producer_done_ = true;
      cv_.notify_all();
    }
    if (producer_.joinable()) producer_.join();
  }

  // Prepares the pool or starts the producer; returns a line describing what it did.
  std::string Prepare() {
    const auto t0 = Clock::now();
    if (c_.pool_mb == 0) {
      mode_ = "stream";
      producer_ = std::thread([this] { Produce(); });
      return "streaming: a generator thread encodes bodies into a bounded queue of 32 while sending";
    }
    const int64_t budget = c_.pool_mb << 20;
    int64_t bytes = 0, spans = 0;
    ExportRequest req;
    while (bytes < budget && gen_.NextBatch(&req)) {
      Body b;
      req.SerializeToString(&b.raw);
      if (!FindSpanIds(b.raw, &b.ids)) {
        std::fprintf(stderr, "loadgen: internal error: cannot locate span ids in a generated body\n");
        std::exit(1);
      }
      spans += static_cast<int64_t>(b.ids.size());
      bytes += static_cast<int64_t>(b.raw.size());
      pool_.push_back(std::move(b));
    }
    exhausted_ = !gen_.NextBatch(&req);
    mode_ = exhausted_ ? "all" : "cycled";
    if (c_.gzip && exhausted_)
      for (auto& b : pool_) b.gz = GzipBytes(b.raw, c_.gzip_level);
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    char line[512];
    std::snprintf(line, sizeof line, "pre-encoded %zu distinct bodies (%lld spans, %.1f MB) in %.1f s; %s",
                  pool_.size(), static_cast<long long>(spans), static_cast<double>(bytes) / 1e6, secs,
                  exhausted_ ? "each sent once (the whole workload)"
                             : "cycling them with rewritten ids (every span sent is new)");
    return line;
  }

  // Request i's body. raw: uncompressed bytes with ids at *ids; wire: what to send.
  struct Prepared {
    std::string owned_raw, owned_gz;
    const std::string* raw = nullptr;
    const std::vector<IdOffsets>* ids = nullptr;
    std::vector<IdOffsets> owned_ids;
    std::string_view wire;
  };
  bool Get(uint64_t i, Prepared* p) {
    if (mode_ == "stream") {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [&] { return !queue_.empty() || producer_finished_; });
      if (queue_.empty()) return false;
      Body b = std::move(queue_.front());
      queue_.pop_front();
      cv_.notify_all();
      l.unlock();
      p->owned_raw = std::move(b.raw);
      p->owned_ids = std::move(b.ids);
      p->raw = &p->owned_raw;
      p->ids = &p->owned_ids;
    } else {
      if (pool_.empty() || (exhausted_ && i >= pool_.size())) return false;
      if (c_.spans > 0 && i >= static_cast<uint64_t>((c_.spans + c_.batch - 1) / c_.batch)) return false;
      const Body& b = pool_[i % pool_.size()];
      const uint64_t round = i / pool_.size();
      p->ids = &b.ids;
      if (round == 0) {
        p->raw = &b.raw;
        if (!b.gz.empty()) {
          p->wire = b.gz;
          return true;
        }
      } else {
        p->owned_raw = b.raw;
        RewriteIds(&p->owned_raw, b.ids, round);
        p->raw = &p->owned_raw;
      }
    }
    if (c_.gzip) {
      p->owned_gz = GzipBytes(*p->raw, c_.gzip_level);
      p->wire = p->owned_gz;
    } else {
      p->wire = *p->raw;
    }
    return true;
  }

  // "all", "cycled" or "stream" (see the class comment).
  const std::string& mode() const { return mode_; }

 private:
  void Produce() {
    ExportRequest req;
    while (true) {
      {
        std::unique_lock<std::mutex> l(mu_);
        cv_.wait(l, [&] { return queue_.size() < 32 || producer_done_; });
        if (producer_done_) break;
      }
      if (!gen_.NextBatch(&req)) break;
      Body b;
      req.SerializeToString(&b.raw);
      if (!FindSpanIds(b.raw, &b.ids)) break;
      std::lock_guard<std::mutex> l(mu_);
      queue_.push_back(std::move(b));
      cv_.notify_all();
    }
    std::lock_guard<std::mutex> l(mu_);
    producer_finished_ = true;
    cv_.notify_all();
  }

  const Config& c_;
  WorkloadGenerator gen_;
  std::string mode_;
  std::vector<Body> pool_;
  bool exhausted_ = false;
  std::thread producer_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Body> queue_;        // guarded by mu_
  bool producer_done_ = false;    // guarded by mu_: stop asked
  bool producer_finished_ = false;  // guarded by mu_
};

// Appends acknowledged span ids, "trace_id_hex span_id_hex\n", flushed per request.
class AckLog {
 public:
  bool Open(const std::string& path) {
    f_ = std::fopen(path.c_str(), "a");
    return f_ != nullptr;
  }
  ~AckLog() {
    if (f_) std::fclose(f_);
  }
  void Append(const std::string& raw, const std::vector<IdOffsets>& ids) {
    if (!f_) return;
    static const char* kHex = "0123456789abcdef";
    std::string out;
    out.reserve(ids.size() * 50);
    auto hex = [&](size_t off, size_t n) {
      for (size_t i = 0; i < n; ++i) {
        const auto c = static_cast<unsigned char>(raw[off + i]);
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
      }
    };
    for (const auto& id : ids) {
      hex(id.trace_id, 16);
      out.push_back(' ');
      hex(id.span_id, 8);
      out.push_back('\n');
    }
    std::lock_guard<std::mutex> l(mu_);
    std::fwrite(out.data(), 1, out.size(), f_);
    std::fflush(f_);
  }

 private:
  std::mutex mu_;
  std::FILE* f_ = nullptr;
};

struct Stats {
  int64_t requests = 0, acked_spans = 0, wire_bytes = 0, raw_bytes = 0;
  int64_t throttled = 0, conn_errors = 0, http_errors = 0, partial = 0, rejected_spans = 0, abandoned = 0;
  std::vector<double> latency_ms;
  std::string first_error;
  void Merge(const Stats& o) {
    requests += o.requests;
    acked_spans += o.acked_spans;
    wire_bytes += o.wire_bytes;
    raw_bytes += o.raw_bytes;
    throttled += o.throttled;
    conn_errors += o.conn_errors;
    http_errors += o.http_errors;
    partial += o.partial;
    rejected_spans += o.rejected_spans;
    abandoned += o.abandoned;
    latency_ms.insert(latency_ms.end(), o.latency_ms.begin(), o.latency_ms.end());
    if (first_error.empty()) first_error = o.first_error;
  }
};

struct Shared {
  const Config* c;
  HttpUrl url;
  BodySource* source;
  AckLog* ack;
  std::atomic<uint64_t> next{0};
  Clock::time_point deadline = Clock::time_point::max();
  // --rate: the earliest time the next request may start. A request that could not be
  // sent on time (the server was down) does not earn a burst later.
  std::mutex pace_mu;
  Clock::time_point next_slot = Clock::time_point::min();
  std::atomic<bool> gave_up{false};
};

void RunConnection(Shared* sh, Stats* st) {
  const Config& c = *sh->c;
  HttpConn conn(sh->url.host, sh->url.port,
                std::chrono::milliseconds(static_cast<int64_t>(c.timeout_s * 1000)));
  BodySource::Prepared p;
  HttpReply reply;
  std::string error;
  const std::string_view encoding = c.gzip ? "gzip" : "";
  while (!g_stop.load() && !sh->gave_up.load() && Clock::now() < sh->deadline) {
    if (c.rate > 0) {
      const auto interval = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(c.batch / c.rate));
      Clock::time_point slot;
      {
        std::lock_guard<std::mutex> l(sh->pace_mu);
        slot = std::max(Clock::now(), sh->next_slot);
        sh->next_slot = slot + interval;
      }
      while (!g_stop.load() && Clock::now() < slot)
        std::this_thread::sleep_for(std::min<Clock::duration>(slot - Clock::now(), std::chrono::milliseconds(50)));
      if (g_stop.load()) break;
    }
    const uint64_t i = sh->next.fetch_add(1);
    p = BodySource::Prepared();
    if (!sh->source->Get(i, &p)) break;
    auto last_progress = Clock::now();
    auto backoff = std::chrono::milliseconds(20);
    bool done = false;
    while (!done) {
      if (g_stop.load() || Clock::now() >= sh->deadline ||
          Clock::now() - last_progress > std::chrono::duration<double>(c.give_up_s)) {
        if (Clock::now() - last_progress > std::chrono::duration<double>(c.give_up_s)) sh->gave_up.store(true);
        ++st->abandoned;
        break;
      }
      const auto t0 = Clock::now();
      if (!conn.Exchange("POST", sh->url.target, "application/x-protobuf", encoding, p.wire, &reply, &error)) {
        ++st->conn_errors;
        if (st->first_error.empty()) st->first_error = error;
        std::this_thread::sleep_for(backoff);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(500));
        continue;
      }
      const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      ++st->requests;
      if (reply.status == 429 || reply.status == 503) {
        ++st->throttled;
        last_progress = Clock::now();
        double wait = 1.0;
        if (!reply.retry_after.empty()) wait = std::clamp(std::atof(reply.retry_after.c_str()), 0.05, 30.0);
        std::this_thread::sleep_for(std::chrono::duration<double>(wait));
        continue;
      }
      done = true;
      if (reply.status != 200) {
        ++st->http_errors;
        if (st->first_error.empty())
          st->first_error = "HTTP " + std::to_string(reply.status) + ": " + reply.body.substr(0, 300);
        break;
      }
      ExportResponse resp;
      if (!resp.ParseFromString(reply.body)) {
        ++st->http_errors;
        if (st->first_error.empty()) st->first_error = "200 with an unparseable ExportTraceServiceResponse";
        break;
      }
      if (resp.partial_success().rejected_spans() > 0) {
        ++st->partial;
        st->rejected_spans += resp.partial_success().rejected_spans();
        if (st->first_error.empty()) st->first_error = "partial success: " + resp.partial_success().error_message();
        break;
      }
      st->latency_ms.push_back(ms);
      st->acked_spans += static_cast<int64_t>(p.ids->size());
      st->wire_bytes += static_cast<int64_t>(p.wire.size());
      st->raw_bytes += static_cast<int64_t>(p.raw->size());
      sh->ack->Append(*p.raw, *p.ids);
    }
  }
}

double Percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const size_t i = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size()))) - 1;
  return sorted[std::min(i, sorted.size() - 1)];
}

int Main(int argc, char** argv) {
  Config c;
  CLI::App app{"sightline-loadgen: send a realistic agent workload to an OTLP/HTTP endpoint"};
  app.add_option("--url", c.url, "OTLP/HTTP traces endpoint")->capture_default_str();
  app.add_option("--connections", c.connections, "keep-alive connections (one thread each)")
      ->check(CLI::Range(1, 256))->capture_default_str();
  app.add_option("--spans", c.spans, "spans in the workload (0: unbounded, use --duration)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  app.add_option("--batch", c.batch, "spans per request")->check(CLI::Range(1, 100000))->capture_default_str();
  app.add_option("--variant", c.variant, "lean | payload")->check(CLI::IsMember({"lean", "payload"}))
      ->capture_default_str();
  app.add_option("--seed", c.seed, "workload seed (same seed, same bytes)")->capture_default_str();
  app.add_option("--duration", c.duration_s, "stop sending after this many seconds (0: no limit)")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--gzip", c.gzip, "send Content-Encoding: gzip");
  app.add_option("--gzip-level", c.gzip_level, "zlib level")->check(CLI::Range(1, 9))->capture_default_str();
  app.add_option("--ack-log", c.ack_log, "append acknowledged span ids (trace_id span_id, hex) to this file");
  app.add_flag("--json", c.json, "print the result as one JSON object");
  app.add_option("--pool-mb", c.pool_mb, "memory for pre-encoded bodies (0: generate while sending)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  app.add_option("--start-ns", c.start_ns, "Unix ns of the workload's first span (default: now - 1 h; "
                                           "set it for byte-identical runs)");
  app.add_option("--give-up", c.give_up_s, "abort when no request succeeded for this many seconds")
      ->capture_default_str();
  app.add_option("--timeout", c.timeout_s, "per-request timeout, seconds")->capture_default_str();
  app.add_option("--rate", c.rate, "at most this many spans per second over all connections (0: no limit)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  Shared sh;
  sh.c = &c;
  std::string error;
  if (!ParseHttpUrl(c.url, &sh.url, &error)) {
    std::fprintf(stderr, "loadgen: --url: %s\n", error.c_str());
    return 2;
  }
  if (c.spans == 0 && c.duration_s == 0) {
    std::fprintf(stderr, "loadgen: --spans 0 (unbounded) needs --duration\n");
    return 2;
  }
  WorkloadOptions wo;
  wo.seed = c.seed;
  wo.variant = *ParseVariant(c.variant);
  wo.total_spans = c.spans;
  wo.batch_spans = c.batch;
  if (c.start_ns >= 0) {
    wo.start_unix_ns = c.start_ns;
  } else {
    const int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now().time_since_epoch()).count();
    wo.start_unix_ns = (now_s - 3600) * 1'000'000'000LL;
  }
  AckLog ack;
  if (!c.ack_log.empty() && !ack.Open(c.ack_log)) {
    std::fprintf(stderr, "loadgen: cannot open --ack-log %s\n", c.ack_log.c_str());
    return 1;
  }
  signal(SIGINT, OnSignal);
  signal(SIGTERM, OnSignal);
  signal(SIGPIPE, SIG_IGN);

  BodySource source(c, wo);
  const std::string prepared = source.Prepare();
  if (!c.json) std::fprintf(stderr, "loadgen: %s\n", prepared.c_str());
  sh.source = &source;
  sh.ack = &ack;
  const auto t0 = Clock::now();
  if (c.duration_s > 0) sh.deadline = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(c.duration_s));
  std::vector<Stats> stats(static_cast<size_t>(c.connections));
  std::vector<std::thread> threads;
  for (int i = 0; i < c.connections; ++i) threads.emplace_back(RunConnection, &sh, &stats[static_cast<size_t>(i)]);
  for (auto& t : threads) t.join();
  const double secs = std::max(1e-9, std::chrono::duration<double>(Clock::now() - t0).count());

  Stats all;
  for (const auto& s : stats) all.Merge(s);
  std::sort(all.latency_ms.begin(), all.latency_ms.end());
  const double p50 = Percentile(all.latency_ms, 0.5), p99 = Percentile(all.latency_ms, 0.99);
  const double pmax = all.latency_ms.empty() ? 0 : all.latency_ms.back();
  const double sps = static_cast<double>(all.acked_spans) / secs;
  const double mbps = static_cast<double>(all.wire_bytes) / 1e6 / secs;
  const double raw_mbps = static_cast<double>(all.raw_bytes) / 1e6 / secs;
  const int64_t errors = all.http_errors + all.partial + all.abandoned;
  if (c.json) {
    std::string first = all.first_error;
    for (char& ch : first)
      if (ch == '"' || ch == '\\' || static_cast<unsigned char>(ch) < 0x20) ch = ' ';
    std::printf(
        "{\"variant\":\"%s\",\"seed\":%llu,\"connections\":%d,\"batch\":%d,\"gzip\":%s,\"mode\":\"%s\","
        "\"elapsed_s\":%.3f,\"acked_spans\":%lld,\"requests\":%lld,\"spans_per_s\":%.0f,\"mb_per_s\":%.2f,"
        "\"raw_mb_per_s\":%.2f,\"wire_bytes\":%lld,\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"max_ms\":%.2f,"
        "\"throttled\":%lld,\"conn_errors\":%lld,\"http_errors\":%lld,\"partial\":%lld,\"rejected_spans\":%lld,"
        "\"abandoned\":%lld,\"stopped_by_signal\":%s,\"first_error\":\"%s\"}\n",
        c.variant.c_str(), static_cast<unsigned long long>(c.seed), c.connections, c.batch,
        c.gzip ? "true" : "false", source.mode().c_str(), secs, static_cast<long long>(all.acked_spans),
        static_cast<long long>(all.requests), sps, mbps, raw_mbps, static_cast<long long>(all.wire_bytes), p50,
        p99, pmax, static_cast<long long>(all.throttled), static_cast<long long>(all.conn_errors),
        static_cast<long long>(all.http_errors), static_cast<long long>(all.partial),
        static_cast<long long>(all.rejected_spans), static_cast<long long>(all.abandoned),
        g_stop.load() ? "true" : "false", first.c_str());
  } else {
    std::printf("variant %s, %d connections, batch %d%s, bodies: %s\n", c.variant.c_str(), c.connections, c.batch,
                c.gzip ? ", gzip" : "", prepared.c_str());
    std::printf("acknowledged %lld spans in %lld requests over %.2f s\n", static_cast<long long>(all.acked_spans),
                static_cast<long long>(all.requests), secs);
    std::printf("throughput  %.0f spans/s, %.1f MB/s on the wire (%.1f MB/s uncompressed)\n", sps, mbps, raw_mbps);
    std::printf("latency     p50 %.1f ms, p99 %.1f ms, max %.1f ms\n", p50, p99, pmax);
    std::printf("throttled (429/503) %lld, connection errors %lld, HTTP errors %lld, partial %lld "
                "(%lld spans rejected), abandoned %lld\n",
                static_cast<long long>(all.throttled), static_cast<long long>(all.conn_errors),
                static_cast<long long>(all.http_errors), static_cast<long long>(all.partial),
                static_cast<long long>(all.rejected_spans), static_cast<long long>(all.abandoned));
    if (!all.first_error.empty()) std::printf("first error: %s\n", all.first_error.c_str());
  }
  if (sh.gave_up.load()) {
    std::fprintf(stderr, "loadgen: gave up: no request succeeded for %.1f s (%s)\n", c.give_up_s,
                 all.first_error.c_str());
    return 1;
  }
  return errors > 0 && !g_stop.load() ? 1 : 0;
}

}  // namespace
}  // namespace sightline::bench

int main(int argc, char** argv) { return sightline::bench::Main(argc, argv); }
