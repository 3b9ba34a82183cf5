#include "store/string_pool.h"

#include <cstring>

namespace sightline::store {

StringPool::StringPool() {
  ids_.FindOrAdd(std::string_view(), [](std::string_view empty) { return empty; });  // id 0
}

uint32_t StringPool::Intern(std::string_view s) {
  if (s.empty()) return 0;
  return ids_.FindOrAdd(s, [this](std::string_view v) { return Copy(v); });
}

std::string_view StringPool::Copy(std::string_view s) {
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
  return std::string_view(dst, s.size());
}

uint32_t StringPool::Find(std::string_view s) const {
  if (s.empty()) return 0;
  return ids_.Find(s);
}

size_t StringPool::MemoryBytes() const { return block_bytes_total_ + ids_.MemoryBytes(); }

}  // namespace sightline::store
