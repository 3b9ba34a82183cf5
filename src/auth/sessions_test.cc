#include "auth/sessions.h"

#include <gtest/gtest.h>

namespace sightline::auth {
namespace {

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
