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

// The keys and tokens (ids and hashes) of two snapshots are the same.
bool SameCredentials(const Snapshot& a, const Snapshot& b) {
  if (a.keys.size() != b.keys.size() || a.tokens.size() != b.tokens.size()) return false;
  for (auto i = a.keys.begin(), j = b.keys.begin(); i != a.keys.end(); ++i, ++j)
    if (i->first != j->first || i->second.secret_hash != j->second.secret_hash) return false;
  for (auto i = a.tokens.begin(), j = b.tokens.begin(); i != a.tokens.end(); ++i, ++j)
    if (i->first != j->first || i->second.secret_hash != j->second.secret_hash) return false;
  return true;
}

// Admin of every project in the database (and of at least one).
bool AdminEverywhere(const std::map<std::string, Role>& roles, const Snapshot& snap) {
  if (snap.projects.empty()) return false;
  for (const auto& p : snap.projects) {
    auto it = roles.find(p);
    if (it == roles.end() || it->second != Role::kAdmin) return false;
  }
  return true;
}

std::string Sha256Hex(std::string_view data) {
  static const char* kHex = "0123456789abcdef";
  std::string raw = Sha256(data), out;
  out.reserve(raw.size() * 2);
  for (unsigned char ch : raw) {
    out += kHex[ch >> 4];
    out += kHex[ch & 15];
  }
  return out;
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
  if (static_cast<size_t>(n) < pad) return std::nullopt;  // "====" and the like
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

}  // namespace

std::string SessionIdFromCookie(std::string_view cookie) {
  std::string id;
  // Cookie: a=b; sl_session=<id>; c=d (the last one wins, as browsers send one)
  while (!cookie.empty()) {
    size_t semi = cookie.find(';');
    std::string_view part = Trim(cookie.substr(0, semi));
    cookie = semi == std::string_view::npos ? std::string_view() : cookie.substr(semi + 1);
    size_t eq = part.find('=');
    if (eq != std::string_view::npos && Trim(part.substr(0, eq)) == kSessionCookie)
      id = std::string(Trim(part.substr(eq + 1)));
  }
  return id;
}

ParsedCredential ParseCredentials(const Credentials& c) {
  using K = ParsedCredential::Kind;
  ParsedCredential out;
  std::string_view auth = Trim(c.authorization);
  std::string_view key = Trim(c.api_key);
  std::string secret;
  if (!auth.empty()) {
    out.kind = K::kMalformed;
    if (StartsWithNoCase(auth, "bearer ")) {
      secret = std::string(Trim(auth.substr(7)));
    } else if (StartsWithNoCase(auth, "basic ")) {
      auto decoded = Base64Decode(Trim(auth.substr(6)));
      if (!decoded) return out;
      size_t colon = decoded->find(':');
      if (colon == std::string::npos) return out;
      // Langfuse's pair: the public key must name the same key as the secret.
      auto pub = KeyIdOfPublic(std::string_view(*decoded).substr(0, colon));
      auto sec = KeyIdOfSecret(std::string_view(*decoded).substr(colon + 1));
      if (!pub || !sec || *pub != *sec) return out;
      secret = decoded->substr(colon + 1);
    } else {
      return out;
    }
  } else if (!key.empty()) {
    out.kind = K::kMalformed;
    secret = std::string(key);
  } else {
    std::string id = SessionIdFromCookie(c.cookie);
    if (id.empty()) return out;  // kNone
    // Session ids are 64 lower-case hex digits; anything else is not one of ours.
    bool hex = id.size() == 64;
    for (char ch : id) hex = hex && ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'));
    out.kind = hex ? K::kSession : K::kMalformed;
    if (hex) out.id = std::move(id);
    return out;
  }
  // Secrets Sightline issues are printable ASCII without spaces. Anything else is
  // refused before hashing: PBKDF2's HMAC pads a short key with zero bytes, so "s" and
  // "s\0" would otherwise verify alike (found by auth_credentials_fuzz).
  for (char ch : secret)
    if (static_cast<unsigned char>(ch) < 0x21 || static_cast<unsigned char>(ch) > 0x7e) return out;  // kMalformed
  if (auto id = KeyIdOfSecret(secret)) {
    out.kind = K::kApiKey;
    out.id = *id;
  } else if (auto tid = TokenIdOf(secret)) {
    out.kind = K::kToken;
    out.id = *tid;
  } else {
    return out;  // kMalformed
  }
  out.secret = std::move(secret);
  return out;
}

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
      limiter_(options_.login_max_failures, options_.login_window_s),
      dummy_hash_(HashSecret("no such user", options_.dummy_iterations)) {}

