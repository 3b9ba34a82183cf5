// A small Prometheus metrics registry: counters, gauges and histograms with labels,
// rendered in the text exposition format 0.0.4 for GET /metrics.
//
// Usage: look a metric up once (GetCounter/GetGauge/GetHistogram create it on first
// use) and keep the pointer; updates are then lock-free atomics, cheap enough for the
// ingest hot path. Values that live elsewhere (store statistics, process RSS) are
// added at render time by collectors, which write samples through MetricsWriter.
//
// Invariants: a metric name has one type and one help text; pointers returned stay
// valid for the registry's lifetime.
// Thread-safety: every method is safe to call concurrently. Lookups take mu_;
// updates through returned pointers do not.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sightline {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void Inc(double v = 1) { value_.fetch_add(v, std::memory_order_relaxed); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double v) { value_.fetch_add(v, std::memory_order_relaxed); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Cumulative-bucket histogram. bounds are the finite upper bounds, ascending; +Inf is
// implicit.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);
  const std::vector<double>& bounds() const { return bounds_; }
  // Non-cumulative count per bound, then the +Inf overflow, sum and count.
  std::vector<uint64_t> BucketCounts() const;
  double Sum() const { return sum_.load(std::memory_order_relaxed); }
  uint64_t Count() const { return count_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds_.size() + 1
  std::atomic<double> sum_{0};
  std::atomic<uint64_t> count_{0};
};

// Default latency buckets in seconds: 0.5 ms .. 10 s.
std::vector<double> DefaultLatencyBuckets();

// Writes samples in the text format. Each family header (# HELP, # TYPE) is written
// once per call of the family functions; label values are escaped.
class MetricsWriter {
 public:
  explicit MetricsWriter(std::string* out) : out_(out) {}
  void Header(std::string_view name, std::string_view help, std::string_view type);
  void Sample(std::string_view name, const MetricLabels& labels, double value);
  // A histogram from non-cumulative bucket counts (bounds.size() + 1 entries, the last
  // being the +Inf overflow).
  void HistogramSamples(std::string_view name, const MetricLabels& labels, const std::vector<double>& bounds,
                        const std::vector<uint64_t>& counts, double sum, uint64_t count);
  // Header plus one sample, for single-value collector metrics.
  void Gauge(std::string_view name, std::string_view help, double value);
  void Counter(std::string_view name, std::string_view help, double value);

 private:
  std::string* out_;
};

std::string FormatMetricValue(double v);
std::string EscapeLabelValue(std::string_view v);

class MetricsRegistry {
 public:
  using Collector = std::function<void(MetricsWriter&)>;

  MetricsRegistry() = default;
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // Returns the metric with this name and labels, creating it. A name first used with
  // another type yields a detached metric (never rendered) rather than a crash: that is
  // a programming error the tests catch by not seeing the metric.
  Counter* GetCounter(std::string_view name, std::string_view help, const MetricLabels& labels = {});
  Gauge* GetGauge(std::string_view name, std::string_view help, const MetricLabels& labels = {});
  Histogram* GetHistogram(std::string_view name, std::string_view help, const std::vector<double>& bounds,
                          const MetricLabels& labels = {});

  // Adds a render-time collector (called with no lock held other than its own).
  void AddCollector(Collector collector);

  // The whole exposition: registered families in name order, then collectors.
  std::string Render() const;

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Family {
    Type type;
    std::string help;
    // Keyed by the rendered label set, so the output is stable.
    std::map<std::string, std::pair<MetricLabels, std::shared_ptr<void>>> children;
  };
  std::shared_ptr<void> GetOrCreate(std::string_view name, std::string_view help, Type type,
                                    const MetricLabels& labels, const std::function<std::shared_ptr<void>()>& make);

  mutable std::mutex mu_;
  std::map<std::string, Family, std::less<>> families_;  // guarded by mu_
  std::vector<std::shared_ptr<void>> detached_;          // guarded by mu_
  std::vector<Collector> collectors_;                    // guarded by mu_
};

// Resident set size of this process in bytes (from /proc/self/status), 0 if unknown.
int64_t ProcessRssBytes();

}  // namespace sightline
