// The retention plan of a data directory: per time partition and project, what the
// segments hold now and when retention will change it (`sightline retention`). Reads
// the manifest and segment tables only (no span data), without locking or changing
// anything, so it can run beside a live server. Spans still in the WAL (not yet
// flushed) are not counted.
//
// Thread-safety: a pure function over the directory's files.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/env.h"
#include "store/retention/retention_policy.h"

namespace sightline::store::retention {

struct ProjectPlan {
  std::string project;
  int64_t traces = 0, failed = 0, summaries_only = 0, spans = 0;
  RetentionPolicy policy;
  // When the successful traces lose spans / the summaries go / failed traces change
  // (empty: never); fates are those of Transitions().
  std::vector<Transition> ok_transitions, failed_transitions;
};

struct PartitionPlan {
  int64_t partition = 0;
  int64_t start_ns = 0, end_ns = 0;
  int64_t files = 0;
  uint64_t bytes = 0;
  std::vector<ProjectPlan> projects;  // by name
};

struct RetentionPlan {
  std::vector<PartitionPlan> partitions;  // oldest first
  std::vector<std::string> problems;      // files that could not be read (named)
};

Result<RetentionPlan> BuildRetentionPlan(Env* env, const std::string& data_dir, const RetentionOptions& options);

// "2024-05-01" (UTC) for whole days, else "2024-05-01T13:00Z".
std::string FormatTime(int64_t ns);

}  // namespace sightline::store::retention
