// libFuzzer target: the price catalogue file (pipeline/pricing.h, DATA/pricing.toml).
// Any bytes either parse into models or give an error that names the file; a parsed
// catalogue prices a model call without crashing.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "pipeline/pricing.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sightline::pipeline;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto models = Catalogue::Parse(text, "pricing.toml");
  if (!models.ok()) {
    if (models.status().message().rfind("pricing.toml", 0) != 0) __builtin_trap();
    return 0;
  }
  Usage u;
  u.input = 1000;
  u.output = 500;
  u.cache_read = 100;
  u.cache_write = 10;
  u.reasoning = 50;
  for (const ModelPricing& m : *models) (void)CostOf(m, u, 1'760'000'000'000'000'000);
  Catalogue catalogue(std::move(models).value());
  (void)catalogue.Find("openai", "gpt-4o");
  (void)catalogue.Find("", std::string(text.substr(0, 64)));
  return 0;
}
