// FaultInjectionEnv: wraps another Env (usually a MemEnv) and makes chosen operations
// fail, so tests can check that a store never acknowledges what it could not make
// durable and never crashes when the disk misbehaves.
//
// Faults: "fail the Nth operation of kind K" (once, or that one and every later one),
// and a disk-full mode in which writes fail with Unavailable("disk full ...") and
// FreeSpace reports 0 until it is turned off. Operations are counted from the last
// Reset (1-based).
//
// Thread-safety: safe for concurrent use; the counters are atomic.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "common/env.h"

namespace sightline {

class FaultInjectionEnv final : public Env {
 public:
  enum class Op { kWrite = 0, kSync, kRename, kCreate, kSyncDir, kRemove, kCount };

  explicit FaultInjectionEnv(Env* base);

  // Makes the nth (1-based, counted from now) operation of kind op fail with status.
  // sticky: every later operation of that kind fails too, until Reset.
  void FailNth(Op op, int64_t n, Status status, bool sticky = false);
  // Disk-full mode: writes, syncs and file creations fail with Unavailable("disk full"),
  // FreeSpace reports 0.
  void SetDiskFull(bool full);
  // While held, every file Sync blocks (tests fill a store's queue behind a slow disk).
  void HoldSyncs(bool hold);
  // Restricts every fault (planned failures and disk-full mode) to paths containing
  // `substring` (empty: every path), e.g. "segments/" to fill the disk under flushes
  // and compactions while the WAL still writes. Counting is unaffected.
  void OnlyPaths(std::string substring);
  // Clears every planned fault and counter (and the path restriction).
  void Reset();
  // Operations of kind op seen since the last Reset, and how many were failed.
  int64_t Count(Op op) const;
  int64_t Failures() const { return failures_.load(); }

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override;
  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override;
  Result<std::unique_ptr<SequentialFile>> NewSequentialFile(const std::string& path) override;
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override;
  bool FileExists(const std::string& path) override;
  Result<std::vector<std::string>> GetChildren(const std::string& dir) override;
  Status RemoveFile(const std::string& path) override;
  Status RenameFile(const std::string& from, const std::string& to) override;
  Status CreateDir(const std::string& dir) override;
  Result<uint64_t> GetFileSize(const std::string& path) override;
  Status SyncDir(const std::string& dir) override;
  Status Truncate(const std::string& path, uint64_t size) override;
  Result<uint64_t> FreeSpace(const std::string& dir) override;
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override;
  int64_t NowNanos() override;
  int64_t MonotonicNanos() override;

  // Counts one operation of kind op and returns the fault planned for it (OK if none).
  // Public so the wrapped file objects can call it.
  Status Check(Op op, const std::string& what);
  void WaitWhileHeld();

 private:
  struct Plan {
    std::atomic<int64_t> count{0};
    std::atomic<int64_t> fail_at{0};  // 0: none
    std::atomic<bool> sticky{false};
  };

  Env* base_;
  Plan plans_[static_cast<int>(Op::kCount)];
  std::mutex status_mu_;
  Status fail_status_[static_cast<int>(Op::kCount)];  // guarded by status_mu_
  std::atomic<bool> disk_full_{false};
  std::mutex hold_mu_;
  std::condition_variable hold_cv_;
  bool hold_syncs_ = false;  // guarded by hold_mu_
  std::atomic<int64_t> failures_{0};
  std::string only_paths_;  // guarded by status_mu_
};

}  // namespace sightline
