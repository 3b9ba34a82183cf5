// TraceIndex's session table: sessions live in one array found by key, and a session
// that loses its last trace leaves by moving the array's last session into its place.
#include "store/trace_index.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace sightline::store {
namespace {

TraceKey Key(uint64_t n) {
  TraceKey k;
  k.hi = 0x5157;
  k.lo = n;
  return k;
}

SpanFacts Root(uint64_t trace, std::string_view session, int64_t start_ns, double cost) {
  SpanFacts f;
  f.trace = Key(trace);
  f.span_id = trace * 100 + 1;
  f.is_root = true;
  f.kind = model::v1::KIND_AGENT;
  f.status = model::v1::STATUS_OK;
  f.start_ns = start_ns;
  f.end_ns = start_ns + 1000;
  f.input_tokens = 10;
  f.output_tokens = 5;
  f.cost_usd = cost;
  f.has_cost = true;
  f.project = "default";
  f.name = "run";
  f.session_id = session;
  f.user_id = "u";
  return f;
}

// session id -> (traces, cost), from ForEachSession.
std::map<std::string, std::pair<size_t, double>> Sessions(const TraceIndex& idx) {
  std::map<std::string, std::pair<size_t, double>> out;
  idx.ForEachSession([&](const TraceIndex::Session& s) {
    EXPECT_TRUE(out.emplace(std::string(idx.pool().Get(s.session_id)), std::pair{s.traces.size(), s.cost_usd}).second);
  });
  return out;
}

const TraceIndex::Session* Find(const TraceIndex& idx, std::string_view session) {
  uint32_t project = idx.pool().Find("default"), id = idx.pool().Find(session);
  if (project == StringPool::kMissing || id == StringPool::kMissing) return nullptr;
  return idx.FindSession(project, id);
}

TEST(TraceIndexSessions, ASessionLeavingMovesTheLastIntoItsPlaceAndEveryOtherStaysFound) {
  TraceIndex idx;
  // Sessions a (traces 1, 2), b (3), c (4), d (5): d is last in the array.
  const std::pair<uint64_t, const char*> runs[] = {{1, "a"}, {2, "a"}, {3, "b"}, {4, "c"}, {5, "d"}};
  for (auto [t, s] : runs) idx.AddSpan(idx.FindOrAdd(Key(t)), Root(t, s, static_cast<int64_t>(t) * 1000, 0.5 * t));
  EXPECT_EQ(Sessions(idx).size(), 4u);
  ASSERT_NE(Find(idx, "a"), nullptr);
  EXPECT_EQ(Find(idx, "a")->traces.size(), 2u);
  EXPECT_DOUBLE_EQ(Find(idx, "a")->cost_usd, 1.5);

  // b loses its only trace: d moves into b's slot and is still found, with its totals.
  idx.Remove(*idx.Find(Key(3)));
  EXPECT_EQ(Find(idx, "b"), nullptr);
  ASSERT_NE(Find(idx, "d"), nullptr);
  EXPECT_EQ(Find(idx, "d")->traces.size(), 1u);
  EXPECT_DOUBLE_EQ(Find(idx, "d")->cost_usd, 2.5);
  EXPECT_EQ((Sessions(idx)), (std::map<std::string, std::pair<size_t, double>>{
                                 {"a", {2, 1.5}}, {"c", {1, 2.0}}, {"d", {1, 2.5}}}));

  // d grows after its move; the last session (c, now at the end) leaves without a move.
  idx.AddSpan(idx.FindOrAdd(Key(6)), Root(6, "d", 6000, 1.0));
  idx.Remove(*idx.Find(Key(4)));
  EXPECT_EQ(Find(idx, "c"), nullptr);
  EXPECT_EQ((Sessions(idx)), (std::map<std::string, std::pair<size_t, double>>{{"a", {2, 1.5}}, {"d", {2, 3.5}}}));

  // One of a's two traces leaves: a stays, recomputed; then the last one: a goes too.
  idx.Remove(*idx.Find(Key(1)));
  ASSERT_NE(Find(idx, "a"), nullptr);
  EXPECT_DOUBLE_EQ(Find(idx, "a")->cost_usd, 1.0);
  EXPECT_EQ(Find(idx, "a")->first_start_ns, 2000);
  idx.Remove(*idx.Find(Key(2)));
  EXPECT_EQ((Sessions(idx)), (std::map<std::string, std::pair<size_t, double>>{{"d", {2, 3.5}}}));
  ASSERT_NE(Find(idx, "d"), nullptr);
  EXPECT_EQ(Find(idx, "d")->traces.size(), 2u);

  // A new session after all that is found, and so is the old one.
  idx.AddSpan(idx.FindOrAdd(Key(7)), Root(7, "e", 7000, 0.25));
  ASSERT_NE(Find(idx, "e"), nullptr);
  EXPECT_DOUBLE_EQ(Find(idx, "e")->cost_usd, 0.25);
  EXPECT_DOUBLE_EQ(Find(idx, "d")->cost_usd, 3.5);
}

}  // namespace
}  // namespace sightline::store
