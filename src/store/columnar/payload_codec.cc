#include "store/columnar/payload_codec.h"

#include <openssl/evp.h>
#include <xxhash.h>

#include <algorithm>
#include <cstring>

#include "store/coding.h"
#include "store/columnar/columnar_format.h"

namespace sightline::store::columnar {
namespace {

constexpr size_t npos = std::string_view::npos;

// The end of the JSON string whose opening quote is s[i], or npos. memchr finds the
// next quote and the next backslash (most message text has neither for hundreds of
// bytes): a flush splits every model call's whole history, so this loop ran over most
// bytes a payload span carries, one at a time.
size_t SkipString(std::string_view s, size_t i) {
  const char* base = s.data();
  const size_t n = s.size();
  for (++i; i < n;) {
    const void* q = std::memchr(base + i, '"', n - i);
    if (q == nullptr) return npos;
    const size_t quote = static_cast<size_t>(static_cast<const char*>(q) - base);
    for (;;) {  // the escapes before that quote
      const void* b = std::memchr(base + i, '\\', quote - i);
      if (b == nullptr) return quote + 1;
      i = static_cast<size_t>(static_cast<const char*>(b) - base) + 2;  // the escaped byte is skipped
      if (i > quote) break;  // the quote itself was escaped: find the next one
    }
  }
  return npos;
}

// The end of the JSON value starting at s[i] (structure only, no validation), or npos.
size_t SkipValue(std::string_view s, size_t i) {
  size_t n = s.size();
  if (i >= n) return npos;
  char c = s[i];
  if (c == '"') return SkipString(s, i);
  if (c == '{' || c == '[') {
    int64_t depth = 0;
    for (; i < n; ++i) {
      char d = s[i];
      if (d == '"') {
        size_t e = SkipString(s, i);
        if (e == npos) return npos;
        i = e - 1;
      } else if (d == '{' || d == '[') {
        ++depth;
      } else if (d == '}' || d == ']') {
        if (--depth == 0) return i + 1;
      }
    }
    return npos;
  }
  size_t start = i;
  while (i < n && s[i] != ',' && s[i] != ']' && s[i] != '}' && s[i] != ' ' && s[i] != '\n' && s[i] != '\t' &&
         s[i] != '\r')
    ++i;
  return i > start ? i : npos;
}

}  // namespace

size_t SkipJsonValue(std::string_view v, size_t i) { return SkipValue(v, i); }

bool SplitJsonArray(std::string_view v, std::vector<std::string_view>* elems, uint8_t* kind) {
  elems->clear();
  size_t n = v.size();
  if (n < 3 || v[0] != '[' || v[n - 1] != ']') return false;
  size_t i = 1;
  uint8_t sep = 0;
  size_t total = 0;
  for (;;) {
    size_t e = SkipValue(v, i);
    if (e == npos || e >= n) return false;
    elems->push_back(v.substr(i, e - i));
    total += e - i;
    i = e;
    if (i == n - 1) break;  // v[i] == ']'
    if (v[i] != ',') return false;
    uint8_t this_sep = (i + 1 < n && v[i + 1] == ' ') ? kRefArraySpaced : kRefArray;
    if (sep == 0) sep = this_sep;
    if (sep != this_sep) return false;
    i += this_sep == kRefArraySpaced ? 2 : 1;
  }
  if (sep == 0) sep = kRefArray;
  size_t sep_len = sep == kRefArraySpaced ? 2 : 1;
  // The pieces and separators tile the value exactly (checked, not assumed).
  if (2 + total + (elems->size() - 1) * sep_len != n) return false;
  *kind = sep;
  return true;
}

std::string Sha256(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  std::string out(32, '\0');
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) == 1 && len == 32) {
    std::copy(md, md + 32, out.begin());
  } else {
    // Never expected (SHA-256 is always available); a weaker key still deduplicates
    // correctly because equal bytes give equal keys, and the length and two XXH3
    // hashes make a collision implausible.
    out.clear();
    PutFixed64(&out, data.size());
    PutFixed64(&out, XXH3_64bits(data.data(), data.size()));
    PutFixed64(&out, XXH3_64bits_withSeed(data.data(), data.size(), 0x5eed));
  }
  return out;
}

PieceHasher::PieceHasher() {
  md_ = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  ctx_ = EVP_MD_CTX_new();
}

PieceHasher::~PieceHasher() {
  EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_));
  EVP_MD_free(static_cast<EVP_MD*>(md_));
}

