// The metrics API through a real HTTP server and store: every endpoint's numbers on a
// small known data set, and bad parameters answered 400 naming the parameter.
#include <cmath>
#include <string>

#include <gtest/gtest.h>

#include "api/api_test_util.h"

namespace sightline::api::testing {
namespace {

constexpr int64_t kT0 = 1'700'000'000'000'000'000;  // 2023-11-14T22:13:20Z
constexpr int64_t kMs = 1'000'000;
constexpr int64_t kHour = 3600 * 1000 * kMs;

class MetricsApiTest : public ServerFixture {
 protected:
  // Six runs: run r (1..6) by user u(r%3), agent a(r%2), starting r hours after kT0;
  // r+1 tool calls ("search" for even k, "fetch" for odd), the fetch calls of odd runs
  // failing; one llm call costing r cents, truncated in runs 1 and 2. Run 6 fails.
  void SetUp() override {
    ServerFixture::SetUp();
    ingest::ExportRequest req;
    auto* rs = req.add_resource_spans();
    auto* kv = rs->mutable_resource()->add_attributes();
    kv->set_key("service.name");
    kv->mutable_value()->set_string_value("bot");
    auto* ss = rs->add_scope_spans();
    auto str = [](Span* s, const std::string& k, const std::string& v) {
      auto* a = s->add_attributes();
      a->set_key(k);
      a->mutable_value()->set_string_value(v);
    };
    for (int r = 1; r <= 6; ++r) {
      const int64_t start = kT0 + r * kHour;
      Span* root = ss->add_spans();
      root->set_trace_id(TraceId(r));
      root->set_span_id(SpanId(1));
      root->set_name("run");
      root->set_start_time_unix_nano(static_cast<uint64_t>(start));
      root->set_end_time_unix_nano(static_cast<uint64_t>(start + r * 1000 * kMs));
      str(root, "openinference.span.kind", "AGENT");
      str(root, "agent.name", "a" + std::to_string(r % 2));
      str(root, "user.id", "u" + std::to_string(r % 3));
      str(root, "session.id", "s" + std::to_string(r));
      // The root's status is the run's (a run whose root is unset fails with any span).
      root->mutable_status()->set_code(r == 6 ? ::opentelemetry::proto::trace::v1::Status::STATUS_CODE_ERROR
                                              : ::opentelemetry::proto::trace::v1::Status::STATUS_CODE_OK);
      for (int k = 0; k <= r; ++k) {
        Span* t = ss->add_spans();
        t->set_trace_id(TraceId(r));
        t->set_span_id(SpanId(10 + k));
        t->set_parent_span_id(SpanId(1));
        t->set_name("tool");
        t->set_start_time_unix_nano(static_cast<uint64_t>(start + k * kMs));
        t->set_end_time_unix_nano(static_cast<uint64_t>(start + k * kMs + (k + 1) * 100 * kMs));
        str(t, "openinference.span.kind", "TOOL");
        str(t, "tool.name", k % 2 == 0 ? "search" : "fetch");
        if (k % 2 == 1 && r % 2 == 1)
          t->mutable_status()->set_code(::opentelemetry::proto::trace::v1::Status::STATUS_CODE_ERROR);
      }
      Span* llm = ss->add_spans();
      llm->set_trace_id(TraceId(r));
      llm->set_span_id(SpanId(2));
      llm->set_parent_span_id(SpanId(1));
      llm->set_name("chat");
      llm->set_start_time_unix_nano(static_cast<uint64_t>(start));
      llm->set_end_time_unix_nano(static_cast<uint64_t>(start + 50 * kMs));
      str(llm, "gen_ai.operation.name", "chat");
      str(llm, "gen_ai.request.model", "m1");
      auto* cost = llm->add_attributes();
      cost->set_key("gen_ai.usage.cost");
      cost->mutable_value()->set_double_value(0.01 * r);
      auto* tokens = llm->add_attributes();
      tokens->set_key("gen_ai.usage.input_tokens");
      tokens->mutable_value()->set_int_value(100 * r);
      auto* fin = llm->add_attributes();
      fin->set_key("gen_ai.response.finish_reasons");
      fin->mutable_value()->mutable_array_value()->add_values()->set_string_value(r <= 2 ? "length" : "stop");
    }
    auto res = PostProtobuf(req);
    ASSERT_EQ(res.status, 200) << res.body;
    sent_ = std::move(req);
  }

