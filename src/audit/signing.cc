#include "audit/signing.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

namespace sightline::audit {
namespace {

constexpr size_t kPublicBytes = 32;
constexpr size_t kSignatureBytes = 64;

std::string Hex(const unsigned char* p, size_t n) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out += kHex[p[i] >> 4];
    out += kHex[p[i] & 15];
  }
  return out;
}

bool Unhex(std::string_view hex, std::string* out) {
  if (hex.size() % 2 != 0) return false;
  out->clear();
  for (size_t i = 0; i < hex.size(); i += 2) {
    int v = 0;
    for (int j = 0; j < 2; ++j) {
      char c = hex[i + j];
      int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
      if (d < 0) return false;
      v = v * 16 + d;
    }
    out->push_back(static_cast<char>(v));
  }
  return true;
}

Result<std::string> RawPublic(EVP_PKEY* key) {
  unsigned char pub[kPublicBytes];
  size_t len = sizeof(pub);
  if (EVP_PKEY_get_raw_public_key(key, pub, &len) != 1 || len != kPublicBytes)
    return Status::InvalidArgument("not an Ed25519 key");
  return std::string(reinterpret_cast<char*>(pub), len);
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\n' || s.front() == '\r' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

AuditSigner::~AuditSigner() { EVP_PKEY_free(key_); }

Result<std::unique_ptr<AuditSigner>> AuditSigner::LoadPrivateKey(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return Status::InvalidArgument("cannot read the audit signing key " + path + ": " + std::strerror(errno));
  EVP_PKEY* key = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  if (key == nullptr || EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
    EVP_PKEY_free(key);
    return Status::InvalidArgument("the audit signing key " + path +
                                   " is not an Ed25519 private key in PEM (make one with `sightline audit keygen`)");
  }
  auto raw = RawPublic(key);
  if (!raw.ok()) {
    EVP_PKEY_free(key);
    return raw.status();
  }
  const auto* p = reinterpret_cast<const unsigned char*>(raw->data());
  return std::unique_ptr<AuditSigner>(new AuditSigner(key, *raw, Hex(p, raw->size())));
}

Result<std::string> AuditSigner::Generate(const std::string& path) {
  EVP_PKEY* key = nullptr;
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr);
  bool ok = ctx != nullptr && EVP_PKEY_keygen_init(ctx) == 1 && EVP_PKEY_keygen(ctx, &key) == 1;
  EVP_PKEY_CTX_free(ctx);
  if (!ok) return Status::Internal("cannot generate an Ed25519 key");
  std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)> owned(key, EVP_PKEY_free);
  BIO* mem = BIO_new(BIO_s_mem());
  if (mem == nullptr || PEM_write_bio_PrivateKey(mem, key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    BIO_free(mem);
    return Status::Internal("cannot encode the key");
  }
  char* data = nullptr;
  long n = BIO_get_mem_data(mem, &data);
  std::string pem(data, static_cast<size_t>(n));
  BIO_free(mem);
  // 0600 from the start, and never over an existing file (a key in use would be lost).
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return Status::InvalidArgument("cannot create " + path + ": " + std::strerror(errno) +
                                   (errno == EEXIST ? " (it exists; keygen never overwrites a key)" : ""));
  bool written = ::write(fd, pem.data(), pem.size()) == static_cast<ssize_t>(pem.size()) && ::fsync(fd) == 0;
  ::close(fd);
  OPENSSL_cleanse(pem.data(), pem.size());
  if (!written) {
    ::unlink(path.c_str());
    return Status::IOError("cannot write " + path);
  }
  SL_ASSIGN_OR_RETURN(std::string raw, RawPublic(key));
  return Hex(reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
}

std::string AuditSigner::SignatureLine(std::string_view message) const {
  unsigned char sig[kSignatureBytes];
  size_t len = sizeof(sig);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx != nullptr && EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, key_) == 1 &&
            EVP_DigestSign(ctx, sig, &len, reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok || len != kSignatureBytes) return "ed25519 " + public_hex_ + " unsigned";  // never valid; verify says so
  return "ed25519 " + public_hex_ + " " + Hex(sig, len);
}

std::string HeadMessage(uint64_t seq, const std::string& hash) {
  return "sightline-audit-head v1\n" + std::to_string(seq) + " " + hash + "\n";
}

std::string AnchorMessage(uint64_t seq, const std::string& hash, const std::string& file) {
  return "sightline-audit-anchor v1\n" + std::to_string(seq) + " " + hash + " " + file + "\n";
}

Result<std::string> LoadPublicKey(const std::string& file_or_hex) {
  std::string raw;
  std::string_view text = Trim(file_or_hex);
  if (text.size() == 2 * kPublicBytes && Unhex(text, &raw)) return raw;
  std::ifstream in(file_or_hex, std::ios::binary);
  if (!in)
    return Status::InvalidArgument("--public-key: expected 64 hex digits or a readable file, got neither (" +
                                   std::string(text.substr(0, 80)) + ")");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string content = ss.str();
  if (content.size() > 64 * 1024) return Status::InvalidArgument("--public-key: " + file_or_hex + " is too large");
  std::string_view body = Trim(content);
  if (body.size() == 2 * kPublicBytes && Unhex(body, &raw)) return raw;
  BIO* mem = BIO_new_mem_buf(content.data(), static_cast<int>(content.size()));
  EVP_PKEY* key = mem ? PEM_read_bio_PUBKEY(mem, nullptr, nullptr, nullptr) : nullptr;
  BIO_free(mem);
  if (key == nullptr || EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
    EVP_PKEY_free(key);
    return Status::InvalidArgument("--public-key: " + file_or_hex +
                                   " holds neither 64 hex digits nor an Ed25519 public key in PEM");
  }
  auto r = RawPublic(key);
  EVP_PKEY_free(key);
  return r;
}

Status CheckSignatureLine(std::string_view line, std::string_view message, const std::string& public_raw) {
  line = Trim(line);
  if (line.empty()) return Status::Corruption("not signed");
  // "ed25519 <64 hex> <128 hex>"
  if (line.substr(0, 8) != "ed25519 " || line.size() != 8 + 64 + 1 + 128 || line[8 + 64] != ' ')
    return Status::Corruption("the signature line is malformed");
  std::string pub, sig;
  if (!Unhex(line.substr(8, 64), &pub) || !Unhex(line.substr(8 + 65), &sig))
    return Status::Corruption("the signature line is malformed");
  if (pub != public_raw)
    return Status::Corruption("signed by another key (" + std::string(line.substr(8, 16)) + "...), not the one given");
  EVP_PKEY* key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                              reinterpret_cast<const unsigned char*>(public_raw.data()), public_raw.size());
  if (key == nullptr) return Status::Corruption("the public key is not a valid Ed25519 key");
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx != nullptr && EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, key) == 1 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                             reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  if (!ok) return Status::Corruption("the signature does not match (the content was changed after it was signed)");
  return Status::OK();
}

}  // namespace sightline::audit
