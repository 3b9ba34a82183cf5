// EmbeddedStore rollups (docs/architecture.md "Rollups"): the rollup file, the fold
// cut points, retention of rollup rows, and span-level aggregates answered from them.
//
// The base rollup (rollup_base_) holds every flushed span; each memtable holds the
// rollup of its own spans. Queries read the base and both deltas under the shared lock;
// FlushImmutable moves the immutable delta into the base in the exclusive-lock step
// that drops the immutable memtable, then writes the file (PersistRollups).
#include <algorithm>

#include "store/aggregator.h"
#include "store/embedded_store.h"

namespace sightline::store {
namespace {

constexpr char kRollupFile[] = "ROLLUPS";

}  // namespace

std::shared_ptr<Memtable> EmbeddedStore::NewMemtable() {
  if (!rollups_on_) return std::make_shared<Memtable>();
  return std::make_shared<Memtable>(opts_.rollups.max_tuples_per_bucket, RollupCuts());
}

rollup::Cuts EmbeddedStore::RollupCuts() {
  const int64_t now = env_->NowNanos();
  rollup::Cuts c;
  c.minute_cut = rollup::FloorTo(now - opts_.rollups.minute_window_ns, rollup::kHourNs);
  c.hour_cut = rollup::FloorTo(now - opts_.rollups.hour_window_ns, rollup::kDayNs);
  c.hour_cut = std::min(c.hour_cut, c.minute_cut);
  return c;
}

Status EmbeddedStore::LoadRollups(bool fresh, uint64_t* file_covered) {
  const std::string path = JoinPath(opts_.dir, kRollupFile);
  if (!env_->FileExists(path)) {
    rollups_on_ = fresh;
    *file_covered = 0;
    if (!fresh)
      Log("rollups: no " + std::string(kRollupFile) +
          " for the existing segments (written before rollups): span-level metrics scan spans");
    return Status::OK();
  }
  SL_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(env_, path));
  rollup::RollupTable table(opts_.rollups.max_tuples_per_bucket);
  uint64_t covered = 0;
  Status s;
  {
    std::unique_lock<std::shared_mutex> w(mu_);
    s = rollup::RollupTable::Decode(bytes, &index_.pool(), &table, &covered);
  }
  if (!s.ok()) {
    Status r = env_->RenameFile(path, path + ".corrupt");
    Log("ROLLUP CORRUPTION: " + path + ": " + s.ToString() +
        (r.ok() ? "; renamed " + path + ".corrupt" : "; could not rename it: " + r.ToString()) +
        "; span-level metrics scan spans");
    recovery_.corruptions.push_back(s.ToString());
    rollups_on_ = false;
    *file_covered = 0;
    return Status::OK();
  }
  table.Fold(RollupCuts());
  {
    std::unique_lock<std::shared_mutex> w(mu_);
    rollup_base_ = std::move(table);
    rollup_base_covered_ = covered;
  }
  rollups_on_ = true;
  *file_covered = covered;
  rollup_covered_wal_ = covered;
  return Status::OK();
}

Status EmbeddedStore::DiscardRollups() {
  const std::string path = JoinPath(opts_.dir, kRollupFile);
  if (!env_->FileExists(path)) return Status::OK();
  SL_RETURN_IF_ERROR(env_->RemoveFile(path));
  Log("rollups: off; removed " + path + " (it would not cover the spans written without rollups)");
  return Status::OK();
}

Status EmbeddedStore::PersistRollups() {
  std::lock_guard<std::mutex> f(rollup_file_mu_);
  return PersistRollupsLocked();
}

Status EmbeddedStore::PersistRollupsLocked() {
  std::string bytes;
  uint64_t covered;
  // Retractions are rare: the file is encoded under the shared lock when there are
  // none, else under the exclusive one (the retracted rows are interned in the pool).
  auto retracted_locked = [this] {
    for (const Memtable* m : {imm_.get(), mem_.get()})
      if (m && !m->retractions().empty()) return true;
    return false;
  };
  std::shared_lock<std::shared_mutex> r(mu_);
  std::unique_lock<std::shared_mutex> w(mu_, std::defer_lock);
  if (retracted_locked()) {
    r.unlock();
    w.lock();
  }
  {
    covered = rollup_base_covered_;
    // Re-sent spans of WAL files the base does not cover yet took their older copies
    // back from the base at once (embedded_store_resent.cc); the file is written
    // without those retractions, which WAL replay makes again. A retraction from the
    // frozen memtable's delta is in the base only once that memtable is merged.
    const uint64_t imm_seq = imm_ ? imm_->seq() : 0;
    std::vector<std::string_view> undo;
    for (const Memtable* m : {imm_.get(), mem_.get()}) {
      if (!m) continue;
      for (const Memtable::Retraction& x : m->retractions())
        if (x.target == 0 || x.target != imm_seq) undo.push_back(x.bytes);
    }
    if (undo.empty() || !w.owns_lock()) {
      rollup_base_.Encode(index_.pool(), covered, &bytes);
    } else {
      rollup::RollupTable copy = rollup_base_;
      model::Span span;
      for (std::string_view b : undo) {
        if (!span.ParseFromArray(b.data(), static_cast<int>(b.size()))) continue;
        EncodedBatch one;
        one.AddMeta(span, 0, 0);
        copy.Add(one.Facts(0), &index_.pool());
      }
      copy.Encode(index_.pool(), covered, &bytes);
    }
  }
  if (r.owns_lock()) r.unlock();
  if (w.owns_lock()) w.unlock();
  SL_RETURN_IF_ERROR(WriteFileAtomically(env_, JoinPath(opts_.dir, kRollupFile), bytes));
  rollup_covered_wal_ = covered;
  return Status::OK();
}

