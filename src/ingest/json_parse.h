// Bounded JSON parsing for untrusted bodies: RapidJSON's iterative parser (its stack
// lives on the heap, so hostile nesting cannot overflow the thread's stack) with a
// nesting limit, full-precision doubles, and repair of lone UTF-16 surrogate escapes.
// Thread-safety: pure functions.
#pragma once

#include <rapidjson/document.h>

#include <string>
#include <string_view>

#include "common/status.h"

namespace sightline::ingest {

// Parses text into *doc. InvalidArgument "JSON nested deeper than N at byte B" past
// max_depth objects/arrays, or "JSON: <RapidJSON's reason> at byte B" for text that is
// not JSON. A lone surrogate escape such as "\ud83d" (JSON.stringify writes one for an
// emoji cut in half) becomes U+FFFD instead of failing the whole body. NaN and
// Infinity literals are accepted (Python's json module writes them).
Status ParseJsonBounded(std::string_view text, int max_depth, rapidjson::Document* doc);

// Rewrites every lone surrogate escape in text to "\ufffd" (same length).
std::string ReplaceLoneSurrogates(std::string_view text);

}  // namespace sightline::ingest
