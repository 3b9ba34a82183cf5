// Server-side TLS from PEM files (docs/tls.md): the certificate chain, its private key
// and, for mutual TLS, the CA bundle that client certificates must chain to.
//
// ServerTlsContext is one loaded, checked configuration: an OpenSSL context with
// TLS 1.2 as the minimum, forward-secret AEAD ciphers only for TLS 1.2 (the server's
// order wins), no compression, no renegotiation, and ALPN "http/1.1" (a client that
// offers only other protocols gets no ALPN answer and may still speak HTTP/1.1).
// Immutable once loaded; connections hold it by shared_ptr, so a rotation never
// pulls it from under a live connection.
//
// ServerTlsSource owns the context that new connections get and re-reads the files
// while the server runs (MaybeReload, from the server's main tick, at most every
// reload interval): when their content changed and the new files load, new
// connections use them; when they do not load, the context in force stays and the
// error is logged once per distinct failure. Errors name the file and what is wrong,
// and never quote its content.
//
// Thread-safety: ServerTlsContext is immutable. ServerTlsSource: Current() from any
// thread; MaybeReload() from one thread at a time (internally serialised).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <boost/asio/ssl/context.hpp>

#include "common/metrics.h"
#include "common/status.h"

namespace sightline::tls {

struct ServerTlsFiles {
  std::string cert_file;       // PEM: the server certificate first, then intermediates
  std::string key_file;        // PEM: its private key, unencrypted
  std::string client_ca_file;  // PEM CA bundle; set: every client must present a certificate it signed
  bool enabled() const { return !cert_file.empty(); }
};

// What the certificate in force says, for log lines.
struct CertificateSummary {
  std::string subject;     // "CN=sightline.example.com"
  std::string alt_names;   // "DNS:sightline.example.com, IP:10.0.0.5"
  int64_t not_after_s = 0; // Unix seconds
  std::string sha256;      // of the leaf certificate's DER, hex
  int chain_length = 1;    // the leaf plus intermediates
};

class ServerTlsContext {
 public:
  // Reads and checks the files: each must be readable PEM, the key unencrypted and
  // matching the first certificate, the client CA (when set) at least one certificate.
  // InvalidArgument naming the file otherwise.
  static Result<std::shared_ptr<ServerTlsContext>> Load(const ServerTlsFiles& files);
  // The same from the files' bytes, already read (files name them in errors).
  static Result<std::shared_ptr<ServerTlsContext>> FromPem(const ServerTlsFiles& files, std::string_view cert_pem,
                                                           std::string_view key_pem, std::string_view client_ca_pem);

  boost::asio::ssl::context& context() { return ctx_; }
  const CertificateSummary& certificate() const { return cert_; }
  bool requires_client_certificate() const { return mutual_; }
  // "CN=..., DNS:..., expires 2027-01-31T12:00:00Z, sha256 3f2a9c0d1e4b5a6f" (+ ", client certificates required").
  std::string Describe() const;

 private:
  ServerTlsContext();
  boost::asio::ssl::context ctx_;
  CertificateSummary cert_;
  bool mutual_ = false;
};

class ServerTlsSource {
 public:
  struct Options {
    ServerTlsFiles files;
    int64_t reload_interval_ms = 2000;
    // Reloads and refused reloads ("tls: ..."); may be null.
    std::function<void(const std::string&)> logger;
    // Where the certificate in force is described: its notAfter as
    // sightline_tls_certificate_expiry_timestamp_seconds, and whether the files on disk
    // are the ones in force (sightline_tls_certificate_reload_ok); may be null.
    MetricsRegistry* metrics = nullptr;
  };
  // Loads the files once; their error when they do not load.
  static Result<std::unique_ptr<ServerTlsSource>> Create(Options options);

  // The context for a new connection. Never null.
  std::shared_ptr<ServerTlsContext> Current() const;
  // Re-reads the files when the reload interval has passed since the last look (or
  // always, with force). True when a new context came into force.
  bool MaybeReload(bool force = false);
  // The last reload's failure (OK when the files in force are the files on disk).
  Status last_error() const;
  const ServerTlsFiles& files() const { return opts_.files; }

 private:
  explicit ServerTlsSource(Options options) : opts_(std::move(options)) {}
  struct Texts {
    std::string cert, key, client_ca;
    std::string Joined() const { return cert + '\0' + key + '\0' + client_ca; }
  };
  Result<Texts> ReadAll() const;
  // Sets the gauges from the context in force and the last reload's outcome.
  void Publish(const ServerTlsContext& in_force, bool reload_ok) const;

  const Options opts_;
  std::mutex reload_mu_;  // serialises MaybeReload
  int64_t next_check_ns_ = 0;        // guarded by reload_mu_
  std::string text_in_force_;        // guarded by reload_mu_
  std::string refused_text_;         // guarded by reload_mu_: the content last refused
  mutable std::mutex mu_;
  std::shared_ptr<ServerTlsContext> current_;  // guarded by mu_
  Status last_error_;                          // guarded by mu_
};

// "2027-01-31T12:00:00Z".
std::string FormatUtc(int64_t unix_s);

}  // namespace sightline::tls
