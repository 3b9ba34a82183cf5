// The record form of a payload that repeats one of its span's attributes.
#include "store/shared_payload.h"

#include <gtest/gtest.h>

namespace sightline::store {
namespace {

void Attr(model::Span* s, const std::string& key, const std::string& value) {
  auto* kv = s->add_attributes();
  kv->set_key(key);
  kv->mutable_value()->set_string_value(value);
}

const std::string kMsg1 = R"({"role":"user","parts":[{"type":"text","content":"Where is order 1234? It was due on Monday and the tracking page shows nothing."}]})";
const std::string kMsg2 = R"({"role":"assistant","parts":[{"type":"text","content":"Let me look it up."}]})";
const std::string kSys = R"({"role":"system","parts":[{"type":"text","content":"You are Acme's support agent."}]})";

TEST(SharedPayload, TheHistoryIsKeptOnceAndPutBackWhole) {
  const std::string history = "[" + kMsg1 + "," + kMsg2 + "]";
  const std::string input = "[" + kSys + "," + kMsg1 + "," + kMsg2 + "]";
  model::Span s;
  s.set_input_json(input);
  s.set_output_json("[" + kMsg2 + "]");  // shorter than kMinSharedBytes: left whole
  Attr(&s, "llm.note", std::string(200, 'x'));
  Attr(&s, "gen_ai.input.messages", history);
  const model::Span whole = s;
  EXPECT_EQ(SharePayloads(&s), 1);
  EXPECT_TRUE(s.input_json().empty());
  EXPECT_EQ(s.input_head(), "[" + kSys + ",");
  EXPECT_EQ(s.input_tail_key(), "gen_ai.input.messages");
  EXPECT_EQ(s.output_json(), whole.output_json());
  EXPECT_EQ(SharePayloads(&s), 0);  // already in the record form
  EXPECT_LT(s.ByteSizeLong() + history.size() - kSys.size(), whole.ByteSizeLong() + 16);
  model::Span parsed;
  ASSERT_TRUE(ParseStoredSpan(s.SerializeAsString(), &parsed));
  EXPECT_EQ(parsed.SerializeAsString(), whole.SerializeAsString());
  EXPECT_TRUE(ResolvePayloads(&s));
  EXPECT_EQ(s.SerializeAsString(), whole.SerializeAsString());
}

TEST(SharedPayload, APayloadEqualToItsAttributeKeepsOneByteOfHead) {
  const std::string args = R"({"customer_id":"cus_4821","order_id":"ORD-55120","query":"refund shipping late package damaged replacement approved after review"})";
  ASSERT_GE(args.size(), kMinSharedBytes);
  model::Span s;
  s.set_input_json(args);
  s.set_output_json(args);
  Attr(&s, "gen_ai.tool.call.arguments", args);
  EXPECT_EQ(SharePayloads(&s), 2);
  EXPECT_EQ(s.input_head(), "{");
  EXPECT_EQ(s.output_head(), "{");
  EXPECT_TRUE(ResolvePayloads(&s));
  EXPECT_EQ(s.input_json(), args);
  EXPECT_EQ(s.output_json(), args);
}

TEST(SharedPayload, OnlyTheFirstStringAttributeOfAKeyIsShared) {
  const std::string history = "[" + kMsg1 + "," + kMsg2 + "]";
  model::Span s;
  s.set_input_json(history);
  Attr(&s, "gen_ai.input.messages", "[" + kMsg1 + "]");  // the first of the key: readers would take it
  Attr(&s, "gen_ai.input.messages", history);
  auto* n = s.add_attributes();  // not a string
  n->set_key("count");
  n->mutable_value()->set_int_value(7);
  EXPECT_EQ(SharePayloads(&s), 0);
  EXPECT_EQ(s.input_json(), history);
  model::Span t;
  t.set_input_json(std::string(300, 'y'));
  Attr(&t, "a", std::string(300, 'z'));  // not the payload's tail
  EXPECT_EQ(SharePayloads(&t), 0);
}

TEST(SharedPayload, AMissingAttributeLeavesThePayloadEmpty) {
  model::Span s;
  s.set_input_head("[" + kSys + ",");
  s.set_input_tail_key("gen_ai.input.messages");
  EXPECT_FALSE(ResolvePayloads(&s));
  EXPECT_TRUE(s.input_json().empty());
  EXPECT_TRUE(s.input_head().empty() && s.input_tail_key().empty());
  // A whole payload next to record fields wins; the fields are dropped.
  model::Span t;
  t.set_input_json("[1]");
  t.set_input_head("[");
  t.set_input_tail_key("k");
  Attr(&t, "k", "[2]");
  EXPECT_TRUE(ResolvePayloads(&t));
  EXPECT_EQ(t.input_json(), "[1]");
  EXPECT_TRUE(t.input_head().empty() && t.input_tail_key().empty());
  model::Span bad;
  EXPECT_FALSE(ParseStoredSpan("\xff\xff\xff", &bad));
}

}  // namespace
}  // namespace sightline::store
