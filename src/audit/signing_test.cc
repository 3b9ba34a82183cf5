// The signed head (docs/audit.md, "Signed head"): HEAD and ANCHOR signed with an
// Ed25519 key kept outside the trail's directory, and `verify --public-key` catching
// what the hash chain alone cannot: a chain rewritten from the start with HEAD
// recomputed, records appended after the signed HEAD, another key, an unsigned HEAD;
// and the ANCHOR cross-check against the retention record, with or without a key.
#include "audit/signing.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>

#include <gtest/gtest.h>

#include "audit/audit_log.h"
#include "audit/audit_reader.h"
#include "common/mem_env.h"

namespace sightline::audit {
namespace {

constexpr char kDir[] = "/data/audit";

class SignedTrailTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> n{0};
    keys_ = std::filesystem::temp_directory_path() / ("sl_audit_keys_" + std::to_string(getpid()) + "_" + std::to_string(n++));
    std::filesystem::remove_all(keys_);  // stale: left by a dead process that had our pid
    std::filesystem::create_directories(keys_);
    auto pub = AuditSigner::Generate((keys_ / "audit.key").string());
    ASSERT_TRUE(pub.ok()) << pub.status().ToString();
    public_hex_ = *pub;
    auto signer = AuditSigner::LoadPrivateKey((keys_ / "audit.key").string());
    ASSERT_TRUE(signer.ok()) << signer.status().ToString();
    signer_ = std::move(signer).value();
    public_raw_ = *LoadPublicKey(public_hex_);
  }
  void TearDown() override { std::filesystem::remove_all(keys_); }

  std::unique_ptr<AuditLog> Open(bool signed_log = true, int64_t retention_days = 0, uint64_t segment = 64 << 20) {
    AuditLogOptions o;
    o.env = &env_;
    o.dir = kDir;
    o.retention_days = retention_days;
    o.segment_bytes = segment;
    if (signed_log) o.signer = signer_;
    auto log = AuditLog::Open(o);
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    return log.ok() ? std::move(log).value() : nullptr;
  }
  static AuditRecord Rec(const std::string& action, int64_t time_ns = 0) {
    AuditRecord r;
    r.actor.principal = "alice";
    r.action = action;
    r.target = "project/p";
    r.time_ns = time_ns;
    return r;
  }
  VerifyReport Verify(const std::string& key_raw) {
    VerifyOptions vo;
    vo.public_key = key_raw;
    auto r = VerifyAuditDir(&env_, kDir, vo);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : VerifyReport{};
  }
  // Rewrites the whole chain from record 1 with action replaced, recomputing every
  // hash and HEAD: what someone with write access to the directory, but not the key,
  // can do.
  void RewriteChain(const std::string& from_action, const std::string& to_action) {
    auto files = ListAuditFiles(&env_, kDir);
    ASSERT_TRUE(files.ok());
    std::string prev(kZeroHash);
    uint64_t last = 0;
    for (const auto& f : *files) {
      auto data = ReadFileToString(&env_, JoinPath(kDir, f));
      bool torn;
      std::string out;
      for (auto line : SplitAuditLines(*data, &torn)) {
        AuditRecord r;
        ASSERT_TRUE(ParseAuditLine(line, &r).ok());
        if (r.action == from_action) r.action = to_action;
        r.prev = prev;
        auto enc = EncodeAuditLine(&r);
        ASSERT_TRUE(enc.ok());
        out += *enc;
        prev = r.hash;
        last = r.seq;
      }
      env_.PutFile(JoinPath(kDir, f), out);
    }
    ChainPoint head;
    head.seq = last;
    head.hash = prev;
    env_.PutFile(JoinPath(kDir, "HEAD"), FormatChainPoint(head));
  }

  MemEnv env_;
  std::filesystem::path keys_;
  std::shared_ptr<const AuditSigner> signer_;
  std::string public_hex_, public_raw_;
};

