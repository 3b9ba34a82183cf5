#include "tls/server_tls.h"

#include <ctime>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common/env.h"
#include "tls/pem.h"

namespace sightline::tls {
namespace {

// TLS 1.2 suites: ECDHE key exchange (forward secrecy) with AEAD ciphers only, ECDSA
// before RSA, AES-GCM before ChaCha20 (Mozilla's "intermediate" list without DHE).
// TLS 1.3 keeps OpenSSL's defaults, all of which are strong.
constexpr char kTls12Ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// Picks "http/1.1" when the client offers it; otherwise answers without ALPN rather
// than failing the handshake (the client may still speak HTTP/1.1).
int SelectAlpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned int inlen,
               void*) {
  static const unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, kHttp11, sizeof kHttp11, in, inlen) == OPENSSL_NPN_NEGOTIATED) {
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

Status Fail(const std::string& what) { return Status::InvalidArgument(what + ": " + TakeOpenSslError("failed")); }

}  // namespace

std::string FormatUtc(int64_t unix_s) {
  time_t t = static_cast<time_t>(unix_s);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

ServerTlsContext::ServerTlsContext() : ctx_(boost::asio::ssl::context::tls_server) {}

Result<std::shared_ptr<ServerTlsContext>> ServerTlsContext::Load(const ServerTlsFiles& files) {
  auto cert = ReadPemFile(files.cert_file, "certificate file " + files.cert_file);
  if (!cert.ok()) return cert.status();
  auto key = ReadPemFile(files.key_file, "key file " + files.key_file);
  if (!key.ok()) return key.status();
  std::string ca;
  if (!files.client_ca_file.empty()) {
    auto c = ReadPemFile(files.client_ca_file, "client CA file " + files.client_ca_file);
    if (!c.ok()) return c.status();
    ca = std::move(c).value();
  }
  return FromPem(files, *cert, *key, ca);
}

Result<std::shared_ptr<ServerTlsContext>> ServerTlsContext::FromPem(const ServerTlsFiles& files,
                                                                    std::string_view cert_pem,
                                                                    std::string_view key_pem,
                                                                    std::string_view client_ca_pem) {
  const std::string cert_what = "certificate file " + files.cert_file;
  const std::string key_what = "key file " + files.key_file;
  auto chain = ParseCertificates(cert_pem, cert_what);
  if (!chain.ok()) return chain.status();
  auto key = ParsePrivateKey(key_pem, key_what);
  if (!key.ok()) return key.status();
  X509* leaf = (*chain)[0].get();
  if (X509_check_private_key(leaf, key->get()) != 1) {
    ERR_clear_error();
    return Status::InvalidArgument(key_what + ": this private key does not belong to the certificate in " +
                                   files.cert_file + " (the first certificate there must be the server's own)");
  }

  std::shared_ptr<ServerTlsContext> out(new ServerTlsContext());
  SSL_CTX* c = out->ctx_.native_handle();
  ERR_clear_error();
  if (SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION) != 1) return Fail("TLS 1.2 minimum");
  SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION |
                             SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3);
  if (SSL_CTX_set_cipher_list(c, kTls12Ciphers) != 1) return Fail("TLS 1.2 cipher list");
  static const unsigned char kSessionContext[] = "sightline";
  SSL_CTX_set_session_id_context(c, kSessionContext, sizeof kSessionContext - 1);
  SSL_CTX_set_alpn_select_cb(c, SelectAlpn, nullptr);
  if (SSL_CTX_use_certificate(c, leaf) != 1) return Fail(cert_what);
  for (size_t i = 1; i < chain->size(); ++i)
    if (SSL_CTX_add1_chain_cert(c, (*chain)[i].get()) != 1) return Fail(cert_what + ": intermediate certificate");
  if (SSL_CTX_use_PrivateKey(c, key->get()) != 1) return Fail(key_what);
  if (SSL_CTX_check_private_key(c) != 1) return Fail(key_what);

  if (!files.client_ca_file.empty()) {
    const std::string ca_what = "client CA file " + files.client_ca_file;
    auto cas = ParseCertificates(client_ca_pem, ca_what);
    if (!cas.ok()) return cas.status();
    X509_STORE* store = SSL_CTX_get_cert_store(c);
    STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
    if (names == nullptr) return Status::Internal(ca_what + ": out of memory");
    for (const auto& ca : *cas) {
      if (X509_STORE_add_cert(store, ca.get()) != 1) {
        // The same certificate twice in the bundle is harmless.
        if (ERR_GET_REASON(ERR_peek_last_error()) != X509_R_CERT_ALREADY_IN_HASH_TABLE) {
          sk_X509_NAME_pop_free(names, X509_NAME_free);
          return Fail(ca_what);
        }
        ERR_clear_error();
      }
      X509_NAME* n = X509_NAME_dup(X509_get_subject_name(ca.get()));
      if (n != nullptr) sk_X509_NAME_push(names, n);
    }
    SSL_CTX_set_client_CA_list(c, names);  // takes ownership
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    SSL_CTX_set_verify_depth(c, 8);
    out->mutual_ = true;
  }

  out->cert_.subject = SubjectOf(leaf);
  out->cert_.alt_names = AltNamesOf(leaf);
  out->cert_.not_after_s = NotAfterOf(leaf);
  out->cert_.sha256 = Sha256Of(leaf);
  out->cert_.chain_length = static_cast<int>(chain->size());
  ERR_clear_error();
  return out;
}