PieceDigest PieceHasher::Digest(std::string_view data) {
  PieceDigest d;
  auto* ctx = static_cast<EVP_MD_CTX*>(ctx_);
  unsigned int len = 0;
  if (md_ != nullptr && ctx != nullptr && EVP_DigestInit_ex2(ctx, static_cast<EVP_MD*>(md_), nullptr) == 1 &&
      EVP_DigestUpdate(ctx, data.data(), data.size()) == 1 && EVP_DigestFinal_ex(ctx, d.bytes.data(), &len) == 1 &&
      len == 32)
    return d;
  std::string s = Sha256(data);  // the one-shot path, and its fallback
  std::memcpy(d.bytes.data(), s.data(), std::min(s.size(), d.bytes.size()));
  return d;
}

RefList PayloadWriter::AddValue(std::string_view value, bool allow_split) {
  RefList r;
  if (value.empty()) return r;
  uint8_t kind = kRefWhole;
  if (allow_split && value.size() >= kMinSplitBytes && SplitJsonArray(value, &scratch_, &kind)) {
    r.kind = kind;
    r.pieces.reserve(scratch_.size());
    for (std::string_view p : scratch_) r.pieces.push_back(AddPiece(p));
    return r;
  }
  r.kind = kRefWhole;
  r.pieces.push_back(AddPiece(value));
  return r;
}

const char* PayloadWriter::Keep(std::string_view piece) {
  if (piece.size() > kept_limit_ - std::min(kept_limit_, kept_bytes_)) return nullptr;
  constexpr size_t kChunk = size_t{1} << 20;
  if (kept_chunks_.empty() || kept_chunks_.back().capacity() - kept_chunks_.back().size() < piece.size()) {
    kept_chunks_.emplace_back();
    kept_chunks_.back().reserve(std::max(kChunk, piece.size()));
  }
  std::string& c = kept_chunks_.back();
  const size_t at = c.size();
  c.append(piece);  // within the reserved capacity: earlier pieces do not move
  kept_bytes_ += piece.size();
  return c.data() + at;
}

uint32_t PayloadWriter::AddPiece(std::string_view piece) {
  const XXH128_hash_t h = XXH3_128bits(piece.data(), piece.size());
  const FastKey key{h.low64, h.high64};
  auto fast = fast_.find(key);
  if (fast != fast_.end() && fast->second.len == piece.size() &&
      std::memcmp(fast->second.data, piece.data(), piece.size()) == 0) {
    ++fast_hits_;
    return fast->second.index;
  }
  // A piece seen before is in fast_ when it was kept, else in by_hash_. So a new piece
  // that is kept needs no SHA-256: any later copy finds it by its XXH3 and bytes.
  const char* kept = nullptr;
  if (fast == fast_.end() && piece.size() <= UINT32_MAX) kept = Keep(piece);
  if (kept != nullptr) {
    fast_.emplace(key, Kept{kept, static_cast<uint32_t>(piece.size()), next_index_});
  } else {
    ++digests_;
    auto [it, inserted] = by_hash_.try_emplace(hasher_.Digest(piece), next_index_);
    if (!inserted) return it->second;
  }
  if (frame_.size() >= kFrameTargetBytes) Flush();
  frame_.append(piece);
  frame_lens_.push_back(static_cast<uint32_t>(piece.size()));
  raw_bytes_ += piece.size();
  return next_index_++;
}

void PayloadWriter::Flush() {
  if (frame_lens_.empty()) return;
  Frame& out = ready_.emplace_back();
  out.codec = CompressTextFrame(frame_, &out.stored, zstd_level_);
  out.raw_len = frame_.size();
  out.checksum = XXH3_64bits(out.stored.data(), out.stored.size());
  out.piece_lens = std::move(frame_lens_);
  frame_lens_.clear();
  frame_.clear();
}

