// Trace search's attribute and text filters by column scan (EmbeddedStore::ScanVerdicts,
// ColumnarReader::MatchRows) against the trace-by-trace path (ReadTrace +
// MatchesExpensive) and against a brute-force answer computed from the spans sent, on
// generated data spread over a v1 file, v2 files and the memtable: payloads stored
// deduplicated (conversations re-sent turn after turn, arrays cut into pieces, phrases
// across piece boundaries, short pieces), attributes of every type on the span and on
// the resource, large attribute values, spans re-sent with other values (the newest copy
// wins), and non-ASCII text (only ASCII letters fold case).
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "common/mem_env.h"
#include "store/embedded_store.h"
#include "store/store_test_util.h"

namespace sightline::store {
namespace {

using testing::AppendSync;
using testing::MakeSpan;
using testing::TraceId;
using namespace model::v1;

constexpr uint64_t kTraces = 300;
const std::string kBig1 = std::string(1500, 'x') + "one";
const std::string kBig2 = std::string(1500, 'x') + "two";

void Attr(google::protobuf::RepeatedPtrField<opentelemetry::proto::common::v1::KeyValue>* list, const std::string& k,
          const std::string& v) {
  auto* kv = list->Add();
  kv->set_key(k);
  kv->mutable_value()->set_string_value(v);
}

std::string Message(const std::string& role, const std::string& content) {
  return R"({"role":")" + role + R"(","content":")" + content + R"("})";
}

// The conversation of trace t after `turns` turns; an llm span's input is the history.
std::vector<std::string> Conversation(uint64_t t, int turns) {
  static const char* kWords[] = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"};
  std::vector<std::string> msgs{Message("system", "You are agent " + std::to_string(t % 3))};
  for (int i = 0; i < turns; ++i) {
    std::string user = std::string(kWords[(t + static_cast<uint64_t>(i)) % 8]) + " question " + std::to_string(i);
    if (t % 9 == 0 && i == 1) user += " with a NeedLE inside";
    if (t % 10 == 3 && i == 1) user = "Ipsum starts this";  // after turn 0's "...lorem": a phrase across pieces
    if (t % 12 == 5) user += " ÉCOLE Straße";
    std::string answer = std::string(kWords[(t * 3 + static_cast<uint64_t>(i)) % 8]) + " answer " + std::to_string(i);
    if (t % 10 == 3 && i == 0) answer += " lorem";
    msgs.push_back(Message("user", user));
    msgs.push_back(Message("assistant", answer));
  }
  return msgs;
}

std::string JsonArray(const std::vector<std::string>& elems, const std::string& sep) {
  std::string s = "[";
  for (size_t i = 0; i < elems.size(); ++i) s += (i ? sep : "") + elems[i];
  return s + "]";
}

std::vector<model::Span> SpansOf(uint64_t t) {
  const int64_t s = 1000000000 + static_cast<int64_t>(t) * 1000;
  std::vector<model::Span> out;
  const std::string project = t % 2 ? "odd" : "even";
  const int turns = 1 + static_cast<int>(t % 4);
  // Two llm spans per turn pair; the history grows and is re-sent every call.
  for (int turn = 1; turn <= turns; ++turn) {
    model::Span llm = MakeSpan({.trace = t, .span = 10 + static_cast<uint64_t>(turn), .parent = 1, .name = "chat",
                                .kind = KIND_LLM, .start = s + turn * 10, .end = s + turn * 10 + 5, .project = project});
    std::vector<std::string> conv = Conversation(t, turn);
    std::string last = conv.back();
    conv.pop_back();
    llm.set_input_json(JsonArray(conv, t % 3 == 0 ? ", " : ","));
    llm.set_output_json(last);
    if (t % 5 == 2) Attr(llm.mutable_resource(), "service.tier", "gold");
    out.push_back(llm);
  }
  model::Span tool = MakeSpan({.trace = t, .span = 3, .parent = 1, .name = "call", .kind = KIND_TOOL,
                               .start = s + 100, .end = s + 200, .project = project});
  auto* kv = tool.add_attributes();
  kv->set_key("http.status");
  kv->mutable_value()->set_int_value(t % 7 == 0 ? 500 : 200);
  kv = tool.add_attributes();
  kv->set_key("flag");
  kv->mutable_value()->set_bool_value(t % 4 == 0);
  kv = tool.add_attributes();
  kv->set_key("ratio");
  kv->mutable_value()->set_double_value(t % 6 == 0 ? 0.5 : 0.25);
  Attr(tool.mutable_attributes(), "big", t % 10 == 0 ? kBig1 : kBig2);
  if (t % 11 == 0) tool.add_attributes()->set_key("novalue");  // a KeyValue without a value
  if (t % 13 == 0) Attr(tool.mutable_attributes(), "deployment", "blue");
  if (t % 13 == 1) Attr(tool.mutable_resource(), "deployment", "blue");
  Attr(tool.mutable_attributes(), "dup.attr", "old");
  // Short pieces: a phrase spanning several of them must still be found.
  std::string numbers = "[";
  for (int i = 10; i < 40; ++i) numbers += (i > 10 ? "," : "") + std::to_string(i + static_cast<int>(t % 3));
  tool.set_input_json(numbers + "]");
  tool.set_output_json(t % 8 == 1 ? R"({"result":"stale words"})" : R"({"result":"ok"})");
  out.push_back(tool);
  model::Span root = MakeSpan({.trace = t, .span = 1, .name = "run", .kind = KIND_AGENT, .start = s,
                               .end = s + 500, .project = project});
  Attr(root.mutable_resource(), "service.tier", t % 3 == 0 ? "gold" : "silver");
  out.push_back(root);
  return out;
}

// The tool span re-sent with other values (a client retry after an edit).
model::Span Resent(uint64_t t) {
  model::Span tool = SpansOf(t)[static_cast<size_t>(1 + t % 4)];
  EXPECT_EQ(tool.name(), "call");
  for (auto& a : *tool.mutable_attributes())
    if (a.key() == "dup.attr") a.mutable_value()->set_string_value("new");
  tool.set_output_json(R"({"result":"fresh words"})");
  return tool;
}

bool Resends(uint64_t t) { return t % 8 == 1; }

struct Case {
  std::string name;
  std::vector<std::pair<std::string, std::string>> attrs;
  std::string text;
  std::vector<std::string> projects;
};

std::vector<Case> Cases() {
  return {
      {"string attr on the resource of some spans", {{"service.tier", "gold"}}, "", {}},
      {"int attr", {{"http.status", "500"}}, "", {}},
      {"bool attr", {{"flag", "true"}}, "", {}},
      {"double attr", {{"ratio", "0.5"}}, "", {}},
      {"large attr", {{"big", kBig1}}, "", {}},
      {"attr without value equals empty", {{"novalue", ""}}, "", {}},
      {"attr on span or resource", {{"deployment", "blue"}}, "", {}},
      {"newest copy: old value", {{"dup.attr", "old"}}, "", {}},
      {"newest copy: new value", {{"dup.attr", "new"}}, "", {}},
      {"two attrs", {{"deployment", "blue"}, {"service.tier", "gold"}}, "", {}},
      {"attr value no span has", {{"http.status", "404"}}, "", {}},
      {"text in history", {}, "needle", {}},
      {"text upper", {}, "NEEDLE INSIDE", {}},
      {"text across pieces", {}, R"(lorem"},{"role":"user","content":"ipsum)", {}},
      {"text across spaced pieces", {}, R"(lorem"}, {"role":"user","content":"ipsum)", {}},
      {"text over short pieces", {}, "13,14,15,16", {}},
      {"text over short pieces, none", {}, "13,15", {}},
      {"text start of array", {}, R"([{"role":"system)", {}},
      {"text end of array", {}, R"(answer 0"}])", {}},
      {"text one char", {}, "]", {}},
      {"text unicode, exact", {}, "ÉCOLE straße", {}},
      {"text unicode, other case", {}, "école", {}},
      {"newest copy: stale text", {}, "stale words", {}},
      {"newest copy: fresh text", {}, "FRESH", {}},
      {"text nowhere", {}, "no trace says this", {}},
      {"attr and text", {{"service.tier", "gold"}}, "answer 2", {}},
      {"attr, text and project", {{"flag", "false"}}, "epsilon", {"odd"}},
  };
}

