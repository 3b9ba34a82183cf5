#include "ingest/demo_run.h"

#include <algorithm>
#include <deque>
#include <random>

#include "common/hex.h"

namespace sightline::ingest {
namespace {

namespace ocommon = ::opentelemetry::proto::common::v1;
namespace otrace = ::opentelemetry::proto::trace::v1;

constexpr int64_t kMs = 1000000;

// A span being built: times are offsets from the trace's start, in milliseconds.
class SpanBuilder {
 public:
  SpanBuilder(otrace::Span* span, int depth) : s_(span), depth_(depth) {}
  SpanBuilder& Str(const std::string& k, const std::string& v) {
    Add(k)->set_string_value(v);
    return *this;
  }
  SpanBuilder& Int(const std::string& k, int64_t v) {
    Add(k)->set_int_value(v);
    return *this;
  }
  SpanBuilder& Dbl(const std::string& k, double v) {
    Add(k)->set_double_value(v);
    return *this;
  }
  SpanBuilder& Strs(const std::string& k, std::initializer_list<std::string> vs) {
    auto* arr = Add(k)->mutable_array_value();
    for (const auto& v : vs) arr->add_values()->set_string_value(v);
    return *this;
  }
  SpanBuilder& Error(const std::string& message) {
    s_->mutable_status()->set_code(otrace::Status::STATUS_CODE_ERROR);
    s_->mutable_status()->set_message(message);
    return *this;
  }
  SpanBuilder& Ok() {
    s_->mutable_status()->set_code(otrace::Status::STATUS_CODE_OK);
    return *this;
  }
  otrace::Span::Event* Event(const std::string& name, int64_t at_ns) {
    auto* e = s_->add_events();
    e->set_name(name);
    e->set_time_unix_nano(static_cast<uint64_t>(at_ns));
    return e;
  }
  otrace::Span* span() { return s_; }
  int depth() const { return depth_; }

 private:
  ocommon::AnyValue* Add(const std::string& k) {
    auto* kv = s_->add_attributes();
    kv->set_key(k);
    return kv->mutable_value();
  }
  otrace::Span* s_;
  int depth_;
};

void EventAttr(otrace::Span::Event* e, const std::string& k, const std::string& v) {
  auto* kv = e->add_attributes();
  kv->set_key(k);
  kv->mutable_value()->set_string_value(v);
}

// Builds one trace's spans; every span shares the session and user keys.
class TraceBuilder {
 public:
  TraceBuilder(std::mt19937_64* rng, int64_t start_ns, std::string session, std::string user)
      : rng_(rng), start_ns_(start_ns), session_(std::move(session)), user_(std::move(user)) {
    trace_id_ = RandomBytes(16);
  }

  // A span from `from_ms` to `to_ms` after the trace start, under parent (nullptr: root).
  SpanBuilder Span(SpanBuilder* parent, const std::string& name, int64_t from_ms, int64_t to_ms,
                   otrace::Span::SpanKind kind) {
    spans_.emplace_back();
    otrace::Span& s = spans_.back();
    s.set_trace_id(trace_id_);
    s.set_span_id(RandomBytes(8));
    if (parent != nullptr) s.set_parent_span_id(parent->span()->span_id());
    s.set_name(name);
    s.set_kind(kind);
    s.set_start_time_unix_nano(static_cast<uint64_t>(start_ns_ + from_ms * kMs));
    s.set_end_time_unix_nano(static_cast<uint64_t>(start_ns_ + to_ms * kMs));
    depths_.push_back(parent == nullptr ? 0 : parent->depth() + 1);
    SpanBuilder b(&s, depths_.back());
    b.Str("session.id", session_).Str("gen_ai.conversation.id", session_).Str("user.id", user_);
    return b;
  }

  SpanBuilder Agent(SpanBuilder* parent, const std::string& agent, int64_t from_ms, int64_t to_ms) {
    SpanBuilder b = Span(parent, "invoke_agent " + agent, from_ms, to_ms, otrace::Span::SPAN_KIND_INTERNAL);
    b.Str("gen_ai.operation.name", "invoke_agent").Str("gen_ai.agent.name", agent).Str("gen_ai.agent.id",
                                                                                          "agt_" + agent);
    return b;
  }

