// Spans re-sent after their first copy was flushed (copies in two segments, or in a
// segment and the memtable, until compaction merges them): each span counts once, its
// newest copy, at span level (scan and span rollups) and at trace level (trace index,
// run rollups, trace summaries), in v1 and v2 files, after compaction and across
// restarts; and a compaction or flush landing between an aggregate's lock steps
// neither drops nor doubles spans.
#include <gtest/gtest.h>

#include <cmath>
#include <ostream>

#include "common/mem_env.h"
#include "store/embedded_store.h"
#include "store/store_test_util.h"

namespace sightline::store {
namespace {

using testing::AppendSync;
using testing::MakeSpan;
using namespace model::v1;

constexpr uint64_t kTraces = 30;

model::Span Root(uint64_t t) {
  return MakeSpan({.trace = t, .span = 1, .name = "run", .kind = KIND_AGENT, .status = STATUS_OK,
                   .start = 1000000 + static_cast<int64_t>(t) * 1000, .end = 1000000 + static_cast<int64_t>(t) * 1000 + 900});
}
// tokens_factor: a re-sent copy may carry other values; the newest copy counts.
model::Span Llm(uint64_t t, int64_t tokens_factor = 100) {
  model::Span s = MakeSpan({.trace = t, .span = 2, .parent = 1, .name = "chat", .kind = KIND_LLM,
                            .status = STATUS_OK, .start = 1000000 + static_cast<int64_t>(t) * 1000 + 10,
                            .end = 1000000 + static_cast<int64_t>(t) * 1000 + 500});
  s.set_model("m");
  s.set_input_tokens(tokens_factor * static_cast<int64_t>(t));
  s.set_cost_usd(0.5 * static_cast<double>(t));
  return s;
}
model::Span Tool(uint64_t t) {
  model::Span s = MakeSpan({.trace = t, .span = 3, .parent = 1, .name = "call", .kind = KIND_TOOL,
                            .status = t % 4 == 0 ? STATUS_ERROR : STATUS_OK,
                            .start = 1000000 + static_cast<int64_t>(t) * 1000 + 600,
                            .end = 1000000 + static_cast<int64_t>(t) * 1000 + 800});
  s.set_tool_name("search");
  return s;
}

struct Totals {
  int64_t count = 0, spans = 0, llm_calls = 0, tool_calls = 0, errors = 0, input_tokens = 0;
  double cost = 0;
  bool operator==(const Totals& o) const {
    return count == o.count && spans == o.spans && llm_calls == o.llm_calls && tool_calls == o.tool_calls &&
           errors == o.errors && input_tokens == o.input_tokens && std::abs(cost - o.cost) < 1e-6;
  }
};
std::ostream& operator<<(std::ostream& os, const Totals& t) {
  return os << "{count " << t.count << " spans " << t.spans << " llm " << t.llm_calls << " tool " << t.tool_calls
            << " errors " << t.errors << " tokens " << t.input_tokens << " cost " << t.cost << "}";
}

// allow_rollups false: the scan path, which reads every copy and keeps the newest;
// true: span rows from the span rollups, trace rows from the trace index's run rollups.
Totals Aggregate(EmbeddedStore* s, AggLevel level, bool allow_rollups = false) {
  AggregateQuery q;
  q.level = level;
  q.allow_rollups = allow_rollups;
  auto r = s->Aggregate(q);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  Totals t;
  if (!r.ok() || r->rows.size() != 1) return t;
  if (allow_rollups) {
    EXPECT_TRUE(r->from_rollups) << "answered from the rollups";
  }
  const AggregateRow& row = r->rows[0];
  return {row.count, row.spans, row.llm_calls, row.tool_calls, row.errors, row.input_tokens, row.cost_usd};
}

// The trace index's summaries (what search and GetTrace return), added up.
Totals Summaries(EmbeddedStore* s) {
  TraceQuery q;
  q.limit = 1000;
  auto page = s->SearchTraces(q);
  EXPECT_TRUE(page.ok()) << page.status().ToString();
  Totals t;
  if (!page.ok()) return t;
  for (const auto& ts : page->traces) {
    ++t.count;
    t.spans += ts.span_count;
    t.llm_calls += ts.llm_calls;
    t.tool_calls += ts.tool_calls;
    t.input_tokens += ts.input_tokens;
    t.cost += ts.cost_usd;
  }
  return t;
}

// What the store must answer: every span of every trace once; llm spans of traces
// with doubled[t] carry 200 tokens per t, the others 100.
Totals WantSpans(const std::vector<bool>& doubled) {
  Totals w;
  for (uint64_t t = 1; t <= kTraces; ++t) {
    w.count += 3;
    w.spans += 3;
    w.llm_calls += 1;
    w.tool_calls += 1;
    w.errors += t % 4 == 0;
    w.input_tokens += (doubled[t] ? 200 : 100) * static_cast<int64_t>(t);
    w.cost += 0.5 * static_cast<double>(t);
  }
  return w;
}
Totals WantTraces(const std::vector<bool>& doubled) {
  Totals w = WantSpans(doubled);
  w.count = kTraces;
  w.errors = 0;  // every root is ok
  return w;
}

// Every way the store counts spans and traces agrees with the want.
void CheckAll(EmbeddedStore* st, const std::vector<bool>& doubled, const std::string& what) {
  SCOPED_TRACE(what);
  EXPECT_EQ(Aggregate(st, AggLevel::kSpan), WantSpans(doubled)) << "span level, scan";
  EXPECT_EQ(Aggregate(st, AggLevel::kSpan, true), WantSpans(doubled)) << "span level, rollups";
  EXPECT_EQ(Aggregate(st, AggLevel::kTrace), WantTraces(doubled)) << "trace level, index";
  EXPECT_EQ(Aggregate(st, AggLevel::kTrace, true), WantTraces(doubled)) << "trace level, run rollups";
  EXPECT_EQ(Summaries(st), WantTraces(doubled)) << "trace summaries";
}

EmbeddedStoreOptions Opts(Env* env, SegmentFormat format) {
  EmbeddedStoreOptions o;
  o.env = env;
  o.dir = "/dups";
  o.logger = [](const std::string&) {};
  o.segment_format = format;
  o.compaction.enabled = false;  // CompactNow only
  o.compaction.min_merge = 2;
  o.compaction.size_ratio = 1000;  // CompactNow merges every file of the partition
  return o;
}

class EmbeddedStoreDups : public ::testing::TestWithParam<SegmentFormat> {};

TEST_P(EmbeddedStoreDups, ResentSpansCountOnceUntilAndAfterCompaction) {
  MemEnv env;
  auto s = EmbeddedStore::Open(Opts(&env, GetParam()));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EmbeddedStore* st = s->get();
  std::vector<bool> doubled(kTraces + 1, false);
  for (uint64_t t = 1; t <= kTraces; ++t) ASSERT_TRUE(AppendSync(st, {Root(t), Llm(t), Tool(t)}).ok());
  ASSERT_TRUE(st->FlushNow().ok());
  // A retry of some llm spans, flushed: copies in two segments.
  for (uint64_t t = 3; t <= kTraces; t += 3) ASSERT_TRUE(AppendSync(st, {Llm(t)}).ok());
  ASSERT_TRUE(st->FlushNow().ok());
  // More retries in the memtable, some with other values (the newest copy counts).
  for (uint64_t t = 2; t <= kTraces; t += 2) {
    ASSERT_TRUE(AppendSync(st, {Llm(t, 200)}).ok());
    doubled[t] = true;
  }
  for (uint64_t t = 5; t <= kTraces; t += 5) ASSERT_TRUE(AppendSync(st, {Tool(t)}).ok());
  ASSERT_EQ(st->LiveSegments().size(), 2u);

  CheckAll(st, doubled, "segments + memtable");
  ASSERT_TRUE(st->FlushNow().ok());
  CheckAll(st, doubled, "three segments");
  ASSERT_TRUE(st->CompactNow().ok());
  ASSERT_EQ(st->LiveSegments().size(), 1u);
  CheckAll(st, doubled, "compacted");
  // Trace search reads the newest copies too.
  auto d = st->GetTrace(testing::TraceId(4), {});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->spans.size(), 3u);
}

// A compaction (or flush) that lands after an aggregate copied the file set and before
// it listed the traces' locations moves spans to a file the copy does not know.
TEST_P(EmbeddedStoreDups, CompactionOrFlushBetweenLockStepsNeitherDropsNorDoubles) {
  MemEnv env;
  EmbeddedStoreOptions o = Opts(&env, GetParam());
  int calls = 0;
  std::function<Status()> between;  // what lands between the steps, once
  o.test_aggregate_between_steps = [&]() {
    ++calls;
    if (between) {
      Status st = between();
      EXPECT_TRUE(st.ok()) << st.ToString();
      between = nullptr;
    }
  };
  auto s = EmbeddedStore::Open(o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EmbeddedStore* st = s->get();
  std::vector<bool> doubled(kTraces + 1, false);
  for (uint64_t t = 1; t <= kTraces; ++t) {
    ASSERT_TRUE(AppendSync(st, {Root(t), Llm(t), Tool(t)}).ok());
    if (t % 10 == 0) {
      ASSERT_TRUE(st->FlushNow().ok());
    }
  }
  ASSERT_EQ(st->LiveSegments().size(), 3u);
  for (AggLevel level : {AggLevel::kSpan, AggLevel::kTrace}) {
    SCOPED_TRACE(level == AggLevel::kSpan ? "span level" : "trace level");
    const Totals want = level == AggLevel::kSpan ? WantSpans(doubled) : WantTraces(doubled);
    between = [st] { return st->CompactNow(); };
    calls = 0;
    EXPECT_EQ(Aggregate(st, level), want) << "compaction in between";
    EXPECT_EQ(calls, 2) << "the listing started again once";
    EXPECT_FALSE(between) << "the compaction ran";
    // Spans in the memtable, flushed in between.
    for (uint64_t t = 1; t <= kTraces; ++t) ASSERT_TRUE(AppendSync(st, {Llm(t)}).ok());
    between = [st] { return st->FlushNow(); };
    EXPECT_EQ(Aggregate(st, level), want) << "flush in between";
  }
}

// A span re-sent after its first copy was compacted, then compacted again; then more
// re-sends while the frozen memtable still holds the first re-sent copy are counted
// once however the flushes fall (a small memtable: the writer freezes one per batch).
TEST_P(EmbeddedStoreDups, ResentAfterCompactionCountsOnce) {
  MemEnv env;
  auto s = EmbeddedStore::Open(Opts(&env, GetParam()));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EmbeddedStore* st = s->get();
  std::vector<bool> doubled(kTraces + 1, false);
  for (uint64_t t = 1; t <= kTraces; ++t) {
    ASSERT_TRUE(AppendSync(st, {Root(t), Llm(t), Tool(t)}).ok());
    if (t % 10 == 0) {
      ASSERT_TRUE(st->FlushNow().ok());
    }
  }
  ASSERT_TRUE(st->CompactNow().ok());
  ASSERT_EQ(st->LiveSegments().size(), 1u);
  CheckAll(st, doubled, "compacted");
  for (uint64_t t = 1; t <= kTraces; t += 2) {
    ASSERT_TRUE(AppendSync(st, {Llm(t, 200), Tool(t)}).ok());
    doubled[t] = true;
  }
  CheckAll(st, doubled, "re-sent into the memtable");
  ASSERT_TRUE(st->FlushNow().ok());
  CheckAll(st, doubled, "re-sent copies flushed");
  ASSERT_TRUE(st->CompactNow().ok());
  ASSERT_EQ(st->LiveSegments().size(), 1u);
  CheckAll(st, doubled, "compacted again");
  EXPECT_GT(st->Stats().duplicates_removed, 0);
}

// Re-sent copies with other values: the later copy's cost, tokens and status win in
// the span rollups, the scan, the trace summaries and the run rollups.
TEST_P(EmbeddedStoreDups, LaterCopyValuesWin) {
  MemEnv env;
  auto s = EmbeddedStore::Open(Opts(&env, GetParam()));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EmbeddedStore* st = s->get();
  ASSERT_TRUE(AppendSync(st, {Root(1), Llm(1), Tool(1)}).ok());
  ASSERT_TRUE(st->FlushNow().ok());
  model::Span llm = Llm(1, 300);
  llm.set_cost_usd(7.25);
  llm.set_status(STATUS_ERROR);
  model::Span root = Root(1);
  root.set_status(STATUS_ERROR);
  ASSERT_TRUE(AppendSync(st, {llm, root}).ok());
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE(round == 0 ? "memtable" : round == 1 ? "flushed" : "compacted");
    AggregateQuery q;
    q.level = AggLevel::kSpan;
    for (bool rollups : {false, true}) {
      q.allow_rollups = rollups;
      auto r = st->Aggregate(q);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      ASSERT_EQ(r->rows.size(), 1u);
      EXPECT_EQ(r->from_rollups, rollups);
      EXPECT_EQ(r->rows[0].count, 3) << rollups;
      EXPECT_EQ(r->rows[0].errors, 2) << rollups;
      EXPECT_EQ(r->rows[0].input_tokens, 300) << rollups;
      EXPECT_DOUBLE_EQ(r->rows[0].cost_usd, 7.25) << rollups;
    }
    q.level = AggLevel::kTrace;
    for (bool rollups : {false, true}) {
      q.allow_rollups = rollups;
      auto r = st->Aggregate(q);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      ASSERT_EQ(r->rows.size(), 1u);
      EXPECT_EQ(r->rows[0].count, 1) << rollups;
      EXPECT_EQ(r->rows[0].errors, 1) << rollups << ": the re-sent root's status";
      EXPECT_EQ(r->rows[0].spans, 3) << rollups;
      EXPECT_DOUBLE_EQ(r->rows[0].cost_usd, 7.25) << rollups;
    }
    auto d = st->GetTrace(testing::TraceId(1), {});
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->spans.size(), 3u);
    EXPECT_EQ(d->summary.span_count, 3);
    EXPECT_EQ(d->summary.error_count, 2);
    EXPECT_EQ(d->summary.input_tokens, 300);
    EXPECT_DOUBLE_EQ(d->summary.cost_usd, 7.25);
    EXPECT_EQ(d->summary.status, STATUS_ERROR);
    if (round == 0) {
      ASSERT_TRUE(st->FlushNow().ok());
    } else if (round == 1) {
      ASSERT_TRUE(st->CompactNow().ok());
    }
  }
}

