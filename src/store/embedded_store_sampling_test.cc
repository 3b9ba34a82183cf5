// Tail sampling (docs/sampling.md): the policy's arithmetic, and the store applying it
// once per trace when the trace is complete — errors, interrupts and flagged traces
// always kept, the configured share of sessions kept whole, runs split over several
// flushes judged whole, rollups counting every span, the counts persisted, drops
// surviving restarts and crashes and leaving the files at compaction, late spans of a
// dropped run dropped, and a reloaded policy.
#include <gtest/gtest.h>
#include <zstd.h>

#include <map>
#include <set>

#include "common/fault_injection_env.h"
#include "common/mem_env.h"
#include "store/embedded_store.h"
#include "store/sampling/sampling_policy.h"
#include "store/sampling/sampling_state.h"
#include "store/data_dir_bytes_test_util.h"
#include "store/store_test_util.h"

namespace sightline::store {
namespace {

using testing::AppendSync;
using testing::MakeSpan;
using testing::TraceId;

TEST(SamplingPolicy, DecidesByStatusFlagThenSessionHash) {
  sampling::SamplingPolicy p;
  p.keep_fraction = 0.0;
  TraceKey k{1, 2};
  EXPECT_EQ(sampling::Decide(p, true, false, false, "s", k).reason, sampling::Reason::kError);
  EXPECT_TRUE(sampling::Decide(p, false, true, false, "s", k).keep);
  EXPECT_TRUE(sampling::Decide(p, false, false, true, "s", k).keep);
  EXPECT_FALSE(sampling::Decide(p, false, false, false, "s", k).keep);
  p.keep_fraction = 1.0;
  EXPECT_TRUE(sampling::Decide(p, false, false, false, "s", k).keep);
  // The share of sessions kept is the fraction, within tolerance; a session's traces
  // all get the same answer whatever their trace ids.
  p.keep_fraction = 0.3;
  int kept = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string s = "session-" + std::to_string(i);
    bool a = sampling::Decide(p, false, false, false, s, TraceKey{1, static_cast<uint64_t>(i)}).keep;
    bool b = sampling::Decide(p, false, false, false, s, TraceKey{7, static_cast<uint64_t>(i) * 31}).keep;
    EXPECT_EQ(a, b);
    kept += a;
  }
  EXPECT_NEAR(kept / 20000.0, 0.3, 0.02);
  // Completeness: root ended and quiet, or the timeout.
  p.quiet_ms = 1000;
  p.timeout_ms = 10000;
  const int64_t ms = 1000000;
  EXPECT_FALSE(sampling::Complete(p, true, 0, 500 * ms, 1000 * ms));
  EXPECT_TRUE(sampling::Complete(p, true, 0, 500 * ms, 1500 * ms));
  EXPECT_FALSE(sampling::Complete(p, false, 0, 500 * ms, 9000 * ms));
  EXPECT_TRUE(sampling::Complete(p, false, 0, 500 * ms, 10000 * ms));
  sampling::SamplingOptions o;
  o.defaults.keep_fraction = 1.5;
  EXPECT_FALSE(o.Validate().ok());
}

EmbeddedStoreOptions Opts(Env* env, double fraction) {
  EmbeddedStoreOptions o;
  o.env = env;
  o.dir = "/data";
  o.retry_interval_ms = 2;
  o.min_free_bytes = 0;
  o.compaction.interval_ms = 3600 * 1000;
  o.compaction.lower_priority = false;
  o.logger = [](const std::string&) {};
  o.sampling.defaults.keep_fraction = fraction;
  o.sampling.defaults.quiet_ms = 30000;
  return o;
}

enum Kind { kPlain, kError, kInterrupt, kFlagged };

// Trace t of session s: a root and two children, finished long ago (complete).
std::vector<model::Span> MakeRun(uint64_t t, const std::string& session, Kind kind, int64_t at = 1000) {
  std::vector<model::Span> out;
  for (uint64_t k = 0; k < 3; ++k) {
    auto sp = MakeSpan({.trace = t, .span = k + 1, .parent = k == 0 ? uint64_t{0} : uint64_t{1}, .start = at, .end = at + 100});
    sp.set_session_id(session);
    if (k == 2 && kind == kError) sp.set_status(model::v1::STATUS_ERROR);
    if (k == 2 && kind == kInterrupt) sp.set_status(model::v1::STATUS_INTERRUPT);
    if (k == 1 && kind == kFlagged) {
      auto* a = sp.add_attributes();
      a->set_key("sightline.keep");
      a->mutable_value()->set_bool_value(true);
    }
    out.push_back(std::move(sp));
  }
  return out;
}

TEST(Sampling, KeepsEveryFailureAndFlagAndAShareOfWholeSessions) {
  MemEnv mem;
  auto s = EmbeddedStore::Open(Opts(&mem, 0.25));
  ASSERT_TRUE(s.ok());
  auto& st = *s;
  std::map<uint64_t, std::pair<int, Kind>> traces;  // trace -> session, kind
  uint64_t t = 1;
  for (int sess = 0; sess < 300; ++sess) {
    std::vector<model::Span> batch;
    for (int k = 0; k < 3; ++k, ++t) {
      Kind kind = t % 7 == 0 ? kError : t % 11 == 0 ? kInterrupt : t % 13 == 0 ? kFlagged : kPlain;
      traces[t] = {sess, kind};
      auto r = MakeRun(t, "sess-" + std::to_string(sess), kind);
      batch.insert(batch.end(), r.begin(), r.end());
    }
    ASSERT_TRUE(AppendSync(st.get(), batch).ok());
  }
  ASSERT_TRUE(st->FlushNow().ok());
  std::map<int, std::set<bool>> plain_kept;  // session -> outcomes of its plain traces
  int special = 0;
  for (const auto& [id, sk] : traces) {
    bool found = st->GetTrace(TraceId(id), {}).ok();
    if (sk.second != kPlain) {
      EXPECT_TRUE(found) << "trace " << id << " kind " << sk.second;
      ++special;
    } else {
      plain_kept[sk.first].insert(found);
    }
  }
  int kept_sessions = 0;
  for (const auto& [sess, outcomes] : plain_kept) {
    EXPECT_EQ(outcomes.size(), 1u) << "session " << sess << " was split";
    kept_sessions += *outcomes.begin();
  }
  EXPECT_NEAR(static_cast<double>(kept_sessions) / plain_kept.size(), 0.25, 0.08);
  // Counts: every trace decided once; the reasons add up.
  int64_t kept = 0, dropped = 0, flagged = 0, errors = 0;
  for (const auto& c : st->SamplingCounts()) {
    (c.kept ? kept : dropped) += c.traces;
    if (c.reason == "flagged") flagged += c.traces;
    if (c.reason == "error") errors += c.traces;
    EXPECT_EQ(c.project, "default");
  }
  EXPECT_EQ(kept + dropped, static_cast<int64_t>(traces.size()));
  EXPECT_GT(flagged, 0);
  EXPECT_GT(errors, 0);
  // Rollups counted every span before sampling.
  AggregateQuery q;
  q.level = AggLevel::kSpan;
  auto agg = st->Aggregate(q);
  ASSERT_TRUE(agg.ok()) << agg.status().ToString();
  ASSERT_EQ(agg->rows.size(), 1u);
  EXPECT_TRUE(agg->from_rollups);
  EXPECT_EQ(agg->rows[0].count, static_cast<int64_t>(traces.size() * 3));
  // Late spans of a dropped trace are dropped too; after a restart nothing comes back.
  uint64_t dropped_id = 0;
  for (const auto& [id, sk] : traces)
    if (sk.second == kPlain && !st->GetTrace(TraceId(id), {}).ok()) dropped_id = id;
  ASSERT_NE(dropped_id, 0u);
  auto late = MakeSpan({.trace = dropped_id, .span = 9, .parent = 1});
  ASSERT_TRUE(AppendSync(st.get(), {late}).ok());
  EXPECT_FALSE(st->GetTrace(TraceId(dropped_id), {}).ok());
  std::set<uint64_t> before;
  for (const auto& [id, sk] : traces)
    if (st->GetTrace(TraceId(id), {}).ok()) before.insert(id);
  ASSERT_TRUE(st->Close().ok());
  auto r = EmbeddedStore::Open(Opts(&mem, 0.25));
  ASSERT_TRUE(r.ok());
  std::set<uint64_t> after;
  for (const auto& [id, sk] : traces)
    if ((*r)->GetTrace(TraceId(id), {}).ok()) after.insert(id);
  EXPECT_EQ(before, after);
}

TEST(Sampling, TracesWaitUntilCompleteThenAreDecidedOnce) {
  MemEnv mem;
  auto s = EmbeddedStore::Open(Opts(&mem, 0.0));  // drop every plain trace once complete
  ASSERT_TRUE(s.ok());
  auto& st = *s;
  const int64_t now = mem.NowNanos();
  const int64_t sec = 1000000000;
  // 1: root ended just now (quiet period not over). 2: no root yet, started now.
  ASSERT_TRUE(AppendSync(st.get(), MakeRun(1, "a", kPlain, now)).ok());
  auto r2 = MakeRun(2, "b", kPlain, now);
  r2.erase(r2.begin());
  ASSERT_TRUE(AppendSync(st.get(), r2).ok());
  ASSERT_TRUE(st->FlushNow().ok());
  EXPECT_TRUE(st->GetTrace(TraceId(1), {}).ok());
  EXPECT_TRUE(st->GetTrace(TraceId(2), {}).ok());
  EXPECT_TRUE(st->SamplingCounts().empty());
  // The quiet period over: 1 is decided (from its segment); 2 waits for the timeout.
  ASSERT_TRUE(st->SampleNow(now + 31 * sec).ok());
  EXPECT_FALSE(st->GetTrace(TraceId(1), {}).ok());
  EXPECT_TRUE(st->GetTrace(TraceId(2), {}).ok());
  ASSERT_TRUE(st->SampleNow(now + 3601 * sec).ok());
  EXPECT_FALSE(st->GetTrace(TraceId(2), {}).ok());
  // A plain, complete trace is dropped at the flush that writes it (the control).
  ASSERT_TRUE(AppendSync(st.get(), MakeRun(5, "e", kPlain)).ok());
  ASSERT_TRUE(st->FlushNow().ok());
  EXPECT_FALSE(st->GetTrace(TraceId(5), {}).ok());
  // Each decided once, whatever the sweeps after.
  ASSERT_TRUE(st->SampleNow(now + 7200 * sec).ok());
  int64_t dropped = 0;
  for (const auto& c : st->SamplingCounts()) {
    EXPECT_FALSE(c.kept);
    EXPECT_EQ(c.reason, "sampled_out");
    dropped += c.traces;
  }
  EXPECT_EQ(dropped, 3);
}

using sightline::store::testing::AllBytes;

std::string Payload(uint64_t t) { return "payload-" + std::to_string(t) + "-end"; }

// Runs split over three flushes: trace t of session t's first child in the first, the
// second child in the second, the root in the third; all recent (so none is complete
// before its root arrives) and carrying Payload(t). Errors sit in the first part,
// interrupts and flags in the second.
struct SplitRuns {
  std::map<uint64_t, Kind> kind;
  int64_t now = 0;
};

SplitRuns WriteSplitRuns(EmbeddedStore* st, int64_t now, uint64_t first, uint64_t n) {
  SplitRuns out;
  out.now = now;
  const int64_t sec = 1000000000;
  std::vector<std::vector<model::Span>> parts(3);
  for (uint64_t t = first; t < first + n; ++t) {
    Kind kind = t % 7 == 0 ? kError : t % 11 == 0 ? kInterrupt : t % 13 == 0 ? kFlagged : kPlain;
    out.kind[t] = kind;
    for (uint64_t k = 0; k < 3; ++k) {
      auto sp = MakeSpan({.trace = t, .span = k + 1, .parent = k == 0 ? uint64_t{0} : uint64_t{1},
                          .start = now - 20 * sec, .end = now - 10 * sec});
      sp.set_session_id("session-" + std::to_string(t));
      sp.set_input_json("\"" + Payload(t) + "\"");
      if (k == 1 && kind == kError) sp.set_status(model::v1::STATUS_ERROR);
      if (k == 2 && kind == kInterrupt) sp.set_status(model::v1::STATUS_INTERRUPT);
      if (k == 2 && kind == kFlagged) {
        auto* a = sp.add_attributes();
        a->set_key("sightline.keep");
        a->mutable_value()->set_string_value("true");
      }
      parts[k == 0 ? 2 : k - 1].push_back(std::move(sp));
    }
  }
  for (auto& p : parts) {
    EXPECT_TRUE(AppendSync(st, p).ok());
    EXPECT_TRUE(st->FlushNow().ok());
  }
  return out;
}

std::set<uint64_t> Found(EmbeddedStore* st, const SplitRuns& runs) {
  std::set<uint64_t> out;
  for (const auto& [t, k] : runs.kind)
    if (st->GetTrace(TraceId(t), {}).ok()) out.insert(t);
  return out;
}

// What the policy says for each run, as the flush-time rule would give it whole.
std::set<uint64_t> Expected(const SplitRuns& runs, double fraction) {
  sampling::SamplingPolicy p;
  p.keep_fraction = fraction;
  std::set<uint64_t> out;
  for (const auto& [t, k] : runs.kind) {
    TraceKey key = TraceKey::FromBytes(TraceId(t));
    if (sampling::Decide(p, k == kError, k == kInterrupt, k == kFlagged, "session-" + std::to_string(t), key).keep)
      out.insert(t);
  }
  return out;
}

TEST(Sampling, RunsSplitOverThreeFlushesAreSampledWhole) {
  MemEnv mem;
  auto o = Opts(&mem, 0.25);
  o.compaction.min_merge = 2;
  o.compaction.max_bytes_per_sec = 0;
  auto s = EmbeddedStore::Open(o);
  ASSERT_TRUE(s.ok());
  auto& st = *s;
  const int64_t sec = 1000000000;
  SplitRuns runs = WriteSplitRuns(st.get(), mem.NowNanos(), 1, 1200);
  // Not complete yet (the root ended 10 s ago, the quiet period is 30 s): all there.
  EXPECT_EQ(Found(st.get(), runs).size(), runs.kind.size());
  ASSERT_TRUE(st->SampleNow(runs.now + 31 * sec).ok());
  const std::set<uint64_t> kept = Found(st.get(), runs);
  EXPECT_EQ(kept, Expected(runs, 0.25));
  int plain = 0, plain_kept = 0;
  for (const auto& [t, k] : runs.kind) {
    if (k != kPlain) {
      EXPECT_TRUE(kept.count(t)) << "trace " << t << " kind " << k;
    } else {
      ++plain;
      plain_kept += kept.count(t);
    }
  }
  EXPECT_NEAR(static_cast<double>(plain_kept) / plain, 0.25, 0.05);
  // A kept run is whole.
  auto whole = st->GetTrace(TraceId(*kept.begin()), {});
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(whole->spans.size(), 3u);
  // Counts: each run decided once, the reasons add up.
  int64_t n_kept = 0, n_dropped = 0;
  std::map<std::string, int64_t> reasons;
  for (const auto& c : st->SamplingCounts()) {
    (c.kept ? n_kept : n_dropped) += c.traces;
    reasons[c.reason] += c.traces;
  }
  EXPECT_EQ(n_kept, static_cast<int64_t>(kept.size()));
  EXPECT_EQ(n_kept + n_dropped, static_cast<int64_t>(runs.kind.size()));
  EXPECT_GT(reasons["error"], 0);
  EXPECT_GT(reasons["interrupt"], 0);
  EXPECT_GT(reasons["flagged"], 0);
  // Rollups counted every span before sampling.
  AggregateQuery q;
  q.level = AggLevel::kSpan;
  auto agg = st->Aggregate(q);
  ASSERT_TRUE(agg.ok()) << agg.status().ToString();
  ASSERT_EQ(agg->rows.size(), 1u);
  EXPECT_TRUE(agg->from_rollups);
  EXPECT_EQ(agg->rows[0].count, static_cast<int64_t>(runs.kind.size() * 3));
  // The dropped runs are still in the segments (hidden) until compaction removes them;
  // DATA/SAMPLING holds them until then.
  uint64_t gone = 0;
  for (const auto& [t, k] : runs.kind)
    if (!kept.count(t)) gone = t;
  ASSERT_NE(gone, 0u);
  EXPECT_NE(AllBytes(&mem).find(Payload(gone)), std::string::npos);
  sampling::SamplingState state;
  bool found = false;
  ASSERT_TRUE(sampling::ReadSamplingState(&mem, "/data", &state, &found).ok());
  ASSERT_TRUE(found);
  EXPECT_EQ(state.drops.size(), runs.kind.size() - kept.size());
  ASSERT_TRUE(st->CompactNow().ok());
  std::string bytes = AllBytes(&mem);
  for (const auto& [t, k] : runs.kind)
    EXPECT_EQ(bytes.find(Payload(t)) != std::string::npos, kept.count(t) > 0) << "trace " << t;
  // Once a flush covers the WAL files of their time too, the entries go.
  ASSERT_TRUE(AppendSync(st.get(), MakeRun(100000, "other", kError)).ok());
  ASSERT_TRUE(st->FlushNow().ok());
  ASSERT_TRUE(st->SampleNow(runs.now + 32 * sec).ok());
  ASSERT_TRUE(sampling::ReadSamplingState(&mem, "/data", &state, &found).ok());
  EXPECT_TRUE(state.drops.empty());
  // A restart keeps every decision and the counts, and decides nothing again.
  const auto counts = st->SamplingCounts();
  ASSERT_TRUE(st->Close().ok());
  auto r = EmbeddedStore::Open(o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Found(r->get(), runs), kept);
  ASSERT_TRUE((*r)->SampleNow(runs.now + 3 * 3600 * sec).ok());
  EXPECT_EQ(Found(r->get(), runs), kept);
  auto after = (*r)->SamplingCounts();
  ASSERT_EQ(after.size(), counts.size());
  for (size_t i = 0; i < counts.size(); ++i) {
    EXPECT_EQ(after[i].reason, counts[i].reason);
    EXPECT_EQ(after[i].kept, counts[i].kept);
    EXPECT_EQ(after[i].traces, counts[i].traces);
  }
}

TEST(Sampling, LateSpansOfADroppedRunAreDroppedAcrossRestarts) {
  MemEnv mem;
  auto o = Opts(&mem, 0.0);
  o.flush_on_close = false;
  const int64_t sec = 1000000000;
  SplitRuns runs;
  uint64_t gone = 0;
  {
    auto s = EmbeddedStore::Open(o);
    ASSERT_TRUE(s.ok());
    runs = WriteSplitRuns(s->get(), mem.NowNanos(), 1, 30);
    ASSERT_TRUE((*s)->SampleNow(runs.now + 31 * sec).ok());
    for (const auto& [t, k] : runs.kind)
      if (k == kPlain) gone = t;
    ASSERT_FALSE((*s)->GetTrace(TraceId(gone), {}).ok());
    // A late span: dropped when applied, though its WAL file holds it.
    auto late = MakeSpan({.trace = gone, .span = 9, .parent = 1, .start = runs.now, .end = runs.now + 1});
    late.set_session_id("session-" + std::to_string(gone));
    late.set_status(model::v1::STATUS_ERROR);  // even one that would have kept it
    ASSERT_TRUE(AppendSync(s->get(), {late}).ok());
    EXPECT_FALSE((*s)->GetTrace(TraceId(gone), {}).ok());
    ASSERT_TRUE((*s)->Close().ok());  // no flush: the late span stays in the WAL
  }
  mem.DropUnsyncedData();
  {
    auto s = EmbeddedStore::Open(o);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(Found(s->get(), runs), Expected(runs, 0.0));
    ASSERT_TRUE((*s)->SampleNow(runs.now + 3 * 3600 * sec).ok());
    EXPECT_FALSE((*s)->GetTrace(TraceId(gone), {}).ok());
    // Flushed and compacted away, the late span included.
    ASSERT_TRUE(AppendSync(s->get(), MakeRun(100000, "other", kError)).ok());
    ASSERT_TRUE((*s)->FlushNow().ok());
    ASSERT_TRUE((*s)->CompactNow().ok());
    EXPECT_FALSE((*s)->GetTrace(TraceId(gone), {}).ok());
    ASSERT_TRUE((*s)->Close().ok());
  }
  auto s = EmbeddedStore::Open(o);
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE((*s)->GetTrace(TraceId(gone), {}).ok());
  EXPECT_EQ(Found(s->get(), runs), Expected(runs, 0.0));
}

// A failure at any file operation of a sweep, then a crash: the store reopens
// consistent (each run either decided as the policy says or still undecided), and the
// next sweep reaches the same decisions; the dropped runs then leave every file at
// compaction.
TEST(Sampling, CrashAtAnyStepBetweenDecisionAndCompactionIsConsistent) {
  using FOp = FaultInjectionEnv::Op;
  const int64_t sec = 1000000000;
  for (FOp op : {FOp::kWrite, FOp::kSync, FOp::kCreate, FOp::kRename, FOp::kSyncDir}) {
    for (int n = 1; n <= 3; ++n) {
      SCOPED_TRACE("op " + std::to_string(static_cast<int>(op)) + " n " + std::to_string(n));
      MemEnv mem;
      FaultInjectionEnv env(&mem);
      auto o = Opts(&env, 0.3);
      o.flush_on_close = false;
      o.compaction.min_merge = 2;
      o.compaction.max_bytes_per_sec = 0;
      SplitRuns runs;
      {
        auto s = EmbeddedStore::Open(o);
        ASSERT_TRUE(s.ok());
        runs = WriteSplitRuns(s->get(), mem.NowNanos(), 1, 60);
        env.FailNth(op, n, Status::IOError("injected failure"), /*sticky=*/true);
        Status d = (*s)->SampleNow(runs.now + 31 * sec);
        const std::set<uint64_t> seen = Found(s->get(), runs);
        if (d.ok()) {
          EXPECT_EQ(seen, Expected(runs, 0.3));
        } else {
          EXPECT_EQ(seen.size(), runs.kind.size());  // nothing hidden before it is durable
        }
        (void)(*s)->Close();
      }
      env.Reset();
      mem.DropUnsyncedData();
      auto o2 = o;
      o2.env = &mem;
      auto s = EmbeddedStore::Open(o2);
      ASSERT_TRUE(s.ok()) << s.status().ToString();
      const std::set<uint64_t> seen = Found(s->get(), runs);
      EXPECT_TRUE(seen == Expected(runs, 0.3) || seen.size() == runs.kind.size());
      ASSERT_TRUE((*s)->SampleNow(runs.now + 31 * sec).ok());
      EXPECT_EQ(Found(s->get(), runs), Expected(runs, 0.3));
      ASSERT_TRUE((*s)->CompactNow().ok());
      std::string bytes = AllBytes(&mem);
      const std::set<uint64_t> want = Expected(runs, 0.3);
      for (const auto& [t, k] : runs.kind)
        EXPECT_EQ(bytes.find(Payload(t)) != std::string::npos, want.count(t) > 0) << "trace " << t;
    }
  }
}

// Evaluations (OpenTelemetry GenAI: the gen_ai.evaluation.result event, or a span with
// its attributes): a score below flag_score_below or a failed evaluator flags the run,
// read from a part flushed (and reopened) before the run is decided.
TEST(Sampling, LowScoresAndFailedEvaluatorsFlagTheirRunAcrossFlushesAndRestarts) {
  MemEnv mem;
  auto o = Opts(&mem, 0.0);
  o.sampling.defaults.flag_score_below = 0.5;
  const int64_t sec = 1000000000;
  const int64_t now = mem.NowNanos();
  enum Eval { kLowEvent, kHighEvent, kLowAttributes, kEvaluatorError, kNone };
  auto child = [&](uint64_t t, Eval e) {
    auto sp = MakeSpan({.trace = t, .span = 2, .parent = 1, .start = now - 20 * sec, .end = now - 15 * sec});
    sp.set_session_id("eval-" + std::to_string(t));
    auto add = [](auto* attrs, const std::string& k, double v) {
      auto* a = attrs->Add();
      a->set_key(k);
      a->mutable_value()->set_double_value(v);
    };
    auto add_s = [](auto* attrs, const std::string& k, const std::string& v) {
      auto* a = attrs->Add();
      a->set_key(k);
      a->mutable_value()->set_string_value(v);
    };
    if (e == kLowEvent || e == kHighEvent || e == kEvaluatorError) {
      auto* ev = sp.add_events();
      ev->set_name("gen_ai.evaluation.result");
      add_s(ev->mutable_attributes(), "gen_ai.evaluation.name", "relevance");
      if (e == kEvaluatorError) {
        add_s(ev->mutable_attributes(), "error.type", "timeout");
      } else {
        add(ev->mutable_attributes(), "gen_ai.evaluation.score.value", e == kLowEvent ? 0.2 : 0.9);
      }
    }
    if (e == kLowAttributes) {
      add_s(sp.mutable_attributes(), "gen_ai.evaluation.name", "faithfulness");
      add(sp.mutable_attributes(), "gen_ai.evaluation.score.value", 0.1);
    }
    return sp;
  };
  const std::map<uint64_t, Eval> evals = {{1, kLowEvent}, {2, kHighEvent}, {3, kLowAttributes}, {4, kEvaluatorError}, {5, kNone}};
  {
    auto s = EmbeddedStore::Open(o);
    ASSERT_TRUE(s.ok());
    std::vector<model::Span> children, roots;
    for (const auto& [t, e] : evals) {
      children.push_back(child(t, e));
      auto root = MakeSpan({.trace = t, .span = 1, .start = now - 20 * sec, .end = now - 10 * sec});
      root.set_session_id("eval-" + std::to_string(t));
      roots.push_back(std::move(root));
    }
    ASSERT_TRUE(AppendSync(s->get(), children).ok());
    ASSERT_TRUE((*s)->FlushNow().ok());
    ASSERT_TRUE(AppendSync(s->get(), roots).ok());
    ASSERT_TRUE((*s)->Close().ok());  // the quiet period is not over: nothing decided yet
  }
  auto s = EmbeddedStore::Open(o);
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE((*s)->SampleNow(now + 31 * sec).ok());
  std::set<uint64_t> kept;
  for (const auto& [t, e] : evals)
    if ((*s)->GetTrace(TraceId(t), {}).ok()) kept.insert(t);
  EXPECT_EQ(kept, (std::set<uint64_t>{1, 3, 4}));
  int64_t flagged = 0;
  for (const auto& c : (*s)->SamplingCounts())
    if (c.reason == "flagged") flagged += c.traces;
  EXPECT_EQ(flagged, 3);
  // The aggregate keeps the lowest score and the failure through its encoding.
  TraceAgg a, b;
  StringPool pool;
  a.min_score = 0.25;
  a.eval_failed = true;
  std::string bytes;
  a.Encode(pool, &bytes);
  ASSERT_TRUE(TraceAgg::Decode(bytes, &pool, &b));
  EXPECT_EQ(b.min_score, 0.25);
  EXPECT_TRUE(b.eval_failed);
  TraceAgg none;
  bytes.clear();
  none.Encode(pool, &bytes);
  ASSERT_TRUE(TraceAgg::Decode(bytes, &pool, &b));
  EXPECT_FALSE(b.has_score());
  EXPECT_FALSE(b.eval_failed);
}

TEST(Sampling, StateFileRoundTripsAndRefusesDamage) {
  sampling::SamplingState a;
  a.decided_until_ns = 123456789;
  a.counts[{"default", true, 3}] = 7;
  a.counts[{"audit", false, 4}] = 2;
  a.drops[TraceKey{1, 2}] = sampling::PendingDrop{5, {3, 4}};
  a.drops[TraceKey{9, 9}] = sampling::PendingDrop{6, {}};
  std::string bytes;
  sampling::EncodeSamplingState(a, &bytes);
  sampling::SamplingState b;
  ASSERT_TRUE(sampling::DecodeSamplingState(bytes, &b).ok());
  EXPECT_EQ(b.decided_until_ns, a.decided_until_ns);
  EXPECT_EQ(b.counts, a.counts);
  ASSERT_EQ(b.drops.size(), 2u);
  EXPECT_EQ(b.drops[(TraceKey{1, 2})].files, (std::vector<uint64_t>{3, 4}));
  EXPECT_EQ(b.drops[(TraceKey{9, 9})].wal, 6u);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    std::string bad = bytes;
    bad[i] = static_cast<char>(bad[i] ^ 0x20);
    EXPECT_FALSE(sampling::DecodeSamplingState(bad, &b).ok()) << i;
  }
  EXPECT_FALSE(sampling::DecodeSamplingState(bytes.substr(0, bytes.size() - 1), &b).ok());
}

TEST(Sampling, ReloadedPolicyAppliesToUndecidedTracesAndRefusesBadOnes) {
  MemEnv mem;
  auto s = EmbeddedStore::Open(Opts(&mem, 1.0 - 1e-9));  // on, keeps almost all
  ASSERT_TRUE(s.ok());
  auto& st = *s;
  const int64_t sec = 1000000000;
  const int64_t now = mem.NowNanos();
  ASSERT_TRUE(AppendSync(st.get(), MakeRun(1, "a", kPlain, now)).ok());
  sampling::SamplingOptions bad;
  bad.defaults.keep_fraction = 2;
  EXPECT_EQ(st->SetSampling(bad).code(), StatusCode::kInvalidArgument);
  sampling::SamplingOptions none;
  none.defaults.keep_fraction = 0;
  ASSERT_TRUE(st->SetSampling(none).ok());
  ASSERT_TRUE(st->SampleNow(now + 31 * sec).ok());
  EXPECT_FALSE(st->GetTrace(TraceId(1), {}).ok());
}

}  // namespace
}  // namespace sightline::store
