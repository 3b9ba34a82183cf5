// Test helpers for the API tests: a real server (EmbeddedStore in a temp dir,
// IngestService, ApiRouter, HttpServer on 127.0.0.1 port 0), a Beast client, and OTLP
// request builders. Test-only; included by *_test.cc files.
#pragma once

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "api/http_server.h"
#include "api/router.h"
#include "audit/side_effects.h"
#include "common/hex.h"
#include "common/metrics.h"
#include "ingest/ingest_service.h"
#include "ingest/otlp_decode.h"
#include "pipeline/pricing.h"
#include "store/embedded_store.h"

namespace sightline::api::testing {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

using ::opentelemetry::proto::trace::v1::ResourceSpans;
using ::opentelemetry::proto::trace::v1::Span;

inline std::string TraceId(int n) {
  std::string id(16, '\x11');
  id[15] = static_cast<char>(n);
  return id;
}
inline std::string SpanId(int n) {
  std::string id(8, '\x22');
  id[7] = static_cast<char>(n);
  return id;
}

struct SpanSpec {
  SpanSpec(std::string trace, std::string span, std::string parent = "", std::string n = "span",
           int64_t start = 1'700'000'000'000'000'000, int64_t end = 1'700'000'001'000'000'000)
      : trace_id(std::move(trace)), span_id(std::move(span)), parent_id(std::move(parent)), name(std::move(n)),
        start_ns(start), end_ns(end) {}
  std::string trace_id;
  std::string span_id;
  std::string parent_id;
  std::string name;
  int64_t start_ns;
  int64_t end_ns;
  std::map<std::string, std::string> attrs;
};

inline ingest::ExportRequest MakeRequest(const std::vector<SpanSpec>& specs, const std::string& service = "svc") {
  ingest::ExportRequest req;
  ResourceSpans* rs = req.add_resource_spans();
  auto* kv = rs->mutable_resource()->add_attributes();
  kv->set_key("service.name");
  kv->mutable_value()->set_string_value(service);
  auto* ss = rs->add_scope_spans();
  for (const auto& s : specs) {
    Span* span = ss->add_spans();
    span->set_trace_id(s.trace_id);
    span->set_span_id(s.span_id);
    span->set_parent_span_id(s.parent_id);
    span->set_name(s.name);
    span->set_start_time_unix_nano(static_cast<uint64_t>(s.start_ns));
    span->set_end_time_unix_nano(static_cast<uint64_t>(s.end_ns));
    for (const auto& [k, v] : s.attrs) {
      auto* a = span->add_attributes();
      a->set_key(k);
      a->mutable_value()->set_string_value(v);
    }
  }
  return req;
}

struct ClientResponse {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// A Beast client bound to one connection (keep-alive across Send calls).
class Client {
 public:
  explicit Client(int port) : stream_(ioc_) {
    stream_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port)));
  }
  ClientResponse Send(http::verb method, const std::string& target, std::string body = "",
                      const std::map<std::string, std::string>& headers = {}) {
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "127.0.0.1");
    for (const auto& [k, v] : headers) req.set(k, v);
    req.body() = std::move(body);
    if (method == http::verb::post || !req.body().empty()) req.prepare_payload();
    stream_.expires_after(std::chrono::seconds(30));
    http::write(stream_, req);
    return Read();
  }
  ClientResponse Read() {
    http::response_parser<http::string_body> parser;
    parser.body_limit(256u << 20);
    http::read(stream_, buffer_, parser);
    auto res = parser.release();
    ClientResponse out;
    out.status = res.result_int();
    out.body = std::move(res.body());
    for (const auto& f : res) {
      std::string name(f.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      auto [it, fresh] = out.headers.emplace(name, std::string(f.value()));
      if (!fresh) it->second += ", " + std::string(f.value());  // repeated (Set-Cookie): joined
    }
    return out;
  }
  // Writes raw bytes (for requests the Beast serializer would not produce).
  void WriteRaw(const std::string& bytes) { asio::write(stream_.socket(), asio::buffer(bytes)); }

 private:
  asio::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
};

