#include "common/fault_injection_env.h"

#include <gtest/gtest.h>

#include "common/mem_env.h"

namespace sightline {
namespace {

using Op = FaultInjectionEnv::Op;

TEST(FaultInjectionEnv, FailsExactlyTheNthOperation) {
  MemEnv mem;
  FaultInjectionEnv env(&mem);
  ASSERT_TRUE(env.CreateDir("/d").ok());
  auto f = env.NewWritableFile("/d/f");
  ASSERT_TRUE(f.ok());
  env.FailNth(Op::kWrite, 2, Status::IOError("boom"));
  EXPECT_TRUE((*f)->Append("a").ok());
  Status s = (*f)->Append("b");
  EXPECT_EQ(s.code(), StatusCode::kIOError);
  EXPECT_NE(s.message().find("/d/f"), std::string::npos);
  EXPECT_TRUE((*f)->Append("c").ok());
  EXPECT_EQ(env.Failures(), 1);
  EXPECT_EQ(*ReadFileToString(&mem, "/d/f"), "ac");

  env.FailNth(Op::kSync, 1, Status::IOError("sync"), /*sticky=*/true);
  EXPECT_FALSE((*f)->Sync().ok());
  EXPECT_FALSE((*f)->Sync().ok());
  env.FailNth(Op::kRename, 1, Status::IOError("rename"));
  EXPECT_FALSE(env.RenameFile("/d/f", "/d/g").ok());
  EXPECT_TRUE(env.RenameFile("/d/f", "/d/g").ok());
  env.Reset();
  EXPECT_TRUE((*f)->Sync().ok());
}

TEST(FaultInjectionEnv, DiskFullReportsUnavailableAndNoSpace) {
  MemEnv mem;
  FaultInjectionEnv env(&mem);
  ASSERT_TRUE(env.CreateDir("/d").ok());
  env.SetDiskFull(true);
  auto f = env.NewWritableFile("/d/f");
  EXPECT_EQ(f.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(f.status().message().find("disk full"), std::string::npos);
  EXPECT_EQ(*env.FreeSpace("/d"), 0u);
  env.SetDiskFull(false);
  EXPECT_TRUE(env.NewWritableFile("/d/f").ok());
  EXPECT_GT(*env.FreeSpace("/d"), 0u);
}

}  // namespace
}  // namespace sightline
