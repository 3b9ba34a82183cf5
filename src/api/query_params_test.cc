#include "api/query_params.h"

#include <limits>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "api/base64.h"
#include "api/client_address.h"
#include "api/http_server.h"
#include "api/json_encode.h"

namespace sightline::api {
namespace {

TEST(QueryParamsTest, ParseTargetDecodes) {
  auto t = ParseTarget("/api/v1/sessions/a%2Fb?attr.k%20x=v+w&limit=5&&flag");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->segments, (std::vector<std::string>{"api", "v1", "sessions", "a/b"}));
  ASSERT_EQ(t->params.size(), 3u);
  EXPECT_EQ(t->params[0], (std::pair<std::string, std::string>{"attr.k x", "v w"}));
  EXPECT_EQ(t->params[2], (std::pair<std::string, std::string>{"flag", ""}));
  EXPECT_FALSE(ParseTarget("/x?a=%4").ok());
  EXPECT_FALSE(ParseTarget("/x%g1").ok());
  EXPECT_TRUE(ParseTarget("/")->segments.empty());
}

TEST(QueryParamsTest, TraceQueryFields) {
  auto q = ParseTraceQuery({{"from", "2026-03-23T17:42:11Z"},
                            {"to", "1774287731420"},
                            {"project", "p"},
                            {"status", "error"},
                            {"kind", "tool"},
                            {"min_duration_ms", "1.5"},
                            {"max_duration_ms", "2000"},
                            {"min_cost_usd", "0.25"},
                            {"attr.customer", "acme"},
                            {"attr.customer", "beta"},
                            {"q", "refund"},
                            {"limit", "1000"},
                            {"agent", ""}});
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(*q->from_ns, 1774287731000000000);
  EXPECT_EQ(*q->to_ns, 1774287731420000000);
  EXPECT_EQ(q->projects, std::vector<std::string>{"p"});
  EXPECT_EQ(*q->status, model::v1::STATUS_ERROR);
  EXPECT_EQ(*q->kind, model::v1::KIND_TOOL);
  EXPECT_EQ(*q->min_duration_ns, 1500000);
  EXPECT_EQ(*q->max_duration_ns, 2000000000);
  EXPECT_DOUBLE_EQ(*q->min_cost_usd, 0.25);
  EXPECT_EQ(q->attrs.size(), 2u);
  EXPECT_EQ(q->text, "refund");
  EXPECT_EQ(q->limit, 1000);
  EXPECT_TRUE(q->agent.empty());
  EXPECT_EQ(ParseTraceQuery({})->limit, 50);
}

TEST(QueryParamsTest, TraceQueryErrorsNameTheParameter) {
  const std::vector<std::pair<QueryParams, std::string>> cases = {
      {{{"limit", "0"}}, "limit"},
      {{{"limit", "1001"}}, "limit"},
      {{{"limit", "5x"}}, "limit"},
      {{{"from", "soon"}}, "from"},
      {{{"from", "1774287731420"}, {"to", "1774287731000"}}, "from"},
      {{{"min_duration_ms", "-1"}}, "min_duration_ms"},
      {{{"min_cost_usd", "nan"}}, "min_cost_usd"},
      {{{"status", "fine"}}, "status"},
      {{{"service", "a"}, {"service", "b"}}, "service"},
      {{{"attr.", "x"}}, "attr."},
      {{{"cursor", "AAAA"}}, "cursor"},
      {{{"colour", "red"}}, "colour"},
  };
  for (const auto& [params, name] : cases) {
    auto q = ParseTraceQuery(params);
    ASSERT_FALSE(q.ok()) << name;
    EXPECT_EQ(q.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(q.status().message().find(name), std::string::npos) << q.status().message();
  }
}

TEST(QueryParamsTest, CursorRoundTrip) {
  store::Cursor c{-5, std::string("\x00\xff id", 5)};
  auto text = EncodeCursor(c);
  EXPECT_EQ(text.find_first_of("+/="), std::string::npos);
  auto back = DecodeCursor(text);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->time_ns, -5);
  EXPECT_EQ(back->id, c.id);
  auto q = ParseSessionQuery({{"cursor", text}, {"user_id", "u"}});
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->after->id, c.id);
  EXPECT_FALSE(ParseSessionQuery({{"kind", "llm"}}).ok());
}

TEST(Base64Test, KnownVectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_EQ(*Base64UrlDecode("-_8"), "\xfb\xff");
  EXPECT_FALSE(Base64UrlDecode("a").has_value());
  EXPECT_FALSE(Base64UrlDecode("ab+c").has_value());
}

