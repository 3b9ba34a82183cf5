// A deterministic generator of realistic agent workloads, as OTLP export requests.
//
// The workload is a stream of support-desk agent sessions (session ids "ticket-NNNN",
// user ids "user-NNN"), each of 5-50 turns; every turn is one trace:
//
//   invoke_agent orchestrator            (root, agent)
//     chat <model>                       (plan: sees the whole session history)
//     invoke_agent <sub-agent>  x1-3     (researcher, billing, ...)
//       chat <model> / execute_tool <tool> / retrieval <source>   (a short ReAct loop)
//     chat <model>                       (respond)
//
// with a sprinkling of the things Sightline exists to show: a failing tool (status ERROR,
// error.type and an "exception" event) followed by a retry, an interrupt (status=interrupt,
// interrupt.reason=approval_required) that ends the turn, and loops (the same tool called
// with the same arguments many times in a row).
//
// Variants: kLean carries names, ids, times and GenAI attributes (~0.4 KB per span on the
// wire); kPayload adds message payloads (~5 KB per span on average): model calls carry
// gen_ai.input.messages / gen_ai.output.messages whose history grows turn by turn (turn N
// re-sends turns 1..N-1), tool calls carry JSON arguments and results, retrievals carry
// documents.
//
// Delivery looks like real SDK exporters: spans are emitted when they end (children
// before parents), several sessions run at once so batches interleave traces, and a trace
// may be split across batches.
//
// Determinism: the output depends only on WorkloadOptions (a private PRNG, no clocks, no
// std distributions), so the same options give the same bytes on every run and platform.
// Memory: streaming; the generator holds only the active sessions' histories and less
// than one batch plus one trace of pending spans, so 10M+ span workloads are fine.
//
// Thread-safety: a WorkloadGenerator is used by one thread at a time.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace sightline::bench {

using ExportRequest = ::opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;
using OtlpSpan = ::opentelemetry::proto::trace::v1::Span;

enum class Variant { kLean, kPayload };

std::string_view VariantName(Variant v);
std::optional<Variant> ParseVariant(std::string_view name);

struct WorkloadOptions {
  uint64_t seed = 1;
  Variant variant = Variant::kLean;
  // Spans in the whole workload; the last batch may be smaller and the last trace cut
  // short. 0 means unbounded.
  int64_t total_spans = 1'000'000;
  int batch_spans = 500;
  // Sessions in progress at once (their traces interleave in the batches).
  int concurrent_sessions = 6;
  // Unix ns of the first session's first turn. Fixed by default so that runs compare.
  int64_t start_unix_ns = 1'767'225'600'000'000'000;  // 2026-01-01T00:00:00Z
};

// xoshiro256** seeded through splitmix64: fast, and identical everywhere.
class Rng {
 public:
  explicit Rng(uint64_t seed);
  uint64_t Next();
  // Uniform in [0, n); n > 0.
  uint64_t Below(uint64_t n);
  // Uniform in [lo, hi].
  int64_t Between(int64_t lo, int64_t hi);
  bool Chance(double p);

 private:
  uint64_t s_[4];
};

// splitmix64's finaliser: a bijection on 64-bit values (so distinct counters give
// distinct ids).
uint64_t Mix64(uint64_t x);

class WorkloadGenerator {
 public:
  explicit WorkloadGenerator(const WorkloadOptions& options);
  ~WorkloadGenerator();
  WorkloadGenerator(const WorkloadGenerator&) = delete;
  WorkloadGenerator& operator=(const WorkloadGenerator&) = delete;

  // Replaces *out with the next batch (grouped by resource, then one scope). Returns
  // false, leaving *out empty, when the workload is exhausted.
  bool NextBatch(ExportRequest* out);

  int64_t spans_emitted() const { return spans_emitted_; }
  int64_t traces_started() const { return static_cast<int64_t>(next_trace_); }
  int64_t sessions_started() const { return static_cast<int64_t>(next_session_); }
  const WorkloadOptions& options() const { return options_; }

  struct Session;  // one conversation in progress (workload.cc)
  struct Pending {
    int service = 0;
    OtlpSpan span;
  };

 private:
  void StartSession(Session* s);
  // Appends the spans of the session's next turn to pending_ in end order.
  void EmitTurn(Session* s);

  WorkloadOptions options_;
  Rng rng_;
  std::vector<std::unique_ptr<Session>> active_;
  std::deque<Pending> pending_;
  uint64_t next_session_ = 0;
  uint64_t next_trace_ = 0;
  uint64_t next_span_ = 0;
  int64_t spans_generated_ = 0;  // put into pending_
  int64_t spans_emitted_ = 0;    // handed out in batches
};

}  // namespace sightline::bench
