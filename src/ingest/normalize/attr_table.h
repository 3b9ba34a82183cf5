// AttrTable: one span's attributes looked up once each in a table of every key any
// convention reads (kConventionKeys), so that the conventions' many per-field lookups
// are array reads instead of searches. Built once per span, it answers:
//   - Find(key): the value of a convention key, with AttrIndex::Find's rules: the first
//     attribute as received with that key wins, and a first one whose AnyValue holds
//     nothing reads as absent (a later duplicate does not stand in for it);
//   - HasPrefix(prefix): whether any attribute key starts with one of the prefixes the
//     conventions ask about (kConventionPrefixes), empty values included;
//   - WithPrefix(prefix): the entries under such a prefix in key order, as
//     AttrIndex::WithPrefix gives them. Only the flattened conventions (OpenInference
//     messages and documents, Traceloop messages, tool.args.*) ask for these; the sorted
//     index behind them is built on the first such request of a span that has a key
//     under the prefix, so spans without flattened attributes never sort.
//
// Keys and prefixes are named by their text at the call site and checked at compile
// time: AttrKey("gen_ai.usage.cost") is a constant index, and a name missing from the
// lists does not compile. A key a convention starts to read goes into kConventionKeys.
//
// Invariants: first_[i] is null for every key not seen since the last Clear, and
// touched_[0, touched_count_) lists the keys that are not; prefixes_ has bit p set when
// a key starts with kConventionPrefixes[p]. The table points into the KeyValues it was
// built from: they must outlive it and stay unmodified while it is used.
// Thread-safety: none; one table per thread (the key table itself is immutable).
#pragma once

#include <cstdint>
#include <iterator>
#include <span>
#include <string_view>

#include "ingest/normalize/attr_index.h"

namespace sightline::ingest::norm {

// Every attribute key a convention reads from a span (or from its operation-details
// event). Order is free; each key once.
inline constexpr std::string_view kConventionKeys[] = {
    // OTel GenAI (current and deprecated names) and general OTel attributes
    "gen_ai.operation.name", "gen_ai.conversation.id", "gen_ai.agent.name", "gen_ai.agent.id",
    "gen_ai.provider.name", "gen_ai.system", "gen_ai.response.model", "gen_ai.request.model",
    "gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens", "gen_ai.usage.output_tokens",
    "gen_ai.usage.completion_tokens", "gen_ai.usage.cache_read.input_tokens",
    "gen_ai.usage.cache_read_input_tokens", "gen_ai.usage.cache_creation.input_tokens",
    "gen_ai.usage.cache_creation_input_tokens", "gen_ai.usage.reasoning.output_tokens",
    "gen_ai.usage.reasoning_tokens", "gen_ai.usage.cost", "gen_ai.tool.name", "gen_ai.tool.call.id",
    "gen_ai.prompt.name", "gen_ai.response.finish_reasons", "gen_ai.input.messages",
    "gen_ai.system_instructions", "gen_ai.output.messages", "gen_ai.tool.call.arguments",
    "gen_ai.tool.call.result", "enduser.id", "error.type",
    // OpenInference
    "openinference.span.kind", "session.id", "user.id", "tool.name", "tool_call.id", "llm.provider",
    "llm.system", "llm.model_name", "llm.response.model_name", "llm.token_count.prompt",
    "llm.token_count.completion", "llm.token_count.prompt_details.cache_read",
    "llm.token_count.prompt_details.cache_write", "llm.token_count.completion_details.reasoning",
    "llm.cost.total", "llm.prompt_template.version", "llm.finish_reason", "input.value",
    "input.mime_type", "output.value", "output.mime_type",
    // Langfuse
    "langfuse.observation.type", "langfuse.session.id", "langfuse.user.id",
    "langfuse.observation.model.name", "langfuse.observation.prompt.name",
    "langfuse.observation.prompt.version", "langfuse.observation.status_message",
    "langfuse.observation.level", "langfuse.environment", "langfuse.release", "langfuse.version",
    "langfuse.observation.usage_details", "langfuse.observation.cost_details",
    "langfuse.observation.input", "langfuse.trace.input", "langfuse.observation.output",
    "langfuse.trace.output",
    // Traceloop / OpenLLMetry
    "traceloop.span.kind", "traceloop.entity.name", "traceloop.association.properties.session_id",
    "traceloop.association.properties.user_id", "llm.request.type", "llm.response.model",
    "llm.request.model", "traceloop.entity.input", "traceloop.entity.output",
    // The plain agent schema
    "agent.name", "agent.session_id", "agent.step", "actor.user_id", "llm.model", "tokens.in",
    "tokens.out", "cost_usd", "interrupt.reason", "status", "agent.status",
};
inline constexpr size_t kConventionKeyCount = std::size(kConventionKeys);

// The key prefixes the conventions ask about.
inline constexpr std::string_view kConventionPrefixes[] = {
    "gen_ai.", "llm.", "langfuse.", "agent.", "traceloop.association.properties.", "tool.args.",
    "llm.input_messages.", "llm.output_messages.", "gen_ai.prompt.", "gen_ai.completion.",
    "retrieval.documents.",
};
inline constexpr size_t kConventionPrefixCount = std::size(kConventionPrefixes);
static_assert(kConventionKeyCount <= 255 && kConventionPrefixCount <= 32);

namespace detail {
template <size_t N>
consteval uint8_t IndexIn(const std::string_view (&list)[N], std::string_view name) {
  for (size_t i = 0; i < N; ++i)
    if (list[i] == name) return static_cast<uint8_t>(i);
  throw "not in the list: add it to kConventionKeys / kConventionPrefixes";
}
template <size_t N>
consteval bool AllDistinct(const std::string_view (&list)[N]) {
  for (size_t i = 0; i < N; ++i)
    for (size_t j = i + 1; j < N; ++j)
      if (list[i] == list[j]) return false;
  return true;
}
}  // namespace detail
static_assert(detail::AllDistinct(kConventionKeys) && detail::AllDistinct(kConventionPrefixes));

// A convention key, resolved at compile time.
class AttrKey {
 public:
  consteval AttrKey(const char* name) : id_(detail::IndexIn(kConventionKeys, name)) {}
  // The entry at index i < std::size(kConventionKeys), for code that walks them all.
  static AttrKey At(size_t i) { return AttrKey(static_cast<uint8_t>(i), 0); }
  uint8_t id() const { return id_; }
  std::string_view name() const { return kConventionKeys[id_]; }

