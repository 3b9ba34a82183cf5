// IsCanonicalTextHistory: normalisation takes a history as it came when parsing it and
// writing its messages would give the same bytes. Every case checks that implication
// against the real parse and write; the canonical ones must also be recognised.
#include "ingest/normalize/messages.h"

#include <gtest/gtest.h>

#include <random>

#include "ingest/normalize/json_out.h"

namespace sightline::ingest::norm {
namespace {

// The slow path: parse, build the messages, write them.
std::string Rewritten(const std::string& json, size_t max_bytes = size_t{1} << 20) {
  ScratchDocument doc;
  JsonOut out(max_bytes, nullptr);
  std::vector<Message> msgs;
  if (!ParseJson(json, &doc) || !MessagesFromJson(doc, false, &out, &msgs)) return "<not messages>";
  WriteMessages(msgs, &out);
  return out.Take();
}

// A JSON string body escaped as the canonical writer escapes.
std::string Escaped(const std::string& text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string o;
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': o += "\\\""; break;
      case '\\': o += "\\\\"; break;
      case '\b': o += "\\b"; break;
      case '\t': o += "\\t"; break;
      case '\n': o += "\\n"; break;
      case '\f': o += "\\f"; break;
      case '\r': o += "\\r"; break;
      default:
        if (c < 0x20) {
          o += "\\u00";
          o += kHex[c >> 4];
          o += kHex[c & 15];
        } else {
          o += ch;
        }
    }
  }
  return o;
}

std::string Msg(const std::string& role, const std::vector<std::string>& texts) {
  std::string m = R"({"role":")" + role + R"(","parts":[)";
  for (size_t i = 0; i < texts.size(); ++i) {
    if (i) m += ",";
    m += R"({"type":"text","content":")" + Escaped(texts[i]) + R"("})";
  }
  return m + "]}";
}

// json with one byte changed (to one that matters to JSON), dropped or doubled.
std::string Mutated(std::string json, std::mt19937* rng) {
  static const std::string bytes = "\"\\,:[]{} aeu0Ftx\x01\n/";
  const size_t at = (*rng)() % json.size();
  switch ((*rng)() % 3) {
    case 0: json[at] = bytes[(*rng)() % bytes.size()]; break;
    case 1: json.erase(at, 1); break;
    default: json.insert(at, 1, json[at]); break;
  }
  return json;
}

void ExpectImplication(const std::string& json, size_t max_bytes = size_t{1} << 20) {
  if (IsCanonicalTextHistory(json, max_bytes)) {
    EXPECT_EQ(Rewritten(json, max_bytes), json) << json;
  }
}

TEST(CanonicalTextHistory, CanonicalHistoriesAreRecognisedAndRewriteToThemselves) {
  std::mt19937 rng(7);
  const std::vector<std::string> atoms = {"a",  "Refund", " ",    "\"",   "\\", "\n", "\t", "\r", "\b", "\f",
                                          "\x01", "\x1f", "\x7f", "/",    "\xc3\xa9", "\xe2\x82\xac",
                                          "\xf0\x9f\x98\x80", "{", "}", "[", "]", ",", ":", std::string(1, '\0')};
  const std::vector<std::string> roles = {"system", "user", "assistant", "tool"};
  for (int round = 0; round < 500; ++round) {
    std::string json = "[";
    const int n = 1 + static_cast<int>(rng() % 5);
    for (int m = 0; m < n; ++m) {
      std::vector<std::string> texts(1 + rng() % 3);
      for (auto& t : texts)
        for (int k = static_cast<int>(rng() % 30); k > 0; --k) t += atoms[rng() % atoms.size()];
      if (m) json += ",";
      json += Msg(roles[rng() % roles.size()], texts);
    }
    json += "]";
    ASSERT_TRUE(IsCanonicalTextHistory(json, size_t{1} << 20)) << json;
    ASSERT_EQ(Rewritten(json), json);
  }
}

