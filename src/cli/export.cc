// `sightline export [filters] [-o FILE]`: pages through the search API and writes each
// matching trace as one JSON line: an OTLP ExportTraceServiceRequest (--format otlp,
// the default; `sightline import` takes it back, see otlp_mapping.h for what is kept)
// or the API's canonical spans, one per line (--format spans).
#include <cstdio>
#include <cstring>

#include "cli/client_common.h"
#include "cli/filters.h"
#include "cli/json_util.h"
#include "cli/otlp_mapping.h"
#include "cli/progress.h"
#include "cli/terminal.h"

namespace sightline::cli {
namespace {

struct ExportArgs {
  TraceFilters filters;
  std::string output;  // "" or "-": stdout
  std::string format = "otlp";
};

// The span's full form: the trace answer may shorten payloads or leave attributes out
// (then the span endpoint has them).
bool NeedsFullSpan(const JsonValue& span) {
  return Member(span, "attributes") == nullptr || HasTruncatedValue(span);
}

void RunExport(CommandContext& ctx, const ExportArgs& a) {
  if (a.format != "otlp" && a.format != "spans")
    return ReportUsageError(ctx, "export", Status::InvalidArgument("--format must be otlp or spans"));
  TraceFilters f = a.filters;
  std::optional<int> max_traces = f.limit;  // for export, --limit caps the total
  f.limit.reset();
  auto params = FilterParams(f, NowNs());
  if (!params.ok()) return ReportUsageError(ctx, "export", params.status());
  if (max_traces && *max_traces < 1)
    return ReportUsageError(ctx, "export", Status::InvalidArgument("--limit must be at least 1"));
  auto client = MakeClient(ctx);
  if (!client.ok()) return ReportUsageError(ctx, "export", client.status());

  bool to_stdout = a.output.empty() || a.output == "-";
  std::FILE* out = to_stdout ? stdout : std::fopen(a.output.c_str(), "wb");
  if (out == nullptr) return ReportFailure(ctx, "export", Status::IOError(a.output + ": " + std::strerror(errno)));
  // Progress goes to stderr; when the lines go to a terminal too, it would mix in.
  Progress progress("export", 0, IsTerminal(stderr) && !(to_stdout && IsTerminal(stdout)));
  int64_t traces = 0, spans = 0, bytes = 0;
  Status failure;
  std::string cursor = f.cursor;
  bool done = false;
  while (!done && failure.ok()) {
    auto p = *params;
    std::erase_if(p, [](const auto& kv) { return kv.first == "cursor"; });
    int page = 200;
    if (max_traces) page = std::min<int64_t>(page, *max_traces - traces);
    p.emplace_back("limit", std::to_string(page));
    if (!cursor.empty()) p.emplace_back("cursor", cursor);
    rapidjson::Document list;
    failure = GetJson(**client, "/api/v1/traces" + QueryString(p), "trace search", &list);
    if (!failure.ok()) break;
    const JsonValue* ts = Member(list, "traces");
    if (ts != nullptr && ts->IsArray()) {
      for (const auto& t : ts->GetArray()) {
        std::string id = Str(t, "trace_id");
        rapidjson::Document detail;
        failure = GetJson(**client, "/api/v1/traces/" + UrlEncode(id), "trace " + id, &detail, kExportHeaders);
        if (failure.code() == StatusCode::kNotFound) {  // removed by retention meanwhile
          failure = Status::OK();
          continue;
        }
        if (!failure.ok()) break;
        JsonValue* sp = detail.IsObject() && detail.HasMember("spans") ? &detail["spans"] : nullptr;
        if (sp == nullptr || !sp->IsArray()) {
          failure = Status::Internal("trace " + id + ": the answer has no spans array");
          break;
        }
        for (auto& s : sp->GetArray()) {
          if (!NeedsFullSpan(s)) continue;
          std::string span_id = Str(s, "span_id");
          rapidjson::Document one;
          Status st = GetJson(**client, "/api/v1/traces/" + UrlEncode(id) + "/spans/" + UrlEncode(span_id),
                              "span " + span_id + " of trace " + id, &one, kExportHeaders);
          if (!st.ok()) continue;  // keep the shortened form
          JsonValue* full = one.IsObject() && one.HasMember("span") ? &one["span"] : &one;
          if (full->IsObject()) s.CopyFrom(*full, detail.GetAllocator());
        }
        std::string lines;
        if (a.format == "otlp") {
          auto req = TraceAnswerToOtlp(detail);
          if (!req.ok()) {
            failure = req.status().WithContext("trace " + id);
            break;
          }
          lines = ingest::EncodeOtlpJson(*req) + "\n";
        } else {
          for (const auto& s : sp->GetArray()) lines += ToJson(s) + "\n";
        }
        if (std::fwrite(lines.data(), 1, lines.size(), out) != lines.size()) {
          failure = Status::IOError((to_stdout ? std::string("standard output") : a.output) + ": write failed: " +
                                    std::strerror(errno));
          break;
        }
        ++traces;
        spans += sp->Size();
        bytes += static_cast<int64_t>(lines.size());
        progress.Update(bytes, traces, "traces");
        if (max_traces && traces >= *max_traces) break;
      }
    }
    cursor = Str(list, "next_cursor");
    done = cursor.empty() || (max_traces && traces >= *max_traces);
  }
  progress.Finish();
  bool write_ok = std::fflush(out) == 0;
  if (!to_stdout) write_ok = std::fclose(out) == 0 && write_ok;
  if (failure.ok() && !write_ok)
    failure = Status::IOError((to_stdout ? std::string("standard output") : a.output) + ": " + std::strerror(errno));
  if (!failure.ok()) {
    std::fprintf(stderr, "sightline export: stopped after %lld traces\n", static_cast<long long>(traces));
    return ReportFailure(ctx, "export", failure);
  }
  std::fprintf(stderr, "exported %lld traces (%lld spans) from %s%s%s\n", static_cast<long long>(traces),
               static_cast<long long>(spans), (*client)->base().ToString().c_str(), to_stdout ? "" : " to ",
               to_stdout ? "" : a.output.c_str());
}

}  // namespace

void RegisterExport(CLI::App& app, CommandContext& ctx) {
  auto args = std::make_shared<ExportArgs>();
  auto* cmd = app.add_subcommand(
      "export", "Write matching traces as JSON Lines: OTLP requests (importable) or canonical spans");
  AddTraceFilterOptions(cmd, &args->filters);
  cmd->get_option("--limit")->description("Most traces to export (default: all that match)");
  cmd->add_option("-o,--output", args->output, "Output file (default: standard output)");
  cmd->add_option("--format", args->format, "otlp (default: one ExportTraceServiceRequest per trace) or spans")
      ->check(CLI::IsMember({"otlp", "spans"}));
  AddClientOptions(cmd, ctx);
  cmd->callback([&ctx, args]() { RunExport(ctx, *args); });
}

}  // namespace sightline::cli
