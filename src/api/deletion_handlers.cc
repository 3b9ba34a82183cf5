// Deletion on request over HTTP (docs/deletion.md, docs/api.md "Deletion"):
//   DELETE /api/v1/users/{user_id}[?project=P]
//   DELETE /api/v1/sessions/{session_id}[?project=P]
//   GET    /api/v1/deletions
// and tail sampling's decision counts (docs/sampling.md): GET /api/v1/sampling.
// A deletion answers 200 once its record is durable and its traces hidden; the answer's
// "status" says whether its data is already off disk ("complete") or the rewrite is
// still pending (retried by the store in the background; see GET /api/v1/deletions).
#include "api/json_encode.h"
#include "api/router.h"
#include "common/time_util.h"

namespace sightline::api {
namespace {


void WriteDeletion(JsonWriter& w, const store::DeletionRecord& r) {
  w.StartObject();
  w.Key("id");
  w.Uint64(r.id);
  StrField(w, "kind", store::DeletionKindName(r.kind));
  if (!r.value.empty()) StrField(w, "value", r.value);
  StrField(w, "value_sha256", r.value_sha256);
  StrField(w, "project", r.project);
  StrField(w, "requested_by", r.requested_by);
  StrField(w, "requested_at", FormatRfc3339(r.requested_at_ns));
  w.Key("requested_at_ns");
  w.Int64(r.requested_at_ns);
  StrField(w, "status", r.complete() ? "complete" : "pending");
  w.Key("completed_at");
  if (r.complete()) {
    std::string t = FormatRfc3339(r.completed_at_ns);
    w.String(t.data(), static_cast<rapidjson::SizeType>(t.size()));
  } else {
    w.Null();
  }
  w.Key("traces");
  w.Uint64(r.traces);
  w.Key("spans");
  w.Uint64(r.spans);
  w.Key("segments_rewritten");
  w.Uint64(r.segments_rewritten);
  w.EndObject();
}

}  // namespace

void ApiRouter::DeleteBy(store::DeletionKind kind, const std::string& value, const QueryParams& params,
                         const auth::Principal& caller, const std::string& actor, const Responder& respond) {
  if (value.empty())
    return respond(Error(Status::InvalidArgument(std::string(store::DeletionKindName(kind)) + " id is empty")));
  auto projects = ParseProjectOnly(params);
  if (!projects.ok()) return respond(Error(projects.status()));
  if (projects->size() > 1) return respond(Error(Status::InvalidArgument("a deletion takes at most one project")));
  // With auth on, a deletion names its project and needs the admin role there.
  if (!caller.all_projects) {
    if (projects->empty())
      return respond(Error(Status::InvalidArgument("a deletion needs ?project= when auth is on")));
    auto role = caller.projects.find(projects->front());
    if (caller.kind == auth::Principal::Kind::kApiKey || role == caller.projects.end() ||
        role->second != auth::Role::kAdmin)
      return respond(Error(Status::PermissionDenied("deleting data needs the admin role in the project")));
  }
  store::DeletionRequest req;
  req.kind = kind;
  req.value = value;
  req.project = projects->empty() ? "" : projects->front();
  req.requested_by = actor;
  auto rec = store_->Delete(req);
  if (!rec.ok()) return respond(Error(rec.status()));
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("deletion");
  WriteDeletion(w, *rec);
  w.EndObject();
  respond(Json(200, std::string(buf.GetString(), buf.GetSize())));
}

void ApiRouter::ListDeletions(const auth::Principal& caller, const Responder& respond) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("deletions");
  w.StartArray();
  // Deletions are admin business: only those of projects where the caller is admin.
  for (const auto& r : store_->Deletions())
    if (caller.all_projects || (!r.project.empty() && caller.HasRole(r.project, auth::Role::kAdmin)))
      WriteDeletion(w, r);
  w.EndArray();
  w.EndObject();
  respond(Json(200, std::string(buf.GetString(), buf.GetSize())));
}

HttpResponse ApiRouter::SamplingCounts(const auth::Principal& caller) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("decisions");
  w.StartArray();
  for (const auto& c : store_->SamplingCounts()) {
    if (!caller.HasRole(c.project, auth::Role::kAdmin)) continue;  // only the caller's admin projects
    w.StartObject();
    StrField(w, "project", c.project);
    StrField(w, "decision", c.kept ? "keep" : "drop");
    StrField(w, "reason", c.reason);
    w.Key("traces");
    w.Int64(c.traces);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return Json(200, std::string(buf.GetString(), buf.GetSize()));
}

}  // namespace sightline::api
