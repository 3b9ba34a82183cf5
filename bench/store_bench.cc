// store_bench: the storage benchmark's client for the peer baselines and the query set
// (bench/store_bench.sh drives it; Sightline itself is loaded by sightline-loadgen).
//
//   store_bench params  --variant V --spans N [--batch B --seed S --start-ns T]
//       Walks the workload once and prints the query parameters (query_params.h).
//   store_bench load-clickhouse --url http://127.0.0.1:PORT [...]
//       Inserts the workload into otel_traces with RowBinary over HTTP, in inserts of
//       --rows-per-insert rows (capped at --max-insert-mb), over --connections.
//   store_bench load-sqlite --db FILE [...]
//       Inserts the workload into a new SQLite database in Phoenix's layout,
//       --spans-per-txn spans per transaction.
//   store_bench schema-clickhouse
//       Prints the ClickHouse DDL (clickhouse_otel.h), each statement followed by 0x1e.
//   store_bench query --system sightline|clickhouse|sqlite (--url U | --db F) --params FILE
//       Runs Q1-Q7, each once to warm up and then until --runs runs or --budget-s seconds
//       (at least --min-runs), and prints p50/p99 per query.
//
// The workload options must match sightline-loadgen's (--batch and --start-ns included)
// for all three systems to hold the same spans. Rows are converted before the clock
// starts (as the load generator pre-encodes its bodies) unless --stream is given, in
// which case a producer thread converts while the loader inserts (for 10M+ spans).
// Output: one JSON object per line with --json, else readable text.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <thread>

#include <CLI/CLI.hpp>
#include <rapidjson/document.h>

#include "baselines/clickhouse_otel.h"
#include "baselines/query_params.h"
#include "baselines/sqlite_phoenix.h"
#include "http_conn.h"
#include "workload.h"

namespace sightline::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct WorkloadFlags {
  std::string variant = "lean";
  int64_t spans = 1'000'000;
  int batch = 500;
  uint64_t seed = 1;
  int64_t start_ns = WorkloadOptions().start_unix_ns;
  bool stream = false;
  void Add(CLI::App* app) {
    app->add_option("--variant", variant, "lean | payload")->check(CLI::IsMember({"lean", "payload"}));
    app->add_option("--spans", spans, "spans in the workload")->check(CLI::PositiveNumber);
    app->add_option("--batch", batch, "generator batch (must equal sightline-loadgen's --batch)")
        ->check(CLI::Range(1, 100000));
    app->add_option("--seed", seed, "workload seed");
    app->add_option("--start-ns", start_ns, "Unix ns of the first span (must equal sightline-loadgen's)");
    app->add_flag("--stream", stream, "convert while inserting instead of before the clock starts");
  }
  WorkloadOptions Options() const {
    WorkloadOptions o;
    o.variant = *ParseVariant(variant);
    o.total_spans = spans;
    o.batch_spans = batch;
    o.seed = seed;
    o.start_unix_ns = start_ns;
    return o;
  }
};

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size()))) - 1;
  return v[std::min(i, v.size() - 1)];
}

std::string UrlEncode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(static_cast<unsigned char>(c) < 0x20 ? ' ' : c);
  }
  return out + "\"";
}

// Chunks of converted rows: all made up front, or made by a producer thread into a
// bounded queue (--stream). Next() may be called from several threads.
template <typename Chunk>
class ChunkSource {
 public:
  // make(gen, &chunk) fills one chunk from the generator; false when nothing is left.
  using MakeFn = std::function<bool(WorkloadGenerator*, Chunk*)>;
  ChunkSource(const WorkloadOptions& o, bool stream, MakeFn make) : gen_(o), make_(std::move(make)), stream_(stream) {}
  ~ChunkSource() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (producer_.joinable()) producer_.join();
  }
  void Start() {
    if (!stream_) {
      for (Chunk c; make_(&gen_, &c); c = Chunk()) ready_.push_back(std::move(c));
      done_ = true;
      return;
    }
    producer_ = std::thread([this] {
      for (Chunk c; make_(&gen_, &c); c = Chunk()) {
        std::unique_lock<std::mutex> l(mu_);
        cv_.wait(l, [&] { return ready_.size() < 4 || stop_; });
        if (stop_) return;
        ready_.push_back(std::move(c));
        cv_.notify_all();
      }
      std::lock_guard<std::mutex> l(mu_);
      done_ = true;
      cv_.notify_all();
    });
  }
  bool Next(Chunk* out) {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return !ready_.empty() || done_; });
    if (ready_.empty()) return false;
    *out = std::move(ready_.front());
    ready_.pop_front();
    cv_.notify_all();
    return true;
  }

 private:
  WorkloadGenerator gen_;
  MakeFn make_;
  bool stream_;
  std::thread producer_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Chunk> ready_;  // guarded by mu_
  bool done_ = false;        // guarded by mu_
  bool stop_ = false;        // guarded by mu_
};

