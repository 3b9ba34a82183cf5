// HttpServer speaking TLS: requests over HTTPS are answered (keep-alive, ALPN
// http/1.1, TLS 1.2 at least), plain HTTP sent to the TLS port is refused in plain
// text without harming the server, a silent connection is closed at the handshake
// deadline, a rotated certificate applies to new connections while old ones keep
// working, and with a client CA only clients with a certificate it signed get in.
#include "api/http_server.h"

#include <openssl/ssl.h>

#include <optional>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tls/pem.h"
#include "tls/server_tls.h"
#include "tls/tls_test_util.h"

namespace sightline::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using ::testing::HasSubstr;
using tls::testing::CertSpec;
using tls::testing::MakeCert;
using tls::testing::TestCert;
using tls::testing::TestPki;

// A synchronous TLS client for one connection, trusting ca_file.
class TlsClient {
 public:
  struct Setup {
    std::string ca_file;
    const TestCert* client_cert = nullptr;
    int max_version = 0;  // e.g. TLS1_1_VERSION; 0: the default
  };
  TlsClient(int port, const Setup& setup) : ctx_(ssl::context::tls_client) {
    ctx_.load_verify_file(setup.ca_file);
    ctx_.set_verify_mode(ssl::verify_peer);
    static const unsigned char kAlpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
    SSL_CTX_set_alpn_protos(ctx_.native_handle(), kAlpn, sizeof kAlpn);
    if (setup.max_version != 0) {
      // Allow the old protocol on this side, so that the refusal is the server's.
      SSL_CTX_set_security_level(ctx_.native_handle(), 0);
      SSL_CTX_set_cipher_list(ctx_.native_handle(), "DEFAULT:@SECLEVEL=0");
      SSL_CTX_set_min_proto_version(ctx_.native_handle(), TLS1_VERSION);
      SSL_CTX_set_max_proto_version(ctx_.native_handle(), setup.max_version);
    }
    if (setup.client_cert != nullptr) {
      SSL_CTX_use_certificate(ctx_.native_handle(), setup.client_cert->x509.get());
      SSL_CTX_use_PrivateKey(ctx_.native_handle(), setup.client_cert->key.pkey.get());
    }
    // The stream's SSL copies the context's settings when made: after them.
    stream_.emplace(ioc_, ctx_);
    SSL_set1_host(stream_->native_handle(), "localhost");
    beast::get_lowest_layer(*stream_).expires_after(std::chrono::seconds(20));
    beast::get_lowest_layer(*stream_).connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }
  beast::error_code Handshake() {
    beast::error_code ec;
    stream_->handshake(ssl::stream_base::client, ec);
    return ec;
  }
  // One GET; the status and body, or an error.
  Result<std::pair<int, std::string>> Get(const std::string& target) {
    http::request<http::string_body> req{http::verb::get, target, 11};
    req.set(http::field::host, "localhost");
    beast::error_code ec;
    beast::get_lowest_layer(*stream_).expires_after(std::chrono::seconds(20));
    http::write(*stream_, req, ec);
    if (ec) return Status::Unavailable("write: " + ec.message());
    http::response<http::string_body> res;
    http::read(*stream_, buffer_, res, ec);
    if (ec) return Status::Unavailable("read: " + ec.message());
    return std::make_pair(static_cast<int>(res.result_int()), res.body());
  }
  std::string Alpn() {
    const unsigned char* p = nullptr;
    unsigned int n = 0;
    SSL_get0_alpn_selected(stream_->native_handle(), &p, &n);
    return std::string(reinterpret_cast<const char*>(p), n);
  }
  int Version() { return SSL_version(stream_->native_handle()); }
  std::string PeerSubject() {
    X509* peer = SSL_get1_peer_certificate(stream_->native_handle());
    if (peer == nullptr) return "";
    std::string s = tls::SubjectOf(peer);
    X509_free(peer);
    return s;
  }

 private:
  asio::io_context ioc_;
  ssl::context ctx_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> stream_;
  beast::flat_buffer buffer_;
};

// Raw TCP: sends bytes, reads until the server closes (or 20 s), returns what came.
std::string RawExchange(int port, const std::string& bytes) {
  asio::io_context ioc;
  beast::tcp_stream s(ioc);
  s.expires_after(std::chrono::seconds(20));
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  beast::error_code ec;
  if (!bytes.empty()) asio::write(s, asio::buffer(bytes), ec);
  std::string got;
  char buf[4096];
  for (;;) {
    size_t n = s.read_some(asio::buffer(buf), ec);
    got.append(buf, n);
    if (ec) {
      if (ec == beast::error::timeout) got += "<timeout>";
      break;
    }
  }
  return got;
}

