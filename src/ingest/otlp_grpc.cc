#include "ingest/otlp_grpc.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <grpcpp/support/byte_buffer.h>

#include <utility>
#include <vector>

#include "common/error_map.h"
#include "ingest/otlp_decode.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"

namespace sightline::ingest {
namespace {

using ::opentelemetry::proto::collector::trace::v1::TraceService;

// Copies the (possibly multi-slice) message into one contiguous string: the decoder
// takes contiguous bytes.
std::string Flatten(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) return out;
  out.reserve(buffer.Length());
  for (const auto& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

}  // namespace

// The raw-callback service. Stateless apart from the pointers it was given.
class GrpcReceiver::Service : public TraceService::WithRawCallbackMethod_Export<TraceService::Service> {
 public:
  Service(IngestService* ingest, MetricsRegistry* metrics, auth::Authenticator* auth)
      : ingest_(ingest), metrics_(metrics), auth_(auth) {}

  grpc::ServerUnaryReactor* Export(grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
                                   grpc::ByteBuffer* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    IngestRequest req;
    req.body = Flatten(*request);
    req.format = BodyFormat::kProtobuf;
    const auto& md = context->client_metadata();
    auto meta = [&md](const char* name) -> std::string_view {
      auto it = md.find(name);
      return it == md.end() ? std::string_view() : std::string_view(it->second.data(), it->second.size());
    };
    auth::Principal caller = auth::Principal::Open();
    if (auth_ != nullptr) {
      auto who = auth_->Authenticate({meta("authorization"), meta("x-sightline-api-key")});
      if (!who.ok()) {
        // UNAUTHENTICATED, or UNAVAILABLE with RetryInfo while every slow-hash slot is
        // taken (docs/auth.md, "Slow hashes are capped").
        auto code = static_cast<grpc::StatusCode>(GrpcCodeFor(who.status().code()));
        Count(code);
        if (IsRetryable(who.status().code())) {
          reactor->Finish(grpc::Status(code, who.status().message(),
                                       EncodeRpcStatusProto(who.status(), kRetryAfterSeconds)));
        } else {
          reactor->Finish(grpc::Status(code, who.status().message()));
        }
        return reactor;
      }
      caller = std::move(who).value();
    }
    if (!caller.all_projects && caller.ingest_project.empty()) {
      Count(grpc::StatusCode::PERMISSION_DENIED);
      reactor->Finish(grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                                   "sending spans needs a project API key, not a user token"));
      return reactor;
    }
    req.project = caller.all_projects ? std::string(meta("x-sightline-project")) : caller.ingest_project;
    ingest_->Submit(std::move(req), [this, reactor, response](IngestResult r) {
      if (r.status.ok()) {
        ExportResponse resp;
        if (r.rejected > 0) {
          resp.mutable_partial_success()->set_rejected_spans(r.rejected);
          resp.mutable_partial_success()->set_error_message(r.message);
        }
        std::string bytes = resp.SerializeAsString();
        grpc::Slice slice(bytes);
        *response = grpc::ByteBuffer(&slice, 1);
        Count(grpc::StatusCode::OK);
        reactor->Finish(grpc::Status::OK);
        return;
      }
      auto code = static_cast<grpc::StatusCode>(GrpcCodeFor(r.status.code()));
      int retry = IsRetryable(r.status.code()) ? kRetryAfterSeconds : 0;
      Count(code);
      reactor->Finish(grpc::Status(code, r.status.message(), EncodeRpcStatusProto(r.status, retry)));
    });
    return reactor;
  }

 private:
  void Count(grpc::StatusCode code) {
    metrics_->GetCounter("sightline_grpc_requests_total", "OTLP/gRPC Export calls, by gRPC status code.",
                         {{"code", std::to_string(static_cast<int>(code))}})
        ->Inc();
  }

  IngestService* ingest_;
  MetricsRegistry* metrics_;
  auth::Authenticator* auth_;
};

GrpcReceiver::GrpcReceiver(IngestService* ingest, MetricsRegistry* metrics, auth::Authenticator* auth)
    : ingest_(ingest), metrics_(metrics), auth_(auth) {}

GrpcReceiver::~GrpcReceiver() { Shutdown(std::chrono::milliseconds(0)); }

Result<int> GrpcReceiver::Start(const std::string& address, size_t max_message_bytes, const GrpcTlsFiles& tls) {
  if (server_) return Status::Internal("gRPC receiver already started");
  service_ = std::make_unique<Service>(ingest_, metrics_, auth_);
  grpc::ServerBuilder builder;
  int port = 0;
  std::shared_ptr<grpc::ServerCredentials> creds = grpc::InsecureServerCredentials();
  if (!tls.cert_file.empty()) {
    // gRPC's TLS (TLS 1.2 minimum, ALPN h2). Its file watcher reads the files at once
    // and then every refresh_seconds; it keeps the pair in force when a new one fails.
    auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
        tls.key_file, tls.cert_file, tls.client_ca_file, tls.refresh_seconds < 1 ? 1 : tls.refresh_seconds);
    grpc::experimental::TlsServerCredentialsOptions options(provider);
    options.watch_identity_key_cert_pairs();
    if (!tls.client_ca_file.empty()) {
      options.watch_root_certs();
      options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    } else {
      options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
    }
    creds = grpc::experimental::TlsServerCredentials(options);
    if (!creds) return Status::Unavailable("cannot set up TLS for OTLP/gRPC on " + address);
  }
  builder.AddListeningPort(address, creds, &port);
  builder.RegisterService(service_.get());
  int limit = max_message_bytes > static_cast<size_t>(INT32_MAX) ? INT32_MAX : static_cast<int>(max_message_bytes);
  builder.SetMaxReceiveMessageSize(limit);
  // Senders may gzip their requests (OTEL_EXPORTER_OTLP_COMPRESSION=gzip).
  builder.SetCompressionAlgorithmSupportStatus(GRPC_COMPRESS_GZIP, true);
  builder.SetCompressionAlgorithmSupportStatus(GRPC_COMPRESS_DEFLATE, true);
  server_ = builder.BuildAndStart();
  if (!server_ || port == 0) {
    server_.reset();
    return Status::Unavailable("cannot listen for OTLP/gRPC on " + address);
  }
  return port;
}

void GrpcReceiver::Shutdown(std::chrono::milliseconds grace) {
  if (!server_) return;
  server_->Shutdown(std::chrono::system_clock::now() + grace);
  server_->Wait();
  server_.reset();
}

}  // namespace sightline::ingest
