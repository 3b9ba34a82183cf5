#include "common/buffer_pool.h"

#include <algorithm>

namespace sightline {

BufferPool* BufferPool::Default() {
  // 16 buffers of up to 16 MiB: a few requests in flight on each connection and the
  // batches the store is committing; at most 256 MiB kept, ~50 MiB in practice.
  static BufferPool* pool = new BufferPool(16, size_t{16} << 20);
  return pool;
}

std::string BufferPool::Take() {
  std::lock_guard<std::mutex> l(mu_);
  if (free_.empty()) return {};
  std::string s = std::move(free_.back());
  free_.pop_back();
  return s;
}

void BufferPool::Give(std::string&& s) {
  std::string local = std::move(s);
  s.clear();
  if (local.capacity() < kMinBytes || local.capacity() > max_bytes_) return;
  local.clear();
  std::lock_guard<std::mutex> l(mu_);
  if (free_.size() >= max_buffers_) {
    // Full: keep the larger of this one and the smallest kept.
    if (free_.front().capacity() >= local.capacity()) return;
    free_.erase(free_.begin());
  }
  auto at = std::lower_bound(free_.begin(), free_.end(), local.capacity(),
                             [](const std::string& b, size_t cap) { return b.capacity() < cap; });
  free_.insert(at, std::move(local));
}

size_t BufferPool::kept() const {
  std::lock_guard<std::mutex> l(mu_);
  return free_.size();
}

}  // namespace sightline
