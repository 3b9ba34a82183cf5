// Columnar segment (format v2): round trip, payload deduplication, scans with
// projections and block filters, bloom filters, builder contract.
#include <gtest/gtest.h>

#include <random>
#include <tuple>

#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <set>

#include "common/hex.h"
#include "common/mem_env.h"
#include "store/coding.h"
#include "store/span_codec.h"
#include "store/columnar/block_codec.h"
#include "store/columnar/columnar_test_util.h"
#include "store/shared_payload.h"
#include "store/columnar/payload_codec.h"

namespace sightline::store::columnar {
namespace {

using namespace testing;  // NOLINT: the columnar test helpers

const std::string kDir = "/seg";

std::shared_ptr<ColumnarReader> OpenOrDie(Env* env, const std::string& path, std::vector<TraceEntry>* entries = nullptr,
                                          std::vector<std::string>* aggs = nullptr) {
  auto r = ColumnarReader::Open(env, path, [&](const TraceEntry& e) {
    if (entries) entries->push_back(e);
    if (aggs) aggs->push_back(std::string(e.agg));
    return Status::OK();
  });
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : nullptr;
}

// Writes one trace's serialized spans (AddTrace) as a segment file and reads the trace
// back into *got.
::testing::AssertionResult AddTraceAndReadBack(MemEnv* env, const TraceKey& id,
                                               const std::vector<std::string_view>& spans, int64_t start,
                                               int64_t end, std::vector<std::string>* got) {
  auto b = ColumnarBuilder::Create(env, kDir, "000001.slseg");
  if (!b.ok()) return ::testing::AssertionFailure() << b.status().ToString();
  if (Status s = (*b)->AddTrace(id, spans, "", start, end); !s.ok())
    return ::testing::AssertionFailure() << "add: " << s.ToString();
  if (Status s = (*b)->Finish(); !s.ok()) return ::testing::AssertionFailure() << "finish: " << s.ToString();
  std::vector<TraceEntry> entries;
  auto r = OpenOrDie(env, kDir + "/000001.slseg", &entries);
  if (!r || entries.size() != 1) return ::testing::AssertionFailure() << "open";
  if (Status s = r->ReadTrace(entries[0].first_row, entries[0].row_count, got); !s.ok())
    return ::testing::AssertionFailure() << "read: " << s.ToString();
  return ::testing::AssertionSuccess();
}

// Writes m as one segment file and reads each trace back: it must be the spans written.
// *blocks: the file's block count.
::testing::AssertionResult WritesAndReadsBack(MemEnv* env, const TraceMap& m, uint32_t* blocks = nullptr) {
  std::vector<WrittenTrace> written;
  if (Status s = WriteSegment(env, kDir, "000001.slseg", m, &written); !s.ok())
    return ::testing::AssertionFailure() << "write: " << s.ToString();
  std::vector<TraceEntry> entries;
  auto r = OpenOrDie(env, kDir + "/000001.slseg", &entries);
  if (!r) return ::testing::AssertionFailure() << "open";
  if (blocks != nullptr) *blocks = r->block_count();
  size_t i = 0;
  for (const auto& [id, spans] : m) {
    std::vector<std::string> got;
    if (Status s = r->ReadTrace(entries[i].first_row, entries[i].row_count, &got); !s.ok())
      return ::testing::AssertionFailure() << "trace " << i << ": " << s.ToString();
    if (auto same = SameSpans(spans, got); !same) return same << " (trace " << i << ")";
    ++i;
  }
  return ::testing::AssertionSuccess();
}

TEST(ColumnarSegment, RoundTripsEveryField) {
  MemEnv env;
  TraceMap m;
  for (int t = 0; t < 5; ++t)
    for (int k = 0; k < 4; ++k)
      AddToMap(&m, FullSpan(100 + static_cast<uint64_t>(t), 10 * t + k + 1, k ? 10 * t + 1 : 0,
                            1'700'000'000'000'000'000 + k * 1000 - (k == 3 ? 5000 : 0), t * 4 + k));
  // Extremes: times at the int64 limits, a span with nothing but ids.
  model::Span odd = store::testing::MakeSpan({999, 1, 0, "", model::v1::KIND_OTHER, model::v1::STATUS_UNSET,
                                              INT64_MIN, INT64_MAX});
  odd.clear_project();
  AddToMap(&m, odd);
  model::Span odd2 = odd;
  odd2.set_span_id(store::testing::SpanId(2));
  odd2.set_start_ns(INT64_MAX);
  odd2.set_end_ns(INT64_MIN);
  odd2.set_parent_span_id(std::string(8, '\0'));  // an all-zero parent is still a parent
  AddToMap(&m, odd2);
  std::vector<WrittenTrace> written;
  ASSERT_TRUE(WriteSegment(&env, kDir, "000001.slseg", m, &written).ok());
  ASSERT_FALSE(env.FileExists(kDir + "/000001.slseg.tmp"));
  std::vector<TraceEntry> entries;
  std::vector<std::string> aggs;
  auto r = OpenOrDie(&env, kDir + "/000001.slseg", &entries, &aggs);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->format_version(), 2u);
  EXPECT_EQ(r->trace_count(), m.size());
  EXPECT_EQ(r->span_count(), CountSpans(m));
  EXPECT_EQ(r->min_start_ns(), INT64_MIN);
  EXPECT_EQ(r->max_end_ns(), INT64_MAX);
  ASSERT_EQ(entries.size(), m.size());
  ASSERT_EQ(written.size(), m.size());
  size_t i = 0;
  for (const auto& [id, spans] : m) {
    EXPECT_EQ(entries[i].id, TraceKey::FromBytes(id));
    EXPECT_EQ(entries[i].first_row, written[i].first_row);
    EXPECT_EQ(entries[i].row_count, written[i].row_count);
    EXPECT_EQ(aggs[i], "agg:" + id.substr(15));
    std::vector<std::string> got;
    ASSERT_TRUE(r->ReadTrace(entries[i].first_row, entries[i].row_count, &got).ok());
    EXPECT_TRUE(SameSpans(spans, got)) << "trace " << i;
    ++i;
  }
  std::vector<std::string> none;
  EXPECT_EQ(r->ReadTrace(0, static_cast<uint32_t>(r->span_count()) + 1, &none).code(), StatusCode::kInvalidArgument);
}

// The builder parses into and splits into recycled messages and rows (across traces and
// blocks): a bare span that follows a full one must come back bare.
TEST(ColumnarSegment, RecycledRowsCarryNothingOver) {
  MemEnv env;
  TraceMap m;
  for (int t = 0; t < 3000; ++t)
    for (int k = 0; k < 2; ++k) {
      const uint64_t trace = 1000 + static_cast<uint64_t>(t), span = 2 * t + k + 1;
      if (t % 2 == 0) {
        AddToMap(&m, FullSpan(trace, span, k ? span - 1 : 0, 1'700'000'000'000'000'000 + t, t + k));
      } else {
        model::Span bare = store::testing::MakeSpan({trace, span, 0, "", model::v1::KIND_OTHER,
                                                     model::v1::STATUS_UNSET, t, t + 1});
        bare.clear_project();
        AddToMap(&m, bare);
      }
    }
  uint32_t blocks = 0;
  EXPECT_TRUE(WritesAndReadsBack(&env, m, &blocks));
  EXPECT_GT(blocks, 1u);
}

// The string, byte, integer and double columns are encoded in one pass over a block's
// rows: a column empty in its first rows and set later, one set and then empty, one
// empty in every row, and values set in every other row all come back exactly.
TEST(ColumnarSegment, SparseColumnsComeBackExactly) {
  MemEnv env;
  TraceMap m;
  for (int t = 0; t < 2500; ++t) {
    const uint64_t trace = 5000 + static_cast<uint64_t>(t);
    model::Span s = FullSpan(trace, 2 * static_cast<uint64_t>(t) + 1, 0, 1'700'000'000'000'000'000 + t, t);
    if (t < 700) {  // empty in the first rows of the first block, set later
      s.clear_tool_name();
      s.clear_session_id();
      s.clear_input_tokens();
      s.clear_cost_usd();
    }
    if (t >= 1200) {  // set, then empty
      s.clear_user_id();
      s.clear_reasoning_tokens();
      s.clear_reported_cost_usd();
    }
    if (t % 2 == 1) {  // every other row
      s.clear_model();
      s.clear_step();
      s.clear_computed_cost_usd();
      s.set_status(model::v1::STATUS_UNSET);
    }
    if (t % 3 == 0) s.set_computed_cost_usd(s.cost_usd());  // by reference to cost_usd where it is set
    s.clear_prompt_version();  // empty everywhere
    AddToMap(&m, s);
  }
  EXPECT_TRUE(WritesAndReadsBack(&env, m));
}

// Attribute values of every scalar type come back with the bytes they were sent with,
// extremes included: the text column holds bools, ints, doubles and bytes as text, and
// only a value whose text would not read back exactly (a NaN with a payload) is kept raw.
TEST(ColumnarSegment, AttributeValuesOfEveryTypeComeBackExactly) {
  MemEnv env;
  TraceMap m;
  model::Span s = store::testing::MakeSpan({77, 1, 0, "typed", model::v1::KIND_TOOL, model::v1::STATUS_OK, 1, 2});
  auto* attrs = s.mutable_attributes();
  AddAttr(attrs, "b.false")->mutable_value()->set_bool_value(false);
  AddAttr(attrs, "b.true")->mutable_value()->set_bool_value(true);
  for (int64_t v : {int64_t{0}, int64_t{-1}, INT64_MIN, INT64_MAX})
    AddAttr(attrs, "i." + std::to_string(v))->mutable_value()->set_int_value(v);
  uint64_t nan_payload_bits = 0x7ff8000000000123ull, neg_nan_bits = 0xfff8000000000000ull;
  double nan_payload, neg_nan;
  std::memcpy(&nan_payload, &nan_payload_bits, 8);
  std::memcpy(&neg_nan, &neg_nan_bits, 8);
  const double doubles[] = {0.0, -0.0, 0.1, 1e308, 5e-324, -2.5, std::numeric_limits<double>::infinity(),
                            -std::numeric_limits<double>::infinity(), std::numeric_limits<double>::quiet_NaN(),
                            nan_payload, neg_nan};
  for (size_t i = 0; i < std::size(doubles); ++i)
    AddAttr(attrs, "d." + std::to_string(i))->mutable_value()->set_double_value(doubles[i]);
  AddAttr(attrs, "x.empty")->mutable_value()->set_bytes_value("");
  AddAttr(attrs, "x.bin")->mutable_value()->set_bytes_value(std::string("\0\xff\x10", 3));
  AddAttr(attrs, "s.empty")->mutable_value()->set_string_value("");
  AddAttr(attrs, "unset")->mutable_value();
  AddAttr(attrs, "novalue");
  AddToMap(&m, s);
  ASSERT_TRUE(WriteSegment(&env, kDir, "000001.slseg", m).ok());
  std::vector<TraceEntry> entries;
  auto r = OpenOrDie(&env, kDir + "/000001.slseg", &entries);
  ASSERT_TRUE(r);
  std::vector<std::string> got;
  ASSERT_TRUE(r->ReadTrace(entries[0].first_row, entries[0].row_count, &got).ok());
  ASSERT_EQ(got.size(), 1u);
  model::Span back;
  ASSERT_TRUE(back.ParseFromString(got[0]));
  ASSERT_EQ(back.attributes_size(), s.attributes_size());
  for (int i = 0; i < s.attributes_size(); ++i) {
    EXPECT_EQ(back.attributes(i).key(), s.attributes(i).key());
    EXPECT_EQ(back.attributes(i).SerializeAsString(), s.attributes(i).SerializeAsString()) << s.attributes(i).key();
  }
}

// Which form block 0 holds received_ns and computed_cost_usd in (each in exactly one).
void ExpectForms(const ColumnarReader& r, bool received_run, bool computed_ref) {
  ColumnarReader::BlockView v;
  ASSERT_TRUE(r.LoadBlockColumns(0, {kColReceived, kColComputedCostUsd, kColReceivedRun, kColComputedCostRef}, &v).ok());
  EXPECT_EQ(v.col(kColReceived).empty(), received_run);
  EXPECT_EQ(v.col(kColReceivedRun).empty(), !received_run);
  EXPECT_EQ(v.col(kColComputedCostUsd).empty(), computed_ref);
  EXPECT_EQ(v.col(kColComputedCostRef).empty(), !computed_ref);
}

// Receive times shared by a request's spans go in the running form (kColReceivedRun),
// and computed costs equal to the span's cost by reference (kColComputedCostRef); every
// value comes back bit for bit, the cases the reference cannot hold included.
TEST(ColumnarSegment, ReceiveTimesAndComputedCostsByReferenceComeBackExactly) {
  MemEnv env;
  TraceMap m;
  uint64_t nan_bits = 0x7ff8000000000abcull;
  double nan_payload;
  std::memcpy(&nan_payload, &nan_bits, 8);
  // (cost_usd, computed_cost_usd), absent as nullopt.
  const std::pair<std::optional<double>, std::optional<double>> costs[] = {
      {0.25, 0.25},      {1e-9, 1e-9},   {0.0, -0.0},        {-0.0, -0.0},          {std::nullopt, 0.5},
      {0.75, std::nullopt}, {0.5, 0.125}, {nan_payload, nan_payload}, {std::nullopt, std::nullopt}, {3.0, 3.0}};
  std::vector<model::Span> all;
  for (uint64_t t = 0; t < 4; ++t) {
    const int64_t request_received = 1'767'225'600'000'000'000 + static_cast<int64_t>(t / 2) * 1'000'000'000;
    for (uint64_t k = 0; k < std::size(costs); ++k) {
      model::Span s = store::testing::MakeSpan({900 + t, 10 * t + k + 1, k ? 10 * t + 1 : 0, "step", model::v1::KIND_LLM,
                                                model::v1::STATUS_OK, 1'767'225'500'000'000'000 + static_cast<int64_t>(k) * 7'000,
                                                1'767'225'500'000'000'000 + static_cast<int64_t>(k) * 9'000 + 123});
      s.set_received_ns(request_received);  // two requests, two traces each
      if (costs[k].first) s.set_cost_usd(*costs[k].first);
      if (costs[k].second) s.set_computed_cost_usd(*costs[k].second);
      s.set_cost_source(model::v1::COST_COMPUTED);
      AddToMap(&m, s);
      all.push_back(s);
    }
  }
  ASSERT_TRUE(WriteSegment(&env, kDir, "000001.slseg", m).ok());
  std::vector<TraceEntry> entries;
  auto r = OpenOrDie(&env, kDir + "/000001.slseg", &entries);
  ASSERT_TRUE(r);
  ExpectForms(*r, /*received_run=*/true, /*computed_ref=*/true);
  std::map<std::string, std::string> want;  // span id -> serialized span
  for (const auto& s : all) want[s.span_id()] = s.SerializeAsString();
  size_t seen = 0;
  for (const auto& e : entries) {
    std::vector<std::string> got;
    ASSERT_TRUE(r->ReadTrace(e.first_row, e.row_count, &got).ok());
    for (const auto& g : got) {
      model::Span back;
      ASSERT_TRUE(back.ParseFromString(g));
      EXPECT_EQ(back.SerializeAsString(), want[back.span_id()]) << back.DebugString();
      ++seen;
    }
  }
  EXPECT_EQ(seen, all.size());

  // Spans received one by one, right after they end, keep the offset form; spans with no
  // computed cost equal to their cost keep the plain one.
  MemEnv env2;
  TraceMap m2;
  for (uint64_t k = 0; k < 20; ++k) {
    model::Span s = store::testing::MakeSpan({1000, k + 1, k ? uint64_t{1} : uint64_t{0}, "streamed", model::v1::KIND_TOOL, model::v1::STATUS_OK,
                                              1'767'225'500'000'000'000 + static_cast<int64_t>(k) * 40'000'000'000,
                                              1'767'225'500'000'000'000 + static_cast<int64_t>(k) * 40'000'000'000 + 5'000});
    s.set_received_ns(s.end_ns() + 700 + static_cast<int64_t>(k));
    s.set_cost_usd(0.5);
    s.set_computed_cost_usd(0.25);
    AddToMap(&m2, s);
  }
  ASSERT_TRUE(WriteSegment(&env2, kDir, "000001.slseg", m2).ok());
  std::vector<TraceEntry> entries2;
  auto r2 = OpenOrDie(&env2, kDir + "/000001.slseg", &entries2);
  ASSERT_TRUE(r2);
  ExpectForms(*r2, /*received_run=*/false, /*computed_ref=*/false);
  std::vector<std::string> got2;
  ASSERT_TRUE(r2->ReadTrace(entries2[0].first_row, entries2[0].row_count, &got2).ok());
  EXPECT_TRUE(SameSpans(m2.begin()->second, got2));
}

// A span whose attributes SplitWire leaves to the parser (here a KeyValue naming its key
// twice: protobuf keeps the last) is stored as parsing reads it, beside walked spans.
TEST(ColumnarSegment, AttributesTheWalkRefusesAreStoredAsParsed) {
  MemEnv env;
  ASSERT_TRUE(env.CreateDir(kDir).ok());
  model::Span walked = store::testing::MakeSpan({5, 1, 0, "walked", model::v1::KIND_TOOL, model::v1::STATUS_OK, 1, 2});
  AddAttr(walked.mutable_attributes(), "k")->mutable_value()->set_int_value(7);
  model::Span odd = store::testing::MakeSpan({5, 2, 1, "parsed", model::v1::KIND_TOOL, model::v1::STATUS_OK, 3, 4});
  std::string odd_bytes = odd.SerializeAsString();
  const std::string kv("\x0a\x05" "first\x0a\x04" "last\x12\x03\x0a\x01v", 18);
  odd_bytes.append("\xb2\x02", 2);  // attributes (field 38)
  odd_bytes.push_back(static_cast<char>(kv.size()));
  odd_bytes.append(kv);
  const std::string walked_bytes = walked.SerializeAsString();
  std::vector<std::string> got;
  ASSERT_TRUE(
      AddTraceAndReadBack(&env, TraceKey::FromBytes(walked.trace_id()), {walked_bytes, odd_bytes}, 1, 4, &got));
  ASSERT_EQ(got.size(), 2u);
  model::Span a, c;
  ASSERT_TRUE(a.ParseFromString(got[0]));
  ASSERT_TRUE(c.ParseFromString(got[1]));
  ASSERT_EQ(a.attributes_size(), 1);
  EXPECT_EQ(a.attributes(0).key(), "k");
  EXPECT_EQ(a.attributes(0).value().int_value(), 7);
  ASSERT_EQ(c.attributes_size(), 1);
  EXPECT_EQ(c.attributes(0).key(), "last");
  EXPECT_EQ(c.attributes(0).value().string_value(), "v");
}

// Array and key-value-list attributes are walked on the wire down to their scalars:
// nested lists of every type come back exactly, and what the walk refuses (nesting
// deeper than it goes, a field no AnyValue has) takes the parsed path and comes back
// exactly too.
TEST(ColumnarSegment, ListAttributesComeBackExactly) {
  MemEnv env;
  ASSERT_TRUE(env.CreateDir(kDir).ok());
  std::vector<model::Span> spans;
  model::Span s = store::testing::MakeSpan({9, 1, 0, "lists", model::v1::KIND_LLM, model::v1::STATUS_OK, 1, 2});
  auto* reasons =
      AddAttr(s.mutable_attributes(), "gen_ai.response.finish_reasons")->mutable_value()->mutable_array_value();
  reasons->add_values()->set_string_value("stop");
  reasons->add_values()->set_string_value("tool_calls");
  auto* mixed = AddAttr(s.mutable_attributes(), "mixed")->mutable_value()->mutable_array_value();
  mixed->add_values()->set_int_value(-3);
  mixed->add_values()->set_double_value(0.25);
  mixed->add_values()->set_bool_value(true);
  mixed->add_values()->set_bytes_value(std::string("\x00\xff", 2));
  mixed->add_values();  // unset
  auto* inner = mixed->add_values()->mutable_kvlist_value();
  auto* kv = inner->add_values();
  kv->set_key("nested");
  kv->mutable_value()->mutable_array_value()->add_values()->set_string_value("deep");
  inner->add_values()->set_key("no value");
  AddAttr(s.mutable_attributes(), "empty list")->mutable_value()->mutable_array_value();
  AddAttr(s.mutable_attributes(), "plain")->mutable_value()->set_string_value("after the lists");
  spans.push_back(s);
  // Nested 40 deep: past the walk's depth, so the span is parsed instead.
  model::Span deep = store::testing::MakeSpan({9, 2, 1, "deep", model::v1::KIND_TOOL, model::v1::STATUS_OK, 3, 4});
  opentelemetry::proto::common::v1::AnyValue* v = AddAttr(deep.mutable_attributes(), "deep")->mutable_value();
  for (int d = 0; d < 40; ++d) v = v->mutable_array_value()->add_values();
  v->set_string_value("bottom");
  spans.push_back(deep);
  std::vector<std::string> bytes;
  for (const auto& sp : spans) bytes.push_back(sp.SerializeAsString());
  // A field no ArrayValue has (number 2) inside a list: refused by the walk, kept by the parse.
  model::Span odd = store::testing::MakeSpan({9, 3, 1, "odd", model::v1::KIND_TOOL, model::v1::STATUS_OK, 5, 6});
  std::string odd_bytes = odd.SerializeAsString();
  const std::string list("\x0a\x03\x0a\x01x" "\x10\x01", 7);      // ArrayValue: values {string "x"}, field 2 = 1
  std::string any("\x2a", 1);                                     // AnyValue.array_value (field 5)
  any.push_back(static_cast<char>(list.size()));
  any.append(list);
  std::string key_value("\x0a\x03odd\x12", 6);                    // KeyValue: key "odd", value
  key_value.push_back(static_cast<char>(any.size()));
  key_value.append(any);
  odd_bytes.append("\xb2\x02", 2);  // attributes (field 38)
  odd_bytes.push_back(static_cast<char>(key_value.size()));
  odd_bytes.append(key_value);
  model::Span odd_parsed;
  ASSERT_TRUE(odd_parsed.ParseFromString(odd_bytes));
  spans.push_back(odd_parsed);
  bytes.push_back(odd_bytes);
  // The lists of the first span are walked; the other two are parsed.
  WireParts wire;
  EXPECT_TRUE(SplitWire(bytes[0], &wire));
  ASSERT_EQ(wire.attrs.size(), 4u);
  EXPECT_EQ(wire.attrs[0].type, kAttrRaw);
  EXPECT_EQ(wire.attrs[3].type, kAttrString);
  EXPECT_FALSE(SplitWire(bytes[1], &wire));
  EXPECT_FALSE(SplitWire(bytes[2], &wire));
  std::vector<std::string> got;
  ASSERT_TRUE(AddTraceAndReadBack(&env, TraceKey::FromBytes(s.trace_id()),
                                  std::vector<std::string_view>(bytes.begin(), bytes.end()), 1, 6, &got));
  EXPECT_TRUE(SameSpans(spans, got));
}

// Compaction hands the builder the spans it parsed (AddParsedTrace) instead of
// serialized ones: the file must be byte for byte the one AddTrace writes, for spans of
// every shape (every field and attribute type, events, links, scope, payloads split
// into pieces, a history re-sent as an attribute, an attribute the wire walk refuses,
// unknown fields, enum values no byte column holds, lean traces), and the trace's spans are taken.
TEST(ColumnarSegment, ParsedSpansWriteTheFileSerializedSpansWrite) {
  TraceMap traces = PayloadSession(7, 12, 1'000'000);
  for (const auto& [id, spans] : LeanTraces(40, 5'000'000)) traces[id] = spans;
  for (int n = 0; n < 6; ++n) AddToMap(&traces, FullSpan(900 + n % 2, 10 + n, n == 0 ? 0 : 10, 2000 + n, n));
  model::Span odd = store::testing::MakeSpan({950, 1, 0, "odd", model::v1::KIND_TOOL, model::v1::STATUS_OK, 3, 4});
  // An attribute the wire walk refuses (a KeyValue with an unknown field), an unknown
  // field of the span itself.
  auto* kv = AddAttr(odd.mutable_attributes(), "walk.refuses");
  kv->mutable_value()->set_string_value("v");
  kv->GetReflection()->MutableUnknownFields(kv)->AddVarint(77, 1);
  odd.GetReflection()->MutableUnknownFields(&odd)->AddVarint(9999, 5);
  AddToMap(&traces, odd);
  // Enum values no byte column holds (they stay in rest).
  model::Span enums = FullSpan(951, 1, 0, 5, 2);
  enums.set_kind(static_cast<model::SpanKind>(300));
  enums.set_cost_source(static_cast<model::CostSource>(-7));
  AddToMap(&traces, enums);
  MemEnv env;
  ASSERT_TRUE(WriteSegment(&env, kDir, "000001.slseg", traces).ok());
  ASSERT_TRUE(WriteSegment(&env, kDir, "000002.slseg", traces, nullptr, /*parsed=*/true).ok());
  auto serialized = ReadFileToString(&env, kDir + "/000001.slseg");
  auto parsed = ReadFileToString(&env, kDir + "/000002.slseg");
  ASSERT_TRUE(serialized.ok() && parsed.ok());
  EXPECT_GT(serialized->size(), 10000u);
  EXPECT_TRUE(*serialized == *parsed) << serialized->size() << " vs " << parsed->size() << " bytes";

  // The builder takes the spans it is given (swapped out for its spare messages).
  auto b = ColumnarBuilder::Create(&env, kDir, "000003.slseg");
  ASSERT_TRUE(b.ok());
  std::vector<model::Span> given = {FullSpan(1, 1, 0, 10, 1), FullSpan(1, 2, 1, 20, 2)};
  ASSERT_TRUE((*b)->AddParsedTrace(TraceKey::FromBytes(given[0].trace_id()), given.data(), 2, "", 10, 3000).ok());
  for (const model::Span& g : given) EXPECT_TRUE(g.span_id().empty());
  // Ids the format cannot hold are refused as AddTrace refuses them.
  std::vector<model::Span> bad = {FullSpan(2, 1, 0, 10, 1)};
  bad[0].set_span_id("short");
  EXPECT_EQ((*b)->AddParsedTrace(TraceKey::FromBytes(bad[0].trace_id()), bad.data(), 1, "", 10, 3000).code(),
            StatusCode::kInvalidArgument);
}

// SplitWire takes the scope fields and payloads from a serialized span without parsing
// them: the parts must put the span back together, and the scope bytes must be what
// serializing those fields alone gives. Cut or damaged bytes never read out of bounds.
TEST(ColumnarSegment, SplitWireTakesScopeAndPayloadsFromTheBytes) {
  for (int n = 0; n < 6; ++n) {
    model::Span full = FullSpan(7, 3, 1, 1'700'000'000'000'000'000, n);
    if (n == 1) full.clear_resource();
    if (n == 2) full.clear_input_json();
    if (n == 3) full.set_output_json(std::string(1 << 17, 'x'));
    if (n == 4) full.set_kind(static_cast<model::SpanKind>(300));  // no byte column holds it
    if (n == 5) full.set_status(static_cast<model::SpanStatus>(-1));
    const std::string bytes = full.SerializeAsString();
    WireParts w;
    ASSERT_TRUE(SplitWire(bytes, &w)) << n;
    model::Span others, scope, want_scope;
    ASSERT_TRUE(others.ParseFromString(w.rest));
    // The rest holds no column field: they are in cols, as parsing gives them.
    model::Span want_cols = full;
    want_cols.clear_resource();
    want_cols.clear_scope_name();
    want_cols.clear_scope_version();
    want_cols.clear_scope_attributes();
    want_cols.clear_attributes();
    want_cols.clear_input_json();
    want_cols.clear_output_json();
    want_cols.clear_events();
    want_cols.clear_links();
    want_cols.clear_trace_state();
    want_cols.clear_dropped_attributes_count();
    want_cols.clear_dropped_events_count();
    want_cols.clear_dropped_links_count();
    if (n == 4) want_cols.clear_kind();
    if (n == 5) want_cols.clear_status();
    EXPECT_EQ(w.cols.SerializeAsString(), want_cols.SerializeAsString()) << n;
    EXPECT_TRUE(others.span_id().empty() && others.name().empty() && others.start_ns() == 0 &&
                !others.has_input_tokens() && !others.has_cost_usd())
        << n;
    EXPECT_EQ(others.kind(), n == 4 ? full.kind() : model::SpanKind{}) << n;
    EXPECT_EQ(others.status(), n == 5 ? full.status() : model::SpanStatus{}) << n;
    EXPECT_EQ(others.resource_size(), 0);
    EXPECT_EQ(others.scope_attributes_size(), 0);
    EXPECT_TRUE(others.scope_name().empty());
    EXPECT_TRUE(others.input_json().empty() && others.output_json().empty());
    *want_scope.mutable_resource() = full.resource();
    want_scope.set_scope_name(full.scope_name());
    want_scope.set_scope_version(full.scope_version());
    *want_scope.mutable_scope_attributes() = full.scope_attributes();
    EXPECT_EQ(w.scope, want_scope.SerializeAsString()) << n;
    EXPECT_EQ(w.input, full.input_json());
    EXPECT_EQ(w.output, full.output_json());
    // The attributes are walked down to their values: each as parsing gives it.
    EXPECT_EQ(others.attributes_size(), 0);
    ASSERT_EQ(w.attrs.size(), static_cast<size_t>(full.attributes_size())) << n;
    for (int i = 0; i < full.attributes_size(); ++i) {
      const auto& kv = full.attributes(i);
      const WireAttr& a = w.attrs[static_cast<size_t>(i)];
      EXPECT_EQ(a.key, kv.key());
      const auto& v = kv.value();
      switch (v.value_case()) {
        case opentelemetry::proto::common::v1::AnyValue::kStringValue:
          EXPECT_EQ(a.type, kAttrString) << kv.key();
          EXPECT_EQ(a.value, v.string_value());
          break;
        case opentelemetry::proto::common::v1::AnyValue::kBoolValue:
          EXPECT_EQ(a.type, kAttrBool) << kv.key();
          EXPECT_EQ(a.bits, v.bool_value() ? 1u : 0u);
          break;
        case opentelemetry::proto::common::v1::AnyValue::kIntValue:
          EXPECT_EQ(a.type, kAttrInt) << kv.key();
          EXPECT_EQ(static_cast<int64_t>(a.bits), v.int_value());
          break;
        case opentelemetry::proto::common::v1::AnyValue::kDoubleValue: {
          EXPECT_EQ(a.type, kAttrDouble) << kv.key();
          double d = v.double_value();
          uint64_t bits;
          std::memcpy(&bits, &d, 8);
          EXPECT_EQ(a.bits, bits);
          break;
        }
        case opentelemetry::proto::common::v1::AnyValue::kBytesValue:
          EXPECT_EQ(a.type, kAttrBytes) << kv.key();
          EXPECT_EQ(a.value, v.bytes_value());
          break;
        case opentelemetry::proto::common::v1::AnyValue::VALUE_NOT_SET:
          EXPECT_EQ(a.type, kv.has_value() ? kAttrUnset : kAttrNoValue) << kv.key();
          break;
        default:
          EXPECT_EQ(a.type, kAttrRaw) << kv.key();
          EXPECT_EQ(a.value, v.SerializeAsString());
      }
    }
    ASSERT_TRUE(scope.ParseFromString(w.scope));
    others.MergeFrom(scope);
    others.MergeFrom(w.cols);
    *others.mutable_attributes() = full.attributes();
    others.set_input_json(std::string(w.input));
    others.set_output_json(std::string(w.output));
    EXPECT_EQ(others.SerializeAsString(), bytes) << n;
    for (size_t cut = 0; cut < bytes.size(); cut += 7) {
      std::string damaged = bytes.substr(0, cut);
      (void)SplitWire(damaged, &w);
      damaged = bytes;
      damaged[cut] = static_cast<char>(damaged[cut] ^ 0x5b);
      (void)SplitWire(damaged, &w);
    }
  }
  WireParts w;
  EXPECT_FALSE(SplitWire(std::string("\x0b\x0c", 2), &w));  // a group
  EXPECT_FALSE(SplitWire(std::string("\xa2\x02", 2), &w));  // input_json's length missing
  // Column fields in a form Sightline's serializer never writes are left to the parser
  // too: name (field 5) twice, name as a varint, a name that is not UTF-8, a cost as a
  // varint (field 28).
  EXPECT_FALSE(SplitWire(std::string("\x2a\x01" "a" "\x2a\x01" "b", 6), &w));
  EXPECT_FALSE(SplitWire(std::string("\x28\x01", 2), &w));
  EXPECT_FALSE(SplitWire(std::string("\x2a\x01\xff", 3), &w));
  EXPECT_FALSE(SplitWire(std::string("\xe0\x01\x01", 3), &w));
  // Fields past the table and fields no column holds go to rest as they are.
  const std::string tail("\xe8\x02\x05" "\xa8\x06\x01", 6);  // 45 as a varint (unknown form), 101
  ASSERT_TRUE(SplitWire(std::string("\x2a\x01" "n", 3) + tail, &w));
  EXPECT_EQ(w.cols.name(), "n");
  EXPECT_EQ(w.rest, tail);
  // Attributes not in the form Sightline writes them are left to the parser: a key twice,
  // two values in one AnyValue, an unknown field, a key that is not UTF-8.
  for (const std::string& kv : {std::string("\x0a\x01k\x0a\x01k"), std::string("\x0a\x01k\x12\x04\x10\x01\x18\x02"),
                                std::string("\x0a\x01k\x18\x01"), std::string("\x0a\x01\xff")}) {
    model::Span s;
    s.add_attributes()->set_key("k");  // its bytes are replaced below
    std::string bytes = s.SerializeAsString();
    // The span holds only the attribute: its tag (field 38, two bytes), then the new bytes.
    std::string field = bytes.substr(0, 2);
    field.push_back(static_cast<char>(kv.size()));
    field.append(kv);
    EXPECT_FALSE(SplitWire(field, &w)) << HexEncode(kv);
  }
}

// What the wire walk takes unparsed must not let through bytes protobuf refuses: the
// builder refuses a span whose scope does not parse (checked once per distinct scope)
// or whose rest does not, and a length written in more than 5 bytes (protobuf's limit)
// or a payload given twice sends the span to the parser, which refuses it too.
TEST(ColumnarSegment, WalkedSpansAreRefusedWhereProtobufRefusesThem) {
  MemEnv env;
  ASSERT_TRUE(env.CreateDir(kDir).ok());
  const model::Span good = FullSpan(5, 1, 0, 100, 1);
  const TraceKey id = TraceKey::FromBytes(good.trace_id());
  auto add = [&](const std::string& bytes) {
    auto b = ColumnarBuilder::Create(&env, kDir, "000001.slseg");
    EXPECT_TRUE(b.ok());
    const std::string ok_bytes = good.SerializeAsString();
    // A good span first, so the refused one is not the first scope the builder checks.
    EXPECT_TRUE((*b)->AddTrace(id, std::vector<std::string_view>{ok_bytes}, "", 100, 200).ok());
    return (*b)->AddTrace(TraceKey::FromBytes(FullSpan(6, 1, 0, 100, 1).trace_id()),
                          std::vector<std::string_view>{bytes}, "", 100, 200);
  };
  model::Span other = FullSpan(6, 1, 0, 100, 1);
  EXPECT_TRUE(add(other.SerializeAsString()).ok());
  // A resource attribute whose string is not UTF-8.
  model::Span bad_scope = other;
  bad_scope.mutable_resource(0)->mutable_value()->set_string_value("\xff\xfe");
  WireParts w;
  ASSERT_TRUE(SplitWire(bad_scope.SerializeAsString(), &w));
  EXPECT_EQ(add(bad_scope.SerializeAsString()).code(), StatusCode::kInvalidArgument);
  // An event (in the rest) whose name is not UTF-8.
  model::Span bad_rest = other;
  bad_rest.mutable_events(0)->set_name("\xc0");
  ASSERT_TRUE(SplitWire(bad_rest.SerializeAsString(), &w));
  EXPECT_EQ(add(bad_rest.SerializeAsString()).code(), StatusCode::kInvalidArgument);
  // name (field 5) with its length in 6 bytes: 0x81 0x80 0x80 0x80 0x80 0x00 is 1.
  model::Span unnamed = other;
  unnamed.clear_name();
  const std::string long_length = unnamed.SerializeAsString() + std::string("\x2a\x81\x80\x80\x80\x80\x00" "n", 8);
  EXPECT_FALSE(SplitWire(long_length, &w));
  EXPECT_EQ(add(long_length).code(), StatusCode::kInvalidArgument);
  // input_json (field 36) twice, the first copy not UTF-8: protobuf refuses the span,
  // though the copy a walk would keep (the last) is fine.
  model::Span no_input = other;
  no_input.clear_input_json();
  const std::string twice =
      no_input.SerializeAsString() + std::string("\xa2\x02\x01\xff", 4) + std::string("\xa2\x02\x02" "ok", 5);
  EXPECT_FALSE(SplitWire(twice, &w));
  EXPECT_EQ(add(twice).code(), StatusCode::kInvalidArgument);
}

TEST(ColumnarSegment, TracesOfOneBlockShareItsDecodedCopy) {
  MemEnv env;
  TraceMap m;
  for (int t = 0; t < 40; ++t)
    for (int k = 0; k < 3; ++k)
      AddToMap(&m, FullSpan(500 + static_cast<uint64_t>(t), 10 * t + k + 1, k ? 10 * t + 1 : 0,
                            1'700'000'000'000'000'000 + k * 1000, t * 3 + k));
  std::vector<WrittenTrace> written;
  ASSERT_TRUE(WriteSegment(&env, kDir, "000007.slseg", m, &written).ok());
  std::vector<TraceEntry> entries;
  auto r = OpenOrDie(&env, kDir + "/000007.slseg", &entries);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->block_count(), 1u);
  // Cold: every read decodes the block (the cache is off).
  ColumnarReader::SetBlockCacheBytes(0);
  auto before = ColumnarReader::GetBlockCacheStats();
  std::vector<std::vector<std::string>> cold(entries.size());
  for (size_t i = 0; i < entries.size(); ++i)
    ASSERT_TRUE(r->ReadTrace(entries[i].first_row, entries[i].row_count, &cold[i]).ok());
  auto after_cold = ColumnarReader::GetBlockCacheStats();
  EXPECT_EQ(after_cold.misses - before.misses, entries.size());
  EXPECT_EQ(after_cold.hits, before.hits);
  EXPECT_EQ(after_cold.blocks, 0u);
  // Cached: the first read decodes, the other 39 reuse it and read the same spans.
  ColumnarReader::SetBlockCacheBytes(size_t{64} << 20);
  size_t i = 0;
  for (const auto& [id, spans] : m) {
    std::vector<std::string> got;
    ASSERT_TRUE(r->ReadTrace(entries[i].first_row, entries[i].row_count, &got).ok());
    EXPECT_EQ(got, cold[i]);
    EXPECT_TRUE(SameSpans(spans, got)) << "trace " << i;
    ++i;
  }
  auto warm = ColumnarReader::GetBlockCacheStats();
  EXPECT_EQ(warm.misses - after_cold.misses, 1u);
  EXPECT_EQ(warm.hits - after_cold.hits, entries.size() - 1);
  EXPECT_EQ(warm.blocks, 1u);
  EXPECT_GT(warm.bytes, 0u);
  EXPECT_LE(warm.bytes, warm.capacity);
  // Payload frames: the first reads decompressed them, later reads of the same traces
  // take them from the cache and give the same spans.
  EXPECT_GT(warm.frames, 0u);
  EXPECT_GT(warm.frame_misses - after_cold.frame_misses, 0u);
  for (size_t j = 0; j < entries.size(); ++j) {
    std::vector<std::string> again;
    ASSERT_TRUE(r->ReadTrace(entries[j].first_row, entries[j].row_count, &again).ok());
    EXPECT_EQ(again, cold[j]);
  }
  auto hot = ColumnarReader::GetBlockCacheStats();
  EXPECT_EQ(hot.frame_misses, warm.frame_misses);
  EXPECT_GT(hot.frame_hits, warm.frame_hits);
  // Reads under NoCacheFill (compaction) use the cache but add nothing to it.
  ColumnarReader::SetBlockCacheBytes(0);
  ColumnarReader::SetBlockCacheBytes(size_t{64} << 20);
  {
    ColumnarReader::NoCacheFill no_fill;
    std::vector<std::string> got;
    ASSERT_TRUE(r->ReadTrace(entries[0].first_row, entries[0].row_count, &got).ok());
    EXPECT_EQ(got, cold[0]);
  }
  EXPECT_EQ(ColumnarReader::GetBlockCacheStats().blocks, 0u);
  EXPECT_EQ(ColumnarReader::GetBlockCacheStats().frames, 0u);
  // Shrinking the cache evicts down to the new limit.
  std::vector<std::string> got;
  ASSERT_TRUE(r->ReadTrace(entries[0].first_row, entries[0].row_count, &got).ok());
  EXPECT_EQ(ColumnarReader::GetBlockCacheStats().blocks, 1u);
  ColumnarReader::SetBlockCacheBytes(1);
  EXPECT_EQ(ColumnarReader::GetBlockCacheStats().blocks, 0u);
  EXPECT_EQ(ColumnarReader::GetBlockCacheStats().frames, 0u);
  EXPECT_EQ(ColumnarReader::GetBlockCacheStats().bytes, 0u);
  ColumnarReader::SetBlockCacheBytes(size_t{256} << 20);
}

TEST(ColumnarSegment, FiftyTurnConversationStoresEachMessageOnce) {
  MemEnv env;
  TraceMap m = PayloadSession(7, 50, 1'767'225'600'000'000'000);
  ASSERT_EQ(m.size(), 50u);
  (void)env.CreateDir(kDir);
  auto b = ColumnarBuilder::Create(&env, kDir, "dedup.slseg");
  ASSERT_TRUE(b.ok());
  size_t raw_payload = 0;
  for (const auto& [id, spans] : m) {
    std::vector<std::string> bytes;
    std::vector<std::string_view> views;
    for (const auto& s : spans) {
      bytes.push_back(s.SerializeAsString());
      raw_payload += s.input_json().size() + s.output_json().size();
    }
    for (const auto& x : bytes) views.push_back(x);
    ASSERT_TRUE((*b)->AddTrace(TraceKey::FromBytes(id), views, "", 0, 1).ok());
  }
  // Distinct pieces: the system prompt; per turn the user message, the tool call (in
  // the plan's output and then in the history), the answer, and the tool's arguments
  // and result; the history attribute is the same array as input_json, so its pieces
  // are the same ones.
  const uint32_t want = 1 + 50 * 5;
  EXPECT_EQ((*b)->payload_piece_count(), want);
  ASSERT_TRUE((*b)->Finish().ok());
  auto r = OpenOrDie(&env, kDir + "/dedup.slseg");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->payload_piece_count(), want);
  // History grows quadratically on the wire, linearly here.
  EXPECT_LT(r->payload_stored_bytes() * 50, raw_payload);
  std::vector<TraceEntry> entries;
  r = OpenOrDie(&env, kDir + "/dedup.slseg", &entries);
  size_t i = 0;
  for (const auto& [id, spans] : m) {
    std::vector<std::string> got;
    ASSERT_TRUE(r->ReadTrace(entries[i].first_row, entries[i].row_count, &got).ok());
    EXPECT_TRUE(SameSpans(spans, got));
    ++i;
  }
}

// Agents send each message twice: as an attribute (gen_ai.output.messages, tool call
// arguments) and as the span's normalised input_json / output_json. Attribute values of
// kLargeAttrBytes or more are payload pieces, so a copy costs a reference, not its text
// again in the attr_text column; shorter values stay inline.
TEST(ColumnarSegment, MessageAttributesShareThePayloadPieces) {
  MemEnv env;
  const std::string msg = Message("assistant", "The refund of 40 USD for order 1234 was approved; it reaches the card "
                                               "in three to five days. Anything else about this ticket?");
  const std::string args = "{\"customer_id\":\"cus_4821\",\"order_id\":\"ORD-55120\",\"query\":\"refund shipping "
                           "late package damaged replacement approved by the manager after review\"}";
  ASSERT_GE(args.size(), kLargeAttrBytes);
  ASSERT_LT(msg.size() + 2, size_t{1024});
  const std::string shorter = "short value below the threshold";
  ASSERT_LT(shorter.size(), kLargeAttrBytes);
  TraceMap m;
  model::Span chat = store::testing::MakeSpan({5, 51, 0, "chat gpt-4o", model::v1::KIND_LLM, model::v1::STATUS_OK,
                                               1'767'225'600'000'000'000, 1'767'225'601'000'000'000});
  chat.set_output_json("[" + msg + "]");
  AddAttr(chat.mutable_attributes(), "gen_ai.output.messages")->mutable_value()->set_string_value("[" + msg + "]");
  AddAttr(chat.mutable_attributes(), "note")->mutable_value()->set_string_value(shorter);
  AddToMap(&m, chat);
  // A tool call whose arguments are its input. The second's input is as long as its
  // arguments attribute and one byte apart: an input that is its attribute again takes
  // the attribute's references, this one its own.
  auto tool_call = [&](uint64_t span, const std::string& input) {
    const int64_t start = 1'767'225'600'000'000'000 + static_cast<int64_t>(span - 51) * 1'000'000'000;
    model::Span tool = store::testing::MakeSpan({5, span, 51, "execute_tool refund", model::v1::KIND_TOOL,
                                                 model::v1::STATUS_OK, start, start + 1'000'000'000});
    tool.set_input_json(input);
    AddAttr(tool.mutable_attributes(), "gen_ai.tool.call.arguments")->mutable_value()->set_string_value(args);
    AddToMap(&m, tool);
  };
  tool_call(52, args);
  std::string near = args;
  near[near.size() / 2] = 'X';
  tool_call(53, near);
  std::vector<WrittenTrace> written;
  ASSERT_TRUE(WriteSegment(&env, kDir, "attrs.slseg", m, &written).ok());
  // Parsed spans (the flush's other path) make the same file.
  ASSERT_TRUE(WriteSegment(&env, kDir, "attrs-parsed.slseg", m, nullptr, /*parsed=*/true).ok());
  auto serialized = ReadFileToString(&env, kDir + "/attrs.slseg");
  auto parsed = ReadFileToString(&env, kDir + "/attrs-parsed.slseg");
  ASSERT_TRUE(serialized.ok() && parsed.ok());
  EXPECT_TRUE(*serialized == *parsed);
  std::vector<TraceEntry> entries;
  auto r = OpenOrDie(&env, kDir + "/attrs.slseg", &entries);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->payload_piece_count(), 3u);  // the message and the arguments once each, and the near copy
  ColumnarReader::BlockView view;
  ASSERT_TRUE(r->LoadBlockColumns(0, {kColAttrText, kColAttrPayload}, &view).ok());
  EXPECT_EQ(view.col(kColAttrText).find("refund of 40 USD"), std::string_view::npos);
  EXPECT_EQ(view.col(kColAttrText).find("cus_4821"), std::string_view::npos);
  EXPECT_NE(view.col(kColAttrText).find(shorter), std::string_view::npos);
  EXPECT_FALSE(view.col(kColAttrPayload).empty());
  ASSERT_EQ(entries.size(), 1u);
  std::vector<std::string> got;
  ASSERT_TRUE(r->ReadTrace(entries[0].first_row, entries[0].row_count, &got).ok());
  EXPECT_TRUE(SameSpans(m.begin()->second, got));
}

// The store's records keep a payload that repeats an attribute once
// (store/shared_payload.h). The flush must write from them the file whole spans give:
// the head's pieces joined to the attribute's list when that is the whole payload's
// list, the payload put together otherwise (spaced separators, an attribute too short
// to be split), on both of the flush's paths.
TEST(ColumnarSegment, RecordFormSpansWriteTheFileOfWholeOnes) {
  MemEnv env;
  const std::string sys = Message("system", "You are the billing agent of Acme. Refunds above 100 USD need approval.");
  const std::string m1 = Message("user", "My order 1234 arrived damaged, the box was crushed and the lamp is broken.");
  const std::string m2 = Message("assistant", "I am sorry to hear that. Let me look up order 1234 and its shipment.");
  const std::string m3 = Message("tool", "{\"order\":1234,\"status\":\"delivered\",\"carrier\":\"UPS\"}");
  const std::string history = "[" + m1 + "," + m2 + "," + m3 + "]";
  TraceMap whole;
  uint64_t next = 61;
  auto chat = [&](const std::string& input, const std::string& attr, const std::string& output,
                  const std::string& out_attr) {
    const int64_t start = 1'767'225'600'000'000'000 + static_cast<int64_t>(next - 61) * 1'000'000'000;
    model::Span s = store::testing::MakeSpan({6, next, next == 61 ? uint64_t{0} : uint64_t{61}, "chat gpt-4o", model::v1::KIND_LLM,
                                              model::v1::STATUS_OK, start, start + 500'000'000});
    ++next;
    s.set_input_json(input);
    s.set_output_json(output);
    AddAttr(s.mutable_attributes(), "gen_ai.input.messages")->mutable_value()->set_string_value(attr);
    if (!out_attr.empty())
      AddAttr(s.mutable_attributes(), "gen_ai.output.messages")->mutable_value()->set_string_value(out_attr);
    AddToMap(&whole, s);
  };
  const std::string out = "[" + m2 + "," + m3 + "]";
  ASSERT_GE(out.size(), store::kMinSharedBytes);
  chat("[" + sys + "," + m1 + "," + m2 + "," + m3 + "]", history, out, out);  // the system message, then the history
  chat(history, history, out, "");                                                 // no system message: the same bytes
  chat("[" + sys + "," + m3 + "," + m1 + "," + m2 + "," + m3 + "]", history, out, out);  // a head of two messages
  const std::string spaced = "[" + m1 + ", " + m2 + ", " + m3 + "]";
  chat("[" + sys + "," + m1 + ", " + m2 + ", " + m3 + "]", spaced, out, out);  // mixed separators: stored whole
  chat("[" + sys + "," + m1 + "," + m2 + "," + m3 + "]", "[{\"x\":1}," + m1 + "," + m2 + "," + m3 + "]", out, "");
  // The record form of every span, as the WAL keeps them.
  TraceMap records = whole;
  int shared = 0;
  for (auto& [id, spans] : records)
    for (model::Span& s : spans) shared += store::SharePayloads(&s);
  // Inputs 1-4 end with their attribute after its first byte, input 5 does not; outputs
  // 1, 3 and 4 are their attribute.
  EXPECT_EQ(shared, 7);
  const model::Span& first = records.begin()->second[0];
  EXPECT_TRUE(first.input_json().empty());
  EXPECT_EQ(first.input_head(), "[" + sys + ",");
  EXPECT_EQ(first.input_tail_key(), "gen_ai.input.messages");
  EXPECT_EQ(first.output_head(), "[");
  EXPECT_EQ(first.output_tail_key(), "gen_ai.output.messages");
  ASSERT_TRUE(WriteSegment(&env, kDir, "whole.slseg", whole).ok());
  ASSERT_TRUE(WriteSegment(&env, kDir, "records.slseg", records).ok());
  ASSERT_TRUE(WriteSegment(&env, kDir, "records-parsed.slseg", records, nullptr, /*parsed=*/true).ok());
  auto w = ReadFileToString(&env, kDir + "/whole.slseg");
  auto r1 = ReadFileToString(&env, kDir + "/records.slseg");
  auto r2 = ReadFileToString(&env, kDir + "/records-parsed.slseg");
  ASSERT_TRUE(w.ok() && r1.ok() && r2.ok());
  EXPECT_TRUE(*r1 == *w);
  EXPECT_TRUE(*r2 == *w);
  std::vector<TraceEntry> entries;
  auto r = OpenOrDie(&env, kDir + "/records.slseg", &entries);
  ASSERT_TRUE(r);
  ASSERT_EQ(entries.size(), 1u);
  std::vector<std::string> got;
  ASSERT_TRUE(r->ReadTrace(entries[0].first_row, entries[0].row_count, &got).ok());
  EXPECT_TRUE(SameSpans(whole.begin()->second, got));
}

TEST(ColumnarSegment, SplitsOnlyWhenBytesRoundTrip) {
  struct Case {
    std::string value;
    bool split;
    size_t elems;
  };
  std::string m1 = Message("user", std::string(80, 'a')), m2 = Message("assistant", std::string(80, 'b'));
  const Case cases[] = {
      {"[" + m1 + "," + m2 + "]", true, 2},
      {"[" + m1 + ", " + m2 + "]", true, 2},
      {"[" + m1 + ",  " + m2 + "]", false, 0},
      {"[ " + m1 + "," + m2 + "]", false, 0},
      {"[" + m1 + "," + m2 + " ]", false, 0},
      {"[" + m1 + ", " + m2 + "," + m1 + "]", false, 0},  // mixed separators
      {"[1,\"a,]b\",[2,[3]],{\"k\":\"}\"},null,-1.5e3]", true, 6},
      {"[" + m1 + "," + m2, false, 0},        // truncated
      {"{\"messages\":[" + m1 + "]}", false, 0},  // not an array
      {"[]", false, 0},
      {"[\"unterminated]", false, 0},
  };
  for (const Case& c : cases) {
    std::vector<std::string_view> elems;
    uint8_t kind = 0;
    bool ok = SplitJsonArray(c.value, &elems, &kind);
    EXPECT_EQ(ok, c.split) << c.value;
    if (!ok) continue;
    EXPECT_EQ(elems.size(), c.elems) << c.value;
    RefList l;
    l.kind = kind;
    for (size_t i = 0; i < elems.size(); ++i) l.pieces.push_back(static_cast<uint32_t>(i));
    std::string back;
    RenderRefList(l, [&](uint32_t p) { return elems[p]; }, &back);
    EXPECT_EQ(back, c.value);
  }
}

// SplitJsonArray's string scanning (memchr for quotes and backslashes) against a
// byte-at-a-time model, over generated arrays full of escapes: quotes, backslashes,
// escaped backslashes before quotes, brackets and commas inside strings, and values cut
// anywhere.
namespace split_model {
constexpr size_t npos = std::string_view::npos;
size_t Skip(std::string_view s, size_t i) {
  size_t n = s.size();
  if (i >= n) return npos;
  char c = s[i];
  if (c == '"') {
    for (++i; i < n; ++i) {
      if (s[i] == '\\') ++i;
      else if (s[i] == '"') return i + 1;
    }
    return npos;
  }
  if (c == '{' || c == '[') {
    int64_t depth = 0;
    for (; i < n; ++i) {
      char d = s[i];
      if (d == '"') {
        size_t e = Skip(s, i);
        if (e == npos) return npos;
        i = e - 1;
      } else if (d == '{' || d == '[') {
        ++depth;
      } else if (d == '}' || d == ']') {
        if (--depth == 0) return i + 1;
      }
    }
    return npos;
  }
  size_t start = i;
  while (i < n && s[i] != ',' && s[i] != ']' && s[i] != '}' && s[i] != ' ' && s[i] != '\n' && s[i] != '\t' &&
         s[i] != '\r')
    ++i;
  return i > start ? i : npos;
}
bool Split(std::string_view v, std::vector<std::string_view>* elems) {
  elems->clear();
  size_t n = v.size();
  if (n < 3 || v[0] != '[' || v[n - 1] != ']') return false;
  size_t i = 1;
  int sep = 0;
  size_t total = 0;
  for (;;) {
    size_t e = Skip(v, i);
    if (e == npos || e >= n) return false;
    elems->push_back(v.substr(i, e - i));
    total += e - i;
    i = e;
    if (i == n - 1) break;
    if (v[i] != ',') return false;
    int this_sep = (i + 1 < n && v[i + 1] == ' ') ? 2 : 1;
    if (sep == 0) sep = this_sep;
    if (sep != this_sep) return false;
    i += this_sep;
  }
  if (sep == 0) sep = 1;
  return 2 + total + (elems->size() - 1) * static_cast<size_t>(sep) == n;
}
}  // namespace split_model

TEST(ColumnarSegment, SplittingFindsStringEndsAsAByteAtATimeScanDoes) {
  std::mt19937_64 rng(20261206);
  const std::string atoms[] = {"\\\"", "\\\\", "\\", "\"", "a", "bc", ",", "]", "[", "{", "}", " ", "\\n", "x\\\\\""};
  int split = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string v = "[";
    const int elems = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < elems; ++e) {
      if (e) v += rng() % 4 == 0 ? ", " : ",";
      const bool object = rng() % 2 == 0;
      v += object ? "{\"content\":\"" : "\"";
      const int parts = static_cast<int>(rng() % 12);
      for (int p = 0; p < parts; ++p) v += atoms[rng() % std::size(atoms)];
      v += object ? "\"}" : "\"";
    }
    v += "]";
    if (rng() % 5 == 0) v.resize(rng() % (v.size() + 1));  // cut anywhere
    std::vector<std::string_view> got, want;
    uint8_t kind = 0;
    const bool ok = SplitJsonArray(v, &got, &kind);
    const bool model_ok = split_model::Split(v, &want);
    ASSERT_EQ(ok, model_ok) << v;
    if (ok) {
      ++split;
      ASSERT_EQ(got, want) << v;
    }
  }
  EXPECT_GT(split, 1000);
}

