// DDSketch: a mergeable quantile sketch with relative-error guarantees (Masson, Rim,
// Lee, "DDSketch", VLDB 2019). Sightline keeps one per group for durations, costs and
// step counts, merges them across scan threads, segments and (later) rollup buckets,
// and persists them in rollups, so the encoding below is a frozen on-disk format.
//
// Guarantee: for q in [0, 1], Quantile(q) is within 1% (kRelativeAccuracy) of the
// exact lower nearest-rank quantile, the value at 0-based rank floor(q * (count - 1))
// of the sorted inputs, provided that value's bucket was never collapsed (see below).
// Merging sketches gives exactly the sketch of the union of their inputs.
//
// Mapping: a positive value v > kMinIndexable falls in bucket i = ceil(log_gamma(v)),
// gamma = (1 + a) / (1 - a), covering (gamma^(i-1), gamma^i]; the bucket answers with
// 2 gamma^i / (gamma + 1), within a of every value in it. Negative values use a mirror
// store; |v| <= kMinIndexable counts as zero. NaN is ignored.
//
// Invariants: each store spans at most kMaxBuckets contiguous indexes. Past that, the
// lowest-magnitude buckets are collapsed into the lowest kept one (the tail that
// matters for latency and cost, the high one, stays exact): with a 1% accuracy 2048
// buckets span a ratio of about 10^17 between the smallest and largest value, so
// collapsing only happens for inputs spanning nanoseconds to years.
// count() == zero count + the counts of both stores.
//
// Encoding, version 1 (little-endian, varints are LEB128):
//   u8 version (1); varint count; varint zero_count; f64 min; f64 max; f64 sum;
//   then the positive store and the negative store, each: zigzag varint offset,
//   varint n (<= kMaxBuckets), n varint counts.
//
// Thread-safety: a plain value; one thread mutates it at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace sightline {

class DDSketch {
 public:
  static constexpr double kRelativeAccuracy = 0.01;
  static constexpr int32_t kMaxBuckets = 2048;
  static constexpr double kMinIndexable = 1e-12;

  // Adds n occurrences of v (NaN is ignored).
  void Add(double v, uint64_t n = 1);
  void Merge(const DDSketch& other);
  void Clear();

  bool empty() const { return count_ == 0; }
  uint64_t count() const { return count_; }
  double sum() const { return sum_; }
  double min() const { return count_ ? min_ : std::numeric_limits<double>::quiet_NaN(); }
  double max() const { return count_ ? max_ : std::numeric_limits<double>::quiet_NaN(); }
  double mean() const;
  // The q-quantile, q clamped to [0, 1]; NaN when empty. 0 and 1 give min and max exactly.
  double Quantile(double q) const;

  // Visits non-empty buckets in increasing value order with their value range and
  // count (the zero bucket as [0, 0]); lets callers draw histograms.
  void ForEachBucket(const std::function<void(double lower, double upper, uint64_t count)>& fn) const;
  size_t bucket_count() const { return pos_.counts.size() + neg_.counts.size() + (zero_ ? 1 : 0); }

  // Sparse form, for holders of many small sketches (store/rollup): the bucket index
  // of a magnitude > kMinIndexable, and a merge of (index, sign, count) buckets with the
  // exact count, min, max and sum of the values they came from. Merging the sparse form
  // of some values gives the same buckets as adding those values.
  struct SparseBucket {
    int32_t index;
    bool negative;
    uint64_t count;
  };
  static int32_t IndexOf(double magnitude) { return Index(magnitude); }
  static double BucketValue(int32_t index) { return Value(index); }  // what Quantile answers for it
  void MergeSparse(const SparseBucket* buckets, size_t n, uint64_t zero_count, double min, double max, double sum);

  void Encode(std::string* out) const;
  // InvalidArgument naming what is wrong when `in` is not a version-1 sketch.
  static Result<DDSketch> Decode(std::string_view in);

  // Same count, min, max and buckets (sum is left out: float addition order differs
  // between a merge and sequential adds).
  friend bool operator==(const DDSketch& a, const DDSketch& b);

 private:
  // Contiguous bucket counts for indexes [offset, offset + counts.size()).
  struct Store {
    int32_t offset = 0;
    std::vector<uint64_t> counts;
    void Add(int32_t index, uint64_t n);
    void Merge(const Store& other);
    // Makes [lo, hi] addressable, collapsing the lowest indexes past kMaxBuckets.
    void Extend(int32_t lo, int32_t hi);
    int32_t Clamp(int32_t index) const;  // where an index below the kept range goes
    uint64_t Total() const;
    bool operator==(const Store& o) const { return offset == o.offset && counts == o.counts; }
  };

  static int32_t Index(double magnitude);
  static double Value(int32_t index);
  static double Lower(int32_t index);

  Store pos_, neg_;
  uint64_t zero_ = 0;
  uint64_t count_ = 0;
  double sum_ = 0;
  double min_ = 0, max_ = 0;
};

}  // namespace sightline
