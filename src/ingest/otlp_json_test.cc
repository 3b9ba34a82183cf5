#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>

#include "common/hex.h"
#include "ingest/otlp_decode.h"
#include "ingest/otlp_test_util.h"

namespace sightline::ingest {
namespace {

using google::protobuf::util::MessageDifferencer;
namespace otrace = ::opentelemetry::proto::trace::v1;
const std::string kFFFD = "\xEF\xBF\xBD";

Status Decode(std::string_view body, ExportRequest* out, JsonDecodeReport* report = nullptr,
              DecodeLimits limits = {}) {
  JsonDecodeReport scratch;
  return DecodeOtlpJson(body, out, limits, report ? report : &scratch);
}

// What @opentelemetry/exporter-trace-otlp-http (JS SDK 1.2x / otlp-transformer 0.5x)
// POSTs: hex ids, times as decimal strings, integer attributes as JSON numbers, kind as
// the OTLP number (SpanKind.CLIENT + 1), empty events/links arrays, zero counts, and no
// parentSpanId on a root span.
constexpr std::string_view kJsSdkBody = R"({"resourceSpans":[{"resource":{"attributes":[
{"key":"service.name","value":{"stringValue":"support-agent"}},
{"key":"telemetry.sdk.language","value":{"stringValue":"nodejs"}},
{"key":"telemetry.sdk.name","value":{"stringValue":"opentelemetry"}},
{"key":"telemetry.sdk.version","value":{"stringValue":"1.25.1"}},
{"key":"process.pid","value":{"intValue":48211}}],"droppedAttributesCount":0},
"scopeSpans":[{"scope":{"name":"ai","version":"3.2.16"},"spans":[
{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"ai.generateText",
"kind":1,"startTimeUnixNano":"1718000000123000000","endTimeUnixNano":"1718000002456000000",
"attributes":[{"key":"operation.name","value":{"stringValue":"ai.generateText"}},
{"key":"ai.model.id","value":{"stringValue":"gpt-4o"}},
{"key":"ai.settings.maxRetries","value":{"intValue":2}},
{"key":"ai.prompt","value":{"stringValue":"{\"prompt\":\"Summarise ticket #4521 \u2014 caf\u00e9 \ud83d\ude00\"}"}}],
"droppedAttributesCount":0,"events":[],"droppedEventsCount":0,"status":{"code":0},"links":[],"droppedLinksCount":0,"flags":1},
{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b175","parentSpanId":"eee19b7ec3c1b174",
"name":"ai.generateText.doGenerate","kind":3,"startTimeUnixNano":"1718000000130000000",
"endTimeUnixNano":"1718000002400000000","attributes":[
{"key":"gen_ai.system","value":{"stringValue":"openai.chat"}},
{"key":"gen_ai.usage.input_tokens","value":{"intValue":812}},
{"key":"gen_ai.request.temperature","value":{"doubleValue":0.2}},
{"key":"ai.response.finishReason","value":{"stringValue":"stop"}},
{"key":"ai.stream","value":{"boolValue":false}}],"droppedAttributesCount":0,
"events":[{"attributes":[{"key":"exception.type","value":{"stringValue":"APICallError"}}],
"name":"exception","timeUnixNano":"1718000001000000000","droppedAttributesCount":0}],
"droppedEventsCount":0,"status":{"code":2,"message":"Rate limit reached"},"links":[],"droppedLinksCount":0,"flags":257}
]}]}]})";

