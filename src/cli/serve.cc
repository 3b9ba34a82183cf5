// `sightline serve`: runs the server on the embedded store.
//
// Start-up: configuration (cli/config.h) is resolved and validated first (exit 2
// naming the setting); then the price catalogue loads (shipped + DATA/pricing.toml or
// --pricing-file; exit 2 naming the file, line and problem when it does not parse);
// then the store opens (recovery), the HTTP and gRPC listeners
// bind, a start line goes to stderr, and the line
//   sightline: listening http=127.0.0.1:PORT grpc=127.0.0.1:PORT
// goes to stdout (the real ports, so tests can ask for port 0).
// Shutdown on SIGTERM/SIGINT: /readyz turns 503, listeners stop accepting, in-flight
// requests finish (their appends become durable), the store closes (flush, sync),
// exit 0. While running, the main thread re-checks the pricing file (at most every
// reload interval, 2 s) on a 250 ms tick, so an edit applies (or a bad one is logged,
// once) even when no span arrives; the redaction policy (DATA/redaction.toml or
// --redaction-file) is re-checked the same way, and a bad one at start-up is exit 2;
// so is the tail-sampling policy (DATA/sampling.toml, cli/sampling_source.h), handed to
// the store (EmbeddedStore::SetSampling) when it changes.
// Authentication (docs/auth.md): DATA/meta.db is opened (created) before the store;
// with no API key or user in it the server runs open, which it allows only when every
// listener is on loopback, unless --insecure (otherwise exit 2). The tick re-reads the
// database once a second, so new and revoked keys apply within a second, and moves
// the audit records `sightline admin` left in its outbox into the audit trail (at
// start-up too). With [audit] signing_key the trail's HEAD and ANCHOR are signed.
// TLS (docs/tls.md): with --tls-cert and --tls-key both listeners speak TLS; the files
// load before the store opens (exit 2 naming the file and what is wrong with it), the
// start line says https:// and tls=on, session cookies get Secure, and the tick
// re-reads the files (at most every 2 s) so a rotated certificate applies to new
// connections; a bad new file is logged and the certificate in force stays.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <memory>

#include "api/client_address.h"
#include "api/http_server.h"
#include "api/router.h"
#include "api/static_files.h"
#include "auth/authenticator.h"
#include "cli/commands.h"
#include "cli/config.h"
#include "cli/sampling_source.h"
#include "common/metrics.h"
#include "ingest/ingest_service.h"
#include "ingest/otlp_grpc.h"
#include "pipeline/agent_metrics.h"
#include "pipeline/pricing.h"
#include "pipeline/redaction_service.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "audit/audit_config.h"
#include "audit/audit_log.h"
#include "audit/audit_outbox.h"
#include "audit/side_effects.h"
#include "store/columnar/columnar_reader.h"
#include "store/embedded_store.h"
#include "tls/server_tls.h"

