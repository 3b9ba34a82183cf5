// The ClickHouse baseline's table, rows and queries (see clickhouse_otel.h).
#include "baselines/clickhouse_otel.h"

#include <cstring>

#include "baselines/otlp_text.h"

namespace sightline::bench {

namespace trace = ::opentelemetry::proto::trace::v1;
namespace common = ::opentelemetry::proto::common::v1;

std::vector<std::string> ClickHouseSchema() {
  return {
      R"(CREATE TABLE otel_traces (
  Timestamp DateTime,
  StartTimeUnixNano UInt64,
  TraceId String,
  SpanId String,
  ParentSpanId String,
  TraceState String,
  SpanName String,
  SpanKind String,
  ServiceName String,
  ResourceAttributes Nested(keys String, values String),
  ScopeName String,
  ScopeVersion String,
  SpanAttributes Nested(keys String, values String),
  Duration Int64,
  StatusCode String,
  StatusMessage String,
  Events Nested(Timestamp UInt64, Name String, AttributeKeys Array(String), AttributeValues Array(String)),
  Links Nested(TraceId String, SpanId String, TraceState String, AttributeKeys Array(String),
               AttributeValues Array(String))
) ENGINE = MergeTree()
PARTITION BY toDate(Timestamp)
ORDER BY (ServiceName, SpanName, toUnixTimestamp(Timestamp))
SETTINGS index_granularity = 8192)",
      R"(CREATE TABLE otel_traces_trace_id_ts (
  TraceId String,
  Start DateTime,
  End DateTime
) ENGINE = MergeTree()
PARTITION BY toDate(Start)
ORDER BY (TraceId, toUnixTimestamp(Start))
SETTINGS index_granularity = 8192)",
      R"(CREATE MATERIALIZED VIEW otel_traces_trace_id_ts_mv TO otel_traces_trace_id_ts AS
SELECT TraceId, min(Timestamp) AS Start, max(Timestamp) AS End
FROM otel_traces WHERE TraceId != '' GROUP BY TraceId)",
  };
}

std::vector<std::string> ClickHouseTables() { return {"otel_traces", "otel_traces_trace_id_ts"}; }

std::string ClickHouseInsertQuery() {
  return "INSERT INTO otel_traces (Timestamp, StartTimeUnixNano, TraceId, SpanId, ParentSpanId, TraceState, "
         "SpanName, SpanKind, ServiceName, ResourceAttributes.keys, ResourceAttributes.values, ScopeName, "
         "ScopeVersion, SpanAttributes.keys, SpanAttributes.values, Duration, StatusCode, StatusMessage, "
         "Events.Timestamp, Events.Name, Events.AttributeKeys, Events.AttributeValues, Links.TraceId, "
         "Links.SpanId, Links.TraceState, Links.AttributeKeys, Links.AttributeValues) FORMAT RowBinary";
}

namespace {

void PutVarUInt(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}
template <typename T>
void PutFixed(T v, std::string* out) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));  // RowBinary is little-endian, as is every target here
  out->append(b, sizeof(T));
}
void PutString(std::string_view s, std::string* out) {
  PutVarUInt(s.size(), out);
  out->append(s);
}
void PutKeys(const google::protobuf::RepeatedPtrField<common::KeyValue>& kvs, std::string* out) {
  PutVarUInt(static_cast<uint64_t>(kvs.size()), out);
  for (const auto& kv : kvs) PutString(kv.key(), out);
}
void PutValues(const google::protobuf::RepeatedPtrField<common::KeyValue>& kvs, std::string* out) {
  PutVarUInt(static_cast<uint64_t>(kvs.size()), out);
  for (const auto& kv : kvs) PutString(AnyValueToString(kv.value()), out);
}

const char* KindName(int kind) {
  switch (kind) {
    case trace::Span::SPAN_KIND_INTERNAL: return "Internal";
    case trace::Span::SPAN_KIND_SERVER: return "Server";
    case trace::Span::SPAN_KIND_CLIENT: return "Client";
    case trace::Span::SPAN_KIND_PRODUCER: return "Producer";
    case trace::Span::SPAN_KIND_CONSUMER: return "Consumer";
    default: return "Unspecified";
  }
}
const char* StatusName(int code) {
  switch (code) {
    case trace::Status::STATUS_CODE_OK: return "Ok";
    case trace::Status::STATUS_CODE_ERROR: return "Error";
    default: return "Unset";
  }
}

