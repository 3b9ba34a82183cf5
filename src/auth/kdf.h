// Secrets at rest: PBKDF2-HMAC-SHA256 with a per-secret random salt for API keys, CLI
// tokens and passwords (docs/auth.md), and the helpers the key formats need (random
// text, SHA-256 for the hot-path cache, constant-time comparison).
//
// A stored hash is one self-describing string, so the iteration count can rise later
// without a migration:  pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>
//
// Thread-safety: pure functions (OpenSSL's RAND and EVP are thread-safe).
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace sightline::auth {

// OWASP's 2023 floor for PBKDF2-HMAC-SHA256 is 600k for low-entropy passwords; API keys
// and tokens carry 190 bits of randomness, so their hash only has to make a stolen
// database useless, not to slow a dictionary. One count for both keeps one code path;
// tests pass a small count.
inline constexpr int kDefaultIterations = 210'000;

// "pbkdf2-sha256$..." for secret with a fresh 16-byte salt.
std::string HashSecret(std::string_view secret, int iterations);
// True when secret matches stored (a malformed stored string never matches).
bool VerifySecret(std::string_view secret, std::string_view stored);

// n random characters from [A-Za-z0-9] (uniform: rejection-sampled).
std::string RandomAlnum(size_t n);
// n random bytes as 2n lower-case hex digits.
std::string RandomHex(size_t n_bytes);
// SHA-256 of data, raw 32 bytes.
std::string Sha256(std::string_view data);
// Constant-time equality for equal-length inputs (false, early, on a length mismatch).
bool ConstantTimeEqual(std::string_view a, std::string_view b);

}  // namespace sightline::auth
