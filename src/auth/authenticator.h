// Authenticator: who is calling, from the credentials a request presents, against the
// metadata database (auth/metadata_db.h). The server has one; the HTTP router and the
// gRPC receiver ask it on every request.
//
// Hot path: a presented secret is hashed with SHA-256 and looked up in a bounded cache
// of secrets already verified (SHA-256 of the secret -> key or token id), so only the
// first request with a secret pays the PBKDF2 cost. A cached entry is honoured only
// while its id is live in the current snapshot, so a revoked key stops working at the
// next refresh (the server calls MaybeRefresh once a second and re-reads the
// database's few small tables). Wrong secrets for a live id are remembered too, in a
// bounded negative cache with a short lifetime (emptied whenever the keys or tokens
// change), so a client repeating a wrong secret pays the slow hash once, not on every
// request.
//
// Slow hashes are capped: at most Options::max_concurrent_verifications PBKDF2 checks
// (about 100 ms of a core each) run at once, API keys, tokens and logins together.
// A check that finds every slot taken is refused at once with Unavailable (HTTP 503 /
// gRPC UNAVAILABLE, with Retry-After), never queued, so a flood of distinct wrong
// secrets for a live key id costs at most that many cores and a queue of nothing;
// secrets already verified (the cache) and wrong ones already seen (the negative
// cache) are answered without a slot, so known callers keep working through a flood.
// Begin/PendingVerification split the check so the HTTP router can run the slow half
// off its io threads.
//
// Modes: "open" while the database holds no key and no user (every caller may do
// everything; the server runs so only on loopback unless --insecure); "required" as
// soon as one exists.
//
// Failures are Unauthenticated with one message whatever went wrong (unknown key,
// wrong secret, revoked, malformed), so a caller learns nothing about which keys or
// projects exist.
//
// UI sessions: Login checks a user's password (PBKDF2) and opens a session, stored in
// the metadata database by the SHA-256 of its id (so it survives a restart, and a
// password change or the user's removal ends it); the id travels in the HttpOnly
// cookie sl_session; the session reads what the user's roles allow, looked up at each
// request.
//
// Thread-safety: everything may be called concurrently from any thread (Refresh and
// MaybeRefresh run one at a time and swap the snapshot under mu_).
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "auth/kdf.h"
#include "auth/metadata_db.h"
#include "auth/sessions.h"
#include "common/status.h"

namespace sightline::auth {

struct Principal {
  enum class Kind { kOpen, kApiKey, kToken, kSession };
  Kind kind = Kind::kOpen;
  std::string subject;  // the key id, or the user's name
  // Open: every project. Otherwise the projects readable, with the caller's role (an
  // API key is a member of its one project).
  bool all_projects = false;
  std::map<std::string, Role> projects;
  // For API keys: the project every span it sends goes to.
  std::string ingest_project;
  // For UI sessions: the session, and the CSRF token its state-changing requests echo.
  std::string session_id;
  std::string csrf;

  // Admin of every project that exists (the audit trail, which is not divided by
  // project, needs it). Open mode counts.
  bool admin_everywhere = false;

  static Principal Open() {
    Principal p;
    p.all_projects = true;
    p.admin_everywhere = true;
    return p;
  }
  bool CanRead(const std::string& project) const { return all_projects || projects.count(project) > 0; }
  // At least role min in project (open mode: everywhere).
  bool HasRole(const std::string& project, Role min) const {
    if (all_projects) return true;
    auto it = projects.find(project);
    return it != projects.end() && it->second >= min;
  }
  // At least role min in some project.
  bool HasRoleAnywhere(Role min) const {
    if (all_projects) return true;
    for (const auto& [name, role] : projects)
      if (role >= min) return true;
    return false;
  }
};

// The credential parts of a request, as received (empty: header absent).
struct Credentials {
  std::string_view authorization = {};  // Authorization: Basic ... | Bearer ...
  std::string_view api_key = {};        // x-sightline-api-key
  std::string_view cookie = {};         // Cookie: ... sl_session=<id> (used only when the two above are absent)
};

// What a request's credential headers say, before any database lookup (pure parsing;
// the credential fuzz target drives it with arbitrary bytes).
struct ParsedCredential {
  enum class Kind {
    kNone,       // no Authorization, no x-sightline-api-key, no session cookie
    kMalformed,  // present but not in a form Sightline issues
    kApiKey,     // secret is sk-lf-..., id its key id
    kToken,      // secret is slt_..., id its token id
    kSession,    // id is the session id from the cookie
  };
  Kind kind = Kind::kNone;
  std::string secret;
  std::string id;
};
ParsedCredential ParseCredentials(const Credentials& c);
// The sl_session value of a Cookie header; empty when absent.
std::string SessionIdFromCookie(std::string_view cookie);

inline constexpr std::string_view kSessionCookie = "sl_session";
inline constexpr std::string_view kCsrfCookie = "sl_csrf";
inline constexpr std::string_view kCsrfHeader = "x-csrf-token";

// Narrows a read's project filter to what the caller may see: an empty filter (all)
// becomes the caller's projects; a named project the caller may not read is dropped.
// False when nothing is left: the read must answer as if nothing matched.
bool ScopeProjects(const Principal& p, std::vector<std::string>* projects);

// The one message of every authentication failure.
inline constexpr std::string_view kAuthFailed =
    "authentication required: send a valid API key (Authorization: Basic pk:sk or Bearer sk-lf-..., or "
    "x-sightline-api-key) or token";

class Authenticator;

// A slow check that holds one verification slot until it is destroyed (Begin hands
// it out; Finish pays the PBKDF2 hash and updates the caches). Any thread.
class PendingVerification {
 public:
  ~PendingVerification();
  PendingVerification(const PendingVerification&) = delete;
  PendingVerification& operator=(const PendingVerification&) = delete;
  Result<Principal> Finish();

