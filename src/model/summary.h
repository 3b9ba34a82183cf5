// Trace and session summaries: what search returns (SPEC "A trace summary has",
// "A session summary has"). Computed by the store from the spans it holds; a summary
// is updated as spans of the trace arrive, in any order.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/span.h"

namespace sightline::model {

struct TraceSummary {
  std::string trace_id;  // 16 raw bytes
  std::string project;
  std::string root_name;  // the root span's name; the earliest span's until the root arrives
  std::string service;
  std::string agent_name;
  std::string session_id;
  std::string user_id;
  std::string environment;
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  int64_t duration_ns = 0;
  SpanStatus status = v1::STATUS_UNSET;
  int64_t span_count = 0;
  int64_t error_count = 0;
  int64_t interrupt_count = 0;
  int64_t llm_calls = 0;
  int64_t tool_calls = 0;
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  double cost_usd = 0;
  std::vector<std::string> models;  // distinct, in first-seen order
  bool has_root = false;
};

struct SessionSummary {
  std::string session_id;
  std::string project;
  std::string user_id;
  int64_t first_start_ns = 0;
  int64_t last_end_ns = 0;
  int64_t trace_count = 0;
  int64_t span_count = 0;
  SpanStatus status = v1::STATUS_UNSET;  // the latest trace's status
  int64_t error_traces = 0;
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  double cost_usd = 0;
};

}  // namespace sightline::model
