// Deletion on request (docs/deletion.md): what a request to forget a user or a session
// asks, what the store answers, and the durable record of it (DATA/DELETIONS).
//
// A deletion is resolved, when it is made, to the ids of the traces it covers (every
// trace whose merged summary names the user or the session, in the project if one is
// given). Those trace ids become tombstones: queries never return them, spans that
// arrive later for them are dropped when applied, flushes leave them out, compaction
// and retention drop them, and the request itself rewrites the segment files that list
// them. A later trace of the same user, with a new trace id, is kept: a deletion
// covers the data received up to the moment it is made.
//
// The record never holds the user or session id itself (it would be a copy of what was
// asked to be forgotten): only its SHA-256, the trace ids and counts.
//
// Thread-safety: plain values and free functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/env.h"
#include "common/status.h"
#include "store/trace_agg.h"

namespace sightline::store {

enum class DeletionKind : uint8_t { kUser = 1, kSession = 2 };
const char* DeletionKindName(DeletionKind k);  // "user", "session"

struct DeletionRequest {
  DeletionKind kind = DeletionKind::kUser;
  std::string value;         // the user_id or session_id (never stored)
  std::string project;       // empty: every project
  std::string requested_by;  // who asked (shown and kept; e.g. "api 127.0.0.1", "cli")
};

// The durable record, and the answer to a request (value only in the answer).
struct DeletionRecord {
  uint64_t id = 0;  // 1, 2, ... in request order
  DeletionKind kind = DeletionKind::kUser;
  std::string value_sha256;  // hex of SHA-256(value)
  std::string value;         // in answers only: never written to disk
  std::string project;
  std::string requested_by;
  int64_t requested_at_ns = 0;
  int64_t completed_at_ns = 0;  // 0: its data may still be on disk (the rewrite is pending)
  uint64_t traces = 0, spans = 0;  // matched when it was made
  uint64_t segments_rewritten = 0;
  std::vector<TraceKey> keys;  // the traces it covers (tombstones)

  bool complete() const { return completed_at_ns != 0; }
};

// Hex SHA-256 of s.
std::string Sha256Hex(std::string_view s);

// DATA/DELETIONS: "SLDEL001", varint count, the records, then XXH3-64 of everything
// before it (fixed64). Rewritten whole (temporary file, fsync, rename, directory
// fsync) at every change, so it is always one complete version.
inline constexpr const char* kDeletionFile = "DELETIONS";
void EncodeDeletions(const std::vector<DeletionRecord>& records, std::string* out);
// Corruption when the bytes are not a complete, intact file.
Status DecodeDeletions(std::string_view in, std::vector<DeletionRecord>* out);
// Missing file: an empty list.
Status ReadDeletions(Env* env, const std::string& dir, std::vector<DeletionRecord>* out);
Status WriteDeletions(Env* env, const std::string& dir, const std::vector<DeletionRecord>& records);

}  // namespace sightline::store
