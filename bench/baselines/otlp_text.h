// Text renderings of OTLP values shared by the peer baselines (ClickHouse, SQLite): the
// string form the OpenTelemetry Collector's ClickHouse exporter stores for an attribute
// (pcommon.Value.AsString: strings as they are, numbers in decimal, arrays and maps as
// JSON, bytes as base64), the JSON form Phoenix stores, hex ids and UTC timestamps.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "opentelemetry/proto/common/v1/common.pb.h"

namespace sightline::bench {

using AnyValue = ::opentelemetry::proto::common::v1::AnyValue;

// Lowercase hex of raw id bytes ("" for empty).
std::string HexId(std::string_view bytes);

// Appends s as the inside of a JSON string (no quotes), escaping what JSON requires.
void AppendJsonEscaped(std::string_view s, std::string* out);

// Appends the value as JSON (string, number, bool, array, object; bytes as a base64 string).
void AppendAnyValueJson(const AnyValue& v, std::string* out);

// The exporter's string form of a value (see the file comment).
std::string AnyValueToString(const AnyValue& v);

// "YYYY-MM-DD HH:MM:SS.ffffff" in UTC: how SQLAlchemy stores a TIMESTAMP in SQLite.
std::string SqliteTimestamp(uint64_t unix_ns);

}  // namespace sightline::bench