void PrintLoad(bool json, const char* system, const WorkloadFlags& w, int64_t spans, double secs, int64_t bytes,
               const std::vector<double>& lat_ms, const std::string& detail) {
  const double sps = static_cast<double>(spans) / std::max(secs, 1e-9);
  if (json) {
    std::printf("{\"system\":\"%s\",\"variant\":\"%s\",\"spans\":%lld,\"elapsed_s\":%.3f,\"spans_per_s\":%.0f,"
                "\"bytes_sent\":%lld,\"inserts\":%zu,\"insert_p50_ms\":%.1f,\"insert_p99_ms\":%.1f,\"mode\":\"%s\","
                "\"detail\":%s}\n",
                system, w.variant.c_str(), static_cast<long long>(spans), secs, sps, static_cast<long long>(bytes),
                lat_ms.size(), Percentile(lat_ms, 0.5), Percentile(lat_ms, 0.99), w.stream ? "stream" : "all",
                JsonString(detail).c_str());
  } else {
    std::printf("%s: %lld spans in %.2f s = %.0f spans/s (%zu inserts/transactions, p50 %.1f ms, p99 %.1f ms; %s)\n",
                system, static_cast<long long>(spans), secs, sps, lat_ms.size(), Percentile(lat_ms, 0.5),
                Percentile(lat_ms, 0.99), detail.c_str());
  }
}

// ---------------------------------------------------------------------------------------
// params

int RunParams(const WorkloadFlags& w, const std::string& out_path) {
  WorkloadGenerator gen(w.Options());
  ParamPicker picker(w.spans);
  ExportRequest req;
  while (gen.NextBatch(&req)) picker.Observe(req);
  QueryParams p;
  std::string error;
  if (!picker.Finish(&p, &error)) {
    std::fprintf(stderr, "store_bench params: %s\n", error.c_str());
    return 1;
  }
  const std::string text = FormatParams(p);
  if (out_path.empty() || out_path == "-") {
    std::fputs(text.c_str(), stdout);
  } else {
    std::ofstream f(out_path);
    f << text;
    if (!f) {
      std::fprintf(stderr, "store_bench params: cannot write %s\n", out_path.c_str());
      return 1;
    }
  }
  return 0;
}

// ---------------------------------------------------------------------------------------
// ClickHouse

struct ChChunk {
  std::string body;
  int64_t rows = 0;
};

int RunLoadClickHouse(const WorkloadFlags& w, const std::string& url_text, int64_t rows_per_insert,
                      int64_t max_insert_mb, int connections, bool json) {
  HttpUrl url;
  std::string error;
  if (!ParseHttpUrl(url_text, &url, &error)) {
    std::fprintf(stderr, "store_bench: --url: %s\n", error.c_str());
    return 2;
  }
  const int64_t max_bytes = max_insert_mb << 20;
  ChunkSource<ChChunk> source(w.Options(), w.stream, [&](WorkloadGenerator* gen, ChChunk* c) {
    ExportRequest req;
    while (c->rows < rows_per_insert && static_cast<int64_t>(c->body.size()) < max_bytes && gen->NextBatch(&req))
      c->rows += AppendClickHouseRows(req, &c->body);
    return c->rows > 0;
  });
  source.Start();
  const std::string target = "/?query=" + UrlEncode(ClickHouseInsertQuery());
  std::mutex mu;
  int64_t rows = 0, bytes = 0;
  std::vector<double> lat;
  std::string first_error;
  const auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int i = 0; i < connections; ++i) {
    threads.emplace_back([&] {
      HttpConn conn(url.host, url.port, std::chrono::minutes(10));
      ChChunk c;
      HttpReply reply;
      std::string err;
      while (source.Next(&c)) {
        const auto s = Clock::now();
        const bool ok = conn.Exchange("POST", target, "application/octet-stream", "", c.body, &reply, &err);
        std::lock_guard<std::mutex> l(mu);
        if (!ok || reply.status != 200) {
          if (first_error.empty()) first_error = ok ? "HTTP " + std::to_string(reply.status) + ": " + reply.body.substr(0, 400) : err;
          continue;
        }
        lat.push_back(Ms(Clock::now() - s));
        rows += c.rows;
        bytes += static_cast<int64_t>(c.body.size());
      }
    });
  }
  for (auto& t : threads) t.join();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  if (!first_error.empty()) {
    std::fprintf(stderr, "store_bench load-clickhouse: insert failed: %s\n", first_error.c_str());
    return 1;
  }
  PrintLoad(json, "clickhouse", w, rows, secs, bytes, lat,
            "RowBinary over HTTP, " + std::to_string(rows_per_insert) + " rows per insert, " +
                std::to_string(connections) + " connections");
  return 0;
}

