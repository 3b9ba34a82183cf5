// Repricing (store/reprice/reprice.h): the spans of the period get the new costs,
// reported costs stay, spans outside the period stay; trace and session summaries, the
// run rollups and the span rollups follow (answers from the rollups equal a scan of the
// rewritten spans); restarts; and the crash points of a file step: before the manifest
// edit (old costs everywhere), between the manifest edit and the rollup file (Open
// applies the journal), after the rollup file (Open does not apply it twice).
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <utility>

#include <xxhash.h>

#include "common/fault_injection_env.h"
#include "common/mem_env.h"
#include "store/coding.h"
#include "store/embedded_store.h"
#include "store/rollup/rollup.h"
#include "store/store_test_util.h"

namespace sightline::store {
namespace {

using testing::AppendSync;
using testing::MakeSpan;
using namespace model::v1;

constexpr int64_t kMinute = 60'000'000'000;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kT0 = 1'700'000'040'000'000'000 - 1'700'000'040'000'000'000 % kHour;

// Each trace: an agent root, two model calls (one with a reported cost on odd traces),
// one tool call; trace t starts at kT0 + t minutes; sessions of four traces.
std::vector<model::Span> Generate(int traces, double per_token) {
  std::vector<model::Span> out;
  for (int t = 0; t < traces; ++t) {
    const uint64_t trace = static_cast<uint64_t>(t + 1);
    const int64_t start = kT0 + t * kMinute;
    auto add = [&](uint64_t span, uint64_t parent, SpanKind kind, int64_t offset) -> model::Span& {
      model::Span sp = MakeSpan({.trace = trace, .span = span, .parent = parent, .name = "s" + std::to_string(span),
                                 .kind = kind, .status = STATUS_OK, .start = start + offset,
                                 .end = start + offset + 1000000});
      sp.set_session_id("sess" + std::to_string(t / 4));
      sp.set_user_id("u" + std::to_string(t % 3));
      sp.set_agent_name("agent");
      sp.set_service("svc");
      out.push_back(std::move(sp));
      return out.back();
    };
    add(1, 0, KIND_AGENT, 0);
    for (uint64_t k = 2; k <= 3; ++k) {
      model::Span& m = add(k, 1, KIND_LLM, static_cast<int64_t>(k) * 1000);
      m.set_model(k == 2 ? "m-a" : "m-b");
      m.set_input_tokens(100 * static_cast<int64_t>(k) + t);
      m.set_output_tokens(10);
      if (k == 3 && t % 2 == 1) {
        m.set_cost_usd(0.5);
        m.set_cost_source(COST_REPORTED);
        m.set_computed_cost_usd(static_cast<double>(m.input_tokens()) * per_token);
      } else {
        m.set_cost_usd(static_cast<double>(m.input_tokens()) * per_token);
        m.set_computed_cost_usd(m.cost_usd());
        m.set_cost_source(COST_COMPUTED);
      }
    }
    model::Span& tool = add(4, 1, KIND_TOOL, 5000);
    tool.set_tool_name("search");
  }
  return out;
}

// The catalogue's part in a test: every model call costs its input tokens × per_token.
std::function<bool(model::Span*)> PriceAt(double per_token) {
  return [per_token](model::Span* s) {
    if (s->kind() != KIND_LLM || s->model().empty()) return false;
    const double cost = static_cast<double>(s->input_tokens()) * per_token;
    bool changed = !s->has_computed_cost_usd() || s->computed_cost_usd() != cost;
    s->set_computed_cost_usd(cost);
    if (s->cost_source() != COST_REPORTED) {
      changed = changed || !s->has_cost_usd() || s->cost_usd() != cost || s->cost_source() != COST_COMPUTED;
      s->set_cost_usd(cost);
      s->set_cost_source(COST_COMPUTED);
    }
    return changed;
  };
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

// The expected cost_usd of trace t (1-based) priced at per_token, when its start is in
// the repriced range (else at old).
double ExpectedTraceCost(int t, double per_token) {
  const int i = t - 1;
  double c = static_cast<double>(200 + i) * per_token;
  c += i % 2 == 1 ? 0.5 : static_cast<double>(300 + i) * per_token;
  return c;
}

// Every derived total against the spans: trace summaries, session summaries, and the
// rollup answers (span level and run level) against the same queries scanning spans.
void ExpectConsistent(EmbeddedStore* s, int traces, const std::function<double(int)>& per_token_of,
                      const std::string& when) {
  std::map<std::string, double> sessions;
  for (int t = 1; t <= traces; ++t) {
    auto d = s->GetTrace(testing::TraceId(static_cast<uint64_t>(t)), {});
    ASSERT_TRUE(d.ok()) << when << d.status().ToString();
    const double want = ExpectedTraceCost(t, per_token_of(t));
    EXPECT_NEAR(d->summary.cost_usd, want, 1e-9) << when << " trace " << t;
    double spans = 0;
    for (const auto& sp : d->spans) {
      spans += sp.cost_usd();
      if (sp.kind() == KIND_LLM && sp.cost_source() == COST_REPORTED) {
        EXPECT_EQ(sp.cost_usd(), 0.5) << when << ": a reported cost stays";
        EXPECT_NEAR(sp.computed_cost_usd(), static_cast<double>(sp.input_tokens()) * per_token_of(t), 1e-12) << when;
      }
    }
    EXPECT_NEAR(spans, want, 1e-9) << when << " trace " << t << " spans";
    sessions["sess" + std::to_string((t - 1) / 4)] += want;
  }
  for (const auto& [id, cost] : sessions) {
    auto sd = s->GetSession(id, {});
    ASSERT_TRUE(sd.ok()) << when << sd.status().ToString();
    EXPECT_NEAR(sd->session.cost_usd, cost, 1e-9) << when << " " << id;
  }
  for (AggLevel level : {AggLevel::kSpan, AggLevel::kTrace}) {
    for (std::vector<AggDim> by : {std::vector<AggDim>{}, {AggDim::kModel}, {AggDim::kTime}}) {
      if (level == AggLevel::kTrace && !by.empty() && by[0] == AggDim::kModel) continue;
      AggregateQuery q;
      q.level = level;
      q.group_by = by;
      q.bucket_ns = kHour;
      q.sketches = kSketchCost;
      q.allow_rollups = true;
      auto fast = s->Aggregate(q);
      q.allow_rollups = false;
      auto scan = s->Aggregate(q);
      ASSERT_TRUE(fast.ok() && scan.ok()) << when;
      const std::string at = when + (level == AggLevel::kSpan ? " spans" : " runs") + " by " +
                             std::to_string(by.empty() ? -1 : static_cast<int>(by[0]));
      EXPECT_TRUE(fast->from_rollups) << at;
      ASSERT_EQ(fast->rows.size(), scan->rows.size()) << at;
      for (size_t i = 0; i < fast->rows.size(); ++i) {
        EXPECT_EQ(fast->rows[i].key, scan->rows[i].key) << at;
        EXPECT_NEAR(fast->rows[i].cost_usd, scan->rows[i].cost_usd, 1e-9) << at << " row " << i;
        EXPECT_EQ(fast->rows[i].cost_known, scan->rows[i].cost_known) << at << " row " << i;
        EXPECT_EQ(fast->rows[i].count, scan->rows[i].count) << at << " row " << i;
        EXPECT_EQ(fast->rows[i].cost.count(), scan->rows[i].cost.count()) << at << " row " << i;
        if (!scan->rows[i].cost.empty()) {
          EXPECT_NEAR(fast->rows[i].cost.Quantile(0.5), scan->rows[i].cost.Quantile(0.5),
                      0.02 * scan->rows[i].cost.Quantile(0.5))
              << at << " row " << i;
        }
      }
    }
  }
}

constexpr int kTraces = 24;
constexpr double kOld = 1e-6, kNew = 3e-6;

// Traces 1..24 in three files (0-7, 8-15 flushed; 16-23 in the memtable).
void Load(EmbeddedStore* s) {
  auto spans = Generate(kTraces, kOld);
  const size_t per = spans.size() / 3;
  for (int part = 0; part < 3; ++part) {
    std::vector<model::Span> chunk(spans.begin() + static_cast<ptrdiff_t>(part * per),
                                   spans.begin() + static_cast<ptrdiff_t>((part + 1) * per));
    ASSERT_TRUE(AppendSync(s, std::move(chunk)).ok());
    if (part < 2) {
      ASSERT_TRUE(s->FlushNow().ok());
    }
  }
}

RepriceRequest Request(int first_trace, int last_trace) {
  RepriceRequest r;
  r.from_ns = kT0 + (first_trace - 1) * kMinute;
  r.to_ns = kT0 + last_trace * kMinute - 1;
  r.reprice = PriceAt(kNew);
  return r;
}

TEST(EmbeddedStoreReprice, RepricesThePeriodAndEveryTotalFollows) {
  MemEnv env;
  auto s = OpenStore(Options(&env));
  Load(s.get());
  ExpectConsistent(s.get(), kTraces, [](int) { return kOld; }, "before");
  // Traces 5..20: part of the first file, all of the second, part of the memtable's.
  std::vector<RepriceProgress> seen;
  RepriceRequest r = Request(5, 20);
  r.progress = [&](const RepriceProgress& p) { seen.push_back(p); };
  auto done = s->Reprice(r);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  auto in_range = [](int t) { return t >= 5 && t <= 20 ? kNew : kOld; };
  ExpectConsistent(s.get(), kTraces, in_range, "after");
  EXPECT_EQ(done->segments_total, 3u);
  EXPECT_EQ(done->segments_done, 3u);
  EXPECT_EQ(done->segments_rewritten, 3u);
  EXPECT_EQ(done->spans_examined, 16u * 4);
  EXPECT_EQ(done->spans_repriced, 16u * 2);  // both model calls (the reported one's computed cost)
  double before = 0, after = 0;
  for (int t = 5; t <= 20; ++t) {
    before += ExpectedTraceCost(t, kOld);
    after += ExpectedTraceCost(t, kNew);
  }
  EXPECT_NEAR(after - before, done->cost_after_usd - done->cost_before_usd, 1e-9);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back().segments_done, 3u);
  EXPECT_FALSE(env.FileExists("/db/REPRICE"));

  // Idempotent: the same request again changes nothing and rewrites no file.
  auto again = s->Reprice(Request(5, 20));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->segments_rewritten, 0u);
  EXPECT_EQ(again->spans_repriced, 0u);
  ExpectConsistent(s.get(), kTraces, in_range, "after a second reprice");

