// OTLP/HTTP receiver behaviour through a real HTTP server and store.
#include <string>

#include <gtest/gtest.h>

#include "api/api_test_util.h"
#include "common/error_map.h"

namespace sightline::api::testing {
namespace {

using ingest::ExportResponse;

class OtlpHttpTest : public ServerFixture {};

TEST_F(OtlpHttpTest, ProtobufPostIsStoredAndAnsweredInProtobuf) {
  auto res = PostProtobuf(MakeRequest({{TraceId(1), SpanId(1), "", "root"}, {TraceId(1), SpanId(2), SpanId(1), "child"}}));
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.Header("content-type"), "application/x-protobuf");
  ExportResponse resp;
  ASSERT_TRUE(resp.ParseFromString(res.body));
  EXPECT_FALSE(resp.has_partial_success());
  auto trace = real_store_->GetTrace(TraceId(1), {});
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  EXPECT_EQ(trace->spans.size(), 2u);
}

TEST_F(OtlpHttpTest, LangfusePathAndProjectHeader) {
  auto req = MakeRequest({{TraceId(2), SpanId(1)}});
  auto res = Client(port_).Send(http::verb::post, "/api/public/otel/v1/traces", req.SerializeAsString(),
                                {{"Content-Type", "application/x-protobuf"}, {"x-sightline-project", "alpha"}});
  ASSERT_EQ(res.status, 200) << res.body;
  auto span = real_store_->GetSpan(TraceId(2), SpanId(1), {"alpha"});
  ASSERT_TRUE(span.ok()) << span.status().ToString();
  EXPECT_EQ(span->project(), "alpha");
}

TEST_F(OtlpHttpTest, JsonPostAnsweredInJson) {
  std::string body = R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"11111111111111111111111111111103",
    "spanId":"2222222222222201","name":"j","startTimeUnixNano":"1700000000000000000",
    "endTimeUnixNano":"1700000000500000000"}]}]}]})";
  auto res = Client(port_).Send(http::verb::post, "/v1/traces", body,
                                {{"Content-Type", "application/json; charset=utf-8"}});
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.Header("content-type"), "application/json");
  auto doc = ParseJson(res.body);
  EXPECT_TRUE(doc.IsObject());
  EXPECT_FALSE(doc.HasMember("partialSuccess")) << res.body;
  EXPECT_TRUE(real_store_->GetTrace(TraceId(3), {}).ok());
}

TEST_F(OtlpHttpTest, GzipBody) {
  std::string body = ingest::Gzip(MakeRequest({{TraceId(4), SpanId(1)}}).SerializeAsString());
  auto res = Client(port_).Send(http::verb::post, "/v1/traces", body,
                                {{"Content-Type", "application/x-protobuf"}, {"Content-Encoding", "gzip"}});
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_TRUE(real_store_->GetTrace(TraceId(4), {}).ok());
  EXPECT_NE(metrics_.Render().find("sightline_ingest_bytes_total{encoding=\"gzip\"} " + std::to_string(body.size())),
            std::string::npos);
}

TEST_F(OtlpHttpTest, UnsupportedContentTypeOrEncodingIs415) {
  auto res = Client(port_).Send(http::verb::post, "/v1/traces", "x", {{"Content-Type", "text/plain"}});
  EXPECT_EQ(res.status, 415);
  auto doc = ParseJson(res.body);
  EXPECT_STREQ(doc["error"]["code"].GetString(), "unsupported_media_type");
  res = Client(port_).Send(http::verb::post, "/v1/traces", "x",
                           {{"Content-Type", "application/x-protobuf"}, {"Content-Encoding", "br"}});
  EXPECT_EQ(res.status, 415);
  res = Client(port_).Send(http::verb::post, "/v1/traces", "x", {});
  EXPECT_EQ(res.status, 415);
}

TEST_F(OtlpHttpTest, MalformedBodiesAre400WithTheDecodeError) {
  // Protobuf: a google.rpc.Status body.
  auto res = Client(port_).Send(http::verb::post, "/v1/traces", std::string("\x0a\xff\xff\xff\x0f", 5),
                                {{"Content-Type", "application/x-protobuf"}});
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(res.Header("content-type"), "application/x-protobuf");
  EXPECT_EQ(res.body.substr(0, 2), std::string("\x08\x03", 2));  // code = INVALID_ARGUMENT
  // JSON: OTLP Status shape plus Sightline's error.
  res = Client(port_).Send(http::verb::post, "/v1/traces", "{not json", {{"Content-Type", "application/json"}});
  EXPECT_EQ(res.status, 400);
  auto doc = ParseJson(res.body);
  EXPECT_EQ(doc["code"].GetInt(), 3);
  EXPECT_STREQ(doc["error"]["code"].GetString(), "invalid_argument");
  EXPECT_GT(doc["error"]["message"].GetStringLength(), 0u);
  // A gzip header that lies.
  res = Client(port_).Send(http::verb::post, "/v1/traces", "not gzip",
                           {{"Content-Type", "application/json"}, {"Content-Encoding", "gzip"}});
  EXPECT_EQ(res.status, 400);
}