// ---------------------------------------------------------------------------------------
// SQLite

int RunLoadSqlite(const WorkloadFlags& w, const std::string& db, int64_t spans_per_txn, bool json) {
  std::string error;
  auto sql = PhoenixSqlite::Open(db, true, &error);
  if (!sql) {
    std::fprintf(stderr, "store_bench load-sqlite: %s\n", error.c_str());
    return 1;
  }
  using Rows = std::vector<PhoenixSpanRow>;
  ChunkSource<Rows> source(w.Options(), w.stream, [&](WorkloadGenerator* gen, Rows* rows) {
    ExportRequest req;
    while (static_cast<int64_t>(rows->size()) < spans_per_txn && gen->NextBatch(&req)) AppendPhoenixRows(req, rows);
    return !rows->empty();
  });
  source.Start();
  int64_t spans = 0;
  std::vector<double> lat;
  const auto t0 = Clock::now();
  Rows rows;
  while (source.Next(&rows)) {
    const auto s = Clock::now();
    if (!sql->Begin(&error)) break;
    for (const auto& r : rows)
      if (!sql->Insert(r, &error)) break;
    if (!error.empty() || !sql->Commit(&error)) break;
    lat.push_back(Ms(Clock::now() - s));
    spans += static_cast<int64_t>(rows.size());
  }
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  if (!error.empty()) {
    std::fprintf(stderr, "store_bench load-sqlite: %s\n", error.c_str());
    return 1;
  }
  sql.reset();  // close: checkpoints the WAL into the database file
  PrintLoad(json, "sqlite", w, spans, secs, 0, lat,
            "Phoenix layout, " + std::to_string(spans_per_txn) + " spans per transaction, WAL, synchronous=OFF");
  return 0;
}

// ---------------------------------------------------------------------------------------
// Queries

// Sightline's HTTP requests for a query (docs/api.md), timed together. Q3 asks the
// metrics API twice, for p50 and for p95 (one metric per answer); the baselines get both
// from one query.
std::vector<std::string> SightlineTargets(QueryId q, const QueryParams& p) {
  const std::string window = "&from=" + std::to_string(p.window_start_ns / 1'000'000) +
                             "&to=" + std::to_string(p.window_end_ns / 1'000'000 + 1);
  switch (q) {
    case QueryId::kQ1: return {"/api/v1/traces/" + p.trace_id};
    case QueryId::kQ2: return {"/api/v1/sessions/" + UrlEncode(p.session_id)};
    case QueryId::kQ3:
      return {"/api/v1/metrics/top?metric=duration_p50&by=tool&kind=tool&level=spans&limit=1000" + window,
              "/api/v1/metrics/top?metric=duration_p95&by=tool&kind=tool&level=spans&limit=1000" + window};
    case QueryId::kQ4: return {"/api/v1/metrics/top?metric=cost&by=user&limit=1000" + window};
    case QueryId::kQ5:
      return {"/api/v1/metrics/timeseries?metric=error_rate&group_by=tool&kind=tool&level=spans&interval=1h"
              "&limit=1000" + window};
    case QueryId::kQ6: return {"/api/v1/traces?attr." + UrlEncode(p.attr_key) + "=" + UrlEncode(p.attr_value)};
    case QueryId::kQ7: return {"/api/v1/traces?q=" + UrlEncode(p.phrase)};
  }
  return {};
}

