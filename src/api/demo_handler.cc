// POST /api/v1/demo: ingests the demo run (ingest/demo_run.h, the same run
// `sightline demo` sends) through the ingest service, so the web UI's empty state can
// offer "load demo run" without a terminal. The answer waits until the store has made
// every span durable, then lists the traces:
//   {"accepted_spans":16,"rejected_spans":0,"traces":[{"trace_id","session_id","root_name"}...]}
// A store failure answers with its error (503 with Retry-After when retryable).
#include <chrono>
#include <mutex>

#include "api/json_encode.h"
#include <boost/asio/post.hpp>

#include "api/router.h"
#include "ingest/demo_run.h"

namespace sightline::api {
namespace {

// Collects the ingest results of the run's requests; answers once all are in.
// Thread-safety: Done is called from ingest/store threads; mu guards the fields.
class DemoLoad {
 public:
  DemoLoad(ingest::DemoRun run, Responder respond, size_t pending)
      : run_(std::move(run)), respond_(std::move(respond)), pending_(pending) {}

  void Done(const ingest::IngestResult& r) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!r.status.ok() && failure_.ok()) failure_ = r.status;
    accepted_ += r.accepted;
    rejected_ += r.rejected;
    if (message_.empty()) message_ = r.message;
    if (--pending_ > 0) return;
    lock.unlock();
    Answer();
  }

 private:
  void Answer() {
    if (!failure_.ok()) return respond_(ApiRouter::Error(failure_));
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    w.StartObject();
    w.Key("accepted_spans");
    w.Int64(accepted_);
    w.Key("rejected_spans");
    w.Int64(rejected_);
    if (!message_.empty()) {
      w.Key("message");
      w.String(message_.data(), static_cast<rapidjson::SizeType>(message_.size()));
    }
    w.Key("traces");
    w.StartArray();
    for (const auto& t : run_.traces) {
      w.StartObject();
      w.Key("trace_id");
      w.String(t.trace_id.c_str());
      w.Key("session_id");
      w.String(t.session_id.c_str());
      w.Key("root_name");
      w.String(t.root_name.c_str());
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    respond_(ApiRouter::Json(200, std::string(buf.GetString(), buf.GetSize())));
  }

  const ingest::DemoRun run_;
  const Responder respond_;
  std::mutex mu_;
  size_t pending_;        // guarded by mu_
  Status failure_;        // guarded by mu_ until pending_ reaches 0
  int64_t accepted_ = 0;  // guarded by mu_
  int64_t rejected_ = 0;  // guarded by mu_
  std::string message_;   // guarded by mu_
};

}  // namespace

void ApiRouter::LoadDemo(const auth::Principal& caller, const QueryParams& params, audit::Actor actor,
                         Responder respond) {
  // The project it goes to: an API key's own; for a user (token or UI session) the one
  // named by ?project=, else the only project where the user is a member or admin. It
  // needs the member role there (docs/auth.md, "Roles").
  std::string project = caller.ingest_project;
  if (!caller.all_projects && project.empty()) {
    auto named = ParseProjectOnly(params);
    if (!named.ok()) return respond(Error(named.status()));
    if (named->size() > 1) return respond(Error(Status::InvalidArgument("the demo goes to one project")));
    if (named->size() == 1) {
      project = named->front();
    } else {
      for (const auto& [name, role] : caller.projects) {
        if (role < auth::Role::kMember) continue;
        if (!project.empty())
          return respond(Error(Status::InvalidArgument("name the project the demo goes to: ?project=NAME")));
        project = name;
      }
    }
    if (project.empty() || !caller.HasRole(project, auth::Role::kMember))
      return respond(Error(Status::PermissionDenied("loading the demo needs the member role in the project")));
  }
  if (options_.audit != nullptr) {
    // The answer waits until HEAD covers the demo's record and those its tool calls
    // added at ingest, as an admin action's answer does (docs/audit.md).
    respond = Responder([audit = options_.audit, respond](HttpResponse r) {
      auto shared = std::make_shared<HttpResponse>(std::move(r));
      audit->WhenHeadCovers([respond, shared](Status) { respond(std::move(*shared)); });
    });
    // An admin action: recorded (durably) before it runs.
    audit::AuditRecord rec;
    rec.kind = audit::Kind::kAdmin;
    rec.actor = std::move(actor);
    rec.action = "demo.load";
    rec.target = "project/" + (project.empty() ? std::string("default") : project);
    std::vector<audit::AuditRecord> v;
    v.push_back(std::move(rec));
    options_.audit->AppendAsync(std::move(v), [this, respond, project](Status s) {
      if (!s.ok()) return respond(Error(Status::Unavailable("audit trail: " + s.message())));
      // Off the trail's writer thread.
      boost::asio::post(query_pool_, [this, respond, project] { LoadDemoNow(project, respond); });
    });
    return;
  }
  LoadDemoNow(project, std::move(respond));
}

void ApiRouter::LoadDemoNow(const std::string& project, Responder respond) {
  ingest::DemoOptions opts;
  opts.now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  opts.seed = static_cast<uint64_t>(opts.now_ns);
  ingest::DemoRun run = ingest::BuildDemoRun(opts);
  std::vector<std::string> bodies;
  bodies.reserve(run.requests.size());
  for (const auto& req : run.requests) bodies.push_back(req.SerializeAsString());
  if (bodies.empty()) return respond(Error(Status::Internal("the demo run is empty")));
  // The requests go in together: the store orders nothing by arrival, and waiting for
  // each in turn would chain submissions onto the store's callback thread.
  auto load = std::make_shared<DemoLoad>(std::move(run), std::move(respond), bodies.size());
  for (auto& body : bodies) {
    ingest::IngestRequest r;
    r.body = std::move(body);
    r.format = ingest::BodyFormat::kProtobuf;
    r.project = project;
    ingest_->Submit(std::move(r), [load](ingest::IngestResult res) { load->Done(res); });
  }
}

}  // namespace sightline::api
