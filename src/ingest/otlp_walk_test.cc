#include "ingest/otlp_walk.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <random>
#include <string>

#include "ingest/otlp_test_util.h"
#include "ingest/otlp_walk_test_util.h"
#include "store/coding.h"

namespace sightline::ingest {
namespace {

using testing::CompareWalkWithParse;

// Appends field number n's tag and a length-delimited value.
void PutBytesField(std::string* out, uint32_t n, std::string_view v) {
  store::PutVarint64(out, (uint64_t{n} << 3) | 2);
  store::PutVarint64(out, v.size());
  out->append(v);
}
void PutVarintField(std::string* out, uint32_t n, uint64_t v) {
  store::PutVarint64(out, uint64_t{n} << 3);
  store::PutVarint64(out, v);
}
// A request of one resource, one scope and one span whose bytes are span_bytes.
std::string RequestWithSpanBytes(const std::string& span_bytes) {
  std::string ss, rs, req;
  PutBytesField(&ss, 2, span_bytes);
  PutBytesField(&rs, 2, ss);
  PutBytesField(&req, 1, rs);
  return req;
}
std::string SampleSpanBytes() {
  ExportRequest r = testing::SampleRequest();
  return r.resource_spans(0).scope_spans(0).spans(0).SerializeAsString();
}

// The walk takes body and reads it as protobuf's parse does.
void ExpectWalkMatchesParse(const std::string& body) {
  RequestView view;
  ASSERT_TRUE(WalkExportRequest(body, &view));
  ExportRequest parsed;
  ASSERT_TRUE(parsed.ParseFromString(body));
  EXPECT_EQ(CompareWalkWithParse(view, parsed), "");
}
// The walk refuses body, which protobuf parses (the ingest path then takes the parse).
void ExpectRefusedButParsed(const std::string& body) {
  RequestView view;
  EXPECT_FALSE(WalkExportRequest(body, &view));
  ExportRequest parsed;
  EXPECT_TRUE(parsed.ParseFromString(body));
}

TEST(OtlpWalk, ReadsTheSampleRequestAsTheParserDoes) {
  const std::string body = testing::SampleRequest().SerializeAsString();
  ExpectWalkMatchesParse(body);
  RequestView view;
  ASSERT_TRUE(WalkExportRequest(body, &view));
  ASSERT_EQ(view.spans.size(), 2u);
  EXPECT_EQ(view.spans[0].name, testing::SampleRequest().resource_spans(0).scope_spans(0).spans(0).name());
  EXPECT_FALSE(view.events.empty());
  EXPECT_FALSE(view.links.empty());
}

TEST(OtlpWalk, ReadsRandomRequestsAsTheParserDoes) {
  std::mt19937_64 rng(20261207);
  RequestView view;  // reused, as the ingest path reuses it
  int taken = 0;
  for (int i = 0; i < 2000; ++i) {
    const ExportRequest req = testing::RandomRequest(rng);
    const std::string body = req.SerializeAsString();
    bool has_entity_refs = false;
    for (const auto& rs : req.resource_spans()) has_entity_refs |= rs.resource().entity_refs_size() > 0;
    ASSERT_EQ(WalkExportRequest(body, &view), !has_entity_refs) << "request " << i;
    if (has_entity_refs) continue;
    ++taken;
    ExportRequest parsed;
    ASSERT_TRUE(parsed.ParseFromString(body));
    ASSERT_EQ(CompareWalkWithParse(view, parsed), "") << "request " << i;
  }
  EXPECT_GT(taken, 1000);
}

TEST(OtlpWalk, FieldsInAnyOrder) {
  // ResourceSpans with its scope_spans before its resource, ScopeSpans with its spans
  // before its scope, a span with its attributes interleaved with events and status.
  ExportRequest r = testing::SampleRequest();
  const auto& rs = r.resource_spans(0);
  const auto& ss = rs.scope_spans(0);
  std::string span_bytes;
  const auto& sp = ss.spans(0);
  for (int i = sp.attributes_size() - 1; i >= 0; --i) {
    PutBytesField(&span_bytes, 9, sp.attributes(i).SerializeAsString());
    if (i == 1) PutBytesField(&span_bytes, 15, sp.status().SerializeAsString());
    if (i == 2 && sp.events_size() > 0) PutBytesField(&span_bytes, 11, sp.events(0).SerializeAsString());
  }
  PutBytesField(&span_bytes, 5, sp.name());
  PutBytesField(&span_bytes, 2, sp.span_id());
  PutBytesField(&span_bytes, 1, sp.trace_id());
  std::string ss_bytes, rs_bytes, body;
  PutBytesField(&ss_bytes, 2, span_bytes);
  PutBytesField(&ss_bytes, 3, "https://schema/scope");
  PutBytesField(&ss_bytes, 1, ss.scope().SerializeAsString());
  PutBytesField(&ss_bytes, 2, ss.spans(1).SerializeAsString());
  PutBytesField(&rs_bytes, 2, ss_bytes);
  PutBytesField(&rs_bytes, 1, rs.resource().SerializeAsString());
  PutBytesField(&rs_bytes, 2, ss_bytes);
  PutBytesField(&body, 1, rs_bytes);
  PutBytesField(&body, 1, rs_bytes);
  ExpectWalkMatchesParse(body);
  RequestView view;
  ASSERT_TRUE(WalkExportRequest(body, &view));
  EXPECT_EQ(view.resources.size(), 2u);
  EXPECT_EQ(view.scopes.size(), 4u);
  EXPECT_EQ(view.spans.size(), 8u);
  EXPECT_EQ(view.spans[2].scope, 1u);
  EXPECT_EQ(view.scopes[3].resource, 1u);
}

TEST(OtlpWalk, EmptyAndDefaultValuedMessages) {
  ExpectWalkMatchesParse("");
  std::string body;
  PutBytesField(&body, 1, "");  // an empty ResourceSpans
  ExpectWalkMatchesParse(body);
  // Explicit zeros, an empty resource and scope, an empty status, a KeyValue with an
  // empty AnyValue and one with none.
  std::string kv_empty_value, kv_no_value, span;
  PutBytesField(&kv_empty_value, 1, "k");
  PutBytesField(&kv_empty_value, 2, "");
  PutBytesField(&kv_no_value, 1, "k2");
  PutBytesField(&span, 9, kv_empty_value);
  PutBytesField(&span, 9, kv_no_value);
  PutVarintField(&span, 6, 0);
  PutBytesField(&span, 15, "");
  std::string ss, rs, req;
  PutBytesField(&ss, 1, "");
  PutBytesField(&ss, 2, span);
  PutBytesField(&rs, 1, "");
  PutBytesField(&rs, 2, ss);
  PutBytesField(&req, 1, rs);
  ExpectWalkMatchesParse(req);
  RequestView view;
  ASSERT_TRUE(WalkExportRequest(req, &view));
  ASSERT_EQ(view.attrs.size(), 2u);
  EXPECT_TRUE(view.attrs[0].has_value);
  EXPECT_FALSE(view.attrs[1].has_value);
  EXPECT_EQ(view.attrs[0].type, AttrView::kNone);
  EXPECT_TRUE(view.spans[0].has_status);
  EXPECT_TRUE(view.resources[0].has_resource);
  EXPECT_TRUE(view.scopes[0].has_scope);
}

TEST(OtlpWalk, EnumsAndCountsKeepTheLow32BitsAsProtobufDoes) {
  std::string span;
  PutVarintField(&span, 6, static_cast<uint64_t>(int64_t{-3}));  // a negative enum: 10 bytes
  PutVarintField(&span, 10, (uint64_t{7} << 32) | 5);             // a uint32 count past 32 bits
  std::string status;
  PutVarintField(&status, 3, 99);  // an open enum's unknown value
  PutBytesField(&span, 15, status);
  const std::string body = RequestWithSpanBytes(span);
  ExpectWalkMatchesParse(body);
  RequestView view;
  ASSERT_TRUE(WalkExportRequest(body, &view));
  EXPECT_EQ(view.spans[0].kind, -3);
  EXPECT_EQ(view.spans[0].dropped_attributes_count, 5u);
  EXPECT_EQ(view.spans[0].status_code, 99);
}

TEST(OtlpWalk, RefusesWhatItCannotRepresentAndTheParserTakes) {
  const std::string span = SampleSpanBytes();
  {  // a field number trace.proto does not declare (unknown field)
    std::string s = span;
    PutVarintField(&s, 99, 1);
    ExpectRefusedButParsed(RequestWithSpanBytes(s));
  }
  {  // a singular field twice (protobuf keeps the last)
    std::string s = span;
    PutBytesField(&s, 5, "second name");
    ExpectRefusedButParsed(RequestWithSpanBytes(s));
  }
  {  // a singular message twice (protobuf merges them)
    std::string s = span, status;
    PutVarintField(&status, 3, 2);
    PutBytesField(&s, 15, status);
    PutBytesField(&s, 15, status);
    ExpectRefusedButParsed(RequestWithSpanBytes(s));
  }
  {  // a declared field with another wire type (protobuf keeps it as unknown)
    std::string s = span;
    PutBytesField(&s, 6, "kind as bytes");
    ExpectRefusedButParsed(RequestWithSpanBytes(s));
  }
  {  // an AnyValue with two of its oneof's fields
    std::string any, kv, s = span;
    PutBytesField(&any, 1, "text");
    PutVarintField(&any, 3, 7);
    PutBytesField(&kv, 1, "k");
    PutBytesField(&kv, 2, any);
    PutBytesField(&s, 9, kv);
    ExpectRefusedButParsed(RequestWithSpanBytes(s));
  }
  {  // a Resource's entity_refs
    ExportRequest r = testing::SampleRequest();
    r.mutable_resource_spans(0)->mutable_resource()->add_entity_refs()->set_type("service");
    ExpectRefusedButParsed(r.SerializeAsString());
  }
  {  // arrays nested past kMaxWalkDepth (protobuf's own limit is 100 messages)
    std::string any;
    PutVarintField(&any, 3, 1);
    for (int i = 0; i < kMaxWalkDepth + 1; ++i) {
      std::string array, outer;
      PutBytesField(&array, 1, any);
      PutBytesField(&outer, 5, array);
      any = outer;
    }
    std::string kv, s = span;
    PutBytesField(&kv, 1, "deep");
    PutBytesField(&kv, 2, any);
    PutBytesField(&s, 9, kv);
    ExpectRefusedButParsed(RequestWithSpanBytes(s));
  }
}

TEST(OtlpWalk, RefusesMalformedBytesAndBadUtf8) {
  RequestView view;
  const std::string body = testing::SampleRequest().SerializeAsString();
  for (size_t cut = 1; cut < body.size(); cut += 7)
    EXPECT_FALSE(WalkExportRequest(std::string_view(body).substr(0, cut), &view)) << "cut at " << cut;
  EXPECT_FALSE(WalkExportRequest(std::string("\x0b\x0c", 2), &view));  // a group
  EXPECT_FALSE(WalkExportRequest(std::string("\x0a\xff\xff\xff\xff\x0f", 6), &view));  // length past INT32_MAX
  std::string s = SampleSpanBytes();
  PutBytesField(&s, 3, "\xc3\x28");  // trace_state, a string field: not UTF-8
  EXPECT_FALSE(WalkExportRequest(RequestWithSpanBytes(s), &view));
  std::string ids = SampleSpanBytes();
  std::string link;
  PutBytesField(&link, 1, "\xff\xfe");  // trace_id is bytes: any bytes are taken
  PutBytesField(&ids, 13, link);
  ExpectWalkMatchesParse(RequestWithSpanBytes(ids));
}

TEST(OtlpWalk, NoAllocationOnceWarm) {
  const std::string body = testing::SampleRequest().SerializeAsString();
  RequestView view;
  ASSERT_TRUE(WalkExportRequest(body, &view));
  const auto* spans = view.spans.data();
  const auto* attrs = view.attrs.data();
  const auto* events = view.events.data();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(WalkExportRequest(body, &view));
  EXPECT_EQ(view.spans.data(), spans);
  EXPECT_EQ(view.attrs.data(), attrs);
  EXPECT_EQ(view.events.data(), events);
}

// The protobuf decoder's seed corpus: whatever the walk takes, it reads as the parser.
TEST(OtlpWalk, SeedCorpusAgreesWithTheParser) {
  const std::string dir = std::string(SIGHTLINE_SOURCE_DIR) + "/tests/fuzz/corpus/otlp_protobuf_fuzz/";
  int files = 0;
  for (const char* name : {"bad_utf8.pb", "empty.pb", "genai.pb", "llm.pb", "truncated.pb"}) {
    std::ifstream f(dir + name, std::ios::binary);
    ASSERT_TRUE(f) << name;
    const std::string body((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    ++files;
    RequestView view;
    ExportRequest parsed;
    const bool walked = WalkExportRequest(body, &view);
    if (std::string(name) == "genai.pb" || std::string(name) == "llm.pb") {
      EXPECT_TRUE(walked) << name;
    }
    if (!walked) continue;
    ASSERT_TRUE(parsed.ParseFromString(body)) << name;
    EXPECT_EQ(CompareWalkWithParse(view, parsed), "") << name;
  }
  EXPECT_EQ(files, 5);
}

}  // namespace
}  // namespace sightline::ingest
