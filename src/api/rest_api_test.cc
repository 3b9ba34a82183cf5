// REST API behaviour through a real HTTP server and store.
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "api/api_test_util.h"

namespace sightline::api::testing {
namespace {

class RestApiTest : public ServerFixture {
 protected:
  void Post(const std::vector<SpanSpec>& spans) {
    auto res = PostProtobuf(MakeRequest(spans));
    ASSERT_EQ(res.status, 200) << res.body;
  }
  static std::string Hex(const std::string& raw) { return HexEncode(raw); }
};

TEST_F(RestApiTest, TraceInTreeOrderWithDepthAndMissingParents) {
  const int64_t t0 = 1'700'000'000'000'000'000;
  SpanSpec root{TraceId(1), SpanId(1), "", "root", t0, t0 + 100};
  SpanSpec late{TraceId(1), SpanId(3), SpanId(1), "second", t0 + 50, t0 + 60};
  SpanSpec early{TraceId(1), SpanId(2), SpanId(1), "first", t0 + 10, t0 + 20};
  SpanSpec grandchild{TraceId(1), SpanId(4), SpanId(2), "grandchild", t0 + 11, t0 + 12};
  SpanSpec orphan{TraceId(1), SpanId(5), SpanId(99), "orphan", t0 + 1, t0 + 2};
  early.attrs["input.value"] = R"({"q":"hello"})";
  Post({late, grandchild, orphan, root, early});

  auto res = Get("/api/v1/traces/" + Hex(TraceId(1)));
  ASSERT_EQ(res.status, 200) << res.body;
  auto doc = ParseJson(res.body);
  EXPECT_EQ(doc["trace"]["span_count"].GetInt(), 5);
  EXPECT_STREQ(doc["trace"]["trace_id"].GetString(), Hex(TraceId(1)).c_str());
  const auto& spans = doc["spans"];
  ASSERT_EQ(spans.Size(), 5u);
  std::vector<std::string> names;
  for (const auto& s : spans.GetArray())
    names.push_back(std::string(s["name"].GetString()) + ":" + std::to_string(s["depth"].GetInt()) +
                    (s["parent_missing"].GetBool() ? "!" : ""));
  EXPECT_EQ(names, (std::vector<std::string>{"root:0", "first:1", "grandchild:2", "second:1", "orphan:0!"}));
  EXPECT_TRUE(spans[0]["parent_span_id"].IsNull());
  EXPECT_STREQ(spans[1]["parent_span_id"].GetString(), Hex(SpanId(1)).c_str());
  EXPECT_EQ(spans[0]["duration_ns"].GetInt64(), 100);
  EXPECT_STREQ(spans[0]["resource"]["service.name"].GetString(), "svc");
}

TEST_F(RestApiTest, SingleSpanHasFullPayloads) {
  SpanSpec s{TraceId(2), SpanId(1), "", "tool-call"};
  s.attrs["gen_ai.tool.name"] = "search";
  s.attrs["input.value"] = R"({"query":")" + std::string(100 * 1024, 'x') + R"("})";
  Post({s});
  auto trace = ParseJson(Get("/api/v1/traces/" + Hex(TraceId(2))).body);
  // In the trace view a payload over 64 KiB is summarised...
  const auto& listed = trace["spans"][0];
  ASSERT_TRUE(listed["attributes"]["input.value"].IsObject());
  EXPECT_TRUE(listed["attributes"]["input.value"]["truncated"].GetBool());
  // ...and the single-span endpoint has it whole.
  auto res = Get("/api/v1/traces/" + Hex(TraceId(2)) + "/spans/" + Hex(SpanId(1)));
  ASSERT_EQ(res.status, 200) << res.body.substr(0, 300);
  auto doc = ParseJson(res.body);
  EXPECT_STREQ(doc["name"].GetString(), "tool-call");
  EXPECT_EQ(doc["attributes"]["input.value"].GetStringLength(), s.attrs["input.value"].size());
  EXPECT_FALSE(doc.HasMember("depth"));
}

TEST_F(RestApiTest, IdErrorsAndUnknowns) {
  struct Case {
    std::string target;
    int status;
    const char* code;
  };
  const std::string known = Hex(TraceId(9));
  Post({{TraceId(9), SpanId(1)}});
  const Case cases[] = {
      {"/api/v1/traces/xyz", 400, "invalid_argument"},
      {"/api/v1/traces/" + std::string(32, 'g'), 400, "invalid_argument"},
      {"/api/v1/traces/" + Hex(TraceId(77)), 404, "not_found"},
      {"/api/v1/traces/" + known + "/spans/123", 400, "invalid_argument"},
      {"/api/v1/traces/" + known + "/spans/" + Hex(SpanId(55)), 404, "not_found"},
      {"/api/v1/traces/" + known + "?project=other", 404, "not_found"},
      {"/api/v1/traces/" + known + "?bogus=1", 400, "invalid_argument"},
      {"/api/v1/sessions/nope", 404, "not_found"},
      {"/api/v1/nothing", 404, "not_found"},
      {"/no/such/route", 404, "not_found"},
      {"/api/v1/traces?limit=1001", 400, "invalid_argument"},
      {"/api/v1/traces?limit=abc", 400, "invalid_argument"},
      {"/api/v1/traces?cursor=!!!", 400, "invalid_argument"},
      {"/api/v1/traces?from=yesterday", 400, "invalid_argument"},
      {"/api/v1/traces?status=great", 400, "invalid_argument"},
      {"/api/v1/traces?kind=robot", 400, "invalid_argument"},
      {"/api/v1/traces?nonsense=1", 400, "invalid_argument"},
      {"/api/v1/sessions?limit=0", 400, "invalid_argument"},
      {"/api/v1/traces?q=%zz", 400, "invalid_argument"},
  };
  for (const auto& c : cases) {
    auto res = Get(c.target);
    EXPECT_EQ(res.status, c.status) << c.target << " " << res.body;
    auto doc = ParseJson(res.body);
    ASSERT_TRUE(doc.IsObject() && doc.HasMember("error")) << c.target;
    EXPECT_STREQ(doc["error"]["code"].GetString(), c.code) << c.target;
    EXPECT_GT(doc["error"]["message"].GetStringLength(), 0u);
  }
  EXPECT_EQ(Client(port_).Send(http::verb::post, "/api/v1/traces", "x").status, 405);
}

TEST_F(RestApiTest, SearchPagesWithCursor) {
  const int64_t t0 = 1'700'000'000'000'000'000;
  std::vector<SpanSpec> spans;
  for (int i = 0; i < 5; ++i)
    spans.push_back({TraceId(20 + i), SpanId(1), "", "run" + std::to_string(i), t0 + i * 1000, t0 + i * 1000 + 10});
  Post(spans);
  std::vector<std::string> seen;
  std::string cursor;
  for (int page = 0; page < 10; ++page) {
    auto res = Get("/api/v1/traces?limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor));
    ASSERT_EQ(res.status, 200) << res.body;
    auto doc = ParseJson(res.body);
    for (const auto& t : doc["traces"].GetArray()) seen.push_back(t["root_name"].GetString());
    if (doc["next_cursor"].IsNull()) break;
    cursor = doc["next_cursor"].GetString();
  }
  // Newest first, each once.
  EXPECT_EQ(seen, (std::vector<std::string>{"run4", "run3", "run2", "run1", "run0"}));
}

TEST_F(RestApiTest, SearchFilters) {
  const int64_t t0 = 1'700'000'000'000'000'000;
  SpanSpec a{TraceId(30), SpanId(1), "", "alpha", t0, t0 + 5'000'000};
  a.attrs["gen_ai.request.model"] = "gpt-4o";
  a.attrs["customer"] = "acme";
  SpanSpec b{TraceId(31), SpanId(1), "", "beta", t0 + 1, t0 + 1'000'000};
  Post({a, b});
  auto count = [&](const std::string& query) {
    auto res = Get("/api/v1/traces?" + query);
    EXPECT_EQ(res.status, 200) << query << " " << res.body;
    return static_cast<int>(ParseJson(res.body)["traces"].Size());
  };
  EXPECT_EQ(count(""), 2);
  EXPECT_EQ(count("model=gpt-4o"), 1);
  EXPECT_EQ(count("attr.customer=acme"), 1);
  EXPECT_EQ(count("min_duration_ms=2"), 1);
  EXPECT_EQ(count("service=svc&kind=llm"), 1);
  EXPECT_EQ(count("from=1700000000000&to=1700000000001"), 2);
  EXPECT_EQ(count("to=2000-01-01T00:00:00Z"), 0);
  EXPECT_EQ(count("name=beta&service="), 1);
}

TEST_F(RestApiTest, SessionsListAndDetailInTimeOrder) {
  const int64_t t0 = 1'700'000'000'000'000'000;
  SpanSpec second{TraceId(41), SpanId(1), "", "second", t0 + 2000, t0 + 3000};
  SpanSpec first{TraceId(40), SpanId(1), "", "first", t0, t0 + 1000};
  SpanSpec other{TraceId(42), SpanId(1), "", "other", t0, t0 + 10};
  second.attrs["session.id"] = first.attrs["session.id"] = "ticket/9421";
  second.attrs["user.id"] = first.attrs["user.id"] = "u1";
  other.attrs["session.id"] = "s-2";
  Post({second, first, other});
  auto res = Get("/api/v1/sessions?user_id=u1");
  ASSERT_EQ(res.status, 200) << res.body;
  auto doc = ParseJson(res.body);
  ASSERT_EQ(doc["sessions"].Size(), 1u);
  EXPECT_STREQ(doc["sessions"][0]["session_id"].GetString(), "ticket/9421");
  EXPECT_EQ(doc["sessions"][0]["trace_count"].GetInt(), 2);
  EXPECT_TRUE(doc["next_cursor"].IsNull());
  // A session id with a slash travels percent-encoded.
  res = Get("/api/v1/sessions/ticket%2F9421");
  ASSERT_EQ(res.status, 200) << res.body;
  doc = ParseJson(res.body);
  EXPECT_STREQ(doc["session"]["session_id"].GetString(), "ticket/9421");
  ASSERT_EQ(doc["traces"].Size(), 2u);
  EXPECT_STREQ(doc["traces"][0]["root_name"].GetString(), "first");
  EXPECT_STREQ(doc["traces"][1]["root_name"].GetString(), "second");
}

TEST_F(RestApiTest, HealthReadyMetricsAndIndex) {
  auto res = Get("/healthz");
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, R"({"status":"ok"})");
  EXPECT_EQ(Get("/readyz").status, 200);
  Post({{TraceId(50), SpanId(1)}, {TraceId(50), SpanId(2), SpanId(1)}});
  res = Get("/metrics");
  ASSERT_EQ(res.status, 200);
  EXPECT_EQ(res.Header("content-type").rfind("text/plain; version=0.0.4", 0), 0u);
  for (const char* want : {"sightline_spans_received_total 2\n", "sightline_spans_accepted_total 2\n",
                           "sightline_http_request_duration_seconds_bucket{route=\"/v1/traces\",le=\"+Inf\"} 1\n",
                           "sightline_http_requests_total{route=\"/v1/traces\",code=\"200\"} 1\n",
                           "# TYPE sightline_store_fsync_duration_seconds histogram\n",
                           "sightline_store_queue_depth_bytes ", "sightline_process_resident_memory_bytes ",
                           "sightline_http_requests_in_flight "}) {
    EXPECT_NE(res.body.find(want), std::string::npos) << want;
  }
  res = Get("/");
  EXPECT_EQ(res.status, 200);
  EXPECT_NE(res.body.find("OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1"), std::string::npos);
  EXPECT_NE(res.body.find("OTEL_EXPORTER_OTLP_PROTOCOL"), std::string::npos);
  router_->SetDraining();
  EXPECT_EQ(Get("/readyz").status, 503);
}

}  // namespace
}  // namespace sightline::api::testing
