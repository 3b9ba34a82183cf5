#include "auth/sessions.h"

#include <algorithm>

#include "auth/kdf.h"

namespace sightline::auth {

std::string SessionStore::Create(const std::string& user, int64_t now_s, Session* out) {
  std::string id = RandomHex(32);
  Session s{user, RandomHex(32), now_s + lifetime_s_};
  std::lock_guard<std::mutex> lock(mu_);
  if (sessions_.size() >= max_) {
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      if (it->second.expires_s <= now_s) it = sessions_.erase(it);
      else ++it;
    }
    if (sessions_.size() >= max_) {
      auto soonest = std::min_element(sessions_.begin(), sessions_.end(), [](const auto& a, const auto& b) {
        return a.second.expires_s < b.second.expires_s;
      });
      sessions_.erase(soonest);
    }
  }
  sessions_[id] = s;
  if (out) *out = s;
  return id;
}

std::optional<Session> SessionStore::Find(const std::string& id, int64_t now_s) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return std::nullopt;
  if (it->second.expires_s <= now_s) {
    sessions_.erase(it);
    return std::nullopt;
  }
  return it->second;
}

void SessionStore::Remove(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  sessions_.erase(id);
}

void SessionStore::RemoveUser(const std::string& user) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (it->second.user == user) it = sessions_.erase(it);
    else ++it;
  }
}

size_t SessionStore::size() {
  std::lock_guard<std::mutex> lock(mu_);
  return sessions_.size();
}

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
