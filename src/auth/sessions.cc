#include "auth/sessions.h"

#include <algorithm>


namespace sightline::auth {

int64_t LoginLimiter::RetryAfter(const std::string& key, int64_t now_s) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = failures_.find(key);
  if (it == failures_.end()) return 0;
  auto& times = it->second;
  while (!times.empty() && times.front() <= now_s - window_s_) times.pop_front();
  if (times.empty()) {
    failures_.erase(it);
    return 0;
  }
  if (static_cast<int>(times.size()) < max_failures_) return 0;
  return std::max<int64_t>(1, times.front() + window_s_ - now_s);
}

void LoginLimiter::Failed(const std::string& key, int64_t now_s) {
  std::lock_guard<std::mutex> lock(mu_);
  if (failures_.size() >= max_keys_ && !failures_.count(key)) {
    // Forget keys whose failures have all left the window; if none, the oldest key.
    for (auto it = failures_.begin(); it != failures_.end();) {
      if (it->second.empty() || it->second.back() <= now_s - window_s_) it = failures_.erase(it);
      else ++it;
    }
    if (failures_.size() >= max_keys_) {
      auto oldest = std::min_element(failures_.begin(), failures_.end(), [](const auto& a, const auto& b) {
        return a.second.back() < b.second.back();
      });
      failures_.erase(oldest);
    }
  }
  auto& times = failures_[key];
  times.push_back(now_s);
  while (static_cast<int>(times.size()) > max_failures_) times.pop_front();
}

void LoginLimiter::Succeeded(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  failures_.erase(key);
}

}  // namespace sightline::auth