TEST(OtlpJson, DecodesTheJsSdkExporterBody) {
  ExportRequest req;
  JsonDecodeReport report;
  Status st = Decode(kJsSdkBody, &req, &report);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(report.rejected_spans, 0);
  ASSERT_EQ(req.resource_spans_size(), 1);
  const auto& rs = req.resource_spans(0);
  EXPECT_EQ(rs.resource().attributes(0).value().string_value(), "support-agent");
  EXPECT_EQ(rs.resource().attributes(4).value().int_value(), 48211);
  EXPECT_EQ(rs.scope_spans(0).scope().name(), "ai");
  ASSERT_EQ(rs.scope_spans(0).spans_size(), 2);
  const auto& root = rs.scope_spans(0).spans(0);
  EXPECT_EQ(HexEncode(root.trace_id()), "5b8efff798038103d269b633813fc60c");
  EXPECT_EQ(root.trace_id().size(), 16u);
  EXPECT_EQ(HexEncode(root.span_id()), "eee19b7ec3c1b174");
  EXPECT_TRUE(root.parent_span_id().empty());
  EXPECT_EQ(root.kind(), otrace::Span::SPAN_KIND_INTERNAL);
  EXPECT_EQ(root.start_time_unix_nano(), 1718000000123000000ull);
  EXPECT_EQ(root.end_time_unix_nano(), 1718000002456000000ull);
  EXPECT_EQ(root.attributes(2).value().int_value(), 2);
  EXPECT_EQ(root.attributes(3).value().string_value(),
            "{\"prompt\":\"Summarise ticket #4521 \xE2\x80\x94 caf\xC3\xA9 \xF0\x9F\x98\x80\"}");
  EXPECT_TRUE(root.has_status());
  EXPECT_EQ(root.flags(), 1u);
  const auto& llm = rs.scope_spans(0).spans(1);
  EXPECT_EQ(llm.parent_span_id(), root.span_id());
  EXPECT_EQ(llm.kind(), otrace::Span::SPAN_KIND_CLIENT);
  EXPECT_EQ(llm.attributes(1).value().int_value(), 812);
  EXPECT_DOUBLE_EQ(llm.attributes(2).value().double_value(), 0.2);
  EXPECT_TRUE(llm.attributes(4).value().has_bool_value());
  EXPECT_EQ(llm.events(0).name(), "exception");
  EXPECT_EQ(llm.events(0).time_unix_nano(), 1718000001000000000ull);
  EXPECT_EQ(llm.status().code(), otrace::Status::STATUS_CODE_ERROR);
  EXPECT_EQ(llm.status().message(), "Rate limit reached");
  EXPECT_EQ(llm.flags(), 257u);
}

TEST(OtlpJson, AcceptsSnakeCaseEnumNamesAndEveryIntegerForm) {
  constexpr std::string_view body = R"({"resource_spans":[{"scope_spans":[{"spans":[{
    "trace_id":"5B8EFFF798038103D269B633813FC60C","span_id":"00f067aa0ba902b7","parent_span_id":"",
    "kind":"SPAN_KIND_SERVER","start_time_unix_nano":1718000000000000000,
    "end_time_unix_nano":{"low":-1,"high":400000000},"trace_state":"k=v","dropped_attributes_count":"3",
    "attributes":[{"key":"a","value":{"int_value":"-9223372036854775808"}},
                  {"key":"b","value":{"intValue":9223372036854775807}},
                  {"key":"c","value":{"double_value":"Infinity"}},
                  {"key":"d","value":{"doubleValue":"1.5e3"}},
                  {"key":"e","value":{"intValue":1e3}}],
    "status":{"code":"STATUS_CODE_OK"},"future_field":{"x":[1,2,3]}}]}]}]})";
  ExportRequest req;
  Status st = Decode(body, &req);
  ASSERT_TRUE(st.ok()) << st.ToString();
  const auto& span = req.resource_spans(0).scope_spans(0).spans(0);
  EXPECT_EQ(HexEncode(span.trace_id()), "5b8efff798038103d269b633813fc60c");
  EXPECT_TRUE(span.parent_span_id().empty());
  EXPECT_EQ(span.kind(), otrace::Span::SPAN_KIND_SERVER);
  EXPECT_EQ(span.start_time_unix_nano(), 1718000000000000000ull);
  EXPECT_EQ(span.end_time_unix_nano(), (400000000ull << 32) | 0xffffffffull);
  EXPECT_EQ(span.trace_state(), "k=v");
  EXPECT_EQ(span.dropped_attributes_count(), 3u);
  EXPECT_EQ(span.attributes(0).value().int_value(), INT64_MIN);
  EXPECT_EQ(span.attributes(1).value().int_value(), INT64_MAX);
  EXPECT_TRUE(std::isinf(span.attributes(2).value().double_value()));
  EXPECT_EQ(span.attributes(3).value().double_value(), 1500.0);
  EXPECT_EQ(span.attributes(4).value().int_value(), 1000);
  EXPECT_EQ(span.status().code(), otrace::Status::STATUS_CODE_OK);
}

