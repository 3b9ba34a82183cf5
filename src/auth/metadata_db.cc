#include "auth/metadata_db.h"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "auth/kdf.h"

namespace sightline::auth {
namespace {

constexpr size_t kIdHexDigits = 12;
constexpr size_t kSecretChars = 32;
constexpr std::string_view kSecretPrefix = "sk-lf-";
constexpr std::string_view kPublicPrefix = "pk-lf-";
constexpr std::string_view kTokenPrefix = "slt_";

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool IsHexId(std::string_view s) {
  if (s.size() != kIdHexDigits) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::optional<std::string> IdAfter(std::string_view text, std::string_view prefix, bool exact) {
  if (text.substr(0, prefix.size()) != prefix) return std::nullopt;
  text.remove_prefix(prefix.size());
  if (exact ? text.size() != kIdHexDigits : text.size() < kIdHexDigits) return std::nullopt;
  std::string_view id = text.substr(0, kIdHexDigits);
  if (!IsHexId(id)) return std::nullopt;
  return std::string(id);
}

// A prepared statement; finalised on scope exit.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &s_, nullptr); }
  ~Stmt() { sqlite3_finalize(s_); }
  bool ok() const { return rc_ == SQLITE_OK; }
  Stmt& Bind(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Bind(int i, int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Stmt& BindNull(int i) {
    sqlite3_bind_null(s_, i);
    return *this;
  }
  int Step() { return sqlite3_step(s_); }
  std::string Text(int col) {
    const unsigned char* t = sqlite3_column_text(s_, col);
    return t ? std::string(reinterpret_cast<const char*>(t), static_cast<size_t>(sqlite3_column_bytes(s_, col)))
             : std::string();
  }
  int64_t Int(int col) { return sqlite3_column_int64(s_, col); }
  bool IsNull(int col) { return sqlite3_column_type(s_, col) == SQLITE_NULL; }

 private:
  sqlite3_stmt* s_ = nullptr;
  int rc_;
};

constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE IF NOT EXISTS projects(
  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS api_keys(
  id TEXT PRIMARY KEY, project_id INTEGER NOT NULL REFERENCES projects(id), name TEXT NOT NULL,
  secret_hash TEXT NOT NULL, created_ms INTEGER NOT NULL, revoked_ms INTEGER);
CREATE TABLE IF NOT EXISTS users(
  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, password_hash TEXT, created_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS memberships(
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  project_id INTEGER NOT NULL REFERENCES projects(id),
  role TEXT NOT NULL CHECK (role IN ('admin','member','viewer')),
  PRIMARY KEY(user_id, project_id));
CREATE TABLE IF NOT EXISTS cli_tokens(
  id TEXT PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE, name TEXT NOT NULL,
  secret_hash TEXT NOT NULL, created_ms INTEGER NOT NULL, revoked_ms INTEGER);
PRAGMA user_version = 1;
)sql";

constexpr const char* kMigrate1to2 = R"sql(
CREATE TABLE IF NOT EXISTS audit_outbox(
  id INTEGER PRIMARY KEY AUTOINCREMENT, time_ms INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
  target TEXT NOT NULL, details TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ui_sessions(
  id_hash TEXT PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE, csrf TEXT NOT NULL,
  created_s INTEGER NOT NULL, expires_s INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS ui_sessions_user ON ui_sessions(user_id);
PRAGMA user_version = 2;
)sql";

// A small JSON object from (key, value) pairs: strings, or raw JSON when the value
// starts with '\x01' (numbers, booleans).
std::string JsonObject(std::initializer_list<std::pair<const char*, std::string>> kv) {
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  w.StartObject();
  for (const auto& [k, v] : kv) {
    w.Key(k);
    if (!v.empty() && v[0] == '\x01') {
      w.RawValue(v.data() + 1, v.size() - 1, rapidjson::kNumberType);
    } else {
      w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
    }
  }
  w.EndObject();
  return std::string(b.GetString(), b.GetSize());
}
std::string Raw(int64_t n) { return "\x01" + std::to_string(n); }
std::string Raw(bool b) { return std::string("\x01") + (b ? "true" : "false"); }

}  // namespace

std::string_view RoleName(Role r) {
  switch (r) {
    case Role::kAdmin: return "admin";
    case Role::kMember: return "member";
    case Role::kViewer: return "viewer";
  }
  return "viewer";
}

std::optional<Role> ParseRole(std::string_view name) {
  if (name == "admin") return Role::kAdmin;
  if (name == "member") return Role::kMember;
  if (name == "viewer") return Role::kViewer;
  return std::nullopt;
}

Status ValidateName(std::string_view what, std::string_view name) {
  bool ok = !name.empty() && name.size() <= 64;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
          c == '-'))
      ok = false;
  if (!ok) return Status::InvalidArgument(std::string(what) + " names are 1-64 of A-Z a-z 0-9 . _ -");
  return Status::OK();
}

Status ValidateLabel(std::string_view what, std::string_view label) {
  if (label.size() > kMaxLabelBytes)
    return Status::InvalidArgument(std::string(what) + " names are at most " + std::to_string(kMaxLabelBytes) +
                                   " bytes");
  for (char c : label)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      return Status::InvalidArgument(std::string(what) + " names may not contain control characters");
  return Status::OK();
}

Status ValidatePassword(std::string_view password) {
  if (password.size() < kMinPasswordBytes)
    return Status::InvalidArgument("passwords are at least " + std::to_string(kMinPasswordBytes) + " characters");
  if (password.size() > kMaxPasswordBytes)
    return Status::InvalidArgument("passwords are at most " + std::to_string(kMaxPasswordBytes) + " characters");
  return Status::OK();
}

std::optional<std::string> KeyIdOfSecret(std::string_view s) { return IdAfter(s, kSecretPrefix, false); }
std::optional<std::string> KeyIdOfPublic(std::string_view s) { return IdAfter(s, kPublicPrefix, true); }
std::optional<std::string> TokenIdOf(std::string_view s) { return IdAfter(s, kTokenPrefix, false); }

MetadataDb::MetadataDb(sqlite3* db, std::string path, Options options)
    : db_(db), path_(std::move(path)), options_(options) {}

MetadataDb::~MetadataDb() { sqlite3_close_v2(db_); }

Status MetadataDb::Error(const char* what) {
  return Status::IOError(std::string(what) + " in " + path_ + ": " + sqlite3_errmsg(db_));
}

Status MetadataDb::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return Status::IOError("metadata database " + path_ + ": " + msg);
  }
  return Status::OK();
}

Result<std::unique_ptr<MetadataDb>> MetadataDb::Open(const std::string& path, Options options) {
  if (options.iterations <= 0) options.iterations = kDefaultIterations;
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    return Status::IOError("cannot open the metadata database " + path + ": " + msg);
  }
  std::unique_ptr<MetadataDb> m(new MetadataDb(db, path, options));
  std::lock_guard<std::mutex> lock(m->mu_);
  sqlite3_busy_timeout(db, options.busy_timeout_ms);
  SL_RETURN_IF_ERROR(m->Exec("PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL;"));
  SL_RETURN_IF_ERROR(m->Migrate());
  return m;
}

