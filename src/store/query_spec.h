// Backend-neutral query descriptions: filters, ordering and limits that every span
// store (the embedded one now, ClickHouse later) evaluates its own way. No SQL here.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/ddsketch.h"
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
  std::optional<Cursor> after;  // order: last_end_ns descending, then session_id, then project ascending
};

struct SessionPage {
  std::vector<model::SessionSummary> sessions;
  std::optional<Cursor> next;
};

struct SessionDetail {
  model::SessionSummary session;
  std::vector<model::TraceSummary> traces;  // by start_ns ascending
};

// ---- Aggregates (metrics API, dashboards, the bench's Q3-Q5). Backend-neutral: the
// embedded store answers by scanning trace aggregates or spans; rollups and other
// backends answer the same description their own way.

// What one row of input is: a span (per tool call, per model call...) or a trace (per
// agent run, from the store's trace aggregates).
enum class AggLevel : uint8_t { kSpan, kTrace };

// Group-by dimensions. At span level each is the span's own field; at trace level the
// trace summary's (agent: the trace's agent_name; status: the trace's status). kTool,
// kModel, kKind and kName exist only at span level (a trace has many).
enum class AggDim : uint8_t {
  kTool,
  kAgent,
  kModel,
  kService,
  kUser,
  kSession,
  kProject,
  kStatus,
  kKind,
  kEnvironment,
  kName,
  kTime,  // start_ns bucketed by AggregateQuery::bucket_ns (aligned to the Unix epoch)
};

// Distributions to sketch per group (bit mask).
enum AggSketch : uint32_t {
  kSketchDuration = 1,  // duration_ns of the span / trace
  kSketchCost = 2,      // cost_usd of spans with a known cost / of every trace
  kSketchSteps = 4,     // trace level: steps of a run (its span count)
};

// Row order of the result (descending for the metrics, ties by key ascending).
enum class AggOrder : uint8_t { kKey, kCount, kErrors, kCost, kTokens, kDurationP95 };

// Which rows enter. Every set filter must match. At span level each filter tests the
// span itself; at trace level the trace aggregate, as TraceQuery does (agent, kind,
// name, model, tool: some span of the trace matches; attrs and text too). Time: the
// span's / trace's start_ns lies in [from_ns, to_ns].
struct AggregateFilter {
  std::optional<int64_t> from_ns;
  std::optional<int64_t> to_ns;
  std::vector<std::string> projects;  // empty: all
  std::string service, agent, session_id, user_id, name, model, tool, environment;
  std::optional<model::SpanStatus> status;
  std::optional<model::SpanKind> kind;
  std::optional<int64_t> min_duration_ns, max_duration_ns;
  std::optional<double> min_cost_usd;
  std::vector<std::pair<std::string, std::string>> attrs;  // span attributes, value as text
  std::string text;  // case-insensitive substring of input or output
};

// Interrupt and resume (GET /api/v1/metrics/overview, docs/api.md): a run is
// interrupted when its status is interrupt (e.g. waiting for a human's approval); it is
// resumed when a later run of the same session (same project and session_id) started
// after it did, i.e. the conversation went on. A run without a session id cannot be
// seen resuming. Counted over the runs the filter keeps (trace level, as the overview's
// runs, with exact times); attr.* and text filters are refused (the overview then says
// null).
struct ResumeCounts {
  int64_t interrupted = 0;
  int64_t resumed = 0;
};

struct AggregateQuery {
  AggLevel level = AggLevel::kSpan;
  AggregateFilter filter;
  std::vector<AggDim> group_by;  // empty: one row of totals (present even when nothing matched)
  int64_t bucket_ns = 0;         // > 0 when group_by has kTime
  uint32_t sketches = 0;         // AggSketch bits
  AggOrder order = AggOrder::kKey;
  size_t limit = 0;              // rows kept after ordering; 0: all
  // More groups than this is InvalidArgument (bounded memory): narrow the filter, or
  // widen the time bucket.
  size_t max_groups = 100000;
  // Span level: may the store answer from rollups (docs/architecture.md "Rollups")?
  // Rollups widen the range to whole buckets (a minute, or an hour or a day for older
  // data); false forces a scan, exact to the nanosecond.
  bool allow_rollups = true;
};

// One group's totals. At trace level a row counts runs: count = traces, errors /
// interrupts = traces with that status, spans = their span counts summed.
struct AggregateRow {
  std::vector<std::string> key;  // one per group_by entry: the value (status and kind as
                                 // names, kTime as the bucket start in decimal ns)
  int64_t bucket_start_ns = 0;   // when grouped by kTime
  int64_t count = 0, errors = 0, interrupts = 0;
  int64_t spans = 0, llm_calls = 0, tool_calls = 0;
  int64_t truncated = 0;  // spans with finish_reason "length" (span level)
  int64_t input_tokens = 0, output_tokens = 0, cache_read_tokens = 0, cache_write_tokens = 0, reasoning_tokens = 0;
  double cost_usd = 0;
  int64_t cost_known = 0;  // rows whose cost is known (span level: cost_usd set)
  DDSketch duration_ns, cost, steps;  // per AggregateQuery::sketches; empty otherwise
};

struct AggregateResult {
  std::vector<AggregateRow> rows;
  int64_t groups = 0;         // groups before `limit`
  int64_t rows_scanned = 0;   // spans or traces examined (for benchmarks and logs)
  int64_t blocks_skipped = 0; // stored blocks left out because they failed to read (logged)
  int64_t rollup_rows = 0;    // rollup rows read: > 0 or from_rollups when answered from them
  // When ordered by a metric (order != kKey): the median of that metric over all
  // `groups` (the lower one, at rank (groups - 1) / 2), limit or not. NaN otherwise.
  double group_median = std::numeric_limits<double>::quiet_NaN();
  bool from_rollups = false;
};

}  // namespace sightline::store
