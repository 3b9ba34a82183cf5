// OTLP/gRPC receiver: opentelemetry.proto.collector.trace.v1.TraceService/Export on
// gRPC's callback API. The method is registered "raw": gRPC hands us the request
// bytes (inflated when the sender used gzip) and IngestService decodes them, so a span
// with invalid UTF-8 is repaired by our decoder instead of libprotobuf refusing the
// whole request. The reactor is finished from the store's callback: no thread waits
// for an fsync.
//
// Status mapping (common/error_map): queue full -> RESOURCE_EXHAUSTED (with
// google.rpc.RetryInfo), malformed body -> INVALID_ARGUMENT, store closing or disk
// full -> UNAVAILABLE. Rejected spans come back as partial_success.
//
// Authentication (docs/auth.md): with an Authenticator, the call's metadata
// `authorization` (Basic pk:sk or Bearer sk-lf-...) or `x-sightline-api-key` must name a
// live API key once auth is configured, else UNAUTHENTICATED with one message whatever
// was wrong; the key's project overrides x-sightline-project and the resource. A user
// token is PERMISSION_DENIED (tokens read, keys write).
//
// TLS (docs/tls.md): with GrpcTlsFiles, the listener speaks TLS with gRPC's own TLS
// stack (grpc::experimental::TlsServerCredentials), whose file watcher re-reads the
// certificate, key and client CA every refresh_seconds, so a rotation applies to new
// connections without a restart, as on the HTTP listener. The caller validates the
// files first (tls::ServerTlsContext): gRPC would only log a bad file.
//
// Thread-safety: Start and Shutdown from one thread; Export runs on gRPC's threads.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "auth/authenticator.h"
#include "common/metrics.h"
#include "common/status.h"
#include "ingest/ingest_service.h"

namespace grpc {
class Server;
}

namespace sightline::ingest {

struct GrpcTlsFiles {
  std::string cert_file;       // empty: plaintext
  std::string key_file;
  std::string client_ca_file;  // set: clients must present a certificate it signed
  unsigned refresh_seconds = 2;
};

class GrpcReceiver {
 public:
  // ingest, metrics and auth must outlive the receiver. auth null: open.
  GrpcReceiver(IngestService* ingest, MetricsRegistry* metrics, auth::Authenticator* auth = nullptr);
  ~GrpcReceiver();
  GrpcReceiver(const GrpcReceiver&) = delete;
  GrpcReceiver& operator=(const GrpcReceiver&) = delete;

  // Binds address ("127.0.0.1:4317"; port 0 picks a free port) and starts serving.
  // Returns the bound port. max_message_bytes bounds a request after inflation.
  Result<int> Start(const std::string& address, size_t max_message_bytes, const GrpcTlsFiles& tls = {});

  // Stops accepting calls, waits up to `grace` for in-flight calls (their appends) to
  // finish, then cancels the rest. Idempotent.
  void Shutdown(std::chrono::milliseconds grace);

 private:
  class Service;
  IngestService* ingest_;
  MetricsRegistry* metrics_;
  auth::Authenticator* auth_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace sightline::ingest
