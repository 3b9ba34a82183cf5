// Reading the protobuf wire format field by field, without a message object: the
// store's flush walks its WAL records this way (store/columnar/block_codec.cc), and the
// OTLP walk walks request bodies (ingest/otlp_walk.h).
//
// The framing rules are the ones libprotobuf's parser applies: a tag or a length is a
// varint of at most 5 bytes whose value fits in 31 bits (it refuses longer encodings,
// even of a small value), field number 0 is refused, and so are groups (wire types 3
// and 4) and the unassigned wire types 6 and 7. Every reader checks its input's length
// and never reads past it; false means the bytes are not well-formed fields.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sightline::wire {

// Groups (3 and 4) are named for the walkers that skip or refuse them.
enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kStartGroup = 3, kEndGroup = 4, kFixed32 = 5 };

// Appends v as a varint (one append of up to 10 bytes, not a push_back a byte).
inline void PutVarint(std::string* out, uint64_t v) {
  char b[10];
  size_t n = 0;
  while (v >= 0x80) {
    b[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  b[n++] = static_cast<char>(v);
  out->append(b, n);
}

// A varint of up to 10 bytes off the front of *in (bits past the 64th are dropped, as
// protobuf drops them); the one-byte case (tags, short lengths, small numbers: most of
// a span's) without the loop.
[[gnu::always_inline]] inline bool NextVarint(std::string_view* in, uint64_t* v) {
  if (!in->empty() && static_cast<uint8_t>(in->front()) < 0x80) {
    *v = static_cast<uint8_t>(in->front());
    in->remove_prefix(1);
    return true;
  }
  uint64_t r = 0;
  const size_t n = in->size() < 10 ? in->size() : 10;
  for (size_t i = 0; i < n; ++i) {
    const auto b = static_cast<uint8_t>((*in)[i]);
    r |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
    if (b < 0x80) {
      in->remove_prefix(i + 1);
      *v = r;
      return true;
    }
  }
  return false;
}

// A tag or a length: at most 5 bytes, a value of at most INT32_MAX.
[[gnu::always_inline]] inline bool NextVarint32(std::string_view* in, uint64_t* v) {
  const size_t before = in->size();
  return NextVarint(in, v) && before - in->size() <= 5 && *v <= INT32_MAX;
}

inline uint64_t LoadFixed64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}
inline uint32_t LoadFixed32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}

// One field off the front of *in: its number and wire type, and its value: the bytes of
// a length-delimited field in *bytes (a view of *in), the integer of a varint or the
// bits of a fixed field in *scalar. Inlined: the flush and the OTLP walk call it for
// every field of every span and attribute.
[[gnu::always_inline]] inline bool NextField(std::string_view* in, uint32_t* number, uint32_t* wire_type,
                                             std::string_view* bytes, uint64_t* scalar) {
  uint64_t tag = 0;
  if (!NextVarint32(in, &tag) || (tag >> 3) == 0) return false;
  *number = static_cast<uint32_t>(tag >> 3);
  *wire_type = static_cast<uint32_t>(tag & 7);
  switch (*wire_type) {
    case kVarint: return NextVarint(in, scalar);
    case kFixed64:
      if (in->size() < 8) return false;
      *scalar = LoadFixed64(in->data());
      in->remove_prefix(8);
      return true;
    case kLengthDelimited: {
      uint64_t n = 0;
      if (!NextVarint32(in, &n) || n > in->size()) return false;
      *bytes = in->substr(0, n);
      in->remove_prefix(n);
      return true;
    }
    case kFixed32:
      if (in->size() < 4) return false;
      *scalar = LoadFixed32(in->data());
      in->remove_prefix(4);
      return true;
    default: return false;
  }
}

}  // namespace sightline::wire