// The fast lookup of repeated pieces (XXH3-128, bytes compared) picks the same pieces
// and writes the same frames as SHA-256 alone, with every piece kept, with none kept,
// and with the kept bytes running out midway (later repeats found by SHA-256).
TEST(ColumnarSegment, KeptPiecesDeduplicateExactlyAsTheDigestAlone) {
  std::mt19937_64 rng(7);
  std::vector<std::string> messages;
  for (int i = 0; i < 300; ++i)
    messages.push_back(Message(i % 3 ? "user" : "assistant", std::string(64 + rng() % 900, static_cast<char>('a' + i % 26)) +
                                                                 std::to_string(rng())));
  // Growing histories (turn N re-sends turns 1..N-1), single large values, and repeats
  // of whole values.
  std::vector<std::string> values;
  for (int session = 0; session < 12; ++session) {
    std::string history = "[";
    for (int turn = 0; turn < 25; ++turn) {
      if (turn) history += ",";
      history += messages[(session * 7 + turn * 3) % messages.size()];
      values.push_back(history + "]");
      if (turn % 5 == 0) values.push_back(messages[rng() % messages.size()]);
    }
  }
  auto write = [&](size_t kept_limit, std::vector<RefList>* refs) {
    PayloadWriter w;
    w.set_kept_bytes_limit(kept_limit);
    std::vector<PayloadWriter::Frame> frames;
    for (const std::string& v : values) {
      refs->push_back(w.AddValue(v, true));
      for (auto& f : *w.ready()) frames.push_back(std::move(f));
      w.ready()->clear();
    }
    w.Flush();
    for (auto& f : *w.ready()) frames.push_back(std::move(f));
    std::string all;
    for (const auto& f : frames) all += f.stored + "|" + std::to_string(f.raw_len) + "|";
    return std::make_tuple(w.piece_count(), all, w.fast_hits(), w.digests());
  };
  std::vector<RefList> digest_refs;
  const auto digest_only = write(0, &digest_refs);
  EXPECT_LT(std::get<0>(digest_only), 400u);  // the histories' messages were stored once
  EXPECT_EQ(std::get<2>(digest_only), 0u);
  size_t lookups = 0;  // every piece of every value
  for (const auto& r : digest_refs) lookups += r.pieces.size();
  EXPECT_EQ(std::get<3>(digest_only), lookups);
  uint64_t all_kept_hits = 0;
  for (size_t limit : {PayloadWriter::kKeptBytes, size_t{20000}}) {
    std::vector<RefList> refs;
    const auto got = write(limit, &refs);
    EXPECT_EQ(std::get<0>(got), std::get<0>(digest_only)) << limit;
    EXPECT_EQ(std::get<1>(got), std::get<1>(digest_only)) << limit;
    // Every repeat was found without SHA-256 when all is kept; some when it ran out.
    if (limit == PayloadWriter::kKeptBytes) {
      all_kept_hits = std::get<2>(got);
      size_t repeats = 0;
      for (const auto& r : digest_refs) repeats += r.pieces.size();
      EXPECT_EQ(all_kept_hits, repeats - std::get<0>(digest_only));
      EXPECT_EQ(std::get<3>(got), 0u) << "a kept piece needs no SHA-256";
    } else {
      EXPECT_GT(std::get<2>(got), 0u);
      EXPECT_LT(std::get<2>(got), all_kept_hits);
      // Only the pieces past the kept bytes (and their repeats) were hashed.
      EXPECT_GT(std::get<3>(got), 0u);
      EXPECT_LT(std::get<3>(got), lookups);
      // Every lookup was a fast hit, a new kept piece, or hashed: some pieces, not all,
      // were kept.
      ASSERT_LE(std::get<2>(got) + std::get<3>(got), lookups);
      const uint64_t kept_new = lookups - std::get<2>(got) - std::get<3>(got);
      EXPECT_GT(kept_new, 0u);
      EXPECT_LT(kept_new, std::get<0>(got));
    }
    ASSERT_EQ(refs.size(), digest_refs.size());
    for (size_t i = 0; i < refs.size(); ++i) {
      EXPECT_EQ(refs[i].kind, digest_refs[i].kind) << i;
      EXPECT_EQ(refs[i].pieces, digest_refs[i].pieces) << i;
    }
  }
}

