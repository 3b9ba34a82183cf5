#include "tls/pem.h"

#include <ctime>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "common/env.h"
#include "common/hex.h"

namespace sightline::tls {
namespace {

constexpr size_t kMaxPemBytes = 1u << 20;

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

BioPtr MemBio(std::string_view text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// Refuses to ask for a passphrase: OpenSSL's default callback would prompt on the
// terminal, and a server must not wait for one.
int NoPassphrase(char*, int, int, void*) { return -1; }

}  // namespace

std::string TakeOpenSslError(std::string_view fallback) {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return std::string(fallback);
  const char* reason = ERR_reason_error_string(e);
  if (reason != nullptr) return reason;
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

Result<std::vector<X509Ptr>> ParseCertificates(std::string_view text, const std::string& what) {
  ERR_clear_error();
  if (text.size() > kMaxPemBytes) return Status::InvalidArgument(what + ": larger than 1 MiB");
  std::vector<X509Ptr> out;
  BioPtr bio = MemBio(text);
  if (!bio) return Status::Internal(what + ": out of memory");
  // Count the PEM blocks first, so that a block that does not parse is an error and
  // not the silent end of the list.
  size_t blocks = 0;
  for (size_t at = text.find("-----BEGIN CERTIFICATE-----"); at != std::string_view::npos;
       at = text.find("-----BEGIN CERTIFICATE-----", at + 1))
    ++blocks;
  for (;;) {
    X509* x = PEM_read_bio_X509(bio.get(), nullptr, NoPassphrase, nullptr);
    if (x == nullptr) break;
    out.emplace_back(x);
  }
  ERR_clear_error();  // the end of the input is queued as "no start line"
  if (blocks == 0) {
    if (text.find("PRIVATE KEY-----") != std::string_view::npos)
      return Status::InvalidArgument(what + ": holds a private key, not a certificate (are the files swapped?)");
    return Status::InvalidArgument(what + ": no PEM certificate in it (expected -----BEGIN CERTIFICATE-----)");
  }
  if (out.size() != blocks)
    return Status::InvalidArgument(what + ": certificate " + std::to_string(out.size() + 1) + " of " +
                                   std::to_string(blocks) + " does not parse");
  return out;
}

Result<EvpPkeyPtr> ParsePrivateKey(std::string_view text, const std::string& what) {
  ERR_clear_error();
  if (text.size() > kMaxPemBytes) return Status::InvalidArgument(what + ": larger than 1 MiB");
  if (text.find("-----BEGIN ENCRYPTED PRIVATE KEY-----") != std::string_view::npos ||
      text.find("Proc-Type: 4,ENCRYPTED") != std::string_view::npos)
    return Status::InvalidArgument(what +
                                   ": the private key is encrypted with a passphrase; Sightline needs it unencrypted "
                                   "(e.g. openssl pkey -in KEY -out KEY.plain) and readable only by its user");
  if (text.find("PRIVATE KEY-----") == std::string_view::npos) {
    if (text.find("-----BEGIN CERTIFICATE-----") != std::string_view::npos)
      return Status::InvalidArgument(what + ": holds a certificate, not a private key (are the files swapped?)");
    return Status::InvalidArgument(what + ": no PEM private key in it (expected -----BEGIN PRIVATE KEY-----)");
  }
  BioPtr bio = MemBio(text);
  if (!bio) return Status::Internal(what + ": out of memory");
  EVP_PKEY* k = PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr);
  if (k == nullptr) return Status::InvalidArgument(what + ": the private key does not parse: " + TakeOpenSslError("bad PEM"));
  ERR_clear_error();
  return EvpPkeyPtr(k);
}

Result<std::string> ReadPemFile(const std::string& path, const std::string& what) {
  auto text = ReadFileToString(Env::Default(), path);
  if (!text.ok()) {
    // The Env's message is "PATH: strerror"; keep the reason, name the file once.
    std::string m = text.status().message();
    if (m.rfind(path + ": ", 0) == 0) m = m.substr(path.size() + 2);
    return Status::InvalidArgument(what + ": cannot read: " + m);
  }
  if (text->empty()) return Status::InvalidArgument(what + ": the file is empty");
  if (text->size() > kMaxPemBytes) return Status::InvalidArgument(what + ": larger than 1 MiB");
  return text;
}

std::string SubjectOf(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) return "";
  X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert), 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

std::string AltNamesOf(X509* cert) {
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return "";
  std::string out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    std::string item;
    if (n->type == GEN_DNS) {
      const ASN1_STRING* s = n->d.dNSName;
      item = "DNS:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                  static_cast<size_t>(ASN1_STRING_length(s)));
    } else if (n->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* s = n->d.iPAddress;
      const unsigned char* p = ASN1_STRING_get0_data(s);
      int len = ASN1_STRING_length(s);
      if (len == 4) {
        item = "IP:" + std::to_string(p[0]) + "." + std::to_string(p[1]) + "." + std::to_string(p[2]) + "." +
               std::to_string(p[3]);
      } else {
        item = "IP:" + HexEncode(std::string_view(reinterpret_cast<const char*>(p), static_cast<size_t>(len)));
      }
    } else {
      continue;
    }
    if (!out.empty()) out += ", ";
    out += item;
  }
  GENERAL_NAMES_free(names);
  return out;
}

int64_t NotAfterOf(X509* cert) {
  const ASN1_TIME* t = X509_get0_notAfter(cert);
  struct tm tm {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return static_cast<int64_t>(timegm(&tm));
}

std::string Sha256Of(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (X509_digest(cert, EVP_sha256(), md, &n) != 1) return "";
  return HexEncode(std::string_view(reinterpret_cast<const char*>(md), n));
}

}  // namespace sightline::tls
