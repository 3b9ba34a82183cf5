// PEM parsing for the TLS module, on OpenSSL: certificates and private keys from the
// bytes of a file, with errors that name the file and say what is wrong with it.
// Error messages never quote the files' content (a key must not reach a log).
//
// Thread-safety: pure functions; OpenSSL's error queue is per thread and is cleared.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/status.h"

namespace sightline::tls {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct EvpPkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyFree>;

// The text of OpenSSL's oldest queued error ("key values mismatch"), or `fallback`;
// empties the queue.
std::string TakeOpenSslError(std::string_view fallback);

// Every PEM certificate in text, in order. `what` names the file in errors
// ("certificate file /etc/sightline/cert.pem"). InvalidArgument when there is none or
// one does not parse.
Result<std::vector<X509Ptr>> ParseCertificates(std::string_view text, const std::string& what);

// The one PEM private key in text (PKCS#8 "PRIVATE KEY", or "RSA/EC PRIVATE KEY").
// Never prompts for a passphrase: an encrypted key is InvalidArgument saying so.
Result<EvpPkeyPtr> ParsePrivateKey(std::string_view text, const std::string& what);

// Reads a whole PEM file through Env, bounded (1 MiB: no certificate or key is
// larger). `what` names it in errors ("key file /etc/...: cannot read: Permission denied").
Result<std::string> ReadPemFile(const std::string& path, const std::string& what);

// "CN=api.example.com,O=Example" of a certificate's subject.
std::string SubjectOf(X509* cert);
// Its subjectAltName entries, "DNS:api.example.com, IP:10.0.0.5" ("" when none).
std::string AltNamesOf(X509* cert);
// Its notAfter as Unix seconds (0 when unreadable).
int64_t NotAfterOf(X509* cert);
// The SHA-256 of its DER encoding, lower-case hex.
std::string Sha256Of(X509* cert);

}  // namespace sightline::tls