class HttpsServerTest : public ::testing::Test {
 protected:
  void StartServer(const std::string& client_ca = "", std::chrono::seconds handshake_timeout = std::chrono::seconds(10)) {
    tls::ServerTlsSource::Options to;
    to.files = {pki_.cert_file, pki_.key_file, client_ca};
    auto src = tls::ServerTlsSource::Create(to);
    ASSERT_TRUE(src.ok()) << src.status().ToString();
    source_ = std::move(src).value();
    HttpServerOptions o;
    o.port = 0;
    o.tls = source_.get();
    o.handshake_timeout = handshake_timeout;
    o.metrics = &metrics_;
    server_ = std::make_unique<HttpServer>(o, [](HttpRequest&& req, Responder respond) {
      HttpResponse res{http::status::ok, 11};
      res.body() = "hello " + std::string(req.target());
      respond(std::move(res));
    });
    auto port = server_->Start();
    ASSERT_TRUE(port.ok()) << port.status().ToString();
    port_ = *port;
  }
  void TearDown() override {
    if (server_) server_->Stop(std::chrono::seconds(2));
  }

  // sightline_tls_handshake_failures_total{reason} as /metrics would show it (the
  // count follows the close on the server's thread: waits up to 5 s for it).
  double Failures(const std::string& reason, double at_least = 1) {
    Counter* c = metrics_.GetCounter("sightline_tls_handshake_failures_total", "", {{"reason", reason}});
    for (int i = 0; i < 100 && c->Value() < at_least; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return c->Value();
  }

  MetricsRegistry metrics_;
  TestPki pki_;
  std::unique_ptr<tls::ServerTlsSource> source_;
  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
};

TEST_F(HttpsServerTest, AnswersOverTlsWithKeepAliveAndAlpn) {
  StartServer();
  EXPECT_TRUE(server_->tls());
  TlsClient c(port_, {pki_.ca_file});
  ASSERT_FALSE(c.Handshake());
  EXPECT_EQ(c.Alpn(), "http/1.1");
  EXPECT_GE(c.Version(), TLS1_2_VERSION);
  EXPECT_EQ(c.PeerSubject(), "CN=sightline test");
  for (int i = 0; i < 3; ++i) {
    auto r = c.Get("/x" + std::to_string(i));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->first, 200);
    EXPECT_EQ(r->second, "hello /x" + std::to_string(i));
  }
  EXPECT_EQ(server_->tls_handshake_failures(), 0);
}

TEST_F(HttpsServerTest, OldProtocolVersionsAreRefused) {
  StartServer();
  TlsClient old(port_, {pki_.ca_file, nullptr, TLS1_1_VERSION});
  EXPECT_TRUE(old.Handshake());
  // The server still serves current clients.
  TlsClient c(port_, {pki_.ca_file});
  ASSERT_FALSE(c.Handshake());
  EXPECT_TRUE(c.Get("/ok").ok());
}

