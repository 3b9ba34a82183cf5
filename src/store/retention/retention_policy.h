// Retention policy (docs/retention.md): how long traces keep their spans, how long
// their summaries outlive the spans, and when they go, per project with a default.
//
// Ages are measured per time partition, from the END of the partition (the youngest
// trace it can hold), so every trace of a partition changes phase at the same moment
// and a partition is dropped whole. For one trace of age A (partition age):
//   - spans kept while A < full_days (successful / unset traces), or
//     A < max(full_days, failed_days) for failed and interrupted traces;
//   - then its summary (no spans, no payloads) while A < summary_days;
//   - then gone. Rollups (cost and count per day) are a later issue: the store calls
//     RetentionOptions::on_expire with each trace's summary as it goes, the hook they
//     will use.
// A value of kForever (-1) never expires. summary_days, when finite, must be >= the
// full-detail days it follows.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "model/summary.h"

namespace sightline::store::retention {

inline constexpr int64_t kForever = -1;
inline constexpr int64_t kDayNs = int64_t{86400} * 1000000000;

struct RetentionPolicy {
  int64_t full_days = kForever;     // spans of successful traces
  int64_t failed_days = kForever;   // spans of failed / interrupted traces (>= full_days in effect)
  int64_t summary_days = kForever;  // summaries, counted from the trace's partition end
  bool operator==(const RetentionPolicy&) const = default;
};

enum class Fate : uint8_t { kFull = 0, kSummary = 1, kGone = 2 };
const char* FateName(Fate f);

struct RetentionOptions {
  RetentionPolicy default_policy;
  std::map<std::string, RetentionPolicy> projects;  // overrides by project name
  int64_t partition_width_ns = kDayNs;              // UTC days by default
  // Called with the summary of every trace retention removes entirely (the rollup
  // hook). May be empty. Called from the compaction thread, no store lock held.
  std::function<void(const model::TraceSummary&)> on_expire;

  // InvalidArgument naming the project and field.
  Status Validate() const;
  const RetentionPolicy& For(std::string_view project) const;
  // True when some policy can ever change a trace (otherwise retention never runs).
  bool Enabled() const;
  // The smallest partition age at which any policy changes anything (ns).
  int64_t FirstThresholdNs() const;
};

// Partition index of a time (floor division, so times before 1970 work too).
int64_t PartitionOf(int64_t t_ns, int64_t width_ns);
inline int64_t PartitionEndNs(int64_t partition, int64_t width_ns) { return (partition + 1) * width_ns; }

// The fate of a trace (failed: error or interrupt) in a partition ending at end_ns.
Fate Decide(const RetentionPolicy& p, bool failed, int64_t partition_end_ns, int64_t now_ns);

// When a trace's fate changes: (time, new fate) in time order; empty when never.
struct Transition {
  int64_t at_ns;
  Fate fate;
};
std::vector<Transition> Transitions(const RetentionPolicy& p, bool failed, int64_t partition_end_ns);

}  // namespace sightline::store::retention