Status MetadataDb::Migrate() {
  SL_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  int64_t version = -1;
  {
    Stmt v(db_, "PRAGMA user_version");
    if (v.Step() == SQLITE_ROW) version = v.Int(0);
  }
  Status st;
  if (version < 0) {
    st = Error("reading the schema version");
  } else if (version > kSchemaVersion) {
    st = Status::Corruption("the metadata database " + path_ + " has schema version " + std::to_string(version) +
                            ", newer than this build's " + std::to_string(kSchemaVersion));
  } else {
    if (version < 1) st = Exec(kSchemaV1);
    if (st.ok() && version < 2) st = Exec(kMigrate1to2);
  }
  // Later versions: `if (st.ok() && version < 3) st = Exec(kMigrate2to3);` and so on.
  if (!st.ok()) {
    (void)Exec("ROLLBACK");
    return st;
  }
  return Exec("COMMIT");
}

Result<int64_t> MetadataDb::ProjectId(const std::string& name) {
  Stmt p(db_, "SELECT id FROM projects WHERE name = ?");
  if (p.Bind(1, name).Step() != SQLITE_ROW) return Status::NotFound("no project " + name);
  return p.Int(0);
}

Result<int64_t> MetadataDb::UserId(const std::string& name) {
  Stmt u(db_, "SELECT id FROM users WHERE name = ?");
  if (u.Bind(1, name).Step() != SQLITE_ROW) return Status::NotFound("no user " + name);
  return u.Int(0);
}