  SpanBuilder Chat(SpanBuilder* parent, const std::string& model, int64_t from_ms, int64_t to_ms, int64_t in,
                   int64_t out, int64_t cached, double cost, const std::string& input_messages,
                   const std::string& output_messages, const std::string& finish) {
    std::string request_model = model.substr(0, model.find("-2024"));
    SpanBuilder b = Span(parent, "chat " + request_model, from_ms, to_ms, otrace::Span::SPAN_KIND_CLIENT);
    b.Str("gen_ai.operation.name", "chat")
        .Str("gen_ai.provider.name", "openai")
        .Str("gen_ai.request.model", request_model)
        .Str("gen_ai.response.model", model)
        .Str("gen_ai.response.id", "chatcmpl-" + HexEncode(RandomBytes(6)))
        .Dbl("gen_ai.request.temperature", 0.2)
        .Int("gen_ai.usage.input_tokens", in)
        .Int("gen_ai.usage.output_tokens", out)
        .Int("gen_ai.usage.cache_read.input_tokens", cached)
        .Dbl("gen_ai.usage.cost", cost)
        .Strs("gen_ai.response.finish_reasons", {finish})
        .Str("gen_ai.input.messages", input_messages)
        .Str("gen_ai.output.messages", output_messages)
        .Str("server.address", "api.openai.com")
        .Ok();
    return b;
  }

  SpanBuilder Tool(SpanBuilder* parent, const std::string& tool, int64_t from_ms, int64_t to_ms,
                   const std::string& call_id, const std::string& args) {
    SpanBuilder b = Span(parent, "execute_tool " + tool, from_ms, to_ms, otrace::Span::SPAN_KIND_INTERNAL);
    b.Str("gen_ai.operation.name", "execute_tool")
        .Str("gen_ai.tool.name", tool)
        .Str("gen_ai.tool.type", "function")
        .Str("gen_ai.tool.call.id", call_id)
        .Str("gen_ai.tool.call.arguments", args);
    return b;
  }

  int64_t At(int64_t ms) const { return start_ns_ + ms * kMs; }
  std::string trace_id_hex() const { return HexEncode(trace_id_); }

  // The spans in arrival order (ends first, so children before parents), split into
  // `parts` requests; the root is always in the last one.
  std::vector<std::vector<otrace::Span>> Batches(int parts) const {
    std::vector<size_t> order(spans_.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      if (spans_[a].end_time_unix_nano() != spans_[b].end_time_unix_nano())
        return spans_[a].end_time_unix_nano() < spans_[b].end_time_unix_nano();
      return depths_[a] > depths_[b];
    });
    std::vector<std::vector<otrace::Span>> out(static_cast<size_t>(parts));
    for (size_t k = 0; k < order.size(); ++k) {
      size_t part = std::min(static_cast<size_t>(parts) - 1, k * static_cast<size_t>(parts) / order.size());
      out[part].push_back(spans_[order[k]]);
    }
    std::erase_if(out, [](const auto& v) { return v.empty(); });
    return out;
  }

  std::string RandomBytes(int n) {
    std::string s(static_cast<size_t>(n), '\0');
    for (auto& c : s) c = static_cast<char>((*rng_)() & 0xff);
    s[0] = static_cast<char>(s[0] | 1);  // never all zero (an invalid OTLP id)
    return s;
  }

 private:
  std::mt19937_64* rng_;
  int64_t start_ns_;
  std::string session_, user_;
  std::string trace_id_;
  std::deque<otrace::Span> spans_;  // a deque: SpanBuilders keep pointers into it
  std::vector<int> depths_;
};

const char* kSystemPrompt =
    "You are Acme Cloud's support orchestrator. Route billing questions to billing-resolver and policy "
    "questions to knowledge-agent. Refunds above $20 need human approval.";

struct SessionSpec {
  std::string session, user, customer, invoice;
  int64_t amount_cents;
};

std::string Dollars(int64_t cents) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "$%lld.%02lld", static_cast<long long>(cents / 100),
                static_cast<long long>(cents % 100));
  return buf;
}

