#include "model/span.h"

#include <array>
#include <utility>

namespace sightline::model {
namespace {

constexpr std::array<std::pair<SpanKind, std::string_view>, 12> kKinds = {{
    {v1::KIND_AGENT, "agent"},
    {v1::KIND_LLM, "llm"},
    {v1::KIND_TOOL, "tool"},
    {v1::KIND_RETRIEVAL, "retrieval"},
    {v1::KIND_EMBEDDING, "embedding"},
    {v1::KIND_RERANK, "rerank"},
    {v1::KIND_GUARDRAIL, "guardrail"},
    {v1::KIND_EVALUATOR, "evaluator"},
    {v1::KIND_MEMORY, "memory"},
    {v1::KIND_CHAIN, "chain"},
    {v1::KIND_HUMAN, "human"},
    {v1::KIND_OTHER, "other"},
}};

constexpr std::array<std::pair<SpanStatus, std::string_view>, 4> kStatuses = {{
    {v1::STATUS_OK, "ok"},
    {v1::STATUS_ERROR, "error"},
    {v1::STATUS_INTERRUPT, "interrupt"},
    {v1::STATUS_UNSET, "unset"},
}};

}  // namespace

std::string_view KindName(SpanKind kind) {
  for (const auto& [k, n] : kKinds)
    if (k == kind) return n;
  return "other";
}

std::optional<SpanKind> ParseKind(std::string_view name) {
  for (const auto& [k, n] : kKinds)
    if (n == name) return k;
  return std::nullopt;
}

std::string_view StatusName(SpanStatus status) {
  for (const auto& [s, n] : kStatuses)
    if (s == status) return n;
  return "unset";
}

std::optional<SpanStatus> ParseStatus(std::string_view name) {
  for (const auto& [s, n] : kStatuses)
    if (n == name) return s;
  return std::nullopt;
}

std::string_view CostSourceName(CostSource source) {
  switch (source) {
    case v1::COST_REPORTED: return "reported";
    case v1::COST_COMPUTED: return "computed";
    default: return "unknown";
  }
}

}  // namespace sightline::model
