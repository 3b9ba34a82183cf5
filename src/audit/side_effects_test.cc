// Side-effecting tool spans become audit records; audit.toml parses or names its line.
#include "audit/side_effects.h"

#include <gtest/gtest.h>

#include <rapidjson/document.h>

#include "audit/audit_config.h"

namespace sightline::audit {
namespace {

model::Span& AddTool(model::SpanList* spans, const std::string& tool, const std::string& args,
                     model::SpanStatus status = model::v1::STATUS_OK) {
  model::Span& s = spans->emplace_back();
  s.set_trace_id(std::string(16, '\x01'));
  s.set_span_id(std::string(8, static_cast<char>(spans->size())));
  s.set_project("payments");
  s.set_kind(model::v1::KIND_TOOL);
  s.set_tool_name(tool);
  s.set_session_id("ticket-9421");
  s.set_user_id("u-7");
  s.set_agent_name("refund-agent");
  s.set_input_json(args);
  s.set_start_ns(1000);
  s.set_end_ns(2000);
  s.set_status(status);
  return s;
}

TEST(SideEffects, MatchesToolGlobsAndTheAttribute) {
  SideEffectPolicy policy({"send_*", "payments.*"});
  model::SpanList spans;
  AddTool(&spans, "send_email", R"({"to":"[REDACTED:email]"})");
  AddTool(&spans, "search_docs", R"({"q":"refund"})");
  AddTool(&spans, "Payments.Refund", R"({"amount":12})", model::v1::STATUS_ERROR);
  model::Span& marked = AddTool(&spans, "lookup", "{}");
  auto* kv = marked.add_attributes();
  kv->set_key(kSideEffectAttribute);
  kv->mutable_value()->set_bool_value(true);
  model::Span& llm = spans.emplace_back();
  llm.set_kind(model::v1::KIND_LLM);
  llm.set_name("send_email");  // not a tool

  auto records = SideEffectRecords(spans, policy);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].target, "tool/send_email");
  EXPECT_EQ(records[1].target, "tool/Payments.Refund");
  EXPECT_EQ(records[1].outcome, "error");
  EXPECT_EQ(records[2].target, "tool/lookup");
  EXPECT_EQ(records[0].kind, Kind::kSideEffect);
  EXPECT_EQ(records[0].actor.principal, "agent:refund-agent");
  EXPECT_EQ(records[0].time_ns, 2000);

  rapidjson::Document d;
  d.Parse(records[0].details_json.c_str());
  ASSERT_TRUE(d.IsObject());
  EXPECT_STREQ(d["session_id"].GetString(), "ticket-9421");
  EXPECT_STREQ(d["user_id"].GetString(), "u-7");
  EXPECT_STREQ(d["tool"].GetString(), "send_email");
  // The hash of the sanitised arguments, and never the arguments themselves.
  EXPECT_EQ(std::string(d["args_sha256"].GetString()), Sha256Hex(R"({"to":"[REDACTED:email]"})"));
  EXPECT_EQ(records[0].details_json.find("REDACTED"), std::string::npos);
  EXPECT_STREQ(d["trace_id"].GetString(), "01010101010101010101010101010101");

  // Every record encodes.
  for (auto& r : records) {
    r.seq = 1;
    r.prev = std::string(kZeroHash);
    EXPECT_TRUE(EncodeAuditLine(&r).ok());
  }
}

TEST(SideEffects, NothingWithoutGlobsOrAttribute) {
  model::SpanList spans;
  AddTool(&spans, "send_email", "{}");
  EXPECT_TRUE(SideEffectRecords(spans, SideEffectPolicy()).empty());
}

// Generated spans: every tool name that matches is recorded once, in order.
TEST(SideEffects, GeneratedSpans) {
  SideEffectPolicy policy({"write_*", "*delete*"});
  model::SpanList spans;
  std::vector<std::string> expected;
  const char* names[] = {"write_file", "read_file", "delete_user", "list", "soft_delete", "WRITE_DB"};
  for (int i = 0; i < 300; ++i) {
    std::string tool = names[(i * 7) % 6];
    AddTool(&spans, tool, "{\"i\":" + std::to_string(i) + "}");
    if (tool != "read_file" && tool != "list") expected.push_back("tool/" + tool);
  }
  auto records = SideEffectRecords(spans, policy);
  ASSERT_EQ(records.size(), expected.size());
  for (size_t i = 0; i < records.size(); ++i) EXPECT_EQ(records[i].target, expected[i]);
}

TEST(AuditConfig, ParsesAndNamesTheLine) {
  auto c = ParseAuditConfig("[retention]\ndays = 90\nsegment_mb = 8\n[side_effects]\ntools = [\"send_*\"]\n"
                            "[reads]\nrecord = false\n",
                            "audit.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->retention_days, 90);
  EXPECT_EQ(c->segment_bytes, uint64_t{8} << 20);
  EXPECT_EQ(c->side_effect_tools, std::vector<std::string>{"send_*"});
  EXPECT_FALSE(c->record_reads);
  auto bad = ParseAuditConfig("[retention]\n\ndays = -1\n", "audit.toml");
  EXPECT_EQ(bad.status().message().rfind("audit.toml:3:", 0), 0u) << bad.status().ToString();
  bad = ParseAuditConfig("[side_effects]\ntool = []\n", "audit.toml");
  EXPECT_NE(bad.status().message().find("unknown setting"), std::string::npos);
}

}  // namespace
}  // namespace sightline::audit
