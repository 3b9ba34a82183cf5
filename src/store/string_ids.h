// StringIds: dense ids (0, 1, 2, ... in first-seen order) for distinct strings, by an
// open-addressing table of ids + 1 (0: a free slot) keyed by XXH3, kept at most half
// full, with each string's hash kept beside it so that a probe compares bytes only on a
// hash match. std::unordered_map's node per string and its hashing were most of the
// encoding of a block's high-cardinality string column (columnar/block_codec.cc), and
// 1.5% of the server's CPU in the writer's StringPool on a lean load.
//
// The table keeps views: the caller owns the bytes, which must not move while the table
// holds them (StringPool copies each new string into its blocks; a block's dictionary
// points into the rows it encodes). FindOrAdd asks the caller for the view to keep.
// Thread-safety: none; const methods may run concurrently with each other.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include <xxhash.h>

namespace sightline::store {

class StringIds {
 public:
  static constexpr uint32_t kMissing = UINT32_MAX;

  static uint64_t Hash(std::string_view v) { return XXH3_64bits(v.data(), v.size()); }

  // v's id, or kMissing.
  uint32_t Find(std::string_view v) const {
    if (slots_.empty()) return kMissing;
    const uint64_t h = Hash(v);
    const size_t mask = slots_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      const uint32_t s = slots_[i];
      if (s == 0) return kMissing;
      if (hashes_[s - 1] == h && strings_[s - 1] == v) return s - 1;
    }
  }

  // v's id; a new v takes the next id, and the table keeps keep(v): a view of the same
  // bytes that stays valid as long as the table.
  template <class Keep>
  uint32_t FindOrAdd(std::string_view v, Keep&& keep) {
    if (slots_.empty()) slots_.assign(kInitialSlots, 0);  // allocated at the first string
    const uint64_t h = Hash(v);
    const size_t mask = slots_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      const uint32_t s = slots_[i];
      if (s == 0) {
        const auto id = static_cast<uint32_t>(strings_.size());
        strings_.push_back(keep(v));
        hashes_.push_back(h);
        slots_[i] = id + 1;
        if (2 * strings_.size() > slots_.size()) Grow();
        return id;
      }
      if (hashes_[s - 1] == h && strings_[s - 1] == v) return s - 1;
    }
  }

  size_t size() const { return strings_.size(); }
  std::string_view Get(uint32_t id) const { return strings_[id]; }
  // Every string, by id.
  const std::vector<std::string_view>& strings() const { return strings_; }
  // The table's own memory (not the strings' bytes).
  size_t MemoryBytes() const {
    return slots_.capacity() * sizeof(uint32_t) + hashes_.capacity() * sizeof(uint64_t) +
           strings_.capacity() * sizeof(std::string_view);
  }

 private:
  static constexpr size_t kInitialSlots = 64;

  void Grow() {
    std::vector<uint32_t> bigger(slots_.size() * 2, 0);
    const size_t mask = bigger.size() - 1;
    for (uint32_t id = 0; id < strings_.size(); ++id) {
      size_t i = hashes_[id] & mask;
      while (bigger[i] != 0) i = (i + 1) & mask;
      bigger[i] = id + 1;
    }
    slots_.swap(bigger);
  }

  std::vector<uint32_t> slots_;   // power-of-two size
  std::vector<uint64_t> hashes_;  // per id
  std::vector<std::string_view> strings_;  // per id
};

}  // namespace sightline::store