  ingest::ExportRequest sent_;

  rapidjson::Document GetOk(const std::string& target) {
    auto res = Get(target);
    EXPECT_EQ(res.status, 200) << target << " " << res.body;
    return ParseJson(res.body);
  }
  static std::string Range() {
    return "from=" + std::to_string(kT0 / kMs) + "&to=" + std::to_string((kT0 + 10 * kHour) / kMs);
  }
};

TEST_F(MetricsApiTest, Overview) {
  auto d = GetOk("/api/v1/metrics/overview");
  const auto& runs = d["runs"];
  EXPECT_EQ(runs["count"].GetInt(), 6);
  EXPECT_EQ(runs["errors"].GetInt(), 1);
  EXPECT_EQ(runs["ok"].GetInt(), 5);
  EXPECT_NEAR(runs["error_rate"].GetDouble(), 1.0 / 6, 1e-9);
  EXPECT_NEAR(runs["cost_usd"].GetDouble(), 0.21, 1e-9);
  EXPECT_EQ(runs["input_tokens"].GetInt(), 2100);
  // Run durations are 1..6 s; the lower-median run is 3 s.
  EXPECT_NEAR(runs["duration_ms"]["p50"].GetDouble(), 3000, 30);
  EXPECT_NEAR(runs["steps"]["max"].GetDouble(), 9, 1e-9);  // 1 root + 7 tools + 1 llm
  const auto& spans = d["spans"];
  EXPECT_EQ(spans["tool_calls"].GetInt(), 2 + 3 + 4 + 5 + 6 + 7);
  EXPECT_EQ(spans["tool_errors"].GetInt(), 1 + 2 + 3);  // fetch calls of runs 1, 3, 5
  EXPECT_EQ(spans["llm_calls"].GetInt(), 6);
  EXPECT_EQ(spans["truncated"].GetInt(), 2);
  EXPECT_NEAR(spans["truncation_rate"].GetDouble(), 2.0 / 6, 1e-9);
  // Filters narrow it like search does.
  auto a1 = GetOk("/api/v1/metrics/overview?agent=a1");
  EXPECT_EQ(a1["runs"]["count"].GetInt(), 3);
  auto none = GetOk("/api/v1/metrics/overview?user_id=nobody");
  EXPECT_EQ(none["runs"]["count"].GetInt(), 0);
  EXPECT_TRUE(none["runs"]["error_rate"].IsNull());
}

// Interrupt and resume: a run waiting for approval (interrupt.reason) that a later run
// of its session continued is resumed; one whose session has nothing after it is not.
TEST_F(MetricsApiTest, OverviewCountsInterruptedRunsResumedLaterInTheirSession) {
  ingest::ExportRequest req;
  auto* ss = req.add_resource_spans()->add_scope_spans();
  auto run = [&](int trace, int64_t start, const std::string& session, bool interrupted) {
    Span* s = ss->add_spans();
    s->set_trace_id(TraceId(trace));
    s->set_span_id(SpanId(1));
    s->set_name("approve-refund");
    s->set_start_time_unix_nano(static_cast<uint64_t>(start));
    s->set_end_time_unix_nano(static_cast<uint64_t>(start + 1000 * kMs));
    auto attr = [&](const std::string& k, const std::string& v) {
      auto* a = s->add_attributes();
      a->set_key(k);
      a->mutable_value()->set_string_value(v);
    };
    attr("openinference.span.kind", "AGENT");
    attr("session.id", session);
    if (interrupted) attr("interrupt.reason", "waiting for human approval");
  };
  run(101, kT0 + 2 * kHour, "ticket-1", true);
  run(102, kT0 + 3 * kHour, "ticket-1", false);  // the approval came: the run goes on
  run(103, kT0 + 4 * kHour, "ticket-2", true);   // still waiting
  ASSERT_EQ(PostProtobuf(req).status, 200);
  auto d = GetOk("/api/v1/metrics/overview");
  EXPECT_EQ(d["runs"]["interrupts"].GetInt(), 2);
  EXPECT_EQ(d["runs"]["resumes"].GetInt(), 1);
  EXPECT_NEAR(d["runs"]["resume_rate"].GetDouble(), 0.5, 1e-12);
  auto one = GetOk("/api/v1/metrics/overview?session_id=ticket-2");
  EXPECT_EQ(one["runs"]["resumes"].GetInt(), 0);
  EXPECT_NEAR(one["runs"]["resume_rate"].GetDouble(), 0, 1e-12);
  auto none = GetOk("/api/v1/metrics/overview?user_id=nobody");
  EXPECT_EQ(none["runs"]["resumes"].GetInt(), 0);
  EXPECT_TRUE(none["runs"]["resume_rate"].IsNull());  // no interrupted run: no rate
  auto attr = GetOk("/api/v1/metrics/overview?attr.x=y");
  EXPECT_TRUE(attr["runs"]["resumes"].IsNull());  // not counted with attr.* filters
}

TEST_F(MetricsApiTest, TimeseriesPerToolPerHour) {
  auto d = GetOk("/api/v1/metrics/timeseries?metric=count&group_by=tool&kind=tool&interval=1h&" + Range());
  EXPECT_STREQ(d["level"].GetString(), "spans");
  EXPECT_EQ(d["interval_ms"].GetInt64(), 3600 * 1000);
  ASSERT_EQ(d["series"].Size(), 2u);
  int total = 0;
  for (const auto& s : d["series"].GetArray()) {
    ASSERT_EQ(s["points"].Size(), 11u);  // 10 hours, both ends included
    for (const auto& p : s["points"].GetArray()) total += p[1].GetInt();
  }
  EXPECT_EQ(total, 27);
  // Point for hour 3: run 3 has 4 tool calls, 2 of each.
  EXPECT_EQ(d["series"][0]["points"][3][0].GetInt64(), kT0 / kHour * kHour + 3 * kHour);

  auto rate = GetOk("/api/v1/metrics/timeseries?metric=error_rate&interval=1h&" + Range());
  EXPECT_STREQ(rate["level"].GetString(), "runs");
  const auto& pts = rate["series"][0]["points"];
  EXPECT_TRUE(pts[0][1].IsNull());  // no run in that hour
  double errors = 0;
  for (const auto& p : pts.GetArray())
    if (!p[1].IsNull()) errors += p[1].GetDouble();
  EXPECT_NEAR(errors, 1, 1e-9);

  auto p95 = GetOk("/api/v1/metrics/timeseries?metric=duration_p95&group_by=tool&tool=search&interval=1d&" + Range());
  ASSERT_EQ(p95["series"].Size(), 1u);
  EXPECT_STREQ(p95["series"][0]["group"].GetString(), "search");
}

TEST_F(MetricsApiTest, Distributions) {
  auto steps = GetOk("/api/v1/metrics/distribution?metric=steps");
  EXPECT_EQ(steps["count"].GetInt(), 6);
  EXPECT_NEAR(steps["min"].GetDouble(), 4, 1e-9);
  EXPECT_NEAR(steps["max"].GetDouble(), 9, 1e-9);
  uint64_t n = 0;
  for (const auto& b : steps["buckets"].GetArray()) {
    EXPECT_LE(b["lower"].GetDouble(), b["upper"].GetDouble());
    n += b["count"].GetUint64();
  }
  EXPECT_EQ(n, 6u);
  auto dur = GetOk("/api/v1/metrics/distribution?metric=duration&level=spans&tool=fetch");
  EXPECT_STREQ(dur["unit"].GetString(), "ms");
  EXPECT_EQ(dur["count"].GetInt(), 1 + 1 + 2 + 2 + 3 + 3);  // k odd, k <= r
  EXPECT_NEAR(dur["max"].GetDouble(), 600, 1e-6);
  auto cost = GetOk("/api/v1/metrics/distribution?metric=cost&bins=2");
  EXPECT_LE(cost["buckets"].Size(), 2u);
  EXPECT_NEAR(cost["quantiles"]["p50"].GetDouble(), 0.03, 0.0003);
}

TEST_F(MetricsApiTest, TopCostPerUser) {
  auto d = GetOk("/api/v1/metrics/top?metric=cost&by=user&limit=2");
  EXPECT_EQ(d["groups"].GetInt(), 3);
  ASSERT_EQ(d["items"].Size(), 2u);
  // u0: runs 3, 6 = 0.09; u2: runs 2, 5 = 0.07; u1: runs 1, 4 = 0.05.
  EXPECT_STREQ(d["items"][0]["key"].GetString(), "u0");
  EXPECT_NEAR(d["items"][0]["value"].GetDouble(), 0.09, 1e-9);
  EXPECT_EQ(d["items"][0]["count"].GetInt(), 2);
  EXPECT_STREQ(d["items"][1]["key"].GetString(), "u2");
  auto tools = GetOk("/api/v1/metrics/top?metric=error_rate&by=tool");
  EXPECT_STREQ(tools["level"].GetString(), "spans");
  EXPECT_STREQ(tools["items"][0]["key"].GetString(), "fetch");
}

TEST_F(MetricsApiTest, TopGivesTheMedianOverEveryGroupAndDurationQuantiles) {
  // Users: 0.05, 0.07, 0.09 -> the median 0.07, though only one item is listed.
  auto users = GetOk("/api/v1/metrics/top?metric=cost&by=user&limit=1");
  EXPECT_EQ(users["groups"].GetInt(), 3);
  ASSERT_EQ(users["items"].Size(), 1u);
  EXPECT_NEAR(users["median"].GetDouble(), 0.07, 1e-9);
  // Sessions s1..s6 cost 1..6 cents: the top two, and the lower median 0.03.
  auto sessions = GetOk("/api/v1/metrics/top?metric=cost&by=session&limit=2");
  EXPECT_EQ(sessions["groups"].GetInt(), 6);
  ASSERT_EQ(sessions["items"].Size(), 2u);
  EXPECT_STREQ(sessions["items"][0]["key"].GetString(), "s6");
  EXPECT_NEAR(sessions["items"][0]["value"].GetDouble(), 0.06, 1e-9);
  EXPECT_NEAR(sessions["items"][0]["median_cost_usd"].GetDouble(), 0.06, 0.0006);
  EXPECT_STREQ(sessions["items"][1]["key"].GetString(), "s5");
  EXPECT_NEAR(sessions["median"].GetDouble(), 0.03, 1e-9);
  auto runs = GetOk("/api/v1/metrics/top?metric=count&by=session&limit=50");
  EXPECT_EQ(runs["items"].Size(), 6u);
  EXPECT_NEAR(runs["median"].GetDouble(), 1, 1e-9);
  // A duration metric: p50, p95 and p99 of every group in one answer.
  auto tools = GetOk("/api/v1/metrics/top?metric=duration_p95&by=tool");
  ASSERT_GT(tools["items"].Size(), 0u);
  for (const auto& it : tools["items"].GetArray()) {
    ASSERT_TRUE(it.HasMember("duration_ms"));
    const auto& d = it["duration_ms"];
    EXPECT_NEAR(d["p95"].GetDouble(), it["value"].GetDouble(), 1e-9);
    EXPECT_LE(d["p50"].GetDouble(), d["p95"].GetDouble());
    EXPECT_LE(d["p95"].GetDouble(), d["p99"].GetDouble());
  }
  EXPECT_FALSE(GetOk("/api/v1/metrics/top?metric=cost&by=user")["items"][0].HasMember("duration_ms"));
}

TEST_F(MetricsApiTest, BadParametersAre400NamingTheParameter) {
  struct Case {
    std::string target;
    int status;
    const char* names;
  };
  const Case cases[] = {
      {"/api/v1/metrics/timeseries?metric=bogus", 400, "metric"},
      {"/api/v1/metrics/timeseries?group_by=planet", 400, "group_by"},
      {"/api/v1/metrics/timeseries?interval=0", 400, "interval"},
      {"/api/v1/metrics/timeseries?interval=5x", 400, "interval"},
      {"/api/v1/metrics/timeseries?interval=1s&from=0", 400, "interval"},
      {"/api/v1/metrics/timeseries?level=moon", 400, "level"},
      {"/api/v1/metrics/timeseries?level=runs&group_by=tool", 400, "level"},
      {"/api/v1/metrics/timeseries?metric=count&metric=cost", 400, "metric"},
      {"/api/v1/metrics/distribution", 400, "metric"},
      {"/api/v1/metrics/distribution?metric=steps&level=spans", 400, "level"},
      {"/api/v1/metrics/distribution?metric=cost&bins=0", 400, "bins"},
      {"/api/v1/metrics/top?metric=cost", 400, "by"},
      {"/api/v1/metrics/top?by=user&metric=nope", 400, "metric"},
      {"/api/v1/metrics/overview?cursor=abc", 400, "cursor"},
      {"/api/v1/metrics/overview?bogus=1", 400, "bogus"},
      {"/api/v1/metrics/overview?from=yesterday", 400, "from"},
      {"/api/v1/metrics/overview?status=great", 400, "status"},
      {"/api/v1/metrics/top?by=user&limit=0", 400, "limit"},
      {"/api/v1/metrics/nope", 404, "nope"},
  };
  for (const auto& c : cases) {
    auto res = Get(c.target);
    EXPECT_EQ(res.status, c.status) << c.target << " " << res.body;
    auto doc = ParseJson(res.body);
    ASSERT_TRUE(doc.IsObject() && doc.HasMember("error")) << c.target;
    EXPECT_NE(std::string(doc["error"]["message"].GetString()).find(c.names), std::string::npos)
        << c.target << ": " << doc["error"]["message"].GetString();
  }
  EXPECT_EQ(Client(port_).Send(http::verb::post, "/api/v1/metrics/overview", "x").status, 405);
}

// The same six runs as the agents' own metrics on /metrics (Prometheus text).
TEST_F(MetricsApiTest, AgentMetricsOnTheMetricsPage) {
  auto check = [&](const std::string& why) {
    auto res = Get("/metrics");
    ASSERT_EQ(res.status, 200);
    const std::string& text = res.body;
    for (const char* want : {
             "# TYPE sightline_agent_runs_total counter\n",
             "sightline_agent_runs_total{project=\"default\",agent=\"a1\",status=\"ok\"} 3\n",
             "sightline_agent_runs_total{project=\"default\",agent=\"a0\",status=\"ok\"} 2\n",
             "sightline_agent_runs_total{project=\"default\",agent=\"a0\",status=\"error\"} 1\n",
             "sightline_tool_calls_total{project=\"default\",tool=\"fetch\",status=\"error\"} 6\n",
             "sightline_model_tokens_total{project=\"default\",model=\"m1\",type=\"input\"} 2100\n",
             "# TYPE sightline_tool_duration_seconds histogram\n",
             // search calls take (k+1)*100 ms for even k: 0.1 s (6 of them), 0.3 s (5), 0.5 s (3), 0.7 s (1)
             "sightline_tool_duration_seconds_bucket{project=\"default\",tool=\"search\",le=\"0.1\"} 6\n",
             "sightline_tool_duration_seconds_bucket{project=\"default\",tool=\"search\",le=\"0.5\"} 14\n",
             "sightline_tool_duration_seconds_count{project=\"default\",tool=\"search\"} 15\n",
             // runs take r seconds: a1 runs 1, 3, 5 s
             "sightline_agent_duration_seconds_bucket{project=\"default\",agent=\"a1\",le=\"2.5\"} 1\n",
             "sightline_agent_duration_seconds_sum{project=\"default\",agent=\"a1\"} 9\n",
         }) {
      EXPECT_NE(text.find(want), std::string::npos) << why << ": " << want << "\n" << text;
    }
    // Cost of the six model calls: 0.01 * (1 + ... + 6), whatever the agent label.
    double cost = 0;
    const std::string prefix = "\nsightline_cost_usd_total{";
    for (size_t pos = text.find(prefix); pos != std::string::npos; pos = text.find(prefix, pos + 1)) {
      size_t eol = text.find('\n', pos + 1);
      size_t sp = text.rfind(' ', eol);
      cost += std::stod(text.substr(sp + 1, eol - sp - 1));
    }
    EXPECT_NEAR(cost, 0.21, 1e-9) << why << "\n" << text;
  };
  check("after one request");
  // A request the store refuses is not counted: the sender will retry it.
  store_->Refuse(Status::ResourceExhausted("ingest queue full"));
  auto res = PostProtobuf(sent_);
  EXPECT_EQ(res.status, 429) << res.body;
  check("after a refused request");
}

}  // namespace
}  // namespace sightline::api::testing
