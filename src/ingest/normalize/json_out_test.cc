// The JSON scratch machinery normalisation runs on: JsonOut's run-at-a-time string
// writer (byte-identical to RapidJSON's Writer), ParseJson's in-situ, depth-limited
// parse, and ScratchDocument's shared per-thread pool.
#include "ingest/normalize/json_out.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace sightline::ingest::norm {
namespace {

std::string RapidJsonString(std::string_view s, bool key) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key(key ? s.data() : "k", key ? static_cast<rapidjson::SizeType>(s.size()) : 1);
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

std::string JsonOutString(std::string_view s, bool key) {
  JsonOut out(static_cast<size_t>(-1), nullptr);
  out.StartObject();
  out.Key(key ? s : "k");
  out.String(s);
  out.EndObject();
  return out.Take();
}

TEST(JsonOut, StringsAreWrittenExactlyAsRapidJsonWritesThem) {
  std::vector<std::string> rows = {
      "", "plain", "\"", "\\", "a\"b\\c", std::string(1, '\0'), "\x01\x1f\x7f", "\b\f\n\r\t/",
      "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80",
      std::string(15, 'x') + "\"", std::string(16, 'x') + "\n", std::string(17, 'x') + "\\",
      std::string(7, 'y') + "\x1f" + std::string(30, 'z'), std::string(64, 'q'),
      "\xFF\xFE invalid UTF-8 passes through as bytes",
  };
  std::mt19937_64 rng(42);
  const char pieces[] = {'a', ' ', '"', '\\', '\n', '\0', '\x1f', '\x20', '\x7f', '\x80', '\xC3', '~'};
  for (int i = 0; i < 300; ++i) {
    std::string s(rng() % 70, 'a');
    for (char& c : s) c = pieces[rng() % sizeof pieces];
    rows.push_back(s);
  }
  for (const std::string& s : rows) {
    EXPECT_EQ(JsonOutString(s, false), RapidJsonString(s, false)) << "value of " << s.size() << " bytes";
    EXPECT_EQ(JsonOutString(s, true), RapidJsonString(s, true)) << "key of " << s.size() << " bytes";
  }
}

TEST(JsonOut, NestedWritersKeepTheirOwnOutput) {
  JsonOut outer(100, nullptr);
  outer.StartArray();
  outer.String("before");
  {
    JsonOut inner(100, nullptr);
    inner.StartObject();
    inner.Key("x");
    inner.Int(1);
    inner.EndObject();
    EXPECT_EQ(inner.Take(), R"({"x":1})");
  }
  outer.String("after");
  outer.EndArray();
  EXPECT_EQ(outer.Take(), R"(["before","after"])");
  // Take resets the writer for reuse.
  outer.String("again");
  EXPECT_EQ(outer.Take(), R"("again")");
}

TEST(ParseJson, AcceptsJsonAndRefusesTheRest) {
  struct Row {
    std::string text;
    bool ok;
  };
  const std::string deep64 = std::string(64, '[') + std::string(64, ']');
  const std::string deep65 = std::string(65, '[') + std::string(65, ']');
  const std::string deep_objects = [] {
    std::string s;
    for (int i = 0; i < 65; ++i) s += "{\"a\":";
    return s + "1" + std::string(65, '}');
  }();
  const std::vector<Row> rows = {
      {R"({"a":[1,2.5,"x\n\u00e9",true,null]})", true},
      {"  [ 1 , 2 ]  ", true},
      {"\"just a string\"", true},
      {"42", true},
      {deep64, true},
      {deep65, false},
      {deep_objects, false},
      {"", false},
      {"[1,2", false},
      {"[1] trailing", false},
      {std::string("[1]\0garbage", 11), false},  // a raw NUL is never JSON
      {std::string("[\"a\0b\"]", 7), false},
      {"{'single':1}", false},
      {"[\"\\ud800\"]", false},  // lone surrogate escape: not taken as JSON
  };
  for (const Row& r : rows) {
    ScratchDocument doc;
    EXPECT_EQ(ParseJson(r.text, &doc), r.ok) << r.text.substr(0, 40);
  }
}

TEST(ParseJson, ParsedStringsDoNotDependOnTheText) {
  std::string text = R"({"role":"user","content":"hello \"world\""})";
  ScratchDocument doc;
  ASSERT_TRUE(ParseJson(text, &doc));
  text.assign(text.size(), 'X');  // the caller's buffer changes; the document does not
  EXPECT_EQ(MemberString(doc, "role"), "user");
  EXPECT_EQ(MemberString(doc, "content"), "hello \"world\"");
}

TEST(ParseJson, FailureLeavesThePreviousValue) {
  ScratchDocument doc;
  ASSERT_TRUE(ParseJson("[1,2,3]", &doc));
  EXPECT_FALSE(ParseJson("[1,", &doc));
  ASSERT_TRUE(doc.IsArray());
  EXPECT_EQ(doc.Size(), 3u);
}

TEST(ScratchDocument, DocumentsAliveTogetherShareThePoolSafely) {
  // Outgrow the pool's first buffer (256 KiB) while other documents are alive.
  std::string big = "[";
  for (int i = 0; i < 20000; ++i) big += (i ? ",\"" : "\"") + std::to_string(i) + "\"";
  big += "]";
  for (int round = 0; round < 3; ++round) {  // the pool is cleared and reused between rounds
    ScratchDocument a;
    ASSERT_TRUE(ParseJson(R"({"name":"first"})", &a));
    {
      ScratchDocument b;
      ASSERT_TRUE(ParseJson(big, &b));
      ScratchDocument c;
      ASSERT_TRUE(ParseJson(R"(["third"])", &c));
      EXPECT_EQ(b.Size(), 20000u);
      EXPECT_STREQ(b[19999].GetString(), "19999");
      EXPECT_STREQ(c[0].GetString(), "third");
    }
    EXPECT_EQ(MemberString(a, "name"), "first");
    // Values added through the shared allocator behave as in any document.
    a.AddMember("added", rapidjson::Value("v"), a.GetAllocator());
    EXPECT_EQ(MemberString(a, "added"), "v");
  }
}

TEST(ScratchDocument, PlainDocumentsStillParse) {
  rapidjson::Document doc;  // its own allocator: ParseJson's copy lives there
  ASSERT_TRUE(ParseJson(R"({"k":"v"})", &doc));
  EXPECT_EQ(MemberString(doc, "k"), "v");
}

}  // namespace
}  // namespace sightline::ingest::norm
