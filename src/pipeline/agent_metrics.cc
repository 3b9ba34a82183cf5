#include "pipeline/agent_metrics.h"

#include <algorithm>
#include <cmath>

namespace sightline::pipeline {
namespace {

struct FamilyInfo {
  const char* name;
  const char* help;
  bool histogram;
  std::array<const char*, 3> labels;  // nullptr: unused slot
  std::array<LabelDim, 3> dims;
};

constexpr FamilyInfo kFamilies[kAgentFamilies] = {
    {"sightline_agent_runs_total", "Agent runs (agent spans) received, by project, agent and status.", false,
     {"project", "agent", "status"}, {LabelDim::kProject, LabelDim::kAgent, LabelDim::kNone}},
    {"sightline_tool_calls_total", "Tool calls (tool spans) received, by project, tool and status.", false,
     {"project", "tool", "status"}, {LabelDim::kProject, LabelDim::kTool, LabelDim::kNone}},
    {"sightline_model_tokens_total", "Tokens of model calls, by project, model and token type.", false,
     {"project", "model", "type"}, {LabelDim::kProject, LabelDim::kModel, LabelDim::kNone}},
    {"sightline_cost_usd_total", "Cost in US dollars of model calls (reported, else priced), by project, agent and model.",
     false, {"project", "agent", "model"}, {LabelDim::kProject, LabelDim::kAgent, LabelDim::kModel}},
    {"sightline_agent_duration_seconds", "Duration of agent runs (agent spans), by project and agent.", true,
     {"project", "agent", nullptr}, {LabelDim::kProject, LabelDim::kAgent, LabelDim::kNone}},
    {"sightline_tool_duration_seconds", "Duration of tool calls (tool spans), by project and tool.", true,
     {"project", "tool", nullptr}, {LabelDim::kProject, LabelDim::kTool, LabelDim::kNone}},
};

std::string_view OrUnknown(std::string_view v) { return v.empty() ? std::string_view("unknown") : v; }

void AppendKeyPart(std::string* key, std::string_view v) {
  // Length-prefixed, so no value can forge another tuple's key.
  uint32_t n = static_cast<uint32_t>(v.size());
  key->append(reinterpret_cast<const char*>(&n), sizeof n);
  key->append(v);
}

bool IsModelCall(model::SpanKind k) {
  return k == model::v1::KIND_LLM || k == model::v1::KIND_EMBEDDING || k == model::v1::KIND_RERANK;
}

}  // namespace

const std::vector<double>& AgentDurationBuckets() {
  static const std::vector<double> kBuckets = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600};
  return kBuckets;
}

AgentSeries& RequestAgentMetrics::Find(AgentFamily f, std::string_view a, std::string_view b, std::string_view c) {
  key_.clear();
  AppendKeyPart(&key_, a);
  AppendKeyPart(&key_, b);
  AppendKeyPart(&key_, c);
  auto& m = series_[static_cast<int>(f)];
  auto it = m.find(key_);
  if (it != m.end()) return it->second;
  AgentSeries s;
  s.labels = {std::string(a), std::string(b), std::string(c)};
  if (kFamilies[static_cast<int>(f)].histogram) s.buckets.assign(AgentDurationBuckets().size() + 1, 0);
  return m.emplace(key_, std::move(s)).first->second;
}

void RequestAgentMetrics::Count(AgentFamily f, std::string_view a, std::string_view b, std::string_view c, double v) {
  Find(f, a, b, c).value += v;
}

void RequestAgentMetrics::Observe(AgentFamily f, std::string_view a, std::string_view b, double seconds) {
  AgentSeries& s = Find(f, a, b, {});
  const auto& bounds = AgentDurationBuckets();
  size_t i = std::lower_bound(bounds.begin(), bounds.end(), seconds) - bounds.begin();  // first bound >= v
  ++s.buckets[i];
  s.sum += seconds;
  ++s.count;
}

void RequestAgentMetrics::Add(const model::Span& span) {
  const auto kind = span.kind();
  if (kind == model::v1::KIND_AGENT) {
    const std::string_view project = OrUnknown(span.project());
    const std::string_view agent = OrUnknown(span.agent_name());
    Count(AgentFamily::kRuns, project, agent, model::StatusName(span.status()), 1);
    Observe(AgentFamily::kAgentDuration, project, agent, static_cast<double>(model::DurationNs(span)) / 1e9);
  } else if (kind == model::v1::KIND_TOOL) {
    const std::string_view project = OrUnknown(span.project());
    const std::string_view tool = OrUnknown(span.tool_name());
    Count(AgentFamily::kToolCalls, project, tool, model::StatusName(span.status()), 1);
    Observe(AgentFamily::kToolDuration, project, tool, static_cast<double>(model::DurationNs(span)) / 1e9);
  } else if (IsModelCall(kind)) {
    const std::string_view project = OrUnknown(span.project());
    const std::string_view model_name = OrUnknown(span.model());
    auto tokens = [&](bool has, int64_t n, std::string_view type) {
      if (has && n > 0) Count(AgentFamily::kTokens, project, model_name, type, static_cast<double>(n));
    };
    tokens(span.has_input_tokens(), span.input_tokens(), "input");
    tokens(span.has_output_tokens(), span.output_tokens(), "output");
    tokens(span.has_cache_read_tokens(), span.cache_read_tokens(), "cache_read");
    tokens(span.has_cache_write_tokens(), span.cache_write_tokens(), "cache_write");
    tokens(span.has_reasoning_tokens(), span.reasoning_tokens(), "reasoning");
    if (span.has_cost_usd() && span.cost_usd() > 0)
      Count(AgentFamily::kCost, project, OrUnknown(span.agent_name()), model_name, span.cost_usd());
  }
}

