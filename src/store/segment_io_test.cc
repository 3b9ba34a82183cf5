// SegmentOutput's two ways in for serialized spans: AddTrace keeps the newest copy of a
// repeated span id, AddDistinctTrace (the flush: a memtable holds each id once) skips
// that pass and writes the same file; both leave a span id the columnar format cannot
// hold to the caller's retry in a row (v1) file.
#include "store/segment_io.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/mem_env.h"
#include "store/columnar/columnar_format.h"
#include "store/segment/segment_format.h"
#include "store/store_test_util.h"

namespace sightline::store {
namespace {

using testing::MakeSpan;
using testing::TraceId;

std::vector<std::string> Spans(uint64_t trace, uint64_t n) {
  std::vector<std::string> out;
  for (uint64_t k = 1; k <= n; ++k) {
    model::Span s = MakeSpan({.trace = trace,
                              .span = k,
                              .parent = k > 1 ? uint64_t{1} : uint64_t{0},
                              .name = "step " + std::to_string(k),
                              .start = static_cast<int64_t>(1000 + 10 * k),
                              .end = static_cast<int64_t>(2000 + k)});
    s.set_input_json("[{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":\"question " + std::to_string(k) +
                     " about the quarterly figures\"}]}]");
    out.push_back(s.SerializeAsString());
  }
  return out;
}

// Writes traces 1..3 of four spans each through AddTrace or AddDistinctTrace and returns
// the file's bytes.
std::string Write(MemEnv* env, uint64_t number, bool distinct) {
  auto out = SegmentOutput::Create(env, "/seg", number, 1, SegmentFormat::kV2Columnar, columnar::kFlushZstdLevel);
  EXPECT_TRUE(out.ok());
  for (uint64_t t = 1; t <= 3; ++t) {
    const std::vector<std::string> spans = Spans(t, 4);
    const std::vector<std::string_view> views(spans.begin(), spans.end());
    const TraceKey id = TraceKey::FromBytes(TraceId(t));
    Status s = distinct ? (*out)->AddDistinctTrace(id, views, {}, 1000, 3000)
                        : (*out)->AddTrace(id, views, {}, 1000, 3000);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  auto file = (*out)->Finish();
  EXPECT_TRUE(file.ok()) << file.status().ToString();
  auto bytes = ReadFileToString(env, "/seg/" + segment::SegmentFileName(number));
  EXPECT_TRUE(bytes.ok());
  return bytes.ok() ? *bytes : std::string();
}

TEST(SegmentOutput, DistinctSpansWriteTheSameFileWithoutTheRepeatPass) {
  MemEnv env;
  ASSERT_TRUE(env.CreateDir("/seg").ok());
  const std::string a = Write(&env, 1, false), b = Write(&env, 2, true);
  ASSERT_FALSE(a.empty());
  EXPECT_TRUE(a == b);
}

TEST(SegmentOutput, RepeatedSpanIdKeepsTheNewestCopy) {
  MemEnv env;
  ASSERT_TRUE(env.CreateDir("/seg").ok());
  auto out = SegmentOutput::Create(&env, "/seg", 1, 1, SegmentFormat::kV2Columnar, columnar::kFlushZstdLevel);
  ASSERT_TRUE(out.ok());
  std::vector<std::string> spans = Spans(1, 2);
  model::Span again = MakeSpan({.trace = 1, .span = 2, .parent = 1, .name = "retried"});
  spans.push_back(again.SerializeAsString());
  const std::vector<std::string_view> views(spans.begin(), spans.end());
  ASSERT_TRUE((*out)->AddTrace(TraceKey::FromBytes(TraceId(1)), views, {}, 1000, 3000).ok());
  EXPECT_EQ((*out)->span_count(), 2u);
  auto file = (*out)->Finish();
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  std::deque<std::string> storage;
  std::vector<std::string_view> got;
  ASSERT_TRUE((*file)->ReadTrace((*out)->traces().at(0).loc, &storage, &got).ok());
  ASSERT_EQ(got.size(), 2u);
  int retried = 0;
  for (std::string_view g : got) {
    model::Span s;
    ASSERT_TRUE(s.ParseFromArray(g.data(), static_cast<int>(g.size())));
    retried += s.name() == "retried";
  }
  EXPECT_EQ(retried, 1);
}

TEST(SegmentOutput, SpanIdTheColumnarFormatCannotHoldAsksForARowFile) {
  for (bool distinct : {false, true}) {
    MemEnv env;
    ASSERT_TRUE(env.CreateDir("/seg").ok());
    auto out = SegmentOutput::Create(&env, "/seg", 1, 1, SegmentFormat::kV2Columnar, columnar::kFlushZstdLevel);
    ASSERT_TRUE(out.ok());
    std::vector<std::string> spans = Spans(1, 2);
    model::Span odd = MakeSpan({.trace = 1, .span = 3, .parent = 1});
    odd.set_span_id("abcd");  // 4 bytes
    spans.push_back(odd.SerializeAsString());
    const std::vector<std::string_view> views(spans.begin(), spans.end());
    const TraceKey id = TraceKey::FromBytes(TraceId(1));
    Status s = distinct ? (*out)->AddDistinctTrace(id, views, {}, 1000, 3000)
                        : (*out)->AddTrace(id, views, {}, 1000, 3000);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << distinct << " " << s.ToString();
    EXPECT_TRUE((*out)->needs_v1()) << distinct;
    (*out)->Abandon();
  }
}

}  // namespace
}  // namespace sightline::store
