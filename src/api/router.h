// ApiRouter: Sightline's HTTP routes (SPEC "HTTP API", docs/api.md) behind
// HttpServer's one Handler. It matches method and path, and hands each request to its
// handler:
//   - OTLP/HTTP receivers (otlp_http.cc) go to IngestService on the io thread (CPU
//     work only) and answer from the store's callback;
//   - REST reads (rest_handlers.cc) run on a small query pool, since store reads may
//     touch the disk, and answer from there;
//   - health, readiness, metrics and the index page (ops_handlers.cc) answer at once;
//   - the pricing catalogue in force and the unpriced models (pricing_handlers.cc)
//     answer at once from memory;
//   - deletion on request (deletion_handlers.cc, docs/deletion.md) runs on the query
//     pool and answers once the store has made it durable and rewritten its files;
//   - with a web UI loaded (static_files.h), every other GET outside /api and /v1
//     answers with its files or index.html (deep links); POST /api/v1/demo
//     (demo_handler.cc) ingests the demo run for the UI's empty state.
// Authentication (docs/auth.md): every route but /healthz, /readyz, the UI's files and
// GET /api/v1/auth/status needs a caller the Authenticator accepts once auth is
// configured; otherwise 401 with one message whatever was wrong. Each route then needs
// a least role (RequiredAccess: reads any caller, narrowed to the caller's projects by
// auth::ScopeProjects; ingest-adjacent writes member; deletion, the audit trail and the
// policy reads admin), else 403. Spans sent with an API key go to its project whatever
// the request says.
// Every answer is counted in sightline_http_requests_total{route,code} and timed in
// sightline_http_request_duration_seconds{route}; routes are path templates, so
// label cardinality stays fixed.
//
// Thread-safety: Handle may run concurrently on any io thread. The store, the ingest
// service, the pricing service and the registry must outlive the router and its
// pending answers.
#pragma once

#include <array>
#include <functional>
#include <future>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <string_view>

#include <boost/asio/thread_pool.hpp>

#include "api/client_address.h"
#include "api/http_server.h"
#include "api/query_params.h"
#include "api/static_files.h"
#include "audit/audit_log.h"
#include "auth/authenticator.h"
#include "common/metrics.h"
#include "ingest/ingest_service.h"
#include "pipeline/agent_metrics.h"
#include "pipeline/pricing.h"
#include "pipeline/redaction_service.h"
#include "store/span_store.h"

namespace sightline::api {

struct RouterOptions {
  int query_threads = 2;
  // Shown on the index page: where OTLP/gRPC senders should point (empty: gRPC off).
  // The HTTP endpoint shown is the one the browser used (the Host header).
  std::string grpc_endpoint = "http://127.0.0.1:4317";
  // The web UI (serve --ui-dir); null: / answers with the plain index page.
  std::shared_ptr<const StaticFiles> ui;
  // The pricing service ingest prices with (/api/v1/pricing/*); null: those routes
  // answer 404 saying pricing is off.
  pipeline::PricingService* pricing = nullptr;
  // The agents' metrics of /metrics: a reprice adds its corrections to
  // sightline_cost_repriced_usd_total (null: not counted).
  pipeline::AgentMetrics* agent_metrics = nullptr;
  // The audit trail (docs/audit.md): trace, span and session views and exports are
  // recorded (and answered only once their record is durable, else 503) when
  // audit_reads; GET /api/v1/audit reads it. Null: not audited, /api/v1/audit is 404.
  audit::AuditLog* audit = nullptr;
  bool audit_reads = true;
  // Who is asking, for the audit trail. The auth work fills the principal from the
  // caller's key or session; by default every caller is "anonymous", known by its
  // address (HttpServer's kRemoteAddrHeader).
  std::function<audit::Actor(const HttpRequest&)> identify;
  // The redaction policy in force (GET /api/v1/redaction). Null: that route is 404.
  pipeline::RedactionService* redaction = nullptr;
  // Who may call (docs/auth.md). Null: every request is allowed (the open mode, as the
  // tests that do not test auth run).
  auth::Authenticator* auth = nullptr;
  // Marks the session cookies Secure (set when the server speaks TLS).
  bool secure_cookies = false;
  // Reverse proxies whose X-Forwarded-For the login rate limit believes
  // (--trusted-proxy; api/client_address.h). Empty: the socket's peer is the client.
  std::vector<IpNetwork> trusted_proxies;
  // The server speaks TLS (GET /api/v1/auth/status says so, for the UI).
  bool tls = false;
};

// The default identify: principal "anonymous", remote from kRemoteAddrHeader.
audit::Actor AnonymousActor(const HttpRequest& request);

class ApiRouter {
 public:
  ApiRouter(store::SpanStore* store, ingest::IngestService* ingest, MetricsRegistry* metrics, RouterOptions options);
  ~ApiRouter();
  ApiRouter(const ApiRouter&) = delete;
  ApiRouter& operator=(const ApiRouter&) = delete;

