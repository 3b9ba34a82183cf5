// libFuzzer target: the audit trail's reader (audit/audit_reader.h, audit_record.h).
// Any bytes, as one audit file (with HEAD and ANCHOR from the same bytes), must verify
// or name a bad record, scan without crashing, and reopen for appending or give a
// Status; a line that parses must encode back to itself.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "audit/audit_log.h"
#include "audit/audit_reader.h"
#include "common/mem_env.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sightline;
  using namespace sightline::audit;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);

  // Every line on its own.
  bool torn = false;
  for (std::string_view line : SplitAuditLines(bytes, &torn)) {
    AuditRecord r;
    if (!ParseAuditLine(line, &r).ok()) continue;
    AuditRecord again = r;
    auto encoded = EncodeAuditLine(&again);
    // A record that verifies was written by EncodeAuditLine or forged with its hash;
    // either way its fields re-encode to a record with a valid hash.
    if (!encoded.ok()) continue;
    AuditRecord back;
    if (!ParseAuditLine(std::string_view(*encoded).substr(0, encoded->size() - 1), &back).ok()) __builtin_trap();
  }

  // As a directory: the bytes are the first file; the tail of them HEAD and ANCHOR.
  MemEnv env;
  const std::string dir = "/d/audit";
  if (!env.CreateDir(dir).ok()) return 0;
  env.PutFile(JoinPath(dir, AuditFileName(1)), std::string(bytes));
  if (size > 0 && data[0] % 3 == 0) env.PutFile(JoinPath(dir, "HEAD"), std::string(bytes.substr(size / 2)));
  if (size > 0 && data[0] % 5 == 0) env.PutFile(JoinPath(dir, "ANCHOR"), std::string(bytes.substr(size / 3)));
  auto report = VerifyAuditDir(&env, dir);
  if (report.ok() && !report->ok && report->bad_file.empty()) __builtin_trap();
  (void)ScanAuditRecords(&env, dir, 0, [](const AuditRecord&) { return true; });
  AuditLogOptions o;
  o.env = &env;
  o.dir = dir;
  auto log = AuditLog::Open(o);
  if (log.ok()) {
    AuditRecord r;
    r.action = "fuzz";
    if ((*log)->Append(r).ok()) {
      log->reset();
      auto after = VerifyAuditDir(&env, dir);
      // What Open accepted and extended must still read as far as it did.
      if (!after.ok()) __builtin_trap();
    }
  }
  return 0;
}