TEST_F(SignedTrailTest, KeygenWritesAPrivateFileAndNeverOverwrites) {
  struct stat st{};
  ASSERT_EQ(::stat((keys_ / "audit.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(public_hex_.size(), 64u);
  EXPECT_EQ(signer_->public_hex(), public_hex_);
  auto again = AuditSigner::Generate((keys_ / "audit.key").string());
  EXPECT_EQ(again.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(AuditSigner::LoadPrivateKey((keys_ / "audit.key").string()).ok(), true);  // still the old key
  std::ofstream((keys_ / "junk").string()) << "not a key";
  EXPECT_EQ(AuditSigner::LoadPrivateKey((keys_ / "junk").string()).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(LoadPublicKey("zz").ok());
  EXPECT_FALSE(LoadPublicKey(std::string(64, 'g')).ok());
  std::ofstream((keys_ / "pub.hex").string()) << public_hex_ << "\n";
  EXPECT_EQ(*LoadPublicKey((keys_ / "pub.hex").string()), public_raw_);
}

TEST_F(SignedTrailTest, ASignedTrailVerifiesWithItsKeyOnly) {
  {
    auto log = Open();
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(log->Append(Rec("a" + std::to_string(i))).ok());
  }
  VerifyReport r = Verify(public_raw_);
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_TRUE(r.signature_checked);
  EXPECT_TRUE(r.head_signed);
  // Another key's public half is refused.
  auto other = AuditSigner::Generate((keys_ / "other.key").string());
  ASSERT_TRUE(other.ok());
  r = Verify(*LoadPublicKey(*other));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.bad_file, "HEAD");
  EXPECT_NE(r.problem.find("another key"), std::string::npos) << r.problem;
  // HEAD is replaced whole, never left as a temporary.
  EXPECT_FALSE(env_.FileExists(JoinPath(kDir, "HEAD.tmp")));
}

TEST_F(SignedTrailTest, ARewrittenChainWithARecomputedHeadIsCaughtOnlyWithTheKey) {
  {
    auto log = Open();
    for (int i = 0; i < 6; ++i) ASSERT_TRUE(log->Append(Rec(i == 2 ? "key.revoke" : "x")).ok());
  }
  RewriteChain("key.revoke", "key.create");
  // The chain itself is consistent again: without the key, nothing to see.
  VerifyReport plain = Verify("");
  EXPECT_TRUE(plain.ok) << plain.problem;
  // With the key: HEAD lost its signature (and a copied signature would not match).
  VerifyReport r = Verify(public_raw_);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.bad_file, "HEAD");
  EXPECT_NE(r.problem.find("not signed"), std::string::npos) << r.problem;
}

TEST_F(SignedTrailTest, ACopiedSignatureDoesNotCoverARewrittenHead) {
  {
    auto log = Open();
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(log->Append(Rec(i == 1 ? "user.delete" : "x")).ok());
  }
  auto old_head = ReadChainPoint(&env_, JoinPath(kDir, "HEAD"));
  ASSERT_TRUE(old_head.ok());
  RewriteChain("user.delete", "user.create");
  auto new_head = ReadChainPoint(&env_, JoinPath(kDir, "HEAD"));
  env_.PutFile(JoinPath(kDir, "HEAD"), FormatChainPoint(*new_head) + old_head->signature + "\n");
  VerifyReport r = Verify(public_raw_);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.problem.find("does not match"), std::string::npos) << r.problem;
}

TEST_F(SignedTrailTest, RecordsAfterTheSignedHeadAreCaughtAndRecordedAtOpen) {
  {
    auto log = Open();
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(log->Append(Rec("x")).ok());
  }
  // A record appended by hand, chained correctly, HEAD left alone.
  auto files = ListAuditFiles(&env_, kDir);
  const std::string path = JoinPath(kDir, files->back());
  auto head = ReadChainPoint(&env_, JoinPath(kDir, "HEAD"));
  AuditRecord forged = Rec("key.create");
  forged.seq = head->seq + 1;
  forged.prev = head->hash;
  forged.time_ns = 1;
  auto line = EncodeAuditLine(&forged);
  env_.PutFile(path, *ReadFileToString(&env_, path) + *line);
  EXPECT_TRUE(Verify("").ok);  // HEAD behind the end is allowed without a key
  VerifyReport r = Verify(public_raw_);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.bad_seq, 4u);
  EXPECT_NE(r.problem.find("after the signed HEAD"), std::string::npos) << r.problem;
  // The server signs only after saying so in the chain.
  { auto log = Open(); }
  r = Verify(public_raw_);
  EXPECT_TRUE(r.ok) << r.problem;
  std::vector<std::string> actions;
  ASSERT_TRUE(ScanAuditRecords(&env_, kDir, 0, [&](const AuditRecord& rec) {
                actions.push_back(rec.action);
                return true;
              }).ok());
  EXPECT_EQ(actions.back(), "audit.head_behind");
}

TEST_F(SignedTrailTest, AnUnsignedTrailIsSignedWhenAKeyIsConfigured) {
  {
    auto log = Open(false);
    ASSERT_TRUE(log->Append(Rec("x")).ok());
  }
  EXPECT_FALSE(Verify(public_raw_).ok);
  { auto log = Open(true); }
  EXPECT_TRUE(Verify(public_raw_).ok);
}

TEST_F(SignedTrailTest, AnchorIsSignedAndCrossCheckedAgainstTheRetentionRecord) {
  const int64_t day = int64_t{86400} * 1000000000;
  const int64_t now = env_.NowNanos();
  {
    auto log = Open(true, 30, 4096);
    for (int i = 0; i < 30; ++i) ASSERT_TRUE(log->Append(Rec("old", now - 100 * day)).ok());
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(log->Append(Rec("new", now)).ok());
    ASSERT_TRUE(log->ApplyRetention().ok());
  }
  VerifyReport r = Verify(public_raw_);
  ASSERT_TRUE(r.ok) << r.problem;
  ASSERT_TRUE(r.anchored);
  auto anchor = ReadChainPoint(&env_, JoinPath(kDir, "ANCHOR"));
  ASSERT_TRUE(anchor.ok());
  EXPECT_FALSE(anchor->signature.empty());

  // The right content with its signature removed: only the key notices.
  env_.PutFile(JoinPath(kDir, "ANCHOR"), FormatChainPoint(*anchor));
  EXPECT_TRUE(Verify("").ok);
  r = Verify(public_raw_);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.bad_file, "ANCHOR");

  // Records hidden by dropping the oldest remaining file and moving ANCHOR up to its
  // last record: the chain from the new anchor is consistent, but no retention record
  // names that anchor. Caught with or without the key.
  auto files = ListAuditFiles(&env_, kDir);
  ASSERT_GE(files->size(), 2u);
  const std::string first = JoinPath(kDir, (*files)[0]);
  bool torn;
  auto data = *ReadFileToString(&env_, first);
  auto lines = SplitAuditLines(data, &torn);
  AuditRecord last;
  ASSERT_TRUE(ParseAuditLine(lines.back(), &last).ok());
  ASSERT_TRUE(env_.RemoveFile(first).ok());
  ChainPoint moved;
  moved.seq = last.seq;
  moved.hash = last.hash;
  moved.file = (*files)[0];
  env_.PutFile(JoinPath(kDir, "ANCHOR"), FormatChainPoint(moved));
  r = Verify("");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.bad_file, "ANCHOR");
  EXPECT_NE(r.problem.find("not confirmed"), std::string::npos) << r.problem;
}

