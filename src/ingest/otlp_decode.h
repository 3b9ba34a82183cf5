// Decoders for OTLP/HTTP bodies: protobuf and the OTLP JSON mapping (hex trace and
// span ids, int64 as strings or numbers, enums as numbers, lowerCamelCase or
// snake_case field names), plus gzip. All of them take untrusted bytes: they never
// crash, bound their memory and nesting, and name what was wrong.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace sightline::ingest {

using ExportRequest = ::opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;
using ExportResponse = ::opentelemetry::proto::collector::trace::v1::ExportTraceServiceResponse;

struct DecodeLimits {
  size_t max_body_bytes = 64u << 20;  // after decompression (--max-request-bytes)
  int max_json_depth = 64;            // JSON nesting (AnyValue arrays/kvlists in JSON)
};

// Inflates a gzip body. TooLarge when the output would exceed limit, InvalidArgument
// when the stream is not valid gzip.
Result<std::string> GunzipBounded(std::string_view body, size_t limit);
// Gzips data (for clients and tests).
std::string Gzip(std::string_view data);

// InvalidArgument naming the protobuf decode error and its byte offset, e.g.
// "protobuf: resource_spans.scope_spans.spans.name: length 200 of field 5 overruns its
// message (2 bytes left) at byte 7". Invalid UTF-8 in string fields is not an error:
// it becomes U+FFFD (a second, schema-aware pass over the wire bytes; the fast path is
// one plain libprotobuf parse). Nesting deeper than 100 messages is refused. *out is
// cleared first and left empty on error.
//
// Speed: parse into a message allocated on a google::protobuf::Arena
// (Arena::CreateMessage<ExportRequest>(&arena)): it roughly doubles decode throughput
// (one allocation block instead of a malloc per string and sub-message). The arena must
// then outlive every use of the message and of pointers into it; strings moved out
// (std::move(*span->mutable_name())) are ordinary heap strings and may outlive it.
Status DecodeOtlpProtobuf(std::string_view body, ExportRequest* out);

// Spans the JSON decoder dropped while keeping the rest of the request.
struct JsonDecodeReport {
  int64_t rejected_spans = 0;
  std::string first_errors;  // "resourceSpans[0].scopeSpans[0].spans[3].traceId: not hex; ..."
};

// Decodes an OTLP JSON body. A body that is not JSON, or not an object of the OTLP
// shape, gives InvalidArgument naming the error and where ("JSON: Invalid value. at
// byte 18", "JSON: resourceSpans[0].scopeSpans: expected an array", "JSON nested deeper
// than 64 at byte 134"); TooLarge past limits.max_body_bytes. A span whose traceId,
// spanId or parentSpanId is not valid hex is dropped and counted in *report (the rest
// of the batch is kept); normalisation then checks id lengths. Any other error inside a
// span (a field of the wrong type, a bad link id, an out-of-range integer) drops that
// span the same way. Accepted: lowerCamelCase or snake_case names, int64 as decimal
// strings, numbers or {"low","high"}, enums as numbers or names, null as the default,
// unknown fields (ignored). Strings come out valid UTF-8 (U+FFFD replaces bad bytes
// and lone surrogate escapes). report may be null. The Arena advice above applies.
Status DecodeOtlpJson(std::string_view body, ExportRequest* out, const DecodeLimits& limits,
                      JsonDecodeReport* report);

// OTLP JSON encoding (for `sightline export`, the demo, and JSON answers).
std::string EncodeOtlpJson(const ExportRequest& request);
// {"partialSuccess":{"rejectedSpans":"N","errorMessage":"..."}} or {} when none.
std::string EncodeExportResponseJson(const ExportResponse& response);

}  // namespace sightline::ingest
