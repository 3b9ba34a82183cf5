// UI login state (docs/auth.md, "UI login"): what a session is (sessions themselves
// are rows of the metadata database, auth/metadata_db.h), and the limiter that slows
// password guessing.
//
// LoginLimiter: failures per (user, client address) in a sliding window; after
// max_failures the key must wait until the oldest failure leaves the window. Bounded
// like the sessions, so a flood of made-up names cannot grow it without limit.
//
// Thread-safety: LoginLimiter is internally locked.
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
