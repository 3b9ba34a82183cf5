// ParallelUnits: the store's scans (aggregates, the search's column scans) split their
// work into units and run them on both cores of the target machine: the calling thread
// and one helper thread take units from a shared counter.
// Thread-safety: fn is called concurrently from kScanThreads threads; `thread` (0 or 1)
// lets it use per-thread state without locks.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <thread>

#include "common/status.h"

namespace sightline::store {

inline constexpr int kScanThreads = 2;
// A scan of the memtable's records takes the shared lock for this many at a time, so
// that the writer waits for no more than one step.
inline constexpr size_t kRecordChunk = 65536;

// Runs fn(thread, unit) for units [0, n) on kScanThreads threads (the caller's among
// them); stops handing out units after the first error, which it returns.
inline Status ParallelUnits(size_t n, const std::function<Status(int thread, size_t unit)>& fn) {
  std::atomic<size_t> next{0};
  std::atomic<bool> stop{false};
  Status errors[kScanThreads];
  auto work = [&](int t) {
    while (!stop.load(std::memory_order_relaxed)) {
      size_t i = next.fetch_add(1);
      if (i >= n) return;
      Status s = fn(t, i);
      if (!s.ok()) {
        errors[t] = std::move(s);
        stop = true;
      }
    }
  };
  if (n <= 1) {
    work(0);
  } else {
    // The helper keeps its creator's name (an sl-http thread's, for a query): naming
    // another thread opens a file under /proc, which a scan of a millisecond need not pay.
    std::thread helper(work, 1);
    work(0);
    helper.join();
  }
  for (auto& e : errors)
    if (!e.ok()) return e;
  return Status::OK();
}

}  // namespace sightline::store
