// Request-target parsing for the REST API: the path split into percent-decoded
// segments, the query string into decoded name/value pairs, and the SPEC search
// parameters validated into the store's backend-neutral queries. Every failure is
// InvalidArgument naming the parameter and what was expected.
//
// Cursors are opaque to clients: base64url of a small versioned encoding of
// store::Cursor (version byte 1, 8-byte big-endian time_ns, then the id bytes).
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "store/query_spec.h"

namespace sightline::api {

using QueryParams = std::vector<std::pair<std::string, std::string>>;

struct ParsedTarget {
  std::vector<std::string> segments;  // "/api/v1/traces/ab" -> {"api","v1","traces","ab"}
  QueryParams params;                 // in order; names and values decoded
};

// Decodes %XX escapes (and '+' as a space when plus_is_space). InvalidArgument on a
// malformed escape.
Result<std::string> PercentDecode(std::string_view text, bool plus_is_space);
// InvalidArgument "parameter NAME: WHAT".
Status BadParameter(std::string_view name, std::string_view what);
Result<ParsedTarget> ParseTarget(std::string_view target);

std::string EncodeCursor(const store::Cursor& cursor);
Result<store::Cursor> DecodeCursor(std::string_view text);

// GET /api/v1/traces parameters. Unknown parameters and repeated single-valued ones are
// errors; empty values count as absent.
Result<store::TraceQuery> ParseTraceQuery(const QueryParams& params);
// GET /api/v1/sessions parameters: from, to, project, user_id, status, limit, cursor.
Result<store::SessionQuery> ParseSessionQuery(const QueryParams& params);
// Detail endpoints accept only `project` (restricting the read); returns the projects.
Result<std::vector<std::string>> ParseProjectOnly(const QueryParams& params);

// GET /api/v1/traces/{trace_id} parameters: `project` as above and `view`, `full` (the
// default: every span field) or `light` (what a tree and waterfall need, no payloads).
struct TraceViewParams {
  std::vector<std::string> projects;
  bool light = false;
};
Result<TraceViewParams> ParseTraceViewParams(const QueryParams& params);

}  // namespace sightline::api
