// The built-in redaction detectors: what each one looks for (Hyperscan patterns), the
// check that confirms a candidate (Luhn for cards, mod-97 for IBANs, ...), and the
// part of a match that is the secret (for `password=` and `Authorization:` only the
// value is replaced, the key stays readable). docs/redaction.md lists them.
//
// Detectors are data: a table of names, patterns and two plain functions. Patterns are
// written for Hyperscan in block mode with HS_FLAG_SOM_LEFTMOST: every end offset is
// reported with its leftmost start, and the engine merges overlapping reports.
//
// Thread-safety: everything here is immutable or a pure function.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

namespace sightline::pipeline::redaction {

// Whether text[from, to) is really what the detector looks for (checks that a pattern
// cannot express: checksums, ranges, context). `text` is the whole string scanned.
using Validator = bool (*)(std::string_view text, size_t from, size_t to);
// The offset where the secret starts inside the match text[from, to) (from when the
// whole match is the secret).
using ValueStart = size_t (*)(std::string_view text, size_t from, size_t to);

// `expression` finds the match (with leftmost start offsets). `filter`, when set, is a
// cheaper expression for the first pass that matches wherever `expression` does (a
// superset: its unbounded tails cut to their shortest form), so the first pass can
// answer "anything here?" faster; a false hit only costs the second pass.
struct DetectorPattern {
  const char* expression;
  bool caseless;
  const char* filter = nullptr;
};

enum class DetectorClass { kCredential, kPersonal };

struct Detector {
  const char* name;  // the rule name in the policy, masks and metrics
  DetectorClass klass;
  std::span<const DetectorPattern> patterns;
  Validator validate;      // null: every match counts
  ValueStart value_start;  // null: the whole match
};

// Every built-in detector, credentials first (the order breaks ties between overlapping
// matches that start at the same offset and have the same length).
std::span<const Detector> BuiltinDetectors();
const Detector* FindDetector(std::string_view name);

// Checks, exposed for tests.
bool LuhnValid(std::string_view digits_and_separators);
bool IbanValid(std::string_view iban_with_spaces);

// Moves a match's edges off JSON escape sequences, so replacing text[from, to) inside
// JSON text (a message list held in one attribute) leaves valid JSON: a start on the
// character after a backslash, or inside \uXXXX, moves past the escape; an end inside
// an escape moves to its end. Plain text with no backslashes is unchanged.
void AvoidSplittingEscapes(std::string_view text, size_t* from, size_t* to);

// Glob match of an attribute key: `*` any run of characters (dots included), `?` one
// character; ASCII case-insensitive.
bool GlobMatch(std::string_view pattern, std::string_view key);

}  // namespace sightline::pipeline::redaction
