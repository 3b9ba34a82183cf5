// Deduplicated payloads of the columnar segment format (docs/segment_format.md,
// "Payloads"). Agents re-send the whole conversation on every model call, so turn N's
// input_json carries turns 1..N-1 again. A payload value (input_json, output_json, an
// attribute string of >= kLargeAttrBytes) that is a JSON array is cut at its top-level element
// boundaries; every piece is addressed by its SHA-256 and stored once per segment in
// the payload section; a row holds a reference list of piece indexes, encoded against
// an earlier list with the same first piece, so turn N's list costs its new entries.
//
// Splitting keeps the exact bytes: "[" + pieces joined by the separator + "]" must give
// the value back, else the value is stored whole (one piece). All work is linear in the
// value's size (one scan, one hash), so MB payloads cost no quadratic time.
//
// Thread-safety: plain values; one thread uses each object.
#pragma once

#include <array>
#include <cstring>

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/columnar/columnar_format.h"

namespace sightline::store::columnar {

enum RefKind : uint8_t {
  kRefAbsent = 0,       // empty value
  kRefWhole = 1,        // one piece is the whole value
  kRefArray = 2,        // "[" + pieces joined by "," + "]"
  kRefArraySpaced = 3,  // "[" + pieces joined by ", " + "]"
};

struct RefList {
  uint8_t kind = kRefAbsent;
  std::vector<uint32_t> pieces;
};

// A span's payload values by reference: what compaction carries from an input file to
// its output without putting the values together and splitting them again
// (ColumnarReader::ReadTraceRefs, ColumnarBuilder::AddTrace). The pieces are indexes of
// one file: the input's when read, the output's once mapped.
struct SpanPayloadRefs {
  RefList input, output;
  std::vector<std::pair<uint32_t, RefList>> large;  // attribute index -> its value's list, ascending
  uint64_t payload_bytes = 0;  // bytes of the values the lists name
};

// Values shorter than this are kept whole even when they are arrays.
inline constexpr size_t kMinSplitBytes = 64;

// Cuts a JSON array into its top-level elements when the bytes round-trip exactly
// (separator "," or ", " used consistently, no other whitespace between elements).
// False (elems left in an unspecified state) when the value must be stored whole.
bool SplitJsonArray(std::string_view v, std::vector<std::string_view>* elems, uint8_t* kind);

// The end of the JSON value starting at v[i] (its structure only, not validated), or
// std::string_view::npos.
size_t SkipJsonValue(std::string_view v, size_t i);

// 32 raw bytes of SHA-256 (OpenSSL EVP).
std::string Sha256(std::string_view data);

// The SHA-256 of a payload piece as a map key: fixed size, no heap allocation.
struct PieceDigest {
  std::array<uint8_t, 32> bytes{};
  bool operator==(const PieceDigest& o) const { return bytes == o.bytes; }
};
struct PieceDigestHash {
  size_t operator()(const PieceDigest& d) const {  // already uniformly distributed
    size_t h;
    std::memcpy(&h, d.bytes.data(), sizeof(h));
    return h;
  }
};

// SHA-256 with the digest fetched once and one context reused: OpenSSL 3's one-shot
// EVP_Digest looks the algorithm up and allocates a context on every call, which cost
// more than hashing a typical chat message. Thread-confined (one per PayloadWriter).
class PieceHasher {
 public:
  PieceHasher();
  ~PieceHasher();
  PieceHasher(const PieceHasher&) = delete;
  PieceHasher& operator=(const PieceHasher&) = delete;
  PieceDigest Digest(std::string_view data);

 private:
  void* md_ = nullptr;   // EVP_MD*
  void* ctx_ = nullptr;  // EVP_MD_CTX*
};

// Rebuilds the value a list names; piece(i) returns the bytes of piece i.
template <typename PieceFn>
void RenderRefList(const RefList& list, PieceFn&& piece, std::string* out) {
  out->clear();
  if (list.kind == kRefAbsent) return;
  if (list.kind == kRefWhole) {
    if (!list.pieces.empty()) out->append(piece(list.pieces[0]));
    return;
  }
  std::string_view sep = list.kind == kRefArraySpaced ? ", " : ",";
  out->push_back('[');
  for (size_t i = 0; i < list.pieces.size(); ++i) {
    if (i) out->append(sep);
    out->append(piece(list.pieces[i]));
  }
  out->push_back(']');
}

// The payload section being written: pieces deduplicated by content, packed into frames
// of ~kFrameTargetBytes raw bytes. The builder drains full frames into the file.
//
// The segment's first kKeptBytes of unique piece bytes are kept in memory: a piece is
// found again by its XXH3-128 and a comparison of its bytes with the kept copy, so a
// kept piece is never hashed with SHA-256 at all. Past that (and for a piece whose
// XXH3 names another kept piece) pieces are addressed by SHA-256. Turn N of a
// conversation re-sends the N-1 messages before it, so a flush once hashed the square
// of a session's length with SHA-256, and then each new message once; now a flush file
// (a few MB of unique pieces) hashes none. The pieces chosen, and the file written, are
// the same either way (set_kept_bytes_limit(0) takes the SHA-256 path for every piece).
class PayloadWriter {
 public:
  static constexpr size_t kKeptBytes = size_t{32} << 20;
  struct Frame {
    std::string stored;  // bytes to write
    uint8_t codec = 0;
    uint64_t raw_len = 0;
    uint64_t checksum = 0;  // XXH3-64 of stored
    std::vector<uint32_t> piece_lens;
  };

