// crash_verify: checks, through Sightline's API, that every span the load generator
// logged as acknowledged (--ack-log: "trace_id span_id" hex lines) is stored, and that
// no span appears twice in its trace, and that a span holding gen_ai.input.messages
// came back with its input. It fetches GET /api/v1/traces/{trace_id} for every
// acknowledged trace over a few keep-alive connections. Exit status: 0 all present and
// unique, 1 a loss, a duplicate or an API failure, 2 usage.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <CLI/CLI.hpp>
#include <rapidjson/document.h>

#include "http_conn.h"

namespace sightline::bench {
namespace {

struct TraceCheck {
  std::string trace_id;
  std::vector<std::string> acked;  // span ids, hex
};

struct Totals {
  int64_t traces = 0, acked_spans = 0, missing_spans = 0, duplicate_spans = 0, missing_traces = 0;
  int64_t api_errors = 0;
  // Spans whose gen_ai.input.messages attribute came back without the input made from
  // it: the store keeps that history once in its WAL records and puts the input back
  // together when it reads them (store/shared_payload.h).
  int64_t lost_inputs = 0;
  std::vector<std::string> examples;  // first few problems, for the report
};

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

void Note(Totals* t, std::mutex* mu, const std::string& what) {
  std::lock_guard<std::mutex> l(*mu);
  if (t->examples.size() < 10) t->examples.push_back(what);
}

// Checks one trace; fills local counters.
void CheckTrace(HttpConn* conn, const std::string& prefix, const TraceCheck& tc, Totals* t, std::mutex* mu) {
  HttpReply reply;
  std::string error;
  bool ok = false;
  for (int attempt = 0; attempt < 5 && !ok; ++attempt) {
    ok = conn->Exchange("GET", prefix + "/api/v1/traces/" + tc.trace_id, "", "", "", &reply, &error);
    if (ok && (reply.status == 429 || reply.status == 503)) {
      ok = false;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    } else if (!ok) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100 << attempt));
    }
  }
  ++t->traces;
  t->acked_spans += static_cast<int64_t>(tc.acked.size());
  if (!ok) {
    ++t->api_errors;
    Note(t, mu, "trace " + tc.trace_id + ": API unreachable: " + error);
    return;
  }
  if (reply.status == 404) {
    ++t->missing_traces;
    t->missing_spans += static_cast<int64_t>(tc.acked.size());
    Note(t, mu, "trace " + tc.trace_id + ": 404, all " + std::to_string(tc.acked.size()) + " acknowledged spans lost");
    return;
  }
  if (reply.status != 200) {
    ++t->api_errors;
    Note(t, mu, "trace " + tc.trace_id + ": HTTP " + std::to_string(reply.status) + " " + reply.body.substr(0, 200));
    return;
  }
  rapidjson::Document doc;
  doc.Parse(reply.body.data(), reply.body.size());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("spans") || !doc["spans"].IsArray()) {
    ++t->api_errors;
    Note(t, mu, "trace " + tc.trace_id + ": answer is not {spans:[...]}: " + reply.body.substr(0, 200));
    return;
  }
  std::unordered_map<std::string, int> seen;
  for (const auto& s : doc["spans"].GetArray()) {
    if (!s.IsObject()) continue;
    auto it = s.FindMember("span_id");
    if (it == s.MemberEnd()) it = s.FindMember("spanId");
    if (it == s.MemberEnd() || !it->value.IsString()) continue;
    ++seen[Lower(it->value.GetString())];
    auto attrs = s.FindMember("attributes");
    if (attrs == s.MemberEnd() || !attrs->value.IsObject() || !attrs->value.HasMember("gen_ai.input.messages")) continue;
    auto input = s.FindMember("input");
    if (input == s.MemberEnd() || input->value.IsNull() || (input->value.IsString() && input->value.GetStringLength() == 0)) {
      ++t->lost_inputs;
      Note(t, mu, "trace " + tc.trace_id + ": span " + it->value.GetString() +
                      " has gen_ai.input.messages but no input");
    }
  }
  for (const auto& [id, n] : seen)
    if (n > 1) {
      t->duplicate_spans += n - 1;
      Note(t, mu, "trace " + tc.trace_id + ": span " + id + " appears " + std::to_string(n) + " times");
    }
  for (const auto& id : tc.acked)
    if (!seen.count(id)) {
      ++t->missing_spans;
      Note(t, mu, "trace " + tc.trace_id + ": acknowledged span " + id + " missing");
    }
}

