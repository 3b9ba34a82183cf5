// OTLP/gRPC receiver through a real gRPC client (the generated stub) and a real
// embedded store.
#include "ingest/otlp_grpc.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "auth/authenticator.h"
#include "ingest/otlp_decode.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
#include "store/embedded_store.h"

namespace sightline::ingest {
namespace {

using ::opentelemetry::proto::collector::trace::v1::TraceService;

ExportRequest Request(int trace, int spans, std::string span_prefix = std::string(7, '\x05')) {
  ExportRequest req;
  auto* ss = req.add_resource_spans()->add_scope_spans();
  for (int i = 0; i < spans; ++i) {
    auto* s = ss->add_spans();
    s->set_trace_id(std::string(15, '\x09') + static_cast<char>(trace));
    s->set_span_id(span_prefix + static_cast<char>(i + 1));
    s->set_name("g" + std::to_string(i));
    s->set_start_time_unix_nano(1'700'000'000'000'000'000ull);
    s->set_end_time_unix_nano(1'700'000'000'100'000'000ull);
  }
  return req;
}

// Refuses appends with a chosen status, else forwards.
class GateStore : public store::SpanStore {
 public:
  explicit GateStore(store::SpanStore* inner) : inner_(inner) {}
  Status Append(std::vector<model::Span> s, AppendCallback d) override {
    return refuse.ok() ? inner_->Append(std::move(s), std::move(d)) : refuse;
  }
  Result<store::TracePage> SearchTraces(const store::TraceQuery& q) override { return inner_->SearchTraces(q); }
  Result<store::TraceDetail> GetTrace(const std::string& t, const std::vector<std::string>& p) override {
    return inner_->GetTrace(t, p);
  }
  Result<model::Span> GetSpan(const std::string& t, const std::string& s, const std::vector<std::string>& p) override {
    return inner_->GetSpan(t, s, p);
  }
  Result<store::SessionPage> SearchSessions(const store::SessionQuery& q) override { return inner_->SearchSessions(q); }
  Result<store::SessionDetail> GetSession(const std::string& s, const std::vector<std::string>& p) override {
    return inner_->GetSession(s, p);
  }
  store::StoreStats Stats() override { return inner_->Stats(); }
  Status Close() override { return inner_->Close(); }
  Status refuse;

 private:
  store::SpanStore* inner_;
};

class OtlpGrpcTest : public ::testing::Test {
 protected:
  // The authenticator the receiver asks; null (the default): open.
  virtual auth::Authenticator* Auth() { return nullptr; }
  void SetUp() override {
    static std::atomic<int> n{0};
    dir_ = std::filesystem::temp_directory_path() / ("sightline_grpc_test_" + std::to_string(getpid()) + "_" +
                                                    std::to_string(n++));
    std::filesystem::remove_all(dir_);
    store::EmbeddedStoreOptions so;
    so.dir = dir_.string();
    so.fsync = store::FsyncPolicy::kNever;
    so.logger = [](const std::string&) {};
    auto opened = store::EmbeddedStore::Open(so);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
    gate_ = std::make_unique<GateStore>(store_.get());
    IngestOptions io;
    io.max_request_bytes = 1u << 20;
    ingest_ = std::make_unique<IngestService>(gate_.get(), &metrics_, io);
    receiver_ = std::make_unique<GrpcReceiver>(ingest_.get(), &metrics_, Auth());
    auto port = receiver_->Start("127.0.0.1:0", io.max_request_bytes);
    ASSERT_TRUE(port.ok()) << port.status().ToString();
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(*port), grpc::InsecureChannelCredentials());
    stub_ = TraceService::NewStub(channel_);
  }
  void TearDown() override {
    if (receiver_) receiver_->Shutdown(std::chrono::seconds(5));
    if (store_) {
      EXPECT_TRUE(store_->Close().ok());
    }
    std::filesystem::remove_all(dir_);
  }

