// The write-ahead log's on-disk format, version 1 (docs/wal_format.md is the
// normative description; the constants here must match it and never change meaning).
//
// A WAL file is a sequence of 32 KiB blocks. Each block holds fragments; a fragment is
// a 7-byte header (checksum u32 LE, length u16 LE, type u8) and `length` payload bytes.
// A logical record is one FULL fragment or FIRST, MIDDLE*, LAST. A block's last < 7
// bytes are zero padding. Every file begins with one FILE_HEADER fragment whose payload
// carries the magic and the format version.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sightline::store::wal {

inline constexpr uint32_t kFormatVersion = 1;
inline constexpr size_t kBlockSize = 32768;
inline constexpr size_t kHeaderSize = 7;  // checksum(4) length(2) type(1)
inline constexpr size_t kMaxRecordBytes = size_t{1} << 30;  // a reader refuses larger records
inline constexpr char kMagic[8] = {'S', 'L', 'W', 'A', 'L', '\0', '\r', '\n'};
// FILE_HEADER payload: magic(8) version u32 LE, file_number u64 LE, created_unix_ns i64 LE.
inline constexpr size_t kFileHeaderPayloadSize = 28;

enum class FragmentType : uint8_t {
  kZero = 0,  // never written: a zeroed region reads as this, and is damage
  kFull = 1,
  kFirst = 2,
  kMiddle = 3,
  kLast = 4,
  kFileHeader = 5,
};

// Low 32 bits of XXH3-64 over the payload, seeded with the fragment type, so a type
// flip is caught as well.
uint32_t FragmentChecksum(FragmentType type, std::string_view payload);

// "000012.log"
std::string WalFileName(uint64_t number);
// Parses "000012.log" into 12; false for any other name.
bool ParseWalFileName(std::string_view name, uint64_t* number);

}  // namespace sightline::store::wal
