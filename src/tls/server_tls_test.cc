// Loading server TLS material: every way the files can be wrong is refused with a
// message naming the file (and never its content), and the reloading source keeps the
// certificate in force when changed files do not load.
#include "tls/server_tls.h"

#include <sys/stat.h>

#include <ctime>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tls/client_tls.h"
#include "tls/pem.h"
#include "tls/tls_test_util.h"

namespace sightline::tls {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::CertSpec;
using testing::MakeCa;
using testing::MakeCert;
using testing::TestPki;

ServerTlsFiles FilesOf(const TestPki& pki) { return {pki.cert_file, pki.key_file, ""}; }

TEST(ServerTlsContext, LoadsAMatchingPairAndDescribesTheCertificate) {
  TestPki pki;
  auto ctx = ServerTlsContext::Load(FilesOf(pki));
  ASSERT_TRUE(ctx.ok()) << ctx.status().ToString();
  EXPECT_EQ((*ctx)->certificate().subject, "CN=sightline test");
  EXPECT_THAT((*ctx)->certificate().alt_names, HasSubstr("DNS:localhost"));
  EXPECT_THAT((*ctx)->certificate().alt_names, HasSubstr("IP:127.0.0.1"));
  EXPECT_EQ((*ctx)->certificate().sha256.size(), 64u);
  EXPECT_FALSE((*ctx)->requires_client_certificate());
  EXPECT_THAT((*ctx)->Describe(), HasSubstr("expires"));
  SSL_CTX* c = (*ctx)->context().native_handle();
  EXPECT_EQ(SSL_CTX_get_min_proto_version(c), TLS1_2_VERSION);
  EXPECT_NE(SSL_CTX_get_options(c) & SSL_OP_CIPHER_SERVER_PREFERENCE, 0u);
}

TEST(ServerTlsContext, EveryBadFileIsRefusedNamingItWithoutItsContent) {
  TestPki pki;
  const std::string key_pem = pki.server.key.Pem();
  auto other = MakeCert(CertSpec{}, &pki.ca);
  struct Case {
    std::string name;
    ServerTlsFiles files;
    std::string expect_file;
    std::string expect;
  };
  std::vector<Case> cases = {
      {"missing cert", {pki.dir.Path("nope.pem"), pki.key_file, ""}, pki.dir.Path("nope.pem"), "cannot read"},
      {"missing key", {pki.cert_file, pki.dir.Path("nokey.pem"), ""}, pki.dir.Path("nokey.pem"), "cannot read"},
      {"empty cert", {pki.dir.Write("empty.pem", ""), pki.key_file, ""}, "empty.pem", "empty"},
      {"garbage cert", {pki.dir.Write("junk.pem", "hello\n"), pki.key_file, ""}, "junk.pem", "no PEM certificate"},
      {"swapped", {pki.key_file, pki.cert_file, ""}, pki.key_file, "not a certificate"},
      {"cert as key", {pki.cert_file, pki.cert_file, ""}, pki.cert_file, "not a private key"},
      {"mismatch", {pki.cert_file, pki.dir.Write("other.key", other.key.Pem()), ""}, "other.key", "does not belong"},
      {"encrypted key",
       {pki.cert_file, pki.dir.Write("enc.key", pki.server.key.EncryptedPem("secret-pass")), ""},
       "enc.key",
       "encrypted with a passphrase"},
      {"truncated cert",
       {pki.dir.Write("trunc.pem", pki.server.Pem().substr(0, 200) + "\n-----END CERTIFICATE-----\n"), pki.key_file, ""},
       "trunc.pem",
       "does not parse"},
      {"missing client CA", {pki.cert_file, pki.key_file, pki.dir.Path("noca.pem")}, "noca.pem", "cannot read"},
      {"client CA is a key", {pki.cert_file, pki.key_file, pki.key_file}, "client CA file", "not a certificate"},
  };
  for (const auto& c : cases) {
    auto ctx = ServerTlsContext::Load(c.files);
    ASSERT_FALSE(ctx.ok()) << c.name;
    EXPECT_EQ(ctx.status().code(), StatusCode::kInvalidArgument) << c.name;
    EXPECT_THAT(ctx.status().message(), HasSubstr(c.expect_file)) << c.name;
    EXPECT_THAT(ctx.status().message(), HasSubstr(c.expect)) << c.name;
    // No line of the key's base64 is ever in a message.
    EXPECT_THAT(ctx.status().message(), Not(HasSubstr(key_pem.substr(key_pem.find('\n') + 1, 40)))) << c.name;
  }
}

TEST(ServerTlsContext, UnreadableKeyFileSaysSo) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads every file";
  TestPki pki;
  ASSERT_EQ(chmod(pki.key_file.c_str(), 0), 0);
  auto ctx = ServerTlsContext::Load(FilesOf(pki));
  ASSERT_FALSE(ctx.ok());
  EXPECT_THAT(ctx.status().message(), HasSubstr("key file " + pki.key_file + ": cannot read: Permission denied"));
}