TEST(ColumnarSegment, ReferenceListsReuseEarlierLists) {
  RefListEncoder enc;
  std::vector<RefList> lists;
  RefList grow{kRefArray, {}};
  for (uint32_t turn = 0; turn < 50; ++turn) {
    grow.pieces.push_back(turn);
    lists.push_back(grow);
    lists.push_back(RefList{kRefWhole, {turn}});
    lists.push_back(RefList{});
  }
  for (const auto& l : lists) enc.Add(l);
  // Each growing list costs its kind, reference, prefix, count and one new piece.
  EXPECT_LT(enc.data().size(), 50u * 10);
  std::vector<RefList> back;
  ASSERT_TRUE(DecodeRefLists(enc.data(), lists.size(), 50, &back));
  for (size_t i = 0; i < lists.size(); ++i) {
    EXPECT_EQ(back[i].kind, lists[i].kind);
    EXPECT_EQ(back[i].pieces, lists[i].pieces);
  }
  // A piece index past the segment's pieces is refused.
  EXPECT_FALSE(DecodeRefLists(enc.data(), lists.size(), 10, &back));
}

// The list-by-list decoding of what RefListEncoder writes, as the reader did it before
// RefColumn: each list copied whole into the decoder's history. Kept here as the
// reference RefColumn is checked against.
class RefListDecoder {
 public:
  RefListDecoder(std::string_view data, uint32_t piece_count) : in_(data), piece_count_(piece_count) {}
  // False when the chunk is malformed (or exhausted).
  bool Next(RefList* out);
  bool done() const { return in_.empty(); }