TEST(CanonicalTextHistory, OtherFormsAreLeftToTheParse) {
  const std::string ok = Msg("user", {"Where is order 1234?"});
  const std::vector<std::string> other = {
      "[]",
      "[" + ok + "] ",
      " [" + ok + "]",
      "[" + ok + ", " + ok + "]",
      R"([{"role": "user","parts":[{"type":"text","content":"hi"}]}])",
      R"([{"parts":[{"type":"text","content":"hi"}],"role":"user"}])",
      R"([{"role":"User","parts":[{"type":"text","content":"hi"}]}])",
      R"([{"role":"developer","parts":[{"type":"text","content":"hi"}]}])",
      R"([{"role":"model","parts":[{"type":"text","content":"hi"}]}])",
      R"([{"role":"user","name":"ann","parts":[{"type":"text","content":"hi"}]}])",
      R"([{"role":"user","parts":[]}])",
      R"([{"role":"user","parts":[{"type":"input_text","content":"hi"}]}])",
      R"([{"role":"user","parts":[{"type":"text","text":"hi"}]}])",
      R"([{"role":"user","parts":[{"type":"text","content":"hi"}],"finish_reason":"stop"}])",
      R"([{"role":"user","parts":[{"type":"text","content":"a\/b"}]}])",
      R"([{"role":"user","parts":[{"type":"text","content":"line\u000Aline"}]}])",
      R"([{"role":"user","parts":[{"type":"text","content":"caf\u00E9"}]}])",
      R"([{"role":"user","parts":[{"type":"text","content":"low\u001fhex"}]}])",
      R"([{"role":"user","parts":[{"type":"text","content":"\uD83D\uDE00"}]}])",
      "[{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":\"raw\ttab\"}]}]",
      R"([{"role":"tool","parts":[{"type":"tool_call_response","id":"c1","response":"rainy"}]}])",
      R"([{"role":"user","parts":[{"type":"text","content":"unterminated}]}])",
      R"([{"role":"user","parts":[{"type":"text","content":"hi"}]})",
      R"({"role":"user","parts":[{"type":"text","content":"hi"}]})",
  };
  for (const std::string& json : other) {
    EXPECT_FALSE(IsCanonicalTextHistory(json, size_t{1} << 20)) << json;
    ExpectImplication(json);
  }
  // A text the writer would cut is left to it.
  const std::string longer = "[" + Msg("user", {std::string(40, 'x')}) + "]";
  EXPECT_TRUE(IsCanonicalTextHistory(longer, 40));
  EXPECT_FALSE(IsCanonicalTextHistory(longer, 39));
  EXPECT_NE(Rewritten(longer, 39), longer);
}

// Canonical histories with one byte changed, dropped or doubled: whatever the
// recogniser accepts still rewrites to itself.
TEST(CanonicalTextHistory, MutatedHistoriesKeepTheImplication) {
  std::mt19937 rng(11);
  const std::string base = "[" + Msg("system", {"You are \"Acme\" support.\n"}) + "," +
                           Msg("user", {"caf\xc3\xa9 \\ \x01 done", "second part"}) + "," +
                           Msg("assistant", {"ok"}) + "]";
  ASSERT_TRUE(IsCanonicalTextHistory(base, size_t{1} << 20));
  for (int round = 0; round < 3000; ++round) {
    ExpectImplication(Mutated(base, &rng));
  }
}

// What normalisation writes for a history, element by element; "<whole parse>" when it
// leaves the history to the whole parse.
std::string ByElement(const std::string& json, size_t max_bytes = size_t{1} << 20) {
  JsonOut out(max_bytes, nullptr);
  std::string body;
  if (!CanonicalHistoryBody(json, &out, &body)) return "<whole parse>";
  return "[" + body + "]";
}

