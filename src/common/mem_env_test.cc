#include "common/mem_env.h"

#include <gtest/gtest.h>

namespace sightline {
namespace {

std::string Read(Env* env, const std::string& p) {
  auto r = ReadFileToString(env, p);
  return r.ok() ? *r : "<" + r.status().ToString() + ">";
}

TEST(MemEnv, DropUnsyncedDataKeepsOnlyWhatWasSynced) {
  MemEnv env;
  ASSERT_TRUE(env.CreateDir("/d").ok());
  auto f = env.NewWritableFile("/d/a");
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE(env.SyncDir("/d").ok());  // the file's name is durable
  ASSERT_TRUE((*f)->Append("hello ").ok());
  ASSERT_TRUE((*f)->Sync().ok());
  ASSERT_TRUE((*f)->Append("world").ok());
  EXPECT_EQ(Read(&env, "/d/a"), "hello world");
  env.DropUnsyncedData();
  EXPECT_EQ(Read(&env, "/d/a"), "hello ");
}

TEST(MemEnv, DirectoryChangesNeedSyncDir) {
  MemEnv env;
  ASSERT_TRUE(env.CreateDir("/d").ok());
  ASSERT_TRUE(WriteFileAtomically(&env, "/d/kept", "1").ok());  // syncs the directory
  {
    auto f = env.NewWritableFile("/d/new");
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE((*f)->Append("x").ok());
    ASSERT_TRUE((*f)->Sync().ok());
  }
  ASSERT_TRUE(env.RenameFile("/d/kept", "/d/renamed").ok());
  ASSERT_TRUE(env.RemoveFile("/d/renamed").ok());
  env.DropUnsyncedData();
  EXPECT_FALSE(env.FileExists("/d/new"));  // created, never made durable by SyncDir
  EXPECT_FALSE(env.FileExists("/d/renamed"));
  EXPECT_EQ(Read(&env, "/d/kept"), "1");  // the rename and removal are undone
}

TEST(MemEnv, FilesAndDirectoriesBehaveLikePosix) {
  MemEnv env;
  EXPECT_EQ(env.NewWritableFile("/missing/a").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(env.CreateDir("/x/y").ok());
  ASSERT_TRUE(WriteFileAtomically(&env, "/x/y/f", "abc").ok());
  auto kids = env.GetChildren("/x");
  ASSERT_TRUE(kids.ok());
  EXPECT_EQ(*kids, std::vector<std::string>{"y"});
  auto r = env.NewRandomAccessFile("/x/y/f");
  ASSERT_TRUE(r.ok());
  std::string out;
  ASSERT_TRUE((*r)->Read(1, 10, &out).ok());
  EXPECT_EQ(out, "bc");
  ASSERT_TRUE(env.Truncate("/x/y/f", 1).ok());
  EXPECT_EQ(Read(&env, "/x/y/f"), "a");
  auto lock = env.LockFile("/x/LOCK");
  ASSERT_TRUE(lock.ok());
  EXPECT_FALSE(env.LockFile("/x/LOCK").ok());
  lock->reset();
  EXPECT_TRUE(env.LockFile("/x/LOCK").ok());
}

TEST(PosixEnv, LockFileExcludesASecondHolder) {
  Env* env = Env::Default();
  std::string dir = ::testing::TempDir() + "/sl_lock_test";
  ASSERT_TRUE(env->CreateDir(dir).ok());
  auto a = env->LockFile(dir + "/LOCK");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  auto b = env->LockFile(dir + "/LOCK");
  EXPECT_FALSE(b.ok());
  a->reset();
  EXPECT_TRUE(env->LockFile(dir + "/LOCK").ok());
}

}  // namespace
}  // namespace sightline
