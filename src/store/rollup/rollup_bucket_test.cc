// rollup::Bucket's open-addressing table against a std::map of the same rows: random
// inserts, erases and EraseIf sweeps, from an empty bucket through several growths and
// back, with each row's values recognisable so that a row moved into an erased one's
// place is found under its own tuple.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <tuple>
#include <vector>

#include "store/rollup/rollup.h"

namespace sightline::store::rollup {
namespace {

auto Key(const Tuple& t) {
  return std::tie(t.project, t.agent, t.tool, t.model, t.service, t.environment, t.user, t.status, t.kind);
}
struct TupleLess {
  bool operator()(const Tuple& a, const Tuple& b) const { return Key(a) < Key(b); }
};

Tuple RandomTuple(std::mt19937_64& rng, uint32_t spread) {
  Tuple t;
  t.project = 1 + static_cast<uint32_t>(rng() % 2);
  t.agent = static_cast<uint32_t>(rng() % spread);
  t.tool = static_cast<uint32_t>(rng() % spread);
  t.model = static_cast<uint32_t>(rng() % 3);
  t.status = static_cast<uint8_t>(rng() % 3);
  t.kind = static_cast<uint8_t>(rng() % 4);
  return t;
}

void ExpectSame(Bucket& b, const std::map<Tuple, int64_t, TupleLess>& want) {
  ASSERT_EQ(b.size(), want.size());
  ASSERT_EQ(b.values().size(), want.size());
  for (const auto& [t, count] : want) {
    Values* v = b.Find(t);
    ASSERT_NE(v, nullptr);
    EXPECT_EQ(v->count, count);
  }
  for (size_t i = 0; i < b.size(); ++i) {
    auto it = want.find(b.tuples()[i]);
    ASSERT_NE(it, want.end());
    EXPECT_EQ(b.values()[i].count, it->second) << "row " << i << " holds another tuple's values";
  }
}

TEST(RollupBucket, AgreesWithAMapThroughInsertsErasesAndGrowth) {
  for (uint32_t spread : {3u, 40u, 400u}) {
    SCOPED_TRACE(spread);
    std::mt19937_64 rng(spread);
    Bucket b;
    std::map<Tuple, int64_t, TupleLess> want;
    int64_t next = 1;
    EXPECT_EQ(b.Find(RandomTuple(rng, spread)), nullptr);  // an empty bucket
    b.Erase(RandomTuple(rng, spread));
    for (int step = 0; step < 20000; ++step) {
      const Tuple t = RandomTuple(rng, spread);
      const bool grow = step < 12000;  // then mostly erasing
      if (rng() % 10 < (grow ? 7u : 3u)) {
        if (b.Find(t) != nullptr) {
          ASSERT_TRUE(want.count(t));
          continue;
        }
        ASSERT_FALSE(want.count(t));
        b.Insert(t)->count = next;
        want[t] = next++;
      } else {
        b.Erase(t);
        want.erase(t);
      }
      if (step % 997 == 0) ExpectSame(b, want);
      if (step % 4999 == 0) {  // a sweep, as retention and deletion erase
        const uint32_t agent = static_cast<uint32_t>(rng() % spread);
        size_t n = b.EraseIf([&](const Tuple& x) { return x.agent == agent; });
        size_t m = std::erase_if(want, [&](const auto& kv) { return kv.first.agent == agent; });
        EXPECT_EQ(n, m);
      }
    }
    ExpectSame(b, want);
    if (spread == 400) {
      EXPECT_GT(want.size(), 1000u) << "the table must have grown several times";
    }
    for (const auto& [t, count] : want) b.Erase(t);
    EXPECT_TRUE(b.empty());
    for (const auto& [t, count] : want) EXPECT_EQ(b.Find(t), nullptr);
  }
}

TEST(RollupBucket, ErasesInARunThatWrapsAroundTheTable) {
  // Seven rows fit in the first table (16 slots, at most half full). Rows whose home
  // slots are the table's last and first make a probe run that wraps past its end;
  // erasing them in every order must leave each remaining row reachable.
  std::mt19937_64 rng(5);
  std::vector<Tuple> near_end;
  for (uint32_t a = 0; near_end.size() < 200; ++a) {
    Tuple t;
    t.project = 1;
    t.agent = a;
    const size_t home = TupleHash()(t) & 15;
    if (home >= 13 || home <= 1) near_end.push_back(t);
  }
  for (int trial = 0; trial < 300; ++trial) {
    std::shuffle(near_end.begin(), near_end.end(), rng);
    Bucket b;
    std::map<Tuple, int64_t, TupleLess> want;
    for (int i = 0; i < 7; ++i) {
      b.Insert(near_end[i])->count = i + 1;
      want[near_end[i]] = i + 1;
    }
    ExpectSame(b, want);
    std::vector<Tuple> order(near_end.begin(), near_end.begin() + 7);
    std::shuffle(order.begin(), order.end(), rng);
    for (const Tuple& t : order) {
      b.Erase(t);
      want.erase(t);
      ExpectSame(b, want);
      EXPECT_EQ(b.Find(t), nullptr);
    }
  }
}

}  // namespace
}  // namespace sightline::store::rollup
