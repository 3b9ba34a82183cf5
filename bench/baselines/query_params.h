// The storage benchmark's query set (Q1-Q7) and its parameters, picked deterministically
// from the generated workload so that Sightline and both baselines answer the same
// questions about the same data:
//
//   Q1 one trace by id            trace_id: the trace whose root is the first root span
//                                 emitted at or after the workload's midpoint
//   Q2 the traces of one session  session_id: that trace's session
//   Q3 p50/p95 duration per tool over [window_start_ns, window_end_ns] (the whole load)
//   Q4 total cost per user over the window
//   Q5 error rate per tool per hour over the window
//   Q6 traces where attribute attr_key = attr_value: the error.type of the first failing
//                                 span at or after the midpoint
//   Q7 traces whose output contains phrase: three words of the picked trace's final
//                                 answer (payload variant); the lean variant has no
//                                 outputs, so a fixed phrase that matches nothing
//
// ParamPicker sees the workload batch by batch (the same stream the loaders send) and
// keeps only per-session counters and the open traces, so it handles 10M+ spans.
// Thread-safety: one thread at a time.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "workload.h"

namespace sightline::bench {

enum class QueryId { kQ1 = 1, kQ2, kQ3, kQ4, kQ5, kQ6, kQ7 };
constexpr int kQueryCount = 7;
const char* QueryTitle(QueryId q);

struct QueryParams {
  std::string trace_id;  // lowercase hex
  std::string session_id;
  std::string user_id;
  std::string attr_key = "error.type";
  std::string attr_value;
  std::string phrase;
  int64_t window_start_ns = 0;
  int64_t window_end_ns = 0;
  // What the workload says the answers hold, for cross-checking the systems.
  int64_t trace_spans = 0;      // spans of trace_id
  int64_t session_traces = 0;   // distinct traces of session_id
  int64_t total_spans = 0;
};

// "key=value" lines; values never contain newlines.
std::string FormatParams(const QueryParams& p);
// False, with *error naming the line, on a malformed file or a missing key.
bool ParseParams(const std::string& text, QueryParams* out, std::string* error);

class ParamPicker {
 public:
  explicit ParamPicker(int64_t total_spans) : midpoint_(total_spans / 2) {}
  void Observe(const ExportRequest& batch);
  // False when the workload was too small to hold a complete trace after its midpoint.
  bool Finish(QueryParams* out, std::string* error);

 private:
  struct SessionTrack {
    std::string last_trace;
    int64_t traces = 0;
  };
  int64_t midpoint_;
  int64_t seen_ = 0;
  int64_t min_start_ = INT64_MAX, max_end_ = 0;
  std::unordered_map<std::string, int64_t> open_traces_;  // trace id bytes -> spans so far
  std::unordered_map<std::string, SessionTrack> sessions_;
  QueryParams picked_;
  bool have_trace_ = false;
};

// Prices per million tokens used by the baselines to cost a model call (the list prices
// of the workload's four models in data/pricing.toml): input, output, and the price of a
// cache-read token relative to an input one (negative where the input count already
// includes the cached tokens).
struct ModelPrice {
  const char* model;
  double input, output, cache_read_delta;
};
const std::vector<ModelPrice>& BaselinePrices();
// The cost of one call in USD under BaselinePrices(); 0 for an unknown model.
double BaselineCost(const std::string& model, int64_t input_tokens, int64_t output_tokens, int64_t cache_read);

}  // namespace sightline::bench
