// Segment file format, version 1 (docs/segment_format.md is normative):
//
//   header  16 B: magic "SLSEG\0\r\n", version u32 LE, reserved u32 (0)
//   blocks:       per trace, its spans as a serialized SpanBatch
//   table:        per trace (ascending trace_id): trace_id 16 B, offset varint,
//                 length varint, span_count varint, block checksum u64 LE (XXH3-64 of
//                 the block), aggregate length varint, aggregate bytes
//   footer  72 B: table_offset u64, table_length u64, trace_count u64,
//                 covered_wal u64, min_start i64, max_end i64, table_checksum u64
//                 (XXH3-64), version u32, footer_checksum u32 (low 32 bits of XXH3-64
//                 of the 60 bytes before it), magic 8 B
//
// A segment is written under a temporary name, synced, renamed to "NNNNNN.seg"
// (NNNNNN = covered_wal: every WAL file numbered <= it is contained), and its
// directory synced. A file named *.seg is therefore always complete.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sightline::store::segment {

inline constexpr uint32_t kFormatVersion = 1;
inline constexpr char kMagic[8] = {'S', 'L', 'S', 'E', 'G', '\0', '\r', '\n'};
inline constexpr size_t kHeaderSize = 16;
inline constexpr size_t kFooterSize = 72;

// "000012.seg"
std::string SegmentFileName(uint64_t number);
bool ParseSegmentFileName(std::string_view name, uint64_t* number);

}  // namespace sightline::store::segment
