// Span generators and helpers shared by the columnar segment tests. Deterministic (no
// clocks, no std distributions): the committed sample file depends on them.
#pragma once

#include <google/protobuf/util/message_differencer.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/env.h"
#include "model/span.h"
#include "store/columnar/columnar_builder.h"
#include "store/columnar/columnar_reader.h"
#include "store/store_test_util.h"

namespace sightline::store::columnar::testing {

using opentelemetry::proto::common::v1::AnyValue;
using opentelemetry::proto::common::v1::KeyValue;

inline KeyValue* AddAttr(google::protobuf::RepeatedPtrField<KeyValue>* list, const std::string& key) {
  KeyValue* kv = list->Add();
  kv->set_key(key);
  return kv;
}

// A message of the canonical form, long enough to be split out (>= kMinSplitBytes).
inline std::string Message(const std::string& role, const std::string& text) {
  return "{\"role\":\"" + role + "\",\"parts\":[{\"type\":\"text\",\"content\":\"" + text + "\"}]}";
}

// A span with every field of span.proto set (n varies the values).
inline model::Span FullSpan(uint64_t trace, uint64_t span, uint64_t parent, int64_t start, int n) {
  model::Span s = store::testing::MakeSpan({trace, span, parent, "chat gpt-" + std::to_string(n % 3),
                                            model::v1::KIND_LLM, model::v1::STATUS_ERROR, start, start + 1500 + n});
  std::string t = std::to_string(n);
  s.set_status_message("rate limited " + t);
  s.set_error_type("RateLimitError");
  s.set_interrupt_reason(n % 2 ? "approval_required" : "");
  s.set_service("support-agent");
  s.set_environment("prod");
  s.set_version("1.2." + t);
  s.set_session_id("ticket-" + std::to_string(9400 + n % 4));
  s.set_user_id("user-" + std::to_string(n % 5));
  s.set_agent_name("researcher");
  s.set_agent_id("agent-" + t);
  s.set_step(n - 3);  // negative, zero and positive
  s.set_provider("openai");
  s.set_model("gpt-4o");
  s.set_input_tokens(1000 + n);
  s.set_output_tokens(n);
  s.set_cache_read_tokens(0);
  s.set_cache_write_tokens(7);
  if (n % 2) s.set_reasoning_tokens(INT64_MIN);
  s.set_cost_usd(0.0125 * n);
  s.set_cost_source(model::v1::COST_REPORTED);
  s.set_reported_cost_usd(0.5);
  s.set_computed_cost_usd(-0.0);
  s.set_tool_name("search");
  s.set_tool_call_id("call_" + t);
  s.set_prompt_name("triage");
  s.set_prompt_version("v" + t);
  s.set_finish_reason("stop");
  std::string history = "[" + Message("system", "You are a support agent.") + "," + Message("user", "Help " + t) + "]";
  s.set_input_json(history);
  s.set_output_json("\"plain text answer " + t + "\"");
  auto* a = s.mutable_attributes();
  AddAttr(a, "gen_ai.system")->mutable_value()->set_string_value("openai");
  AddAttr(a, "empty.string")->mutable_value()->set_string_value("");
  AddAttr(a, "flag")->mutable_value()->set_bool_value(n % 2 == 0);
  AddAttr(a, "count")->mutable_value()->set_int_value(-42 - n);
  AddAttr(a, "ratio")->mutable_value()->set_double_value(0.1 * n);
  AddAttr(a, "raw")->mutable_value()->set_bytes_value(std::string("\x00\xff\x10", 3));
  AddAttr(a, "unset");
  auto* arr = AddAttr(a, "list")->mutable_value()->mutable_array_value();
  arr->add_values()->set_int_value(1);
  arr->add_values()->set_string_value("two");
  auto* kvl = AddAttr(a, "map")->mutable_value()->mutable_kvlist_value();
  AddAttr(kvl->mutable_values(), "k")->mutable_value()->set_double_value(2.5);
  std::string big = "[";
  for (int i = 0; i < 12; ++i) big += (i ? ", " : "") + Message("user", std::string(100, static_cast<char>('a' + i)));
  big += "]";
  AddAttr(a, "gen_ai.input.messages")->mutable_value()->set_string_value(big);
  AddAttr(a, "big.text")->mutable_value()->set_string_value(std::string(2000, 'x') + t);
  auto* r = s.mutable_resource();
  AddAttr(r, "service.name")->mutable_value()->set_string_value("support-agent");
  AddAttr(r, "host.id")->mutable_value()->set_int_value(7);
  auto* ev = s.add_events();
  ev->set_name("exception");
  ev->set_time_unix_nano(static_cast<uint64_t>(start + 10));
  AddAttr(ev->mutable_attributes(), "exception.message")->mutable_value()->set_string_value("boom " + t);
  ev->set_dropped_attributes_count(1);
  auto* ln = s.add_links();
  ln->set_trace_id(store::testing::TraceId(trace + 1000));
  ln->set_span_id(store::testing::SpanId(5));
  ln->set_trace_state("a=b");
  s.set_scope_name("openinference");
  s.set_scope_version("0.1");
  AddAttr(s.mutable_scope_attributes(), "scope.attr")->mutable_value()->set_string_value("x");
  s.set_otel_kind(opentelemetry::proto::trace::v1::Span::SPAN_KIND_CLIENT);
  s.set_trace_state("vendor=1");
  s.set_dropped_attributes_count(2);
  s.set_dropped_events_count(3);
  s.set_dropped_links_count(4);
  s.set_received_ns(start + 99999);
  return s;
}

// Spans grouped by trace key (ascending), as a builder wants them.
using TraceMap = std::map<std::string, std::vector<model::Span>>;  // key: 16 raw trace id bytes, big-endian order

inline void AddToMap(TraceMap* m, const model::Span& s) { (*m)[s.trace_id()].push_back(s); }

// Writes the traces into dir/name; returns the builder's status. parsed: through
// AddParsedTrace (as compaction writes) instead of AddTrace's serialized spans.
inline Status WriteSegment(Env* env, const std::string& dir, const std::string& name, const TraceMap& traces,
                           std::vector<WrittenTrace>* written = nullptr, bool parsed = false) {
  (void)env->CreateDir(dir);
  auto b = ColumnarBuilder::Create(env, dir, name);
  if (!b.ok()) return b.status();
  for (const auto& [id, spans] : traces) {
    std::vector<std::string> bytes;
    std::vector<std::string_view> views;
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (const auto& s : spans) {
      bytes.push_back(s.SerializeAsString());
      lo = std::min(lo, s.start_ns());
      hi = std::max(hi, s.end_ns());
    }
    for (const auto& x : bytes) views.push_back(x);
    if (parsed) {
      std::vector<model::Span> copies(spans.begin(), spans.end());
      SL_RETURN_IF_ERROR(
          (*b)->AddParsedTrace(TraceKey::FromBytes(id), copies.data(), copies.size(), "agg:" + id.substr(15), lo, hi));
      continue;
    }
    SL_RETURN_IF_ERROR((*b)->AddTrace(TraceKey::FromBytes(id), views, "agg:" + id.substr(15), lo, hi));
  }
  SL_RETURN_IF_ERROR((*b)->Finish());
  if (written) *written = (*b)->traces();
  return Status::OK();
}

// Sorted like ReadTrace returns them.
inline void SortSpans(std::vector<model::Span>* v) {
  std::stable_sort(v->begin(), v->end(), [](const model::Span& a, const model::Span& b) {
    if (a.start_ns() != b.start_ns()) return a.start_ns() < b.start_ns();
    return a.span_id() < b.span_id();
  });
}

inline ::testing::AssertionResult SameSpans(std::vector<model::Span> want, const std::vector<std::string>& got) {
  SortSpans(&want);
  if (want.size() != got.size())
    return ::testing::AssertionFailure() << "want " << want.size() << " spans, got " << got.size();
  for (size_t i = 0; i < want.size(); ++i) {
    model::Span g;
    if (!g.ParseFromString(got[i])) return ::testing::AssertionFailure() << "span " << i << " does not parse";
    std::string diff;
    google::protobuf::util::MessageDifferencer d;
    d.ReportDifferencesToString(&diff);
    if (!d.Compare(want[i], g)) return ::testing::AssertionFailure() << "span " << i << " differs: " << diff;
  }
  return ::testing::AssertionSuccess();
}

// A 50-turn support conversation, one trace per turn: the orchestrator (agent), a
// planning llm call that sees the whole history (input_json and, as OTel GenAI
// instrumentations do, gen_ai.input.messages), a tool call with JSON arguments and
// result, and a responding llm call. Turn N re-sends turns 1..N-1.
inline TraceMap PayloadSession(uint64_t session, int turns, int64_t t0) {
  TraceMap m;
  std::vector<std::string> history = {Message("system", "You are the billing support agent of Acme. Be brief, cite the "
                                                        "knowledge base, escalate refunds over 100 USD to a human.")};
  for (int turn = 0; turn < turns; ++turn) {
    uint64_t trace = session * 1000 + static_cast<uint64_t>(turn) + 1;
    int64_t start = t0 + turn * 60'000'000'000LL;
    std::string t = std::to_string(session) + "_" + std::to_string(turn);
    const int64_t inv = 4000 + turn * 7 + static_cast<int64_t>(session) * 1000;
    std::string user = Message("user", "Ticket " + std::to_string(session) + " turn " + t + ": my invoice INV-" +
                                           std::to_string(inv) +
                                           " shows a charge I do not recognise, order " + std::to_string(turn * 131));
    history.push_back(user);
    auto join = [](const std::vector<std::string>& v) {
      std::string s = "[";
      for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + v[i];
      return s + "]";
    };
    auto base = [&](uint64_t span, uint64_t parent, const std::string& name, model::SpanKind kind, int64_t s,
                    int64_t e) {
      model::Span sp = store::testing::MakeSpan({TraceKey::Mix64(trace), TraceKey::Mix64(trace * 10 + span),
                                                 parent ? TraceKey::Mix64(trace * 10 + parent) : 0, name, kind,
                                                 model::v1::STATUS_OK, s, e});
      sp.set_service("billing-agent");
      sp.set_environment("prod");
      sp.set_session_id("ticket-" + std::to_string(session));
      sp.set_user_id("user-" + std::to_string(session % 97));
      sp.set_agent_name("billing");
      sp.set_received_ns(e + 2'000'000);
      sp.set_scope_name("opentelemetry.instrumentation.openai");
      AddAttr(sp.mutable_resource(), "service.name")->mutable_value()->set_string_value("billing-agent");
      AddAttr(sp.mutable_resource(), "telemetry.sdk.language")->mutable_value()->set_string_value("python");
      AddAttr(sp.mutable_attributes(), "session.id")->mutable_value()->set_string_value(sp.session_id());
      return sp;
    };
    AddToMap(&m, base(1, 0, "invoke_agent billing", model::v1::KIND_AGENT, start, start + 9'000'000'000));
    model::Span plan = base(2, 1, "chat gpt-4o", model::v1::KIND_LLM, start + 1'000'000, start + 2'500'000'000);
    plan.set_model("gpt-4o");
    plan.set_provider("openai");
    plan.set_input_tokens(300 + 120 * turn);
    plan.set_output_tokens(40);
    plan.set_cost_usd(0.001 * turn);
    plan.set_input_json(join(history));
    std::string call = "{\"role\":\"assistant\",\"parts\":[{\"type\":\"tool_call\",\"id\":\"call_" + t +
                       "\",\"name\":\"lookup_invoice\",\"thought\":\"The customer names an invoice: look it up\",\"arguments\":{\"invoice\":\"INV-" + std::to_string(inv) +
                       "\"}}]}";
    plan.set_output_json("[" + call + "]");
    AddAttr(plan.mutable_attributes(), "gen_ai.input.messages")->mutable_value()->set_string_value(join(history));
    AddToMap(&m, plan);
    model::Span tool = base(3, 1, "execute_tool lookup_invoice", model::v1::KIND_TOOL, start + 2'600'000'000,
                            start + 2'900'000'000);
    tool.set_tool_name("lookup_invoice");
    tool.set_tool_call_id("call_" + t);
    tool.set_input_json("{\"invoice\":\"INV-" + std::to_string(inv) + "\"}");
    tool.set_output_json("{\"amount_usd\":" + std::to_string(20 + turn) + ",\"status\":\"paid\",\"merchant\":\"Acme\"}");
    AddToMap(&m, tool);
    history.push_back(call);
    std::string answer = Message("assistant", "Invoice INV-" + std::to_string(inv) + " is a charge of " +
                                                  std::to_string(20 + turn) + " USD for your Acme subscription (ticket " +
                                                  std::to_string(session) + ").");
    model::Span respond = base(4, 1, "chat gpt-4o", model::v1::KIND_LLM, start + 3'000'000'000, start + 8'000'000'000);
    respond.set_model("gpt-4o");
    respond.set_input_tokens(350 + 120 * turn);
    respond.set_output_tokens(60);
    respond.set_input_json(join(history));
    respond.set_output_json("[" + answer + "]");
    AddAttr(respond.mutable_attributes(), "gen_ai.input.messages")->mutable_value()->set_string_value(join(history));
    AddToMap(&m, respond);
    history.push_back(answer);
  }
  return m;
}

// Lean traces (names, ids, times, GenAI attributes; no payloads), ~0.4 KB per span on
// the wire: `traces` traces of 8 spans each. Ids are hashed counters (random-looking,
// as real ids are, so they do not compress).
inline TraceMap LeanTraces(int traces, int64_t t0) {
  TraceMap m;
  const char* tools[] = {"search_kb", "lookup_invoice", "refund", "send_email"};
  for (int i = 0; i < traces; ++i) {
    uint64_t trace = 500000 + static_cast<uint64_t>(i) * 7919;
    int64_t start = t0 + i * 3'000'000'000LL;
    for (int k = 0; k < 8; ++k) {
      bool llm = k % 2 == 1;
      model::Span s = store::testing::MakeSpan(
          {TraceKey::Mix64(trace), TraceKey::Mix64(trace * 16 + static_cast<uint64_t>(k) + 1),
           k ? TraceKey::Mix64(trace * 16 + 1) : 0,
           k == 0 ? "invoke_agent orchestrator" : llm ? "chat claude-sonnet" : std::string("execute_tool ") + tools[k % 4],
           k == 0 ? model::v1::KIND_AGENT : llm ? model::v1::KIND_LLM : model::v1::KIND_TOOL,
           (i + k) % 17 == 0 ? model::v1::STATUS_ERROR : model::v1::STATUS_OK, start + k * 200'000'000LL + (i * 37 + k * 11) % 1000,
           start + k * 200'000'000LL + 150'000'000 + (i * 7919 + k) % 90'000'000});
      s.set_service("support-desk");
      s.set_environment("prod");
      s.set_session_id("ticket-" + std::to_string(i / 5));
      s.set_user_id("user-" + std::to_string(i % 113));
      s.set_agent_name("orchestrator");
      s.set_received_ns(s.end_ns() + 1'000'000 + (i % 50) * 1000);
      s.set_scope_name("sightline.loadgen");
      s.set_otel_kind(opentelemetry::proto::trace::v1::Span::SPAN_KIND_INTERNAL);
      AddAttr(s.mutable_resource(), "service.name")->mutable_value()->set_string_value("support-desk");
      auto* a = s.mutable_attributes();
      AddAttr(a, "session.id")->mutable_value()->set_string_value(s.session_id());
      AddAttr(a, "user.id")->mutable_value()->set_string_value(s.user_id());
      if (llm) {
        s.set_model("claude-sonnet-4");
        s.set_provider("anthropic");
        s.set_input_tokens(800 + (i * 31 + k) % 4000);
        s.set_output_tokens(50 + (i * 17 + k) % 600);
        s.set_cost_usd(static_cast<double>(s.input_tokens()) * 3e-6 + static_cast<double>(s.output_tokens()) * 15e-6);
        s.set_cost_source(model::v1::COST_COMPUTED);
        s.set_finish_reason("end_turn");
        AddAttr(a, "gen_ai.operation.name")->mutable_value()->set_string_value("chat");
        AddAttr(a, "gen_ai.request.model")->mutable_value()->set_string_value("claude-sonnet-4");
        AddAttr(a, "gen_ai.usage.input_tokens")->mutable_value()->set_int_value(s.input_tokens());
        AddAttr(a, "gen_ai.usage.output_tokens")->mutable_value()->set_int_value(s.output_tokens());
      } else if (k) {
        s.set_tool_name(tools[k % 4]);
        s.set_tool_call_id("toolu_" + std::to_string(trace * 16 + static_cast<uint64_t>(k)));
        AddAttr(a, "gen_ai.operation.name")->mutable_value()->set_string_value("execute_tool");
        AddAttr(a, "gen_ai.tool.name")->mutable_value()->set_string_value(tools[k % 4]);
      }
      AddToMap(&m, s);
    }
  }
  return m;
}

inline size_t CountSpans(const TraceMap& m) {
  size_t n = 0;
  for (const auto& [id, v] : m) n += v.size();
  return n;
}

}  // namespace sightline::store::columnar::testing
