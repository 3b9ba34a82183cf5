#include "ingest/normalize/attr_table.h"

#include <array>
#include <cstring>

namespace sightline::ingest::norm {
namespace {

// Open addressing with linear probing; a power of two about five times the key count,
// so that a lookup, hit or miss, rarely probes more than one slot.
constexpr size_t kSlots = 512;
static_assert(kSlots >= 4 * kConventionKeyCount);

uint64_t Load8(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Mixes the first and last eight bytes with the length: the conventions' keys share
// long prefixes ("gen_ai.usage.") and suffixes ("_tokens"), rarely both at one length.
size_t SlotOf(std::string_view k) {
  const size_t n = k.size();
  uint64_t h = 0;
  if (n >= 8) {
    h = Load8(k.data()) ^ (Load8(k.data() + n - 8) * 0x9E3779B97F4A7C15ull);
  } else {
    for (char c : k) h = (h << 8) | static_cast<unsigned char>(c);
  }
  h = (h ^ n) * 0xFF51AFD7ED558CCDull;
  return static_cast<size_t>(h >> 55) & (kSlots - 1);
}

uint32_t ComputePrefixBits(std::string_view k) {
  uint32_t bits = 0;
  for (size_t p = 0; p < kConventionPrefixCount; ++p)
    if (k.starts_with(kConventionPrefixes[p])) bits |= uint32_t{1} << p;
  return bits;
}

// A key outside the table: only keys starting with a prefix's first letter are checked.
uint32_t OtherKeyPrefixBits(std::string_view k) {
  if (k.empty()) return 0;
  switch (k.front()) {
    case 'a': case 'g': case 'l': case 'r': case 't': return ComputePrefixBits(k);
    default: return 0;
  }
}

struct SlotEntry {
  uint32_t len = 0;  // 0: an empty slot (no convention key is empty)
  uint32_t prefixes = 0;
  uint8_t id = 0;
};

struct KeyTable {
  std::array<SlotEntry, kSlots> slots;

  KeyTable() {
    for (size_t i = 0; i < kConventionKeyCount; ++i) {
      std::string_view k = kConventionKeys[i];
      size_t s = SlotOf(k);
      while (slots[s].len != 0) s = (s + 1) & (kSlots - 1);
      slots[s] = {static_cast<uint32_t>(k.size()), ComputePrefixBits(k), static_cast<uint8_t>(i)};
    }
  }

  const SlotEntry* Lookup(std::string_view k) const {
    for (size_t s = SlotOf(k);; s = (s + 1) & (kSlots - 1)) {
      const SlotEntry& e = slots[s];
      if (e.len == 0) return nullptr;
      if (e.len == k.size() && std::memcmp(kConventionKeys[e.id].data(), k.data(), k.size()) == 0)
        return &e;
    }
  }
};

const KeyTable& Table() {
  static const KeyTable table;
  return table;
}

}  // namespace

void AttrTable::Clear() {
  for (size_t i = 0; i < touched_count_; ++i) first_[touched_[i]] = nullptr;
  touched_count_ = 0;
  prefixes_ = 0;
  size_ = 0;
  attrs_ = nullptr;
  sorted_built_ = false;
}

void AttrTable::Build(const KeyValues& attrs) {
  Clear();
  const KeyTable& table = Table();
  attrs_ = &attrs;
  size_ = static_cast<size_t>(attrs.size());
  for (const KeyValue& kv : attrs) {
    const std::string_view k = kv.key();
    if (const SlotEntry* e = table.Lookup(k)) {
      prefixes_ |= e->prefixes;
      if (first_[e->id] == nullptr) {  // the first as received wins
        first_[e->id] = &kv.value();
        touched_[touched_count_++] = e->id;
      }
    } else {
      prefixes_ |= OtherKeyPrefixBits(k);
    }
  }
}

std::span<const AttrIndex::Entry> AttrTable::WithPrefix(AttrPrefix p) const {
  if (!HasPrefix(p)) return {};
  if (!sorted_built_) {
    sorted_.Build(*attrs_);
    sorted_built_ = true;
  }
  return sorted_.WithPrefix(p.name());
}

int AttrTable::KeyIndex(std::string_view key) {
  const SlotEntry* e = Table().Lookup(key);
  return e == nullptr ? -1 : e->id;
}

uint32_t AttrTable::PrefixBits(std::string_view key) {
  const SlotEntry* e = Table().Lookup(key);
  return e != nullptr ? e->prefixes : OtherKeyPrefixBits(key);
}

}  // namespace sightline::ingest::norm
