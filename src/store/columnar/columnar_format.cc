#include "store/columnar/columnar_format.h"

#include <xxhash.h>
#include <zstd.h>

#include <cstring>

#include "store/coding.h"
#include "store/columnar/word_code.h"

namespace sightline::store::columnar {

std::string_view ColumnName(uint32_t id) {
  static constexpr std::string_view kNames[kColMax] = {
      "?",           "trace_id",          "span_id",         "parent_span_id",   "start_ns",
      "end_ns",      "kind",              "status",          "otel_kind",        "cost_source",
      "received_ns", "project",           "name",            "status_message",   "error_type",
      "interrupt_reason", "service",      "environment",     "version",          "session_id",
      "user_id",     "agent_name",        "agent_id",        "provider",         "model",
      "tool_name",   "tool_call_id",      "prompt_name",     "prompt_version",   "finish_reason",
      "step",        "input_tokens",      "output_tokens",   "cache_read_tokens", "cache_write_tokens",
      "reasoning_tokens", "cost_usd",     "reported_cost_usd", "computed_cost_usd", "attr_keys",
      "attr_text",   "attr_types",        "attr_payload",    "input",            "output",
      "scope",       "rest",              "received_ns_run", "computed_cost_usd_ref", "attr_text_ref"};
  return id < kColMax ? kNames[id] : std::string_view("?");
}

namespace {

// One compression context per thread (the flush, compaction): a fresh context per chunk
// spent most of a small chunk's time allocating and zeroing its tables.
ZSTD_CCtx* ThreadCCtx() {
  struct CCtx {
    ZSTD_CCtx* c = ZSTD_createCCtx();
    ~CCtx() { ZSTD_freeCCtx(c); }
  };
  thread_local CCtx ctx;
  return ctx.c;
}

// What is compressed: a chunk, a payload frame's text, or a word-coded frame.
enum class Content { kChunk, kText, kWordCoded };

uint8_t Compress(std::string_view raw, std::string* out, int zstd_level, Content content) {
  out->clear();
  if (raw.size() < 32) {  // zstd's frame overhead outweighs anything it could save
    out->assign(raw);
    return kCodecRaw;
  }
  ZSTD_CCtx* c = ThreadCCtx();
  out->resize(ZSTD_compressBound(raw.size()));
  size_t n = 0;
  if (c == nullptr) {
    n = ZSTD_compress(out->data(), out->size(), raw.data(), raw.size(), zstd_level);
  } else if (content == Content::kChunk || zstd_level < kZstdLevel) {
    n = ZSTD_compressCCtx(c, out->data(), out->size(), raw.data(), raw.size(), zstd_level);  // as ZSTD_compress
  } else {
    // Payload frames are text (messages, tool results): matches shorter than 6 bytes
    // (half a word) cost about what their literals do, and the lazy2 parser with 16
    // candidates per position finds the longer ones. On the bench's payload pieces this
    // stores 5% fewer bytes than plain level 7 at about its speed; on natural-language
    // messages and JSON documents it is within 1% of it (docs/segment_format.md).
    // In a word-coded frame a word is one byte: a match of 4 is four words, and on
    // natural-language messages stores 3% fewer bytes than 6 does (the bench's the same).
    ZSTD_CCtx_reset(c, ZSTD_reset_session_and_parameters);
    ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, zstd_level);
    ZSTD_CCtx_setParameter(c, ZSTD_c_strategy, ZSTD_lazy2);
    ZSTD_CCtx_setParameter(c, ZSTD_c_minMatch, content == Content::kWordCoded ? 4 : 6);
    ZSTD_CCtx_setParameter(c, ZSTD_c_searchLog, 4);
    n = ZSTD_compress2(c, out->data(), out->size(), raw.data(), raw.size());
    ZSTD_CCtx_reset(c, ZSTD_reset_session_and_parameters);
  }
  if (ZSTD_isError(n) || n >= raw.size()) {
    out->assign(raw);
    return kCodecRaw;
  }
  out->resize(n);
  return kCodecZstd;
}

}  // namespace

uint8_t CompressChunk(std::string_view raw, std::string* out, int zstd_level) {
  return Compress(raw, out, zstd_level, Content::kChunk);
}

uint8_t CompressTextFrame(std::string_view raw, std::string* out, int zstd_level) {
  if (zstd_level >= kZstdLevel) {
    std::string coded;
    if (WordEncode(raw, &coded) && Compress(coded, out, zstd_level, Content::kWordCoded) == kCodecZstd)
      return kCodecWordZstd;
  }
  return Compress(raw, out, zstd_level, Content::kText);
}