TEST(ServerTlsContext, ChainAndClientCa) {
  TestPki pki;
  CertSpec is;
  is.common_name = "Intermediate";
  is.ca = true;
  auto inter = MakeCert(is, &pki.ca);
  auto leaf = MakeCert(CertSpec{}, &inter);
  ServerTlsFiles f{pki.dir.Write("chain.pem", leaf.Pem() + inter.Pem()), pki.dir.Write("leaf.key", leaf.key.Pem()),
                   pki.ca_file};
  auto ctx = ServerTlsContext::Load(f);
  ASSERT_TRUE(ctx.ok()) << ctx.status().ToString();
  EXPECT_EQ((*ctx)->certificate().chain_length, 2);
  EXPECT_TRUE((*ctx)->requires_client_certificate());
  EXPECT_THAT((*ctx)->Describe(), HasSubstr("client certificates required"));
  // The intermediate first and the leaf second: the key belongs to neither first.
  f.cert_file = pki.dir.Write("wrong-order.pem", inter.Pem() + leaf.Pem());
  EXPECT_THAT(ServerTlsContext::Load(f).status().message(), HasSubstr("does not belong"));
}

TEST(ServerTlsSource, ReloadsChangedFilesAndKeepsTheOldOnesWhenTheNewAreBad) {
  TestPki pki;
  std::vector<std::string> log;
  ServerTlsSource::Options o;
  o.files = FilesOf(pki);
  o.logger = [&log](const std::string& line) { log.push_back(line); };
  auto src = ServerTlsSource::Create(o);
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  auto first = (*src)->Current();
  EXPECT_FALSE((*src)->MaybeReload(true)) << "unchanged files";
  EXPECT_EQ((*src)->Current(), first);

  // A new pair: in force for new connections.
  auto next = MakeCert(CertSpec{"rotated"}, &pki.ca);
  pki.dir.Write("cert.pem", next.Pem());
  pki.dir.Write("key.pem", next.key.Pem());
  EXPECT_TRUE((*src)->MaybeReload(true));
  auto second = (*src)->Current();
  EXPECT_NE(second, first);
  EXPECT_EQ(second->certificate().subject, "CN=rotated");
  EXPECT_TRUE((*src)->last_error().ok());
  ASSERT_EQ(log.size(), 1u);
  EXPECT_THAT(log[0], HasSubstr("reloaded"));
  EXPECT_THAT(log[0], HasSubstr("CN=rotated"));

  // Half a rotation (a certificate without its key): refused, logged once, kept.
  auto third = MakeCert(CertSpec{"third"}, &pki.ca);
  pki.dir.Write("cert.pem", third.Pem());
  EXPECT_FALSE((*src)->MaybeReload(true));
  EXPECT_FALSE((*src)->MaybeReload(true));
  EXPECT_EQ((*src)->Current(), second);
  EXPECT_THAT((*src)->last_error().message(), HasSubstr("does not belong"));
  ASSERT_EQ(log.size(), 2u);
  EXPECT_THAT(log[1], HasSubstr("refused"));

  // A vanished key file: refused too, the context in force stays.
  std::filesystem::remove(pki.key_file);
  EXPECT_FALSE((*src)->MaybeReload(true));
  EXPECT_EQ((*src)->Current(), second);
  EXPECT_THAT((*src)->last_error().message(), HasSubstr("cannot read"));

  // The rest of the rotation arrives: it applies.
  pki.dir.Write("key.pem", third.key.Pem());
  EXPECT_TRUE((*src)->MaybeReload(true));
  EXPECT_EQ((*src)->Current()->certificate().subject, "CN=third");
  EXPECT_TRUE((*src)->last_error().ok());

  // Without force, a look within the interval does not read the files.
  pki.dir.Write("cert.pem", next.Pem());
  pki.dir.Write("key.pem", next.key.Pem());
  EXPECT_FALSE((*src)->MaybeReload());
}

