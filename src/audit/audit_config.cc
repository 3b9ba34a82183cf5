#include "audit/audit_config.h"

#include <toml++/toml.h>

#include "common/toml_guard.h"

namespace sightline::audit {
namespace {

Status Bad(const std::string& origin, const toml::node& n, const std::string& what) {
  return Status::InvalidArgument(origin + ":" + std::to_string(n.source().begin.line) + ": " + what);
}

}  // namespace

Result<AuditConfig> ParseAuditConfig(std::string_view text, const std::string& origin) {
  SL_RETURN_IF_ERROR(CheckTomlText(text, origin));
  toml::table doc;
  try {
    doc = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    return Status::InvalidArgument(origin + ":" + std::to_string(e.source().begin.line) + ": not valid TOML");
  }
  AuditConfig c;
  for (const auto& [k, v] : doc) {
    std::string key(k.str());
    const toml::table* t = v.as_table();
    if (!t) return Bad(origin, v, key + ": must be a table");
    for (const auto& [sk, sv] : *t) {
      std::string sub(sk.str());
      std::string where = key + "." + sub;
      if (key == "retention" && sub == "days") {
        auto i = sv.value<int64_t>();
        if (!i || *i < 0 || *i > 36500) return Bad(origin, sv, where + ": an integer from 0 (forever) to 36500");
        c.retention_days = *i;
      } else if (key == "retention" && sub == "segment_mb") {
        auto i = sv.value<int64_t>();
        if (!i || *i < 1 || *i > 4096) return Bad(origin, sv, where + ": an integer from 1 to 4096");
        c.segment_bytes = static_cast<uint64_t>(*i) << 20;
      } else if (key == "side_effects" && sub == "tools") {
        const toml::array* a = sv.as_array();
        if (!a) return Bad(origin, sv, where + ": must be an array of tool-name patterns");
        for (const auto& e : *a) {
          auto s = e.value<std::string>();
          if (!s || s->empty() || s->size() > 256) return Bad(origin, e, where + ": every entry must be a non-empty string");
          if (c.side_effect_tools.size() >= 1000) return Bad(origin, e, where + ": more than 1000 patterns");
          c.side_effect_tools.push_back(*s);
        }
      } else if (key == "reads" && sub == "record") {
        auto b = sv.value<bool>();
        if (!b) return Bad(origin, sv, where + ": must be true or false");
        c.record_reads = *b;
      } else {
        return Bad(origin, sv,
                   "unknown setting `" + where +
                       "` (retention.days, retention.segment_mb, side_effects.tools, reads.record)");
      }
    }
  }
  return c;
}

Result<AuditConfig> LoadAuditConfig(Env* env, const std::string& path) {
  if (!env->FileExists(path)) return AuditConfig{};
  SL_ASSIGN_OR_RETURN(std::string text, ReadFileToString(env, path));
  return ParseAuditConfig(text, path);
}

}  // namespace sightline::audit