// Rows in a Sightline answer: the length of its spans / traces / first array; for a time
// series (Q5), its points that hold a value, one per (group, bucket) with spans in it, as
// the baselines' GROUP BY answers count their rows.
int64_t JsonRows(const std::string& body) {
  rapidjson::Document d;
  d.Parse(body.data(), body.size());
  if (d.HasParseError() || !d.IsObject()) return -1;
  if (d.HasMember("series") && d["series"].IsArray()) {
    int64_t n = 0;
    for (const auto& series : d["series"].GetArray()) {
      if (!series.IsObject() || !series.HasMember("points") || !series["points"].IsArray()) continue;
      for (const auto& point : series["points"].GetArray())
        if (point.IsArray() && point.Size() >= 2 && !point[1].IsNull()) ++n;
    }
    return n;
  }
  for (const char* key : {"spans", "traces", "items"})
    if (d.HasMember(key) && d[key].IsArray()) return static_cast<int64_t>(d[key].Size());
  for (auto it = d.MemberBegin(); it != d.MemberEnd(); ++it)
    if (it->value.IsArray()) return static_cast<int64_t>(it->value.Size());
  return 0;
}

struct QueryResult {
  std::string status = "ok";  // ok, n/a, error
  std::string note;
  std::vector<double> ms;
  int64_t rows = 0;
};

int RunQueries(const std::string& system, const std::string& url_text, const std::string& db,
               const std::string& params_path, int runs, int min_runs, double budget_s, bool json) {
  std::ifstream f(params_path);
  std::stringstream text;
  text << f.rdbuf();
  QueryParams p;
  std::string error;
  if (!f || !ParseParams(text.str(), &p, &error)) {
    std::fprintf(stderr, "store_bench query: %s: %s\n", params_path.c_str(),
                 error.empty() ? "cannot read" : error.c_str());
    return 2;
  }
  HttpUrl url;
  std::unique_ptr<HttpConn> conn;
  std::unique_ptr<PhoenixSqlite> sql;
  if (system == "sqlite") {
    sql = PhoenixSqlite::Open(db, false, &error);
    if (!sql) {
      std::fprintf(stderr, "store_bench query: %s\n", error.c_str());
      return 1;
    }
  } else {
    if (!ParseHttpUrl(url_text, &url, &error)) {
      std::fprintf(stderr, "store_bench query: --url: %s\n", error.c_str());
      return 2;
    }
    conn = std::make_unique<HttpConn>(url.host, url.port, std::chrono::minutes(5));
  }
  int failures = 0;
  for (int qi = 1; qi <= kQueryCount; ++qi) {
    const auto q = static_cast<QueryId>(qi);
    QueryResult r;
    // One run of the query; false (with r.status/note set) when it cannot be measured.
    auto once = [&](bool timed) -> bool {
      const auto s = Clock::now();
      int64_t rows = 0;
      if (sql) {
        if (!sql->RunQuery(q, p, &rows, &error)) return r.status = "error", r.note = error, false;
      } else {
        HttpReply reply;
        const bool metrics = q == QueryId::kQ3 || q == QueryId::kQ4 || q == QueryId::kQ5;
        std::vector<std::string> targets;
        if (system == "clickhouse") targets.push_back(ClickHouseQuery(q, p));
        else targets = SightlineTargets(q, p);
        for (size_t t = 0; t < targets.size(); ++t) {
          const bool ok = system == "clickhouse"
                              ? conn->Exchange("POST", "/", "text/plain", "", targets[t], &reply, &error)
                              : conn->Exchange("GET", targets[t], "", "", "", &reply, &error);
          if (!ok) return r.status = "error", r.note = error, false;
          if (reply.status == 404 && metrics && system == "sightline") {
            return r.status = "n/a", r.note = "metrics API not in this server build (404)", false;
          }
          if (reply.status != 200) {
            r.status = "error";
            r.note = "HTTP " + std::to_string(reply.status) + ": " + reply.body.substr(0, 300);
            return false;
          }
          if (t > 0) continue;  // rows: the first answer's
          if (system == "clickhouse") rows = std::count(reply.body.begin(), reply.body.end(), '\n');
          else if (!timed) rows = JsonRows(reply.body);
          else rows = r.rows;
        }
      }
      if (timed) r.ms.push_back(Ms(Clock::now() - s));
      r.rows = rows;
      return true;
    };
    if (once(false)) {  // warm-up (and the row count for Sightline: JSON parsing is not timed)
      const auto t0 = Clock::now();
      while (static_cast<int>(r.ms.size()) < runs &&
             (static_cast<int>(r.ms.size()) < min_runs ||
              std::chrono::duration<double>(Clock::now() - t0).count() < budget_s)) {
        if (!once(true)) break;
      }
    }
    if (r.status == "error") ++failures;
    const double p50 = Percentile(r.ms, 0.5), p99 = Percentile(r.ms, 0.99);
    if (json) {
      std::printf("{\"system\":\"%s\",\"query\":\"Q%d\",\"title\":%s,\"status\":\"%s\",\"runs\":%zu,"
                  "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"rows\":%lld,\"note\":%s}\n",
                  system.c_str(), qi, JsonString(QueryTitle(q)).c_str(), r.status.c_str(), r.ms.size(), p50, p99,
                  static_cast<long long>(r.rows), JsonString(r.note).c_str());
    } else {
      std::printf("%-10s %-38s %-5s runs %3zu  p50 %9.2f ms  p99 %9.2f ms  rows %lld %s\n", system.c_str(),
                  QueryTitle(q), r.status.c_str(), r.ms.size(), p50, p99, static_cast<long long>(r.rows),
                  r.note.c_str());
    }
    std::fflush(stdout);
  }
  return failures ? 1 : 0;
}