// The answer from the spans sent: each span id's newest copy, SpanHasAttr and
// ContainsIgnoreCase on the rendered values.
std::set<std::string> BruteForce(const Case& c, const std::map<std::pair<std::string, std::string>, model::Span>& spans) {
  std::map<std::string, std::pair<std::vector<bool>, bool>> per_trace;
  const std::string lower = AsciiLower(c.text);
  for (const auto& [key, sp] : spans) {
    if (!c.projects.empty() && sp.project() != c.projects[0]) continue;
    auto& st = per_trace[key.first];
    st.first.resize(c.attrs.size());
    for (size_t i = 0; i < c.attrs.size(); ++i)
      if (SpanHasAttr(sp, c.attrs[i].first, c.attrs[i].second)) st.first[i] = true;
    if (c.text.empty() || ContainsIgnoreCase(sp.input_json(), lower) || ContainsIgnoreCase(sp.output_json(), lower))
      st.second = true;
  }
  std::set<std::string> out;
  for (const auto& [id, st] : per_trace)
    if (st.second && std::all_of(st.first.begin(), st.first.end(), [](bool b) { return b; })) out.insert(id);
  return out;
}

// Every page of the search, in order.
std::vector<std::string> Search(EmbeddedStore* s, const Case& c, int limit) {
  TraceQuery q;
  q.attrs = c.attrs;
  q.text = c.text;
  q.projects = c.projects;
  q.limit = limit;
  std::vector<std::string> ids;
  for (int page = 0; page < 1000; ++page) {
    auto r = s->SearchTraces(q);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) break;
    for (const auto& t : r->traces) ids.push_back(t.trace_id);
    if (!r->next) break;
    q.after = r->next;
  }
  return ids;
}

