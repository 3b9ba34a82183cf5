// Little-endian fixed-width integers and LEB128 varints for the store's on-disk
// formats (docs/wal_format.md, docs/segment_format.md). Decoders never read past the
// input they are given and report failure instead.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "common/wire.h"

namespace sightline::store {

inline void PutFixed32(std::string* out, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>(v >> (8 * i));
  out->append(b, 4);
}
inline void PutFixed64(std::string* out, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (8 * i));
  out->append(b, 8);
}
inline uint32_t DecodeFixed32(const char* p) { return wire::LoadFixed32(p); }
inline uint64_t DecodeFixed64(const char* p) { return wire::LoadFixed64(p); }

inline void PutVarint64(std::string* out, uint64_t v) { wire::PutVarint(out, v); }
inline size_t VarintLength(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}
// Writes v at p (which has room for VarintLength(v) bytes); returns the end.
inline char* EncodeVarint64(char* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}
inline bool GetVarint64(std::string_view* in, uint64_t* v) {
  uint64_t r = 0;
  for (int shift = 0, i = 0; shift <= 63 && i < static_cast<int>(in->size()); shift += 7, ++i) {
    uint8_t b = static_cast<uint8_t>((*in)[static_cast<size_t>(i)]);
    r |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (b < 0x80) {
      in->remove_prefix(static_cast<size_t>(i) + 1);
      *v = r;
      return true;
    }
  }
  return false;
}
// a - b without signed overflow: deltas of arbitrary int64 times wrap, and the
// decoder's wrapping addition undoes them exactly.
inline int64_t WrapSub(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}
inline void PutSigned(std::string* out, int64_t v) {
  PutVarint64(out, (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}
inline bool GetSigned(std::string_view* in, int64_t* v) {
  uint64_t u;
  if (!GetVarint64(in, &u)) return false;
  *v = static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
  return true;
}
inline void PutDouble(std::string* out, double d) {
  uint64_t u;
  std::memcpy(&u, &d, 8);
  PutFixed64(out, u);
}
inline bool GetDouble(std::string_view* in, double* d) {
  if (in->size() < 8) return false;
  uint64_t u = DecodeFixed64(in->data());
  std::memcpy(d, &u, 8);
  in->remove_prefix(8);
  return true;
}
inline void PutLengthPrefixed(std::string* out, std::string_view s) {
  PutVarint64(out, s.size());
  out->append(s);
}
inline bool GetLengthPrefixed(std::string_view* in, std::string_view* s) {
  uint64_t n;
  if (!GetVarint64(in, &n) || n > in->size()) return false;
  *s = in->substr(0, static_cast<size_t>(n));
  in->remove_prefix(static_cast<size_t>(n));
  return true;
}

}  // namespace sightline::store
