#include "common/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

namespace sightline {
namespace {

std::string RenderLabels(const MetricLabels& labels, std::string_view extra_key = {},
                         std::string_view extra_value = {}) {
  if (labels.empty() && extra_key.empty()) return {};
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ',';
    first = false;
    out += k;
    out += "=\"";
    out += EscapeLabelValue(v);
    out += '"';
  }
  if (!extra_key.empty()) {
    if (!first) out += ',';
    out += extra_key;
    out += "=\"";
    out += extra_value;
    out += '"';
  }
  out += '}';
  return out;
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void Histogram::Observe(double v) {
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::BucketCounts() const {
  std::vector<uint64_t> out(bounds_.size() + 1);
  for (size_t i = 0; i < out.size(); ++i) out[i] = buckets_[i].load(std::memory_order_relaxed);
  return out;
}

std::vector<double> DefaultLatencyBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

std::string FormatMetricValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    // Shortest of %.15g / %.17g that reads back exactly ("0.1", not "0.10000000000000001").
    std::snprintf(buf, sizeof buf, "%.15g", v);
    if (std::strtod(buf, nullptr) != v) std::snprintf(buf, sizeof buf, "%.17g", v);
  }
  return buf;
}

std::string EscapeLabelValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

void MetricsWriter::Header(std::string_view name, std::string_view help, std::string_view type) {
  out_->append("# HELP ").append(name).append(" ");
  // HELP text escapes backslash and newline only.
  for (char c : help) {
    if (c == '\\') out_->append("\\\\");
    else if (c == '\n') out_->append("\\n");
    else out_->push_back(c);
  }
  out_->append("\n# TYPE ").append(name).append(" ").append(type).append("\n");
}

void MetricsWriter::Sample(std::string_view name, const MetricLabels& labels, double value) {
  out_->append(name).append(RenderLabels(labels)).append(" ").append(FormatMetricValue(value)).append("\n");
}

void MetricsWriter::HistogramSamples(std::string_view name, const MetricLabels& labels,
                                     const std::vector<double>& bounds, const std::vector<uint64_t>& counts,
                                     double sum, uint64_t count) {
  std::string bucket = std::string(name) + "_bucket";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds.size(); ++i) {
    cumulative += i < counts.size() ? counts[i] : 0;
    out_->append(bucket)
        .append(RenderLabels(labels, "le", FormatMetricValue(bounds[i])))
        .append(" ")
        .append(FormatMetricValue(static_cast<double>(cumulative)))
        .append("\n");
  }
  // The +Inf bucket always equals the count, whatever the per-bucket tallies say:
  // updates are not atomic together, and Prometheus requires this equality.
  out_->append(bucket).append(RenderLabels(labels, "le", "+Inf")).append(" ");
  out_->append(FormatMetricValue(static_cast<double>(std::max(count, cumulative)))).append("\n");
  out_->append(name).append("_sum").append(RenderLabels(labels)).append(" ").append(FormatMetricValue(sum));
  out_->append("\n");
  out_->append(name).append("_count").append(RenderLabels(labels)).append(" ");
  out_->append(FormatMetricValue(static_cast<double>(std::max(count, cumulative)))).append("\n");
}

void MetricsWriter::Gauge(std::string_view name, std::string_view help, double value) {
  Header(name, help, "gauge");
  Sample(name, {}, value);
}

void MetricsWriter::Counter(std::string_view name, std::string_view help, double value) {
  Header(name, help, "counter");
  Sample(name, {}, value);
}

std::shared_ptr<void> MetricsRegistry::GetOrCreate(std::string_view name, std::string_view help, Type type,
                                                   const MetricLabels& labels,
                                                   const std::function<std::shared_ptr<void>()>& make) {
  std::string key = RenderLabels(labels);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = families_.find(name);
  if (it == families_.end()) {
    it = families_.emplace(std::string(name), Family{type, std::string(help), {}}).first;
  } else if (it->second.type != type) {
    detached_.push_back(make());
    return detached_.back();
  }
  auto& children = it->second.children;
  auto child = children.find(key);
  if (child == children.end()) child = children.emplace(key, std::make_pair(labels, make())).first;
  return child->second.second;
}

Counter* MetricsRegistry::GetCounter(std::string_view name, std::string_view help, const MetricLabels& labels) {
  return static_cast<Counter*>(
      GetOrCreate(name, help, Type::kCounter, labels, [] { return std::make_shared<Counter>(); }).get());
}

Gauge* MetricsRegistry::GetGauge(std::string_view name, std::string_view help, const MetricLabels& labels) {
  return static_cast<Gauge*>(
      GetOrCreate(name, help, Type::kGauge, labels, [] { return std::make_shared<Gauge>(); }).get());
}

Histogram* MetricsRegistry::GetHistogram(std::string_view name, std::string_view help,
                                         const std::vector<double>& bounds, const MetricLabels& labels) {
  return static_cast<Histogram*>(
      GetOrCreate(name, help, Type::kHistogram, labels, [&] { return std::make_shared<Histogram>(bounds); }).get());
}

void MetricsRegistry::AddCollector(Collector collector) {
  std::lock_guard<std::mutex> lock(mu_);
  collectors_.push_back(std::move(collector));
}

std::string MetricsRegistry::Render() const {
  std::string out;
  MetricsWriter w(&out);
  std::vector<Collector> collectors;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [name, family] : families_) {
      switch (family.type) {
        case Type::kCounter:
          w.Header(name, family.help, "counter");
          for (const auto& [key, child] : family.children)
            w.Sample(name, child.first, static_cast<const Counter*>(child.second.get())->Value());
          break;
        case Type::kGauge:
          w.Header(name, family.help, "gauge");
          for (const auto& [key, child] : family.children)
            w.Sample(name, child.first, static_cast<const sightline::Gauge*>(child.second.get())->Value());
          break;
        case Type::kHistogram:
          w.Header(name, family.help, "histogram");
          for (const auto& [key, child] : family.children) {
            const auto* h = static_cast<const Histogram*>(child.second.get());
            w.HistogramSamples(name, child.first, h->bounds(), h->BucketCounts(), h->Sum(), h->Count());
          }
          break;
      }
    }
    collectors = collectors_;
  }
  // Collectors run unlocked: they may take other components' locks (store stats).
  for (const auto& c : collectors) c(w);
  return out;
}

int64_t ProcessRssBytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      long long kb = 0;
      if (std::sscanf(line.c_str() + 6, "%lld", &kb) == 1) return kb * 1024;
    }
  }
  return 0;
}

}  // namespace sightline
