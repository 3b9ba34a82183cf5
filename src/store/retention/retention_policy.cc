#include "store/retention/retention_policy.h"

#include <algorithm>
#include <limits>

namespace sightline::store::retention {
namespace {

constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

int64_t DaysNs(int64_t days) { return days == kForever ? kNever : days * kDayNs; }

// Age (ns) at which the trace loses its spans, and at which it is gone.
void Limits(const RetentionPolicy& p, bool failed, int64_t* spans_until, int64_t* summary_until) {
  int64_t full = DaysNs(p.full_days);
  if (failed) full = std::max(full, DaysNs(p.failed_days));
  *spans_until = full;
  *summary_until = std::max(full, DaysNs(p.summary_days));
}

Status CheckPolicy(const RetentionPolicy& p, const std::string& where) {
  auto check = [&](int64_t v, const char* name) -> Status {
    if (v < 0 && v != kForever)
      return Status::InvalidArgument(where + "." + name + " must be a number of days >= 0 or \"forever\"");
    if (v > 365000) return Status::InvalidArgument(where + "." + name + " is over 1000 years");
    return Status::OK();
  };
  SL_RETURN_IF_ERROR(check(p.full_days, "full_days"));
  SL_RETURN_IF_ERROR(check(p.failed_days, "failed_days"));
  SL_RETURN_IF_ERROR(check(p.summary_days, "summary_days"));
  if (p.summary_days != kForever && (p.full_days == kForever || p.summary_days < p.full_days))
    return Status::InvalidArgument(where + ".summary_days (" + std::to_string(p.summary_days) +
                                   ") must be >= full_days, or \"forever\"");
  return Status::OK();
}

}  // namespace

const char* FateName(Fate f) {
  switch (f) {
    case Fate::kFull:
      return "full";
    case Fate::kSummary:
      return "summary";
    case Fate::kGone:
      return "gone";
  }
  return "?";
}

Status RetentionOptions::Validate() const {
  if (partition_width_ns < int64_t{60} * 1000000000)
    return Status::InvalidArgument("retention.partition_width must be at least one minute");
  SL_RETURN_IF_ERROR(CheckPolicy(default_policy, "retention"));
  for (const auto& [name, p] : projects) {
    if (name.empty()) return Status::InvalidArgument("retention: a project override has an empty name");
    SL_RETURN_IF_ERROR(CheckPolicy(p, "retention.projects." + name));
  }
  return Status::OK();
}

const RetentionPolicy& RetentionOptions::For(std::string_view project) const {
  auto it = projects.find(std::string(project));
  return it == projects.end() ? default_policy : it->second;
}

int64_t RetentionOptions::FirstThresholdNs() const {
  int64_t first = kNever;
  auto consider = [&](const RetentionPolicy& p) {
    for (int64_t d : {p.full_days, p.failed_days, p.summary_days})
      if (d != kForever) first = std::min(first, DaysNs(d));
  };
  consider(default_policy);
  for (const auto& [n, p] : projects) consider(p);
  return first;
}

bool RetentionOptions::Enabled() const { return FirstThresholdNs() != kNever; }

int64_t PartitionOf(int64_t t_ns, int64_t width_ns) {
  int64_t q = t_ns / width_ns;
  if (t_ns % width_ns != 0 && t_ns < 0) --q;
  return q;
}

Fate Decide(const RetentionPolicy& p, bool failed, int64_t partition_end_ns, int64_t now_ns) {
  int64_t spans_until, summary_until;
  Limits(p, failed, &spans_until, &summary_until);
  int64_t age = now_ns - partition_end_ns;
  if (age < 0 || age < spans_until) return Fate::kFull;
  if (age < summary_until) return Fate::kSummary;
  return Fate::kGone;
}

std::vector<Transition> Transitions(const RetentionPolicy& p, bool failed, int64_t partition_end_ns) {
  int64_t spans_until, summary_until;
  Limits(p, failed, &spans_until, &summary_until);
  std::vector<Transition> out;
  if (spans_until == kNever) return out;
  if (summary_until > spans_until) out.push_back({partition_end_ns + spans_until, Fate::kSummary});
  if (summary_until != kNever) out.push_back({partition_end_ns + summary_until, Fate::kGone});
  return out;
}

}  // namespace sightline::store::retention