  ASSERT_TRUE(s->Close().ok());
  s = OpenStore(Options(&env));
  ExpectConsistent(s.get(), kTraces, in_range, "after a restart");
}

TEST(EmbeddedStoreReprice, RefusesABadRequest) {
  MemEnv env;
  auto s = OpenStore(Options(&env));
  RepriceRequest r = Request(5, 20);
  r.reprice = nullptr;
  EXPECT_EQ(s->Reprice(r).status().code(), StatusCode::kInvalidArgument);
  r = Request(5, 20);
  std::swap(r.from_ns, r.to_ns);
  EXPECT_EQ(s->Reprice(r).status().code(), StatusCode::kInvalidArgument);
}

TEST(EmbeddedStoreReprice, ACrashBeforeTheManifestEditKeepsTheOldCosts) {
  MemEnv mem;
  FaultInjectionEnv env(&mem);
  auto o = Options(&env);
  o.flush_on_close = false;
  {
    auto s = OpenStore(o);
    Load(s.get());
    ASSERT_TRUE(s->FlushNow().ok());
    env.OnlyPaths("MANIFEST");
    env.FailNth(FaultInjectionEnv::Op::kSync, 1, Status::IOError("injected"), true);
    auto r = s->Reprice(Request(1, kTraces));
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(mem.FileExists("/db/REPRICE"));  // the journal of the step in flight
    // Another reprice must not overwrite it before Open decides.
    env.Reset();
    EXPECT_FALSE(s->Reprice(Request(1, kTraces)).ok());
    (void)s->Close();
  }
  mem.DropUnsyncedData();
  auto s = OpenStore(Options(&mem));
  ExpectConsistent(s.get(), kTraces, [](int) { return kOld; }, "after the crash");
  EXPECT_FALSE(mem.FileExists("/db/REPRICE"));
  // And the reprice, run again, completes.
  ASSERT_TRUE(s->Reprice(Request(1, kTraces)).ok());
  ExpectConsistent(s.get(), kTraces, [](int) { return kNew; }, "repriced after the crash");
}

TEST(EmbeddedStoreReprice, ACrashBeforeTheRollupFileIsRepairedFromTheJournal) {
  MemEnv mem;
  FaultInjectionEnv env(&mem);
  auto o = Options(&env);
  o.flush_on_close = false;
  {
    auto s = OpenStore(o);
    Load(s.get());
    ASSERT_TRUE(s->FlushNow().ok());
    // The first file's step: journal and manifest edit done, the rollup file not.
    env.OnlyPaths("ROLLUPS");
    env.FailNth(FaultInjectionEnv::Op::kRename, 1, Status::IOError("injected"), true);
    auto r = s->Reprice(Request(1, kTraces));
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(mem.FileExists("/db/REPRICE"));
    (void)s->Close();
  }
  mem.DropUnsyncedData();
  {
    auto s = OpenStore(Options(&mem));
    // The first file (traces 1-8) is repriced, in the segments and in the rollups; the
    // others keep their old costs.
    ExpectConsistent(s.get(), kTraces, [](int t) { return t <= 8 ? kNew : kOld; }, "after the repair");
    EXPECT_FALSE(mem.FileExists("/db/REPRICE"));
    ASSERT_TRUE(s->Close().ok());
  }
  auto s = OpenStore(Options(&mem));
  ExpectConsistent(s.get(), kTraces, [](int t) { return t <= 8 ? kNew : kOld; }, "after another restart");
}

TEST(EmbeddedStoreReprice, AJournalLeftAfterTheRollupFileIsNotAppliedTwice) {
  MemEnv mem;
  FaultInjectionEnv env(&mem);
  auto o = Options(&env);
  o.flush_on_close = false;
  {
    auto s = OpenStore(o);
    Load(s.get());
    ASSERT_TRUE(s->FlushNow().ok());
    // Everything of the first step is durable but the journal's removal.
    env.OnlyPaths("REPRICE");
    env.FailNth(FaultInjectionEnv::Op::kRemove, 1, Status::IOError("injected"), true);
    auto r = s->Reprice(Request(1, kTraces));
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(mem.FileExists("/db/REPRICE"));
    (void)s->Close();
  }
  mem.DropUnsyncedData();
  auto s = OpenStore(Options(&mem));
  ExpectConsistent(s.get(), kTraces, [](int t) { return t <= 8 ? kNew : kOld; }, "after the restart");
  EXPECT_FALSE(mem.FileExists("/db/REPRICE"));
}

TEST(EmbeddedStoreReprice, ADamagedJournalSetsTheRollupsAside) {
  MemEnv env;
  {
    auto s = OpenStore(Options(&env));
    Load(s.get());
    ASSERT_TRUE(s->Close().ok());
  }
  ASSERT_TRUE(WriteFileAtomically(&env, "/db/REPRICE", "SLREPR01 not a journal, just damage").ok());
  auto s = OpenStore(Options(&env));
  EXPECT_FALSE(s->recovery_report().corruptions.empty());
  EXPECT_FALSE(env.FileExists("/db/REPRICE"));
  EXPECT_TRUE(env.FileExists("/db/ROLLUPS.corrupt"));
  AggregateQuery q;
  auto r = s->Aggregate(q);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->from_rollups);  // scanned: still right
  auto d = s->GetTrace(testing::TraceId(3), {});
  ASSERT_TRUE(d.ok());
  EXPECT_NEAR(d->summary.cost_usd, ExpectedTraceCost(3, kOld), 1e-12);
}