TEST_F(HttpsServerTest, PlainHttpOnTheTlsPortIsRefusedInPlainText) {
  StartServer();
  std::string got = RawExchange(port_, "GET /api/v1/traces HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_THAT(got, HasSubstr("HTTP/1.1 400 Bad Request"));
  EXPECT_THAT(got, HasSubstr("use an https:// URL"));
  EXPECT_THAT(got, ::testing::Not(HasSubstr("<timeout>")));
  EXPECT_EQ(server_->plain_requests_refused(), 1);
  // Garbage that is neither: refused the same way.
  EXPECT_THAT(RawExchange(port_, std::string("\x00\x01\x02\x03junk", 8)), HasSubstr("400 Bad Request"));
  // A ClientHello that does not parse: a failed handshake (at most a TLS alert), closed.
  std::string hello("\x16\x03\x01\x00\x2f\x01\x00\x00\x2b\x03\x03", 11);  // lengths consistent
  hello += std::string(41, '\xff');                                            // the body is not
  std::string junk = RawExchange(port_, hello);
  EXPECT_THAT(junk, ::testing::Not(HasSubstr("HTTP/")));
  EXPECT_THAT(junk, ::testing::Not(HasSubstr("<timeout>")));
  EXPECT_GE(server_->tls_handshake_failures(), 1);
  // HTTPS keeps working.
  TlsClient c(port_, {pki_.ca_file});
  ASSERT_FALSE(c.Handshake());
  EXPECT_TRUE(c.Get("/still").ok());
}

TEST_F(HttpsServerTest, ASilentConnectionIsClosedAtTheHandshakeDeadline) {
  StartServer("", std::chrono::seconds(1));
  // Nothing sent: closed by the server (not by the client's own 20 s limit).
  EXPECT_EQ(RawExchange(port_, ""), "");
  // Half a ClientHello, then nothing: the same.
  EXPECT_EQ(RawExchange(port_, std::string("\x16\x03\x01\x02\x00\x01", 6)), "");
  // The count follows the close on the server's thread.
  for (int i = 0; i < 100 && server_->tls_handshake_failures() < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(server_->tls_handshake_failures(), 2);
}

TEST_F(HttpsServerTest, ARotatedCertificateAppliesToNewConnections) {
  StartServer();
  TlsClient before(port_, {pki_.ca_file});
  ASSERT_FALSE(before.Handshake());
  ASSERT_TRUE(before.Get("/a").ok());
  EXPECT_EQ(before.PeerSubject(), "CN=sightline test");

  CertSpec next;
  next.common_name = "rotated";
  auto rotated = MakeCert(next, &pki_.ca);
  pki_.dir.Write("cert.pem", rotated.Pem());
  pki_.dir.Write("key.pem", rotated.key.Pem());
  ASSERT_TRUE(source_->MaybeReload(true));

  TlsClient after(port_, {pki_.ca_file});
  ASSERT_FALSE(after.Handshake());
  EXPECT_EQ(after.PeerSubject(), "CN=rotated");
  EXPECT_TRUE(after.Get("/b").ok());
  // The connection made before the rotation goes on.
  auto old = before.Get("/c");
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_EQ(old->second, "hello /c");

  // A bad rotation: the rotated certificate stays for new connections.
  pki_.dir.Write("key.pem", "not a key");
  EXPECT_FALSE(source_->MaybeReload(true));
  TlsClient later(port_, {pki_.ca_file});
  ASSERT_FALSE(later.Handshake());
  EXPECT_EQ(later.PeerSubject(), "CN=rotated");
}

TEST_F(HttpsServerTest, ClientCertificatesWhenAClientCaIsSet) {
  StartServer(pki_.ca_file);
  // Signed by the client CA: in.
  CertSpec cs;
  cs.common_name = "agent-host";
  cs.alt_names = "";
  auto client_cert = MakeCert(cs, &pki_.ca);
  TlsClient good(port_, {pki_.ca_file, &client_cert});
  ASSERT_FALSE(good.Handshake());
  auto r = good.Get("/mtls");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->second, "hello /mtls");

  // No certificate: refused (under TLS 1.3 the client learns it at its first read).
  TlsClient none(port_, {pki_.ca_file});
  bool refused = static_cast<bool>(none.Handshake()) || !none.Get("/nope").ok();
  EXPECT_TRUE(refused);

  // A certificate from another CA: refused too.
  auto stranger_ca = tls::testing::MakeCa("Stranger CA");
  auto stranger = MakeCert(cs, &stranger_ca);
  TlsClient bad(port_, {pki_.ca_file, &stranger});
  refused = static_cast<bool>(bad.Handshake()) || !bad.Get("/nope").ok();
  EXPECT_TRUE(refused);
}

// Failed handshakes on /metrics by reason (docs/tls.md, "Metrics"): an old protocol
// version, a client that does not trust the certificate, the deadline, and under
// mutual TLS a client without a certificate or with one of another CA.
TEST_F(HttpsServerTest, HandshakeFailuresAreCountedByReason) {
  StartServer(pki_.ca_file, std::chrono::seconds(1));
  TlsClient old(port_, {pki_.ca_file, nullptr, TLS1_1_VERSION});
  EXPECT_TRUE(old.Handshake());
  EXPECT_EQ(Failures("protocol_version"), 1);

  // A client that trusts another CA refuses our certificate with an alert.
  auto other_ca = tls::testing::MakeCa("Other CA");
  const std::string other_ca_file = pki_.dir.Write("other-ca.pem", other_ca.Pem());
  TlsClient distrustful(port_, {other_ca_file});
  EXPECT_TRUE(distrustful.Handshake());
  EXPECT_EQ(Failures("client_refused_certificate"), 1);

  // No client certificate where one is required.
  TlsClient none(port_, {pki_.ca_file});
  bool refused = static_cast<bool>(none.Handshake()) || !none.Get("/nope").ok();
  EXPECT_TRUE(refused);
  EXPECT_EQ(Failures("no_client_certificate"), 1);

  // One of another CA.
  CertSpec cs;
  cs.common_name = "stranger";
  cs.alt_names = "";
  auto stranger = MakeCert(cs, &other_ca);
  TlsClient bad(port_, {pki_.ca_file, &stranger});
  refused = static_cast<bool>(bad.Handshake()) || !bad.Get("/nope").ok();
  EXPECT_TRUE(refused);
  EXPECT_EQ(Failures("client_certificate_refused"), 1);

  // Silence until the deadline.
  EXPECT_EQ(RawExchange(port_, ""), "");
  EXPECT_EQ(Failures("timeout"), 1);

  EXPECT_EQ(server_->tls_handshake_failures(), 5);
  std::string text = metrics_.Render();
  EXPECT_THAT(text, HasSubstr("sightline_tls_handshake_failures_total{reason=\"protocol_version\"} 1"));
  // A client with the right certificate still gets in.
  CertSpec ok_spec;
  ok_spec.common_name = "agent-host";
  ok_spec.alt_names = "";
  auto good_cert = MakeCert(ok_spec, &pki_.ca);
  TlsClient good(port_, {pki_.ca_file, &good_cert});
  ASSERT_FALSE(good.Handshake());
  EXPECT_TRUE(good.Get("/ok").ok());
  EXPECT_EQ(server_->tls_handshake_failures(), 5);
}

}  // namespace
}  // namespace sightline::api
