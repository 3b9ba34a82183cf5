// Columnar segment file format, version 2 (docs/segment_format.md "Version 2" is
// normative). The shape, in short:
//
//   header 16 B: magic "SLSEG\0\r\n" (as version 1), version u32 LE = 2, reserved u32 (0)
//   data:        column chunks of each block (contiguous per block, column-id order) and
//                payload frames, interleaved in the order they filled
//   meta:        one zstd frame: stats, block index (chunk directory, min/max, null
//                counts, per-block bloom filters), payload frame index, trace table,
//                segment-level bloom filters
//   tail 48 B:   meta_offset u64, meta_stored_len u64, meta_raw_len u64, meta_checksum
//                u64 (XXH3-64 of the stored meta), version u32, tail_checksum u32 (low
//                32 bits of XXH3-64 of the 36 bytes before it), magic 8 B
//
// Column ids below are frozen: they are written in the chunk directory. Never renumber
// one; add new columns with new ids (a reader ignores ids it does not know only if they
// are listed as optional in docs; version 2 readers refuse unknown ids).
//
// Thread-safety: constants and pure functions; BloomBuilder is a plain value.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/env.h"
#include "common/status.h"
#include "store/trace_agg.h"

namespace sightline::store::columnar {

inline constexpr uint32_t kFormatVersion = 2;
inline constexpr char kMagic[8] = {'S', 'L', 'S', 'E', 'G', '\0', '\r', '\n'};
inline constexpr size_t kHeaderSize = 16;
inline constexpr size_t kTailSize = 48;

// A block closes when it holds this many rows (a bigger trace is split across blocks),
// its raw column bytes pass kBlockTargetBytes, or the payload values its rows name
// (input, output, large attributes, before deduplication) pass kBlockTargetPayloadBytes.
// A trace read decodes its block whole (then caches it); payload-heavy rows cost the
// columns little (their payloads are in the frames), so their blocks are kept small to
// keep that first read short: ~780 rows of the payload bench's spans instead of 4,096.
inline constexpr uint32_t kBlockTargetRows = 4096;
inline constexpr size_t kBlockTargetBytes = 8u << 20;
inline constexpr size_t kBlockTargetPayloadBytes = 8u << 20;
// A payload frame closes once its raw bytes reach this (a piece never spans frames).
// 256 KiB: zstd finds a message's near copies (the same template, another turn's
// wording) within a frame only, and on the payload bench 256 KiB frames store 13% fewer
// bytes than 64 KiB ones (245 against 282 B/span); a trace read decompresses 4x the
// bytes per frame it needs (cold Q1 1.8-2.0 ms p50 either way: frames are cached).
inline constexpr size_t kFrameTargetBytes = 256u << 10;
// Attribute string values at least this long are stored as payload pieces. Agents send
// each message twice, as an attribute (gen_ai.input.messages, gen_ai.output.messages,
// gen_ai.system_instructions, tool call arguments and results) and as the span's
// normalised input_json / output_json: as pieces, a copy with the same bytes is stored
// once (SHA-256), and a near copy lands in the same compressed frame, where zstd finds
// it; as inline attr_text it was stored and compressed again. Short values (ids, names,
// numbers) stay inline, where attribute filters read them without payload frames.
// Files written with another threshold (1024 before) read the same: the reader takes
// any value the attr_text column marks as large from the payload section.
inline constexpr size_t kLargeAttrBytes = 128;
// Upper bound on any one decompressed chunk, frame or meta region: a damaged length
// must not become a giant allocation.
inline constexpr uint64_t kMaxRawBytes = 1ull << 31;
// zstd level of files written by compaction and salvage (the long-lived ones).
inline constexpr int kZstdLevel = 7;
// zstd level of files flushed from the memtable: flushing competes with ingest for the
// CPU, and level 3 compresses about twice as fast as 7 for ~10% more bytes; compaction
// rewrites these files at kZstdLevel.
inline constexpr int kFlushZstdLevel = 3;

// Frozen column ids (file numbers).
enum ColumnId : uint8_t {
  kColTraceId = 1,        // run-length: (16 B id, varint run) per run
  kColSpanId = 2,         // 8 raw bytes per row
  kColParentSpanId = 3,   // presence bitmap, then 8 raw bytes per present row
  kColStart = 4,          // zigzag varint delta from the previous row's start (first: from 0)
  kColEnd = 5,            // zigzag varint end - start
  kColKind = 6,           // u8 per row
  kColStatus = 7,         // u8 per row
  kColOtelKind = 8,       // u8 per row
  kColCostSource = 9,     // u8 per row
  kColReceived = 10,      // zigzag varint received - end
  // Dictionary-encoded strings: varint n, n length-prefixed entries, varint index per row.
  kColProject = 11,
  kColName = 12,
  kColStatusMessage = 13,
  kColErrorType = 14,
  kColInterruptReason = 15,
  kColService = 16,
  kColEnvironment = 17,
  kColVersion = 18,
  kColSessionId = 19,
  kColUserId = 20,
  kColAgentName = 21,
  kColAgentId = 22,
  kColProvider = 23,
  kColModel = 24,
  kColToolName = 25,
  kColToolCallId = 26,
  kColPromptName = 27,
  kColPromptVersion = 28,
  kColFinishReason = 29,
  // Nullable integers: presence bitmap, zigzag varint per present row.
  kColStep = 30,
  kColInputTokens = 31,
  kColOutputTokens = 32,
  kColCacheReadTokens = 33,
  kColCacheWriteTokens = 34,
  kColReasoningTokens = 35,
  // Nullable doubles: presence bitmap, 8 bytes per present row.
  kColCostUsd = 36,
  kColReportedCostUsd = 37,
  kColComputedCostUsd = 38,
  // Attributes.
  kColAttrKeys = 39,     // key dictionary; per row varint count, per attribute varint key index
  kColAttrText = 40,     // per attribute varint (len + 1) + text; 0 = large (in kColAttrPayload)
  kColAttrTypes = 41,    // per attribute a type byte (AttrType); raw ones add a length-prefixed AnyValue
  kColAttrPayload = 42,  // per large attribute a payload reference list
  kColInput = 43,        // per row a payload reference list (input_json)
  kColOutput = 44,       // per row a payload reference list (output_json)
  kColScope = 45,        // dictionary-encoded serialized Span: resource, scope name/version/attributes
  kColRest = 46,         // per row a length-prefixed serialized Span of every other field
  // Alternative encodings, written instead of an older id when they are smaller (a block
  // holds one or the other, never both; files without them read as before).
  kColReceivedRun = 47,  // received_ns: zigzag varint received - previous row's received
  kColComputedCostRef = 48,  // computed_cost_usd: presence bitmap, "differs from cost_usd"
                             // bitmap, f64 per row with both bits; the rest equal cost_usd
  kColAttrTextRef = 49,  // attr_text, where a value may name the row's string or integer
                         // column that holds the same text (written instead of 40)
  kColMax = 50,          // one past the last id
};
// "name", "attr_keys", ...; "?" for an unknown id.
std::string_view ColumnName(uint32_t id);

// How an attribute value is rebuilt from its text (kColAttrTypes).
enum AttrType : uint8_t {
  kAttrString = 0,  // the text is the value
  kAttrBool = 1,    // "true" / "false"
  kAttrInt = 2,     // decimal
  kAttrDouble = 3,  // shortest round-trip form
  kAttrBytes = 4,   // hex
  kAttrRaw = 5,     // the serialized AnyValue follows in the types chunk
  kAttrUnset = 6,   // an AnyValue with no value
  kAttrNoValue = 7, // a KeyValue without an AnyValue at all
};

// Chunk, frame and meta codecs. kCodecWordZstd is for payload frames only: zstd of the
// frame's word-coded form (word_code.h), expanded after decompression.
enum Codec : uint8_t { kCodecRaw = 0, kCodecZstd = 1, kCodecWordZstd = 2 };
// Compresses raw into *out; stores raw bytes (kCodecRaw) when zstd does not shrink them.
uint8_t CompressChunk(std::string_view raw, std::string* out, int zstd_level = kZstdLevel);
// CompressChunk for a payload frame: at kZstdLevel and above (compaction), the frame is
// word-coded first when that shrinks it enough (kCodecWordZstd; WordEncode decides), and
// zstd's parameters are tuned for text (lazy2, minimum match 6 bytes or 4 in a coded
// frame, 16 candidates); below it (the flush's kFlushZstdLevel) the same as
// CompressChunk, which costs the flush no more than it did.
uint8_t CompressTextFrame(std::string_view raw, std::string* out, int zstd_level = kZstdLevel);
// False (with *why set) when the bytes do not decompress to exactly raw_len bytes.
// kCodecRaw and kCodecZstd only (chunks, the meta region).
bool DecompressChunk(std::string_view stored, uint8_t codec, uint64_t raw_len, std::string* out, std::string* why);
// DecompressChunk for a payload frame, which may also be kCodecWordZstd.
bool DecompressFrame(std::string_view stored, uint8_t codec, uint64_t raw_len, std::string* out, std::string* why);

// The format version written in a segment file's header (1 or 2 today), so a store can
// pick the reader; Corruption when the file is too short or its magic is wrong.
Result<uint32_t> PeekFormatVersion(Env* env, const std::string& path);

// Bloom filters (~1% false positives at 10 bits per key, 7 probes, double hashing of
// one XXH3-64 hash). Encoding: u8 probe count, then the bit array (>= 8 bytes).
uint64_t BloomHash(std::string_view key);
uint64_t BloomHash(const TraceKey& key);
std::string BuildBloom(const std::vector<uint64_t>& hashes);
// True when the filter may hold the hash; a malformed (empty) filter answers true.
bool BloomMayContain(std::string_view filter, uint64_t hash);

}  // namespace sightline::store::columnar
