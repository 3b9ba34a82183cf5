// The driver: id validation and partial acceptance, what is carried over from OTLP,
// UTF-8 repair, truncation, and the SPEC precedence of status and kind when
// conventions mix.
#include "ingest/normalize/normalize.h"

#include <gtest/gtest.h>

#include "common/utf8.h"
#include "ingest/normalize/normalize_test_util.h"

namespace sightline::ingest {
namespace {

using namespace testutil;
using namespace model::v1;
using OtlpStatus = ::opentelemetry::proto::trace::v1::Status;

TEST(Normalize, RejectsBadIdsAndKeepsTheRest) {
  struct Row {
    std::string trace_id, span_id, parent;
    std::string reason;  // empty: accepted
  };
  const std::string t16(16, '\x11'), s8(8, '\x22');
  const std::vector<Row> rows = {
      {t16, s8, "", ""},
      {t16, s8, std::string(8, '\0'), ""},  // all-zero parent: a root
      {"", s8, "", "missing_trace_id"},
      {std::string(12, '\x11'), s8, "", "invalid_trace_id"},
      {std::string(16, '\0'), s8, "", "invalid_trace_id"},
      {t16, "", "", "invalid_span_id"},
      {t16, std::string(8, '\0'), "", "invalid_span_id"},
      {t16, std::string(4, '\x22'), "", "invalid_span_id"},
      {t16, s8, std::string(5, '\x33'), "invalid_parent_span_id"},
  };
  std::vector<OtlpSpan> spans;
  for (size_t i = 0; i < rows.size(); ++i) {
    OtlpSpan s = MakeSpan("span-" + std::to_string(i), {});
    s.set_trace_id(rows[i].trace_id);
    s.set_span_id(rows[i].span_id);
    s.set_parent_span_id(rows[i].parent);
    spans.push_back(s);
  }
  ExportRequest req = MakeRequest(spans);
  NormalizeResult r = NormalizeRequest(&req, {});
  ASSERT_EQ(r.spans.size(), 2u);
  EXPECT_EQ(r.spans[0].name(), "span-0");
  EXPECT_EQ(r.spans[1].name(), "span-1");
  EXPECT_EQ(r.spans[1].parent_span_id(), "");
  EXPECT_EQ(r.rejected, 7);
  EXPECT_EQ(r.rejected_by_reason["missing_trace_id"], 1);
  EXPECT_EQ(r.rejected_by_reason["invalid_trace_id"], 2);
  EXPECT_EQ(r.rejected_by_reason["invalid_span_id"], 3);
  EXPECT_EQ(r.rejected_by_reason["invalid_parent_span_id"], 1);
  EXPECT_NE(r.error_message.find("span \"span-2\": missing_trace_id"), std::string::npos) << r.error_message;
  EXPECT_NE(r.error_message.find("span \"span-3\": invalid_trace_id (12 bytes"), std::string::npos);
  EXPECT_EQ(r.error_message.find("span-8"), std::string::npos) << "only the first few: " << r.error_message;
  EXPECT_NE(r.error_message.find("..."), std::string::npos);
}

TEST(Normalize, CarriesEverythingReceived) {
  OtlpSpan s = MakeSpan("agent.run", {KV("a", "1"), KV("b", 2)}, {{"checkpoint", {KV("n", 1)}}});
  s.set_parent_span_id(std::string(8, '\x05'));
  s.set_kind(::opentelemetry::proto::trace::v1::Span::SPAN_KIND_CLIENT);
  s.set_trace_state("vendor=abc");
  s.set_dropped_attributes_count(3);
  s.set_dropped_events_count(4);
  s.set_dropped_links_count(5);
  auto* link = s.add_links();
  link->set_trace_id(std::string(16, '\x09'));
  link->set_span_id(std::string(8, '\x08'));
  s.mutable_status()->set_code(OtlpStatus::STATUS_CODE_OK);
  ExportRequest req = MakeRequest({s}, {KV("service.name", "billing"), KV("deployment.environment", "staging"),
                                        KV("service.version", "2.1.0")});
  auto* scope = req.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_scope();
  scope->set_name("openinference.instrumentation.openai");
  scope->set_version("0.1.30");
  *scope->add_attributes() = KV("scope.k", "v");
  NormalizeOptions opts;
  opts.received_ns = 1'711'215'740'000'000'000;
  NormalizeResult r = NormalizeRequest(&req, opts);
  ASSERT_EQ(r.spans.size(), 1u);
  const model::Span& out = r.spans[0];
  EXPECT_EQ(out.trace_id().size(), 16u);
  EXPECT_EQ(out.span_id().size(), 8u);
  EXPECT_EQ(out.parent_span_id(), std::string(8, '\x05'));
  EXPECT_EQ(out.project(), "default");
  EXPECT_EQ(out.start_ns(), 1'711'215'731'420'000'000);
  EXPECT_EQ(out.end_ns(), 1'711'215'731'842'000'000);
  EXPECT_EQ(model::DurationNs(out), 422'000'000);
  EXPECT_EQ(out.received_ns(), opts.received_ns);
  EXPECT_EQ(out.status(), STATUS_OK);
  EXPECT_EQ(out.service(), "billing");
  EXPECT_EQ(out.environment(), "staging");
  EXPECT_EQ(out.version(), "2.1.0");
  EXPECT_EQ(out.attributes_size(), 2);
  EXPECT_EQ(out.resource_size(), 3);
  ASSERT_EQ(out.events_size(), 1);
  EXPECT_EQ(out.events(0).name(), "checkpoint");
  EXPECT_EQ(out.links_size(), 1);
  EXPECT_EQ(out.scope_name(), "openinference.instrumentation.openai");
  EXPECT_EQ(out.scope_version(), "0.1.30");
  EXPECT_EQ(out.scope_attributes_size(), 1);
  EXPECT_EQ(out.otel_kind(), ::opentelemetry::proto::trace::v1::Span::SPAN_KIND_CLIENT);
  EXPECT_EQ(out.trace_state(), "vendor=abc");
  EXPECT_EQ(out.dropped_attributes_count(), 3u);
  EXPECT_EQ(out.dropped_events_count(), 4u);
  EXPECT_EQ(out.dropped_links_count(), 5u);
}

// The ingest path decodes the OTLP request on an arena and makes the canonical spans on
// the same arena (attributes then move by swap): the spans must be the same as when
// normalised onto the heap, field for field.
TEST(Normalize, SpansOnTheRequestArenaEqualHeapSpans) {
  auto build = [](ExportRequest* req) {
    OtlpSpan a = MakeSpan("chat gpt-4o", {KV("gen_ai.operation.name", "chat"), KV("gen_ai.request.model", "gpt-4o"),
                                          KV("gen_ai.usage.input_tokens", 120), KV("session.id", "s-1"),
                                          KV("gen_ai.input.messages",
                                             "[{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":\"hi\"}]}]")},
                          {{"checkpoint", {KV("n", 1)}}});
    OtlpSpan b = MakeSpan("tool lookup", {KV("gen_ai.operation.name", "execute_tool"), KV("gen_ai.tool.name", "lookup"),
                                          KV("tool.args.invoice_id", "inv_1")});
    b.set_span_id(std::string(8, '\x07'));
    b.set_parent_span_id(a.span_id());
    *req = MakeRequest({a, b}, {KV("service.name", "billing"), KV("deployment.environment", "prod")});
  };
  ExportRequest heap_req;
  build(&heap_req);
  NormalizeOptions opts;
  opts.received_ns = 7;
  NormalizeResult heap = NormalizeRequest(&heap_req, opts);

  google::protobuf::Arena arena;
  auto* arena_req = google::protobuf::Arena::CreateMessage<ExportRequest>(&arena);
  build(arena_req);
  opts.arena = &arena;
  NormalizeResult on_arena = NormalizeRequest(arena_req, opts);
  ASSERT_EQ(heap.spans.size(), 2u);
  ASSERT_EQ(on_arena.spans.size(), heap.spans.size());
  for (size_t i = 0; i < heap.spans.size(); ++i) {
    EXPECT_EQ(on_arena.spans[i].GetArena(), &arena);
    EXPECT_EQ(on_arena.spans[i].SerializeAsString(), heap.spans[i].SerializeAsString()) << "span " << i;
  }
  EXPECT_EQ(on_arena.spans[0].model(), "gpt-4o");
  EXPECT_EQ(on_arena.spans[1].tool_name(), "lookup");
  // As values (what tests and tools take): copied out of the arena intact.
  std::vector<model::Span> values = std::move(on_arena.spans).ToVector();
  ASSERT_EQ(values.size(), 2u);
  EXPECT_EQ(values[0].SerializeAsString(), heap.spans[0].SerializeAsString());
  EXPECT_TRUE(on_arena.spans.empty());
}

TEST(Normalize, RepairsInvalidUtf8Everywhere) {
  const std::string bad = "ok\xC3\x28 \xFF end";  // a broken 2-byte sequence and a stray 0xFF
  OtlpSpan s = MakeSpan("name" + bad, {KV("k" + bad, bad), KV("list", Arr({Str(bad)})),
                                       KV("gen_ai.request.model", bad),
                                       KV("input.value", bad)},
                        {{"ev" + bad, {KV("m", bad)}}});
  s.mutable_status()->set_message(bad);
  model::Span out = NormalizeOne(s, {}, {KV("service.name", bad)});
  const std::string fixed = "ok\xEF\xBF\xBD( \xEF\xBF\xBD end";
  EXPECT_EQ(out.name(), "name" + fixed);
  EXPECT_EQ(out.model(), fixed);
  EXPECT_EQ(out.status_message(), fixed);
  EXPECT_EQ(out.service(), fixed);
  EXPECT_EQ(out.resource(0).value().string_value(), fixed);
  bool found = false;
  for (const auto& kv : out.attributes()) {
    EXPECT_TRUE(IsValidUtf8(kv.key()));
    if (kv.key() == "k" + fixed) found = kv.value().string_value() == fixed;
    if (kv.key() == "list") {
      EXPECT_EQ(kv.value().array_value().values(0).string_value(), fixed);
    }
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(out.events(0).name(), "ev" + fixed);
  EXPECT_EQ(out.events(0).attributes(0).value().string_value(), fixed);
  EXPECT_TRUE(IsValidUtf8(out.input_json()));
  ExpectJsonEq(out.input_json(), "\"" + fixed + "\"");
  std::string wire;
  EXPECT_TRUE(out.SerializeToString(&wire));
  model::Span back;
  EXPECT_TRUE(back.ParseFromString(wire)) << "proto3 strings must parse back";
}

TEST(Normalize, TruncatesLongValuesWithMarker) {
  NormalizeOptions opts;
  opts.max_attribute_bytes = 10;
  // "é" is two bytes: 10 is a boundary here, 11 would not be (see CutsOnUtf8Boundary).
  const std::string long_text = "ééééééééé";  // 18 bytes
  OtlpSpan s = MakeSpan("s", {KV("short", "0123456789"), KV("long", long_text),
                              KV("nested", KvList({KV("deep", Arr({Str("abcdefghijklmno")}))})),
                              KV("input.value", std::string(25, 'x'))});
  ExportRequest req = MakeRequest({s}, {KV("service.name", "a-long-service-name")});
  NormalizeResult r = NormalizeRequest(&req, opts);
  ASSERT_EQ(r.spans.size(), 1u);
  const model::Span& out = r.spans[0];
  EXPECT_EQ(out.service(), "a-long-ser\xE2\x80\xA6[truncated: 19 bytes]");  // cut once, not twice
  for (const auto& kv : out.attributes()) {
    if (kv.key() == "short") {
      EXPECT_EQ(kv.value().string_value(), "0123456789");
    }
    if (kv.key() == "long") {
      EXPECT_EQ(kv.value().string_value(), "ééééé\xE2\x80\xA6[truncated: 18 bytes]");
    }
    if (kv.key() == "nested") {
      EXPECT_EQ(kv.value().kvlist_value().values(0).value().array_value().values(0).string_value(),
                "abcdefghij\xE2\x80\xA6[truncated: 15 bytes]");
    }
    if (kv.key() == "input.value") {
      EXPECT_EQ(kv.value().string_value(), "xxxxxxxxxx\xE2\x80\xA6[truncated: 25 bytes]");
    }
  }
  ExpectJsonEq(out.input_json(), "\"xxxxxxxxxx\xE2\x80\xA6[truncated: 25 bytes]\"");
  // service.name; long, nested, input.value as attributes; input.value inside input_json.
  EXPECT_EQ(r.truncated_values, 5);
}

TEST(Normalize, CutsOnUtf8Boundary) {
  NormalizeOptions opts;
  opts.max_attribute_bytes = 11;  // mid-way through the sixth "é": keep five
  model::Span out = NormalizeOne(MakeSpan("s", {KV("long", "ééééééééé")}), opts);
  EXPECT_EQ(out.attributes(0).value().string_value(), "ééééé\xE2\x80\xA6[truncated: 18 bytes]");
  EXPECT_TRUE(IsValidUtf8(out.attributes(0).value().string_value()));
}

TEST(Normalize, TruncatesStringsInsideMessagePayloads) {
  NormalizeOptions opts;
  opts.max_attribute_bytes = 64;
  std::string content(100, 'a');
  std::string msgs = R"([{"role":"user","parts":[{"type":"text","content":")" + content + R"("}]}])";
  ExportRequest req = MakeRequest({MakeSpan("chat", {KV("gen_ai.input.messages", msgs)})});
  NormalizeResult r = NormalizeRequest(&req, opts);
  ASSERT_EQ(r.spans.size(), 1u);
  ExpectJsonEq(r.spans[0].input_json(),
               R"([{"role":"user","parts":[{"type":"text","content":")" + std::string(64, 'a') +
                   "\xE2\x80\xA6[truncated: 100 bytes]\"}]}]");
  EXPECT_EQ(r.truncated_values, 2);  // the attribute and the message text
}

struct StatusRow {
  std::string name;
  OtlpStatus::StatusCode code;
  Attrs attrs;
  SpanStatus want;
};

TEST(Normalize, StatusPrecedence) {
  const std::vector<StatusRow> rows = {
      {"OTel ERROR beats an interrupt", OtlpStatus::STATUS_CODE_ERROR, {KV("status", "interrupt")}, STATUS_ERROR},
      {"interrupt beats Langfuse ERROR", OtlpStatus::STATUS_CODE_UNSET,
       {KV("agent.status", "interrupt"), KV("langfuse.observation.level", "ERROR")}, STATUS_INTERRUPT},
      {"interrupt.reason beats OTel OK", OtlpStatus::STATUS_CODE_OK, {KV("interrupt.reason", "approval")}, STATUS_INTERRUPT},
      {"Langfuse ERROR beats OTel OK", OtlpStatus::STATUS_CODE_OK, {KV("langfuse.observation.level", "ERROR")}, STATUS_ERROR},
      {"error.type beats OTel OK", OtlpStatus::STATUS_CODE_OK, {KV("error.type", "500")}, STATUS_ERROR},
      {"status=error beats OTel OK", OtlpStatus::STATUS_CODE_OK, {KV("status", "error")}, STATUS_ERROR},
      {"OTel OK", OtlpStatus::STATUS_CODE_OK, {KV("langfuse.observation.level", "WARNING")}, STATUS_OK},
      {"nothing", OtlpStatus::STATUS_CODE_UNSET, {}, STATUS_UNSET},
  };
  for (const auto& row : rows) {
    OtlpSpan s = MakeSpan("s", row.attrs);
    s.mutable_status()->set_code(row.code);
    EXPECT_EQ(model::StatusName(NormalizeOne(s).status()), model::StatusName(row.want)) << row.name;
  }
}

TEST(Normalize, StatusMessageAndErrorTypeSources) {
  OtlpSpan s = MakeSpan("s", {KV("langfuse.observation.status_message", "lf message")},
                        {{"exception", {KV("exception.type", "ValueError"), KV("exception.message", "bad arg")}}});
  s.mutable_status()->set_code(OtlpStatus::STATUS_CODE_ERROR);
  model::Span out = NormalizeOne(s);
  EXPECT_EQ(out.status_message(), "bad arg");  // no OTel status message: the exception's
  EXPECT_EQ(out.error_type(), "ValueError");
  s.mutable_status()->set_message("boom");
  *s.add_attributes() = KV("error.type", "ToolError");
  out = NormalizeOne(s);
  EXPECT_EQ(out.status_message(), "boom");
  EXPECT_EQ(out.error_type(), "ToolError");
}

TEST(Normalize, KindPrecedenceAcrossConventions) {
  struct KindRow {
    std::string name;
    Attrs attrs;
    SpanKind want;
  };
  const std::vector<KindRow> rows = {
      {"OpenInference first", {KV("gen_ai.operation.name", "chat"), KV("langfuse.observation.type", "tool"),
                               KV("openinference.span.kind", "AGENT")}, KIND_AGENT},
      {"Langfuse before gen_ai", {KV("gen_ai.operation.name", "chat"), KV("langfuse.observation.type", "tool")}, KIND_TOOL},
      {"gen_ai before traceloop", {KV("traceloop.span.kind", "workflow"), KV("gen_ai.operation.name", "invoke_agent")}, KIND_AGENT},
      {"traceloop before attributes", {KV("traceloop.span.kind", "task"), KV("gen_ai.request.model", "gpt-4o")}, KIND_CHAIN},
      {"tool attribute before model attribute", {KV("llm.model_name", "gpt-4o"), KV("tool.name", "search")}, KIND_TOOL},
      {"tool.args.* is a tool attribute", {KV("tool.args.q", "x")}, KIND_TOOL},
      {"model attribute", {KV("langfuse.observation.model.name", "gpt-4o")}, KIND_LLM},
      {"unknown kinds fall through", {KV("openinference.span.kind", "SOMETHING"), KV("gen_ai.operation.name", "new_op")}, KIND_OTHER},
      {"nothing", {KV("http.method", "GET")}, KIND_OTHER},
  };
  for (const auto& row : rows)
    EXPECT_EQ(model::KindName(NormalizeOne(MakeSpan("s", row.attrs)).kind()), model::KindName(row.want)) << row.name;
}

TEST(Normalize, MixedConventionsFollowFieldOrder) {
  // An OpenInference-instrumented LangChain app exporting through Langfuse's OTel
  // endpoint with OpenLLMetry also installed: every convention says something.
  model::Span s = NormalizeOne(MakeSpan(
      "ChatOpenAI",
      {KV("traceloop.association.properties.session_id", "tl-session"), KV("langfuse.session.id", "lf-session"),
       KV("session.id", "oi-session"), KV("gen_ai.conversation.id", "conv-1"),
       KV("langfuse.user.id", "lf-user"), KV("enduser.id", "otel-user"),
       KV("llm.model_name", "oi-model"), KV("langfuse.observation.model.name", "lf-model"),
       KV("gen_ai.request.model", "gpt-4o"), KV("llm.provider", "oi-provider"), KV("gen_ai.system", "openai"),
       KV("tokens.in", 1), KV("llm.token_count.prompt", 2), KV("gen_ai.usage.prompt_tokens", 3),
       KV("langfuse.observation.usage_details", R"({"input": 4, "output": 5})"),
       KV("cost_usd", 0.5), KV("llm.cost.total", 0.25),
       KV("input.value", "oi input"), KV("langfuse.observation.input", "\"lf input\""),
       KV("llm.input_messages.0.message.role", "user"), KV("llm.input_messages.0.message.content", "oi message"),
       KV("gen_ai.prompt.0.role", "user"), KV("gen_ai.prompt.0.content", "traceloop message")}));
  EXPECT_EQ(s.session_id(), "oi-session");
  EXPECT_EQ(s.user_id(), "lf-user");
  EXPECT_EQ(s.model(), "gpt-4o");
  EXPECT_EQ(s.provider(), "openai");
  EXPECT_EQ(s.input_tokens(), 3);
  EXPECT_EQ(s.output_tokens(), 5);  // only Langfuse reports output
  EXPECT_DOUBLE_EQ(s.cost_usd(), 0.25);
  ExpectJsonEq(s.input_json(), R"([{"role":"user","parts":[{"type":"text","content":"oi message"}]}])");
  EXPECT_EQ(s.kind(), KIND_LLM);
}

TEST(Normalize, HostileJsonNeverCrashes) {
  std::string deep(100000, '[');
  std::vector<std::string> inputs = {deep, "{\"messages\":" + deep, "[{\"role\":1}]", "{\"a\":\"\\ud800\"}",
                                     "[{\"role\":\"user\",\"content\":{\"x\":[1,2,{}]}}]", "nul\0l", "[]", "{}"};
  for (const auto& in : inputs) {
    for (const char* key : {"gen_ai.input.messages", "input.value", "langfuse.observation.input",
                            "gen_ai.tool.call.arguments", "langfuse.observation.usage_details"}) {
      model::Span s = NormalizeOne(MakeSpan("s", {KV(key, in), KV("openinference.span.kind", "TOOL")}));
      EXPECT_TRUE(IsValidUtf8(s.input_json()));
    }
  }
  model::Span s = NormalizeOne(MakeSpan("s", {KV("llm.input_messages.999999999999.message.content", "x"),
                                              KV("llm.input_messages.-1.message.content", "y"),
                                              KV("llm.input_messages.x.message.content", "z")}));
  EXPECT_EQ(s.input_json(), "");
}

}  // namespace
}  // namespace sightline::ingest
