// EmbeddedStore queries: every TraceQuery filter against a brute-force expectation,
// cursor paging, sessions, and queries concurrent with ingest and flushes; each run on
// memtables, on segments after reopen, and on a mix.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <set>
#include <thread>

#include "common/mem_env.h"
#include "store/embedded_store.h"
#include "store/store_test_util.h"

namespace sightline::store {
namespace {

using testing::AppendSync;
using testing::MakeSpan;
using testing::TraceId;
using namespace model::v1;

// What the generator put in trace t, computed independently of the store.
struct Expect {
  uint64_t t;
  std::string project, service, session, user, agent, model, tool, root_name;
  bool has_root, has_tool, attr500, needle;
  int64_t start, end;
  SpanStatus status;
  double cost;
  std::string id;
};

Expect Describe(uint64_t t) {
  Expect e;
  e.t = t;
  e.id = TraceId(t);
  e.project = t % 4 == 0 ? "p2" : "default";
  e.service = "svc" + std::to_string(t % 3);
  e.session = t % 5 == 4 ? "" : "sess" + std::to_string(t % 5);
  e.user = "user" + std::to_string(t % 3);
  e.agent = "agent" + std::to_string(t % 2);
  e.model = "m" + std::to_string(t % 4);
  e.tool = "tool" + std::to_string(t % 3);
  e.has_root = t % 8 != 3;
  e.has_tool = t % 2 == 0;
  e.attr500 = e.has_tool && t % 7 == 0;
  e.needle = e.has_tool && t % 9 == 0;
  int64_t s = 1000000000 + static_cast<int64_t>(t / 2) * 1000;  // pairs share a start: tie-breaks
  e.start = e.has_root ? s : s + 10;
  e.end = e.has_root ? s + static_cast<int64_t>(t) * 100 : (e.has_tool ? s + 80 : s + 50);
  e.root_name = e.has_root ? "run-" + std::to_string(t % 5) : "chat";
  SpanStatus root_status = t % 6 == 0 ? STATUS_ERROR : (t % 6 == 1 ? STATUS_UNSET : STATUS_OK);
  bool child_error = t % 5 == 0;
  if (e.has_root && root_status != STATUS_UNSET) {
    e.status = root_status;
  } else {
    e.status = child_error ? STATUS_ERROR : STATUS_OK;
  }
  e.cost = 0.01 * static_cast<double>(t);
  return e;
}

std::vector<model::Span> SpansOf(const Expect& e) {
  int64_t s = 1000000000 + static_cast<int64_t>(e.t / 2) * 1000;
  std::vector<model::Span> out;
  auto base = [&](model::Span sp) {
    sp.set_project(e.project);
    sp.set_service(e.service);
    return sp;
  };
  model::Span llm = base(MakeSpan({.trace = e.t, .span = 2, .parent = 1, .name = "chat", .kind = KIND_LLM,
                                   .status = e.t % 5 == 0 ? STATUS_ERROR : STATUS_OK, .start = s + 10, .end = s + 50}));
  llm.set_model(e.model);
  llm.set_input_tokens(static_cast<int64_t>(e.t) * 10);
  llm.set_cost_usd(e.cost);
  out.push_back(llm);
  if (e.has_tool) {
    model::Span tool = base(MakeSpan({.trace = e.t, .span = 3, .parent = 1, .name = "call", .kind = KIND_TOOL,
                                      .status = STATUS_OK, .start = s + 60, .end = s + 80}));
    tool.set_tool_name(e.tool);
    auto* kv = tool.add_attributes();
    kv->set_key("http.status");
    kv->mutable_value()->set_int_value(e.attr500 ? 500 : 200);
    tool.set_input_json(e.needle ? R"({"q":"A NeedLE in hay"})" : "{}");
    out.push_back(tool);
  }
  if (e.has_root) {  // the root arrives last
    SpanStatus rs = e.t % 6 == 0 ? STATUS_ERROR : (e.t % 6 == 1 ? STATUS_UNSET : STATUS_OK);
    model::Span root = base(MakeSpan({.trace = e.t, .span = 1, .name = "run-" + std::to_string(e.t % 5),
                                      .kind = KIND_AGENT, .status = rs, .start = s, .end = e.end}));
    root.set_agent_name(e.agent);
    root.set_session_id(e.session);
    root.set_user_id(e.user);
    out.push_back(root);
  } else {
    out[0].set_session_id(e.session);
    out[0].set_user_id(e.user);
    out[0].set_agent_name(e.agent);
  }
  return out;
}

constexpr uint64_t kTraces = 40;

struct QueryCase {
  std::string name;
  std::function<void(TraceQuery*)> set;
  std::function<bool(const Expect&)> want;
};

std::vector<QueryCase> Cases() {
  return {
      {"all", [](TraceQuery*) {}, [](const Expect&) { return true; }},
      {"project", [](TraceQuery* q) { q->projects = {"p2"}; }, [](const Expect& e) { return e.project == "p2"; }},
      {"service", [](TraceQuery* q) { q->service = "svc1"; }, [](const Expect& e) { return e.service == "svc1"; }},
      {"agent", [](TraceQuery* q) { q->agent = "agent1"; }, [](const Expect& e) { return e.agent == "agent1"; }},
      {"session", [](TraceQuery* q) { q->session_id = "sess2"; }, [](const Expect& e) { return e.session == "sess2"; }},
      {"user", [](TraceQuery* q) { q->user_id = "user0"; }, [](const Expect& e) { return e.user == "user0"; }},
      {"status", [](TraceQuery* q) { q->status = STATUS_ERROR; },
       [](const Expect& e) { return e.status == STATUS_ERROR; }},
      {"kind", [](TraceQuery* q) { q->kind = KIND_TOOL; }, [](const Expect& e) { return e.has_tool; }},
      {"name", [](TraceQuery* q) { q->name = "run-2"; }, [](const Expect& e) { return e.has_root && e.t % 5 == 2; }},
      {"model", [](TraceQuery* q) { q->model = "m3"; }, [](const Expect& e) { return e.model == "m3"; }},
      {"tool", [](TraceQuery* q) { q->tool = "tool2"; }, [](const Expect& e) { return e.has_tool && e.tool == "tool2"; }},
      {"min duration", [](TraceQuery* q) { q->min_duration_ns = 2000; },
       [](const Expect& e) { return e.end - e.start >= 2000; }},
      {"max duration", [](TraceQuery* q) { q->max_duration_ns = 1000; },
       [](const Expect& e) { return e.end - e.start <= 1000; }},
      {"min cost", [](TraceQuery* q) { q->min_cost_usd = 0.2; }, [](const Expect& e) { return e.cost >= 0.2 - 1e-12; }},
      {"attr", [](TraceQuery* q) { q->attrs = {{"http.status", "500"}}; }, [](const Expect& e) { return e.attr500; }},
      {"text", [](TraceQuery* q) { q->text = "needle"; }, [](const Expect& e) { return e.needle; }},
      {"window", [](TraceQuery* q) { q->from_ns = 1000005000; q->to_ns = 1000012000; },
       [](const Expect& e) { return e.end >= 1000005000 && e.start <= 1000012000; }},
      {"combined", [](TraceQuery* q) {
         q->kind = KIND_TOOL;
         q->attrs = {{"http.status", "200"}};
         q->projects = {"default"};
         q->text = "{}";
       },
       [](const Expect& e) { return e.has_tool && !e.attr500 && e.project == "default" && !e.needle; }},
      {"unknown service", [](TraceQuery* q) { q->service = "nope"; }, [](const Expect&) { return false; }},
  };
}

void CheckQueries(EmbeddedStore* s) {
  std::vector<Expect> all;
  for (uint64_t t = 1; t <= kTraces; ++t) all.push_back(Describe(t));
  for (const auto& c : Cases()) {
    SCOPED_TRACE(c.name);
    std::vector<Expect> want;
    for (const auto& e : all)
      if (c.want(e)) want.push_back(e);
    std::sort(want.begin(), want.end(),
              [](const Expect& a, const Expect& b) { return a.start != b.start ? a.start > b.start : a.id < b.id; });
    TraceQuery q;
    c.set(&q);
    q.limit = 7;
    std::vector<model::TraceSummary> got;
    for (int page = 0; page < 20; ++page) {
      auto r = s->SearchTraces(q);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      got.insert(got.end(), r->traces.begin(), r->traces.end());
      if (!r->next) break;
      EXPECT_EQ(r->traces.size(), 7u);
      q.after = r->next;
    }
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      SCOPED_TRACE("trace " + std::to_string(want[i].t));
      EXPECT_EQ(got[i].trace_id, want[i].id);
      EXPECT_EQ(got[i].project, want[i].project);
      EXPECT_EQ(got[i].status, want[i].status);
      EXPECT_EQ(got[i].start_ns, want[i].start);
      EXPECT_EQ(got[i].end_ns, want[i].end);
      EXPECT_EQ(got[i].root_name, want[i].root_name);
      EXPECT_EQ(got[i].session_id, want[i].session);
      EXPECT_EQ(got[i].span_count, want[i].has_tool ? 3 - !want[i].has_root : 2 - !want[i].has_root);
      EXPECT_NEAR(got[i].cost_usd, want[i].cost, 1e-9);
      EXPECT_EQ(got[i].models, std::vector<std::string>{want[i].model});
    }
  }
}

void CheckSessions(EmbeddedStore* s) {
  // Expected sessions, keyed by (project, session).
  std::map<std::pair<std::string, std::string>, std::vector<Expect>> groups;
  for (uint64_t t = 1; t <= kTraces; ++t) {
    Expect e = Describe(t);
    if (!e.session.empty()) groups[{e.project, e.session}].push_back(e);
  }
  struct Want {
    std::string session, project;
    int64_t last_end, first_start;
    size_t traces;
    SpanStatus status;
  };
  std::vector<Want> want;
  for (auto& [k, v] : groups) {
    Want w{k.second, k.first, INT64_MIN, INT64_MAX, v.size(), STATUS_UNSET};
    int64_t latest = INT64_MIN;
    for (const auto& e : v) {
      w.last_end = std::max(w.last_end, e.end);
      w.first_start = std::min(w.first_start, e.start);
      if (e.start > latest) latest = e.start, w.status = e.status;
    }
    want.push_back(w);
  }
  std::sort(want.begin(), want.end(), [](const Want& a, const Want& b) {
    if (a.last_end != b.last_end) return a.last_end > b.last_end;
    return a.session != b.session ? a.session < b.session : a.project < b.project;
  });
  SessionQuery q;
  q.limit = 2;
  std::vector<model::SessionSummary> got;
  for (int page = 0; page < 20; ++page) {
    auto r = s->SearchSessions(q);
    ASSERT_TRUE(r.ok());
    got.insert(got.end(), r->sessions.begin(), r->sessions.end());
    if (!r->next) break;
    q.after = r->next;
  }
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i].session_id, want[i].session);
    EXPECT_EQ(got[i].project, want[i].project);
    EXPECT_EQ(got[i].last_end_ns, want[i].last_end);
    EXPECT_EQ(got[i].first_start_ns, want[i].first_start);
    EXPECT_EQ(got[i].trace_count, static_cast<int64_t>(want[i].traces));
    EXPECT_EQ(got[i].status, want[i].status) << got[i].session_id;
  }
  SessionQuery filtered;
  filtered.projects = {"p2"};
  filtered.status = STATUS_ERROR;
  auto r = s->SearchSessions(filtered);
  ASSERT_TRUE(r.ok());
  for (const auto& ss : r->sessions) {
    EXPECT_EQ(ss.project, "p2");
    EXPECT_EQ(ss.status, STATUS_ERROR);
  }
  auto d = s->GetSession("sess1", {"default"});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->session.session_id, "sess1");
  EXPECT_EQ(static_cast<size_t>(d->session.trace_count), d->traces.size());
  for (size_t i = 1; i < d->traces.size(); ++i) EXPECT_LE(d->traces[i - 1].start_ns, d->traces[i].start_ns);
  EXPECT_EQ(s->GetSession("sess1", {"nope"}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(s->GetSession("unknown", {}).status().code(), StatusCode::kNotFound);
}

EmbeddedStoreOptions Opts(Env* env) {
  EmbeddedStoreOptions o;
  o.env = env;
  o.dir = "/q";
  o.logger = [](const std::string&) {};
  return o;
}

void Load(EmbeddedStore* s, uint64_t from, uint64_t to) {
  for (uint64_t t = from; t <= to; ++t) {
    // One batch per span: the summary must be right whatever the arrival order.
    for (const auto& sp : SpansOf(Describe(t))) ASSERT_TRUE(AppendSync(s, {sp}).ok());
  }
}

TEST(EmbeddedStoreQuery, EveryFilterAndPagingOnMemtableSegmentsAndMix) {
  MemEnv env;
  auto o = Opts(&env);
  auto s = EmbeddedStore::Open(o);
  ASSERT_TRUE(s.ok());
  Load(s->get(), 1, 20);
  ASSERT_TRUE((*s)->FlushNow().ok());
  Load(s->get(), 21, kTraces);
  {
    SCOPED_TRACE("segment + memtable");
    CheckQueries(s->get());
    CheckSessions(s->get());
  }
  ASSERT_TRUE((*s)->FlushNow().ok());
  ASSERT_TRUE((*s)->Close().ok());
  s = EmbeddedStore::Open(o);
  ASSERT_TRUE(s.ok());
  SCOPED_TRACE("segments after reopen");
  CheckQueries(s->get());
  CheckSessions(s->get());
}

TEST(EmbeddedStoreQuery, MemtableOnlyAndAfterWalReplay) {
  MemEnv env;
  auto o = Opts(&env);
  {
    auto s = EmbeddedStore::Open(o);
    ASSERT_TRUE(s.ok());
    Load(s->get(), 1, kTraces);
    CheckQueries(s->get());
    CheckSessions(s->get());
  }
  auto s = EmbeddedStore::Open(o);
  ASSERT_TRUE(s.ok());
  CheckQueries(s->get());
  CheckSessions(s->get());
}

TEST(EmbeddedStoreQuery, SessionPagingKeepsOneIdInSeveralProjectsWithTheSameEnd) {
  // The same session id in three projects, all ending at the same instant: one per page
  // must still return all three, each once (the cursor carries the project).
  MemEnv env;
  auto s = EmbeddedStore::Open(Opts(&env));
  ASSERT_TRUE(s.ok());
  const std::vector<std::string> projects = {"alpha", "beta", "gamma"};
  for (size_t i = 0; i < projects.size(); ++i) {
    model::Span sp = MakeSpan({.trace = 900 + i, .span = 1, .name = "turn", .kind = KIND_AGENT, .status = STATUS_OK,
                               .start = 5000, .end = 9000, .project = projects[i]});
    sp.set_session_id("ticket-9421");
    ASSERT_TRUE(AppendSync(s->get(), {sp}).ok());
  }
  SessionQuery q;
  q.limit = 1;
  std::vector<std::string> seen;
  for (int page = 0; page < 10; ++page) {
    auto r = (*s)->SearchSessions(q);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    for (const auto& ss : r->sessions) seen.push_back(ss.project + "/" + ss.session_id);
    if (!r->next) break;
    q.after = r->next;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"alpha/ticket-9421", "beta/ticket-9421", "gamma/ticket-9421"}));
}

