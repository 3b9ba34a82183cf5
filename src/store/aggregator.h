// Aggregator: evaluates one AggregateQuery (query_spec.h) over rows handed to it, span
// batches as SpanColumns (whatever produced them: memtables, v1 segment blocks via
// DecodeColumns, columnar v2 blocks) or trace summaries, and keeps the per-group totals
// and sketches. Backend-neutral: the embedded store feeds it from its scans, and a
// rollup reader can feed it pre-aggregated rows the same way (MergeRow).
//
// Several aggregators may work on parts of one scan (one per thread) and be merged;
// the result does not depend on how rows were split or in which order they came.
// Invariants: at most query.max_groups groups (AddSpans/AddTrace/Merge fail with
// InvalidArgument beyond); the query outlives the aggregator.
// Thread-safety: a plain object; one thread at a time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/status.h"
#include "store/columnar/span_columns.h"
#include "store/query_spec.h"

namespace sightline::store {

// One trace as a trace-level row (strings valid during the call).
struct TraceRow {
  std::string_view project, service, agent_name, session_id, user_id, environment;
  model::SpanStatus status = model::v1::STATUS_UNSET;
  int64_t start_ns = 0, duration_ns = 0;
  int64_t span_count = 0, llm_calls = 0, tool_calls = 0, input_tokens = 0, output_tokens = 0;
  double cost_usd = 0;
};

class Aggregator {
 public:
  // InvalidArgument naming the offending part of the query.
  static Status Validate(const AggregateQuery& query);

  explicit Aggregator(const AggregateQuery& query);

  // The SpanColumns columns AddSpans reads for this query.
  uint64_t ColumnMask() const;
  // Span level: filters the batch's rows (every AggregateFilter field) and adds those
  // that match.
  Status AddSpans(const columnar::SpanColumns& batch);
  // Trace level: adds one trace the caller has already filtered.
  Status AddTrace(const TraceRow& trace);
  // Adds a pre-aggregated row whose key matches this query's group_by.
  Status MergeRow(const AggregateRow& row);
  Status Merge(Aggregator&& other);

  // Orders the groups, applies the limit, and hands them over. The aggregator is empty
  // afterwards.
  AggregateResult Finish();

  int64_t rows_scanned() const { return scanned_; }
  void AddScanned(int64_t n) { scanned_ += n; }

 private:
  // The group of key, created (and init called on it) when new; nullptr and *st set
  // past max_groups.
  template <typename Init>
  AggregateRow* Group(const std::string& key, Init&& init, Status* st);
  bool SpanMatches(const columnar::SpanColumns& c, size_t r) const;

  const AggregateQuery& q_;
  std::string text_lower_;
  std::unordered_map<std::string, AggregateRow> groups_;
  std::string key_;  // reused key buffer
  int64_t scanned_ = 0;
};

}  // namespace sightline::store
