// Moving received values into canonical spans: whether the request was decoded on an
// arena (element-wise moves) or on the heap (swaps), normalisation must give the same
// spans, and values with unknown fields must arrive whole.
#include "ingest/normalize/otlp_move.h"

#include <google/protobuf/arena.h>
#include <google/protobuf/unknown_field_set.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <random>

#include "ingest/normalize/normalize.h"
#include "ingest/normalize/normalize_test_util.h"
#include "ingest/otlp_test_util.h"
#include "ingest/request_arena.h"

namespace sightline::ingest::norm {
namespace {

using google::protobuf::util::MessageDifferencer;

void ExpectSameSpans(const NormalizeResult& a, const NormalizeResult& b) {
  ASSERT_EQ(a.spans.size(), b.spans.size());
  EXPECT_EQ(a.rejected, b.rejected);
  EXPECT_EQ(a.error_message, b.error_message);
  for (size_t i = 0; i < a.spans.size(); ++i) {
    std::string diff;
    MessageDifferencer d;
    d.ReportDifferencesToString(&diff);
    EXPECT_TRUE(d.Compare(a.spans[i], b.spans[i])) << "span " << i << ": " << diff;
  }
}

// Normalises the same bytes decoded on the heap and on a RequestArena.
void ExpectArenaMatchesHeap(const ExportRequest& request) {
  const std::string bytes = request.SerializeAsString();
  NormalizeOptions opts;
  opts.received_ns = 1234;
  ExportRequest heap;
  ASSERT_TRUE(DecodeOtlpProtobuf(bytes, &heap).ok());
  NormalizeResult from_heap = NormalizeRequest(&heap, opts);
  RequestArena arena;
  ExportRequest* on_arena = arena.NewRequest();
  ASSERT_TRUE(DecodeOtlpProtobuf(bytes, on_arena).ok());
  NormalizeResult from_arena = NormalizeRequest(on_arena, opts);
  ExpectSameSpans(from_heap, from_arena);
}

TEST(OtlpMove, ArenaDecodedRequestsNormaliseLikeHeapDecodedOnes) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 200; ++i) ExpectArenaMatchesHeap(testing::RandomRequest(rng));
  ExpectArenaMatchesHeap(testing::SampleRequest());
}

TEST(OtlpMove, PayloadSpansNormaliseLikeHeapDecodedOnes) {
  using namespace testutil;
  const std::string history =
      R"([{"role":"system","parts":[{"type":"text","content":"You are a support agent."}]},)"
      R"({"role":"user","parts":[{"type":"text","content":"Where is my \"refund\"?\n"}]},)"
      R"({"role":"assistant","parts":[{"type":"tool_call","id":"c1","name":"lookup","arguments":{"id":42}}]},)"
      R"({"role":"tool","parts":[{"type":"tool_call_response","id":"c1","response":"found"}]}])";
  OtlpSpan llm = MakeSpan("chat", {KV("gen_ai.operation.name", "chat"), KV("gen_ai.input.messages", history),
                                   KV("gen_ai.output.messages", R"([{"role":"assistant","parts":[{"type":"text","content":"Done."}],"finish_reason":"stop"}])"),
                                   KV("gen_ai.request.model", "gpt-4o"), KV("llm.input_messages.0.message.role", "user"),
                                   KV("llm.input_messages.0.message.content", "hi"),
                                   KV("nested", KvList({KV("a", Arr({Int(1), Str("two")})), KV("b", Bool(true))}))},
                           {{"gen_ai.user.message", {KV("content", "old style")}}});
  OtlpSpan tool = MakeSpan("execute_tool lookup", {KV("gen_ai.operation.name", "execute_tool"),
                                                   KV("gen_ai.tool.call.arguments", R"({"id":42})"),
                                                   KV("gen_ai.tool.call.result", "plain text result")});
  auto* link = llm.add_links();
  link->set_trace_id(std::string(16, '\x05'));
  link->set_span_id(std::string(8, '\x06'));
  link->set_flags(257);
  *link->add_attributes() = KV("link.kind", "follows");
  ExpectArenaMatchesHeap(MakeRequest({llm, tool}));
}

TEST(OtlpMove, UnknownFieldsArriveWhole) {
  google::protobuf::Arena arena;
  auto* from = google::protobuf::Arena::CreateMessage<ExportRequest>(&arena);
  auto* span = from->add_resource_spans()->add_scope_spans()->add_spans();
  KeyValue* kv = span->add_attributes();
  kv->set_key("k");
  kv->mutable_value()->set_string_value("v");
  kv->GetReflection()->MutableUnknownFields(kv)->AddVarint(99, 7);
  KeyValue* nested = span->add_attributes();
  nested->set_key("list");
  AnyValue* inner = nested->mutable_value()->mutable_array_value()->add_values();
  inner->GetReflection()->MutableUnknownFields(inner)->AddLengthDelimited(42, "future");
  auto* ev = span->add_events();
  ev->set_name("e");
  ev->GetReflection()->MutableUnknownFields(ev)->AddVarint(77, 1);

  const ExportRequest expected = *from;  // a heap copy, before the move hollows *from
  const auto& want = expected.resource_spans(0).scope_spans(0).spans(0);
  KeyValues attrs;
  OtlpEvents events;
  MoveKeyValues(span->mutable_attributes(), &attrs);
  MoveEvents(span->mutable_events(), &events);
  ASSERT_EQ(attrs.size(), 2);
  EXPECT_TRUE(MessageDifferencer::Equals(attrs[0], want.attributes(0)));
  EXPECT_TRUE(MessageDifferencer::Equals(attrs[1], want.attributes(1)));
  EXPECT_EQ(attrs[0].GetReflection()->GetUnknownFields(attrs[0]).field_count(), 1);
  ASSERT_EQ(events.size(), 1);
  EXPECT_TRUE(MessageDifferencer::Equals(events[0], want.events(0)));
}

TEST(OtlpMove, AppendsAfterWhatIsThere) {
  using namespace testutil;
  KeyValues to, from;
  *to.Add() = KV("first", "1");
  *from.Add() = KV("second", Int(2));
  *from.Add() = KV("third", Arr({Str("x")}));
  MoveKeyValues(&from, &to);  // same (no) arena, but *to is not empty: element-wise
  ASSERT_EQ(to.size(), 3);
  EXPECT_EQ(to[0].key(), "first");
  EXPECT_EQ(to[1].value().int_value(), 2);
  EXPECT_EQ(to[2].value().array_value().values(0).string_value(), "x");

  KeyValues swapped;
  MoveKeyValues(&to, &swapped);  // empty destination, same arena: a swap
  EXPECT_EQ(swapped.size(), 3);
  EXPECT_TRUE(to.empty());
}

}  // namespace
}  // namespace sightline::ingest::norm
