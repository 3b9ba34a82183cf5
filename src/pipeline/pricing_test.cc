#include "pipeline/pricing.h"

#include <gtest/gtest.h>

#include "common/mem_env.h"

namespace sightline::pipeline {
namespace {

constexpr int64_t kDay = int64_t{86400} * 1000000000;
// 2025-01-01T00:00:00Z and 2024-06-01T00:00:00Z in ns.
constexpr int64_t k2025 = int64_t{1735689600} * 1000000000;
constexpr int64_t k2024Jun = int64_t{1717200000} * 1000000000;

std::shared_ptr<const Catalogue> Shipped() {
  auto models = Catalogue::Parse(ShippedPricingToml(), "shipped");
  EXPECT_TRUE(models.ok()) << models.status().ToString();
  return std::make_shared<const Catalogue>(std::move(*models));
}

TEST(PricingTest, ShippedCatalogueParsesAndResolvesDatedAndAliasedIds) {
  auto cat = Shipped();
  ASSERT_GT(cat->models().size(), 20u);
  struct Case {
    std::string provider, model, want_id;
  };
  const std::vector<Case> cases = {
      {"openai", "gpt-4o", "openai/gpt-4o"},
      {"openai", "gpt-4o-2024-08-06", "openai/gpt-4o"},
      {"", "openai/gpt-4o", "openai/gpt-4o"},
      {"openai", "GPT-4o-mini-2024-07-18", "openai/gpt-4o-mini"},
      {"openai", "gpt-4.1-nano", "openai/gpt-4.1-nano"},
      {"openai", "o3-mini", "openai/o3-mini"},
      {"azure.ai.openai", "gpt-4o", "openai/gpt-4o"},  // a reseller: same list price
      {"anthropic", "claude-3-5-sonnet-20241022", "anthropic/claude-3.5-sonnet"},
      {"aws.bedrock", "us.anthropic.claude-3-5-sonnet-20241022-v2:0", "anthropic/claude-3.5-sonnet"},
      {"anthropic", "claude-sonnet-4-5-20250929", "anthropic/claude-sonnet-4"},
      {"gcp.gemini", "models/gemini-1.5-pro-002", "google/gemini-1.5-pro"},
      {"gcp.vertex_ai", "gemini-2.5-flash", "google/gemini-2.5-flash"},
  };
  for (const auto& c : cases) {
    const ModelPricing* m = cat->Find(c.provider, c.model);
    ASSERT_NE(m, nullptr) << c.model;
    EXPECT_EQ(m->id, c.want_id) << c.model;
  }
  EXPECT_EQ(cat->Find("openai", "my-finetune-7b"), nullptr);
  EXPECT_EQ(cat->Find("openai", "gpt-4o-mini-extra"), nullptr);  // whole-id match only
  EXPECT_EQ(cat->Find("openai", ""), nullptr);
}

TEST(PricingTest, CostFollowsTheDatedPriceTiersAndCacheRules) {
  const char* toml = R"(
[[model]]
id = "acme/m1"
provider = "acme"
match = "m1(-\\d+)?"
input_includes_cache_read = true
[[model.price]]
from = "2024-01-01"
input = 10.0
output = 20.0
[[model.price]]
from = "2025-01-01"
input = 2.0
output = 8.0
cache_read = 0.5
reasoning = 4.0
[[model.price.tier]]
above_input_tokens = 100000
input = 4.0
output = 16.0

[[model]]
id = "acme/split"
provider = "acme"
match = "split"
input_includes_cache_read = false
[[model.price]]
from = "2024-01-01"
input = 3.0
output = 15.0
cache_read = 0.3
cache_write = 3.75
)";
  auto models = Catalogue::Parse(toml, "test.toml");
  ASSERT_TRUE(models.ok()) << models.status().ToString();
  Catalogue cat(std::move(*models));
  const ModelPricing* m1 = cat.Find("acme", "m1-7");
  ASSERT_NE(m1, nullptr);

  // Before 2025: the old price, no cache price (cache reads billed as input).
  Usage u{.input = 1000000, .output = 1000000};
  EXPECT_DOUBLE_EQ(CostOf(*m1, u, k2024Jun), 30.0);
  // Before the first price took effect: the earliest price.
  EXPECT_DOUBLE_EQ(CostOf(*m1, u, k2024Jun - 400 * kDay), 30.0);
  // 2025: input includes 400k cached tokens billed at 0.5; 200k of the output is
  // reasoning billed apart at 4.0; 1M input is above the 100k tier.
  Usage v{.input = 1000000, .output = 1000000, .cache_read = 400000, .reasoning = 200000};
  // tier prices: input 4, output 16, no cache/reasoning in the tier -> cache at input,
  // reasoning inside output.
  EXPECT_DOUBLE_EQ(CostOf(*m1, v, k2025), 0.6 * 4 + 0.4 * 4 + 1.0 * 16);
  Usage small{.input = 10000, .output = 1000, .cache_read = 4000, .reasoning = 500};
  EXPECT_NEAR(CostOf(*m1, small, k2025), (6000 * 2.0 + 4000 * 0.5 + 500 * 8.0 + 500 * 4.0) / 1e6, 1e-12);

