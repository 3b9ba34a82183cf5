// REST read routes (SPEC "HTTP API"): trace search, one trace as a tree, one span,
// session search, one session. They run on the router's query pool.
#include <algorithm>

#include "api/json_encode.h"
#include "api/router.h"
#include "common/hex.h"
#include "query/trace_tree.h"

namespace sightline::api {
namespace {


std::string JsonQuote(const std::string& s) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  return Finish(buf);
}

// "trace id" must be 32 hex digits, "span id" 16.
Result<std::string> DecodeId(std::string_view what, const std::string& hex, size_t bytes) {
  auto raw = hex.size() == bytes * 2 ? HexDecode(hex) : std::nullopt;
  if (!raw)
    return Status::InvalidArgument(std::string(what) + " \"" + hex + "\" is not " + std::to_string(bytes * 2) +
                                   " hex digits");
  return *raw;
}

// Exactly what the store answers for an id it does not hold (embedded_store_query.cc),
// so a caller outside the project cannot tell a hidden trace from a missing one.
Status NotFound(std::string_view what) { return Status::NotFound(std::string(what) + " not found"); }

void NextCursor(JsonWriter& w, const std::optional<store::Cursor>& next) {
  w.Key("next_cursor");
  if (next) {
    std::string c = EncodeCursor(*next);
    w.String(c.data(), static_cast<rapidjson::SizeType>(c.size()));
  } else {
    w.Null();
  }
}

}  // namespace

void ApiRouter::SearchTraces(const QueryParams& params, const auth::Principal& caller, const Responder& respond) {
  auto q = ParseTraceQuery(params);
  if (!q.ok()) return respond(Error(q.status()));
  if (!auth::ScopeProjects(caller, &q->projects)) return respond(Json(200, R"({"traces":[],"next_cursor":null})"));
  auto page = store_->SearchTraces(*q);
  if (!page.ok()) return respond(Error(page.status()));
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("traces");
  w.StartArray();
  for (const auto& t : page->traces) WriteTraceSummary(w, t);
  w.EndArray();
  NextCursor(w, page->next);
  w.EndObject();
  respond(Json(200, Finish(buf)));
}

void ApiRouter::GetTrace(const std::string& trace_hex, const QueryParams& params, const auth::Principal& caller,
                         const audit::Actor& actor, bool exporting, const Responder& respond) {
  auto id = DecodeId("trace id", trace_hex, 16);
  if (!id.ok()) return respond(Error(id.status()));
  auto view = ParseTraceViewParams(params);
  if (!view.ok()) return respond(Error(view.status()));
  if (!auth::ScopeProjects(caller, &view->projects)) return respond(Error(NotFound("trace")));
  auto detail = store_->GetTrace(*id, view->projects);
  if (!detail.ok()) return respond(Error(detail.status()));
  const auto& spans = detail->spans;
  // Recorded before it is served: no trace leaves without its record (docs/audit.md).
  // The answer is rendered while the trail syncs the record.
  auto recorded = StartAuditRead(actor, exporting ? "trace.export" : "trace.view", "trace/" + trace_hex,
                              "{\"project\":" + JsonQuote(detail->summary.project) +
                                  ",\"spans\":" + std::to_string(spans.size()) + "}");
  auto order = query::OrderTraceTree(spans);
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("trace");
  WriteTraceSummary(w, detail->summary);
  w.Key("spans");
  w.StartArray();
  if (view->light) {
    // The light view encodes no payloads: a few hundred bytes per span whatever the
    // spans carry (the store still decodes them whole).
    for (const auto& e : order) WriteLightSpan(w, spans[e.index], e.depth, e.parent_missing);
  } else {
    SpanJsonOptions o;
    o.payload_limit = kListPayloadLimit;
    o.tree_fields = true;
    for (const auto& e : order) {
      o.depth = e.depth;
      o.parent_missing = e.parent_missing;
      WriteSpan(w, spans[e.index], o);
    }
  }
  w.EndArray();
  w.EndObject();
  if (Status audited = FinishAuditRead(recorded); !audited.ok()) return respond(Error(audited));
  respond(Json(200, Finish(buf)));
}

void ApiRouter::GetSpan(const std::string& trace_hex, const std::string& span_hex, const QueryParams& params,
                        const auth::Principal& caller, const audit::Actor& actor, bool exporting,
                        const Responder& respond) {
  auto tid = DecodeId("trace id", trace_hex, 16);
  if (!tid.ok()) return respond(Error(tid.status()));
  auto sid = DecodeId("span id", span_hex, 8);
  if (!sid.ok()) return respond(Error(sid.status()));
  auto projects = ParseProjectOnly(params);
  if (!projects.ok()) return respond(Error(projects.status()));
  if (!auth::ScopeProjects(caller, &*projects)) return respond(Error(NotFound("trace")));
  auto span = store_->GetSpan(*tid, *sid, *projects);
  if (!span.ok()) return respond(Error(span.status()));
  auto recorded = StartAuditRead(actor, exporting ? "span.export" : "span.view",
                              "trace/" + trace_hex + "/span/" + span_hex,
                              "{\"project\":" + JsonQuote(span->project()) + "}");
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  WriteSpan(w, *span, SpanJsonOptions{});
  if (Status audited = FinishAuditRead(recorded); !audited.ok()) return respond(Error(audited));
  respond(Json(200, Finish(buf)));
}

void ApiRouter::SearchSessions(const QueryParams& params, const auth::Principal& caller, const Responder& respond) {
  auto q = ParseSessionQuery(params);
  if (!q.ok()) return respond(Error(q.status()));
  if (!auth::ScopeProjects(caller, &q->projects)) return respond(Json(200, R"({"sessions":[],"next_cursor":null})"));
  auto page = store_->SearchSessions(*q);
  if (!page.ok()) return respond(Error(page.status()));
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("sessions");
  w.StartArray();
  for (const auto& s : page->sessions) WriteSessionSummary(w, s);
  w.EndArray();
  NextCursor(w, page->next);
  w.EndObject();
  respond(Json(200, Finish(buf)));
}

void ApiRouter::GetSession(const std::string& session_id, const QueryParams& params, const auth::Principal& caller,
                           const audit::Actor& actor,
                           const Responder& respond) {
  if (session_id.empty()) return respond(Error(Status::InvalidArgument("session id is empty")));
  auto projects = ParseProjectOnly(params);
  if (!projects.ok()) return respond(Error(projects.status()));
  if (!auth::ScopeProjects(caller, &*projects)) return respond(Error(NotFound("session")));
  auto detail = store_->GetSession(session_id, *projects);
  if (!detail.ok()) return respond(Error(detail.status()));
  auto recorded = StartAuditRead(actor, "session.view", "session/" + session_id,
                              "{\"project\":" + JsonQuote(detail->session.project) +
                                  ",\"traces\":" + std::to_string(detail->traces.size()) + "}");
  // Time order is the contract; do not depend on every backend getting it right.
  std::stable_sort(detail->traces.begin(), detail->traces.end(), [](const auto& a, const auto& b) {
    return a.start_ns != b.start_ns ? a.start_ns < b.start_ns : a.trace_id < b.trace_id;
  });
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("session");
  WriteSessionSummary(w, detail->session);
  w.Key("traces");
  w.StartArray();
  for (const auto& t : detail->traces) WriteTraceSummary(w, t);
  w.EndArray();
  w.EndObject();
  if (Status audited = FinishAuditRead(recorded); !audited.ok()) return respond(Error(audited));
  respond(Json(200, Finish(buf)));
}

}  // namespace sightline::api
