// Query parameters picked from the workload (see query_params.h).
#include "baselines/query_params.h"

#include <algorithm>
#include <sstream>

#include "baselines/otlp_text.h"

namespace sightline::bench {

const char* QueryTitle(QueryId q) {
  switch (q) {
    case QueryId::kQ1: return "Q1 trace by id";
    case QueryId::kQ2: return "Q2 traces of a session";
    case QueryId::kQ3: return "Q3 p50/p95 duration per tool";
    case QueryId::kQ4: return "Q4 total cost per user";
    case QueryId::kQ5: return "Q5 error rate per tool per hour";
    case QueryId::kQ6: return "Q6 traces with attribute = value";
    case QueryId::kQ7: return "Q7 traces whose output has a phrase";
  }
  return "?";
}

std::string FormatParams(const QueryParams& p) {
  std::ostringstream o;
  o << "trace_id=" << p.trace_id << "\n"
    << "session_id=" << p.session_id << "\n"
    << "user_id=" << p.user_id << "\n"
    << "attr_key=" << p.attr_key << "\n"
    << "attr_value=" << p.attr_value << "\n"
    << "phrase=" << p.phrase << "\n"
    << "window_start_ns=" << p.window_start_ns << "\n"
    << "window_end_ns=" << p.window_end_ns << "\n"
    << "trace_spans=" << p.trace_spans << "\n"
    << "session_traces=" << p.session_traces << "\n"
    << "total_spans=" << p.total_spans << "\n";
  return o.str();
}

bool ParseParams(const std::string& text, QueryParams* out, std::string* error) {
  std::map<std::string, std::string> kv;
  std::istringstream in(text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    const size_t eq = line.find('=');
    if (eq == std::string::npos || eq == 0) {
      *error = "params line " + std::to_string(n) + ": expected key=value, got \"" + line + "\"";
      return false;
    }
    kv[line.substr(0, eq)] = line.substr(eq + 1);
  }
  for (const char* key : {"trace_id", "session_id", "user_id", "attr_key", "attr_value", "phrase", "window_start_ns",
                          "window_end_ns", "trace_spans", "session_traces", "total_spans"}) {
    if (!kv.count(key)) {
      *error = std::string("params: missing key ") + key;
      return false;
    }
  }
  auto num = [&](const char* key, int64_t* v) {
    try {
      size_t used = 0;
      *v = std::stoll(kv[key], &used);
      if (used != kv[key].size()) throw std::invalid_argument("trailing");
      return true;
    } catch (const std::exception&) {
      *error = std::string("params: ") + key + ": not an integer: \"" + kv[key] + "\"";
      return false;
    }
  };
  out->trace_id = kv["trace_id"];
  out->session_id = kv["session_id"];
  out->user_id = kv["user_id"];
  out->attr_key = kv["attr_key"];
  out->attr_value = kv["attr_value"];
  out->phrase = kv["phrase"];
  return num("window_start_ns", &out->window_start_ns) && num("window_end_ns", &out->window_end_ns) &&
         num("trace_spans", &out->trace_spans) && num("session_traces", &out->session_traces) &&
         num("total_spans", &out->total_spans);
}

namespace {

const std::string* StringAttr(const OtlpSpan& s, std::string_view key) {
  for (const auto& kv : s.attributes())
    if (kv.key() == key && kv.value().value_case() == AnyValue::kStringValue) return &kv.value().string_value();
  return nullptr;
}

// Three words from the middle of the first text part of an output-messages value.
std::string PhraseFrom(const std::string& messages) {
  const std::string marker = "\"content\":\"";
  const size_t at = messages.find(marker);
  if (at == std::string::npos) return "";
  const size_t from = at + marker.size();
  const size_t to = messages.find('"', from);
  std::istringstream words(messages.substr(from, to == std::string::npos ? std::string::npos : to - from));
  std::vector<std::string> w;
  for (std::string x; words >> x;) w.push_back(x);
  if (w.size() < 5) return "";
  return w[1] + " " + w[2] + " " + w[3];
}

}  // namespace

void ParamPicker::Observe(const ExportRequest& batch) {
  for (const auto& rs : batch.resource_spans()) {
    for (const auto& ss : rs.scope_spans()) {
      for (const auto& s : ss.spans()) {
        const int64_t index = seen_++;
        min_start_ = std::min<int64_t>(min_start_, static_cast<int64_t>(s.start_time_unix_nano()));
        max_end_ = std::max<int64_t>(max_end_, static_cast<int64_t>(s.end_time_unix_nano()));
        const int64_t spans_so_far = ++open_traces_[s.trace_id()];
        const std::string* session = StringAttr(s, "session.id");
        if (session) {
          SessionTrack& t = sessions_[*session];
          if (t.last_trace != s.trace_id()) {
            t.last_trace = s.trace_id();
            ++t.traces;
          }
        }
        if (picked_.attr_value.empty() && index >= midpoint_) {
          if (const std::string* e = StringAttr(s, picked_.attr_key)) picked_.attr_value = *e;
        }
        if (!s.parent_span_id().empty()) continue;
        // A root ends its trace: children end (and are emitted) before their parents.
        if (!have_trace_ && index >= midpoint_ && session) {
          have_trace_ = true;
          picked_.trace_id = HexId(s.trace_id());
          picked_.session_id = *session;
          if (const std::string* u = StringAttr(s, "user.id")) picked_.user_id = *u;
          picked_.trace_spans = spans_so_far;
          if (const std::string* out = StringAttr(s, "gen_ai.output.messages")) picked_.phrase = PhraseFrom(*out);
        }
        open_traces_.erase(s.trace_id());
      }
    }
  }
}

bool ParamPicker::Finish(QueryParams* out, std::string* error) {
  if (!have_trace_) {
    *error = "the workload (" + std::to_string(seen_) + " spans) has no complete trace after its midpoint";
    return false;
  }
  *out = picked_;
  out->session_traces = sessions_[picked_.session_id].traces;
  if (out->attr_value.empty()) out->attr_value = "TimeoutError";  // tiny workloads: no failure yet
  // Lean spans carry no outputs: a phrase outside the workload's vocabulary, found nowhere.
  if (out->phrase.empty()) out->phrase = "lunar eclipse tonight";
  out->window_start_ns = min_start_;
  out->window_end_ns = max_end_;
  out->total_spans = seen_;
  return true;
}

const std::vector<ModelPrice>& BaselinePrices() {
  // USD per million tokens (data/pricing.toml, current entries). OpenAI and Google count
  // cached tokens inside the input, so a cached token costs cache_read - input more;
  // Anthropic reports them apart.
  static const std::vector<ModelPrice> kPrices = {
      {"gpt-4o-2024-08-06", 2.50, 10.00, 1.25 - 2.50},
      {"claude-sonnet-4-20250514", 3.00, 15.00, 0.30},
      {"gpt-4o-mini-2024-07-18", 0.15, 0.60, 0.075 - 0.15},
      {"gemini-2.0-flash-001", 0.10, 0.40, 0.025 - 0.10},
  };
  return kPrices;
}

double BaselineCost(const std::string& model, int64_t input_tokens, int64_t output_tokens, int64_t cache_read) {
  for (const auto& p : BaselinePrices()) {
    if (model == p.model) {
      return (static_cast<double>(input_tokens) * p.input + static_cast<double>(output_tokens) * p.output +
              static_cast<double>(cache_read) * p.cache_read_delta) / 1e6;
    }
  }
  return 0;
}

}  // namespace sightline::bench
