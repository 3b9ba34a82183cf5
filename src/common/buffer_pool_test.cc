#include "common/buffer_pool.h"

#include <gtest/gtest.h>

namespace sightline {
namespace {

TEST(BufferPool, GivesBackTheStorageOfABufferItKept) {
  BufferPool pool(2, 1 << 20);
  EXPECT_EQ(pool.Take().capacity(), std::string().capacity());  // nothing kept yet
  std::string a(200 << 10, 'x');
  const char* storage = a.data();
  pool.Give(std::move(a));
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): Give leaves it empty
  EXPECT_EQ(pool.kept(), 1u);
  std::string b = pool.Take();
  EXPECT_TRUE(b.empty());
  EXPECT_GE(b.capacity(), size_t{200} << 10);
  EXPECT_EQ(b.data(), storage);
  EXPECT_EQ(pool.kept(), 0u);
}

TEST(BufferPool, KeepsNeitherSmallNorHugeBuffersAndAtMostItsCount) {
  BufferPool pool(2, 1 << 20);
  pool.Give(std::string(100, 'x'));      // cheap to allocate fresh
  pool.Give(std::string(2 << 20, 'x'));  // over the per-buffer limit
  EXPECT_EQ(pool.kept(), 0u);
  pool.Give(std::string(100 << 10, 'x'));
  pool.Give(std::string(300 << 10, 'x'));
  pool.Give(std::string(200 << 10, 'x'));  // full: replaces the smallest
  EXPECT_EQ(pool.kept(), 2u);
  EXPECT_GE(pool.Take().capacity(), size_t{300} << 10);  // the largest first
  EXPECT_GE(pool.Take().capacity(), size_t{200} << 10);
  pool.Give(std::string(100 << 10, 'x'));
  pool.Give(std::string(100 << 10, 'x'));
  pool.Give(std::string(90 << 10, 'x'));  // full, and smaller than all kept: freed
  EXPECT_EQ(pool.kept(), 2u);
  EXPECT_GE(pool.Take().capacity(), size_t{100} << 10);
  EXPECT_GE(pool.Take().capacity(), size_t{100} << 10);
}

}  // namespace
}  // namespace sightline
