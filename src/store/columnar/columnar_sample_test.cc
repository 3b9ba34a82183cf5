// Committed sample files of every segment version keep reading (tests/data/segments/),
// and the bytes per span the columnar format reaches on generated workloads.
//
// Regenerate the samples (only when a format version is added, never for an existing
// one): SIGHTLINE_WRITE_SAMPLES=1 store_test --gtest_filter='SegmentSamples.Write*'
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

#include "common/mem_env.h"
#include "store/columnar/columnar_test_util.h"
#include "store/segment/segment_format.h"
#include "store/segment/segment_reader.h"
#include "store/segment/segment_writer.h"
#include "store/span_codec.h"

namespace sightline::store::columnar {
namespace {

using namespace testing;  // NOLINT: the columnar test helpers

const std::string kSampleDir = std::string(SIGHTLINE_SOURCE_DIR) + "/tests/data/segments";

// The sample content; frozen: the committed files were written from it.
TraceMap SampleTraces() {
  TraceMap m = PayloadSession(11, 4, 1'767'225'600'000'000'000);
  for (int t = 0; t < 3; ++t)
    for (int k = 0; k < 3; ++k)
      AddToMap(&m, FullSpan(300 + static_cast<uint64_t>(t), 10 * t + k + 1, k ? 10 * t + 1 : 0,
                            1'767'225'700'000'000'000 + k * 5000, t * 3 + k));
  for (auto& [id, spans] : LeanTraces(5, 1'767'225'800'000'000'000)) m[id] = spans;
  return m;
}

// The second v2 sample, written once the reference columns existed (ids 47, 48:
// received_ns_run, computed_cost_usd_ref); frozen like the first.
TraceMap RefsSampleTraces() {
  TraceMap m = LeanTraces(6, 1'767'225'900'000'000'000);
  int64_t i = 0;
  for (auto& [id, spans] : m) {
    for (auto& s : spans) {
      s.set_received_ns(1'767'226'000'000'000'000 + (i / 2) * 1'000'000'000);  // two traces a request
      if (s.has_cost_usd()) s.set_computed_cost_usd(s.cost_usd());
    }
    ++i;
  }
  m.begin()->second[0].set_computed_cost_usd(0.0625);  // one that differs from its cost
  return m;
}

// The third v2 sample, written once attribute values could refer to their row's column
// (id 49, attr_text_ref); frozen like the others. The lean spans' session.id, user.id,
// gen_ai.request.model and token count attributes repeat their columns; one span's
// session.id does not.
TraceMap AttrRefsSampleTraces() {
  TraceMap m = LeanTraces(6, 1'767'226'100'000'000'000);
  auto& first = m.begin()->second[1];
  for (auto& kv : *first.mutable_attributes())
    if (kv.key() == "session.id") kv.mutable_value()->set_string_value("ticket-moved");
  return m;
}

// The fourth v2 sample, written once compaction word-coded payload frames (frame codec
// 2): a session long enough that its messages fill a frame worth coding, written at
// compaction's level; frozen like the others.
TraceMap WordCodedSampleTraces() { return PayloadSession(12, 24, 1'767'226'200'000'000'000); }

bool WriteSamplesRequested() {
  const char* v = std::getenv("SIGHTLINE_WRITE_SAMPLES");
  return v && std::string(v) == "1";
}

TEST(SegmentSamples, WriteV2Sample) {
  if (!WriteSamplesRequested()) GTEST_SKIP() << "set SIGHTLINE_WRITE_SAMPLES=1 to rewrite the committed samples";
  ASSERT_TRUE(WriteSegment(Env::Default(), kSampleDir, "v2_sample.slseg", SampleTraces()).ok());
}

TEST(SegmentSamples, WriteV2RefsSample) {
  if (!WriteSamplesRequested()) GTEST_SKIP() << "set SIGHTLINE_WRITE_SAMPLES=1 to rewrite the committed samples";
  ASSERT_TRUE(WriteSegment(Env::Default(), kSampleDir, "v2_refs_sample.slseg", RefsSampleTraces()).ok());
}

TEST(SegmentSamples, WriteV2AttrRefsSample) {
  if (!WriteSamplesRequested()) GTEST_SKIP() << "set SIGHTLINE_WRITE_SAMPLES=1 to rewrite the committed samples";
  ASSERT_TRUE(WriteSegment(Env::Default(), kSampleDir, "v2_attr_refs_sample.slseg", AttrRefsSampleTraces()).ok());
}

TEST(SegmentSamples, WriteV2WordCodedSample) {
  if (!WriteSamplesRequested()) GTEST_SKIP() << "set SIGHTLINE_WRITE_SAMPLES=1 to rewrite the committed samples";
  ASSERT_TRUE(WriteSegment(Env::Default(), kSampleDir, "v2_word_coded_sample.slseg", WordCodedSampleTraces()).ok());
}

TEST(SegmentSamples, WriteV1Sample) {
  if (!WriteSamplesRequested()) GTEST_SKIP() << "set SIGHTLINE_WRITE_SAMPLES=1 to rewrite the committed samples";
  Env* env = Env::Default();
  auto b = segment::SegmentBuilder::Create(env, kSampleDir, 1);
  ASSERT_TRUE(b.ok());
  for (auto [id, spans] : SampleTraces()) {
    SortSpans(&spans);
    std::vector<std::string> bytes;
    std::vector<std::string_view> views;
    for (const auto& s : spans) bytes.push_back(s.SerializeAsString());
    for (const auto& x : bytes) views.push_back(x);
    ASSERT_TRUE((*b)->AddTrace(TraceKey::FromBytes(id), views, "agg:" + id.substr(15), 0, 1).ok());
  }
  ASSERT_TRUE((*b)->Finish().ok());
  ASSERT_TRUE(env->RenameFile((*b)->path(), kSampleDir + "/v1_sample.seg").ok());
}

void ExpectSampleReads(const std::string& path, const TraceMap& want) {
  auto v = PeekFormatVersion(Env::Default(), path);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(*v, 2u);
  std::vector<TraceEntry> entries;
  std::vector<std::string> aggs;
  auto r = ColumnarReader::Open(Env::Default(), path, [&](const TraceEntry& e) {
    entries.push_back(e);
    aggs.emplace_back(e.agg);
    return Status::OK();
  });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(entries.size(), want.size());
  EXPECT_EQ((*r)->span_count(), CountSpans(want));
  size_t i = 0;
  for (const auto& [id, spans] : want) {
    EXPECT_EQ(entries[i].id, TraceKey::FromBytes(id));
    EXPECT_EQ(aggs[i], "agg:" + id.substr(15));
    std::vector<std::string> got;
    ASSERT_TRUE((*r)->ReadTrace(entries[i].first_row, entries[i].row_count, &got).ok());
    EXPECT_TRUE(SameSpans(spans, got)) << "trace " << i;
    ++i;
  }
}

TEST(SegmentSamples, ReadsCommittedV2Sample) {
  const std::string path = kSampleDir + "/v2_sample.slseg";
  ExpectSampleReads(path, SampleTraces());
  auto r = ColumnarReader::Open(Env::Default(), path, [](const TraceEntry&) { return Status::OK(); });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE((*r)->MayContainSession("ticket-11"));
}

TEST(SegmentSamples, ReadsCommittedV2RefsSample) {
  const std::string path = kSampleDir + "/v2_refs_sample.slseg";
  ExpectSampleReads(path, RefsSampleTraces());
  // The sample holds what it is kept for: both reference columns.
  auto r = ColumnarReader::Open(Env::Default(), path, [](const TraceEntry&) { return Status::OK(); });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ColumnarReader::BlockView v;
  ASSERT_TRUE((*r)->LoadBlockColumns(0, {kColReceivedRun, kColComputedCostRef}, &v).ok());
  EXPECT_FALSE(v.col(kColReceivedRun).empty());
  EXPECT_FALSE(v.col(kColComputedCostRef).empty());
}

TEST(SegmentSamples, ReadsCommittedV2AttrRefsSample) {
  const std::string path = kSampleDir + "/v2_attr_refs_sample.slseg";
  ExpectSampleReads(path, AttrRefsSampleTraces());
  // The sample holds what it is kept for: attribute text with references (49, not 40).
  auto r = ColumnarReader::Open(Env::Default(), path, [](const TraceEntry&) { return Status::OK(); });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ColumnarReader::BlockView v;
  ASSERT_TRUE((*r)->LoadBlockColumns(0, {kColAttrText, kColAttrTextRef}, &v).ok());
  EXPECT_TRUE(v.col(kColAttrText).empty());
  EXPECT_FALSE(v.col(kColAttrTextRef).empty());
  EXPECT_NE(v.col(kColAttrTextRef).find("ticket-moved"), std::string_view::npos);
  // An attribute filter finds both kinds of value.
  std::vector<RowRange> ranges;
  for (uint32_t b = 0; b < (*r)->block_count(); ++b) {
    const BlockStats st = (*r)->block_stats(b);
    ranges.push_back(RowRange{st.first_row, st.row_count});
  }
  RowMatchSpec spec;
  spec.attrs = {{"session.id", "ticket-moved"}, {"session.id", "ticket-1"}, {"gen_ai.request.model", "claude-sonnet-4"}};
  std::vector<uint32_t> bits;
  std::vector<uint8_t> unreadable;
  ASSERT_TRUE((*r)->MatchRows(spec, ranges, &bits, &unreadable).ok());
  uint32_t any = 0;
  for (uint32_t b : bits) any |= b;
  EXPECT_EQ(any, 7u);
}

TEST(SegmentSamples, ReadsCommittedV2WordCodedSample) {
  const std::string path = kSampleDir + "/v2_word_coded_sample.slseg";
  ExpectSampleReads(path, WordCodedSampleTraces());
  // The sample holds what it is kept for: a word-coded payload frame.
  auto r = ColumnarReader::Open(Env::Default(), path, [](const TraceEntry&) { return Status::OK(); });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  bool coded = false;
  for (const auto& f : (*r)->frames()) coded |= f.codec == kCodecWordZstd;
  EXPECT_TRUE(coded);
  // Its text is found by a phrase search as in any other frame.
  std::vector<RowRange> ranges;
  for (uint32_t b = 0; b < (*r)->block_count(); ++b) {
    const BlockStats st = (*r)->block_stats(b);
    ranges.push_back(RowRange{st.first_row, st.row_count});
  }
  RowMatchSpec spec;
  spec.text_lower = "invoice inv-16147 is a charge";
  std::vector<uint32_t> bits;
  std::vector<uint8_t> unreadable;
  ASSERT_TRUE((*r)->MatchRows(spec, ranges, &bits, &unreadable).ok());
  int matched = 0;
  for (uint32_t b : bits) matched += (b & RowMatchSpec::kTextBit) != 0;
  EXPECT_GT(matched, 0);
}

TEST(SegmentSamples, V1ReaderKeepsReadingCommittedV1Sample) {
  const std::string path = kSampleDir + "/v1_sample.seg";
  auto v = PeekFormatVersion(Env::Default(), path);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(*v, 1u);
  // The v1 reader wants a store file name (NNNNNN.seg): read a copy under one.
  auto bytes = ReadFileToString(Env::Default(), path);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  MemEnv mem;
  mem.PutFile("/segments/000001.seg", *bytes);
  std::vector<segment::TableEntry> entries;
  std::vector<std::string> aggs;
  auto r = segment::SegmentReader::Open(&mem, "/segments/000001.seg", [&](const segment::TableEntry& e) {
    entries.push_back(e);
    aggs.emplace_back(e.agg);
    return Status::OK();
  });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  TraceMap want = SampleTraces();
  ASSERT_EQ(entries.size(), want.size());
  size_t i = 0;
  for (const auto& [id, spans] : want) {
    EXPECT_EQ(entries[i].id, TraceKey::FromBytes(id));
    EXPECT_EQ(aggs[i], "agg:" + id.substr(15));
    std::string block;
    ASSERT_TRUE((*r)->ReadBlock(entries[i].offset, entries[i].length, entries[i].checksum, &block).ok());
    std::vector<std::string_view> views;
    ASSERT_TRUE(SplitSpanBatch(block, &views));
    std::vector<std::string> got(views.begin(), views.end());
    EXPECT_TRUE(SameSpans(spans, got)) << "trace " << i;
    ++i;
  }
  // The columnar reader names the version it does not read.
  auto c = ColumnarReader::Open(Env::Default(), path, [](const TraceEntry&) { return Status::OK(); });
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kCorruption);
  EXPECT_NE(c.status().message().find("version 1"), std::string::npos) << c.status().ToString();
}

// Not a pass/fail measure of speed: prints the bytes per span of the two workloads.
TEST(SegmentSamples, BytesPerSpan) {
  struct Case {
    const char* name;
    TraceMap traces;
  };
  TraceMap payload;
  for (uint64_t s = 0; s < 4; ++s)
    for (auto& [id, spans] : PayloadSession(100 + s, 50, 1'767'225'600'000'000'000 + static_cast<int64_t>(s) * 1000))
      payload[id] = spans;
  Case cases[] = {{"payload-heavy (4 sessions x 50 turns)", std::move(payload)},
                  {"lean (2000 traces x 8 spans)", LeanTraces(2000, 1'767'225'600'000'000'000)}};
  for (Case& c : cases) {
    MemEnv env;
    ASSERT_TRUE(WriteSegment(&env, "/s", "x.slseg", c.traces).ok());
    auto size = env.GetFileSize("/s/x.slseg");
    ASSERT_TRUE(size.ok());
    size_t spans = CountSpans(c.traces), proto_bytes = 0;
    for (const auto& [id, v] : c.traces)
      for (const auto& s : v) proto_bytes += s.ByteSizeLong();
    auto r = ColumnarReader::Open(&env, "/s/x.slseg", [](const TraceEntry&) { return Status::OK(); });
    ASSERT_TRUE(r.ok());
    std::printf("[ bytes/span ] %s: %zu spans, %.1f bytes/span on disk (serialized spans: %.0f bytes/span; "
                "payload section %.1f bytes/span, %u pieces)\n",
                c.name, spans, static_cast<double>(*size) / static_cast<double>(spans),
                static_cast<double>(proto_bytes) / static_cast<double>(spans),
                static_cast<double>((*r)->payload_stored_bytes()) / static_cast<double>(spans),
                (*r)->payload_piece_count());
    EXPECT_LT(*size, proto_bytes);
  }
}

}  // namespace
}  // namespace sightline::store::columnar
