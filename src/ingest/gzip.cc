// GunzipBounded and Gzip (declared in otlp_decode.h).
//
// GunzipBounded is the first thing an untrusted compressed body meets, so its memory is
// bounded by the limit, not by what the stream claims: the output buffer grows in
// explicit steps capped at limit + 1 bytes, and inflation stops the moment the output
// passes the limit. A 10 KB "gzip bomb" that inflates to 10 GB costs at most
// limit + 1 bytes of output buffer.
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "ingest/otlp_decode.h"

namespace sightline::ingest {
namespace {

constexpr size_t kMinStep = 64u << 10;
// zlib counts in uInt; feed at most this much input per call.
constexpr size_t kMaxChunk = 1u << 30;

// Grows *out's capacity to exactly new_cap (libstdc++'s reserve may double instead,
// which would let a bomb allocate up to twice the limit).
void GrowExactly(std::string* out, size_t new_cap) {
  if (out->capacity() >= new_cap) return;
  std::string bigger;
  bigger.reserve(new_cap);
  bigger.append(*out);
  out->swap(bigger);
}

// The ISIZE trailer of the last member (uncompressed size mod 2^32): a hint for the
// first allocation only. It is capped at deflate's best possible ratio (about 1032:1),
// so a tiny body with a lying trailer cannot make every request allocate the limit.
size_t SizeHint(std::string_view body) {
  if (body.size() < 18) return 0;
  const auto* p = reinterpret_cast<const unsigned char*>(body.data() + body.size() - 4);
  size_t isize = static_cast<size_t>(p[0]) | static_cast<size_t>(p[1]) << 8 |
                 static_cast<size_t>(p[2]) << 16 | static_cast<size_t>(p[3]) << 24;
  return std::min(isize, body.size() * 1032);
}

std::string ZlibMessage(const z_stream& zs, int rc) {
  if (zs.msg != nullptr) return zs.msg;
  return "zlib error " + std::to_string(rc);
}

}  // namespace

Result<std::string> GunzipBounded(std::string_view body, size_t limit) {
  if (body.empty()) return Status::InvalidArgument("gzip: empty body");
  z_stream zs;
  std::memset(&zs, 0, sizeof zs);
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return Status::Internal("gzip: inflateInit2 failed");
  struct Closer {
    z_stream* zs;
    ~Closer() { inflateEnd(zs); }
  } closer{&zs};

  // Output may reach limit + 1 bytes: one byte past the limit proves it was exceeded.
  const size_t cap = limit == SIZE_MAX ? limit : limit + 1;
  std::string out;
  size_t hint = SizeHint(body);
  GrowExactly(&out, std::min(cap, std::max(hint + 1, std::min(body.size() * 4, kMinStep))));

  const auto* in = reinterpret_cast<const unsigned char*>(body.data());
  size_t in_pos = 0, produced = 0;
  bool stream_end = false;
  while (true) {
    if (zs.avail_in == 0 && in_pos < body.size()) {
      size_t n = std::min(body.size() - in_pos, kMaxChunk);
      zs.next_in = const_cast<unsigned char*>(in + in_pos);
      zs.avail_in = static_cast<uInt>(n);
      in_pos += n;
    }
    if (produced == out.size()) {
      if (out.size() >= cap) break;  // full: checked against the limit below
      if (out.size() == out.capacity()) GrowExactly(&out, std::min(cap, std::max(out.capacity() * 2, kMinStep)));
      out.resize(std::min(out.capacity(), cap));
    }
    size_t room = std::min(out.size() - produced, kMaxChunk);
    zs.next_out = reinterpret_cast<unsigned char*>(out.data() + produced);
    zs.avail_out = static_cast<uInt>(room);
    int rc = inflate(&zs, Z_NO_FLUSH);
    produced += room - zs.avail_out;
    if (rc == Z_STREAM_END) {
      // A body may hold several gzip members back to back (RFC 1952 section 2.2).
      if (zs.avail_in == 0 && in_pos == body.size()) {
        stream_end = true;
        break;
      }
      if (inflateReset(&zs) != Z_OK) return Status::Internal("gzip: inflateReset failed");
      continue;
    }
    if (rc == Z_BUF_ERROR) {
      // No progress possible: either the output is full (loop grows it) or the input
      // ended before the stream did.
      if (zs.avail_out != 0 && zs.avail_in == 0 && in_pos == body.size()) break;
      if (zs.avail_out != 0 && zs.avail_in != 0) return Status::InvalidArgument("gzip: stream stalled");
      continue;
    }
    if (rc == Z_DATA_ERROR) {
      return Status::InvalidArgument("gzip: corrupt stream: " + ZlibMessage(zs, rc) + " (after " +
                                     std::to_string(in_pos - zs.avail_in) + " input bytes)");
    }
    if (rc == Z_MEM_ERROR) return Status::ResourceExhausted("gzip: out of memory");
    if (rc != Z_OK) return Status::InvalidArgument("gzip: " + ZlibMessage(zs, rc));
  }
  if (produced > limit) {
    return Status::TooLarge("decompressed body exceeds " + std::to_string(limit) + " bytes");
  }
  if (!stream_end) return Status::InvalidArgument("gzip: stream truncated");
  out.resize(produced);
  return out;
}

std::string Gzip(std::string_view data) {
  z_stream zs;
  std::memset(&zs, 0, sizeof zs);
  // Level 6 with gzip framing (16 + MAX_WBITS); memLevel 8 is zlib's default.
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return {};
  }
  std::string out;
  out.resize(deflateBound(&zs, static_cast<uLong>(std::min(data.size(), kMaxChunk))) + 64);
  size_t in_pos = 0, produced = 0;
  int rc = Z_OK;
  do {
    if (zs.avail_in == 0 && in_pos < data.size()) {
      size_t n = std::min(data.size() - in_pos, kMaxChunk);
      zs.next_in = reinterpret_cast<unsigned char*>(const_cast<char*>(data.data() + in_pos));
      zs.avail_in = static_cast<uInt>(n);
      in_pos += n;
    }
    if (produced == out.size()) out.resize(out.size() * 2);
    size_t room = std::min(out.size() - produced, kMaxChunk);
    zs.next_out = reinterpret_cast<unsigned char*>(out.data() + produced);
    zs.avail_out = static_cast<uInt>(room);
    int flush = (in_pos == data.size() && zs.avail_in == 0) ? Z_FINISH : Z_NO_FLUSH;
    rc = deflate(&zs, flush);
    produced += room - zs.avail_out;
  } while (rc != Z_STREAM_END && rc != Z_STREAM_ERROR);
  deflateEnd(&zs);
  out.resize(produced);
  return out;
}

}  // namespace sightline::ingest
