// Client-side TLS for the CLI (docs/tls.md): a context that verifies the server's
// certificate chain against the system's trust store, or against a given CA bundle
// (--ca-cert, for a private CA), with TLS 1.2 as the minimum, optionally presenting a
// client certificate (--client-cert/--client-key, for a server that requires mutual
// TLS with --tls-client-ca); and the per-connection
// settings that make OpenSSL check the certificate names the host the URL named
// (DNS name or IP address) and send SNI.
//
// Thread-safety: a context is safe to share once made; Prepare* touch one SSL object.
#pragma once

#include <memory>
#include <string>

#include <boost/asio/ssl/context.hpp>
#include <openssl/ssl.h>

#include "common/status.h"

namespace sightline::tls {

// ca_file empty: the system's trust store (OpenSSL's default paths, as curl uses).
// Otherwise only the certificates in ca_file are trusted. InvalidArgument naming the
// file when it cannot be read or holds no certificate.
// cert_file/key_file: the client's certificate chain (leaf first) and its unencrypted
// private key (PEM), presented when the server asks for one; both or neither.
// InvalidArgument naming the file when one is missing, unreadable, not PEM, encrypted,
// or the key is not the certificate's (never quoting the content).
Result<std::shared_ptr<boost::asio::ssl::context>> MakeClientContext(const std::string& ca_file,
                                                                     const std::string& cert_file = "",
                                                                     const std::string& key_file = "");

// Sets hostname (or IP address) verification and SNI on a new connection's SSL.
Status PrepareClientConnection(SSL* ssl, const std::string& host);

// Why a handshake failed, for a message: the verification result when the server's
// certificate was refused ("certificate has expired", "Hostname mismatch"), else "".
std::string VerifyFailure(SSL* ssl);

}  // namespace sightline::tls
