#include "auth/kdf.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cstdlib>
#include <stdexcept>

#include "common/hex.h"

namespace sightline::auth {
namespace {

constexpr std::string_view kScheme = "pbkdf2-sha256";
constexpr size_t kSaltBytes = 16;
constexpr size_t kHashBytes = 32;

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  // RAND_bytes fails only when the OS entropy source is broken: nothing safe to do.
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) std::abort();
  return out;
}

std::string Derive(std::string_view secret, std::string_view salt, int iterations) {
  std::string out(kHashBytes, '\0');
  PKCS5_PBKDF2_HMAC(secret.data(), static_cast<int>(secret.size()), reinterpret_cast<const unsigned char*>(salt.data()),
                    static_cast<int>(salt.size()), iterations, EVP_sha256(), static_cast<int>(kHashBytes),
                    reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

}  // namespace

std::string HashSecret(std::string_view secret, int iterations) {
  std::string salt = RandomBytes(kSaltBytes);
  return std::string(kScheme) + "$" + std::to_string(iterations) + "$" + HexEncode(salt) + "$" +
         HexEncode(Derive(secret, salt, iterations));
}

bool VerifySecret(std::string_view secret, std::string_view stored) {
  // Split into the four parts.
  std::string_view parts[4];
  for (int i = 0; i < 3; ++i) {
    size_t d = stored.find('$');
    if (d == std::string_view::npos) return false;
    parts[i] = stored.substr(0, d);
    stored.remove_prefix(d + 1);
  }
  parts[3] = stored;
  if (parts[0] != kScheme || parts[1].empty() || parts[1].size() > 9) return false;
  int iterations = 0;
  for (char c : parts[1]) {
    if (c < '0' || c > '9') return false;
    iterations = iterations * 10 + (c - '0');
  }
  if (iterations < 1) return false;
  auto salt = HexDecode(parts[2]);
  auto want = HexDecode(parts[3]);
  if (!salt || !want || want->size() != kHashBytes) return false;
  return ConstantTimeEqual(Derive(secret, *salt, iterations), *want);
}

std::string RandomAlnum(size_t n) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string out;
  out.reserve(n);
  while (out.size() < n) {
    for (unsigned char b : RandomBytes(n)) {
      if (b >= 248) continue;  // 248 = 62 * 4: keeps the draw uniform
      out.push_back(kAlphabet[b % 62]);
      if (out.size() == n) break;
    }
  }
  return out;
}

std::string RandomHex(size_t n_bytes) { return HexEncode(RandomBytes(n_bytes)); }

std::string Sha256(std::string_view data) {
  std::string out(SHA256_DIGEST_LENGTH, '\0');
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace sightline::auth