std::string ServerTlsContext::Describe() const {
  std::string d = cert_.subject.empty() ? "(no subject)" : cert_.subject;
  if (!cert_.alt_names.empty()) d += " [" + cert_.alt_names + "]";
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  d += cert_.not_after_s < now ? ", EXPIRED " : ", expires ";
  d += FormatUtc(cert_.not_after_s);
  d += ", sha256 " + cert_.sha256.substr(0, 16);
  if (cert_.chain_length > 1) d += ", " + std::to_string(cert_.chain_length - 1) + " intermediate(s)";
  if (mutual_) d += ", client certificates required";
  return d;
}

Result<ServerTlsSource::Texts> ServerTlsSource::ReadAll() const {
  Texts t;
  auto cert = ReadPemFile(opts_.files.cert_file, "certificate file " + opts_.files.cert_file);
  if (!cert.ok()) return cert.status();
  t.cert = std::move(cert).value();
  auto key = ReadPemFile(opts_.files.key_file, "key file " + opts_.files.key_file);
  if (!key.ok()) return key.status();
  t.key = std::move(key).value();
  if (!opts_.files.client_ca_file.empty()) {
    auto ca = ReadPemFile(opts_.files.client_ca_file, "client CA file " + opts_.files.client_ca_file);
    if (!ca.ok()) return ca.status();
    t.client_ca = std::move(ca).value();
  }
  return t;
}

Result<std::unique_ptr<ServerTlsSource>> ServerTlsSource::Create(Options options) {
  if (!options.files.enabled()) return Status::InvalidArgument("TLS needs a certificate file");
  if (options.files.key_file.empty())
    return Status::InvalidArgument("TLS needs a key file for the certificate " + options.files.cert_file);
  std::unique_ptr<ServerTlsSource> s(new ServerTlsSource(std::move(options)));
  auto texts = s->ReadAll();
  if (!texts.ok()) return texts.status();
  auto ctx = ServerTlsContext::FromPem(s->opts_.files, texts->cert, texts->key, texts->client_ca);
  if (!ctx.ok()) return ctx.status();
  s->current_ = std::move(ctx).value();
  s->Publish(*s->current_, true);
  s->text_in_force_ = texts->Joined();
  s->next_check_ns_ = Env::Default()->MonotonicNanos() + s->opts_.reload_interval_ms * 1000000;
  return s;
}

void ServerTlsSource::Publish(const ServerTlsContext& in_force, bool reload_ok) const {
  if (opts_.metrics == nullptr) return;
  opts_.metrics
      ->GetGauge("sightline_tls_certificate_expiry_timestamp_seconds",
                 "notAfter of the TLS certificate in force for new connections, in Unix seconds (docs/tls.md).")
      ->Set(static_cast<double>(in_force.certificate().not_after_s));
  opts_.metrics
      ->GetGauge("sightline_tls_certificate_reload_ok",
                 "1 while the certificate files on disk are the ones in force; 0 after a refused reload.")
      ->Set(reload_ok ? 1 : 0);
}

std::shared_ptr<ServerTlsContext> ServerTlsSource::Current() const {
  std::lock_guard<std::mutex> l(mu_);
  return current_;
}

Status ServerTlsSource::last_error() const {
  std::lock_guard<std::mutex> l(mu_);
  return last_error_;
}

bool ServerTlsSource::MaybeReload(bool force) {
  std::lock_guard<std::mutex> reload(reload_mu_);
  const int64_t now = Env::Default()->MonotonicNanos();
  if (!force && now < next_check_ns_) return false;
  next_check_ns_ = now + opts_.reload_interval_ms * 1000000;

  auto refuse = [this](const Status& st, std::string text) {
    bool news;
    {
      std::lock_guard<std::mutex> l(mu_);
      news = last_error_.ok() || last_error_.message() != st.message() || text != refused_text_;
      last_error_ = st;
    }
    refused_text_ = std::move(text);
    Publish(*Current(), false);
    if (news && opts_.logger)
      opts_.logger("tls: the changed certificate files are refused, the certificate in force stays: " + st.message());
    return false;
  };
  auto texts = ReadAll();
  // A file missing for a moment (an editor's or a deploy tool's rename) is refused
  // like a bad one: the context in force stays.
  if (!texts.ok()) return refuse(texts.status(), std::string());
  std::string joined = texts->Joined();
  if (joined == text_in_force_) {
    {
      std::lock_guard<std::mutex> l(mu_);
      last_error_ = Status::OK();  // a bad edit reverted
    }
    refused_text_.clear();
    Publish(*Current(), true);
    return false;
  }
  if (!refused_text_.empty() && joined == refused_text_) return false;  // refused already
  auto ctx = ServerTlsContext::FromPem(opts_.files, texts->cert, texts->key, texts->client_ca);
  if (!ctx.ok()) return refuse(ctx.status(), std::move(joined));
  std::string description = (*ctx)->Describe();
  {
    std::lock_guard<std::mutex> l(mu_);
    current_ = std::move(ctx).value();
    last_error_ = Status::OK();
  }
  text_in_force_ = std::move(joined);
  refused_text_.clear();
  Publish(*Current(), true);
  if (opts_.logger) opts_.logger("tls: certificate reloaded for new connections: " + description);
  return true;
}

}  // namespace sightline::tls
