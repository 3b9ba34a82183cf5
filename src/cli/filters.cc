#include "cli/filters.h"

#include <charconv>

#include "common/time_util.h"
#include "model/span.h"

namespace sightline::cli {

void AddTraceFilterOptions(CLI::App* cmd, TraceFilters* f, bool with_paging) {
  cmd->add_option("--from", f->from, "Traces overlapping this time or later (RFC 3339 or Unix ms)");
  cmd->add_option("--to", f->to, "Traces starting at or before this time (RFC 3339 or Unix ms)");
  cmd->add_option("--since", f->since, "Shorthand for --from: a duration back from now (30s, 15m, 1h, 2d)");
  cmd->add_option("--project", f->project, "Project");
  cmd->add_option("--service", f->service, "Service (resource service.name)");
  cmd->add_option("--agent", f->agent, "Agent name (any span of the trace)");
  cmd->add_option("--session", f->session, "Session id");
  cmd->add_option("--user", f->user, "User id");
  cmd->add_option("--status", f->status, "Trace status: ok, error, interrupt, unset");
  cmd->add_option("--kind", f->kind, "Span kind present: agent, llm, tool, retrieval, ...");
  cmd->add_option("--name", f->name, "Span name present");
  cmd->add_option("--model", f->model, "Model used by some span");
  cmd->add_option("--tool", f->tool, "Tool called by some span");
  cmd->add_option("--min-duration-ms", f->min_duration_ms, "Minimum trace duration, milliseconds");
  cmd->add_option("--max-duration-ms", f->max_duration_ms, "Maximum trace duration, milliseconds");
  cmd->add_option("--min-cost", f->min_cost, "Minimum trace cost, USD");
  cmd->add_option("--attr", f->attrs, "Span attribute KEY=VALUE (repeatable)")->allow_extra_args(false);
  cmd->add_option("-q,--query", f->query, "Text in span inputs or outputs");
  if (with_paging) {
    cmd->add_option("--limit", f->limit, "Traces per page (default 50, max 1000)");
    cmd->add_option("--cursor", f->cursor, "Continue from a previous page's next_cursor");
  }
}

std::optional<int64_t> ParseSince(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  if (i == 0) return std::nullopt;
  int64_t n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + i, n);
  if (ec != std::errc()) return std::nullopt;
  std::string_view unit = text.substr(i);
  int64_t mul = unit == "ms" ? 1000000LL
                : unit == "s" || unit.empty() ? 1000000000LL
                : unit == "m" ? 60000000000LL
                : unit == "h" ? 3600000000000LL
                : unit == "d" ? 86400000000000LL
                              : 0;
  if (mul == 0 || n > INT64_MAX / mul) return std::nullopt;
  return n * mul;
}

Result<std::vector<std::pair<std::string, std::string>>> FilterParams(const TraceFilters& f, int64_t now_ns) {
  std::vector<std::pair<std::string, std::string>> p;
  auto add = [&p](const char* k, const std::string& v) {
    if (!v.empty()) p.emplace_back(k, v);
  };
  if (!f.from.empty() && !f.since.empty()) return Status::InvalidArgument("--from and --since cannot both be given");
  for (auto [flag, value] : {std::pair{"--from", &f.from}, std::pair{"--to", &f.to}}) {
    if (!value->empty() && !ParseTimeParam(*value))
      return Status::InvalidArgument(std::string(flag) + " '" + *value +
                                     "': expected RFC 3339 (2026-03-23T17:42:11Z) or Unix milliseconds");
  }
  add("from", f.from);
  if (!f.since.empty()) {
    auto d = ParseSince(f.since);
    if (!d) return Status::InvalidArgument("--since '" + f.since + "': expected a duration such as 30s, 15m, 1h, 2d");
    p.emplace_back("from", std::to_string((now_ns - *d) / 1000000));
  }
  add("to", f.to);
  add("project", f.project);
  add("service", f.service);
  add("agent", f.agent);
  add("session_id", f.session);
  add("user_id", f.user);
  if (!f.status.empty() && !model::ParseStatus(f.status))
    return Status::InvalidArgument("--status '" + f.status + "': expected ok, error, interrupt or unset");
  add("status", f.status);
  if (!f.kind.empty() && !model::ParseKind(f.kind))
    return Status::InvalidArgument("--kind '" + f.kind +
                                   "': expected agent, llm, tool, retrieval, embedding, rerank, guardrail, "
                                   "evaluator, memory, chain, human or other");
  add("kind", f.kind);
  add("name", f.name);
  add("model", f.model);
  add("tool", f.tool);
  if (f.min_duration_ms) p.emplace_back("min_duration_ms", std::to_string(*f.min_duration_ms));
  if (f.max_duration_ms) p.emplace_back("max_duration_ms", std::to_string(*f.max_duration_ms));
  if (f.min_cost) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.10g", *f.min_cost);
    p.emplace_back("min_cost_usd", buf);
  }
  for (const std::string& a : f.attrs) {
    auto eq = a.find('=');
    if (eq == std::string::npos || eq == 0)
      return Status::InvalidArgument("--attr '" + a + "': expected KEY=VALUE");
    p.emplace_back("attr." + a.substr(0, eq), a.substr(eq + 1));
  }
  add("q", f.query);
  if (f.limit) {
    if (*f.limit < 1 || *f.limit > 1000) return Status::InvalidArgument("--limit must be between 1 and 1000");
    p.emplace_back("limit", std::to_string(*f.limit));
  }
  add("cursor", f.cursor);
  return p;
}

}  // namespace sightline::cli