TEST(OtlpJson, DecodesNestedAnyValuesAndBase64Bytes) {
  constexpr std::string_view body = R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"","spanId":"",
    "attributes":[{"key":"messages","value":{"arrayValue":{"values":[
      {"kvlistValue":{"values":[{"key":"role","value":{"stringValue":"user"}},
                                {"key":"parts","value":{"arrayValue":{"values":[{"intValue":"7"},{"boolValue":true}]}}}]}},
      {"bytesValue":"AP8Q"},{"bytesValue":"-_8"},{},{"arrayValue":{}}]}}},
      {"key":"nothing"}]}]}]}]})";
  ExportRequest req;
  Status st = Decode(body, &req);
  ASSERT_TRUE(st.ok()) << st.ToString();
  const auto& span = req.resource_spans(0).scope_spans(0).spans(0);
  EXPECT_TRUE(span.trace_id().empty());
  const auto& arr = span.attributes(0).value().array_value();
  ASSERT_EQ(arr.values_size(), 5);
  const auto& kv = arr.values(0).kvlist_value();
  EXPECT_EQ(kv.values(0).key(), "role");
  EXPECT_EQ(kv.values(0).value().string_value(), "user");
  EXPECT_EQ(kv.values(1).value().array_value().values(0).int_value(), 7);
  EXPECT_TRUE(kv.values(1).value().array_value().values(1).bool_value());
  EXPECT_EQ(arr.values(1).bytes_value(), std::string("\x00\xff\x10", 3));
  EXPECT_EQ(arr.values(2).bytes_value(), std::string("\xfb\xff", 2));
  EXPECT_EQ(arr.values(3).value_case(), ::opentelemetry::proto::common::v1::AnyValue::VALUE_NOT_SET);
  EXPECT_TRUE(arr.values(4).has_array_value());
  EXPECT_FALSE(span.attributes(1).has_value());
}

struct BadJson {
  std::string name;
  std::string body;
  std::string message;
};

class OtlpJsonErrors : public ::testing::TestWithParam<BadJson> {};

TEST_P(OtlpJsonErrors, RejectsTheRequestNamingWhereAndWhat) {
  ExportRequest req;
  Status st = Decode(GetParam().body, &req);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), GetParam().message);
  EXPECT_EQ(req.resource_spans_size(), 0);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, OtlpJsonErrors,
    ::testing::Values(
        BadJson{"NotJson", "resourceSpans", "JSON: Invalid value. at byte 0"},
        BadJson{"Truncated", R"({"resourceSpans":[)", "JSON: Invalid value. at byte 18"},
        BadJson{"Empty", "", "JSON: The document is empty. at byte 0"},
        BadJson{"TopLevelArray", "[]", "JSON: expected an object at the top level"},
        BadJson{"ResourceSpansNotArray", R"({"resourceSpans":{}})", "JSON: resourceSpans: expected an array"},
        BadJson{"ScopeNotObject", R"({"resourceSpans":[{"scopeSpans":[{"scope":"x"}]}]})",
                "JSON: resourceSpans[0].scopeSpans[0].scope: expected an object"},
        BadJson{"SpansNotArray", R"({"resourceSpans":[{},{"scopeSpans":[{"spans":1}]}]})",
                "JSON: resourceSpans[1].scopeSpans[0].spans: expected an array"},
        BadJson{"ResourceAttributeBadInt",
                R"({"resourceSpans":[{"resource":{"attributes":[{"key":"k","value":{"intValue":"12abc"}}]}}]})",
                "JSON: resourceSpans[0].resource.attributes[0].value.intValue: expected an integer, got \"12abc\""},
        BadJson{"ScopeNameNotString", R"({"resourceSpans":[{"scopeSpans":[{"scope":{"name":7}}]}]})",
                "JSON: resourceSpans[0].scopeSpans[0].scope.name: expected a string"},
        BadJson{"TooDeep", R"({"resourceSpans":[{"resource":{"attributes":[{"value":{"arrayValue":{"values":[)" +
                               std::string(60, '[') + std::string(60, ']') + "]}}}]}}]}",
                "JSON nested deeper than 64 at byte 134"}),
    [](const auto& info) { return info.param.name; });

