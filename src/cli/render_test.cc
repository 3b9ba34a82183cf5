// The renderers, from JSON fixtures shaped like the API's answers.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli/render.h"
#include "cli/terminal.h"

namespace sightline::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

rapidjson::Document Parse(const char* text) {
  rapidjson::Document d;
  d.Parse(text);
  EXPECT_FALSE(d.HasParseError()) << text;
  return d;
}

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t nl = s.find('\n', pos);
    out.push_back(s.substr(pos, nl - pos));
    pos = nl == std::string::npos ? s.size() : nl + 1;
  }
  return out;
}

// root -> plan(llm), billing(agent) -> {lookup(tool, error), refund(tool, interrupt)};
// orphan's parent never arrived. Given in the API's tree order.
const char* kTrace = R"({
 "trace": {"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","root_name":"invoke_agent support-orchestrator",
   "agent_name":"support-orchestrator","session_id":"ticket-9421","user_id":"user_92","duration_ns":6240000000,
   "span_count":6,"error_count":1,"input_tokens":3080,"output_tokens":154,"cost_usd":0.00766,"status":"interrupt"},
 "spans": [
  {"span_id":"0000000000000001","parent_span_id":null,"name":"invoke_agent support-orchestrator","kind":"agent",
   "start_ns":1000,"end_ns":6240001000,"duration_ns":6240000000,"status":"unset","agent_name":"support-orchestrator"},
  {"span_id":"0000000000000002","parent_span_id":"0000000000000001","name":"chat gpt-4o","kind":"llm",
   "duration_ns":1340000000,"status":"ok","model":"gpt-4o-2024-08-06","input_tokens":1204,"output_tokens":96,
   "cache_read_tokens":512,"cost_usd":0.00412,
   "input":[{"role":"system","parts":[{"type":"text","content":"You are the orchestrator.\nBe brief."}]},
            {"role":"user","parts":[{"type":"text","content":"I was charged twice"}]}],
   "output":[{"role":"assistant","parts":[{"type":"tool_call","name":"transfer","arguments":{"to":"billing"}}]}]},
  {"span_id":"0000000000000003","parent_span_id":"0000000000000001","name":"invoke_agent billing-resolver",
   "kind":"agent","duration_ns":3300000000,"status":"unset","agent_name":"billing-resolver"},
  {"span_id":"0000000000000004","parent_span_id":"0000000000000003","name":"execute_tool lookup_invoice",
   "kind":"tool","duration_ns":510000000,"status":"error","tool_name":"lookup_invoice",
   "error_type":"TimeoutError","status_message":"billing-api timed out"},
  {"span_id":"0000000000000005","parent_span_id":"0000000000000003","name":"execute_tool issue_refund",
   "kind":"tool","duration_ns":620000000,"status":"interrupt","tool_name":"issue_refund",
   "interrupt_reason":"approval_required"},
  {"span_id":"0000000000000006","parent_span_id":"00000000000000ff","name":"late child","kind":"other",
   "duration_ns":1000000,"status":"ok","parent_missing":true}
 ]})";

TEST(RenderTraceTree, HeaderHasTheTotals) {
  auto d = Parse(kTrace);
  std::string out = RenderTraceTree(d, RenderOptions{});
  std::string header = Lines(out)[0];
  for (const char* want : {"4bf92f3577b34da6a3ce929d0e0e4736", "invoke_agent support-orchestrator", "ticket-9421",
                           "user_92", "6.24s", "6 spans", "1 error", "3,080→154 tok", "$0.0077", "interrupt"})
    EXPECT_THAT(header, HasSubstr(want));
}

