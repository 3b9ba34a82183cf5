// The span fields each scalar column holds, as tables of accessors (internal to the
// columnar code: block_codec.cc and block_decode.cc). A field not listed in a table, or
// in SplitSpan's id/time/attribute/payload/scope handling, stays in the "rest" column,
// so a field added to span.proto later is still stored (in rest) without a format change.
// Thread-safety: immutable tables.
#pragma once

#include <cstdint>
#include <string>

#include "model/span.h"
#include "store/columnar/columnar_format.h"

namespace sightline::store::columnar::fields {

using model::Span;

// Each entry names its span.proto field (`name`): SplitWire maps wire field numbers to
// columns by it.
struct StrField {
  uint8_t id;
  const char* name;
  const std::string& (*get)(const Span&);
  std::string* (*mut)(Span*);
};
struct ByteField {
  uint8_t id;
  const char* name;
  int (*get)(const Span&);
  void (*set)(Span*, int);
};
struct IntField {
  uint8_t id;
  const char* name;
  bool (*has)(const Span&);
  int64_t (*get)(const Span&);
  void (*set)(Span*, int64_t);
  void (*clear)(Span*);
};
struct DoubleField {
  uint8_t id;
  const char* name;
  bool (*has)(const Span&);
  double (*get)(const Span&);
  void (*set)(Span*, double);
  void (*clear)(Span*);
};

#define SL_STR(ID, F) \
  StrField {                                                                   \
    ID, #F, [](const Span& s) -> const std::string& { return s.F(); }, [](Span* s) { return s->mutable_##F(); } \
  }
#define SL_BYTE(ID, F, T)                                                                  \
  ByteField {                                                                              \
    ID, #F, [](const Span& s) { return static_cast<int>(s.F()); },                         \
        [](Span* s, int v) { s->set_##F(static_cast<T>(v)); }                                \
  }
#define SL_INT(ID, F)                                                                          \
  IntField {                                                                                   \
    ID, #F, [](const Span& s) { return s.has_##F(); }, [](const Span& s) { return static_cast<int64_t>(s.F()); }, \
        [](Span* s, int64_t v) { s->set_##F(v); }, [](Span* s) { s->clear_##F(); }               \
  }
#define SL_DOUBLE(ID, F)                                                                      \
  DoubleField {                                                                               \
    ID, #F, [](const Span& s) { return s.has_##F(); }, [](const Span& s) { return s.F(); },       \
        [](Span* s, double v) { s->set_##F(v); }, [](Span* s) { s->clear_##F(); }               \
  }

inline const StrField kStrFields[] = {
    SL_STR(kColProject, project),
    SL_STR(kColName, name),
    SL_STR(kColStatusMessage, status_message),
    SL_STR(kColErrorType, error_type),
    SL_STR(kColInterruptReason, interrupt_reason),
    SL_STR(kColService, service),
    SL_STR(kColEnvironment, environment),
    SL_STR(kColVersion, version),
    SL_STR(kColSessionId, session_id),
    SL_STR(kColUserId, user_id),
    SL_STR(kColAgentName, agent_name),
    SL_STR(kColAgentId, agent_id),
    SL_STR(kColProvider, provider),
    SL_STR(kColModel, model),
    SL_STR(kColToolName, tool_name),
    SL_STR(kColToolCallId, tool_call_id),
    SL_STR(kColPromptName, prompt_name),
    SL_STR(kColPromptVersion, prompt_version),
    SL_STR(kColFinishReason, finish_reason),
};

inline const ByteField kByteFields[] = {
    SL_BYTE(kColKind, kind, model::SpanKind),
    SL_BYTE(kColStatus, status, model::SpanStatus),
    SL_BYTE(kColOtelKind, otel_kind, opentelemetry::proto::trace::v1::Span::SpanKind),
    SL_BYTE(kColCostSource, cost_source, model::CostSource),
};

inline const IntField kIntFields[] = {
    SL_INT(kColStep, step),
    SL_INT(kColInputTokens, input_tokens),
    SL_INT(kColOutputTokens, output_tokens),
    SL_INT(kColCacheReadTokens, cache_read_tokens),
    SL_INT(kColCacheWriteTokens, cache_write_tokens),
    SL_INT(kColReasoningTokens, reasoning_tokens),
};

inline const DoubleField kDoubleFields[] = {
    SL_DOUBLE(kColCostUsd, cost_usd),
    SL_DOUBLE(kColReportedCostUsd, reported_cost_usd),
    SL_DOUBLE(kColComputedCostUsd, computed_cost_usd),
};

#undef SL_STR
#undef SL_BYTE
#undef SL_INT
#undef SL_DOUBLE

}  // namespace sightline::store::columnar::fields
