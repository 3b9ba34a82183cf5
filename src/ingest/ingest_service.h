// IngestService: the receiving half shared by OTLP/HTTP and OTLP/gRPC. It takes one
// request body as it came off the wire and carries it to the store:
//   inflate (bounded) -> decode (protobuf | OTLP JSON) -> redact -> normalise -> price -> SpanStore::Append
// and reports, asynchronously, how many spans the store made durable and how many
// were rejected (with the decoder's and the normaliser's reasons merged).
//
// A receiver acknowledges only what the store made durable: the callback reports OK
// from the store's own callback, never before. Nothing here blocks on the disk; the
// CPU work (inflate, decode, normalise) runs on the caller's thread.
//
// Metrics (all in the registry given): sightline_spans_received_total,
// sightline_spans_accepted_total, sightline_spans_rejected_total{reason},
// sightline_ingest_bytes_total{encoding}, sightline_requests_rejected_total{reason},
// sightline_attribute_values_truncated_total. The pricing service, when given, keeps
// its own (sightline_spans_priced_total, sightline_spans_unpriced_total, ...). The
// agent metrics, when given, count the agents' runs, tool calls, tokens, cost and
// durations (pipeline/agent_metrics.h) of the spans the store made durable: a request
// is folded once on the receiving thread and merged under one lock when the store
// acknowledges it, so a refused request that the sender retries is counted once.
//
// Thread-safety: Submit may be called concurrently from any thread. The store, the
// registry and the pricing service must outlive the service and every callback it has
// pending.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "audit/audit_log.h"
#include "audit/side_effects.h"
#include "common/env.h"
#include "common/metrics.h"
#include "common/status.h"
#include "pipeline/agent_metrics.h"
#include "pipeline/pricing.h"
#include "pipeline/redaction_service.h"
#include "store/span_store.h"

namespace sightline::ingest {

enum class BodyFormat { kProtobuf, kJson };

struct IngestOptions {
  size_t max_request_bytes = 64u << 20;   // after decompression (--max-request-bytes)
  size_t max_attribute_bytes = 4u << 20;  // --max-attribute-bytes
  // Sets computed costs (and cost_usd where the client reported none) on model-call
  // spans before they are stored (docs/pricing.md). Null: spans keep reported costs only.
  pipeline::PricingService* pricing = nullptr;
  // Masks, drops or hashes secrets and personal data in every string of the request
  // before it is normalised and stored (docs/redaction.md). Null: nothing is redacted.
  pipeline::RedactionService* redaction = nullptr;
  // Counts the agents' own metrics for /metrics. Null: not counted.
  pipeline::AgentMetrics* agent_metrics = nullptr;
  // The audit trail and which tool spans are side-effecting (docs/audit.md): their
  // records are made durable before the request is acknowledged. Null: not audited.
  audit::AuditLog* audit = nullptr;
  const audit::SideEffectPolicy* side_effects = nullptr;
  // Protobuf bodies the OTLP walk takes (otlp_walk.h) reach a store that takes received
  // parts (store/span_store.h) with the attributes, events, links and the resource's and
  // scope's attributes as their received bytes, copied into the WAL record instead of
  // serialized again. false: always serialized (for tests and benchmarks comparing the
  // two).
  bool copy_received_bytes = true;
};

struct IngestRequest {
  std::string body;      // as received; consumed
  BodyFormat format = BodyFormat::kProtobuf;
  bool gzip = false;     // Content-Encoding: gzip (gRPC inflates before we see it)
  std::string project;   // x-sightline-project; empty: from the resource, else "default"
};

struct IngestResult {
  // OK when every span that survived validation is durable. Otherwise the whole
  // request failed and nothing of it is acknowledged (the sender retries it).
  Status status;
  int64_t accepted = 0;  // spans made durable
  int64_t rejected = 0;  // spans dropped as invalid (OTLP partial success)
  std::string message;   // why they were rejected (first reasons), empty when none
};

class IngestService {
 public:
  using Callback = std::function<void(IngestResult)>;

  // env supplies received_ns (Env::Default() when null).
  IngestService(store::SpanStore* store, MetricsRegistry* metrics, IngestOptions options, Env* env = nullptr);

  // Runs the pipeline and calls done exactly once: at once (on this thread) for
  // failures found before the store and for requests with no valid span, otherwise
  // from the store's thread when the append completes.
  void Submit(IngestRequest request, Callback done);

  const IngestOptions& options() const { return options_; }

 private:
  void Reject(const Status& status, std::string_view reason, Callback& done);

  store::SpanStore* store_;
  MetricsRegistry* metrics_;
  IngestOptions options_;
  Env* env_;
  // Hot-path metrics, looked up once.
  Counter* received_;
  Counter* accepted_;
  Counter* bytes_gzip_;
  Counter* bytes_identity_;
  Counter* truncated_;
};

}  // namespace sightline::ingest
