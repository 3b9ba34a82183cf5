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
// --redaction-file) is re-checked the same way, and a bad one at start-up is exit 2.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "api/http_server.h"
#include "api/router.h"
#include "api/static_files.h"
#include "cli/commands.h"
#include "cli/config.h"
#include "common/metrics.h"
#include "ingest/ingest_service.h"
#include "ingest/otlp_grpc.h"
#include "pipeline/agent_metrics.h"
#include "pipeline/pricing.h"
#include "pipeline/redaction_service.h"
#include "store/columnar/columnar_reader.h"
#include "store/embedded_store.h"

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

  store::EmbeddedStoreOptions so;
  so.dir = cfg.data;
  so.fsync = PolicyOf(cfg.fsync);
  so.queue_limit_bytes = cfg.queue_limit_bytes;
  so.memtable_limit_bytes = cfg.memtable_limit_bytes;
  store::columnar::ColumnarReader::SetBlockCacheBytes(static_cast<size_t>(cfg.block_cache_bytes));
  so.retention = cfg.retention;
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
  pipeline::AgentMetricsOptions amo;
  amo.max_values_per_label = static_cast<size_t>(cfg.metrics_label_limit);
  pipeline::AgentMetrics agent_metrics(amo);
  agent_metrics.AttachTo(&metrics);
  io.agent_metrics = &agent_metrics;
  ingest::IngestService ingest(store.get(), &metrics, io);

  api::HttpServerOptions ho;
  Status st = api::ParseHostPort(cfg.http, &ho.address, &ho.port);
  ho.threads = cfg.http_threads;
  ho.max_body_bytes = cfg.max_request_bytes;

  ingest::GrpcReceiver grpc(&ingest, &metrics);
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
    auto grpc_port = grpc.Start(cfg.grpc, cfg.max_request_bytes);
    if (!grpc_port.ok()) return fail(grpc_port.status());
    grpc_desc = Endpoint(HostOf(cfg.grpc), *grpc_port);
  }
  api::RouterOptions ro;
  ro.query_threads = cfg.http_threads;
  ro.grpc_endpoint = grpc_desc == "off" ? "" : "http://" + grpc_desc;
  auto ui = LoadUi(cfg);
  if (!ui.ok()) return fail(ui.status());
  ro.ui = *ui;
  ro.pricing = pricing.get();
  router = std::make_unique<api::ApiRouter>(store.get(), &ingest, &metrics, ro);
  auto http_port = http.Start();
  if (!http_port.ok()) return fail(http_port.status());
  std::string http_desc = Endpoint(ho.address, *http_port);

  const auto& rec = store->recovery_report();
  std::fprintf(stderr,
               "sightline: serving data=%s fsync=%s http=%s grpc=%s ui=%s config=%s pricing=%s (%zu models) redaction=%s "
               "(recovered %llu spans from %llu segments, %llu WAL files)\n",
               cfg.data.c_str(), cfg.fsync.c_str(), http_desc.c_str(), grpc_desc.c_str(),
               ro.ui ? ro.ui->dir().c_str() : "none", cfg.config_file.empty() ? "none" : cfg.config_file.c_str(),
               po.user_file.c_str(), pricing->catalogue()->models().size(), redaction->Describe().c_str(), static_cast<unsigned long long>(rec.spans),
               static_cast<unsigned long long>(rec.segments), static_cast<unsigned long long>(rec.wal_files));
  std::fprintf(stdout, "sightline: listening http=%s grpc=%s\n", http_desc.c_str(), grpc_desc.c_str());
  std::fflush(stdout);

  int sig = 0;
  for (;;) {
    const timespec tick{0, 250'000'000};
    sig = sigtimedwait(&signals, nullptr, &tick);
    if (sig > 0) break;
    pricing->MaybeReload();  // EAGAIN (the tick passed) or EINTR
    redaction->MaybeReload();
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
