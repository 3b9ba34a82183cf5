// The CLI's client against the real HTTP server speaking TLS: https works with the
// private CA given, and is refused (with a message saying why) for an untrusted
// certificate, a certificate for another host, or an https URL pointed at a plain
// HTTP server.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/http_server.h"
#include "cli/client_common.h"
#include "cli/http_client.h"
#include "tls/server_tls.h"
#include "tls/tls_test_util.h"

namespace sightline::cli {
namespace {

using ::testing::HasSubstr;
using tls::testing::CertSpec;
using tls::testing::MakeCa;
using tls::testing::MakeCert;
using tls::testing::TestPki;

// The server with a handler that echoes the request target.
class HttpsServer {
 public:
  explicit HttpsServer(tls::ServerTlsSource* source) {
    api::HttpServerOptions o;
    o.port = 0;
    o.tls = source;
    server_ = std::make_unique<api::HttpServer>(o, [](api::HttpRequest&& req, api::Responder respond) {
      api::HttpResponse res{boost::beast::http::status::ok, 11};
      res.body() = "target=" + std::string(req.target());
      respond(std::move(res));
    });
    auto port = server_->Start();
    EXPECT_TRUE(port.ok()) << port.status().ToString();
    port_ = port.ok() ? *port : 0;
  }
  ~HttpsServer() { server_->Stop(std::chrono::seconds(2)); }
  int port() const { return port_; }

 private:
  std::unique_ptr<api::HttpServer> server_;
  int port_ = 0;
};

std::unique_ptr<tls::ServerTlsSource> Source(const std::string& cert, const std::string& key,
                                             const std::string& client_ca = "") {
  tls::ServerTlsSource::Options o;
  o.files = {cert, key, client_ca};
  auto s = tls::ServerTlsSource::Create(o);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return std::move(s).value();
}

TEST(HttpsClient, TalksToATlsServerTrustingTheGivenCaAndReusesTheConnection) {
  TestPki pki;
  auto source = Source(pki.cert_file, pki.key_file);
  HttpsServer server(source.get());
  for (const std::string host : {"127.0.0.1", "localhost"}) {
    HttpClientOptions o;
    o.ca_file = pki.ca_file;
    HttpClient client(*ParseUrl("https://" + host + ":" + std::to_string(server.port()) + "/pre"), o);
    for (int i = 0; i < 3; ++i) {
      auto r = client.Get("/api/v1/traces?limit=1");
      ASSERT_TRUE(r.ok()) << host << ": " << r.status().ToString();
      EXPECT_EQ(r->status, 200);
      EXPECT_EQ(r->body, "target=/pre/api/v1/traces?limit=1");
    }
    EXPECT_EQ(client.connections_opened(), 1) << host;
  }
}

TEST(HttpsClient, AnUntrustedCertificateIsRefusedSayingWhy) {
  TestPki pki;
  auto source = Source(pki.cert_file, pki.key_file);
  HttpsServer server(source.get());
  const std::string url = "https://127.0.0.1:" + std::to_string(server.port());

  // The system's trust store does not know the test CA.
  auto sys = HttpClient(*ParseUrl(url)).Get("/healthz");
  ASSERT_FALSE(sys.ok());
  EXPECT_EQ(sys.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(sys.status().message(), HasSubstr("not trusted"));
  EXPECT_THAT(sys.status().message(), HasSubstr("--ca-cert"));

  // Another CA.
  auto other_ca = MakeCa("Someone Else");
  HttpClientOptions o;
  o.ca_file = pki.dir.Write("other-ca.pem", other_ca.Pem());
  auto other = HttpClient(*ParseUrl(url), o).Get("/healthz");
  ASSERT_FALSE(other.ok());
  EXPECT_THAT(other.status().message(), HasSubstr("not trusted"));
}

TEST(HttpsClient, TheCertificateMustNameTheHost) {
  TestPki pki;
  CertSpec elsewhere;
  elsewhere.alt_names = "DNS:sightline.example.com,IP:10.9.8.7";
  auto cert = MakeCert(elsewhere, &pki.ca);
  auto source = Source(pki.dir.Write("elsewhere.pem", cert.Pem()), pki.dir.Write("elsewhere.key", cert.key.Pem()));
  HttpsServer server(source.get());
  HttpClientOptions o;
  o.ca_file = pki.ca_file;
  for (const std::string host : {"127.0.0.1", "localhost"}) {
    auto r = HttpClient(*ParseUrl("https://" + host + ":" + std::to_string(server.port())), o).Get("/healthz");
    ASSERT_FALSE(r.ok()) << host;
    EXPECT_THAT(r.status().message(), HasSubstr("not trusted")) << host;
    EXPECT_THAT(r.status().message(), HasSubstr("mismatch")) << host;
  }
}

TEST(HttpsClient, HttpsToAPlainServerSaysSo) {
  api::HttpServerOptions so;
  so.port = 0;
  api::HttpServer plain(so, [](api::HttpRequest&&, api::Responder respond) {
    respond(api::HttpResponse{boost::beast::http::status::ok, 11});
  });
  auto port = plain.Start();
  ASSERT_TRUE(port.ok());
  auto r = HttpClient(*ParseUrl("https://127.0.0.1:" + std::to_string(*port))).Get("/healthz");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("TLS handshake with https://127.0.0.1"));
  plain.Stop(std::chrono::seconds(1));
}

TEST(HttpsClient, AMissingCaFileIsAnError) {
  TestPki pki;
  auto source = Source(pki.cert_file, pki.key_file);
  HttpsServer server(source.get());
  HttpClientOptions o;
  o.ca_file = pki.dir.Path("missing.pem");
  auto r = HttpClient(*ParseUrl("https://127.0.0.1:" + std::to_string(server.port())), o).Get("/healthz");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("CA file " + o.ca_file + ": cannot read"));
}

// Mutual TLS (docs/tls.md): a server started with a client CA (--tls-client-ca)
// accepts the CLI's client only with a certificate that CA signed (--client-cert,
// --client-key), over a real handshake; without one, or with another CA's, the
// refusal says what to pass.
TEST(HttpsClient, PresentsAClientCertificateToAServerThatRequiresOne) {
  TestPki pki;
  tls::testing::TestCert client_ca = MakeCa("Sightline Client CA");
  CertSpec spec;
  spec.common_name = "sightline cli";
  tls::testing::TestCert client = MakeCert(spec, &client_ca);
  tls::testing::TestCert stranger_ca = MakeCa("Another CA");
  tls::testing::TestCert stranger = MakeCert(spec, &stranger_ca);
  const std::string client_ca_file = pki.dir.Write("client-ca.pem", client_ca.Pem());
  const std::string client_cert = pki.dir.Write("client.pem", client.Pem());
  const std::string client_key = pki.dir.Write("client-key.pem", client.key.Pem());
  auto source = Source(pki.cert_file, pki.key_file, client_ca_file);
  HttpsServer server(source.get());
  const std::string url = "https://127.0.0.1:" + std::to_string(server.port());

  HttpClientOptions o;
  o.ca_file = pki.ca_file;
  o.cert_file = client_cert;
  o.key_file = client_key;
  HttpClient with(*ParseUrl(url), o);
  for (int i = 0; i < 2; ++i) {
    auto r = with.Get("/mtls");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->body, "target=/mtls");
  }
  EXPECT_EQ(with.connections_opened(), 1);

