// Tail sampling (docs/sampling.md): the policy's arithmetic, and the store applying it
// at flush — errors, interrupts and flagged traces always kept, the configured share of
// sessions kept whole, incomplete traces (root missing, quiet period not over, a part
// flushed earlier) never dropped, rollups counting every span, and the counts.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "common/mem_env.h"
#include "store/embedded_store.h"
#include "store/sampling/sampling_policy.h"
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

TEST(Sampling, IncompleteTracesAreNeverDropped) {
  MemEnv mem;
  auto s = EmbeddedStore::Open(Opts(&mem, 0.0));  // drop every plain trace it can judge
  ASSERT_TRUE(s.ok());
  auto& st = *s;
  const int64_t now = mem.NowNanos();
  // 1: root ended just now (quiet period not over). 2: no root yet, started now.
  ASSERT_TRUE(AppendSync(st.get(), MakeRun(1, "a", kPlain, now)).ok());
  auto r2 = MakeRun(2, "b", kPlain, now);
  r2.erase(r2.begin());
  ASSERT_TRUE(AppendSync(st.get(), r2).ok());
  // 4: a part flushed, then the rest arrives: the rest is never judged alone.
  auto r4 = MakeRun(4, "d", kPlain, now);
  ASSERT_TRUE(AppendSync(st.get(), {r4[1]}).ok());
  ASSERT_TRUE(st->FlushNow().ok());
  ASSERT_TRUE(AppendSync(st.get(), {r4[0], r4[2]}).ok());
  ASSERT_TRUE(st->FlushNow().ok());
  EXPECT_TRUE(st->GetTrace(TraceId(1), {}).ok());
  EXPECT_TRUE(st->GetTrace(TraceId(2), {}).ok());
  auto t4 = st->GetTrace(TraceId(4), {});
  ASSERT_TRUE(t4.ok());
  EXPECT_EQ(t4->spans.size(), 3u);
  // A plain, complete, whole trace is dropped at fraction 0 (the control).
  ASSERT_TRUE(AppendSync(st.get(), MakeRun(5, "e", kPlain)).ok());
  ASSERT_TRUE(st->FlushNow().ok());
  EXPECT_FALSE(st->GetTrace(TraceId(5), {}).ok());
  int64_t incomplete = 0;
  for (const auto& c : st->SamplingCounts())
    if (c.reason == "incomplete") incomplete += c.traces;
  EXPECT_GE(incomplete, 3);
}

}  // namespace
}  // namespace sightline::store
