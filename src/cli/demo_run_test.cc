// The demo run's structure: what `sightline demo` sends.
#include "cli/demo_run.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "common/hex.h"

namespace sightline::cli {
namespace {

namespace otrace = ::opentelemetry::proto::trace::v1;

struct Sent {
  const otrace::Span* span;
  size_t request;
};

std::string Attr(const otrace::Span& s, const std::string& key) {
  for (const auto& kv : s.attributes()) {
    if (kv.key() != key) continue;
    const auto& v = kv.value();
    if (v.has_int_value()) return std::to_string(v.int_value());
    if (v.has_double_value()) return std::to_string(v.double_value());
    return v.string_value();
  }
  return "";
}

class DemoRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    run_ = BuildDemoRun(DemoOptions{1, now_, 42});
    for (size_t r = 0; r < run_.requests.size(); ++r)
      for (const auto& rs : run_.requests[r].resource_spans())
        for (const auto& ss : rs.scope_spans())
          for (const auto& s : ss.spans()) spans_.push_back({&s, r});
  }
  std::vector<Sent> Named(const std::string& prefix) {
    std::vector<Sent> out;
    for (const auto& s : spans_)
      if (s.span->name().rfind(prefix, 0) == 0) out.push_back(s);
    return out;
  }
  const int64_t now_ = 1774287731420000000;
  DemoRun run_;
  std::vector<Sent> spans_;
};

