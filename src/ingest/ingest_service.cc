#include "ingest/ingest_service.h"

#include <atomic>
#include <memory>
#include <utility>
#include <vector>

#include "common/buffer_pool.h"
#include "ingest/normalize/normalize.h"
#include "ingest/otlp_decode.h"
#include "ingest/otlp_walk.h"
#include "ingest/received_parts.h"
#include "ingest/redact_request.h"
#include "ingest/request_arena.h"

namespace sightline::ingest {
namespace {

constexpr char kRequestsRejected[] = "sightline_requests_rejected_total";
constexpr char kRequestsRejectedHelp[] = "OTLP requests refused as a whole, by reason.";
constexpr char kSpansRejected[] = "sightline_spans_rejected_total";
constexpr char kSpansRejectedHelp[] = "Spans dropped as invalid, by reason.";

int64_t CountSpans(const ExportRequest& request) {
  int64_t n = 0;
  for (const auto& rs : request.resource_spans())
    for (const auto& ss : rs.scope_spans()) n += ss.spans_size();
  return n;
}

// The metric reason for a store refusal.
std::string_view StoreReason(const Status& st) {
  switch (st.code()) {
    case StatusCode::kResourceExhausted: return "queue_full";
    case StatusCode::kUnavailable: return "unavailable";
    default: return "store_error";
  }
}

}  // namespace

IngestService::IngestService(store::SpanStore* store, MetricsRegistry* metrics, IngestOptions options, Env* env)
    : store_(store), metrics_(metrics), options_(options), env_(env != nullptr ? env : Env::Default()) {
  received_ = metrics_->GetCounter("sightline_spans_received_total", "Spans received in OTLP requests.");
  accepted_ = metrics_->GetCounter("sightline_spans_accepted_total", "Spans made durable and acknowledged.");
  const char* bytes_help = "OTLP request body bytes received, as sent (before inflation).";
  bytes_gzip_ = metrics_->GetCounter("sightline_ingest_bytes_total", bytes_help, {{"encoding", "gzip"}});
  bytes_identity_ = metrics_->GetCounter("sightline_ingest_bytes_total", bytes_help, {{"encoding", "identity"}});
  truncated_ = metrics_->GetCounter("sightline_attribute_values_truncated_total",
                                    "Attribute values cut at --max-attribute-bytes.");
  // Pre-create the common refusal series so dashboards see zeros, not gaps.
  for (const char* reason : {"queue_full", "unavailable", "too_large", "decode_error"})
    metrics_->GetCounter(kRequestsRejected, kRequestsRejectedHelp, {{"reason", reason}});
}

void IngestService::Reject(const Status& status, std::string_view reason, Callback& done) {
  metrics_->GetCounter(kRequestsRejected, kRequestsRejectedHelp, {{"reason", std::string(reason)}})->Inc();
  IngestResult r;
  r.status = status;
  done(std::move(r));
}

void IngestService::Submit(IngestRequest request, Callback done) {
  (request.gzip ? bytes_gzip_ : bytes_identity_)->Inc(static_cast<double>(request.body.size()));

  // 1. Inflate, bounded by the request limit.
  std::string inflated;
  std::string_view body = request.body;
  if (request.gzip) {
    auto r = GunzipBounded(request.body, options_.max_request_bytes);
    if (!r.ok()) {
      bool too_large = r.status().code() == StatusCode::kTooLarge;
      return Reject(too_large ? Status::TooLarge("request body inflates past the limit of " +
                                                 std::to_string(options_.max_request_bytes) + " bytes")
                              : r.status().WithContext("gzip body"),
                    too_large ? "too_large" : "decode_error", done);
    }
    inflated = std::move(r).value();
    body = inflated;
    BufferPool::Default()->Give(std::move(request.body));  // the compressed copy is no longer needed
  } else if (request.body.size() > options_.max_request_bytes) {
    return Reject(Status::TooLarge("request body of " + std::to_string(request.body.size()) +
                                   " bytes is over the limit of " + std::to_string(options_.max_request_bytes)),
                  "too_large", done);
  }

  // 2. Decode, onto an arena (request_arena.h). The canonical spans are made on the
  // same arena (moving a string between messages of one arena is a swap), and the
  // arena lives until the store has encoded them: freeing it is the spans' whole
  // destruction.
  RequestArena arena;
  JsonDecodeReport report;
  NormalizeResult norm;
  // 2b. The same bytes walked into views (otlp_walk.h), when the store can write the
  // received parts from them: they must then stay alive until the store has encoded.
  thread_local RequestView view;
  const bool walked = options_.copy_received_bytes && request.format == BodyFormat::kProtobuf &&
                      store_->TakesReceivedParts() && WalkExportRequest(body, &view);
  {
    ExportRequest& otlp = *arena.NewRequest();
    Status st;
    if (request.format == BodyFormat::kProtobuf) {
      st = DecodeOtlpProtobuf(body, &otlp);
    } else {
      DecodeLimits limits;
      limits.max_body_bytes = options_.max_request_bytes;
      st = DecodeOtlpJson(body, &otlp, limits, &report);
    }
    if (!st.ok()) {
      if (st.code() == StatusCode::kTooLarge) return Reject(st, "too_large", done);
      return Reject(Status::InvalidArgument(st.message()), "decode_error", done);
    }
    // The bodies' buffers serve the next requests (common/buffer_pool.h).
    if (!walked) {
      BufferPool::Default()->Give(std::move(inflated));
      BufferPool::Default()->Give(std::move(request.body));
    }

    const int64_t received = CountSpans(otlp) + report.rejected_spans;
    received_->Inc(static_cast<double>(received));

    // 3. Redact (before anything derives from the values), then normalise.
    bool redacted = false;
    if (options_.redaction != nullptr) redacted = RedactRequest(options_.redaction, &otlp, request.project);
    NormalizeOptions nopts;
    nopts.received_bytes = walked && !redacted;
    nopts.project = std::move(request.project);
    nopts.max_attribute_bytes = options_.max_attribute_bytes;
    nopts.received_ns = env_->NowNanos();
    nopts.arena = arena.arena();
    norm = NormalizeRequest(&otlp, nopts);
  }
  if (norm.truncated_values > 0) truncated_->Inc(static_cast<double>(norm.truncated_values));

  IngestResult result;
  result.rejected = report.rejected_spans + norm.rejected;
  if (report.rejected_spans > 0) {
    metrics_->GetCounter(kSpansRejected, kSpansRejectedHelp, {{"reason", "invalid_id"}})
        ->Inc(static_cast<double>(report.rejected_spans));
    result.message = report.first_errors;
  }
  for (const auto& [reason, n] : norm.rejected_by_reason)
    metrics_->GetCounter(kSpansRejected, kSpansRejectedHelp, {{"reason", reason}})->Inc(static_cast<double>(n));
  if (!norm.error_message.empty()) {
    if (!result.message.empty()) result.message += "; ";
    result.message += norm.error_message;
  }
  if (result.rejected > 0 && result.message.empty()) result.message = std::to_string(result.rejected) + " spans rejected";

  // 4. Price model calls (a few compares per span for everything else).
  if (options_.pricing != nullptr && !norm.spans.empty()) options_.pricing->Apply(&norm.spans);

  // 5. Store. Nothing valid: answer at once.
  if (norm.spans.empty()) return done(std::move(result));
  const int64_t n = static_cast<int64_t>(norm.spans.size());
  // Fold the agents' metrics now (the spans move to the store); merge once durable.
  std::shared_ptr<pipeline::RequestAgentMetrics> agent_tally;
  if (options_.agent_metrics != nullptr) {
    agent_tally = std::make_shared<pipeline::RequestAgentMetrics>();
    agent_tally->AddAll(norm.spans);
    if (agent_tally->empty()) agent_tally.reset();
  }
  // 5b. Side-effecting tool calls for the audit trail (docs/audit.md), from the
  // redacted, normalised spans.
  std::vector<audit::AuditRecord> audit_records;
  if (options_.audit != nullptr && options_.side_effects != nullptr)
    audit_records = audit::SideEffectRecords(norm.spans, *options_.side_effects);
  // done is shared between the synchronous refusal path and the store's callback;
  // exactly one of them runs it.
  auto shared_done = std::make_shared<Callback>(std::move(done));
  auto pending = std::make_shared<IngestResult>(std::move(result));
  // The answer once the store (and the audit trail, when it has records) made the
  // request durable: an audited action is acknowledged only once its record is.
  auto finish = [this, n, shared_done, pending, agent_tally](Status s, std::string_view reason) {
    if (s.ok()) {
      accepted_->Inc(static_cast<double>(n));
      if (agent_tally) options_.agent_metrics->Merge(*agent_tally);
      pending->accepted = n;
      (*shared_done)(std::move(*pending));
      return;
    }
    metrics_->GetCounter(kRequestsRejected, kRequestsRejectedHelp, {{"reason", std::string(reason)}})->Inc();
    IngestResult failed;
    failed.status = std::move(s);
    (*shared_done)(std::move(failed));
  };
  struct Join {
    std::atomic<int> left{2};
    Status store, audit;
  };
  std::shared_ptr<Join> join;
  if (!audit_records.empty()) join = std::make_shared<Join>();
  auto complete = [join, finish]() {
    if (join->left.fetch_sub(1) != 1) return;
    if (!join->store.ok()) return finish(join->store, StoreReason(join->store));
    finish(join->audit, "audit");
  };
  auto stored = [join, finish, complete](Status s) {
    if (!join) return finish(s, StoreReason(s));
    join->store = std::move(s);
    complete();
  };
  Status appended;
  if (!norm.received.empty()) {
    appended = store_->AppendReceived(&norm.spans, ReceivedPartsOf(view, norm.received), std::move(stored));
    BufferPool::Default()->Give(std::move(inflated));  // the store has copied the bytes
    BufferPool::Default()->Give(std::move(request.body));
  } else {
    appended = store_->AppendSpans(&norm.spans, std::move(stored));
  }
  if (!appended.ok()) return Reject(appended, StoreReason(appended), *shared_done);
  if (join) {
    options_.audit->AppendAsync(std::move(audit_records), [join, complete](Status s) {
      join->audit = s.ok() ? s : Status::Unavailable("audit trail: " + s.message());
      complete();
    });
  }
}

}  // namespace sightline::ingest
