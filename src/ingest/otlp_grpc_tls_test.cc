// The OTLP/gRPC receiver speaking TLS, through a real gRPC client: an export over TLS
// trusting the test CA is stored; a plaintext client and one that does not trust the
// CA are refused; with a client CA only a client certificate it signed gets in.
#include <unistd.h>

#include <atomic>
#include <filesystem>

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>

#include "ingest/otlp_decode.h"
#include "ingest/otlp_grpc.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
#include "store/embedded_store.h"
#include "tls/tls_test_util.h"

namespace sightline::ingest {
namespace {

using ::opentelemetry::proto::collector::trace::v1::TraceService;
using tls::testing::CertSpec;
using tls::testing::MakeCert;
using tls::testing::TestCert;
using tls::testing::TestPki;

class OtlpGrpcTlsTest : public ::testing::Test {
 protected:
  void Start(const std::string& client_ca) {
    static std::atomic<int> n{0};
    dir_ = std::filesystem::temp_directory_path() /
           ("sightline_grpc_tls_test_" + std::to_string(getpid()) + "_" + std::to_string(n++));
    std::filesystem::remove_all(dir_);
    store::EmbeddedStoreOptions so;
    so.dir = dir_.string();
    so.fsync = store::FsyncPolicy::kNever;
    so.logger = [](const std::string&) {};
    auto opened = store::EmbeddedStore::Open(so);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
    ingest_ = std::make_unique<IngestService>(store_.get(), &metrics_, IngestOptions{});
    receiver_ = std::make_unique<GrpcReceiver>(ingest_.get(), &metrics_);
    auto port = receiver_->Start("127.0.0.1:0", 1u << 20, {pki_.cert_file, pki_.key_file, client_ca, 1});
    ASSERT_TRUE(port.ok()) << port.status().ToString();
    target_ = "127.0.0.1:" + std::to_string(*port);
  }
  void TearDown() override {
    if (receiver_) receiver_->Shutdown(std::chrono::seconds(5));
    if (store_) {
      EXPECT_TRUE(store_->Close().ok());
    }
    std::filesystem::remove_all(dir_);
  }

  grpc::Status Export(const std::shared_ptr<grpc::ChannelCredentials>& creds, int trace) {
    ExportRequest req;
    auto* s = req.add_resource_spans()->add_scope_spans()->add_spans();
    s->set_trace_id(std::string(15, '\x07') + static_cast<char>(trace));
    s->set_span_id(std::string(8, '\x01'));
    s->set_name("over tls");
    s->set_start_time_unix_nano(1'700'000'000'000'000'000ull);
    s->set_end_time_unix_nano(1'700'000'000'100'000'000ull);
    auto stub = TraceService::NewStub(grpc::CreateChannel(target_, creds));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    ExportResponse resp;
    return stub->Export(&ctx, req, &resp);
  }

  std::shared_ptr<grpc::ChannelCredentials> Ssl(const TestCert* client = nullptr) {
    grpc::SslCredentialsOptions o;
    o.pem_root_certs = pki_.ca.Pem();
    if (client != nullptr) {
      o.pem_private_key = client->key.Pem();
      o.pem_cert_chain = client->Pem();
    }
    return grpc::SslCredentials(o);
  }

  bool Stored(int trace) {
    return store_->GetTrace(std::string(15, '\x07') + static_cast<char>(trace), {}).ok();
  }

  TestPki pki_;
  std::filesystem::path dir_;
  MetricsRegistry metrics_;
  std::unique_ptr<store::EmbeddedStore> store_;
  std::unique_ptr<IngestService> ingest_;
  std::unique_ptr<GrpcReceiver> receiver_;
  std::string target_;
};

TEST_F(OtlpGrpcTlsTest, ExportOverTlsIsStoredAndPlaintextIsRefused) {
  Start("");
  auto st = Export(Ssl(), 1);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_TRUE(Stored(1));
  EXPECT_FALSE(Export(grpc::InsecureChannelCredentials(), 2).ok());
  grpc::SslCredentialsOptions other;
  other.pem_root_certs = tls::testing::MakeCa("Another CA").Pem();
  EXPECT_FALSE(Export(grpc::SslCredentials(other), 3).ok());
  EXPECT_FALSE(Stored(2));
  EXPECT_FALSE(Stored(3));
}

TEST_F(OtlpGrpcTlsTest, ClientCertificatesWhenAClientCaIsSet) {
  Start(pki_.ca_file);
  CertSpec cs;
  cs.common_name = "agent-host";
  cs.alt_names = "";
  auto client = MakeCert(cs, &pki_.ca);
  auto st = Export(Ssl(&client), 1);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_TRUE(Stored(1));
  EXPECT_FALSE(Export(Ssl(), 2).ok());
  auto stranger_ca = tls::testing::MakeCa("Stranger CA");
  auto stranger = MakeCert(cs, &stranger_ca);
  EXPECT_FALSE(Export(Ssl(&stranger), 3).ok());
  EXPECT_FALSE(Stored(2));
  EXPECT_FALSE(Stored(3));
}

}  // namespace
}  // namespace sightline::ingest