  void set_zstd_level(int level) { zstd_level_ = level; }
  // How many bytes of unique pieces are kept for the fast lookup (kKeptBytes; 0: every
  // piece is looked up by SHA-256, as tests compare).
  void set_kept_bytes_limit(size_t bytes) { kept_limit_ = bytes; }
  // Splits (when worthwhile) and adds a value; returns its reference list.
  RefList AddValue(std::string_view value, bool allow_split);
  // Adds one piece; returns its index (the earlier one when the bytes were seen).
  uint32_t AddPiece(std::string_view piece);
  // Frames closed so far and not yet taken; the caller writes them and clears this.
  // A frame closes when adding a piece finds it at kFrameTargetBytes, so memory stays
  // bounded by one frame, the pieces of one value, the kept bytes (at most
  // kKeptBytes) and one digest per piece.
  std::vector<Frame>* ready() { return &ready_; }
  // Closes the open frame (if it holds a piece) into ready().
  void Flush();
  uint32_t piece_count() const { return next_index_; }
  // Repeated pieces found by the fast lookup (without SHA-256).
  uint64_t fast_hits() const { return fast_hits_; }
  // Pieces hashed with SHA-256 (those not kept).
  uint64_t digests() const { return digests_; }
  uint64_t raw_bytes() const { return raw_bytes_; }

 private:
  struct FastKey {
    uint64_t lo = 0, hi = 0;
    bool operator==(const FastKey& o) const { return lo == o.lo && hi == o.hi; }
  };
  struct FastKeyHash {
    size_t operator()(const FastKey& k) const { return static_cast<size_t>(k.lo); }
  };
  struct Kept {
    const char* data = nullptr;
    uint32_t len = 0;
    uint32_t index = 0;
  };
  // Copies a new piece into the kept chunks (stable addresses) when under the limit.
  const char* Keep(std::string_view piece);

  PieceHasher hasher_;
  std::unordered_map<PieceDigest, uint32_t, PieceDigestHash> by_hash_;
  std::unordered_map<FastKey, Kept, FastKeyHash> fast_;
  std::vector<std::string> kept_chunks_;  // each filled only up to its reserved capacity
  size_t kept_bytes_ = 0;
  size_t kept_limit_ = kKeptBytes;
  uint64_t fast_hits_ = 0;
  uint64_t digests_ = 0;
  std::string frame_;
  int zstd_level_ = kZstdLevel;
  std::vector<uint32_t> frame_lens_;
  uint32_t next_index_ = 0;
  uint64_t raw_bytes_ = 0;
  std::vector<std::string_view> scratch_;
  std::vector<Frame> ready_;
};

// Encodes a sequence of reference lists (one chunk). An array list is written as a
// reference to the most similar recent list with the same first piece (shared prefix
// length) plus its new pieces as zigzag deltas.
class RefListEncoder {
 public:
  void Add(const RefList& list);
  const std::string& data() const { return out_; }
  bool all_absent() const { return all_absent_; }

 private:
  std::string out_;
  int64_t prev_piece_ = 0;
  std::vector<std::vector<uint32_t>> lists_;  // array lists so far, by list id
  std::unordered_map<uint32_t, std::vector<uint32_t>> recent_;  // first piece -> recent list ids
  bool all_absent_ = true;
};

// A chunk of reference lists (what RefListEncoder wrote) decoded into one flat form: per
// list its kind, the earlier list whose prefix it extends and how long that prefix is,
// and where its own pieces sit in one array. Every index is checked against piece_count,
// every back reference against the lists before it, and the pieces named are bounded.
// Decoding a block's column is one pass over varints with no allocation per list; a list
// is put together (Get) only for the rows read. Turn N of a conversation extends turn
// N-1's list, so materialising every list would copy the square of a session's length,
// while a trace read needs a handful of a block's rows.
// Thread-safety: immutable after Decode; Get may run concurrently.
class RefColumn {
 public:
  // False when the chunk is malformed (as DecodeRefLists); empty raw: count absent lists.
  bool Decode(std::string_view raw, size_t count, uint32_t piece_count);
  // count lists, all absent (a column that could not be read).
  void Reset(size_t count);
  size_t size() const { return entries_.size(); }
  uint8_t kind(size_t i) const { return entries_[i].kind; }
  // Whether every list holds a value (large attribute values always do).
  bool AllPresent() const;
  // List i (i < size()), put together from the lists it extends.
  void Get(size_t i, RefList* out) const;
  RefList operator[](size_t i) const {
    RefList l;
    Get(i, &l);
    return l;
  }
  // Roughly what the column holds in memory.
  size_t MemoryBytes() const { return entries_.capacity() * sizeof(Entry) + own_.capacity() * sizeof(uint32_t); }

 private:
  static constexpr uint32_t kNoBase = UINT32_MAX;
  struct Entry {
    uint8_t kind = kRefAbsent;
    uint32_t base = kNoBase;  // the list (index) whose first `prefix` pieces come first
    uint32_t prefix = 0;
    uint32_t own_begin = 0, own_len = 0;  // this list's own pieces: own_[own_begin, +own_len)
    uint32_t total() const { return prefix + own_len; }
  };
  std::vector<Entry> entries_;
  std::vector<uint32_t> own_;
};

}  // namespace sightline::store::columnar