bool RequestAgentMetrics::empty() const {
  return std::all_of(series_.begin(), series_.end(), [](const auto& m) { return m.empty(); });
}

AgentMetrics::AgentMetrics(AgentMetricsOptions options) : options_(std::move(options)) {
  for (int d = 0; d < kBoundedDims; ++d) allow_[d].insert(options_.allowlist[d].begin(), options_.allowlist[d].end());
}

const std::string& AgentMetrics::Admit(LabelDim dim, const std::string& value) {
  if (dim == LabelDim::kNone) return value;
  const int d = static_cast<int>(dim);
  if (!allow_[d].empty()) return allow_[d].count(value) ? value : other_;
  auto& seen = admitted_[d];
  if (seen.count(value)) return value;
  if (seen.size() >= options_.max_values_per_label) return other_;
  seen.insert(value);
  return value;
}

void AgentMetrics::Merge(const RequestAgentMetrics& request) {
  std::lock_guard<std::mutex> lock(mu_);
  for (int f = 0; f < kAgentFamilies; ++f) {
    const FamilyInfo& info = kFamilies[f];
    for (const auto& [key, local] : request.series_[f]) {
      std::array<std::string, 3> labels;
      for (int i = 0; i < 3; ++i) labels[i] = Admit(info.dims[i], local.labels[i]);
      auto it = series_[f].find(labels);
      if (it == series_[f].end()) {
        AgentSeries s;
        s.labels = labels;
        if (info.histogram) s.buckets.assign(AgentDurationBuckets().size() + 1, 0);
        it = series_[f].emplace(std::move(labels), std::move(s)).first;
      }
      AgentSeries& shared = it->second;
      shared.value += local.value;
      for (size_t i = 0; i < local.buckets.size() && i < shared.buckets.size(); ++i) shared.buckets[i] += local.buckets[i];
      shared.sum += local.sum;
      shared.count += local.count;
    }
  }
}

void AgentMetrics::AdjustCost(const std::string& project, const std::string& agent, const std::string& model,
                              double before, double after) {
  const double delta = after - before;
  if (delta == 0 || !std::isfinite(delta)) return;
  std::lock_guard<std::mutex> lock(mu_);
  std::array<std::string, 4> key = {Admit(LabelDim::kProject, std::string(OrUnknown(project))),
                                    Admit(LabelDim::kAgent, std::string(OrUnknown(agent))),
                                    Admit(LabelDim::kModel, std::string(OrUnknown(model))), delta > 0 ? "up" : "down"};
  repriced_[key] += std::abs(delta);
}

void AgentMetrics::Render(MetricsWriter& w) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (int f = 0; f < kAgentFamilies; ++f) {
    const FamilyInfo& info = kFamilies[f];
    w.Header(info.name, info.help, info.histogram ? "histogram" : "counter");
    for (const auto& [key, s] : series_[f]) {
      MetricLabels labels;
      for (int i = 0; i < 3; ++i)
        if (info.labels[i] != nullptr) labels.emplace_back(info.labels[i], s.labels[i]);
      if (info.histogram) {
        w.HistogramSamples(info.name, labels, AgentDurationBuckets(), s.buckets, s.sum, s.count);
      } else {
        w.Sample(info.name, labels, s.value);
      }
    }
  }
  constexpr const char* kRepriced = "sightline_cost_repriced_usd_total";
  w.Header(kRepriced,
           "Corrections by sightline reprice to the cost of stored model calls, by project, agent, model and "
           "direction (up adds to sightline_cost_usd_total, down takes away).",
           "counter");
  for (const auto& [key, value] : repriced_) {
    MetricLabels labels = {{"project", key[0]}, {"agent", key[1]}, {"model", key[2]}, {"direction", key[3]}};
    w.Sample(kRepriced, labels, value);
  }
}

void AgentMetrics::AttachTo(MetricsRegistry* registry) {
  registry->AddCollector([this](MetricsWriter& w) { Render(w); });
}

}  // namespace sightline::pipeline
