#include "common/ddsketch.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "common/wire.h"

namespace sightline {
namespace {

constexpr double kGamma = (1 + DDSketch::kRelativeAccuracy) / (1 - DDSketch::kRelativeAccuracy);
const double kLogGamma = std::log(kGamma);
constexpr uint8_t kVersion = 1;

bool GetVarint(std::string_view* in, uint64_t* v) {
  uint64_t r = 0;
  for (size_t i = 0; i < in->size() && i < 10; ++i) {
    auto b = static_cast<uint8_t>((*in)[i]);
    if (i == 9 && b > 1) return false;  // more than 64 bits
    r |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
    if (b < 0x80) {
      in->remove_prefix(i + 1);
      *v = r;
      return true;
    }
  }
  return false;
}

void PutDouble(std::string* out, double d) {
  uint64_t u;
  std::memcpy(&u, &d, 8);
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>(u >> (8 * i)));
}

bool GetDouble(std::string_view* in, double* d) {
  if (in->size() < 8) return false;
  uint64_t u = 0;
  for (int i = 0; i < 8; ++i) u |= static_cast<uint64_t>(static_cast<uint8_t>((*in)[static_cast<size_t>(i)])) << (8 * i);
  std::memcpy(d, &u, 8);
  in->remove_prefix(8);
  return true;
}

}  // namespace

int32_t DDSketch::Index(double magnitude) {
  // magnitude is finite and > kMinIndexable, so the index is within about +-36000.
  return static_cast<int32_t>(std::ceil(std::log(magnitude) / kLogGamma));
}

double DDSketch::Value(int32_t index) { return 2 * std::exp(index * kLogGamma) / (kGamma + 1); }

double DDSketch::Lower(int32_t index) { return std::exp((index - 1) * kLogGamma); }

void DDSketch::Store::Extend(int32_t lo, int32_t hi) {
  if (!counts.empty()) {
    lo = std::min(lo, offset);
    hi = std::max(hi, offset + static_cast<int32_t>(counts.size()) - 1);
  }
  if (hi - lo + 1 > kMaxBuckets) lo = hi - kMaxBuckets + 1;
  if (!counts.empty() && lo == offset && hi == offset + static_cast<int32_t>(counts.size()) - 1) return;
  std::vector<uint64_t> next(static_cast<size_t>(hi - lo + 1), 0);
  for (size_t j = 0; j < counts.size(); ++j) {
    int32_t idx = std::max(offset + static_cast<int32_t>(j), lo);  // collapsed into the lowest kept
    next[static_cast<size_t>(idx - lo)] += counts[j];
  }
  offset = lo;
  counts.swap(next);
}

int32_t DDSketch::Store::Clamp(int32_t index) const { return std::max(index, offset); }

void DDSketch::Store::Add(int32_t index, uint64_t n) {
  Extend(index, index);
  counts[static_cast<size_t>(Clamp(index) - offset)] += n;
}

void DDSketch::Store::Merge(const Store& other) {
  if (other.counts.empty()) return;
  Extend(other.offset, other.offset + static_cast<int32_t>(other.counts.size()) - 1);
  for (size_t j = 0; j < other.counts.size(); ++j) {
    if (other.counts[j] == 0) continue;
    counts[static_cast<size_t>(Clamp(other.offset + static_cast<int32_t>(j)) - offset)] += other.counts[j];
  }
}

uint64_t DDSketch::Store::Total() const {
  uint64_t t = 0;
  for (uint64_t c : counts) t += c;
  return t;
}

void DDSketch::Add(double v, uint64_t n) {
  if (!std::isfinite(v) || n == 0) return;
  if (count_ == 0) {
    min_ = max_ = v;
  } else {
    min_ = std::min(min_, v);
    max_ = std::max(max_, v);
  }
  count_ += n;
  sum_ += v * static_cast<double>(n);
  if (v > kMinIndexable) {
    pos_.Add(Index(v), n);
  } else if (v < -kMinIndexable) {
    neg_.Add(Index(-v), n);
  } else {
    zero_ += n;
  }
}

void DDSketch::Merge(const DDSketch& o) {
  if (o.count_ == 0) return;
  if (count_ == 0) {
    min_ = o.min_;
    max_ = o.max_;
  } else {
    min_ = std::min(min_, o.min_);
    max_ = std::max(max_, o.max_);
  }
  count_ += o.count_;
  sum_ += o.sum_;
  zero_ += o.zero_;
  pos_.Merge(o.pos_);
  neg_.Merge(o.neg_);
}

void DDSketch::MergeSparse(const SparseBucket* b, size_t n, uint64_t zero_count, double min, double max, double sum) {
  uint64_t total = zero_count;
  int32_t lo[2] = {0, 0}, hi[2] = {0, 0};
  bool any[2] = {false, false};
  for (size_t i = 0; i < n; ++i) {
    if (b[i].count == 0) continue;
    total += b[i].count;
    const int s = b[i].negative ? 1 : 0;
    lo[s] = any[s] ? std::min(lo[s], b[i].index) : b[i].index;
    hi[s] = any[s] ? std::max(hi[s], b[i].index) : b[i].index;
    any[s] = true;
  }
  if (total == 0) return;
  if (count_ == 0) {
    min_ = min;
    max_ = max;
  } else {
    min_ = std::min(min_, min);
    max_ = std::max(max_, max);
  }
  count_ += total;
  sum_ += sum;
  zero_ += zero_count;
  if (any[0]) pos_.Extend(lo[0], hi[0]);  // one allocation per store, not one per bucket
  if (any[1]) neg_.Extend(lo[1], hi[1]);
  for (size_t i = 0; i < n; ++i)
    if (b[i].count) (b[i].negative ? neg_ : pos_).Add(b[i].index, b[i].count);
}

