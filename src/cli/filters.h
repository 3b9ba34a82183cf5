// The search filters shared by `traces`, `tail` and `export`: one flag per SPEC search
// parameter, turned into the query string of GET /api/v1/traces.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "common/status.h"

namespace sightline::cli {

struct TraceFilters {
  std::string from, to, since;
  std::string project, service, agent, session, user, status, kind, name, model, tool, query;
  std::optional<int64_t> min_duration_ms, max_duration_ms;
  std::optional<double> min_cost;
  std::vector<std::string> attrs;  // KEY=VALUE
  std::optional<int> limit;
  std::string cursor;
};

// Adds --from, --to, --since, --project, --service, --agent, --session, --user,
// --status, --kind, --name, --model, --tool, --min-duration-ms, --max-duration-ms,
// --min-cost, --attr (repeatable), -q/--query, --limit, --cursor to cmd.
// with_paging=false leaves out --limit and --cursor (tail).
void AddTraceFilterOptions(CLI::App* cmd, TraceFilters* f, bool with_paging = true);

// Query parameters for the filters. InvalidArgument (a usage error) for a malformed
// --attr, --since, --from/--to, --status or --kind. now_ns resolves --since.
Result<std::vector<std::pair<std::string, std::string>>> FilterParams(const TraceFilters& f, int64_t now_ns);

// "1h", "30m", "2d", "45s", "500ms" -> nanoseconds; nullopt when malformed.
std::optional<int64_t> ParseSince(std::string_view text);

}  // namespace sightline::cli
