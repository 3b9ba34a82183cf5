// rollup_bench: what rollups buy and what they cost (docs/architecture.md "Rollups").
//
//   rollup_bench [--spans 10000000] [--days 7] [--ab-spans 1000000] [--runs 5] [--dir DIR]
//
// 1. Ingest cost, live (runs starting over the last hour): the store's Append path
//    (serialise, WAL write, apply to memtable, trace index and rollup delta; fsync
//    never, so the disk is not what is measured) with rollups on and off, alternately, on the same pre-built spans: spans/s and the
//    process CPU per span; and the fold alone (RollupTable::Add per span).
// 2. Dashboard: loads --spans spans spread over the last --days days straight through
//    EmbeddedStore::Append (not HTTP), flushes, then times the dashboard's page load:
//    the store queries behind the 15 metrics requests ui/src/pages/DashboardPage.tsx
//    makes for the 7-day range (as src/api/metrics_handlers.cc builds them; JSON
//    encoding left out), each the median of --runs, answered as the store chooses
//    (rollups) and with AggregateQuery::allow_rollups off (span and trace-index scans).
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "store/embedded_store.h"
#include "store/span_codec.h"

using namespace sightline;
using Clock = std::chrono::steady_clock;

namespace {

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Id(uint64_t n, size_t len, uint8_t tag) {
  std::string s(len, '\0');
  for (size_t i = 0; i < 8 && i < len; ++i) s[len - 1 - i] = static_cast<char>(n >> (8 * i));
  s[0] = static_cast<char>(tag);
  return s;
}

// One agent run of 10 spans: an agent root, five model calls, four tool calls, with
// the dimensions a dashboard groups by, shaped like a deployment: 8 agents, each in
// one service (of 3) and project (of 2), in prod or staging, calling 4 of the 12 tools
// and 2 of the 5 models; 500 users, sessions of 4 runs.
void MakeTrace(uint64_t trace, int64_t start, std::mt19937_64& rng, std::vector<model::Span>* out) {
  const uint64_t a = rng() % 8;
  const std::string agent = "agent-" + std::to_string(a), service = "svc-" + std::to_string(a % 3),
                    env = rng() % 4 ? "prod" : "staging", user = "user-" + std::to_string(rng() % 500),
                    session = "session-" + std::to_string(trace / 4), project = a == 7 ? "audit" : "default";
  const bool failed = rng() % 20 == 0, interrupted = rng() % 50 == 0;
  int64_t t = start;
  for (int k = 0; k < 10; ++k) {
    model::Span s;
    s.set_trace_id(Id(trace, 16, 0x7a));
    s.set_span_id(Id(trace * 16 + static_cast<uint64_t>(k), 8, 0x41));
    if (k) s.set_parent_span_id(Id(trace * 16, 8, 0x41));
    s.set_project(project);
    s.set_service(service);
    s.set_environment(env);
    s.set_user_id(user);
    s.set_session_id(session);
    s.set_agent_name(agent);
    const auto dur = static_cast<int64_t>(std::lognormal_distribution<double>(k ? 19.5 : 21.5, 0.8)(rng));
    s.set_start_ns(k ? t : start);
    s.set_end_ns((k ? t : start) + dur);
    if (k == 0) {
      s.set_name("invoke_agent " + agent);
      s.set_kind(model::v1::KIND_AGENT);
      s.set_status(failed ? model::v1::STATUS_ERROR : interrupted ? model::v1::STATUS_INTERRUPT : model::v1::STATUS_OK);
    } else if (k % 2) {
      const std::string m = "model-" + std::to_string((a + rng() % 2) % 5);
      s.set_name("chat " + m);
      s.set_kind(model::v1::KIND_LLM);
      s.set_model(m);
      s.set_provider("openai");
      s.set_input_tokens(static_cast<int64_t>(500 + rng() % 4000));
      s.set_output_tokens(static_cast<int64_t>(20 + rng() % 800));
      if (rng() % 3 == 0) s.set_cache_read_tokens(static_cast<int64_t>(rng() % 2000));
      s.set_cost_usd(static_cast<double>(s.input_tokens()) * 2.5e-6 + static_cast<double>(s.output_tokens()) * 1e-5);
      s.set_finish_reason(rng() % 25 == 0 ? "length" : "stop");
      s.set_status(rng() % 40 == 0 ? model::v1::STATUS_ERROR : model::v1::STATUS_OK);
    } else {
      const std::string tool = "tool-" + std::to_string((a * 3 + rng() % 4) % 12);
      s.set_name("execute_tool " + tool);
      s.set_kind(model::v1::KIND_TOOL);
      s.set_tool_name(tool);
      s.set_status(rng() % 12 == 0 ? model::v1::STATUS_ERROR : model::v1::STATUS_OK);
    }
    t += dur / 2;
    out->push_back(std::move(s));
  }
}

// Appends batches (500 spans each) as fast as the store takes them; returns once all
// are acknowledged.
void AppendAll(store::EmbeddedStore* st, std::vector<std::vector<model::Span>>* batches) {
  std::atomic<int64_t> pending{0};
  for (auto& b : *batches) {
    for (;;) {
      ++pending;
      Status s = st->Append(std::move(b), [&pending](Status r) {
        if (!r.ok()) std::fprintf(stderr, "rollup_bench: append failed: %s\n", r.ToString().c_str());
        --pending;
      });
      if (s.ok()) break;
      --pending;
      if (s.code() != StatusCode::kResourceExhausted) {
        std::fprintf(stderr, "rollup_bench: %s\n", s.ToString().c_str());
        std::exit(1);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  while (pending.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

store::EmbeddedStoreOptions StoreOptions(const std::string& dir, bool rollups) {
  store::EmbeddedStoreOptions o;
  o.dir = dir;
  o.fsync = store::FsyncPolicy::kNever;
  o.rollups.enabled = rollups;
  o.compaction.enabled = false;  // steady figures; compaction is measured elsewhere
  o.logger = [](const std::string&) {};
  return o;
}

std::unique_ptr<store::EmbeddedStore> Open(const store::EmbeddedStoreOptions& o) {
  auto s = store::EmbeddedStore::Open(o);
  if (!s.ok()) {
    std::fprintf(stderr, "rollup_bench: open %s: %s\n", o.dir.c_str(), s.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(s).value();
}

struct Request {
  std::string label;
  std::vector<store::AggregateQuery> queries;  // what the metrics handler asks the store
};

// The dashboard's page load for the 7-day range (ui/src/pages/DashboardPage.tsx, group
// by agent), as src/api/metrics_handlers.cc turns each request into store queries, plus
// the tool grouping's three span-level charts.
std::vector<Request> Dashboard(int64_t from_ns, int64_t to_ns) {
  using store::AggDim;
  using store::AggLevel;
  const int64_t six_hours = int64_t{6} * 3600 * 1'000'000'000;
  auto q = [&](AggLevel level, std::vector<AggDim> dims, uint32_t sketches) {
    store::AggregateQuery a;
    a.level = level;
    a.filter.from_ns = from_ns;
    a.filter.to_ns = to_ns;
    a.group_by = std::move(dims);
    a.sketches = sketches;
    if (std::find(a.group_by.begin(), a.group_by.end(), AggDim::kTime) != a.group_by.end()) a.bucket_ns = six_hours;
    return a;
  };
  const uint32_t dur = store::kSketchDuration, cost = store::kSketchCost, steps = store::kSketchSteps;
  std::vector<Request> r;
  r.push_back({"overview", {q(AggLevel::kTrace, {}, dur | cost | steps), q(AggLevel::kSpan, {AggDim::kKind}, 0)}});
  r.push_back({"timeseries runs by status", {q(AggLevel::kTrace, {AggDim::kStatus, AggDim::kTime}, 0)}});
  r.push_back({"timeseries p95 by agent", {q(AggLevel::kTrace, {AggDim::kAgent, AggDim::kTime}, dur)}});
  r.push_back({"timeseries error rate by agent", {q(AggLevel::kTrace, {AggDim::kAgent, AggDim::kTime}, 0)}});
  r.push_back({"timeseries tokens by agent", {q(AggLevel::kTrace, {AggDim::kAgent, AggDim::kTime}, 0)}});
  r.push_back({"distribution steps", {q(AggLevel::kTrace, {}, steps)}});
  for (const char* p : {"p50", "p95", "p99"})
    r.push_back({std::string("top tool duration ") + p, {q(AggLevel::kSpan, {AggDim::kTool}, dur | cost)}});
  for (const char* p : {"p50", "p95", "p99"})
    r.push_back({std::string("top agent duration ") + p, {q(AggLevel::kTrace, {AggDim::kAgent}, dur | cost)}});
  auto trunc = q(AggLevel::kSpan, {AggDim::kModel}, cost);
  trunc.filter.kind = model::v1::KIND_LLM;
  r.push_back({"top model truncation (kind=llm)", {trunc}});
  // metric=cost: the handler asks the store for the top `limit` (the UI's 1000) by cost.
  for (auto [label, dim] : {std::pair{"top session cost", AggDim::kSession}, {"top user cost", AggDim::kUser}}) {
    auto t = q(AggLevel::kTrace, {dim}, cost);
    t.order = store::AggOrder::kCost;
    t.limit = 1000;
    r.push_back({label, {t}});
  }
  for (const char* m : {"p95", "error rate", "tokens"}) {
    auto t = q(AggLevel::kSpan, {AggDim::kTool, AggDim::kTime}, std::string(m) == "p95" ? dur : 0);
    t.filter.kind = model::v1::KIND_TOOL;
    r.push_back({std::string("(tool view) ") + m + " by tool", {t}});
  }
  return r;
}

// Median wall time of `runs` answers, in ms (NaN when the store refuses the query, the
// reason in *error), and in *cpu_ms the median process CPU time of one answer (steadier
// than wall time on a shared machine). *rollups: whether every query of the request
// came from rollups.
double TimeRequest(store::SpanStore* st, const Request& r, int runs, bool* rollups, std::string* error,
                   double* cpu_ms = nullptr) {
  std::vector<double> ms, cpu;
  *rollups = true;
  for (int i = 0; i < runs; ++i) {
    const double c0 = CpuSeconds();
    auto t0 = Clock::now();
    for (const auto& q : r.queries) {
      auto res = st->Aggregate(q);
      if (!res.ok()) {
        *error = res.status().ToString();
        return NAN;
      }
      *rollups &= res->from_rollups;
    }
    ms.push_back(Seconds(Clock::now() - t0) * 1e3);
    cpu.push_back((CpuSeconds() - c0) * 1e3);
  }
  std::sort(ms.begin(), ms.end());
  std::sort(cpu.begin(), cpu.end());
  if (cpu_ms) *cpu_ms = cpu[cpu.size() / 2];
  return ms[ms.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"rollup_bench: rollups' ingest cost and the dashboard's queries over many spans"};
  int64_t spans = 10'000'000, ab_spans = 1'000'000;
  int days = 7, runs = 5;
  std::string dir = "/tmp/rollup-bench";
  app.add_option("--spans", spans, "spans loaded for the dashboard queries");
  app.add_option("--days", days, "spread over the last N days");
  app.add_option("--ab-spans", ab_spans, "spans per ingest A/B run");
  app.add_option("--runs", runs, "timed runs per query (median)");
  app.add_option("--dir", dir, "scratch directory (emptied)");
  CLI11_PARSE(app, argc, argv);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const int64_t now = NowNs(), range = int64_t{days} * 86400 * 1'000'000'000;

  // ---- 1. Ingest cost, A/B (--ab-spans 0 leaves it out).
  std::mt19937_64 rng(1);
  if (ab_spans > 0) {
    std::vector<model::Span> ab;
    // Live ingest: runs start in time order over the last hour, as they arrive.
    const int64_t hour = int64_t{3600} * 1'000'000'000, runs_ab = ab_spans / 10;
    for (int64_t t = 0; static_cast<int64_t>(ab.size()) < ab_spans; ++t)
      MakeTrace(static_cast<uint64_t>(t + 1), now - hour + t * hour / std::max<int64_t>(1, runs_ab), rng, &ab);
    std::printf("rollups at ingest: %lld spans per run (runs starting over the last hour, in order), 500 per Append, "
                "fsync never, %u cores\n",
                static_cast<long long>(ab.size()), std::thread::hardware_concurrency());
    std::map<bool, std::vector<double>> sps, cpu_us;
    for (int round = 0; round < 3; ++round) {
      for (bool on : {true, false}) {
        std::vector<std::vector<model::Span>> batches;
        for (size_t i = 0; i < ab.size(); i += 500)
          batches.emplace_back(ab.begin() + static_cast<ptrdiff_t>(i),
                               ab.begin() + static_cast<ptrdiff_t>(std::min(ab.size(), i + 500)));
        const std::string d = dir + "/ab-" + std::to_string(round) + (on ? "-on" : "-off");
        auto st = Open(StoreOptions(d, on));
        const double c0 = CpuSeconds();
        auto t0 = Clock::now();
        AppendAll(st.get(), &batches);
        const double wall = Seconds(Clock::now() - t0), cpu = CpuSeconds() - c0;
        sps[on].push_back(static_cast<double>(ab.size()) / wall);
        cpu_us[on].push_back(cpu * 1e6 / static_cast<double>(ab.size()));
        (void)st->Close();
        st.reset();
        std::filesystem::remove_all(d);
      }
  }
  auto best = [](std::vector<double> v, bool high) {
    std::sort(v.begin(), v.end());
    return high ? v.back() : v.front();
  };
  const double on_sps = best(sps[true], true), off_sps = best(sps[false], true);
  const double on_cpu = best(cpu_us[true], false), off_cpu = best(cpu_us[false], false);
  // The fold alone, single thread.
  store::StringPool pool;
  store::rollup::RollupTable table;
  store::EncodedBatch enc;
  if (!enc.Encode(ab).ok()) return 1;
  std::vector<store::SpanFacts> facts;
  for (size_t i = 0; i < enc.metas.size(); ++i) facts.push_back(enc.Facts(i));
  auto f0 = Clock::now();
  for (const auto& f : facts) table.Add(f, &pool);
  const double fold_ns = Seconds(Clock::now() - f0) * 1e9 / static_cast<double>(facts.size());
  std::printf("  best of 3      | Append spans/s | CPU us/span\n");
  std::printf("  rollups on     | %14.0f | %11.2f\n", on_sps, on_cpu);
  std::printf("  rollups off    | %14.0f | %11.2f\n", off_sps, off_cpu);
  std::printf("  throughput cost of rollups: %.1f%%; CPU per span +%.2f us (%.1f%%)\n",
              (off_sps - on_sps) / off_sps * 100, on_cpu - off_cpu, (on_cpu - off_cpu) / off_cpu * 100);
  std::printf("  the fold alone (RollupTable::Add, one thread): %.0f ns/span, %zu rows for %zu spans\n", fold_ns,
              table.rows(), facts.size());
  }

  // ---- 2. Dashboard queries.
  const std::string data = dir + "/data";
  auto st = Open(StoreOptions(data, true));
  const double l0 = CpuSeconds();
  auto t0 = Clock::now();
  int64_t loaded = 0;
  uint64_t trace = 1;
  while (loaded < spans) {
    std::vector<std::vector<model::Span>> batches;
    std::vector<model::Span> cur;
    for (int b = 0; b < 200 && loaded < spans; ++b) {
      cur.clear();
      while (cur.size() < 500)
        MakeTrace(trace++, now - range + static_cast<int64_t>(rng() % static_cast<uint64_t>(range)), rng, &cur);
      loaded += static_cast<int64_t>(cur.size());
      batches.push_back(std::move(cur));
      cur = {};
    }
    AppendAll(st.get(), &batches);
  }
  if (Status f = st->FlushNow(); !f.ok()) std::fprintf(stderr, "rollup_bench: flush: %s\n", f.ToString().c_str());
  const double load_s = Seconds(Clock::now() - t0);
  auto stats = st->Stats();
  std::printf("\ndashboard: %lld spans (%lld runs) over the last %d days loaded through Append in %.1f s (%.0f spans/s, "
              "CPU %.0f s), %lld segments, %.0f MiB on disk; rollups: %lld rows, %.1f MiB\n",
              static_cast<long long>(loaded), static_cast<long long>(stats.traces), days, load_s,
              static_cast<double>(loaded) / load_s, CpuSeconds() - l0, static_cast<long long>(stats.segments),
              static_cast<double>(stats.segment_bytes) / (1 << 20), static_cast<long long>(stats.rollup_rows),
              static_cast<double>(stats.rollup_bytes) / (1 << 20));
  const int64_t to_ns = NowNs(), from_ns = to_ns - range;
  const auto reqs = Dashboard(from_ns, to_ns);
  std::vector<double> with(reqs.size()), without(reqs.size()), with_cpu(reqs.size());
  std::vector<char> via(reqs.size());
  std::vector<std::string> errors(reqs.size());
  for (size_t i = 0; i < reqs.size(); ++i) {
    bool r = false;
    with[i] = TimeRequest(st.get(), reqs[i], runs, &r, &errors[i], &with_cpu[i]);
    via[i] = r;
  }
  for (size_t i = 0; i < reqs.size(); ++i) {
    std::vector<store::AggregateQuery> scanned = reqs[i].queries;
    for (auto& q : scanned) q.allow_rollups = false;
    bool r = false;
    std::string e;
    without[i] = TimeRequest(st.get(), Request{reqs[i].label, scanned}, std::min(runs, 3), &r, &e);
  }
  (void)st->Close();
  std::printf("  median of %d   | %-36s | answered from | rollups ms | (CPU ms) | scan ms\n", runs,
              "request (7-day range)");
  double page_with = 0, page_without = 0, worst = 0;
  for (size_t i = 0; i < reqs.size(); ++i) {
    std::printf("  %2zu | %-45s | %-13s | %10.1f | %8.1f | %7.1f\n", i + 1, reqs[i].label.c_str(),
                !errors[i].empty() ? "refused" : via[i] ? "rollups" : "trace index", with[i], with_cpu[i], without[i]);
    if (!errors[i].empty()) {
      std::printf("       %s\n", errors[i].c_str());
      continue;
    }
    if (i < 15) {
      page_with += with[i];
      page_without += without[i];
    }
    worst = std::max(worst, with[i]);
  }
  std::printf("  page load (the first 15 answered, one after another): %.1f ms with rollups, %.1f ms without; "
              "slowest request %.1f ms: %s (< 100 ms each)\n",
              page_with, page_without, worst, worst < 100 ? "met" : "MISSED");
  std::filesystem::remove_all(dir);
  return 0;
}
