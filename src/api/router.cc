#include "api/router.h"

#include <chrono>

#include <boost/asio/post.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>

#include "api/json_encode.h"
#include "api/metrics_handlers.h"
#include "common/error_map.h"

namespace sightline::api {

namespace http = boost::beast::http;

ApiRouter::ApiRouter(store::SpanStore* store, ingest::IngestService* ingest, MetricsRegistry* metrics,
                     RouterOptions options)
    : store_(store),
      ingest_(ingest),
      metrics_(metrics),
      options_(std::move(options)),
      query_pool_(static_cast<size_t>(options_.query_threads < 1 ? 1 : options_.query_threads)),
      // One thread per verification slot: a slow check that got a slot never queues.
      verify_pool_(static_cast<size_t>(
          options_.auth != nullptr && options_.auth->max_concurrent_verifications() > 1
              ? options_.auth->max_concurrent_verifications()
              : 1)) {
  for (int r = 0; r < kRouteCount; ++r) {
    latency_[r] = metrics_->GetHistogram("sightline_http_request_duration_seconds",
                                         "HTTP request latency, from the full request read to the answer, by route.",
                                         DefaultLatencyBuckets(), {{"route", std::string(RouteName(Route(r)))}});
  }
  in_flight_ = metrics_->GetGauge("sightline_http_requests_in_flight", "HTTP requests being handled.");
}

ApiRouter::~ApiRouter() { Shutdown(); }

audit::Actor AnonymousActor(const HttpRequest& request) {
  audit::Actor a;
  auto remote = request[kRemoteAddrHeader];
  a.remote.assign(remote.data(), remote.size());
  return a;
}

audit::Actor ApiRouter::ActorOf(const HttpRequest& request, const auth::Principal& caller) const {
  audit::Actor a = options_.identify ? options_.identify(request) : AnonymousActor(request);
  switch (caller.kind) {
    case auth::Principal::Kind::kOpen: break;
    case auth::Principal::Kind::kApiKey: a.principal = "key:" + caller.subject; break;
    case auth::Principal::Kind::kToken: a.principal = "token:" + caller.subject; break;
    case auth::Principal::Kind::kSession: a.principal = "user:" + caller.subject; break;
  }
  return a;
}

void ApiRouter::Shutdown() {
  StopReprice();
  verify_pool_.join();  // it may still hand requests to the query pool
  query_pool_.join();
}

std::string_view ApiRouter::RouteName(Route r) {
  switch (r) {
    case kOtlp: return "/v1/traces";
    case kOtlpLangfuse: return "/api/public/otel/v1/traces";
    case kSearchTraces: return "/api/v1/traces";
    case kGetTrace: return "/api/v1/traces/{trace_id}";
    case kGetSpan: return "/api/v1/traces/{trace_id}/spans/{span_id}";
    case kSearchSessions: return "/api/v1/sessions";
    case kGetSession: return "/api/v1/sessions/{session_id}";
    case kMetricsApi: return "/api/v1/metrics/{endpoint}";
    case kHealthz: return "/healthz";
    case kReadyz: return "/readyz";
    case kMetrics: return "/metrics";
    case kIndex: return "/";
    case kUi: return "/ui";
    case kDemo: return "/api/v1/demo";
    case kPricingModels: return "/api/v1/pricing/models";
    case kPricingUnpriced: return "/api/v1/pricing/unpriced";
    case kDeleteUser: return "DELETE /api/v1/users/{user_id}";
    case kDeleteSession: return "DELETE /api/v1/sessions/{session_id}";
    case kDeletions: return "/api/v1/deletions";
    case kSampling: return "/api/v1/sampling";
    case kAudit: return "/api/v1/audit";
    case kRepriceStart: return "POST /api/v1/admin/reprice";
    case kRepriceStatus: return "/api/v1/admin/reprice";
    case kRedaction: return "/api/v1/redaction";
    case kAuthStatus: return "/api/v1/auth/status";
    case kLogin: return "/api/v1/auth/login";
    case kLogout: return "/api/v1/auth/logout";
    case kAdminProjects: return "/api/v1/admin/projects";
    case kAdminKeys: return "/api/v1/admin/projects/{project}/keys";
    case kAdminKey: return "DELETE /api/v1/admin/keys/{key}";
    case kAdminKeyRotate: return "POST /api/v1/admin/keys/{key}/rotate";
    case kAdminUsers: return "/api/v1/admin/users";
    case kAdminUserRole: return "/api/v1/admin/users/{user}/projects/{project}";
    case kAdminTokens: return "/api/v1/admin/tokens";
    case kAdminToken: return "DELETE /api/v1/admin/tokens/{token_id}";
    default: return "other";
  }
}

ApiRouter::Access ApiRouter::RequiredAccess(Route r) {
  switch (r) {
    case kHealthz:
    case kReadyz:
    case kIndex:
    case kUi:
    case kAuthStatus:
    case kLogin:
    case kUnknown:
    case kRouteCount: return Access::kPublic;
    // Reads: any caller, narrowed to the projects it may read (every role reads).
    case kSearchTraces:
    case kGetTrace:
    case kGetSpan:
    case kSearchSessions:
    case kGetSession:
    case kMetricsApi:
    case kMetrics:
    case kLogout: return Access::kAuthenticated;
    // Writes next to ingest (OTLP also needs an API key: tokens and sessions read).
    case kOtlp:
    case kOtlpLangfuse:
    case kDemo: return Access::kMember;
    // Deletion, the audit trail, and the server-wide policies and what they reveal
    // (prices, unpriced models, redaction rules, sampling decisions of every project).
    case kDeleteUser:
    case kDeleteSession:
    case kDeletions:
    case kAudit:
    case kPricingModels:
    case kPricingUnpriced:
    case kSampling:
    case kRepriceStart:
    case kRepriceStatus:
    case kRedaction:
    // Keys, users and tokens (admin_handlers.cc): each handler then checks the project.
    case kAdminProjects:
    case kAdminKeys:
    case kAdminKey:
    case kAdminKeyRotate:
    case kAdminUsers:
    case kAdminUserRole:
    case kAdminTokens:
    case kAdminToken: return Access::kAdmin;
  }
  return Access::kAdmin;
}

HttpResponse ApiRouter::Json(int status, std::string body) {
  HttpResponse res{static_cast<http::status>(status), 11};
  res.set(http::field::content_type, "application/json");
  res.body() = std::move(body);
  return res;
}

HttpResponse ApiRouter::Error(const Status& status) {
  HttpResponse res = Json(HttpStatusFor(status.code()), ErrorJson(status));
  if (IsRetryable(status.code())) res.set(http::field::retry_after, std::to_string(kRetryAfterSeconds));
  return res;
}

Responder ApiRouter::Instrument(Route route, Responder respond) {
  in_flight_->Add(1);
  auto start = std::chrono::steady_clock::now();
  return Responder([this, route, start, respond](HttpResponse res) {
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    latency_[route]->Observe(seconds);
    metrics_->GetCounter("sightline_http_requests_total", "HTTP requests answered, by route and status code.",
                         {{"route", std::string(RouteName(route))}, {"code", std::to_string(res.result_int())}})
        ->Inc();
    in_flight_->Add(-1);
    respond(std::move(res));
  });
}

void ApiRouter::Handle(HttpRequest&& req, Responder respond) {
  auto target = ParseTarget(std::string_view(req.target().data(), req.target().size()));
  if (!target.ok()) return Instrument(kUnknown, respond)(Error(target.status()));
  const auto& seg = target->segments;
  const http::verb method = req.method();

  // Matches the path; sets the route and the one method it allows.
  Route route = kUnknown;
  http::verb allowed = http::verb::get;
  const char* allow_header = nullptr;  // the Allow of a 405 when a path takes several methods
  const size_t n = seg.size();
  auto is = [&](size_t i, std::string_view s) { return i < n && seg[i] == s; };
  if (n == 0) {
    route = options_.ui ? kUi : kIndex;
  } else if (n == 2 && is(0, "v1") && is(1, "traces")) {
    route = kOtlp;
    allowed = http::verb::post;
  } else if (n == 5 && is(0, "api") && is(1, "public") && is(2, "otel") && is(3, "v1") && is(4, "traces")) {
    route = kOtlpLangfuse;
    allowed = http::verb::post;
  } else if (n >= 3 && is(0, "api") && is(1, "v1") && is(2, "traces")) {
    if (n == 3) route = kSearchTraces;
    else if (n == 4) route = kGetTrace;
    else if (n == 6 && is(4, "spans")) route = kGetSpan;
  } else if (n == 4 && is(0, "api") && is(1, "v1") && is(2, "metrics")) {
    route = kMetricsApi;
  } else if (n >= 3 && is(0, "api") && is(1, "v1") && is(2, "sessions")) {
    if (n == 3) route = kSearchSessions;
    else if (n == 4 && method == http::verb::delete_) route = kDeleteSession, allowed = http::verb::delete_;
    else if (n == 4) route = kGetSession;
  } else if (n == 4 && is(0, "api") && is(1, "v1") && is(2, "users")) {
    route = kDeleteUser;
    allowed = http::verb::delete_;
  } else if (n == 3 && is(0, "api") && is(1, "v1") && is(2, "deletions")) {
    route = kDeletions;
  } else if (n == 3 && is(0, "api") && is(1, "v1") && is(2, "sampling")) {
    route = kSampling;
  } else if (n == 4 && is(0, "api") && is(1, "v1") && is(2, "pricing")) {
    if (is(3, "models")) route = kPricingModels;
    else if (is(3, "unpriced")) route = kPricingUnpriced;
  } else if (n >= 4 && is(0, "api") && is(1, "v1") && is(2, "admin") && !is(3, "reprice")) {
    // Keys, users and tokens: several methods on one path.
    auto one_of = [&](std::initializer_list<http::verb> verbs, const char* allow) {
      allowed = *verbs.begin();
      for (http::verb v : verbs)
        if (v == method) allowed = v;
      allow_header = allow;
    };
    if (n == 4 && is(3, "projects")) {
      route = kAdminProjects;
    } else if (n == 6 && is(3, "projects") && is(5, "keys")) {
      route = kAdminKeys;
      one_of({http::verb::get, http::verb::post}, "GET, POST");
    } else if (n == 5 && is(3, "keys")) {
      route = kAdminKey;
      allowed = http::verb::delete_;
    } else if (n == 6 && is(3, "keys") && is(5, "rotate")) {
      route = kAdminKeyRotate;
      allowed = http::verb::post;
    } else if (n == 4 && is(3, "users")) {
      route = kAdminUsers;
      one_of({http::verb::get, http::verb::post}, "GET, POST");
    } else if (n == 7 && is(3, "users") && is(5, "projects")) {
      route = kAdminUserRole;
      one_of({http::verb::put, http::verb::delete_}, "PUT, DELETE");
    } else if (n == 4 && is(3, "tokens")) {
      route = kAdminTokens;
    } else if (n == 5 && is(3, "tokens")) {
      route = kAdminToken;
      allowed = http::verb::delete_;
    }
  } else if (n == 4 && is(0, "api") && is(1, "v1") && is(2, "admin") && is(3, "reprice")) {
    if (method == http::verb::post) route = kRepriceStart, allowed = http::verb::post;
    else route = kRepriceStatus;
  } else if (n == 3 && is(0, "api") && is(1, "v1") && is(2, "audit")) {
    route = kAudit;
  } else if (n == 3 && is(0, "api") && is(1, "v1") && is(2, "redaction")) {
    route = kRedaction;
  } else if (n == 4 && is(0, "api") && is(1, "v1") && is(2, "auth")) {
    if (is(3, "status")) route = kAuthStatus;
    else if (is(3, "login")) route = kLogin, allowed = http::verb::post;
    else if (is(3, "logout")) route = kLogout, allowed = http::verb::post;
  } else if (n == 3 && is(0, "api") && is(1, "v1") && is(2, "demo")) {
    route = kDemo;
    allowed = http::verb::post;
  } else if (n == 1 && is(0, "healthz")) {
    route = kHealthz;
  } else if (n == 1 && is(0, "readyz")) {
    route = kReadyz;
  } else if (n == 1 && is(0, "metrics")) {
    route = kMetrics;
  }
  // The web UI's files, and index.html for its app paths (/traces/ID survives a reload).
  if (route == kUnknown && options_.ui && !is(0, "api") && !is(0, "v1")) route = kUi;

  Responder answer = Instrument(route, std::move(respond));
  if (route == kUnknown) {
    return answer(Error(Status::NotFound("no route for " + std::string(req.target()))));
  }
  if (method != allowed) {
    std::string msg = std::string(req.method_string()) + " is not allowed on " + std::string(RouteName(route));
    HttpResponse res = Json(405, ErrorJson("method_not_allowed", msg));
    res.set(http::field::allow, allow_header != nullptr                ? allow_header
                                : allowed == http::verb::post    ? "POST"
                                : allowed == http::verb::delete_ ? "DELETE"
                                : allowed == http::verb::put     ? "PUT"
                                                                 : "GET");
    return answer(std::move(res));
  }

  // Routes anyone may call: probes, the UI's files (it asks /api/v1/auth/status what
  // to show), the index page.
  switch (route) {
    case kHealthz: return answer(Healthz());
    case kReadyz: return answer(Readyz());
    case kAuthStatus: return answer(AuthStatus(req));
    case kLogin:
      return boost::asio::post(query_pool_, [this, body = std::move(req.body()), client = LoginAddress(req),
                                             remote = AnonymousActor(req).remote, answer]() {
        Login(body, client, remote, answer);
      });
    case kIndex: return answer(IndexPage(std::string_view(req[http::field::host].data(), req[http::field::host].size())));
    case kUi: {
      auto ae = req[http::field::accept_encoding];
      return answer(options_.ui->Serve(seg, std::string_view(ae.data(), ae.size())));
    }
    default: break;
  }
  if (options_.auth == nullptr)
    return Authorized(route, std::move(req), std::move(target).value(), auth::Principal::Open(), std::move(answer));
  auth::Credentials c;
  c.authorization = std::string_view(req[http::field::authorization].data(), req[http::field::authorization].size());
  c.api_key = std::string_view(req["x-sightline-api-key"].data(), req["x-sightline-api-key"].size());
  c.cookie = std::string_view(req[http::field::cookie].data(), req[http::field::cookie].size());
  auth::Authenticator::Attempt attempt = options_.auth->Begin(c);
  if (!attempt.pending)
    return Authorized(route, std::move(req), std::move(target).value(), std::move(attempt.result), std::move(answer));
  // A secret not verified yet: the slow hash (it holds one of the few slots) runs on
  // the verification pool, never on an io thread, so a flood of wrong secrets cannot
  // stall the requests of callers already known.
  auto pending = std::shared_ptr<auth::PendingVerification>(std::move(attempt.pending));
  auto shared_req = std::make_shared<HttpRequest>(std::move(req));
  auto shared_target = std::make_shared<ParsedTarget>(std::move(target).value());
  boost::asio::post(verify_pool_, [this, route, pending, shared_req, shared_target, answer]() mutable {
    Result<auth::Principal> who = pending->Finish();
    pending.reset();  // the slot is free before the request goes on
    Authorized(route, std::move(*shared_req), std::move(*shared_target), std::move(who), std::move(answer));
  });
}

void ApiRouter::Authorized(Route route, HttpRequest&& req, ParsedTarget target, Result<auth::Principal> who,
                           Responder answer) {
  const http::verb method = req.method();
  if (!who.ok()) {
    HttpResponse res = Error(who.status());
    if (res.result_int() == 401) res.set(http::field::www_authenticate, "Bearer realm=\"sightline\"");
    return answer(std::move(res));
  }
  auth::Principal caller = std::move(who).value();
  // Every method that changes something (POST, PUT, DELETE) echoes the CSRF token.
  if (method != http::verb::get && method != http::verb::head && !CsrfOk(req, caller)) {
    return answer(Error(Status::PermissionDenied("missing or wrong x-csrf-token for this session")));
  }
  if (Access need = RequiredAccess(route); need == Access::kMember || need == Access::kAdmin) {
    const auth::Role role = need == Access::kAdmin ? auth::Role::kAdmin : auth::Role::kMember;
    if (!caller.HasRoleAnywhere(role))
      return answer(Error(Status::PermissionDenied(std::string(RouteName(route)) + " needs the " +
                                                   std::string(auth::RoleName(role)) + " role in a project")));
  }
  switch (route) {
    case kLogout: return Logout(caller, ActorOf(req, caller), std::move(answer));
    case kOtlp:
    case kOtlpLangfuse: return HandleOtlp(std::move(req), caller, std::move(answer));
    case kMetrics: return answer(MetricsPage(caller));
    case kDemo: return LoadDemo(caller, target.params, ActorOf(req, caller), std::move(answer));
    case kPricingModels: return answer(PricingModels());
    case kPricingUnpriced: return answer(PricingUnpriced());
    case kSampling: return answer(SamplingCounts(caller));
    case kRedaction: return answer(RedactionPolicy());
    case kRepriceStatus: return answer(RepriceStatus());
    case kRepriceStart: return StartReprice(target.params, caller, ActorOf(req, caller), answer);
    case kAdminProjects:
    case kAdminKeys:
    case kAdminKey:
    case kAdminKeyRotate:
    case kAdminUsers:
    case kAdminUserRole:
    case kAdminTokens:
    case kAdminToken: {
      // SQLite writes and new secrets' hashes: on the query pool.
      audit::Actor actor = ActorOf(req, caller);
      return boost::asio::post(query_pool_, [this, route, method, t = std::move(target), body = std::move(req.body()),
                                             caller = std::move(caller), actor = std::move(actor), answer]() {
        answer(AdminRequest(route, method, t, body, caller, actor));
      });
    }
    default: break;
  }
  // Who asked for a deletion: the caller when auth is on, else what the client says.
  std::string deletion_actor = "api";
  if (caller.kind != auth::Principal::Kind::kOpen) {
    deletion_actor = ActorOf(req, caller).principal;
  } else if (auto a = req.find("x-sightline-actor"); a != req.end() && !a->value().empty() && a->value().size() < 200) {
    deletion_actor = "api:" + std::string(a->value());
  }
  // REST reads (and deletions): off the io threads.
  audit::Actor actor = ActorOf(req, caller);
  auto purpose = req["x-sightline-purpose"];
  const bool exporting = std::string_view(purpose.data(), purpose.size()) == "export";
  boost::asio::post(query_pool_, [this, route, t = std::move(target), caller = std::move(caller), answer,
                                  actor = std::move(actor), exporting, deletion_actor]() {
    try {
      const auto& s = t.segments;
      switch (route) {
        case kSearchTraces: return SearchTraces(t.params, caller, answer);
        case kGetTrace: return GetTrace(s[3], t.params, caller, actor, exporting, answer);
        case kGetSpan: return GetSpan(s[3], s[5], t.params, caller, actor, exporting, answer);
        case kSearchSessions: return SearchSessions(t.params, caller, answer);
        case kGetSession: return GetSession(s[3], t.params, caller, actor, answer);
        case kAudit:
          // The trail is not divided by project: with auth on only a user who is admin
          // of every project reads it through the API (others: `sightline audit
          // export` on the server).
          if (!caller.admin_everywhere)
            return answer(Error(Status::PermissionDenied(
                "the audit trail needs the admin role in every project (or `sightline audit export` on the server)")));
          return SearchAudit(t.params, actor, answer);
        case kMetricsApi: return HandleMetricsRequest(store_, s[3], t.params, caller, answer);
        case kDeleteUser:
          return DeleteBy(store::DeletionKind::kUser, s[3], t.params, caller, deletion_actor, answer);
        case kDeleteSession:
          return DeleteBy(store::DeletionKind::kSession, s[3], t.params, caller, deletion_actor, answer);
        case kDeletions: return ListDeletions(caller, answer);
        default: return answer(Error(Status::Internal("unrouted request")));
      }
    } catch (const std::exception& e) {
      answer(Error(Status::Internal(std::string("query failed: ") + e.what())));
    }
  });
}

}  // namespace sightline::api
