// Rollups (docs/architecture.md "Rollups"): span-level aggregates answered from the
// rollups agree with the same queries answered by scanning spans (counts and sums
// exactly, sketches bucket for bucket), on memtables and segments, across restarts, a
// crash between a flush and the rollup file, replaced spans, folding into hours, an
// overflowed bucket, a damaged rollup file and retention.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "common/fault_injection_env.h"
#include "common/mem_env.h"
#include "store/embedded_store.h"
#include "store/store_test_util.h"

namespace sightline::store {
namespace {

using testing::AppendSync;
using testing::MakeSpan;
using namespace model::v1;

constexpr int64_t kMinute = 60'000'000'000;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kT0 = 1'700'000'040'000'000'000 - 1'700'000'040'000'000'000 % kHour;  // an hour boundary

// Spans of `traces` runs over six hours from kT0 + offset, varied on every rolled
// dimension and on the ones that are not (users, names).
std::vector<model::Span> Generate(int traces, uint64_t first_trace, uint64_t seed, int64_t offset = 0) {
  std::mt19937_64 rng(seed);
  const SpanStatus statuses[] = {STATUS_OK, STATUS_OK, STATUS_ERROR, STATUS_INTERRUPT, STATUS_UNSET};
  std::vector<model::Span> out;
  for (int t = 0; t < traces; ++t) {
    const uint64_t trace = first_trace + static_cast<uint64_t>(t);
    const int64_t start = kT0 + offset + static_cast<int64_t>(rng() % (6 * kHour));
    const int n = 1 + static_cast<int>(rng() % 6);
    for (int k = 0; k < n; ++k) {
      const int kind = static_cast<int>(rng() % 3);
      const int64_t s = start + static_cast<int64_t>(rng() % (3 * kMinute));
      const auto dur = static_cast<int64_t>(std::lognormal_distribution<double>(18, 1.5)(rng));
      model::Span sp = MakeSpan({.trace = trace, .span = static_cast<uint64_t>(k + 1), .parent = k ? 1u : 0u,
                                 .name = "n" + std::to_string(rng() % 4),
                                 .kind = kind == 0 ? KIND_AGENT : kind == 1 ? KIND_LLM : KIND_TOOL,
                                 .status = statuses[rng() % 5], .start = s, .end = s + dur});
      sp.set_project(rng() % 4 == 0 ? "p2" : "default");
      sp.set_service("svc" + std::to_string(rng() % 2));
      sp.set_environment(rng() % 3 == 0 ? "staging" : "prod");
      sp.set_user_id("u" + std::to_string(rng() % 5));
      if (rng() % 3) sp.set_agent_name("agent" + std::to_string(rng() % 3));
      if (kind == 1) {
        sp.set_model("model" + std::to_string(rng() % 3));
        sp.set_input_tokens(static_cast<int64_t>(rng() % 4000));
        sp.set_output_tokens(static_cast<int64_t>(rng() % 700));
        if (rng() % 3 == 0) sp.set_cache_read_tokens(static_cast<int64_t>(rng() % 900));
        if (rng() % 3 == 0) sp.set_cache_write_tokens(static_cast<int64_t>(rng() % 90));
        if (rng() % 4 == 0) sp.set_reasoning_tokens(static_cast<int64_t>(rng() % 300));
        if (rng() % 5) sp.set_cost_usd(std::exponential_distribution<double>(200)(rng));
        sp.set_finish_reason(rng() % 5 == 0 ? "length" : "stop");
      } else if (kind == 2) {
        sp.set_tool_name("tool" + std::to_string(rng() % 4));
      }
      out.push_back(std::move(sp));
    }
  }
  return out;
}

EmbeddedStoreOptions Options(Env* env) {
  EmbeddedStoreOptions o;
  o.env = env;
  o.dir = "/db";
  o.fsync = FsyncPolicy::kNever;
  o.compaction.enabled = false;
  o.logger = [](const std::string&) {};
  o.rollups.minute_window_ns = o.rollups.hour_window_ns = 100000 * retention::kDayNs;  // all minutes
  return o;
}

std::unique_ptr<EmbeddedStore> OpenStore(const EmbeddedStoreOptions& o) {
  auto s = EmbeddedStore::Open(o);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

void Append(EmbeddedStore* s, std::vector<model::Span> spans) {
  for (size_t i = 0; i < spans.size(); i += 200) {
    std::vector<model::Span> part(spans.begin() + static_cast<ptrdiff_t>(i),
                                  spans.begin() + static_cast<ptrdiff_t>(std::min(spans.size(), i + 200)));
    ASSERT_TRUE(AppendSync(s, std::move(part)).ok());
  }
}

std::vector<AggregateQuery> Queries() {
  std::vector<AggregateQuery> qs;
  auto add = [&](std::function<void(AggregateQuery&)> set) {
    AggregateQuery q;
    q.sketches = kSketchDuration | kSketchCost;
    set(q);
    qs.push_back(q);
  };
  add([](AggregateQuery&) {});
  add([](AggregateQuery& q) { q.group_by = {AggDim::kKind}; });
  add([](AggregateQuery& q) {
    q.group_by = {AggDim::kTool};
    q.filter.kind = KIND_TOOL;
    q.order = AggOrder::kDurationP95;
  });
  add([](AggregateQuery& q) {
    q.group_by = {AggDim::kModel};
    q.filter.kind = KIND_LLM;
    q.filter.status = STATUS_ERROR;
  });
  add([](AggregateQuery& q) {  // whole minutes: [from, to] is minute-aligned
    q.group_by = {AggDim::kAgent, AggDim::kTime};
    q.bucket_ns = kHour;
    q.filter.from_ns = kT0 + 37 * kMinute;
    q.filter.to_ns = kT0 + 4 * kHour + 11 * kMinute - 1;
  });
  add([](AggregateQuery& q) {
    q.group_by = {AggDim::kStatus, AggDim::kTime};
    q.bucket_ns = 5 * kMinute;
    q.filter.projects = {"p2"};
  });
  add([](AggregateQuery& q) {
    q.group_by = {AggDim::kProject, AggDim::kService, AggDim::kEnvironment};
    q.filter.environment = "staging";
    q.filter.service = "svc1";
    q.filter.agent = "agent2";
  });
  add([](AggregateQuery& q) { q.filter.tool = "no-such-tool"; });
  add([](AggregateQuery& q) {
    q.group_by = {AggDim::kModel};
    q.order = AggOrder::kCost;
    q.limit = 2;
  });
  return qs;
}

void ExpectClose(const DDSketch& a, const DDSketch& b, const std::string& at) {
  ASSERT_EQ(a.count(), b.count()) << at;
  if (b.empty()) return;
  auto near = [](double x, double y) { return std::abs(x - y) <= 0.01 * std::abs(y) + 1e-9; };
  for (double p : {0.0, 0.25, 0.5, 0.95, 0.99, 1.0}) EXPECT_TRUE(near(a.Quantile(p), b.Quantile(p))) << at << " q" << p;
  EXPECT_NEAR(a.sum(), b.sum(), 1e-6 * std::max(1.0, std::abs(b.sum()))) << at;
}

// The same query answered from the rollups and by a scan. Span rows' sketches are the
// same bucket for bucket; run rows' within 1% (a run's values change as its spans
// arrive, and taking a value back leaves the extremes known to the bucket).
void ExpectSameAnswer(EmbeddedStore* s, AggregateQuery q, const std::string& what) {
  q.allow_rollups = true;
  auto fast = s->Aggregate(q);
  q.allow_rollups = false;
  auto scan = s->Aggregate(q);
  ASSERT_TRUE(fast.ok() && scan.ok()) << what << fast.status().ToString() << scan.status().ToString();
  EXPECT_TRUE(fast->from_rollups) << what;
  EXPECT_EQ(fast->rows_scanned, 0) << what;
  EXPECT_FALSE(scan->from_rollups) << what;
  ASSERT_EQ(fast->rows.size(), scan->rows.size()) << what;
  EXPECT_EQ(fast->groups, scan->groups) << what;
  EXPECT_EQ(std::isnan(fast->group_median), std::isnan(scan->group_median)) << what;
  if (!std::isnan(scan->group_median)) {
    EXPECT_NEAR(fast->group_median, scan->group_median, 1e-9 * std::max(1.0, std::abs(scan->group_median))) << what;
  }
  for (size_t i = 0; i < fast->rows.size(); ++i) {
    const AggregateRow &a = fast->rows[i], &b = scan->rows[i];
    const std::string at = what + " row " + std::to_string(i);
    EXPECT_EQ(a.key, b.key) << at;
    EXPECT_EQ(a.bucket_start_ns, b.bucket_start_ns) << at;
    EXPECT_EQ(a.count, b.count) << at;
    EXPECT_EQ(a.spans, b.spans) << at;
    EXPECT_EQ(a.errors, b.errors) << at;
    EXPECT_EQ(a.interrupts, b.interrupts) << at;
    EXPECT_EQ(a.llm_calls, b.llm_calls) << at;
    EXPECT_EQ(a.tool_calls, b.tool_calls) << at;
    EXPECT_EQ(a.truncated, b.truncated) << at;
    EXPECT_EQ(a.input_tokens, b.input_tokens) << at;
    EXPECT_EQ(a.output_tokens, b.output_tokens) << at;
    EXPECT_EQ(a.cache_read_tokens, b.cache_read_tokens) << at;
    EXPECT_EQ(a.cache_write_tokens, b.cache_write_tokens) << at;
    EXPECT_EQ(a.reasoning_tokens, b.reasoning_tokens) << at;
    EXPECT_EQ(a.cost_known, b.cost_known) << at;
    EXPECT_NEAR(a.cost_usd, b.cost_usd, 1e-9 * std::max(1.0, std::abs(b.cost_usd))) << at;
    if (q.level == AggLevel::kTrace) {
      ExpectClose(a.duration_ns, b.duration_ns, at + " duration");
      ExpectClose(a.cost, b.cost, at + " cost");
      ExpectClose(a.steps, b.steps, at + " steps");
      continue;
    }
    // Same buckets, count, min and max: every quantile is the same.
    EXPECT_TRUE(a.duration_ns == b.duration_ns) << at;
    EXPECT_TRUE(a.cost == b.cost) << at;
    if (b.duration_ns.empty()) continue;
    for (double p : {0.5, 0.95, 0.99}) EXPECT_DOUBLE_EQ(a.duration_ns.Quantile(p), b.duration_ns.Quantile(p)) << at;
  }
}

// Trace-level queries run rollups can answer.
std::vector<AggregateQuery> RunQueries() {
  std::vector<AggregateQuery> qs;
  auto add = [&](std::function<void(AggregateQuery&)> set) {
    AggregateQuery q;
    q.level = AggLevel::kTrace;
    q.sketches = kSketchDuration | kSketchCost | kSketchSteps;
    set(q);
    qs.push_back(q);
  };
  add([](AggregateQuery&) {});
  add([](AggregateQuery& q) { q.group_by = {AggDim::kStatus}; });
  add([](AggregateQuery& q) {
    q.group_by = {AggDim::kAgent, AggDim::kTime};
    q.bucket_ns = kHour;
    q.filter.from_ns = kT0 + 37 * kMinute;
    q.filter.to_ns = kT0 + 4 * kHour + 11 * kMinute - 1;
  });
  add([](AggregateQuery& q) {
    q.group_by = {AggDim::kService, AggDim::kEnvironment};
    q.filter.projects = {"p2", "default"};
    q.filter.status = STATUS_OK;
    q.order = AggOrder::kCost;
  });
  // Per user: from the per-user run rollup (cost sketch only).
  add([](AggregateQuery& q) {
    q.group_by = {AggDim::kUser};
    q.sketches = kSketchCost;
    q.order = AggOrder::kCost;
    q.limit = 3;
  });
  add([](AggregateQuery& q) {
    q.group_by = {AggDim::kUser, AggDim::kStatus, AggDim::kTime};
    q.bucket_ns = kHour;
    q.sketches = kSketchCost;
    q.filter.projects = {"default"};
    q.filter.from_ns = kT0 + 37 * kMinute;
    q.filter.to_ns = kT0 + 4 * kHour + 11 * kMinute - 1;
  });
  return qs;
}

void ExpectAllSame(EmbeddedStore* s, const std::string& when) {
  auto qs = Queries();
  for (size_t i = 0; i < qs.size(); ++i) ExpectSameAnswer(s, qs[i], when + ", query " + std::to_string(i));
  auto rs = RunQueries();
  for (size_t i = 0; i < rs.size(); ++i) ExpectSameAnswer(s, rs[i], when + ", run query " + std::to_string(i));
}

TEST(EmbeddedStoreRollups, AnswerLikeTheScanOnSegmentsAndMemtables) {
  MemEnv env;
  auto s = OpenStore(Options(&env));
  ASSERT_TRUE(s);
  ExpectAllSame(s.get(), "empty");
  auto a = Generate(150, 1, 1);
  Append(s.get(), a);
  ExpectAllSame(s.get(), "memtable");
  ASSERT_TRUE(s->FlushNow().ok());
  Append(s.get(), Generate(150, 1000, 2));
  ExpectAllSame(s.get(), "segment + memtable");
  EXPECT_GT(s->Stats().rollup_rows, 0);

  // The quantiles also agree with exact ones within 1% (the DDSketch guarantee).
  std::vector<double> d;
  for (const auto& sp : a) d.push_back(static_cast<double>(sp.end_ns() - sp.start_ns()));
  for (const auto& sp : Generate(150, 1000, 2)) d.push_back(static_cast<double>(sp.end_ns() - sp.start_ns()));
  std::sort(d.begin(), d.end());
  AggregateQuery q;
  q.sketches = kSketchDuration;
  auto r = s->Aggregate(q);
  ASSERT_TRUE(r.ok() && r->from_rollups);
  for (double p : {0.5, 0.95, 0.99}) {
    double exact = d[static_cast<size_t>(std::floor(p * static_cast<double>(d.size() - 1)))];
    EXPECT_LE(std::abs(r->rows[0].duration_ns.Quantile(p) - exact), 0.01 * exact) << p;
  }
}

TEST(EmbeddedStoreRollups, QueriesTheyCannotAnswerScan) {
  MemEnv env;
  auto s = OpenStore(Options(&env));
  Append(s.get(), Generate(40, 1, 3));
  std::vector<std::function<void(AggregateQuery&)>> cases = {
      [](AggregateQuery& q) { q.filter.user_id = "u1"; },
      [](AggregateQuery& q) { q.filter.name = "n1"; },
      [](AggregateQuery& q) { q.filter.min_duration_ns = 5; },
      [](AggregateQuery& q) { q.filter.text = "x"; },
      [](AggregateQuery& q) { q.group_by = {AggDim::kUser}; },
      [](AggregateQuery& q) { q.group_by = {AggDim::kTime}, q.bucket_ns = 30'000'000'000; },  // finer than a minute
      [](AggregateQuery& q) { q.level = AggLevel::kTrace, q.filter.tool = "tool1"; },  // "some span used it"
      // Per-user run rollups keep (project, user, status) only.
      [](AggregateQuery& q) { q.level = AggLevel::kTrace, q.group_by = {AggDim::kUser}, q.filter.service = "svc1"; },
      [](AggregateQuery& q) { q.level = AggLevel::kTrace, q.group_by = {AggDim::kUser, AggDim::kAgent}; },
      [](AggregateQuery& q) {  // the duration sketch is not kept per user
        q.level = AggLevel::kTrace, q.group_by = {AggDim::kUser}, q.sketches = kSketchDuration;
      },
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    AggregateQuery q;
    cases[i](q);
    auto r = s->Aggregate(q);
    ASSERT_TRUE(r.ok()) << i;
    EXPECT_FALSE(r->from_rollups) << i;
    EXPECT_GT(r->rows_scanned, 0) << i;
  }
}

TEST(EmbeddedStoreRollups, SurviveRestartsWithoutLossOrDoubleCounting) {
  MemEnv env;
  auto o = Options(&env);
  o.flush_on_close = false;
  {
    auto s = OpenStore(o);
    Append(s.get(), Generate(100, 1, 4));
    ASSERT_TRUE(s->FlushNow().ok());
    Append(s.get(), Generate(100, 1000, 5));  // only in the WAL at close
    ASSERT_TRUE(s->Close().ok());
  }
  EXPECT_TRUE(env.FileExists("/db/ROLLUPS"));
  {
    auto s = OpenStore(o);
    ExpectAllSame(s.get(), "after a restart with a WAL to replay");
    Append(s.get(), Generate(100, 2000, 6));
    ASSERT_TRUE(s->FlushNow().ok());
    ASSERT_TRUE(s->Close().ok());
  }
  o.flush_on_close = true;
  for (int round = 0; round < 2; ++round) {
    auto s = OpenStore(o);
    ExpectAllSame(s.get(), "reopened, round " + std::to_string(round));
    AggregateQuery q;
    auto r = s->Aggregate(q);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->rows[0].count, static_cast<int64_t>(Generate(100, 1, 4).size() + Generate(100, 1000, 5).size() +
                                                     Generate(100, 2000, 6).size()));
    ASSERT_TRUE(s->Close().ok());
  }
}

TEST(EmbeddedStoreRollups, ACrashBeforeTheRollupFileIsRepairedFromTheWal) {
  MemEnv mem;
  FaultInjectionEnv env(&mem);
  auto o = Options(&env);
  o.flush_on_close = false;
  {
    auto s = OpenStore(o);
    Append(s.get(), Generate(80, 1, 7));
    ASSERT_TRUE(s->FlushNow().ok());  // a first rollup file
    env.OnlyPaths("ROLLUPS");
    env.FailNth(FaultInjectionEnv::Op::kRename, 1, Status::IOError("injected"), true);
    Append(s.get(), Generate(80, 1000, 8));
    ASSERT_TRUE(s->FlushNow().ok());  // segments and manifest edit done, the rollup file not
    Append(s.get(), Generate(80, 2000, 9));
    ASSERT_TRUE(s->Close().ok());
    EXPECT_GT(env.Failures(), 0);
  }
  mem.DropUnsyncedData();
  auto s = OpenStore(Options(&mem));
  ExpectAllSame(s.get(), "after the repair");
  AggregateQuery q;
  auto r = s->Aggregate(q);
  ASSERT_TRUE(r.ok() && r->from_rollups);
  EXPECT_EQ(r->rows[0].count, static_cast<int64_t>(Generate(80, 1, 7).size() + Generate(80, 1000, 8).size() +
                                                   Generate(80, 2000, 9).size()));
}

TEST(EmbeddedStoreRollups, RunsFollowTheirSpansArrivingInAnyOrderAcrossFlushes) {
  MemEnv env;
  auto o = Options(&env);
  auto spans = Generate(120, 1, 15);
  std::mt19937_64 rng(3);
  std::shuffle(spans.begin(), spans.end(), rng);
  std::stable_partition(spans.begin(), spans.end(), [](const model::Span& s) { return !s.parent_span_id().empty(); });
  const size_t third = spans.size() / 3;
  {
    auto s = OpenStore(o);
    Append(s.get(), std::vector<model::Span>(spans.begin(), spans.begin() + static_cast<ptrdiff_t>(third)));
    ASSERT_TRUE(s->FlushNow().ok());
    Append(s.get(), std::vector<model::Span>(spans.begin() + static_cast<ptrdiff_t>(third),
                                             spans.begin() + static_cast<ptrdiff_t>(2 * third)));
    ExpectAllSame(s.get(), "two thirds, roots missing");
    ASSERT_TRUE(s->FlushNow().ok());
    Append(s.get(), std::vector<model::Span>(spans.begin() + static_cast<ptrdiff_t>(2 * third), spans.end()));
    ExpectAllSame(s.get(), "all, roots last");
    ASSERT_TRUE(s->Close().ok());
  }
  auto s = OpenStore(o);  // the run rollup is rebuilt from the segments' aggregates
  ExpectAllSame(s.get(), "reopened");
  AggregateQuery q;
  q.level = AggLevel::kTrace;
  auto r = s->Aggregate(q);
  ASSERT_TRUE(r.ok() && r->from_rollups);
  EXPECT_EQ(r->rows[0].count, 120);
  EXPECT_EQ(r->rows[0].spans, static_cast<int64_t>(spans.size()));
}

TEST(EmbeddedStoreRollups, AReplacedSpanCountsOnce) {
  MemEnv env;
  auto s = OpenStore(Options(&env));
  auto spans = Generate(30, 1, 10);
  Append(s.get(), spans);
  Append(s.get(), spans);  // a retried batch: the same bytes
  for (auto& sp : spans) {  // and one that changed its mind
    sp.set_status(STATUS_ERROR);
    sp.set_end_ns(sp.end_ns() + 12345);
    sp.set_tool_name("other");
  }
  Append(s.get(), spans);
  ExpectAllSame(s.get(), "replaced");
  AggregateQuery q;
  auto r = s->Aggregate(q);
  ASSERT_TRUE(r.ok() && r->from_rollups);
  EXPECT_EQ(r->rows[0].count, static_cast<int64_t>(spans.size()));
  EXPECT_EQ(r->rows[0].errors, static_cast<int64_t>(spans.size()));
}

TEST(EmbeddedStoreRollups, OldMinutesFoldIntoHours) {
  MemEnv env;
  auto o = Options(&env);
  o.rollups.minute_window_ns = 0;  // everything before now is hours
  auto s = OpenStore(o);
  Append(s.get(), Generate(120, 1, 11));
  ASSERT_TRUE(s->FlushNow().ok());
  Append(s.get(), Generate(60, 1000, 12));  // minute rows in the memtable, read as hours
  const auto rows_before = s->Stats().rollup_rows;
  AggregateQuery q;
  q.sketches = kSketchDuration | kSketchCost;
  q.group_by = {AggDim::kTool, AggDim::kTime};
  q.bucket_ns = kHour;
  q.filter.from_ns = kT0 + kHour;
  q.filter.to_ns = kT0 + 5 * kHour - 1;
  ExpectSameAnswer(s.get(), q, "hour buckets");
  q.bucket_ns = 5 * kMinute;  // finer than what is kept: scanned
  auto r = s->Aggregate(q);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->from_rollups);
  // An unaligned range is widened to whole hours.
  q.bucket_ns = kHour;
  q.filter.from_ns = kT0 + kHour + 17 * kMinute;
  q.filter.to_ns = kT0 + 4 * kHour + 3 * kMinute;
  auto widened = s->Aggregate(q);
  q.filter.from_ns = kT0 + kHour;
  q.filter.to_ns = kT0 + 5 * kHour - 1;
  auto aligned = s->Aggregate(q);
  ASSERT_TRUE(widened.ok() && aligned.ok());
  EXPECT_TRUE(widened->from_rollups);
  ASSERT_EQ(widened->rows.size(), aligned->rows.size());
  for (size_t i = 0; i < widened->rows.size(); ++i) EXPECT_EQ(widened->rows[i].count, aligned->rows[i].count);
  EXPECT_GT(rows_before, 0);
}

TEST(EmbeddedStoreRollups, AnOverflowedBucketIsScanned) {
  MemEnv env;
  auto o = Options(&env);
  o.rollups.max_tuples_per_bucket = 2;
  auto s = OpenStore(o);
  std::vector<model::Span> spans;
  for (int i = 0; i < 3; ++i) {
    model::Span sp = MakeSpan({.trace = 1, .span = static_cast<uint64_t>(i + 1), .kind = KIND_TOOL,
                               .start = kT0 + i, .end = kT0 + 100});
    sp.set_tool_name("t" + std::to_string(i));
    spans.push_back(sp);
  }
  Append(s.get(), spans);
  AggregateQuery q;
  q.group_by = {AggDim::kTool};
  auto r = s->Aggregate(q);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->from_rollups);
  EXPECT_EQ(r->rows.size(), 3u);
}

TEST(EmbeddedStoreRollups, ADamagedRollupFileIsSetAsideAndQueriesScan) {
  MemEnv env;
  auto o = Options(&env);
  {
    auto s = OpenStore(o);
    Append(s.get(), Generate(50, 1, 13));
    ASSERT_TRUE(s->Close().ok());
  }
  auto bytes = ReadFileToString(&env, "/db/ROLLUPS");
  ASSERT_TRUE(bytes.ok());
  std::string b = *bytes;
  b[b.size() / 2] ^= 0x20;
  ASSERT_TRUE(WriteFileAtomically(&env, "/db/ROLLUPS", b).ok());
  auto s = OpenStore(o);
  ASSERT_TRUE(s);
  EXPECT_TRUE(env.FileExists("/db/ROLLUPS.corrupt"));
  EXPECT_FALSE(s->recovery_report().corruptions.empty());
  AggregateQuery q;
  auto r = s->Aggregate(q);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->from_rollups);
  EXPECT_EQ(r->rows[0].count, static_cast<int64_t>(Generate(50, 1, 13).size()));
}