// Histories of text messages with tool calls, tool responses and other shapes among
// them: element by element gives what the whole parse gives, and takes every history
// whose elements are message objects separated by ",".
TEST(CanonicalTextHistory, ElementByElementWritesWhatTheWholeParseWrites) {
  std::mt19937 rng(5);
  const std::vector<std::string> others = {
      R"({"role":"assistant","parts":[{"type":"tool_call","id":"call_1","name":"lookup_order","arguments":{"order":1234}}]})",
      R"({"role":"tool","parts":[{"type":"tool_call_response","id":"call_1","response":{"status":"shipped","eta":"2d"}}]})",
      R"({"role":"tool","parts":[{"type":"tool_call_response","id":"call_2","response":"rainy, 57°F"}]})",
      R"({"role":"Human","content":"hi there"})",
      R"({"role":"assistant","content":null,"tool_calls":[{"id":"c9","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]})",
      R"({"role": "user", "parts": [{"type": "text", "content": "spaced"}]})",
      R"({"role":"user","parts":[{"type":"text","content":"a\/b"}],"name":"ann"})",
      R"({"role":"user","parts":[{"type":"image","uri":"https://example.com/x.png"}]})",
      R"({"role":"user","parts":[{"type":"text","content":"deep","extra":[[[[[[[[1]]]]]]]]}]})",
  };
  const std::vector<std::string> roles = {"system", "user", "assistant", "tool"};
  int taken = 0;
  for (int round = 0; round < 400; ++round) {
    std::string json = "[";
    const int n = 1 + static_cast<int>(rng() % 8);
    for (int m = 0; m < n; ++m) {
      if (m) json += ",";
      if (rng() % 3 == 0) {
        json += others[rng() % others.size()];
      } else {
        std::string t;
        for (int k = static_cast<int>(rng() % 40); k > 0; --k) t += "ab \"\n\x01\xc3\xa9/"[rng() % 10];
        json += Msg(roles[rng() % roles.size()], {t});
      }
    }
    json += "]";
    const std::string got = ByElement(json);
    ASSERT_NE(got, "<whole parse>") << json;
    ASSERT_EQ(got, Rewritten(json)) << json;
    ++taken;
  }
  EXPECT_EQ(taken, 400);
  // Not an array of message objects, or not exactly "[e,e]": left to the whole parse.
  for (const std::string& json : {std::string("[1,2]"), "[" + others[0] + ", " + others[1] + "]",
                                 std::string("[") + others[0] + "," + "\"text\"]", std::string("[]"),
                                 "[" + others[0] + "] ", "[" + others[0] + "," + R"({"role":"user",)" + "]"}) {
    EXPECT_EQ(ByElement(json), "<whole parse>") << json;
  }
  // An element as deep as the whole array may nest: alone it would parse, inside the
  // array it may not, and then the whole parse decides (it keeps the text).
  bool whole_failed = false, whole_parsed = false;
  for (int d = kMaxJsonDepth - 4; d <= kMaxJsonDepth; ++d) {
    const std::string deep = R"({"role":"user","content":)" + std::string(static_cast<size_t>(d), '[') +
                             std::string(static_cast<size_t>(d), ']') + "}";
    const std::string json = "[" + Msg("user", {"hi"}) + "," + deep + "]";
    const std::string whole = Rewritten(json), got = ByElement(json);
    (whole == "<not messages>" ? whole_failed : whole_parsed) = true;
    if (whole == "<not messages>") {
      EXPECT_EQ(got, "<whole parse>") << d;
    } else {
      EXPECT_EQ(got, whole) << d;
    }
  }
  EXPECT_TRUE(whole_failed && whole_parsed);
  // A history given up on after an element was cut leaves the count as it was: the
  // whole parse counts its cuts.
  {
    int64_t cuts = 0;
    JsonOut out(39, &cuts);
    std::string body;
    const std::string cut_then_bad = "[" + Msg("user", {"fine"}) + "," +
                                     R"({"role":"tool","parts":[{"type":"tool_call_response","id":"c","response":")" +
                                     std::string(60, 'y') + R"("}]}, 7])";
    EXPECT_FALSE(CanonicalHistoryBody(cut_then_bad, &out, &body));
    EXPECT_EQ(cuts, 0);
  }
  // A text the writer cuts is cut the same way (and counted) element by element.
  const std::string longer = "[" + Msg("user", {std::string(60, 'x')}) + "," + others[1] + "]";
  EXPECT_EQ(ByElement(longer, 39), Rewritten(longer, 39));
}

// Mutations of a mixed history: whatever element by element takes, it writes as the
// whole parse does.
TEST(CanonicalTextHistory, MutatedMixedHistoriesWriteWhatTheWholeParseWrites) {
  std::mt19937 rng(13);
  const std::string base = "[" + Msg("user", {"where is \"my\" order?\n"}) + "," +
                           R"({"role":"assistant","parts":[{"type":"tool_call","id":"c1","name":"f","arguments":{"a":[1,2]}}]})" +
                           "," + R"({"role":"tool","parts":[{"type":"tool_call_response","id":"c1","response":"ok"}]})" + "," +
                           Msg("assistant", {"shipped \x01 today"}) + "]";
  ASSERT_EQ(ByElement(base), Rewritten(base));
  int taken = 0;
  for (int round = 0; round < 3000; ++round) {
    const std::string m = Mutated(base, &rng);
    const std::string got = ByElement(m);
    if (got == "<whole parse>") continue;
    ++taken;
    ASSERT_EQ(got, Rewritten(m)) << m;
  }
  EXPECT_GT(taken, 1000);
}

}  // namespace
}  // namespace sightline::ingest::norm