TEST(AuditSignature, MalformedLinesAreCorruptionNotACrash) {
  const std::string key(32, '\x01');
  const std::vector<std::string> lines = {"", "ed25519", "ed25519 zz",
                                          "ed25519 " + std::string(64, 'a') + " " + std::string(128, 'q'),
                                          "rsa " + std::string(200, 'a')};
  for (const std::string& line : lines) {
    EXPECT_EQ(CheckSignatureLine(line, "m", key).code(), StatusCode::kCorruption) << line;
  }
}

// The outside witness (docs/audit.md, "Witness"): the whole directory put back to an
// older copy is a valid, validly signed trail on its own; `verify --expect-seq N
// --expect-head HASH`, with a seq and hash kept elsewhere, catches it, and catches a
// copy put back and then grown past N again.
TEST_F(SignedTrailTest, AWitnessCatchesARollbackOfTheWholeDirectory) {
  auto snapshot = [this]() {
    std::map<std::string, std::string> files;
    const auto names = env_.GetChildren(kDir);
    EXPECT_TRUE(names.ok());
    if (!names.ok()) return files;
    for (const auto& name : *names) {
      auto data = ReadFileToString(&env_, JoinPath(kDir, name));
      EXPECT_TRUE(data.ok()) << name;
      if (data.ok()) files[name] = *data;
    }
    return files;
  };
  auto restore = [this](const std::map<std::string, std::string>& files) {
    const auto names = env_.GetChildren(kDir);
    ASSERT_TRUE(names.ok());
    for (const auto& name : *names) ASSERT_TRUE(env_.RemoveFile(JoinPath(kDir, name)).ok());
    for (const auto& [name, data] : files) env_.PutFile(JoinPath(kDir, name), data);
  };
  auto verify = [this](uint64_t seq, const std::string& head) {
    VerifyOptions vo;
    vo.public_key = public_raw_;
    vo.expect_seq = seq;
    vo.expect_head = head;
    auto r = VerifyAuditDir(&env_, kDir, vo);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : VerifyReport{};
  };
  {
    auto log = Open();
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(log->Append(Rec("early" + std::to_string(i))).ok());
  }
  const auto older = snapshot();
  const VerifyReport at_older = verify(0, "");
  ASSERT_TRUE(at_older.ok) << at_older.problem;
  {
    auto log = Open();
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(log->Append(Rec("later" + std::to_string(i))).ok());
  }
  // What a witness keeps: the seq and hash of the newest record.
  const VerifyReport now = verify(0, "");
  ASSERT_TRUE(now.ok) << now.problem;
  ASSERT_GT(now.last_seq, at_older.last_seq);
  const uint64_t seq = now.last_seq;
  const std::string head = now.head_hash;

  VerifyReport r = verify(seq, head);
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_TRUE(r.witness_checked);
  // An older record's witness holds too (the trail still has it), and a hash alone.
  EXPECT_TRUE(verify(at_older.last_seq, at_older.head_hash).ok);
  EXPECT_TRUE(verify(0, at_older.head_hash).ok);

  // The directory put back as it was: valid and signed on its own...
  restore(older);
  r = verify(0, "");
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_TRUE(r.signature_checked);
  EXPECT_FALSE(r.witness_checked);
  // ... but not what the witness saw.
  r = verify(seq, "");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.bad_seq, seq);
  EXPECT_NE(r.problem.find("rolled back"), std::string::npos) << r.problem;
  EXPECT_NE(r.problem.find("ends at seq " + std::to_string(at_older.last_seq)), std::string::npos) << r.problem;
  r = verify(0, head);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.problem.find("no record has the witness's hash"), std::string::npos) << r.problem;

  // Put back, then grown past the witnessed seq with other records: the seq is there,
  // its record is not the one seen.
  {
    auto log = Open();
    for (int i = 0; i < 8; ++i) ASSERT_TRUE(log->Append(Rec("forged" + std::to_string(i))).ok());
  }
  r = verify(0, "");
  ASSERT_TRUE(r.ok) << r.problem;
  ASSERT_GE(r.last_seq, seq);
  EXPECT_TRUE(verify(seq, "").ok);  // the seq alone cannot tell
  r = verify(seq, head);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.bad_seq, seq);
  EXPECT_NE(r.problem.find("not the record the witness saw"), std::string::npos) << r.problem;
  EXPECT_FALSE(verify(0, head).ok);
}

}  // namespace
}  // namespace sightline::audit
