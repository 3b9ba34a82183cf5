// Word coding of payload frames (docs/segment_format.md, "Payloads": frame codec 2).
//
// Agents' payloads are mostly prose: the same few hundred words, each spelled out again
// in every message. zstd finds a repeated word only as a match (an offset and a length,
// about as costly as the word's own bytes when words are short and their order varies).
// A word-coded frame names its most valuable words once, in a table at its head, and
// writes each of their occurrences as one byte: a byte value the frame's own bytes never
// use (ASCII text leaves the 128 high values free; UTF-8 text at least the 13 values
// valid UTF-8 never holds). zstd then codes those bytes with its literal Huffman tables,
// close to each word's share of the text. The frame is expanded again byte for byte:
// a byte that names a table entry becomes that entry, any other byte is itself.
//
// A token is a run of ASCII letters not after a space, or a space and the run after it
// (" word", so the space between words costs nothing), of 2 to kMaxWordBytes bytes: the
// table holds the tokens whose occurrences save the most bytes, at most one per free
// byte value.
//
// Thread-safety: plain functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sightline::store::columnar {

// Frames below this are left as they are: the table would cost more than it saves.
inline constexpr size_t kWordCodeMinBytes = 4096;
// Nor above this (a frame is 256 KiB, or one bigger piece): the encoder's per-thread
// scratch holds an entry per token, and one message of megabytes is zstd's alone.
inline constexpr size_t kWordCodeMaxBytes = size_t{4} << 20;
// A token longer than this is never coded (the table's u8 length, and rare anyway).
inline constexpr size_t kMaxWordBytes = 48;

// Writes raw's word-coded form to *out and returns true when it is at most 3/4 of raw's
// size (prose: a third to a half; JSON documents of numbers and keys are left alone).
// False (and *out unspecified) otherwise, or when raw is under kWordCodeMinBytes or over
// kWordCodeMaxBytes, or uses all but a few byte values.
bool WordEncode(std::string_view raw, std::string* out);

// Expands a word-coded frame into exactly raw_len bytes. False, with *why naming what
// is wrong, for a malformed table (a code given twice, an empty entry, a cut entry) or a
// body that does not expand to exactly raw_len bytes; never reads or writes out of
// bounds.
bool WordDecode(std::string_view coded, uint64_t raw_len, std::string* out, std::string* why);

// The length a word-coded frame expands to, when its table is well formed (tools and
// tests that look through a file's bytes without its frame index).
bool WordCodedLength(std::string_view coded, uint64_t* raw_len);

}  // namespace sightline::store::columnar
