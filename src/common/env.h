// Env: every file, directory and clock operation Sightline's store performs goes
// through this interface, so tests can substitute an in-memory Env, or one that
// fails the Nth write, fsync or rename, or drops data that was never synced
// (LevelDB's Env, SQLite's VFS).
//
// Thread-safety: Env implementations are safe for concurrent use. A file object is
// used by one thread at a time unless its class says otherwise.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace sightline {

// A file written sequentially. Nothing is durable until Sync() returns OK.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(std::string_view data) = 0;
  // Makes everything appended so far durable (fdatasync).
  virtual Status Sync() = 0;
  virtual Status Close() = 0;
  // Bytes appended so far, including what the file held when opened for append.
  virtual uint64_t Size() const = 0;
};

// A file read from the start to the end.
class SequentialFile {
 public:
  virtual ~SequentialFile() = default;
  // Reads up to n bytes into scratch; *out views the bytes read (empty at EOF).
  virtual Status Read(size_t n, std::string* scratch, std::string_view* out) = 0;
  virtual Status Skip(uint64_t n) = 0;
};

// A file read at arbitrary offsets; safe for concurrent reads.
class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  // Reads up to n bytes at offset into *out (fewer only at the end of the file).
  virtual Status Read(uint64_t offset, size_t n, std::string* out) const = 0;
  virtual uint64_t Size() const = 0;
};

// A held advisory lock on a file (Env::LockFile). Destroying it releases the lock.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class Env {
 public:
  virtual ~Env() = default;

  // The process-wide Env backed by the operating system (POSIX).
  static Env* Default();

  // Creates or truncates path.
  virtual Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) = 0;
  // Opens path for appending, creating it if missing.
  virtual Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) = 0;
  virtual Result<std::unique_ptr<SequentialFile>> NewSequentialFile(const std::string& path) = 0;
  virtual Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) = 0;

  virtual bool FileExists(const std::string& path) = 0;
  // Names (not paths) of the entries in dir.
  virtual Result<std::vector<std::string>> GetChildren(const std::string& dir) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;
  // Atomically replaces `to` with `from`.
  virtual Status RenameFile(const std::string& from, const std::string& to) = 0;
  // Creates dir and its missing parents; OK if it exists.
  virtual Status CreateDir(const std::string& dir) = 0;
  virtual Result<uint64_t> GetFileSize(const std::string& path) = 0;
  // Makes creations, renames and removals in dir durable (fsync of the directory).
  virtual Status SyncDir(const std::string& dir) = 0;
  // Truncates path to size bytes.
  virtual Status Truncate(const std::string& path, uint64_t size) = 0;
  // Bytes free on the file system holding dir.
  virtual Result<uint64_t> FreeSpace(const std::string& dir) = 0;

  // Takes an exclusive lock on path (created if missing) so that two store instances,
  // in one process or two, never open the same data directory. Fails with IOError
  // naming the path when another holder has it. The base implementation locks nothing
  // (for Envs without a notion of locking); PosixEnv and MemEnv really exclude.
  virtual Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) {
    return std::unique_ptr<FileLock>(new FileLock());
  }

  // Wall-clock time, Unix nanoseconds.
  virtual int64_t NowNanos() = 0;
  // Monotonic time for measuring intervals, nanoseconds.
  virtual int64_t MonotonicNanos() = 0;
};

// Joins a directory and a name with exactly one '/'.
std::string JoinPath(std::string_view dir, std::string_view name);

// Reads a whole file through env.
Result<std::string> ReadFileToString(Env* env, const std::string& path);
// Writes data to path durably: a temporary file, fsync, rename, fsync of the directory.
Status WriteFileAtomically(Env* env, const std::string& path, std::string_view data);

}  // namespace sightline
