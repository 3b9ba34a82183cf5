// The canonical span (proto/sightline/model/v1/span.proto) and the names the API,
// the CLI and the query parameters use for its enums.
#pragma once

#include <optional>
#include <string_view>

#include "sightline/model/v1/span.pb.h"

namespace sightline::model {

using Span = ::sightline::model::v1::Span;
using SpanBatch = ::sightline::model::v1::SpanBatch;
using SpanKind = ::sightline::model::v1::SpanKind;
using SpanStatus = ::sightline::model::v1::SpanStatus;
using CostSource = ::sightline::model::v1::CostSource;

// "agent", "llm", "tool", ... as in SPEC.
std::string_view KindName(SpanKind kind);
std::optional<SpanKind> ParseKind(std::string_view name);
// "ok", "error", "interrupt", "unset".
std::string_view StatusName(SpanStatus status);
std::optional<SpanStatus> ParseStatus(std::string_view name);
// "reported", "computed", "unknown".
std::string_view CostSourceName(CostSource source);

inline int64_t DurationNs(const Span& s) { return s.end_ns() > s.start_ns() ? s.end_ns() - s.start_ns() : 0; }

}  // namespace sightline::model