TEST(HostPortTest, Parse) {
  std::string host;
  int port = -1;
  ASSERT_TRUE(ParseHostPort("127.0.0.1:4318", &host, &port).ok());
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 4318);
  ASSERT_TRUE(ParseHostPort("[::1]:0", &host, &port).ok());
  EXPECT_EQ(host, "::1");
  ASSERT_TRUE(ParseHostPort("localhost:1", &host, &port).ok());
  EXPECT_EQ(host, "127.0.0.1");
  for (const char* bad : {"4318", "host:99999", "127.0.0.1:", "127.0.0.1:x", "example.com:80"})
    EXPECT_FALSE(ParseHostPort(bad, &host, &port).ok()) << bad;
}

std::string SpanJson(const model::Span& s, size_t limit = 0) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  SpanJsonOptions o;
  o.payload_limit = limit;
  WriteSpan(w, s, o);
  return buf.GetString();
}

TEST(JsonEncodeTest, SpanFieldsAndAnyValues) {
  model::Span s;
  s.set_trace_id(std::string(16, '\x01'));
  s.set_span_id(std::string(8, '\x02'));
  s.set_kind(model::v1::KIND_LLM);
  s.set_status(model::v1::STATUS_ERROR);
  s.set_cost_source(model::v1::COST_COMPUTED);
  s.set_input_tokens(12);
  s.set_cost_usd(std::numeric_limits<double>::quiet_NaN());
  s.set_input_json(R"([{"role":"user","parts":[{"type":"text","text":"hi"}]}])");
  s.set_output_json("{broken");
  auto* a = s.add_attributes();
  a->set_key("bytes");
  a->mutable_value()->set_bytes_value("foo");
  a = s.add_attributes();
  a->set_key("list");
  a->mutable_value()->mutable_array_value()->add_values()->set_int_value(7);
  a->mutable_value()->mutable_array_value()->add_values()->set_bool_value(true);
  a = s.add_attributes();
  a->set_key("map");
  auto* kv = a->mutable_value()->mutable_kvlist_value()->add_values();
  kv->set_key("d");
  kv->mutable_value()->set_double_value(std::numeric_limits<double>::infinity());
  std::string json = SpanJson(s);
  rapidjson::Document d;
  d.Parse(json.c_str());
  ASSERT_FALSE(d.HasParseError()) << json;
  EXPECT_STREQ(d["trace_id"].GetString(), "01010101010101010101010101010101");
  EXPECT_TRUE(d["parent_span_id"].IsNull());
  EXPECT_STREQ(d["kind"].GetString(), "llm");
  EXPECT_STREQ(d["status"].GetString(), "error");
  EXPECT_STREQ(d["cost_source"].GetString(), "computed");
  EXPECT_EQ(d["input_tokens"].GetInt(), 12);
  EXPECT_TRUE(d["output_tokens"].IsNull());
  EXPECT_TRUE(d["cost_usd"].IsNull());
  EXPECT_TRUE(d["input"].IsArray());
  EXPECT_STREQ(d["input"][0]["role"].GetString(), "user");
  EXPECT_STREQ(d["output"].GetString(), "{broken");  // invalid JSON embedded as a string
  EXPECT_STREQ(d["attributes"]["bytes"].GetString(), "Zm9v");
  EXPECT_EQ(d["attributes"]["list"][0].GetInt(), 7);
  EXPECT_TRUE(d["attributes"]["list"][1].GetBool());
  EXPECT_STREQ(d["attributes"]["map"]["d"].GetString(), "Infinity");
}

TEST(JsonEncodeTest, EmbeddedJsonWithTrailingGarbageOrNulIsAString) {
  for (std::string text : {std::string("{} x"), std::string("{}\0{", 4), std::string("[1,")}) {
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    w.StartArray();
    WriteEmbeddedJson(w, text);
    w.EndArray();
    rapidjson::Document d;
    d.Parse(buf.GetString(), buf.GetSize());
    ASSERT_FALSE(d.HasParseError()) << buf.GetString();
    EXPECT_TRUE(d[0].IsString());
  }
}

TEST(JsonEncodeTest, ListViewsSummariseBigPayloads) {
  model::Span s;
  s.set_input_json("\"" + std::string(100, 'a') + "\"");
  rapidjson::Document d;
  d.Parse(SpanJson(s, 50).c_str());
  EXPECT_TRUE(d["input"]["truncated"].GetBool());
  EXPECT_EQ(d["input"]["bytes"].GetInt(), 102);
  d.Parse(SpanJson(s, 0).c_str());
  EXPECT_TRUE(d["input"].IsString());
}

TEST(JsonEncodeTest, ErrorJson) {
  EXPECT_EQ(ErrorJson(Status::NotFound("no \"x\"")), R"({"error":{"code":"not_found","message":"no \"x\""}})");
}

}  // namespace
}  // namespace sightline::api
