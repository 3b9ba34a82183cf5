// `sightline demo`: sends a realistic multi-agent sample run (demo_run.h) to a
// server over OTLP/HTTP protobuf, then says how to look at it.
#include <algorithm>
#include <cstdio>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "cli/client_common.h"
#include "cli/demo_run.h"
#include "cli/otlp_sender.h"

namespace sightline::cli {
namespace {

struct DemoArgs {
  int sessions = 1;
};

void RunDemo(CommandContext& ctx, const DemoArgs& a) {
  if (a.sessions < 1 || a.sessions > 1000)
    return ReportUsageError(ctx, "demo", Status::InvalidArgument("--sessions must be between 1 and 1000"));
  auto client = MakeClient(ctx);
  if (!client.ok()) return ReportUsageError(ctx, "demo", client.status());
  DemoOptions opts;
  opts.sessions = a.sessions;
  opts.now_ns = NowNs();
  opts.seed = static_cast<uint64_t>(opts.now_ns);
  DemoRun run = BuildDemoRun(opts);
  int64_t spans = 0, rejected = 0;
  std::string rejection;
  for (const auto& req : run.requests) {
    SendResult r;
    Status st = SendOtlp(**client, req, SendOptions{}, &r);
    if (!st.ok()) return ReportFailure(ctx, "demo", st);
    spans += r.sent_spans - r.rejected_spans;
    rejected += r.rejected_spans;
    if (rejection.empty()) rejection = r.error_message;
  }
  if (ctx.json) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    w.Key("accepted_spans");
    w.Int64(spans);
    w.Key("rejected_spans");
    w.Int64(rejected);
    w.Key("traces");
    w.StartArray();
    for (const auto& t : run.traces) {
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
    std::printf("%s\n", buf.GetString());
  } else {
    std::printf("sent the demo run to %s: %lld spans in %zu traces (%zu requests)\n",
                (*client)->base().ToString().c_str(), static_cast<long long>(spans), run.traces.size(),
                run.requests.size());
    const size_t shown = std::min<size_t>(run.traces.size(), 6);
    for (size_t i = 0; i < shown; ++i) {
      const auto& t = run.traces[i];
      std::printf("  trace %s  session %s  %s\n", t.trace_id.c_str(), t.session_id.c_str(), t.root_name.c_str());
    }
    if (shown < run.traces.size()) std::printf("  ... and %zu more (--json lists them all)\n", run.traces.size() - shown);
    std::string server = ctx.server_url == "http://127.0.0.1:4318" ? "" : " --server " + ctx.server_url;
    std::printf("\nlook at it:\n  sightline trace %s%s\n  sightline session %s%s\n  sightline traces%s\n",
                run.traces.front().trace_id.c_str(), server.c_str(), run.traces.front().session_id.c_str(),
                server.c_str(), server.c_str());
  }
  if (rejected > 0) {
    std::fprintf(stderr, "sightline demo: the server rejected %lld spans: %s\n", static_cast<long long>(rejected),
                 rejection.c_str());
    ctx.exit_code = 1;
  }
}

}  // namespace

void RegisterDemo(CLI::App& app, CommandContext& ctx) {
  auto args = std::make_shared<DemoArgs>();
  auto* cmd = app.add_subcommand("demo", "Send a realistic multi-agent sample run (session ticket-9421) to a server");
  cmd->add_option("--sessions", args->sessions, "Sessions to generate (each has two turns; default 1)");
  AddClientOptions(cmd, ctx);
  cmd->callback([&ctx, args]() { RunDemo(ctx, *args); });
}

}  // namespace sightline::cli
