#include <gtest/gtest.h>

#include <random>
#include <string>

#include "ingest/otlp_decode.h"

namespace sightline::ingest {
namespace {

std::string Pseudorandom(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>("abcdefgh \n{}\"0123456789"[rng() % 24]);
  return s;
}

TEST(Gzip, RoundTripsVariousSizes) {
  for (size_t n : {0u, 1u, 100u, 70000u, 1u << 20}) {
    std::string data = Pseudorandom(n, n);
    std::string gz = Gzip(data);
    auto out = GunzipBounded(gz, 64u << 20);
    ASSERT_TRUE(out.ok()) << n << ": " << out.status().ToString();
    EXPECT_EQ(*out, data) << n;
  }
}

TEST(Gzip, OutputExactlyAtLimitIsAccepted) {
  std::string data = Pseudorandom(100000, 1);
  std::string gz = Gzip(data);
  EXPECT_TRUE(GunzipBounded(gz, data.size()).ok());
  auto over = GunzipBounded(gz, data.size() - 1);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.status().code(), StatusCode::kTooLarge);
  EXPECT_EQ(over.status().message(), "decompressed body exceeds 99999 bytes");
}

TEST(Gzip, BombStopsAtTheLimit) {
  // 64 MiB of zeros compresses to ~64 KB; its ISIZE trailer even tells the truth, and
  // the limit still wins.
  std::string bomb = Gzip(std::string(64u << 20, '\0'));
  ASSERT_LT(bomb.size(), 100u << 10);
  auto out = GunzipBounded(bomb, 1u << 20);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kTooLarge);
  EXPECT_EQ(out.status().message(), "decompressed body exceeds 1048576 bytes");
}

TEST(Gzip, LyingSizeTrailerDoesNotMatter) {
  std::string data = Pseudorandom(5000, 2);
  std::string gz = Gzip(data);
  // ISIZE says 4 GiB - 1; the CRC still passes, only the length check fails.
  std::string lying = gz;
  for (size_t i = lying.size() - 4; i < lying.size(); ++i) lying[i] = '\xff';
  auto out = GunzipBounded(lying, 1u << 20);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(out.status().message().find("incorrect length check"), std::string::npos) << out.status().message();
}

TEST(Gzip, ConcatenatedMembersAreOneBody) {
  std::string gz = Gzip("hello, ") + Gzip("world");
  auto out = GunzipBounded(gz, 1000);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, "hello, world");
}

struct BadGzip {
  std::string name;
  std::string body;
  std::string message_part;
};

class GzipErrors : public ::testing::TestWithParam<BadGzip> {};

TEST_P(GzipErrors, InvalidArgumentNamingTheProblem) {
  auto out = GunzipBounded(GetParam().body, 1u << 20);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(out.status().message().find(GetParam().message_part), std::string::npos) << out.status().message();
}

std::string Corrupted() {
  std::string gz = Gzip(Pseudorandom(10000, 3));
  for (size_t i = 20; i < 60; ++i) gz[i] = static_cast<char>(gz[i] ^ 0x5a);
  return gz;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, GzipErrors,
    ::testing::Values(BadGzip{"Empty", "", "empty body"},
                      BadGzip{"NotGzip", "{\"resourceSpans\":[]}", "incorrect header check"},
                      BadGzip{"Truncated", Gzip(Pseudorandom(10000, 4)).substr(0, 200), "truncated"},
                      BadGzip{"HeaderOnly", Gzip("abc").substr(0, 10), "truncated"},
                      BadGzip{"Corrupt", Corrupted(), "gzip: corrupt stream"},
                      BadGzip{"TrailingGarbage", Gzip("abc") + "garbage!", "gzip:"}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace sightline::ingest
