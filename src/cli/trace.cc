// `sightline trace ID`: one trace as an indented tree of spans.
#include <cstdio>

#include "cli/client_common.h"
#include "cli/render.h"
#include "cli/terminal.h"
#include "common/hex.h"

namespace sightline::cli {
namespace {

struct TraceArgs {
  std::string id;
  int depth = -1;
  bool payloads = false;
};

void RunTrace(CommandContext& ctx, const TraceArgs& a) {
  std::string id = a.id;
  for (char& c : id) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (id.size() != 32 || !HexDecode(id)) {
    ReportUsageError(ctx, "trace", Status::InvalidArgument("'" + a.id + "' is not a trace id (32 hex digits)"));
    return;
  }
  auto client = MakeClient(ctx);
  if (!client.ok()) return ReportUsageError(ctx, "trace", client.status());
  rapidjson::Document doc;
  Status st = GetJson(**client, "/api/v1/traces/" + id, "trace " + id, &doc);
  if (!st.ok()) return ReportFailure(ctx, "trace", st);
  if (ctx.json) {
    std::printf("%s\n", PrettyJson(doc).c_str());
    return;
  }
  RenderOptions o;
  o.color = UseColor(stdout);
  o.width = TerminalWidth(stdout);
  o.max_depth = a.depth;
  o.payloads = a.payloads;
  std::fputs(RenderTraceTree(doc, o).c_str(), stdout);
}

}  // namespace

void RegisterTrace(CLI::App& app, CommandContext& ctx) {
  auto args = std::make_shared<TraceArgs>();
  auto* cmd = app.add_subcommand("trace", "Show one trace as a tree: kind, name, duration, status, tokens, cost");
  cmd->add_option("ID", args->id, "Trace id (32 hex digits)")->required();
  cmd->add_option("--depth", args->depth, "Show spans down to this depth (0: roots only)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--payloads", args->payloads, "Show (truncated) input and output text under each span");
  AddClientOptions(cmd, ctx);
  cmd->callback([&ctx, args]() { RunTrace(ctx, *args); });
}

}  // namespace sightline::cli
