// MemEnv: an Env whose files live in memory, for tests and fuzzing. It models what a
// power loss does to a POSIX file system, so durability tests can "crash" a store
// and reopen it:
//   - bytes appended to a file become durable only when that file's Sync() succeeds;
//   - creations, renames and removals in a directory become durable only when
//     SyncDir(dir) succeeds.
// DropUnsyncedData() throws away everything not yet durable.
//
// Invariants: a file's synced length never exceeds its length; an open WritableFile
// keeps writing to its inode even after the name was renamed or removed (as POSIX).
// Thread-safety: every method is safe for concurrent use (one mutex inside).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/env.h"

namespace sightline {

class MemEnv final : public Env {
 public:
  MemEnv();
  ~MemEnv() override;

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

  // Simulates a power loss: files lose what was appended after their last Sync, and
  // directory operations since the directory's last SyncDir are undone.
  void DropUnsyncedData();
  // Replaces a file's whole content, durably (tests corrupt files with it).
  void PutFile(const std::string& path, std::string data);
  // What FreeSpace reports (default: 1 TiB).
  void SetFreeSpace(uint64_t bytes);

  struct FileData;  // an inode: content and how much of it is durable

 private:
  struct DirOp;
  void RecordDirOp(const std::string& path, DirOp op);  // *mu_ held
  void ReleaseLock(const std::string& path);

  // One mutex guards the maps and every file's bytes; open files share it, so they
  // stay safe even if they outlive the MemEnv.
  std::shared_ptr<std::mutex> mu_;
  std::map<std::string, std::shared_ptr<FileData>> files_;  // guarded by mu_
  std::set<std::string> dirs_;                              // guarded by mu_
  std::map<std::string, std::vector<DirOp>> pending_;       // per directory; guarded by mu_
  std::set<std::string> locked_;                            // guarded by mu_
  uint64_t free_space_ = uint64_t{1} << 40;                 // guarded by mu_
};

}  // namespace sightline
