// Manifest: edits round-trip; a failure at any write, fsync or rename while editing
// leaves, after a power loss, either the state before the failed edit or after it,
// never anything else, and never loses an edit that was reported durable.
#include "store/manifest/manifest.h"

#include <gtest/gtest.h>

#include <limits>

#include "common/fault_injection_env.h"
#include "common/mem_env.h"

namespace sightline::store::manifest {
namespace {

using FOp = FaultInjectionEnv::Op;

FileMeta File(uint64_t n, int64_t partition = 3) {
  FileMeta f;
  f.number = n;
  f.partition = partition;
  f.min_start_ns = static_cast<int64_t>(n) * 10;
  f.max_end_ns = static_cast<int64_t>(n) * 10 + 5;
  f.spans = n * 3;
  f.traces = n;
  f.bytes = n * 1000;
  f.covered_wal = n;
  return f;
}

// Edit i adds file i+1 and (from the third) removes file i-1, like a flush and a
// compaction would.
ManifestEdit EditNo(uint64_t i) {
  ManifestEdit e;
  e.added.push_back(File(i + 1));
  if (i >= 2) e.removed.push_back(i - 1);
  e.log_number = i + 1;
  return e;
}

TEST(Manifest, EditsRoundTripThroughReopen) {
  MemEnv env;
  ASSERT_TRUE(env.CreateDir("/d").ok());
  EXPECT_EQ(Manifest::Read(&env, "/d").status().code(), StatusCode::kNotFound);
  auto m = Manifest::Create(&env, "/d", ManifestState());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ManifestState expect;
  for (uint64_t i = 0; i < 20; ++i) {
    ASSERT_TRUE((*m)->LogAndApply(EditNo(i)).ok());
    ASSERT_TRUE(expect.Apply(EditNo(i)).ok());
  }
  uint64_t n = (*m)->NewFileNumber();
  EXPECT_GE(n, 21u);
  env.DropUnsyncedData();
  uint64_t number = 0;
  auto got = Manifest::Read(&env, "/d", &number);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->files, expect.files);
  EXPECT_EQ(got->log_number, 20u);
  EXPECT_EQ(number, (*m)->manifest_number());
  // A removal of a file that is not live is refused and changes nothing.
  ManifestEdit bad;
  bad.removed.push_back(999);
  EXPECT_EQ((*m)->LogAndApply(bad).code(), StatusCode::kCorruption);
  EXPECT_EQ((*m)->state().files, expect.files);
}

TEST(Manifest, CreateReplacesOlderManifestsAndCurrentNamesTheNewOne) {
  MemEnv env;
  ASSERT_TRUE(env.CreateDir("/d").ok());
  ManifestState s;
  ASSERT_TRUE(s.Apply(EditNo(0)).ok());
  auto a = Manifest::Create(&env, "/d", s);
  ASSERT_TRUE(a.ok());
  a->reset();
  ASSERT_TRUE(s.Apply(EditNo(1)).ok());
  auto b = Manifest::Create(&env, "/d", s);
  ASSERT_TRUE(b.ok());
  auto names = env.GetChildren("/d");
  int manifests = 0;
  for (const auto& n : *names) manifests += n.rfind("MANIFEST-", 0) == 0;
  EXPECT_EQ(manifests, 1);
  EXPECT_EQ(Manifest::Read(&env, "/d")->files, s.files);
}

TEST(Manifest, GarbageIsCorruptionNamingTheFile) {
  MemEnv env;
  ASSERT_TRUE(env.CreateDir("/d").ok());
  env.PutFile("/d/CURRENT", "MANIFEST-000009\n");
  auto r = Manifest::Read(&env, "/d");
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(r.status().message().find("MANIFEST-000009"), std::string::npos);
  env.PutFile("/d/CURRENT", "nonsense\n");
  EXPECT_EQ(Manifest::Read(&env, "/d").status().code(), StatusCode::kCorruption);
  env.PutFile("/d/CURRENT", "MANIFEST-000009\n");
  env.PutFile("/d/MANIFEST-000009", std::string(100, 'x'));
  EXPECT_EQ(Manifest::Read(&env, "/d").status().code(), StatusCode::kCorruption);
}

// The crash table: fail the Nth operation of each kind during a run of edits, then
// lose power. Every edit reported OK survives; the failed one is all-or-nothing.
TEST(Manifest, CrashAtAnyOperationKeepsAckedEditsAndIsAllOrNothing) {
  for (FOp op : {FOp::kWrite, FOp::kSync, FOp::kCreate, FOp::kRename, FOp::kSyncDir, FOp::kRemove}) {
    for (int n = 1; n <= 10; ++n) {
      SCOPED_TRACE("op " + std::to_string(static_cast<int>(op)) + " n " + std::to_string(n));
      MemEnv mem;
      FaultInjectionEnv env(&mem);
      ASSERT_TRUE(env.CreateDir("/d").ok());
      auto m = Manifest::Create(&env, "/d", ManifestState());
      ASSERT_TRUE(m.ok());
      env.FailNth(op, n, Status::IOError("injected"), /*sticky=*/true);
      ManifestState acked, tried;
      for (uint64_t i = 0; i < 8; ++i) {
        tried = acked;
        ASSERT_TRUE(tried.Apply(EditNo(i)).ok());
        if (!(*m)->LogAndApply(EditNo(i)).ok()) break;  // sticky: nothing later succeeds
        acked = tried;
      }
      m->reset();
      mem.DropUnsyncedData();
      auto got = Manifest::Read(&mem, "/d");
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      EXPECT_TRUE(got->files == acked.files || got->files == tried.files);
      // Reopening writes a fresh manifest, and it reads back the same.
      auto again = Manifest::Create(&mem, "/d", *got);
      ASSERT_TRUE(again.ok());
      EXPECT_EQ(Manifest::Read(&mem, "/d")->files, got->files);
    }
  }
}

// After one failed edit the manifest keeps working (the next edit starts a new file).
TEST(Manifest, FailedEditIsFollowedByAFreshManifest) {
  MemEnv mem;
  FaultInjectionEnv env(&mem);
  ASSERT_TRUE(env.CreateDir("/d").ok());
  auto m = Manifest::Create(&env, "/d", ManifestState());
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE((*m)->LogAndApply(EditNo(0)).ok());
  uint64_t before = (*m)->manifest_number();
  env.FailNth(FOp::kSync, 1, Status::IOError("injected"));
  EXPECT_FALSE((*m)->LogAndApply(EditNo(1)).ok());
  ASSERT_TRUE((*m)->LogAndApply(EditNo(1)).ok());
  EXPECT_GT((*m)->manifest_number(), before);
  mem.DropUnsyncedData();
  ManifestState expect;
  ASSERT_TRUE(expect.Apply(EditNo(0)).ok());
  ASSERT_TRUE(expect.Apply(EditNo(1)).ok());
  EXPECT_EQ(Manifest::Read(&mem, "/d")->files, expect.files);
}

TEST(Manifest, FileNumberWithNoSuccessorIsCorruption) {
  // A file numbered UINT64_MAX left next_file_number at or below it (number + 1
  // wrapped to 0), so a new segment could take a live file's number
  // (manifest_reader_fuzz checks that invariant on every state it reads).
  ManifestEdit e;
  e.added.push_back(File(std::numeric_limits<uint64_t>::max()));
  std::string rec;
  e.Encode(&rec);
  ManifestEdit back;
  ASSERT_TRUE(ManifestEdit::Decode(rec, &back).ok());
  ManifestState st;
  Status s = st.Apply(back);
  EXPECT_EQ(s.code(), StatusCode::kCorruption) << s.ToString();
  EXPECT_TRUE(st.files.empty());
  e.added[0] = File(std::numeric_limits<uint64_t>::max() - 1);
  ASSERT_TRUE(st.Apply(e).ok());
  EXPECT_EQ(st.next_file_number, std::numeric_limits<uint64_t>::max());
}

}  // namespace
}  // namespace sightline::store::manifest