Status MetadataDb::InTransaction(const std::function<Status()>& body) {
  SL_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  Status st = body();
  if (st.ok()) st = Exec("COMMIT");
  if (!st.ok()) (void)Exec("ROLLBACK");
  return st;
}

Status MetadataDb::Outbox(const std::string& action, const std::string& target, const std::string& details_json) {
  Stmt s(db_, "INSERT INTO audit_outbox(time_ms, actor, action, target, details) VALUES(?, ?, ?, ?, ?)");
  s.Bind(1, NowMs()).Bind(2, options_.actor).Bind(3, action).Bind(4, target).Bind(5, details_json);
  if (s.Step() != SQLITE_DONE) return Error("recording an admin action for the audit trail");
  return Status::OK();
}

Result<ProjectInfo> MetadataDb::CreateProject(const std::string& name) {
  SL_RETURN_IF_ERROR(ValidateName("project", name));
  std::lock_guard<std::mutex> lock(mu_);
  ProjectInfo p{0, name, NowMs()};
  SL_RETURN_IF_ERROR(InTransaction([&]() -> Status {
    Stmt s(db_, "INSERT INTO projects(name, created_ms) VALUES(?, ?)");
    int rc = s.Bind(1, name).Bind(2, p.created_ms).Step();
    if (rc == SQLITE_CONSTRAINT) return Status::InvalidArgument("project " + name + " already exists");
    if (rc != SQLITE_DONE) return Error("creating a project");
    p.id = sqlite3_last_insert_rowid(db_);
    return Outbox("project.create", "project/" + name, "{}");
  }));
  return p;
}

Result<std::vector<ProjectInfo>> MetadataDb::ListProjects() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ProjectInfo> out;
  Stmt s(db_, "SELECT id, name, created_ms FROM projects ORDER BY name");
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back({s.Int(0), s.Text(1), s.Int(2)});
  if (rc != SQLITE_DONE) return Error("listing projects");
  return out;
}

Result<NewApiKey> MetadataDb::InsertKey(int64_t project_id, const std::string& project, const std::string& name) {
  NewApiKey k;
  k.info.id = RandomHex(kIdHexDigits / 2);
  k.info.project = project;
  k.info.name = name;
  k.info.public_key = std::string(kPublicPrefix) + k.info.id;
  k.info.created_ms = NowMs();
  k.secret = std::string(kSecretPrefix) + k.info.id + RandomAlnum(kSecretChars);
  Stmt s(db_, "INSERT INTO api_keys(id, project_id, name, secret_hash, created_ms) VALUES(?, ?, ?, ?, ?)");
  s.Bind(1, k.info.id).Bind(2, project_id).Bind(3, name).Bind(4, HashSecret(k.secret, options_.iterations));
  if (s.Bind(5, k.info.created_ms).Step() != SQLITE_DONE) return Error("creating an API key");
  return k;
}

Result<NewApiKey> MetadataDb::CreateApiKey(const std::string& project, const std::string& name) {
  SL_RETURN_IF_ERROR(ValidateLabel("key", name));
  std::lock_guard<std::mutex> lock(mu_);
  NewApiKey k;
  SL_RETURN_IF_ERROR(InTransaction([&]() -> Status {
    SL_ASSIGN_OR_RETURN(int64_t project_id, ProjectId(project));
    SL_ASSIGN_OR_RETURN(k, InsertKey(project_id, project, name));
    return Outbox("key.create", "project/" + project + "/key/" + k.info.public_key, JsonObject({{"name", name}}));
  }));
  return k;
}

Result<std::vector<ApiKeyInfo>> MetadataDb::ListApiKeys(const std::string& project) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ApiKeyInfo> out;
  Stmt s(db_,
         "SELECT k.id, p.name, k.name, k.created_ms, k.revoked_ms FROM api_keys k JOIN projects p ON p.id = k.project_id "
         "WHERE ?1 = '' OR p.name = ?1 ORDER BY p.name, k.created_ms");
  s.Bind(1, project);
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    ApiKeyInfo k;
    k.id = s.Text(0);
    k.project = s.Text(1);
    k.name = s.Text(2);
    k.public_key = std::string(kPublicPrefix) + k.id;
    k.created_ms = s.Int(3);
    k.revoked = !s.IsNull(4);
    out.push_back(std::move(k));
  }
  if (rc != SQLITE_DONE) return Error("listing API keys");
  return out;
}