TEST_F(OtlpHttpTest, PartialSuccessKeepsValidSpans) {
  auto req = MakeRequest({{TraceId(5), SpanId(1)}, {std::string(3, 'x'), SpanId(2)}});
  auto res = PostProtobuf(req);
  ASSERT_EQ(res.status, 200) << res.body;
  ExportResponse resp;
  ASSERT_TRUE(resp.ParseFromString(res.body));
  EXPECT_EQ(resp.partial_success().rejected_spans(), 1);
  EXPECT_NE(resp.partial_success().error_message().find("trace"), std::string::npos)
      << resp.partial_success().error_message();
  EXPECT_TRUE(real_store_->GetSpan(TraceId(5), SpanId(1), {}).ok());
  EXPECT_NE(metrics_.Render().find("sightline_spans_rejected_total{reason=\"invalid_trace_id\"} 1"), std::string::npos);
}

TEST_F(OtlpHttpTest, EmptyRequestIsOk) {
  auto res = PostProtobuf(ingest::ExportRequest());
  EXPECT_EQ(res.status, 200);
}

TEST_F(OtlpHttpTest, QueueFullIs429AndUnavailableIs503WithRetryAfter) {
  store_->Refuse(Status::ResourceExhausted("ingest queue full"));
  auto res = PostProtobuf(MakeRequest({{TraceId(6), SpanId(1)}}));
  EXPECT_EQ(res.status, 429);
  EXPECT_EQ(res.Header("retry-after"), "1");
  store_->Refuse(Status::Unavailable("disk full"));
  res = Client(port_).Send(http::verb::post, "/v1/traces", "{}", {{"Content-Type", "application/json"}});
  EXPECT_EQ(res.status, 200) << "no spans: nothing reaches the store";
  std::string body = R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"11111111111111111111111111111106",
    "spanId":"2222222222222201","name":"j"}]}]}]})";
  res = Client(port_).Send(http::verb::post, "/v1/traces", body, {{"Content-Type", "application/json"}});
  EXPECT_EQ(res.status, 503);
  EXPECT_EQ(res.Header("retry-after"), "1");
  EXPECT_STREQ(ParseJson(res.body)["error"]["code"].GetString(), "unavailable");
  std::string text = metrics_.Render();
  EXPECT_NE(text.find("sightline_requests_rejected_total{reason=\"queue_full\"} 1"), std::string::npos);
  EXPECT_NE(text.find("sightline_requests_rejected_total{reason=\"unavailable\"} 1"), std::string::npos);
}

TEST_F(OtlpHttpTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  Client c(port_);
  for (int i = 0; i < 3; ++i) {
    auto res = c.Send(http::verb::post, "/v1/traces", MakeRequest({{TraceId(7), SpanId(i + 1)}}).SerializeAsString(),
                      {{"Content-Type", "application/x-protobuf"}});
    EXPECT_EQ(res.status, 200);
  }
  EXPECT_EQ(c.Send(http::verb::get, "/healthz").status, 200);
  EXPECT_EQ(real_store_->GetTrace(TraceId(7), {})->spans.size(), 3u);
}

TEST_F(OtlpHttpTest, WrongMethodIs405) {
  auto res = Get("/v1/traces");
  EXPECT_EQ(res.status, 405);
  EXPECT_EQ(res.Header("allow"), "POST");
  EXPECT_STREQ(ParseJson(res.body)["error"]["code"].GetString(), "method_not_allowed");
}

class SmallLimitTest : public ServerFixture {
 protected:
  size_t MaxBodyBytes() override { return 64 * 1024; }
};

TEST_F(SmallLimitTest, ContentLengthOverLimitIs413BeforeTheBodyIsRead) {
  Client c(port_);
  // Announce 10 MiB, send none of it: the answer must come from the header alone.
  c.WriteRaw("POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
             "Content-Length: 10485760\r\n\r\n");
  auto res = c.Read();
  EXPECT_EQ(res.status, 413);
  EXPECT_STREQ(ParseJson(res.body)["error"]["code"].GetString(), "too_large");
}

TEST_F(SmallLimitTest, GzipBombIs413) {
  std::string bomb = ingest::Gzip(std::string(4u << 20, '\0'));  // 4 MiB of zeros, a few KiB gzipped
  ASSERT_LT(bomb.size(), 64u * 1024);
  auto res = Client(port_).Send(http::verb::post, "/v1/traces", bomb,
                                {{"Content-Type", "application/x-protobuf"}, {"Content-Encoding", "gzip"}});
  EXPECT_EQ(res.status, 413);
  EXPECT_EQ(res.body.substr(0, 2), std::string("\x08\x08", 2));  // RESOURCE_EXHAUSTED
  EXPECT_NE(metrics_.Render().find("sightline_requests_rejected_total{reason=\"too_large\"} 1"), std::string::npos);
}

TEST_F(SmallLimitTest, ChunkedBodyOverLimitIs413) {
  Client c(port_);
  std::string chunk(40 * 1024, 'a');
  char size[16];
  std::snprintf(size, sizeof size, "%zx", chunk.size());
  c.WriteRaw(std::string("POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
                         "Transfer-Encoding: chunked\r\n\r\n") +
             size + "\r\n" + chunk + "\r\n" + size + "\r\n" + chunk + "\r\n0\r\n\r\n");
  EXPECT_EQ(c.Read().status, 413);
}

TEST_F(OtlpHttpTest, MalformedHttpIs400) {
  Client c(port_);
  c.WriteRaw("GARBAGE\r\n\r\n");
  EXPECT_EQ(c.Read().status, 400);
}

}  // namespace
}  // namespace sightline::api::testing