// A SpanStore that forwards to a real one but can refuse appends with a chosen
// status (queue full, unavailable) to test the refusal paths.
class RefusingStore : public store::SpanStore {
 public:
  explicit RefusingStore(store::SpanStore* inner) : inner_(inner) {}
  void Refuse(Status st) { refuse_ = std::move(st); }
  Status Append(std::vector<model::Span> spans, AppendCallback done) override {
    if (!refuse_.ok()) return refuse_;
    return inner_->Append(std::move(spans), std::move(done));
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
  Result<store::AggregateResult> Aggregate(const store::AggregateQuery& q) override { return inner_->Aggregate(q); }
  Result<store::DeletionRecord> Delete(const store::DeletionRequest& r) override { return inner_->Delete(r); }
  Result<store::ResumeCounts> CountResumes(const store::AggregateFilter& f) override { return inner_->CountResumes(f); }
  Result<store::RepriceProgress> Reprice(const store::RepriceRequest& r) override { return inner_->Reprice(r); }
  std::vector<store::DeletionRecord> Deletions() override { return inner_->Deletions(); }
  std::vector<store::SamplingCount> SamplingCounts() override { return inner_->SamplingCounts(); }
  store::StoreStats Stats() override { return inner_->Stats(); }
  Status Close() override { return inner_->Close(); }

 private:
  store::SpanStore* inner_;
  Status refuse_;
};

// The whole HTTP side on a real embedded store in a fresh temp dir.
class ServerFixture : public ::testing::Test {
 protected:
  virtual size_t MaxBodyBytes() { return 64u << 20; }
  // The pricing service ingest and the router use; null (the default): no pricing.
  virtual pipeline::PricingService* Pricing() { return nullptr; }
  // The audit trail and side-effect policy ingest and the router use; null: none.
  virtual audit::AuditLog* Audit() { return nullptr; }
  virtual const audit::SideEffectPolicy* SideEffects() { return nullptr; }
  // The redaction service ingest and the router use; null: none.
  virtual pipeline::RedactionService* Redaction() { return nullptr; }
  // The authenticator the router asks; null (the default): open, as before auth.
  virtual auth::Authenticator* Auth() { return nullptr; }
  // Proxies whose X-Forwarded-For the login limit believes; none by default.
  virtual std::vector<IpNetwork> TrustedProxies() { return {}; }
  // The router as a TLS server configures it (Secure cookies, "tls":true in the auth
  // status); the test client still speaks plain HTTP to it.
  virtual bool RouterSaysTls() { return false; }

  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ = std::filesystem::temp_directory_path() /
           ("sightline_api_test_" + std::to_string(getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(dir_);
    store::EmbeddedStoreOptions so;
    so.dir = dir_.string();
    so.fsync = store::FsyncPolicy::kNever;  // durability is the store's tests' business
    so.logger = [](const std::string&) {};
    auto opened = store::EmbeddedStore::Open(so);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    real_store_ = std::move(opened).value();
    store_ = std::make_unique<RefusingStore>(real_store_.get());
    agent_metrics_.AttachTo(&metrics_);
    ingest::IngestOptions io;
    io.max_request_bytes = MaxBodyBytes();
    io.pricing = Pricing();
    io.agent_metrics = &agent_metrics_;
    io.audit = Audit();
    io.side_effects = SideEffects();
    io.redaction = Redaction();
    ingest_ = std::make_unique<ingest::IngestService>(store_.get(), &metrics_, io);
    RouterOptions ro;
    ro.pricing = Pricing();
    ro.agent_metrics = &agent_metrics_;
    ro.audit = Audit();
    ro.redaction = Redaction();
    ro.auth = Auth();
    ro.trusted_proxies = TrustedProxies();
    ro.secure_cookies = RouterSaysTls();
    ro.tls = RouterSaysTls();
    router_ = std::make_unique<ApiRouter>(store_.get(), ingest_.get(), &metrics_, ro);
    HttpServerOptions ho;
    ho.port = 0;
    ho.max_body_bytes = MaxBodyBytes();
    server_ = std::make_unique<HttpServer>(ho, [this](HttpRequest&& req, Responder respond) {
      router_->Handle(std::move(req), std::move(respond));
    });
    auto port = server_->Start();
    ASSERT_TRUE(port.ok()) << port.status().ToString();
    port_ = *port;
  }

  void TearDown() override {
    if (server_) server_->Stop(std::chrono::seconds(5));
    if (router_) router_->Shutdown();
    if (real_store_) {
      EXPECT_TRUE(real_store_->Close().ok());
    }
    server_.reset();
    router_.reset();
    ingest_.reset();
    store_.reset();
    real_store_.reset();
    std::filesystem::remove_all(dir_);
  }

  ClientResponse Get(const std::string& target) { return Client(port_).Send(http::verb::get, target); }

  ClientResponse PostProtobuf(const ingest::ExportRequest& req, std::map<std::string, std::string> headers = {}) {
    headers.emplace("Content-Type", "application/x-protobuf");
    return Client(port_).Send(http::verb::post, "/v1/traces", req.SerializeAsString(), headers);
  }

  static rapidjson::Document ParseJson(const std::string& text) {
    rapidjson::Document d;
    d.Parse(text.data(), text.size());
    EXPECT_FALSE(d.HasParseError()) << text.substr(0, 500);
    return d;
  }

  std::filesystem::path dir_;
  MetricsRegistry metrics_;
  // Attached to metrics_ in SetUp; declared after it, so it goes first.
  pipeline::AgentMetrics agent_metrics_;
  std::unique_ptr<store::EmbeddedStore> real_store_;
  std::unique_ptr<RefusingStore> store_;
  std::unique_ptr<ingest::IngestService> ingest_;
  std::unique_ptr<ApiRouter> router_;
  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
};

}  // namespace sightline::api::testing