 private:
  std::string_view in_;
  uint32_t piece_count_;
  int64_t prev_piece_ = 0;
  std::vector<std::vector<uint32_t>> lists_;
  uint64_t total_ = 0;  // elements decoded, bounded against crafted chunks
};

bool RefListDecoder::Next(RefList* out) {
  uint64_t kind;
  out->pieces.clear();
  if (!GetVarint64(&in_, &kind) || kind > kRefArraySpaced) return false;
  out->kind = static_cast<uint8_t>(kind);
  if (kind == kRefAbsent) return true;
  auto get_piece = [&](uint32_t* p) {
    int64_t d;
    if (!GetSigned(&in_, &d)) return false;
    int64_t v = prev_piece_ + d;
    if (v < 0 || v >= static_cast<int64_t>(piece_count_)) return false;
    prev_piece_ = v;
    *p = static_cast<uint32_t>(v);
    return true;
  };
  if (kind == kRefWhole) {
    uint32_t p;
    if (!get_piece(&p)) return false;
    out->pieces.push_back(p);
    return true;
  }
  uint64_t back, prefix = 0, fresh;
  if (!GetVarint64(&in_, &back)) return false;
  if (back != 0) {
    if (back > lists_.size() || !GetVarint64(&in_, &prefix)) return false;
    const auto& base = lists_[lists_.size() - back];
    if (prefix > base.size()) return false;
    out->pieces.assign(base.begin(), base.begin() + static_cast<ptrdiff_t>(prefix));
  }
  // Each new piece takes at least one byte, so `fresh` is bounded by the input.
  if (!GetVarint64(&in_, &fresh) || fresh > in_.size()) return false;
  total_ += prefix + fresh;
  if (total_ > (1ull << 25)) return false;  // no legitimate block names this many pieces
  for (uint64_t k = 0; k < fresh; ++k) {
    uint32_t p;
    if (!get_piece(&p)) return false;
    out->pieces.push_back(p);
  }
  lists_.push_back(out->pieces);
  return true;
}