Status MetadataDb::RevokeKeyLocked(const std::string& key, std::string* id_out, std::string* project,
                                   std::string* name) {
  std::string id = key;
  if (auto i = KeyIdOfPublic(key)) id = *i;
  else if (auto j = KeyIdOfSecret(key)) id = *j;
  if (!IsHexId(id)) return Status::NotFound("no live API key with that id");  // never echo a malformed secret
  *id_out = id;
  {
    Stmt q(db_,
           "SELECT p.name, k.name FROM api_keys k JOIN projects p ON p.id = k.project_id "
           "WHERE k.id = ? AND k.revoked_ms IS NULL");
    if (q.Bind(1, id).Step() != SQLITE_ROW) return Status::NotFound("no live API key " + id);
    if (project) *project = q.Text(0);
    if (name) *name = q.Text(1);
  }
  Stmt s(db_, "UPDATE api_keys SET revoked_ms = ? WHERE id = ?");
  if (s.Bind(1, NowMs()).Bind(2, id).Step() != SQLITE_DONE) return Error("revoking an API key");
  return Status::OK();
}

Status MetadataDb::RevokeApiKey(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  return InTransaction([&]() -> Status {
    std::string id, project, name;
    SL_RETURN_IF_ERROR(RevokeKeyLocked(key, &id, &project, &name));
    return Outbox("key.revoke", "project/" + project + "/key/" + std::string(kPublicPrefix) + id,
                  JsonObject({{"name", name}}));
  });
}

Result<NewApiKey> MetadataDb::RotateApiKey(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  NewApiKey created;
  SL_RETURN_IF_ERROR(InTransaction([&]() -> Status {
    std::string id, project, name;
    SL_RETURN_IF_ERROR(RevokeKeyLocked(key, &id, &project, &name));
    SL_ASSIGN_OR_RETURN(int64_t project_id, ProjectId(project));
    SL_ASSIGN_OR_RETURN(created, InsertKey(project_id, project, name));
    return Outbox("key.rotate", "project/" + project + "/key/" + std::string(kPublicPrefix) + id,
                  JsonObject({{"name", name}, {"new_key", created.info.public_key}}));
  }));
  return created;
}

Result<UserInfo> MetadataDb::CreateUser(const std::string& name, const std::string& password) {
  SL_RETURN_IF_ERROR(ValidateName("user", name));
  std::lock_guard<std::mutex> lock(mu_);
  UserInfo u;
  u.name = name;
  u.has_password = !password.empty();
  const std::string hash = password.empty() ? std::string() : HashSecret(password, options_.iterations);
  SL_RETURN_IF_ERROR(InTransaction([&]() -> Status {
    Stmt s(db_, "INSERT INTO users(name, password_hash, created_ms) VALUES(?, ?, ?)");
    s.Bind(1, name);
    if (hash.empty()) s.BindNull(2);
    else s.Bind(2, hash);
    int rc = s.Bind(3, NowMs()).Step();
    if (rc == SQLITE_CONSTRAINT) return Status::InvalidArgument("user " + name + " already exists");
    if (rc != SQLITE_DONE) return Error("creating a user");
    u.id = sqlite3_last_insert_rowid(db_);
    return Outbox("user.create", "user/" + name, JsonObject({{"password", Raw(!hash.empty())}}));
  }));
  return u;
}

Status MetadataDb::SetPassword(const std::string& user, const std::string& password) {
  const std::string hash = password.empty() ? std::string() : HashSecret(password, options_.iterations);
  std::lock_guard<std::mutex> lock(mu_);
  return InTransaction([&]() -> Status {
    SL_ASSIGN_OR_RETURN(int64_t user_id, UserId(user));
    Stmt s(db_, "UPDATE users SET password_hash = ? WHERE id = ?");
    if (hash.empty()) s.BindNull(1);
    else s.Bind(1, hash);
    if (s.Bind(2, user_id).Step() != SQLITE_DONE) return Error("setting a password");
    // Whoever held a session did so with the old password: all of them end.
    Stmt d(db_, "DELETE FROM ui_sessions WHERE user_id = ?");
    if (d.Bind(1, user_id).Step() != SQLITE_DONE) return Error("ending sessions");
    int64_t ended = sqlite3_changes(db_);
    return Outbox("user.password", "user/" + user,
                  JsonObject({{"password", hash.empty() ? "removed" : "set"}, {"sessions_ended", Raw(ended)}}));
  });
}