  grpc::Status Export(const ExportRequest& req, ExportResponse* resp, bool gzip = false, std::string project = "",
                      std::string api_key = "") {
    grpc::ClientContext ctx;
    if (!api_key.empty()) ctx.AddMetadata("x-sightline-api-key", api_key);
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    if (gzip) ctx.set_compression_algorithm(GRPC_COMPRESS_GZIP);
    if (!project.empty()) ctx.AddMetadata("x-sightline-project", project);
    return stub_->Export(&ctx, req, resp);
  }

  std::filesystem::path dir_;
  MetricsRegistry metrics_;
  std::unique_ptr<store::EmbeddedStore> store_;
  std::unique_ptr<GateStore> gate_;
  std::unique_ptr<IngestService> ingest_;
  std::unique_ptr<GrpcReceiver> receiver_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<TraceService::Stub> stub_;
};

TEST_F(OtlpGrpcTest, ExportStoresSpans) {
  ExportResponse resp;
  auto st = Export(Request(1, 3), &resp, false, "team-a");
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_FALSE(resp.has_partial_success());
  auto trace = store_->GetTrace(std::string(15, '\x09') + '\x01', {"team-a"});
  ASSERT_TRUE(trace.ok()) << trace.status().ToString();
  EXPECT_EQ(trace->spans.size(), 3u);
}

TEST_F(OtlpGrpcTest, GzipCompressedExport) {
  ExportResponse resp;
  // Big and repetitive enough that compression matters.
  ExportRequest req = Request(2, 200);
  for (auto& s : *req.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans())
    s.set_name(std::string(2000, 'n'));
  ASSERT_GT(req.ByteSizeLong(), 1u << 18);
  auto st = Export(req, &resp, true);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(store_->GetTrace(std::string(15, '\x09') + '\x02', {})->spans.size(), 200u);
}

TEST_F(OtlpGrpcTest, PartialSuccess) {
  ExportRequest req = Request(3, 2);
  req.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(1)->set_span_id("bad");
  ExportResponse resp;
  auto st = Export(req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(resp.partial_success().rejected_spans(), 1);
  EXPECT_FALSE(resp.partial_success().error_message().empty());
}

TEST_F(OtlpGrpcTest, MalformedBodyIsInvalidArgument) {
  grpc::GenericStub generic(channel_);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  std::string junk("\x0a\xff\xff\xff\x0f", 5);
  grpc::Slice slice(junk);
  grpc::ByteBuffer request(&slice, 1), response;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  grpc::Status status;
  generic.UnaryCall(&ctx, "/opentelemetry.proto.collector.trace.v1.TraceService/Export", grpc::StubOptions(),
                    &request, &response, [&](grpc::Status s) {
                      std::lock_guard<std::mutex> lock(mu);
                      status = std::move(s);
                      done = true;
                      cv.notify_all();
                    });
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return done; });
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_FALSE(status.error_message().empty());
}

