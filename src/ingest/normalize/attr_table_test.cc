// AttrTable against AttrIndex, the sorted index whose answers it must give: for every
// convention key and prefix, over generated attribute lists with duplicates, values
// that hold nothing, keys outside the table and keys under the prefixes.
#include "ingest/normalize/attr_table.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sightline::ingest::norm {
namespace {

TEST(AttrTable, EveryConventionKeyIsFoundAtItsIndex) {
  for (size_t i = 0; i < kConventionKeyCount; ++i)
    EXPECT_EQ(AttrTable::KeyIndex(kConventionKeys[i]), static_cast<int>(i)) << kConventionKeys[i];
  for (std::string_view other : {"", "g", "gen_ai", "gen_ai.", "gen_ai.system.", "gen_ai.systen",
                                 "Gen_ai.system", "status ", "user.i", "session.i"})
    EXPECT_EQ(AttrTable::KeyIndex(other), -1) << other;
  EXPECT_EQ(AttrTable::KeyIndex(std::string(100'000, 'g')), -1);
}

TEST(AttrTable, PrefixBitsMarkEveryPrefixAKeyStartsWith) {
  auto bit = [](std::string_view p) {
    for (size_t i = 0; i < kConventionPrefixCount; ++i)
      if (kConventionPrefixes[i] == p) return uint32_t{1} << i;
    ADD_FAILURE() << p;
    return uint32_t{0};
  };
  EXPECT_EQ(AttrTable::PrefixBits("gen_ai.system"), bit("gen_ai."));
  EXPECT_EQ(AttrTable::PrefixBits("gen_ai.prompt.0.role"), bit("gen_ai.") | bit("gen_ai.prompt."));
  EXPECT_EQ(AttrTable::PrefixBits("gen_ai.prompt.name"), bit("gen_ai.") | bit("gen_ai.prompt."));
  EXPECT_EQ(AttrTable::PrefixBits("llm.input_messages.3.message.role"),
            bit("llm.") | bit("llm.input_messages."));
  EXPECT_EQ(AttrTable::PrefixBits("tool.args.city"), bit("tool.args."));
  EXPECT_EQ(AttrTable::PrefixBits("tool.args"), 0u);
  EXPECT_EQ(AttrTable::PrefixBits("retrieval.documents."), bit("retrieval.documents."));
  EXPECT_EQ(AttrTable::PrefixBits("traceloop.association.properties.x"),
            bit("traceloop.association.properties."));
  EXPECT_EQ(AttrTable::PrefixBits("agent.name"), bit("agent."));
  EXPECT_EQ(AttrTable::PrefixBits("langfuse."), bit("langfuse."));
  EXPECT_EQ(AttrTable::PrefixBits("session.id"), 0u);
  EXPECT_EQ(AttrTable::PrefixBits(""), 0u);
}

// splitmix64
uint64_t Next(uint64_t* s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

TEST(AttrTable, AnswersAsTheSortedIndexDoes) {
  std::vector<std::string> keys(std::begin(kConventionKeys), std::end(kConventionKeys));
  for (std::string_view p : kConventionPrefixes) {
    keys.emplace_back(p);
    keys.push_back(std::string(p) + "0.message.role");
    keys.push_back(std::string(p) + "city");
  }
  for (const char* k : {"", "http.method", "gen_ai", "llm", "a", "zz.top", "gen_ai.systen"})
    keys.emplace_back(k);

  uint64_t seed = 7;
  AttrTable table;  // reused across lists, as the driver reuses it across spans
  for (int round = 0; round < 3000; ++round) {
    KeyValues attrs;
    size_t n = Next(&seed) % (round < 2000 ? 12 : 60);
    for (size_t i = 0; i < n; ++i) {
      KeyValue* kv = attrs.Add();
      kv->set_key(keys[Next(&seed) % keys.size()]);
      switch (Next(&seed) % 4) {
        case 0: break;  // a value that holds nothing
        case 1: kv->mutable_value()->set_int_value(static_cast<int64_t>(i)); break;
        default: kv->mutable_value()->set_string_value("v" + std::to_string(i)); break;
      }
    }
    AttrIndex index;
    index.Build(attrs);
    table.Build(attrs);
    ASSERT_EQ(table.empty(), index.empty());
    for (size_t i = 0; i < kConventionKeyCount; ++i) {
      ASSERT_EQ(table.Find(AttrKey::At(i)), index.Find(kConventionKeys[i]))
          << "round " << round << " key " << kConventionKeys[i];
    }
    for (size_t p = 0; p < kConventionPrefixCount; ++p) {
      AttrPrefix prefix = AttrPrefix::At(p);
      ASSERT_EQ(table.HasPrefix(prefix), index.HasPrefix(kConventionPrefixes[p])) << kConventionPrefixes[p];
      auto got = table.WithPrefix(prefix);
      auto want = index.WithPrefix(kConventionPrefixes[p]);
      ASSERT_EQ(got.size(), want.size()) << kConventionPrefixes[p];
      for (size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i].key, want[i].key);
        EXPECT_EQ(got[i].value, want[i].value);
        EXPECT_EQ(got[i].pos, want[i].pos);
      }
    }
  }
  table.Clear();
  EXPECT_TRUE(table.empty());
  for (size_t i = 0; i < kConventionKeyCount; ++i) EXPECT_EQ(table.Find(AttrKey::At(i)), nullptr);
}

TEST(AttrTable, TheFirstAttributeOfAKeyWinsEvenWhenItHoldsNothing) {
  KeyValues attrs;
  KeyValue* a = attrs.Add();
  a->set_key("gen_ai.system");  // no value
  KeyValue* b = attrs.Add();
  b->set_key("gen_ai.system");
  b->mutable_value()->set_string_value("openai");
  KeyValue* c = attrs.Add();
  c->set_key("gen_ai.request.model");
  c->mutable_value()->set_string_value("first");
  KeyValue* d = attrs.Add();
  d->set_key("gen_ai.request.model");
  d->mutable_value()->set_string_value("second");
  AttrTable t;
  t.Build(attrs);
  EXPECT_EQ(t.Find("gen_ai.system"), nullptr);
  ASSERT_NE(t.Find("gen_ai.request.model"), nullptr);
  EXPECT_EQ(t.Find("gen_ai.request.model")->string_value(), "first");
  EXPECT_TRUE(t.HasPrefix("gen_ai."));
  EXPECT_FALSE(t.HasPrefix("llm."));
}

}  // namespace
}  // namespace sightline::ingest::norm
