#include "audit/audit_outbox.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace sightline::audit {

AuditRecord OutboxToRecord(const auth::OutboxRecord& row) {
  AuditRecord r;
  r.kind = Kind::kAdmin;
  r.actor.principal = row.actor.empty() ? "admin-cli" : row.actor;
  r.action = row.action;
  r.target = row.target;
  r.outcome = "ok";
  r.time_ns = row.time_ms > 0 ? row.time_ms * 1000000 : 0;
  // The details as written, plus the row's id; a row whose details are not a JSON
  // object (a hand-edited database) is still recorded, saying so.
  rapidjson::Document d;
  d.Parse(row.details.data(), row.details.size());
  if (d.HasParseError() || !d.IsObject()) {
    d.SetObject();
    d.AddMember("invalid_details", true, d.GetAllocator());
  }
  d.RemoveMember("outbox_id");
  d.AddMember("outbox_id", rapidjson::Value(static_cast<int64_t>(row.id)), d.GetAllocator());
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  d.Accept(w);
  r.details_json.assign(b.GetString(), b.GetSize());
  return r;
}

Result<size_t> DrainAuditOutbox(auth::MetadataDb* db, AuditLog* log, size_t max_records) {
  SL_ASSIGN_OR_RETURN(auto rows, db->ReadAuditOutbox(max_records));
  if (rows.empty()) return size_t{0};
  std::vector<AuditRecord> records;
  records.reserve(rows.size());
  for (const auto& row : rows) records.push_back(OutboxToRecord(row));
  Status st = log->AppendBatch(std::move(records));
  if (!st.ok()) return st.WithContext("audit outbox");
  SL_RETURN_IF_ERROR(db->DeleteAuditOutbox(rows.back().id));
  return rows.size();
}

}  // namespace sightline::audit
