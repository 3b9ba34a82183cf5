#include "auth/authenticator.h"

#include <openssl/evp.h>

#include <algorithm>
#include <chrono>
#include <cctype>

#include "auth/kdf.h"

namespace sightline::auth {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != std::tolower(static_cast<unsigned char>(prefix[i])))
      return false;
  return true;
}

std::optional<std::string> Base64Decode(std::string_view in) {
  if (in.empty() || in.size() % 4 != 0 || in.size() > 4096) return std::nullopt;
  std::string out(in.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  if (n < 0) return std::nullopt;
  size_t pad = 0;
  if (in.back() == '=') ++pad;
  if (in.size() >= 2 && in[in.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

// The secret the request presents, or nullopt when it presents none in a form we know.
std::optional<std::string> PresentedSecret(const Credentials& c) {
  std::string_view auth = Trim(c.authorization);
  if (!auth.empty()) {
    if (StartsWithNoCase(auth, "bearer ")) return std::string(Trim(auth.substr(7)));
    if (StartsWithNoCase(auth, "basic ")) {
      auto decoded = Base64Decode(Trim(auth.substr(6)));
      if (!decoded) return std::nullopt;
      size_t colon = decoded->find(':');
      if (colon == std::string::npos) return std::nullopt;
      std::string user = decoded->substr(0, colon);
      std::string secret = decoded->substr(colon + 1);
      // Langfuse's pair: the public key must name the same key as the secret.
      auto pub = KeyIdOfPublic(user);
      auto sec = KeyIdOfSecret(secret);
      if (!pub || !sec || *pub != *sec) return std::nullopt;
      return secret;
    }
    return std::nullopt;
  }
  std::string_view key = Trim(c.api_key);
  if (!key.empty()) return std::string(key);
  return std::nullopt;
}

}  // namespace

bool ScopeProjects(const Principal& p, std::vector<std::string>* projects) {
  if (p.all_projects) return true;
  if (projects->empty()) {
    for (const auto& [name, role] : p.projects) projects->push_back(name);
    return !projects->empty();
  }
  projects->erase(std::remove_if(projects->begin(), projects->end(), [&](const std::string& n) { return !p.CanRead(n); }),
                  projects->end());
  return !projects->empty();
}

Authenticator::Authenticator(std::unique_ptr<MetadataDb> db, Options options)
    : db_(std::move(db)),
      options_(std::move(options)),
      snapshot_(std::make_shared<Snapshot>()),
      sessions_(options_.session_lifetime_s),
      limiter_(options_.login_max_failures, options_.login_window_s),
      dummy_hash_(HashSecret("no such user", options_.dummy_iterations)) {}

int64_t Authenticator::Now() const {
  if (options_.now_s) return options_.now_s();
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

Result<Principal> Authenticator::FromSession(std::string_view cookie, const Snapshot& snap) {
  const Status failed = Status::Unauthenticated(std::string(kAuthFailed));
  std::string id;
  // Cookie: a=b; sl_session=<id>; c=d
  while (!cookie.empty()) {
    size_t semi = cookie.find(';');
    std::string_view part = Trim(cookie.substr(0, semi));
    cookie = semi == std::string_view::npos ? std::string_view() : cookie.substr(semi + 1);
    size_t eq = part.find('=');
    if (eq != std::string_view::npos && part.substr(0, eq) == kSessionCookie) id = std::string(part.substr(eq + 1));
  }
  if (id.empty()) return failed;
  auto s = sessions_.Find(id, Now());
  if (!s) return failed;
  auto u = snap.users.find(s->user);
  if (u == snap.users.end() || u->second.password_hash.empty()) return failed;  // removed, or login taken away
  Principal p;
  p.kind = Principal::Kind::kSession;
  p.subject = s->user;
  p.projects = u->second.roles;
  p.session_id = id;
  p.csrf = s->csrf;
  return p;
}

Authenticator::LoginResult Authenticator::Login(const std::string& user, const std::string& password,
                                                const std::string& peer) {
  LoginResult r;
  const int64_t now = Now();
  const std::string key = user + '\n' + peer;
  if (int64_t wait = limiter_.RetryAfter(key, now); wait > 0) {
    r.status = Status::ResourceExhausted("too many failed logins; try again later");
    r.retry_after_s = wait;
    return r;
  }
  std::shared_ptr<const Snapshot> snap;
  {
    std::lock_guard<std::mutex> lock(mu_);
    snap = snapshot_;
  }
  const std::string* stored = &dummy_hash_;
  auto u = snap->users.find(user);
  bool real = u != snap->users.end() && !u->second.password_hash.empty();
  if (real) stored = &u->second.password_hash;
  bool ok = VerifySecret(password, *stored) && real;
  if (!ok) {
    limiter_.Failed(key, now);
    r.status = Status::Unauthenticated("wrong user name or password");
    return r;
  }
  limiter_.Succeeded(key);
  r.session_id = sessions_.Create(user, now, &r.session);
  return r;
}

void Authenticator::Logout(const std::string& session_id) { sessions_.Remove(session_id); }

Status Authenticator::Refresh() {
  SL_ASSIGN_OR_RETURN(int64_t version, db_->DataVersion());
  SL_ASSIGN_OR_RETURN(Snapshot snap, db_->LoadSnapshot());
  auto shared = std::make_shared<const Snapshot>(std::move(snap));
  std::lock_guard<std::mutex> lock(mu_);
  snapshot_ = std::move(shared);
  data_version_ = version;
  return Status::OK();
}

Status Authenticator::MaybeRefresh() {
  // PRAGMA data_version alone proved unreliable here (a second commit by another
  // connection in the same process went unnoticed), and the tables are small: read
  // them again. The server calls this once a second.
  return Refresh();
}

bool Authenticator::required() const {
  std::lock_guard<std::mutex> lock(mu_);
  return snapshot_->auth_configured();
}

uint64_t Authenticator::cache_hits() const {
  std::lock_guard<std::mutex> lock(mu_);
  return hits_;
}

uint64_t Authenticator::slow_verifications() const {
  std::lock_guard<std::mutex> lock(mu_);
  return slow_;
}

Result<Principal> Authenticator::Resolve(bool token, const std::string& id, const Snapshot& snap) const {
  Principal p;
  if (!token) {
    auto it = snap.keys.find(id);
    if (it == snap.keys.end()) return Status::Unauthenticated(std::string(kAuthFailed));
    p.kind = Principal::Kind::kApiKey;
    p.subject = id;
    p.ingest_project = it->second.project;
    p.projects[it->second.project] = Role::kMember;
    return p;
  }
  auto it = snap.tokens.find(id);
  if (it == snap.tokens.end()) return Status::Unauthenticated(std::string(kAuthFailed));
  auto u = snap.users.find(it->second.user);
  if (u == snap.users.end()) return Status::Unauthenticated(std::string(kAuthFailed));
  p.kind = Principal::Kind::kToken;
  p.subject = it->second.user;
  p.projects = u->second.roles;
  return p;
}

Result<Principal> Authenticator::Authenticate(const Credentials& c) {
  std::shared_ptr<const Snapshot> snap;
  {
    std::lock_guard<std::mutex> lock(mu_);
    snap = snapshot_;
  }
  if (!snap->auth_configured()) return Principal::Open();
  const Status failed = Status::Unauthenticated(std::string(kAuthFailed));
  if (Trim(c.authorization).empty() && Trim(c.api_key).empty() && !c.cookie.empty()) return FromSession(c.cookie, *snap);
  auto secret = PresentedSecret(c);
  if (!secret) return failed;
  bool token = false;
  std::optional<std::string> id = KeyIdOfSecret(*secret);
  if (!id) {
    id = TokenIdOf(*secret);
    token = true;
  }
  if (!id) return failed;
  std::string fast = Sha256(*secret);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(fast);
    if (it != cache_.end() && it->second.token == token && it->second.id == *id) {
      ++hits_;
      return Resolve(token, *id, *snap);
    }
  }
  // Not verified yet: the slow hash, outside the lock.
  const std::string* stored = nullptr;
  if (token) {
    if (auto t = snap->tokens.find(*id); t != snap->tokens.end()) stored = &t->second.secret_hash;
  } else {
    if (auto k = snap->keys.find(*id); k != snap->keys.end()) stored = &k->second.secret_hash;
  }
  if (stored == nullptr) return failed;
  bool ok = VerifySecret(*secret, *stored);
  std::lock_guard<std::mutex> lock(mu_);
  ++slow_;
  if (!ok) return failed;
  if (cache_.size() >= options_.cache_entries) cache_.clear();  // bounded; refills on use
  cache_[fast] = CacheEntry{token, *id};
  return Resolve(token, *id, *snap);
}

}  // namespace sightline::auth
