// AuditRecord: one entry of the audit trail (docs/audit.md), and its line encoding.
//
// A record is one line of JSON in an audit file. The log stamps each record with a
// sequence number (1, 2, ... for the life of the trail), the SHA-256 of the record
// before it (`prev`; 64 zeros for the first record ever) and its own SHA-256 (`hash`,
// over the line's bytes without the hash field). So an edited byte breaks the record's
// own hash, and a removed, inserted or reordered record breaks the sequence and the
// `prev` link of the record after it.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace sightline::audit {

enum class Kind {
  kAdmin,       // keys, users, policies, deletions, demo loads
  kRead,        // a trace or span viewed, traces exported
  kSideEffect,  // an agent's side-effecting tool call, seen at ingest
  kSystem,      // the trail's own events: recovery after a crash, retention
};
std::string_view KindName(Kind k);
bool ParseKind(std::string_view s, Kind* out);

// Who did it. The auth work fills principal from the caller's key or session; until
// then API callers are "anonymous" and known by their address.
struct Actor {
  std::string principal = "anonymous";  // a user, an API key's id, "agent", "system"
  std::string remote;                   // "127.0.0.1:53211"; empty when not over the network
};

struct AuditRecord {
  Kind kind = Kind::kAdmin;
  Actor actor;
  std::string action;               // "trace.view", "key.revoke", "tool.call", ...
  std::string target;               // "trace/4bf9…", "project/payments", "tool/send_email"
  std::string details_json = "{}";  // a JSON object (validated; re-encoded on one line)
  std::string outcome = "ok";       // "ok", "denied", "error", or a span status
  int64_t time_ns = 0;              // Unix ns; 0: stamped by the log when appended

  // Set by the log (AuditLog) and by ParseAuditLine.
  uint64_t seq = 0;
  std::string prev;  // hex SHA-256 of the previous record's line, 64 zeros for seq 1
  std::string hash;  // hex SHA-256 of this record (its line without the hash field)
  std::string line;  // ParseAuditLine: the line as stored (export and the API show it)
};

inline constexpr std::string_view kZeroHash =
    "0000000000000000000000000000000000000000000000000000000000000000";
// Lines longer than this are refused by both writer and reader.
inline constexpr size_t kMaxLineBytes = 1 << 20;

// Lowercase hex SHA-256 of bytes.
std::string Sha256Hex(std::string_view bytes);

// The line for rec (seq, time_ns and prev set), with its hash, ending in '\n'; sets
// rec->hash. InvalidArgument when details_json is not a JSON object or the line would
// exceed kMaxLineBytes.
Result<std::string> EncodeAuditLine(AuditRecord* rec);

// Parses one line (without its '\n') and checks its own hash. Corruption with what is
// wrong when the line is not a record or its hash does not match; the fields that
// could be read (seq above all) are still filled in *out so errors can name it.
Status ParseAuditLine(std::string_view line, AuditRecord* out);

}  // namespace sightline::audit
