// export's mapping from the API's span JSON back to OTLP: a span stored by the server
// and written by the API (api::WriteSpan) must come back as the OTLP span that was
// sent, through the JSON Lines file format (EncodeOtlpJson / DecodeOtlpJson).
#include "cli/otlp_mapping.h"

#include <google/protobuf/util/message_differencer.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "api/json_encode.h"
#include "cli/demo_run.h"
#include "cli/otlp_chunker.h"
#include "common/hex.h"

namespace sightline::cli {
namespace {

namespace otrace = ::opentelemetry::proto::trace::v1;
namespace ocommon = ::opentelemetry::proto::common::v1;
using google::protobuf::util::MessageDifferencer;
using ::testing::HasSubstr;

// What the server keeps of an OTLP span (the "as received" part of the canonical
// span; the derived fields play no part in the mapping back).
model::Span AsStored(const otrace::ResourceSpans& rs, const otrace::ScopeSpans& ss, const otrace::Span& s,
                     const std::string& project) {
  model::Span out;
  out.set_trace_id(s.trace_id());
  out.set_span_id(s.span_id());
  out.set_parent_span_id(s.parent_span_id());
  out.set_project(project);
  out.set_name(s.name());
  out.set_start_ns(static_cast<int64_t>(s.start_time_unix_nano()));
  out.set_end_ns(static_cast<int64_t>(s.end_time_unix_nano()));
  if (s.status().code() == otrace::Status::STATUS_CODE_ERROR) {
    out.set_status(model::v1::STATUS_ERROR);
    out.set_status_message(s.status().message());
  } else if (s.status().code() == otrace::Status::STATUS_CODE_OK) {
    out.set_status(model::v1::STATUS_OK);
  }
  *out.mutable_attributes() = s.attributes();
  *out.mutable_resource() = rs.resource().attributes();
  *out.mutable_events() = s.events();
  *out.mutable_links() = s.links();
  out.set_scope_name(ss.scope().name());
  out.set_scope_version(ss.scope().version());
  *out.mutable_scope_attributes() = ss.scope().attributes();
  out.set_otel_kind(s.kind());
  out.set_trace_state(s.trace_state());
  out.set_dropped_attributes_count(s.dropped_attributes_count());
  out.set_dropped_events_count(s.dropped_events_count());
  out.set_dropped_links_count(s.dropped_links_count());
  return out;
}

// The API's GET /api/v1/traces/{id} answer for these spans.
std::string TraceAnswer(const std::vector<model::Span>& spans) {
  rapidjson::StringBuffer buf;
  api::JsonWriter w(buf);
  w.StartObject();
  w.Key("trace");
  api::WriteTraceSummary(w, model::TraceSummary{});
  w.Key("spans");
  w.StartArray();
  for (const auto& s : spans) {
    api::SpanJsonOptions o;
    o.tree_fields = true;
    api::WriteSpan(w, s, o);
  }
  w.EndArray();
  w.EndObject();
  return buf.GetString();
}

void SetAttr(google::protobuf::RepeatedPtrField<ocommon::KeyValue>* attrs, const std::string& k,
             std::function<void(ocommon::AnyValue*)> set) {
  auto* kv = attrs->Add();
  kv->set_key(k);
  set(kv->mutable_value());
}

// A request with every kind of attribute value and every span field the mapping keeps.
ingest::ExportRequest RichRequest() {
  ingest::ExportRequest req = BuildDemoRun(DemoOptions{1, 1774287731420000000, 7}).requests[0];
  auto* rs = req.add_resource_spans();
  SetAttr(rs->mutable_resource()->mutable_attributes(), "service.name", [](auto* v) { v->set_string_value("etl"); });
  auto* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name("openinference.instrumentation.langchain");
  ss->mutable_scope()->set_version("0.1.2");
  SetAttr(ss->mutable_scope()->mutable_attributes(), "scope.attr", [](auto* v) { v->set_bool_value(true); });
  auto* s = ss->add_spans();
  s->set_trace_id(std::string("\x4b\xf9\x2f\x35\x77\xb3\x4d\xa6\xa3\xce\x92\x9d\x0e\x0e\x47\x36", 16));
  s->set_span_id(std::string("\x00\xf0\x67\xaa\x0b\xa9\x02\xb7", 8));
  s->set_parent_span_id(std::string("\x53\x99\x5c\x3f\x42\xcd\x8a\xd8", 8));
  s->set_name("RetrievalQA");
  s->set_kind(otrace::Span::SPAN_KIND_SERVER);
  s->set_start_time_unix_nano(1774287731420123456ULL);
  s->set_end_time_unix_nano(1774287732420654321ULL);
  s->set_trace_state("vendor=abc");
  s->set_dropped_attributes_count(2);
  s->set_dropped_events_count(1);
  s->set_dropped_links_count(3);
  auto* a = s->mutable_attributes();
  SetAttr(a, "openinference.span.kind", [](auto* v) { v->set_string_value("CHAIN"); });
  SetAttr(a, "count", [](auto* v) { v->set_int_value(-42); });
  SetAttr(a, "big", [](auto* v) { v->set_int_value(9007199254740993LL); });
  SetAttr(a, "ratio", [](auto* v) { v->set_double_value(0.25); });
  SetAttr(a, "whole.double", [](auto* v) { v->set_double_value(3.0); });
  SetAttr(a, "flag", [](auto* v) { v->set_bool_value(false); });
  SetAttr(a, "tags", [](auto* v) {
    v->mutable_array_value()->add_values()->set_string_value("a");
    v->mutable_array_value()->add_values()->set_int_value(2);
  });
  SetAttr(a, "nested", [](auto* v) {
    auto* kv = v->mutable_kvlist_value()->add_values();
    kv->set_key("inner");
    kv->mutable_value()->mutable_kvlist_value()->add_values()->set_key("deep");
  });
  SetAttr(a, "unicode", [](auto* v) { v->set_string_value("héllo \"quoted\" \n日本"); });
  s->mutable_status()->set_code(otrace::Status::STATUS_CODE_ERROR);
  s->mutable_status()->set_message("chain failed");
  auto* e = s->add_events();
  e->set_name("exception");
  e->set_time_unix_nano(1774287732000000001ULL);
  SetAttr(e->mutable_attributes(), "exception.type", [](auto* v) { v->set_string_value("ValueError"); });
  auto* l = s->add_links();
  l->set_trace_id(std::string(16, '\x11'));
  l->set_span_id(std::string(8, '\x22'));
  l->set_trace_state("k=v");
  SetAttr(l->mutable_attributes(), "link.kind", [](auto* v) { v->set_string_value("follows_from"); });
  return req;
}

TEST(OtlpMapping, ApiSpanJsonMapsBackToTheSpansSent) {
  ingest::ExportRequest sent = RichRequest();
  std::vector<model::Span> stored;
  std::map<std::string, const otrace::Span*> by_id;
  std::map<std::string, std::pair<const otrace::ResourceSpans*, const otrace::ScopeSpans*>> where;
  for (const auto& rs : sent.resource_spans())
    for (const auto& ss : rs.scope_spans())
      for (const auto& s : ss.spans()) {
        stored.push_back(AsStored(rs, ss, s, "default"));
        by_id[s.span_id()] = &s;
        where[s.span_id()] = {&rs, &ss};
      }
  ASSERT_GT(stored.size(), 3u);
  rapidjson::Document doc;
  doc.Parse(TraceAnswer(stored).c_str());
  ASSERT_FALSE(doc.HasParseError());
  auto mapped = TraceAnswerToOtlp(doc);
  ASSERT_TRUE(mapped.ok()) << mapped.status().ToString();

  // The file format: one line of OTLP JSON, read back by the importer's decoder.
  std::string line = ingest::EncodeOtlpJson(*mapped);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  ingest::ExportRequest reread;
  ingest::JsonDecodeReport report;
  ASSERT_TRUE(ingest::DecodeOtlpJson(line, &reread, ingest::DecodeLimits{}, &report).ok());
  EXPECT_EQ(report.rejected_spans, 0);

  EXPECT_EQ(CountSpans(reread), static_cast<int64_t>(stored.size()));
  for (const auto& rs : reread.resource_spans())
    for (const auto& ss : rs.scope_spans())
      for (const auto& s : ss.spans()) {
        SCOPED_TRACE(s.name());
        ASSERT_TRUE(by_id.count(s.span_id()));
        std::string diff;
        MessageDifferencer d;
        d.ReportDifferencesToString(&diff);
        EXPECT_TRUE(d.Compare(*by_id[s.span_id()], s)) << diff;
        EXPECT_TRUE(MessageDifferencer::Equals(where[s.span_id()].first->resource(), rs.resource()));
        EXPECT_TRUE(MessageDifferencer::Equals(where[s.span_id()].second->scope(), ss.scope()));
      }
  // Spans that shared a resource and scope still do.
  EXPECT_EQ(reread.resource_spans_size(), 2);
}

TEST(OtlpMapping, ProjectTravelsAsAResourceAttribute) {
  ingest::ExportRequest sent = RichRequest();
  const auto& rs = sent.resource_spans(1);
  std::vector<model::Span> stored{AsStored(rs, rs.scope_spans(0), rs.scope_spans(0).spans(0), "payments")};
  rapidjson::Document doc;
  doc.Parse(TraceAnswer(stored).c_str());
  auto mapped = TraceAnswerToOtlp(doc);
  ASSERT_TRUE(mapped.ok());
  bool found = false;
  for (const auto& kv : mapped->resource_spans(0).resource().attributes())
    found |= kv.key() == "openinference.project.name" && kv.value().string_value() == "payments";
  EXPECT_TRUE(found);
}

TEST(OtlpMapping, ReadsOtlpShapedAttributesToo) {
  rapidjson::Document doc;
  doc.Parse(R"({"spans":[{"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b7",
     "startTimeUnixNano":"1774287731420000000","name":"x","otel_kind":"SPAN_KIND_CLIENT",
     "attributes":[{"key":"n","value":{"intValue":"7"}},{"key":"d","value":{"doubleValue":1.5}},
                   {"key":"b","value":{"bytesValue":"AQI="}},
                   {"key":"l","value":{"arrayValue":{"values":[{"stringValue":"a"}]}}}],
     "resource":{"attributes":[{"key":"service.name","value":{"stringValue":"svc"}}]}}]})");
  auto mapped = TraceAnswerToOtlp(doc);
  ASSERT_TRUE(mapped.ok()) << mapped.status().ToString();
  const auto& s = mapped->resource_spans(0).scope_spans(0).spans(0);
  EXPECT_EQ(s.start_time_unix_nano(), 1774287731420000000ULL);
  EXPECT_EQ(s.kind(), otrace::Span::SPAN_KIND_CLIENT);
  ASSERT_EQ(s.attributes_size(), 4);
  EXPECT_EQ(s.attributes(0).value().int_value(), 7);
  EXPECT_EQ(s.attributes(1).value().double_value(), 1.5);
  EXPECT_EQ(s.attributes(2).value().bytes_value(), std::string("\x01\x02"));
  EXPECT_EQ(s.attributes(3).value().array_value().values(0).string_value(), "a");
  EXPECT_EQ(mapped->resource_spans(0).resource().attributes(0).value().string_value(), "svc");
}