TEST(ServerTlsSource, CreateRefusesBadFiles) {
  TestPki pki;
  ServerTlsSource::Options o;
  o.files = {pki.cert_file, "", ""};
  EXPECT_THAT(ServerTlsSource::Create(o).status().message(), HasSubstr("needs a key file"));
  o.files = {pki.cert_file, pki.ca_file, ""};
  EXPECT_THAT(ServerTlsSource::Create(o).status().message(), HasSubstr("not a private key"));
}

TEST(ClientTls, CaFileErrorsNameTheFile) {
  TestPki pki;
  EXPECT_TRUE(MakeClientContext(pki.ca_file).ok());
  EXPECT_TRUE(MakeClientContext("").ok());
  auto missing = MakeClientContext(pki.dir.Path("none.pem"));
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("CA file " + pki.dir.Path("none.pem") + ": cannot read"));
  EXPECT_THAT(MakeClientContext(pki.key_file).status().message(), HasSubstr("not a certificate"));
}

// /metrics (docs/tls.md, "Metrics"): the certificate in force's notAfter, following
// a rotation, and whether the files on disk are the ones in force.
TEST(ServerTlsSource, PublishesTheExpiryOfTheCertificateInForce) {
  TestPki pki;
  MetricsRegistry metrics;
  ServerTlsSource::Options o;
  o.files = {pki.cert_file, pki.key_file, ""};
  o.metrics = &metrics;
  auto src = ServerTlsSource::Create(o);
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  auto gauge = [&](const char* name) { return metrics.GetGauge(name, "")->Value(); };
  const double first = gauge("sightline_tls_certificate_expiry_timestamp_seconds");
  EXPECT_EQ(first, static_cast<double>(NotAfterOf(pki.server.x509.get())));
  EXPECT_GT(first, static_cast<double>(std::time(nullptr)));
  EXPECT_EQ(gauge("sightline_tls_certificate_reload_ok"), 1);
  EXPECT_NE(metrics.Render().find("sightline_tls_certificate_expiry_timestamp_seconds "), std::string::npos);

  CertSpec longer;
  longer.common_name = "longer";
  longer.valid_to_s = 90L * 24 * 3600;
  auto next = MakeCert(longer, &pki.ca);
  pki.dir.Write("cert.pem", next.Pem());
  pki.dir.Write("key.pem", next.key.Pem());
  ASSERT_TRUE((*src)->MaybeReload(true));
  EXPECT_EQ(gauge("sightline_tls_certificate_expiry_timestamp_seconds"), static_cast<double>(NotAfterOf(next.x509.get())));
  EXPECT_GT(gauge("sightline_tls_certificate_expiry_timestamp_seconds"), first + 50.0 * 24 * 3600);

  pki.dir.Write("key.pem", "not a key");
  EXPECT_FALSE((*src)->MaybeReload(true));
  EXPECT_EQ(gauge("sightline_tls_certificate_reload_ok"), 0);
  EXPECT_EQ(gauge("sightline_tls_certificate_expiry_timestamp_seconds"), static_cast<double>(NotAfterOf(next.x509.get())));
  pki.dir.Write("key.pem", next.key.Pem());  // the bad edit reverted
  EXPECT_FALSE((*src)->MaybeReload(true));
  EXPECT_EQ(gauge("sightline_tls_certificate_reload_ok"), 1);
}

// The client's own certificate for mutual TLS (--client-cert, --client-key).
TEST(ClientTls, ClientCertificateFilesAreCheckedAndNamed) {
  TestPki pki;
  EXPECT_TRUE(MakeClientContext(pki.ca_file, pki.cert_file, pki.key_file).ok());
  EXPECT_THAT(MakeClientContext(pki.ca_file, pki.cert_file, "").status().message(), HasSubstr("needs --client-key"));
  EXPECT_THAT(MakeClientContext(pki.ca_file, "", pki.key_file).status().message(), HasSubstr("needs --client-cert"));
  auto other = MakeCert(CertSpec{"other"}, &pki.ca);
  const std::string other_key = pki.dir.Write("other-key.pem", other.key.Pem());
  auto mismatch = MakeClientContext(pki.ca_file, pki.cert_file, other_key);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.status().message(), "client key file " + other_key + " is not the key of client certificate file " +
                                             pki.cert_file);
  const std::string encrypted = pki.dir.Write("enc.pem", pki.server.key.EncryptedPem("pass"));
  EXPECT_THAT(MakeClientContext(pki.ca_file, pki.cert_file, encrypted).status().message(),
              HasSubstr("client key file " + encrypted));
  EXPECT_THAT(MakeClientContext(pki.ca_file, pki.key_file, pki.key_file).status().message(),
              HasSubstr("client certificate file " + pki.key_file));
}

}  // namespace
}  // namespace sightline::tls
