// Agents' external actions in the audit trail (docs/audit.md): which tool spans are
// side-effecting, and the record each one leaves.
//
// A tool span is side-effecting when its tool name matches one of the configured globs
// (`[side_effects] tools` of DATA/audit.toml; `*` any run, `?` one character, ASCII
// case-insensitive) or when it carries the attribute `sightline.side_effect` = true
// (bool, or the string "true"). Its record names the session, the user, the tool, the
// SHA-256 of the sanitised arguments (the canonical input after redaction: the trail
// never holds what redaction removed), the span's status as the outcome, and the
// span's end time.
//
// Thread-safety: a SideEffectPolicy is immutable after construction.
#pragma once

#include <string>
#include <vector>

#include "audit/audit_record.h"
#include "model/span.h"

namespace sightline::audit {

inline constexpr char kSideEffectAttribute[] = "sightline.side_effect";

class SideEffectPolicy {
 public:
  SideEffectPolicy() = default;
  explicit SideEffectPolicy(std::vector<std::string> tool_globs) : globs_(std::move(tool_globs)) {}
  bool IsSideEffecting(const model::Span& span) const;
  const std::vector<std::string>& tool_globs() const { return globs_; }

 private:
  std::vector<std::string> globs_;
};

// The audit record of one side-effecting tool span.
AuditRecord SideEffectRecord(const model::Span& span);

// The records of every side-effecting span in spans, in order.
std::vector<AuditRecord> SideEffectRecords(const model::SpanList& spans, const SideEffectPolicy& policy);

}  // namespace sightline::audit
