// libFuzzer target: the redaction policy file (pipeline/redaction_policy.h). Any bytes
// either parse or give an error that names the file; a policy with custom patterns is
// compiled (hostile patterns must give an error, never a crash) and then redacts the
// input itself, so odd matches over odd bytes run too.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "pipeline/redaction.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sightline::pipeline::redaction;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto spec = ParsePolicy(text, "redaction.toml");
  if (!spec.ok()) {
    if (spec.status().message().rfind("redaction.toml:", 0) != 0) __builtin_trap();
    return 0;
  }
  bool custom = !spec->defaults.custom.empty();
  for (const auto& entry : spec->projects) custom |= !entry.second.custom.empty();
  if (!custom || size > 4096) return 0;  // compiling the built-in set alone teaches nothing new
  auto policy = Policy::Compile(*spec, std::string(32, 'k'), "redaction.toml");
  if (!policy.ok()) {
    if (policy.status().message().rfind("redaction.toml:", 0) != 0) __builtin_trap();
    return 0;
  }
  const ProjectPolicy& p = (*policy)->For("default");
  std::string sample(text);
  Counts counts;
  if (p.RedactText(&sample, p.HmacKeyFor("default"), &counts) == ProjectPolicy::Outcome::kUnchanged &&
      sample != text)
    __builtin_trap();
  return 0;
}