Status MetadataDb::SetRole(const std::string& user, const std::string& project, std::optional<Role> role) {
  std::lock_guard<std::mutex> lock(mu_);
  return InTransaction([&]() -> Status {
    SL_ASSIGN_OR_RETURN(int64_t user_id, UserId(user));
    SL_ASSIGN_OR_RETURN(int64_t project_id, ProjectId(project));
    std::string previous = "none";
    {
      Stmt q(db_, "SELECT role FROM memberships WHERE user_id = ? AND project_id = ?");
      if (q.Bind(1, user_id).Bind(2, project_id).Step() == SQLITE_ROW) previous = q.Text(0);
    }
    if (!role) {
      Stmt d(db_, "DELETE FROM memberships WHERE user_id = ? AND project_id = ?");
      if (d.Bind(1, user_id).Bind(2, project_id).Step() != SQLITE_DONE) return Error("removing a role");
    } else {
      Stmt s(db_,
             "INSERT INTO memberships(user_id, project_id, role) VALUES(?, ?, ?) "
             "ON CONFLICT(user_id, project_id) DO UPDATE SET role = excluded.role");
      if (s.Bind(1, user_id).Bind(2, project_id).Bind(3, std::string(RoleName(*role))).Step() != SQLITE_DONE)
        return Error("setting a role");
    }
    return Outbox("user.role", "user/" + user,
                  JsonObject({{"project", project},
                              {"role", role ? std::string(RoleName(*role)) : std::string("none")},
                              {"previous", previous}}));
  });
}

Status MetadataDb::RemoveUser(const std::string& user) {
  std::lock_guard<std::mutex> lock(mu_);
  return InTransaction([&]() -> Status {
    SL_ASSIGN_OR_RETURN(int64_t user_id, UserId(user));
    auto count = [&](const char* sql) -> int64_t {
      Stmt c(db_, sql);
      return c.Bind(1, user_id).Step() == SQLITE_ROW ? c.Int(0) : 0;
    };
    int64_t tokens = count("SELECT count(*) FROM cli_tokens WHERE user_id = ? AND revoked_ms IS NULL");
    int64_t sessions = count("SELECT count(*) FROM ui_sessions WHERE user_id = ?");
    int64_t roles = count("SELECT count(*) FROM memberships WHERE user_id = ?");
    Stmt s(db_, "DELETE FROM users WHERE id = ?");  // roles, tokens and sessions cascade
    if (s.Bind(1, user_id).Step() != SQLITE_DONE) return Error("removing a user");
    return Outbox("user.delete", "user/" + user,
                  JsonObject({{"roles", Raw(roles)}, {"live_tokens", Raw(tokens)}, {"sessions_ended", Raw(sessions)}}));
  });
}

Result<std::vector<UserInfo>> MetadataDb::ListUsers() {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<int64_t, UserInfo> by_id;
  Stmt s(db_, "SELECT id, name, password_hash IS NOT NULL FROM users");
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) by_id[s.Int(0)] = UserInfo{s.Int(0), s.Text(1), s.Int(2) != 0, {}};
  if (rc != SQLITE_DONE) return Error("listing users");
  Stmt m(db_, "SELECT m.user_id, p.name, m.role FROM memberships m JOIN projects p ON p.id = m.project_id");
  while ((rc = m.Step()) == SQLITE_ROW) {
    auto it = by_id.find(m.Int(0));
    if (it != by_id.end()) it->second.roles[m.Text(1)] = ParseRole(m.Text(2)).value_or(Role::kViewer);
  }
  if (rc != SQLITE_DONE) return Error("listing roles");
  std::vector<UserInfo> out;
  for (auto& [id, u] : by_id) out.push_back(std::move(u));
  std::sort(out.begin(), out.end(), [](const UserInfo& a, const UserInfo& b) { return a.name < b.name; });
  return out;
}

