#include "common/ddsketch.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace sightline {
namespace {

constexpr double kQuantiles[] = {0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1};

// The lower nearest-rank quantile, computed exactly.
double Exact(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(std::floor(q * static_cast<double>(v.size() - 1)))];
}

void ExpectWithinOnePercent(const DDSketch& s, const std::vector<double>& data, const std::string& what) {
  ASSERT_EQ(s.count(), data.size()) << what;
  for (double q : kQuantiles) {
    double exact = Exact(data, q), got = s.Quantile(q);
    EXPECT_LE(std::abs(got - exact), DDSketch::kRelativeAccuracy * std::abs(exact) + 1e-12)
        << what << " q=" << q << " exact=" << exact << " sketch=" << got;
  }
}

struct Dist {
  const char* name;
  std::function<double(std::mt19937_64&)> draw;
};

TEST(DDSketchTest, QuantilesAgreeWithExactWithinOnePercent) {
  const Dist dists[] = {
      {"lognormal latency ns", [](std::mt19937_64& r) { return std::lognormal_distribution<double>(18, 1.5)(r); }},
      {"uniform", [](std::mt19937_64& r) { return std::uniform_real_distribution<double>(1, 1000)(r); }},
      {"exponential cost", [](std::mt19937_64& r) { return std::exponential_distribution<double>(200)(r); }},
      {"integer steps", [](std::mt19937_64& r) { return static_cast<double>(std::geometric_distribution<int>(0.1)(r) + 1); }},
      {"with zeros", [](std::mt19937_64& r) { return r() % 4 == 0 ? 0.0 : std::uniform_real_distribution<double>(0, 5)(r); }},
      {"mixed signs", [](std::mt19937_64& r) { return std::normal_distribution<double>(0, 100)(r); }},
      {"constant", [](std::mt19937_64&) { return 42.0; }},
  };
  for (const auto& d : dists) {
    for (size_t n : {1u, 2u, 7u, 1000u, 50000u}) {
      std::mt19937_64 rng(n * 31 + 7);
      std::vector<double> data;
      DDSketch s;
      for (size_t i = 0; i < n; ++i) {
        data.push_back(d.draw(rng));
        s.Add(data.back());
      }
      ExpectWithinOnePercent(s, data, std::string(d.name) + " n=" + std::to_string(n));
      EXPECT_DOUBLE_EQ(s.min(), *std::min_element(data.begin(), data.end()));
      EXPECT_DOUBLE_EQ(s.max(), *std::max_element(data.begin(), data.end()));
    }
  }
}

TEST(DDSketchTest, MergeEqualsOneSketchOfEverything) {
  std::mt19937_64 rng(5);
  std::vector<double> all;
  DDSketch whole;
  std::vector<DDSketch> parts(5);
  for (int i = 0; i < 20000; ++i) {
    // Each part sees a different range, so merges must extend stores both ways.
    double v = std::lognormal_distribution<double>(2 + (i % 5) * 3, 1)(rng);
    all.push_back(v);
    whole.Add(v);
    parts[static_cast<size_t>(i) % 5].Add(v);
  }
  DDSketch merged;
  merged.Merge(DDSketch());  // empty merges are no-ops
  for (const auto& p : parts) merged.Merge(p);
  EXPECT_TRUE(merged == whole);
  ExpectWithinOnePercent(merged, all, "merged");
  EXPECT_NEAR(merged.sum(), whole.sum(), 1e-9 * whole.sum());
  DDSketch into_empty;
  into_empty.Merge(whole);
  EXPECT_TRUE(into_empty == whole);
}

TEST(DDSketchTest, EmptyAndNonFinite) {
  DDSketch s;
  EXPECT_TRUE(std::isnan(s.Quantile(0.5)));
  EXPECT_TRUE(std::isnan(s.min()));
  s.Add(std::nan(""));
  s.Add(INFINITY);
  s.Add(-INFINITY);
  EXPECT_TRUE(s.empty());
  s.Add(3, 4);
  EXPECT_EQ(s.count(), 4u);
  EXPECT_DOUBLE_EQ(s.sum(), 12);
  EXPECT_DOUBLE_EQ(s.Quantile(0.5), 3);  // clamped to [min, max]
  EXPECT_DOUBLE_EQ(s.Quantile(-1), 3);
  EXPECT_DOUBLE_EQ(s.Quantile(2), 3);
}