int64_t Authenticator::Now() const {
  if (options_.now_s) return options_.now_s();
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

Result<Principal> Authenticator::FromSession(const std::string& id, const Snapshot& snap) {
  const Status failed = Status::Unauthenticated(std::string(kAuthFailed));
  auto found = db_->FindSession(Sha256Hex(id), Now());
  if (!found.ok()) return Status::Unavailable("the metadata database is busy; try again");
  const auto& s = *found;
  if (!s) return failed;
  auto u = snap.users.find(s->user);
  if (u == snap.users.end() || u->second.password_hash.empty()) return failed;  // removed, or login taken away
  Principal p;
  p.kind = Principal::Kind::kSession;
  p.subject = s->user;
  p.projects = u->second.roles;
  p.admin_everywhere = AdminEverywhere(p.projects, snap);
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
  r.known_user = real;
  if (!AcquireSlot()) {
    r.status = Status::Unavailable("too many credential checks in progress; retry shortly");
    r.retry_after_s = 1;
    r.busy = true;
    return r;
  }
  if (options_.verify_hook) options_.verify_hook();
  bool ok = VerifySecret(password, *stored) && real;
  ReleaseSlot();
  if (!ok) {
    limiter_.Failed(key, now);
    r.now_limited = limiter_.RetryAfter(key, now) > 0;
    r.status = Status::Unauthenticated("wrong user name or password");
    return r;
  }
  limiter_.Succeeded(key);
  std::string id = RandomHex(32);
  Session session{user, RandomHex(32), now + options_.session_lifetime_s};
  Status st = db_->CreateSession(user, Sha256Hex(id), session.csrf, now, session.expires_s,
                                 options_.max_sessions_per_user);
  if (!st.ok()) {
    // The user may have been removed since the snapshot; either way no session.
    r.status = st.code() == StatusCode::kNotFound ? Status::Unauthenticated("wrong user name or password")
                                                   : Status::Unavailable("cannot open a session now; try again");
    return r;
  }
  r.session_id = std::move(id);
  r.session = std::move(session);
  return r;
}

void Authenticator::Logout(const std::string& session_id) {
  if (!session_id.empty()) (void)db_->DeleteSession(Sha256Hex(session_id));
}

Status Authenticator::Refresh() {
  std::lock_guard<std::mutex> one_at_a_time(refresh_mu_);
  SL_ASSIGN_OR_RETURN(int64_t version, db_->DataVersion());
  SL_ASSIGN_OR_RETURN(Snapshot snap, db_->LoadSnapshot());
  auto shared = std::make_shared<const Snapshot>(std::move(snap));
  std::lock_guard<std::mutex> lock(mu_);
  // A wrong secret could only turn right when a key or token changed.
  if (!SameCredentials(*snapshot_, *shared)) negative_.clear();
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

uint64_t Authenticator::negative_hits() const {
  std::lock_guard<std::mutex> lock(mu_);
  return negative_hits_;
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
  p.admin_everywhere = AdminEverywhere(p.projects, snap);
  return p;
}

bool Authenticator::AcquireSlot() {
  const int max = options_.max_concurrent_verifications < 1 ? 1 : options_.max_concurrent_verifications;
  int n = verifying_.load();
  while (n < max) {
    if (verifying_.compare_exchange_weak(n, n + 1)) return true;
  }
  refused_.fetch_add(1);
  return false;
}

PendingVerification::~PendingVerification() {
  if (auth_ != nullptr) auth_->ReleaseSlot();
}

Result<Principal> PendingVerification::Finish() { return auth_->FinishVerification(*this); }

Result<Principal> Authenticator::Authenticate(const Credentials& c) {
  Attempt a = Begin(c);
  if (a.pending) return a.pending->Finish();
  return std::move(a.result);
}

Authenticator::Attempt Authenticator::Begin(const Credentials& c) {
  Attempt out;
  std::shared_ptr<const Snapshot> snap;
  {
    std::lock_guard<std::mutex> lock(mu_);
    snap = snapshot_;
  }
  if (!snap->auth_configured()) {
    out.result = Principal::Open();
    return out;
  }
  ParsedCredential cred = ParseCredentials(c);
  using K = ParsedCredential::Kind;
  if (cred.kind == K::kSession) {
    out.result = FromSession(cred.id, *snap);
    return out;
  }
  if (cred.kind != K::kApiKey && cred.kind != K::kToken) return out;  // failed
  const bool token = cred.kind == K::kToken;
  const std::string& id = cred.id;
  std::string fast = Sha256(cred.secret);
  const int64_t now = Now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(fast);
    if (it != cache_.end() && it->second.token == token && it->second.id == id) {
      ++hits_;
      out.result = Resolve(token, id, *snap);
      return out;
    }
    if (auto n = negative_.find(fast); n != negative_.end()) {
      if (n->second > now) {
        ++negative_hits_;
        return out;  // failed
      }
      negative_.erase(n);
    }
  }
  // Not verified yet: the slow hash, if a slot is free.
  const std::string* stored = nullptr;
  if (token) {
    if (auto t = snap->tokens.find(id); t != snap->tokens.end()) stored = &t->second.secret_hash;
  } else {
    if (auto k = snap->keys.find(id); k != snap->keys.end()) stored = &k->second.secret_hash;
  }
  if (stored == nullptr) return out;  // unknown or revoked id: no hash to pay
  if (!AcquireSlot()) {
    out.result = Status::Unavailable("too many credential checks in progress; retry shortly");
    return out;
  }
  out.pending.reset(new PendingVerification());
  PendingVerification& p = *out.pending;
  p.auth_ = this;
  p.token_ = token;
  p.id_ = id;
  p.secret_ = std::move(cred.secret);
  p.fast_ = std::move(fast);
  p.stored_ = *stored;
  return out;
}

Result<Principal> Authenticator::FinishVerification(PendingVerification& p) {
  const Status failed = Status::Unauthenticated(std::string(kAuthFailed));
  if (options_.verify_hook) options_.verify_hook();
  bool ok = VerifySecret(p.secret_, p.stored_);
  const int64_t now = Now();
  std::lock_guard<std::mutex> lock(mu_);
  ++slow_;
  if (!ok) {
    if (negative_.size() >= options_.negative_cache_entries) {
      for (auto it = negative_.begin(); it != negative_.end();) {
        if (it->second <= now) it = negative_.erase(it);
        else ++it;
      }
      if (negative_.size() >= options_.negative_cache_entries) negative_.clear();  // bounded
    }
    if (options_.negative_cache_entries > 0) negative_[p.fast_] = now + options_.negative_ttl_s;
    return failed;
  }
  if (cache_.size() >= options_.cache_entries) cache_.clear();  // bounded; refills on use
  cache_[p.fast_] = CacheEntry{p.token_, p.id_};
  // The snapshot in force now: a key revoked while its secret was being hashed fails.
  return Resolve(p.token_, p.id_, *snapshot_);
}

}  // namespace sightline::auth