void EmbeddedStore::ExpireRollups(int64_t now_ns) {
  if (!rollups_on_) return;
  std::unique_lock<std::shared_mutex> w(mu_);
  // Kept as long as anything of the project is kept: the longest of its ages.
  auto max_age = [&](uint32_t project) -> int64_t {
    const auto& p = opts_.retention.For(index_.pool().Get(project));
    int64_t days = 0;
    for (int64_t d : {p.full_days, p.failed_days, p.summary_days}) {
      if (d == retention::kForever) return -1;
      days = std::max(days, d);
    }
    return days * retention::kDayNs;
  };
  size_t dropped = rollup_base_.DropExpired(max_age, now_ns);
  if (dropped > 0) {
    w.unlock();
    Log("retention: dropped " + std::to_string(dropped) + " rollup rows (written at the next flush)");
  }
}

std::optional<Result<AggregateResult>> EmbeddedStore::TopSessions(const AggregateQuery& q) {
  const AggregateFilter& f = q.filter;
  if (q.level != AggLevel::kTrace || q.group_by.size() != 1 || q.group_by[0] != AggDim::kSession || q.limit == 0 ||
      (q.order != AggOrder::kCount && q.order != AggOrder::kErrors && q.order != AggOrder::kCost &&
       q.order != AggOrder::kTokens))
    return std::nullopt;
  if (!f.service.empty() || !f.agent.empty() || !f.session_id.empty() || !f.user_id.empty() || !f.name.empty() ||
      !f.model.empty() || !f.tool.empty() || !f.environment.empty() || f.status || f.kind || f.min_duration_ns ||
      f.max_duration_ns || f.min_cost_usd || !f.attrs.empty() || !f.text.empty())
    return std::nullopt;  // only the range and projects: a session's totals answer those
  const int64_t from = f.from_ns.value_or(INT64_MIN), to = f.to_ns.value_or(INT64_MAX);
  // One group per session id (the scan groups by the id's text: a session id used in
  // two projects is one group).
  struct Group {
    uint32_t session_id = 0;
    const TraceIndex::Session* first = nullptr;
    int64_t count = 0, errors = 0, tokens = 0;
    double cost = 0;
  };
  std::vector<Group> groups;
  std::vector<std::pair<uint32_t, const TraceIndex::Session*>> more;  // (group, its other sessions)
  Aggregator agg(q);
  std::shared_lock<std::shared_mutex> r(mu_);
  const StringPool& pool = index_.pool();
  std::vector<uint32_t> projects;
  for (const auto& p : f.projects)
    if (uint32_t id = pool.Find(p); id != StringPool::kMissing) projects.push_back(id);
  auto in_range = [&](const TraceAgg& a) { return a.span_count > 0 && a.start_ns >= from && a.start_ns <= to; };
  int64_t visited = 0;
  if (f.projects.empty() || !projects.empty()) {
    std::vector<uint32_t> slot(pool.size(), UINT32_MAX);  // session id -> group
    index_.ForEachSession([&](const TraceIndex::Session& s) {
      ++visited;
      if (!projects.empty() && std::find(projects.begin(), projects.end(), s.project) == projects.end()) return;
      // Every trace of s starts in [first_start, last_end] (both conservative).
      if (s.last_end_ns < from || s.first_start_ns > to) return;
      int64_t count = 0, errors = 0, tokens = 0;
      double cost = 0;
      if (s.first_start_ns >= from && s.last_end_ns <= to) {  // wholly inside: its totals
        count = static_cast<int64_t>(s.traces.size());
        errors = s.error_traces;
        cost = s.cost_usd;
        tokens = s.input_tokens + s.output_tokens;
      } else {
        for (uint32_t t : s.traces) {
          const TraceAgg& a = index_.record(t).agg;
          if (!in_range(a)) continue;
          ++count;
          errors += a.Status() == model::v1::STATUS_ERROR;
          cost += a.cost_usd;
          tokens += a.input_tokens + a.output_tokens;
        }
      }
      if (count == 0 || s.session_id >= slot.size()) return;
      uint32_t& g = slot[s.session_id];
      if (g == UINT32_MAX) {
        g = static_cast<uint32_t>(groups.size());
        groups.push_back({s.session_id, &s});
      } else {
        more.emplace_back(g, &s);
      }
      Group& gr = groups[g];
      gr.count += count;
      gr.errors += errors;
      gr.tokens += tokens;
      gr.cost += cost;
    });
  }
  auto value = [&](const Group& g) {
    switch (q.order) {
      case AggOrder::kCount: return static_cast<double>(g.count);
      case AggOrder::kErrors: return static_cast<double>(g.errors);
      case AggOrder::kCost: return g.cost;
      default: return static_cast<double>(g.tokens);
    }
  };
  std::vector<double> values;  // every group's, for the median
  values.reserve(groups.size());
  for (const Group& g : groups) values.push_back(value(g));
  // The top `limit` by (value descending, key ascending): the heap's front is the worst kept.
  auto better = [&](uint32_t a, uint32_t b) {
    if (values[a] != values[b]) return values[a] > values[b];
    return pool.Get(groups[a].session_id) < pool.Get(groups[b].session_id);
  };
  std::vector<uint32_t> heap;
  for (uint32_t g = 0; g < groups.size(); ++g) {
    if (heap.size() < q.limit) {
      heap.push_back(g);
      std::push_heap(heap.begin(), heap.end(), better);
    } else if (better(g, heap.front())) {
      std::pop_heap(heap.begin(), heap.end(), better);
      heap.back() = g;
      std::push_heap(heap.begin(), heap.end(), better);
    }
  }
  // The kept groups, exactly: their runs in range, added as the general path adds them.
  std::vector<uint8_t> kept(groups.size(), 0);
  for (uint32_t g : heap) kept[g] = 1;
  auto add_session = [&](const TraceIndex::Session* s) -> Status {
    for (uint32_t t : s->traces) {
      const TraceAgg& a = index_.record(t).agg;
      if (!in_range(a)) continue;
      TraceRow row;
      row.project = pool.Get(a.project);
      row.service = pool.Get(a.service);
      row.agent_name = pool.Get(a.agent_name);
      row.session_id = pool.Get(a.session_id);
      row.user_id = pool.Get(a.user_id);
      row.environment = pool.Get(a.environment);
      row.status = a.Status();
      row.start_ns = a.start_ns;
      row.duration_ns = a.DurationNs();
      row.span_count = a.span_count;
      row.llm_calls = a.llm_calls;
      row.tool_calls = a.tool_calls;
      row.input_tokens = a.input_tokens;
      row.output_tokens = a.output_tokens;
      row.cost_usd = a.cost_usd;
      SL_RETURN_IF_ERROR(agg.AddTrace(row));
    }
    return Status::OK();
  };
  for (uint32_t g : heap)
    if (Status st = add_session(groups[g].first); !st.ok()) return Result<AggregateResult>(st);
  for (const auto& [g, sess] : more)
    if (kept[g])
      if (Status st = add_session(sess); !st.ok()) return Result<AggregateResult>(st);
  r.unlock();
  AggregateResult res = agg.Finish();
  res.groups = static_cast<int64_t>(values.size());
  res.rows_scanned = visited;
  if (!values.empty()) {
    auto mid = values.begin() + static_cast<ptrdiff_t>((values.size() - 1) / 2);
    std::nth_element(values.begin(), mid, values.end());
    res.group_median = *mid;
  }
  return Result<AggregateResult>(std::move(res));
}

