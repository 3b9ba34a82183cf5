#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <string>

#include "common/utf8.h"
#include "ingest/otlp_decode.h"
#include "ingest/otlp_test_util.h"

namespace sightline::ingest {
namespace {

using google::protobuf::util::MessageDifferencer;
const std::string kFFFD = "\xEF\xBF\xBD";

std::string SerializeAllowingBadUtf8(const ExportRequest& req) {
  google::protobuf::LogSilencer quiet;  // libprotobuf complains, and serialises anyway
  return req.SerializeAsString();
}

TEST(OtlpProtobuf, DecodesWhatLibprotobufEncodes) {
  ExportRequest in = testing::SampleRequest();
  ExportRequest out;
  ASSERT_TRUE(DecodeOtlpProtobuf(in.SerializeAsString(), &out).ok());
  EXPECT_TRUE(MessageDifferencer::Equals(in, out));
}

TEST(OtlpProtobuf, EmptyBodyIsAnEmptyRequest) {
  ExportRequest out = testing::SampleRequest();
  ASSERT_TRUE(DecodeOtlpProtobuf("", &out).ok());
  EXPECT_EQ(out.resource_spans_size(), 0);
}

TEST(OtlpProtobuf, InvalidUtf8IsRepairedNotFatal) {
  ExportRequest in = testing::SampleRequest();
  auto* rs = in.mutable_resource_spans(0);
  auto* span = rs->mutable_scope_spans(0)->mutable_spans(1);
  span->set_name("chat \xE2\x82");  // an LLM answer cut mid-character
  span->mutable_attributes(0)->set_key("bad\xFFkey");
  // Deep inside: attributes[6] is the kvlist "meta".
  span->mutable_attributes(6)->mutable_value()->mutable_kvlist_value()->mutable_values(0)
      ->mutable_value()->set_string_value(std::string("x\xC0\xAFy"));
  rs->mutable_resource()->mutable_attributes(0)->mutable_value()->set_string_value("svc\x80");
  rs->mutable_scope_spans(0)->mutable_scope()->set_name("\xF5scope");
  span->mutable_status()->set_message("Gr\xFC\xDF" "e");
  // bytes fields are not text: they must come through untouched.
  const std::string raw_bytes = span->attributes(4).value().bytes_value();
  const std::string span_id = span->span_id();
  // An unknown field (number 99, length-delimited) survives too.
  span->GetReflection()->MutableUnknownFields(span)->AddLengthDelimited(99, "future\xFF");

  ExportRequest out;
  Status st = DecodeOtlpProtobuf(SerializeAllowingBadUtf8(in), &out);
  ASSERT_TRUE(st.ok()) << st.ToString();
  const auto& ors = out.resource_spans(0);
  const auto& ospan = ors.scope_spans(0).spans(1);
  EXPECT_EQ(ospan.name(), "chat " + kFFFD);
  EXPECT_EQ(ospan.attributes(0).key(), "bad" + kFFFD + "key");
  EXPECT_EQ(ospan.attributes(6).value().kvlist_value().values(0).value().string_value(), "x" + kFFFD + kFFFD + "y");
  EXPECT_EQ(ors.resource().attributes(0).value().string_value(), "svc" + kFFFD);
  EXPECT_EQ(ors.scope_spans(0).scope().name(), kFFFD + "scope");
  EXPECT_EQ(ospan.status().message(), "Gr" + kFFFD + kFFFD + "e");
  EXPECT_EQ(ospan.attributes(4).value().bytes_value(), raw_bytes);
  EXPECT_EQ(ospan.span_id(), span_id);
  EXPECT_EQ(ospan.parent_span_id(), in.resource_spans(0).scope_spans(0).spans(1).parent_span_id());
  EXPECT_EQ(ospan.events(0).name(), "exception");
  EXPECT_EQ(ospan.GetReflection()->GetUnknownFields(ospan).field_count(), 1);
  // Everything else is as sent.
  EXPECT_TRUE(MessageDifferencer::Equals(in.resource_spans(0).scope_spans(0).spans(0), ors.scope_spans(0).spans(0)));
}

TEST(OtlpProtobuf, EveryTruncationIsAnErrorOrAShorterRequestNeverACrash) {
  std::string wire = testing::SampleRequest().SerializeAsString();
  int errors = 0;
  for (size_t n = 0; n < wire.size(); ++n) {
    ExportRequest out;
    Status st = DecodeOtlpProtobuf(std::string_view(wire).substr(0, n), &out);
    if (!st.ok()) {
      ++errors;
      EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
      EXPECT_TRUE(st.message().starts_with("protobuf: ")) << st.message();
      EXPECT_NE(st.message().find(" at byte "), std::string::npos) << st.message();
      EXPECT_EQ(out.resource_spans_size(), 0);
    }
  }
  EXPECT_GT(errors, static_cast<int>(wire.size()) / 2);
}

struct BadWire {
  std::string name;
  std::string body;
  std::string message;
};

class OtlpProtobufErrors : public ::testing::TestWithParam<BadWire> {};

TEST_P(OtlpProtobufErrors, NamesTheError) {
  ExportRequest out;
  Status st = DecodeOtlpProtobuf(GetParam().body, &out);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), GetParam().message);
}

