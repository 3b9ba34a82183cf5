// MetadataDb: the small SQLite database DATA/meta.db that holds who may do what
// (docs/auth.md): projects, API keys, users and their roles per project, CLI tokens.
// Secrets are stored only as PBKDF2 hashes (auth/kdf.h); a secret is returned once,
// by the call that creates it.
//
// Schema version 2 (PRAGMA user_version; Open migrates an older file forward inside
// one transaction and refuses a newer one):
//   projects(id INTEGER PK, name TEXT UNIQUE, created_ms)
//   api_keys(id TEXT PK  -- 12 hex digits, also in the public key and the secret,
//            project_id, name, secret_hash, created_ms, revoked_ms NULL)
//   users(id INTEGER PK, name TEXT UNIQUE, password_hash NULL, created_ms)
//   memberships(user_id, project_id, role TEXT CHECK admin|member|viewer, PK(user_id, project_id))
//   cli_tokens(id TEXT PK -- 12 hex digits, user_id, name, secret_hash, created_ms, revoked_ms NULL)
//   -- version 2:
//   audit_outbox(id INTEGER PK AUTOINCREMENT, time_ms, actor, action, target, details)
//   ui_sessions(id_hash TEXT PK -- SHA-256 hex of the session id, user_id ON DELETE CASCADE,
//               csrf, created_s, expires_s)
//
// The audit outbox: the audit trail has one writer, the server; `sightline admin` runs
// as another process. So every change made here writes its audit record into
// audit_outbox in the same transaction as the change (a change without its record, or
// a record without its change, cannot be committed), and the server moves the rows
// into the trail (audit/audit_outbox.h), deleting each only after its record is
// durable. Records never hold a secret: key and token ids, user and project names.
//
// UI sessions are kept here, by the SHA-256 of their id (a stolen database opens no
// session), so they survive a restart; a password change or the user's removal ends
// all of the user's sessions in the same transaction.
//
// Key formats (the id makes a presented secret findable without a scan):
//   API key   public  pk-lf-<id>          secret  sk-lf-<id><32 alnum>
//   CLI token         slt_<id><32 alnum>
//
// The server and `sightline admin` open the same file: WAL journal and a busy timeout
// let the CLI write while the server reads; the server reloads its Snapshot once a
// second.
//
// Thread-safety: every method takes the one connection's mutex.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

struct sqlite3;

namespace sightline::auth {

inline constexpr int kSchemaVersion = 2;

enum class Role { kViewer = 0, kMember = 1, kAdmin = 2 };
std::string_view RoleName(Role r);
std::optional<Role> ParseRole(std::string_view name);

struct ProjectInfo {
  int64_t id = 0;
  std::string name;
  int64_t created_ms = 0;
};

struct ApiKeyInfo {
  std::string id;  // 12 hex digits
  std::string project;
  std::string name;
  std::string public_key;  // pk-lf-<id>
  int64_t created_ms = 0;
  bool revoked = false;
};

struct NewApiKey {
  ApiKeyInfo info;
  std::string secret;  // sk-lf-...: shown once, never stored
};

struct UserInfo {
  int64_t id = 0;
  std::string name;
  bool has_password = false;
  std::map<std::string, Role> roles;  // project -> role
};

struct TokenInfo {
  std::string id;
  std::string user;
  std::string name;
  int64_t created_ms = 0;
  bool revoked = false;
};

struct NewToken {
  TokenInfo info;
  std::string secret;  // slt_...: shown once, never stored
};

// What the server needs to authenticate, read at once (one transaction). Only live
// (unrevoked) keys and tokens are in it.
struct Snapshot {
  struct Key {
    std::string project;
    std::string secret_hash;
  };
  struct Token {
    std::string user;
    std::string secret_hash;
  };
  struct User {
    std::string password_hash;  // empty: no password login
    std::map<std::string, Role> roles;
  };
  std::map<std::string, Key> keys;      // by id
  std::map<std::string, Token> tokens;  // by id
  std::map<std::string, User> users;    // by name
  std::vector<std::string> projects;
  bool any_key_ever = false;  // an API key row exists, live or revoked
  // Auth is required once any API key has been created (revoking it does not reopen
  // the server) or any user exists (docs/auth.md, "Defaults").
  bool auth_configured() const { return any_key_ever || !keys.empty() || !users.empty(); }
};

// One row of the audit outbox (see above): an admin change waiting for the server to
// copy it into the audit trail.
struct OutboxRecord {
  int64_t id = 0;       // increasing, never reused (AUTOINCREMENT)
  int64_t time_ms = 0;  // when the change was committed
  std::string actor;    // MetadataDb::Options::actor of the connection that made it
  std::string action;   // "key.create", "user.role", ...
  std::string target;   // "project/billing/key/pk-lf-3f2a9c0d1e4b", "user/ana"
  std::string details;  // a JSON object; never a secret
};

// A UI session as stored (docs/auth.md, "UI login").
struct StoredSession {
  std::string user;
  std::string csrf;
  int64_t expires_s = 0;
};

// [A-Za-z0-9._-]{1,64}: project and user names.
Status ValidateName(std::string_view what, std::string_view name);
// The label of an API key or token (`--name`, `"name"`): at most kMaxLabelBytes bytes,
// no control characters; empty is allowed. InvalidArgument naming `what`.
inline constexpr size_t kMaxLabelBytes = 200;
Status ValidateLabel(std::string_view what, std::string_view label);
// A UI password: 8 to kMaxPasswordBytes bytes. `sightline admin` and the admin API
// apply the same rule; the message never quotes the password.
inline constexpr size_t kMinPasswordBytes = 8;
inline constexpr size_t kMaxPasswordBytes = 1024;
Status ValidatePassword(std::string_view password);

class MetadataDb {
 public:
  struct Options {
    int iterations = 0;  // PBKDF2 count for new secrets; 0: kDefaultIterations
    int busy_timeout_ms = 5000;
    // Who makes the changes through this connection, for their audit records
    // ("admin-cli:<unix user>" for `sightline admin`).
    std::string actor = "admin-cli";
  };

