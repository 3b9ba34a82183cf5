// The storage benchmark's baselines without a ClickHouse server: value renderings,
// parameter picking, the RowBinary rows, and SQLite in Phoenix's layout end to end.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "baselines/clickhouse_otel.h"
#include "baselines/otlp_text.h"
#include "baselines/query_params.h"
#include "baselines/sqlite_phoenix.h"

namespace sightline::bench {
namespace {

WorkloadOptions Small(Variant v, int64_t spans) {
  WorkloadOptions o;
  o.variant = v;
  o.total_spans = spans;
  return o;
}

QueryParams Pick(const WorkloadOptions& o) {
  WorkloadGenerator gen(o);
  ParamPicker picker(o.total_spans);
  ExportRequest req;
  while (gen.NextBatch(&req)) picker.Observe(req);
  QueryParams p;
  std::string error;
  EXPECT_TRUE(picker.Finish(&p, &error)) << error;
  return p;
}

TEST(OtlpText, UnflattenNestsDottedKeys) {
  struct Case {
    std::vector<std::pair<std::string, std::string>> in;
    std::string want;
  } cases[] = {
      {{}, "{}"},
      {{{"a", "1"}}, "{\"a\":1}"},
      {{{"a.b", "1"}, {"a.c", "\"x\""}, {"d", "true"}}, "{\"a\":{\"b\":1,\"c\":\"x\"},\"d\":true}"},
      {{{"session.id", "\"s\""}, {"gen_ai.tool.name", "\"t\""}, {"gen_ai.tool.call.id", "\"c\""}},
       "{\"session\":{\"id\":\"s\"},\"gen_ai\":{\"tool\":{\"name\":\"t\",\"call\":{\"id\":\"c\"}}}}"},
      // a key that is both a value and a prefix keeps the later one whole
      {{{"a", "1"}, {"a.b", "2"}}, "{\"a\":1,\"a.b\":2}"},
      {{{"a.b", "2"}, {"a", "1"}}, "{\"a\":{\"b\":2},\"a\":1}"},
  };
  for (const auto& c : cases) EXPECT_EQ(UnflattenJson(c.in), c.want);
}

TEST(OtlpText, ValuesRenderAsTheExporterAndPhoenixStoreThem) {
  AnyValue s, i, arr, bytes;
  s.set_string_value("a\"b\n");
  i.set_int_value(-42);
  arr.mutable_array_value()->add_values()->set_string_value("stop");
  arr.mutable_array_value()->add_values()->set_bool_value(true);
  bytes.set_bytes_value(std::string("\x01\x02\x03\x04", 4));
  EXPECT_EQ(AnyValueToString(s), "a\"b\n");
  EXPECT_EQ(AnyValueToString(i), "-42");
  EXPECT_EQ(AnyValueToString(arr), "[\"stop\",true]");
  EXPECT_EQ(AnyValueToString(bytes), "AQIDBA==");
  std::string json;
  AppendAnyValueJson(s, &json);
  EXPECT_EQ(json, "\"a\\\"b\\n\"");
  EXPECT_EQ(HexId(std::string("\x00\xab\xff", 3)), "00abff");
  EXPECT_EQ(SqliteTimestamp(1'767'225'600'123'456'789ULL), "2026-01-01 00:00:00.123456");
}

TEST(QueryParams, PickedDeterministicallyFromTheWorkload) {
  const QueryParams a = Pick(Small(Variant::kLean, 20'000));
  const QueryParams b = Pick(Small(Variant::kLean, 20'000));
  EXPECT_EQ(FormatParams(a), FormatParams(b));
  EXPECT_EQ(a.trace_id.size(), 32u);
  EXPECT_EQ(a.session_id.rfind("ticket-", 0), 0u);
  EXPECT_EQ(a.user_id.rfind("user-", 0), 0u);
  EXPECT_GE(a.trace_spans, 4);
  EXPECT_GE(a.session_traces, 1);
  EXPECT_FALSE(a.attr_value.empty());
  EXPECT_LT(a.window_start_ns, a.window_end_ns);
  EXPECT_EQ(a.total_spans, 20'000);
  // Payload outputs give a phrase of three workload words.
  const QueryParams p = Pick(Small(Variant::kPayload, 5'000));
  EXPECT_EQ(std::count(p.phrase.begin(), p.phrase.end(), ' '), 2) << p.phrase;
  EXPECT_NE(p.phrase, a.phrase);
}

TEST(QueryParams, FormatParseRoundTripAndErrors) {
  QueryParams p;
  p.trace_id = "ab";
  p.session_id = "ticket-1";
  p.attr_value = "TimeoutError";
  p.phrase = "a b c";
  p.window_end_ns = 99;
  QueryParams q;
  std::string error;
  ASSERT_TRUE(ParseParams(FormatParams(p), &q, &error)) << error;
  EXPECT_EQ(FormatParams(q), FormatParams(p));
  EXPECT_FALSE(ParseParams("trace_id=x\n", &q, &error));
  EXPECT_NE(error.find("missing key"), std::string::npos);
  std::string bad = FormatParams(p);
  bad.replace(bad.find("window_end_ns=99"), 16, "window_end_ns=9x");
  EXPECT_FALSE(ParseParams(bad, &q, &error));
  EXPECT_NE(error.find("window_end_ns"), std::string::npos);
  EXPECT_FALSE(ParseParams("no equals sign\n", &q, &error));
}

TEST(ClickHouse, OneRowBinaryRowPerSpan) {
  WorkloadGenerator gen(Small(Variant::kLean, 500));
  ExportRequest req;
  ASSERT_TRUE(gen.NextBatch(&req));
  std::string body;
  EXPECT_EQ(AppendClickHouseRows(req, &body), 500);
  // First row: Timestamp (UInt32), StartTimeUnixNano (UInt64), TraceId (32 hex chars).
  const auto& first = req.resource_spans(0).scope_spans(0).spans(0);
  uint32_t secs;
  uint64_t ns;
  std::memcpy(&secs, body.data(), 4);
  std::memcpy(&ns, body.data() + 4, 8);
  EXPECT_EQ(ns, first.start_time_unix_nano());
  EXPECT_EQ(secs, first.start_time_unix_nano() / 1'000'000'000ULL);
  EXPECT_EQ(static_cast<uint8_t>(body[12]), 32);
  EXPECT_EQ(body.substr(13, 32), HexId(first.trace_id()));
}

TEST(ClickHouse, QueriesQuoteTheirValues) {
  QueryParams p;
  p.session_id = "it's";
  p.phrase = "back\\slash";
  EXPECT_NE(ClickHouseQuery(QueryId::kQ2, p).find("'it\\'s'"), std::string::npos);
  EXPECT_NE(ClickHouseQuery(QueryId::kQ7, p).find("'back\\\\slash'"), std::string::npos);
  for (int q = 1; q <= kQueryCount; ++q)
    EXPECT_NE(ClickHouseQuery(static_cast<QueryId>(q), p).find("FORMAT TabSeparated"), std::string::npos);
}

class PhoenixTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::temp_directory_path() / ("phoenix_test_" + std::to_string(getpid()) + ".db")).string();
    Cleanup();
  }
  void TearDown() override { Cleanup(); }
  void Cleanup() {
    for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path_ + suffix).c_str());
  }
  // Loads the workload (optionally twice, as a retrying sender would) and closes.
  void Load(const WorkloadOptions& o, int times = 1) {
    std::string error;
    auto db = PhoenixSqlite::Open(path_, true, &error);
    ASSERT_TRUE(db) << error;
    for (int t = 0; t < times; ++t) {
      WorkloadGenerator gen(o);
      ExportRequest req;
      std::vector<PhoenixSpanRow> rows;
      while (gen.NextBatch(&req)) AppendPhoenixRows(req, &rows);
      ASSERT_TRUE(db->Begin(&error)) << error;
      for (const auto& r : rows) ASSERT_TRUE(db->Insert(r, &error)) << error;
      ASSERT_TRUE(db->Commit(&error)) << error;
    }
  }
  int64_t Scalar(const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    int64_t v = -1;
    if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
  }
  std::string path_;
};

TEST_F(PhoenixTest, QueriesAnswerWhatTheWorkloadHolds) {
  const WorkloadOptions o = Small(Variant::kPayload, 4'000);
  Load(o, 2);  // the second copy is ignored, as Phoenix ignores a known span_id
  EXPECT_EQ(Scalar("SELECT count(*) FROM spans"), 4'000);
  const QueryParams p = Pick(o);
  std::string error;
  auto db = PhoenixSqlite::Open(path_, false, &error);
  ASSERT_TRUE(db) << error;
  int64_t rows = 0;
  ASSERT_TRUE(db->RunQuery(QueryId::kQ1, p, &rows, &error)) << error;
  EXPECT_EQ(rows, p.trace_spans);
  ASSERT_TRUE(db->RunQuery(QueryId::kQ2, p, &rows, &error)) << error;
  EXPECT_EQ(rows, p.session_traces);
  ASSERT_TRUE(db->RunQuery(QueryId::kQ3, p, &rows, &error)) << error;
  EXPECT_GE(rows, 5);  // tools seen
  ASSERT_TRUE(db->RunQuery(QueryId::kQ4, p, &rows, &error)) << error;
  EXPECT_GE(rows, 1);
  ASSERT_TRUE(db->RunQuery(QueryId::kQ5, p, &rows, &error)) << error;
  EXPECT_GE(rows, 5);
  ASSERT_TRUE(db->RunQuery(QueryId::kQ6, p, &rows, &error)) << error;
  EXPECT_GE(rows, 1);
  ASSERT_TRUE(db->RunQuery(QueryId::kQ7, p, &rows, &error)) << error;
  EXPECT_GE(rows, 1);  // the phrase came from the picked trace's answer
  EXPECT_GT(Scalar("SELECT count(*) FROM span_costs WHERE total_cost > 0"), 0);
  EXPECT_EQ(Scalar("SELECT count(*) FROM span_cost_details"), 2 * Scalar("SELECT count(*) FROM span_costs"));
}

TEST_F(PhoenixTest, CumulativeCountersReachTheRoot) {
  Load(Small(Variant::kLean, 6'000));
  // Every stored error is counted in each of its stored ancestors, so a root's counter
  // equals the errors of its whole trace (roots arrive last in this workload).
  EXPECT_GT(Scalar("SELECT count(*) FROM spans WHERE status_code = 'ERROR'"), 0);
  EXPECT_EQ(Scalar("SELECT count(*) FROM spans r WHERE r.parent_id IS NULL AND r.cumulative_error_count != "
                   "(SELECT count(*) FROM spans s WHERE s.trace_rowid = r.trace_rowid AND s.status_code = 'ERROR')"),
            0);
  EXPECT_EQ(Scalar("SELECT count(*) FROM traces WHERE project_session_rowid IS NULL AND id IN "
                   "(SELECT trace_rowid FROM spans WHERE parent_id IS NULL)"),
            0);
}

TEST_F(PhoenixTest, OpeningSomethingElseFailsClearly) {
  std::string error;
  EXPECT_FALSE(PhoenixSqlite::Open(path_ + ".missing", false, &error));
  EXPECT_NE(error.find("cannot open"), std::string::npos);
}

}  // namespace
}  // namespace sightline::bench