namespace sightline::cli {
namespace {

constexpr auto kShutdownGrace = std::chrono::seconds(10);

store::FsyncPolicy PolicyOf(const std::string& name) {
  if (name == "always") return store::FsyncPolicy::kAlways;
  if (name == "never") return store::FsyncPolicy::kNever;
  return store::FsyncPolicy::kBatch;
}

// The web UI: --ui-dir (validated by config.cc), else the `ui` folder beside the
// binary (where `make build` puts it). Null when there is none: / then shows the
// plain API page, and start-up says why.
Result<std::shared_ptr<const api::StaticFiles>> LoadUi(const ServerConfig& cfg) {
  std::string dir = cfg.ui_dir;
  if (dir.empty()) {
    std::error_code ec;
    auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) return std::shared_ptr<const api::StaticFiles>();
    dir = (exe.parent_path() / "ui").string();
    if (!std::filesystem::is_regular_file(std::filesystem::path(dir) / "index.html", ec)) {
      std::fprintf(stderr, "sightline: no web UI at %s (build it with scripts/build-ui.sh, or pass --ui-dir); "
                   "/ shows the API page\n", dir.c_str());
      return std::shared_ptr<const api::StaticFiles>();
    }
  }
  auto ui = api::StaticFiles::Load(dir);
  if (!ui.ok()) return ui.status();
  return std::shared_ptr<const api::StaticFiles>(std::move(ui).value());
}

std::string HostOf(const std::string& addr) {
  std::string host;
  int port = 0;
  (void)api::ParseHostPort(addr, &host, &port);
  return host;
}

std::string Endpoint(const std::string& host, int port) {
  std::string h = host == "0.0.0.0" ? "127.0.0.1" : host;
  if (h.find(':') != std::string::npos) h = "[" + h + "]";
  return h + ":" + std::to_string(port);
}

// True for addresses only this machine can reach: 127.0.0.0/8, ::1, localhost.
bool IsLoopback(const std::string& addr) {
  std::string host = HostOf(addr);
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

std::string AuthLine(const auth::Authenticator& a) {
  return a.required() ? "required" : "open (no API key or user yet: anyone who can connect may read and write every project)";
}

int RunServe(const ServerConfig& cfg, const sigset_t& signals) {
  // Prices first: a broken pricing file is configuration, found before recovery runs.
  MetricsRegistry metrics;
  pipeline::PricingService::Options po;
  po.user_file = cfg.pricing_file.empty() ? (std::filesystem::path(cfg.data) / "pricing.toml").string()
                                          : cfg.pricing_file;
  po.metrics = &metrics;
  po.logger = [](const std::string& line) { std::fprintf(stderr, "sightline: %s\n", line.c_str()); };
  auto priced = pipeline::PricingService::Create(po);
  if (!priced.ok()) {
    std::fprintf(stderr, "sightline serve: the pricing file %s cannot be used: %s\n", po.user_file.c_str(),
                 priced.status().message().c_str());
    return 2;
  }
  std::unique_ptr<pipeline::PricingService> pricing = std::move(priced).value();

  // The redaction policy, also before recovery: a server must not take a span it
  // cannot redact as configured (docs/redaction.md).
  pipeline::RedactionService::Options rdo;
  rdo.policy_file = cfg.redaction_file.empty() ? (std::filesystem::path(cfg.data) / "redaction.toml").string()
                                               : cfg.redaction_file;
  rdo.key_file = (std::filesystem::path(cfg.data) / "redaction.key").string();
  rdo.metrics = &metrics;
  rdo.max_metric_projects = static_cast<size_t>(cfg.metrics_label_limit);
  rdo.logger = po.logger;
  auto redacting = pipeline::RedactionService::Create(rdo);
  if (!redacting.ok()) {
    std::fprintf(stderr, "sightline serve: the redaction policy cannot be used: %s\n",
                 redacting.status().message().c_str());
    return 2;
  }
  std::unique_ptr<pipeline::RedactionService> redaction = std::move(redacting).value();

  // The tail-sampling policy: DATA/sampling.toml while it exists, else sightline.toml's
  // [sampling]; re-read on the tick below (docs/sampling.md).
  SamplingSource::Options smo;
  smo.file = (std::filesystem::path(cfg.data) / "sampling.toml").string();
  smo.base = cfg.sampling;
  smo.logger = po.logger;
  auto sampling_opened = SamplingSource::Create(smo);
  if (!sampling_opened.ok()) {
    std::fprintf(stderr, "sightline serve: the sampling policy cannot be used: %s\n",
                 sampling_opened.status().message().c_str());
    return 2;
  }
  std::unique_ptr<SamplingSource> sampling_source = std::move(sampling_opened).value();

  // TLS material, before the store too: a certificate that cannot be used is
  // configuration. Messages name the file and the problem, never the content.
  std::unique_ptr<tls::ServerTlsSource> tls_source;
  if (cfg.tls()) {
    tls::ServerTlsSource::Options to;
    to.files = {cfg.tls_cert, cfg.tls_key, cfg.tls_client_ca};
    to.logger = po.logger;
    to.metrics = &metrics;
    auto loaded = tls::ServerTlsSource::Create(to);
    if (!loaded.ok()) {
      std::fprintf(stderr, "sightline serve: TLS cannot be used: %s\n", loaded.status().message().c_str());
      return 2;
    }
    tls_source = std::move(loaded).value();
  }

  // Who may call: before the store, since refusing to start is a configuration error.
  std::unique_ptr<auth::Authenticator> authn;
  {
    std::error_code ec;
    std::filesystem::create_directories(cfg.data, ec);
    std::string meta = (std::filesystem::path(cfg.data) / "meta.db").string();
    auto db = auth::MetadataDb::Open(meta);
    if (!db.ok()) {
      std::fprintf(stderr, "sightline serve: %s\n", db.status().message().c_str());
      return 1;
    }
    auth::Authenticator::Options ao;
    ao.max_concurrent_verifications = cfg.auth_max_verifications;
    authn = std::make_unique<auth::Authenticator>(std::move(db).value(), ao);
    Status st = authn->Refresh();
    if (!st.ok()) {
      std::fprintf(stderr, "sightline serve: %s\n", st.message().c_str());
      return 1;
    }
    bool exposed = !IsLoopback(cfg.http) || (cfg.grpc != "off" && !IsLoopback(cfg.grpc));
    if (exposed && !authn->required() && !cfg.insecure) {
      std::fprintf(stderr,
                   "sightline serve: refusing to listen on a non-loopback address (http=%s grpc=%s) with no API key "
                   "or user in %s: anyone who can connect could read and write every trace. Create a project and a "
                   "key first (sightline admin projects create NAME; sightline admin keys create --project NAME), or "
                   "pass --insecure to run open anyway (docs/auth.md)\n",
                   cfg.http.c_str(), cfg.grpc.c_str(), meta.c_str());
      return 2;
    }
  }
  // The audit trail (docs/audit.md), in its own directory, before the store: nothing
  // audited may run without it.
  const std::string audit_toml = (std::filesystem::path(cfg.data) / "audit.toml").string();
  auto audit_cfg = audit::LoadAuditConfig(Env::Default(), audit_toml);
  if (!audit_cfg.ok()) {
    std::fprintf(stderr, "sightline serve: the audit settings cannot be used: %s\n",
                 audit_cfg.status().message().c_str());
    return 2;
  }
  audit::AuditLogOptions ao;
  ao.dir = (std::filesystem::path(cfg.data) / "audit").string();
  ao.segment_bytes = audit_cfg->segment_bytes;
  ao.retention_days = audit_cfg->retention_days;
  ao.logger = [](const std::string& line) { std::fprintf(stderr, "sightline: %s\n", line.c_str()); };
  if (!cfg.audit_signing_key.empty()) {
    // The key signs HEAD so a rewritten trail is caught; a copy in the data directory
    // would travel with every backup of it and prove nothing.
    std::error_code ec;
    auto key = std::filesystem::weakly_canonical(cfg.audit_signing_key, ec).string();
    auto data = std::filesystem::weakly_canonical(cfg.data, ec).string();
    if (key.rfind(data + "/", 0) == 0) {
      std::fprintf(stderr, "sightline serve: invalid audit_signing_key \"%s\": it is inside the data directory %s; "
                   "keep it elsewhere (docs/audit.md, \"Signed head\")\n", cfg.audit_signing_key.c_str(), cfg.data.c_str());
      return 2;
    }
    auto signer = audit::AuditSigner::LoadPrivateKey(cfg.audit_signing_key);
    if (!signer.ok()) {
      std::fprintf(stderr, "sightline serve: invalid audit_signing_key: %s\n", signer.status().message().c_str());
      return 2;
    }
    ao.signer = std::move(signer).value();
  }
  auto audit_opened = audit::AuditLog::Open(ao);
  if (!audit_opened.ok()) {
    std::fprintf(stderr, "sightline serve: cannot open the audit trail in %s: %s\n", ao.dir.c_str(),
                 audit_opened.status().ToString().c_str());
    return 1;
  }
  std::unique_ptr<audit::AuditLog> audit_log = std::move(audit_opened).value();
  // `sightline admin`'s changes wait in meta.db's outbox for the trail's one writer.
  auto drain_outbox = [&audit_log, &authn]() {
    auto moved = audit::DrainAuditOutbox(authn->db(), audit_log.get());
    if (!moved.ok()) std::fprintf(stderr, "sightline: audit: %s\n", moved.status().ToString().c_str());
  };
  drain_outbox();
  const audit::SideEffectPolicy side_effects(audit_cfg->side_effect_tools);
  // Policy reloads are admin actions; the tick below notices them.
  auto audit_policy = [&audit_log](const char* what, const std::string& file, const Status& outcome) {
    audit::AuditRecord r;
    r.kind = audit::Kind::kAdmin;
    r.actor.principal = "file";
    r.action = std::string(what) + ".reload";
    r.target = "file/" + file;
    r.outcome = outcome.ok() ? "ok" : "error";
    rapidjson::StringBuffer b;
    rapidjson::Writer<rapidjson::StringBuffer> w(b);
    w.StartObject();
    if (!outcome.ok()) {
      w.Key("error");
      w.String(outcome.message().c_str());
    }
    w.EndObject();
    r.details_json.assign(b.GetString(), b.GetSize());
    Status st = audit_log->Append(std::move(r));
    if (!st.ok()) std::fprintf(stderr, "sightline: audit: %s\n", st.ToString().c_str());
  };

  store::EmbeddedStoreOptions so;
  so.dir = cfg.data;
  so.fsync = PolicyOf(cfg.fsync);
  so.queue_limit_bytes = cfg.queue_limit_bytes;
  so.memtable_limit_bytes = cfg.memtable_limit_bytes;
  store::columnar::ColumnarReader::SetBlockCacheBytes(static_cast<size_t>(cfg.block_cache_bytes));
  so.retention = cfg.retention;
  so.sampling = sampling_source->policy();
  // Deletion on request (docs/deletion.md): counted, logged and written to the audit
  // trail, each without the id asked for (its SHA-256 only).
  so.on_deleted = [&metrics, &audit_log, log = po.logger](const store::DeletionRecord& r) {
    audit::AuditRecord a;
    a.kind = audit::Kind::kAdmin;
    a.actor.principal = r.requested_by;
    a.action = std::string("deletion.") + store::DeletionKindName(r.kind);
    a.target = std::string(store::DeletionKindName(r.kind)) + "/sha256:" + r.value_sha256;
    a.outcome = r.complete() ? "ok" : "pending";
    {
      rapidjson::StringBuffer b;
      rapidjson::Writer<rapidjson::StringBuffer> w(b);
      w.StartObject();
      w.Key("deletion");
      w.Uint64(r.id);
      w.Key("project");
      w.String(r.project.c_str());
      w.Key("traces");
      w.Uint64(r.traces);
      w.Key("spans");
      w.Uint64(r.spans);
      w.Key("segments_rewritten");
      w.Uint64(r.segments_rewritten);
      w.EndObject();
      a.details_json.assign(b.GetString(), b.GetSize());
    }
    if (Status st = audit_log->Append(std::move(a)); !st.ok())
      std::fprintf(stderr, "sightline: audit: deletion %llu not recorded: %s\n",
                   static_cast<unsigned long long>(r.id), st.ToString().c_str());
    metrics
        .GetCounter("sightline_deletions_total", "Deletions on request, by kind.",
                    {{"kind", store::DeletionKindName(r.kind)}})
        ->Inc();
    log("deletion " + std::to_string(r.id) + " by " + r.requested_by + ": " + store::DeletionKindName(r.kind) +
        " sha256 " + r.value_sha256.substr(0, 16) + "..., " + std::to_string(r.traces) + " traces, " +
        std::to_string(r.spans) + " spans, " + (r.complete() ? "complete" : "rewrite pending"));
  };
  so.rollups.enabled = cfg.rollups.enabled;
  so.rollups.minute_window_ns = int64_t{cfg.rollups.minute_window_hours} * 3600 * 1000000000;
  so.rollups.hour_window_ns = int64_t{cfg.rollups.hour_window_days} * store::retention::kDayNs;
  so.rollups.max_tuples_per_bucket = static_cast<size_t>(cfg.rollups.max_tuples_per_bucket);
  auto opened = store::EmbeddedStore::Open(so);
  if (!opened.ok()) {
    std::fprintf(stderr, "sightline serve: cannot open the store in %s: %s\n", cfg.data.c_str(),
                 opened.status().ToString().c_str());
    return 1;
  }
  std::unique_ptr<store::EmbeddedStore> store = std::move(opened).value();

  ingest::IngestOptions io;
  io.max_request_bytes = cfg.max_request_bytes;
  io.max_attribute_bytes = cfg.max_attribute_bytes;
  io.pricing = pricing.get();
  io.redaction = redaction.get();
  pipeline::AgentMetricsOptions amo = AgentMetricsOptionsOf(cfg);
  pipeline::AgentMetrics agent_metrics(amo);
  agent_metrics.AttachTo(&metrics);
  io.agent_metrics = &agent_metrics;
  io.audit = audit_log.get();
  io.side_effects = &side_effects;
  ingest::IngestService ingest(store.get(), &metrics, io);

  api::HttpServerOptions ho;
  Status st = api::ParseHostPort(cfg.http, &ho.address, &ho.port);
  ho.threads = cfg.http_threads;
  ho.max_body_bytes = cfg.max_request_bytes;
  ho.tls = tls_source.get();
  ho.metrics = &metrics;

  ingest::GrpcReceiver grpc(&ingest, &metrics, authn.get());
  std::unique_ptr<api::ApiRouter> router;
  api::HttpServer http(ho, [&router](api::HttpRequest&& req, api::Responder respond) {
    router->Handle(std::move(req), std::move(respond));
  });
  auto fail = [&](const Status& s) {
    std::fprintf(stderr, "sightline serve: %s\n", s.message().c_str());
    http.Stop(std::chrono::milliseconds(0));
    grpc.Shutdown(std::chrono::milliseconds(0));
    if (router) router->Shutdown();
    (void)store->Close();
    return 1;
  };
  if (!st.ok()) return fail(st);

  // gRPC binds first so the index page can show its real port; the router exists
  // before HTTP accepts its first request.
  std::string grpc_desc = "off";
  if (cfg.grpc != "off") {
    ingest::GrpcTlsFiles grpc_tls;
    if (cfg.tls()) grpc_tls = {cfg.tls_cert, cfg.tls_key, cfg.tls_client_ca, 2};
    auto grpc_port = grpc.Start(cfg.grpc, cfg.max_request_bytes, grpc_tls);
    if (!grpc_port.ok()) return fail(grpc_port.status());
    grpc_desc = Endpoint(HostOf(cfg.grpc), *grpc_port);
  }
  api::RouterOptions ro;
  ro.query_threads = cfg.http_threads;
  const char* scheme = cfg.tls() ? "https://" : "http://";
  ro.grpc_endpoint = grpc_desc == "off" ? "" : scheme + grpc_desc;
  ro.secure_cookies = cfg.tls();
  ro.tls = cfg.tls();
  auto ui = LoadUi(cfg);
  if (!ui.ok()) return fail(ui.status());
  ro.ui = *ui;
  ro.pricing = pricing.get();
  ro.agent_metrics = &agent_metrics;
  ro.audit = audit_log.get();
  ro.redaction = redaction.get();
  ro.audit_reads = audit_cfg->record_reads;
  ro.auth = authn.get();
  ro.trusted_proxies = std::move(api::ParseNetworks(cfg.trusted_proxy)).value();  // validated by config.cc
  router = std::make_unique<api::ApiRouter>(store.get(), &ingest, &metrics, ro);
  auto http_port = http.Start();
  if (!http_port.ok()) return fail(http_port.status());
  std::string http_desc = Endpoint(ho.address, *http_port);
  // The start line names the scheme when it is https, so nobody points a plain client at it.
  std::string http_shown = cfg.tls() ? "https://" + http_desc : http_desc;

  const auto& rec = store->recovery_report();
  std::fprintf(stderr,
               "sightline: serving data=%s fsync=%s http=%s grpc=%s tls=%s ui=%s config=%s pricing=%s (%zu models) "
               "redaction=%s (recovered %llu spans from %llu segments, %llu WAL files)\n",
               cfg.data.c_str(), cfg.fsync.c_str(), http_shown.c_str(), grpc_desc.c_str(), cfg.tls() ? "on" : "off",
               ro.ui ? ro.ui->dir().c_str() : "none", cfg.config_file.empty() ? "none" : cfg.config_file.c_str(),
               po.user_file.c_str(), pricing->catalogue()->models().size(), redaction->Describe().c_str(), static_cast<unsigned long long>(rec.spans),
               static_cast<unsigned long long>(rec.segments), static_cast<unsigned long long>(rec.wal_files));
  if (tls_source) {
    auto in_force = tls_source->Current();
    std::fprintf(stderr, "sightline: tls=on certificate %s\n", in_force->Describe().c_str());
    if (in_force->certificate().not_after_s < static_cast<int64_t>(std::time(nullptr)))
      std::fprintf(stderr, "sightline: warning: the TLS certificate in %s has expired: clients will refuse it\n",
                   cfg.tls_cert.c_str());
  }
  std::fprintf(stderr, "sightline: auth %s\n", AuthLine(*authn).c_str());
  // Addresses as host:port (scripts parse them); " tls=on" tells them to use https.
  std::fprintf(stdout, "sightline: listening http=%s grpc=%s%s\n", http_desc.c_str(), grpc_desc.c_str(),
               cfg.tls() ? " tls=on" : "");
  std::fflush(stdout);

  int sig = 0;
  auto prices_in_force = pricing->catalogue();
  auto redaction_in_force = redaction->policy();
  std::string pricing_error, redaction_error, tls_error, sampling_error;
  int64_t next_retention_ns = 0;
  uint64_t auth_ticks = 0;
  for (;;) {
    const timespec tick{0, 250'000'000};
    sig = sigtimedwait(&signals, nullptr, &tick);
    if (sig > 0) break;
    pricing->MaybeReload();  // EAGAIN (the tick passed) or EINTR
    redaction->MaybeReload();
    // Reloads, and refused edits once each, into the audit trail.
    if (auto now = pricing->catalogue(); now != prices_in_force) {
      prices_in_force = now;
      audit_policy("pricing", po.user_file, Status::OK());
    }
    if (Status e = pricing->last_error(); e.message() != pricing_error) {
      pricing_error = e.message();
      if (!e.ok()) audit_policy("pricing", po.user_file, e);
    }
    if (auto now = redaction->policy(); now != redaction_in_force) {
      redaction_in_force = now;
      audit_policy("redaction", redaction->Describe(), Status::OK());
    }
    if (Status e = redaction->last_error(); e.message() != redaction_error) {
      redaction_error = e.message();
      if (!e.ok()) audit_policy("redaction", redaction->Describe(), e);
    }
    if (sampling_source->MaybeReload()) {
      // Traces not decided yet are judged by the new policy; decided ones stay decided.
      Status applied = store->SetSampling(sampling_source->policy());
      if (!applied.ok()) std::fprintf(stderr, "sightline: sampling: %s\n", applied.ToString().c_str());
      audit_policy("sampling", sampling_source->Describe(), applied);
    }
    if (Status e = sampling_source->last_error(); e.message() != sampling_error) {
      sampling_error = e.message();
      if (!e.ok()) audit_policy("sampling", sampling_source->Describe(), e);
    }
    if (tls_source) {
      // New connections get a rotated certificate; the source logs reloads and refusals.
      if (tls_source->MaybeReload()) audit_policy("tls", cfg.tls_cert, Status::OK());
      if (Status e = tls_source->last_error(); e.message() != tls_error) {
        tls_error = e.message();
        if (!e.ok()) audit_policy("tls", cfg.tls_cert, e);
      }
    }
    if (int64_t now = Env::Default()->NowNanos(); now >= next_retention_ns) {
      next_retention_ns = now + int64_t{3600} * 1000000000;  // hourly
      if (Status r = audit_log->ApplyRetention(); !r.ok())
        std::fprintf(stderr, "sightline: audit retention: %s\n", r.ToString().c_str());
    }
    bool was_required = authn->required();
    if (++auth_ticks % 4 == 0) {  // the metadata database once a second
      if (Status st = authn->MaybeRefresh(); !st.ok()) {
        std::fprintf(stderr, "sightline: re-reading the metadata database: %s\n", st.message().c_str());
      } else if (authn->required() != was_required) {
        std::fprintf(stderr, "sightline: auth %s\n", AuthLine(*authn).c_str());
      }
      drain_outbox();
    }
  }
  std::fprintf(stderr, "sightline: %s received, shutting down\n", sig == SIGINT ? "SIGINT" : "SIGTERM");

  router->SetDraining();
  http.Stop(kShutdownGrace);
  grpc.Shutdown(kShutdownGrace);
  router->Shutdown();
  Status closed = store->Close();
  if (!closed.ok()) {
    std::fprintf(stderr, "sightline serve: closing the store: %s\n", closed.ToString().c_str());
    return 1;
  }
  {
    store::StoreStats st = store->Stats();
    std::fprintf(stderr,
                 "sightline: store closed: WAL synced, memtable flushed to segments (%lld spans acknowledged this "
                 "run, %lld segments on disk)\n",
                 static_cast<long long>(st.spans_written), static_cast<long long>(st.segments));
  }
  std::fprintf(stderr, "sightline: stopped\n");
  return 0;
}

}  // namespace

void RegisterServe(CLI::App& app, CommandContext& ctx) {
  auto* cmd = app.add_subcommand("serve", "Run the Sightline server (OTLP/HTTP, OTLP/gRPC, API) on the embedded store");
  // Flags are collected as text and resolved with the environment and the config
  // file by cli/config.cc, so all three sources share one validation.
  auto flags = std::make_shared<std::map<std::string, std::string>>();
  auto config_path = std::make_shared<std::string>();
  for (const auto& s : ServerSettings()) {
    std::string key = s.key;
    if (key == "insecure") {  // a flag, not an option with a value
      cmd->add_flag_function(s.flag, [flags, key](int64_t) { (*flags)[key] = "true"; }, s.help + " (env " + s.env + ")");
      continue;
    }
    cmd->add_option_function<std::string>(
           s.flag, [flags, key](const std::string& v) { (*flags)[key] = v; }, s.help + " (env " + s.env + ")")
        ->type_name("VALUE");
  }
  auto no_rollups = std::make_shared<bool>(false);
  cmd->add_flag("--no-rollups", *no_rollups,
                "Keep no rollups: metrics scan spans (env SIGHTLINE_NO_ROLLUPS=1; [rollups] in the config file)");
  cmd->add_option("--config", *config_path, "TOML config file (env SIGHTLINE_CONFIG; default ./sightline.toml if present)");
  cmd->callback([&ctx, flags, config_path, no_rollups]() {
    ConfigSources sources;
    sources.flags = *flags;
    sources.no_rollups = *no_rollups;
    sources.getenv = [](const std::string& name) -> std::optional<std::string> {
      const char* v = std::getenv(name.c_str());
      if (v == nullptr || *v == '\0') return std::nullopt;
      return std::string(v);
    };
    sources.config_path = *config_path;
    if (sources.config_path.empty()) {
      if (const char* c = std::getenv("SIGHTLINE_CONFIG"); c != nullptr && *c != '\0') sources.config_path = c;
    }
    auto cfg = LoadServerConfig(sources);
    if (!cfg.ok()) {
      std::fprintf(stderr, "sightline serve: %s\n", cfg.status().message().c_str());
      ctx.exit_code = 2;
      return;
    }
    // Block the shutdown signals before any thread starts, so every thread inherits
    // the mask and only sigwait() sees them.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    // A client that disconnects mid-write must not kill the server.
    signal(SIGPIPE, SIG_IGN);
    ctx.exit_code = RunServe(*cfg, signals);
  });
}

}  // namespace sightline::cli