void RefListEncoder::Add(const RefList& list) {
  PutVarint64(&out_, list.kind);
  if (list.kind == kRefAbsent) return;
  all_absent_ = false;
  auto put_piece = [&](uint32_t p) {
    PutSigned(&out_, static_cast<int64_t>(p) - prev_piece_);
    prev_piece_ = p;
  };
  if (list.kind == kRefWhole) {
    put_piece(list.pieces.empty() ? 0 : list.pieces[0]);
    return;
  }
  // Array: find the recent list with the same first piece sharing the longest prefix.
  uint32_t id = static_cast<uint32_t>(lists_.size());
  uint32_t best_id = 0;
  size_t best_len = 0;
  if (!list.pieces.empty()) {
    auto it = recent_.find(list.pieces[0]);
    if (it != recent_.end()) {
      for (uint32_t cand : it->second) {
        const auto& c = lists_[cand];
        size_t k = 0, m = std::min(c.size(), list.pieces.size());
        while (k < m && c[k] == list.pieces[k]) ++k;
        if (k > best_len) {
          best_len = k;
          best_id = cand;
        }
      }
    }
  }
  if (best_len > 0) {
    PutVarint64(&out_, id - best_id);
    PutVarint64(&out_, best_len);
  } else {
    PutVarint64(&out_, 0);
  }
  PutVarint64(&out_, list.pieces.size() - best_len);
  for (size_t k = best_len; k < list.pieces.size(); ++k) put_piece(list.pieces[k]);
  lists_.push_back(list.pieces);
  if (!list.pieces.empty()) {
    auto& r = recent_[list.pieces[0]];
    r.insert(r.begin(), id);
    if (r.size() > 4) r.pop_back();
  }
}

void RefColumn::Reset(size_t count) {
  entries_.assign(count, Entry());
  own_.clear();
}

bool RefColumn::AllPresent() const {
  return std::all_of(entries_.begin(), entries_.end(), [](const Entry& e) { return e.kind != kRefAbsent; });
}

bool RefColumn::Decode(std::string_view in, size_t count, uint32_t piece_count) {
  Reset(count);
  if (in.empty()) return true;
  if (count > UINT32_MAX / 2) return false;
  std::vector<uint32_t> arrays;  // array list id -> index (back references count array lists only)
  int64_t prev = 0;
  uint64_t total = 0;  // pieces the lists name, bounded as RefListDecoder bounds them
  auto get_piece = [&]() {
    int64_t d;
    if (!GetSigned(&in, &d)) return false;
    const int64_t v = prev + d;
    if (v < 0 || v >= static_cast<int64_t>(piece_count)) return false;
    prev = v;
    own_.push_back(static_cast<uint32_t>(v));
    return true;
  };
  for (size_t i = 0; i < count; ++i) {
    Entry& e = entries_[i];
    uint64_t kind;
    if (!GetVarint64(&in, &kind) || kind > kRefArraySpaced) return false;
    e.kind = static_cast<uint8_t>(kind);
    if (kind == kRefAbsent) continue;
    e.own_begin = static_cast<uint32_t>(own_.size());
    if (kind == kRefWhole) {
      if (!get_piece()) return false;
      e.own_len = 1;
      continue;
    }
    uint64_t back, prefix = 0, fresh;
    if (!GetVarint64(&in, &back)) return false;
    if (back != 0) {
      if (back > arrays.size() || !GetVarint64(&in, &prefix)) return false;
      uint32_t base = arrays[arrays.size() - back];
      if (prefix > entries_[base].total()) return false;
      // Point at the list that holds piece prefix - 1 among its own pieces: the first
      // `prefix` pieces of a list whose own pieces start past them are its base's.
      while (base != kNoBase && prefix > 0 && prefix <= entries_[base].prefix) base = entries_[base].base;
      e.base = prefix > 0 ? base : kNoBase;
      e.prefix = static_cast<uint32_t>(prefix);
    }
    // Each new piece takes at least one byte, so `fresh` is bounded by the input.
    if (!GetVarint64(&in, &fresh) || fresh > in.size()) return false;
    total += prefix + fresh;
    if (total > (1ull << 25)) return false;  // no legitimate block names this many pieces
    for (uint64_t k = 0; k < fresh; ++k)
      if (!get_piece()) return false;
    e.own_len = static_cast<uint32_t>(fresh);
    arrays.push_back(static_cast<uint32_t>(i));
  }
  return in.empty();
}

void RefColumn::Get(size_t i, RefList* out) const {
  const Entry& e = entries_[i];
  out->kind = e.kind;
  out->pieces.resize(e.total());
  // From the end back: this list's own pieces, then the part of each base it takes.
  // Decode made every base hold its list's last taken piece among its own pieces, so
  // every step copies at least one piece.
  uint32_t end = e.total();
  const Entry* c = &e;
  for (;;) {
    const uint32_t take = end - c->prefix;  // of c's own pieces (end <= c->total())
    std::copy_n(own_.begin() + c->own_begin, take, out->pieces.begin() + c->prefix);
    end = c->prefix;
    if (end == 0 || c->base == kNoBase) break;
    c = &entries_[c->base];
  }
}

}  // namespace sightline::store::columnar
