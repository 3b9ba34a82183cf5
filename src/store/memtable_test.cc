// Memtable: span bytes land in blocks that come back to a process-wide pool when the
// memtable dies, so the next memtable writes into memory that is already mapped.
#include "store/memtable.h"

#include <gtest/gtest.h>

#include <string>

#include "store/string_pool.h"

namespace sightline::store {
namespace {

SpanFacts FactsOf(uint64_t trace, uint64_t span) {
  SpanFacts f;
  f.trace = TraceKey::FromBytes(std::string(8, '\0') + std::string(reinterpret_cast<const char*>(&trace), 8));
  f.span_id = span;
  f.start_ns = 1;
  f.end_ns = 2;
  return f;
}

// Fills a memtable with `bytes` of span bytes in 64 KiB spans; checks they read back.
void Fill(Memtable* m, StringPool* pool, size_t bytes, char fill) {
  const std::string span(64 << 10, fill);
  for (size_t i = 0; i * span.size() < bytes; ++i) {
    SpanCounts old;
    EXPECT_FALSE(m->Add(FactsOf(1, i + 1), span, pool, &old));
  }
  std::vector<std::string_view> got;
  m->SpanBytes(*m->Find(FactsOf(1, 1).trace), &got);
  ASSERT_FALSE(got.empty());
  for (std::string_view s : got) ASSERT_EQ(s, span);
}

TEST(MemtableBlockPool, BlocksOfADeadMemtableServeTheNextOne) {
  Memtable::SetBlockPoolLimit(0);  // empty to start from a known state
  Memtable::SetBlockPoolLimit(size_t{64} << 20);
  ASSERT_EQ(Memtable::BlockPoolBytes(), 0u);
  StringPool pool;
  {
    Memtable m;
    Fill(&m, &pool, size_t{5} << 20, 'a');  // three 2 MiB blocks
    EXPECT_EQ(Memtable::BlockPoolBytes(), 0u);
  }
  const size_t freed = Memtable::BlockPoolBytes();
  EXPECT_EQ(freed, size_t{6} << 20);
  {
    Memtable m;
    Fill(&m, &pool, size_t{3} << 20, 'b');  // reuses two blocks; the bytes are its own
    EXPECT_EQ(Memtable::BlockPoolBytes(), freed - (size_t{4} << 20));
  }
  EXPECT_EQ(Memtable::BlockPoolBytes(), freed);
}

TEST(MemtableBlockPool, KeepsNoMoreThanItsLimit) {
  Memtable::SetBlockPoolLimit(0);
  Memtable::SetBlockPoolLimit(size_t{4} << 20);  // two blocks
  StringPool pool;
  {
    Memtable m;
    Fill(&m, &pool, size_t{9} << 20, 'c');  // five blocks
  }
  EXPECT_EQ(Memtable::BlockPoolBytes(), size_t{4} << 20);
  Memtable::SetBlockPoolLimit(size_t{2} << 20);  // lowering it frees the excess now
  EXPECT_EQ(Memtable::BlockPoolBytes(), size_t{2} << 20);
  Memtable::SetBlockPoolLimit(0);
  EXPECT_EQ(Memtable::BlockPoolBytes(), 0u);
}

}  // namespace
}  // namespace sightline::store
