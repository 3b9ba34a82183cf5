#include "tls/client_tls.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <boost/asio/ip/address.hpp>

#include "tls/pem.h"

namespace sightline::tls {

Result<std::shared_ptr<boost::asio::ssl::context>> MakeClientContext(const std::string& ca_file,
                                                                     const std::string& cert_file,
                                                                     const std::string& key_file) {
  auto ctx = std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_client);
  SSL_CTX* c = ctx->native_handle();
  ERR_clear_error();
  SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
  SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  if (ca_file.empty()) {
    if (SSL_CTX_set_default_verify_paths(c) != 1)
      return Status::Unavailable("cannot load the system's trust store: " + TakeOpenSslError("failed"));
  } else {
    const std::string what = "CA file " + ca_file;
    auto text = ReadPemFile(ca_file, what);
    if (!text.ok()) return text.status();
    auto certs = ParseCertificates(*text, what);
    if (!certs.ok()) return certs.status();
    X509_STORE* store = SSL_CTX_get_cert_store(c);
    for (const auto& x : *certs) {
      if (X509_STORE_add_cert(store, x.get()) != 1 &&
          ERR_GET_REASON(ERR_peek_last_error()) != X509_R_CERT_ALREADY_IN_HASH_TABLE)
        return Status::InvalidArgument(what + ": " + TakeOpenSslError("cannot use the certificate"));
      ERR_clear_error();
    }
  }
  if (cert_file.empty() != key_file.empty())
    return Status::InvalidArgument(cert_file.empty() ? "--client-key needs --client-cert" : "--client-cert needs --client-key");
  if (!cert_file.empty()) {
    const std::string cwhat = "client certificate file " + cert_file;
    const std::string kwhat = "client key file " + key_file;
    auto ctext = ReadPemFile(cert_file, cwhat);
    if (!ctext.ok()) return ctext.status();
    auto chain = ParseCertificates(*ctext, cwhat);
    if (!chain.ok()) return chain.status();
    auto ktext = ReadPemFile(key_file, kwhat);
    if (!ktext.ok()) return ktext.status();
    auto key = ParsePrivateKey(*ktext, kwhat);
    if (!key.ok()) return key.status();
    ERR_clear_error();
    if (SSL_CTX_use_certificate(c, (*chain)[0].get()) != 1)
      return Status::InvalidArgument(cwhat + ": " + TakeOpenSslError("cannot use the certificate"));
    for (size_t i = 1; i < chain->size(); ++i) {
      if (SSL_CTX_add1_chain_cert(c, (*chain)[i].get()) != 1)
        return Status::InvalidArgument(cwhat + ": " + TakeOpenSslError("cannot use a chain certificate"));
    }
    if (SSL_CTX_use_PrivateKey(c, key->get()) != 1 || SSL_CTX_check_private_key(c) != 1) {
      ERR_clear_error();
      return Status::InvalidArgument(kwhat + " is not the key of " + cwhat);
    }
  }
  SSL_CTX_set_verify(c, SSL_VERIFY_PEER, nullptr);
  static const unsigned char kAlpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  SSL_CTX_set_alpn_protos(c, kAlpn, sizeof kAlpn);
  return ctx;
}

Status PrepareClientConnection(SSL* ssl, const std::string& host) {
  ERR_clear_error();
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  if (!ec) {
    // An IP address must be in the certificate's IP subjectAltNames; no SNI for it.
    if (X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) != 1)
      return Status::InvalidArgument("cannot verify the address " + host + ": " + TakeOpenSslError("bad address"));
    return Status::OK();
  }
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (SSL_set1_host(ssl, host.c_str()) != 1)
    return Status::InvalidArgument("cannot verify the host name " + host + ": " + TakeOpenSslError("bad name"));
  if (SSL_set_tlsext_host_name(ssl, host.c_str()) != 1)
    return Status::InvalidArgument("cannot send the host name " + host + ": " + TakeOpenSslError("bad name"));
  return Status::OK();
}

std::string VerifyFailure(SSL* ssl) {
  long r = SSL_get_verify_result(ssl);
  if (r == X509_V_OK) return "";
  return X509_verify_cert_error_string(r);
}

}  // namespace sightline::tls
