#include "store/retention/retention_plan.h"

#include <algorithm>
#include <ctime>
#include <map>

#include "store/manifest/manifest.h"
#include "store/segment/segment_format.h"
#include "store/segment/segment_reader.h"
#include "store/segment_io.h"
#include "store/string_pool.h"
#include "store/trace_agg.h"

namespace sightline::store::retention {

std::string FormatTime(int64_t ns) {
  std::time_t secs = static_cast<std::time_t>(ns / 1000000000);
  if (ns < 0 && ns % 1000000000 != 0) --secs;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  if (tm.tm_hour == 0 && tm.tm_min == 0 && tm.tm_sec == 0) {
    std::strftime(buf, sizeof(buf), "%Y-%m-%d", &tm);
  } else {
    std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%MZ", &tm);
  }
  return buf;
}

Result<RetentionPlan> BuildRetentionPlan(Env* env, const std::string& data_dir, const RetentionOptions& options) {
  SL_RETURN_IF_ERROR(options.Validate());
  const std::string seg_dir = JoinPath(data_dir, "segments");
  std::vector<std::pair<uint64_t, int64_t>> files;  // number, partition (-1: from the file)
  bool have_partition = false;
  auto state = manifest::Manifest::Read(env, data_dir);
  if (state.ok()) {
    have_partition = true;
    for (const auto& [n, f] : state->files) files.push_back({n, f.partition});
  } else if (state.status().code() == StatusCode::kNotFound) {
    if (!env->FileExists(data_dir)) return Status::NotFound(data_dir + ": no such data directory");
    auto names = env->GetChildren(seg_dir);
    if (names.ok()) {
      for (const auto& n : *names) {
        uint64_t num;
        if (segment::ParseSegmentFileName(n, &num)) files.push_back({num, 0});
      }
    }
  } else {
    return state.status();
  }

  RetentionPlan plan;
  std::map<int64_t, PartitionPlan> parts;
  std::map<int64_t, std::map<std::string, ProjectPlan>> projects;
  StringPool pool;
  for (const auto& [number, meta_partition] : files) {
    std::string path = JoinPath(seg_dir, segment::SegmentFileName(number));
    std::vector<std::pair<TraceAgg, bool>> traces;  // aggregate, has spans
    auto reader = OpenSegmentFile(env, path, 0, [&](const SegmentTraceEntry& e) -> Status {
      TraceAgg agg;
      if (!TraceAgg::Decode(e.agg, &pool, &agg)) return Status::Corruption(path + ": malformed trace aggregate");
      traces.push_back({agg, e.loc.length > 0});
      return Status::OK();
    });
    if (!reader.ok()) {
      plan.problems.push_back(reader.status().ToString());
      continue;
    }
    int64_t partition = have_partition ? meta_partition
                                       : PartitionOf((*reader)->min_start_ns(), options.partition_width_ns);
    PartitionPlan& pp = parts[partition];
    pp.partition = partition;
    pp.start_ns = partition * options.partition_width_ns;
    pp.end_ns = PartitionEndNs(partition, options.partition_width_ns);
    ++pp.files;
    pp.bytes += (*reader)->file_bytes();
    for (const auto& [agg, has_spans] : traces) {
      std::string project(pool.Get(agg.project));
      ProjectPlan& p = projects[partition][project];
      p.project = project;
      ++p.traces;
      model::SpanStatus st = agg.Status();
      if (st == model::v1::STATUS_ERROR || st == model::v1::STATUS_INTERRUPT) ++p.failed;
      if (!has_spans) ++p.summaries_only;
      p.spans += agg.span_count;
    }
  }
  for (auto& [partition, pp] : parts) {
    for (auto& [name, p] : projects[partition]) {
      p.policy = options.For(name);
      p.ok_transitions = Transitions(p.policy, false, pp.end_ns);
      p.failed_transitions = Transitions(p.policy, true, pp.end_ns);
      pp.projects.push_back(std::move(p));
    }
    plan.partitions.push_back(std::move(pp));
  }
  return plan;
}

}  // namespace sightline::store::retention