// RefColumn (the reader's flat decode, lists put together on demand) against the
// list-by-list RefListDecoder: the same lists from what the encoder wrote, and the same
// verdict on every truncation and byte flip of it.
TEST(ColumnarSegment, RefColumnReadsWhatRefListDecoderReads) {
  std::mt19937 rng(7);
  for (int round = 0; round < 30; ++round) {
    // Lists that extend a random prefix of an earlier list (as turns of conversations
    // do, including shorter prefixes than the earlier list itself took), whole values
    // and absent ones.
    std::vector<RefList> lists;
    const uint32_t pieces = 400;
    for (int i = 0; i < 300; ++i) {
      const uint32_t kind = rng() % 4;
      RefList l;
      l.kind = static_cast<uint8_t>(kind);
      if (kind == kRefWhole) l.pieces.push_back(rng() % pieces);
      if (kind == kRefArray || kind == kRefArraySpaced) {
        if (!lists.empty() && rng() % 4 != 0) {
          const RefList& base = lists[lists.size() - 1 - rng() % std::min<size_t>(lists.size(), 8)];
          if (base.kind == kRefArray || base.kind == kRefArraySpaced)
            l.pieces.assign(base.pieces.begin(), base.pieces.begin() + static_cast<ptrdiff_t>(
                                                                          base.pieces.empty() ? 0 : rng() % (base.pieces.size() + 1)));
        }
        for (uint32_t k = rng() % 4; k > 0; --k) l.pieces.push_back(rng() % pieces);
      }
      lists.push_back(l);
    }
    RefListEncoder enc;
    for (const auto& l : lists) enc.Add(l);
    const std::string data = enc.data();
    RefColumn col;
    ASSERT_TRUE(col.Decode(data, lists.size(), pieces));
    ASSERT_EQ(col.size(), lists.size());
    RefList got;
    for (size_t i = 0; i < lists.size(); ++i) {
      col.Get(i, &got);
      ASSERT_EQ(got.kind, lists[i].kind) << round << " " << i;
      ASSERT_EQ(got.pieces, lists[i].pieces) << round << " " << i;
    }
    auto old_decode = [&](std::string_view in, std::vector<RefList>* out) {
      out->assign(lists.size(), RefList());
      if (in.empty()) return true;  // an absent column: every list absent
      RefListDecoder d(in, pieces);
      for (auto& l : *out)
        if (!d.Next(&l)) return false;
      return d.done();
    };
    std::vector<RefList> want;
    for (int k = 0; k < 40; ++k) {
      std::string bad = data;
      if (k % 2 == 0) {
        bad.resize(rng() % bad.size());
      } else {
        bad[rng() % bad.size()] ^= static_cast<char>(1u << (rng() % 8));
      }
      const bool old_ok = old_decode(bad, &want);
      ASSERT_EQ(col.Decode(bad, lists.size(), pieces), old_ok) << round << " " << k;
      if (!old_ok) continue;
      for (size_t i = 0; i < lists.size(); ++i) {
        col.Get(i, &got);
        ASSERT_EQ(got.kind, want[i].kind);
        ASSERT_EQ(got.pieces, want[i].pieces);
      }
    }
  }
  RefColumn empty;
  ASSERT_TRUE(empty.Decode("", 3, 0));
  EXPECT_EQ(empty.size(), 3u);
  EXPECT_FALSE(empty.AllPresent());
  EXPECT_EQ(empty[2].kind, kRefAbsent);
}