// RollupTable::AdjustCost trades a cost for another in the row, and the rollup file's
// version 2 (rewrite_seq) still reads version 1 files.
TEST(RollupFile, AdjustCostAndVersion1StillReads) {
  StringPool pool;
  rollup::RollupTable t;
  SpanFacts f;
  f.project = "p";
  f.model = "m";
  f.kind = KIND_LLM;
  f.start_ns = kT0;
  f.end_ns = kT0 + 5;
  f.has_cost = true;
  f.cost_usd = 0.5;
  t.Add(f, &pool);
  auto row = [&]() -> const rollup::Values& { return t.buckets().begin()->second.values()[0]; };
  t.AdjustCost(f, true, 0.5, true, 0.75, &pool);
  EXPECT_DOUBLE_EQ(row().cost_usd, 0.75);
  EXPECT_EQ(row().cost_known, 1);
  EXPECT_EQ(row().cost.count(), 1u);
  EXPECT_EQ(row().count, 1);
  t.AdjustCost(f, true, 0.75, false, 0, &pool);  // no longer priced
  EXPECT_DOUBLE_EQ(row().cost_usd, 0);
  EXPECT_EQ(row().cost_known, 0);
  EXPECT_EQ(row().cost.count(), 0u);
  t.AdjustCost(f, false, 0, true, 0.25, &pool);  // priced now
  EXPECT_DOUBLE_EQ(row().cost_usd, 0.25);
  SpanFacts elsewhere = f;
  elsewhere.model = "other";
  t.AdjustCost(elsewhere, false, 0, true, 9, &pool);  // no such row: nothing happens
  EXPECT_EQ(t.rows(), 1u);

  t.set_rewrite_seq(9);
  std::string v2;
  t.Encode(pool, 42, &v2);
  rollup::RollupTable back;
  uint64_t covered = 0;
  ASSERT_TRUE(rollup::RollupTable::Decode(v2, &pool, &back, &covered).ok());
  EXPECT_EQ(back.rewrite_seq(), 9u);
  EXPECT_EQ(covered, 42u);
  // Version 1: the same bytes without rewrite_seq (after magic, u32 version, 3 × u64).
  std::string v1 = v2.substr(0, 8);
  PutFixed32(&v1, 1);
  v1 += v2.substr(12, 24);
  v1 += v2.substr(44, v2.size() - 44 - 8);
  PutFixed64(&v1, XXH3_64bits(v1.data(), v1.size()));
  rollup::RollupTable old;
  ASSERT_TRUE(rollup::RollupTable::Decode(v1, &pool, &old, &covered).ok());
  EXPECT_EQ(old.rewrite_seq(), 0u);
  EXPECT_EQ(covered, 42u);
  ASSERT_EQ(old.rows(), 1u);
  EXPECT_DOUBLE_EQ(old.buckets().begin()->second.values()[0].cost_usd, 0.25);
}

