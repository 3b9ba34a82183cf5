// The audit trail: appends, the hash chain, verification naming the first bad record
// for each way of tampering, crash safety under the fault-injecting Env, retention.
#include "audit/audit_log.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <future>
#include <set>
#include <thread>

#include "audit/audit_reader.h"
#include "common/fault_injection_env.h"
#include "common/mem_env.h"

namespace sightline::audit {
namespace {

constexpr char kDir[] = "/data/audit";

AuditRecord Rec(const std::string& action, int64_t time_ns = 0) {
  AuditRecord r;
  r.kind = Kind::kAdmin;
  r.actor.principal = "alice";
  r.actor.remote = "127.0.0.1:5000";
  r.action = action;
  r.target = "project/payments";
  r.details_json = R"({"why":"test","n":1})";
  r.time_ns = time_ns;
  return r;
}

std::unique_ptr<AuditLog> OpenLog(Env* env, uint64_t segment_bytes = 64 << 20, int64_t retention_days = 0) {
  AuditLogOptions o;
  o.env = env;
  o.dir = kDir;
  o.segment_bytes = segment_bytes;
  o.retention_days = retention_days;
  auto log = AuditLog::Open(o);
  EXPECT_TRUE(log.ok()) << log.status().ToString();
  return log.ok() ? std::move(log).value() : nullptr;
}

VerifyReport Verify(Env* env) {
  auto r = VerifyAuditDir(env, kDir);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : VerifyReport{};
}

std::vector<std::string> Actions(Env* env) {
  std::vector<std::string> out;
  EXPECT_TRUE(ScanAuditRecords(env, kDir, 0, [&](const AuditRecord& r) {
                out.push_back(r.action);
                return true;
              }).ok());
  return out;
}

// Writes n records ("a1".."an") over files of about `per_file` records.
void Fill(MemEnv* env, int n, uint64_t segment_bytes = 64 << 20) {
  auto log = OpenLog(env, segment_bytes);
  ASSERT_NE(log, nullptr);
  for (int i = 1; i <= n; ++i) ASSERT_TRUE(log->Append(Rec("a" + std::to_string(i))).ok());
}

std::string FilePath(MemEnv* env, size_t index) {
  auto files = ListAuditFiles(env, kDir);
  EXPECT_TRUE(files.ok());
  return JoinPath(kDir, (*files)[index]);
}

std::vector<std::string> Lines(MemEnv* env, const std::string& path) {
  auto data = ReadFileToString(env, path);
  EXPECT_TRUE(data.ok());
  bool torn;
  std::vector<std::string> out;
  for (auto l : SplitAuditLines(*data, &torn)) out.emplace_back(l);
  return out;
}

void PutLines(MemEnv* env, const std::string& path, const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  env->PutFile(path, s);
}

TEST(AuditRecord, RoundTripsAndChecksItsHash) {
  AuditRecord r = Rec("key.create", 1700000000000000000);
  r.seq = 7;
  r.prev = std::string(kZeroHash);
  auto line = EncodeAuditLine(&r);
  ASSERT_TRUE(line.ok());
  ASSERT_EQ(line->back(), '\n');
  AuditRecord back;
  ASSERT_TRUE(ParseAuditLine(std::string_view(*line).substr(0, line->size() - 1), &back).ok());
  EXPECT_EQ(back.seq, 7u);
  EXPECT_EQ(back.action, "key.create");
  EXPECT_EQ(back.actor.principal, "alice");
  EXPECT_EQ(back.hash, r.hash);
  EXPECT_EQ(back.details_json, R"({"why":"test","n":1})");
  std::string edited = line->substr(0, line->size() - 1);
  edited[edited.find("alice")] = 'A';
  EXPECT_EQ(ParseAuditLine(edited, &back).code(), StatusCode::kCorruption);
}

TEST(AuditRecord, RefusesDetailsThatAreNotAnObject) {
  AuditRecord r = Rec("x");
  r.details_json = "[1,2]";
  EXPECT_EQ(EncodeAuditLine(&r).status().code(), StatusCode::kInvalidArgument);
  r.details_json = "{\"a\":";
  EXPECT_EQ(EncodeAuditLine(&r).status().code(), StatusCode::kInvalidArgument);
}

TEST(AuditLog, AppendsAChainThatVerifiesAndContinuesAfterReopen) {
  MemEnv env;
  Fill(&env, 5);
  {
    auto log = OpenLog(&env);
    EXPECT_EQ(log->last_seq(), 5u);
    std::vector<AuditRecord> batch = {Rec("b1"), Rec("b2")};
    ASSERT_TRUE(log->AppendBatch(std::move(batch)).ok());
    EXPECT_EQ(log->last_seq(), 7u);
  }
  VerifyReport r = Verify(&env);
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.records, 7u);
  EXPECT_EQ(r.first_seq, 1u);
  EXPECT_EQ(r.last_seq, 7u);
  EXPECT_EQ(Actions(&env), (std::vector<std::string>{"a1", "a2", "a3", "a4", "a5", "b1", "b2"}));
}

// A read (AppendAsync) is answered as soon as its record is synced, before HEAD is
// rewritten; admin appends (Append, or AppendAsync with after_head) only once HEAD
// covers them. Both callbacks run on the writer thread, so what each sees of HEAD is
// deterministic.
TEST(AuditLog, ReadsAreAnsweredOnceSyncedAdminActionsOnceHeadCoversThem) {
  MemEnv env;
  auto log = OpenLog(&env);
  ASSERT_NE(log, nullptr);
  ASSERT_TRUE(log->Append(Rec("key.create")).ok());
  auto head_seq = [&] {
    auto h = ReadChainPoint(&env, JoinPath(kDir, "HEAD"));
    return h.ok() ? h->seq : 0;
  };
  EXPECT_EQ(head_seq(), 1u);
  auto seen = [&](bool after_head) {
    std::promise<std::pair<Status, uint64_t>> p;
    std::vector<AuditRecord> v;
    v.push_back(Rec(after_head ? "user.create" : "trace.view"));
    log->AppendAsync(
        std::move(v), [&](Status st) { p.set_value({st, head_seq()}); }, after_head);
    return p.get_future().get();
  };
  auto [read_status, head_at_read] = seen(false);
  EXPECT_TRUE(read_status.ok()) << read_status.ToString();
  EXPECT_EQ(head_at_read, 1u);  // synced, HEAD not rewritten yet
  EXPECT_EQ(log->last_seq(), 2u);
  {  // an action answering once HEAD covers what others appended before it
    std::promise<uint64_t> p;
    log->WhenHeadCovers([&](Status) { p.set_value(head_seq()); });
    EXPECT_EQ(p.get_future().get(), 2u);
  }
  auto [admin_status, head_at_admin] = seen(true);
  EXPECT_TRUE(admin_status.ok()) << admin_status.ToString();
  EXPECT_EQ(head_at_admin, 3u);
  log.reset();
  EXPECT_EQ(head_seq(), 3u);
  EXPECT_EQ(Actions(&env), (std::vector<std::string>{"key.create", "trace.view", "user.create"}));
  EXPECT_TRUE(Verify(&env).ok);
}

TEST(AuditLog, ABadRecordFailsAloneAndLeavesNoGap) {
  MemEnv env;
  auto log = OpenLog(&env);
  ASSERT_TRUE(log->Append(Rec("ok1")).ok());
  AuditRecord bad = Rec("bad");
  bad.details_json = "not json";
  EXPECT_FALSE(log->Append(bad).ok());
  ASSERT_TRUE(log->Append(Rec("ok2")).ok());
  log.reset();
  EXPECT_TRUE(Verify(&env).ok);
  EXPECT_EQ(Actions(&env), (std::vector<std::string>{"ok1", "ok2"}));
}

TEST(AuditLog, ConcurrentAppendsShareSyncsAndKeepTheChain) {
  MemEnv env;
  FaultInjectionEnv fenv(&env);
  auto log = OpenLog(&fenv);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&log, t] {
      for (int i = 0; i < 50; ++i) ASSERT_TRUE(log->Append(Rec("t" + std::to_string(t))).ok());
    });
  for (auto& th : threads) th.join();
  log.reset();
  VerifyReport r = Verify(&env);
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.records, 200u);
}