TEST_F(OtlpGrpcTest, QueueFullAndUnavailable) {
  ExportResponse resp;
  gate_->refuse = Status::ResourceExhausted("ingest queue full");
  auto st = Export(Request(4, 1), &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  // RetryInfo travels in the binary details.
  EXPECT_NE(st.error_details().find("google.rpc.RetryInfo"), std::string::npos);
  gate_->refuse = Status::Unavailable("closing");
  st = Export(Request(4, 1), &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(metrics_.Render().find("sightline_grpc_requests_total{code=\"8\"} 1"), std::string::npos);
}

TEST_F(OtlpGrpcTest, MessageOverTheLimitIsRefused) {
  ExportRequest req = Request(5, 1);
  req.mutable_resource_spans(0)->mutable_scope_spans(0)->mutable_spans(0)->set_name(std::string(2u << 20, 'x'));
  ExportResponse resp;
  auto st = Export(req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  // Compressed below the limit but inflating past it: refused as well.
  st = Export(req, &resp, true);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
}

// The cap on slow credential hashes over gRPC (docs/auth.md, "Slow hashes are
// capped"): with the one slot held by a wrong secret, another unknown secret is
// refused at once with UNAVAILABLE and RetryInfo, while a key already verified sends.
class OtlpGrpcAuthTest : public OtlpGrpcTest {
 protected:
  auth::Authenticator* Auth() override {
    if (!authn_) {
      meta_dir_ = std::filesystem::temp_directory_path() / ("sightline_grpc_auth_" + std::to_string(getpid()));
      std::filesystem::remove_all(meta_dir_);
      std::filesystem::create_directories(meta_dir_);
      auth::MetadataDb::Options o;
      o.iterations = 1000;
      const std::string path = (meta_dir_ / "meta.db").string();
      auto admin = std::move(auth::MetadataDb::Open(path, o)).value();
      EXPECT_TRUE(admin->CreateProject("alpha").ok());
      key_ = std::move(admin->CreateApiKey("alpha", "k")).value();
      auth::Authenticator::Options ao;
      ao.max_concurrent_verifications = 1;
      ao.dummy_iterations = 1000;
      ao.verify_hook = [this]() {
        std::unique_lock<std::mutex> l(mu_);
        ++inside_;
        cv_.notify_all();
        cv_.wait(l, [this]() { return !hold_; });
      };
      authn_ = std::make_unique<auth::Authenticator>(std::move(auth::MetadataDb::Open(path, o)).value(), ao);
      EXPECT_TRUE(authn_->Refresh().ok());
    }
    return authn_.get();
  }
  void TearDown() override {
    OtlpGrpcTest::TearDown();
    receiver_.reset();
    authn_.reset();
    std::filesystem::remove_all(meta_dir_);
  }
  // Distinct wrong secrets of the live key's id (never the right one: a character
  // before the last always differs).
  std::string Wrong(char last) {
    std::string w = key_.secret;
    char& c = w[w.size() - 3];
    c = c == 'x' ? 'y' : 'x';
    w.back() = last;
    return w;
  }

  std::filesystem::path meta_dir_;
  std::unique_ptr<auth::Authenticator> authn_;
  auth::NewApiKey key_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool hold_ = false;  // guarded by mu_
  int inside_ = 0;     // guarded by mu_
};

TEST_F(OtlpGrpcAuthTest, BusyVerificationSlotsAnswerUnavailableAndKnownKeysStillSend) {
  ExportResponse resp;
  ASSERT_TRUE(Export(Request(20, 1), &resp, false, "", key_.secret).ok());  // verified: cached
  EXPECT_EQ(Export(Request(20, 1), &resp, false, "", Wrong('a')).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  {
    std::lock_guard<std::mutex> l(mu_);
    hold_ = true;
    inside_ = 0;
  }
  grpc::StatusCode held = grpc::StatusCode::OK;
  std::thread holder([&]() {
    ExportResponse r;
    held = Export(Request(21, 1), &r, false, "", Wrong('b')).error_code();
  });
  {
    std::unique_lock<std::mutex> l(mu_);
    ASSERT_TRUE(cv_.wait_for(l, std::chrono::seconds(20), [this]() { return inside_ == 1; }));
  }
  auto busy = Export(Request(22, 1), &resp, false, "", Wrong('c'));
  EXPECT_EQ(busy.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(busy.error_details().find("google.rpc.RetryInfo"), std::string::npos);
  EXPECT_TRUE(Export(Request(23, 1), &resp, false, "", key_.secret).ok());
  EXPECT_EQ(Export(Request(24, 1), &resp, false, "", Wrong('a')).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(authn_->refused_verifications(), 1u);
  {
    std::lock_guard<std::mutex> l(mu_);
    hold_ = false;
  }
  cv_.notify_all();
  holder.join();
  EXPECT_EQ(held, grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_NE(metrics_.Render().find("sightline_grpc_requests_total{code=\"14\"} 1"), std::string::npos);
}

}  // namespace
}  // namespace sightline::ingest