TEST(OtlpJson, DepthLimitIsConfigurable) {
  DecodeLimits limits;
  limits.max_json_depth = 5;
  ExportRequest req;
  Status st = Decode(R"({"resourceSpans":[{"scopeSpans":[{"spans":[]}]}]})", &req, nullptr, limits);
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(st.message().starts_with("JSON nested deeper than 5")) << st.message();
  limits.max_json_depth = 6;
  EXPECT_TRUE(Decode(R"({"resourceSpans":[{"scopeSpans":[{"spans":[]}]}]})", &req, nullptr, limits).ok());
}

TEST(OtlpJson, BodyOverTheLimitIsTooLarge) {
  DecodeLimits limits;
  limits.max_body_bytes = 10;
  ExportRequest req;
  Status st = Decode(R"({"resourceSpans":[]})", &req, nullptr, limits);
  EXPECT_EQ(st.code(), StatusCode::kTooLarge);
  EXPECT_EQ(st.message(), "JSON body exceeds 10 bytes");
}

TEST(OtlpJson, ReportStartsFreshAndMayBeNull) {
  JsonDecodeReport report;
  report.rejected_spans = 9;
  report.first_errors = "stale";
  ExportRequest req;
  ASSERT_TRUE(Decode(R"({"resourceSpans":[]})", &req, &report).ok());
  EXPECT_EQ(report.rejected_spans, 0);
  EXPECT_EQ(report.first_errors, "");
  EXPECT_TRUE(DecodeOtlpJson(R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"x"}]}]}]})", &req, {}, nullptr).ok());
}

TEST(OtlpJson, BadSpansAreDroppedAndReportedWhileOthersAreKept) {
  constexpr std::string_view body = R"({"resourceSpans":[{"scopeSpans":[{"spans":[
    {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"ok-1"},
    {"traceId":"not-hex-at-all!!","spanId":"eee19b7ec3c1b174","name":"bad-trace"},
    {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b17","name":"odd-length"},
    {"traceId":"5b8efff798038103d269b633813fc60c","spanId":12,"name":"numeric-id"},
    {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b176","name":"ok-2"},
    {"traceId":"5b8efff798038103d269b633813fc60c","parentSpanId":"zz","name":"bad-parent"},
    {"traceId":"5b8efff798038103d269b633813fc60c","name":"bad-attr","attributes":[{"key":"x","value":{"intValue":"9223372036854775808"}}]},
    {"traceId":"5b8efff798038103d269b633813fc60c","name":"bad-link","links":[{"traceId":"q"}]},
    "not a span",
    {"traceId":"5b8e","spanId":"","name":"short-id-kept"}
  ]}]}]})";
  ExportRequest req;
  JsonDecodeReport report;
  Status st = Decode(body, &req, &report);
  ASSERT_TRUE(st.ok()) << st.ToString();
  const auto& spans = req.resource_spans(0).scope_spans(0).spans();
  ASSERT_EQ(spans.size(), 3);
  EXPECT_EQ(spans[0].name(), "ok-1");
  EXPECT_EQ(spans[1].name(), "ok-2");
  EXPECT_EQ(spans[2].name(), "short-id-kept");  // id length is normalisation's business
  EXPECT_EQ(report.rejected_spans, 7);
  EXPECT_EQ(report.first_errors,
            "resourceSpans[0].scopeSpans[0].spans[1].traceId: not hex; "
            "resourceSpans[0].scopeSpans[0].spans[2].spanId: not hex; "
            "resourceSpans[0].scopeSpans[0].spans[3].spanId: expected a hex string; "
            "resourceSpans[0].scopeSpans[0].spans[5].parentSpanId: not hex; "
            "resourceSpans[0].scopeSpans[0].spans[6].attributes[0].value.intValue: expected an integer, got \"9223372036854775808\"");
}