// --- Tampering: each is found and the first bad record named.

TEST(AuditVerify, AnEditedByteIsNamed) {
  MemEnv env;
  Fill(&env, 6);
  std::string path = FilePath(&env, 0);
  auto lines = Lines(&env, path);
  size_t at = lines[3].find("payments");
  lines[3][at] = 'P';  // record 4
  PutLines(&env, path, lines);
  VerifyReport r = Verify(&env);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.bad_seq, 4u);
  EXPECT_EQ(r.bad_file, "audit-00000000000000000001.log");
  EXPECT_NE(r.problem.find("edited"), std::string::npos) << r.problem;
}

TEST(AuditVerify, AnEditedRecordWithARecomputedHashBreaksTheNextLink) {
  MemEnv env;
  Fill(&env, 6);
  std::string path = FilePath(&env, 0);
  auto lines = Lines(&env, path);
  AuditRecord rec;
  ASSERT_TRUE(ParseAuditLine(lines[2], &rec).ok());
  rec.action = "nothing.happened";
  auto line = EncodeAuditLine(&rec);  // a forger who knows the format
  ASSERT_TRUE(line.ok());
  lines[2] = line->substr(0, line->size() - 1);
  PutLines(&env, path, lines);
  VerifyReport r = Verify(&env);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.bad_seq, 4u);
  EXPECT_NE(r.problem.find("chain"), std::string::npos) << r.problem;
}

