// Columnar segment (format v2) facing damaged files: truncation and a flipped byte in
// every region (header, each column chunk, payload frames, meta, tail) give Corruption
// naming the file, never a crash; the version check; salvage of a file with one damaged
// column chunk or payload frame keeps every span it can rebuild.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "common/mem_env.h"
#include "store/coding.h"
#include "store/columnar/block_fields.h"
#include "store/columnar/columnar_test_util.h"

namespace sightline::store::columnar {
namespace {

using namespace testing;  // NOLINT: the columnar test helpers

const std::string kPath = "/seg/c.slseg";

// Opens, reads every trace and scans every column; the first error, or OK.
Status ReadEverything(Env* env, const std::string& path) {
  std::vector<TraceEntry> entries;
  auto r = ColumnarReader::Open(env, path, [&](const TraceEntry& e) {
    entries.push_back(e);
    return Status::OK();
  });
  if (!r.ok()) return r.status();
  for (const TraceEntry& e : entries) {
    std::vector<std::string> spans;
    SL_RETURN_IF_ERROR((*r)->ReadTrace(e.first_row, e.row_count, &spans));
  }
  return (*r)->Scan(kAll, {}, [](const SpanColumns&, uint32_t) { return Status::OK(); });
}

std::string GoodFile(MemEnv* env) {
  TraceMap m = PayloadSession(3, 6, 1'000'000'000);
  for (int k = 0; k < 3; ++k) AddToMap(&m, FullSpan(9, static_cast<uint64_t>(k) + 1, k ? 1 : 0, 100 + k, k));
  EXPECT_TRUE(WriteSegment(env, "/seg", "c.slseg", m).ok());
  auto f = ReadFileToString(env, kPath);
  EXPECT_TRUE(f.ok());
  return f.ok() ? *f : std::string();
}

TEST(ColumnarCorruption, FlippedByteInEveryRegionIsCorruption) {
  MemEnv env;
  const std::string good = GoodFile(&env);
  ASSERT_TRUE(ReadEverything(&env, kPath).ok());
  auto r = ColumnarReader::Open(&env, kPath, [](const TraceEntry&) { return Status::OK(); });
  ASSERT_TRUE(r.ok());
  auto regions = (*r)->regions();
  size_t chunks = 0, frames = 0;
  for (const auto& reg : regions) {
    chunks += reg.what.rfind("block", 0) == 0;
    frames += reg.what.rfind("payload frame", 0) == 0;
  }
  ASSERT_GT(chunks, 20u);
  ASSERT_GE(frames, 1u);
  for (const auto& reg : regions) {
    ASSERT_GT(reg.length, 0u) << reg.what;
    for (uint64_t at : {reg.offset, reg.offset + reg.length / 2, reg.offset + reg.length - 1}) {
      if (reg.what == "header" && at >= 8 && at < 12) continue;  // the version: checked below
      std::string bad = good;
      bad[at] = static_cast<char>(bad[at] ^ 0x5a);
      env.PutFile(kPath, bad);
      Status s = ReadEverything(&env, kPath);
      EXPECT_EQ(s.code(), StatusCode::kCorruption) << reg.what << " byte " << at << ": " << s.ToString();
      EXPECT_NE(s.message().find(kPath), std::string::npos) << s.ToString();
      if (reg.what.rfind("block", 0) == 0 || reg.what.rfind("payload frame", 0) == 0) {
        EXPECT_NE(s.message().find(reg.what.substr(0, 7)), std::string::npos) << s.ToString();
      }
    }
  }
}

TEST(ColumnarCorruption, TruncationIsCorruption) {
  MemEnv env;
  const std::string good = GoodFile(&env);
  for (size_t len : {size_t{0}, size_t{10}, size_t{16}, size_t{63}, good.size() / 2, good.size() - 49,
                     good.size() - 48, good.size() - 1}) {
    env.PutFile(kPath, good.substr(0, len));
    Status s = ReadEverything(&env, kPath);
    EXPECT_EQ(s.code(), StatusCode::kCorruption) << len << ": " << s.ToString();
    EXPECT_NE(s.message().find(kPath), std::string::npos);
  }
  env.PutFile(kPath, good + "x");  // trailing garbage moves the tail
  EXPECT_EQ(ReadEverything(&env, kPath).code(), StatusCode::kCorruption);
}

TEST(ColumnarCorruption, RefusesOtherVersionsClearly) {
  MemEnv env;
  std::string good = GoodFile(&env);
  struct Case {
    uint32_t version;
    const char* says;
  };
  for (const Case& c : {Case{1, "version 1"}, Case{3, "unsupported segment format version 3"},
                        Case{0xffffffff, "unsupported segment format version"}}) {
    std::string bad = good;
    std::string v;
    PutFixed32(&v, c.version);
    bad.replace(8, 4, v);
    env.PutFile(kPath, bad);
    Status s = ReadEverything(&env, kPath);
    EXPECT_EQ(s.code(), StatusCode::kCorruption);
    EXPECT_NE(s.message().find(c.says), std::string::npos) << s.ToString();
  }
  auto v = PeekFormatVersion(&env, kPath);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, 0xffffffffu);
}

// Every single-byte flip over a small file (all regions, every offset): never a crash,
// always Corruption or (rarely, where a flip is harmless) OK with intact spans.
TEST(ColumnarCorruption, EveryByteFlipOfASmallFile) {
  MemEnv env;
  TraceMap m;
  for (int k = 0; k < 2; ++k) AddToMap(&m, FullSpan(9, static_cast<uint64_t>(k) + 1, k ? 1 : 0, 100 + k, k));
  ASSERT_TRUE(WriteSegment(&env, "/seg", "c.slseg", m).ok());
  std::string good = *ReadFileToString(&env, kPath);
  for (size_t at = 0; at < good.size(); ++at) {
    std::string bad = good;
    bad[at] = static_cast<char>(bad[at] ^ 0x01);
    env.PutFile(kPath, bad);
    Status s = ReadEverything(&env, kPath);
    if (at >= 8 && at < 12) continue;  // version
    EXPECT_EQ(s.code(), StatusCode::kCorruption) << "byte " << at;
  }
}

// Clears what column `name` holds (as ColumnName spells it) from a span.
void ClearColumn(std::string_view name, model::Span* s) {
  uint8_t id = 0;
  for (uint8_t c = 1; c < kColMax; ++c)
    if (ColumnName(c) == name) id = c;
  ASSERT_NE(id, 0) << "no column named " << name;
  for (const auto& f : fields::kStrFields)
    if (f.id == id) f.mut(s)->clear();
  for (const auto& f : fields::kByteFields)
    if (f.id == id) f.set(s, 0);
  for (const auto& f : fields::kIntFields)
    if (f.id == id) f.clear(s);
  for (const auto& f : fields::kDoubleFields)
    if (f.id == id) f.clear(s);
  switch (id) {
    case kColReceived: s->clear_received_ns(); break;
    case kColAttrKeys:
    case kColAttrText:
    case kColAttrTypes: s->clear_attributes(); break;
    case kColAttrPayload: {
      auto* a = s->mutable_attributes();
      for (int i = a->size(); i-- > 0;)
        if (a->Get(i).value().string_value().size() >= kLargeAttrBytes) a->DeleteSubrange(i, 1);
      break;
    }
    case kColInput: s->clear_input_json(); break;
    case kColOutput: s->clear_output_json(); break;
    case kColScope:
      s->clear_resource();
      s->clear_scope_name();
      s->clear_scope_version();
      s->clear_scope_attributes();
      break;
    case kColRest:
      s->clear_events();
      s->clear_links();
      s->clear_trace_state();
      s->clear_dropped_attributes_count();
      s->clear_dropped_events_count();
      s->clear_dropped_links_count();
      break;
    default: break;
  }
}

// Removes the attributes whose text a file refers to column `name` for (the writer
// refers whenever a value of 2 or more bytes is the row's string column value, or the
// decimal text of its integer column): salvage loses them with a damaged column.
void DropAttrsReferring(std::string_view name, model::Span* s) {
  auto* a = s->mutable_attributes();
  for (int i = a->size(); i-- > 0;) {
    const auto& v = a->Get(i).value();
    std::string text;
    if (v.value_case() == opentelemetry::proto::common::v1::AnyValue::kStringValue) text = v.string_value();
    if (v.value_case() == opentelemetry::proto::common::v1::AnyValue::kIntValue) text = std::to_string(v.int_value());
    if (text.size() < 2 || text.size() >= kLargeAttrBytes) continue;
    bool same = false;
    for (const auto& f : fields::kStrFields)
      if (ColumnName(f.id) == name && v.has_string_value() && f.get(*s) == text) same = true;
    for (const auto& f : fields::kIntFields)
      if (ColumnName(f.id) == name && v.has_int_value() && f.has(*s) && std::to_string(f.get(*s)) == text) same = true;
    if (same) a->DeleteSubrange(i, 1);
  }
}

// The columns a rebuilt span says it lost (kSalvageLostAttribute), removed from it.
std::vector<std::string> TakeLost(model::Span* s) {
  std::vector<std::string> out;
  auto* a = s->mutable_attributes();
  for (int i = a->size(); i-- > 0;) {
    if (a->Get(i).key() != ColumnarReader::kSalvageLostAttribute) continue;
    std::string names = a->Get(i).value().string_value();
    for (size_t at = 0; at <= names.size();) {
      size_t comma = std::min(names.find(',', at), names.size());
      out.push_back(names.substr(at, comma - at));
      at = comma + 1;
    }
    a->DeleteSubrange(i, 1);
  }
  return out;
}

// A bit flipped in one column chunk or one payload frame at a time: salvage gives every
// span back whose ids, times and project read; a span rebuilt without a field names
// the lost column, and equals the span written in every other field; a damaged
// trace_id column costs nothing (the trace table names the rows' trace); the damage
// is Corruption naming the file and the block and column, or frame. A plain trace read
// fails the same traces (all of the block's), which is what salvage used to lose.
TEST(ColumnarCorruption, SalvageKeepsTheSpansADamagedColumnOrFrameDoesNotHold) {
  MemEnv env;
  TraceMap m = PayloadSession(3, 6, 1'000'000'000);
  for (int k = 0; k < 3; ++k) AddToMap(&m, FullSpan(9, static_cast<uint64_t>(k) + 1, k ? 1 : 0, 100 + k, k));
  // Receive times shared by a trace's spans and computed costs equal to the cost: the
  // block holds received_ns_run and computed_cost_usd_ref (ids 47, 48), damaged in turn too.
  int64_t request = 0;
  for (auto& [id, spans] : m) {
    ++request;
    for (auto& sp : spans) {
      sp.set_received_ns(2'000'000'000'000 + request);
      if (sp.has_cost_usd() && sp.span_id() != FullSpan(9, 1, 0, 100, 0).span_id()) sp.set_computed_cost_usd(sp.cost_usd());
    }
  }
  ASSERT_TRUE(WriteSegment(&env, "/seg", "c.slseg", m).ok());
  const std::string good = *ReadFileToString(&env, kPath);
  std::map<std::string, model::Span> sent;  // span id -> span
  for (const auto& [id, spans] : m)
    for (const auto& sp : spans) sent[sp.span_id()] = sp;
  const std::set<std::string> essential = {"span_id", "parent_span_id", "start_ns", "end_ns", "project"};

  std::vector<ColumnarReader::Region> regions;
  {
    auto r = ColumnarReader::Open(&env, kPath, [](const TraceEntry&) { return Status::OK(); });
    ASSERT_TRUE(r.ok());
    ASSERT_EQ((*r)->block_count(), 1u);
    regions = (*r)->regions();
  }
  size_t tried = 0, kept_partial = 0, lost_rows = 0, referring_lost = 0;
  for (const auto& reg : regions) {
    const bool frame = reg.what.rfind("payload frame", 0) == 0;
    if (!frame && reg.what.rfind("block", 0) != 0) continue;
    SCOPED_TRACE(reg.what);
    const size_t q1 = reg.what.find('\''), q2 = reg.what.rfind('\'');
    const std::string column = frame ? "" : reg.what.substr(q1 + 1, q2 - q1 - 1);
    std::string bad = good;
    bad[static_cast<size_t>(reg.offset + reg.length / 2)] ^= 0x08;
    env.PutFile(kPath, bad);
    std::vector<TraceEntry> entries;
    auto r = ColumnarReader::Open(&env, kPath, [&](const TraceEntry& e) {
      entries.push_back(e);
      entries.back().agg = {};
      return Status::OK();
    });
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ++tried;
    size_t damaged_traces = 0;
    for (const TraceEntry& e : entries) {
      std::vector<std::string> plain;
      const bool plain_ok = (*r)->ReadTrace(e.first_row, e.row_count, &plain).ok();
      std::vector<std::string> got;
      ColumnarReader::SalvageReport rep;
      ASSERT_TRUE((*r)->SalvageTrace(e.id, e.first_row, e.row_count, &got, &rep).ok());
      if (rep.damage.ok()) {
        EXPECT_TRUE(plain_ok);
        EXPECT_EQ(rep.spans_lost + rep.spans_partial, 0u);
        EXPECT_TRUE(SameSpans(m[e.id.ToBytes()], got));
        continue;
      }
      ++damaged_traces;
      EXPECT_FALSE(plain_ok);
      EXPECT_EQ(rep.damage.code(), StatusCode::kCorruption);
      EXPECT_NE(rep.damage.message().find(kPath), std::string::npos) << rep.damage.ToString();
      EXPECT_NE(rep.damage.message().find(frame ? "payload frame" : "column '" + column + "'"), std::string::npos)
          << rep.damage.ToString();
      EXPECT_EQ(got.size() + rep.spans_lost, e.row_count);
      if (!frame && essential.count(column)) {
        EXPECT_EQ(rep.spans_lost, e.row_count);
        lost_rows += rep.spans_lost;
        continue;
      }
      EXPECT_EQ(rep.spans_lost, 0u);
      size_t partial = 0;
      for (const std::string& bytes : got) {
        model::Span g;
        ASSERT_TRUE(g.ParseFromString(bytes));
        ASSERT_TRUE(sent.count(g.span_id()));
        model::Span want = sent[g.span_id()];
        std::vector<std::string> lost = TakeLost(&g);
        partial += !lost.empty();
        for (const std::string& col : lost) {
          if (frame) {
            EXPECT_TRUE(col == "input" || col == "output" || col == "attr_payload") << col;
          } else if (column == "attr_keys" || column == "attr_text" || column == "attr_types" ||
                     column == "attr_text_ref") {  // 49 is reported as the field it holds (40)
            EXPECT_TRUE(col == "attr_keys" || col == "attr_text" || col == "attr_types") << col;
          } else if (column == "received_ns_run") {
            EXPECT_EQ(col, "received_ns");  // reported as the field it holds
          } else if (column == "computed_cost_usd_ref") {
            EXPECT_EQ(col, "computed_cost_usd");
          } else if (column == "cost_usd") {
            EXPECT_TRUE(col == "cost_usd" || col == "computed_cost_usd") << col;  // computed refers to it
          } else if (col == "attr_text") {
            // Attributes that referred to the damaged column are lost with it; the rest read.
            ++referring_lost;
            DropAttrsReferring(column, &want);
            DropAttrsReferring(column, &g);
            continue;
          } else {
            EXPECT_EQ(col, column);
          }
          ClearColumn(col, &want);
          ClearColumn(col, &g);
        }
        std::string diff;
        google::protobuf::util::MessageDifferencer d;
        d.ReportDifferencesToString(&diff);
        EXPECT_TRUE(d.Compare(want, g)) << "span differs beyond its lost columns: " << diff;
      }
      EXPECT_EQ(partial, rep.spans_partial);
      if (column == "trace_id") {
        EXPECT_EQ(partial, 0u);  // the table names the trace
      }
      kept_partial += partial;
    }
    EXPECT_GT(damaged_traces, 0u) << "the flip must damage some trace";
  }
  EXPECT_GT(tried, 25u);
  {  // the alternative encodings were there to be damaged
    auto r = ColumnarReader::Open(&env, kPath, [](const TraceEntry&) { return Status::OK(); });
    env.PutFile(kPath, good);
    auto rg = ColumnarReader::Open(&env, kPath, [](const TraceEntry&) { return Status::OK(); });
    ASSERT_TRUE(rg.ok());
    ColumnarReader::BlockView v;
    ASSERT_TRUE((*rg)->LoadBlockColumns(0, {kColReceivedRun, kColComputedCostRef, kColAttrTextRef}, &v).ok());
    EXPECT_FALSE(v.col(kColReceivedRun).empty());
    EXPECT_FALSE(v.col(kColComputedCostRef).empty());
    EXPECT_FALSE(v.col(kColAttrTextRef).empty());
  }
  EXPECT_GT(referring_lost, 0u);  // session.id (PayloadSession), gen_ai.system (FullSpan's provider)
  EXPECT_GT(kept_partial, 50u);
  EXPECT_GT(lost_rows, 0u);
}

}  // namespace
}  // namespace sightline::store::columnar
