// Test helpers: a throwaway PKI made at test time with OpenSSL (a CA, certificates it
// signs, keys), written as PEM files into a fresh temp directory. Test-only; included
// by *_test.cc files of the tls, api and cli modules.
#pragma once

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace sightline::tls::testing {

struct TestKey {
  std::shared_ptr<EVP_PKEY> pkey;
  std::string Pem() const {
    BIO* b = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(b, pkey.get(), nullptr, nullptr, 0, nullptr, nullptr);
    return Take(b);
  }
  // PKCS#8, AES-256 encrypted with passphrase.
  std::string EncryptedPem(const std::string& passphrase) const {
    BIO* b = BIO_new(BIO_s_mem());
    PEM_write_bio_PKCS8PrivateKey(b, pkey.get(), EVP_aes_256_cbc(), nullptr, 0, nullptr,
                                  const_cast<char*>(passphrase.c_str()));
    return Take(b);
  }
  static std::string Take(BIO* b) {
    char* data = nullptr;
    long n = BIO_get_mem_data(b, &data);
    std::string out(data, static_cast<size_t>(n));
    BIO_free(b);
    return out;
  }
};

inline TestKey NewKey() { return TestKey{std::shared_ptr<EVP_PKEY>(EVP_EC_gen("P-256"), EVP_PKEY_free)}; }

struct TestCert {
  std::shared_ptr<X509> x509;
  TestKey key;
  std::string Pem() const {
    BIO* b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(b, x509.get());
    return TestKey::Take(b);
  }
};

struct CertSpec {
  std::string common_name = "sightline test";
  std::string alt_names = "DNS:localhost,IP:127.0.0.1,IP:::1";  // "" for none
  bool ca = false;
  long valid_from_s = -3600;         // relative to now
  long valid_to_s = 30L * 24 * 3600;  // relative to now
};

// A certificate for spec, signed by issuer (self-signed when issuer is null).
inline TestCert MakeCert(const CertSpec& spec, const TestCert* issuer = nullptr) {
  static std::atomic<long> serial{1000};
  TestCert out;
  out.key = NewKey();
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
  X509_gmtime_adj(X509_getm_notBefore(x), spec.valid_from_s);
  X509_gmtime_adj(X509_getm_notAfter(x), spec.valid_to_s);
  X509_set_pubkey(x, out.key.pkey.get());
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(spec.common_name.c_str()),
                             -1, -1, 0);
  X509* issuer_x = issuer ? issuer->x509.get() : x;
  X509_set_issuer_name(x, X509_get_subject_name(issuer_x));
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, issuer_x, x, nullptr, nullptr, 0);
  auto add = [&](int nid, const std::string& value) {
    X509_EXTENSION* e = X509V3_EXT_conf_nid(nullptr, &v3, nid, value.c_str());
    if (e != nullptr) {
      X509_add_ext(x, e, -1);
      X509_EXTENSION_free(e);
    }
  };
  add(NID_subject_key_identifier, "hash");
  if (issuer) add(NID_authority_key_identifier, "keyid:always");
  if (spec.ca) {
    add(NID_basic_constraints, "critical,CA:TRUE");
    add(NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add(NID_basic_constraints, "critical,CA:FALSE");
    add(NID_key_usage, "critical,digitalSignature,keyEncipherment");
    add(NID_ext_key_usage, "serverAuth,clientAuth");
    if (!spec.alt_names.empty()) add(NID_subject_alt_name, spec.alt_names);
  }
  X509_sign(x, issuer ? issuer->key.pkey.get() : out.key.pkey.get(), EVP_sha256());
  out.x509 = std::shared_ptr<X509>(x, X509_free);
  return out;
}

inline TestCert MakeCa(const std::string& name = "Sightline Test CA") {
  CertSpec s;
  s.common_name = name;
  s.ca = true;
  return MakeCert(s);
}

// A temp directory removed at destruction, with helpers to write files into it.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> n{0};
    path_ = std::filesystem::temp_directory_path() /
            ("sightline_tls_test_" + std::to_string(getpid()) + "_" + std::to_string(n++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  // Writes name atomically (a temp file, then rename), as deploy tools replace certificates.
  std::string Write(const std::string& name, const std::string& content) const {
    std::string p = (path_ / name).string();
    {
      std::ofstream f(p + ".tmp", std::ios::binary | std::ios::trunc);
      f << content;
    }
    std::filesystem::rename(p + ".tmp", p);
    return p;
  }
  std::string Path(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// A CA and a server certificate it signed, for localhost / 127.0.0.1 / ::1, written as
// ca.pem, cert.pem and key.pem.
struct TestPki {
  TempDir dir;
  TestCert ca = MakeCa();
  TestCert server = MakeCert(CertSpec{}, &ca);
  std::string ca_file = dir.Write("ca.pem", ca.Pem());
  std::string cert_file = dir.Write("cert.pem", server.Pem());
  std::string key_file = dir.Write("key.pem", server.key.Pem());
};

}  // namespace sightline::tls::testing
