// `sightline reprice --from T --to T`: recompute the cost of the stored spans of a
// period from the pricing catalogue in force (docs/pricing.md "Repricing a period").
// The server owns the data, so this asks it (POST /api/v1/admin/reprice) and follows
// the job (GET /api/v1/admin/reprice) with a progress bar on a terminal, then prints
// what changed. A date alone is a whole day: --from 2026-03-01 --to 2026-03-31 covers
// March. Exit status 1 when the reprice fails (the files done stay repriced; running
// it again finishes the rest).
#include <chrono>
#include <cstdio>
#include <thread>

#include "cli/client_common.h"
#include "cli/http_client.h"
#include "cli/json_util.h"
#include "cli/progress.h"
#include "cli/terminal.h"
#include "common/time_util.h"

namespace sightline::cli {
namespace {

bool DateOnly(const std::string& s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}

uint64_t Num(const rapidjson::Value& o, const char* k) {
  return o.HasMember(k) && o[k].IsUint64() ? o[k].GetUint64() : 0;
}
double Dbl(const rapidjson::Value& o, const char* k) { return o.HasMember(k) && o[k].IsNumber() ? o[k].GetDouble() : 0; }
std::string Txt(const rapidjson::Value& o, const char* k) {
  return o.HasMember(k) && o[k].IsString() ? std::string(o[k].GetString()) : "";
}

}  // namespace

void RegisterReprice(CLI::App& app, CommandContext& ctx) {
  struct Args {
    std::string from, to;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "reprice", "Recompute the cost of stored spans of a period from the pricing catalogue in force");
  cmd->add_option("--from", a->from, "Spans starting at or after this time (RFC 3339, Unix ms, or a date)")->required();
  cmd->add_option("--to", a->to, "Spans starting at or before this time (a date: through its end)")->required();
  AddClientOptions(cmd, ctx);
  cmd->callback([&ctx, a]() {
    std::string from = a->from, to = a->to;
    if (DateOnly(to)) to += "T23:59:59.999999999Z";
    for (auto [flag, value] : {std::pair{"--from", &from}, std::pair{"--to", &to}})
      if (!ParseTimeParam(*value))
        return ReportUsageError(ctx, "reprice",
                                Status::InvalidArgument(std::string(flag) + " '" + *value +
                                                        "': expected RFC 3339, Unix milliseconds or YYYY-MM-DD"));
    if (*ParseTimeParam(from) > *ParseTimeParam(to))
      return ReportUsageError(ctx, "reprice", Status::InvalidArgument("--from is after --to"));
    auto client = MakeClient(ctx);
    if (!client.ok()) return ReportUsageError(ctx, "reprice", client.status());
    const std::string target = "/api/v1/admin/reprice?from=" + UrlEncode(from) + "&to=" + UrlEncode(to);
    auto r = (*client)->Request("POST", target, "", {{"x-sightline-actor", "cli"}});
    if (!r.ok()) return ReportFailure(ctx, "reprice", r.status());
    if (r->status != 202)
      return ReportFailure(ctx, "reprice",
                           Status::Internal(ErrorMessageFromResponse(*r) + " (HTTP " + std::to_string(r->status) + ")"));
    rapidjson::Document doc;
    if (Status st = ParseJson(r->body, &doc, "reprice answer");
        !st.ok() || !doc.IsObject() || !doc.HasMember("reprice") || !doc["reprice"].IsObject())
      return ReportFailure(ctx, "reprice", Status::Internal("the server's answer is not a reprice job"));
    const uint64_t id = Num(doc["reprice"], "id");
    Progress progress("reprice", 0, IsTerminal(stderr) && !ctx.json, "files");
    for (;;) {
      const auto& j = doc["reprice"];
      if (Num(j, "id") != id)
        return ReportFailure(ctx, "reprice", Status::Internal("another reprice replaced this one on the server"));
      progress.SetTotal(static_cast<int64_t>(Num(j, "segments_total")));
      progress.Update(static_cast<int64_t>(Num(j, "segments_done")), static_cast<int64_t>(Num(j, "spans_repriced")),
                      "spans repriced");
      if (Txt(j, "state") != "running") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      if (Status st = GetJson(**client, "/api/v1/admin/reprice", "reprice job", &doc); !st.ok())
        return ReportFailure(ctx, "reprice", st);
      if (!doc.IsObject() || !doc.HasMember("reprice") || !doc["reprice"].IsObject())
        return ReportFailure(ctx, "reprice", Status::Internal("the server's answer is not a reprice job"));
    }
    progress.Finish();
    const auto& j = doc["reprice"];
    if (ctx.json) std::printf("%s\n", PrettyJson(doc).c_str());
    if (Txt(j, "state") != "done")
      return ReportFailure(ctx, "reprice", Status::Internal("failed after " + std::to_string(Num(j, "segments_done")) +
                                                            " of " + std::to_string(Num(j, "segments_total")) +
                                                            " files (run it again to finish): " + Txt(j, "error")));
    if (ctx.json) return;
    std::printf("repriced %s .. %s: %llu spans examined, %llu repriced in %llu of %llu files; cost %.6f -> %.6f USD\n",
                Txt(j, "from").c_str(), Txt(j, "to").c_str(), static_cast<unsigned long long>(Num(j, "spans_examined")),
                static_cast<unsigned long long>(Num(j, "spans_repriced")),
                static_cast<unsigned long long>(Num(j, "segments_rewritten")),
                static_cast<unsigned long long>(Num(j, "segments_total")), Dbl(j, "cost_before_usd"),
                Dbl(j, "cost_after_usd"));
  });
}

}  // namespace sightline::cli