int Main(int argc, char** argv) {
  std::string url = "http://127.0.0.1:4318", ack_path;
  int connections = 4;
  bool json = false;
  CLI::App app{"crash_verify: every acknowledged span is stored once"};
  app.add_option("--url", url, "server base URL")->capture_default_str();
  app.add_option("--ack-log", ack_path, "the load generator's --ack-log file")->required();
  app.add_option("--connections", connections, "parallel API connections")->check(CLI::Range(1, 64));
  app.add_flag("--json", json, "print the summary as JSON");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  HttpUrl u;
  std::string error;
  if (!ParseHttpUrl(url, &u, &error)) {
    std::fprintf(stderr, "crash_verify: --url: %s\n", error.c_str());
    return 2;
  }
  const std::string prefix = u.target == "/" ? "" : u.target;
  std::ifstream in(ack_path);
  if (!in) {
    std::fprintf(stderr, "crash_verify: cannot read %s\n", ack_path.c_str());
    return 2;
  }
  // Group by trace, keeping first-seen order so the report is stable.
  std::vector<TraceCheck> traces;
  std::unordered_map<std::string, size_t> index;
  std::unordered_set<std::string> acked_pairs;
  std::string line;
  int64_t bad_lines = 0, repeated_acks = 0;
  while (std::getline(in, line)) {
    const size_t sp = line.find(' ');
    if (sp != 32 || line.size() != 49) {
      ++bad_lines;  // a torn last line cannot happen (the log is written by a live driver), but say so
      continue;
    }
    const std::string tid = Lower(line.substr(0, 32)), sid = Lower(line.substr(33));
    if (!acked_pairs.insert(tid + sid).second) {
      ++repeated_acks;
      continue;
    }
    auto [it, added] = index.emplace(tid, traces.size());
    if (added) traces.push_back({tid, {}});
    traces[it->second].acked.push_back(sid);
  }

  std::atomic<size_t> next{0};
  std::mutex mu;
  Totals total;
  std::vector<Totals> locals(static_cast<size_t>(connections));
  std::vector<std::thread> threads;
  for (int c = 0; c < connections; ++c) {
    threads.emplace_back([&, c] {
      HttpConn conn(u.host, u.port, std::chrono::seconds(30));
      for (size_t i; (i = next.fetch_add(1)) < traces.size();) CheckTrace(&conn, prefix, traces[i], &locals[c], &mu);
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& l : locals) {
    total.traces += l.traces;
    total.acked_spans += l.acked_spans;
    total.missing_spans += l.missing_spans;
    total.duplicate_spans += l.duplicate_spans;
    total.missing_traces += l.missing_traces;
    total.api_errors += l.api_errors;
    total.lost_inputs += l.lost_inputs;
    for (const auto& e : l.examples)
      if (total.examples.size() < 10) total.examples.push_back(e);
  }
  const bool pass = total.missing_spans == 0 && total.duplicate_spans == 0 && total.api_errors == 0 &&
                    total.lost_inputs == 0 && bad_lines == 0 && total.acked_spans > 0;
  if (json) {
    std::printf("{\"pass\":%s,\"traces\":%lld,\"acked_spans\":%lld,\"missing_spans\":%lld,\"missing_traces\":%lld,"
                "\"duplicate_spans\":%lld,\"lost_inputs\":%lld,\"api_errors\":%lld,\"bad_log_lines\":%lld}\n",
                pass ? "true" : "false", static_cast<long long>(total.traces),
                static_cast<long long>(total.acked_spans), static_cast<long long>(total.missing_spans),
                static_cast<long long>(total.missing_traces), static_cast<long long>(total.duplicate_spans),
                static_cast<long long>(total.lost_inputs), static_cast<long long>(total.api_errors),
                static_cast<long long>(bad_lines));
  } else {
    std::printf("crash_verify: %lld acknowledged spans in %lld traces: %lld missing (%lld whole traces), "
                "%lld duplicated, %lld inputs lost, %lld API errors, %lld bad log lines%s\n",
                static_cast<long long>(total.acked_spans), static_cast<long long>(total.traces),
                static_cast<long long>(total.missing_spans), static_cast<long long>(total.missing_traces),
                static_cast<long long>(total.duplicate_spans), static_cast<long long>(total.lost_inputs),
                static_cast<long long>(total.api_errors), static_cast<long long>(bad_lines),
                repeated_acks ? (" (" + std::to_string(repeated_acks) + " spans acknowledged twice)").c_str() : "");
    for (const auto& e : total.examples) std::printf("  %s\n", e.c_str());
    std::printf("crash_verify: %s\n", pass ? "PASS" : "FAIL");
  }
  return pass ? 0 : 1;
}

}  // namespace
}  // namespace sightline::bench

int main(int argc, char** argv) { return sightline::bench::Main(argc, argv); }
