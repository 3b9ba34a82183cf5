// UTF-8 validation and repair. Sightline's contract for text arriving from senders is
// "invalid UTF-8 is replaced, never fatal": every string that reaches the store is valid
// UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
//
// Repair follows the Unicode "maximal subpart" practice (Unicode 15, section 3.9, also
// what the WHATWG decoder and ICU do): each maximal ill-formed subsequence becomes one
// U+FFFD, so "a\xE2\x82z" gives "a\uFFFDz" and "\xFF\xFE" gives two replacement chars.
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sightline {

// True when text is well-formed UTF-8.
bool IsValidUtf8(std::string_view text);

// Length of the longest valid UTF-8 prefix of text (== text.size() when valid).
size_t ValidUtf8PrefixLength(std::string_view text);

// Returns text with every ill-formed subsequence replaced by U+FFFD (EF BF BD).
// Valid input is returned unchanged.
std::string RepairUtf8(std::string_view text);

// Repairs *text in place; returns true when anything was replaced. Cheap (one scan,
// no allocation) when the text is already valid.
bool RepairUtf8InPlace(std::string* text);

}  // namespace sightline