// A SQL string literal.
std::string Quote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

std::string Attr(std::string_view key) {
  return "SpanAttributes.values[indexOf(SpanAttributes.keys, " + Quote(key) + ")]";
}

std::string Window(const QueryParams& p) {
  return "Timestamp >= toDateTime(" + std::to_string(p.window_start_ns / 1'000'000'000) +
         ") AND Timestamp <= toDateTime(" + std::to_string(p.window_end_ns / 1'000'000'000 + 1) + ")";
}

// The cost of a model call from its token attributes and BaselinePrices().
std::string CostExpr() {
  std::string models = "[", in = "[", out = "[", cache = "[";
  bool first = true;
  for (const auto& p : BaselinePrices()) {
    if (!first) models += ",", in += ",", out += ",", cache += ",";
    first = false;
    models += Quote(p.model);
    in += std::to_string(p.input);
    out += std::to_string(p.output);
    cache += std::to_string(p.cache_read_delta);
  }
  models += "]", in += "]", out += "]", cache += "]";
  const std::string model = Attr("gen_ai.response.model");
  return "(toFloat64OrZero(" + Attr("gen_ai.usage.input_tokens") + ") * transform(" + model + ", " + models + ", " +
         in + ", 0.) + toFloat64OrZero(" + Attr("gen_ai.usage.output_tokens") + ") * transform(" + model + ", " +
         models + ", " + out + ", 0.) + toFloat64OrZero(" + Attr("gen_ai.usage.cache_read.input_tokens") +
         ") * transform(" + model + ", " + models + ", " + cache + ", 0.)) / 1e6";
}

}  // namespace

int64_t AppendClickHouseRows(const ExportRequest& request, std::string* out) {
  int64_t rows = 0;
  for (const auto& rs : request.resource_spans()) {
    std::string service;
    for (const auto& kv : rs.resource().attributes())
      if (kv.key() == "service.name") service = AnyValueToString(kv.value());
    for (const auto& ss : rs.scope_spans()) {
      for (const auto& s : ss.spans()) {
        ++rows;
        PutFixed<uint32_t>(static_cast<uint32_t>(s.start_time_unix_nano() / 1'000'000'000ULL), out);
        PutFixed<uint64_t>(s.start_time_unix_nano(), out);
        PutString(HexId(s.trace_id()), out);
        PutString(HexId(s.span_id()), out);
        PutString(HexId(s.parent_span_id()), out);
        PutString(s.trace_state(), out);
        PutString(s.name(), out);
        PutString(KindName(s.kind()), out);
        PutString(service, out);
        PutKeys(rs.resource().attributes(), out);
        PutValues(rs.resource().attributes(), out);
        PutString(ss.scope().name(), out);
        PutString(ss.scope().version(), out);
        PutKeys(s.attributes(), out);
        PutValues(s.attributes(), out);
        const int64_t duration = s.end_time_unix_nano() >= s.start_time_unix_nano()
                                     ? static_cast<int64_t>(s.end_time_unix_nano() - s.start_time_unix_nano())
                                     : 0;
        PutFixed<int64_t>(duration, out);
        PutString(StatusName(s.status().code()), out);
        PutString(s.status().message(), out);
        PutVarUInt(static_cast<uint64_t>(s.events_size()), out);
        for (const auto& e : s.events()) PutFixed<uint64_t>(e.time_unix_nano(), out);
        PutVarUInt(static_cast<uint64_t>(s.events_size()), out);
        for (const auto& e : s.events()) PutString(e.name(), out);
        PutVarUInt(static_cast<uint64_t>(s.events_size()), out);
        for (const auto& e : s.events()) PutKeys(e.attributes(), out);
        PutVarUInt(static_cast<uint64_t>(s.events_size()), out);
        for (const auto& e : s.events()) PutValues(e.attributes(), out);
        PutVarUInt(static_cast<uint64_t>(s.links_size()), out);
        for (const auto& l : s.links()) PutString(HexId(l.trace_id()), out);
        PutVarUInt(static_cast<uint64_t>(s.links_size()), out);
        for (const auto& l : s.links()) PutString(HexId(l.span_id()), out);
        PutVarUInt(static_cast<uint64_t>(s.links_size()), out);
        for (const auto& l : s.links()) PutString(l.trace_state(), out);
        PutVarUInt(static_cast<uint64_t>(s.links_size()), out);
        for (const auto& l : s.links()) PutKeys(l.attributes(), out);
        PutVarUInt(static_cast<uint64_t>(s.links_size()), out);
        for (const auto& l : s.links()) PutValues(l.attributes(), out);
      }
    }
  }
  return rows;
}

std::string ClickHouseQuery(QueryId q, const QueryParams& p) {
  const std::string tool = Attr("gen_ai.tool.name");
  switch (q) {
    case QueryId::kQ1:  // Grafana's ClickHouse data source: narrow by the trace's time range
      // (18.16 cannot see a WITH alias inside the scalar subqueries: the id is repeated.)
      return "WITH (SELECT min(Start) FROM otel_traces_trace_id_ts WHERE TraceId = " + Quote(p.trace_id) +
             ") AS trace_start, (SELECT max(End) + 1 FROM otel_traces_trace_id_ts WHERE TraceId = " +
             Quote(p.trace_id) + ") AS trace_end SELECT * FROM otel_traces WHERE TraceId = " + Quote(p.trace_id) +
             " AND Timestamp >= trace_start AND Timestamp <= trace_end ORDER BY StartTimeUnixNano FORMAT "
             "TabSeparated";
    case QueryId::kQ2:
      return "SELECT TraceId, min(StartTimeUnixNano) AS start, max(StartTimeUnixNano + Duration) AS end, count() "
             "AS spans, countIf(StatusCode = 'Error') AS errors, sum(toInt64OrZero(" +
             Attr("gen_ai.usage.input_tokens") + ")) AS input_tokens, sum(toInt64OrZero(" +
             Attr("gen_ai.usage.output_tokens") + ")) AS output_tokens FROM otel_traces WHERE " +
             Attr("session.id") + " = " + Quote(p.session_id) + " GROUP BY TraceId ORDER BY start FORMAT TabSeparated";
    case QueryId::kQ3:
      return "SELECT " + tool + " AS tool, count() AS calls, quantiles(0.5, 0.95)(Duration) AS p FROM otel_traces "
             "WHERE " + Window(p) + " AND has(SpanAttributes.keys, 'gen_ai.tool.name') GROUP BY tool ORDER BY tool "
             "FORMAT TabSeparated";
    case QueryId::kQ4:
      return "SELECT " + Attr("user.id") + " AS user, sum(" + CostExpr() + ") AS cost FROM otel_traces WHERE " +
             Window(p) + " AND has(SpanAttributes.keys, 'gen_ai.usage.input_tokens') GROUP BY user ORDER BY cost "
             "DESC FORMAT TabSeparated";
    case QueryId::kQ5:
      return "SELECT " + tool + " AS tool, toStartOfHour(Timestamp) AS hour, count() AS calls, countIf(StatusCode = "
             "'Error') AS errors, errors / calls AS error_rate FROM otel_traces WHERE " + Window(p) +
             " AND has(SpanAttributes.keys, 'gen_ai.tool.name') GROUP BY tool, hour ORDER BY tool, hour FORMAT "
             "TabSeparated";
    case QueryId::kQ6:
      return "SELECT TraceId, min(StartTimeUnixNano) AS start FROM otel_traces WHERE " + Attr(p.attr_key) + " = " +
             Quote(p.attr_value) + " GROUP BY TraceId ORDER BY start DESC LIMIT 50 FORMAT TabSeparated";
    case QueryId::kQ7: {
      const std::string ph = Quote(p.phrase);
      return "SELECT TraceId, min(StartTimeUnixNano) AS start FROM otel_traces WHERE positionCaseInsensitive(" +
             Attr("gen_ai.output.messages") + ", " + ph + ") > 0 OR positionCaseInsensitive(" + Attr("output.value") +
             ", " + ph + ") > 0 OR positionCaseInsensitive(" + Attr("gen_ai.tool.call.result") + ", " + ph +
             ") > 0 GROUP BY TraceId ORDER BY start DESC LIMIT 50 FORMAT TabSeparated";
    }
  }
  return "";
}

}  // namespace sightline::bench