std::string Msg(const std::string& role, const std::string& text) {
  return R"({"role":")" + role + R"(","parts":[{"type":"text","content":")" + text + R"("}]})";
}
std::string ToolCallMsg(const std::string& id, const std::string& name, const std::string& args_json,
                        const std::string& finish = "tool_calls") {
  return R"([{"role":"assistant","parts":[{"type":"tool_call","id":")" + id + R"(","name":")" + name +
         R"(","arguments":)" + args_json + R"(}],"finish_reason":")" + finish + R"("}])";
}

// Turn 1: the question, the hand-offs, the failed lookup and its retry, the refund
// stopped for approval.
DemoTrace BuildTurn1(std::mt19937_64* rng, int64_t start_ns, const SessionSpec& sp,
                     std::vector<std::vector<otrace::Span>>* batches) {
  TraceBuilder t(rng, start_ns, sp.session, sp.user);
  std::string question = "Hi, I was charged twice for invoice " + sp.invoice + " (" + Dollars(sp.amount_cents) +
                         "). Can you refund the duplicate charge?";
  std::string amount = std::to_string(sp.amount_cents);
  SpanBuilder root = t.Agent(nullptr, "support-orchestrator", 0, 6240);
  root.Str("gen_ai.input.messages", "[" + Msg("user", question) + "]")
      .Str("gen_ai.output.messages",
           "[" + Msg("assistant", "A refund of " + Dollars(sp.amount_cents) + " for " + sp.invoice +
                                      " is waiting for approval by a billing supervisor.") + "]")
      .Str("enduser.id", sp.user);

  // Planning: system prompt + question -> a hand-off tool call.
  t.Chat(&root, "gpt-4o-2024-08-06", 40, 1380, 1204, 96, 512, 0.00412,
         "[" + Msg("system", kSystemPrompt) + "," + Msg("user", question) + "]",
         ToolCallMsg("call_plan_1", "transfer_to_billing_resolver",
                     R"({"reason":"duplicate charge","invoice_id":")" + sp.invoice + R"("})"),
         "tool_calls")
      .Int("agent.step", 1);

  // knowledge-agent: the refund policy.
  SpanBuilder knowledge = t.Agent(&root, "knowledge-agent", 1400, 2880);
  knowledge.Ok();
  SpanBuilder retrieval = t.Span(&knowledge, "retrieval kb-billing-policies", 1420, 1760,
                                 otrace::Span::SPAN_KIND_CLIENT);
  retrieval.Str("gen_ai.operation.name", "retrieval")
      .Str("gen_ai.data_source.id", "kb-billing-policies")
      .Str("db.system", "pgvector")
      .Int("gen_ai.request.top_k", 3)
      .Str("input.value", "duplicate charge refund policy")
      .Str("retrieval.documents",
           R"([{"id":"kb-112","score":0.91,"content":"Duplicate charges are refunded in full to the original payment method within 5-7 business days."},)"
           R"({"id":"kb-087","score":0.84,"content":"Refunds above $20 require approval by a billing supervisor."},)"
           R"({"id":"kb-301","score":0.62,"content":"Annual plans may be prorated when downgraded mid-cycle."}])")
      .Str("retrieval.documents.0.document.id", "kb-112")
      .Dbl("retrieval.documents.0.document.score", 0.91)
      .Str("retrieval.documents.1.document.id", "kb-087")
      .Dbl("retrieval.documents.1.document.score", 0.84)
      .Str("retrieval.documents.2.document.id", "kb-301")
      .Dbl("retrieval.documents.2.document.score", 0.62)
      .Ok();
  t.Chat(&knowledge, "gpt-4o-mini-2024-07-18", 1780, 2860, 1630, 142, 0, 0.00033,
         "[" + Msg("system", "Answer from the retrieved policy documents only.") + "," +
             Msg("user", "What is the refund policy for duplicate charges?") + "]",
         "[" + Msg("assistant", "Duplicate charges are refunded in full; refunds above $20 need supervisor approval.") +
             "]",
         "stop");

  // billing-resolver: look the invoice up (the first call times out), then refund.
  SpanBuilder billing = t.Agent(&root, "billing-resolver", 2900, 6200);
  billing.Str("agent.name", "billing-resolver");
  t.Chat(&billing, "gpt-4o-2024-08-06", 2920, 3760, 1876, 58, 1024, 0.00353,
         "[" + Msg("system", "You resolve billing issues. Always verify the invoice before refunding.") + "," +
             Msg("user", question) + "]",
         ToolCallMsg("call_lk_1", "lookup_invoice", R"({"invoice_id":")" + sp.invoice + R"("})"), "tool_calls")
      .Int("agent.step", 1);
  SpanBuilder failed = t.Tool(&billing, "lookup_invoice", 3780, 4290, "call_lk_1",
                              R"({"invoice_id":")" + sp.invoice + R"("})");
  failed.Str("error.type", "TimeoutError").Int("agent.step", 2).Error("billing-api timed out after 500 ms");
  auto* ex = failed.Event("exception", t.At(4288));
  EventAttr(ex, "exception.type", "TimeoutError");
  EventAttr(ex, "exception.message", "billing-api timed out after 500 ms");
  EventAttr(ex, "exception.stacktrace",
            "Traceback (most recent call last):\n"
            "  File \"/app/tools/billing.py\", line 88, in lookup_invoice\n"
            "    resp = await client.get(f\"/invoices/{invoice_id}\", timeout=0.5)\n"
            "  File \"/app/.venv/lib/python3.12/site-packages/httpx/_client.py\", line 1757, in get\n"
            "    return await self.request(\"GET\", url, timeout=timeout)\n"
            "httpx.ReadTimeout: timed out\n\n"
            "During handling of the above exception, another exception occurred:\n"
            "TimeoutError: billing-api timed out after 500 ms");
  EventAttr(ex, "exception.escaped", "true");
  t.Tool(&billing, "lookup_invoice", 4320, 4610, "call_lk_1",
         R"({"invoice_id":")" + sp.invoice + R"("})")
      .Str("gen_ai.tool.call.result",
           R"({"invoice_id":")" + sp.invoice + R"(","customer":")" + sp.customer +
               R"(","amount_cents":)" + amount +
               R"(,"charges":[{"id":"ch_1","status":"succeeded"},{"id":"ch_2","status":"succeeded"}]})")
      .Int("agent.step", 2)
      .Int("retry.attempt", 1)
      .Ok();
  t.Chat(&billing, "gpt-4o-2024-08-06", 4630, 5540, 2210, 74, 1536, 0.00421,
         "[" + Msg("system", "You resolve billing issues. Always verify the invoice before refunding.") + "," +
             Msg("user", question) + "]",
         ToolCallMsg("call_rf_1", "issue_refund",
                     R"({"invoice_id":")" + sp.invoice + R"(","amount_cents":)" + amount + "}"),
         "tool_calls")
      .Int("agent.step", 3);
  t.Tool(&billing, "issue_refund", 5560, 6180, "call_rf_1",
         R"({"invoice_id":")" + sp.invoice + R"(","amount_cents":)" + amount + "}")
      .Str("status", "interrupt")
      .Str("interrupt.reason", "approval_required")
      .Str("tool.args.invoice_id", sp.invoice)
      .Int("tool.args.amount_cents", sp.amount_cents)
      .Int("agent.step", 4)
      .Str("approval.queue", "billing-supervisors");

  for (auto& b : t.Batches(3)) batches->push_back(std::move(b));
  return {t.trace_id_hex(), sp.session, "invoke_agent support-orchestrator"};
}