int64_t AggregateCount(EmbeddedStore* s, const Case& c) {
  AggregateQuery q;
  q.level = AggLevel::kTrace;
  q.filter.attrs = c.attrs;
  q.filter.text = c.text;
  q.filter.projects = c.projects;
  auto r = s->Aggregate(q);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() && !r->rows.empty() ? r->rows[0].count : -1;
}

EmbeddedStoreOptions Opts(Env* env, size_t scan_min, SegmentFormat format) {
  EmbeddedStoreOptions o;
  o.env = env;
  o.dir = "/scan";
  o.logger = [](const std::string&) {};
  o.flush_on_close = false;  // the memtable comes back by WAL replay: same places on reopen
  o.search_scan_min_traces = scan_min;
  o.segment_format = format;
  o.compaction.min_merge = 1000;  // keep the files apart
  return o;
}

TEST(EmbeddedStoreQueryScan, ColumnScanAnswersAsTraceReadsAndBruteForce) {
  MemEnv env;
  std::map<std::pair<std::string, std::string>, model::Span> sent;  // (trace, span) -> newest copy
  auto send = [&](EmbeddedStore* s, std::vector<model::Span> spans) {
    for (const auto& sp : spans) sent[{sp.trace_id(), sp.span_id()}] = sp;
    ASSERT_TRUE(AppendSync(s, std::move(spans)).ok());
  };
  {  // traces 1..100 in a v1 file
    auto s = EmbeddedStore::Open(Opts(&env, 0, SegmentFormat::kV1Rows));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    for (uint64_t t = 1; t <= 100; ++t) send(s->get(), SpansOf(t));
    ASSERT_TRUE((*s)->FlushNow().ok());
    ASSERT_TRUE((*s)->Close().ok());
  }
  {  // 101..250 in v2 files, re-sent spans in a later file and in the memtable, 251..300 in the memtable
    auto s = EmbeddedStore::Open(Opts(&env, 0, SegmentFormat::kV2Columnar));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    for (uint64_t t = 101; t <= 250; ++t) {
      // Half of each trace now, half after the flush: traces in two files.
      std::vector<model::Span> spans = SpansOf(t);
      if (t % 2) {
        send(s->get(), spans);
      } else {
        send(s->get(), std::vector<model::Span>(spans.begin(), spans.begin() + 1));
      }
    }
    ASSERT_TRUE((*s)->FlushNow().ok());
    for (uint64_t t = 101; t <= 250; ++t) {
      std::vector<model::Span> spans = SpansOf(t);
      if (t % 2 == 0) send(s->get(), std::vector<model::Span>(spans.begin() + 1, spans.end()));
    }
    for (uint64_t t = 1; t <= 150; ++t)
      if (Resends(t)) send(s->get(), {Resent(t)});
    ASSERT_TRUE((*s)->FlushNow().ok());
    for (uint64_t t = 151; t <= 250; ++t)
      if (Resends(t)) send(s->get(), {Resent(t)});
    for (uint64_t t = 251; t <= kTraces; ++t) send(s->get(), SpansOf(t));
    ASSERT_TRUE((*s)->Close().ok());
  }

  std::map<std::string, std::vector<std::string>> scanned, paged;
  {
    auto s = EmbeddedStore::Open(Opts(&env, 0, SegmentFormat::kV2Columnar));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    ASSERT_GE((*s)->LiveSegments().size(), 3u);
    ASSERT_GT((*s)->Stats().memtable_bytes, 0);
    for (const Case& c : Cases()) {
      SCOPED_TRACE(c.name);
      std::set<std::string> want = BruteForce(c, sent);
      scanned[c.name] = Search(s->get(), c, 1000);
      paged[c.name] = Search(s->get(), c, 7);
      EXPECT_EQ(std::set<std::string>(scanned[c.name].begin(), scanned[c.name].end()), want);
      EXPECT_EQ(scanned[c.name].size(), want.size());
      EXPECT_EQ(paged[c.name], scanned[c.name]);
      EXPECT_EQ(AggregateCount(s->get(), c), static_cast<int64_t>(want.size()));
    }
    ASSERT_TRUE((*s)->Close().ok());
  }
  // The cases are not vacuous: most match some traces, and not all.
  size_t some = 0;
  for (const auto& [name, ids] : scanned) some += !ids.empty() && ids.size() < kTraces;
  EXPECT_GE(some, 18u);

  auto s = EmbeddedStore::Open(Opts(&env, SIZE_MAX, SegmentFormat::kV2Columnar));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name + " (trace reads)");
    EXPECT_EQ(Search(s->get(), c, 1000), scanned[c.name]);
    EXPECT_EQ(Search(s->get(), c, 7), paged[c.name]);
    EXPECT_EQ(AggregateCount(s->get(), c), static_cast<int64_t>(scanned[c.name].size()));
  }
}

}  // namespace
}  // namespace sightline::store