TEST(OtlpJson, InvalidUtf8IsRepaired) {
  std::string body = R"({"resourceSpans":[{"resource":{"attributes":[{"key":"svc)" "\xFF" R"(","value":{"stringValue":"a)"
                     "\xE2\x82" R"("}}]},"scopeSpans":[{"scope":{"name":"\udc00s"},"spans":[{"name":"cut \ud83d",)"
                     R"("status":{"message":"ok \ud83d\ude00"},"events":[{"name":"Gr)" "\xFC" R"(e"}]}]}]}]})";
  ExportRequest req;
  Status st = Decode(body, &req);
  ASSERT_TRUE(st.ok()) << st.ToString();
  const auto& rs = req.resource_spans(0);
  EXPECT_EQ(rs.resource().attributes(0).key(), "svc" + kFFFD);
  EXPECT_EQ(rs.resource().attributes(0).value().string_value(), "a" + kFFFD);
  EXPECT_EQ(rs.scope_spans(0).scope().name(), kFFFD + "s");
  const auto& span = rs.scope_spans(0).spans(0);
  EXPECT_EQ(span.name(), "cut " + kFFFD);
  EXPECT_EQ(span.status().message(), "ok \xF0\x9F\x98\x80");
  EXPECT_EQ(span.events(0).name(), "Gr" + kFFFD + "e");
}

TEST(OtlpJson, NullMeansDefaultAndUnknownFieldsAreIgnored) {
  ExportRequest req;
  Status st = Decode(R"({"resourceSpans":[{"resource":null,"scopeSpans":[{"spans":[{"name":null,"kind":null,
      "status":null,"unknown":{"deep":[[{"x":1}]]}}]}]}],"extra":true})", &req);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_FALSE(req.resource_spans(0).has_resource());
  EXPECT_FALSE(req.resource_spans(0).scope_spans(0).spans(0).has_status());
}

TEST(OtlpJson, EncodesTheMapping) {
  std::string json = EncodeOtlpJson(testing::SampleRequest());
  for (const char* part : {R"("traceId":"5b8efcf49e714c02913a0b4e7f2d11aa")", R"("parentSpanId":"0102030405060708")",
                           R"("startTimeUnixNano":"1718000000100000000")", R"("kind":3)",
                           R"("intValue":"-1234567890123")", R"("bytesValue":"AP8Q")", R"("status":{"message":"429 Too Many Requests","code":2})",
                           R"("resourceSpans":[{"resource":{"attributes":[{"key":"service.name")"}) {
    EXPECT_NE(json.find(part), std::string::npos) << part << "\n" << json;
  }
}

TEST(OtlpJson, RoundTripsEveryRequest) {
  std::mt19937_64 rng(20240611);
  for (int i = 0; i < 400; ++i) {
    ExportRequest in = testing::RandomRequest(rng);
    std::string json = EncodeOtlpJson(in);
    ExportRequest out;
    JsonDecodeReport report;
    Status st = Decode(json, &out, &report);
    ASSERT_TRUE(st.ok()) << st.ToString() << "\n" << json;
    ASSERT_EQ(report.rejected_spans, 0);
    ASSERT_TRUE(MessageDifferencer::Equals(in, out)) << "case " << i << "\n" << json;
  }
}

TEST(OtlpJson, NonFiniteDoublesRoundTripAsStrings) {
  ExportRequest in = testing::SampleRequest();
  auto* attrs = in.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(0)->mutable_attributes();
  attrs->Add()->mutable_value()->set_double_value(std::nan(""));
  attrs->Add()->mutable_value()->set_double_value(-INFINITY);
  std::string json = EncodeOtlpJson(in);
  EXPECT_NE(json.find(R"({"doubleValue":"NaN"})"), std::string::npos);
  EXPECT_NE(json.find(R"({"doubleValue":"-Infinity"})"), std::string::npos);
  ExportRequest out;
  ASSERT_TRUE(Decode(json, &out).ok());
  const auto& o = out.resource_spans(0).scope_spans(0).spans(0).attributes();
  EXPECT_TRUE(std::isnan(o[o.size() - 2].value().double_value()));
  EXPECT_EQ(o[o.size() - 1].value().double_value(), -INFINITY);
}

TEST(OtlpJson, EncodesExportResponses) {
  ExportResponse ok;
  EXPECT_EQ(EncodeExportResponseJson(ok), "{}");
  ok.mutable_partial_success();
  EXPECT_EQ(EncodeExportResponseJson(ok), "{}");
  ExportResponse partial;
  partial.mutable_partial_success()->set_rejected_spans(3);
  partial.mutable_partial_success()->set_error_message("spans[1].traceId: not hex \"x\"");
  EXPECT_EQ(EncodeExportResponseJson(partial),
            R"({"partialSuccess":{"rejectedSpans":"3","errorMessage":"spans[1].traceId: not hex \"x\""}})");
}

}  // namespace
}  // namespace sightline::ingest