  const ModelPricing* split = cat.Find("acme", "split");
  ASSERT_NE(split, nullptr);
  Usage w{.input = 1000, .output = 100, .cache_read = 50000, .cache_write = 2000};
  EXPECT_NEAR(CostOf(*split, w, k2025), (1000 * 3.0 + 100 * 15.0 + 50000 * 0.3 + 2000 * 3.75) / 1e6, 1e-12);
}

TEST(PricingTest, BadCataloguesNameWhatIsWrong) {
  struct Case {
    const char* toml;
    const char* want;
  };
  const std::vector<Case> cases = {
      {"[[model]]\nid = 1 = 2\n", "bad.toml:"},
      {"[[model]]\nprovider = \"x\"\n", "model 1: `id` is required"},
      {"[[model]]\nid = \"a/b\"\n", "(a/b): `match` is required"},
      {"[[model]]\nid = \"a/b\"\nmatch = \"(\"\n", "not a valid regular expression"},
      {"[[model]]\nid = \"a/b\"\nmatch = \"b\"\n", "at least one [[model.price]]"},
      {"[[model]]\nid = \"a/b\"\nmatch = \"b\"\n[[model.price]]\nfrom = \"2024-13-01\"\ninput = 1\noutput = 1\n",
       "price 1: `from` must be a date"},
      {"[[model]]\nid = \"a/b\"\nmatch = \"b\"\n[[model.price]]\nfrom = \"2024-01-01\"\noutput = 1\n",
       "`input` is required"},
      {"[[model]]\nid = \"a/b\"\nmatch = \"b\"\n[[model.price]]\nfrom = \"2024-01-01\"\ninput = -1\noutput = 1\n",
       "`input` must be a number >= 0"},
      {"[[model]]\nid = \"a/b\"\nmatch = \"b\"\n[[model.price]]\nfrom = \"2024-01-01\"\ninput = 1\noutput = 1\n"
       "[[model.price.tier]]\ninput = 1\noutput = 1\n",
       "tier 1: `above_input_tokens`"},
      {"model = 3\n", "`model` must be an array of tables"},
  };
  for (const auto& c : cases) {
    auto r = Catalogue::Parse(c.toml, "bad.toml");
    ASSERT_FALSE(r.ok()) << c.toml;
    EXPECT_NE(r.status().message().find(c.want), std::string::npos) << r.status().ToString();
  }
  EXPECT_TRUE(Catalogue::Parse("", "empty.toml").ok());
}

model::Span Llm(const std::string& provider, const std::string& model, int64_t in, int64_t out) {
  model::Span s;
  s.set_kind(model::v1::KIND_LLM);
  s.set_provider(provider);
  s.set_model(model);
  s.set_input_tokens(in);
  s.set_output_tokens(out);
  s.set_start_ns(k2025);
  return s;
}

TEST(PricingTest, ServicePricesSpansKeepsReportedCostsAndCountsUnpricedModels) {
  MemEnv env;
  auto svc = PricingService::Create({.env = &env, .user_file = "/data/pricing.toml"});
  ASSERT_TRUE(svc.ok()) << svc.status().ToString();
  std::vector<model::Span> spans;
  spans.push_back(Llm("openai", "gpt-4o-mini", 1000000, 1000000));
  spans.push_back(Llm("openai", "gpt-4o-mini", 1000000, 0));
  spans.back().set_cost_usd(9.0);
  spans.back().set_reported_cost_usd(9.0);
  spans.back().set_cost_source(model::v1::COST_REPORTED);
  spans.push_back(Llm("acme", "house-model", 10, 10));
  spans.push_back(Llm("openai", "gpt-4o-mini", 10, 10));
  spans.back().set_kind(model::v1::KIND_AGENT);  // agents sum their children: never priced
  (*svc)->Apply(&spans);

  EXPECT_EQ(spans[0].cost_source(), model::v1::COST_COMPUTED);
  EXPECT_DOUBLE_EQ(spans[0].cost_usd(), 0.15 + 0.60);
  EXPECT_DOUBLE_EQ(spans[0].computed_cost_usd(), 0.75);
  EXPECT_EQ(spans[1].cost_source(), model::v1::COST_REPORTED);  // reported wins, both kept
  EXPECT_DOUBLE_EQ(spans[1].cost_usd(), 9.0);
  EXPECT_DOUBLE_EQ(spans[1].computed_cost_usd(), 0.15);
  EXPECT_FALSE(spans[2].has_cost_usd());
  EXPECT_FALSE(spans[3].has_cost_usd());
  auto unpriced = (*svc)->Unpriced();
  ASSERT_EQ(unpriced.size(), 1u);
  EXPECT_EQ(unpriced[0].model, "house-model");
  EXPECT_EQ(unpriced[0].spans, 1);
  EXPECT_EQ((*svc)->unpriced_spans(), 1);
}

Status WriteFile(MemEnv* env, const std::string& path, const std::string& text) {
  auto f = env->NewWritableFile(path);
  if (!f.ok()) return f.status();
  SL_RETURN_IF_ERROR((*f)->Append(text));
  SL_RETURN_IF_ERROR((*f)->Sync());
  return (*f)->Close();
}

// `sightline reprice`: a stored span takes the catalogue in force; a reported cost
// stays (only its computed cost moves); a model no longer priced loses its computed cost.
TEST(PricingTest, RepriceSpanRecomputesComputedCostsOnly) {
  auto models = Catalogue::Parse(R"([[model]]
id = "acme/m"
provider = "acme"
match = "m"
[[model.price]]
from = "2020-01-01"
input = 2.0
output = 0
)", "test.toml");
  ASSERT_TRUE(models.ok()) << models.status().ToString();
  Catalogue cat(std::move(*models));
  model::Span computed = Llm("acme", "m", 1000000, 0);
  computed.set_cost_usd(1.0);
  computed.set_computed_cost_usd(1.0);
  computed.set_cost_source(model::v1::COST_COMPUTED);
  EXPECT_TRUE(RepriceSpan(cat, &computed));
  EXPECT_DOUBLE_EQ(computed.cost_usd(), 2.0);
  EXPECT_DOUBLE_EQ(computed.computed_cost_usd(), 2.0);
  EXPECT_FALSE(RepriceSpan(cat, &computed));  // already at the price in force

  model::Span reported = Llm("acme", "m", 1000000, 0);
  reported.set_cost_usd(0.7);
  reported.set_computed_cost_usd(1.0);
  reported.set_cost_source(model::v1::COST_REPORTED);
  EXPECT_TRUE(RepriceSpan(cat, &reported));
  EXPECT_DOUBLE_EQ(reported.cost_usd(), 0.7);
  EXPECT_EQ(reported.cost_source(), model::v1::COST_REPORTED);
  EXPECT_DOUBLE_EQ(reported.computed_cost_usd(), 2.0);

  model::Span unknown = Llm("acme", "m", 500000, 0);  // unpriced when it arrived
  EXPECT_TRUE(RepriceSpan(cat, &unknown));
  EXPECT_DOUBLE_EQ(unknown.cost_usd(), 1.0);
  EXPECT_EQ(unknown.cost_source(), model::v1::COST_COMPUTED);

  model::Span gone = Llm("acme", "retired", 1000000, 0);
  gone.set_cost_usd(1.0);
  gone.set_computed_cost_usd(1.0);
  gone.set_cost_source(model::v1::COST_COMPUTED);
  EXPECT_TRUE(RepriceSpan(cat, &gone));
  EXPECT_FALSE(gone.has_cost_usd());
  EXPECT_FALSE(gone.has_computed_cost_usd());
  EXPECT_EQ(gone.cost_source(), model::v1::COST_UNKNOWN);

  model::Span tool;
  tool.set_kind(model::v1::KIND_TOOL);
  tool.set_cost_usd(0.1);
  EXPECT_FALSE(RepriceSpan(cat, &tool));
  EXPECT_DOUBLE_EQ(tool.cost_usd(), 0.1);
}

TEST(PricingTest, UserFileOverridesShippedPricesAndReloadsWithoutRestart) {
  MemEnv env;
  ASSERT_TRUE(env.CreateDir("/data").ok());
  auto svc = PricingService::Create({.env = &env, .user_file = "/data/pricing.toml", .reload_interval_ms = 0});
  ASSERT_TRUE(svc.ok());
  const std::string house = R"(
[[model]]
id = "acme/house"
match = "house-model"
[[model.price]]
from = "2020-01-01"
input = 1.0
output = 2.0
[[model]]
id = "acme/cheap-4o-mini"
provider = "openai"
match = "gpt-4o-mini"
[[model.price]]
from = "2020-01-01"
input = 0.0
output = 0.0
)";
  ASSERT_TRUE(WriteFile(&env, "/data/pricing.toml", house).ok());
  std::vector<model::Span> spans = {Llm("acme", "house-model", 1000000, 1000000),
                                    Llm("openai", "gpt-4o-mini", 1000000, 1000000)};
  (*svc)->Apply(&spans);  // reload_interval 0: the edit is picked up on this call
  EXPECT_DOUBLE_EQ(spans[0].cost_usd(), 3.0);
  EXPECT_DOUBLE_EQ(spans[1].cost_usd(), 0.0);  // the user's entry comes first

