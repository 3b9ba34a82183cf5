#include "cli/filters.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sightline::cli {
namespace {

using Params = std::vector<std::pair<std::string, std::string>>;

TEST(FilterParams, EveryFlagBecomesItsParameter) {
  TraceFilters f;
  f.to = "2026-03-23T17:42:11Z";
  f.project = "p";
  f.service = "svc";
  f.agent = "billing-resolver";
  f.session = "ticket-9421";
  f.user = "user_92";
  f.status = "error";
  f.kind = "tool";
  f.name = "execute_tool lookup_invoice";
  f.model = "gpt-4o";
  f.tool = "issue_refund";
  f.min_duration_ms = 100;
  f.max_duration_ms = 9000;
  f.min_cost = 0.01;
  f.attrs = {"gen_ai.tool.name=issue_refund", "k=a=b"};
  f.query = "refund";
  f.limit = 20;
  f.cursor = "abc";
  f.since = "1h";
  auto p = FilterParams(f, 7200'000'000'000LL);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  Params want = {{"from", "3600000"},
                 {"to", "2026-03-23T17:42:11Z"},
                 {"project", "p"},
                 {"service", "svc"},
                 {"agent", "billing-resolver"},
                 {"session_id", "ticket-9421"},
                 {"user_id", "user_92"},
                 {"status", "error"},
                 {"kind", "tool"},
                 {"name", "execute_tool lookup_invoice"},
                 {"model", "gpt-4o"},
                 {"tool", "issue_refund"},
                 {"min_duration_ms", "100"},
                 {"max_duration_ms", "9000"},
                 {"min_cost_usd", "0.01"},
                 {"attr.gen_ai.tool.name", "issue_refund"},
                 {"attr.k", "a=b"},
                 {"q", "refund"},
                 {"limit", "20"},
                 {"cursor", "abc"}};
  EXPECT_EQ(*p, want);
}

TEST(FilterParams, BadValuesAreUsageErrorsNamingTheFlag) {
  struct Case {
    std::function<void(TraceFilters*)> set;
    const char* flag;
  };
  const Case cases[] = {
      {[](TraceFilters* f) { f->attrs = {"novalue"}; }, "--attr"},
      {[](TraceFilters* f) { f->attrs = {"=v"}; }, "--attr"},
      {[](TraceFilters* f) { f->status = "broken"; }, "--status"},
      {[](TraceFilters* f) { f->kind = "robot"; }, "--kind"},
      {[](TraceFilters* f) { f->from = "yesterday"; }, "--from"},
      {[](TraceFilters* f) { f->since = "1 hour"; }, "--since"},
      {[](TraceFilters* f) { f->limit = 0; }, "--limit"},
      {[](TraceFilters* f) { f->limit = 5000; }, "--limit"},
  };
  for (const auto& c : cases) {
    TraceFilters f;
    c.set(&f);
    auto p = FilterParams(f, 0);
    ASSERT_FALSE(p.ok()) << c.flag;
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(p.status().message(), ::testing::HasSubstr(c.flag));
  }
}

TEST(ParseSince, Units) {
  EXPECT_EQ(ParseSince("30s"), 30'000'000'000LL);
  EXPECT_EQ(ParseSince("15m"), 900'000'000'000LL);
  EXPECT_EQ(ParseSince("2d"), 172'800'000'000'000LL);
  EXPECT_EQ(ParseSince("500ms"), 500'000'000LL);
  EXPECT_FALSE(ParseSince("h").has_value());
  EXPECT_FALSE(ParseSince("5w").has_value());
  EXPECT_FALSE(ParseSince("99999999999999999999d").has_value());
}

}  // namespace
}  // namespace sightline::cli
