// Tail sampling (docs/sampling.md): the seeds' policy, per project. A trace is decided
// once it is complete — its root has ended and a quiet period has passed since its
// last span ended, or a timeout has passed since it started (long runs) — and then
// kept when it failed, was interrupted or is flagged (a span with the attribute
// `sightline.keep` = true or "true", an evaluation score below flag_score_below, or a
// failed evaluator: store/span_codec.cc reads them), and otherwise kept for a configured fraction of sessions,
// chosen by a hash of the session id (so a session's traces stay or go together;
// traces without a session by a hash of the trace id).
//
// The policy is pure arithmetic; the store applies it at flush (store/embedded_store
// _flush.cc), after every span was acknowledged, counted in the rollups and in the WAL.
//
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <string_view>

#include "common/status.h"
#include "store/trace_agg.h"

namespace sightline::store::sampling {

struct SamplingPolicy {
  double keep_fraction = 1.0;            // of sessions without errors, interrupts or flags; 1: sampling off
  int64_t quiet_ms = 30000;              // after the root ended and the last span ended
  int64_t timeout_ms = 3600000;          // a trace started this long ago is decided anyway
  // A trace with an evaluation score below this is flagged (kept); NaN: scores do not flag.
  double flag_score_below = std::numeric_limits<double>::quiet_NaN();

  bool enabled() const { return keep_fraction < 1.0; }
  // Whether a trace whose lowest score is min_score (+infinity: none) is flagged by it.
  bool FlagsScore(double min_score) const { return min_score < flag_score_below; }
  Status Validate(std::string_view where) const;
};

// The span attribute that flags its trace as one to keep (store/span_codec.cc marks it).
inline constexpr std::string_view kFlagAttribute = "sightline.keep";

struct SamplingOptions {
  SamplingPolicy defaults;
  std::map<std::string, SamplingPolicy, std::less<>> projects;  // overrides

  const SamplingPolicy& For(std::string_view project) const {
    auto it = projects.find(project);
    return it == projects.end() ? defaults : it->second;
  }
  bool AnyEnabled() const;
  Status Validate() const;
};

// kIncomplete: not decidable when its spans were flushed (another part is elsewhere, or
// it is not complete yet): kept, never dropped later.
enum class Reason : uint8_t { kError = 0, kInterrupt, kFlagged, kSampledIn, kSampledOut, kIncomplete, kCount };
const char* ReasonName(Reason r);  // error, interrupt, flagged, sampled_in, sampled_out, incomplete

struct Decision {
  bool keep = true;
  Reason reason = Reason::kSampledIn;
};

// Whether the trace can be decided at now_ns.
bool Complete(const SamplingPolicy& p, bool has_root, int64_t start_ns, int64_t end_ns, int64_t now_ns);

// The decision for a complete trace.
Decision Decide(const SamplingPolicy& p, bool error, bool interrupt, bool flagged, std::string_view session_id,
                const TraceKey& id);

// A number in [0, 1) from a hash of the session id (or of the trace id when there is
// none): the same for every trace of one session, on every server.
double SessionPoint(std::string_view session_id, const TraceKey& id);

}  // namespace sightline::store::sampling