 private:
  constexpr AttrKey(uint8_t id, int) : id_(id) {}
  uint8_t id_;
};

// A convention prefix, resolved at compile time.
class AttrPrefix {
 public:
  consteval AttrPrefix(const char* name) : id_(detail::IndexIn(kConventionPrefixes, name)) {}
  // The entry at index i < std::size(kConventionPrefixes), for code that walks them all.
  static AttrPrefix At(size_t i) { return AttrPrefix(static_cast<uint8_t>(i), 0); }
  uint8_t id() const { return id_; }
  std::string_view name() const { return kConventionPrefixes[id_]; }

 private:
  constexpr AttrPrefix(uint8_t id, int) : id_(id) {}
  uint8_t id_;
};

class AttrTable {
 public:
  AttrTable() = default;
  AttrTable(const AttrTable&) = delete;
  AttrTable& operator=(const AttrTable&) = delete;

  void Build(const KeyValues& attrs);
  void Clear();
  bool empty() const { return size_ == 0; }

  const AnyValue* Find(AttrKey key) const {
    const AnyValue* v = first_[key.id()];
    return v != nullptr && v->value_case() != AnyValue::VALUE_NOT_SET ? v : nullptr;
  }
  bool HasPrefix(AttrPrefix p) const { return (prefixes_ >> p.id()) & 1; }
  std::span<const AttrIndex::Entry> WithPrefix(AttrPrefix p) const;

  // The index of key in kConventionKeys, or -1 (exposed for tests).
  static int KeyIndex(std::string_view key);
  // The prefix bits of key (bit p: starts with kConventionPrefixes[p]; for tests).
  static uint32_t PrefixBits(std::string_view key);

 private:
  const AnyValue* first_[kConventionKeyCount] = {};
  uint8_t touched_[kConventionKeyCount] = {};
  size_t touched_count_ = 0;
  uint32_t prefixes_ = 0;
  size_t size_ = 0;
  const KeyValues* attrs_ = nullptr;
  mutable AttrIndex sorted_;  // built on demand by WithPrefix
  mutable bool sorted_built_ = false;
};

}  // namespace sightline::ingest::norm
