// compaction::Merge carrying payloads by reference (MergeHooks::by_reference): the
// output reads exactly as a merge that puts every value together and splits it again,
// a message re-sent across input files is still stored once, a dropped trace's pieces
// are not copied, and a damaged payload frame fails the merge naming its file.
#include "store/compaction/compaction.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "common/mem_env.h"
#include "store/columnar/columnar_builder.h"
#include "store/columnar/columnar_reader.h"
#include "store/columnar/columnar_test_util.h"
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

// Writes the traces (serialized spans by trace) as /seg's input file `number`, as a
// flush writes one (the flush's zstd level), and opens it; null (and a failure) when
// that does not work.
std::shared_ptr<SegmentFile> WriteInput(MemEnv* env, uint64_t number,
                                        const std::map<TraceKey, std::vector<std::string>>& traces, int64_t start_ns,
                                        int64_t end_ns) {
  const std::string name = segment::SegmentFileName(number);
  auto b = columnar::ColumnarBuilder::Create(env, "/seg", name, columnar::kFlushZstdLevel);
  EXPECT_TRUE(b.ok());
  if (!b.ok()) return nullptr;
  for (const auto& [k, spans] : traces) {
    std::vector<std::string_view> views(spans.begin(), spans.end());
    Status s = (*b)->AddTrace(k, views, {}, start_ns, end_ns);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  Status fin = (*b)->Finish();
  EXPECT_TRUE(fin.ok()) << fin.ToString();
  auto file = OpenSegmentFile(env, "/seg/" + name, number, [](const SegmentTraceEntry&) { return Status::OK(); });
  EXPECT_TRUE(file.ok()) << file.status().ToString();
  return file.ok() ? std::move(file).value() : nullptr;
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
      inputs_.push_back(WriteInput(&env_, f + 1, traces, 1000, 3000));
      ASSERT_NE(inputs_.back(), nullptr);
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

// Spans of every shape for MergeByRows: trace t, span k of input file f.
model::Span Shaped(uint64_t t, uint64_t k, uint64_t f) {
  using columnar::testing::AddAttr;
  const int64_t start = 5000 + static_cast<int64_t>(100 * f + k);
  model::Span s = columnar::testing::FullSpan(t, 10 * f + k + 2, 1, start, static_cast<int>(t + k + f));
  auto* a = s.mutable_attributes();
  switch ((t + k) % 6) {
    case 0:  // the sampling flag, as a bool; an attribute equal to its column (stored by reference)
      AddAttr(a, "sightline.keep")->mutable_value()->set_bool_value(t % 2 == 0);  // odd traces: not flagged
      AddAttr(a, "gen_ai.request.model")->mutable_value()->set_string_value(s.model());
      AddAttr(a, "gen_ai.usage.input_tokens")->mutable_value()->set_int_value(s.input_tokens());
      break;
    case 1:  // an evaluation result as attributes, and a NaN (kept as a raw value)
      AddAttr(a, "gen_ai.evaluation.name")->mutable_value()->set_string_value("faithfulness");
      AddAttr(a, "gen_ai.evaluation.score.value")->mutable_value()->set_int_value(-3);
      AddAttr(a, "nan")->mutable_value()->set_double_value(std::nan(""));
      break;
    case 2: {  // an evaluation result as an event
      auto* ev = s.add_events();
      ev->set_name(std::string(kEvaluationEventName));
      AddAttr(ev->mutable_attributes(), "gen_ai.evaluation.score.value")->mutable_value()->set_double_value(0.25);
      AddAttr(ev->mutable_attributes(), "error.type")->mutable_value()->set_string_value("timeout");
      break;
    }
    case 3:  // an evaluator that failed; the flag as a string; a kind no enum names (kept in rest)
      s.set_kind(model::v1::KIND_EVALUATOR);
      s.set_status(model::v1::STATUS_ERROR);
      AddAttr(a, "sightline.keep")->mutable_value()->set_string_value(t % 2 == 0 ? "true" : "false");
      AddAttr(a, "error.type");  // no value
      break;
    case 4:
      s.set_kind(static_cast<model::SpanKind>(300));
      AddAttr(a, "sightline.keep")->mutable_value()->set_string_value("no");
      break;
    default:  // no attributes at all, no scope, no rest
      s.clear_attributes();
      s.clear_resource();
      s.clear_scope_name();
      s.clear_scope_version();
      s.clear_scope_attributes();
      s.clear_events();
      s.clear_links();
      break;
  }
  return s;
}

// Compaction's rows (MergeHooks::by_rows: spans read as the builder's rows and written
// as they are) write the very file that merging the same spans as messages writes, byte
// for byte: every column, attribute type, reference to a column, large value, scope and
// rest, and the trace aggregates, whose sampling flags and evaluation results the rows'
// metas are read from. A span re-sent in a later file is kept once, the newest copy,
// and its dropped copy's counts are reported the same way.
TEST(MergeByRows, WritesTheSameFileAsMergingMessages) {
  MemEnv env;
  ASSERT_TRUE(env.CreateDir("/seg").ok());
  std::vector<std::shared_ptr<SegmentFile>> inputs;
  for (uint64_t f = 0; f < 3; ++f) {
    std::map<TraceKey, std::vector<std::string>> traces;
    for (uint64_t t = 1; t <= 7; ++t) {
      auto& v = traces[TraceKey::FromBytes(TraceId(t))];
      if (f == 0) v.push_back(MakeSpan({.trace = t, .span = 1, .name = "agent"}).SerializeAsString());
      for (uint64_t k = 0; k < 4; ++k) v.push_back(Shaped(t, k, f).SerializeAsString());
      if (f == 2) {  // file 0's span k = 1 of the trace again, changed
        model::Span again = Shaped(t, 1, 0);
        again.set_output_tokens(777);
        again.set_output_json("\"re-sent\"");
        v.push_back(again.SerializeAsString());
      }
    }
    inputs.push_back(WriteInput(&env, f + 1, traces, 1000, 9000));
    ASSERT_NE(inputs.back(), nullptr);
  }
  uint64_t next = 100;
  auto run = [&](bool by_rows) {
    MergeHooks hooks;
    hooks.env = &env;
    hooks.dir = "/seg";
    hooks.new_file_number = [&] { return next++; };
    hooks.by_rows = by_rows;
    return Merge(inputs, hooks);
  };
  auto rows = run(true);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  auto messages = run(false);
  ASSERT_TRUE(messages.ok()) << messages.status().ToString();
  ASSERT_EQ(rows->outputs.size(), 1u);
  ASSERT_EQ(messages->outputs.size(), 1u);
  EXPECT_EQ(rows->spans_out, 7u * (1 + 12));
  EXPECT_EQ(rows->duplicates, 7u);
  EXPECT_EQ(messages->spans_out, rows->spans_out);
  EXPECT_EQ(messages->duplicates, rows->duplicates);
  auto a = ReadFileToString(&env, "/seg/" + segment::SegmentFileName(rows->outputs[0].meta.number));
  auto b = ReadFileToString(&env, "/seg/" + segment::SegmentFileName(messages->outputs[0].meta.number));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->size(), b->size());
  EXPECT_TRUE(*a == *b) << "the two merges wrote different files";
  ASSERT_EQ(rows->traces.size(), messages->traces.size());
  for (size_t i = 0; i < rows->traces.size(); ++i) {
    const TraceOutcome &x = rows->traces[i], &y = messages->traces[i];
    EXPECT_EQ(x.id, y.id);
    EXPECT_EQ(x.loc.offset, y.loc.offset);
    EXPECT_EQ(x.loc.length, y.loc.length);
    ASSERT_EQ(x.removed.size(), 1u);
    ASSERT_EQ(y.removed.size(), 1u);
    EXPECT_EQ(x.removed[0].kind, y.removed[0].kind);
    EXPECT_EQ(x.removed[0].output_tokens, y.removed[0].output_tokens);
    EXPECT_EQ(x.removed[0].cost_usd, y.removed[0].cost_usd);
  }
  // The aggregates carry what the metas found (so the comparison above covers them).
  StringPool pool;
  int flagged = 0, failed = 0, scored = 0;
  ASSERT_TRUE(rows->outputs[0].file->ListTraces([&](const SegmentTraceEntry& e) {
    TraceAgg agg;
    if (!TraceAgg::Decode(e.agg, &pool, &agg)) return Status::Corruption("aggregate");
    flagged += agg.flagged;
    failed += agg.eval_failed;
    scored += agg.has_score();
    return Status::OK();
  }).ok());
  EXPECT_GT(flagged, 0);
  EXPECT_LT(flagged, 7);
  EXPECT_GT(failed, 0);
  EXPECT_GT(scored, 0);
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