TEST(RenderTraceTree, DrawsTheTreeWithGuides) {
  auto d = Parse(kTrace);
  auto lines = Lines(RenderTraceTree(d, RenderOptions{}));
  ASSERT_EQ(lines.size(), 7u);
  EXPECT_EQ(lines[1].rfind("agent invoke_agent support-orchestrator", 0), 0u) << lines[1];
  EXPECT_EQ(lines[2].rfind("├─ llm chat gpt-4o", 0), 0u) << lines[2];
  EXPECT_EQ(lines[3].rfind("└─ agent invoke_agent billing-resolver", 0), 0u) << lines[3];
  EXPECT_EQ(lines[4].rfind("   ├─ tool execute_tool lookup_invoice", 0), 0u) << lines[4];
  EXPECT_EQ(lines[5].rfind("   └─ tool execute_tool issue_refund", 0), 0u) << lines[5];
  EXPECT_EQ(lines[6].rfind("other late child", 0), 0u) << lines[6];
  // Per-span facts.
  EXPECT_THAT(lines[2], HasSubstr("1.34s"));
  EXPECT_THAT(lines[2], HasSubstr("1,204→96 (512 cached)"));
  EXPECT_THAT(lines[2], HasSubstr("$0.0041"));
  EXPECT_THAT(lines[2], HasSubstr("gpt-4o-2024-08-06"));
  EXPECT_THAT(lines[4], HasSubstr("error"));
  EXPECT_THAT(lines[4], HasSubstr("TimeoutError: billing-api timed out"));
  EXPECT_THAT(lines[4], Not(HasSubstr("  tool lookup_invoice")));  // the name says it already
  EXPECT_THAT(lines[5], HasSubstr("approval_required"));
  EXPECT_THAT(lines[6], HasSubstr("parent 00000000000000ff missing"));
  EXPECT_THAT(lines[1], Not(HasSubstr("missing")));
  // Durations line up: every span line has its duration ending in the same column.
  size_t col = lines[2].find("1.34s") + 5;
  EXPECT_EQ(lines[4].find("510ms") + 5, col);
}

TEST(RenderTraceTree, GuidesContinueBelowANonLastSibling) {
  // a -> b -> c, a -> d: c's line carries "│" for b's pending sibling d.
  auto d = Parse(R"({"spans":[
    {"span_id":"01","name":"a","kind":"agent","status":"ok"},
    {"span_id":"02","parent_span_id":"01","name":"b","kind":"agent","status":"ok"},
    {"span_id":"03","parent_span_id":"02","name":"c","kind":"llm","status":"ok"},
    {"span_id":"04","parent_span_id":"01","name":"d","kind":"tool","status":"ok"}]})");
  auto lines = Lines(RenderTraceTree(d, RenderOptions{}));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[2].rfind("│  └─ llm c", 0), 0u) << lines[2];
  EXPECT_EQ(lines[3].rfind("└─ tool d", 0), 0u) << lines[3];
}

TEST(RenderTraceTree, DepthLimitHidesAndCounts) {
  auto d = Parse(kTrace);
  RenderOptions o;
  o.max_depth = 1;
  std::string out = RenderTraceTree(d, o);
  EXPECT_THAT(out, Not(HasSubstr("lookup_invoice")));
  EXPECT_THAT(out, HasSubstr("(+2 below)"));
  o.max_depth = 0;
  out = RenderTraceTree(d, o);
  EXPECT_THAT(out, Not(HasSubstr("chat gpt-4o")));
  EXPECT_THAT(out, HasSubstr("(+4 below)"));
}

TEST(RenderTraceTree, PayloadsAreOneLineAndTruncated) {
  auto d = Parse(kTrace);
  RenderOptions o;
  o.payloads = true;
  o.payload_chars = 60;
  auto lines = Lines(RenderTraceTree(d, o));
  // The llm span is followed by its input and output, under a continuing guide.
  ASSERT_GT(lines.size(), 4u);
  EXPECT_EQ(lines[3].rfind("│     in:  system: You are the orchestrator. Be brief. | user", 0), 0u) << lines[3];
  EXPECT_THAT(lines[3], HasSubstr("…"));
  EXPECT_LE(DisplayWidth(lines[3].substr(lines[3].find("in:"))), 65);
  EXPECT_THAT(lines[4], HasSubstr("out: assistant: tool_call transfer({\"to\":\"billing\"})"));
}

TEST(RenderTraceTree, ColourOnlyWhenAsked) {
  auto d = Parse(kTrace);
  EXPECT_THAT(RenderTraceTree(d, RenderOptions{}), Not(HasSubstr("\x1b[")));
  RenderOptions o;
  o.color = true;
  std::string out = RenderTraceTree(d, o);
  EXPECT_THAT(out, HasSubstr("\x1b[31merror"));
  EXPECT_THAT(out, HasSubstr("\x1b[33minterrupt"));
}

TEST(RenderTraceTree, FitsTheWidth) {
  auto d = Parse(kTrace);
  RenderOptions o;
  o.width = 60;
  for (const auto& line : Lines(RenderTraceTree(d, o))) {
    if (line.rfind("trace ", 0) == 0) continue;  // the header may wrap
    EXPECT_LE(DisplayWidth(line), 60) << line;
  }
  // The error reason does not fit beside the span: it gets its own line under it.
  EXPECT_THAT(RenderTraceTree(d, o), HasSubstr("   │     ↳ TimeoutError: billing-api timed out"));
}