Result<NewToken> MetadataDb::CreateToken(const std::string& user, const std::string& name) {
  SL_RETURN_IF_ERROR(ValidateLabel("token", name));
  NewToken t;
  t.info.id = RandomHex(kIdHexDigits / 2);
  t.info.user = user;
  t.info.name = name;
  t.info.created_ms = NowMs();
  t.secret = std::string(kTokenPrefix) + t.info.id + RandomAlnum(kSecretChars);
  const std::string hash = HashSecret(t.secret, options_.iterations);
  std::lock_guard<std::mutex> lock(mu_);
  SL_RETURN_IF_ERROR(InTransaction([&]() -> Status {
    SL_ASSIGN_OR_RETURN(int64_t user_id, UserId(user));
    Stmt s(db_, "INSERT INTO cli_tokens(id, user_id, name, secret_hash, created_ms) VALUES(?, ?, ?, ?, ?)");
    s.Bind(1, t.info.id).Bind(2, user_id).Bind(3, name).Bind(4, hash);
    if (s.Bind(5, t.info.created_ms).Step() != SQLITE_DONE) return Error("creating a token");
    return Outbox("token.create", "user/" + user + "/token/" + t.info.id, JsonObject({{"name", name}}));
  }));
  return t;
}

Status MetadataDb::RevokeToken(const std::string& token) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string id = TokenIdOf(token).value_or(token);
  if (!IsHexId(id)) return Status::NotFound("no live token with that id");  // never echo a malformed secret
  return InTransaction([&]() -> Status {
    std::string user;
    {
      Stmt q(db_,
             "SELECT u.name FROM cli_tokens t JOIN users u ON u.id = t.user_id WHERE t.id = ? AND t.revoked_ms IS NULL");
      if (q.Bind(1, id).Step() != SQLITE_ROW) return Status::NotFound("no live token " + id);
      user = q.Text(0);
    }
    Stmt s(db_, "UPDATE cli_tokens SET revoked_ms = ? WHERE id = ? AND revoked_ms IS NULL");
    if (s.Bind(1, NowMs()).Bind(2, id).Step() != SQLITE_DONE) return Error("revoking a token");
    return Outbox("token.revoke", "user/" + user + "/token/" + id, "{}");
  });
}

Result<std::vector<TokenInfo>> MetadataDb::ListTokens() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<TokenInfo> out;
  Stmt s(db_,
         "SELECT t.id, u.name, t.name, t.created_ms, t.revoked_ms FROM cli_tokens t JOIN users u ON u.id = t.user_id "
         "ORDER BY u.name, t.created_ms");
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back({s.Text(0), s.Text(1), s.Text(2), s.Int(3), !s.IsNull(4)});
  if (rc != SQLITE_DONE) return Error("listing tokens");
  return out;
}

Status MetadataDb::CreateSession(const std::string& user, const std::string& id_hash, const std::string& csrf,
                                 int64_t now_s, int64_t expires_s, int max_per_user) {
  std::lock_guard<std::mutex> lock(mu_);
  return InTransaction([&]() -> Status {
    SL_ASSIGN_OR_RETURN(int64_t user_id, UserId(user));
    Stmt gone(db_, "DELETE FROM ui_sessions WHERE expires_s <= ?");
    if (gone.Bind(1, now_s).Step() != SQLITE_DONE) return Error("dropping expired sessions");
    // Bounded per user: the oldest go first.
    Stmt old(db_,
             "DELETE FROM ui_sessions WHERE id_hash IN (SELECT id_hash FROM ui_sessions WHERE user_id = ? "
             "ORDER BY created_s DESC, rowid DESC LIMIT -1 OFFSET ?)");
    if (old.Bind(1, user_id).Bind(2, int64_t{std::max(0, max_per_user - 1)}).Step() != SQLITE_DONE)
      return Error("dropping old sessions");
    Stmt s(db_, "INSERT INTO ui_sessions(id_hash, user_id, csrf, created_s, expires_s) VALUES(?, ?, ?, ?, ?)");
    s.Bind(1, id_hash).Bind(2, user_id).Bind(3, csrf).Bind(4, now_s).Bind(5, expires_s);
    if (s.Step() != SQLITE_DONE) return Error("creating a session");
    return Status::OK();
  });
}

