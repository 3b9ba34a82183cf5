#include "common/thread_name.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

namespace sightline {
namespace {

TEST(ThreadName, NamesTheCallingThreadAndCutsLongNames) {
  std::mutex mu;
  std::condition_variable cv;
  int step = 0;
  std::string first, second;
  auto wait_for = [&](int n) {
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, [&] { return step >= n; });
  };
  auto advance = [&] {
    std::lock_guard<std::mutex> l(mu);
    ++step;
    cv.notify_all();
  };
  std::thread t([&] {
    wait_for(1);
    first = ThreadName();
    advance();
    wait_for(3);
    second = ThreadName();
  });
  NameThread(t, "sl-test");
  advance();
  wait_for(2);
  NameThread(t, "sl-a-name-longer-than-fifteen");
  advance();
  t.join();
  EXPECT_EQ(first, "sl-test");
  EXPECT_EQ(second, "sl-a-name-longe");  // Linux keeps 15 bytes
}

}  // namespace
}  // namespace sightline