TEST(RepriceJournal, RoundTripsAndRefusesDamage) {
  RepriceStep step;
  step.seq = 7;
  step.outputs = {12, 13};
  CostChange c;
  c.trace = TraceKey{1, 2};
  c.start_ns = -5;
  c.project = step.pool->Intern("p");
  c.model = step.pool->Intern("m");
  c.kind = 2;
  c.had_cost = true;
  c.before = 0.25;
  c.has_cost = false;
  step.changes.push_back(c);
  std::string bytes;
  EncodeRepriceStep(step, &bytes);
  RepriceStep back;
  ASSERT_TRUE(DecodeRepriceStep(bytes, &back).ok());
  EXPECT_EQ(back.seq, 7u);
  EXPECT_EQ(back.outputs, step.outputs);
  ASSERT_EQ(back.changes.size(), 1u);
  EXPECT_TRUE(back.changes[0].trace == c.trace);
  EXPECT_EQ(back.changes[0].start_ns, -5);
  EXPECT_EQ(back.pool->Get(back.changes[0].model), "m");
  EXPECT_EQ(back.pool->Get(back.changes[0].project), "p");
  EXPECT_TRUE(back.changes[0].had_cost);
  EXPECT_FALSE(back.changes[0].has_cost);
  EXPECT_EQ(back.changes[0].before, 0.25);
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string bad = bytes;
    bad[i] = static_cast<char>(bad[i] ^ 0x20);
    EXPECT_EQ(DecodeRepriceStep(bad, &back).code(), StatusCode::kCorruption) << i;
  }
  EXPECT_EQ(DecodeRepriceStep(bytes.substr(0, bytes.size() - 1), &back).code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace sightline::store