// Turn 2: approved; the refund goes through and the customer is told.
DemoTrace BuildTurn2(std::mt19937_64* rng, int64_t start_ns, const SessionSpec& sp,
                     std::vector<std::vector<otrace::Span>>* batches) {
  TraceBuilder t(rng, start_ns, sp.session, sp.user);
  std::string amount = std::to_string(sp.amount_cents);
  std::string reply = "Done: I refunded the duplicate charge of " + Dollars(sp.amount_cents) + " for " + sp.invoice +
                      ". You'll see it in 5-7 business days.";
  SpanBuilder root = t.Agent(nullptr, "support-orchestrator", 0, 2650);
  root.Str("gen_ai.input.messages", "[" + Msg("user", "Approved by supervisor j.alvarez") + "]")
      .Str("gen_ai.output.messages", "[" + Msg("assistant", reply) + "]")
      .Ok();
  SpanBuilder billing = t.Agent(&root, "billing-resolver", 30, 1450);
  billing.Ok();
  t.Tool(&billing, "issue_refund", 60, 940, "call_rf_1",
         R"({"invoice_id":")" + sp.invoice + R"(","amount_cents":)" + amount + "}")
      .Str("tool.args.invoice_id", sp.invoice)
      .Int("tool.args.amount_cents", sp.amount_cents)
      .Str("gen_ai.tool.call.result", R"({"refund_id":"re_3PqL9x","status":"succeeded"})")
      .Str("approval.approved_by", "j.alvarez")
      .Int("agent.step", 5)
      .Ok();
  t.Chat(&billing, "gpt-4o-mini-2024-07-18", 960, 1430, 912, 41, 768, 0.00017,
         "[" + Msg("system", "Summarise the billing action for the orchestrator.") + "]",
         "[" + Msg("assistant", "Refund re_3PqL9x succeeded.") + "]", "stop");
  t.Chat(&root, "gpt-4o-2024-08-06", 1480, 2620, 2480, 61, 2048, 0.00359,
         "[" + Msg("system", kSystemPrompt) + "," + Msg("user", "Approved by supervisor j.alvarez") + "]",
         "[" + Msg("assistant", reply) + "]", "stop");
  for (auto& b : t.Batches(2)) batches->push_back(std::move(b));
  return {t.trace_id_hex(), sp.session, "invoke_agent support-orchestrator"};
}

