// Pricing: Sightline's model price catalogue and the cost it computes at ingest.
//
// A catalogue is parsed from TOML (data/pricing.toml ships inside the binary; users add
// and override models in DATA_DIR/pricing.toml, read first so its models match first).
// A model id resolves to the first catalogue model whose `match` regular expression
// matches the whole id (lowercased, any "provider/" prefix removed), preferring a model
// of the span's own provider; its price is the dated entry in force at the span's start,
// with tiers by input size. docs/pricing.md is the user-facing description.
//
// Cost rules (CostOf): input tokens, cache reads, cache writes, output and reasoning
// tokens each at their price per million; a cache price that is not given bills those
// tokens at the input price; reasoning is billed apart only when priced apart (it is
// then taken out of the output count, which includes it).
//
// Thread-safety: a Catalogue is immutable after Parse and safe to share; its lookup
// cache is internally synchronised. PricingService may be used from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/env.h"
#include "common/metrics.h"
#include "common/status.h"
#include "model/span.h"
#include "pipeline/live_file.h"

namespace sightline::pipeline {

// USD per million tokens. A missing price is nullopt.
struct TokenPrices {
  double input = 0;
  double output = 0;
  std::optional<double> cache_read, cache_write, reasoning;
};

struct PriceTier {
  int64_t above_input_tokens = 0;
  TokenPrices prices;
};

struct PricePoint {
  int64_t from_ns = 0;  // UTC midnight of `from`
  std::string from;     // as written
  TokenPrices prices;
  std::vector<PriceTier> tiers;  // ascending above_input_tokens
};

struct ModelPricing {
  std::string id;        // "openai/gpt-4o"
  std::string provider;  // "openai"
  std::string match;     // the regular expression as written
  bool input_includes_cache_read = true;
  std::vector<PricePoint> prices;  // ascending from_ns
  std::string origin;              // "data/pricing.toml" or the user file's path
  std::regex re;

  // The price point in force at `at_ns` (the earliest one before any took effect).
  const PricePoint& PriceAt(int64_t at_ns) const;
};

struct Usage {
  int64_t input = 0, output = 0, cache_read = 0, cache_write = 0, reasoning = 0;
};

// The cost in USD of `u` under `m`'s prices at `at_ns`.
double CostOf(const ModelPricing& m, const Usage& u, int64_t at_ns);

// The id as catalogue patterns see it: lowercased, text up to the last '/' removed.
std::string NormalizeModelId(std::string_view model);

class Catalogue {
 public:
  // Parses one TOML document. origin names it in errors ("pricing.toml: model 3
  // (openai/gpt-4o): price 2: `from` must be YYYY-MM-DD").
  static Result<std::vector<ModelPricing>> Parse(std::string_view toml_text, const std::string& origin);

  // Models are tried in order (user models first, then shipped ones).
  explicit Catalogue(std::vector<ModelPricing> models) : models_(std::move(models)) {}

  // The model that prices (provider, model), or null. Results are cached per id.
  const ModelPricing* Find(std::string_view provider, std::string_view model) const;
  const std::vector<ModelPricing>& models() const { return models_; }

 private:
  std::vector<ModelPricing> models_;
  mutable std::mutex cache_mu_;
  mutable std::unordered_map<std::string, int> cache_;  // provider '\0' model -> index or -1
};

// Reprices one stored span against cat (`sightline reprice`, docs/pricing.md): a model
// call the catalogue prices gets computed_cost_usd, and cost_usd with cost_source
// computed unless its cost was reported; one it no longer prices loses its computed
// cost (and a computed cost_usd, becoming unknown). Other spans are left alone.
// Returns true when any cost field changed.
bool RepriceSpan(const Catalogue& cat, model::Span* span);

// The shipped catalogue's text (data/pricing.toml, embedded at build time).
std::string_view ShippedPricingToml();

struct UnpricedModel {
  std::string provider, model;
  int64_t spans = 0;
};

// PricingService: prices spans at ingest against the shipped catalogue plus the user's
// file, which it re-reads (at most every reload_interval) when its content changed, so
// an edit applies without a restart. A user file that does not parse is reported
// (last_error, the logger once per distinct bad content, the reload-error counter) and
// the previous catalogue stays in force.
//
// Metrics (when a registry is given): sightline_spans_priced_total,
// sightline_spans_unpriced_total, sightline_pricing_reload_errors_total,
// sightline_pricing_last_reload_successful.
class PricingService {
 public:
  struct Options {
    Env* env = Env::Default();
    std::string user_file;  // DATA_DIR/pricing.toml; empty: shipped catalogue only
    int64_t reload_interval_ms = 2000;
    size_t max_unpriced_models = 1000;  // past it, further models count under "other"
    MetricsRegistry* metrics = nullptr;  // null: no metrics; must outlive the service
    // Reports reloads after start-up (a new catalogue, a refused edit); null: silent.
    std::function<void(const std::string&)> logger = nullptr;
  };
  // Fails when the shipped catalogue or the user file does not parse.
  static Result<std::unique_ptr<PricingService>> Create(Options options);

  // Sets cost fields of every LLM, embedding and rerank span that carries a model and
  // token counts: computed_cost_usd always; cost_usd and cost_source=computed unless
  // the client reported a cost (reported wins). Counts spans whose model has no price.
  void Apply(std::vector<model::Span>* spans);
  void Apply(model::SpanList* spans);

  // Re-reads the user file now if it changed. OK when it parsed (or is absent).
  Status Reload();
  // Reload() when reload_interval has passed since the last check; cheap otherwise.
  // Apply calls it; a server also calls it on a timer so edits are seen (and bad ones
  // logged) without traffic.
  void MaybeReload();
  std::shared_ptr<const Catalogue> catalogue() const;
  std::vector<UnpricedModel> Unpriced() const;
  int64_t unpriced_spans() const { return unpriced_total_.load(std::memory_order_relaxed); }
  Status last_error() const;

 private:
  template <typename Spans>
  void ApplyTo(Spans* spans);

  explicit PricingService(Options options) : opts_(std::move(options)) {}
  Status ReadUserFile(std::string* text) const;
  // Records a failed reload of `text`; counts and logs it when it is news.
  Status ReloadFailed(Status status, std::string text);

  Options opts_;
  std::vector<ModelPricing> shipped_;
  mutable std::mutex mu_;
  std::shared_ptr<const Catalogue> current_;  // guarded by mu_
  std::string user_text_;                     // guarded by mu_: the content in force
  ReloadOutcome outcome_;  // guarded by mu_
  bool started_ = false;                      // guarded by mu_: Create has returned
  std::map<std::pair<std::string, std::string>, int64_t> unpriced_;  // guarded by mu_
  ReloadThrottle throttle_;
  std::atomic<int64_t> unpriced_total_{0};
  std::mutex reload_mu_;  // one reloader at a time
  // Metrics, null without a registry.
  Counter* priced_metric_ = nullptr;
  Counter* unpriced_metric_ = nullptr;
  Counter* reload_errors_metric_ = nullptr;
  Gauge* reload_ok_metric_ = nullptr;
};

}  // namespace sightline::pipeline