TEST(EmbeddedStoreRollups, RetentionDropsRowsWhenTheirProjectKeepsNothingOlder) {
  MemEnv env;
  auto o = Options(&env);
  o.retention.default_policy = {1, 1, 2};
  o.retention.projects["p2"] = {1, retention::kForever, retention::kForever};
  auto s = OpenStore(o);
  Append(s.get(), Generate(60, 1, 14));
  ASSERT_TRUE(s->FlushNow().ok());
  AggregateQuery q;
  q.group_by = {AggDim::kProject};
  auto before = s->Aggregate(q);
  ASSERT_TRUE(before.ok() && before->from_rollups);
  ASSERT_EQ(before->rows.size(), 2u);
  ASSERT_TRUE(s->ApplyRetentionNow(kT0 + 10 * retention::kDayNs).ok());
  auto after = s->Aggregate(q);
  ASSERT_TRUE(after.ok() && after->from_rollups);
  ASSERT_EQ(after->rows.size(), 1u);
  EXPECT_EQ(after->rows[0].key[0], "p2");
  EXPECT_EQ(after->rows[0].count, before->rows[1].count);
  q.level = AggLevel::kTrace;  // runs follow the traces retention removes
  ExpectSameAnswer(s.get(), q, "runs after retention");
}

TEST(EmbeddedStoreRollups, InvalidOptionsAreRefused) {
  MemEnv env;
  auto o = Options(&env);
  o.rollups.max_tuples_per_bucket = 0;
  auto s = EmbeddedStore::Open(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("rollups"), std::string::npos);
}

}  // namespace
}  // namespace sightline::store

