#include "auth/metadata_db.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "auth/kdf.h"

namespace sightline::auth {
namespace {

class MetadataDbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> n{0};
    dir_ = std::filesystem::temp_directory_path() / ("sl_meta_" + std::to_string(getpid()) + "_" + std::to_string(n++));
    std::filesystem::remove_all(dir_);  // stale: left by a dead process that had our pid
    std::filesystem::create_directories(dir_);
    db_ = OpenDb();
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::unique_ptr<MetadataDb> OpenDb() {
    MetadataDb::Options o;
    o.iterations = 1000;
    auto db = MetadataDb::Open((dir_ / "meta.db").string(), o);
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    return db.ok() ? std::move(db).value() : nullptr;
  }
  std::filesystem::path dir_;
  std::unique_ptr<MetadataDb> db_;
};

TEST_F(MetadataDbTest, EmptyDatabaseIsOpen) {
  auto snap = db_->LoadSnapshot();
  ASSERT_TRUE(snap.ok());
  EXPECT_FALSE(snap->auth_configured());
  // A project alone does not switch auth on: nobody could log in yet.
  ASSERT_TRUE(db_->CreateProject("billing").ok());
  EXPECT_FALSE(db_->LoadSnapshot()->auth_configured());
}

TEST_F(MetadataDbTest, ProjectsAreUniqueAndNamed) {
  ASSERT_TRUE(db_->CreateProject("billing").ok());
  EXPECT_EQ(db_->CreateProject("billing").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(db_->CreateProject("has space").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(db_->CreateProject("").status().code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(db_->CreateProject("search").ok());
  auto list = db_->ListProjects();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "billing");
}

TEST_F(MetadataDbTest, KeySecretIsHashedNotStored) {
  ASSERT_TRUE(db_->CreateProject("billing").ok());
  auto key = db_->CreateApiKey("billing", "ci");
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->info.public_key, "pk-lf-" + key->info.id);
  EXPECT_EQ(key->secret.rfind("sk-lf-" + key->info.id, 0), 0u);
  EXPECT_EQ(KeyIdOfSecret(key->secret), key->info.id);
  EXPECT_EQ(KeyIdOfPublic(key->info.public_key), key->info.id);
  auto snap = db_->LoadSnapshot();
  ASSERT_TRUE(snap.ok());
  ASSERT_EQ(snap->keys.count(key->info.id), 1u);
  EXPECT_EQ(snap->keys.at(key->info.id).project, "billing");
  EXPECT_TRUE(VerifySecret(key->secret, snap->keys.at(key->info.id).secret_hash));
  EXPECT_TRUE(snap->auth_configured());
  // The secret is nowhere in the database files.
  db_.reset();
  for (const auto& f : std::filesystem::directory_iterator(dir_)) {
    std::ifstream in(f.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(bytes.find(key->secret.substr(18)), std::string::npos) << f.path();
  }
}

TEST_F(MetadataDbTest, KeyForUnknownProjectIsNotFound) {
  EXPECT_EQ(db_->CreateApiKey("nope", "x").status().code(), StatusCode::kNotFound);
}

TEST_F(MetadataDbTest, RevokeAndRotate) {
  ASSERT_TRUE(db_->CreateProject("billing").ok());
  auto a = db_->CreateApiKey("billing", "ci");
  auto b = db_->CreateApiKey("billing", "prod");
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(db_->RevokeApiKey(a->info.public_key).ok());
  EXPECT_EQ(db_->RevokeApiKey(a->info.id).code(), StatusCode::kNotFound);  // already revoked
  auto rotated = db_->RotateApiKey(b->secret);
  ASSERT_TRUE(rotated.ok()) << rotated.status().ToString();
  EXPECT_EQ(rotated->info.project, "billing");
  EXPECT_EQ(rotated->info.name, "prod");
  EXPECT_NE(rotated->info.id, b->info.id);
  auto snap = db_->LoadSnapshot();
  EXPECT_EQ(snap->keys.size(), 1u);
  EXPECT_EQ(snap->keys.count(rotated->info.id), 1u);
  auto all = db_->ListApiKeys("");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 3u);
  int revoked = 0;
  for (const auto& k : *all) revoked += k.revoked;
  EXPECT_EQ(revoked, 2);
  EXPECT_EQ(db_->RotateApiKey("pk-lf-000000000000").status().code(), StatusCode::kNotFound);
}

TEST_F(MetadataDbTest, UsersRolesAndTokens) {
  ASSERT_TRUE(db_->CreateProject("billing").ok());
  ASSERT_TRUE(db_->CreateProject("search").ok());
  ASSERT_TRUE(db_->CreateUser("ana", "pw-1234").ok());
  EXPECT_EQ(db_->CreateUser("ana", "").status().code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(db_->SetRole("ana", "billing", Role::kAdmin).ok());
  ASSERT_TRUE(db_->SetRole("ana", "search", Role::kViewer).ok());
  ASSERT_TRUE(db_->SetRole("ana", "search", Role::kMember).ok());  // replaces
  EXPECT_EQ(db_->SetRole("bob", "search", Role::kMember).code(), StatusCode::kNotFound);
  EXPECT_EQ(db_->SetRole("ana", "nope", Role::kMember).code(), StatusCode::kNotFound);
  auto tok = db_->CreateToken("ana", "laptop");
  ASSERT_TRUE(tok.ok());
  EXPECT_EQ(TokenIdOf(tok->secret), tok->info.id);
  auto snap = db_->LoadSnapshot();
  ASSERT_TRUE(snap.ok());
  ASSERT_EQ(snap->users.count("ana"), 1u);
  EXPECT_EQ(snap->users.at("ana").roles.at("billing"), Role::kAdmin);
  EXPECT_EQ(snap->users.at("ana").roles.at("search"), Role::kMember);
  EXPECT_TRUE(VerifySecret("pw-1234", snap->users.at("ana").password_hash));
  EXPECT_EQ(snap->tokens.at(tok->info.id).user, "ana");

  ASSERT_TRUE(db_->SetRole("ana", "search", std::nullopt).ok());
  ASSERT_TRUE(db_->RevokeToken(tok->secret).ok());
  snap = db_->LoadSnapshot();
  EXPECT_EQ(snap->users.at("ana").roles.count("search"), 0u);
  EXPECT_TRUE(snap->tokens.empty());

  auto tok2 = db_->CreateToken("ana", "ci");
  ASSERT_TRUE(tok2.ok());
  ASSERT_TRUE(db_->RemoveUser("ana").ok());
  snap = db_->LoadSnapshot();
  EXPECT_TRUE(snap->users.empty());
  EXPECT_TRUE(snap->tokens.empty());  // cascaded
  EXPECT_EQ(db_->RemoveUser("ana").code(), StatusCode::kNotFound);
}

TEST_F(MetadataDbTest, AnotherConnectionsCommitChangesDataVersion) {
  auto before = db_->DataVersion();
  ASSERT_TRUE(before.ok());
  auto other = OpenDb();
  ASSERT_TRUE(other->CreateProject("billing").ok());
  auto after = db_->DataVersion();
  ASSERT_TRUE(after.ok());
  EXPECT_NE(*before, *after);
  EXPECT_EQ(db_->ListProjects()->size(), 1u);
}

TEST_F(MetadataDbTest, ReopenKeepsDataAndRefusesNewerSchema) {
  ASSERT_TRUE(db_->CreateProject("billing").ok());
  db_.reset();
  db_ = OpenDb();
  EXPECT_EQ(db_->ListProjects()->size(), 1u);
  db_.reset();
  // Bump the version behind its back, as a newer build would.
  {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / "meta.db").string().c_str(), &raw), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(raw, "PRAGMA user_version=99", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(raw);
  }
  auto newer = MetadataDb::Open((dir_ / "meta.db").string());
  ASSERT_FALSE(newer.ok());
  EXPECT_EQ(newer.status().code(), StatusCode::kCorruption);
  EXPECT_NE(newer.status().message().find("99"), std::string::npos);
}

// Version 1 files (before the outbox and sessions) migrate forward with their data.
TEST_F(MetadataDbTest, AVersionOneFileMigratesForward) {
  db_.reset();
  std::filesystem::remove(dir_ / "meta.db");
  {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / "meta.db").string().c_str(), &raw), SQLITE_OK);
    const char* v1 =
        "CREATE TABLE projects(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_ms INTEGER NOT NULL);"
        "CREATE TABLE api_keys(id TEXT PRIMARY KEY, project_id INTEGER NOT NULL REFERENCES projects(id), name TEXT NOT NULL,"
        "  secret_hash TEXT NOT NULL, created_ms INTEGER NOT NULL, revoked_ms INTEGER);"
        "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, password_hash TEXT, created_ms INTEGER NOT NULL);"
        "CREATE TABLE memberships(user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
        "  project_id INTEGER NOT NULL REFERENCES projects(id), role TEXT NOT NULL, PRIMARY KEY(user_id, project_id));"
        "CREATE TABLE cli_tokens(id TEXT PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
        "  name TEXT NOT NULL, secret_hash TEXT NOT NULL, created_ms INTEGER NOT NULL, revoked_ms INTEGER);"
        "INSERT INTO projects(name, created_ms) VALUES('old', 1);"
        "INSERT INTO users(name, created_ms) VALUES('ana', 1);"
        "PRAGMA user_version = 1;";
    ASSERT_EQ(sqlite3_exec(raw, v1, nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(raw);
  }
  db_ = OpenDb();
  ASSERT_NE(db_, nullptr);
  EXPECT_EQ(db_->ListProjects()->size(), 1u);
  EXPECT_TRUE(db_->ReadAuditOutbox(10)->empty());
  ASSERT_TRUE(db_->CreateSession("ana", std::string(64, 'a'), "csrf", 100, 200, 5).ok());
  EXPECT_TRUE(db_->FindSession(std::string(64, 'a'), 150)->has_value());
  ASSERT_TRUE(db_->CreateProject("new").ok());
  EXPECT_EQ(db_->ReadAuditOutbox(10)->size(), 1u);
}

TEST_F(MetadataDbTest, SessionsExpireAreBoundedAndEndWithThePasswordOrTheUser) {
  ASSERT_TRUE(db_->CreateUser("ana", "password-1").ok());
  ASSERT_TRUE(db_->CreateUser("bob", "password-2").ok());
  auto h = [](char c) { return std::string(64, c); };
  ASSERT_TRUE(db_->CreateSession("ana", h('a'), "ca", 100, 200, 3).ok());
  ASSERT_TRUE(db_->CreateSession("bob", h('b'), "cb", 100, 200, 3).ok());
  auto found = db_->FindSession(h('a'), 150);
  ASSERT_TRUE(found.ok());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->user, "ana");
  EXPECT_EQ((*found)->csrf, "ca");
  EXPECT_FALSE(db_->FindSession(h('a'), 200)->has_value());  // expired
  EXPECT_FALSE(db_->FindSession(h('z'), 150)->has_value());
  EXPECT_EQ(db_->CreateSession("ghost", h('g'), "c", 100, 200, 3).code(), StatusCode::kNotFound);
  // At most 3 per user: the oldest goes.
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(db_->CreateSession("ana", h('0' + i), "c", 100 + i, 300, 3).ok());
  EXPECT_FALSE(db_->FindSession(h('a'), 150)->has_value());
  EXPECT_TRUE(db_->FindSession(h('1'), 150)->has_value());
  // A password change ends all of the user's sessions, and only theirs.
  ASSERT_TRUE(db_->SetPassword("ana", "password-3").ok());
  for (char c : {'1', '2', '3'}) EXPECT_FALSE(db_->FindSession(h(c), 150)->has_value());
  EXPECT_TRUE(db_->FindSession(h('b'), 150)->has_value());
  // So does removing the user.
  ASSERT_TRUE(db_->RemoveUser("bob").ok());
  EXPECT_FALSE(db_->FindSession(h('b'), 150)->has_value());
  ASSERT_TRUE(db_->CreateSession("ana", h('x'), "c", 100, 300, 3).ok());
  ASSERT_TRUE(db_->DeleteSession(h('x')).ok());
  EXPECT_FALSE(db_->FindSession(h('x'), 150)->has_value());
  // The session's id is never stored, only what the caller hashed.
  auto outbox = db_->ReadAuditOutbox(100);
  ASSERT_TRUE(outbox.ok());
  bool ended = false;
  for (const auto& r : *outbox) ended = ended || (r.action == "user.password" && r.details.find("\"sessions_ended\":3") != std::string::npos);
  EXPECT_TRUE(ended);
}

