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

// The light view (?view=light): the same spans in the same tree order as the full view,
// with the tree and waterfall fields equal to the full view's, and no payloads.
TEST_F(RestApiTest, LightTraceViewMatchesFullViewWithoutPayloads) {
  const int64_t t0 = 1'700'000'000'000'000'000;
  SpanSpec root{TraceId(3), SpanId(1), "", "invoke_agent triage", t0, t0 + 1000};
  root.attrs["gen_ai.operation.name"] = "invoke_agent";
  root.attrs["gen_ai.agent.name"] = "triage";
  root.attrs["input.value"] = R"({"question":"where is my order?"})";
  SpanSpec llm{TraceId(3), SpanId(2), SpanId(1), "chat gpt-4o", t0 + 10, t0 + 400};
  llm.attrs["gen_ai.operation.name"] = "chat";
  llm.attrs["gen_ai.request.model"] = "gpt-4o";
  llm.attrs["agent.step"] = "3";
  llm.attrs["gen_ai.input.messages"] = R"([{"role":"user","parts":[{"type":"text","text":"hi"}]}])";
  SpanSpec tool{TraceId(3), SpanId(3), SpanId(1), "execute_tool lookup", t0 + 500, t0 + 900};
  tool.attrs["gen_ai.operation.name"] = "execute_tool";
  tool.attrs["gen_ai.tool.name"] = "lookup";
  tool.attrs["gen_ai.tool.call.arguments"] = R"({"order":"TT-1"})";
  SpanSpec orphan{TraceId(3), SpanId(4), SpanId(77), "late child", t0 + 5, t0 + 6};
  auto req = MakeRequest({tool, orphan, llm, root});
  auto* spans_pb = req.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans();
  for (auto& sp : *spans_pb) {
    if (sp.name() == "chat gpt-4o") {
      auto* in = sp.add_attributes();
      in->set_key("gen_ai.usage.input_tokens");
      in->mutable_value()->set_int_value(812);
      auto* out = sp.add_attributes();
      out->set_key("gen_ai.usage.output_tokens");
      out->mutable_value()->set_int_value(91);
    }
    if (sp.name() == "execute_tool lookup") {
      // A failed tool with a long status message and a recorded exception.
      sp.mutable_status()->set_code(::opentelemetry::proto::trace::v1::Status::STATUS_CODE_ERROR);
      sp.mutable_status()->set_message(std::string(300, 'e') + "\xC3\xA9" + std::string(700, 'f'));
      auto* ev = sp.add_events();
      ev->set_name("exception");
      ev->set_time_unix_nano(static_cast<uint64_t>(t0 + 800));
      auto* kv = ev->add_attributes();
      kv->set_key("exception.type");
      kv->mutable_value()->set_string_value("TimeoutError");
      auto* other = sp.add_events();
      other->set_name("retry");
      other->set_time_unix_nano(static_cast<uint64_t>(t0 + 600));
    }
  }
  ASSERT_EQ(PostProtobuf(req).status, 200);

  auto full_res = Get("/api/v1/traces/" + Hex(TraceId(3)));
  auto light_res = Get("/api/v1/traces/" + Hex(TraceId(3)) + "?view=light");
  ASSERT_EQ(full_res.status, 200) << full_res.body;
  ASSERT_EQ(light_res.status, 200) << light_res.body;
  EXPECT_LT(light_res.body.size(), full_res.body.size());
  EXPECT_EQ(light_res.Header("content-type").rfind("application/json", 0), 0u);
  auto full = ParseJson(full_res.body);
  auto light = ParseJson(light_res.body);
  EXPECT_TRUE(full["trace"] == light["trace"]) << light_res.body.substr(0, 400);
  const auto& fs = full["spans"];
  const auto& ls = light["spans"];
  ASSERT_EQ(fs.Size(), 4u);
  ASSERT_EQ(ls.Size(), fs.Size());
  const std::set<std::string> always = {"span_id",  "parent_span_id", "depth",   "parent_missing", "name",
                                        "kind",     "start_ns",       "end_ns",  "duration_ns",    "status"};
  const std::set<std::string> optional = {"status_message", "error_type",       "interrupt_reason", "agent_name",
                                          "tool_name",      "provider",         "model",            "step",
                                          "input_tokens",   "output_tokens",    "cache_read_tokens",
                                          "cache_write_tokens", "reasoning_tokens", "cost_usd"};
  for (rapidjson::SizeType i = 0; i < fs.Size(); ++i) {
    const auto& f = fs[i];
    const auto& l = ls[i];
    const std::string where = "span " + std::to_string(i) + " " + f["name"].GetString();
    for (const auto& m : l.GetObject()) {
      std::string k = m.name.GetString();
      EXPECT_TRUE(always.count(k) || optional.count(k) || k == "exception_ns") << where << ": unexpected " << k;
    }
    for (const auto& k : always) {
      ASSERT_TRUE(l.HasMember(k.c_str())) << where << ": missing " << k;
      EXPECT_TRUE(l[k.c_str()] == f[k.c_str()]) << where << ": " << k;
    }
    for (const auto& k : optional) {
      const auto& fv = f[k.c_str()];
      const bool empty = fv.IsNull() || (fv.IsString() && fv.GetStringLength() == 0);
      if (empty) {
        EXPECT_FALSE(l.HasMember(k.c_str())) << where << ": " << k << " should be left out";
      } else if (k == "status_message") {
        ASSERT_TRUE(l.HasMember(k.c_str())) << where;
        std::string short_msg = l[k.c_str()].GetString();
        EXPECT_LE(short_msg.size(), 256u);
        EXPECT_EQ(std::string(fv.GetString()).rfind(short_msg, 0), 0u) << where << ": not a prefix";
      } else {
        ASSERT_TRUE(l.HasMember(k.c_str())) << where << ": missing " << k;
        EXPECT_TRUE(l[k.c_str()] == fv) << where << ": " << k;
      }
    }
  }
  // Tree order and what the waterfall draws.
  EXPECT_STREQ(ls[0]["name"].GetString(), "invoke_agent triage");
  EXPECT_STREQ(ls[0]["agent_name"].GetString(), "triage");
  EXPECT_STREQ(ls[1]["model"].GetString(), "gpt-4o");
  EXPECT_EQ(ls[1]["step"].GetInt(), 3);
  EXPECT_EQ(ls[1]["input_tokens"].GetInt(), 812);
  EXPECT_EQ(ls[1]["output_tokens"].GetInt(), 91);
  const auto& failed = ls[2];
  EXPECT_STREQ(failed["tool_name"].GetString(), "lookup");
  EXPECT_STREQ(failed["status"].GetString(), "error");
  // The 1,003-byte message is cut to its first 256 bytes.
  EXPECT_EQ(failed["status_message"].GetStringLength(), 256u);
  ASSERT_TRUE(failed["exception_ns"].IsArray());
  ASSERT_EQ(failed["exception_ns"].Size(), 1u);
  EXPECT_EQ(failed["exception_ns"][0].GetInt64(), t0 + 800);
  EXPECT_TRUE(ls[3]["parent_missing"].GetBool());
  // The full view is unchanged by the light one and still the default.
  EXPECT_TRUE(fs[1].HasMember("input"));
  auto explicit_full = Get("/api/v1/traces/" + Hex(TraceId(3)) + "?view=full");
  ASSERT_EQ(explicit_full.status, 200);
  EXPECT_EQ(explicit_full.body, full_res.body);
}

