#include "store/string_pool.h"

#include <cstring>

namespace sightline::store {

StringPool::StringPool() {
  views_.emplace_back();
  ids_.emplace(std::string_view(), 0);
}

uint32_t StringPool::Intern(std::string_view s) {
  if (s.empty()) return 0;
  auto it = ids_.find(s);
  if (it != ids_.end()) return it->second;
  char* dst;
  if (s.size() > kBlockBytes / 4) {  // big strings get their own block
    blocks_.emplace_back(new char[s.size()]);
    block_bytes_total_ += s.size();
    dst = blocks_.back().get();
    // keep filling the previous small-string block: swap it back to the end
    if (blocks_.size() >= 2 && block_used_ < kBlockBytes) std::swap(blocks_[blocks_.size() - 1], blocks_[blocks_.size() - 2]);
  } else {
    if (block_used_ + s.size() > kBlockBytes) {
      blocks_.emplace_back(new char[kBlockBytes]);
      block_bytes_total_ += kBlockBytes;
      block_used_ = 0;
    }
    dst = blocks_.back().get() + block_used_;
    block_used_ += s.size();
  }
  std::memcpy(dst, s.data(), s.size());
  std::string_view stored(dst, s.size());
  auto id = static_cast<uint32_t>(views_.size());
  views_.push_back(stored);
  ids_.emplace(stored, id);
  return id;
}

uint32_t StringPool::Find(std::string_view s) const {
  auto it = ids_.find(s);
  return it == ids_.end() ? kMissing : it->second;
}

size_t StringPool::MemoryBytes() const {
  return block_bytes_total_ + views_.capacity() * sizeof(std::string_view) +
         ids_.size() * (sizeof(std::string_view) + sizeof(uint32_t) + 2 * sizeof(void*)) +
         ids_.bucket_count() * sizeof(void*);
}

}  // namespace sightline::store
