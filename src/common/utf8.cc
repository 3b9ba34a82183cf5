#include "common/utf8.h"

#include <cstdint>
#include <cstring>

namespace sightline {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// Length of the well-formed sequence starting at p[0] (1..4), or 0 when it is
// ill-formed; on 0, *bad is set to the length of the maximal subpart to replace (>= 1).
// Ranges per the Unicode table "Well-Formed UTF-8 Byte Sequences".
inline size_t SequenceLength(const unsigned char* p, size_t avail, size_t* bad) {
  unsigned char b0 = p[0];
  if (b0 < 0x80) return 1;
  size_t need;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 3;
    if (b0 == 0xE0) lo = 0xA0;        // no overlong 3-byte forms
    else if (b0 == 0xED) hi = 0x9F;   // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 4;
    if (b0 == 0xF0) lo = 0x90;        // no overlong 4-byte forms
    else if (b0 == 0xF4) hi = 0x8F;   // nothing above U+10FFFF
  } else {
    *bad = 1;  // C0, C1, F5..FF, or a stray continuation byte
    return 0;
  }
  size_t i = 1;
  if (i >= avail || p[i] < lo || p[i] > hi) {
    *bad = 1;
    return 0;
  }
  for (i = 2; i < need; ++i) {
    if (i >= avail || (p[i] & 0xC0) != 0x80) {
      *bad = i;  // the valid-so-far prefix is one maximal subpart
      return 0;
    }
  }
  return need;
}

// Skips ASCII eight bytes at a time: most OTLP text is ASCII.
inline size_t SkipAscii(const unsigned char* p, size_t i, size_t n) {
  while (i + 8 <= n) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    if (w & 0x8080808080808080ull) break;
    i += 8;
  }
  while (i < n && p[i] < 0x80) ++i;
  return i;
}

}  // namespace

size_t ValidUtf8PrefixLength(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  size_t n = text.size(), i = 0;
  while (true) {
    i = SkipAscii(p, i, n);
    if (i >= n) return n;
    size_t bad = 0;
    size_t len = SequenceLength(p + i, n - i, &bad);
    if (len == 0) return i;
    i += len;
  }
}

bool IsValidUtf8(std::string_view text) { return ValidUtf8PrefixLength(text) == text.size(); }

std::string RepairUtf8(std::string_view text) {
  size_t good = ValidUtf8PrefixLength(text);
  if (good == text.size()) return std::string(text);
  std::string out;
  out.reserve(text.size() + 8);
  out.append(text.data(), good);
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  size_t n = text.size(), i = good;
  while (i < n) {
    size_t bad = 0;
    size_t len = SequenceLength(p + i, n - i, &bad);
    if (len == 0) {
      out.append(kReplacement);
      i += bad;
      continue;
    }
    out.append(text.data() + i, len);
    i += len;
  }
  return out;
}

bool RepairUtf8InPlace(std::string* text) {
  if (ValidUtf8PrefixLength(*text) == text->size()) return false;
  *text = RepairUtf8(*text);
  return true;
}

}  // namespace sightline
