#include "store/sampling/sampling_policy.h"

#include <xxhash.h>

#include <cmath>

namespace sightline::store::sampling {

Status SamplingPolicy::Validate(std::string_view where) const {
  const std::string w(where);
  if (!(keep_fraction >= 0.0 && keep_fraction <= 1.0))
    return Status::InvalidArgument(w + ".keep_fraction must be between 0 and 1");
  if (quiet_ms < 0) return Status::InvalidArgument(w + ".quiet_seconds must be >= 0");
  if (timeout_ms <= 0) return Status::InvalidArgument(w + ".timeout_seconds must be > 0");
  if (std::isinf(flag_score_below)) return Status::InvalidArgument(w + ".flag_score_below must be a finite number");
  return Status::OK();
}

bool SamplingOptions::AnyEnabled() const {
  if (defaults.enabled()) return true;
  for (const auto& [name, p] : projects)
    if (p.enabled()) return true;
  return false;
}

Status SamplingOptions::Validate() const {
  SL_RETURN_IF_ERROR(defaults.Validate("sampling"));
  for (const auto& [name, p] : projects) SL_RETURN_IF_ERROR(p.Validate("sampling.projects." + name));
  return Status::OK();
}

const char* ReasonName(Reason r) {
  switch (r) {
    case Reason::kError: return "error";
    case Reason::kInterrupt: return "interrupt";
    case Reason::kFlagged: return "flagged";
    case Reason::kSampledIn: return "sampled_in";
    case Reason::kSampledOut: return "sampled_out";
    case Reason::kIncomplete: return "incomplete";
    default: return "unknown";
  }
}

bool Complete(const SamplingPolicy& p, bool has_root, int64_t start_ns, int64_t end_ns, int64_t now_ns) {
  if (now_ns - start_ns >= p.timeout_ms * 1000000) return true;
  return has_root && now_ns - end_ns >= p.quiet_ms * 1000000;
}

double SessionPoint(std::string_view session_id, const TraceKey& id) {
  uint64_t h;
  if (!session_id.empty()) {
    h = XXH3_64bits_withSeed(session_id.data(), session_id.size(), 0x5a3b1e);
  } else {
    std::string b = id.ToBytes();
    h = XXH3_64bits_withSeed(b.data(), b.size(), 0x5a3b1e);
  }
  return static_cast<double>(h >> 11) * 0x1.0p-53;
}

Decision Decide(const SamplingPolicy& p, bool error, bool interrupt, bool flagged, std::string_view session_id,
                const TraceKey& id) {
  if (error) return {true, Reason::kError};
  if (interrupt) return {true, Reason::kInterrupt};
  if (flagged) return {true, Reason::kFlagged};
  if (SessionPoint(session_id, id) < p.keep_fraction) return {true, Reason::kSampledIn};
  return {false, Reason::kSampledOut};
}

}  // namespace sightline::store::sampling
