// `sightline traces [filters]`: search traces, as a table.
#include <cstdio>

#include "cli/client_common.h"
#include "cli/filters.h"
#include "cli/json_util.h"
#include "cli/render.h"
#include "cli/terminal.h"

namespace sightline::cli {
namespace {

struct TracesArgs {
  TraceFilters filters;
  bool all = false;
};

void RunTraces(CommandContext& ctx, const TracesArgs& a) {
  auto params = FilterParams(a.filters, NowNs());
  if (!params.ok()) return ReportUsageError(ctx, "traces", params.status());
  auto client = MakeClient(ctx);
  if (!client.ok()) return ReportUsageError(ctx, "traces", client.status());

  // Collect every page when --all, else the one asked for.
  rapidjson::Document merged(rapidjson::kObjectType);
  auto& alloc = merged.GetAllocator();
  rapidjson::Value all(rapidjson::kArrayType);
  std::string next;
  auto base = *params;
  for (int page = 0;; ++page) {
    auto p = base;
    if (!next.empty()) {
      std::erase_if(p, [](const auto& kv) { return kv.first == "cursor"; });
      p.emplace_back("cursor", next);
    }
    rapidjson::Document doc;
    Status st = GetJson(**client, "/api/v1/traces" + QueryString(p), "trace search", &doc);
    if (!st.ok()) return ReportFailure(ctx, "traces", st);
    if (const JsonValue* ts = Member(doc, "traces"); ts != nullptr && ts->IsArray())
      for (auto& t : doc["traces"].GetArray()) all.PushBack(rapidjson::Value(t, alloc), alloc);
    next = Str(doc, "next_cursor");
    if (!a.all || next.empty()) break;
  }
  if (ctx.json) {
    merged.AddMember("traces", all, alloc);
    if (next.empty()) {
      merged.AddMember("next_cursor", rapidjson::Value(rapidjson::kNullType), alloc);
    } else {
      merged.AddMember("next_cursor", rapidjson::Value(next.c_str(), alloc), alloc);
    }
    std::printf("%s\n", PrettyJson(merged).c_str());
    return;
  }
  RenderOptions o;
  o.color = UseColor(stdout);
  o.width = TerminalWidth(stdout);
  std::fputs(RenderTracesTable(all, o).c_str(), stdout);
  if (!next.empty()) std::fprintf(stderr, "more traces: --cursor %s (or --all)\n", next.c_str());
}

}  // namespace

void RegisterTraces(CLI::App& app, CommandContext& ctx) {
  auto args = std::make_shared<TracesArgs>();
  auto* cmd = app.add_subcommand("traces", "Search traces; prints a table (newest first)");
  AddTraceFilterOptions(cmd, &args->filters);
  cmd->add_flag("--all", args->all, "Follow next_cursor through every page");
  AddClientOptions(cmd, ctx);
  cmd->callback([&ctx, args]() { RunTraces(ctx, *args); });
}

}  // namespace sightline::cli