void DDSketch::Clear() { *this = DDSketch(); }

double DDSketch::mean() const {
  return count_ == 0 ? std::numeric_limits<double>::quiet_NaN() : sum_ / static_cast<double>(count_);
}

double DDSketch::Quantile(double q) const {
  if (count_ == 0 || std::isnan(q)) return std::numeric_limits<double>::quiet_NaN();
  if (q <= 0) return min_;
  if (q >= 1) return max_;
  const auto rank = static_cast<uint64_t>(std::floor(q * static_cast<double>(count_ - 1)));
  auto clamp = [&](double v) { return std::clamp(v, min_, max_); };
  uint64_t seen = 0;
  for (size_t j = neg_.counts.size(); j-- > 0;) {  // most negative first
    seen += neg_.counts[j];
    if (seen > rank) return clamp(-Value(neg_.offset + static_cast<int32_t>(j)));
  }
  seen += zero_;
  if (seen > rank) return clamp(0);
  for (size_t j = 0; j < pos_.counts.size(); ++j) {
    seen += pos_.counts[j];
    if (seen > rank) return clamp(Value(pos_.offset + static_cast<int32_t>(j)));
  }
  return max_;  // unreachable while count_ equals the stores' total
}

void DDSketch::ForEachBucket(const std::function<void(double, double, uint64_t)>& fn) const {
  for (size_t j = neg_.counts.size(); j-- > 0;) {
    if (neg_.counts[j] == 0) continue;
    int32_t i = neg_.offset + static_cast<int32_t>(j);
    fn(-std::exp(i * kLogGamma), -Lower(i), neg_.counts[j]);
  }
  if (zero_) fn(0, 0, zero_);
  for (size_t j = 0; j < pos_.counts.size(); ++j) {
    if (pos_.counts[j] == 0) continue;
    int32_t i = pos_.offset + static_cast<int32_t>(j);
    fn(Lower(i), std::exp(i * kLogGamma), pos_.counts[j]);
  }
}

void DDSketch::Encode(std::string* out) const {
  out->push_back(static_cast<char>(kVersion));
  wire::PutVarint(out, count_);
  wire::PutVarint(out, zero_);
  PutDouble(out, min_);
  PutDouble(out, max_);
  PutDouble(out, sum_);
  for (const Store* s : {&pos_, &neg_}) {
    // Trim empty edge buckets: they carry nothing.
    size_t b = 0, e = s->counts.size();
    while (b < e && s->counts[b] == 0) ++b;
    while (e > b && s->counts[e - 1] == 0) --e;
    int64_t off = b < e ? static_cast<int64_t>(s->offset) + static_cast<int64_t>(b) : 0;
    wire::PutVarint(out, (static_cast<uint64_t>(off) << 1) ^ static_cast<uint64_t>(off >> 63));
    wire::PutVarint(out, e - b);
    for (size_t j = b; j < e; ++j) wire::PutVarint(out, s->counts[j]);
  }
}

Result<DDSketch> DDSketch::Decode(std::string_view in) {
  auto bad = [](const std::string& what) { return Status::InvalidArgument("quantile sketch: " + what); };
  if (in.empty()) return bad("empty");
  if (static_cast<uint8_t>(in[0]) != kVersion) return bad("unknown version " + std::to_string(uint8_t(in[0])));
  in.remove_prefix(1);
  DDSketch s;
  if (!GetVarint(&in, &s.count_) || !GetVarint(&in, &s.zero_)) return bad("truncated counts");
  if (!GetDouble(&in, &s.min_) || !GetDouble(&in, &s.max_) || !GetDouble(&in, &s.sum_)) return bad("truncated header");
  uint64_t total = s.zero_;
  for (Store* st : {&s.pos_, &s.neg_}) {
    uint64_t zz = 0, n = 0;
    if (!GetVarint(&in, &zz) || !GetVarint(&in, &n)) return bad("truncated store");
    int64_t off = static_cast<int64_t>(zz >> 1) ^ -static_cast<int64_t>(zz & 1);
    if (n > static_cast<uint64_t>(kMaxBuckets)) return bad("too many buckets");
    if (off < -100000 || off > 100000) return bad("bucket offset out of range");
    st->offset = static_cast<int32_t>(off);
    st->counts.resize(n);
    for (auto& c : st->counts) {
      if (!GetVarint(&in, &c)) return bad("truncated bucket counts");
      if (total + c < total) return bad("counts overflow");
      total += c;
    }
  }
  if (!in.empty()) return bad("trailing bytes");
  if (total != s.count_) return bad("bucket counts do not add up to the count");
  if (s.count_ > 0 && !(std::isfinite(s.min_) && std::isfinite(s.max_) && s.min_ <= s.max_))
    return bad("bad min/max");
  if (s.count_ == 0) s = DDSketch();
  return s;
}

bool operator==(const DDSketch& a, const DDSketch& b) {
  if (a.count_ != b.count_ || a.zero_ != b.zero_) return false;
  if (a.count_ == 0) return true;
  DDSketch x = a, y = b;
  x.sum_ = y.sum_ = 0;
  std::string ex, ey;  // the encoding trims padding, so equal contents encode equally
  x.Encode(&ex);
  y.Encode(&ey);
  return ex == ey;
}

}  // namespace sightline
