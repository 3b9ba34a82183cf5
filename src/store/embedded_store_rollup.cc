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
  }
  rollups_on_ = true;
  *file_covered = covered;
  rollup_covered_wal_ = covered;
  return Status::OK();
}

Status EmbeddedStore::PersistRollups(uint64_t covered) {
  std::string bytes;
  {
    std::shared_lock<std::shared_mutex> r(mu_);
    rollup_base_.Encode(index_.pool(), covered, &bytes);
  }
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

std::optional<Result<AggregateResult>> EmbeddedStore::AggregateFromRollups(const AggregateQuery& q) {
  if (!q.allow_rollups || !opts_.rollups.enabled) return std::nullopt;
  if (q.level == AggLevel::kSpan && !rollups_on_) return std::nullopt;
  Aggregator agg(q);
  int64_t read = 0;
  {
    std::shared_lock<std::shared_mutex> r(mu_);
    // Runs: the run rollup the trace index keeps. Spans: the base and both deltas.
    const std::vector<const rollup::RollupTable*> tables =
        q.level == AggLevel::kTrace
            ? std::vector<const rollup::RollupTable*>{&index_.runs()}
            : std::vector<const rollup::RollupTable*>{&rollup_base_, imm_ ? &imm_->rollup() : nullptr,
                                                       &mem_->rollup()};
    if (!rollup::CanAnswer(q, tables)) return std::nullopt;
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
