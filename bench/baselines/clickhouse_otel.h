// The ClickHouse baseline: the OpenTelemetry Collector ClickHouse exporter's `otel_traces`
// table as ClickHouse 18.16 can hold it, the RowBinary rows the loader inserts, and the
// query set in its SQL.
//
// Differences from the exporter's current DDL, all forced by 18.16: no Map type
// (attributes are Nested(keys, values) arrays, as the exporter itself used before Map),
// no DateTime64 (Timestamp is DateTime, the nanoseconds are kept in StartTimeUnixNano),
// no column codecs (the server's <compression> section selects zstd for every part
// instead, the stand-in for the exporter's ZSTD(1)), no skip indexes (no bloom filter on
// TraceId), LowCardinality only behind an experimental flag (plain String). Like the
// exporter it also keeps `otel_traces_trace_id_ts` (first and last timestamp per trace,
// filled by a materialised view) so a trace lookup can narrow the time range first, the
// way Grafana's ClickHouse data source queries it.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "baselines/query_params.h"
#include "workload.h"

namespace sightline::bench {

// CREATE statements, in order.
std::vector<std::string> ClickHouseSchema();
// The tables whose parts count as the baseline's bytes on disk.
std::vector<std::string> ClickHouseTables();

// "INSERT INTO otel_traces (...) FORMAT RowBinary"
std::string ClickHouseInsertQuery();
// Appends one RowBinary row per span of the request; returns the number of rows.
int64_t AppendClickHouseRows(const ExportRequest& request, std::string* out);

// The query's SQL (ending in FORMAT TabSeparated).
std::string ClickHouseQuery(QueryId q, const QueryParams& p);

}  // namespace sightline::bench
