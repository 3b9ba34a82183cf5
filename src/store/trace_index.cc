#include "store/trace_index.h"

#include <algorithm>

namespace sightline::store {

uint32_t TraceIndex::FindOrAdd(const TraceKey& id) {
  auto [it, inserted] = ids_.try_emplace(id, static_cast<uint32_t>(records_.size()));
  if (inserted) {
    records_.emplace_back();
    records_.back().id = id;
    starts_.push_back(records_.back().agg.start_ns);
  }
  return it->second;
}

std::optional<uint32_t> TraceIndex::Find(const TraceKey& id) const {
  auto it = ids_.find(id);
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

TraceIndex::Contribution TraceIndex::ContributionOf(uint32_t i) const {
  const TraceAgg& a = records_[i].agg;
  Contribution c;
  if (runs_on_ && a.span_count > 0) {
    rollup::RunFacts& r = c.run;
    r.valid = true;
    r.start_ns = a.start_ns;
    r.tuple.project = a.project;
    r.tuple.agent = a.agent_name;
    r.tuple.service = a.service;
    r.tuple.environment = a.environment;
    r.tuple.status = static_cast<uint8_t>(a.Status());
    r.user = a.user_id;
    r.spans = a.span_count;
    r.llm_calls = a.llm_calls;
    r.tool_calls = a.tool_calls;
    r.input_tokens = a.input_tokens;
    r.output_tokens = a.output_tokens;
    r.cost_usd = a.cost_usd;
    r.duration_ns = static_cast<double>(a.DurationNs());
  }
  c.key = SessionKey(a.project, a.session_id);
  if (c.key == 0) return c;
  c.user_id = a.user_id;
  c.start = a.start_ns;
  c.end = a.end_ns;
  c.spans = a.span_count;
  c.in = a.input_tokens;
  c.out = a.output_tokens;
  c.cost = a.cost_usd;
  c.error = a.Status() == model::v1::STATUS_ERROR;
  return c;
}

void TraceIndex::AddSpan(uint32_t i, const SpanFacts& f) {
  const bool held = i == held_;
  Contribution before;
  if (!held) before = ContributionOf(i);
  TraceAgg& a = records_[i].agg;
  size_t mem = a.MemoryBytes();
  uint32_t project_before = a.project;
  a.AddSpan(f, &pool_);
  agg_bytes_ += a.MemoryBytes() - mem;
  if (project_before == 0 && a.project != 0 &&
      std::find(projects_.begin(), projects_.end(), a.project) == projects_.end())
    projects_.push_back(a.project);
  if (!held) UpdateSession(i, before, ContributionOf(i));
  starts_[i] = records_[i].agg.start_ns;
}

void TraceIndex::RemoveCounts(uint32_t i, const SpanCounts& c) {
  const bool held = i == held_;
  Contribution before;
  if (!held) before = ContributionOf(i);
  records_[i].agg.RemoveCounts(c);
  if (!held) UpdateSession(i, before, ContributionOf(i));
  starts_[i] = records_[i].agg.start_ns;
}

void TraceIndex::AdjustCost(uint32_t i, double delta) {
  Release();
  Contribution before = ContributionOf(i);
  records_[i].agg.cost_usd += delta;
  UpdateSession(i, before, ContributionOf(i));
}

void TraceIndex::MergePartial(uint32_t i, const TraceAgg& partial) {
  Release();
  Contribution before = ContributionOf(i);
  TraceAgg& a = records_[i].agg;
  size_t mem = a.MemoryBytes();
  a.Merge(partial);
  agg_bytes_ += a.MemoryBytes() - mem;
  if (a.project != 0 && std::find(projects_.begin(), projects_.end(), a.project) == projects_.end())
    projects_.push_back(a.project);
  UpdateSession(i, before, ContributionOf(i));
  starts_[i] = records_[i].agg.start_ns;
}

void TraceIndex::ReplaceSegLocs(uint32_t i, const std::function<bool(uint32_t)>& is_old, const SegLoc* loc,
                                const std::function<uint64_t(uint32_t)>& age_of) {
  auto& segs = records_[i].segs;
  segs.erase(std::remove_if(segs.begin(), segs.end(), [&](const SegLoc& l) { return is_old(l.segment); }), segs.end());
  if (loc) segs.push_back(*loc);
  std::stable_sort(segs.begin(), segs.end(),
                   [&](const SegLoc& a, const SegLoc& b) { return age_of(a.segment) < age_of(b.segment); });
  if (segs.empty()) segs.shrink_to_fit();
}

void TraceIndex::Remove(uint32_t i) {
  Release();
  Contribution before = ContributionOf(i);
  TraceRecord& r = records_[i];
  agg_bytes_ -= r.agg.MemoryBytes();
  r.agg = TraceAgg();
  agg_bytes_ += r.agg.MemoryBytes();
  std::vector<SegLoc>().swap(r.segs);
  UpdateSession(i, before, ContributionOf(i));
  starts_[i] = r.agg.start_ns;
  auto it = ids_.find(r.id);
  if (it != ids_.end() && it->second == i) ids_.erase(it);
}

void TraceIndex::UpdateSession(uint32_t i, const Contribution& b, const Contribution& a) {
  // Every change to an aggregate comes through here: the run rollup follows it too.
  if (runs_on_) {
    runs_.ReplaceRun(b.run, a.run);
    auto by_user = [](const rollup::RunFacts& r) {
      rollup::RunFacts u = r;
      u.tuple = rollup::Tuple();
      u.tuple.project = r.tuple.project;
      u.tuple.user = r.user;
      u.tuple.status = r.tuple.status;
      return u;
    };
    user_runs_.ReplaceRun(by_user(b.run), by_user(a.run));
  }
  if (b.key != 0 && b.key != a.key) {  // the trace leaves its old session
    auto it = session_at_.find(b.key);
    if (it != session_at_.end()) {
      const uint32_t at = it->second;
      Session& s = sessions_[at];
      auto pos = std::find(s.traces.begin(), s.traces.end(), i);
      if (pos != s.traces.end()) s.traces.erase(pos);
      if (s.traces.empty()) {
        session_at_.erase(it);
        if (at + 1 != sessions_.size()) {
          s = std::move(sessions_.back());
          session_at_[SessionKey(s.project, s.session_id)] = at;
        }
        sessions_.pop_back();
      } else {
        Recompute(&s);
      }
    }
  }
  if (a.key == 0) return;
  auto [it, created] = session_at_.try_emplace(a.key, static_cast<uint32_t>(sessions_.size()));
  if (created) sessions_.emplace_back();
  Session& s = sessions_[it->second];
  const TraceAgg& agg = records_[i].agg;
  if (created) {
    s.project = agg.project;
    s.session_id = agg.session_id;
  }
  if (b.key != a.key) {  // joins
    s.traces.push_back(i);
    s.span_count += a.spans;
    s.input_tokens += a.in;
    s.output_tokens += a.out;
    s.cost_usd += a.cost;
    s.error_traces += a.error ? 1 : 0;
    if (s.traces.size() == 1) {
      s.first_start_ns = a.start;
      s.last_end_ns = a.end;
    }
  } else {  // stays: apply the delta
    s.span_count += a.spans - b.spans;
    s.input_tokens += a.in - b.in;
    s.output_tokens += a.out - b.out;
    s.cost_usd += a.cost - b.cost;
    s.error_traces += (a.error ? 1 : 0) - (b.error ? 1 : 0);
  }
  if (s.user_id == 0) s.user_id = a.user_id;
  s.first_start_ns = std::min(s.first_start_ns, a.start);
  s.last_end_ns = std::max(s.last_end_ns, a.end);
}

void TraceIndex::Recompute(Session* s) const {
  s->first_start_ns = INT64_MAX;
  s->last_end_ns = INT64_MIN;
  s->span_count = s->error_traces = s->input_tokens = s->output_tokens = 0;
  s->cost_usd = 0;
  for (uint32_t t : s->traces) {
    const TraceAgg& a = records_[t].agg;
    s->first_start_ns = std::min(s->first_start_ns, a.start_ns);
    s->last_end_ns = std::max(s->last_end_ns, a.end_ns);
    s->span_count += a.span_count;
    s->input_tokens += a.input_tokens;
    s->output_tokens += a.output_tokens;
    s->cost_usd += a.cost_usd;
    s->error_traces += a.Status() == model::v1::STATUS_ERROR ? 1 : 0;
  }
}

// Found when asked rather than maintained on every span: a trace's start moves earlier
// as its spans arrive (the root last), and keeping the latest trace current on each of
// those moves rescanned the whole session per span.
int64_t TraceIndex::LatestTrace(const Session& s) const {
  int64_t latest = -1;
  for (uint32_t t : s.traces) {
    const int64_t start = records_[t].agg.start_ns;
    if (latest < 0 || start > records_[static_cast<size_t>(latest)].agg.start_ns ||
        (start == records_[static_cast<size_t>(latest)].agg.start_ns && t > latest))
      latest = t;
  }
  return latest;
}

model::v1::SpanStatus TraceIndex::SessionStatus(const Session& s) const {
  int64_t latest = LatestTrace(s);
  return latest >= 0 ? records_[static_cast<size_t>(latest)].agg.Status() : model::v1::STATUS_UNSET;
}

const TraceIndex::Session* TraceIndex::FindSession(uint32_t project, uint32_t session_id) const {
  auto it = session_at_.find(SessionKey(project, session_id));
  return it == session_at_.end() ? nullptr : &sessions_[it->second];
}

model::SessionSummary TraceIndex::SessionSummaryOf(const Session& s) const {
  model::SessionSummary o;
  o.session_id = pool_.Get(s.session_id);
  o.project = pool_.Get(s.project);
  o.user_id = pool_.Get(s.user_id);
  o.first_start_ns = s.first_start_ns;
  o.last_end_ns = s.last_end_ns;
  o.trace_count = static_cast<int64_t>(s.traces.size());
  o.span_count = s.span_count;
  o.status = SessionStatus(s);
  o.error_traces = s.error_traces;
  o.input_tokens = s.input_tokens;
  o.output_tokens = s.output_tokens;
  o.cost_usd = s.cost_usd;
  return o;
}

size_t TraceIndex::MemoryBytes() const {
  constexpr size_t kNode = sizeof(TraceKey) + sizeof(uint32_t) + 2 * sizeof(void*);
  size_t sessions = sessions_.capacity() * sizeof(Session) +
                    session_at_.size() * (sizeof(uint64_t) + sizeof(uint32_t) + 2 * sizeof(void*)) +
                    session_at_.bucket_count() * sizeof(void*);
  return runs_.MemoryBytes() + user_runs_.MemoryBytes() + pool_.MemoryBytes() + records_.size() * sizeof(TraceRecord) + agg_bytes_ + ids_.size() * kNode +
         ids_.bucket_count() * sizeof(void*) + sessions + records_.size() * sizeof(uint32_t) +
         starts_.capacity() * sizeof(int64_t);
}

}  // namespace sightline::store