TEST(OtlpMapping, BadIdsAreNamedNotCrashed) {
  rapidjson::Document doc;
  doc.Parse(R"({"spans":[{"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"xyz"}]})");
  auto mapped = TraceAnswerToOtlp(doc);
  ASSERT_FALSE(mapped.ok());
  EXPECT_THAT(mapped.status().message(), HasSubstr("span_id"));
  doc.Parse(R"({"nothing":1})");
  EXPECT_FALSE(TraceAnswerToOtlp(doc).ok());
}

TEST(OtlpMapping, FindsTruncatedValues) {
  rapidjson::Document doc;
  doc.Parse(R"({"input":null,"attributes":{"a":"x","long":{"truncated":true,"bytes":70000}}})");
  EXPECT_TRUE(HasTruncatedValue(doc));
  doc.Parse(R"({"input":[{"role":"user"}],"attributes":{"truncated":true}})");
  EXPECT_FALSE(HasTruncatedValue(doc));
}

TEST(OtlpChunker, SplitsBySpansKeepingResources) {
  ingest::ExportRequest big;
  for (int r = 0; r < 2; ++r) {
    auto* rs = big.add_resource_spans();
    SetAttr(rs->mutable_resource()->mutable_attributes(), "service.name",
            [r](auto* v) { v->set_string_value("svc" + std::to_string(r)); });
    auto* ss = rs->add_scope_spans();
    ss->mutable_scope()->set_name("scope" + std::to_string(r));
    for (int i = 0; i < 1250; ++i) ss->add_spans()->set_name("svc" + std::to_string(r));
  }
  std::vector<ingest::ExportRequest> chunks;
  OtlpChunker c(1000, 4 << 20, [&](ingest::ExportRequest&& r) {
    chunks.push_back(std::move(r));
    return Status::OK();
  });
  ASSERT_TRUE(c.Add(&big).ok());
  ASSERT_TRUE(c.Flush().ok());
  ASSERT_EQ(chunks.size(), 3u);
  int64_t total = 0;
  for (const auto& ch : chunks) {
    EXPECT_LE(CountSpans(ch), 1000);
    total += CountSpans(ch);
    for (const auto& rs : ch.resource_spans())
      for (const auto& ss : rs.scope_spans()) {
        EXPECT_EQ(ss.scope().name().back(), rs.resource().attributes(0).value().string_value().back());
        for (const auto& s : ss.spans()) EXPECT_EQ(s.name(), rs.resource().attributes(0).value().string_value());
      }
  }
  EXPECT_EQ(total, 2500);
}

TEST(OtlpChunker, SplitsByBytesAndPassesErrorsOn) {
  ingest::ExportRequest big;
  auto* ss = big.add_resource_spans()->add_scope_spans();
  for (int i = 0; i < 30; ++i) {
    auto* s = ss->add_spans();
    SetAttr(s->mutable_attributes(), "payload", [](auto* v) { v->set_string_value(std::string(100000, 'x')); });
  }
  std::vector<size_t> sizes;
  OtlpChunker c(1000, 1 << 20, [&](ingest::ExportRequest&& r) {
    sizes.push_back(r.ByteSizeLong());
    return Status::OK();
  });
  ASSERT_TRUE(c.Add(&big).ok());
  ASSERT_TRUE(c.Flush().ok());
  EXPECT_GE(sizes.size(), 3u);
  for (size_t s : sizes) EXPECT_LE(s, size_t{1} << 20);

  ingest::ExportRequest more = RichRequest();
  OtlpChunker failing(1, 1 << 20, [](ingest::ExportRequest&&) { return Status::Unavailable("server gone"); });
  Status st = failing.Add(&more);
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace sightline::cli
