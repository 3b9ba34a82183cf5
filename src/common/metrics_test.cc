#include "common/metrics.h"

#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace sightline {
namespace {

TEST(MetricsTest, CounterWithLabelsRenders) {
  MetricsRegistry r;
  r.GetCounter("sl_things_total", "Things.", {{"reason", "a\"b\\c\nd"}})->Inc(3);
  r.GetCounter("sl_things_total", "Things.", {{"reason", "x"}})->Inc();
  std::string text = r.Render();
  EXPECT_NE(text.find("# HELP sl_things_total Things.\n# TYPE sl_things_total counter\n"), std::string::npos) << text;
  EXPECT_NE(text.find("sl_things_total{reason=\"a\\\"b\\\\c\\nd\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("sl_things_total{reason=\"x\"} 1\n"), std::string::npos) << text;
  // The header appears once per family.
  EXPECT_EQ(text.find("# TYPE sl_things_total"), text.rfind("# TYPE sl_things_total"));
}

TEST(MetricsTest, SameNameAndLabelsIsSameMetric) {
  MetricsRegistry r;
  Counter* a = r.GetCounter("c", "h", {{"k", "v"}});
  Counter* b = r.GetCounter("c", "h", {{"k", "v"}});
  EXPECT_EQ(a, b);
  EXPECT_NE(a, r.GetCounter("c", "h", {{"k", "w"}}));
}

TEST(MetricsTest, TypeClashDoesNotCrashOrRender) {
  MetricsRegistry r;
  r.GetCounter("m", "h")->Inc();
  Gauge* g = r.GetGauge("m", "h");
  g->Set(42);
  std::string text = r.Render();
  EXPECT_EQ(text.find("42"), std::string::npos);
  EXPECT_NE(text.find("m 1\n"), std::string::npos);
}

TEST(MetricsTest, HistogramIsCumulative) {
  MetricsRegistry r;
  Histogram* h = r.GetHistogram("lat_seconds", "Latency.", {0.1, 1}, {{"route", "/x"}});
  h->Observe(0.05);
  h->Observe(0.5);
  h->Observe(0.5);
  h->Observe(7);
  std::string text = r.Render();
  EXPECT_NE(text.find("# TYPE lat_seconds histogram"), std::string::npos);
  EXPECT_NE(text.find("lat_seconds_bucket{route=\"/x\",le=\"0.1\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_seconds_bucket{route=\"/x\",le=\"1\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_seconds_bucket{route=\"/x\",le=\"+Inf\"} 4\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_seconds_count{route=\"/x\"} 4\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_seconds_sum{route=\"/x\"} 8.05"), std::string::npos) << text;
}

TEST(MetricsTest, CollectorsAddSamples) {
  MetricsRegistry r;
  r.AddCollector([](MetricsWriter& w) { w.Gauge("queue_bytes", "Queue.", 17); });
  EXPECT_NE(r.Render().find("# TYPE queue_bytes gauge\nqueue_bytes 17\n"), std::string::npos);
}

TEST(MetricsTest, ConcurrentIncrementsAreCounted) {
  MetricsRegistry r;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) r.GetCounter("n_total", "n")->Inc();
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(r.GetCounter("n_total", "n")->Value(), 40000);
}

TEST(MetricsTest, ProcessRssIsPositive) { EXPECT_GT(ProcessRssBytes(), 0); }

}  // namespace
}  // namespace sightline
