// Signatures over the audit trail's HEAD and ANCHOR (docs/audit.md, "Signed head").
//
// A hash chain proves the trail unchanged since a hash someone holds; whoever can
// write the data directory can rewrite every record and recompute the chain. With a
// signing key kept outside the data directory, the server signs HEAD (the last
// durable record) and ANCHOR (the last record retention dropped) with Ed25519, and
// `sightline audit verify --public-key` refuses a chain whose end is not signed by
// that key: a rewritten chain needs the private key to be believed.
//
// What is signed, so a HEAD signature cannot pass for an ANCHOR's:
//   "sightline-audit-head v1\n<seq> <hash>\n"
//   "sightline-audit-anchor v1\n<seq> <hash> <file>\n"
// The signature is the second line of the file:
//   ed25519 <public key, 64 hex> <signature, 128 hex>
//
// Keys: PEM (PKCS #8) private key files, as `openssl genpkey -algorithm ed25519`
// writes them; public keys as 64 hex digits (the raw 32 bytes) or a PEM public key
// file.
//
// Thread-safety: AuditSigner is immutable once loaded; Sign may run on any thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace sightline::audit {

class AuditSigner {
 public:
  // InvalidArgument naming the file when it is not an Ed25519 private key.
  static Result<std::unique_ptr<AuditSigner>> LoadPrivateKey(const std::string& path);
  // A new key written to path (created 0600; an existing file is never overwritten).
  // Returns the public key, 64 hex digits.
  static Result<std::string> Generate(const std::string& path);
  ~AuditSigner();
  AuditSigner(const AuditSigner&) = delete;
  AuditSigner& operator=(const AuditSigner&) = delete;

  const std::string& public_hex() const { return public_hex_; }
  const std::string& public_raw() const { return public_raw_; }
  // The signature line (without '\n') for message.
  std::string SignatureLine(std::string_view message) const;

 private:
  AuditSigner(EVP_PKEY* key, std::string public_raw, std::string public_hex)
      : key_(key), public_raw_(std::move(public_raw)), public_hex_(std::move(public_hex)) {}
  EVP_PKEY* key_;
  std::string public_raw_;
  std::string public_hex_;
};

// The messages signed for HEAD and ANCHOR (see above).
std::string HeadMessage(uint64_t seq, const std::string& hash);
std::string AnchorMessage(uint64_t seq, const std::string& hash, const std::string& file);

// A public key from 64 hex digits or a file (PEM public key, or a file holding the
// 64 hex digits); the raw 32 bytes. InvalidArgument saying what was wrong.
Result<std::string> LoadPublicKey(const std::string& file_or_hex);

// Checks a signature line against message and the raw public key. OK, or
// Corruption saying why (malformed, another key, wrong signature).
Status CheckSignatureLine(std::string_view line, std::string_view message, const std::string& public_raw);

}  // namespace sightline::audit