  // A broken edit keeps the prices in force and says why.
  ASSERT_TRUE(WriteFile(&env, "/data/pricing.toml", "[[model]]\nid = \"x\"\n").ok());
  std::vector<model::Span> again = {Llm("acme", "house-model", 1000000, 0)};
  (*svc)->Apply(&again);
  EXPECT_DOUBLE_EQ(again[0].cost_usd(), 1.0);
  EXPECT_NE((*svc)->last_error().message().find("`match` is required"), std::string::npos);
}

TEST(PricingTest, RefusedEditsAreLoggedAndCountedOncePerChange) {
  MemEnv env;
  ASSERT_TRUE(env.CreateDir("/data").ok());
  const std::string good = "[[model]]\nid = \"acme/a\"\nmatch = \"a\"\n[[model.price]]\nfrom = \"2020-01-01\"\n"
                           "input = 1.0\noutput = 1.0\n";
  ASSERT_TRUE(WriteFile(&env, "/data/pricing.toml", good).ok());
  MetricsRegistry metrics;
  std::vector<std::string> log;
  auto svc = PricingService::Create({.env = &env,
                                     .user_file = "/data/pricing.toml",
                                     .reload_interval_ms = 0,
                                     .metrics = &metrics,
                                     .logger = [&log](const std::string& line) { log.push_back(line); }});
  ASSERT_TRUE(svc.ok()) << svc.status().ToString();
  EXPECT_TRUE(log.empty()) << "start-up is the caller's to report";
  auto has = [&](const std::string& line) { return metrics.Render().find(line) != std::string::npos; };
  EXPECT_TRUE(has("sightline_pricing_last_reload_successful 1\n"));

  ASSERT_TRUE(WriteFile(&env, "/data/pricing.toml", "[[model]\n").ok());
  for (int i = 0; i < 3; ++i) (*svc)->MaybeReload();  // the same bad content: one report
  ASSERT_EQ(log.size(), 1u);
  EXPECT_NE(log[0].find("/data/pricing.toml:1:"), std::string::npos) << log[0];
  EXPECT_NE(log[0].find("prices in force stay"), std::string::npos) << log[0];
  EXPECT_TRUE(has("sightline_pricing_reload_errors_total 1\n"));
  EXPECT_TRUE(has("sightline_pricing_last_reload_successful 0\n"));
  EXPECT_EQ((*svc)->catalogue()->Find("", "a")->id, "acme/a");

  ASSERT_TRUE(WriteFile(&env, "/data/pricing.toml", "[[model]]\nid = \"x\"\n").ok());  // another bad edit
  (*svc)->MaybeReload();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_NE(log[1].find("`match` is required"), std::string::npos) << log[1];
  EXPECT_TRUE(has("sightline_pricing_reload_errors_total 2\n"));

  ASSERT_TRUE(WriteFile(&env, "/data/pricing.toml", good + "\n# fixed\n").ok());
  (*svc)->MaybeReload();
  ASSERT_EQ(log.size(), 3u);
  EXPECT_NE(log[2].find("reloaded: 1 models of yours"), std::string::npos) << log[2];
  EXPECT_TRUE((*svc)->last_error().ok());
  EXPECT_TRUE(has("sightline_pricing_last_reload_successful 1\n"));
}

}  // namespace
// The inputs toml++ 3.x does not refuse cleanly (common/toml_guard.h) are refused
// with the line, through the catalogue's own parser.
TEST(PricingCatalogue, RefusesWhatTomlppMishandles) {
  for (std::string text : {std::string("[[model]]\nid = \"a\x01\"\n"), std::string("[*x]\n"),
                           std::string("\n\xc2\xa0[[model]]\n")}) {
    auto r = Catalogue::Parse(text, "pricing.toml");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().message().rfind("pricing.toml:", 0), 0u) << r.status().message();
    EXPECT_NE(r.status().message().find("not valid TOML"), std::string::npos) << r.status().message();
  }
}

}  // namespace sightline::pipeline
