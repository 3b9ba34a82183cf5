// Sanitising what Sightline keeps: every string valid UTF-8 (invalid sequences become
// U+FFFD, never an error) and every string attribute value at most max bytes (longer
// ones cut on a UTF-8 boundary with "…[truncated: N bytes]" appended).
//
// Thread-safety: pure functions over the values they are given.
#pragma once

#include <cstdint>
#include <string>

#include "ingest/normalize/attr_index.h"

namespace sightline::ingest::norm {

// Repairs *s and cuts it at max; counts a cut in *truncated.
void SanitizeString(std::string* s, size_t max, int64_t* truncated);
// Repairs keys and string values (inside arrays and kvlists too) and cuts the values.
void SanitizeValue(AnyValue* v, size_t max, int64_t* truncated, int depth = 0);
void SanitizeKeyValues(KeyValues* kvs, size_t max, int64_t* truncated);

}  // namespace sightline::ingest::norm
