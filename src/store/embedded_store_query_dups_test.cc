// Aggregates over spans re-sent after their first copy was flushed (copies in two
// segments, or in a segment and the memtable, until compaction merges them): each span
// counts once, its newest copy, at span level and at trace level, in v1 and v2 files;
// and a compaction or flush landing between an aggregate's lock steps neither drops nor
// doubles spans.
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

// The scan path, which reads every copy of a span (rollups and the trace index still
// count a span re-sent after its first copy was flushed twice: docs/progress.md).
Totals Aggregate(EmbeddedStore* s, AggLevel level) {
  AggregateQuery q;
  q.level = level;
  q.allow_rollups = false;
  auto r = s->Aggregate(q);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  Totals t;
  if (!r.ok() || r->rows.size() != 1) return t;
  const AggregateRow& row = r->rows[0];
  return {row.count, row.spans, row.llm_calls, row.tool_calls, row.errors, row.input_tokens, row.cost_usd};
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

EmbeddedStoreOptions Opts(Env* env, SegmentFormat format) {
  EmbeddedStoreOptions o;
  o.env = env;
  o.dir = "/dups";
  o.logger = [](const std::string&) {};
  o.segment_format = format;
  o.compaction.enabled = false;  // CompactNow only
  o.compaction.min_merge = 2;
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

  EXPECT_EQ(Aggregate(st, AggLevel::kSpan), WantSpans(doubled)) << "segments + memtable";
  EXPECT_EQ(Aggregate(st, AggLevel::kTrace), WantTraces(doubled)) << "segments + memtable";
  ASSERT_TRUE(st->FlushNow().ok());
  EXPECT_EQ(Aggregate(st, AggLevel::kSpan), WantSpans(doubled)) << "three segments";
  EXPECT_EQ(Aggregate(st, AggLevel::kTrace), WantTraces(doubled)) << "three segments";
  ASSERT_TRUE(st->CompactNow().ok());
  ASSERT_EQ(st->LiveSegments().size(), 1u);
  EXPECT_EQ(Aggregate(st, AggLevel::kSpan), WantSpans(doubled)) << "compacted";
  EXPECT_EQ(Aggregate(st, AggLevel::kTrace), WantTraces(doubled)) << "compacted";
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

INSTANTIATE_TEST_SUITE_P(Formats, EmbeddedStoreDups,
                         ::testing::Values(SegmentFormat::kV1Rows, SegmentFormat::kV2Columnar),
                         [](const auto& info) { return info.param == SegmentFormat::kV1Rows ? "v1" : "v2"; });

}  // namespace
}  // namespace sightline::store
