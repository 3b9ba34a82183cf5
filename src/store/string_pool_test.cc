// StringIds and StringPool against std::unordered_map: dense first-seen ids through the
// table's growth, Find of strings never added, strings that share a hash's low bits,
// the empty string, and views that stay valid while the pool grows.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/string_ids.h"
#include "store/string_pool.h"

namespace sightline::store {
namespace {

// Strings of a few shapes: short ids, long names, prefixes of each other, bytes 0..255.
std::string RandomString(std::mt19937_64& rng) {
  switch (rng() % 4) {
    case 0: return "s" + std::to_string(rng() % 5000);
    case 1: return std::string(static_cast<size_t>(rng() % 300), static_cast<char>('a' + rng() % 3));
    case 2: {
      std::string s(static_cast<size_t>(rng() % 12), '\0');
      for (char& c : s) c = static_cast<char>(rng() % 256);
      return s;
    }
    default: return "agent/" + std::to_string(rng() % 64) + "/tool/" + std::to_string(rng() % 64);
  }
}

TEST(StringIds, GivesDenseFirstSeenIdsAsAMapWould) {
  std::mt19937_64 rng(7);
  StringIds ids;
  std::vector<std::string> owned;  // the caller's bytes: reserved so that they never move
  owned.reserve(40000);
  std::unordered_map<std::string, uint32_t> want;
  EXPECT_EQ(ids.Find("never"), StringIds::kMissing);  // before the first string
  for (int i = 0; i < 40000; ++i) {
    std::string s = RandomString(rng);
    const bool fresh = !want.count(s);
    const size_t before = ids.size();
    uint32_t id = ids.FindOrAdd(s, [&](std::string_view v) {
      EXPECT_TRUE(fresh) << "asked to keep a string already held";
      owned.emplace_back(v);
      return std::string_view(owned.back());
    });
    if (fresh) {
      EXPECT_EQ(id, before);
      want.emplace(s, id);
    } else {
      EXPECT_EQ(id, want.at(s));
      EXPECT_EQ(ids.size(), before);
    }
  }
  ASSERT_EQ(ids.size(), want.size());
  ASSERT_GT(want.size(), 5000u) << "the table must grow many times";
  for (const auto& [s, id] : want) {
    EXPECT_EQ(ids.Find(s), id);
    EXPECT_EQ(ids.Get(id), s);
    EXPECT_EQ(ids.strings()[id], s);
  }
  for (int i = 0; i < 2000; ++i) {
    std::string s = "absent-" + std::to_string(i);
    EXPECT_EQ(ids.Find(s), StringIds::kMissing) << s;
  }
}

TEST(StringIds, StringsThatCollideInTheFirstSlotsStayApart) {
  // Strings whose hashes share their low 6 bits land on the same slot of the first
  // table and on neighbours after growth: each keeps its own id.
  StringIds ids;
  std::vector<std::string> same_slot;
  for (int i = 0; same_slot.size() < 40; ++i) {
    std::string s = "k" + std::to_string(i);
    if ((StringIds::Hash(s) & 63) == 5) same_slot.push_back(s);
  }
  for (size_t i = 0; i < same_slot.size(); ++i)
    EXPECT_EQ(ids.FindOrAdd(same_slot[i], [](std::string_view v) { return v; }), i);
  for (size_t i = 0; i < same_slot.size(); ++i) EXPECT_EQ(ids.Find(same_slot[i]), i);
  EXPECT_EQ(ids.Find("k-none"), StringIds::kMissing);
}

TEST(StringPool, InternsFindsAndKeepsViewsValid) {
  StringPool pool;
  EXPECT_EQ(pool.Intern(""), 0u);
  EXPECT_EQ(pool.Find(""), 0u);
  EXPECT_EQ(pool.Get(0), "");
  EXPECT_EQ(pool.Find("project-a"), StringPool::kMissing);
  std::vector<std::pair<std::string, uint32_t>> seen;
  std::vector<std::string_view> views;
  std::mt19937_64 rng(11);
  for (int i = 0; i < 20000; ++i) {
    std::string s = RandomString(rng);
    if (i % 1000 == 0) s.assign(40000 + i, 'x');  // big strings get blocks of their own
    uint32_t id = pool.Intern(s);
    if (s.empty()) {
      EXPECT_EQ(id, 0u);
      continue;
    }
    EXPECT_EQ(pool.Intern(s), id);
    seen.emplace_back(s, id);
    views.push_back(pool.Get(id));
  }
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(pool.Find(seen[i].first), seen[i].second);
    EXPECT_EQ(views[i], seen[i].first) << "a view moved";
    EXPECT_EQ(views[i].data(), pool.Get(seen[i].second).data());
  }
  EXPECT_EQ(pool.Get(static_cast<uint32_t>(pool.size())), "");  // past the end
  EXPECT_GT(pool.MemoryBytes(), 20u * 40000);
}

}  // namespace
}  // namespace sightline::store