  void Handle(HttpRequest&& request, Responder respond);

  // From now on /readyz answers 503 (load balancers stop sending) while in-flight
  // requests finish.
  void SetDraining() { draining_.store(true); }
  // Waits for queued queries to finish. Call before destroying the store.
  void Shutdown();

  // What a caller needs for a route: nothing (before authentication), to be
  // authenticated (reads, narrowed to the caller's projects), or at least a role in
  // some project (the handler may check the one project the request names).
  enum class Access { kPublic, kAuthenticated, kMember, kAdmin };

  // A JSON response with the given status.
  static HttpResponse Json(int status, std::string body);
  // {"error":...} with the status ErrorMap gives (Retry-After when retryable).
  static HttpResponse Error(const Status& status);

 private:
  enum Route : int {
    kOtlp,
    kOtlpLangfuse,
    kSearchTraces,
    kGetTrace,
    kGetSpan,
    kSearchSessions,
    kGetSession,
    kMetricsApi,  // metrics_handlers.cc
    kHealthz,
    kReadyz,
    kMetrics,
    kIndex,
    kUi,
    kDemo,
    kPricingModels,
    kPricingUnpriced,
    kDeleteUser,     // deletion_handlers.cc
    kDeleteSession,
    kDeletions,
    kSampling,  // deletion_handlers.cc too: the privacy / data-volume controls
    kAudit,      // audit_handlers.cc
    kRepriceStart,   // reprice_handlers.cc
    kRepriceStatus,
    kRedaction,  // redaction_handler.cc
    kAuthStatus,
    kLogin,
    kLogout,
    kAdminProjects,  // admin_handlers.cc: keys, users and tokens over HTTP
    kAdminKeys,
    kAdminKey,
    kAdminKeyRotate,
    kAdminUsers,
    kAdminUserRole,
    kAdminTokens,
    kAdminToken,
    kUnknown,
    kRouteCount,
  };
  static std::string_view RouteName(Route r);
  static Access RequiredAccess(Route r);

  // The rest of Handle once the caller is known (on an io thread, or on the
  // verification pool after a slow hash): 401, CSRF, the route's role, dispatch.
  void Authorized(Route route, HttpRequest&& req, ParsedTarget target, Result<auth::Principal> who,
                  Responder answer);
  // admin_handlers.cc (on the query pool): API keys, users, roles and CLI tokens, the
  // same changes as `sightline admin`, recorded through meta.db's audit outbox.
  HttpResponse AdminRequest(Route route, boost::beast::http::verb method, const ParsedTarget& target,
                            const std::string& body, const auth::Principal& caller, const audit::Actor& actor);

  // Wraps respond with the per-route metrics.
  Responder Instrument(Route route, Responder respond);

