// GET /api/v1/audit (the audit trail, filtered, by cursor), the read hook the trace,
// span and session views call (docs/audit.md).
#include <cstdint>
#include <cstdlib>

#include <rapidjson/document.h>

#include "api/json_encode.h"
#include "api/router.h"
#include "audit/audit_reader.h"
#include "common/time_util.h"

namespace sightline::api {

Status ApiRouter::AuditRead(const audit::Actor& actor, std::string action, std::string target,
                            std::string details_json) {
  auto pending = StartAuditRead(actor, std::move(action), std::move(target), std::move(details_json));
  return FinishAuditRead(pending);
}

std::future<Status> ApiRouter::StartAuditRead(const audit::Actor& actor, std::string action, std::string target,
                                              std::string details_json) {
  auto done = std::make_shared<std::promise<Status>>();
  auto pending = done->get_future();
  if (options_.audit == nullptr || !options_.audit_reads) {
    done->set_value(Status::OK());
    return pending;
  }
  std::vector<audit::AuditRecord> recs(1);
  audit::AuditRecord& rec = recs[0];
  rec.kind = audit::Kind::kRead;
  rec.actor = actor;
  rec.action = std::move(action);
  rec.target = std::move(target);
  rec.details_json = std::move(details_json);
  options_.audit->AppendAsync(std::move(recs), [done](Status st) { done->set_value(std::move(st)); });
  return pending;
}

Status ApiRouter::FinishAuditRead(std::future<Status>& pending) {
  Status st = pending.get();
  if (!st.ok()) return Status::Unavailable("the read could not be recorded in the audit trail: " + st.message());
  return Status::OK();
}

void ApiRouter::SearchAudit(const QueryParams& params, const audit::Actor& actor, const Responder& respond) {
  if (options_.audit == nullptr) return respond(Error(Status::NotFound("the audit trail is off")));
  int64_t from = INT64_MIN, to = INT64_MAX;
  uint64_t after = 0;
  size_t limit = 100;
  std::string kind, action, principal, target_prefix;
  for (const auto& [k, v] : params) {
    if (v.empty()) continue;
    if (k == "from" || k == "to") {
      auto t = ParseTimeParam(v);
      if (!t) return respond(Error(Status::InvalidArgument(k + ": expected RFC 3339 or Unix milliseconds")));
      (k == "from" ? from : to) = *t;
    } else if (k == "kind") {
      audit::Kind parsed;
      if (!audit::ParseKind(v, &parsed))
        return respond(Error(Status::InvalidArgument("kind: one of admin, read, side_effect, system")));
      kind = v;
    } else if (k == "action") {
      action = v;
    } else if (k == "principal") {
      principal = v;
    } else if (k == "target") {
      target_prefix = v;
    } else if (k == "cursor") {
      char* end = nullptr;
      unsigned long long c = std::strtoull(v.c_str(), &end, 10);
      if (end == v.c_str() || *end != '\0') return respond(Error(Status::InvalidArgument("cursor: not a cursor")));
      after = c;
    } else if (k == "limit") {
      char* end = nullptr;
      long l = std::strtol(v.c_str(), &end, 10);
      if (end == v.c_str() || *end != '\0' || l < 1 || l > 1000)
        return respond(Error(Status::InvalidArgument("limit: an integer from 1 to 1000")));
      limit = static_cast<size_t>(l);
    } else {
      return respond(Error(Status::InvalidArgument(
          "unknown parameter `" + k + "` (from, to, kind, action, principal, target, cursor, limit)")));
    }
  }
  // Reading the trail is itself recorded.
  Status audited = AuditRead(actor, "audit.view", "audit", "{}");
  if (!audited.ok()) return respond(Error(audited));
  std::vector<std::string> lines;
  uint64_t last_seen = after;
  bool more = false;
  Status st = audit::ScanAuditRecords(options_.audit->env(), options_.audit->dir(), after,
                                      [&](const audit::AuditRecord& r) {
                                        if (lines.size() == limit) {
                                          more = true;
                                          return false;
                                        }
                                        last_seen = r.seq;
                                        if (r.time_ns < from || r.time_ns >= to) return true;
                                        if (!kind.empty() && audit::KindName(r.kind) != kind) return true;
                                        if (!action.empty() && r.action != action) return true;
                                        if (!principal.empty() && r.actor.principal != principal) return true;
                                        if (!target_prefix.empty() && r.target.rfind(target_prefix, 0) != 0)
                                          return true;
                                        lines.push_back(r.line);
                                        return true;
                                      });
  if (!st.ok()) return respond(Error(st));
  std::string body = "{\"records\":[";
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) body += ',';
    body += lines[i];  // as stored: verifiable by the client
  }
  body += "],\"next_cursor\":";
  body += more ? "\"" + std::to_string(last_seen) + "\"" : std::string("null");
  body += "}";
  respond(Json(200, std::move(body)));
}

}  // namespace sightline::api
