// Test helpers for the normalize/ tests: terse OTLP span construction, one-span
// normalisation, and the table row every convention test uses (attributes in,
// expected canonical fields out).
#pragma once

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "ingest/normalize/normalize.h"
#include "model/span.h"

namespace sightline::ingest::testutil {

using AnyValue = ::opentelemetry::proto::common::v1::AnyValue;
using KeyValue = ::opentelemetry::proto::common::v1::KeyValue;
using OtlpSpan = ::opentelemetry::proto::trace::v1::Span;

inline AnyValue Str(std::string s) { AnyValue v; v.set_string_value(std::move(s)); return v; }
inline AnyValue Int(int64_t i) { AnyValue v; v.set_int_value(i); return v; }
inline AnyValue Dbl(double d) { AnyValue v; v.set_double_value(d); return v; }
inline AnyValue Bool(bool b) { AnyValue v; v.set_bool_value(b); return v; }
inline AnyValue Arr(std::initializer_list<AnyValue> vs) {
  AnyValue v;
  for (const auto& e : vs) *v.mutable_array_value()->add_values() = e;
  return v;
}
inline KeyValue KV(std::string k, AnyValue v) {
  KeyValue kv;
  kv.set_key(std::move(k));
  *kv.mutable_value() = std::move(v);
  return kv;
}
inline KeyValue KV(std::string k, const char* s) { return KV(std::move(k), Str(s)); }
inline KeyValue KV(std::string k, std::string s) { return KV(std::move(k), Str(std::move(s))); }
inline KeyValue KV(std::string k, int v) { return KV(std::move(k), Int(v)); }
inline KeyValue KV(std::string k, int64_t v) { return KV(std::move(k), Int(v)); }
inline KeyValue KV(std::string k, double v) { return KV(std::move(k), Dbl(v)); }
inline AnyValue KvList(std::initializer_list<KeyValue> kvs) {
  AnyValue v;
  for (const auto& kv : kvs) *v.mutable_kvlist_value()->add_values() = kv;
  return v;
}

using Attrs = std::vector<KeyValue>;

struct EventSpec {
  std::string name;
  Attrs attrs;
};

inline OtlpSpan MakeSpan(std::string name, const Attrs& attrs, const std::vector<EventSpec>& events = {}) {
  OtlpSpan s;
  s.set_trace_id(std::string("\x4b\xf9\x2f\x35\x77\xb3\x4d\xa6\xa3\xce\x92\x9d\x0e\x0e\x47\x36", 16));
  s.set_span_id(std::string("\x00\xf0\x67\xaa\x0b\xa9\x02\xb7", 8));
  s.set_name(std::move(name));
  s.set_start_time_unix_nano(1'711'215'731'420'000'000ull);
  s.set_end_time_unix_nano(1'711'215'731'842'000'000ull);
  for (const auto& kv : attrs) *s.add_attributes() = kv;
  for (const auto& e : events) {
    auto* ev = s.add_events();
    ev->set_name(e.name);
    ev->set_time_unix_nano(1'711'215'731'500'000'000ull);
    for (const auto& kv : e.attrs) *ev->add_attributes() = kv;
  }
  return s;
}

inline ExportRequest MakeRequest(std::vector<OtlpSpan> spans, const Attrs& resource = {KV("service.name", "billing-agent")}) {
  ExportRequest req;
  auto* rs = req.add_resource_spans();
  for (const auto& kv : resource) *rs->mutable_resource()->add_attributes() = kv;
  auto* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name("test.scope");
  for (auto& s : spans) *ss->add_spans() = std::move(s);
  return req;
}

inline model::Span NormalizeOne(OtlpSpan span, const NormalizeOptions& options = {},
                                const Attrs& resource = {KV("service.name", "billing-agent")}) {
  ExportRequest req = MakeRequest({std::move(span)}, resource);
  NormalizeResult r = NormalizeRequest(&req, options);
  EXPECT_EQ(r.spans.size(), 1u) << r.error_message;
  return r.spans.empty() ? model::Span() : r.spans[0];
}

// Expects two JSON texts to hold equal values (key order matters only inside arrays).
inline void ExpectJsonEq(const std::string& actual, const std::string& expected) {
  rapidjson::Document a, e;
  a.Parse(actual.c_str());
  e.Parse(expected.c_str());
  ASSERT_FALSE(e.HasParseError()) << "bad expected JSON: " << expected;
  ASSERT_FALSE(a.HasParseError()) << "not JSON: " << actual;
  EXPECT_TRUE(a == e) << "actual:   " << actual << "\nexpected: " << expected;
}

// What a table row expects of the canonical span; unset members are not checked.
struct Expected {
  std::optional<model::SpanKind> kind;
  std::optional<model::SpanStatus> status;
  std::optional<std::string> model, provider, session_id, user_id, agent_name, agent_id, tool_name,
      tool_call_id, finish_reason, prompt_name, prompt_version, status_message, error_type,
      interrupt_reason, environment, version;
  std::optional<int64_t> step, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
      reasoning_tokens;
  std::optional<double> cost_usd;
  std::optional<std::string> input_json, output_json;  // compared as JSON; "" = absent
};

struct Case {
  std::string name;
  Attrs attrs;
  std::vector<EventSpec> events;
  Expected want;
  std::string span_name = "span";
};

inline void Check(const model::Span& s, const Expected& w) {
  if (w.kind) {
    EXPECT_EQ(model::KindName(s.kind()), model::KindName(*w.kind));
  }
  if (w.status) {
    EXPECT_EQ(model::StatusName(s.status()), model::StatusName(*w.status));
  }
#define SL_CHECK_STR(f) \
  if (w.f) {                        \
    EXPECT_EQ(s.f(), *w.f) << #f;   \
  }
  SL_CHECK_STR(model) SL_CHECK_STR(provider) SL_CHECK_STR(session_id) SL_CHECK_STR(user_id)
  SL_CHECK_STR(agent_name) SL_CHECK_STR(agent_id) SL_CHECK_STR(tool_name) SL_CHECK_STR(tool_call_id)
  SL_CHECK_STR(finish_reason) SL_CHECK_STR(prompt_name) SL_CHECK_STR(prompt_version)
  SL_CHECK_STR(status_message) SL_CHECK_STR(error_type) SL_CHECK_STR(interrupt_reason)
  SL_CHECK_STR(environment) SL_CHECK_STR(version)
#undef SL_CHECK_STR
#define SL_CHECK_OPT(f)                                             \
  if (w.f) {                                                        \
    EXPECT_TRUE(s.has_##f()) << #f << " missing";                   \
    EXPECT_EQ(s.f(), *w.f) << #f;                                   \
  }
  SL_CHECK_OPT(step) SL_CHECK_OPT(input_tokens) SL_CHECK_OPT(output_tokens)
  SL_CHECK_OPT(cache_read_tokens) SL_CHECK_OPT(cache_write_tokens) SL_CHECK_OPT(reasoning_tokens)
#undef SL_CHECK_OPT
  if (w.cost_usd) {
    EXPECT_TRUE(s.has_cost_usd());
    EXPECT_DOUBLE_EQ(s.cost_usd(), *w.cost_usd);
    EXPECT_EQ(s.cost_source(), model::v1::COST_REPORTED);
    EXPECT_DOUBLE_EQ(s.reported_cost_usd(), *w.cost_usd);
  }
  if (w.input_json) {
    if (w.input_json->empty()) EXPECT_EQ(s.input_json(), "");
    else ExpectJsonEq(s.input_json(), *w.input_json);
  }
  if (w.output_json) {
    if (w.output_json->empty()) EXPECT_EQ(s.output_json(), "");
    else ExpectJsonEq(s.output_json(), *w.output_json);
  }
}

inline Case Row(std::string name) {
  Case c;
  c.name = std::move(name);
  return c;
}

// Runs one table row and checks that the original attributes were all kept.
inline void RunCase(const Case& c) {
  SCOPED_TRACE(c.name);
  model::Span s = NormalizeOne(MakeSpan(c.span_name, c.attrs, c.events));
  Check(s, c.want);
  EXPECT_EQ(s.attributes_size(), static_cast<int>(c.attrs.size()));
  EXPECT_EQ(s.events_size(), static_cast<int>(c.events.size()));
}

}  // namespace sightline::ingest::testutil
