#include "auth/sessions.h"

#include <gtest/gtest.h>

namespace sightline::auth {
namespace {

TEST(SessionStore, CreateFindExpireRemove) {
  SessionStore s(100, 10);
  Session got;
  std::string id = s.Create("ana", 1000, &got);
  EXPECT_EQ(id.size(), 64u);
  EXPECT_EQ(got.csrf.size(), 64u);
  EXPECT_NE(got.csrf, id);
  auto f = s.Find(id, 1050);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->user, "ana");
  EXPECT_EQ(f->csrf, got.csrf);
  EXPECT_FALSE(s.Find(id, 1100));  // expired
  EXPECT_FALSE(s.Find(id, 1000));  // and gone
  std::string a = s.Create("ana", 0), b = s.Create("bob", 0);
  s.Remove(a);
  EXPECT_FALSE(s.Find(a, 1));
  EXPECT_TRUE(s.Find(b, 1));
  s.RemoveUser("bob");
  EXPECT_FALSE(s.Find(b, 1));
  EXPECT_FALSE(s.Find("", 1));
}

TEST(SessionStore, Bounded) {
  SessionStore s(100, 3);
  std::string first = s.Create("u", 0);
  for (int i = 1; i <= 5; ++i) s.Create("u", i);
  EXPECT_EQ(s.size(), 3u);
  EXPECT_FALSE(s.Find(first, 6));  // the soonest to expire went first
}

TEST(LoginLimiter, BlocksAfterMaxFailuresUntilTheWindowPasses) {
  LoginLimiter l(3, 60);
  EXPECT_EQ(l.RetryAfter("k", 0), 0);
  l.Failed("k", 0);
  l.Failed("k", 10);
  EXPECT_EQ(l.RetryAfter("k", 10), 0);
  l.Failed("k", 20);
  EXPECT_EQ(l.RetryAfter("k", 20), 40);  // until the failure at 0 is 60 s old
  EXPECT_EQ(l.RetryAfter("other", 20), 0);
  EXPECT_EQ(l.RetryAfter("k", 60), 0);   // one left the window
  l.Failed("k", 60);
  EXPECT_GT(l.RetryAfter("k", 61), 0);
  l.Succeeded("k");
  EXPECT_EQ(l.RetryAfter("k", 61), 0);
}

TEST(LoginLimiter, Bounded) {
  LoginLimiter l(2, 60, 4);
  for (int i = 0; i < 100; ++i) l.Failed("k" + std::to_string(i), i);
  // Still answers; the newest keys are kept.
  l.Failed("k99", 99);
  EXPECT_GT(l.RetryAfter("k99", 99), 0);
}

}  // namespace
}  // namespace sightline::auth