Result<std::optional<StoredSession>> MetadataDb::FindSession(const std::string& id_hash, int64_t now_s) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s(db_,
         "SELECT u.name, s.csrf, s.expires_s FROM ui_sessions s JOIN users u ON u.id = s.user_id "
         "WHERE s.id_hash = ? AND s.expires_s > ?");
  int rc = s.Bind(1, id_hash).Bind(2, now_s).Step();
  if (rc == SQLITE_DONE) return std::optional<StoredSession>();
  if (rc != SQLITE_ROW) return Error("reading a session");
  return std::optional<StoredSession>(StoredSession{s.Text(0), s.Text(1), s.Int(2)});
}

Status MetadataDb::DeleteSession(const std::string& id_hash) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s(db_, "DELETE FROM ui_sessions WHERE id_hash = ?");
  if (s.Bind(1, id_hash).Step() != SQLITE_DONE) return Error("ending a session");
  return Status::OK();
}

Result<std::vector<OutboxRecord>> MetadataDb::ReadAuditOutbox(size_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<OutboxRecord> out;
  Stmt s(db_, "SELECT id, time_ms, actor, action, target, details FROM audit_outbox ORDER BY id LIMIT ?");
  s.Bind(1, static_cast<int64_t>(limit));
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW)
    out.push_back({s.Int(0), s.Int(1), s.Text(2), s.Text(3), s.Text(4), s.Text(5)});
  if (rc != SQLITE_DONE) return Error("reading the audit outbox");
  return out;
}

Status MetadataDb::DeleteAuditOutbox(int64_t up_to_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s(db_, "DELETE FROM audit_outbox WHERE id <= ?");
  if (s.Bind(1, up_to_id).Step() != SQLITE_DONE) return Error("clearing the audit outbox");
  return Status::OK();
}

Result<Snapshot> MetadataDb::LoadSnapshot() {
  std::lock_guard<std::mutex> lock(mu_);
  SL_RETURN_IF_ERROR(Exec("BEGIN"));
  Snapshot snap;
  auto load = [&]() -> Status {
    int rc;
    Stmt p(db_, "SELECT name FROM projects ORDER BY name");
    while ((rc = p.Step()) == SQLITE_ROW) snap.projects.push_back(p.Text(0));
    if (rc != SQLITE_DONE) return Error("reading projects");
    Stmt k(db_,
           "SELECT k.id, p.name, k.secret_hash FROM api_keys k JOIN projects p ON p.id = k.project_id "
           "WHERE k.revoked_ms IS NULL");
    while ((rc = k.Step()) == SQLITE_ROW) snap.keys[k.Text(0)] = {k.Text(1), k.Text(2)};
    if (rc != SQLITE_DONE) return Error("reading API keys");
    Stmt any(db_, "SELECT EXISTS(SELECT 1 FROM api_keys)");
    if (any.Step() != SQLITE_ROW) return Error("reading API keys");
    snap.any_key_ever = any.Int(0) != 0;
    Stmt u(db_, "SELECT name, coalesce(password_hash, '') FROM users");
    while ((rc = u.Step()) == SQLITE_ROW) snap.users[u.Text(0)].password_hash = u.Text(1);
    if (rc != SQLITE_DONE) return Error("reading users");
    Stmt m(db_,
           "SELECT u.name, p.name, m.role FROM memberships m JOIN users u ON u.id = m.user_id "
           "JOIN projects p ON p.id = m.project_id");
    while ((rc = m.Step()) == SQLITE_ROW)
      snap.users[m.Text(0)].roles[m.Text(1)] = ParseRole(m.Text(2)).value_or(Role::kViewer);
    if (rc != SQLITE_DONE) return Error("reading roles");
    Stmt t(db_,
           "SELECT t.id, u.name, t.secret_hash FROM cli_tokens t JOIN users u ON u.id = t.user_id "
           "WHERE t.revoked_ms IS NULL");
    while ((rc = t.Step()) == SQLITE_ROW) snap.tokens[t.Text(0)] = {t.Text(1), t.Text(2)};
    if (rc != SQLITE_DONE) return Error("reading tokens");
    return Status::OK();
  };
  Status st = load();
  (void)Exec("COMMIT");
  if (!st.ok()) return st;
  return snap;
}

Result<int64_t> MetadataDb::DataVersion() {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s(db_, "PRAGMA data_version");
  if (s.Step() != SQLITE_ROW) return Error("reading data_version");
  return s.Int(0);
}

}  // namespace sightline::auth
