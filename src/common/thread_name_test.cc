#include "common/thread_name.h"

#include <gtest/gtest.h>

#include <thread>

namespace sightline {
namespace {

TEST(ThreadName, NamesTheCallingThreadAndCutsLongNames) {
  std::string short_name, long_name;
  std::thread t([&] {
    SetThreadName("sl-test");
    short_name = ThreadName();
    SetThreadName("sl-a-name-longer-than-fifteen");
    long_name = ThreadName();
  });
  t.join();
  EXPECT_EQ(short_name, "sl-test");
  EXPECT_EQ(long_name, "sl-a-name-longe");  // Linux keeps 15 bytes
}

}  // namespace
}  // namespace sightline
