// Repricing over HTTP (docs/api.md "Repricing", docs/pricing.md "Repricing a period"):
//   POST /api/v1/admin/reprice?from=&to=   starts a reprice; 202 with the job
//   GET  /api/v1/admin/reprice             the running or last job (404: none yet)
// The server owns the data directory, so `sightline reprice` asks it. A reprice rewrites
// segment files and can take minutes: it runs on a thread of its own, one at a time
// (a second POST meanwhile answers 503), and the caller polls GET for its progress.
// The catalogue is re-read first (an edit just saved applies), then every model call
// of the period is priced by pipeline::RepriceSpan. The finished job is written to the
// audit trail as an admin action ("pricing.reprice"), by whoever asked.
#include <chrono>
#include <optional>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "api/json_encode.h"
#include "api/router.h"
#include "common/time_util.h"

namespace sightline::api {

struct ApiRouter::RepriceJob {
  uint64_t id = 0;
  int64_t from_ns = 0, to_ns = 0;
  std::string requested_by;
  int64_t started_ns = 0;
  std::atomic<bool> cancel{false};
  std::mutex mu;
  std::string state = "running";  // guarded by mu: running, done, failed
  std::string error;              // guarded by mu
  int64_t finished_ns = 0;        // guarded by mu
  store::RepriceProgress progress;  // guarded by mu
};

namespace {



}  // namespace

HttpResponse ApiRouter::RepriceStatus() {
  std::shared_ptr<RepriceJob> job;
  {
    std::lock_guard<std::mutex> l(reprice_mu_);
    job = reprice_job_;
  }
  if (!job) return Error(Status::NotFound("no reprice has run since the server started"));
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  std::lock_guard<std::mutex> l(job->mu);
  const store::RepriceProgress& p = job->progress;
  w.StartObject();
  w.Key("reprice");
  w.StartObject();
  w.Key("id");
  w.Uint64(job->id);
  StrField(w, "state", job->state);
  StrField(w, "from", FormatRfc3339(job->from_ns));
  StrField(w, "to", FormatRfc3339(job->to_ns));
  StrField(w, "requested_by", job->requested_by);
  StrField(w, "started_at", FormatRfc3339(job->started_ns));
  w.Key("finished_at");
  if (job->finished_ns) {
    std::string t = FormatRfc3339(job->finished_ns);
    w.String(t.data(), static_cast<rapidjson::SizeType>(t.size()));
  } else {
    w.Null();
  }
  w.Key("segments_total");
  w.Uint64(p.segments_total);
  w.Key("segments_done");
  w.Uint64(p.segments_done);
  w.Key("segments_rewritten");
  w.Uint64(p.segments_rewritten);
  w.Key("spans_examined");
  w.Uint64(p.spans_examined);
  w.Key("spans_repriced");
  w.Uint64(p.spans_repriced);
  w.Key("cost_before_usd");
  w.Double(p.cost_before_usd);
  w.Key("cost_after_usd");
  w.Double(p.cost_after_usd);
  if (!job->error.empty()) StrField(w, "error", job->error);
  w.EndObject();
  w.EndObject();
  return Json(200, std::string(buf.GetString(), buf.GetSize()));
}

void ApiRouter::StartReprice(const QueryParams& params, const auth::Principal& caller, const audit::Actor& actor,
                             const Responder& respond) {
  if (!options_.pricing) return respond(Error(Status::NotFound("pricing is off on this server")));
  // Every project's spans are rewritten: only a caller who may see them all may ask.
  if (!caller.all_projects)
    return respond(Error(Status::PermissionDenied("repricing rewrites every project's spans: it needs an all-projects "
                                                  "admin (or the server without auth)")));
  std::optional<int64_t> from, to;
  for (const auto& param : params) {
    const std::string& k = param.first;  // not a structured binding: lambdas capture it
    const std::string& v = param.second;
    auto parse = [&](std::optional<int64_t>* out) -> Status {
      if (out->has_value()) return Status::InvalidArgument("`" + k + "` given twice");
      *out = ParseTimeParam(v);
      if (!out->has_value()) return Status::InvalidArgument("`" + k + "` must be RFC 3339 or Unix milliseconds, got \"" + v + "\"");
      return Status::OK();
    };
    Status s = k == "from" ? parse(&from) : k == "to" ? parse(&to) : Status::InvalidArgument("unknown parameter `" + k + "` (reprice takes from and to)");
    if (!s.ok()) return respond(Error(s));
  }
  if (!from || !to) return respond(Error(Status::InvalidArgument("reprice needs both `from` and `to`")));
  if (*from > *to) return respond(Error(Status::InvalidArgument("`from` is after `to`")));
  // An edit of the user's catalogue saved a moment ago applies.
  if (Status r = options_.pricing->Reload(); !r.ok())
    return respond(Error(Status::InvalidArgument("the pricing file does not parse, nothing was repriced: " + r.message())));
  auto job = std::make_shared<RepriceJob>();
  job->from_ns = *from;
  job->to_ns = *to;
  job->requested_by = actor.principal.empty() ? "anonymous" : actor.principal;
  job->started_ns = UnixNowNs();
  {
    std::lock_guard<std::mutex> l(reprice_mu_);
    if (reprice_job_) {
      std::lock_guard<std::mutex> j(reprice_job_->mu);
      if (reprice_job_->state == "running")
        return respond(Error(Status::Unavailable("a reprice is running (GET /api/v1/admin/reprice shows it)")));
    }
    if (draining_) return respond(Error(Status::Unavailable("the server is shutting down")));
    job->id = reprice_job_ ? reprice_job_->id + 1 : 1;
    if (reprice_thread_.joinable()) reprice_thread_.join();  // the last job's thread, finished
    reprice_job_ = job;
    std::shared_ptr<const pipeline::Catalogue> cat = options_.pricing->catalogue();
    reprice_thread_ = std::thread([this, job, cat, actor] {
      store::RepriceRequest req;
      req.from_ns = job->from_ns;
      req.to_ns = job->to_ns;
      req.reprice = [cat](model::Span* s) { return pipeline::RepriceSpan(*cat, s); };
      req.progress = [job](const store::RepriceProgress& p) {
        std::lock_guard<std::mutex> l(job->mu);
        job->progress = p;
      };
      req.cancelled = [job] { return job->cancel.load(); };
      if (pipeline::AgentMetrics* am = options_.agent_metrics) {
        // sightline_cost_usd_total counts model calls only (pipeline/agent_metrics.cc).
        req.cost_changed = [am](const store::RepriceRequest::CostDelta& d) {
          if (d.kind == model::v1::KIND_LLM || d.kind == model::v1::KIND_EMBEDDING || d.kind == model::v1::KIND_RERANK)
            am->AdjustCost(std::string(d.project), std::string(d.agent), std::string(d.model), d.before, d.after);
        };
      }
      auto done = store_->Reprice(req);
      store::RepriceProgress p;
      {
        std::lock_guard<std::mutex> l(job->mu);
        if (done.ok()) job->progress = *done;
        p = job->progress;
      }
      // Recorded before the job reads as finished, so whoever saw it finish finds it.
      if (options_.audit) {
        audit::AuditRecord a;
        a.kind = audit::Kind::kAdmin;
        a.actor = actor;
        a.action = "pricing.reprice";
        a.target = "spans/" + FormatRfc3339(job->from_ns) + ".." + FormatRfc3339(job->to_ns);
        a.outcome = done.ok() ? "ok" : "error";
        rapidjson::StringBuffer b;
        rapidjson::Writer<rapidjson::StringBuffer> w(b);
        w.StartObject();
        w.Key("reprice");
        w.Uint64(job->id);
        w.Key("segments_rewritten");
        w.Uint64(p.segments_rewritten);
        w.Key("spans_repriced");
        w.Uint64(p.spans_repriced);
        w.Key("cost_before_usd");
        w.Double(p.cost_before_usd);
        w.Key("cost_after_usd");
        w.Double(p.cost_after_usd);
        if (!done.ok()) {
          w.Key("error");
          std::string e = done.status().ToString();
          w.String(e.c_str(), static_cast<rapidjson::SizeType>(e.size()));
        }
        w.EndObject();
        a.details_json.assign(b.GetString(), b.GetSize());
        (void)options_.audit->Append(std::move(a));
      }
      std::lock_guard<std::mutex> l(job->mu);
      job->state = done.ok() ? "done" : "failed";
      if (!done.ok()) job->error = done.status().ToString();
      job->finished_ns = UnixNowNs();
    });
  }
  HttpResponse res = RepriceStatus();
  res.result(boost::beast::http::status::accepted);
  respond(std::move(res));
}

void ApiRouter::StopReprice() {
  std::thread t;
  {
    std::lock_guard<std::mutex> l(reprice_mu_);
    if (reprice_job_) reprice_job_->cancel = true;
    t = std::move(reprice_thread_);
  }
  if (t.joinable()) t.join();
}

}  // namespace sightline::api
