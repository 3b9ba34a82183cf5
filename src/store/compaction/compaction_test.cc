// compaction::Merge carrying payloads by reference (MergeHooks::by_reference): the
// output reads exactly as a merge that puts every value together and splits it again,
// a message re-sent across input files is still stored once, a dropped trace's pieces
// are not copied, and a damaged payload frame fails the merge naming its file.
#include "store/compaction/compaction.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "common/mem_env.h"
#include "store/columnar/columnar_builder.h"
#include "store/columnar/columnar_reader.h"
#include "store/segment/segment_format.h"
#include "store/segment_io.h"
#include "store/store_test_util.h"

namespace sightline::store::compaction {
namespace {

using testing::MakeSpan;
using testing::TraceId;

// Message k of a conversation: long enough that a history of them is split into pieces.
std::string Message(uint64_t session, uint64_t k) {
  return R"({"role":"user","parts":[{"type":"text","content":"session )" + std::to_string(session) + " turn " +
         std::to_string(k) + R"( asks about the quarterly report and its figures"}]})";
}

std::string History(uint64_t session, uint64_t turns, const char* sep = ",") {
  std::string h = "[";
  for (uint64_t k = 1; k <= turns; ++k) {
    if (k > 1) h += sep;
    h += Message(session, k);
  }
  return h + "]";
}

// Turn `turn` of session (= trace) t: a model call re-sending the history so far as its
// input and as the gen_ai.input.messages attribute (spaced, so its pieces differ), an
// output, and a small attribute.
model::Span Turn(uint64_t t, uint64_t turn) {
  model::Span s = MakeSpan({.trace = t, .span = 100 + turn, .parent = 1, .kind = model::v1::KIND_LLM,
                            .start = static_cast<int64_t>(1000 + turn), .end = static_cast<int64_t>(2000 + turn)});
  s.set_input_json(History(t, turn));
  s.set_output_json(R"({"role":"assistant","parts":[{"type":"text","content":"answer )" + std::to_string(turn) +
                    R"("}]})");
  auto* a = s.add_attributes();
  a->set_key("gen_ai.request.model");
  a->mutable_value()->set_string_value("m-1");
  a = s.add_attributes();
  a->set_key("gen_ai.input.messages");
  a->mutable_value()->set_string_value(History(t, turn, ", "));
  a = s.add_attributes();
  a->set_key("note");
  a->mutable_value()->set_string_value(std::string(200, 'n') + std::to_string(turn));  // large, not an array
  return s;
}

class MergeByReference : public ::testing::Test {
 protected:
  // Three input files; each holds the next turns of sessions 1..4 (so every history
  // crosses files) plus a root span per trace in the first file, and the third file
  // re-sends turn 2 of trace 1 with another output (the newest copy wins).
  void SetUp() override {
    ASSERT_TRUE(env_.CreateDir("/seg").ok());
    for (uint64_t f = 0; f < 3; ++f) {
      std::map<TraceKey, std::vector<std::string>> traces;
      for (uint64_t t = 1; t <= 4; ++t) {
        auto& v = traces[TraceKey::FromBytes(TraceId(t))];
        if (f == 0) v.push_back(MakeSpan({.trace = t, .span = 1, .name = "agent"}).SerializeAsString());
        for (uint64_t turn = 1 + 2 * f; turn <= 2 + 2 * f; ++turn) v.push_back(Turn(t, turn).SerializeAsString());
        if (f == 2 && t == 1) {
          model::Span again = Turn(1, 2);
          again.set_output_json("retried");
          v.push_back(again.SerializeAsString());
        }
      }
      const std::string name = segment::SegmentFileName(f + 1);
      auto b = columnar::ColumnarBuilder::Create(&env_, "/seg", name, columnar::kFlushZstdLevel);
      ASSERT_TRUE(b.ok());
      for (const auto& [k, spans] : traces) {
        std::vector<std::string_view> views(spans.begin(), spans.end());
        ASSERT_TRUE((*b)->AddTrace(k, views, {}, 1000, 3000).ok());
      }
      ASSERT_TRUE((*b)->Finish().ok());
      auto file = OpenSegmentFile(&env_, "/seg/" + name, f + 1, [](const SegmentTraceEntry&) { return Status::OK(); });
      ASSERT_TRUE(file.ok()) << file.status().ToString();
      inputs_.push_back(std::move(file).value());
    }
  }

