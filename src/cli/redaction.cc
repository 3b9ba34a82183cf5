// `sightline redaction check FILE`: parses and compiles a redaction policy file as the
// server would (docs/redaction.md) and prints the effective rules per project; exit 0,
// or 2 with the file and line of the first problem (never quoting the file).
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "common/env.h"
#include "pipeline/redaction_describe.h"

namespace sightline::cli {

void RegisterRedaction(CLI::App& app, CommandContext& ctx) {
  auto* cmd = app.add_subcommand("redaction", "Check a redaction policy file");
  cmd->require_subcommand(1);
  auto file = std::make_shared<std::string>();
  auto* check = cmd->add_subcommand("check", "Parse and compile FILE; print the effective rules per project");
  check->add_option("FILE", *file, "The policy file (redaction.toml)")->required();
  check->add_flag("--json", ctx.json, "Machine-readable JSON output");
  check->callback([&ctx, file]() {
    auto text = ReadFileToString(Env::Default(), *file);
    if (!text.ok()) {
      std::fprintf(stderr, "sightline redaction check: %s\n", text.status().message().c_str());
      ctx.exit_code = 2;
      return;
    }
    namespace r = pipeline::redaction;
    auto spec = r::ParsePolicy(*text, *file);
    Result<std::shared_ptr<const r::Policy>> policy =
        spec.ok() ? r::Policy::Compile(*spec, std::string(32, '\0'), *file)
                  : Result<std::shared_ptr<const r::Policy>>(spec.status());
    if (!policy.ok()) {
      std::fprintf(stderr, "sightline redaction check: %s\n", policy.status().message().c_str());
      ctx.exit_code = 2;
      return;
    }
    if (ctx.json) {
      std::printf("%s\n", r::DescribePolicyJson(**policy).c_str());
    } else {
      std::printf("%s: OK\n%s", file->c_str(), r::DescribePolicyText(**policy).c_str());
    }
    ctx.exit_code = 0;
  });
}

}  // namespace sightline::cli