ingest::ExportRequest Wrap(std::vector<otrace::Span> spans) {
  ingest::ExportRequest req;
  auto* rs = req.add_resource_spans();
  auto* res = rs->mutable_resource();
  auto attr = [&](const std::string& k, const std::string& v) {
    auto* kv = res->add_attributes();
    kv->set_key(k);
    kv->mutable_value()->set_string_value(v);
  };
  attr("service.name", "support-bot");
  attr("service.version", "1.14.2");
  attr("deployment.environment.name", "production");
  attr("telemetry.sdk.name", "opentelemetry");
  attr("telemetry.sdk.language", "python");
  attr("telemetry.sdk.version", "1.27.0");
  auto* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name("opentelemetry.instrumentation.openai_agents");
  ss->mutable_scope()->set_version("0.1.0");
  for (auto& s : spans) *ss->add_spans() = std::move(s);
  return req;
}

}  // namespace

DemoRun BuildDemoRun(const DemoOptions& options) {
  DemoRun run;
  std::mt19937_64 rng(options.seed);
  int sessions = std::max(1, options.sessions);
  static const char* kCustomers[] = {"Northwind Traders", "Globex", "Initech", "Umbrella Health", "Stark Logistics"};
  for (int i = 0; i < sessions; ++i) {
    SessionSpec sp;
    sp.session = i == 0 ? "ticket-9421" : "ticket-" + std::to_string(9421 + 17 * i);
    sp.user = i == 0 ? "user_92" : "user_" + std::to_string(92 + 31 * i);
    sp.customer = kCustomers[i % 5];
    sp.invoice = "INV-2026-" + std::to_string(3140 + 7 * i);
    sp.amount_cents = 4200 + 1375 * (i % 6);
    // Session i happened i minutes earlier; within one, turn 2 follows turn 1.
    int64_t end = options.now_ns - 500 * kMs - static_cast<int64_t>(i) * 60000 * kMs;
    int64_t turn2_start = end - 2650 * kMs;
    int64_t turn1_start = turn2_start - 4000 * kMs - 6240 * kMs;
    std::vector<std::vector<otrace::Span>> b1, b2;
    run.traces.push_back(BuildTurn1(&rng, turn1_start, sp, &b1));
    run.traces.push_back(BuildTurn2(&rng, turn2_start, sp, &b2));
    for (auto& b : b1) run.requests.push_back(Wrap(std::move(b)));
    for (auto& b : b2) run.requests.push_back(Wrap(std::move(b)));
  }
  return run;
}

}  // namespace sightline::ingest
