// `sightline session ID`: a session's traces (turns) in order, with totals.
#include <cstdio>

#include "cli/client_common.h"
#include "cli/render.h"
#include "cli/terminal.h"

namespace sightline::cli {

void RegisterSession(CLI::App& app, CommandContext& ctx) {
  auto id = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("session", "Show a session's traces in order, with totals");
  cmd->add_option("ID", *id, "Session id, e.g. ticket-9421")->required();
  AddClientOptions(cmd, ctx);
  cmd->callback([&ctx, id]() {
    if (id->empty()) return ReportUsageError(ctx, "session", Status::InvalidArgument("the session id is empty"));
    auto client = MakeClient(ctx);
    if (!client.ok()) return ReportUsageError(ctx, "session", client.status());
    rapidjson::Document doc;
    Status st = GetJson(**client, "/api/v1/sessions/" + UrlEncode(*id), "session '" + *id + "'", &doc);
    if (!st.ok()) return ReportFailure(ctx, "session", st);
    if (ctx.json) {
      std::printf("%s\n", PrettyJson(doc).c_str());
      return;
    }
    RenderOptions o;
    o.color = UseColor(stdout);
    o.width = TerminalWidth(stdout);
    std::fputs(RenderSession(doc, o).c_str(), stdout);
  });
}

}  // namespace sightline::cli
