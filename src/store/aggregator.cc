#include "store/aggregator.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "store/span_codec.h"

namespace sightline::store {
namespace {

using columnar::SpanColumns;
namespace col = columnar;

std::string_view DimName(AggDim d) {
  switch (d) {
    case AggDim::kTool: return "tool";
    case AggDim::kAgent: return "agent";
    case AggDim::kModel: return "model";
    case AggDim::kService: return "service";
    case AggDim::kUser: return "user";
    case AggDim::kSession: return "session";
    case AggDim::kProject: return "project";
    case AggDim::kStatus: return "status";
    case AggDim::kKind: return "kind";
    case AggDim::kEnvironment: return "environment";
    case AggDim::kName: return "name";
    case AggDim::kTime: return "time";
  }
  return "?";
}

int64_t FloorBucket(int64_t t, int64_t width) {
  int64_t q = t / width;
  if (t % width != 0 && t < 0) --q;
  return q * width;
}

void AppendPart(std::string* key, std::string_view part) {
  auto n = static_cast<uint32_t>(part.size());
  key->append(reinterpret_cast<const char*>(&n), 4);
  key->append(part);
}

void AppendBucket(std::string* key, int64_t bucket) { key->append(reinterpret_cast<const char*>(&bucket), 8); }

void AddInto(AggregateRow* a, const AggregateRow& b) {
  a->count += b.count;
  a->errors += b.errors;
  a->interrupts += b.interrupts;
  a->spans += b.spans;
  a->llm_calls += b.llm_calls;
  a->tool_calls += b.tool_calls;
  a->truncated += b.truncated;
  a->input_tokens += b.input_tokens;
  a->output_tokens += b.output_tokens;
  a->cache_read_tokens += b.cache_read_tokens;
  a->cache_write_tokens += b.cache_write_tokens;
  a->reasoning_tokens += b.reasoning_tokens;
  a->cost_usd += b.cost_usd;
  a->cost_known += b.cost_known;
  a->duration_ns.Merge(b.duration_ns);
  a->cost.Merge(b.cost);
  a->steps.Merge(b.steps);
}

bool SpanOnlyDim(AggDim d) { return d == AggDim::kTool || d == AggDim::kModel || d == AggDim::kKind || d == AggDim::kName; }

}  // namespace

Status Aggregator::Validate(const AggregateQuery& q) {
  auto bad = [](const std::string& m) { return Status::InvalidArgument(m); };
  bool has_time = false;
  for (size_t i = 0; i < q.group_by.size(); ++i) {
    AggDim d = q.group_by[i];
    if (std::count(q.group_by.begin(), q.group_by.end(), d) > 1)
      return bad("group_by: " + std::string(DimName(d)) + " given more than once");
    if (q.level == AggLevel::kTrace && SpanOnlyDim(d))
      return bad("group_by: " + std::string(DimName(d)) + " needs span-level rows (a run has many)");
    has_time |= d == AggDim::kTime;
  }
  if (has_time && q.bucket_ns <= 0) return bad("interval: a time bucket must be positive");
  if (q.level == AggLevel::kSpan && (q.sketches & kSketchSteps)) return bad("metric: steps is a per-run (trace) metric");
  if (q.sketches & ~uint32_t{kSketchDuration | kSketchCost | kSketchSteps}) return bad("sketches: unknown bits");
  if (q.order == AggOrder::kDurationP95 && !(q.sketches & kSketchDuration))
    return bad("order: duration p95 needs the duration sketch");
  const auto& f = q.filter;
  if (f.from_ns && f.to_ns && *f.from_ns > *f.to_ns) return bad("from: later than to");
  if (f.min_duration_ns && f.max_duration_ns && *f.min_duration_ns > *f.max_duration_ns)
    return bad("min_duration_ms: greater than max_duration_ms");
  if (q.max_groups == 0) return bad("max_groups: must be positive");
  return Status::OK();
}

Aggregator::Aggregator(const AggregateQuery& query) : q_(query), text_lower_(AsciiLower(query.filter.text)) {}

uint64_t Aggregator::ColumnMask() const {
  uint64_t m = col::kStart | col::kEnd | col::kStatus | col::kKind | col::kTokens | col::kCost | col::kFinishReason;
  const auto& f = q_.filter;
  if (!f.projects.empty()) m |= col::kProject;
  if (!f.service.empty()) m |= col::kService;
  if (!f.agent.empty()) m |= col::kAgentName;
  if (!f.session_id.empty()) m |= col::kSessionId;
  if (!f.user_id.empty()) m |= col::kUserId;
  if (!f.name.empty()) m |= col::kName;
  if (!f.model.empty()) m |= col::kModel;
  if (!f.tool.empty()) m |= col::kToolName;
  if (!f.environment.empty()) m |= col::kEnvironment;
  if (!f.attrs.empty()) m |= col::kAttributes;
  if (!f.text.empty()) m |= col::kInput | col::kOutput;
  for (AggDim d : q_.group_by) {
    switch (d) {
      case AggDim::kTool: m |= col::kToolName; break;
      case AggDim::kAgent: m |= col::kAgentName; break;
      case AggDim::kModel: m |= col::kModel; break;
      case AggDim::kService: m |= col::kService; break;
      case AggDim::kUser: m |= col::kUserId; break;
      case AggDim::kSession: m |= col::kSessionId; break;
      case AggDim::kProject: m |= col::kProject; break;
      case AggDim::kEnvironment: m |= col::kEnvironment; break;
      case AggDim::kName: m |= col::kName; break;
      default: break;  // status, kind, time: always read
    }
  }
  return m;
}

bool Aggregator::SpanMatches(const SpanColumns& c, size_t r) const {
  const auto& f = q_.filter;
  const int64_t start = c.start_ns[r];
  if (f.from_ns && start < *f.from_ns) return false;
  if (f.to_ns && start > *f.to_ns) return false;
  if (f.status && c.status[r] != *f.status) return false;
  if (f.kind && c.kind[r] != *f.kind) return false;
  if (!f.projects.empty() && std::find(f.projects.begin(), f.projects.end(), c.project[r]) == f.projects.end())
    return false;
  if (!f.service.empty() && c.service[r] != f.service) return false;
  if (!f.agent.empty() && c.agent_name[r] != f.agent) return false;
  if (!f.session_id.empty() && c.session_id[r] != f.session_id) return false;
  if (!f.user_id.empty() && c.user_id[r] != f.user_id) return false;
  if (!f.name.empty() && c.name[r] != f.name) return false;
  if (!f.model.empty() && c.model[r] != f.model) return false;
  if (!f.tool.empty() && c.tool_name[r] != f.tool) return false;
  if (!f.environment.empty() && c.environment[r] != f.environment) return false;
  if (f.min_duration_ns || f.max_duration_ns) {
    int64_t d = c.end_ns[r] > start ? c.end_ns[r] - start : 0;
    if (f.min_duration_ns && d < *f.min_duration_ns) return false;
    if (f.max_duration_ns && d > *f.max_duration_ns) return false;
  }
  if (f.min_cost_usd && (col::IsNull(c.cost_usd[r]) || c.cost_usd[r] < *f.min_cost_usd)) return false;
  for (const auto& [k, v] : f.attrs) {
    bool found = false;
    for (uint32_t a = c.attr_offsets[r]; a < c.attr_offsets[r + 1] && !found; ++a)
      found = c.attr_keys[a] == k && c.attr_values[a] == v;
    if (!found) return false;
  }
  if (!f.text.empty() &&
      !ContainsIgnoreCase(c.input_json[r], text_lower_) && !ContainsIgnoreCase(c.output_json[r], text_lower_))
    return false;
  return true;
}

template <typename Init>
AggregateRow* Aggregator::Group(const std::string& key, Init&& init, Status* st) {
  auto it = groups_.find(key);
  if (it != groups_.end()) return &it->second;
  if (groups_.size() >= q_.max_groups) {
    *st = Status::InvalidArgument("group_by: more than " + std::to_string(q_.max_groups) +
                                  " groups; narrow the filters or widen the interval");
    return nullptr;
  }
  AggregateRow* row = &groups_[key];
  init(row);
  return row;
}

Status Aggregator::AddSpans(const SpanColumns& c) {
  const bool dur = q_.sketches & kSketchDuration, cost = q_.sketches & kSketchCost;
  Status st;
  int64_t bucket = 0;
  auto dim_value = [&](AggDim d, size_t r) -> std::string_view {
    switch (d) {
      case AggDim::kTool: return c.tool_name[r];
      case AggDim::kAgent: return c.agent_name[r];
      case AggDim::kModel: return c.model[r];
      case AggDim::kService: return c.service[r];
      case AggDim::kUser: return c.user_id[r];
      case AggDim::kSession: return c.session_id[r];
      case AggDim::kProject: return c.project[r];
      case AggDim::kStatus: return model::StatusName(static_cast<model::SpanStatus>(c.status[r]));
      case AggDim::kKind: return model::KindName(static_cast<model::SpanKind>(c.kind[r]));
      case AggDim::kEnvironment: return c.environment[r];
      case AggDim::kName: return c.name[r];
      case AggDim::kTime: return {};
    }
    return {};
  };
  for (size_t r = 0; r < c.rows; ++r) {
    ++scanned_;
    if (!SpanMatches(c, r)) continue;
    key_.clear();
    for (AggDim d : q_.group_by) {
      if (d == AggDim::kTime) {
        bucket = FloorBucket(c.start_ns[r], q_.bucket_ns);
        AppendBucket(&key_, bucket);
      } else {
        AppendPart(&key_, dim_value(d, r));
      }
    }
    AggregateRow* g = Group(key_, [&](AggregateRow* row) {
      for (AggDim d : q_.group_by) row->key.push_back(d == AggDim::kTime ? std::to_string(bucket) : std::string(dim_value(d, r)));
      row->bucket_start_ns = bucket;
    }, &st);
    if (!g) return st;
    ++g->count;
    ++g->spans;
    const uint8_t status = c.status[r], kind = c.kind[r];
    g->errors += status == model::v1::STATUS_ERROR;
    g->interrupts += status == model::v1::STATUS_INTERRUPT;
    g->llm_calls += kind == model::v1::KIND_LLM;
    g->tool_calls += kind == model::v1::KIND_TOOL;
    g->truncated += c.finish_reason[r] == "length";
    auto tok = [](int64_t* sum, int64_t v) {
      if (v != col::kNullInt) *sum += v;
    };
    tok(&g->input_tokens, c.input_tokens[r]);
    tok(&g->output_tokens, c.output_tokens[r]);
    tok(&g->cache_read_tokens, c.cache_read_tokens[r]);
    tok(&g->cache_write_tokens, c.cache_write_tokens[r]);
    tok(&g->reasoning_tokens, c.reasoning_tokens[r]);
    const double usd = c.cost_usd[r];
    if (!col::IsNull(usd)) {
      g->cost_usd += usd;
      ++g->cost_known;
      if (cost) g->cost.Add(usd);
    }
    if (dur) g->duration_ns.Add(static_cast<double>(c.end_ns[r] > c.start_ns[r] ? c.end_ns[r] - c.start_ns[r] : 0));
  }
  return Status::OK();
}

Status Aggregator::AddTrace(const TraceRow& t) {
  ++scanned_;
  Status st;
  int64_t bucket = 0;
  auto dim_value = [&](AggDim d) -> std::string_view {
    switch (d) {
      case AggDim::kAgent: return t.agent_name;
      case AggDim::kService: return t.service;
      case AggDim::kUser: return t.user_id;
      case AggDim::kSession: return t.session_id;
      case AggDim::kProject: return t.project;
      case AggDim::kStatus: return model::StatusName(t.status);
      case AggDim::kEnvironment: return t.environment;
      default: return {};  // span-only dimensions are rejected by Validate
    }
  };
  key_.clear();
  for (AggDim d : q_.group_by) {
    if (d == AggDim::kTime) {
      bucket = FloorBucket(t.start_ns, q_.bucket_ns);
      AppendBucket(&key_, bucket);
    } else {
      AppendPart(&key_, dim_value(d));
    }
  }
  AggregateRow* g = Group(key_, [&](AggregateRow* row) {
    for (AggDim d : q_.group_by) row->key.push_back(d == AggDim::kTime ? std::to_string(bucket) : std::string(dim_value(d)));
    row->bucket_start_ns = bucket;
  }, &st);
  if (!g) return st;
  ++g->count;
  g->errors += t.status == model::v1::STATUS_ERROR;
  g->interrupts += t.status == model::v1::STATUS_INTERRUPT;
  g->spans += t.span_count;
  g->llm_calls += t.llm_calls;
  g->tool_calls += t.tool_calls;
  g->input_tokens += t.input_tokens;
  g->output_tokens += t.output_tokens;
  g->cost_usd += t.cost_usd;
  ++g->cost_known;
  if (q_.sketches & kSketchDuration) g->duration_ns.Add(static_cast<double>(t.duration_ns));
  if (q_.sketches & kSketchCost) g->cost.Add(t.cost_usd);
  if (q_.sketches & kSketchSteps) g->steps.Add(static_cast<double>(t.span_count));
  return Status::OK();
}

Status Aggregator::MergeRow(const AggregateRow& row) {
  if (row.key.size() != q_.group_by.size()) return Status::Internal("aggregate row key does not match group_by");
  key_.clear();
  for (size_t i = 0; i < q_.group_by.size(); ++i) {
    if (q_.group_by[i] == AggDim::kTime) {
      AppendBucket(&key_, row.bucket_start_ns);
    } else {
      AppendPart(&key_, row.key[i]);
    }
  }
  Status st;
  AggregateRow* g = Group(key_, [&](AggregateRow* r) {
    r->key = row.key;
    r->bucket_start_ns = row.bucket_start_ns;
  }, &st);
  if (!g) return st;
  AddInto(g, row);
  return Status::OK();
}

Status Aggregator::Merge(Aggregator&& other) {
  scanned_ += other.scanned_;
  other.scanned_ = 0;
  if (groups_.empty() && q_.max_groups >= other.groups_.size()) {
    groups_.swap(other.groups_);
    return Status::OK();
  }
  for (auto& [k, row] : other.groups_) {
    auto it = groups_.find(k);
    if (it != groups_.end()) {
      AddInto(&it->second, row);
      continue;
    }
    if (groups_.size() >= q_.max_groups)
      return Status::InvalidArgument("group_by: more than " + std::to_string(q_.max_groups) +
                                     " groups; narrow the filters or widen the interval");
    groups_.emplace(k, std::move(row));
  }
  other.groups_.clear();
  return Status::OK();
}

AggregateResult Aggregator::Finish() {
  AggregateResult res;
  res.rows_scanned = scanned_;
  if (q_.group_by.empty() && groups_.empty()) groups_[""];  // totals are always one row
  res.rows.reserve(groups_.size());
  for (auto& [k, row] : groups_) res.rows.push_back(std::move(row));
  groups_.clear();
  res.groups = static_cast<int64_t>(res.rows.size());
  auto key_less = [&](const AggregateRow& a, const AggregateRow& b) {
    for (size_t i = 0; i < q_.group_by.size(); ++i) {
      if (q_.group_by[i] == AggDim::kTime) {
        if (a.bucket_start_ns != b.bucket_start_ns) return a.bucket_start_ns < b.bucket_start_ns;
      } else if (a.key[i] != b.key[i]) {
        return a.key[i] < b.key[i];
      }
    }
    return false;
  };
  auto metric = [&](const AggregateRow& r) -> double {
    switch (q_.order) {
      case AggOrder::kCount: return static_cast<double>(r.count);
      case AggOrder::kErrors: return static_cast<double>(r.errors);
      case AggOrder::kCost: return r.cost_usd;
      case AggOrder::kTokens: return static_cast<double>(r.input_tokens + r.output_tokens);
      case AggOrder::kDurationP95: return r.duration_ns.empty() ? -1 : r.duration_ns.Quantile(0.95);
      case AggOrder::kKey: return 0;
    }
    return 0;
  };
  if (q_.order != AggOrder::kKey && !res.rows.empty()) {
    std::vector<double> values;
    values.reserve(res.rows.size());
    for (const AggregateRow& r : res.rows) values.push_back(metric(r));
    auto mid = values.begin() + static_cast<ptrdiff_t>((values.size() - 1) / 2);
    std::nth_element(values.begin(), mid, values.end());
    res.group_median = *mid;
  }
  std::sort(res.rows.begin(), res.rows.end(), [&](const AggregateRow& a, const AggregateRow& b) {
    if (q_.order != AggOrder::kKey) {
      double x = metric(a), y = metric(b);
      if (x != y) return x > y;
    }
    return key_less(a, b);
  });
  if (q_.limit > 0 && res.rows.size() > q_.limit) res.rows.resize(q_.limit);
  return res;
}

}  // namespace sightline::store
