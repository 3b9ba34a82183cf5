// `sightline retention`: prints the retention plan of a data directory: per time
// partition and project, what the segments hold now and what goes when under the
// configured policy ([retention] of sightline.toml, docs/retention.md). Reads the
// files directly (no server needed, safe beside a running one).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "cli/commands.h"
#include "cli/config.h"
#include "cli/sampling_source.h"
#include "common/env.h"
#include "store/retention/retention_plan.h"

namespace sightline::cli {
namespace {

using store::retention::Fate;
using store::retention::FormatTime;
using store::retention::kForever;

std::string Days(int64_t d) { return d == kForever ? "forever" : std::to_string(d) + "d"; }

std::string Bytes(uint64_t b) {
  char buf[32];
  if (b >= (uint64_t{1} << 30)) {
    std::snprintf(buf, sizeof(buf), "%.1f GiB", static_cast<double>(b) / (1 << 30));
  } else if (b >= (uint64_t{1} << 20)) {
    std::snprintf(buf, sizeof(buf), "%.1f MiB", static_cast<double>(b) / (1 << 20));
  } else {
    std::snprintf(buf, sizeof(buf), "%.1f KiB", static_cast<double>(b) / 1024);
  }
  return buf;
}

// "spans until 2024-05-09, summary until 2024-06-01" / "kept forever".
std::string When(const std::vector<store::retention::Transition>& t) {
  if (t.empty()) return "kept whole forever";
  std::string out;
  for (const auto& x : t) {
    if (!out.empty()) out += ", ";
    out += (x.fate == Fate::kSummary ? "spans go " : "gone ") + FormatTime(x.at_ns);
  }
  if (t.back().fate == Fate::kSummary) out += ", summary kept forever";
  return out;
}

// The policy of each project: the default, then each override (docs/retention.md
// "Per-project plan"): spans of successes, of failures, summaries, rollups (kept as long
// as the longest of the three), and tail sampling's share (docs/sampling.md; from
// DATA/sampling.toml while it exists, else [sampling]).
struct PolicyRow {
  std::string project;  // "" for the default
  store::retention::RetentionPolicy r;
  int64_t failed_days = kForever;  // spans of failed traces: never less than full_days
  int64_t rollup_days = kForever;
  double keep_fraction = 1.0;
};

std::vector<PolicyRow> Policies(const store::retention::RetentionOptions& o, const store::sampling::SamplingOptions& so) {
  std::vector<std::string> names = {""};
  for (const auto& [name, p] : o.projects) names.push_back(name);
  for (const auto& [name, p] : so.projects)
    if (!o.projects.count(name)) names.push_back(name);
  std::vector<PolicyRow> out;
  for (const auto& n : names) {
    PolicyRow row;
    row.project = n;
    row.r = n.empty() ? o.default_policy : o.For(n);
    row.failed_days = (row.r.failed_days == kForever || row.r.full_days == kForever)
                          ? kForever
                          : std::max(row.r.failed_days, row.r.full_days);
    row.rollup_days = 0;
    for (int64_t d : {row.r.full_days, row.r.failed_days, row.r.summary_days})
      row.rollup_days = (d == kForever || row.rollup_days == kForever) ? kForever : std::max(row.rollup_days, d);
    row.keep_fraction = n.empty() ? so.defaults.keep_fraction : so.For(n).keep_fraction;
    out.push_back(row);
  }
  return out;
}

std::string Sampling(double f) {
  if (f >= 1.0) return "off (all kept)";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%g%% of sessions", f * 100);
  return buf;
}

void PrintJson(const store::retention::RetentionPlan& plan, const std::vector<PolicyRow>& policies) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  auto transitions = [&](const char* key, const std::vector<store::retention::Transition>& t) {
    w.Key(key);
    w.StartArray();
    for (const auto& x : t) {
      w.StartObject();
      w.Key("at");
      w.String(FormatTime(x.at_ns).c_str());
      w.Key("at_ns");
      w.Int64(x.at_ns);
      w.Key("becomes");
      w.String(store::retention::FateName(x.fate));
      w.EndObject();
    }
    w.EndArray();
  };
  w.StartObject();
  w.Key("policies");
  w.StartArray();
  for (const auto& p : policies) {
    w.StartObject();
    w.Key("project");
    w.String(p.project.empty() ? "(default)" : p.project.c_str());
    auto days = [&](const char* k, int64_t d) {
      w.Key(k);
      if (d == kForever) {
        w.String("forever");
      } else {
        w.Int64(d);
      }
    };
    days("full_days", p.r.full_days);
    days("failed_days", p.failed_days);
    days("summary_days", p.r.summary_days);
    days("rollup_days", p.rollup_days);
    w.Key("sampling_keep_fraction");
    w.Double(p.keep_fraction);
    w.EndObject();
  }
  w.EndArray();
  w.Key("partitions");
  w.StartArray();
  for (const auto& p : plan.partitions) {
    w.StartObject();
    w.Key("start");
    w.String(FormatTime(p.start_ns).c_str());
    w.Key("end");
    w.String(FormatTime(p.end_ns).c_str());
    w.Key("files");
    w.Int64(p.files);
    w.Key("bytes");
    w.Uint64(p.bytes);
    w.Key("projects");
    w.StartArray();
    for (const auto& pr : p.projects) {
      w.StartObject();
      w.Key("project");
      w.String(pr.project.c_str());
      w.Key("traces");
      w.Int64(pr.traces);
      w.Key("failed_traces");
      w.Int64(pr.failed);
      w.Key("summary_only_traces");
      w.Int64(pr.summaries_only);
      w.Key("spans");
      w.Int64(pr.spans);
      transitions("successful", pr.ok_transitions);
      transitions("failed", pr.failed_transitions);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.Key("problems");
  w.StartArray();
  for (const auto& p : plan.problems) w.String(p.c_str());
  w.EndArray();
  w.EndObject();
  std::printf("%s\n", sb.GetString());
}

void PrintText(const store::retention::RetentionPlan& plan, const store::retention::RetentionOptions& o,
               const std::vector<PolicyRow>& policies) {
  const auto& d = o.default_policy;
  std::printf("policy: spans %s (failed and interrupted %s), summaries until %s; %zu project override(s)\n",
              Days(d.full_days).c_str(), Days(d.failed_days).c_str(), Days(d.summary_days).c_str(),
              o.projects.size());
  std::printf("\n%-20s %-10s %-10s %-10s %-10s %s\n", "project", "successes", "failures", "summaries", "rollups",
              "sampling");
  for (const auto& p : policies) {
    const int64_t failed = p.failed_days;
    std::printf("%-20s %-10s %-10s %-10s %-10s %s\n", p.project.empty() ? "(default)" : p.project.c_str(),
                Days(p.r.full_days).c_str(), Days(failed).c_str(), Days(p.r.summary_days).c_str(),
                Days(p.rollup_days).c_str(), Sampling(p.keep_fraction).c_str());
  }
  std::printf("successes / failures: full detail (spans, payloads); then the summary until \"summaries\"; rollups\n"
              "(per-minute, hourly, daily totals) until \"rollups\"\n\n");
  std::printf("ages count from the end of each partition; spans still in the WAL are not shown\n\n");
  if (plan.partitions.empty()) std::printf("no segment files yet\n");
  for (const auto& p : plan.partitions) {
    std::printf("%s .. %s  %lld file(s), %s\n", FormatTime(p.start_ns).c_str(), FormatTime(p.end_ns).c_str(),
                static_cast<long long>(p.files), Bytes(p.bytes).c_str());
    for (const auto& pr : p.projects) {
      std::printf("  %-20s %8lld traces (%lld failed, %lld summary only), %lld spans\n", pr.project.c_str(),
                  static_cast<long long>(pr.traces), static_cast<long long>(pr.failed),
                  static_cast<long long>(pr.summaries_only), static_cast<long long>(pr.spans));
      std::printf("  %-20s   successful: %s\n", "", When(pr.ok_transitions).c_str());
      std::printf("  %-20s   failed:     %s\n", "", When(pr.failed_transitions).c_str());
    }
  }
  for (const auto& p : plan.problems) std::printf("could not read: %s\n", p.c_str());
}

}  // namespace

void RegisterRetention(CLI::App& app, CommandContext& ctx) {
  auto* cmd = app.add_subcommand("retention", "Show what the data directory holds and what retention removes when");
  auto data = std::make_shared<std::string>();
  auto config_path = std::make_shared<std::string>();
  cmd->add_option("--data", *data, "Data directory (env SIGHTLINE_DATA; default ./sightline-data)");
  cmd->add_option("--config", *config_path, "TOML config file with [retention] (env SIGHTLINE_CONFIG; default ./sightline.toml)");
  cmd->add_flag("--json", ctx.json, "Machine-readable JSON output");
  cmd->callback([&ctx, data, config_path]() {
    ConfigSources sources;
    if (!data->empty()) sources.flags["data"] = *data;
    sources.getenv = [](const std::string& name) -> std::optional<std::string> {
      const char* v = std::getenv(name.c_str());
      if (v == nullptr || *v == '\0') return std::nullopt;
      return std::string(v);
    };
    sources.config_path = *config_path;
    if (sources.config_path.empty()) {
      if (const char* c = std::getenv("SIGHTLINE_CONFIG"); c != nullptr && *c != '\0') sources.config_path = c;
    }
    auto cfg = LoadServerConfig(sources);
    if (!cfg.ok()) {
      std::fprintf(stderr, "sightline retention: %s\n", cfg.status().message().c_str());
      ctx.exit_code = 2;
      return;
    }
    auto plan = store::retention::BuildRetentionPlan(Env::Default(), cfg->data, cfg->retention);
    if (!plan.ok()) {
      std::fprintf(stderr, "sightline retention: %s\n", plan.status().ToString().c_str());
      ctx.exit_code = 1;
      return;
    }
    // The sampling policy in force: DATA/sampling.toml while it exists (docs/sampling.md).
    SamplingSource::Options smo;
    smo.file = JoinPath(cfg->data, "sampling.toml");
    smo.base = cfg->sampling;
    smo.logger = [](const std::string&) {};
    auto sampling = SamplingSource::Create(smo);
    if (!sampling.ok()) {
      std::fprintf(stderr, "sightline retention: %s\n", sampling.status().message().c_str());
      ctx.exit_code = 2;
      return;
    }
    auto policies = Policies(cfg->retention, (*sampling)->policy());
    if (ctx.json) {
      PrintJson(*plan, policies);
    } else {
      PrintText(*plan, cfg->retention, policies);
    }
    ctx.exit_code = plan->problems.empty() ? 0 : 1;
  });
}

}  // namespace sightline::cli