bool DecompressChunk(std::string_view stored, uint8_t codec, uint64_t raw_len, std::string* out, std::string* why) {
  if (raw_len > kMaxRawBytes) {
    *why = "raw length " + std::to_string(raw_len) + " over the limit";
    return false;
  }
  if (codec == kCodecRaw) {
    if (stored.size() != raw_len) {
      *why = "stored length does not match the raw length";
      return false;
    }
    out->assign(stored);
    return true;
  }
  if (codec != kCodecZstd) {
    *why = "unknown codec " + std::to_string(codec);
    return false;
  }
  unsigned long long content = ZSTD_getFrameContentSize(stored.data(), stored.size());
  if (content == ZSTD_CONTENTSIZE_ERROR || content == ZSTD_CONTENTSIZE_UNKNOWN || content != raw_len) {
    *why = "zstd frame header does not match the raw length";
    return false;
  }
  out->resize(static_cast<size_t>(raw_len));
  size_t n = ZSTD_decompress(out->data(), out->size(), stored.data(), stored.size());
  if (ZSTD_isError(n) || n != raw_len) {
    *why = std::string("zstd: ") + (ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short output");
    return false;
  }
  return true;
}

bool DecompressFrame(std::string_view stored, uint8_t codec, uint64_t raw_len, std::string* out, std::string* why) {
  if (codec != kCodecWordZstd) return DecompressChunk(stored, codec, raw_len, out, why);
  if (raw_len > kMaxRawBytes) {
    *why = "raw length " + std::to_string(raw_len) + " over the limit";
    return false;
  }
  // A coded body is no longer than its expansion; the table adds at most 1 + 255 * 50.
  const unsigned long long coded_len = ZSTD_getFrameContentSize(stored.data(), stored.size());
  if (coded_len == ZSTD_CONTENTSIZE_ERROR || coded_len == ZSTD_CONTENTSIZE_UNKNOWN ||
      coded_len > raw_len + 255 * (2 + kMaxWordBytes) + 1) {
    *why = "zstd frame header of a word-coded frame does not fit its raw length";
    return false;
  }
  std::string coded;
  return DecompressChunk(stored, kCodecZstd, coded_len, &coded, why) && WordDecode(coded, raw_len, out, why);
}

Result<uint32_t> PeekFormatVersion(Env* env, const std::string& path) {
  SL_ASSIGN_OR_RETURN(auto f, env->NewRandomAccessFile(path));
  std::string header;
  SL_RETURN_IF_ERROR(f->Read(0, kHeaderSize, &header));
  if (header.size() < kHeaderSize) return Status::Corruption(path + ": file too short to be a segment");
  if (std::memcmp(header.data(), kMagic, sizeof(kMagic)) != 0)
    return Status::Corruption(path + ": not a Sightline segment (bad magic)");
  return DecodeFixed32(header.data() + 8);
}

uint64_t BloomHash(std::string_view key) { return XXH3_64bits(key.data(), key.size()); }
uint64_t BloomHash(const TraceKey& key) {
  char b[16];
  std::memcpy(b, &key.hi, 8);
  std::memcpy(b + 8, &key.lo, 8);
  return XXH3_64bits(b, 16);
}

namespace {
constexpr int kProbes = 7;
constexpr size_t kBitsPerKey = 10;
}  // namespace

std::string BuildBloom(const std::vector<uint64_t>& hashes) {
  size_t bits = hashes.size() * kBitsPerKey;
  if (bits < 64) bits = 64;
  size_t bytes = (bits + 7) / 8;
  bits = bytes * 8;
  std::string f(1 + bytes, '\0');
  f[0] = static_cast<char>(kProbes);
  for (uint64_t h : hashes) {
    uint64_t h1 = h, h2 = (h >> 32) | (h << 32);
    h2 |= 1;
    for (int i = 0; i < kProbes; ++i) {
      uint64_t bit = (h1 + static_cast<uint64_t>(i) * h2) % bits;
      f[1 + bit / 8] = static_cast<char>(static_cast<uint8_t>(f[1 + bit / 8]) | (1u << (bit % 8)));
    }
  }
  return f;
}

bool BloomMayContain(std::string_view filter, uint64_t h) {
  if (filter.size() < 2) return true;
  int probes = static_cast<uint8_t>(filter[0]);
  if (probes == 0 || probes > 30) return true;
  uint64_t bits = (filter.size() - 1) * 8;
  uint64_t h1 = h, h2 = (h >> 32) | (h << 32);
  h2 |= 1;
  for (int i = 0; i < probes; ++i) {
    uint64_t bit = (h1 + static_cast<uint64_t>(i) * h2) % bits;
    if ((static_cast<uint8_t>(filter[1 + bit / 8]) & (1u << (bit % 8))) == 0) return false;
  }
  return true;
}

}  // namespace sightline::store::columnar
