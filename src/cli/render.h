// Renderers for the CLI's human output. Pure functions from the API's JSON answers
// to text, so they are tested from fixtures without a server (render_test.cc).
// Colour codes are added only when options.color is set; widths ignore them.
#pragma once

#include <cstdint>
#include <string>

#include "cli/json_util.h"

namespace sightline::cli {

struct RenderOptions {
  bool color = false;
  int width = 0;         // terminal columns; 0: no limit (not a terminal)
  int max_depth = -1;    // trace tree: deepest level shown (0 = roots only); -1: all
  bool payloads = false; // trace tree: show input/output text under each span
  int payload_chars = 160;
  bool utc = false;      // times in UTC instead of the local zone
};

// GET /api/v1/traces/{id} answer ({trace: summary, spans:[...]}) as a header line and
// an indented tree, one line per span. Spans whose parent is not in the trace are
// shown at the top level with a "parent missing" marker.
std::string RenderTraceTree(const JsonValue& trace_answer, const RenderOptions& options);
// The one-line header of a trace summary (root, session, user, duration, spans,
// errors, tokens, cost, status).
std::string RenderTraceHeader(const JsonValue& summary, const RenderOptions& options);

// GET /api/v1/traces answer's summaries (the "traces" array) as an aligned table,
// fitted to options.width when set. An empty array renders as "no traces found".
std::string RenderTracesTable(const JsonValue& traces, const RenderOptions& options);

// GET /api/v1/sessions/{id} answer ({session, traces}) as a header, the turns in
// order, and a totals line.
std::string RenderSession(const JsonValue& session_answer, const RenderOptions& options);

// One line for `sightline tail`.
std::string RenderTailLine(const JsonValue& summary, const RenderOptions& options);

// Short text of a canonical input/output value: a string as is, messages as
// "role: text | role: tool_call name(args)", anything else as compact JSON.
std::string PayloadText(const JsonValue& payload);

// "2026-03-23 17:42:11" in the local zone (UTC when utc).
std::string FormatClock(int64_t unix_ns, bool utc, bool with_date);

}  // namespace sightline::cli