// Payload-heavy rows fill a block to kBlockTargetPayloadBytes of named payloads, not to
// kBlockTargetRows: a trace read decodes a block whole the first time, and a 4,096-row
// block of model calls took milliseconds. Lean rows still fill kBlockTargetRows.
TEST(ColumnarSegment, PayloadHeavyRowsMakeSmallerBlocks) {
  MemEnv env;
  ASSERT_TRUE(env.CreateDir("/seg").ok());
  auto b = ColumnarBuilder::Create(&env, "/seg", "heavy.seg");
  ASSERT_TRUE(b.ok());
  const std::string history(16 << 10, 'h');  // 16 KiB, the same for every span (stored once)
  const uint64_t kTraces = 1500;
  for (uint64_t t = 0; t < kTraces; ++t) {
    model::Span s = store::testing::MakeSpan({t + 1, t + 1, 0, "chat", model::v1::KIND_LLM, model::v1::STATUS_OK,
                                              static_cast<int64_t>(t), static_cast<int64_t>(t + 1)});
    s.set_input_json("\"" + history + std::to_string(t) + "\"");
    const std::string bytes = s.SerializeAsString();
    ASSERT_TRUE((*b)->AddTrace(store::TraceKey::FromBytes(s.trace_id()), {bytes}, {}, 0, 1).ok());
  }
  ASSERT_TRUE((*b)->Finish().ok());
  const uint32_t per_block = static_cast<uint32_t>(kBlockTargetPayloadBytes / (history.size() + 8)) + 1;
  EXPECT_GE((*b)->block_count(), kTraces / per_block);
  auto r = ColumnarReader::Open(&env, "/seg/heavy.seg", [](const TraceEntry&) { return Status::OK(); });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  for (uint32_t bi = 0; bi < (*b)->block_count(); ++bi) EXPECT_LE((*r)->block_stats(bi).row_count, per_block) << bi;
  std::vector<std::string> spans;
  ASSERT_TRUE((*r)->ReadTrace(kTraces - 1, 1, &spans).ok());
  model::Span back;
  ASSERT_TRUE(back.ParseFromString(spans.at(0)));
  EXPECT_EQ(back.input_json(), "\"" + history + std::to_string(kTraces - 1) + "\"");
}

// 3000 traces of 3 spans: 9000 rows in 3 blocks; sessions and times rise with trace ids.
TraceMap ScanTraces() {
  TraceMap m;
  for (uint64_t t = 0; t < 3000; ++t) {
    for (uint64_t k = 0; k < 3; ++k) {
      model::Span s = store::testing::MakeSpan({t + 1, t * 4 + k + 1, k ? t * 4 + 1 : 0, "op" + std::to_string(k),
                                                k == 1 ? model::v1::KIND_LLM : model::v1::KIND_TOOL,
                                                model::v1::STATUS_OK, static_cast<int64_t>(t * 1000 + k * 10),
                                                static_cast<int64_t>(t * 1000 + k * 10 + 5)});
      char sess[32];
      std::snprintf(sess, sizeof(sess), "s-%05llu", static_cast<unsigned long long>(t / 10));
      s.set_session_id(sess);
      s.set_user_id("u-" + std::to_string(t % 7));
      if (k == 1) {
        s.set_input_tokens(static_cast<int64_t>(t));
        s.set_input_json("\"question " + std::to_string(t) + "\"");
      }
      AddAttr(s.mutable_attributes(), "tool")->mutable_value()->set_string_value("t" + std::to_string(k));
      AddAttr(s.mutable_attributes(), "n")->mutable_value()->set_int_value(static_cast<int64_t>(t));
      AddToMap(&m, s);
    }
  }
  return m;
}

TEST(ColumnarSegment, ScanDecodesOnlyAskedColumnsAndPrunesBlocks) {
  MemEnv env;
  TraceMap m = ScanTraces();
  ASSERT_TRUE(WriteSegment(&env, kDir, "scan.slseg", m).ok());
  auto r = OpenOrDie(&env, kDir + "/scan.slseg");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->block_count(), 3u);  // 4096 rows per block, traces never split
  EXPECT_EQ(r->block_stats(0).row_count % 3, 0u);
  EXPECT_EQ(r->block_stats(0).null_counts[kColParentSpanId], r->block_stats(0).row_count / 3);

  // Projection: names and tokens only.
  size_t rows = 0, blocks = 0;
  int64_t token_sum = 0;
  ASSERT_TRUE(r->Scan(kName | kTokens, {}, [&](const SpanColumns& c, uint32_t first_row) {
                 EXPECT_EQ(first_row, rows);
                 EXPECT_EQ(c.name.size(), c.rows);
                 EXPECT_EQ(c.input_tokens.size(), c.rows);
                 EXPECT_TRUE(c.trace_id.empty());
                 EXPECT_TRUE(c.start_ns.empty());
                 EXPECT_TRUE(c.attr_keys.empty());
                 EXPECT_TRUE(c.input_json.empty());
                 for (size_t i = 0; i < c.rows; ++i) {
                   if (c.input_tokens[i] != kNullInt) token_sum += c.input_tokens[i];
                   EXPECT_EQ(c.name[i].substr(0, 2), "op");
                 }
                 rows += c.rows;
                 ++blocks;
                 return Status::OK();
               }).ok());
  EXPECT_EQ(rows, 9000u);
  EXPECT_EQ(blocks, 3u);
  EXPECT_EQ(token_sum, 2999 * 3000 / 2);

  struct Case {
    const char* name;
    BlockFilter f;
    size_t max_blocks;
  };
  BlockFilter by_trace;
  by_trace.trace_id = TraceKey::FromBytes(store::testing::TraceId(2500));
  BlockFilter by_time;
  by_time.from_ns = 2'990'000;
  BlockFilter by_session;
  by_session.session_id = "s-00123";
  BlockFilter none_time;
  none_time.from_ns = 1'000'000'000;
  BlockFilter unknown_session;
  unknown_session.session_id = "nobody";
  const Case cases[] = {{"trace", by_trace, 1}, {"time", by_time, 1}, {"session", by_session, 1},
                        {"past the end", none_time, 0}, {"unknown session", unknown_session, 0}};
  for (const Case& c : cases) {
    size_t visited = 0;
    ASSERT_TRUE(r->Scan(kTraceId | kStart | kEnd | kSessionId | kAttributes | kInput, c.f,
                        [&](const SpanColumns& cols, uint32_t) {
                          ++visited;
                          EXPECT_EQ(cols.attr_offsets.size(), cols.rows + 1);
                          EXPECT_EQ(cols.attr_offsets.back(), cols.rows * 2);
                          EXPECT_EQ(cols.attr_keys[0], "tool");
                          EXPECT_EQ(cols.input_json.size(), cols.rows);
                          bool found = false;
                          for (size_t i = 0; i < cols.rows; ++i) {
                            if (c.f.trace_id && cols.trace_id[i] == *c.f.trace_id) found = true;
                            if (c.f.session_id && cols.session_id[i] == *c.f.session_id) found = true;
                            if (c.f.from_ns && cols.end_ns[i] >= *c.f.from_ns) found = true;
                            if (!cols.input_json[i].empty()) {
                              EXPECT_EQ(cols.input_json[i].substr(0, 9), "\"question");
                            }
                          }
                          EXPECT_TRUE(found) << c.name;
                          return Status::OK();
                        })
                    .ok());
    EXPECT_LE(visited, c.max_blocks) << c.name;
    if (c.max_blocks) {
      EXPECT_EQ(visited, 1u) << c.name;
    }
  }
  // A callback's error stops the scan.
  int calls = 0;
  Status s = r->Scan(kKind, {}, [&](const SpanColumns&, uint32_t) {
    ++calls;
    return Status::InvalidArgument("stop");
  });
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(calls, 1);
}