std::optional<Result<AggregateResult>> EmbeddedStore::AggregateFromRollups(const AggregateQuery& q) {
  if (!q.allow_rollups) return std::nullopt;
  if (auto top = TopSessions(q)) return top;  // the session records, with rollups on or off
  if (!opts_.rollups.enabled) return std::nullopt;
  if (q.level == AggLevel::kSpan && !rollups_on_) return std::nullopt;
  Aggregator agg(q);
  int64_t read = 0;
  {
    std::shared_lock<std::shared_mutex> r(mu_);
    // Runs: the run rollup the trace index keeps (per user when grouped by user).
    // Spans: the base and both deltas.
    const bool by_user = q.level == AggLevel::kTrace &&
                         std::find(q.group_by.begin(), q.group_by.end(), AggDim::kUser) != q.group_by.end();
    const std::vector<const rollup::RollupTable*> tables =
        q.level == AggLevel::kTrace
            ? std::vector<const rollup::RollupTable*>{by_user ? &index_.user_runs() : &index_.runs()}
            : std::vector<const rollup::RollupTable*>{&rollup_base_, imm_ ? &imm_->rollup() : nullptr,
                                                       &mem_->rollup()};
    if (!rollup::CanAnswer(q, tables, by_user)) return std::nullopt;
    auto answered = rollup::Answer(q, index_.pool(), tables, &agg);
    if (!answered.ok()) return Result<AggregateResult>(answered.status());
    read = *answered;
  }
  AggregateResult res = agg.Finish();
  res.rollup_rows = read;
  res.from_rollups = true;
  return Result<AggregateResult>(std::move(res));
}

}  // namespace sightline::store