// Across restarts: re-sent copies still in the WAL (replayed at Open, which redoes the
// take-back), re-sent copies flushed (the index is rebuilt from the segments' partial
// aggregates, which count both copies until Open takes the older back), and the rollup
// file written while retractions were pending.
TEST_P(EmbeddedStoreDups, ResentSpansCountOnceAcrossRestarts) {
  MemEnv env;
  EmbeddedStoreOptions o = Opts(&env, GetParam());
  o.flush_on_close = false;  // the memtable stays in the WAL
  std::vector<bool> doubled(kTraces + 1, false);
  {
    auto s = EmbeddedStore::Open(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EmbeddedStore* st = s->get();
    for (uint64_t t = 1; t <= kTraces; ++t) ASSERT_TRUE(AppendSync(st, {Root(t), Llm(t), Tool(t)}).ok());
    ASSERT_TRUE(st->FlushNow().ok());
    for (uint64_t t = 1; t <= kTraces; t += 3) {
      ASSERT_TRUE(AppendSync(st, {Llm(t, 200)}).ok());
      doubled[t] = true;
    }
    ASSERT_TRUE(st->FlushNow().ok());  // a copy in each of two segments
    for (uint64_t t = 2; t <= kTraces; t += 3) {
      ASSERT_TRUE(AppendSync(st, {Llm(t, 200), Tool(t)}).ok());
      doubled[t] = true;
    }
    CheckAll(st, doubled, "before the restart");
    ASSERT_TRUE(st->Close().ok());
  }
  for (int restart = 1; restart <= 2; ++restart) {
    auto s = EmbeddedStore::Open(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EmbeddedStore* st = s->get();
    CheckAll(st, doubled, "after restart " + std::to_string(restart));
    if (restart == 1) {
      // The replayed copies reach a segment; the rollup file is written at the flush.
      ASSERT_TRUE(st->FlushNow().ok());
      CheckAll(st, doubled, "flushed after the restart");
      ASSERT_TRUE(AppendSync(st, {Llm(3, 200)}).ok());  // one more retry, left in the WAL
      doubled[3] = true;
    }
    ASSERT_TRUE(st->Close().ok());
  }
}

// Many re-sends of every span, with a memtable so small that the writer freezes one
// per batch (the flush runs while the next re-sends arrive: their older copy is in the
// frozen memtable or a segment, and the rollup file is written while retractions are
// pending), then compaction and a restart from the WAL.
TEST_P(EmbeddedStoreDups, ManyResendsCountOnce) {
  MemEnv env;
  EmbeddedStoreOptions o = Opts(&env, GetParam());
  o.flush_on_close = false;
  o.memtable_limit_bytes = 1;
  std::vector<bool> doubled(kTraces + 1, false);
  {
    auto s = EmbeddedStore::Open(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EmbeddedStore* st = s->get();
    for (uint64_t t = 1; t <= kTraces; ++t) ASSERT_TRUE(AppendSync(st, {Root(t), Llm(t), Tool(t)}).ok());
    for (int round = 0; round < 6; ++round) {
      for (uint64_t t = 1; t <= kTraces; ++t) {
        const bool twice = (t + static_cast<uint64_t>(round)) % 2 == 0;
        ASSERT_TRUE(AppendSync(st, {Llm(t, twice ? 200 : 100), Root(t), Tool(t)}).ok());
        doubled[t] = twice;
      }
      if (round == 3) {
        ASSERT_TRUE(st->WaitForFlush().ok());
        ASSERT_TRUE(st->CompactNow().ok());
      }
    }
    ASSERT_TRUE(st->WaitForFlush().ok());
    CheckAll(st, doubled, "after the re-sends");
    ASSERT_TRUE(st->Close().ok());
  }
  auto s = EmbeddedStore::Open(o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  CheckAll(s->get(), doubled, "after a restart");
  ASSERT_TRUE((*s)->CompactNow().ok());
  CheckAll(s->get(), doubled, "compacted after the restart");
}

// The store keeps each looked-up trace's segment span ids across flushes and
// compactions (a flush adds the ids it wrote): a trace that straddles several flushes
// finds a re-sent copy of a span from any of them.
TEST_P(EmbeddedStoreDups, LookedUpIdsFollowLaterFlushesCompactionAndDeletion) {
  MemEnv env;
  auto s = EmbeddedStore::Open(Opts(&env, GetParam()));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EmbeddedStore* st = s->get();
  std::vector<bool> doubled(kTraces + 1, false);
  for (uint64_t t = 1; t <= kTraces; ++t) ASSERT_TRUE(AppendSync(st, {Root(t)}).ok());
  ASSERT_TRUE(st->FlushNow().ok());
  // Re-sent roots: the lookup reads (and keeps) these traces' ids from the first segment.
  for (uint64_t t = 3; t <= kTraces; t += 3) ASSERT_TRUE(AppendSync(st, {Root(t)}).ok());
  for (uint64_t t = 1; t <= kTraces; ++t) ASSERT_TRUE(AppendSync(st, {Llm(t)}).ok());
  ASSERT_TRUE(st->FlushNow().ok());
  for (uint64_t t = 1; t <= kTraces; ++t) ASSERT_TRUE(AppendSync(st, {Tool(t)}).ok());
  ASSERT_TRUE(st->FlushNow().ok());
  // Re-sent copies of spans the second and third flushes wrote, in the looked-up traces.
  for (uint64_t t = 3; t <= kTraces; t += 3) {
    ASSERT_TRUE(AppendSync(st, {Llm(t, 200), Tool(t)}).ok());
    doubled[t] = true;
  }
  CheckAll(st, doubled, "re-sent after three flushes");
  ASSERT_TRUE(st->CompactNow().ok());
  for (uint64_t t = 3; t <= kTraces; t += 3) ASSERT_TRUE(AppendSync(st, {Root(t), Tool(t)}).ok());
  CheckAll(st, doubled, "re-sent after compaction");
  ASSERT_TRUE(st->FlushNow().ok());
  CheckAll(st, doubled, "flushed");
}

INSTANTIATE_TEST_SUITE_P(Formats, EmbeddedStoreDups,
                         ::testing::Values(SegmentFormat::kV1Rows, SegmentFormat::kV2Columnar),
                         [](const auto& info) { return info.param == SegmentFormat::kV1Rows ? "v1" : "v2"; });

}  // namespace
}  // namespace sightline::store
