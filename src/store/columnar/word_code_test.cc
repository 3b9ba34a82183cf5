// Word coding of payload frames (word_code.h): exact round trips, which frames are
// coded, and the refusals of a malformed coded frame.
#include "store/columnar/word_code.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "store/columnar/columnar_format.h"

namespace sightline::store::columnar {
namespace {

const char* const kWords[] = {"refund", "order",  "tracking", "the",      "package", "delivery", "we",
                              "account", "invoice", "review", "policy",   "within",  "thirty",   "days",
                              "escalate", "ticket", "credit", "card",     "I",       "a",        "Customer"};

// Chat messages as agents send them: JSON around prose.
std::string Prose(size_t bytes, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s;
  while (s.size() < bytes) {
    s += "{\"role\":\"assistant\",\"parts\":[{\"type\":\"text\",\"content\":\"";
    const int words = 5 + static_cast<int>(rng() % 60);
    for (int w = 0; w < words; ++w) {
      if (w) s += rng() % 9 ? " " : ", ";
      s += kWords[rng() % (sizeof(kWords) / sizeof(kWords[0]))];
    }
    s += ".\\n\"}]}";
  }
  return s;
}

std::string Expand(std::string_view coded, size_t raw_len) {
  std::string out, why;
  EXPECT_TRUE(WordDecode(coded, raw_len, &out, &why)) << why;
  return out;
}

TEST(WordCode, ProseIsCodedAndExpandsToTheSameBytes) {
  const std::string raw = Prose(256 * 1024, 1);
  std::string coded;
  ASSERT_TRUE(WordEncode(raw, &coded));
  // 21 words of 1-8 letters: each occurrence becomes one byte, the space before it included.
  EXPECT_LT(coded.size(), raw.size() / 2);
  EXPECT_EQ(Expand(coded, raw.size()), raw);
  // The codes are byte values the frame does not use, so every other byte is itself.
  for (size_t x = 0, i = 1; x < static_cast<uint8_t>(coded[0]); ++x) {
    EXPECT_EQ(raw.find(coded[i]), std::string::npos) << "code " << static_cast<int>(static_cast<uint8_t>(coded[i]));
    i += 2 + static_cast<uint8_t>(coded[i + 1]);
  }
}

TEST(WordCode, FramesItDoesNotShrinkEnoughAreLeftAlone) {
  std::string coded;
  // Too small for a table to pay.
  EXPECT_FALSE(WordEncode(Prose(kWordCodeMinBytes - 1, 2).substr(0, kWordCodeMinBytes - 1), &coded));
  // Numbers and punctuation: nothing to code.
  std::mt19937 rng(3);
  std::string numbers;
  while (numbers.size() < 64 * 1024) numbers += "{\"id\":" + std::to_string(rng()) + ",\"v\":[1,2,3]},";
  EXPECT_FALSE(WordEncode(numbers, &coded));
  // Prose that uses every byte value but three: no codes left to give.
  std::string all = Prose(64 * 1024, 4);
  for (int b = 3; b < 256; ++b) all.push_back(static_cast<char>(b));
  EXPECT_FALSE(WordEncode(all, &coded));
  // With a few byte values free, the most valuable words still get them.
  std::string most = Prose(64 * 1024, 5);
  for (int b = 0; b < 256; ++b)
    if (b < 0x80 || b > 0x93) most.push_back(static_cast<char>(b));
  ASSERT_TRUE(WordEncode(most, &coded));
  EXPECT_LE(static_cast<uint8_t>(coded[0]), 20);
  EXPECT_EQ(Expand(coded, most.size()), most);
}

// Random bytes with runs of letters and spaces in between (words at the frame's edges,
// words longer than kMaxWordBytes, high bytes, NULs): every frame the encoder takes
// expands back exactly.
TEST(WordCode, MixedBytesRoundTrip) {
  std::mt19937 rng(6);
  int coded_frames = 0;
  for (int round = 0; round < 200; ++round) {
    std::vector<std::string> words(2 + rng() % 60);
    for (auto& w : words) {
      w.resize(1 + rng() % 12);
      for (auto& c : w) c = static_cast<char>((rng() % 2 ? 'a' : 'A') + rng() % 26);
    }
    std::string raw;
    const size_t size = kWordCodeMinBytes + rng() % 40000;
    while (raw.size() < size) {
      raw += words[rng() % words.size()];
      const uint32_t r = rng() % 100;
      if (r < 70) {
        raw.push_back(' ');
      } else if (r < 85) {
        raw.push_back(static_cast<char>(rng() % (round % 2 ? 256 : 128)));
      } else if (r < 88) {
        raw.append(static_cast<size_t>(kMaxWordBytes - 2 + rng() % 5), 'q');
      }  // else: the next word runs on from this one
    }
    std::string coded;
    if (!WordEncode(raw, &coded)) continue;
    ++coded_frames;
    ASSERT_EQ(Expand(coded, raw.size()), raw) << "round " << round;
  }
  EXPECT_GT(coded_frames, 100);
}

TEST(WordCode, MalformedCodedFramesAreRefused) {
  const std::string raw = Prose(8 * 1024, 7);
  std::string coded, out, why;
  ASSERT_TRUE(WordEncode(raw, &coded));
  ASSERT_EQ(Expand(coded, raw.size()), raw);
  auto refused = [&](const std::string& bytes, size_t raw_len, const std::string& what) {
    why.clear();
    EXPECT_FALSE(WordDecode(bytes, raw_len, &out, &why));
    EXPECT_NE(why.find(what), std::string::npos) << why;
  };
  refused("", raw.size(), "without its table");
  refused(coded, raw.size() - 1, "does not expand to its raw length");
  refused(coded, raw.size() + 1, "does not expand to its raw length");
  refused(coded + "x", raw.size(), "does not expand to its raw length");
  refused(coded.substr(0, 3), raw.size(), "cut short");
  // Two entries for one code, and an empty entry.
  refused(std::string("\x02\x80\x01" "a" "\x80\x01" "b", 7) + "ab", 2, "given twice");
  refused(std::string("\x01\x80\x00", 3) + "ab", 2, "empty word");
  refused(std::string("\x01\x80\x31", 3) + std::string(49, 'a'), 49, "bytes in the table");
  // A small valid one: code 0x80 is " the".
  const std::string tiny = std::string("\x01\x80\x04 the", 7) + "x\x80\x80";
  ASSERT_TRUE(WordDecode(tiny, 9, &out, &why)) << why;
  EXPECT_EQ(out, "x the the");
}

// Payload frames written by compaction (CompressTextFrame at kZstdLevel) are word-coded
// when that pays and read back through DecompressFrame; the flush's level never codes.
TEST(WordCode, CompactionFramesAreWordCodedAndReadBack) {
  const std::string prose = Prose(256 * 1024, 8);
  std::string stored, plain, back, why;
  ASSERT_EQ(CompressTextFrame(prose, &stored, kZstdLevel), kCodecWordZstd);
  ASSERT_TRUE(DecompressFrame(stored, kCodecWordZstd, prose.size(), &back, &why)) << why;
  EXPECT_EQ(back, prose);
  // Smaller than the same frame without the word coding.
  std::string coded;
  ASSERT_TRUE(WordEncode(prose, &coded));
  ASSERT_EQ(CompressChunk(prose, &plain, kZstdLevel), kCodecZstd);
  EXPECT_LT(stored.size(), plain.size());
  // Chunks never hold the word codec; a frame's zstd bytes are not word-coded bytes.
  EXPECT_FALSE(DecompressChunk(stored, kCodecWordZstd, prose.size(), &back, &why));
  EXPECT_FALSE(DecompressFrame(plain, kCodecWordZstd, prose.size(), &back, &why));
  EXPECT_FALSE(DecompressFrame(stored, kCodecWordZstd, prose.size() + 1, &back, &why));
  // The flush's level: what CompressChunk writes.
  EXPECT_EQ(CompressTextFrame(prose, &stored, kFlushZstdLevel), kCodecZstd);
}

}  // namespace
}  // namespace sightline::store::columnar
