// AgentMetrics: the agents' own metrics for GET /metrics, counted from canonical spans
// after normalisation and pricing (docs/api.md, "/metrics"):
//
//   sightline_agent_runs_total{project,agent,status}          agent spans (kind agent)
//   sightline_tool_calls_total{project,tool,status}           tool spans (kind tool)
//   sightline_model_tokens_total{project,model,type}          model-call spans (llm,
//       embedding, rerank); type is input|output|cache_read|cache_write|reasoning
//   sightline_cost_usd_total{project,agent,model}             cost_usd of model-call spans
//   sightline_agent_duration_seconds{project,agent}           histogram of agent spans
//   sightline_tool_duration_seconds{project,tool}             histogram of tool spans
//   sightline_cost_repriced_usd_total{project,agent,model,direction}
//       corrections a reprice made to the cost of stored model calls since the process
//       started: direction "up" adds, "down" takes away (both only grow, so each is a
//       counter); the spend as now priced is cost_usd_total + up - down (docs/pricing.md)
//
// A "run" is an agent span: every agent invocation, nested sub-agents included, counts
// once. Counters live for the process (they restart at zero, which Prometheus' rate()
// and increase() handle as a counter reset).
//
// Hot path: a request's spans are folded into a RequestAgentMetrics (a small map keyed
// by label tuple, owned by the request's thread, no locks), which Merge adds to the
// shared series under one mutex per request, never one per span.
//
// Bounded cardinality: each of the labels project, agent, tool and model takes at most
// max_values_per_label distinct values (first come, first kept); later values become
// "other". When an allowlist is given for a label, exactly its values are kept and all
// others become "other". Empty values are "unknown". status and type are closed sets.
//
// Thread-safety: RequestAgentMetrics is single-threaded. AgentMetrics is safe to use
// concurrently; mu_ guards the admitted label values and every series.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/metrics.h"
#include "model/span.h"

namespace sightline::pipeline {

// The bounded label dimensions.
enum class LabelDim { kProject = 0, kAgent, kTool, kModel, kNone };
inline constexpr int kBoundedDims = 4;

// The six families, in render order.
enum class AgentFamily { kRuns = 0, kToolCalls, kTokens, kCost, kAgentDuration, kToolDuration };
inline constexpr int kAgentFamilies = 6;

// Fixed duration buckets in seconds (0.05 s .. 600 s); +Inf is implicit.
const std::vector<double>& AgentDurationBuckets();

// One series' tally: a counter's value, or a histogram's buckets, sum and count.
struct AgentSeries {
  std::array<std::string, 3> labels;  // label values in the family's label order
  double value = 0;
  std::vector<uint64_t> buckets;  // histograms only: AgentDurationBuckets().size() + 1
  double sum = 0;
  uint64_t count = 0;
};

// One request's spans, folded. Cheap to fill: one hash lookup per counted value, with a
// reused key buffer (no allocation for a tuple already seen in the request).
class RequestAgentMetrics {
 public:
  void Add(const model::Span& span);
  void AddAll(const std::vector<model::Span>& spans) {
    for (const auto& s : spans) Add(s);
  }
  void AddAll(const model::SpanList& spans) {
    for (const auto& s : spans) Add(s);
  }
  bool empty() const;

 private:
  friend class AgentMetrics;
  void Count(AgentFamily f, std::string_view a, std::string_view b, std::string_view c, double v);
  void Observe(AgentFamily f, std::string_view a, std::string_view b, double seconds);
  AgentSeries& Find(AgentFamily f, std::string_view a, std::string_view b, std::string_view c);

  std::array<std::unordered_map<std::string, AgentSeries>, kAgentFamilies> series_;
  std::string key_;  // reused key buffer
};

struct AgentMetricsOptions {
  size_t max_values_per_label = 100;  // --metrics-label-limit
  // Per bounded label (project, agent, tool, model): when non-empty, the only values kept.
  std::array<std::vector<std::string>, kBoundedDims> allowlist;
};

class AgentMetrics {
 public:
  explicit AgentMetrics(AgentMetricsOptions options = {});
  AgentMetrics(const AgentMetrics&) = delete;
  AgentMetrics& operator=(const AgentMetrics&) = delete;

  // Adds a request's tallies to the process-lifetime series (one lock).
  void Merge(const RequestAgentMetrics& request);

  // A reprice changed a stored model call's cost_usd from before to after (0: none):
  // adds |after - before| to sightline_cost_repriced_usd_total's "up" or "down" series.
  void AdjustCost(const std::string& project, const std::string& agent, const std::string& model, double before,
                  double after);

  // Writes the seven families (HELP, TYPE, samples) in the text format.
  void Render(MetricsWriter& w) const;

  // Registers Render as a collector of registry, so GET /metrics shows the families.
  // This object must outlive the registry's renders.
  void AttachTo(MetricsRegistry* registry);

 private:
  // The value kept for a label: itself, or "other" past the limit or off the allowlist.
  const std::string& Admit(LabelDim dim, const std::string& value);  // requires mu_

  AgentMetricsOptions options_;
  std::array<std::unordered_set<std::string>, kBoundedDims> allow_;  // immutable after construction
  const std::string other_ = "other";

  mutable std::mutex mu_;
  std::array<std::unordered_set<std::string>, kBoundedDims> admitted_;  // guarded by mu_
  // Ordered, so the exposition is stable.
  std::array<std::map<std::array<std::string, 3>, AgentSeries>, kAgentFamilies> series_;  // guarded by mu_
  // sightline_cost_repriced_usd_total by (project, agent, model, direction); guarded by mu_.
  std::map<std::array<std::string, 4>, double> repriced_;
};

}  // namespace sightline::pipeline