  // Opens (creating the file and schema when absent) path. IOError naming the path
  // when SQLite refuses it; Corruption when its schema is newer than this binary.
  static Result<std::unique_ptr<MetadataDb>> Open(const std::string& path, Options options);
  static Result<std::unique_ptr<MetadataDb>> Open(const std::string& path) { return Open(path, Options{}); }
  ~MetadataDb();
  MetadataDb(const MetadataDb&) = delete;
  MetadataDb& operator=(const MetadataDb&) = delete;

  Result<ProjectInfo> CreateProject(const std::string& name);
  Result<std::vector<ProjectInfo>> ListProjects();

  // NotFound when the project does not exist.
  Result<NewApiKey> CreateApiKey(const std::string& project, const std::string& name);
  // Every key (revoked ones too) of project, or of all projects when empty.
  Result<std::vector<ApiKeyInfo>> ListApiKeys(const std::string& project);
  // id, public key (pk-lf-<id>) or the secret itself; NotFound when unknown or revoked.
  Status RevokeApiKey(const std::string& key);
  // Revokes the key and creates its replacement (same project and name).
  Result<NewApiKey> RotateApiKey(const std::string& key);

  // password empty: no UI login (CLI tokens only).
  Result<UserInfo> CreateUser(const std::string& name, const std::string& password);
  Status SetPassword(const std::string& user, const std::string& password);
  // role nullopt: removes the user from the project.
  Status SetRole(const std::string& user, const std::string& project, std::optional<Role> role);
  // Deletes the user, their roles and tokens.
  Status RemoveUser(const std::string& user);
  Result<std::vector<UserInfo>> ListUsers();

  Result<NewToken> CreateToken(const std::string& user, const std::string& name);
  Status RevokeToken(const std::string& token);
  Result<std::vector<TokenInfo>> ListTokens();

  // UI sessions, by the SHA-256 hex of the session id. CreateSession drops the user's
  // expired sessions and, past max_per_user, their oldest. FindSession: nullopt when
  // unknown or expired.
  Status CreateSession(const std::string& user, const std::string& id_hash, const std::string& csrf, int64_t now_s,
                       int64_t expires_s, int max_per_user);
  Result<std::optional<StoredSession>> FindSession(const std::string& id_hash, int64_t now_s);
  Status DeleteSession(const std::string& id_hash);

  // The audit outbox, oldest first, at most limit rows; and the removal of the rows
  // up to and including id once their records are durable in the trail.
  Result<std::vector<OutboxRecord>> ReadAuditOutbox(size_t limit);
  Status DeleteAuditOutbox(int64_t up_to_id);

  Result<Snapshot> LoadSnapshot();
  // Changes whenever another connection commits (PRAGMA data_version).
  Result<int64_t> DataVersion();

  const std::string& path() const { return path_; }
  const Options& options() const { return options_; }

 private:
  MetadataDb(sqlite3* db, std::string path, Options options);
  Status Exec(const char* sql);  // mu_ held
  Status Migrate();              // mu_ held
  Result<NewApiKey> InsertKey(int64_t project_id, const std::string& project, const std::string& name);  // mu_ held
  Status RevokeKeyLocked(const std::string& key, std::string* id, std::string* project, std::string* name);  // mu_ held
  // Runs body inside BEGIN IMMEDIATE .. COMMIT; rolls back when it fails. mu_ held.
  Status InTransaction(const std::function<Status()>& body);
  // Queues the audit record of a change; call inside the change's transaction. mu_ held.
  Status Outbox(const std::string& action, const std::string& target, const std::string& details_json);
  Status Error(const char* what);  // from sqlite3_errmsg; mu_ held
  Result<int64_t> ProjectId(const std::string& name);  // NotFound; mu_ held
  Result<int64_t> UserId(const std::string& name);     // NotFound; mu_ held

  std::mutex mu_;
  sqlite3* db_;  // guarded by mu_
  const std::string path_;
  const Options options_;
};

// "sk-lf-<12 hex><...>" -> the id; nullopt when not of that form. Likewise for
// "pk-lf-<12 hex>" and "slt_<12 hex><...>".
std::optional<std::string> KeyIdOfSecret(std::string_view secret);
std::optional<std::string> KeyIdOfPublic(std::string_view public_key);
std::optional<std::string> TokenIdOf(std::string_view secret);

}  // namespace sightline::auth