TEST(DDSketchTest, BucketsStayBoundedAndTheHighTailExact) {
  DDSketch s;
  std::vector<double> data;
  for (int e = -300; e <= 300; ++e) {
    for (int k = 1; k <= 9; ++k) {
      data.push_back(k * std::pow(10.0, e));
      s.Add(data.back());
    }
  }
  EXPECT_LE(s.bucket_count(), static_cast<size_t>(DDSketch::kMaxBuckets) + 1);
  // 2048 buckets of 2% span a ratio of about 10^17: quantiles in the top 17 decades
  // stay within 1%, the collapsed low ones read as the lowest kept bucket.
  int checked = 0;
  for (double q = 0.9; q < 1; q += 0.001) {
    double exact = Exact(data, q);
    if (exact < 9e300 / 1e17) continue;
    ++checked;
    EXPECT_LE(std::abs(s.Quantile(q) - exact), 0.01 * exact) << q;
  }
  EXPECT_GT(checked, 20);
  EXPECT_LE(s.Quantile(0.01), 9e300 / 1e17);
  EXPECT_DOUBLE_EQ(s.Quantile(1), 9e300);
}

TEST(DDSketchTest, BucketsCoverTheValues) {
  DDSketch s;
  for (double v : {-5.0, 0.0, 0.0, 1.0, 1.0, 2.5, 100.0}) s.Add(v);
  uint64_t total = 0;
  double last_upper = -INFINITY;
  s.ForEachBucket([&](double lo, double hi, uint64_t n) {
    EXPECT_LE(lo, hi);
    EXPECT_GE(lo, last_upper);  // increasing, not overlapping
    last_upper = hi;
    total += n;
  });
  EXPECT_EQ(total, 7u);
}

TEST(DDSketchTest, EncodeDecodeRoundTrip) {
  std::mt19937_64 rng(9);
  DDSketch s;
  for (int i = 0; i < 5000; ++i) s.Add(std::normal_distribution<double>(10, 30)(rng));
  s.Add(0);
  std::string bytes;
  s.Encode(&bytes);
  auto d = DDSketch::Decode(bytes);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_TRUE(*d == s);
  EXPECT_DOUBLE_EQ(d->sum(), s.sum());
  for (double q : kQuantiles) EXPECT_DOUBLE_EQ(d->Quantile(q), s.Quantile(q));

  std::string empty;
  DDSketch().Encode(&empty);
  auto e = DDSketch::Decode(empty);
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(e->empty());
}

TEST(DDSketchTest, DecodeRejectsDamageWithoutCrashing) {
  DDSketch s;
  for (int i = 1; i <= 300; ++i) s.Add(i * 1.5);
  std::string bytes;
  s.Encode(&bytes);
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto d = DDSketch::Decode(std::string_view(bytes).substr(0, n));
    EXPECT_FALSE(d.ok()) << "prefix " << n;
    if (!d.ok()) {
      EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument);
    }
  }
  EXPECT_FALSE(DDSketch::Decode(bytes + "x").ok());
  // Every single-bit flip either fails cleanly or yields a self-consistent sketch.
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (int b = 0; b < 8; ++b) {
      std::string bad = bytes;
      bad[i] = static_cast<char>(bad[i] ^ (1 << b));
      auto d = DDSketch::Decode(bad);
      if (d.ok()) {
        (void)d->Quantile(0.5);
        uint64_t total = 0;
        d->ForEachBucket([&](double, double, uint64_t n) { total += n; });
        EXPECT_EQ(total, d->count());
      }
    }
  }
}

}  // namespace
}  // namespace sightline

namespace sightline {
namespace {

TEST(DDSketchTest, SparseFormMergesToTheSameSketch) {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> dist(3, 2);
  std::vector<double> values;
  for (int i = 0; i < 5000; ++i) values.push_back(i % 50 == 0 ? 0.0 : (i % 97 == 0 ? -dist(rng) : dist(rng)));
  DDSketch direct;
  std::map<std::pair<bool, int32_t>, uint64_t> sparse;
  uint64_t zero = 0;
  double mn = values[0], mx = values[0], sum = 0;
  for (double v : values) {
    direct.Add(v);
    mn = std::min(mn, v);
    mx = std::max(mx, v);
    sum += v;
    if (v > DDSketch::kMinIndexable) {
      ++sparse[{false, DDSketch::IndexOf(v)}];
    } else if (v < -DDSketch::kMinIndexable) {
      ++sparse[{true, DDSketch::IndexOf(-v)}];
    } else {
      ++zero;
    }
  }
  std::vector<DDSketch::SparseBucket> buckets;
  for (const auto& [k, n] : sparse) buckets.push_back({k.second, k.first, n});
  DDSketch rebuilt;
  rebuilt.Add(12.5);  // merging into a non-empty sketch keeps what it had
  direct.Add(12.5);
  rebuilt.MergeSparse(buckets.data(), buckets.size(), zero, mn, mx, sum);
  EXPECT_TRUE(rebuilt == direct);
  EXPECT_EQ(rebuilt.count(), values.size() + 1);
  for (double q : {0.0, 0.01, 0.5, 0.95, 0.99, 1.0}) EXPECT_DOUBLE_EQ(rebuilt.Quantile(q), direct.Quantile(q)) << q;
  EXPECT_NEAR(rebuilt.sum(), direct.sum(), 1e-6 * std::abs(direct.sum()));
}

}  // namespace
}  // namespace sightline