int Main(int argc, char** argv) {
  CLI::App app{"store_bench: peer baselines (ClickHouse, SQLite in Phoenix's layout) and the query set"};
  app.require_subcommand(1);
  app.fallthrough();  // --json may follow the subcommand
  bool json = false;
  app.add_flag("--json", json, "one JSON object per line");

  WorkloadFlags w;
  std::string out = "-";
  auto* params = app.add_subcommand("params", "print the query parameters picked from the workload");
  w.Add(params);
  params->add_option("--out", out, "file to write (default: stdout)");

  std::string url = "http://127.0.0.1:8123/";
  int64_t rows_per_insert = 100'000, max_insert_mb = 256;
  int connections = 2;
  auto* load_ch = app.add_subcommand("load-clickhouse", "insert the workload into ClickHouse's otel_traces");
  w.Add(load_ch);
  load_ch->add_option("--url", url, "ClickHouse HTTP interface")->capture_default_str();
  load_ch->add_option("--rows-per-insert", rows_per_insert, "rows per INSERT")->check(CLI::PositiveNumber)
      ->capture_default_str();
  load_ch->add_option("--max-insert-mb", max_insert_mb, "cap on one INSERT's body")->check(CLI::PositiveNumber)
      ->capture_default_str();
  load_ch->add_option("--connections", connections, "concurrent inserts")->check(CLI::Range(1, 16))
      ->capture_default_str();

  std::string db;
  int64_t spans_per_txn = 10'000;
  auto* load_sq = app.add_subcommand("load-sqlite", "insert the workload into SQLite in Phoenix's layout");
  w.Add(load_sq);
  load_sq->add_option("--db", db, "database file to create")->required();
  load_sq->add_option("--spans-per-txn", spans_per_txn, "spans per transaction")->check(CLI::PositiveNumber)
      ->capture_default_str();

  auto* schema = app.add_subcommand("schema-clickhouse", "print the ClickHouse DDL, statements ended by 0x1e");

  std::string system, params_path;
  int runs = 20, min_runs = 3;
  double budget_s = 10;
  auto* query = app.add_subcommand("query", "run Q1-Q7 and print p50/p99 latencies");
  query->add_option("--system", system, "sightline | clickhouse | sqlite")->required()
      ->check(CLI::IsMember({"sightline", "clickhouse", "sqlite"}));
  query->add_option("--url", url, "HTTP base URL (sightline, clickhouse)");
  query->add_option("--db", db, "database file (sqlite)");
  query->add_option("--params", params_path, "file written by `store_bench params`")->required();
  query->add_option("--runs", runs, "timed runs per query at most")->check(CLI::Range(1, 100000))
      ->capture_default_str();
  query->add_option("--min-runs", min_runs, "timed runs per query at least")->check(CLI::Range(1, 100000))
      ->capture_default_str();
  query->add_option("--budget-s", budget_s, "stop repeating a query after this many seconds (past --min-runs)")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (*params) return RunParams(w, out);
  if (*schema) {
    for (const auto& stmt : ClickHouseSchema()) std::printf("%s\x1e", stmt.c_str());
    return 0;
  }
  if (*load_ch) return RunLoadClickHouse(w, url, rows_per_insert, max_insert_mb, connections, json);
  if (*load_sq) return RunLoadSqlite(w, db, spans_per_txn, json);
  if (system == "sqlite" && db.empty()) {
    std::fprintf(stderr, "store_bench query: --system sqlite needs --db\n");
    return 2;
  }
  return RunQueries(system, url, db, params_path, runs, std::min(min_runs, runs), budget_s, json);
}

}  // namespace
}  // namespace sightline::bench

int main(int argc, char** argv) { return sightline::bench::Main(argc, argv); }
