// `sightline admin`'s changes reach the audit trail through meta.db's outbox
// (docs/audit.md): each change leaves its record in the same transaction, the server
// drains the rows into the trail and deletes them only once the trail has them
// durably; no secret ever reaches a record.
#include "audit/audit_outbox.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>

#include <gtest/gtest.h>

#include "audit/audit_reader.h"
#include "common/fault_injection_env.h"
#include "common/mem_env.h"

namespace sightline::audit {
namespace {

constexpr char kDir[] = "/data/audit";

class AuditOutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> n{0};
    dir_ = std::filesystem::temp_directory_path() / ("sl_outbox_" + std::to_string(getpid()) + "_" + std::to_string(n++));
    std::filesystem::remove_all(dir_);  // stale: left by a dead process that had our pid
    std::filesystem::create_directories(dir_);
    auth::MetadataDb::Options o;
    o.iterations = 1000;
    o.actor = "admin-cli:ops";
    admin_ = std::move(auth::MetadataDb::Open((dir_ / "meta.db").string(), o)).value();
    server_db_ = std::move(auth::MetadataDb::Open((dir_ / "meta.db").string(), o)).value();
  }
  void TearDown() override {
    admin_.reset();
    server_db_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::unique_ptr<AuditLog> OpenLog(Env* env) {
    AuditLogOptions o;
    o.env = env;
    o.dir = kDir;
    auto log = AuditLog::Open(o);
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    return log.ok() ? std::move(log).value() : nullptr;
  }
  std::vector<AuditRecord> Records(Env* env) {
    std::vector<AuditRecord> out;
    EXPECT_TRUE(ScanAuditRecords(env, kDir, 0, [&](const AuditRecord& r) {
                  out.push_back(r);
                  return true;
                }).ok());
    return out;
  }
  std::filesystem::path dir_;
  std::unique_ptr<auth::MetadataDb> admin_;      // what `sightline admin` opens
  std::unique_ptr<auth::MetadataDb> server_db_;  // what the server opens
};

TEST_F(AuditOutboxTest, EveryAdminChangeReachesTheTrailWithoutSecrets) {
  ASSERT_TRUE(admin_->CreateProject("billing").ok());
  auto key = admin_->CreateApiKey("billing", "prod");
  ASSERT_TRUE(key.ok());
  auto rotated = admin_->RotateApiKey(key->info.public_key);
  ASSERT_TRUE(rotated.ok());
  ASSERT_TRUE(admin_->RevokeApiKey(rotated->secret).ok());
  ASSERT_TRUE(admin_->CreateUser("ana", "a-long-password").ok());
  ASSERT_TRUE(admin_->SetRole("ana", "billing", auth::Role::kViewer).ok());
  ASSERT_TRUE(admin_->SetRole("ana", "billing", auth::Role::kAdmin).ok());
  ASSERT_TRUE(admin_->SetPassword("ana", "another-password").ok());
  auto token = admin_->CreateToken("ana", "laptop");
  ASSERT_TRUE(token.ok());
  ASSERT_TRUE(admin_->RevokeToken(token->secret).ok());
  ASSERT_TRUE(admin_->RemoveUser("ana").ok());
  // Refused changes leave no record.
  EXPECT_FALSE(admin_->CreateProject("billing").ok());
  EXPECT_FALSE(admin_->RevokeApiKey(key->info.public_key).ok());
  EXPECT_FALSE(admin_->SetRole("ghost", "billing", auth::Role::kViewer).ok());

  MemEnv env;
  auto log = OpenLog(&env);
  auto moved = DrainAuditOutbox(server_db_.get(), log.get());
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  EXPECT_EQ(*moved, 11u);
  EXPECT_EQ(*DrainAuditOutbox(server_db_.get(), log.get()), 0u);  // deleted once durable

  auto recs = Records(&env);
  ASSERT_EQ(recs.size(), 11u);
  std::vector<std::string> actions;
  for (const auto& r : recs) actions.push_back(r.action);
  EXPECT_EQ(actions, (std::vector<std::string>{"project.create", "key.create", "key.rotate", "key.revoke", "user.create",
                                               "user.role", "user.role", "user.password", "token.create",
                                               "token.revoke", "user.delete"}));
  const std::string pk = key->info.public_key;
  EXPECT_EQ(recs[1].target, "project/billing/key/" + pk);
  EXPECT_EQ(recs[2].target, "project/billing/key/" + pk);
  EXPECT_NE(recs[2].details_json.find(rotated->info.public_key), std::string::npos);
  EXPECT_EQ(recs[6].target, "user/ana");
  EXPECT_NE(recs[6].details_json.find(R"("role":"admin","previous":"viewer")"), std::string::npos) << recs[6].details_json;
  EXPECT_EQ(recs[9].target, "user/ana/token/" + token->info.id);
  for (const auto& r : recs) {
    EXPECT_EQ(r.kind, Kind::kAdmin);
    EXPECT_EQ(r.actor.principal, "admin-cli:ops");
    EXPECT_NE(r.details_json.find("\"outbox_id\":"), std::string::npos);
    for (const std::string& secret :
         {key->secret, rotated->secret, token->secret, std::string("a-long-password"), std::string("another-password"),
          std::string("pbkdf2")})
      EXPECT_EQ(r.line.find(secret), std::string::npos) << r.line;
  }
  EXPECT_TRUE(VerifyAuditDir(&env, kDir)->ok);
}

TEST_F(AuditOutboxTest, RowsStayUntilTheTrailHasThemDurably) {
  ASSERT_TRUE(admin_->CreateProject("p1").ok());
  ASSERT_TRUE(admin_->CreateProject("p2").ok());
  MemEnv mem;
  FaultInjectionEnv env(&mem);
  auto log = OpenLog(&env);
  ASSERT_NE(log, nullptr);
  env.FailNth(FaultInjectionEnv::Op::kSync, 1, Status::IOError("injected"));
  EXPECT_FALSE(DrainAuditOutbox(server_db_.get(), log.get()).ok());
  EXPECT_EQ(server_db_->ReadAuditOutbox(100)->size(), 2u);  // nothing lost
  auto moved = DrainAuditOutbox(server_db_.get(), log.get());
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  EXPECT_EQ(*moved, 2u);
  EXPECT_EQ(server_db_->ReadAuditOutbox(100)->size(), 0u);
  auto recs = Records(&mem);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].target, "project/p1");
  EXPECT_EQ(recs[1].target, "project/p2");
}

TEST(AuditOutboxRecord, BadDetailsAreRecordedAsSuch) {
  auth::OutboxRecord row{7, 1700000000000, "admin-cli:x", "user.create", "user/x", "not json"};
  AuditRecord r = OutboxToRecord(row);
  EXPECT_EQ(r.details_json, R"({"invalid_details":true,"outbox_id":7})");
  EXPECT_EQ(r.time_ns, int64_t{1700000000000} * 1000000);
  row.details = R"({"outbox_id":"forged","name":"n"})";
  EXPECT_EQ(OutboxToRecord(row).details_json, R"({"name":"n","outbox_id":7})");
}

}  // namespace
}  // namespace sightline::audit
