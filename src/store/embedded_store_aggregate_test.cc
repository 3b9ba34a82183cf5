// EmbeddedStore::Aggregate against brute force over the generated spans: span-level and
// trace-level queries (filters, group-by, time buckets, ordering, sketches within 1% of
// exact quantiles), on memtables, on a mix of segments and memtable, and on segments
// after reopen; query validation; damaged segment blocks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <random>

#include "common/mem_env.h"
#include "store/embedded_store.h"
#include "store/store_test_util.h"

namespace sightline::store {
namespace {

using testing::AppendSync;
using testing::MakeSpan;
using namespace model::v1;

constexpr int kTraces = 240;
constexpr int64_t kT0 = 1'700'000'000'000'000'000;
constexpr int64_t kHour = 3'600'000'000'000;

std::vector<model::Span> Generate() {
  std::mt19937_64 rng(42);
  std::vector<model::Span> out;
  const SpanStatus statuses[] = {STATUS_OK, STATUS_OK, STATUS_OK, STATUS_ERROR, STATUS_INTERRUPT, STATUS_UNSET};
  for (int t = 1; t <= kTraces; ++t) {
    const int64_t start = kT0 + static_cast<int64_t>(rng() % (6 * kHour));
    const int children = 1 + static_cast<int>(rng() % 6);
    model::Span root = MakeSpan({.trace = static_cast<uint64_t>(t), .span = 1, .name = "run", .kind = KIND_AGENT,
                                 .status = statuses[rng() % 6], .start = start, .end = start + 1});
    root.set_project(t % 5 == 0 ? "p2" : "default");
    root.set_service("svc" + std::to_string(t % 3));
    root.set_agent_name("agent" + std::to_string(t % 4));
    root.set_user_id("user" + std::to_string(t % 7));
    root.set_session_id("sess" + std::to_string(t % 11));
    int64_t end = start + 1;
    std::vector<model::Span> kids;
    for (int k = 0; k < children; ++k) {
      const bool llm = rng() % 2 == 0;
      const int64_t s = start + static_cast<int64_t>(rng() % 1'000'000'000);
      const auto dur = static_cast<int64_t>(std::lognormal_distribution<double>(17, 1.2)(rng));
      model::Span sp = MakeSpan({.trace = static_cast<uint64_t>(t), .span = static_cast<uint64_t>(k + 2), .parent = 1,
                                 .name = llm ? "chat" : "call", .kind = llm ? KIND_LLM : KIND_TOOL,
                                 .status = statuses[rng() % 6], .start = s, .end = s + dur});
      sp.set_project(root.project());
      sp.set_service(root.service());
      if (rng() % 2) sp.set_agent_name(root.agent_name());
      if (rng() % 3 == 0) sp.set_user_id(root.user_id());
      if (llm) {
        sp.set_model("model" + std::to_string(rng() % 3));
        sp.set_input_tokens(static_cast<int64_t>(rng() % 5000));
        sp.set_output_tokens(static_cast<int64_t>(rng() % 800));
        if (rng() % 4 == 0) sp.set_cache_read_tokens(static_cast<int64_t>(rng() % 1000));
        if (rng() % 5 == 0) sp.set_reasoning_tokens(static_cast<int64_t>(rng() % 300));
        if (rng() % 5 != 0) sp.set_cost_usd(std::exponential_distribution<double>(300)(rng));
        sp.set_finish_reason(rng() % 6 == 0 ? "length" : "stop");
        if (rng() % 7 == 0) sp.set_input_json(R"("please find the Needle")");
      } else {
        sp.set_tool_name("tool" + std::to_string(rng() % 5));
        if (rng() % 3 == 0) {
          auto* kv = sp.add_attributes();
          kv->set_key("region");
          kv->mutable_value()->set_string_value(rng() % 2 ? "eu" : "us");
        }
      }
      end = std::max(end, sp.end_ns());
      kids.push_back(std::move(sp));
    }
    root.set_end_ns(end + 10);
    if (t % 9 != 0) out.push_back(root);  // some runs have no root yet
    for (auto& k : kids) out.push_back(std::move(k));
  }
  return out;
}

// What brute force groups: a row's sums and the raw values behind its sketches.
struct Want {
  int64_t count = 0, errors = 0, interrupts = 0, spans = 0, llm = 0, tool = 0, truncated = 0;
  int64_t in = 0, out = 0, cache_read = 0, reasoning = 0, cost_known = 0;
  double cost = 0;
  std::vector<double> durations, costs, steps;
};

// A run as the trace aggregates describe it (SPEC's rules), computed from its spans.
struct Run {
  std::string project, service, agent, user, session;
  SpanStatus status = STATUS_UNSET;
  int64_t start = INT64_MAX, end = INT64_MIN, spans = 0, llm = 0, tool = 0, in = 0, out = 0;
  double cost = 0;
  std::vector<std::string> tools, agents;
};

std::map<std::string, Run> Runs(const std::vector<model::Span>& spans) {
  std::map<std::string, Run> runs;
  std::map<std::string, std::pair<bool, SpanStatus>> root;
  std::map<std::string, bool> any_err, any_int;
  for (const auto& s : spans) {
    Run& r = runs[s.trace_id()];
    r.start = std::min(r.start, s.start_ns());
    r.end = std::max(r.end, std::max(s.end_ns(), s.start_ns()));
    ++r.spans;
    r.llm += s.kind() == KIND_LLM;
    r.tool += s.kind() == KIND_TOOL;
    r.in += s.input_tokens();
    r.out += s.output_tokens();
    r.cost += s.cost_usd();
    r.project = s.project();
    r.service = s.service();
    if (!s.tool_name().empty()) r.tools.push_back(s.tool_name());
    if (!s.agent_name().empty()) r.agents.push_back(s.agent_name());
    if (s.parent_span_id().empty()) {
      r.agent = s.agent_name();
      r.user = s.user_id();
      r.session = s.session_id();
      root[s.trace_id()] = {true, s.status()};
    }
    any_err[s.trace_id()] |= s.status() == STATUS_ERROR;
    any_int[s.trace_id()] |= s.status() == STATUS_INTERRUPT;
  }
  for (auto& [id, r] : runs) {
    auto it = root.find(id);
    if (it != root.end() && it->second.second != STATUS_UNSET) {
      r.status = it->second.second;
    } else {
      r.status = any_int[id] ? STATUS_INTERRUPT : any_err[id] ? STATUS_ERROR : STATUS_OK;
    }
    if (r.agent.empty() && !r.agents.empty()) r.agent = r.agents.front();  // rootless: a span's
    if (r.user.empty()) {
      for (const auto& s : spans)
        if (s.trace_id() == id && !s.user_id().empty()) r.user = s.user_id();
    }
  }
  return runs;
}

double Exact(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(std::floor(q * static_cast<double>(v.size() - 1)))];
}

void ExpectSketch(const DDSketch& got, const std::vector<double>& want, const std::string& what) {
  ASSERT_EQ(got.count(), want.size()) << what;
  if (want.empty()) return;
  for (double q : {0.0, 0.5, 0.9, 0.95, 0.99, 1.0}) {
    double e = Exact(want, q);
    EXPECT_LE(std::abs(got.Quantile(q) - e), 0.01 * std::abs(e) + 1e-12) << what << " q=" << q;
  }
}

using Key = std::vector<std::string>;

void Compare(const AggregateResult& got, const std::map<Key, Want>& want, uint32_t sketches) {
  ASSERT_EQ(got.rows.size(), want.size());
  for (const auto& row : got.rows) {
    auto it = want.find(row.key);
    ASSERT_NE(it, want.end()) << "unexpected group " << ::testing::PrintToString(row.key);
    const Want& w = it->second;
    SCOPED_TRACE(::testing::PrintToString(row.key));
    EXPECT_EQ(row.count, w.count);
    EXPECT_EQ(row.errors, w.errors);
    EXPECT_EQ(row.interrupts, w.interrupts);
    EXPECT_EQ(row.spans, w.spans);
    EXPECT_EQ(row.llm_calls, w.llm);
    EXPECT_EQ(row.tool_calls, w.tool);
    EXPECT_EQ(row.truncated, w.truncated);
    EXPECT_EQ(row.input_tokens, w.in);
    EXPECT_EQ(row.output_tokens, w.out);
    EXPECT_EQ(row.cache_read_tokens, w.cache_read);
    EXPECT_EQ(row.reasoning_tokens, w.reasoning);
    EXPECT_EQ(row.cost_known, w.cost_known);
    EXPECT_NEAR(row.cost_usd, w.cost, 1e-9);
    if (sketches & kSketchDuration) ExpectSketch(row.duration_ns, w.durations, "duration");
    if (sketches & kSketchCost) ExpectSketch(row.cost, w.costs, "cost");
    if (sketches & kSketchSteps) ExpectSketch(row.steps, w.steps, "steps");
  }
}

std::string Bucket(int64_t t, int64_t w) { return std::to_string(t - ((t % w) + w) % w); }

struct SpanCase {
  std::string name;
  std::function<void(AggregateQuery*)> set;
  std::function<bool(const model::Span&)> match;
  std::function<Key(const model::Span&)> key;
};

std::vector<SpanCase> SpanCases() {
  auto dur = [](const model::Span& s) { return model::DurationNs(s); };
  (void)dur;
  return {
      {"Q3 duration per tool", [](AggregateQuery* q) {
         q->filter.kind = KIND_TOOL;
         q->group_by = {AggDim::kTool};
       },
       [](const model::Span& s) { return s.kind() == KIND_TOOL; }, [](const model::Span& s) { return Key{s.tool_name()}; }},
      {"llm per model per hour in a window", [](AggregateQuery* q) {
         q->filter.kind = KIND_LLM;
         q->filter.from_ns = kT0 + kHour;
         q->filter.to_ns = kT0 + 4 * kHour;
         q->group_by = {AggDim::kModel, AggDim::kTime};
         q->bucket_ns = kHour;
       },
       [](const model::Span& s) { return s.kind() == KIND_LLM && s.start_ns() >= kT0 + kHour && s.start_ns() <= kT0 + 4 * kHour; },
       [](const model::Span& s) { return Key{s.model(), Bucket(s.start_ns(), kHour)}; }},
      {"status by kind", [](AggregateQuery* q) { q->group_by = {AggDim::kKind, AggDim::kStatus}; },
       [](const model::Span&) { return true; },
       [](const model::Span& s) { return Key{std::string(model::KindName(s.kind())), std::string(model::StatusName(s.status()))}; }},
      {"project p2 by agent", [](AggregateQuery* q) {
         q->filter.projects = {"p2"};
         q->group_by = {AggDim::kAgent};
       },
       [](const model::Span& s) { return s.project() == "p2"; }, [](const model::Span& s) { return Key{s.agent_name()}; }},
      {"attribute region=eu by service", [](AggregateQuery* q) {
         q->filter.attrs = {{"region", "eu"}};
         q->group_by = {AggDim::kService};
       },
       [](const model::Span& s) { return s.attributes_size() > 0 && s.attributes(0).value().string_value() == "eu"; },
       [](const model::Span& s) { return Key{s.service()}; }},
      {"totals", [](AggregateQuery*) {}, [](const model::Span&) { return true; }, [](const model::Span&) { return Key{}; }},
      {"failed slow tool calls", [](AggregateQuery* q) {
         q->filter.tool = "tool2";
         q->filter.status = STATUS_ERROR;
         q->filter.min_duration_ns = 20'000'000;
         q->group_by = {AggDim::kUser};
       },
       [](const model::Span& s) { return s.tool_name() == "tool2" && s.status() == STATUS_ERROR && model::DurationNs(s) >= 20'000'000; },
       [](const model::Span& s) { return Key{s.user_id()}; }},
      {"text in input", [](AggregateQuery* q) {
         q->filter.text = "needle";
         q->group_by = {AggDim::kModel};
       },
       [](const model::Span& s) { return s.input_json().find("Needle") != std::string::npos; },
       [](const model::Span& s) { return Key{s.model()}; }},
      {"nothing matches an unknown model", [](AggregateQuery* q) {
         q->filter.model = "nope";
         q->group_by = {AggDim::kModel};
       },
       [](const model::Span&) { return false; }, [](const model::Span&) { return Key{}; }},
  };
}

void CheckSpanLevel(EmbeddedStore* store, const std::vector<model::Span>& spans) {
  for (const auto& c : SpanCases()) {
    SCOPED_TRACE(c.name);
    AggregateQuery q;
    q.allow_rollups = false;  // the scan, exact to the nanosecond (rollups: embedded_store_rollup_test)
    q.sketches = kSketchDuration | kSketchCost;
    c.set(&q);
    std::map<Key, Want> want;
    for (const auto& s : spans) {
      if (!c.match(s)) continue;
      Want& w = want[c.key(s)];
      ++w.count;
      ++w.spans;
      w.errors += s.status() == STATUS_ERROR;
      w.interrupts += s.status() == STATUS_INTERRUPT;
      w.llm += s.kind() == KIND_LLM;
      w.tool += s.kind() == KIND_TOOL;
      w.truncated += s.finish_reason() == "length";
      w.in += s.input_tokens();
      w.out += s.output_tokens();
      w.cache_read += s.cache_read_tokens();
      w.reasoning += s.reasoning_tokens();
      if (s.has_cost_usd()) {
        ++w.cost_known;
        w.cost += s.cost_usd();
        w.costs.push_back(s.cost_usd());
      }
      w.durations.push_back(static_cast<double>(model::DurationNs(s)));
    }
    if (c.name.rfind("nothing", 0) != 0) {
      EXPECT_FALSE(want.empty());  // the case tests something
    }
    if (q.group_by.empty() && want.empty()) want[Key{}];
    auto got = store->Aggregate(q);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    Compare(*got, want, q.sketches);
    EXPECT_EQ(got->blocks_skipped, 0);
  }
}

void CheckTraceLevel(EmbeddedStore* store, const std::vector<model::Span>& spans) {
  const auto runs = Runs(spans);
  struct Case {
    std::string name;
    std::function<void(AggregateQuery*)> set;
    std::function<bool(const Run&)> match;
    std::function<Key(const Run&)> key;
  };
  const Case cases[] = {
      {"Q4 cost per user", [](AggregateQuery* q) { q->group_by = {AggDim::kUser}; }, [](const Run&) { return true; },
       [](const Run& r) { return Key{r.user}; }},
      {"runs per hour and status for svc1", [](AggregateQuery* q) {
         q->filter.service = "svc1";
         q->group_by = {AggDim::kTime, AggDim::kStatus};
         q->bucket_ns = kHour;
       },
       [](const Run& r) { return r.service == "svc1"; },
       [](const Run& r) { return Key{Bucket(r.start, kHour), std::string(model::StatusName(r.status))}; }},
      {"distribution of all runs", [](AggregateQuery*) {}, [](const Run&) { return true; }, [](const Run&) { return Key{}; }},
      {"runs that used tool3, by agent", [](AggregateQuery* q) {
         q->filter.tool = "tool3";
         q->group_by = {AggDim::kAgent};
       },
       [](const Run& r) { return std::count(r.tools.begin(), r.tools.end(), "tool3") > 0; },
       [](const Run& r) { return Key{r.agent}; }},
      {"failed runs in p2", [](AggregateQuery* q) {
         q->filter.status = STATUS_ERROR;
         q->filter.projects = {"p2"};
         q->group_by = {AggDim::kProject};
       },
       [](const Run& r) { return r.status == STATUS_ERROR && r.project == "p2"; },
       [](const Run& r) { return Key{r.project}; }},
      {"runs with an eu tool call", [](AggregateQuery* q) { q->filter.attrs = {{"region", "eu"}}; },
       [](const Run&) { return false; },  // decided by trace id below
       [](const Run&) { return Key{}; }},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    AggregateQuery q;
    q.allow_rollups = false;  // the scan, exact to the nanosecond (rollups: embedded_store_rollup_test)
    q.level = AggLevel::kTrace;
    q.sketches = kSketchDuration | kSketchCost | kSketchSteps;
    c.set(&q);
    std::map<Key, Want> want;
    for (const auto& [id, r] : runs) {
      bool m = c.match(r);
      if (!q.filter.attrs.empty()) {  // some span of this run has the attribute
        m = false;
        for (const auto& s : spans)
          if (s.trace_id() == id && s.attributes_size() > 0 && s.attributes(0).value().string_value() == "eu") m = true;
      }
      if (!m) continue;
      Want& w = want[c.key(r)];
      ++w.count;
      w.errors += r.status == STATUS_ERROR;
      w.interrupts += r.status == STATUS_INTERRUPT;
      w.spans += r.spans;
      w.llm += r.llm;
      w.tool += r.tool;
      w.in += r.in;
      w.out += r.out;
      w.cost += r.cost;
      ++w.cost_known;
      w.durations.push_back(static_cast<double>(r.end > r.start ? r.end - r.start : 0));
      w.costs.push_back(r.cost);
      w.steps.push_back(static_cast<double>(r.spans));
    }
    EXPECT_FALSE(want.empty());
    auto got = store->Aggregate(q);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    Compare(*got, want, q.sketches);
  }
}

EmbeddedStoreOptions Opts(Env* env) {
  EmbeddedStoreOptions o;
  o.env = env;
  o.dir = "/agg";
  o.logger = [](const std::string&) {};
  return o;
}

void Load(EmbeddedStore* s, const std::vector<model::Span>& spans, size_t from, size_t to) {
  for (size_t i = from; i < to; i += 50) {
    std::vector<model::Span> batch(spans.begin() + static_cast<ptrdiff_t>(i),
                                   spans.begin() + static_cast<ptrdiff_t>(std::min(to, i + 50)));
    ASSERT_TRUE(AppendSync(s, std::move(batch)).ok());
  }
}

TEST(EmbeddedStoreAggregate, MatchesBruteForceOnMemtableSegmentsAndMix) {
  const auto spans = Generate();
  MemEnv env;
  auto o = Opts(&env);
  auto s = EmbeddedStore::Open(o);
  ASSERT_TRUE(s.ok());
  Load(s->get(), spans, 0, spans.size() / 3);
  {
    SCOPED_TRACE("memtable only");
    std::vector<model::Span> part(spans.begin(), spans.begin() + static_cast<ptrdiff_t>(spans.size() / 3));
    CheckSpanLevel(s->get(), part);
    CheckTraceLevel(s->get(), part);
  }
  ASSERT_TRUE((*s)->FlushNow().ok());
  Load(s->get(), spans, spans.size() / 3, 2 * spans.size() / 3);
  ASSERT_TRUE((*s)->FlushNow().ok());
  Load(s->get(), spans, 2 * spans.size() / 3, spans.size());  // later spans of flushed traces too
  {
    SCOPED_TRACE("two segments + memtable");
    CheckSpanLevel(s->get(), spans);
    CheckTraceLevel(s->get(), spans);
  }
  ASSERT_TRUE((*s)->Close().ok());
  s = EmbeddedStore::Open(o);
  ASSERT_TRUE(s.ok());
  SCOPED_TRACE("segments and replayed WAL after reopen");
  CheckSpanLevel(s->get(), spans);
  CheckTraceLevel(s->get(), spans);
}

TEST(EmbeddedStoreAggregate, OrderAndLimitGiveTheTopGroups) {
  const auto spans = Generate();
  MemEnv env;
  auto s = EmbeddedStore::Open(Opts(&env));
  ASSERT_TRUE(s.ok());
  Load(s->get(), spans, 0, spans.size());
  AggregateQuery q;
  q.level = AggLevel::kTrace;
  q.group_by = {AggDim::kUser};
  auto all = (*s)->Aggregate(q);
  ASSERT_TRUE(all.ok());
  std::vector<double> costs;
  for (const auto& r : all->rows) costs.push_back(r.cost_usd);
  std::sort(costs.rbegin(), costs.rend());
  q.order = AggOrder::kCost;
  q.limit = 3;
  auto top = (*s)->Aggregate(q);
  ASSERT_TRUE(top.ok());
  ASSERT_EQ(top->rows.size(), 3u);
  EXPECT_EQ(top->groups, static_cast<int64_t>(all->rows.size()));
  for (size_t i = 0; i < 3; ++i) EXPECT_DOUBLE_EQ(top->rows[i].cost_usd, costs[i]);
  // Key order: ascending keys.
  for (size_t i = 1; i < all->rows.size(); ++i) EXPECT_LT(all->rows[i - 1].key, all->rows[i].key);
}

TEST(EmbeddedStoreAggregate, BadQueriesAreInvalidArgumentNamingThePart) {
  MemEnv env;
  auto s = EmbeddedStore::Open(Opts(&env));
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(AppendSync(s->get(), Generate()).ok());
  struct Case {
    const char* name;
    std::function<void(AggregateQuery*)> set;
    const char* mentions;
  };
  const Case cases[] = {
      {"tool at trace level", [](AggregateQuery* q) { q->level = AggLevel::kTrace; q->group_by = {AggDim::kTool}; }, "group_by"},
      {"steps at span level", [](AggregateQuery* q) { q->sketches = kSketchSteps; }, "steps"},
      {"time without interval", [](AggregateQuery* q) { q->group_by = {AggDim::kTime}; }, "interval"},
      {"dimension twice", [](AggregateQuery* q) { q->group_by = {AggDim::kUser, AggDim::kUser}; }, "more than once"},
      {"from after to", [](AggregateQuery* q) { q->filter.from_ns = 5; q->filter.to_ns = 4; }, "from"},
      {"p95 order without sketch", [](AggregateQuery* q) { q->order = AggOrder::kDurationP95; }, "order"},
      {"too many groups", [](AggregateQuery* q) { q->group_by = {AggDim::kTime}; q->bucket_ns = 1; q->max_groups = 10; }, "groups"},
      {"too many trace groups", [](AggregateQuery* q) {
         q->level = AggLevel::kTrace; q->group_by = {AggDim::kTime}; q->bucket_ns = 1; q->max_groups = 10; }, "groups"},
  };
  for (const auto& c : cases) {
    AggregateQuery q;
    c.set(&q);
    auto r = (*s)->Aggregate(q);
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.name;
    EXPECT_NE(r.status().message().find(c.mentions), std::string::npos) << c.name << ": " << r.status().message();
  }
}

TEST(EmbeddedStoreAggregate, DamagedBlockIsSkippedAndCounted) {
  const auto spans = Generate();
  MemEnv env;
  auto o = Opts(&env);
  o.segment_format = SegmentFormat::kV1Rows;  // one block per trace: the damage costs one run
  {
    auto s = EmbeddedStore::Open(o);
    ASSERT_TRUE(s.ok());
    Load(s->get(), spans, 0, spans.size());
    ASSERT_TRUE((*s)->FlushNow().ok());
    ASSERT_TRUE((*s)->Close().ok());
  }
  auto names = env.GetChildren("/agg/segments");
  ASSERT_TRUE(names.ok());
  std::string seg;
  for (const auto& n : *names)
    if (n.size() > 4 && n.substr(n.size() - 4) == ".seg") seg = "/agg/segments/" + n;
  ASSERT_FALSE(seg.empty());
  auto bytes = ReadFileToString(&env, seg);
  ASSERT_TRUE(bytes.ok());
  std::string damaged = *bytes;
  damaged[40] = static_cast<char>(damaged[40] ^ 0x55);  // inside the first block
  env.PutFile(seg, damaged);
  auto s = EmbeddedStore::Open(o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  AggregateQuery q;
  auto rolled = (*s)->Aggregate(q);  // the rollups hold every span, whatever became of the file
  ASSERT_TRUE(rolled.ok() && rolled->from_rollups);
  EXPECT_EQ(rolled->rows[0].count, static_cast<int64_t>(spans.size()));
  q.allow_rollups = false;  // the scan meets the damaged block
  auto r = (*s)->Aggregate(q);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->blocks_skipped, 1);
  ASSERT_EQ(r->rows.size(), 1u);
  EXPECT_LT(r->rows[0].count, static_cast<int64_t>(spans.size()));
  EXPECT_GE(r->rows[0].count, static_cast<int64_t>(spans.size()) - 7);  // one run's spans at most
}

}  // namespace
}  // namespace sightline::store