TEST(AuditVerify, ARemovedRecordIsNamed) {
  MemEnv env;
  Fill(&env, 6);
  std::string path = FilePath(&env, 0);
  auto lines = Lines(&env, path);
  lines.erase(lines.begin() + 2);  // record 3
  PutLines(&env, path, lines);
  VerifyReport r = Verify(&env);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.bad_seq, 4u);
  EXPECT_NE(r.problem.find("records 3 are missing"), std::string::npos) << r.problem;
}

TEST(AuditVerify, TwoReorderedRecordsAreNamed) {
  MemEnv env;
  Fill(&env, 6);
  std::string path = FilePath(&env, 0);
  auto lines = Lines(&env, path);
  std::swap(lines[1], lines[2]);  // records 2 and 3
  PutLines(&env, path, lines);
  VerifyReport r = Verify(&env);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.bad_seq, 3u);  // where 2 was expected
  EXPECT_NE(r.problem.find("missing"), std::string::npos) << r.problem;
}

TEST(AuditVerify, ATruncatedTailIsNamed) {
  MemEnv env;
  Fill(&env, 6);
  std::string path = FilePath(&env, 0);
  auto lines = Lines(&env, path);
  lines.pop_back();  // record 6, whole
  PutLines(&env, path, lines);
  VerifyReport r = Verify(&env);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.bad_seq, 6u);
  EXPECT_NE(r.problem.find("missing at the end"), std::string::npos) << r.problem;

  // Cut inside the last record: the same.
  MemEnv env2;
  Fill(&env2, 6);
  path = FilePath(&env2, 0);
  auto data = ReadFileToString(&env2, path);
  env2.PutFile(path, data->substr(0, data->size() - 20));
  r = Verify(&env2);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.bad_seq, 6u);
}

TEST(AuditVerify, ADroppedMiddleFileIsNamed) {
  MemEnv env;
  Fill(&env, 40, 4096);  // rolls every few records
  auto files = ListAuditFiles(&env, kDir);
  ASSERT_GE(files->size(), 3u);
  ASSERT_TRUE(Verify(&env).ok);
  uint64_t next_first = 0;
  ASSERT_TRUE(ParseAuditFileName((*files)[2], &next_first));
  ASSERT_TRUE(env.RemoveFile(JoinPath(kDir, (*files)[1])).ok());
  VerifyReport r = Verify(&env);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.bad_file, (*files)[2]);
  EXPECT_EQ(r.bad_seq, next_first);
  EXPECT_NE(r.problem.find("missing"), std::string::npos) << r.problem;
}

TEST(AuditVerify, ARemovedFirstRecordIsNamed) {
  MemEnv env;
  Fill(&env, 3);
  std::string path = FilePath(&env, 0);
  auto lines = Lines(&env, path);
  lines.erase(lines.begin());
  PutLines(&env, path, lines);
  VerifyReport r = Verify(&env);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.bad_seq, 2u);
}

// --- Crashes and failing disks.

TEST(AuditLog, ATornTailIsDroppedAtOpenAndRecorded) {
  MemEnv env;
  Fill(&env, 3);
  std::string path = FilePath(&env, 0);
  auto data = ReadFileToString(&env, path);
  // Bytes of a batch that never finished (HEAD was not advanced for it).
  env.PutFile(path, *data + "{\"v\":1,\"seq\":4,\"time_ns\":17");
  {
    auto log = OpenLog(&env);
    ASSERT_NE(log, nullptr);
    ASSERT_TRUE(log->Append(Rec("after")).ok());
  }
  VerifyReport r = Verify(&env);
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(Actions(&env), (std::vector<std::string>{"a1", "a2", "a3", "audit.recovered", "after"}));
}

TEST(AuditLog, OpenRefusesATrailCutShortBehindHead) {
  MemEnv env;
  Fill(&env, 4);
  std::string path = FilePath(&env, 0);
  auto lines = Lines(&env, path);
  lines.pop_back();
  PutLines(&env, path, lines);
  AuditLogOptions o;
  o.env = &env;
  o.dir = kDir;
  auto log = AuditLog::Open(o);
  EXPECT_EQ(log.status().code(), StatusCode::kCorruption);
}

