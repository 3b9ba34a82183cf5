// UI login state (docs/auth.md, "UI login"): the sessions that password logins open,
// and the limiter that slows password guessing.
//
// SessionStore: random 256-bit session ids -> (user, CSRF token, expiry), in memory
// only (a restart logs everyone out), bounded: when full, expired sessions go first,
// then the one that expires soonest.
//
// LoginLimiter: failures per (user, client address) in a sliding window; after
// max_failures the key must wait until the oldest failure leaves the window. Bounded
// like the sessions, so a flood of made-up names cannot grow it without limit.
//
// Thread-safety: both are internally locked.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace sightline::auth {

struct Session {
  std::string user;
  std::string csrf;  // the double-submit token every cookie-authenticated POST must echo
  int64_t expires_s = 0;
};

class SessionStore {
 public:
  explicit SessionStore(int64_t lifetime_s = 12 * 3600, size_t max_sessions = 10000)
      : lifetime_s_(lifetime_s), max_(max_sessions) {}
  // A new session for user; returns its id.
  std::string Create(const std::string& user, int64_t now_s, Session* out = nullptr);
  std::optional<Session> Find(const std::string& id, int64_t now_s);
  void Remove(const std::string& id);
  // Drops every session of user (removed, or password changed).
  void RemoveUser(const std::string& user);
  size_t size();

 private:
  const int64_t lifetime_s_;
  const size_t max_;
  std::mutex mu_;
  std::unordered_map<std::string, Session> sessions_;  // guarded by mu_
};

class LoginLimiter {
 public:
  LoginLimiter(int max_failures = 5, int64_t window_s = 900, size_t max_keys = 100000)
      : max_failures_(max_failures), window_s_(window_s), max_keys_(max_keys) {}
  // Seconds the key must wait before another attempt; 0: it may try now.
  int64_t RetryAfter(const std::string& key, int64_t now_s);
  void Failed(const std::string& key, int64_t now_s);
  void Succeeded(const std::string& key);

 private:
  const int max_failures_;
  const int64_t window_s_;
  const size_t max_keys_;
  std::mutex mu_;
  std::unordered_map<std::string, std::deque<int64_t>> failures_;  // guarded by mu_; times, oldest first
};

}  // namespace sightline::auth