// resource_spans { scope_spans { spans { name: <length 200, 2 bytes left in spans> } } }
const std::string kOverrun = std::string("\x0a\x09\x12\x07\x12\x05\x2a\xc8\x01", 9) + "abc";

INSTANTIATE_TEST_SUITE_P(
    Cases, OtlpProtobufErrors,
    ::testing::Values(
        BadWire{"TruncatedLength", std::string("\x0a\x02\x1a\x80", 4), "protobuf: resource_spans.schema_url: truncated varint at byte 3"},
        BadWire{"TruncatedTag", "\x80", "protobuf: truncated varint at byte 0"},
        BadWire{"TruncatedInnerVarint", std::string("\x0a\x02\x18\x80", 4), "protobuf: resource_spans.schema_url: truncated varint at byte 3"},
        BadWire{"LengthOverrun", "\x0a\x09\x12", "protobuf: resource_spans: length 9 of field 1 overruns its message (1 bytes left) at byte 1"},
        BadWire{"InnerLengthOverrun", kOverrun,
                "protobuf: resource_spans.scope_spans.spans.name: length 200 of field 5 overruns its message (2 bytes left) at byte 7"},
        BadWire{"WireType7", "\x0f", "protobuf: resource_spans: invalid wire type 7 at byte 0"},
        BadWire{"FieldZero", std::string("\x00\x01", 2), "protobuf: invalid field number 0 at byte 0"},
        BadWire{"StrayEndGroup", "\x0c", "protobuf: unexpected end-group tag for field 1 at byte 0"},
        BadWire{"UnterminatedGroup", "\x7b\x08\x01", "protobuf: ?: group field 15 is not terminated at byte 3"},
        BadWire{"TruncatedFixed64", std::string("\x0a\x05\x12\x03\x12\x01\x39", 7),
                "protobuf: resource_spans.scope_spans.spans.start_time_unix_nano: truncated fixed64 field 7 at byte 6"}),
    [](const auto& info) { return info.param.name; });

TEST(OtlpProtobuf, NestingIsBounded) {
  // AnyValue{array_value{values{AnyValue{...}}}} 150 levels deep: over libprotobuf's
  // recursion limit, and the walker refuses it without overflowing its own stack.
  ExportRequest req = testing::SampleRequest();
  auto* v = req.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(0)->mutable_attributes(0)->mutable_value();
  for (int i = 0; i < 150; ++i) v = v->mutable_array_value()->add_values();
  v->set_string_value("deep");
  ExportRequest out;
  Status st = DecodeOtlpProtobuf(req.SerializeAsString(), &out);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("nested deeper than 100"), std::string::npos) << st.message();
}

TEST(OtlpProtobuf, DeepNestingWithinTheLimitIsKept) {
  ExportRequest req = testing::SampleRequest();
  auto* v = req.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(0)->mutable_attributes(0)->mutable_value();
  for (int i = 0; i < 40; ++i) v = v->mutable_array_value()->add_values();
  v->set_string_value("bad \xFF deep");
  ExportRequest out;
  Status st = DecodeOtlpProtobuf(SerializeAllowingBadUtf8(req), &out);
  ASSERT_TRUE(st.ok()) << st.ToString();
  const auto* o = &out.resource_spans(0).scope_spans(0).spans(0).attributes(0).value();
  for (int i = 0; i < 40; ++i) o = &o->array_value().values(0);
  EXPECT_EQ(o->string_value(), "bad " + kFFFD + " deep");
}

}  // namespace
}  // namespace sightline::ingest