namespace sightline::store {
namespace {

// Runs in sessions: Generate's spans, each trace given one of `sessions` session ids.
std::vector<model::Span> InSessions(std::vector<model::Span> spans, size_t sessions) {
  for (auto& sp : spans) sp.set_session_id("s" + std::to_string(std::hash<std::string>{}(sp.trace_id()) % sessions));
  return spans;
}

TEST(EmbeddedStoreRollups, TopSessionsIsBoundedAndAgreesWithTheScan) {
  MemEnv env;
  auto s = OpenStore(Options(&env));
  Append(s.get(), InSessions(Generate(200, 1, 21), 40));
  ASSERT_TRUE(s->FlushNow().ok());
  Append(s.get(), InSessions(Generate(200, 1000, 22), 40));  // sessions across a segment and the memtable
  int asked = 0;
  for (AggOrder order : {AggOrder::kCost, AggOrder::kCount, AggOrder::kTokens, AggOrder::kErrors}) {
    for (int range = 0; range < 2; ++range) {
      for (bool p2 : {false, true}) {
        AggregateQuery q;
        q.level = AggLevel::kTrace;
        q.group_by = {AggDim::kSession};
        q.sketches = kSketchCost | kSketchDuration | kSketchSteps;
        q.order = order;
        q.limit = 5;
        if (range) {  // sessions straddling the edges are summed trace by trace
          q.filter.from_ns = kT0 + kHour + 7 * kMinute;
          q.filter.to_ns = kT0 + 4 * kHour;
        }
        if (p2) q.filter.projects = {"p2"};
        const std::string what = "order " + std::to_string(static_cast<int>(order)) + " range " +
                                 std::to_string(range) + (p2 ? " p2" : "");
        auto fast = s->Aggregate(q);
        q.allow_rollups = false;
        auto scan = s->Aggregate(q);
        ASSERT_TRUE(fast.ok() && scan.ok()) << what;
        EXPECT_GT(scan->rows_scanned, 0) << what;
        EXPECT_EQ(fast->groups, scan->groups) << what;
        EXPECT_GT(fast->groups, 5) << what;
        ASSERT_EQ(fast->rows.size(), scan->rows.size()) << what;
        EXPECT_NEAR(fast->group_median, scan->group_median, 1e-9 * std::max(1.0, std::abs(scan->group_median)))
            << what;
        for (size_t i = 0; i < scan->rows.size(); ++i) {
          const AggregateRow &a = fast->rows[i], &b = scan->rows[i];
          const std::string at = what + " row " + std::to_string(i);
          EXPECT_EQ(a.key, b.key) << at;
          EXPECT_EQ(a.count, b.count) << at;
          EXPECT_EQ(a.errors, b.errors) << at;
          EXPECT_EQ(a.interrupts, b.interrupts) << at;
          EXPECT_EQ(a.spans, b.spans) << at;
          EXPECT_EQ(a.input_tokens + a.output_tokens, b.input_tokens + b.output_tokens) << at;
          EXPECT_NEAR(a.cost_usd, b.cost_usd, 1e-9) << at;
          EXPECT_TRUE(a.cost == b.cost) << at;
          EXPECT_TRUE(a.duration_ns == b.duration_ns) << at;
          EXPECT_TRUE(a.steps == b.steps) << at;
        }
        ++asked;
      }
    }
  }
  EXPECT_EQ(asked, 16);
  // More sessions than max_groups: the scan refuses, the top-k does not.
  AggregateQuery q;
  q.level = AggLevel::kTrace;
  q.group_by = {AggDim::kSession};
  q.sketches = kSketchCost;
  q.order = AggOrder::kCost;
  q.limit = 3;
  q.max_groups = 10;
  auto fast = s->Aggregate(q);
  ASSERT_TRUE(fast.ok()) << fast.status().ToString();
  EXPECT_EQ(fast->groups, 40);
  EXPECT_EQ(fast->rows.size(), 3u);
  EXPECT_GE(fast->rows[0].cost_usd, fast->rows[1].cost_usd);
  q.allow_rollups = false;
  EXPECT_FALSE(s->Aggregate(q).ok());
  // Not a top-k (no limit) or a filter the session records cannot answer: as before.
  q.allow_rollups = true;
  q.limit = 0;
  EXPECT_FALSE(s->Aggregate(q).ok());
  q.limit = 3;
  q.filter.service = "svc1";
  EXPECT_FALSE(s->Aggregate(q).ok());
}

TEST(EmbeddedStoreRollups, TopSessionsNeedNoRollups) {
  MemEnv env;
  auto o = Options(&env);
  o.rollups.enabled = false;
  auto s = OpenStore(o);
  Append(s.get(), InSessions(Generate(100, 1, 25), 30));
  AggregateQuery q;
  q.level = AggLevel::kTrace;
  q.group_by = {AggDim::kSession};
  q.order = AggOrder::kCount;
  q.limit = 2;
  q.max_groups = 5;
  auto r = s->Aggregate(q);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  q.max_groups = 100;
  q.allow_rollups = false;
  auto scan = s->Aggregate(q);
  ASSERT_TRUE(scan.ok());
  EXPECT_GT(r->groups, 5);
  EXPECT_EQ(r->groups, scan->groups);
  ASSERT_EQ(r->rows.size(), 2u);
  EXPECT_EQ(r->rows[0].key, scan->rows[0].key);
  EXPECT_GE(r->rows[0].count, r->rows[1].count);
}

TEST(EmbeddedStoreRollups, TurnedOffTheRollupFileIsRemoved) {
  MemEnv env;
  auto o = Options(&env);
  {
    auto s = OpenStore(o);
    Append(s.get(), Generate(30, 1, 23));
    ASSERT_TRUE(s->Close().ok());
  }
  ASSERT_TRUE(env.FileExists("/db/ROLLUPS"));
  o.rollups.enabled = false;
  {
    auto s = OpenStore(o);
    Append(s.get(), Generate(30, 1000, 24));  // not in any rollup
    ASSERT_TRUE(s->Close().ok());
  }
  EXPECT_FALSE(env.FileExists("/db/ROLLUPS"));
  o.rollups.enabled = true;  // on again: span-level queries scan, and count every span
  auto s = OpenStore(o);
  AggregateQuery q;
  auto r = s->Aggregate(q);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->from_rollups);
  EXPECT_EQ(r->rows[0].count, static_cast<int64_t>(Generate(30, 1, 23).size() + Generate(30, 1000, 24).size()));
}

}  // namespace
}  // namespace sightline::store
