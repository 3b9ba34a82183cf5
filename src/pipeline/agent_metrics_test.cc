#include "pipeline/agent_metrics.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sightline::pipeline {
namespace {

model::Span Agent(std::string project, std::string agent, model::SpanStatus status, double seconds) {
  model::Span s;
  s.set_project(std::move(project));
  s.set_kind(model::v1::KIND_AGENT);
  s.set_agent_name(std::move(agent));
  s.set_status(status);
  s.set_start_ns(1'000'000'000);
  s.set_end_ns(1'000'000'000 + static_cast<int64_t>(seconds * 1e9));
  return s;
}

model::Span Tool(std::string project, std::string tool, model::SpanStatus status, double seconds) {
  model::Span s;
  s.set_project(std::move(project));
  s.set_kind(model::v1::KIND_TOOL);
  s.set_tool_name(std::move(tool));
  s.set_status(status);
  s.set_start_ns(0);
  s.set_end_ns(static_cast<int64_t>(seconds * 1e9));
  return s;
}

model::Span Llm(std::string project, std::string agent, std::string model, int64_t in, int64_t out, double cost) {
  model::Span s;
  s.set_project(std::move(project));
  s.set_kind(model::v1::KIND_LLM);
  s.set_agent_name(std::move(agent));
  s.set_model(std::move(model));
  s.set_input_tokens(in);
  s.set_output_tokens(out);
  s.set_cost_usd(cost);
  return s;
}

std::string RenderOf(const AgentMetrics& m) {
  std::string out;
  MetricsWriter w(&out);
  m.Render(w);
  return out;
}

bool Has(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

TEST(AgentMetricsTest, FoldsARequestAndMergesAcrossRequests) {
  AgentMetrics m;
  for (int round = 0; round < 2; ++round) {
    RequestAgentMetrics r;
    r.Add(Agent("p", "planner", model::v1::STATUS_OK, 2));
    r.Add(Agent("p", "planner", model::v1::STATUS_ERROR, 0.07));
    r.Add(Tool("p", "search", model::v1::STATUS_ERROR, 0.3));
    r.Add(Tool("p", "search", model::v1::STATUS_OK, 0.3));
    r.Add(Tool("p", "search", model::v1::STATUS_OK, 700));
    r.Add(Llm("p", "planner", "gpt-4o", 100, 20, 0.25));
    r.Add(Llm("p", "planner", "gpt-4o", 50, 0, 0.5));
    model::Span other;  // a chain span counts nowhere
    other.set_kind(model::v1::KIND_CHAIN);
    r.Add(other);
    EXPECT_FALSE(r.empty());
    m.Merge(r);
  }
  std::string text = RenderOf(m);
  EXPECT_TRUE(Has(text, "# TYPE sightline_agent_runs_total counter")) << text;
  EXPECT_TRUE(Has(text, R"(sightline_agent_runs_total{project="p",agent="planner",status="ok"} 2)")) << text;
  EXPECT_TRUE(Has(text, R"(sightline_agent_runs_total{project="p",agent="planner",status="error"} 2)")) << text;
  EXPECT_TRUE(Has(text, R"(sightline_tool_calls_total{project="p",tool="search",status="ok"} 4)")) << text;
  EXPECT_TRUE(Has(text, R"(sightline_tool_calls_total{project="p",tool="search",status="error"} 2)")) << text;
  EXPECT_TRUE(Has(text, R"(sightline_model_tokens_total{project="p",model="gpt-4o",type="input"} 300)")) << text;
  EXPECT_TRUE(Has(text, R"(sightline_model_tokens_total{project="p",model="gpt-4o",type="output"} 40)")) << text;
  EXPECT_EQ(text.find("type=\"reasoning\""), std::string::npos) << "no reasoning tokens were sent";
  EXPECT_TRUE(Has(text, R"(sightline_cost_usd_total{project="p",agent="planner",model="gpt-4o"} 1.5)")) << text;
  // Histograms: cumulative buckets, +Inf equals the count, sum in seconds.
  EXPECT_TRUE(Has(text, "# TYPE sightline_tool_duration_seconds histogram")) << text;
  EXPECT_TRUE(Has(text, R"(sightline_tool_duration_seconds_bucket{project="p",tool="search",le="0.25"} 0)")) << text;
  EXPECT_TRUE(Has(text, R"(sightline_tool_duration_seconds_bucket{project="p",tool="search",le="0.5"} 4)")) << text;
  EXPECT_TRUE(Has(text, R"(sightline_tool_duration_seconds_bucket{project="p",tool="search",le="600"} 4)")) << text;
  EXPECT_TRUE(Has(text, R"(sightline_tool_duration_seconds_bucket{project="p",tool="search",le="+Inf"} 6)")) << text;
  EXPECT_TRUE(Has(text, R"(sightline_tool_duration_seconds_count{project="p",tool="search"} 6)")) << text;
  EXPECT_TRUE(Has(text, R"(sightline_agent_duration_seconds_bucket{project="p",agent="planner",le="0.05"} 0)")) << text;
  EXPECT_TRUE(Has(text, R"(sightline_agent_duration_seconds_bucket{project="p",agent="planner",le="0.1"} 2)")) << text;
  EXPECT_TRUE(Has(text, R"(sightline_agent_duration_seconds_bucket{project="p",agent="planner",le="2.5"} 4)")) << text;
}

TEST(AgentMetricsTest, RepriceCorrectionsAreCountersOfTheirOwn) {
  AgentMetricsOptions o;
  o.max_values_per_label = 2;
  AgentMetrics m(o);
  RequestAgentMetrics r;
  r.Add(Llm("p", "planner", "gpt-4o", 10, 5, 1.5));
  m.Merge(r);
  std::string text = RenderOf(m);
  EXPECT_NE(text.find("# TYPE sightline_cost_repriced_usd_total counter"), std::string::npos) << text;
  EXPECT_EQ(text.find("sightline_cost_repriced_usd_total{"), std::string::npos) << "no sample before a reprice";
  m.AdjustCost("p", "planner", "gpt-4o", 1.5, 2.0);   // up 0.5
  m.AdjustCost("p", "planner", "gpt-4o", 2.0, 1.25);  // down 0.75
  m.AdjustCost("p", "planner", "gpt-4o", 1.0, 1.0);   // no change: nothing
  m.AdjustCost("p", "", "gpt-4o", 0, 0.25);           // a new cost, agent unknown
  m.AdjustCost("p", "x", "gpt-4o", 0.5, 0);           // the model lost its price; "x" is past the limit
  text = RenderOf(m);
  // The cost counter stays as received.
  EXPECT_TRUE(Has(text, R"(sightline_cost_usd_total{project="p",agent="planner",model="gpt-4o"} 1.5)")) << text;
  EXPECT_TRUE(Has(text, R"(sightline_cost_repriced_usd_total{project="p",agent="planner",model="gpt-4o",direction="up"} 0.5)")) << text;
  EXPECT_TRUE(Has(text, R"(sightline_cost_repriced_usd_total{project="p",agent="planner",model="gpt-4o",direction="down"} 0.75)")) << text;
  EXPECT_TRUE(Has(text, R"(sightline_cost_repriced_usd_total{project="p",agent="unknown",model="gpt-4o",direction="up"} 0.25)")) << text;
  EXPECT_TRUE(Has(text, R"(sightline_cost_repriced_usd_total{project="p",agent="other",model="gpt-4o",direction="down"} 0.5)")) << text;
}

TEST(AgentMetricsTest, EmptyRequestHasNothingToMerge) {
  RequestAgentMetrics r;
  EXPECT_TRUE(r.empty());
  model::Span chain;
  chain.set_kind(model::v1::KIND_CHAIN);
  r.Add(chain);
  EXPECT_TRUE(r.empty());
}

TEST(AgentMetricsTest, ValuesPastTheLimitBecomeOther) {
  AgentMetricsOptions o;
  o.max_values_per_label = 2;
  AgentMetrics m(o);
  RequestAgentMetrics first;
  first.Add(Tool("p", "a", model::v1::STATUS_OK, 1));
  first.Add(Tool("p", "b", model::v1::STATUS_OK, 1));
  m.Merge(first);
  // Known values stay; new ones past the limit are "other".
  RequestAgentMetrics later;
  for (const char* tool : {"c", "a", "d", "e"}) later.Add(Tool("p", tool, model::v1::STATUS_OK, 1));
  m.Merge(later);
  std::string text = RenderOf(m);
  EXPECT_TRUE(Has(text, R"(sightline_tool_calls_total{project="p",tool="a",status="ok"} 2)")) << text;
  EXPECT_TRUE(Has(text, R"(sightline_tool_calls_total{project="p",tool="b",status="ok"} 1)")) << text;
  for (const char* t : {"c", "d", "e"}) EXPECT_EQ(text.find(std::string("tool=\"") + t + "\""), std::string::npos) << text;
  EXPECT_TRUE(Has(text, R"(sightline_tool_calls_total{project="p",tool="other",status="ok"} 3)")) << text;
  // The histograms share the admitted values.
  EXPECT_TRUE(Has(text, R"(sightline_tool_duration_seconds_count{project="p",tool="other"} 3)")) << text;
  // Every call is still counted.
  size_t pos = 0;
  double total = 0;
  const std::string prefix = "sightline_tool_calls_total{";
  while ((pos = text.find("\n" + prefix, pos)) != std::string::npos) {
    size_t sp = text.find(' ', pos + 1 + prefix.size());
    total += std::stod(text.substr(sp + 1));
    pos = sp;
  }
  EXPECT_EQ(total, 6);
}

TEST(AgentMetricsTest, AllowlistKeepsOnlyItsValues) {
  AgentMetricsOptions o;
  o.allowlist[static_cast<int>(LabelDim::kModel)] = {"gpt-4o"};
  AgentMetrics m(o);
  RequestAgentMetrics r;
  r.Add(Llm("p", "x", "my-fine-tune-123", 10, 0, 0));
  r.Add(Llm("p", "x", "gpt-4o", 7, 0, 0));
  m.Merge(r);
  std::string text = RenderOf(m);
  EXPECT_TRUE(Has(text, R"(sightline_model_tokens_total{project="p",model="gpt-4o",type="input"} 7)")) << text;
  EXPECT_TRUE(Has(text, R"(sightline_model_tokens_total{project="p",model="other",type="input"} 10)")) << text;
  EXPECT_EQ(text.find("my-fine-tune"), std::string::npos) << text;
}

TEST(AgentMetricsTest, LabelValuesAreEscapedAndEmptyIsUnknown) {
  AgentMetrics m;
  RequestAgentMetrics r;
  r.Add(Tool("p", "say \"hi\"\\\nnow", model::v1::STATUS_OK, 1));
  r.Add(Agent("", "", model::v1::STATUS_UNSET, 1));
  m.Merge(r);
  std::string text = RenderOf(m);
  EXPECT_TRUE(Has(text, R"(sightline_tool_calls_total{project="p",tool="say \"hi\"\\\nnow",status="ok"} 1)")) << text;
  EXPECT_TRUE(Has(text, R"(sightline_agent_runs_total{project="unknown",agent="unknown",status="unset"} 1)")) << text;
}

TEST(AgentMetricsTest, TuplesThatShareAJoinedStringStayApart) {
  AgentMetrics m;
  RequestAgentMetrics r;
  r.Add(Llm("ab", "c", "m", 0, 0, 1));
  r.Add(Llm("a", "bc", "m", 0, 0, 2));
  m.Merge(r);
  std::string text = RenderOf(m);
  EXPECT_TRUE(Has(text, R"(sightline_cost_usd_total{project="ab",agent="c",model="m"} 1)")) << text;
  EXPECT_TRUE(Has(text, R"(sightline_cost_usd_total{project="a",agent="bc",model="m"} 2)")) << text;
}

}  // namespace
}  // namespace sightline::pipeline
