// The metrics API on top of SpanStore::Aggregate. "Runs" are traces (trace-level rows
// from the store's trace aggregates); "spans" are single calls (span-level scans).
// Durations are reported in milliseconds, costs in USD; a value that cannot be
// computed (a rate over nothing, a quantile of no rows) is null.
#include "api/metrics_handlers.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <set>

#include "api/json_encode.h"
#include "api/router.h"
#include "common/time_util.h"

namespace sightline::api {
namespace {

using store::AggDim;
using store::AggLevel;
using store::AggregateQuery;
using store::AggregateRow;

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kMaxPoints = 10000;



// Whole numbers (counts, sums of tokens) as JSON integers, NaN/inf as null.
void Number(JsonWriter& w, double v) {
  if (std::isfinite(v) && v == std::floor(v) && std::abs(v) < 9e15) {
    w.Int64(static_cast<int64_t>(v));
  } else if (std::isfinite(v)) {
    w.Double(v);
  } else {
    w.Null();
  }
}

double Ratio(int64_t a, int64_t b) { return b > 0 ? static_cast<double>(a) / static_cast<double>(b) : NAN; }
double Ms(double ns) { return ns / 1e6; }

// The request split into the search filters (query_params.h) and this endpoint's own
// parameters.
struct Parsed {
  store::TraceQuery search;
  std::map<std::string, std::string> own;
};

// A project name no span carries (stored names are valid UTF-8): the filter of a
// caller who may read none of the projects asked for, so every metric comes out empty
// in its usual shape.
constexpr std::string_view kNoProject = "\xff";

Result<Parsed> Split(const QueryParams& params, const auth::Principal& caller, const std::set<std::string>& own_names) {
  Parsed p;
  QueryParams rest;
  for (const auto& [n, v] : params) {
    if (n == "cursor") return BadParameter(n, "metrics answers are not paged");
    if (!own_names.count(n)) {
      rest.emplace_back(n, v);
      continue;
    }
    if (p.own.count(n)) return BadParameter(n, "given more than once");
    if (!v.empty()) p.own[n] = v;
  }
  SL_ASSIGN_OR_RETURN(p.search, ParseTraceQuery(rest));
  if (!auth::ScopeProjects(caller, &p.search.projects)) p.search.projects = {std::string(kNoProject)};
  return p;
}

store::AggregateFilter FilterOf(const store::TraceQuery& q) {
  store::AggregateFilter f;
  f.from_ns = q.from_ns;
  f.to_ns = q.to_ns;
  f.projects = q.projects;
  f.service = q.service;
  f.agent = q.agent;
  f.session_id = q.session_id;
  f.user_id = q.user_id;
  f.name = q.name;
  f.model = q.model;
  f.tool = q.tool;
  f.status = q.status;
  f.kind = q.kind;
  f.min_duration_ns = q.min_duration_ns;
  f.max_duration_ns = q.max_duration_ns;
  f.min_cost_usd = q.min_cost_usd;
  f.attrs = q.attrs;
  f.text = q.text;
  return f;
}

const std::map<std::string, AggDim, std::less<>>& Dims() {
  static const std::map<std::string, AggDim, std::less<>> kDims = {
      {"tool", AggDim::kTool},       {"agent", AggDim::kAgent},   {"model", AggDim::kModel},
      {"service", AggDim::kService}, {"user", AggDim::kUser},     {"session", AggDim::kSession},
      {"project", AggDim::kProject}, {"status", AggDim::kStatus}, {"kind", AggDim::kKind},
      {"name", AggDim::kName}};
  return kDims;
}
bool SpanOnly(AggDim d) { return d == AggDim::kTool || d == AggDim::kModel || d == AggDim::kKind || d == AggDim::kName; }

// A metric: how to read it from a row, and what it needs.
struct Metric {
  bool spans_only = false;   // the trace aggregates do not carry it
  uint32_t sketches = 0;
  double (*value)(const AggregateRow&);
};

double Quantile(const DDSketch& s, double q) { return s.empty() ? NAN : s.Quantile(q); }

const std::map<std::string, Metric, std::less<>>& Metrics() {
  static const std::map<std::string, Metric, std::less<>> kMetrics = {
      {"count", {false, 0, [](const AggregateRow& r) { return double(r.count); }}},
      {"errors", {false, 0, [](const AggregateRow& r) { return double(r.errors); }}},
      {"interrupts", {false, 0, [](const AggregateRow& r) { return double(r.interrupts); }}},
      {"error_rate", {false, 0, [](const AggregateRow& r) { return Ratio(r.errors, r.count); }}},
      {"interrupt_rate", {false, 0, [](const AggregateRow& r) { return Ratio(r.interrupts, r.count); }}},
      {"success_rate", {false, 0,
                        [](const AggregateRow& r) { return Ratio(r.count - r.errors - r.interrupts, r.count); }}},
      {"cost", {false, 0, [](const AggregateRow& r) { return r.cost_usd; }}},
      {"tokens", {false, 0, [](const AggregateRow& r) { return double(r.input_tokens + r.output_tokens); }}},
      {"input_tokens", {false, 0, [](const AggregateRow& r) { return double(r.input_tokens); }}},
      {"output_tokens", {false, 0, [](const AggregateRow& r) { return double(r.output_tokens); }}},
      {"cache_read_tokens", {true, 0, [](const AggregateRow& r) { return double(r.cache_read_tokens); }}},
      {"reasoning_tokens", {true, 0, [](const AggregateRow& r) { return double(r.reasoning_tokens); }}},
      {"llm_calls", {false, 0, [](const AggregateRow& r) { return double(r.llm_calls); }}},
      {"tool_calls", {false, 0, [](const AggregateRow& r) { return double(r.tool_calls); }}},
      {"truncated", {true, 0, [](const AggregateRow& r) { return double(r.truncated); }}},
      {"truncation_rate", {true, 0, [](const AggregateRow& r) { return Ratio(r.truncated, r.llm_calls); }}},
      {"duration_p50", {false, store::kSketchDuration,
                        [](const AggregateRow& r) { return Ms(Quantile(r.duration_ns, 0.5)); }}},
      {"duration_p95", {false, store::kSketchDuration,
                        [](const AggregateRow& r) { return Ms(Quantile(r.duration_ns, 0.95)); }}},
      {"duration_p99", {false, store::kSketchDuration,
                        [](const AggregateRow& r) { return Ms(Quantile(r.duration_ns, 0.99)); }}},
  };
  return kMetrics;
}

std::string Names(const auto& map) {
  std::string s;
  for (const auto& [k, v] : map) s += (s.empty() ? "" : ", ") + k;
  return s;
}

Result<const Metric*> MetricParam(const Parsed& p, std::string_view fallback) {
  auto it = p.own.find("metric");
  std::string_view name = it == p.own.end() ? fallback : std::string_view(it->second);
  auto m = Metrics().find(name);
  if (m == Metrics().end()) return BadParameter("metric", "expected one of " + Names(Metrics()) + ", got \"" + std::string(name) + "\"");
  return &m->second;
}

Result<std::vector<AggDim>> GroupByParam(const Parsed& p, const char* name) {
  std::vector<AggDim> dims;
  auto it = p.own.find(name);
  if (it == p.own.end()) return dims;
  auto d = Dims().find(it->second);
  if (d == Dims().end()) return BadParameter(name, "expected one of " + Names(Dims()) + ", got \"" + it->second + "\"");
  dims.push_back(d->second);
  return dims;
}

// level=runs|spans; by default spans when the metric or a dimension needs them.
Result<AggLevel> LevelParam(const Parsed& p, bool need_spans) {
  auto it = p.own.find("level");
  if (it == p.own.end()) return need_spans ? AggLevel::kSpan : AggLevel::kTrace;
  if (it->second == "spans") return AggLevel::kSpan;
  if (it->second == "runs") {
    if (need_spans) return BadParameter("level", "runs cannot answer this metric or group_by (they need span rows)");
    return AggLevel::kTrace;
  }
  return BadParameter("level", "expected runs or spans, got \"" + it->second + "\"");
}

// "30s", "5m", "1h", "1d" or a number of seconds; at least one second.
Result<int64_t> IntervalParam(std::string_view v) {
  size_t digits = 0;
  while (digits < v.size() && std::isdigit(static_cast<unsigned char>(v[digits]))) ++digits;
  std::string_view unit = v.substr(digits);
  int64_t mult = unit.empty() || unit == "s" ? 1 : unit == "m" ? 60 : unit == "h" ? 3600 : unit == "d" ? 86400 : 0;
  if (digits == 0 || digits > 9 || mult == 0 || std::stoll(std::string(v.substr(0, digits))) == 0)
    return BadParameter("interval", "expected a duration such as 60s, 5m, 1h or 1d, got \"" + std::string(v) + "\"");
  return std::stoll(std::string(v.substr(0, digits))) * mult * kSecond;
}


int64_t FloorTo(int64_t t, int64_t w) { return t - (((t % w) + w) % w); }

void WriteRange(JsonWriter& w, const store::AggregateFilter& f) {
  for (auto [key, v] : {std::pair{"from", f.from_ns}, {"to", f.to_ns}}) {
    w.Key(key);
    if (v) {
      w.Int64(*v);
    } else {
      w.Null();
    }
  }
}

void WriteQuantilesMs(JsonWriter& w, const char* key, const DDSketch& s) {
  w.Key(key);
  w.StartObject();
  for (auto [name, q] : {std::pair{"p50", 0.5}, {"p95", 0.95}, {"p99", 0.99}}) {
    w.Key(name);
    Number(w, Ms(Quantile(s, q)));
  }
  w.EndObject();
}

// ---- endpoints

Result<std::string> Overview(store::SpanStore* store, const QueryParams& params, const auth::Principal& caller) {
  SL_ASSIGN_OR_RETURN(Parsed p, Split(params, caller, {}));
  AggregateQuery runs;
  runs.level = AggLevel::kTrace;
  runs.filter = FilterOf(p.search);
  runs.sketches = store::kSketchDuration | store::kSketchCost | store::kSketchSteps;
  SL_ASSIGN_OR_RETURN(store::AggregateResult r, store->Aggregate(runs));
  AggregateQuery spans;
  spans.filter = runs.filter;
  spans.group_by = {AggDim::kKind};
  SL_ASSIGN_OR_RETURN(store::AggregateResult s, store->Aggregate(spans));
  const AggregateRow& t = r.rows.at(0);
  // Resumes: null when the store cannot count them for this filter (attr.*, q).
  auto resumes = store->CountResumes(runs.filter);
  AggregateRow all, tools, llms;
  for (const auto& row : s.rows) {
    AggregateRow* into = row.key[0] == "tool" ? &tools : row.key[0] == "llm" ? &llms : nullptr;
    for (AggregateRow* x : {&all, into}) {
      if (!x) continue;
      x->count += row.count;
      x->errors += row.errors;
      x->interrupts += row.interrupts;
      x->truncated += row.truncated;
      x->cache_read_tokens += row.cache_read_tokens;
      x->reasoning_tokens += row.reasoning_tokens;
    }
  }
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  WriteRange(w, runs.filter);
  w.Key("runs");
  w.StartObject();
  w.Key("count"), w.Int64(t.count);
  w.Key("ok"), w.Int64(t.count - t.errors - t.interrupts);
  w.Key("errors"), w.Int64(t.errors);
  w.Key("interrupts"), w.Int64(t.interrupts);
  w.Key("success_rate"), Number(w, Ratio(t.count - t.errors - t.interrupts, t.count));
  w.Key("error_rate"), Number(w, Ratio(t.errors, t.count));
  w.Key("interrupt_rate"), Number(w, Ratio(t.interrupts, t.count));
  w.Key("resumes");
  if (resumes.ok()) w.Int64(resumes->resumed);
  else w.Null();
  w.Key("resume_rate"), Number(w, resumes.ok() ? Ratio(resumes->resumed, resumes->interrupted) : std::nan(""));
  w.Key("cost_usd"), w.Double(t.cost_usd);
  w.Key("input_tokens"), w.Int64(t.input_tokens);
  w.Key("output_tokens"), w.Int64(t.output_tokens);
  w.Key("llm_calls"), w.Int64(t.llm_calls);
  w.Key("tool_calls"), w.Int64(t.tool_calls);
  WriteQuantilesMs(w, "duration_ms", t.duration_ns);
  w.Key("cost_per_run_usd");
  w.StartObject();
  w.Key("mean"), Number(w, t.cost.mean());
  w.Key("p50"), Number(w, Quantile(t.cost, 0.5));
  w.Key("p95"), Number(w, Quantile(t.cost, 0.95));
  w.EndObject();
  w.Key("steps");
  w.StartObject();
  w.Key("p50"), Number(w, Quantile(t.steps, 0.5));
  w.Key("p95"), Number(w, Quantile(t.steps, 0.95));
  w.Key("max"), Number(w, t.steps.max());
  w.EndObject();
  w.EndObject();
  w.Key("spans");
  w.StartObject();
  w.Key("count"), w.Int64(all.count);
  w.Key("errors"), w.Int64(all.errors);
  w.Key("tool_calls"), w.Int64(tools.count);
  w.Key("tool_errors"), w.Int64(tools.errors);
  w.Key("tool_error_rate"), Number(w, Ratio(tools.errors, tools.count));
  w.Key("llm_calls"), w.Int64(llms.count);
  w.Key("llm_errors"), w.Int64(llms.errors);
  w.Key("llm_error_rate"), Number(w, Ratio(llms.errors, llms.count));
  w.Key("truncated"), w.Int64(llms.truncated);
  w.Key("truncation_rate"), Number(w, Ratio(llms.truncated, llms.count));
  w.Key("cache_read_tokens"), w.Int64(all.cache_read_tokens);
  w.Key("reasoning_tokens"), w.Int64(all.reasoning_tokens);
  w.EndObject();
  w.EndObject();
  return Finish(buf);
}

Result<std::string> Timeseries(store::SpanStore* store, const QueryParams& params, const auth::Principal& caller) {
  SL_ASSIGN_OR_RETURN(Parsed p, Split(params, caller, {"metric", "group_by", "interval", "level"}));
  SL_ASSIGN_OR_RETURN(const Metric* metric, MetricParam(p, "count"));
  SL_ASSIGN_OR_RETURN(std::vector<AggDim> dims, GroupByParam(p, "group_by"));
  const bool span_dim = !dims.empty() && SpanOnly(dims[0]);
  SL_ASSIGN_OR_RETURN(AggLevel level, LevelParam(p, metric->spans_only || span_dim));
  AggregateQuery q;
  q.level = level;
  q.filter = FilterOf(p.search);
  const int64_t now = UnixNowNs();
  if (!q.filter.to_ns) q.filter.to_ns = now;
  if (!q.filter.from_ns) q.filter.from_ns = *q.filter.to_ns - 24 * 3600 * kSecond;
  if (*q.filter.from_ns > *q.filter.to_ns) return BadParameter("from", "later than to");
  const int64_t span = *q.filter.to_ns - *q.filter.from_ns;
  int64_t interval = 0;
  if (auto it = p.own.find("interval"); it != p.own.end()) {
    SL_ASSIGN_OR_RETURN(interval, IntervalParam(it->second));
  } else {  // about 100 points or fewer
    for (int64_t s : {60, 300, 900, 3600, 6 * 3600, 86400, 7 * 86400, 30 * 86400}) {
      interval = s * kSecond;
      if (span / interval < 120) break;
    }
  }
  const int64_t first = FloorTo(*q.filter.from_ns, interval), last = FloorTo(*q.filter.to_ns, interval);
  if ((last - first) / interval + 1 > kMaxPoints)
    return BadParameter("interval", "gives more than " + std::to_string(kMaxPoints) + " points over the range; use a wider one");
  q.group_by = dims;
  q.group_by.push_back(AggDim::kTime);
  q.bucket_ns = interval;
  q.sketches = metric->sketches;
  SL_ASSIGN_OR_RETURN(store::AggregateResult res, store->Aggregate(q));

  // Series by group; the top `limit` groups by row count.
  std::map<std::string, std::map<int64_t, const AggregateRow*>> series;
  std::map<std::string, int64_t> weight;
  for (const auto& row : res.rows) {
    std::string g = dims.empty() ? "" : row.key[0];
    series[g][row.bucket_start_ns] = &row;
    weight[g] += row.count;
  }
  std::vector<std::string> groups;
  for (const auto& [g, n] : weight) groups.push_back(g);
  std::stable_sort(groups.begin(), groups.end(), [&](const auto& a, const auto& b) { return weight[a] > weight[b]; });
  if (groups.size() > static_cast<size_t>(p.search.limit)) groups.resize(static_cast<size_t>(p.search.limit));
  if (dims.empty() && groups.empty()) groups.push_back("");  // the one series, all zero
  const bool sum_like = metric->sketches == 0 && metric->value(AggregateRow{}) == 0;

  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("metric"), Str(w, p.own.count("metric") ? p.own["metric"] : "count");
  w.Key("level"), Str(w, level == AggLevel::kTrace ? "runs" : "spans");
  w.Key("group_by");
  if (dims.empty()) {
    w.Null();
  } else {
    Str(w, p.own["group_by"]);
  }
  w.Key("interval_ms"), w.Int64(interval / 1'000'000);
  WriteRange(w, q.filter);
  w.Key("series");
  w.StartArray();
  for (const auto& g : groups) {
    w.StartObject();
    w.Key("group");
    if (dims.empty()) {
      w.Null();
    } else {
      Str(w, g);
    }
    w.Key("points");
    w.StartArray();
    const auto& pts = series[g];
    for (int64_t t = first; t <= last; t += interval) {
      w.StartArray();
      w.Int64(t);
      auto it = pts.find(t);
      if (it != pts.end()) {
        Number(w, metric->value(*it->second));
      } else {
        if (sum_like) {
          w.Int(0);
        } else {
          w.Null();
        }
      }
      w.EndArray();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.Key("groups"), w.Int64(static_cast<int64_t>(weight.size()));
  w.EndObject();
  return Finish(buf);
}

Result<std::string> Distribution(store::SpanStore* store, const QueryParams& params, const auth::Principal& caller) {
  SL_ASSIGN_OR_RETURN(Parsed p, Split(params, caller, {"metric", "level", "bins"}));
  auto it = p.own.find("metric");
  const std::string metric = it == p.own.end() ? "" : it->second;
  if (metric != "steps" && metric != "cost" && metric != "duration")
    return BadParameter("metric", "expected steps, cost or duration, got \"" + metric + "\"");
  SL_ASSIGN_OR_RETURN(AggLevel level, LevelParam(p, false));
  if (metric == "steps" && level == AggLevel::kSpan) return BadParameter("level", "steps are counted per run");
  int bins = 30;
  if (auto b = p.own.find("bins"); b != p.own.end()) {
    bins = std::atoi(b->second.c_str());
    if (bins < 1 || bins > 200 || b->second.find_first_not_of("0123456789") != std::string::npos)
      return BadParameter("bins", "expected an integer from 1 to 200, got \"" + b->second + "\"");
  }
  AggregateQuery q;
  q.level = level;
  q.filter = FilterOf(p.search);
  q.sketches = metric == "steps" ? store::kSketchSteps : metric == "cost" ? store::kSketchCost : store::kSketchDuration;
  SL_ASSIGN_OR_RETURN(store::AggregateResult res, store->Aggregate(q));
  const AggregateRow& row = res.rows.at(0);
  const DDSketch& s = metric == "steps" ? row.steps : metric == "cost" ? row.cost : row.duration_ns;
  const double scale = metric == "duration" ? 1e-6 : 1;  // ns -> ms
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("metric"), Str(w, metric);
  w.Key("level"), Str(w, level == AggLevel::kTrace ? "runs" : "spans");
  w.Key("unit"), Str(w, metric == "duration" ? "ms" : metric == "cost" ? "usd" : "spans");
  WriteRange(w, q.filter);
  w.Key("count"), w.Uint64(s.count());
  w.Key("min"), Number(w, s.min() * scale);
  w.Key("max"), Number(w, s.max() * scale);
  w.Key("mean"), Number(w, s.mean() * scale);
  w.Key("sum"), Number(w, s.sum() * scale);
  w.Key("quantiles");
  w.StartObject();
  for (auto [name, qq] : {std::pair{"p50", 0.5}, {"p75", 0.75}, {"p90", 0.9}, {"p95", 0.95}, {"p99", 0.99}}) {
    w.Key(name);
    Number(w, Quantile(s, qq) * scale);
  }
  w.EndObject();
  // Histogram: the sketch's buckets (2% wide), merged into at most `bins` bins of about
  // equal bucket count, so wide ranges stay readable.
  struct Bin {
    double lo, hi;
    uint64_t n;
  };
  std::vector<Bin> raw;
  s.ForEachBucket([&](double lo, double hi, uint64_t n) { raw.push_back({lo * scale, hi * scale, n}); });
  const size_t per = (raw.size() + static_cast<size_t>(bins) - 1) / static_cast<size_t>(bins);
  w.Key("buckets");
  w.StartArray();
  for (size_t i = 0; i < raw.size(); i += per) {
    Bin b = raw[i];
    for (size_t j = i + 1; j < std::min(raw.size(), i + per); ++j) {
      b.hi = raw[j].hi;
      b.n += raw[j].n;
    }
    w.StartObject();
    // Clamp to the observed range so the first and last bins do not overstate it.
    w.Key("lower"), Number(w, std::max(b.lo, s.min() * scale));
    w.Key("upper"), Number(w, std::min(b.hi, s.max() * scale));
    w.Key("count"), w.Uint64(b.n);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return Finish(buf);
}

Result<std::string> Top(store::SpanStore* store, const QueryParams& params, const auth::Principal& caller) {
  SL_ASSIGN_OR_RETURN(Parsed p, Split(params, caller, {"metric", "by", "level"}));
  SL_ASSIGN_OR_RETURN(const Metric* metric, MetricParam(p, "cost"));
  if (!p.own.count("by")) return BadParameter("by", "required: one of " + Names(Dims()));
  SL_ASSIGN_OR_RETURN(std::vector<AggDim> dims, GroupByParam(p, "by"));
  SL_ASSIGN_OR_RETURN(AggLevel level, LevelParam(p, metric->spans_only || SpanOnly(dims[0])));
  AggregateQuery q;
  q.level = level;
  q.filter = FilterOf(p.search);
  q.group_by = dims;
  q.sketches = metric->sketches | store::kSketchCost;
  // A metric the store can order by: it keeps the top `limit` groups itself (bounded:
  // by session, never refused past max_groups), merges sketches for those only, and
  // gives the median over every group.
  const std::string metric_name = p.own.count("metric") ? p.own["metric"] : "cost";
  static const std::map<std::string, store::AggOrder, std::less<>> kOrders = {
      {"count", store::AggOrder::kCount},
      {"errors", store::AggOrder::kErrors},
      {"cost", store::AggOrder::kCost},
      {"tokens", store::AggOrder::kTokens}};
  if (auto o = kOrders.find(metric_name); o != kOrders.end()) {
    q.order = o->second;
    q.limit = static_cast<size_t>(p.search.limit);
  }
  SL_ASSIGN_OR_RETURN(store::AggregateResult res, store->Aggregate(q));
  // The median of the metric over all groups: the store's when it ordered, else here.
  double median = res.group_median;
  if (q.order == store::AggOrder::kKey && !res.rows.empty()) {
    std::vector<double> all;
    for (const auto& r : res.rows)
      if (double x = metric->value(r); std::isfinite(x)) all.push_back(x);
    if (!all.empty()) {
      auto mid = all.begin() + static_cast<ptrdiff_t>((all.size() - 1) / 2);
      std::nth_element(all.begin(), mid, all.end());
      median = *mid;
    }
  }
  // Order by the metric's own value (rates and quantiles included), then key.
  std::vector<const AggregateRow*> rows;
  for (const auto& r : res.rows) rows.push_back(&r);
  auto v = [&](const AggregateRow* r) {
    double x = metric->value(*r);
    return std::isfinite(x) ? x : -INFINITY;
  };
  std::stable_sort(rows.begin(), rows.end(), [&](auto a, auto b) { return v(a) > v(b); });
  if (rows.size() > static_cast<size_t>(p.search.limit)) rows.resize(static_cast<size_t>(p.search.limit));
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("metric"), Str(w, p.own.count("metric") ? p.own["metric"] : "cost");
  w.Key("by"), Str(w, p.own["by"]);
  w.Key("level"), Str(w, level == AggLevel::kTrace ? "runs" : "spans");
  WriteRange(w, q.filter);
  w.Key("groups"), w.Int64(res.groups);
  w.Key("median"), Number(w, median);
  w.Key("items");
  w.StartArray();
  for (const AggregateRow* r : rows) {
    w.StartObject();
    w.Key("key"), Str(w, r->key[0]);
    w.Key("value"), Number(w, metric->value(*r));
    w.Key("count"), w.Int64(r->count);
    w.Key("errors"), w.Int64(r->errors);
    w.Key("cost_usd"), w.Double(r->cost_usd);
    w.Key("median_cost_usd"), Number(w, Quantile(r->cost, 0.5));
    if (q.sketches & store::kSketchDuration) {  // a duration metric: all three quantiles in one answer
      w.Key("duration_ms");
      w.StartObject();
      for (auto [name, qq] : {std::pair{"p50", 0.5}, {"p95", 0.95}, {"p99", 0.99}}) {
        w.Key(name);
        Number(w, Ms(Quantile(r->duration_ns, qq)));
      }
      w.EndObject();
    }
    w.Key("input_tokens"), w.Int64(r->input_tokens);
    w.Key("output_tokens"), w.Int64(r->output_tokens);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return Finish(buf);
}

}  // namespace

void HandleMetricsRequest(store::SpanStore* store, const std::string& endpoint, const QueryParams& params,
                          const auth::Principal& caller, const Responder& respond) {
  Result<std::string> body = Status::NotFound("no metrics endpoint \"" + endpoint +
                                              "\" (overview, timeseries, distribution, top)");
  if (endpoint == "overview") body = Overview(store, params, caller);
  else if (endpoint == "timeseries") body = Timeseries(store, params, caller);
  else if (endpoint == "distribution") body = Distribution(store, params, caller);
  else if (endpoint == "top") body = Top(store, params, caller);
  if (!body.ok()) return respond(ApiRouter::Error(body.status()));
  respond(ApiRouter::Json(200, std::move(body).value()));
}

}  // namespace sightline::api
