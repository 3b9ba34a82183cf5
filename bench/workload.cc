// The agent workload generator (see workload.h for the shape it produces).
#include "workload.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace sightline::bench {

namespace trace = ::opentelemetry::proto::trace::v1;
namespace common = ::opentelemetry::proto::common::v1;

std::string_view VariantName(Variant v) { return v == Variant::kLean ? "lean" : "payload"; }

std::optional<Variant> ParseVariant(std::string_view name) {
  if (name == "lean") return Variant::kLean;
  if (name == "payload") return Variant::kPayload;
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------
// Randomness.

uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

Rng::Rng(uint64_t seed) {
  uint64_t x = seed;
  for (auto& s : s_) {
    x += 0x9e3779b97f4a7c15ULL;
    s = Mix64(x);
  }
}

uint64_t Rng::Next() {
  auto rotl = [](uint64_t v, int k) { return (v << k) | (v >> (64 - k)); };
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

uint64_t Rng::Below(uint64_t n) { return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64); }

int64_t Rng::Between(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(Below(static_cast<uint64_t>(hi - lo + 1))); }

bool Rng::Chance(double p) { return static_cast<double>(Next() >> 11) * 0x1.0p-53 < p; }

// ---------------------------------------------------------------------------------------
// Vocabulary.

namespace {

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kSec = 1'000 * kMs;

constexpr std::array<std::string_view, 96> kWords = {
    "the", "customer", "order", "refund", "shipping", "invoice", "account", "payment", "was",
    "charged", "twice", "for", "their", "subscription", "and", "wants", "to", "know", "why",
    "delivery", "late", "package", "tracking", "number", "shows", "in", "transit", "since",
    "last", "week", "policy", "allows", "returns", "within", "thirty", "days", "of", "purchase",
    "plan", "upgrade", "downgrade", "billing", "cycle", "credit", "card", "expired", "update",
    "address", "warehouse", "item", "damaged", "replacement", "approved", "pending", "manager",
    "review", "escalate", "ticket", "priority", "high", "low", "please", "confirm", "details",
    "we", "checked", "records", "found", "duplicate", "transaction", "reversed", "balance",
    "statement", "error", "timeout", "retry", "service", "api", "returned", "result", "search",
    "knowledge", "base", "article", "explains", "steps", "reset", "password", "login", "failed",
    "two", "factor", "code", "sent"};

struct Model {
  std::string_view provider, request, response;
};
constexpr std::array<Model, 4> kModels = {{
    {"openai", "gpt-4o", "gpt-4o-2024-08-06"},
    {"anthropic", "claude-sonnet-4", "claude-sonnet-4-20250514"},
    {"openai", "gpt-4o-mini", "gpt-4o-mini-2024-07-18"},
    {"gcp.gemini", "gemini-2.0-flash", "gemini-2.0-flash-001"},
}};

struct Service {
  std::string_view name, version, environment;
};
constexpr std::array<Service, 3> kServices = {{
    {"support-desk", "1.8.2", "production"},
    {"billing-assistant", "0.9.4", "production"},
    {"research-copilot", "2.1.0", "staging"},
}};

constexpr std::array<std::string_view, 5> kSubAgents = {"researcher", "billing", "triage", "writer",
                                                        "account-manager"};
constexpr std::array<std::string_view, 9> kTools = {"search_orders", "get_customer", "lookup_invoice",
                                                    "web_search", "run_sql", "send_email",
                                                    "create_ticket", "get_tracking", "read_file"};
constexpr std::array<std::string_view, 3> kErrorTypes = {"TimeoutError", "RateLimitError",
                                                         "ToolExecutionError"};

void AppendWords(Rng& rng, size_t bytes, std::string* out) {
  const size_t target = out->size() + bytes;
  while (out->size() < target) {
    if (!out->empty() && out->back() != '"') out->push_back(' ');
    out->append(kWords[rng.Below(kWords.size())]);
  }
}

std::string Words(Rng& rng, size_t bytes) {
  std::string s;
  s.reserve(bytes + 16);
  AppendWords(rng, bytes, &s);
  return s;
}

// A message with one text part, as the OTel GenAI conventions put it in
// gen_ai.input.messages: the text JSON-escaped (a tool message carries the retrieved
// documents' JSON as its text, and an SDK serializes it as a string).
std::string TextMessage(std::string_view role, const std::string& text) {
  std::string m = "{\"role\":\"";
  m.append(role).append("\",\"parts\":[{\"type\":\"text\",\"content\":\"");
  for (char c : text) {
    if (c == '"' || c == '\\') m.push_back('\\');
    m.push_back(c);  // the words and JSON here hold no control characters
  }
  m.append("\"}]}");
  return m;
}

std::string JoinArray(const std::vector<std::string>& a, const std::vector<std::string>* b = nullptr) {
  size_t n = 2;
  for (const auto& s : a) n += s.size() + 1;
  if (b) for (const auto& s : *b) n += s.size() + 1;
  std::string out;
  out.reserve(n);
  out.push_back('[');
  auto add = [&](const std::vector<std::string>& v) {
    for (const auto& s : v) {
      if (out.size() > 1) out.push_back(',');
      out.append(s);
    }
  };
  add(a);
  if (b) add(*b);
  out.push_back(']');
  return out;
}

void Attr(OtlpSpan* sp, std::string_view key, std::string_view value) {
  auto* kv = sp->add_attributes();
  kv->set_key(std::string(key));
  kv->mutable_value()->set_string_value(std::string(value));
}
void Attr(OtlpSpan* sp, std::string_view key, std::string&& value) {
  auto* kv = sp->add_attributes();
  kv->set_key(std::string(key));
  kv->mutable_value()->set_string_value(std::move(value));
}
void Attr(OtlpSpan* sp, std::string_view key, const char* value) { Attr(sp, key, std::string_view(value)); }
void AttrInt(OtlpSpan* sp, std::string_view key, int64_t value) {
  auto* kv = sp->add_attributes();
  kv->set_key(std::string(key));
  kv->mutable_value()->set_int_value(value);
}
void AttrStrArray(OtlpSpan* sp, std::string_view key, std::string_view value) {
  auto* kv = sp->add_attributes();
  kv->set_key(std::string(key));
  kv->mutable_value()->mutable_array_value()->add_values()->set_string_value(std::string(value));
}

std::string IdBytes(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8) s[i] = static_cast<char>(v & 0xff);
  return s;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Sessions and turns.

// One conversation in progress. history holds the messages every later turn re-sends
// (payload variant only); spans holds the current turn's spans not yet batched.
struct WorkloadGenerator::Session {
  uint64_t number = 0;
  std::string id, user;
  int service = 0;
  int model = 0;
  int turns = 0;
  int turn = 0;  // turns emitted so far
  int64_t clock_ns = 0;
  int64_t history_tokens = 0;
  std::string system_prompt;
  std::vector<std::string> history;
  std::deque<OtlpSpan> spans;
};

namespace {

// Builds one trace: allocates ids, keeps the time cursor, records spans as they end.
class TurnBuilder {
 public:
  TurnBuilder(WorkloadGenerator::Session* s, Rng* rng, bool payload, std::string trace_id,
              uint64_t* next_span, uint64_t span_salt)
      : s_(s), rng_(*rng), payload_(payload), trace_id_(std::move(trace_id)), next_span_(next_span),
        span_salt_(span_salt), cursor_(s->clock_ns) {}

  void Run();
  int64_t end_ns() const { return cursor_; }

 private:
  OtlpSpan Begin(std::string name, trace::Span::SpanKind kind, const OtlpSpan* parent,
                 std::string_view operation) {
    OtlpSpan sp;
    sp.set_trace_id(trace_id_);
    uint64_t id = Mix64(span_salt_ + (*next_span_)++);
    if (id == 0) id = 1;
    sp.set_span_id(IdBytes(id));
    if (parent) sp.set_parent_span_id(parent->span_id());
    sp.set_name(std::move(name));
    sp.set_kind(kind);
    sp.set_start_time_unix_nano(static_cast<uint64_t>(cursor_));
    Attr(&sp, "gen_ai.operation.name", operation);
    Attr(&sp, "session.id", s_->id);
    Attr(&sp, "user.id", s_->user);
    return sp;
  }
  void End(OtlpSpan&& sp) {
    sp.set_end_time_unix_nano(static_cast<uint64_t>(cursor_));
    s_->spans.push_back(std::move(sp));
  }

  // A model call. input: messages sent (payload); returns the assistant text.
  std::string Chat(const OtlpSpan& parent, std::string_view agent, int step,
                   const std::vector<std::string>* history, const std::vector<std::string>& turn_msgs,
                   size_t answer_bytes, std::string_view tool_call);
  void Tool(const OtlpSpan& parent, std::string_view agent, int step, std::string_view tool,
            const std::string& args, bool fail, bool interrupt, std::vector<std::string>* msgs);
  void Retrieval(const OtlpSpan& parent, std::string_view agent, std::vector<std::string>* msgs);
  // Returns false when the sub-agent was interrupted (the turn ends).
  bool SubAgent(const OtlpSpan& root, std::string_view name, bool may_interrupt, std::string* summary);
  std::string ToolArgs(std::string_view tool);

  WorkloadGenerator::Session* s_;
  Rng& rng_;
  bool payload_;
  std::string trace_id_;
  uint64_t* next_span_;
  uint64_t span_salt_;
  int64_t cursor_;
  int tool_calls_ = 0;
};

std::string TurnBuilder::ToolArgs(std::string_view tool) {
  std::string a = "{\"customer_id\":\"cus_";
  a.append(std::to_string(1000 + rng_.Below(9000))).append("\",\"order_id\":\"ORD-");
  a.append(std::to_string(10000 + rng_.Below(90000))).append("\",\"query\":\"");
  AppendWords(rng_, 40 + rng_.Below(120), &a);
  a.append("\",\"tool\":\"").append(tool).append("\"}");
  return a;
}

std::string TurnBuilder::Chat(const OtlpSpan& parent, std::string_view agent, int step,
                              const std::vector<std::string>* history,
                              const std::vector<std::string>& turn_msgs, size_t answer_bytes,
                              std::string_view tool_call) {
  const Model& m = kModels[(s_->model + (agent == "orchestrator" ? 0 : 2)) % kModels.size()];
  cursor_ += rng_.Between(1, 5) * kMs;
  OtlpSpan sp = Begin(std::string("chat ").append(m.request), trace::Span::SPAN_KIND_CLIENT, &parent, "chat");
  Attr(&sp, "gen_ai.provider.name", m.provider);
  Attr(&sp, "gen_ai.request.model", m.request);
  Attr(&sp, "gen_ai.response.model", m.response);
  Attr(&sp, "gen_ai.agent.name", agent);
  AttrInt(&sp, "agent.step", step);
  const int64_t in_tokens = 350 + (history ? s_->history_tokens : 0) + static_cast<int64_t>(rng_.Between(40, 900));
  const int64_t out_tokens = rng_.Between(20, 600);
  AttrInt(&sp, "gen_ai.usage.input_tokens", in_tokens);
  AttrInt(&sp, "gen_ai.usage.output_tokens", out_tokens);
  if (history && s_->turn > 0) AttrInt(&sp, "gen_ai.usage.cache_read.input_tokens", s_->history_tokens);
  AttrStrArray(&sp, "gen_ai.response.finish_reasons", tool_call.empty() ? "stop" : "tool_calls");
  std::string answer;
  if (payload_) {
    Attr(&sp, "gen_ai.system_instructions",
         std::string("[{\"type\":\"text\",\"content\":\"").append(s_->system_prompt).append("\"}]"));
    std::vector<std::string> none;
    Attr(&sp, "gen_ai.input.messages", JoinArray(history ? *history : none, &turn_msgs));
    answer = Words(rng_, answer_bytes);
    std::string out = "[{\"role\":\"assistant\",\"parts\":[{\"type\":\"text\",\"content\":\"";
    out.append(answer).append("\"}");
    if (!tool_call.empty()) {
      out.append(",{\"type\":\"tool_call\",\"id\":\"call_").append(std::to_string(tool_calls_));
      out.append("\",\"name\":\"").append(tool_call).append("\"}");
    }
    out.append("],\"finish_reason\":\"").append(tool_call.empty() ? "stop" : "tool_call").append("\"}]");
    Attr(&sp, "gen_ai.output.messages", std::move(out));
  }
  cursor_ += rng_.Between(350, 4200) * kMs;
  End(std::move(sp));
  return answer;
}

void TurnBuilder::Tool(const OtlpSpan& parent, std::string_view agent, int step, std::string_view tool,
                       const std::string& args, bool fail, bool interrupt, std::vector<std::string>* msgs) {
  cursor_ += rng_.Between(1, 3) * kMs;
  OtlpSpan sp = Begin(std::string("execute_tool ").append(tool), trace::Span::SPAN_KIND_INTERNAL, &parent,
                      "execute_tool");
  const std::string call_id = "call_" + std::to_string(++tool_calls_);
  Attr(&sp, "gen_ai.tool.name", tool);
  Attr(&sp, "gen_ai.tool.call.id", call_id);
  Attr(&sp, "gen_ai.agent.name", agent);
  AttrInt(&sp, "agent.step", step);
  if (payload_) Attr(&sp, "gen_ai.tool.call.arguments", args);
  cursor_ += rng_.Between(15, 900) * kMs;
  if (fail) {
    const std::string_view type = kErrorTypes[rng_.Below(kErrorTypes.size())];
    Attr(&sp, "error.type", type);
    sp.mutable_status()->set_code(trace::Status::STATUS_CODE_ERROR);
    sp.mutable_status()->set_message(std::string(tool).append(" failed: ").append(type));
    auto* ev = sp.add_events();
    ev->set_name("exception");
    ev->set_time_unix_nano(static_cast<uint64_t>(cursor_));
    auto add = [&](std::string_view k, std::string v) {
      auto* kv = ev->add_attributes();
      kv->set_key(std::string(k));
      kv->mutable_value()->set_string_value(std::move(v));
    };
    add("exception.type", std::string(type));
    add("exception.message", std::string("upstream ").append(tool).append(" did not answer in time"));
    if (payload_) {
      std::string st = "Traceback (most recent call last):\n";
      for (int i = 0; i < 6; ++i) {
        st.append("  File \"agents/tools/").append(tool).append(".py\", line ");
        st.append(std::to_string(20 + rng_.Below(400))).append(", in call\n");
      }
      st.append(type).append(": deadline exceeded");
      add("exception.stacktrace", std::move(st));
    }
  } else if (interrupt) {
    Attr(&sp, "status", "interrupt");
    Attr(&sp, "interrupt.reason", "approval_required");
  } else if (payload_) {
    std::string result = "{\"status\":\"ok\",\"items\":[";
    const int items = static_cast<int>(rng_.Between(1, 4));
    for (int i = 0; i < items; ++i) {
      if (i) result.push_back(',');
      result.append("{\"id\":\"").append(std::to_string(rng_.Below(1000000))).append("\",\"text\":\"");
      AppendWords(rng_, 60 + rng_.Below(500), &result);
      result.append("\"}");
    }
    result.append("]}");
    msgs->push_back(std::string("{\"role\":\"tool\",\"parts\":[{\"type\":\"tool_call_response\",\"id\":\"")
                        .append(call_id).append("\",\"response\":").append(result).append("}]}"));
    Attr(&sp, "gen_ai.tool.call.result", std::move(result));
  }
  End(std::move(sp));
}

void TurnBuilder::Retrieval(const OtlpSpan& parent, std::string_view agent, std::vector<std::string>* msgs) {
  cursor_ += rng_.Between(1, 3) * kMs;
  OtlpSpan sp = Begin("retrieval kb-support", trace::Span::SPAN_KIND_CLIENT, &parent, "retrieval");
  Attr(&sp, "gen_ai.data_source.id", "kb-support");
  Attr(&sp, "gen_ai.agent.name", agent);
  AttrInt(&sp, "retrieval.top_k", 4);
  if (payload_) {
    Attr(&sp, "input.value", Words(rng_, 30 + rng_.Below(80)));
    std::string docs = "[";
    const int n = static_cast<int>(rng_.Between(3, 5));
    for (int i = 0; i < n; ++i) {
      if (i) docs.push_back(',');
      docs.append("{\"id\":\"kb-").append(std::to_string(rng_.Below(5000))).append("\",\"score\":0.");
      docs.append(std::to_string(50 + rng_.Below(49))).append(",\"content\":\"");
      AppendWords(rng_, 250 + rng_.Below(500), &docs);
      docs.append("\"}");
    }
    docs.push_back(']');
    msgs->push_back(TextMessage("tool", docs.substr(0, 600)));
    Attr(&sp, "output.value", std::move(docs));
  }
  cursor_ += rng_.Between(40, 300) * kMs;
  End(std::move(sp));
}

bool TurnBuilder::SubAgent(const OtlpSpan& root, std::string_view name, bool may_interrupt, std::string* summary) {
  cursor_ += rng_.Between(1, 10) * kMs;
  OtlpSpan sp = Begin(std::string("invoke_agent ").append(name), trace::Span::SPAN_KIND_INTERNAL, &root,
                      "invoke_agent");
  Attr(&sp, "gen_ai.agent.name", name);
  Attr(&sp, "gen_ai.agent.id", std::string("agt_").append(name));
  std::vector<std::string> msgs;
  if (payload_) msgs.push_back(TextMessage("user", Words(rng_, 60 + rng_.Below(200))));
  const int steps = static_cast<int>(rng_.Between(1, 4));
  bool interrupted = false;
  int step = 0;
  for (int i = 0; i < steps && !interrupted; ++i) {
    ++step;
    const std::string_view tool = kTools[rng_.Below(kTools.size())];
    const bool retrieve = rng_.Chance(0.25);
    Chat(sp, name, step, nullptr, msgs, 40 + rng_.Below(200), retrieve ? "" : tool);
    if (retrieve) {
      Retrieval(sp, name, &msgs);
      if (!rng_.Chance(0.3)) continue;
    }
    const std::string args = payload_ ? ToolArgs(tool) : std::string();
    if (may_interrupt && i == steps - 1 && rng_.Chance(0.15)) {
      Tool(sp, name, step, "issue_refund", args, false, true, &msgs);
      interrupted = true;
      break;
    }
    if (rng_.Chance(0.05)) {  // a failing tool, then the retry
      Tool(sp, name, step, tool, args, true, false, &msgs);
      cursor_ += rng_.Between(200, 2000) * kMs;
    }
    Tool(sp, name, step, tool, args, false, false, &msgs);
    if (rng_.Chance(0.015)) {  // a loop: the same call over and over
      const int repeats = static_cast<int>(rng_.Between(8, 20));
      for (int r = 0; r < repeats; ++r) {
        ++step;
        Chat(sp, name, step, nullptr, msgs, 40, tool);
        Tool(sp, name, step, tool, args, false, false, &msgs);
      }
    }
  }
  if (interrupted) {
    Attr(&sp, "interrupt.reason", "approval_required");
  } else {
    *summary = Chat(sp, name, step + 1, nullptr, msgs, 150 + rng_.Below(450), "");
  }
  AttrInt(&sp, "agent.step", step);
  cursor_ += rng_.Between(1, 5) * kMs;
  End(std::move(sp));
  return !interrupted;
}

void TurnBuilder::Run() {
  OtlpSpan root = Begin("invoke_agent orchestrator", trace::Span::SPAN_KIND_SERVER, nullptr, "invoke_agent");
  Attr(&root, "gen_ai.agent.name", "orchestrator");
  Attr(&root, "gen_ai.agent.id", "agt_orchestrator");
  Attr(&root, "gen_ai.conversation.id", s_->id);
  AttrInt(&root, "agent.step", s_->turn + 1);
  std::vector<std::string> turn_msgs;
  std::string user_text;
  if (payload_) {
    user_text = Words(rng_, 80 + rng_.Below(320));
    turn_msgs.push_back(TextMessage("user", user_text));
    Attr(&root, "gen_ai.input.messages", JoinArray(turn_msgs));
  }
  Chat(root, "orchestrator", 1, &s_->history, turn_msgs, 100 + rng_.Below(300), "delegate");
  const int subs = static_cast<int>(rng_.Between(1, 3));
  const bool may_interrupt = rng_.Chance(0.2);
  bool interrupted = false;
  for (int i = 0; i < subs && !interrupted; ++i) {
    std::string summary;
    const std::string_view name = kSubAgents[(s_->service + i + rng_.Below(2)) % kSubAgents.size()];
    interrupted = !SubAgent(root, name, may_interrupt && i == subs - 1, &summary);
    if (payload_ && !interrupted) turn_msgs.push_back(TextMessage("tool", summary));
  }
  if (!interrupted) {
    const std::string answer = Chat(root, "orchestrator", 2, &s_->history, turn_msgs, 200 + rng_.Below(700), "");
    if (payload_) {
      turn_msgs.push_back(TextMessage("assistant", answer));
      Attr(&root, "gen_ai.output.messages", JoinArray({turn_msgs.back()}));
    }
  }
  root.mutable_status()->set_code(trace::Status::STATUS_CODE_OK);
  cursor_ += rng_.Between(1, 20) * kMs;
  End(std::move(root));
  // The session's memory: every later turn re-sends this turn's messages.
  for (auto& m : turn_msgs) {
    s_->history_tokens += static_cast<int64_t>(m.size() / 4);
    s_->history.push_back(std::move(m));
  }
  if (!payload_) s_->history_tokens += rng_.Between(150, 700);
}

}  // namespace

// ---------------------------------------------------------------------------------------
// The generator.

WorkloadGenerator::WorkloadGenerator(const WorkloadOptions& options)
    : options_(options), rng_(options.seed) {
  if (options_.batch_spans < 1) options_.batch_spans = 1;
  if (options_.concurrent_sessions < 1) options_.concurrent_sessions = 1;
  for (int i = 0; i < options_.concurrent_sessions; ++i) {
    active_.push_back(std::make_unique<Session>());
    StartSession(active_.back().get());
  }
}

WorkloadGenerator::~WorkloadGenerator() = default;

void WorkloadGenerator::StartSession(Session* s) {
  const uint64_t n = next_session_++;
  *s = Session();
  s->number = n;
  s->id = "ticket-" + std::to_string(1000 + n);
  s->user = "user-" + std::to_string(100 + rng_.Below(900));
  s->service = static_cast<int>(rng_.Below(kServices.size()));
  s->model = static_cast<int>(rng_.Below(kModels.size()));
  s->turns = static_cast<int>(rng_.Between(5, 50));
  s->clock_ns = options_.start_unix_ns + static_cast<int64_t>(n) * 4 * kSec + rng_.Between(0, 3000) * kMs;
  if (options_.variant == Variant::kPayload) s->system_prompt = Words(rng_, 400 + rng_.Below(400));
}

void WorkloadGenerator::EmitTurn(Session* s) {
  const uint64_t t = next_trace_++;
  const uint64_t hi = Mix64(t + Mix64(options_.seed ^ 0x7472616365ULL));
  const uint64_t lo = Mix64(hi ^ options_.seed);
  TurnBuilder b(s, &rng_, options_.variant == Variant::kPayload, IdBytes(hi) + IdBytes(lo), &next_span_,
                Mix64(options_.seed ^ 0x7370616eULL));
  const size_t before = s->spans.size();
  b.Run();
  spans_generated_ += static_cast<int64_t>(s->spans.size() - before);
  ++s->turn;
  s->clock_ns = b.end_ns() + rng_.Between(5, 90) * kSec;
}

bool WorkloadGenerator::NextBatch(ExportRequest* out) {
  out->Clear();
  const int64_t total = options_.total_spans;
  int64_t want = options_.batch_spans;
  if (total > 0) want = std::min<int64_t>(want, total - spans_emitted_);
  if (want <= 0) return false;
  std::array<trace::ScopeSpans*, kServices.size()> scopes{};
  for (int64_t got = 0; got < want;) {
    // Take a few spans from a random active session: traces interleave and split.
    Session* s = active_[rng_.Below(active_.size())].get();
    if (s->spans.empty()) {
      if (s->turn >= s->turns) StartSession(s);
      EmitTurn(s);
    }
    const int64_t take = std::min<int64_t>({want - got, static_cast<int64_t>(s->spans.size()), rng_.Between(1, 12)});
    trace::ScopeSpans*& scope = scopes[s->service];
    if (!scope) {
      auto* rs = out->add_resource_spans();
      const Service& svc = kServices[s->service];
      auto add = [&](std::string_view k, std::string_view v) {
        auto* kv = rs->mutable_resource()->add_attributes();
        kv->set_key(std::string(k));
        kv->mutable_value()->set_string_value(std::string(v));
      };
      add("service.name", svc.name);
      add("service.version", svc.version);
      add("deployment.environment.name", svc.environment);
      add("telemetry.sdk.name", "opentelemetry");
      add("telemetry.sdk.language", "python");
      scope = rs->add_scope_spans();
      scope->mutable_scope()->set_name("opentelemetry.instrumentation.openai_agents");
      scope->mutable_scope()->set_version("0.1.0");
    }
    for (int64_t i = 0; i < take; ++i) {
      scope->add_spans()->Swap(&s->spans.front());
      s->spans.pop_front();
    }
    got += take;
  }
  spans_emitted_ += want;
  return true;
}

}  // namespace sightline::bench