  Result<MergeResult> Run(bool by_reference, std::function<retention::Fate(const TraceKey&)> fate = nullptr) {
    MergeHooks hooks;
    hooks.env = &env_;
    hooks.dir = "/seg";
    hooks.new_file_number = [this] { return next_++; };
    hooks.by_reference = by_reference;
    if (fate) hooks.fate = [fate](const TraceKey& id, const TraceAgg&, const StringPool&) { return fate(id); };
    return Merge(inputs_, hooks);
  }

  // Every trace of the merge's one output, as ReadTrace gives it.
  std::map<TraceKey, std::vector<std::string>> ReadAll(const MergeResult& r) {
    std::map<TraceKey, std::vector<std::string>> out;
    EXPECT_EQ(r.outputs.size(), 1u);
    if (r.outputs.empty()) return out;
    auto reader = ColumnarOf(r.outputs[0].file);
    EXPECT_NE(reader, nullptr);
    if (reader == nullptr) return out;
    for (const TraceOutcome& t : r.traces) {
      if (t.output < 0) continue;
      std::vector<std::string> spans;
      Status s = reader->ReadTrace(static_cast<uint32_t>(t.loc.offset), t.loc.length, &spans);
      EXPECT_TRUE(s.ok()) << s.ToString();
      out[t.id] = std::move(spans);
    }
    return out;
  }

  static uint32_t Pieces(const MergeResult& r) { return ColumnarOf(r.outputs.at(0).file)->piece_count(); }

  MemEnv env_;
  std::vector<std::shared_ptr<SegmentFile>> inputs_;
  uint64_t next_ = 100;
};

TEST_F(MergeByReference, OutputReadsAsAWholeMergeAndStoresEachMessageOnce) {
  auto whole = Run(false);
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  auto by_ref = Run(true);
  ASSERT_TRUE(by_ref.ok()) << by_ref.status().ToString();
  EXPECT_EQ(by_ref->spans_out, 4u * 7u);  // a root and six turns per trace
  EXPECT_EQ(by_ref->duplicates, 1u);
  const auto a = ReadAll(*whole), b = ReadAll(*by_ref);
  ASSERT_EQ(a.size(), 4u);
  EXPECT_EQ(a, b);
  // The retried turn kept its newest copy, payloads and all.
  bool retried = false;
  for (const std::string& bytes : b.at(TraceKey::FromBytes(TraceId(1)))) {
    model::Span s;
    ASSERT_TRUE(s.ParseFromString(bytes));
    if (s.span_id() == testing::SpanId(102)) {
      retried = true;
      EXPECT_EQ(s.output_json(), "retried");
      EXPECT_EQ(s.input_json(), History(1, 2));
      ASSERT_EQ(s.attributes_size(), 3);
      EXPECT_EQ(s.attributes(1).value().string_value(), History(1, 2, ", "));
    }
  }
  EXPECT_TRUE(retried);
  // Each message of each session is one piece, whichever file sent it and whether the
  // input or the attribute (another separator, the same elements) named it; the six
  // outputs and six notes are the same in every session; and "retried".
  EXPECT_EQ(Pieces(*by_ref), Pieces(*whole));
  EXPECT_EQ(Pieces(*by_ref), 4u * 6 + 6 + 6 + 1);
}

TEST_F(MergeByReference, PiecesOfDroppedTracesAreNotCopied) {
  const TraceKey keep = TraceKey::FromBytes(TraceId(3));
  auto fate = [&](const TraceKey& id) { return id == keep ? retention::Fate::kFull : retention::Fate::kSummary; };
  auto r = Run(true, fate);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Pieces(*r), 6u + 6 + 6);  // trace 3's messages, outputs and notes
  auto whole = Run(false, fate);
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(ReadAll(*r), ReadAll(*whole));
}

