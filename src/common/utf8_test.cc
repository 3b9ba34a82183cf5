#include "common/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace sightline {
namespace {

struct Utf8Case {
  std::string name;
  std::string input;
  bool valid;
  std::string repaired;
};

const std::string R = "\xEF\xBF\xBD";  // U+FFFD

class Utf8Test : public ::testing::TestWithParam<Utf8Case> {};

TEST_P(Utf8Test, ValidatesAndRepairs) {
  const Utf8Case& c = GetParam();
  EXPECT_EQ(IsValidUtf8(c.input), c.valid);
  std::string repaired = RepairUtf8(c.input);
  EXPECT_EQ(repaired, c.repaired);
  EXPECT_TRUE(IsValidUtf8(repaired));
  std::string in_place = c.input;
  EXPECT_EQ(RepairUtf8InPlace(&in_place), !c.valid);
  EXPECT_EQ(in_place, c.repaired);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, Utf8Test,
    ::testing::Values(
        Utf8Case{"Empty", "", true, ""},
        Utf8Case{"Ascii", "hello, world: a long ascii run", true, "hello, world: a long ascii run"},
        Utf8Case{"TwoByte", "caf\xC3\xA9", true, "caf\xC3\xA9"},
        Utf8Case{"ThreeByte", "\xE2\x82\xAC 10", true, "\xE2\x82\xAC 10"},
        Utf8Case{"FourByte", "\xF0\x9F\x98\x80!", true, "\xF0\x9F\x98\x80!"},
        Utf8Case{"MaxCodePoint", "\xF4\x8F\xBF\xBF", true, "\xF4\x8F\xBF\xBF"},
        Utf8Case{"NulIsValid", std::string("a\0b", 3), true, std::string("a\0b", 3)},
        Utf8Case{"StrayContinuation", "a\x80z", false, "a" + R + "z"},
        Utf8Case{"TwoBadBytes", "\xFF\xFE", false, R + R},
        Utf8Case{"TruncatedThreeByte", "a\xE2\x82z", false, "a" + R + "z"},
        Utf8Case{"TruncatedAtEnd", "abcdefghij\xF0\x9F\x98", false, "abcdefghij" + R},
        Utf8Case{"OverlongTwoByte", "\xC0\xAF", false, R + R},
        Utf8Case{"OverlongThreeByte", "\xE0\x80\xAF", false, R + R + R},
        Utf8Case{"Surrogate", "\xED\xA0\x80", false, R + R + R},
        Utf8Case{"AboveMax", "\xF4\x90\x80\x80", false, R + R + R + R},
        Utf8Case{"F5Lead", "\xF5\x80", false, R + R},
        Utf8Case{"Latin1Text", "Gr\xFC\xDF" "e", false, "Gr" + R + R + "e"},
        Utf8Case{"ValidAfterInvalid", "\x80\xC3\xA9", false, R + "\xC3\xA9"}),
    [](const auto& info) { return info.param.name; });

TEST(Utf8, PrefixLengthStopsAtFirstBadByte) {
  EXPECT_EQ(ValidUtf8PrefixLength("abc"), 3u);
  EXPECT_EQ(ValidUtf8PrefixLength("abcdefghijkl\xC3\xA9\xFFxyz"), 14u);
}

TEST(Utf8, EveryByteStringRepairsToValid) {
  // Exhaustive over all 1- and 2-byte strings and a sample of 3-byte ones.
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      std::string s{static_cast<char>(a), static_cast<char>(b)};
      ASSERT_TRUE(IsValidUtf8(RepairUtf8(s))) << a << "," << b;
      s.push_back(static_cast<char>((a * 7 + b) & 0xff));
      ASSERT_TRUE(IsValidUtf8(RepairUtf8(s))) << a << "," << b;
    }
  }
}

}  // namespace
}  // namespace sightline