TEST(ColumnarSegment, ScanValuesMatchTheSpans) {
  MemEnv env;
  TraceMap m;
  for (int k = 0; k < 6; ++k) AddToMap(&m, FullSpan(42, static_cast<uint64_t>(k) + 1, k ? 1 : 0, 5000 + k, k));
  ASSERT_TRUE(WriteSegment(&env, kDir, "vals.slseg", m).ok());
  auto r = OpenOrDie(&env, kDir + "/vals.slseg");
  ASSERT_TRUE(r);
  std::vector<model::Span> want = m.begin()->second;
  SortSpans(&want);
  ASSERT_TRUE(r->Scan(kAll, {}, [&](const SpanColumns& c, uint32_t) {
                 EXPECT_EQ(c.rows, want.size());
                 for (size_t i = 0; i < c.rows; ++i) {
                   const model::Span& s = want[i];
                   EXPECT_EQ(c.span_id[i], SpanIdToU64(s.span_id()));
                   EXPECT_EQ(c.parent_span_id[i], SpanIdToU64(s.parent_span_id()));
                   EXPECT_EQ(c.start_ns[i], s.start_ns());
                   EXPECT_EQ(c.end_ns[i], s.end_ns());
                   EXPECT_EQ(c.kind[i], s.kind());
                   EXPECT_EQ(c.model[i], s.model());
                   EXPECT_EQ(c.error_type[i], s.error_type());
                   EXPECT_EQ(c.step[i], s.step());
                   EXPECT_EQ(c.reasoning_tokens[i], s.has_reasoning_tokens() ? s.reasoning_tokens() : kNullInt);
                   EXPECT_EQ(c.cost_usd[i], s.cost_usd());
                   EXPECT_EQ(c.input_json[i], s.input_json());
                   EXPECT_EQ(c.output_json[i], s.output_json());
                   EXPECT_EQ(c.attr_offsets[i + 1] - c.attr_offsets[i], static_cast<uint32_t>(s.attributes_size()));
                   if (c.attr_offsets[i + 1] - c.attr_offsets[i] != static_cast<uint32_t>(s.attributes_size())) continue;
                   for (int a = 0; a < s.attributes_size(); ++a) {
                     EXPECT_EQ(c.attr_keys[c.attr_offsets[i] + a], s.attributes(a).key());
                     EXPECT_EQ(c.attr_values[c.attr_offsets[i] + a], AnyValueText(s.attributes(a).value()));
                   }
                 }
                 return Status::OK();
               }).ok());
}

// Spans whose attributes repeat their canonical columns (session.id = session_id, the
// token counts, ...) next to ones that do not: trace t, span k.
model::Span RefSpan(uint64_t t, uint64_t k) {
  model::Span s = store::testing::MakeSpan({700 + t, 10 * t + k + 1, k ? 10 * t + 1 : 0, "chat", model::v1::KIND_LLM,
                                            model::v1::STATUS_OK, 1'000'000 + static_cast<int64_t>(k) * 1000,
                                            1'000'500 + static_cast<int64_t>(k) * 1000});
  s.set_session_id("ticket-" + std::to_string(t));
  s.set_user_id("user-" + std::to_string(k % 3));
  s.set_agent_name("researcher");
  s.set_model("claude-sonnet-4");
  s.set_provider("anthropic");
  s.set_version("7");
  s.set_input_tokens(1000 + static_cast<int64_t>(k));
  s.set_step(-12 + static_cast<int64_t>(k));
  auto* a = s.mutable_attributes();
  AddAttr(a, "session.id")->mutable_value()->set_string_value(s.session_id());           // refers
  AddAttr(a, "gen_ai.agent.name")->mutable_value()->set_string_value("other-agent");    // its own value
  AddAttr(a, "user.id")->mutable_value()->set_string_value(s.user_id());                 // refers
  AddAttr(a, "gen_ai.usage.input_tokens")->mutable_value()->set_int_value(s.input_tokens());  // refers (integer)
  AddAttr(a, "agent.step")->mutable_value()->set_int_value(s.step());                     // refers ("-12" ...)
  AddAttr(a, "agent.step.next")->mutable_value()->set_int_value(s.step() + 100);          // its own value
  AddAttr(a, "gen_ai.request.model")->mutable_value()->set_string_value(k % 2 ? "gpt-4o" : s.model());
  AddAttr(a, "tokens.text")->mutable_value()->set_string_value(std::to_string(s.input_tokens()));  // a string: its own
  AddAttr(a, "service.version")->mutable_value()->set_string_value("7");                  // 1 byte: its own
  AddAttr(a, "session.id")->mutable_value()->set_string_value("ticket-other");            // same key, other value
  AddAttr(a, "gen_ai.provider.name")->mutable_value()->set_string_value(s.provider());    // refers
  return s;
}

// Attribute values byte-identical to the row's canonical column are stored as a reference
// to it (kColAttrTextRef, instead of kColAttrText) and come back exactly, in order,
// through every read: trace reads, scans asking for attributes only, attribute filters.
// A value under the same key that differs from the column is stored as itself.
TEST(ColumnarSegment, AttributesEqualToTheirColumnAreStoredByReference) {
  MemEnv env;
  TraceMap m;
  for (uint64_t t = 0; t < 3; ++t)
    for (uint64_t k = 0; k < 5; ++k) AddToMap(&m, RefSpan(t, k));
  ASSERT_TRUE(WriteSegment(&env, kDir, "refs.slseg", m).ok());
  std::vector<TraceEntry> entries;
  auto r = OpenOrDie(&env, kDir + "/refs.slseg", &entries);
  ASSERT_TRUE(r);
  {  // the form: references, and the referred values are not stored again
    ColumnarReader::BlockView v;
    ASSERT_TRUE(r->LoadBlockColumns(0, {kColAttrText, kColAttrTextRef}, &v).ok());
    EXPECT_TRUE(v.col(kColAttrText).empty());
    const std::string_view text = v.col(kColAttrTextRef);
    EXPECT_FALSE(text.empty());
    EXPECT_EQ(text.find("ticket-1"), std::string_view::npos);
    EXPECT_EQ(text.find("claude-sonnet-4"), std::string_view::npos);
    EXPECT_EQ(text.find("anthropic"), std::string_view::npos);
    EXPECT_NE(text.find("other-agent"), std::string_view::npos);
    EXPECT_NE(text.find("ticket-other"), std::string_view::npos);
    EXPECT_NE(text.find("gpt-4o"), std::string_view::npos);
    EXPECT_NE(text.find("1003"), std::string_view::npos);  // tokens.text, a string equal to an integer's text
  }
  // Trace reads: every attribute as sent, in order.
  ASSERT_EQ(entries.size(), m.size());
  size_t i = 0;
  for (const auto& [id, spans] : m) {
    std::vector<std::string> got;
    ASSERT_TRUE(r->ReadTrace(entries[i].first_row, entries[i].row_count, &got).ok());
    EXPECT_TRUE(SameSpans(spans, got)) << "trace " << i;
    for (const std::string& bytes : got) {
      model::Span g;
      ASSERT_TRUE(g.ParseFromString(bytes));
      ASSERT_EQ(g.attributes_size(), 11);
      EXPECT_EQ(g.attributes(0).value().string_value(), g.session_id());
      EXPECT_EQ(g.attributes(3).value().int_value(), g.input_tokens());
      EXPECT_EQ(g.attributes(4).value().int_value(), g.step());
      EXPECT_EQ(g.attributes(9).value().string_value(), "ticket-other");
    }
    ++i;
  }
  // Scans: asking for attributes alone resolves the references too.
  std::vector<model::Span> all;
  for (const auto& [id, spans] : m) {
    std::vector<model::Span> v = spans;
    SortSpans(&v);
    all.insert(all.end(), v.begin(), v.end());
  }
  size_t row = 0;
  ASSERT_TRUE(r->Scan(kAttributes, {}, [&](const SpanColumns& c, uint32_t) {
                 EXPECT_TRUE(c.session_id.empty());  // not asked for
                 for (size_t k = 0; k < c.rows; ++k, ++row) {
                   const model::Span& s = all[row];
                   EXPECT_EQ(c.attr_offsets[k + 1] - c.attr_offsets[k], static_cast<uint32_t>(s.attributes_size()));
                   if (c.attr_offsets[k + 1] - c.attr_offsets[k] != static_cast<uint32_t>(s.attributes_size())) continue;
                   for (int a = 0; a < s.attributes_size(); ++a) {
                     EXPECT_EQ(c.attr_keys[c.attr_offsets[k] + a], s.attributes(a).key());
                     EXPECT_EQ(c.attr_values[c.attr_offsets[k] + a], AnyValueText(s.attributes(a).value()))
                         << s.attributes(a).key();
                   }
                 }
                 return Status::OK();
               }).ok());
  EXPECT_EQ(row, all.size());
  // Attribute filters find referred values and values of their own under the same key.
  std::vector<RowRange> ranges;
  for (const TraceEntry& e : entries) ranges.push_back(RowRange{e.first_row, e.row_count});
  RowMatchSpec spec;
  spec.attrs = {{"session.id", "ticket-1"},          {"session.id", "ticket-other"},
                {"gen_ai.usage.input_tokens", "1004"}, {"agent.step", "-12"},
                {"gen_ai.request.model", "claude-sonnet-4"}, {"gen_ai.agent.name", "researcher"},
                {"user.id", "user-2"},                {"gen_ai.provider.name", "anthropic"}};
  std::vector<uint32_t> bits;
  std::vector<uint8_t> unreadable;
  ASSERT_TRUE(r->MatchRows(spec, ranges, &bits, &unreadable).ok());
  ASSERT_EQ(bits.size(), 3u);
  i = 0;
  for (const auto& [id, spans] : m) {
    uint32_t want = 0;
    for (const auto& s : spans)
      for (size_t k = 0; k < spec.attrs.size(); ++k)
        if (SpanHasAttr(s, spec.attrs[k].first, spec.attrs[k].second)) want |= 1u << k;
    EXPECT_EQ(bits[i], want) << "trace " << i;
    EXPECT_EQ(unreadable[i], 0);
    ++i;
  }
  size_t with_ticket_1 = 0;
  for (uint32_t b : bits) {
    with_ticket_1 += b & 1u;   // ticket-1 (a reference) in one trace
    EXPECT_EQ(b & 0xdeu, 0xdeu);  // the others hold in every trace
    EXPECT_EQ(b & (1u << 5), 0u);  // gen_ai.agent.name's own value is not the column's
  }
  EXPECT_EQ(with_ticket_1, 1u);
}

