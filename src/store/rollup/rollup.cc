#include "store/rollup/rollup.h"

#include <xxhash.h>

#include <algorithm>
#include <cmath>

#include "store/aggregator.h"
#include "store/coding.h"

namespace sightline::store::rollup {
namespace {

constexpr char kMagic[] = "SLROLLUP";
// 2 added rewrite_seq after hour_cut; version 1 files read with rewrite_seq 0.
constexpr uint32_t kVersion = 2;
constexpr int64_t kMaxTime = int64_t{1} << 62;  // clamp: floor division stays in range

int64_t ClampTime(int64_t t) { return std::clamp(t, -kMaxTime, kMaxTime); }

bool AlignedWidth(int64_t w) { return w == kMinuteNs || w == kHourNs || w == kDayNs; }

// Approximate heap bytes of one row beyond its sketches: tuple, values, and up to four
// slots (the table is at most half full, and a quarter full just after it doubles).
constexpr size_t kRowBytes = sizeof(Tuple) + sizeof(Values) + 4 * sizeof(uint32_t);
constexpr size_t kBucketBytes = sizeof(Bucket) + 4 * sizeof(void*) + sizeof(int64_t);

}  // namespace

int64_t FloorTo(int64_t t, int64_t w) {
  int64_t q = t / w;
  if (t % w != 0 && t < 0) --q;
  return q * w;
}

size_t TupleHash::operator()(const Tuple& t) const {
  uint64_t a = (uint64_t{t.project} << 32) | t.agent, b = (uint64_t{t.tool} << 32) | t.model,
           c = (uint64_t{t.service} << 32) | t.environment, d = (uint64_t{t.user} << 16) | (uint64_t{t.status} << 8) | t.kind;
  return static_cast<size_t>(TraceKey::Mix64(a ^ TraceKey::Mix64(b ^ TraceKey::Mix64(c ^ TraceKey::Mix64(d)))));
}

// ---- SparseSketch

bool SparseSketch::KeyOf(double v, int32_t* key) {
  if (v > DDSketch::kMinIndexable) {
    *key = DDSketch::IndexOf(v) * 2;
    return true;
  }
  if (v < -DDSketch::kMinIndexable) {
    *key = DDSketch::IndexOf(-v) * 2 + 1;
    return true;
  }
  return false;
}

void SparseSketch::Add(double v) {
  if (!std::isfinite(v)) return;
  if (count_ == 0) {
    min_ = max_ = v;
  } else {
    min_ = std::min(min_, v);
    max_ = std::max(max_, v);
  }
  ++count_;
  sum_ += v;
  int32_t key;
  if (!KeyOf(v, &key)) {
    ++zero_;
    return;
  }
  auto it = std::lower_bound(buckets_.begin(), buckets_.end(), key,
                             [](const std::pair<int32_t, uint64_t>& b, int32_t k) { return b.first < k; });
  if (it != buckets_.end() && it->first == key) {
    ++it->second;
  } else {
    buckets_.insert(it, {key, 1});
  }
}

void SparseSketch::Remove(double v) {
  if (!std::isfinite(v) || count_ == 0) return;
  int32_t key;
  if (!KeyOf(v, &key)) {
    if (zero_ == 0) return;
    --zero_;
  } else {
    auto it = std::lower_bound(buckets_.begin(), buckets_.end(), key,
                               [](const std::pair<int32_t, uint64_t>& b, int32_t k) { return b.first < k; });
    if (it == buckets_.end() || it->first != key) return;  // never added: nothing to take back
    if (--it->second == 0) buckets_.erase(it);
  }
  --count_;
  sum_ -= v;
  if (count_ == 0) {
    *this = SparseSketch();
    return;
  }
  // The removed value may have been the min or the max: the extremes become those of
  // the remaining buckets (their DDSketch values, within the sketch's 1%).
  if (v <= min_ || v >= max_) {
    auto value = [](int32_t key) {
      double m = DDSketch::BucketValue(key >> 1);
      return key & 1 ? -m : m;
    };
    double lo = zero_ ? 0.0 : INFINITY, hi = zero_ ? 0.0 : -INFINITY;
    for (const auto& b : buckets_) {
      double x = value(b.first);
      lo = std::min(lo, x);
      hi = std::max(hi, x);
    }
    if (v <= min_) min_ = lo;
    if (v >= max_) max_ = hi;
  }
}

void SparseSketch::Merge(const SparseSketch& o) {
  if (o.count_ == 0) return;
  if (count_ == 0) {
    min_ = o.min_;
    max_ = o.max_;
  } else {
    min_ = std::min(min_, o.min_);
    max_ = std::max(max_, o.max_);
  }
  count_ += o.count_;
  zero_ += o.zero_;
  sum_ += o.sum_;
  std::vector<std::pair<int32_t, uint64_t>> merged;
  merged.reserve(buckets_.size() + o.buckets_.size());
  size_t i = 0, j = 0;
  while (i < buckets_.size() || j < o.buckets_.size()) {
    if (j == o.buckets_.size() || (i < buckets_.size() && buckets_[i].first < o.buckets_[j].first)) {
      merged.push_back(buckets_[i++]);
    } else if (i == buckets_.size() || o.buckets_[j].first < buckets_[i].first) {
      merged.push_back(o.buckets_[j++]);
    } else {
      merged.emplace_back(buckets_[i].first, buckets_[i].second + o.buckets_[j].second);
      ++i, ++j;
    }
  }
  buckets_.swap(merged);
}

void SparseSketch::MergeInto(DDSketch* out) const {
  if (count_ == 0) return;
  DDSketch::SparseBucket small[64];
  std::vector<DDSketch::SparseBucket> big;
  DDSketch::SparseBucket* b = small;
  if (buckets_.size() > std::size(small)) {
    big.resize(buckets_.size());
    b = big.data();
  }
  for (size_t i = 0; i < buckets_.size(); ++i)
    b[i] = {buckets_[i].first >> 1, (buckets_[i].first & 1) != 0, buckets_[i].second};
  out->MergeSparse(b, buckets_.size(), zero_, min_, max_, sum_);
}

void SparseSketch::MergeAllInto(const std::vector<const SparseSketch*>& sketches, DDSketch* out) {
  int32_t lo = INT32_MAX, hi = INT32_MIN;
  uint64_t zero = 0;
  double mn = INFINITY, mx = -INFINITY, sum = 0;
  for (const SparseSketch* s : sketches) {
    if (s->count_ == 0) continue;
    zero += s->zero_;
    mn = std::min(mn, s->min_);
    mx = std::max(mx, s->max_);
    sum += s->sum_;
    if (!s->buckets_.empty()) {
      lo = std::min(lo, s->buckets_.front().first);
      hi = std::max(hi, s->buckets_.back().first);
    }
  }
  if (mn > mx) return;  // all empty
  thread_local std::vector<uint64_t> dense;
  thread_local std::vector<DDSketch::SparseBucket> merged;
  merged.clear();
  if (lo <= hi) {
    dense.assign(static_cast<size_t>(int64_t{hi} - lo + 1), 0);
    for (const SparseSketch* s : sketches)
      for (const auto& [key, n] : s->buckets_) dense[static_cast<size_t>(key - lo)] += n;
    for (size_t i = 0; i < dense.size(); ++i) {
      if (!dense[i]) continue;
      const int32_t key = lo + static_cast<int32_t>(i);
      merged.push_back({key >> 1, (key & 1) != 0, dense[i]});
    }
  }
  out->MergeSparse(merged.data(), merged.size(), zero, mn, mx, sum);
}

void SparseSketch::Encode(std::string* out) const {
  PutVarint64(out, count_);
  if (count_ == 0) return;
  PutDouble(out, min_);
  PutDouble(out, max_);
  PutDouble(out, sum_);
  PutVarint64(out, zero_);
  PutVarint64(out, buckets_.size());
  int64_t prev = 0;
  for (const auto& [key, n] : buckets_) {
    PutSigned(out, key - prev);
    PutVarint64(out, n);
    prev = key;
  }
}

bool SparseSketch::Decode(std::string_view* in, SparseSketch* out) {
  *out = SparseSketch();
  uint64_t count, n;
  if (!GetVarint64(in, &count)) return false;
  if (count == 0) return true;
  if (!GetDouble(in, &out->min_) || !GetDouble(in, &out->max_) || !GetDouble(in, &out->sum_) ||
      !GetVarint64(in, &out->zero_) || !GetVarint64(in, &n) || n > in->size() / 2)
    return false;
  out->buckets_.reserve(static_cast<size_t>(n));
  int64_t key = 0;
  uint64_t total = out->zero_;
  for (uint64_t i = 0; i < n; ++i) {
    int64_t delta;
    uint64_t c;
    if (!GetSigned(in, &delta) || !GetVarint64(in, &c) || c == 0) return false;
    if (i > 0 && delta <= 0) return false;  // ascending, no repeats
    key += delta;
    if (key < INT32_MIN || key > INT32_MAX) return false;
    out->buckets_.emplace_back(static_cast<int32_t>(key), c);
    total += c;
  }
  if (total != count || !(out->min_ <= out->max_)) return false;
  out->count_ = count;
  return true;
}

// ---- Values and the table

void Values::Merge(const Values& o) {
  count += o.count;
  errors += o.errors;
  interrupts += o.interrupts;
  llm_calls += o.llm_calls;
  tool_calls += o.tool_calls;
  truncated += o.truncated;
  input_tokens += o.input_tokens;
  output_tokens += o.output_tokens;
  cache_read_tokens += o.cache_read_tokens;
  cache_write_tokens += o.cache_write_tokens;
  reasoning_tokens += o.reasoning_tokens;
  cost_usd += o.cost_usd;
  cost_known += o.cost_known;
  duration_ns.Merge(o.duration_ns);
  cost.Merge(o.cost);
  spans += o.spans;
  steps.Merge(o.steps);
}

size_t Bucket::SlotOf(const Tuple& t) const {
  const size_t mask = slots_.size() - 1;
  for (size_t i = TupleHash()(t) & mask;; i = (i + 1) & mask) {
    const uint32_t s = slots_[i];
    if (s == 0 || tuples_[s - 1] == t) return i;
  }
}

void Bucket::Rehash(size_t slots) {
  slots_.assign(slots, 0);
  const size_t mask = slots - 1;
  for (uint32_t row = 0; row < tuples_.size(); ++row) {
    size_t i = TupleHash()(tuples_[row]) & mask;
    while (slots_[i] != 0) i = (i + 1) & mask;
    slots_[i] = row + 1;
  }
}

Values* Bucket::Find(const Tuple& t) {
  if (slots_.empty()) return nullptr;
  const uint32_t s = slots_[SlotOf(t)];
  return s == 0 ? nullptr : &values_[s - 1];
}

Values* Bucket::Insert(const Tuple& t) {
  if (2 * (tuples_.size() + 1) > slots_.size()) Rehash(slots_.empty() ? 16 : 2 * slots_.size());
  slots_[SlotOf(t)] = static_cast<uint32_t>(tuples_.size()) + 1;
  tuples_.push_back(t);
  return &values_.emplace_back();
}

void Bucket::EraseSlot(size_t hole) {
  // Free the row's slot, then shift back each following entry of the run that the hole
  // now separates from its home slot (linear probing's deletion without tombstones).
  const size_t i = slots_[hole] - 1;
  const size_t mask = slots_.size() - 1;
  for (size_t k = (hole + 1) & mask; slots_[k] != 0; k = (k + 1) & mask) {
    const size_t home = TupleHash()(tuples_[slots_[k] - 1]) & mask;
    // The entry at k may move to the hole unless its home lies cyclically in (hole, k].
    const bool home_after_hole = hole <= k ? (hole < home && home <= k) : (hole < home || home <= k);
    if (home_after_hole) continue;
    slots_[hole] = slots_[k];
    hole = k;
  }
  slots_[hole] = 0;
  const size_t last = tuples_.size() - 1;
  if (i != last) {  // the last row takes position i
    slots_[SlotOf(tuples_[last])] = static_cast<uint32_t>(i) + 1;
    tuples_[i] = tuples_[last];
    values_[i] = std::move(values_[last]);
  }
  tuples_.pop_back();
  values_.pop_back();
}

void Bucket::Erase(const Tuple& t) {
  if (slots_.empty()) return;
  const size_t slot = SlotOf(t);
  if (slots_[slot] != 0) EraseSlot(slot);
}

size_t Bucket::EraseIf(const std::function<bool(const Tuple&)>& pred) {
  size_t n = 0;
  for (size_t i = tuples_.size(); i-- > 0;) {
    if (!pred(tuples_[i])) continue;
    EraseSlot(SlotOf(tuples_[i]));
    ++n;
  }
  return n;
}

void RollupTable::ReplaceRun(const RunFacts& b, const RunFacts& a) {
  if (!b.valid || !a.valid) {
    AddRun(b, -1);
    AddRun(a, +1);
    return;
  }
  const int64_t sb = ClampTime(b.start_ns), sa = ClampTime(a.start_ns);
  const int64_t bucket = FloorTo(sb, cuts_.WidthAt(sb));
  Values* v = nullptr;
  if (b.tuple == a.tuple && bucket == FloorTo(sa, cuts_.WidthAt(sa))) {
    auto it = buckets_.find(bucket);
    if (it != buckets_.end()) v = it->second.Find(b.tuple);
  }
  if (!v) {
    AddRun(b, -1);
    AddRun(a, +1);
    return;
  }
  // Same row, same status: only the sums and the sketched values move.
  v->spans += a.spans - b.spans;
  v->llm_calls += a.llm_calls - b.llm_calls;
  v->tool_calls += a.tool_calls - b.tool_calls;
  v->input_tokens += a.input_tokens - b.input_tokens;
  v->output_tokens += a.output_tokens - b.output_tokens;
  v->cost_usd += a.cost_usd - b.cost_usd;
  auto move = [&](SparseSketch* s, uint32_t bit, double from, double to) {
    if (from == to || !(run_sketches_ & bit)) return;
    s->Remove(from);
    s->Add(to);
  };
  move(&v->duration_ns, kSketchDuration, b.duration_ns, a.duration_ns);
  move(&v->cost, kSketchCost, b.cost_usd, a.cost_usd);
  move(&v->steps, kSketchSteps, static_cast<double>(b.spans), static_cast<double>(a.spans));
}

void RollupTable::AddRun(const RunFacts& r, int sign) {
  if (!r.valid) return;
  const int64_t start = ClampTime(r.start_ns);
  const int64_t width = cuts_.WidthAt(start), bstart = FloorTo(start, width);
  if (sign < 0) {
    auto b = buckets_.find(bstart);
    if (b == buckets_.end() || !b->second.Find(r.tuple)) return;
  }
  Values* v = Row(bstart, width, r.tuple);
  if (!v) return;
  v->count += sign;
  v->errors += sign * (r.tuple.status == model::v1::STATUS_ERROR);
  v->interrupts += sign * (r.tuple.status == model::v1::STATUS_INTERRUPT);
  v->spans += sign * r.spans;
  v->llm_calls += sign * r.llm_calls;
  v->tool_calls += sign * r.tool_calls;
  v->input_tokens += sign * r.input_tokens;
  v->output_tokens += sign * r.output_tokens;
  v->cost_usd += sign * r.cost_usd;
  v->cost_known += sign;
  const bool dur = run_sketches_ & kSketchDuration, cost = run_sketches_ & kSketchCost,
             steps = run_sketches_ & kSketchSteps;
  if (sign > 0) {
    if (dur) v->duration_ns.Add(r.duration_ns);
    if (cost) v->cost.Add(r.cost_usd);
    if (steps) v->steps.Add(static_cast<double>(r.spans));
    return;
  }
  if (dur) v->duration_ns.Remove(r.duration_ns);
  if (cost) v->cost.Remove(r.cost_usd);
  if (steps) v->steps.Remove(static_cast<double>(r.spans));
  if (v->count <= 0) {
    Bucket& b = buckets_[bstart];
    b.Erase(r.tuple);
    --rows_;
    if (b.empty() && !b.overflow) buckets_.erase(bstart);
  }
}

Values* RollupTable::Row(int64_t start, int64_t width, const Tuple& t) {
  Bucket& b = buckets_[start];
  b.width_ns = width;
  if (Values* v = b.Find(t)) return v;
  if (b.size() >= max_tuples_) {
    b.overflow = true;
    return nullptr;
  }
  ++rows_;
  return b.Insert(t);
}

// The span rollup's row of a span: its rolled dimensions, interned.
static Tuple SpanTuple(const SpanFacts& f, StringPool* pool) {
  Tuple t;
  t.project = pool->Intern(f.project);
  t.agent = pool->Intern(f.agent_name);
  t.tool = pool->Intern(f.tool_name);
  t.model = pool->Intern(f.model);
  t.service = pool->Intern(f.service);
  t.environment = pool->Intern(f.environment);
  t.status = static_cast<uint8_t>(f.status);
  t.kind = static_cast<uint8_t>(f.kind);
  return t;
}

void RollupTable::Apply(const SpanFacts& f, StringPool* pool, int sign) {
  const int64_t start = ClampTime(f.start_ns);
  const int64_t width = cuts_.WidthAt(start);
  const Tuple t = SpanTuple(f, pool);
  const int64_t bstart = FloorTo(start, width);
  if (sign < 0) {  // take back: only from a row that exists
    auto b = buckets_.find(bstart);
    if (b == buckets_.end() || !b->second.Find(t)) return;
  }
  Values* v = Row(bstart, width, t);
  if (!v) return;
  const double duration = static_cast<double>(f.end_ns > f.start_ns ? f.end_ns - f.start_ns : 0);
  v->count += sign;
  v->errors += sign * (f.status == model::v1::STATUS_ERROR);
  v->interrupts += sign * (f.status == model::v1::STATUS_INTERRUPT);
  v->llm_calls += sign * (f.kind == model::v1::KIND_LLM);
  v->tool_calls += sign * (f.kind == model::v1::KIND_TOOL);
  v->truncated += sign * f.truncated;
  v->input_tokens += sign * f.input_tokens;
  v->output_tokens += sign * f.output_tokens;
  v->cache_read_tokens += sign * f.cache_read_tokens;
  v->cache_write_tokens += sign * f.cache_write_tokens;
  v->reasoning_tokens += sign * f.reasoning_tokens;
  if (f.has_cost) {
    v->cost_usd += sign * f.cost_usd;
    v->cost_known += sign;
  }
  if (sign > 0) {
    v->duration_ns.Add(duration);
    if (f.has_cost) v->cost.Add(f.cost_usd);
    return;
  }
  v->duration_ns.Remove(duration);
  if (f.has_cost) v->cost.Remove(f.cost_usd);
  if (v->count <= 0) {  // gone: a scan would not show the group at all
    Bucket& b = buckets_[bstart];
    b.Erase(t);
    --rows_;
    if (b.empty() && !b.overflow) buckets_.erase(bstart);
  }
}

void RollupTable::AdjustCost(const SpanFacts& f, bool had_cost, double before, bool has_cost, double after,
                             StringPool* pool) {
  const int64_t start = ClampTime(f.start_ns);
  const int64_t width = cuts_.WidthAt(start);
  const Tuple t = SpanTuple(f, pool);
  auto b = buckets_.find(FloorTo(start, width));
  if (b == buckets_.end()) return;
  Values* v = b->second.Find(t);
  if (!v) return;
  if (had_cost) {
    v->cost_usd -= before;
    v->cost_known -= 1;
    v->cost.Remove(before);
  }
  if (has_cost) {
    v->cost_usd += after;
    v->cost_known += 1;
    v->cost.Add(after);
  }
}

void RollupTable::MergeFrom(const RollupTable& o) {
  for (const auto& [start, ob] : o.buckets_) {
    const int64_t w = std::max(ob.width_ns, cuts_.WidthAt(start));
    const int64_t target = FloorTo(start, w);
    if (ob.overflow) {
      Bucket& b = buckets_[target];
      b.width_ns = w;
      b.overflow = true;
    }
    for (size_t i = 0; i < ob.size(); ++i) {
      Values* into = Row(target, w, ob.tuples()[i]);
      if (into) into->Merge(ob.values()[i]);
    }
  }
}

void RollupTable::Fold(const Cuts& next) {
  cuts_.minute_cut = std::max(cuts_.minute_cut, next.minute_cut);
  cuts_.hour_cut = std::max(cuts_.hour_cut, next.hour_cut);
  std::vector<std::pair<int64_t, Bucket>> moving;
  for (auto it = buckets_.begin(); it != buckets_.end() && it->first < cuts_.minute_cut;) {
    if (it->second.width_ns < cuts_.WidthAt(it->first)) {
      moving.emplace_back(it->first, std::move(it->second));
      rows_ -= moving.back().second.size();
      it = buckets_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& [start, b] : moving) {
    const int64_t w = cuts_.WidthAt(start), target = FloorTo(start, w);
    if (b.overflow) {
      Bucket& into = buckets_[target];
      into.width_ns = w;
      into.overflow = true;
    }
    for (size_t i = 0; i < b.size(); ++i) {
      Values* into = Row(target, w, b.tuples()[i]);
      if (into) into->Merge(b.values()[i]);
    }
  }
}

size_t RollupTable::DropExpired(const std::function<int64_t(uint32_t)>& max_age_ns, int64_t now_ns) {
  size_t dropped = 0;
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    const int64_t end = it->first + it->second.width_ns;
    dropped += it->second.EraseIf([&](const Tuple& t) {
      const int64_t age = max_age_ns(t.project);
      return age >= 0 && now_ns - end >= age;
    });
    it = it->second.empty() ? buckets_.erase(it) : std::next(it);
  }
  rows_ -= dropped;
  return dropped;
}

size_t RollupTable::MemoryBytes() const { return buckets_.size() * kBucketBytes + rows_ * kRowBytes; }

void RollupTable::Encode(const StringPool& pool, uint64_t covered_wal, std::string* out) const {
  out->clear();
  out->append(kMagic, 8);
  PutFixed32(out, kVersion);
  PutFixed64(out, covered_wal);
  PutFixed64(out, static_cast<uint64_t>(cuts_.minute_cut));
  PutFixed64(out, static_cast<uint64_t>(cuts_.hour_cut));
  PutFixed64(out, rewrite_seq_);
  std::unordered_map<uint32_t, uint32_t> index;  // pool id -> string table index
  std::vector<uint32_t> ids;
  auto ref = [&](uint32_t id) {
    auto [it, added] = index.try_emplace(id, static_cast<uint32_t>(ids.size()));
    if (added) ids.push_back(id);
    return it->second;
  };
  std::string body;
  PutVarint64(&body, buckets_.size());
  for (const auto& [start, b] : buckets_) {
    PutSigned(&body, start);
    PutVarint64(&body, static_cast<uint64_t>(b.width_ns / 1000000000));
    body.push_back(b.overflow ? 1 : 0);
    PutVarint64(&body, b.size());
    for (size_t i = 0; i < b.size(); ++i) {
      const Tuple& t = b.tuples()[i];
      const Values& v = b.values()[i];
      for (uint32_t id : {t.project, t.agent, t.tool, t.model, t.service, t.environment}) PutVarint64(&body, ref(id));
      body.push_back(static_cast<char>(t.status));
      body.push_back(static_cast<char>(t.kind));
      for (int64_t n : {v.count, v.errors, v.interrupts, v.llm_calls, v.tool_calls, v.truncated})
        PutVarint64(&body, static_cast<uint64_t>(n));
      for (int64_t n : {v.input_tokens, v.output_tokens, v.cache_read_tokens, v.cache_write_tokens, v.reasoning_tokens})
        PutSigned(&body, n);
      PutDouble(&body, v.cost_usd);
      PutVarint64(&body, static_cast<uint64_t>(v.cost_known));
      v.duration_ns.Encode(&body);
      v.cost.Encode(&body);
    }
  }
  PutVarint64(out, ids.size());
  for (uint32_t id : ids) PutLengthPrefixed(out, pool.Get(id));
  out->append(body);
  PutFixed64(out, XXH3_64bits(out->data(), out->size()));
}

Status RollupTable::Decode(std::string_view in, StringPool* pool, RollupTable* out, uint64_t* covered_wal) {
  auto bad = [](const std::string& what) { return Status::Corruption("rollup file: " + what); };
  if (in.size() < 8 + 4 + 24 + 8) return bad("too short (" + std::to_string(in.size()) + " bytes)");
  if (in.substr(0, 8) != std::string_view(kMagic, 8)) return bad("bad magic");
  const uint64_t sum = DecodeFixed64(in.data() + in.size() - 8);
  if (XXH3_64bits(in.data(), in.size() - 8) != sum) return bad("checksum mismatch");
  in = in.substr(0, in.size() - 8);
  in.remove_prefix(8);
  const uint32_t version = DecodeFixed32(in.data());
  if (version != 1 && version != kVersion) return bad("unknown version " + std::to_string(version));
  *covered_wal = DecodeFixed64(in.data() + 4);
  RollupTable t(out->max_tuples_);
  t.cuts_.minute_cut = static_cast<int64_t>(DecodeFixed64(in.data() + 12));
  t.cuts_.hour_cut = static_cast<int64_t>(DecodeFixed64(in.data() + 20));
  in.remove_prefix(28);
  if (version >= 2) {
    if (in.size() < 8) return bad("truncated header");
    t.rewrite_seq_ = DecodeFixed64(in.data());
    in.remove_prefix(8);
  }
  uint64_t n_strings, n_buckets;
  if (!GetVarint64(&in, &n_strings) || n_strings > in.size()) return bad("bad string table");
  std::vector<uint32_t> ids(static_cast<size_t>(n_strings));
  for (auto& id : ids) {
    std::string_view s;
    if (!GetLengthPrefixed(&in, &s)) return bad("bad string table");
    id = pool->Intern(s);
  }
  if (!GetVarint64(&in, &n_buckets) || n_buckets > in.size()) return bad("bad bucket count");
  bool first = true;
  int64_t prev = 0;
  for (uint64_t i = 0; i < n_buckets; ++i) {
    int64_t start;
    uint64_t width_s, n_rows;
    if (!GetSigned(&in, &start) || !GetVarint64(&in, &width_s) || in.empty()) return bad("bad bucket header");
    const int64_t width = static_cast<int64_t>(std::min<uint64_t>(width_s, 1u << 20)) * 1000000000;
    if (!AlignedWidth(width) || FloorTo(start, width) != start || (!first && start <= prev))
      return bad("bucket " + std::to_string(i) + " is not aligned or out of order");
    first = false;
    prev = start;
    Bucket& b = t.buckets_[start];
    b.width_ns = width;
    b.overflow = in[0] != 0;
    in.remove_prefix(1);
    if (!GetVarint64(&in, &n_rows) || n_rows > in.size()) return bad("bad row count");
    for (uint64_t r = 0; r < n_rows; ++r) {
      Tuple tu;
      uint32_t* fields[] = {&tu.project, &tu.agent, &tu.tool, &tu.model, &tu.service, &tu.environment};
      for (uint32_t* f : fields) {
        uint64_t x;
        if (!GetVarint64(&in, &x) || x >= ids.size()) return bad("bad string reference");
        *f = ids[static_cast<size_t>(x)];
      }
      if (in.size() < 2) return bad("truncated row");
      tu.status = static_cast<uint8_t>(in[0]);
      tu.kind = static_cast<uint8_t>(in[1]);
      in.remove_prefix(2);
      Values v;
      for (int64_t* n : {&v.count, &v.errors, &v.interrupts, &v.llm_calls, &v.tool_calls, &v.truncated}) {
        uint64_t x;
        if (!GetVarint64(&in, &x)) return bad("truncated row");
        *n = static_cast<int64_t>(x);
      }
      for (int64_t* n : {&v.input_tokens, &v.output_tokens, &v.cache_read_tokens, &v.cache_write_tokens,
                         &v.reasoning_tokens})
        if (!GetSigned(&in, n)) return bad("truncated row");
      uint64_t known;
      if (!GetDouble(&in, &v.cost_usd) || !GetVarint64(&in, &known)) return bad("truncated row");
      v.cost_known = static_cast<int64_t>(known);
      if (!SparseSketch::Decode(&in, &v.duration_ns) || !SparseSketch::Decode(&in, &v.cost))
        return bad("malformed sketch");
      if (v.count <= 0 || v.duration_ns.count() != static_cast<uint64_t>(v.count)) return bad("inconsistent row");
      if (b.Find(tu)) return bad("a tuple appears twice in one bucket");
      *b.Insert(tu) = std::move(v);
      ++t.rows_;
    }
  }
  if (!in.empty()) return bad(std::to_string(in.size()) + " trailing bytes");
  *out = std::move(t);
  return Status::OK();
}

// ---- Answering aggregate queries

namespace {

bool RolledDim(AggDim d) { return d != AggDim::kSession && d != AggDim::kName; }

struct Compiled {
  bool impossible = false;
  std::vector<uint32_t> projects;
  uint32_t service = 0, agent = 0, model = 0, tool = 0, environment = 0;  // 0: no filter
  bool has_service = false, has_agent = false, has_model = false, has_tool = false, has_environment = false;
};

Compiled Compile(const StringPool& pool, const AggregateFilter& f) {
  Compiled c;
  auto one = [&](const std::string& s, uint32_t* id, bool* has) {
    if (s.empty()) return;
    *has = true;
    *id = pool.Find(s);
    if (*id == StringPool::kMissing) c.impossible = true;
  };
  for (const auto& p : f.projects) {
    uint32_t id = pool.Find(p);
    if (id != StringPool::kMissing) c.projects.push_back(id);
  }
  if (!f.projects.empty() && c.projects.empty()) c.impossible = true;
  one(f.service, &c.service, &c.has_service);
  one(f.agent, &c.agent, &c.has_agent);
  one(f.model, &c.model, &c.has_model);
  one(f.tool, &c.tool, &c.has_tool);
  one(f.environment, &c.environment, &c.has_environment);
  return c;
}

bool Matches(const Tuple& t, const Compiled& c, const AggregateFilter& f) {
  if (f.status && t.status != static_cast<uint8_t>(*f.status)) return false;
  if (f.kind && t.kind != static_cast<uint8_t>(*f.kind)) return false;
  if (!c.projects.empty() && std::find(c.projects.begin(), c.projects.end(), t.project) == c.projects.end())
    return false;
  if (c.has_service && t.service != c.service) return false;
  if (c.has_agent && t.agent != c.agent) return false;
  if (c.has_model && t.model != c.model) return false;
  if (c.has_tool && t.tool != c.tool) return false;
  if (c.has_environment && t.environment != c.environment) return false;
  return true;
}

// Visits the buckets of the tables that intersect [from, to] once mapped to the cuts'
// granularity: fn(bucket, mapped start, mapped width).
template <typename Fn>
void ForEachBucket(const std::vector<const RollupTable*>& tables, int64_t from, int64_t to, Fn&& fn) {
  const Cuts& cuts = tables[0]->cuts();
  // A finer bucket (a memtable's minute) may map to a coarser one that intersects the
  // range while starting outside it: visit whole days around it, then test the mapping.
  const int64_t last = to >= kMaxTime ? INT64_MAX : FloorTo(ClampTime(to), kDayNs) + kDayNs - 1;
  for (const RollupTable* t : tables) {
    if (!t) continue;
    const auto& buckets = t->buckets();
    auto it = from == INT64_MIN ? buckets.begin() : buckets.lower_bound(FloorTo(ClampTime(from), kDayNs));
    for (; it != buckets.end() && it->first <= last; ++it) {
      const int64_t w = std::max(it->second.width_ns, cuts.WidthAt(it->first));
      const int64_t start = FloorTo(it->first, w);
      if (start + w <= from || start > to) continue;
      fn(it->second, start, w);
    }
  }
}

struct GroupKey {
  uint64_t w[6] = {0, 0, 0, 0, 0, 0};  // ids two to a word; the time bucket in w[5]
  bool operator==(const GroupKey&) const = default;
};
struct GroupKeyHash {
  size_t operator()(const GroupKey& k) const {
    uint64_t h = 0;
    for (uint64_t x : k.w) h = TraceKey::Mix64(h ^ x);
    return static_cast<size_t>(h);
  }
};

}  // namespace

bool CanAnswer(const AggregateQuery& q, const std::vector<const RollupTable*>& tables, bool by_user) {
  if (!q.allow_rollups || tables.empty() || !tables[0]) return false;
  const AggregateFilter& f = q.filter;
  if (by_user) {
    if (q.level != AggLevel::kTrace || (q.sketches & ~tables[0]->run_sketches()) || !f.service.empty() ||
        !f.environment.empty())
      return false;
    for (AggDim d : q.group_by)
      if (d != AggDim::kUser && d != AggDim::kProject && d != AggDim::kStatus && d != AggDim::kTime) return false;
  } else if (std::find(q.group_by.begin(), q.group_by.end(), AggDim::kUser) != q.group_by.end()) {
    return false;
  }
  if (q.level == AggLevel::kTrace &&
      (!f.agent.empty() || f.kind || !f.name.empty() || !f.model.empty() || !f.tool.empty()))
    return false;
  if (!f.session_id.empty() || !f.user_id.empty() || !f.name.empty() || f.min_duration_ns || f.max_duration_ns ||
      f.min_cost_usd || !f.attrs.empty() || !f.text.empty())
    return false;
  if (!std::all_of(q.group_by.begin(), q.group_by.end(), RolledDim)) return false;
  if (q.level == AggLevel::kSpan && (q.sketches & ~uint32_t{kSketchDuration | kSketchCost})) return false;
  const int64_t from = f.from_ns.value_or(INT64_MIN), to = f.to_ns.value_or(INT64_MAX);
  // Every bucket in the range (as it maps) must fall inside one query bucket.
  bool overflow = false;
  int64_t coarsest = kMinuteNs;
  ForEachBucket(tables, from, to, [&](const Bucket& b, int64_t, int64_t w) {
    overflow |= b.overflow;
    coarsest = std::max(coarsest, w);
  });
  if (std::find(q.group_by.begin(), q.group_by.end(), AggDim::kTime) != q.group_by.end() &&
      (q.bucket_ns <= 0 || q.bucket_ns % coarsest != 0))
    return false;
  return !overflow;
}

namespace {

// The row's place in AggOrder (Aggregator::Finish orders the same way).
double OrderValue(AggOrder o, const AggregateRow& r) {
  switch (o) {
    case AggOrder::kCount: return static_cast<double>(r.count);
    case AggOrder::kErrors: return static_cast<double>(r.errors);
    case AggOrder::kCost: return r.cost_usd;
    case AggOrder::kTokens: return static_cast<double>(r.input_tokens + r.output_tokens);
    default: return 0;
  }
}

}  // namespace

Result<int64_t> Answer(const AggregateQuery& q, const StringPool& pool, const std::vector<const RollupTable*>& tables,
                       Aggregator* agg) {
  const AggregateFilter& f = q.filter;
  const Compiled c = Compile(pool, f);
  if (c.impossible) return int64_t{0};
  const int64_t from = f.from_ns.value_or(INT64_MIN), to = f.to_ns.value_or(INT64_MAX);
  const bool dur = q.sketches & kSketchDuration, cost = q.sketches & kSketchCost, steps = q.sketches & kSketchSteps;
  const bool sketches = dur || cost || steps;
  const bool runs = q.level == AggLevel::kTrace;
  struct Group {
    Tuple tuple;
    int64_t bucket = 0;
    AggregateRow row;
    std::vector<const Values*> sources;  // the rows whose sketches it merges
  };
  // Pass 1: match and group on the tuples alone, sum the scalars, and note which rows
  // each group's sketches come from.
  std::unordered_map<GroupKey, uint32_t, GroupKeyHash> ids;
  std::vector<Group> groups;
  int64_t read = 0;
  GroupKey key;
  ForEachBucket(tables, from, to, [&](const Bucket& b, int64_t start, int64_t) {
    const std::vector<Tuple>& tuples = b.tuples();
    const std::vector<Values>& values = b.values();
    read += static_cast<int64_t>(tuples.size());
    for (size_t i = 0; i < tuples.size(); ++i) {
      const Tuple& t = tuples[i];
      if (!Matches(t, c, f)) continue;
      int64_t qbucket = 0;
      key = GroupKey();
      for (size_t d = 0; d < q.group_by.size(); ++d) {
        uint64_t part = 0;
        switch (q.group_by[d]) {
          case AggDim::kTool: part = t.tool; break;
          case AggDim::kAgent: part = t.agent; break;
          case AggDim::kModel: part = t.model; break;
          case AggDim::kService: part = t.service; break;
          case AggDim::kProject: part = t.project; break;
          case AggDim::kEnvironment: part = t.environment; break;
          case AggDim::kStatus: part = t.status; break;
          case AggDim::kKind: part = t.kind; break;
          case AggDim::kUser: part = t.user; break;
          case AggDim::kTime:
            qbucket = FloorTo(start, q.bucket_ns);
            part = static_cast<uint64_t>(qbucket);
            break;
          default: break;  // CanAnswer let no other dimension through
        }
        if (q.group_by[d] == AggDim::kTime) {
          key.w[5] = part;
        } else {
          key.w[d / 2] |= part << (32 * (d % 2));
        }
      }
      auto [it, added] = ids.try_emplace(key, static_cast<uint32_t>(groups.size()));
      if (added) {
        groups.emplace_back();
        groups.back().tuple = t;
        groups.back().bucket = qbucket;
      }
      Group& g = groups[it->second];
      const Values& v = values[i];
      AggregateRow& r = g.row;
      r.count += v.count;
      r.spans += runs ? v.spans : v.count;
      r.errors += v.errors;
      r.interrupts += v.interrupts;
      r.llm_calls += v.llm_calls;
      r.tool_calls += v.tool_calls;
      r.truncated += v.truncated;
      r.input_tokens += v.input_tokens;
      r.output_tokens += v.output_tokens;
      r.cache_read_tokens += v.cache_read_tokens;
      r.cache_write_tokens += v.cache_write_tokens;
      r.reasoning_tokens += v.reasoning_tokens;
      r.cost_usd += v.cost_usd;
      r.cost_known += v.cost_known;
      if (sketches) g.sources.push_back(&v);
    }
  });
  // Keys, for the order and the answer.
  for (Group& g : groups) {
    AggregateRow& r = g.row;
    r.bucket_start_ns = g.bucket;
    const Tuple& t = g.tuple;
    for (AggDim d : q.group_by) {
      switch (d) {
        case AggDim::kTool: r.key.emplace_back(pool.Get(t.tool)); break;
        case AggDim::kAgent: r.key.emplace_back(pool.Get(t.agent)); break;
        case AggDim::kModel: r.key.emplace_back(pool.Get(t.model)); break;
        case AggDim::kService: r.key.emplace_back(pool.Get(t.service)); break;
        case AggDim::kProject: r.key.emplace_back(pool.Get(t.project)); break;
        case AggDim::kEnvironment: r.key.emplace_back(pool.Get(t.environment)); break;
        case AggDim::kUser: r.key.emplace_back(pool.Get(t.user)); break;
        case AggDim::kStatus: r.key.emplace_back(model::StatusName(static_cast<model::SpanStatus>(t.status))); break;
        case AggDim::kKind: r.key.emplace_back(model::KindName(static_cast<model::SpanKind>(t.kind))); break;
        case AggDim::kTime: r.key.push_back(std::to_string(g.bucket)); break;
        default: r.key.emplace_back(); break;
      }
    }
  }
  // Pass 2: sketches, only for the groups the answer keeps. With a limit and an order
  // that needs no sketch, the aggregator keeps the first `limit` groups in the order
  // below (ties by key), so the others' sketches would be thrown away.
  std::vector<uint32_t> answered(groups.size());
  for (uint32_t i = 0; i < groups.size(); ++i) answered[i] = i;
  if (sketches && q.limit > 0 && groups.size() > q.limit && q.order != AggOrder::kDurationP95) {
    auto before = [&](uint32_t x, uint32_t y) {
      const AggregateRow &a = groups[x].row, &b = groups[y].row;
      if (q.order != AggOrder::kKey) {
        const double u = OrderValue(q.order, a), v = OrderValue(q.order, b);
        if (u != v) return u > v;
      }
      for (size_t i = 0; i < q.group_by.size(); ++i) {
        if (q.group_by[i] == AggDim::kTime) {
          if (a.bucket_start_ns != b.bucket_start_ns) return a.bucket_start_ns < b.bucket_start_ns;
        } else if (a.key[i] != b.key[i]) {
          return a.key[i] < b.key[i];
        }
      }
      return false;
    };
    std::partial_sort(answered.begin(), answered.begin() + static_cast<ptrdiff_t>(q.limit), answered.end(), before);
    answered.resize(q.limit);
  }
  if (sketches) {
    std::vector<const SparseSketch*> parts;
    auto merge = [&](Group& g, SparseSketch Values::*member, DDSketch* out) {
      parts.clear();
      for (const Values* v : g.sources) parts.push_back(&(v->*member));
      SparseSketch::MergeAllInto(parts, out);
    };
    for (uint32_t i : answered) {
      Group& g = groups[i];
      if (dur) merge(g, &Values::duration_ns, &g.row.duration_ns);
      if (cost) merge(g, &Values::cost, &g.row.cost);
      if (steps) merge(g, &Values::steps, &g.row.steps);
    }
  }
  for (Group& g : groups) SL_RETURN_IF_ERROR(agg->MergeRow(g.row));
  return read;
}

}  // namespace sightline::store::rollup