TEST_F(MergeByReference, DamagedPayloadFrameFailsTheMergeNamingTheFile) {
  auto reader = ColumnarOf(inputs_[1]);
  ASSERT_NE(reader, nullptr);
  ASSERT_FALSE(reader->frames().empty());
  const uint64_t at = reader->frames()[0].offset + 3;
  const std::string path = "/seg/" + segment::SegmentFileName(2);
  auto bytes = ReadFileToString(&env_, path);
  ASSERT_TRUE(bytes.ok());
  std::string damaged = *bytes;
  damaged[at] = static_cast<char>(damaged[at] ^ 0x10);
  ASSERT_TRUE(WriteFileAtomically(&env_, path, damaged).ok());
  auto reopened = OpenSegmentFile(&env_, path, 2, [](const SegmentTraceEntry&) { return Status::OK(); });
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();  // frames are checked when read
  inputs_[1] = std::move(reopened).value();
  auto r = Run(true);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(r.status().ToString().find(segment::SegmentFileName(2)), std::string::npos) << r.status().ToString();
  EXPECT_NE(r.status().ToString().find("payload frame"), std::string::npos) << r.status().ToString();
  // Nothing of the failed merge is left behind.
  auto names = env_.GetChildren("/seg");
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(names->size(), 3u);
}

// A large value given by reference must land on a string attribute of its span, or the
// builder refuses the trace rather than lose the value.
TEST(ColumnarBuilderByReference, RefusesALargeValueWhoseAttributeIsNotAString) {
  MemEnv env;
  ASSERT_TRUE(env.CreateDir("/seg").ok());
  auto b = columnar::ColumnarBuilder::Create(&env, "/seg", segment::SegmentFileName(1));
  ASSERT_TRUE(b.ok());
  model::Span s = MakeSpan({.trace = 1, .span = 2});
  auto* a = s.add_attributes();
  a->set_key("count");
  a->mutable_value()->set_int_value(3);
  const std::string bytes = s.SerializeAsString();
  std::vector<columnar::SpanPayloadRefs> refs(1);
  refs[0].large.emplace_back(0, columnar::RefList{columnar::kRefWhole, {(*b)->AddPayloadPiece(std::string(200, 'v'))}});
  Status st = (*b)->AddTrace(TraceKey::FromBytes(TraceId(1)), {bytes}, {}, 1000, 2000, &refs);
  EXPECT_EQ(st.code(), StatusCode::kInternal) << st.ToString();
  // Given to the string attribute it names, the value is stored.
  model::Span t = MakeSpan({.trace = 2, .span = 2});
  a = t.add_attributes();
  a->set_key("note");
  a->mutable_value()->set_string_value("");
  const std::string bytes2 = t.SerializeAsString();
  refs.assign(1, columnar::SpanPayloadRefs());
  refs[0].large.emplace_back(0, columnar::RefList{columnar::kRefWhole, {0}});
  ASSERT_TRUE((*b)->AddTrace(TraceKey::FromBytes(TraceId(2)), {bytes2}, {}, 1000, 2000, &refs).ok());
  ASSERT_TRUE((*b)->Finish().ok());
  auto r = columnar::ColumnarReader::Open(&env, "/seg/" + segment::SegmentFileName(1),
                                          [](const columnar::TraceEntry&) { return Status::OK(); });
  ASSERT_TRUE(r.ok());
  std::vector<std::string> spans;
  ASSERT_TRUE((*r)->ReadTrace(0, 1, &spans).ok());
  ASSERT_EQ(spans.size(), 1u);
  model::Span got;
  ASSERT_TRUE(got.ParseFromString(spans[0]));
  ASSERT_EQ(got.attributes_size(), 1);
  EXPECT_EQ(got.attributes(0).value().string_value(), std::string(200, 'v'));
}

}  // namespace
}  // namespace sightline::store::compaction