// The attr_text_ref decoder takes only what the format allows: references to string or
// integer columns, texts inside the chunk, one of the two text columns; a reference that
// does not resolve (an integer column null in that row, a column not given) fails.
TEST(ColumnarSegment, AttributeReferencesDecodeOnlyWhenWellFormed) {
  std::vector<std::string_view> text;
  std::vector<uint8_t> large, ref;
  // "ab" (own), session_id, large, input_tokens
  const std::string good = std::string("\x04" "ab" "\x01", 4) + static_cast<char>(kColSessionId) + '\0' + "\x01" +
                           static_cast<char>(kColInputTokens);
  ASSERT_TRUE(DecodeAttrTextRef(good, 4, &text, &large, &ref));
  EXPECT_EQ(text[0], "ab");
  EXPECT_EQ(ref, (std::vector<uint8_t>{0, kColSessionId, 0, kColInputTokens}));
  EXPECT_EQ(large, (std::vector<uint8_t>{0, 0, 1, 0}));
  EXPECT_FALSE(DecodeAttrTextRef(good, 5, &text, &large, &ref));                        // too few
  EXPECT_FALSE(DecodeAttrTextRef(good.substr(0, good.size() - 1), 4, &text, &large, &ref));  // cut
  for (uint8_t bad : {uint8_t{0}, uint8_t{kColCostSource}, uint8_t{kColCostUsd}, uint8_t{kColAttrText}, uint8_t{200}}) {
    std::string b = good;
    b[4] = static_cast<char>(bad);
    EXPECT_FALSE(DecodeAttrTextRef(b, 4, &text, &large, &ref)) << int{bad};
  }
  EXPECT_FALSE(DecodeAttrTextRef(std::string("\x09" "ab", 3), 1, &text, &large, &ref));  // text past the end
  EXPECT_FALSE(DecodeAttrValues("\x03" "ab", good, 4, &text, &large, &ref));            // both columns
  ASSERT_TRUE(DecodeAttrValues({}, good, 4, &text, &large, &ref));
  // Two rows: attributes 0-1 in row 0, 2-3 in row 1.
  const std::vector<uint32_t> offsets = {0, 2, 4};
  const std::vector<std::string_view> sessions = {"ticket-1", "ticket-2"};
  const std::vector<int64_t> tokens = {-5, 1234};
  std::vector<uint8_t> present = {1, 1};
  AttrRefColumns cols;
  cols.strs[kColSessionId] = &sessions;
  cols.ints[kColInputTokens] = &tokens;
  cols.int_present[kColInputTokens] = &present;
  std::deque<std::string> arena;
  ASSERT_TRUE(ResolveAttrRefs(offsets, ref, cols, &text, &arena));
  EXPECT_EQ(text[1], "ticket-1");
  EXPECT_EQ(text[3], "1234");
  present[1] = 0;  // the row's integer is null
  EXPECT_FALSE(ResolveAttrRefs(offsets, ref, cols, &text, &arena));
  present[1] = 1;
  cols.strs[kColSessionId] = nullptr;  // not decoded (salvage: damaged)
  EXPECT_FALSE(ResolveAttrRefs(offsets, ref, cols, &text, &arena));
}

// A block none of whose attributes repeat a column keeps the plain text column (40).
TEST(ColumnarSegment, AttributesWithoutReferencesKeepTheTextColumn) {
  MemEnv env;
  TraceMap m;
  model::Span s = RefSpan(0, 0);
  s.clear_attributes();
  AddAttr(s.mutable_attributes(), "session.id")->mutable_value()->set_string_value("ticket-elsewhere");
  AddToMap(&m, s);
  ASSERT_TRUE(WriteSegment(&env, kDir, "plain.slseg", m).ok());
  std::vector<TraceEntry> entries;
  auto r = OpenOrDie(&env, kDir + "/plain.slseg", &entries);
  ASSERT_TRUE(r);
  ColumnarReader::BlockView v;
  ASSERT_TRUE(r->LoadBlockColumns(0, {kColAttrText, kColAttrTextRef}, &v).ok());
  EXPECT_FALSE(v.col(kColAttrText).empty());
  EXPECT_TRUE(v.col(kColAttrTextRef).empty());
  std::vector<std::string> got;
  ASSERT_TRUE(r->ReadTrace(entries[0].first_row, entries[0].row_count, &got).ok());
  EXPECT_TRUE(SameSpans(m.begin()->second, got));
}

TEST(ColumnarSegment, BloomFiltersHaveNoFalseNegatives) {
  MemEnv env;
  TraceMap m = ScanTraces();
  ASSERT_TRUE(WriteSegment(&env, kDir, "bloom.slseg", m).ok());
  auto r = OpenOrDie(&env, kDir + "/bloom.slseg");
  ASSERT_TRUE(r);
  std::set<std::string> sessions, users;
  for (const auto& [id, spans] : m) {
    EXPECT_TRUE(r->MayContainTrace(TraceKey::FromBytes(id)));
    for (const auto& s : spans) {
      sessions.insert(s.session_id());
      users.insert(s.user_id());
    }
  }
  for (const auto& s : sessions) EXPECT_TRUE(r->MayContainSession(s)) << s;
  for (const auto& u : users) EXPECT_TRUE(r->MayContainUser(u)) << u;
  int fp = 0;
  for (uint64_t i = 0; i < 10000; ++i) fp += r->MayContainTrace(TraceKey::FromBytes(store::testing::TraceId(1'000'000 + i)));
  EXPECT_LT(fp, 300);  // ~1% expected
  int sfp = 0;
  for (int i = 0; i < 10000; ++i) sfp += r->MayContainSession("other-" + std::to_string(i));
  EXPECT_LT(sfp, 300);
}

TEST(ColumnarSegment, BuilderRefusesBadInputAndLeavesNoFile) {
  MemEnv env;
  (void)env.CreateDir(kDir);
  auto b = ColumnarBuilder::Create(&env, kDir, "bad.slseg");
  ASSERT_TRUE(b.ok());
  model::Span s = store::testing::MakeSpan({5, 1});
  std::string bytes = s.SerializeAsString();
  TraceKey k5 = TraceKey::FromBytes(store::testing::TraceId(5));
  TraceKey k4 = TraceKey::FromBytes(store::testing::TraceId(4));
  EXPECT_EQ((*b)->AddTrace(k4, {bytes}, "", 0, 0).code(), StatusCode::kInvalidArgument);  // id mismatch
  EXPECT_EQ((*b)->AddTrace(k5, {"\xff\xff garbage"}, "", 0, 0).code(), StatusCode::kInvalidArgument);
  model::Span short_id = s;
  short_id.set_span_id("abc");
  EXPECT_EQ((*b)->AddTrace(k5, {short_id.SerializeAsString()}, "", 0, 0).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE((*b)->AddTrace(k5, {bytes}, "", 0, 0).ok());
  EXPECT_EQ((*b)->AddTrace(k4, {}, "", 0, 0).code(), StatusCode::kInvalidArgument);  // out of order
  EXPECT_TRUE(env.FileExists(kDir + "/bad.slseg.tmp"));
  EXPECT_FALSE(env.FileExists(kDir + "/bad.slseg"));
  b->reset();  // destroyed unfinished: abandoned
  EXPECT_FALSE(env.FileExists(kDir + "/bad.slseg.tmp"));

  // An empty segment is valid.
  ASSERT_TRUE(WriteSegment(&env, kDir, "empty.slseg", {}).ok());
  auto r = OpenOrDie(&env, kDir + "/empty.slseg");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->span_count(), 0u);
  EXPECT_FALSE(r->MayContainTrace(k5));
  int calls = 0;
  EXPECT_TRUE(r->Scan(kAll, {}, [&](const SpanColumns&, uint32_t) { ++calls; return Status::OK(); }).ok());
  EXPECT_EQ(calls, 0);
}

TEST(ColumnarSegment, TraceBiggerThanABlockSpansBlocks) {
  MemEnv env;
  TraceMap m;
  for (uint64_t k = 0; k < kBlockTargetRows + 500; ++k)
    AddToMap(&m, store::testing::MakeSpan({77, k + 1, k ? 1u : 0u, "s", model::v1::KIND_TOOL, model::v1::STATUS_OK,
                                           static_cast<int64_t>(k), static_cast<int64_t>(k + 1)}));
  AddToMap(&m, store::testing::MakeSpan({78, 1}));
  std::vector<WrittenTrace> w;
  ASSERT_TRUE(WriteSegment(&env, kDir, "big.slseg", m, &w).ok());
  auto r = OpenOrDie(&env, kDir + "/big.slseg");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->block_count(), 2u);
  std::vector<std::string> got;
  ASSERT_TRUE(r->ReadTrace(w[0].first_row, w[0].row_count, &got).ok());
  EXPECT_TRUE(SameSpans(m.begin()->second, got));
  got.clear();
  ASSERT_TRUE(r->ReadTrace(w[1].first_row, w[1].row_count, &got).ok());
  EXPECT_TRUE(SameSpans(std::next(m.begin())->second, got));
}

}  // namespace
}  // namespace sightline::store::columnar

namespace sightline::store::columnar {
namespace {

// The reused-context hasher that keys payload deduplication must give exactly the
// one-shot SHA-256, for empty, short, block-sized and multi-block inputs, call after
// call on the same context.
TEST(PayloadHashing, ReusedContextMatchesOneShotSha256) {
  PieceHasher h;
  std::vector<std::string> inputs = {"", "a", std::string(55, 'x'), std::string(64, 'y'), std::string(100000, 'z'),
                                     "{\"role\":\"user\",\"content\":\"hello\"}"};
  for (int round = 0; round < 2; ++round) {
    for (const std::string& in : inputs) {
      PieceDigest d = h.Digest(in);
      std::string want = Sha256(in);
      ASSERT_EQ(want.size(), 32u);
      EXPECT_EQ(std::string(reinterpret_cast<const char*>(d.bytes.data()), 32), want) << in.size() << " bytes";
    }
  }
  // The known vector for "abc".
  PieceDigest abc = h.Digest("abc");
  EXPECT_EQ(abc.bytes[0], 0xba);
  EXPECT_EQ(abc.bytes[31], 0xad);
  EXPECT_FALSE(h.Digest("abc") == h.Digest("abd"));
}

// Payload frames from compaction are compressed with zstd's parameters for text (and,
// messages of words, word-coded first: word_code_test.cc); the flush's level is left as
// CompressChunk has it. Either reads back through DecompressFrame exactly, and on
// messages of words store fewer bytes than plain level 7, and leave the context as plain
// compression finds it.
TEST(PayloadCompression, TextFramesReadBackAndAreSmallerOnWords) {
  static const char* const kWords[] = {"refund", "order",   "tracking", "the",    "package", "delivery",
                                       "we",     "account", "invoice",  "review", "policy",  "within",
                                       "thirty", "days",    "escalate", "ticket", "credit",  "card"};
  std::mt19937 rng(7);
  std::string frame;
  while (frame.size() < 256 * 1024) {
    frame += "{\"role\":\"assistant\",\"parts\":[{\"type\":\"text\",\"content\":\"";
    for (int w = 0; w < 40; ++w) frame += std::string(kWords[rng() % 18]) + " ";
    frame += "\"}]}";
  }
  std::string plain, text, flush_plain, flush_text, back, why;
  ASSERT_EQ(CompressChunk(frame, &plain, kZstdLevel), kCodecZstd);
  ASSERT_EQ(CompressTextFrame(frame, &text, kZstdLevel), kCodecWordZstd);
  EXPECT_LT(text.size(), plain.size());
  ASSERT_TRUE(DecompressFrame(text, kCodecWordZstd, frame.size(), &back, &why)) << why;
  EXPECT_EQ(back, frame);
  // Below kZstdLevel (the flush) a text frame is what CompressChunk writes.
  ASSERT_EQ(CompressTextFrame(frame, &flush_text, kFlushZstdLevel), kCodecZstd);
  ASSERT_EQ(CompressChunk(frame, &flush_plain, kFlushZstdLevel), kCodecZstd);
  EXPECT_EQ(flush_text, flush_plain);
  // The thread's context carries no text parameters into the next plain chunk.
  std::string again;
  ASSERT_EQ(CompressChunk(frame, &again, kZstdLevel), kCodecZstd);
  EXPECT_EQ(again, plain);
  // Short frames are stored raw, as chunks are.
  EXPECT_EQ(CompressTextFrame("tiny", &text, kZstdLevel), kCodecRaw);
  EXPECT_EQ(text, "tiny");
}

}  // namespace
}  // namespace sightline::store::columnar