 private:
  friend class Authenticator;
  PendingVerification() = default;
  Authenticator* auth_ = nullptr;
  bool token_ = false;
  std::string id_, secret_, fast_, stored_;
};

class Authenticator {
 public:
  struct Options {
    size_t cache_entries = 10000;
    // Wrong secrets remembered (SHA-256 -> until when); emptied when full or when the
    // keys or tokens change.
    size_t negative_cache_entries = 10000;
    int64_t negative_ttl_s = 30;
    int64_t session_lifetime_s = 12 * 3600;
    int max_sessions_per_user = 50;
    int login_max_failures = 5;     // per user and client address...
    int64_t login_window_s = 900;   // ...within this window
    // PBKDF2 count of the stand-in hash checked when a login names no user with a
    // password, so the answer takes as long as a wrong password does.
    int dummy_iterations = kDefaultIterations;
    std::function<int64_t()> now_s;  // seconds; null: the system clock
    // PBKDF2 checks (keys, tokens, logins) at once; more are refused (Unavailable).
    int max_concurrent_verifications = 2;
    // Called inside a slot just before the slow hash (tests hold slots with it).
    std::function<void()> verify_hook;
  };

  // What Begin found: the answer, or a slow check still to run (pending non-null;
  // result is then meaningless).
  struct Attempt {
    Result<Principal> result = Status::Unauthenticated(std::string(kAuthFailed));
    std::unique_ptr<PendingVerification> pending;
  };

  struct LoginResult {
    // OK, Unauthenticated, ResourceExhausted (rate-limited), or Unavailable (busy:
    // every verification slot taken; nothing was checked or counted against the user)
    Status status;
    int64_t retry_after_s = 0;   // with ResourceExhausted and busy
    bool busy = false;
    std::string session_id;      // with OK
    Session session;
    // For the audit trail: whether the name is a user with a password (a name that is
    // not may be a password typed into the wrong field, and is not recorded), and
    // whether this failure started the wait.
    bool known_user = false;
    bool now_limited = false;
  };

  Authenticator(std::unique_ptr<MetadataDb> db, Options options);
  explicit Authenticator(std::unique_ptr<MetadataDb> db) : Authenticator(std::move(db), Options{}) {}

  // Re-reads the database now.
  Status Refresh();
  // Re-reads it (the server calls this once a second; the tables are small).
  Status MaybeRefresh();

  // False while no key or user exists (open mode).
  bool required() const;

  // The caller. Open mode: Principal::Open() whatever was sent. Otherwise a live API
  // key or CLI token, else Unauthenticated(kAuthFailed).
  // Unavailable when the check needs the slow hash and every slot is taken.
  Result<Principal> Authenticate(const Credentials& c);
  // The same in two halves: everything cheap (open mode, parsing, sessions, both
  // caches, unknown ids, the slot), then, when needed, the slow hash in Finish.
  Attempt Begin(const Credentials& c);

  // How many verifications hit the cache / paid the slow hash (for tests and metrics).
  // Password login for the web UI: a new session, or one message for every failure
  // (unknown user, no password, wrong password); rate-limited per user and peer.
  LoginResult Login(const std::string& user, const std::string& password, const std::string& peer);
  void Logout(const std::string& session_id);

  uint64_t cache_hits() const;
  uint64_t slow_verifications() const;
  uint64_t negative_hits() const;
  // Slow checks refused for want of a slot, and those running now.
  uint64_t refused_verifications() const { return refused_.load(); }
  int verifications_in_progress() const { return verifying_.load(); }
  int max_concurrent_verifications() const { return options_.max_concurrent_verifications; }

  MetadataDb* db() { return db_.get(); }

 private:
  struct CacheEntry {
    bool token = false;
    std::string id;
  };
  friend class PendingVerification;
  // Takes a slot; false (counted as refused) when all are taken.
  bool AcquireSlot();
  void ReleaseSlot() { verifying_.fetch_sub(1); }
  Result<Principal> FinishVerification(PendingVerification& p);
  Result<Principal> Resolve(bool token, const std::string& id, const Snapshot& snap) const;
  Result<Principal> FromSession(const std::string& id, const Snapshot& snap);
  int64_t Now() const;

  std::unique_ptr<MetadataDb> db_;
  const Options options_;
  std::mutex refresh_mu_;  // one Refresh at a time (the server's tick and the admin API)
  mutable std::mutex mu_;
  std::shared_ptr<const Snapshot> snapshot_;                 // guarded by mu_
  int64_t data_version_ = -1;                                // guarded by mu_ (informational)
  std::unordered_map<std::string, CacheEntry> cache_;        // guarded by mu_; SHA-256 of the secret ->
  std::unordered_map<std::string, int64_t> negative_;        // guarded by mu_; SHA-256 of a wrong secret -> expiry (s)
  uint64_t hits_ = 0;                                        // guarded by mu_
  uint64_t slow_ = 0;                                        // guarded by mu_
  uint64_t negative_hits_ = 0;                               // guarded by mu_
  std::atomic<int> verifying_{0};
  std::atomic<uint64_t> refused_{0};
  LoginLimiter limiter_;
  std::string dummy_hash_;  // set once in the constructor
};

}  // namespace sightline::auth
