// libFuzzer target: sightline.toml (cli/config.h). Any bytes either give a
// configuration or an error that names the file.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "cli/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto cfg = sightline::cli::ParseServerConfigText(text, "sightline.toml");
  if (!cfg.ok() && cfg.status().message().find("sightline.toml") == std::string::npos) __builtin_trap();
  return 0;
}
