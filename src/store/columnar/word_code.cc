#include "store/columnar/word_code.h"

#include <xxhash.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

namespace sightline::store::columnar {

namespace {

inline bool Letter(unsigned char c) { return static_cast<unsigned char>((c | 0x20) - 'a') < 26; }

constexpr uint16_t kNoCode = 0x100;
constexpr size_t kSlots = size_t{1} << 15;     // the token table (a power of two)
constexpr size_t kMaxDistinct = kSlots / 2;    // distinct tokens counted; later new ones are not
constexpr size_t kMinFreeBytes = 4;            // fewer free byte values: not worth a table
constexpr size_t kSampleBytes = size_t{64} << 10;  // counted before deciding to count the rest

struct Slot {
  uint32_t off = 0;    // first occurrence in the frame
  uint8_t len = 0;     // 0: empty
  uint16_t code = kNoCode;
  uint32_t count = 0;
};

struct Token {
  uint32_t off;
  uint32_t slot;
};

// Per-thread scratch, kept between frames (compaction encodes frame after frame).
struct Scratch {
  std::vector<Slot> slots = std::vector<Slot>(kSlots);
  std::vector<uint32_t> used;  // slots filled for the current frame
  std::vector<Token> tokens;   // counted occurrences, in frame order
  std::vector<uint32_t> cands;
  void Reset() {
    for (uint32_t s : used) slots[s] = Slot();
    used.clear();
    tokens.clear();
    cands.clear();
  }
};

Scratch& ThreadScratch() {
  thread_local Scratch s;
  return s;
}

int64_t Savings(const Slot& s) {
  return static_cast<int64_t>(s.count) * (s.len - 1) - (s.len + 2);  // table entry: code, length, bytes
}

}  // namespace

bool WordEncode(std::string_view raw, std::string* out) {
  const size_t n = raw.size();
  if (n < kWordCodeMinBytes || n > kWordCodeMaxBytes) return false;
  const auto* p = reinterpret_cast<const unsigned char*>(raw.data());

  std::array<uint32_t, 256> hist{};
  for (size_t i = 0; i < n; ++i) ++hist[p[i]];
  std::array<uint8_t, 256> free_bytes{};
  size_t free_n = 0;
  for (int b = 0; b < 256; ++b)
    if (hist[b] == 0) free_bytes[free_n++] = static_cast<uint8_t>(b);
  if (free_n < kMinFreeBytes) return false;

  Scratch& sc = ThreadScratch();
  sc.Reset();
  // Count every token: a run of letters not after a space, or a space and a run.
  auto count = [&](size_t off, size_t len) {
    if (len < 2 || len > kMaxWordBytes) return;
    const uint64_t h = XXH3_64bits(p + off, len);
    size_t s = static_cast<size_t>(h) & (kSlots - 1);
    while (true) {
      Slot& slot = sc.slots[s];
      if (slot.len == 0) {
        if (sc.used.size() >= kMaxDistinct) return;
        slot.off = static_cast<uint32_t>(off);
        slot.len = static_cast<uint8_t>(len);
        slot.count = 1;
        sc.used.push_back(static_cast<uint32_t>(s));
        break;
      }
      if (slot.len == len && std::memcmp(p + slot.off, p + off, len) == 0) {
        ++slot.count;
        break;
      }
      s = (s + 1) & (kSlots - 1);
    }
    sc.tokens.push_back(Token{static_cast<uint32_t>(off), static_cast<uint32_t>(s)});
  };
  // Counts the tokens starting in [from, to); returns where the last one ended (>= to).
  auto scan = [&](size_t from, size_t to) {
    size_t i = from;
    while (i < to) {
      const unsigned char c = p[i];
      if (Letter(c)) {
        size_t j = i + 1;
        while (j < n && Letter(p[j])) ++j;
        count(i, j - i);
        i = j;
      } else if (c == ' ' && i + 1 < n && Letter(p[i + 1])) {
        size_t j = i + 2;
        while (j < n && Letter(p[j])) ++j;
        count(i, j - i);
        i = j;
      } else {
        ++i;
      }
    }
    return i;
  };
  // The tokens that save the most, one per free byte value (at most 255: u8 count), and
  // the size of the first `upto` bytes coded with them.
  size_t k = 0;
  auto choose = [&](size_t upto) {
    sc.cands.clear();
    for (uint32_t s : sc.used)
      if (Savings(sc.slots[s]) > 0) sc.cands.push_back(s);
    k = std::min({sc.cands.size(), free_n, size_t{255}});
    auto by_savings = [&](uint32_t a, uint32_t b) {
      const int64_t sa = Savings(sc.slots[a]), sb = Savings(sc.slots[b]);
      return sa != sb ? sa > sb : sc.slots[a].off < sc.slots[b].off;  // ties: first seen first
    };
    std::partial_sort(sc.cands.begin(), sc.cands.begin() + static_cast<ptrdiff_t>(k), sc.cands.end(), by_savings);
    size_t coded_size = upto + 1;
    for (size_t x = 0; x < k; ++x) {
      const Slot& s = sc.slots[sc.cands[x]];
      coded_size -= static_cast<size_t>(s.count) * (s.len - 1u);
      coded_size += 2u + s.len;
    }
    return coded_size;
  };
  // A frame's first 64 KiB tell whether the rest is worth counting: JSON of numbers and
  // keys (coded to ~0.99 of itself) costs a quarter of a full count.
  const size_t sample = scan(0, std::min(n, kSampleBytes));
  if (sample < n) {
    if (choose(sample) * 5 > sample * 4) return false;
    scan(sample, n);
  }
  const size_t coded_size = choose(n);
  if (k == 0 || coded_size * 4 > n * 3) return false;

  out->clear();
  out->reserve(coded_size);
  out->push_back(static_cast<char>(k));
  for (size_t x = 0; x < k; ++x) {
    Slot& s = sc.slots[sc.cands[x]];
    s.code = free_bytes[x];
    out->push_back(static_cast<char>(s.code));
    out->push_back(static_cast<char>(s.len));
    out->append(raw.substr(s.off, s.len));
  }
  size_t pos = 0;
  for (const Token& t : sc.tokens) {
    const Slot& s = sc.slots[t.slot];
    if (s.code == kNoCode) continue;
    out->append(raw.substr(pos, t.off - pos));
    out->push_back(static_cast<char>(s.code));
    pos = t.off + s.len;
  }
  out->append(raw.substr(pos));
  return true;
}

namespace {

// A coded frame's table: each byte value's length (1: itself) and, for a code, where its
// bytes start. Returns where the body starts, or 0 with *why set when the table is
// malformed (no table at all, a code given twice, an empty or too long entry, a cut one).
size_t ReadTable(std::string_view coded, std::array<uint8_t, 256>* len,
                 std::array<const unsigned char*, 256>* at, std::string* why) {
  if (coded.empty()) {
    *why = "word-coded frame without its table";
    return 0;
  }
  const auto* p = reinterpret_cast<const unsigned char*>(coded.data());
  const size_t n = coded.size();
  len->fill(1);
  std::array<bool, 256> given{};
  size_t i = 1;
  for (size_t x = 0, k = p[0]; x < k; ++x) {
    if (n - i < 2) {
      *why = "word table cut short";
      return 0;
    }
    const uint8_t code = p[i], l = p[i + 1];
    if (l == 0 || l > kMaxWordBytes || given[code]) {
      *why = l == 0 ? "empty word in the table"
             : given[code] ? "word code " + std::to_string(code) + " given twice"
                           : "word of " + std::to_string(l) + " bytes in the table";
      return 0;
    }
    if (n - i - 2 < l) {
      *why = "word table cut short";
      return 0;
    }
    given[code] = true;
    (*len)[code] = l;
    (*at)[code] = p + i + 2;
    i += 2u + l;
  }
  return i;
}

}  // namespace

bool WordDecode(std::string_view coded, uint64_t raw_len, std::string* out, std::string* why) {
  std::array<uint8_t, 256> len;
  std::array<const unsigned char*, 256> at{};
  size_t i = ReadTable(coded, &len, &at, why);
  if (i == 0) return false;
  // Every byte value expands to an entry: itself, or its word. Entries are padded so
  // that each is copied with fixed-size moves (the output has kMaxWordBytes of slack).
  struct Entry {
    uint8_t len;
    char bytes[kMaxWordBytes];
  };
  std::array<Entry, 256> ent{};
  for (int b = 0; b < 256; ++b) {
    ent[b].len = len[b];
    if (at[b]) {
      std::memcpy(ent[b].bytes, at[b], len[b]);
    } else {
      ent[b].bytes[0] = static_cast<char>(b);
    }
  }
  const auto* p = reinterpret_cast<const unsigned char*>(coded.data());
  const size_t n = coded.size();
  out->resize(static_cast<size_t>(raw_len) + kMaxWordBytes);
  char* o = out->data();
  size_t w = 0;
  for (; i < n && w <= raw_len; ++i) {
    const Entry& e = ent[p[i]];
    std::memcpy(o + w, e.bytes, 16);
    if (e.len > 16) std::memcpy(o + w + 16, e.bytes + 16, kMaxWordBytes - 16);
    w += e.len;
  }
  if (i != n || w != raw_len) {
    *why = "word-coded frame does not expand to its raw length " + std::to_string(raw_len);
    return false;
  }
  out->resize(static_cast<size_t>(raw_len));
  return true;
}

bool WordCodedLength(std::string_view coded, uint64_t* raw_len) {
  std::array<uint8_t, 256> len;
  std::array<const unsigned char*, 256> at{};
  std::string why;
  size_t i = ReadTable(coded, &len, &at, &why);
  if (i == 0) return false;
  uint64_t total = 0;
  for (; i < coded.size(); ++i) total += len[static_cast<uint8_t>(coded[i])];
  *raw_len = total;
  return true;
}

}  // namespace sightline::store::columnar