// A status message cut for the light view never ends inside a UTF-8 character.
TEST_F(RestApiTest, LightViewCutsStatusMessagesOnCharacterBoundaries) {
  auto req = MakeRequest({{TraceId(4), SpanId(1), "", "failing"}});
  auto* sp = req.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(0);
  sp->mutable_status()->set_code(::opentelemetry::proto::trace::v1::Status::STATUS_CODE_ERROR);
  std::string msg = std::string(255, 'a');
  for (int i = 0; i < 100; ++i) msg += "\xE2\x82\xAC";  // euro sign, 3 bytes
  sp->mutable_status()->set_message(msg);
  ASSERT_EQ(PostProtobuf(req).status, 200);
  auto res = Get("/api/v1/traces/" + Hex(TraceId(4)) + "?view=light");
  ASSERT_EQ(res.status, 200) << res.body;
  auto doc = ParseJson(res.body);
  EXPECT_EQ(std::string(doc["spans"][0]["status_message"].GetString()), std::string(255, 'a'));
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
      // The light view fails exactly as the full view does.
      {"/api/v1/traces/xyz?view=light", 400, "invalid_argument"},
      {"/api/v1/traces/" + Hex(TraceId(77)) + "?view=light", 404, "not_found"},
      {"/api/v1/traces/" + known + "?view=light&project=other", 404, "not_found"},
      {"/api/v1/traces/" + known + "?view=light&bogus=1", 400, "invalid_argument"},
      {"/api/v1/traces/" + known + "?view=heavy", 400, "invalid_argument"},
      {"/api/v1/traces/" + known + "?view=light&view=light", 400, "invalid_argument"},
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
                           "sightline_http_requests_in_flight ", "sightline_store_compactions_total ",
                           "sightline_store_compaction_read_bytes_total ", "sightline_store_compaction_running "}) {
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
