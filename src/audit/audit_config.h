// The audit trail's settings: DATA/audit.toml (docs/audit.md). Optional; without it
// the trail keeps everything forever, records reads, and treats as side-effecting only
// the tool spans marked `sightline.side_effect = true`.
//
//   [retention]
//   days = 365            # 0 or absent: forever
//   segment_mb = 64       # a file rolls at this size
//   [side_effects]
//   tools = ["send_*", "*.delete", "payments.*"]
//   [reads]
//   record = true         # who viewed or exported which traces
//
// Read once at start-up; errors name the file and line and quote nothing from it.
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/env.h"
#include "common/status.h"

namespace sightline::audit {

struct AuditConfig {
  int64_t retention_days = 0;
  uint64_t segment_bytes = uint64_t{64} << 20;
  std::vector<std::string> side_effect_tools;
  bool record_reads = true;
};

Result<AuditConfig> ParseAuditConfig(std::string_view toml_text, const std::string& origin);
// The defaults when path does not exist.
Result<AuditConfig> LoadAuditConfig(Env* env, const std::string& path);

}  // namespace sightline::audit
