// JSON encoding of the model for the REST API: spans, trace and session summaries,
// errors. Ids are lowercase hex; enums are names; int64 values are JSON numbers;
// absent optional numbers are null; input/output are embedded as JSON values;
// attributes and resource are objects of key -> value with AnyValue rendered
// naturally (bytes as base64). See docs/api.md for the full shape.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/status.h"
#include "model/span.h"
#include "model/summary.h"

namespace sightline::api {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// The small pieces every handler writes with: a string value, a "key": "value" pair,
// and the finished document.
void Str(JsonWriter& w, std::string_view s);
void StrField(JsonWriter& w, std::string_view key, std::string_view value);
std::string Finish(const rapidjson::StringBuffer& buf);

// List views (search, trace) replace input/output and attribute string values longer
// than this by {"truncated":true,"bytes":N}; the single-span endpoint sends them whole.
constexpr size_t kListPayloadLimit = 64 * 1024;

struct SpanJsonOptions {
  size_t payload_limit = 0;  // 0: everything whole
  bool tree_fields = false;  // write depth and parent_missing
  int depth = 0;
  bool parent_missing = false;
};

void WriteSpan(JsonWriter& w, const model::Span& span, const SpanJsonOptions& options);

// The light trace view (GET /api/v1/traces/{id}?view=light) keeps status messages to
// this many bytes (cut at a UTF-8 character boundary); the single span has them whole.
constexpr size_t kLightStatusMessageLimit = 256;

// One span of the light trace view: only what a tree and a waterfall draw (ids, tree
// position, name, kind, times, status, agent/tool/model, step, tokens, cost, the times
// of exception events). No trace_id, input, output, attributes, resource, events,
// links or scope. Optional fields are left out when empty, null or zero-length, so a
// 20,000-span trace stays a few megabytes; docs/api.md lists them.
void WriteLightSpan(JsonWriter& w, const model::Span& span, int depth, bool parent_missing);
void WriteTraceSummary(JsonWriter& w, const model::TraceSummary& s);
void WriteSessionSummary(JsonWriter& w, const model::SessionSummary& s);

// Writes text that should hold one JSON value: raw when it parses, as a JSON string
// when it does not (so a bad payload never breaks the document). text must be valid
// UTF-8, as every model span's string field is: only its JSON structure is checked.
void WriteEmbeddedJson(JsonWriter& w, std::string_view text);

// {"error":{"code":"not_found","message":"..."}}
std::string ErrorJson(const Status& status);
// The same with a code no StatusCode names (method_not_allowed, already_exists).
std::string ErrorJson(std::string_view code, std::string_view message);

}  // namespace sightline::api