TEST(EmbeddedStoreQuery, CursorWithBadIdIsRefused) {
  MemEnv env;
  auto s = EmbeddedStore::Open(Opts(&env));
  ASSERT_TRUE(s.ok());
  TraceQuery q;
  q.after = Cursor{1, "xx"};
  EXPECT_EQ((*s)->SearchTraces(q).status().code(), StatusCode::kInvalidArgument);
}

TEST(EmbeddedStoreQuery, ConcurrentAppendsQueriesAndFlushes) {
  MemEnv env;
  auto o = Opts(&env);
  o.memtable_limit_bytes = 128 << 10;
  auto s = EmbeddedStore::Open(o);
  ASSERT_TRUE(s.ok());
  EmbeddedStore* st = s->get();
  std::atomic<bool> stop{false};
  std::atomic<int64_t> acked{0};
  std::vector<std::thread> writers, readers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      for (uint64_t b = 0; b < 60; ++b) {
        std::vector<model::Span> spans;
        uint64_t trace = 1000 + static_cast<uint64_t>(w) * 100 + b % 10;
        for (uint64_t i = 0; i < 5; ++i) {
          model::Span sp = MakeSpan({.trace = trace, .span = b * 5 + i + 1, .parent = 1, .kind = KIND_LLM,
                                     .start = static_cast<int64_t>(b), .end = static_cast<int64_t>(b + 10)});
          sp.set_model("m" + std::to_string(i));
          sp.set_input_json(std::string(300, 'z'));
          spans.push_back(sp);
        }
        if (AppendSync(st, spans).ok()) acked += 5;
      }
    });
  }
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      while (!stop) {
        TraceQuery q;
        q.model = "m3";
        q.limit = 5;
        auto page = st->SearchTraces(q);
        ASSERT_TRUE(page.ok());
        for (const auto& t : page->traces) {
          auto d = st->GetTrace(t.trace_id, {});
          ASSERT_TRUE(d.ok()) << d.status().ToString();
          EXPECT_GE(d->spans.size(), 1u);
        }
        q.text = "zzz";
        ASSERT_TRUE(st->SearchTraces(q).ok());
        (void)st->Stats();
      }
    });
  }
  for (auto& t : writers) t.join();
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(acked.load(), 4 * 60 * 5);
  int64_t total = 0;
  TraceQuery q;
  q.limit = 1000;
  auto page = st->SearchTraces(q);
  ASSERT_TRUE(page.ok());
  for (const auto& t : page->traces) total += t.span_count;
  EXPECT_EQ(total, acked.load());
  EXPECT_GT(st->Stats().segments, 0);
}

