#include "audit/side_effects.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/hex.h"
#include "pipeline/redaction_detectors.h"

namespace sightline::audit {

bool SideEffectPolicy::IsSideEffecting(const model::Span& span) const {
  if (span.kind() != model::v1::KIND_TOOL && span.tool_name().empty()) return false;
  for (const auto& kv : span.attributes()) {
    if (kv.key() != kSideEffectAttribute) continue;
    const auto& v = kv.value();
    if (v.has_bool_value() && v.bool_value()) return true;
    if (v.has_string_value() && v.string_value() == "true") return true;
  }
  if (span.tool_name().empty()) return false;
  for (const auto& g : globs_)
    if (pipeline::redaction::GlobMatch(g, span.tool_name())) return true;
  return false;
}

AuditRecord SideEffectRecord(const model::Span& span) {
  AuditRecord r;
  r.kind = Kind::kSideEffect;
  r.actor.principal = span.agent_name().empty() ? "agent" : "agent:" + span.agent_name();
  r.action = "tool.call";
  r.target = "tool/" + span.tool_name();
  r.outcome = std::string(model::StatusName(span.status()));
  r.time_ns = span.end_ns() != 0 ? span.end_ns() : span.start_ns();
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto str = [&w](std::string_view s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); };
  w.StartObject();
  w.Key("project");
  str(span.project());
  w.Key("session_id");
  str(span.session_id());
  w.Key("user_id");
  str(span.user_id());
  w.Key("tool");
  str(span.tool_name());
  w.Key("tool_call_id");
  str(span.tool_call_id());
  w.Key("args_sha256");
  str(span.input_json().empty() ? std::string() : Sha256Hex(span.input_json()));
  w.Key("trace_id");
  str(HexEncode(span.trace_id()));
  w.Key("span_id");
  str(HexEncode(span.span_id()));
  w.Key("start_ns");
  w.Int64(span.start_ns());
  w.Key("end_ns");
  w.Int64(span.end_ns());
  if (!span.status_message().empty()) {
    w.Key("status_message");
    str(span.status_message());
  }
  w.EndObject();
  r.details_json.assign(buf.GetString(), buf.GetSize());
  return r;
}

std::vector<AuditRecord> SideEffectRecords(const model::SpanList& spans, const SideEffectPolicy& policy) {
  std::vector<AuditRecord> out;
  for (const model::Span& s : spans)
    if (policy.IsSideEffecting(s)) out.push_back(SideEffectRecord(s));
  return out;
}

}  // namespace sightline::audit