  // No client certificate: refused, and the message says what to pass. (Under TLS 1.3
  // the server's refusal may come after the client's handshake completes, at the
  // first read.)
  HttpClientOptions bare;
  bare.ca_file = pki.ca_file;
  auto none = HttpClient(*ParseUrl(url), bare).Get("/mtls");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kUnavailable);

  // A certificate of another CA: refused too.
  HttpClientOptions other = bare;
  other.cert_file = pki.dir.Write("stranger.pem", stranger.Pem());
  other.key_file = pki.dir.Write("stranger-key.pem", stranger.key.Pem());
  auto refused = HttpClient(*ParseUrl(url), other).Get("/mtls");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);

  // Files that cannot be used are named, never quoted.
  HttpClientOptions swapped = bare;
  swapped.cert_file = client_cert;
  swapped.key_file = pki.key_file;  // the server's key, not the client's
  auto bad = HttpClient(*ParseUrl(url), swapped).Get("/mtls");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("client key file " + pki.key_file + " is not the key of"));
  HttpClientOptions half = bare;
  half.cert_file = client_cert;
  auto lone = HttpClient(*ParseUrl(url), half).Get("/mtls");
  ASSERT_FALSE(lone.ok());
  EXPECT_THAT(lone.status().message(), HasSubstr("--client-cert needs --client-key"));
  HttpClientOptions missing = bare;
  missing.cert_file = pki.dir.Path("nope.pem");
  missing.key_file = client_key;
  auto gone = HttpClient(*ParseUrl(url), missing).Get("/mtls");
  ASSERT_FALSE(gone.ok());
  EXPECT_THAT(gone.status().message(), HasSubstr("client certificate file " + missing.cert_file + ": cannot read"));
}

// The flags as the subcommands read them (--ca-cert, --client-cert, --client-key):
// checked before any request, a usage error naming the problem.
TEST(HttpsClient, ClientCertificateFlagsAreCheckedBeforeAnyRequest) {
  TestPki pki;
  CommandContext ctx;
  ctx.ca_cert = pki.ca_file;
  ctx.client_cert = pki.cert_file;
  ctx.client_key = pki.key_file;
  HttpClientOptions o;
  ASSERT_TRUE(ApplyTlsOptions(ctx, *ParseUrl("https://127.0.0.1:1"), &o).ok());
  EXPECT_EQ(o.cert_file, pki.cert_file);
  EXPECT_EQ(o.key_file, pki.key_file);
  EXPECT_EQ(o.ca_file, pki.ca_file);
  auto plain = ApplyTlsOptions(ctx, *ParseUrl("http://127.0.0.1:1"), &o);
  EXPECT_EQ(plain.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(plain.message(), HasSubstr("needs an https://"));
  ctx.client_key.clear();
  EXPECT_THAT(ApplyTlsOptions(ctx, *ParseUrl("https://127.0.0.1:1"), &o).message(), HasSubstr("needs --client-key"));
  ctx.client_key = pki.dir.Write("empty.pem", "");
  auto empty = ApplyTlsOptions(ctx, *ParseUrl("https://127.0.0.1:1"), &o);
  EXPECT_EQ(empty.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(empty.message(), HasSubstr("client key file " + ctx.client_key));
}

}  // namespace
}  // namespace sightline::cli