// Attribute values equal to their span's canonical column are stored in the segments by
// reference to the column (docs/segment_format.md, id 49): traces read back with exactly
// the attributes sent, in order, and attr.KEY=VALUE filters (search, span- and
// trace-level aggregates) find referred values and values of their own under the same
// key, on segments, after reopen and after compaction rewrote them.
TEST(EmbeddedStoreQuery, AttributesEqualToTheirColumnReadAndFilterFromSegments) {
  MemEnv env;
  auto o = Opts(&env);
  o.compaction.min_merge = 3;
  o.compaction.interval_ms = 3600 * 1000;  // compaction driven by CompactNow
  o.compaction.max_bytes_per_sec = 0;
  o.compaction.lower_priority = false;
  std::map<std::string, model::Span> sent;  // span id -> span
  auto s = EmbeddedStore::Open(o);
  ASSERT_TRUE(s.ok());
  for (uint64_t t = 1; t <= 6; ++t) {
    std::vector<model::Span> spans;
    for (uint64_t k = 0; k < 3; ++k) {
      model::Span sp = MakeSpan({t, t * 10 + k + 1, k ? t * 10 + 1 : 0, "chat", KIND_LLM, STATUS_OK,
                                 1'000'000'000 + static_cast<int64_t>(t * 1000 + k),
                                 1'000'000'500 + static_cast<int64_t>(t * 1000 + k)});
      sp.set_session_id("sess-" + std::to_string(t % 2));
      sp.set_user_id("user-" + std::to_string(t));
      sp.set_model("model-a");
      sp.set_input_tokens(static_cast<int64_t>(100 + t));
      auto* a = sp.mutable_attributes();
      auto add = [&](const std::string& key) {
        auto* kv = a->Add();
        kv->set_key(key);
        return kv->mutable_value();
      };
      add("session.id")->set_string_value(t == 3 ? std::string("sess-moved") : sp.session_id());
      add("note")->set_string_value("n" + std::to_string(k));
      add("gen_ai.request.model")->set_string_value(sp.model());
      add("gen_ai.usage.input_tokens")->set_int_value(sp.input_tokens());
      add("user.id")->set_string_value(k == 2 ? std::string("user-other") : sp.user_id());
      sent[sp.span_id()] = sp;
      spans.push_back(sp);
    }
    ASSERT_TRUE(AppendSync(s->get(), spans).ok());
    if (t % 2 == 0) {
      ASSERT_TRUE((*s)->FlushNow().ok());  // three segments
    }
  }
  auto traces_matching = [&](EmbeddedStore* st, const std::string& key, const std::string& value) {
    TraceQuery q;
    q.attrs = {{key, value}};
    auto page = st->SearchTraces(q);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    std::set<std::string> ids;
    if (page.ok())
      for (const auto& tr : page->traces) ids.insert(tr.trace_id);
    return ids;
  };
  auto spans_matching = [&](EmbeddedStore* st, AggLevel level, const std::string& key, const std::string& value) {
    AggregateQuery q;
    q.level = level;
    q.allow_rollups = false;
    q.filter.attrs = {{key, value}};
    auto r = st->Aggregate(q);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() && !r->rows.empty() ? r->rows[0].count : -1;
  };
  auto check = [&](EmbeddedStore* st) {
    for (uint64_t t = 1; t <= 6; ++t) {
      auto d = st->GetTrace(TraceId(t), {});
      ASSERT_TRUE(d.ok()) << d.status().ToString();
      ASSERT_EQ(d->spans.size(), 3u);
      for (const auto& got : d->spans) {
        ASSERT_TRUE(sent.count(got.span_id()));
        const model::Span& want = sent[got.span_id()];
        ASSERT_EQ(got.attributes_size(), want.attributes_size());
        for (int i = 0; i < want.attributes_size(); ++i)
          EXPECT_EQ(got.attributes(i).SerializeAsString(), want.attributes(i).SerializeAsString()) << i;
        auto one = st->GetSpan(TraceId(t), got.span_id(), {});
        ASSERT_TRUE(one.ok());
        EXPECT_EQ(one->attributes_size(), want.attributes_size());
      }
    }
    EXPECT_EQ(traces_matching(st, "session.id", "sess-1"), (std::set<std::string>{TraceId(1), TraceId(5)}));
    EXPECT_EQ(traces_matching(st, "session.id", "sess-moved"), std::set<std::string>{TraceId(3)});
    EXPECT_EQ(traces_matching(st, "gen_ai.usage.input_tokens", "104"), std::set<std::string>{TraceId(4)});
    EXPECT_EQ(traces_matching(st, "user.id", "user-2"), std::set<std::string>{TraceId(2)});
    EXPECT_EQ(traces_matching(st, "user.id", "user-other").size(), 6u);
    EXPECT_EQ(spans_matching(st, AggLevel::kSpan, "session.id", "sess-0"), 9);
    EXPECT_EQ(spans_matching(st, AggLevel::kSpan, "session.id", "sess-moved"), 3);
    EXPECT_EQ(spans_matching(st, AggLevel::kSpan, "gen_ai.request.model", "model-a"), 18);
    EXPECT_EQ(spans_matching(st, AggLevel::kSpan, "user.id", "user-4"), 2);
    EXPECT_EQ(spans_matching(st, AggLevel::kTrace, "session.id", "sess-moved"), 1);
    EXPECT_EQ(spans_matching(st, AggLevel::kTrace, "gen_ai.usage.input_tokens", "101"), 1);
  };
  {
    SCOPED_TRACE("segments");
    check(s->get());
  }
  ASSERT_TRUE((*s)->Close().ok());
  s = EmbeddedStore::Open(o);
  ASSERT_TRUE(s.ok());
  {
    SCOPED_TRACE("after reopen");
    check(s->get());
  }
  ASSERT_EQ((*s)->LiveSegments().size(), 3u);
  ASSERT_TRUE((*s)->CompactNow().ok());
  ASSERT_EQ((*s)->LiveSegments().size(), 1u);
  {
    SCOPED_TRACE("after compaction");
    check(s->get());
  }
}

}  // namespace
}  // namespace sightline::store
