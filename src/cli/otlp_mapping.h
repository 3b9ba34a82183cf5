// Maps the API's canonical span JSON (GET /api/v1/traces/{id}) back to OTLP, so that
// `sightline export` writes ExportTraceServiceRequest JSON that `sightline import`
// (or any OTLP receiver) takes back.
//
// Preserved: trace, span and parent ids; name; OTel span kind; start and end times;
// trace_state; every original span attribute; the resource attributes; the
// instrumentation scope (name, version, attributes); events (name, time, attributes);
// links (ids, trace_state, attributes); dropped counts; status: error spans become
// STATUS_CODE_ERROR with their status message, ok spans STATUS_CODE_OK. Canonical
// fields that the server derives (kind, session, tokens, cost, interrupt, ...) are not
// written separately: they come back from the original attributes on re-ingest.
// Not preserved: the OTel OK/UNSET distinction of an interrupted span (written as
// UNSET), a computed cost (recomputed by the receiving server), the receive time.
// A span whose project was set by an API key or header (not by its resource) gets
// the resource attribute openinference.project.name, so it lands in the same project.
//
// Attributes are read in either JSON shape: plain objects ({"key": value}, as the API
// writes them: integers stay ints, numbers with a fraction or exponent doubles) or
// OTLP KeyValue arrays ([{"key":..,"value":{"stringValue":..}}]); ids and times in
// snake_case or lowerCamelCase, int64 as numbers or strings. In the plain shape, bytes
// values come back as their base64 text, and NaN/Infinity doubles as strings.
// Thread-safety: pure functions.
#pragma once

#include "cli/json_util.h"
#include "common/status.h"
#include "ingest/otlp_decode.h"
#include "opentelemetry/proto/common/v1/common.pb.h"

namespace sightline::cli {

// Converts an attribute list (either shape) into KeyValues. Values nested deeper
// than 32 levels are cut (written as their JSON text).
void JsonToKeyValues(const JsonValue& attrs, google::protobuf::RepeatedPtrField<opentelemetry::proto::common::v1::KeyValue>* out);
// One attribute value: an OTLP AnyValue object ({"stringValue": ...}) when otlp_form,
// else a plain JSON value (string, bool, integer, double, array, object -> kvlist).
void JsonToAnyValue(const JsonValue& v, opentelemetry::proto::common::v1::AnyValue* out, bool otlp_form,
                    int depth = 0);

// True when the span holds a value the list views shortened
// ({"truncated":true,"bytes":N}) anywhere: fetch the span alone for the whole of it.
bool HasTruncatedValue(const JsonValue& span);

// Appends the span to out, grouped under a ResourceSpans/ScopeSpans with an equal
// resource and scope (created when none matches). InvalidArgument naming the field
// when the span has no valid trace_id or span_id.
Status AppendSpanAsOtlp(const JsonValue& span, ingest::ExportRequest* out);

// The whole trace answer ({trace, spans:[...]}) as one request.
Result<ingest::ExportRequest> TraceAnswerToOtlp(const JsonValue& trace_answer);

// Number of spans in a request.
int64_t CountSpans(const ingest::ExportRequest& request);

}  // namespace sightline::cli
