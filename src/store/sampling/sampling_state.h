// DATA/SAMPLING: what tail sampling has decided, kept across restarts
// (docs/sampling.md "Crash safety").
//
//   - decided_until_ns: every trace that was complete (by its project's policy) at this
//     time has been decided. At Open, a trace complete by then that is still in the
//     store was kept; any other trace is still to be decided.
//   - drops: traces dropped whose spans may still be on disk, each with the segment
//     files that held them when it was decided and the last WAL file that may hold a
//     span of it. The store hides them, leaves them out of flushes and drops them at
//     compaction; an entry goes once none of its files is live and the WAL files up to
//     its number are flushed (so nothing on disk can bring the trace back).
//   - counts: kept and dropped traces per project and reason, since the store began.
//
// Rewritten whole (temporary file, fsync, rename, directory fsync) at each change, so
// it is always one complete version: "SLSMP001", signed varint decided_until_ns, varint
// count then (project, kept byte, reason byte, varint traces) per count, varint count
// then (16-byte trace id, varint wal, varint file count, varint file numbers) per drop,
// then XXH3-64 of everything before it (fixed64).
//
// Thread-safety: plain values and free functions.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "common/env.h"
#include "common/status.h"
#include "store/trace_agg.h"

namespace sightline::store::sampling {

struct PendingDrop {
  uint64_t wal = 0;              // WAL files up to this one may hold its spans
  std::vector<uint64_t> files;   // segment files that held its spans when it was dropped
};

struct SamplingState {
  int64_t decided_until_ns = 0;
  // (project, kept, reason) -> traces
  std::map<std::tuple<std::string, bool, int>, int64_t> counts;
  std::unordered_map<TraceKey, PendingDrop, TraceKeyHash> drops;
};

inline constexpr const char* kSamplingFile = "SAMPLING";
void EncodeSamplingState(const SamplingState& s, std::string* out);
// Corruption when the bytes are not a complete, intact file.
Status DecodeSamplingState(std::string_view in, SamplingState* out);
// *found is false (and *out empty) when the file does not exist.
Status ReadSamplingState(Env* env, const std::string& dir, SamplingState* out, bool* found);
Status WriteSamplingState(Env* env, const std::string& dir, const SamplingState& s);

}  // namespace sightline::store::sampling
