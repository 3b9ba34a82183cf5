// `sightline tail [filters]`: follows new traces live by polling the search API with
// `from` at the last time seen, until Ctrl-C (exit 0).
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <thread>

#include "cli/client_common.h"
#include "cli/filters.h"
#include "cli/json_util.h"
#include "cli/render.h"
#include "cli/terminal.h"
#include "common/time_util.h"
#include "tls/client_tls.h"

namespace sightline::cli {
namespace {

volatile sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

struct TailArgs {
  TraceFilters filters;
  double interval_s = 1.0;
};

// What was printed for a trace; printed again only when its status changes.
struct Seen {
  std::string status;
  int64_t end_ns = 0;
};

void RunTail(CommandContext& ctx, const TailArgs& a) {
  if (a.interval_s < 0.05 || a.interval_s > 3600)
    return ReportUsageError(ctx, "tail", Status::InvalidArgument("--interval must be between 0.05 and 3600 seconds"));
  int64_t now = NowNs();
  TraceFilters f = a.filters;
  // Spans land late (SDKs batch for seconds; a trace's root often arrives last, and
  // its times lie in the past), so each poll looks back `slack` from now and prints
  // what it has not printed yet. Without --from/--since, what the first poll finds is
  // the backlog: remembered, not printed.
  const int64_t slack_ns = std::max<int64_t>(static_cast<int64_t>(a.interval_s * 5e9), 60'000'000'000LL);
  std::optional<int64_t> from_flag;
  if (!f.since.empty() || !f.from.empty()) {
    auto p = FilterParams(f, now);
    if (!p.ok()) return ReportUsageError(ctx, "tail", p.status());
    for (const auto& [k, v] : *p)
      if (k == "from") from_flag = ParseTimeParam(v);
  }
  bool print_backlog = from_flag.has_value();
  f.from.clear();
  f.since.clear();
  auto base = FilterParams(f, now);
  if (!base.ok()) return ReportUsageError(ctx, "tail", base.status());
  auto url = ParseUrl(ctx.server_url);
  if (!url.ok()) return ReportUsageError(ctx, "tail", url.status());
  HttpClientOptions copts;
  copts.request_timeout = std::chrono::milliseconds(15000);
  if (!ctx.token.empty()) copts.default_headers.emplace_back("Authorization", "Bearer " + ctx.token);
  if (Status st = ApplyTlsOptions(ctx, *url, &copts); !st.ok()) return ReportUsageError(ctx, "tail", st);
  HttpClient client(*url, copts);

  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  RenderOptions o;
  o.color = UseColor(stdout);
  o.width = TerminalWidth(stdout);
  std::map<std::string, Seen> seen;
  bool ever_ok = false, warned = false;
  if (!ctx.json) std::fprintf(stderr, "following traces on %s (Ctrl-C to stop)\n", url->ToString().c_str());
  while (!g_stop) {
    auto params = *base;
    int64_t poll_from = NowNs() - slack_ns;
    if (!ever_ok && from_flag) poll_from = *from_flag;
    params.emplace_back("from", std::to_string(poll_from / 1000000));
    params.emplace_back("limit", "1000");
    rapidjson::Document doc;
    Status st = GetJson(client, "/api/v1/traces" + QueryString(params), "trace search", &doc);
    if (!st.ok()) {
      if (g_stop) break;
      if (!ever_ok) return ReportFailure(ctx, "tail", st);
      if (!warned) std::fprintf(stderr, "sightline tail: %s (retrying)\n", st.message().c_str());
      warned = true;
    } else {
      if (warned) std::fprintf(stderr, "sightline tail: reconnected\n");
      warned = false;
      const JsonValue* ts = Member(doc, "traces");
      if (ts != nullptr && ts->IsArray()) {
        // The API answers newest first; print oldest first.
        for (rapidjson::SizeType i = ts->Size(); i-- > 0;) {
          const JsonValue& t = (*ts)[i];
          std::string id = Str(t, "trace_id");
          std::string status = Str(t, "status", "unset");
          int64_t end = Int(t, "end_ns");
          auto it = seen.find(id);
          bool print = (it == seen.end() || it->second.status != status) && (ever_ok || print_backlog);
          seen[id] = {status, end};
          if (!print) continue;
          if (ctx.json) {
            std::printf("%s\n", ToJson(t).c_str());
          } else {
            std::printf("%s\n", RenderTailLine(t, o).c_str());
          }
        }
        std::fflush(stdout);
      }
      ever_ok = true;
      // Forget traces that fell out of the window: they will not be returned again.
      for (auto it = seen.begin(); it != seen.end();) {
        it = it->second.end_ns < poll_from - slack_ns ? seen.erase(it) : std::next(it);
      }
    }
    auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(a.interval_s);
    while (!g_stop && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ctx.exit_code = 0;
}

}  // namespace

void RegisterTail(CLI::App& app, CommandContext& ctx) {
  auto args = std::make_shared<TailArgs>();
  auto* cmd = app.add_subcommand("tail", "Follow new traces live (Ctrl-C to stop)");
  AddTraceFilterOptions(cmd, &args->filters, /*with_paging=*/false);
  cmd->add_option("--interval", args->interval_s, "Seconds between polls (default 1)");
  AddClientOptions(cmd, ctx);
  cmd->callback([&ctx, args]() { RunTail(ctx, *args); });
}

}  // namespace sightline::cli
