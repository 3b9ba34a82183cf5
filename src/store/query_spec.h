// Backend-neutral query descriptions: filters, ordering and limits that every span
// store (the embedded one now, ClickHouse later) evaluates its own way. No SQL here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "model/span.h"
#include "model/summary.h"

namespace sightline::store {

// Position after the last item of a page, in the page's order.
struct Cursor {
  int64_t time_ns = 0;  // the ordering time of the last item returned
  std::string id;       // its id (trace_id raw bytes, or session_id) as the tie-breaker
};

// SPEC search parameters, parsed and validated. A trace matches when every set filter
// matches. Trace-level filters (project, service, session_id, user_id, status,
// durations, cost, time) test the trace summary; span-level filters (agent, kind,
// name, model, tool, attrs, text) match when some span of the trace matches that
// filter (each filter may be met by a different span).
struct TraceQuery {
  std::optional<int64_t> from_ns;  // trace overlaps [from, to]: end >= from and start <= to
  std::optional<int64_t> to_ns;
  std::vector<std::string> projects;  // empty: all
  std::string service;
  std::string agent;
  std::string session_id;
  std::string user_id;
  std::optional<model::SpanStatus> status;
  std::optional<model::SpanKind> kind;
  std::string name;
  std::string model;
  std::string tool;
  std::optional<int64_t> min_duration_ns;
  std::optional<int64_t> max_duration_ns;
  std::optional<double> min_cost_usd;
  std::vector<std::pair<std::string, std::string>> attrs;  // attr.KEY=VALUE, value compared as text
  std::string text;  // q: case-insensitive substring of a span's input or output
  int limit = 50;
  std::optional<Cursor> after;  // order: start_ns descending, then trace_id ascending
};

struct TracePage {
  std::vector<model::TraceSummary> traces;
  std::optional<Cursor> next;  // set when more may follow
};

struct TraceDetail {
  model::TraceSummary summary;
  std::vector<model::Span> spans;  // unordered; query/tree.h orders them
};

struct SessionQuery {
  std::optional<int64_t> from_ns;
  std::optional<int64_t> to_ns;
  std::vector<std::string> projects;
  std::string user_id;
  std::optional<model::SpanStatus> status;
  int limit = 50;
  std::optional<Cursor> after;  // order: last_end_ns descending, then session_id ascending
};

struct SessionPage {
  std::vector<model::SessionSummary> sessions;
  std::optional<Cursor> next;
};

struct SessionDetail {
  model::SessionSummary session;
  std::vector<model::TraceSummary> traces;  // by start_ns ascending
};

}  // namespace sightline::store
