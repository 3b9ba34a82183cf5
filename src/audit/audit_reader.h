// Reading the audit trail's directory (DATA/audit/, docs/audit.md): its files in
// order, their records, and the verification that finds the first edited, removed,
// reordered or truncated record.
//
// Files: audit-<first seq, 20 digits>.log, one record per line; HEAD ("<seq> <hash>"),
// the last record the writer made durable; ANCHOR ("<seq> <hash> <file>"), the last
// record of the files retention dropped. Readers take no lock: a line still being
// written (no '\n' yet) at the end of the newest file is not a record yet.
//
// Thread-safety: plain functions; safe beside a running writer.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "audit/audit_record.h"
#include "common/env.h"
#include "common/status.h"

namespace sightline::audit {

// "audit-00000000000000000001.log" for first seq 1.
std::string AuditFileName(uint64_t first_seq);
// The first seq in a file name; false when name is not an audit file's.
bool ParseAuditFileName(const std::string& name, uint64_t* first_seq);
// The audit files in dir, oldest first.
Result<std::vector<std::string>> ListAuditFiles(Env* env, const std::string& dir);

// "<seq> <hash>[ <file>]\n" files (HEAD, ANCHOR), optionally followed by a signature
// line (audit/signing.h).
struct ChainPoint {
  uint64_t seq = 0;
  std::string hash;
  std::string file;       // ANCHOR only: the last file dropped
  std::string signature;  // the second line, without '\n'; empty: unsigned
};
// NotFound when the file does not exist; Corruption when it does not parse.
Result<ChainPoint> ReadChainPoint(Env* env, const std::string& path);
// The first line (what the signature covers, with its kind's prefix).
std::string FormatChainPoint(const ChainPoint& p);

struct VerifyOptions {
  // The raw Ed25519 public key (audit/signing.h) HEAD and ANCHOR must be signed with;
  // empty: signatures are not checked.
  std::string public_key;
  // An outside witness of a later state (docs/audit.md, "Witness"): a seq the trail
  // reached, and/or the hash of its record (as an earlier verify printed them). The
  // trail must still reach expect_seq, and the record there (or, without expect_seq,
  // some record) must have the hash expect_head: a whole directory rolled back to an
  // older (even validly signed) state fails, and so does one rolled back and grown
  // again. 0 / empty: no witness.
  uint64_t expect_seq = 0;
  std::string expect_head;  // 64 lower-case hex digits
};

struct VerifyReport {
  bool ok = true;
  uint64_t records = 0;
  uint64_t first_seq = 0, last_seq = 0;
  std::string head_hash;  // the last record's hash (give it to someone else to keep)
  std::vector<std::string> files;
  bool anchored = false;  // the chain starts at an ANCHOR (retention dropped older files)
  ChainPoint anchor;
  // The first bad record: its file, its seq (the one expected there when it cannot be
  // read), and what is wrong.
  std::string bad_file;
  uint64_t bad_seq = 0;
  std::string problem;
  std::vector<std::string> warnings;
  bool head_signed = false;       // HEAD carries a signature line
  bool signature_checked = false;  // and it (and ANCHOR's) verified against VerifyOptions::public_key
  bool witness_checked = false;    // VerifyOptions::expect_seq / expect_head held
};

// Checks the whole trail in dir: every record's own hash, consecutive sequence
// numbers from the ANCHOR (or 1), each `prev` equal to the hash of the record before,
// each file starting at the seq its name says, ANCHOR against the audit.retention
// record that wrote it, and that HEAD's record is there with HEAD's hash. With a
// public key: HEAD and ANCHOR must carry valid signatures by it, and HEAD must name
// the last record (records after it are not covered by any signature). Returns a
// report (ok or the first problem); a Status only when the directory cannot be read.
Result<VerifyReport> VerifyAuditDir(Env* env, const std::string& dir, const VerifyOptions& options);
inline Result<VerifyReport> VerifyAuditDir(Env* env, const std::string& dir) {
  return VerifyAuditDir(env, dir, VerifyOptions{});
}

// Calls fn for every record that parses, in order, with seq > after_seq; stops when fn
// returns false. Damaged lines are skipped (verify names them).
Status ScanAuditRecords(Env* env, const std::string& dir, uint64_t after_seq,
                        const std::function<bool(const AuditRecord&)>& fn);

// Splits a file's bytes into lines; *torn is set when the last bytes are not
// '\n'-terminated (those bytes are not returned as a line).
std::vector<std::string_view> SplitAuditLines(std::string_view data, bool* torn);

}  // namespace sightline::audit
