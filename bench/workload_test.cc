// The workload generator: determinism, the trace shapes it promises, its sizes, and the
// id rewriting the load generator relies on.
#include "id_offsets.h"
#include "workload.h"

#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

namespace sightline::bench {
namespace {

namespace trace = ::opentelemetry::proto::trace::v1;

std::string Attr(const OtlpSpan& s, std::string_view key) {
  for (const auto& kv : s.attributes())
    if (kv.key() == key) {
      if (kv.value().has_string_value()) return kv.value().string_value();
      if (kv.value().has_int_value()) return std::to_string(kv.value().int_value());
      return "?";
    }
  return "";
}

struct Stream {
  std::vector<OtlpSpan> spans;       // in emission order
  std::vector<int> batch_of;         // batch index per span
  std::vector<size_t> batch_bytes;   // encoded size per batch
};

Stream Collect(WorkloadOptions o, int max_batches = 1 << 30) {
  WorkloadGenerator g(o);
  Stream st;
  ExportRequest req;
  for (int b = 0; b < max_batches && g.NextBatch(&req); ++b) {
    st.batch_bytes.push_back(req.ByteSizeLong());
    for (const auto& rs : req.resource_spans())
      for (const auto& ss : rs.scope_spans())
        for (const auto& sp : ss.spans()) {
          st.spans.push_back(sp);
          st.batch_of.push_back(b);
        }
  }
  return st;
}

TEST(Workload, SameSeedSameBytesOtherSeedOtherBytes) {
  for (Variant v : {Variant::kLean, Variant::kPayload}) {
    WorkloadOptions o;
    o.variant = v;
    o.total_spans = 3000;
    o.batch_spans = 250;
    o.seed = 42;
    WorkloadGenerator a(o), b(o);
    o.seed = 43;
    WorkloadGenerator c(o);
    ExportRequest ra, rb, rc;
    int batches = 0;
    bool any_differs = false;
    while (a.NextBatch(&ra)) {
      ASSERT_TRUE(b.NextBatch(&rb));
      ASSERT_TRUE(c.NextBatch(&rc));
      EXPECT_EQ(ra.SerializeAsString(), rb.SerializeAsString()) << "batch " << batches;
      any_differs |= ra.SerializeAsString() != rc.SerializeAsString();
      ++batches;
    }
    EXPECT_FALSE(b.NextBatch(&rb));
    EXPECT_EQ(batches, 12);
    EXPECT_TRUE(any_differs);
  }
}

TEST(Workload, StopsExactlyAtTotalWithSmallLastBatch) {
  WorkloadOptions o;
  o.total_spans = 1234;
  o.batch_spans = 500;
  Stream st = Collect(o);
  EXPECT_EQ(st.spans.size(), 1234u);
  ASSERT_EQ(st.batch_bytes.size(), 3u);
  EXPECT_EQ(st.batch_of.back(), 2);
  EXPECT_EQ(std::count(st.batch_of.begin(), st.batch_of.end(), 2), 234);
}

TEST(Workload, TracesAreTreesDeliveredLikeExporters) {
  WorkloadOptions o;
  o.total_spans = 60000;
  o.batch_spans = 500;
  o.seed = 7;
  Stream st = Collect(o);
  std::set<std::string> span_ids;
  std::map<std::string, std::vector<size_t>> by_trace;
  for (size_t i = 0; i < st.spans.size(); ++i) {
    const auto& s = st.spans[i];
    ASSERT_EQ(s.trace_id().size(), 16u);
    ASSERT_EQ(s.span_id().size(), 8u);
    EXPECT_TRUE(span_ids.insert(s.span_id()).second) << "duplicate span id at " << i;
    EXPECT_GE(s.end_time_unix_nano(), s.start_time_unix_nano());
    by_trace[s.trace_id()].push_back(i);
  }
  int complete = 0, child_before_parent = 0, split = 0, errors_retried = 0, interrupts = 0, loops = 0;
  std::map<std::string, int> turns_per_session;
  for (const auto& [tid, idx] : by_trace) {
    std::map<std::string, size_t> pos;
    const OtlpSpan* root = nullptr;
    for (size_t i : idx) {
      pos[st.spans[i].span_id()] = i;
      if (st.spans[i].parent_span_id().empty()) root = &st.spans[i];
    }
    if (st.batch_of[idx.front()] != st.batch_of[idx.back()]) ++split;
    if (!root) continue;  // the trace was cut at the end of the workload
    ++complete;
    EXPECT_GE(idx.size(), 5u);
    ++turns_per_session[Attr(*root, "session.id")];
    EXPECT_EQ(root->name(), "invoke_agent orchestrator");
    std::string last_tool;
    int run = 0;
    for (size_t n = 0; n < idx.size(); ++n) {
      const OtlpSpan& s = st.spans[idx[n]];
      EXPECT_EQ(Attr(s, "session.id"), Attr(*root, "session.id"));
      if (!s.parent_span_id().empty()) {
        auto it = pos.find(s.parent_span_id());
        ASSERT_NE(it, pos.end()) << "orphan span " << s.name();
        if (it->second > idx[n]) ++child_before_parent;
        EXPECT_GE(s.start_time_unix_nano(), st.spans[it->second].start_time_unix_nano());
        EXPECT_LE(s.end_time_unix_nano(), st.spans[it->second].end_time_unix_nano());
      }
      if (s.status().code() == trace::Status::STATUS_CODE_ERROR) {
        EXPECT_FALSE(Attr(s, "error.type").empty());
        ASSERT_EQ(s.events_size(), 1);
        EXPECT_EQ(s.events(0).name(), "exception");
        // The retry: the next span of the same parent calls the same tool and succeeds.
        for (size_t k = n + 1; k < idx.size(); ++k) {
          const OtlpSpan& r = st.spans[idx[k]];
          if (r.parent_span_id() != s.parent_span_id()) continue;
          if (r.name() == s.name() && r.status().code() != trace::Status::STATUS_CODE_ERROR) ++errors_retried;
          break;
        }
      }
      if (Attr(s, "interrupt.reason") == "approval_required" && Attr(s, "status") == "interrupt") ++interrupts;
      const std::string tool = Attr(s, "gen_ai.tool.name");
      if (!tool.empty()) {
        run = tool == last_tool ? run + 1 : 1;
        last_tool = tool;
        if (run == 8) ++loops;
      }
    }
  }
  EXPECT_GT(complete, 2000);
  EXPECT_GT(child_before_parent, 0);
  EXPECT_GT(split, 50);
  EXPECT_GT(errors_retried, 20);
  EXPECT_GT(interrupts, 20);
  EXPECT_GT(loops, 3);
  int long_sessions = 0;
  for (const auto& [sid, turns] : turns_per_session) {
    EXPECT_EQ(sid.rfind("ticket-", 0), 0u);
    EXPECT_LE(turns, 50);
    long_sessions += turns >= 20;
  }
  EXPECT_GT(turns_per_session.size(), 50u);
  EXPECT_GT(long_sessions, 10);
}

TEST(Workload, SizesPerSpanMatchTheVariants) {
  for (Variant v : {Variant::kLean, Variant::kPayload}) {
    WorkloadOptions o;
    o.variant = v;
    o.total_spans = v == Variant::kLean ? 20000 : 20000;
    Stream st = Collect(o);
    size_t bytes = 0;
    for (size_t b : st.batch_bytes) bytes += b;
    const double per_span = static_cast<double>(bytes) / static_cast<double>(st.spans.size());
    if (v == Variant::kLean) {
      EXPECT_GT(per_span, 300);
      EXPECT_LT(per_span, 550);
    } else {
      EXPECT_GT(per_span, 3800);
      EXPECT_LT(per_span, 6500);
    }
    std::printf("%s: %.0f bytes per span\n", std::string(VariantName(v)).c_str(), per_span);
  }
}

TEST(Workload, PayloadHistoryGrowsTurnByTurn) {
  WorkloadOptions o;
  o.variant = Variant::kPayload;
  o.total_spans = 20000;
  o.concurrent_sessions = 1;  // one session at a time: turns in order
  Stream st = Collect(o);
  // The orchestrator's planning call (step 1) of each turn, per session, in order.
  std::map<std::string, std::vector<size_t>> plan_sizes;
  for (const auto& s : st.spans)
    if (s.name().rfind("chat ", 0) == 0 && Attr(s, "gen_ai.agent.name") == "orchestrator" &&
        Attr(s, "agent.step") == "1")
      plan_sizes[Attr(s, "session.id")].push_back(Attr(s, "gen_ai.input.messages").size());
  int checked = 0;
  for (const auto& [sid, sizes] : plan_sizes) {
    for (size_t i = 1; i < sizes.size(); ++i) EXPECT_GT(sizes[i], sizes[i - 1]) << sid << " turn " << i;
    checked += sizes.size() > 5;
  }
  EXPECT_GT(checked, 5);
}

// The message and tool attributes hold JSON, as instrumentations write them: a tool
// message quoting retrieved documents' JSON escapes it. (Until 2026-12-06 it did not,
// and every later call of that sub-agent sent gen_ai.input.messages no parser reads.)
TEST(Workload, PayloadJsonAttributesParse) {
  WorkloadOptions o;
  o.variant = Variant::kPayload;
  o.total_spans = 5000;
  Stream st = Collect(o);
  int checked = 0, with_docs = 0;
  for (const auto& s : st.spans)
    for (const char* key : {"gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions",
                            "gen_ai.tool.call.arguments", "gen_ai.tool.call.result", "output.value"}) {
      const std::string v = Attr(s, key);
      if (v.empty()) continue;
      rapidjson::Document d;
      d.Parse(v.data(), v.size());
      EXPECT_FALSE(d.HasParseError()) << key << " of " << s.name() << ": " << v.substr(0, 200);
      ++checked;
      with_docs += v.find("\\\"score\\\"") != std::string::npos;  // a tool message quoting documents
    }
  EXPECT_GT(checked, 1000);
  EXPECT_GT(with_docs, 10);
}

TEST(Workload, FindAndRewriteIdsKeepsTreesAndMakesNewSpans) {
  WorkloadOptions o;
  o.total_spans = 500;
  WorkloadGenerator g(o);
  ExportRequest req;
  ASSERT_TRUE(g.NextBatch(&req));
  std::string body = req.SerializeAsString();
  std::vector<IdOffsets> ids;
  ASSERT_TRUE(FindSpanIds(body, &ids));
  ASSERT_EQ(ids.size(), 500u);
  std::vector<const OtlpSpan*> spans;
  for (const auto& rs : req.resource_spans())
    for (const auto& ss : rs.scope_spans())
      for (const auto& sp : ss.spans()) spans.push_back(&sp);
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(body.substr(ids[i].trace_id, 16), spans[i]->trace_id());
    EXPECT_EQ(body.substr(ids[i].span_id, 8), spans[i]->span_id());
    EXPECT_EQ(ids[i].parent_span_id == SIZE_MAX, spans[i]->parent_span_id().empty());
  }
  std::string same = body;
  RewriteIds(&same, ids, 0);
  EXPECT_EQ(same, body);