// Key and token labels and passwords follow one rule for `sightline admin` and the
// admin API (both call these); labels are refused in MetadataDb itself.
TEST_F(MetadataDbTest, LabelsAndPasswordsFollowOneRule) {
  ASSERT_TRUE(db_->CreateProject("billing").ok());
  ASSERT_TRUE(db_->CreateUser("ana", "").ok());
  EXPECT_TRUE(db_->CreateApiKey("billing", "").ok());
  EXPECT_TRUE(db_->CreateApiKey("billing", std::string(auth::kMaxLabelBytes, 'k')).ok());
  auto long_key = db_->CreateApiKey("billing", std::string(auth::kMaxLabelBytes + 1, 'k'));
  EXPECT_EQ(long_key.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(long_key.status().message(), "key names are at most 200 bytes");
  EXPECT_EQ(db_->CreateApiKey("billing", "a\nb").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(db_->CreateToken("ana", std::string("t\x01", 2)).status().message(),
            "token names may not contain control characters");
  EXPECT_TRUE(db_->CreateToken("ana", "laptop \xc3\xa9").ok());  // UTF-8 is fine
  EXPECT_TRUE(auth::ValidatePassword("12345678").ok());
  EXPECT_EQ(auth::ValidatePassword("1234567").message(), "passwords are at least 8 characters");
  EXPECT_TRUE(auth::ValidatePassword(std::string(auth::kMaxPasswordBytes, 'p')).ok());
  auto too_long = auth::ValidatePassword(std::string(auth::kMaxPasswordBytes + 1, 'p'));
  EXPECT_EQ(too_long.message(), "passwords are at most 1024 characters");
  auto keys = db_->ListApiKeys("billing");
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys->size(), 2u);  // the refused ones left nothing
}

TEST_F(MetadataDbTest, AdminChangesLeaveTheirRecordInTheSameTransaction) {
  ASSERT_TRUE(db_->CreateProject("billing").ok());
  auto k = db_->CreateApiKey("billing", "prod");
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(db_->CreateApiKey("nope", "x").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(db_->RevokeApiKey("sk-lf-garbage").code(), StatusCode::kNotFound);
  auto rows = db_->ReadAuditOutbox(100);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);  // the refused changes left nothing
  EXPECT_EQ((*rows)[0].action, "project.create");
  EXPECT_EQ((*rows)[1].action, "key.create");
  EXPECT_EQ((*rows)[1].target, "project/billing/key/" + k->info.public_key);
  EXPECT_EQ((*rows)[1].actor, "admin-cli");
  EXPECT_LT((*rows)[0].id, (*rows)[1].id);
  ASSERT_TRUE(db_->DeleteAuditOutbox((*rows)[0].id).ok());
  EXPECT_EQ(db_->ReadAuditOutbox(100)->size(), 1u);
  // A key that does not exist is not echoed back when it looks like a secret.
  Status st = db_->RevokeApiKey("sk-lf-zzzzzzzzzzzzsecretsecret");
  EXPECT_EQ(st.message().find("secret"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace sightline::auth
