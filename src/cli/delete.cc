// `sightline delete --user ID | --session ID [--project P]`: deletion on request
// (docs/deletion.md). Asks the server to forget every trace of the user or session and
// prints the deletion's id, what it matched and whether its data is already off disk.
#include <cstdio>

#include "cli/client_common.h"
#include "cli/http_client.h"
#include "cli/json_util.h"

namespace sightline::cli {

void RegisterDelete(CLI::App& app, CommandContext& ctx) {
  struct Args {
    std::string user, session, project;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("delete", "Delete everything about a user or a session (spans, payloads, summaries)");
  auto* u = cmd->add_option("--user", a->user, "user_id whose traces go");
  auto* s = cmd->add_option("--session", a->session, "session_id whose traces go");
  u->excludes(s);
  cmd->add_option("--project", a->project, "only in this project (default: every project)");
  AddClientOptions(cmd, ctx);
  cmd->callback([&ctx, a]() {
    if (a->user.empty() == a->session.empty())
      return ReportUsageError(ctx, "delete", Status::InvalidArgument("give exactly one of --user ID or --session ID"));
    auto client = MakeClient(ctx);
    if (!client.ok()) return ReportUsageError(ctx, "delete", client.status());
    const bool user = !a->user.empty();
    std::string target = std::string(user ? "/api/v1/users/" : "/api/v1/sessions/") + UrlEncode(user ? a->user : a->session);
    if (!a->project.empty()) target += "?project=" + UrlEncode(a->project);
    auto r = (*client)->Request("DELETE", target, "", {{"x-sightline-actor", "cli"}});
    if (!r.ok()) return ReportFailure(ctx, "delete", r.status());
    if (r->status < 200 || r->status >= 300)
      return ReportFailure(ctx, "delete",
                           Status::Internal(ErrorMessageFromResponse(*r) + " (HTTP " + std::to_string(r->status) + ")"));
    rapidjson::Document doc;
    Status st = ParseJson(r->body, &doc, "delete answer");
    if (!st.ok() || !doc.IsObject() || !doc.HasMember("deletion") || !doc["deletion"].IsObject())
      return ReportFailure(ctx, "delete", Status::Internal("the server's answer is not a deletion"));
    const auto& d = doc["deletion"];
    if (ctx.json) {
      std::printf("%s\n", PrettyJson(doc).c_str());
      return;
    }
    auto num = [&](const char* k) { return d.HasMember(k) && d[k].IsUint64() ? d[k].GetUint64() : 0; };
    auto str = [&](const char* k) { return d.HasMember(k) && d[k].IsString() ? std::string(d[k].GetString()) : ""; };
    std::printf("deletion %llu: %s %s%s: %llu traces, %llu spans; %s\n", static_cast<unsigned long long>(num("id")),
                str("kind").c_str(), user ? a->user.c_str() : a->session.c_str(),
                a->project.empty() ? "" : (" in project " + a->project).c_str(),
                static_cast<unsigned long long>(num("traces")), static_cast<unsigned long long>(num("spans")),
                str("status") == "complete"
                    ? ("off disk (" + std::to_string(num("segments_rewritten")) + " segment file(s) rewritten)").c_str()
                    : "hidden now; the rewrite is pending (see GET /api/v1/deletions)");
  });
}

}  // namespace sightline::cli