  std::string r1 = body, r2 = body;
  RewriteIds(&r1, ids, 1);
  RewriteIds(&r2, ids, 2);
  ExportRequest p1, p2;
  ASSERT_TRUE(p1.ParseFromString(r1));
  ASSERT_TRUE(p2.ParseFromString(r2));
  std::set<std::string> all;
  std::vector<const OtlpSpan*> rewritten;
  for (const auto& rs : p1.resource_spans())
    for (const auto& ss : rs.scope_spans())
      for (const auto& sp : ss.spans()) rewritten.push_back(&sp);
  ASSERT_EQ(rewritten.size(), spans.size());
  std::map<std::string, std::string> orig_to_new;
  for (size_t i = 0; i < spans.size(); ++i) orig_to_new[spans[i]->span_id()] = rewritten[i]->span_id();
  int linked = 0;
  for (size_t i = 0; i < spans.size(); ++i) {
    EXPECT_NE(rewritten[i]->span_id(), spans[i]->span_id());
    EXPECT_NE(rewritten[i]->trace_id(), spans[i]->trace_id());
    auto it = orig_to_new.find(spans[i]->parent_span_id());
    if (it != orig_to_new.end()) {
      EXPECT_EQ(rewritten[i]->parent_span_id(), it->second);
      ++linked;
    }
    all.insert(rewritten[i]->span_id());
    all.insert(spans[i]->span_id());
  }
  EXPECT_GT(linked, 100);
  for (const auto& rs : p2.resource_spans())
    for (const auto& ss : rs.scope_spans())
      for (const auto& sp : ss.spans()) all.insert(sp.span_id());
  EXPECT_EQ(all.size(), 1500u);

  EXPECT_FALSE(FindSpanIds(std::string_view(body).substr(0, body.size() - 3), &ids));
  EXPECT_FALSE(FindSpanIds("\xff\xff\xff", &ids));
}

TEST(Workload, ParseVariant) {
  EXPECT_EQ(ParseVariant("lean"), Variant::kLean);
  EXPECT_EQ(ParseVariant("payload"), Variant::kPayload);
  EXPECT_EQ(ParseVariant("big"), std::nullopt);
}

}  // namespace
}  // namespace sightline::bench