// Fails the nth write or sync of a run of appends, then loses everything unsynced:
// every acknowledged record is there, in a chain that verifies, and nothing refused is.
TEST(AuditLog, EveryAcknowledgedRecordSurvivesFailuresAndPowerLoss) {
  for (auto op : {FaultInjectionEnv::Op::kWrite, FaultInjectionEnv::Op::kSync}) {
    for (int n = 1; n <= 12; ++n) {
      SCOPED_TRACE("op " + std::to_string(static_cast<int>(op)) + " n " + std::to_string(n));
      MemEnv env;
      FaultInjectionEnv fenv(&env);
      std::set<std::string> acked, refused;
      {
        auto log = OpenLog(&fenv, 4096);
        ASSERT_NE(log, nullptr);
        fenv.FailNth(op, n, Status::IOError("injected"));
        for (int i = 0; i < 30; ++i) {
          std::string a = "r" + std::to_string(i);
          (log->Append(Rec(a)).ok() ? acked : refused).insert(a);
        }
      }
      env.DropUnsyncedData();
      {
        auto log = OpenLog(&env, 4096);
        ASSERT_NE(log, nullptr);
        ASSERT_TRUE(log->Append(Rec("after")).ok());
      }
      VerifyReport r = Verify(&env);
      EXPECT_TRUE(r.ok) << r.bad_file << " " << r.bad_seq << " " << r.problem;
      std::set<std::string> found;
      for (auto& a : Actions(&env)) found.insert(a);
      for (auto& a : acked) EXPECT_TRUE(found.count(a)) << a << " was acknowledged but is gone";
      for (auto& a : refused) EXPECT_FALSE(found.count(a)) << a << " was refused but is in the trail";
    }
  }
}

// --- Retention.

TEST(AuditLog, RetentionDropsWholeOldFilesAndLeavesAVerifiableAnchor) {
  MemEnv env;
  const int64_t now = env.NowNanos();
  const int64_t day = int64_t{86400} * 1000000000;
  {
    auto log = OpenLog(&env, 4096, 30);
    for (int i = 0; i < 30; ++i) ASSERT_TRUE(log->Append(Rec("old" + std::to_string(i), now - 100 * day)).ok());
    for (int i = 0; i < 30; ++i) ASSERT_TRUE(log->Append(Rec("new" + std::to_string(i), now - day)).ok());
    size_t before = ListAuditFiles(&env, kDir)->size();
    ASSERT_TRUE(log->ApplyRetention().ok());
    size_t after = ListAuditFiles(&env, kDir)->size();
    EXPECT_LT(after, before);
    ASSERT_TRUE(log->Append(Rec("later")).ok());
  }
  VerifyReport r = Verify(&env);
  EXPECT_TRUE(r.ok) << r.bad_file << " " << r.bad_seq << " " << r.problem;
  EXPECT_TRUE(r.anchored);
  EXPECT_GT(r.first_seq, 1u);
  EXPECT_EQ(r.first_seq, r.anchor.seq + 1);
  auto actions = Actions(&env);
  for (int i = 0; i < 30; ++i) EXPECT_NE(std::find(actions.begin(), actions.end(), "new" + std::to_string(i)), actions.end());
  EXPECT_NE(std::find(actions.begin(), actions.end(), "audit.retention"), actions.end());
  EXPECT_EQ(actions.back(), "later");

  // Reopens on the anchor; removing the first remaining file is still caught.
  { ASSERT_NE(OpenLog(&env, 4096, 30), nullptr); }
  auto files = ListAuditFiles(&env, kDir);
  ASSERT_GE(files->size(), 2u);
  ASSERT_TRUE(env.RemoveFile(JoinPath(kDir, (*files)[0])).ok());
  r = Verify(&env);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.bad_file, (*files)[1]);
}

TEST(AuditLog, RetentionKeepsEverythingWithoutASetting) {
  MemEnv env;
  auto log = OpenLog(&env, 4096, 0);
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(log->Append(Rec("x", 1)).ok());
  size_t before = ListAuditFiles(&env, kDir)->size();
  ASSERT_TRUE(log->ApplyRetention().ok());
  EXPECT_EQ(ListAuditFiles(&env, kDir)->size(), before);
}

TEST(AuditReader, ScansFromACursor) {
  MemEnv env;
  Fill(&env, 40, 4096);
  std::vector<uint64_t> seqs;
  ASSERT_TRUE(ScanAuditRecords(&env, kDir, 25, [&](const AuditRecord& r) {
                seqs.push_back(r.seq);
                return seqs.size() < 5;
              }).ok());
  EXPECT_EQ(seqs, (std::vector<uint64_t>{26, 27, 28, 29, 30}));
}

}  // namespace
}  // namespace sightline::audit
