// SpanColumns: a batch of spans as columns, the one shape every scan in Sightline's
// store produces and every scan consumer (search filters, aggregations, the metrics
// API, compaction statistics) reads, whichever source the rows came from: a columnar
// segment block (columnar_reader.h reads only the columns asked for), or serialized
// spans of a memtable or a v1 segment (DecodeColumns below).
//
// Invariants: every requested column vector has exactly `rows` entries (attributes:
// attr_offsets has rows + 1); columns not requested are left empty. string_views point
// into memory owned by the producer and stay valid only until the producer's callback
// returns (or, for DecodeColumns, while `storage` lives).
// Thread-safety: a plain value; one thread fills and reads it.
#pragma once

#include <cmath>
#include <cstdint>
#include <deque>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/trace_agg.h"

namespace sightline::store::columnar {

// Column selection bits (a scan asks for a mask of these).
enum Column : uint64_t {
  kTraceId = 1ull << 0,
  kSpanId = 1ull << 1,
  kParentSpanId = 1ull << 2,
  kProject = 1ull << 3,
  kName = 1ull << 4,
  kKind = 1ull << 5,
  kStart = 1ull << 6,
  kEnd = 1ull << 7,
  kStatus = 1ull << 8,
  kService = 1ull << 9,
  kEnvironment = 1ull << 10,
  kSessionId = 1ull << 11,
  kUserId = 1ull << 12,
  kAgentName = 1ull << 13,
  kModel = 1ull << 14,
  kToolName = 1ull << 15,
  kTokens = 1ull << 16,  // input, output, cache read, cache write, reasoning
  kCost = 1ull << 17,
  kFinishReason = 1ull << 18,
  kErrorType = 1ull << 19,
  kStep = 1ull << 20,
  kAttributes = 1ull << 21,  // span attributes, values as text (AnyValueText)
  kInput = 1ull << 22,       // input_json (payload: materialise only when needed)
  kOutput = 1ull << 23,      // output_json
  kAll = (1ull << 24) - 1,
};

// Null marker of the optional integer columns (tokens, step).
inline constexpr int64_t kNullInt = std::numeric_limits<int64_t>::min();
inline bool IsNull(double v) { return std::isnan(v); }  // cost_usd null is NaN

struct SpanColumns {
  size_t rows = 0;
  uint64_t mask = 0;  // the columns filled

  std::vector<TraceKey> trace_id;
  std::vector<uint64_t> span_id;         // 8 raw bytes as memcpy'd into a uint64
  std::vector<uint64_t> parent_span_id;  // 0: a root
  std::vector<int64_t> start_ns, end_ns;
  std::vector<uint8_t> kind, status;  // model::v1::SpanKind / SpanStatus values
  std::vector<std::string_view> project, name, service, environment, session_id, user_id, agent_name, model,
      tool_name, finish_reason, error_type;
  std::vector<int64_t> input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens;
  std::vector<int64_t> step;
  std::vector<double> cost_usd;
  // Attributes of row r are attr_keys/attr_values[attr_offsets[r] .. attr_offsets[r+1]).
  std::vector<uint32_t> attr_offsets;
  std::vector<std::string_view> attr_keys, attr_values;
  std::vector<std::string_view> input_json, output_json;

  void Clear();  // rows = 0, every vector emptied (capacity kept)
  // Keeps only the rows r with keep[r] != 0 (keep has `rows` entries), in order.
  void KeepRows(const std::vector<uint8_t>& keep);
};

// Fills `out` (cleared first) with the requested columns of serialized Span messages
// (memtables, v1 segments, tests). Strings that are not views of `spans` themselves
// (attribute values rendered as text) are kept in `storage`. Corruption naming the
// row when a span does not parse.
Status DecodeColumns(const std::vector<std::string_view>& spans, uint64_t mask, SpanColumns* out,
                     std::deque<std::string>* storage);

}  // namespace sightline::store::columnar