TEST(RenderTraceTree, SurvivesCyclesAndOddInput) {
  auto d = Parse(R"({"spans":[{"span_id":"01","parent_span_id":"02","name":"x"},
                              {"span_id":"02","parent_span_id":"01","name":"y"}, 5, "junk"]})");
  std::string out = RenderTraceTree(d, RenderOptions{});
  EXPECT_THAT(out, HasSubstr("x"));
  EXPECT_THAT(out, HasSubstr("y"));
  auto empty = Parse(R"({"trace":{},"spans":[]})");
  EXPECT_THAT(RenderTraceTree(empty, RenderOptions{}), HasSubstr("(no spans)"));
  // Control characters in names cannot move the cursor.
  auto ctl = Parse(R"({"spans":[{"span_id":"01","name":"a\u001b[2Jb\nc"}]})");
  EXPECT_THAT(RenderTraceTree(ctl, RenderOptions{}), Not(HasSubstr("\x1b")));
}

const char* kTraces = R"([
 {"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","root_name":"invoke_agent support-orchestrator",
  "agent_name":"support-orchestrator","session_id":"ticket-9421","start_ns":1774287731420000000,
  "duration_ns":2650000000,"status":"ok","span_count":5,"llm_calls":2,"tool_calls":1,
  "input_tokens":3392,"output_tokens":102,"cost_usd":0.00376},
 {"trace_id":"0af7651916cd43dd8448eb211c80319c","root_name":"","agent_name":"","session_id":"",
  "start_ns":1774287720000000000,"duration_ns":6240000000,"status":"error","span_count":12,"llm_calls":4,
  "tool_calls":3,"input_tokens":6920,"output_tokens":370,"cost_usd":0.01219}])";

TEST(RenderTracesTable, AlignedColumns) {
  auto d = Parse(kTraces);
  RenderOptions o;
  o.utc = true;
  auto lines = Lines(RenderTracesTable(d, o));
  ASSERT_EQ(lines.size(), 3u);
  for (const char* h : {"TIME", "TRACE ID", "ROOT", "AGENT", "SESSION", "STATUS", "DURATION", "SPANS", "LLM/TOOL",
                        "TOKENS", "COST"})
    EXPECT_THAT(lines[0], HasSubstr(h));
  EXPECT_THAT(lines[1], HasSubstr("2026-03-23 17:42:11"));
  EXPECT_THAT(lines[1], HasSubstr("ticket-9421"));
  EXPECT_THAT(lines[1], HasSubstr("2/1"));
  EXPECT_THAT(lines[1], HasSubstr("3,392→102"));
  EXPECT_THAT(lines[1], HasSubstr("$0.0038"));
  EXPECT_THAT(lines[2], HasSubstr("(root pending)"));
  // Columns start at the same place on every row.
  EXPECT_EQ(lines[1].find("4bf92f"), lines[2].find("0af765"));
  EXPECT_EQ(lines[0].find("TRACE ID"), lines[1].find("4bf92f"));
  // The costs (right-aligned, last column) end together.
  EXPECT_EQ(DisplayWidth(lines[1]), DisplayWidth(lines[2]));
}

TEST(RenderTracesTable, ShrinksTextColumnsToTheTerminal) {
  auto d = Parse(kTraces);
  RenderOptions o;
  o.width = 150;
  auto lines = Lines(RenderTracesTable(d, o));
  for (const auto& l : lines) EXPECT_LE(DisplayWidth(l), 150) << l;
  EXPECT_THAT(lines[1], HasSubstr("4bf92f3577b34da6a3ce929d0e0e4736"));  // ids are never cut
  EXPECT_THAT(lines[1], HasSubstr("…"));
}

TEST(RenderTracesTable, LeavesOutColumnsWhenShrinkingIsNotEnough) {
  auto d = Parse(kTraces);
  RenderOptions o;
  o.width = 100;
  auto lines = Lines(RenderTracesTable(d, o));
  for (const auto& l : lines) EXPECT_LE(DisplayWidth(l), 100) << l;
  EXPECT_THAT(lines[0], Not(HasSubstr("LLM/TOOL")));
  for (const char* kept : {"TIME", "TRACE ID", "ROOT", "STATUS", "DURATION", "COST"})
    EXPECT_THAT(lines[0], HasSubstr(kept));
  EXPECT_THAT(lines[1], HasSubstr("4bf92f3577b34da6a3ce929d0e0e4736"));
}