  // otlp_http.cc
  void HandleOtlp(HttpRequest&& request, const auth::Principal& caller, Responder respond);
  // rest_handlers.cc (run on the query pool); each narrows its read to caller's projects
  // and records views and exports in the audit trail as actor.
  void SearchTraces(const QueryParams& params, const auth::Principal& caller, const Responder& respond);
  void GetTrace(const std::string& trace_hex, const QueryParams& params, const auth::Principal& caller,
                const audit::Actor& actor, bool exporting, const Responder& respond);
  void GetSpan(const std::string& trace_hex, const std::string& span_hex, const QueryParams& params,
               const auth::Principal& caller, const audit::Actor& actor, bool exporting, const Responder& respond);
  void SearchSessions(const QueryParams& params, const auth::Principal& caller, const Responder& respond);
  void GetSession(const std::string& session_id, const QueryParams& params, const auth::Principal& caller,
                  const audit::Actor& actor, const Responder& respond);
  // deletion_handlers.cc (run on the query pool: a deletion rewrites files). With auth
  // on, a deletion needs the admin role in the project it names.
  void DeleteBy(store::DeletionKind kind, const std::string& value, const QueryParams& params,
                const auth::Principal& caller, const std::string& actor, const Responder& respond);
  void ListDeletions(const auth::Principal& caller, const Responder& respond);
  HttpResponse SamplingCounts(const auth::Principal& caller);
  // audit_handlers.cc: records a read in the audit trail and waits until it is
  // durable; OK when reads are not audited.
  Status AuditRead(const audit::Actor& actor, std::string action, std::string target, std::string details_json);
  // The same in two halves, so that a view renders its answer while the trail syncs
  // the record: StartAuditRead queues the record, FinishAuditRead waits until it is
  // durable. Nothing may be sent between the two (no record, no read).
  std::future<Status> StartAuditRead(const audit::Actor& actor, std::string action, std::string target,
                                     std::string details_json);
  static Status FinishAuditRead(std::future<Status>& pending);
  void SearchAudit(const QueryParams& params, const audit::Actor& actor, const Responder& respond);
  // reprice_handlers.cc: POST starts a reprice of a period on a thread of its own (one
  // at a time) and answers 202 with the job; GET answers the running or last job.
  void StartReprice(const QueryParams& params, const auth::Principal& caller, const audit::Actor& actor,
                    const Responder& respond);
  HttpResponse RepriceStatus();
  // Asks a running reprice to stop and waits for its thread (Shutdown).
  void StopReprice();
  // redaction_handler.cc
  HttpResponse RedactionPolicy();
  // auth_handlers.cc
  HttpResponse AuthStatus(const HttpRequest& request);
  // POST /api/v1/auth/login (on the query pool: the password hash is slow) and logout;
  // both recorded in the audit trail. client: the address the rate limit keys on;
  // remote: the socket's peer (ip:port).
  void Login(const std::string& body, const std::string& client, const std::string& remote,
             const Responder& respond);
  void Logout(const auth::Principal& caller, audit::Actor actor, Responder respond);
  // The client's address for the login limit (X-Forwarded-For from a trusted proxy).
  std::string LoginAddress(const HttpRequest& request) const;
  // Cookie-authenticated POSTs must echo the session's CSRF token in x-csrf-token.
  static bool CsrfOk(const HttpRequest& request, const auth::Principal& caller);
  // The caller, or the 401 to answer. Open when no authenticator is configured.
  Result<auth::Principal> Caller(const HttpRequest& request);
  // ops_handlers.cc
  HttpResponse Healthz();
  HttpResponse Readyz();
  HttpResponse MetricsPage(const auth::Principal& caller);
  HttpResponse IndexPage(std::string_view host);
  // pricing_handlers.cc
  HttpResponse PricingModels();
  HttpResponse PricingUnpriced();
  // demo_handler.cc: ingests the demo run through the ingest service, into the API
  // key's project, or a project (?project=, else the only one) where the user is at
  // least a member.
  void LoadDemo(const auth::Principal& caller, const QueryParams& params, audit::Actor actor, Responder respond);
  void LoadDemoNow(const std::string& project, Responder respond);
  // The audit trail's actor for a request: the caller's key or user when auth is on,
  // else "anonymous"; with the peer's address.
  audit::Actor ActorOf(const HttpRequest& request, const auth::Principal& caller) const;

  store::SpanStore* store_;
  ingest::IngestService* ingest_;
  MetricsRegistry* metrics_;
  RouterOptions options_;
  std::atomic<bool> draining_{false};
  std::array<Histogram*, kRouteCount> latency_{};
  Gauge* in_flight_;
  boost::asio::thread_pool query_pool_;
  // Slow credential checks (auth::PendingVerification): as many threads as slots.
  boost::asio::thread_pool verify_pool_;
  // The reprice job (reprice_handlers.cc): the running or last one, and its thread.
  struct RepriceJob;
  std::mutex reprice_mu_;
  std::shared_ptr<RepriceJob> reprice_job_;  // guarded by reprice_mu_
  std::thread reprice_thread_;               // guarded by reprice_mu_
};

}  // namespace sightline::api
