#include "ingest/json_parse.h"

#include <gtest/gtest.h>

#include <string>

namespace sightline::ingest {
namespace {

TEST(ReplaceLoneSurrogates, ReplacesOnlyUnpairedSurrogates) {
  EXPECT_EQ(ReplaceLoneSurrogates(R"("a\ud83d")"), R"("a\ufffd")");
  EXPECT_EQ(ReplaceLoneSurrogates(R"("\udc00x")"), R"("\ufffdx")");
  EXPECT_EQ(ReplaceLoneSurrogates(R"("\ud83d\ude00")"), R"("\ud83d\ude00")");
  EXPECT_EQ(ReplaceLoneSurrogates(R"("\ud83d\u0041")"), R"("\ufffd\u0041")");
  // An escaped backslash followed by "ud83d" is text, not an escape.
  EXPECT_EQ(ReplaceLoneSurrogates(R"("\\ud83d")"), R"("\\ud83d")");
  EXPECT_EQ(ReplaceLoneSurrogates(R"("\ud8")"), R"("\ud8")");
}

TEST(ParseJsonBounded, ParsesAndBoundsDepth) {
  rapidjson::Document doc;
  ASSERT_TRUE(ParseJsonBounded(R"({"a":[1,{"b":[]}]})", 4, &doc).ok());
  EXPECT_TRUE(doc.IsObject());
  Status st = ParseJsonBounded(R"({"a":[1,{"b":[[]]}]})", 4, &doc);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message(), "JSON nested deeper than 4 at byte 14");
}

TEST(ParseJsonBounded, HugeNestingIsAnErrorNotAStackOverflow) {
  std::string deep(1 << 20, '[');
  rapidjson::Document doc;
  Status st = ParseJsonBounded(deep, 64, &doc);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message(), "JSON nested deeper than 64 at byte 64");
}

TEST(ParseJsonBounded, NamesRapidJsonsReasonAndOffset) {
  rapidjson::Document doc;
  Status st = ParseJsonBounded(R"({"a": tru})", 64, &doc);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "JSON: Invalid value. at byte 9");
  st = ParseJsonBounded(R"({"a": 1} x)", 64, &doc);
  EXPECT_EQ(st.message(), "JSON: The document root must not be followed by other values. at byte 9");
}

// RapidJSON 1.1 reads before its buffer on a bare NaN or Infinity followed by a fraction
// or exponent (the fuzzer's "NaNe62ityRefs"): refused before it parses. Bare NaN and
// Infinity alone, and the same letters inside strings, still parse.
TEST(ParseJsonBounded, BareNanOrInfinityWithMoreOfANumberIsRefused) {
  rapidjson::Document doc;
  for (const char* bad : {"NaNe62ityRefs", "[1, NaN.5]", R"({"a": Infinity1})", "-Infe3", R"(["x", NaNE2])"}) {
    Status st = ParseJsonBounded(bad, 64, &doc);
    ASSERT_FALSE(st.ok()) << bad;
    EXPECT_NE(st.message().find("bare NaN or Infinity"), std::string::npos) << bad << ": " << st.message();
  }
  ASSERT_TRUE(ParseJsonBounded("[NaN, Infinity, -Infinity]", 64, &doc).ok());
  ASSERT_TRUE(ParseJsonBounded(R"({"NaNe62": "Infinity1", "q": "a\"NaN.5"})", 64, &doc).ok());
  EXPECT_STREQ(doc["q"].GetString(), "a\"NaN.5");
}

TEST(ParseJsonBounded, LoneSurrogateBecomesReplacementCharacter) {
  rapidjson::Document doc;
  ASSERT_TRUE(ParseJsonBounded(R"({"s":"cut \ud83d"})", 64, &doc).ok());
  EXPECT_EQ(std::string(doc["s"].GetString()), "cut \xEF\xBF\xBD");
}

}  // namespace
}  // namespace sightline::ingest