TEST_F(DemoRunTest, TwoTurnsOfOneSession) {
  ASSERT_EQ(run_.traces.size(), 2u);
  EXPECT_EQ(run_.traces[0].session_id, "ticket-9421");
  EXPECT_EQ(run_.traces[1].session_id, "ticket-9421");
  EXPECT_NE(run_.traces[0].trace_id, run_.traces[1].trace_id);
  std::set<std::string> trace_ids;
  for (const auto& s : spans_) {
    trace_ids.insert(HexEncode(s.span->trace_id()));
    EXPECT_EQ(Attr(*s.span, "session.id"), "ticket-9421");
    EXPECT_EQ(Attr(*s.span, "user.id"), "user_92");
    EXPECT_EQ(s.span->trace_id().size(), 16u);
    EXPECT_EQ(s.span->span_id().size(), 8u);
    // Timestamps are recent and ordered.
    EXPECT_LE(s.span->start_time_unix_nano(), s.span->end_time_unix_nano());
    EXPECT_LT(static_cast<int64_t>(s.span->end_time_unix_nano()), now_);
    EXPECT_GT(static_cast<int64_t>(s.span->start_time_unix_nano()), now_ - 60'000'000'000LL);
  }
  EXPECT_EQ(trace_ids, (std::set<std::string>{run_.traces[0].trace_id, run_.traces[1].trace_id}));
  EXPECT_GE(run_.requests.size(), 3u);
}

TEST_F(DemoRunTest, OrchestratorAndSubAgents) {
  auto roots = Named("invoke_agent support-orchestrator");
  ASSERT_EQ(roots.size(), 2u);
  for (const auto& r : roots) {
    EXPECT_TRUE(r.span->parent_span_id().empty());
    EXPECT_EQ(Attr(*r.span, "gen_ai.operation.name"), "invoke_agent");
    EXPECT_EQ(Attr(*r.span, "gen_ai.agent.name"), "support-orchestrator");
  }
  EXPECT_EQ(Named("invoke_agent billing-resolver").size(), 2u);
  EXPECT_EQ(Named("invoke_agent knowledge-agent").size(), 1u);
  // The planning call: system prompt, user question, an assistant tool call.
  bool planned = false;
  for (const auto& s : Named("chat ")) {
    EXPECT_EQ(Attr(*s.span, "gen_ai.provider.name"), "openai");
    EXPECT_FALSE(Attr(*s.span, "gen_ai.response.model").empty());
    EXPECT_FALSE(Attr(*s.span, "gen_ai.usage.input_tokens").empty());
    EXPECT_FALSE(Attr(*s.span, "gen_ai.usage.cache_read.input_tokens").empty());
    EXPECT_FALSE(Attr(*s.span, "gen_ai.usage.cost").empty());
    std::string in = Attr(*s.span, "gen_ai.input.messages"), out = Attr(*s.span, "gen_ai.output.messages");
    if (s.span->parent_span_id() == roots[0].span->span_id() && in.find("\"role\":\"system\"") != std::string::npos &&
        in.find("\"role\":\"user\"") != std::string::npos && out.find("\"type\":\"tool_call\"") != std::string::npos)
      planned = true;
  }
  EXPECT_TRUE(planned);
}

TEST_F(DemoRunTest, RetrievalFailedToolRetryAndInterrupt) {
  auto retrieval = Named("retrieval ");
  ASSERT_EQ(retrieval.size(), 1u);
  EXPECT_EQ(Attr(*retrieval[0].span, "gen_ai.operation.name"), "retrieval");
  EXPECT_THAT(Attr(*retrieval[0].span, "retrieval.documents"), ::testing::HasSubstr("\"score\""));

  auto lookups = Named("execute_tool lookup_invoice");
  ASSERT_EQ(lookups.size(), 2u);
  const otrace::Span* failed = lookups[0].span;
  const otrace::Span* retry = lookups[1].span;
  if (failed->start_time_unix_nano() > retry->start_time_unix_nano()) std::swap(failed, retry);
  EXPECT_EQ(failed->status().code(), otrace::Status::STATUS_CODE_ERROR);
  EXPECT_EQ(Attr(*failed, "error.type"), "TimeoutError");
  ASSERT_EQ(failed->events_size(), 1);
  EXPECT_EQ(failed->events(0).name(), "exception");
  bool has_stack = false;
  for (const auto& kv : failed->events(0).attributes()) has_stack |= kv.key() == "exception.stacktrace";
  EXPECT_TRUE(has_stack);
  EXPECT_EQ(retry->status().code(), otrace::Status::STATUS_CODE_OK);
  EXPECT_GE(retry->start_time_unix_nano(), failed->end_time_unix_nano());
  EXPECT_EQ(Attr(*retry, "gen_ai.tool.name"), "lookup_invoice");
  EXPECT_FALSE(Attr(*retry, "gen_ai.tool.call.result").empty());

  auto refunds = Named("execute_tool issue_refund");
  ASSERT_EQ(refunds.size(), 2u);
  int interrupts = 0;
  for (const auto& r : refunds) {
    if (Attr(*r.span, "status") != "interrupt") continue;
    ++interrupts;
    EXPECT_EQ(Attr(*r.span, "interrupt.reason"), "approval_required");
    EXPECT_EQ(Attr(*r.span, "tool.args.invoice_id"), "INV-2026-3140");
    EXPECT_FALSE(Attr(*r.span, "tool.args.amount_cents").empty());
    EXPECT_FALSE(Attr(*r.span, "agent.step").empty());
  }
  EXPECT_EQ(interrupts, 1);
}

TEST_F(DemoRunTest, ChildrenArriveBeforeTheirParents) {
  std::map<std::string, size_t> request_of;
  for (const auto& s : spans_) request_of[s.span->span_id()] = s.request;
  int parents_later = 0;
  for (const auto& s : spans_) {
    if (s.span->parent_span_id().empty()) continue;
    auto it = request_of.find(s.span->parent_span_id());
    ASSERT_NE(it, request_of.end()) << s.span->name() << ": parent not sent";
    EXPECT_GE(it->second, s.request) << s.span->name() << " arrives after its parent";
    parents_later += it->second > s.request;
  }
  EXPECT_GT(parents_later, 0);  // really split over requests
  // Every root is in the last request of its trace.
  for (const auto& r : Named("invoke_agent support-orchestrator")) {
    for (const auto& s : spans_) {
      if (s.span->trace_id() == r.span->trace_id()) {
        EXPECT_LE(s.request, r.request);
      }
    }
  }
}

TEST(DemoRun, MoreSessionsHaveTheirOwnIds) {
  DemoRun run = BuildDemoRun(DemoOptions{3, 1774287731420000000, 1});
  ASSERT_EQ(run.traces.size(), 6u);
  std::set<std::string> sessions, traces;
  for (const auto& t : run.traces) {
    sessions.insert(t.session_id);
    traces.insert(t.trace_id);
  }
  EXPECT_EQ(sessions.size(), 3u);
  EXPECT_EQ(traces.size(), 6u);
  EXPECT_TRUE(sessions.count("ticket-9421"));
}

}  // namespace
}  // namespace sightline::cli
