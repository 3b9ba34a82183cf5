// The CLI's client against the real HTTP server speaking TLS: https works with the
// private CA given, and is refused (with a message saying why) for an untrusted
// certificate, a certificate for another host, or an https URL pointed at a plain
// HTTP server.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/http_server.h"
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

std::unique_ptr<tls::ServerTlsSource> Source(const std::string& cert, const std::string& key) {
  tls::ServerTlsSource::Options o;
  o.files = {cert, key, ""};
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

}  // namespace
}  // namespace sightline::cli
