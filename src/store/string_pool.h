// StringPool: interns the strings trace aggregates and side sets refer to (projects,
// services, agent names, span names, models, tools, session and user ids), so each
// aggregate holds 4-byte ids and filters compare integers. Id 0 is the empty string.
//
// Invariants: ids are dense and never reused; a string's bytes never move once
// interned (they live in fixed blocks), so string_views returned stay valid for the
// pool's lifetime. Strings are never removed (retention arrives with the next engine).
// Thread-safety: none inside; the store guards it with its shared_mutex (Intern under
// the exclusive lock, Find/Get under the shared one).
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "store/string_ids.h"

namespace sightline::store {

class StringPool {
 public:
  static constexpr uint32_t kMissing = StringIds::kMissing;

  StringPool();
  uint32_t Intern(std::string_view s);
  // The id of s, or kMissing when it was never interned (a filter on it matches nothing).
  uint32_t Find(std::string_view s) const;
  std::string_view Get(uint32_t id) const { return id < ids_.size() ? ids_.Get(id) : std::string_view(); }
  size_t size() const { return ids_.size(); }
  size_t MemoryBytes() const;

 private:
  static constexpr size_t kBlockBytes = 64 * 1024;
  // s's bytes copied into the blocks.
  std::string_view Copy(std::string_view s);
  std::vector<std::unique_ptr<char[]>> blocks_;
  size_t block_used_ = kBlockBytes;
  size_t block_bytes_total_ = 0;
  StringIds ids_;  // views of the blocks' bytes
};

}  // namespace sightline::store