TEST(RenderTracesTable, EmptyAndColour) {
  auto empty = Parse("[]");
  EXPECT_EQ(RenderTracesTable(empty, RenderOptions{}), "no traces found\n");
  auto d = Parse(kTraces);
  RenderOptions o;
  o.color = true;
  EXPECT_THAT(RenderTracesTable(d, o), HasSubstr("\x1b[31merror"));
}

TEST(RenderSession, TurnsInOrderAndTotals) {
  auto d = Parse(R"({"session":{"session_id":"ticket-9421","user_id":"user_92","project":"default",
     "first_start_ns":1774287720000000000,"last_end_ns":1774287734070000000,"status":"ok"},
   "traces":[
    {"trace_id":"0af7651916cd43dd8448eb211c80319c","root_name":"invoke_agent support-orchestrator",
     "start_ns":1774287720000000000,"duration_ns":6240000000,"status":"interrupt","span_count":12,
     "input_tokens":6920,"output_tokens":370,"cost_usd":0.01219},
    {"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","root_name":"invoke_agent support-orchestrator",
     "start_ns":1774287731420000000,"duration_ns":2650000000,"status":"ok","span_count":5,
     "input_tokens":3392,"output_tokens":102,"cost_usd":0.00377}]})");
  RenderOptions o;
  o.utc = true;
  auto lines = Lines(RenderSession(d, o));
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_THAT(lines[0], HasSubstr("session ticket-9421"));
  EXPECT_THAT(lines[0], HasSubstr("user user_92"));
  EXPECT_THAT(lines[1], HasSubstr("TURN"));
  EXPECT_EQ(lines[2].find('1'), lines[3].find('2'));
  EXPECT_THAT(lines[2], HasSubstr("0af7651916cd43dd8448eb211c80319c"));
  EXPECT_THAT(lines[2], HasSubstr("interrupt"));
  EXPECT_THAT(lines[3], HasSubstr("4bf92f3577b34da6a3ce929d0e0e4736"));
  EXPECT_EQ(lines[4], "total: 2 turns  17 spans  0 failed turns  8.89s  10,312→472 tok  $0.0160");
}

TEST(RenderTailLine, OneLinePerTrace) {
  auto d = Parse(kTraces);
  RenderOptions o;
  o.utc = true;
  std::string line = RenderTailLine(d[0], o);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(line.rfind("17:42:11  4bf92f3577b34da6a3ce929d0e0e4736  ok", 0), 0u) << line;
  EXPECT_THAT(line, HasSubstr("session ticket-9421"));
}

TEST(Terminal, WidthPaddingAndTruncation) {
  EXPECT_EQ(DisplayWidth("├─ abc"), 6);
  EXPECT_EQ(DisplayWidth("\x1b[31mred\x1b[0m"), 3);
  EXPECT_EQ(DisplayWidth("日本"), 4);
  EXPECT_EQ(Truncate("abcdef", 4), "abc…");
  EXPECT_EQ(Truncate("abc", 4), "abc");
  EXPECT_EQ(PadLeft("7", 3), "  7");
  EXPECT_EQ(PadRight("├─", 4), "├─  ");
  EXPECT_EQ(FormatCount(1234567), "1,234,567");
  EXPECT_EQ(FormatCount(-1000), "-1,000");
  EXPECT_EQ(FormatCost(0.01234), "$0.0123");
  EXPECT_EQ(FormatCost(123.456), "$123.46");
  EXPECT_EQ(OneLine("a\nb\t\x1b[2Jc"), "a b [2Jc");
}

TEST(PayloadText, Shapes) {
  auto s = Parse(R"("plain text")");
  EXPECT_EQ(PayloadText(s), "plain text");
  auto obj = Parse(R"({"invoice_id":"INV-1"})");
  EXPECT_EQ(PayloadText(obj), R"({"invoice_id":"INV-1"})");
  auto msgs = Parse(R"([{"role":"tool","parts":[{"type":"tool_result","result":{"ok":true}}]}])");
  EXPECT_EQ(PayloadText(msgs), R"(tool: tool_result {"ok":true})");
}

}  // namespace
}  // namespace sightline::cli
