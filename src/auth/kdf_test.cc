#include "auth/kdf.h"

#include <gtest/gtest.h>

namespace sightline::auth {
namespace {

TEST(Kdf, HashVerifiesOnlyItsSecret) {
  std::string h = HashSecret("correct horse", 1000);
  EXPECT_EQ(h.rfind("pbkdf2-sha256$1000$", 0), 0u) << h;
  EXPECT_TRUE(VerifySecret("correct horse", h));
  EXPECT_FALSE(VerifySecret("correct horsE", h));
  EXPECT_FALSE(VerifySecret("", h));
}

TEST(Kdf, SaltIsPerHash) {
  EXPECT_NE(HashSecret("same", 10), HashSecret("same", 10));
}

TEST(Kdf, MalformedStoredNeverMatches) {
  for (const char* bad : {"", "x", "pbkdf2-sha256$", "pbkdf2-sha256$0$00$00", "pbkdf2-sha256$10$zz$00",
                          "md5$10$00$00", "pbkdf2-sha256$10$00$0011"}) {
    EXPECT_FALSE(VerifySecret("s", bad)) << bad;
  }
}

TEST(Kdf, KnownVector) {
  // RFC 7914 section 11's PBKDF2-HMAC-SHA256 vector: P="passwd", S="salt", c=1.
  EXPECT_TRUE(VerifySecret("passwd",
                           "pbkdf2-sha256$1$73616c74$55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"));
}

TEST(Kdf, RandomTextHasTheAskedShape) {
  std::string a = RandomAlnum(32);
  ASSERT_EQ(a.size(), 32u);
  for (char c : a) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << a;
  EXPECT_NE(a, RandomAlnum(32));
  EXPECT_EQ(RandomHex(6).size(), 12u);
  EXPECT_EQ(Sha256("").size(), 32u);
  EXPECT_TRUE(ConstantTimeEqual("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEqual("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEqual("abc", "ab"));
}

}  // namespace
}  // namespace sightline::auth
