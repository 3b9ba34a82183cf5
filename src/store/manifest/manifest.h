// Manifest: the versioned record of which segment files are live (LevelDB style,
// docs/architecture.md "Manifest"). MANIFEST-<n> is a log of edits framed exactly like
// WAL records (src/store/wal: 32 KiB blocks, checksummed fragments, a file header);
// its first record is a snapshot of the whole state, each later record one edit (files
// added with their metadata, files removed, the WAL number covered). CURRENT holds the
// name of the live manifest and is switched by write-temp + fsync + rename + dir fsync
// (WriteFileAtomically).
//
// Crash rules: an edit is live once its record is synced. When writing or syncing a
// record fails, whether it reached the disk is unknown, so the edit is reported as
// failed, the in-memory state does not take it, and the next edit is written into a
// fresh manifest that starts with a snapshot of the in-memory state; only once CURRENT
// names that one is the old file deleted. Callers therefore never delete a file that a
// failed edit would have removed, and never reuse a file number.
//
// Thread-safety: LogAndApply, NewFileNumber and state() may be called from any
// thread; one mutex serialises them.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/env.h"

namespace sightline::store {
namespace wal {
class WalWriter;
}

namespace manifest {

// What the manifest knows about one live segment file.
struct FileMeta {
  uint64_t number = 0;        // segments/NNNNNN.seg
  int64_t partition = 0;      // time partition index: floor(trace start / partition width)
  int64_t min_start_ns = 0, max_end_ns = 0;
  uint64_t spans = 0, traces = 0, bytes = 0;
  uint32_t format = 1;        // segment format version
  uint64_t covered_wal = 0;   // orders copies of a span across files (higher: newer)
  bool operator==(const FileMeta&) const = default;
};

struct ManifestEdit {
  std::vector<FileMeta> added;
  std::vector<uint64_t> removed;
  std::optional<uint64_t> log_number;        // WAL files numbered <= this are in segments
  std::optional<uint64_t> next_file_number;  // segment numbers below this are used

  void Encode(std::string* out) const;
  // Corruption naming what was wrong (unknown tag, truncated field).
  static Status Decode(std::string_view in, ManifestEdit* out);
};

struct ManifestState {
  std::map<uint64_t, FileMeta> files;  // by number
  uint64_t log_number = 0;
  uint64_t next_file_number = 1;

  // Applies edit; Corruption when it removes a file that is not live or adds one twice.
  Status Apply(const ManifestEdit& edit);
  // The edit that recreates this state from nothing.
  ManifestEdit Snapshot() const;
};

// "MANIFEST-000007"
std::string ManifestFileName(uint64_t number);
bool ParseManifestFileName(std::string_view name, uint64_t* number);
inline constexpr char kCurrentFileName[] = "CURRENT";

class Manifest {
 public:
  // Reads the state CURRENT names in dir without changing anything (the CLI reads a
  // live server's directory this way). NotFound when dir has no CURRENT; Corruption
  // naming the file for damage other than a torn last record.
  static Result<ManifestState> Read(Env* env, const std::string& dir, uint64_t* manifest_number = nullptr);

  // Writes a new manifest holding `state` (numbered after every MANIFEST-* in dir),
  // makes CURRENT name it, and deletes the other manifests.
  static Result<std::unique_ptr<Manifest>> Create(Env* env, const std::string& dir, ManifestState state);
  ~Manifest();

  // Makes edit durable, then applies it to the in-memory state. On error the state
  // is unchanged, and the edit may or may not be on disk (see the crash rules).
  Status LogAndApply(ManifestEdit edit);
  // A fresh segment file number (recorded by the next edit).
  uint64_t NewFileNumber();
  ManifestState state() const;
  uint64_t manifest_number() const;

  // A manifest file past this size is rewritten as a snapshot at the next edit.
  static constexpr uint64_t kRewriteBytes = uint64_t{4} << 20;

 private:
  Manifest(Env* env, std::string dir);
  // Writes MANIFEST-<manifest_number_+1> holding `state` and switches CURRENT. mu_ held.
  Status WriteSnapshotLocked(const ManifestState& state);

  Env* env_;
  std::string dir_;
  mutable std::mutex mu_;
  ManifestState state_;                 // guarded by mu_
  std::unique_ptr<wal::WalWriter> log_;  // guarded by mu_; null: next edit starts a new file
  uint64_t manifest_number_ = 0;        // guarded by mu_
};

}  // namespace manifest
}  // namespace sightline::store
