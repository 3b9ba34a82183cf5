// Normalisation: OTLP spans, with whatever agent convention their SDK speaks (OTel
// GenAI current and deprecated, OpenInference, Langfuse, Traceloop/OpenLLMetry, the
// plain agent schema), become canonical Sightline spans (proto/sightline/model/v1).
// SPEC "Where each field comes from" is the order of precedence: first match wins.
// One file per convention in this folder; each adds what it recognises.
//
// Thread-safety: pure functions; safe from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ingest/otlp_decode.h"
#include "model/span.h"

namespace sightline::ingest {

struct NormalizeOptions {
  // Project from the API key or the x-sightline-project header; empty: take it from
  // the resource (openinference.project.name), else "default".
  std::string project;
  // Longest attribute value kept whole; longer string values are cut here and a marker
  // "…[truncated: N bytes]" appended (SPEC: 4 MiB).
  size_t max_attribute_bytes = 4u << 20;
  int64_t received_ns = 0;
  // Where the canonical spans are created (NormalizeResult::spans): the request's arena
  // in the ingest path, which must then outlive the result; null: the heap.
  google::protobuf::Arena* arena = nullptr;
  // The caller walked the request's bytes (ingest/otlp_walk.h) and nothing has changed
  // the request since (redaction changed nothing): NormalizeResult::received then says,
  // span by span, which of its received parts are still those bytes, for the store to
  // copy (store/span_codec.h, ReceivedParts). The resource's and scope's attributes
  // whose bytes are used are not copied into the canonical spans: the store writes
  // them from the bytes, and no reader on the ingest path reads them.
  bool received_bytes = false;
};

// Which received parts of an accepted span are, value for value, the request's bytes
// (no sanitising cut changed them), and where the span is in the walked request.
struct ReceivedSpan {
  uint32_t span = 0;  // index in the walk's RequestView::spans
  bool attributes = false;  // the span's attributes, events and links
  bool resource = false;    // the resource's attributes (then not in the canonical span)
  bool scope = false;       // the scope's attributes (then not in the canonical span)
};

struct NormalizeResult {
  model::SpanList spans;                    // accepted, canonical (on options.arena)
  int64_t rejected = 0;                     // spans rejected (bad ids, no trace id, ...)
  std::map<std::string, int64_t> rejected_by_reason;  // "invalid_trace_id" -> count
  std::string error_message;                // the first few reasons, for partial_success
  int64_t truncated_values = 0;             // attribute values cut at the limit
  std::vector<ReceivedSpan> received;       // per accepted span, when options.received_bytes
};

// Normalises every span of the request. The request is consumed (its strings may be
// moved from).
NormalizeResult NormalizeRequest(ExportRequest* request, const NormalizeOptions& options);

}  // namespace sightline::ingest
