// The redaction scan on one core (pipeline/redaction.h): realistic agent text (system
// prompts, user turns, tool-call JSON, tool results, code, error messages; a secret
// or a piece of personal data in about one string in 40), scanned string by string as
// ingest scans attribute values. Bytes/s is the throughput figure in `make bench`.
//
//   build/redaction_bench --benchmark_filter=BM_Redact
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "pipeline/redaction.h"

namespace {

using namespace sightline::pipeline::redaction;

const char* kProse[] = {
    "You are a helpful support agent for Acme Corp. Answer the customer's question using the tools "
    "available. Be concise, cite the order when relevant, and never reveal internal notes. If the customer "
    "asks for a refund, check the returns policy first and explain the timeline in plain words.",
    "Hi, my package hasn't arrived yet and the tracking page says it is stuck in Rotterdam since Tuesday. "
    "Can you check what is going on and whether I can get a refund or a replacement? It was a birthday present.",
    "The retrieval step returned 5 documents; the top one (score 0.91) is the returns policy, which allows a "
    "refund within 30 days of delivery. I'll draft an answer that explains the delay and offers to reship.",
    "Error: upstream request failed after 3 retries (HTTP 503, elapsed 2.41s). Falling back to the cached "
    "result from step 4; the planner will retry the search with a narrower query.",
};
const char* kJson[] = {
    R"([{"role":"user","parts":[{"type":"text","content":"Where is my order? It should have arrived on Monday."}]},)"
    R"({"role":"assistant","parts":[{"type":"tool_call","id":"call_8f3a2b","name":"lookup_order",)"
    R"("arguments":{"order_id":"ord_5521","include":["shipments","payments"],"limit":20}}]}])",
    R"({"status":"in_transit","carrier":"DHL","last_scan":"2026-11-28T14:05:00Z","items":[{"sku":"AC-1042",)"
    R"("qty":2,"price":19.99},{"sku":"AC-2210","qty":1,"price":149.0}],"total":188.98,"currency":"EUR"})",
    R"({"query":"returns policy damaged item","top_k":5,"filters":{"lang":"en","updated_after":"2025-01-01"}})",
};
const char* kCode[] = {
    "def handle(event):\n    results = search(index, event['query'], top_k=5)\n    for r in results:\n"
    "        if r.score > 0.82:\n            yield r.document\n    return None\n",
};
const char* kSecrets[] = {
    " Contact me at jane.roe@example.com or +1 415 555 0100.",
    " export OPENAI_API_KEY=sk-proj-Abc123Def456Ghi789Jkl012Mno345",
    " card 4111 1111 1111 1111 exp 12/29",
    R"( {"password":"hunter2","user":"admin"})",
    " Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    " aws AKIAIOSFODNN7EXAMPLE from 10.1.2.3",
    " IBAN DE89 3704 0044 0532 0130 00",
};

std::vector<std::string> Corpus() {
  std::mt19937 rng(42);
  std::vector<std::string> out;
  size_t bytes = 0;
  while (bytes < (8u << 20)) {
    std::string s;
    switch (rng() % 4) {
      case 0: s = kProse[rng() % std::size(kProse)]; break;
      case 1: s = kJson[rng() % std::size(kJson)]; break;
      case 2: s = kCode[rng() % std::size(kCode)]; break;
      default:  // a long prompt: several paragraphs
        for (int i = 0; i < 6; ++i) s += std::string(kProse[rng() % std::size(kProse)]) + "\n\n";
    }
    if (rng() % 40 == 0) s.insert(s.size() / 2, kSecrets[rng() % std::size(kSecrets)]);
    bytes += s.size();
    out.push_back(std::move(s));
  }
  return out;
}

std::shared_ptr<const Policy> Compile(const std::string& toml) {
  auto spec = ParsePolicy(toml, "bench");
  if (!spec.ok()) std::abort();
  auto p = Policy::Compile(*spec, std::string(32, 'k'), "bench");
  if (!p.ok()) std::abort();
  return *p;
}

void Run(benchmark::State& state, const std::string& toml) {
  const std::vector<std::string> corpus = Corpus();
  std::vector<std::string> work = corpus;
  auto policy = Compile(toml);
  const ProjectPolicy& p = policy->For("bench");
  const std::string key = p.HmacKeyFor("bench");
  size_t bytes = 0;
  for (const auto& s : corpus) bytes += s.size();
  int64_t changed = 0;
  for (auto _ : state) {
    Counts counts;
    for (size_t i = 0; i < work.size(); ++i) {
      if (p.RedactText(&work[i], key, &counts) != ProjectPolicy::Outcome::kUnchanged) {
        ++changed;
        work[i] = corpus[i];  // the next iteration scans the same text
      }
    }
    benchmark::DoNotOptimize(counts);
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes) * state.iterations());
  state.counters["strings"] = static_cast<double>(corpus.size());
  state.counters["redacted_per_pass"] =
      static_cast<double>(changed) / static_cast<double>(std::max<int64_t>(1, state.iterations()));
}

// What a server with no policy file runs: the credential detectors.
void BM_Redact_Builtin(benchmark::State& state) { Run(state, ""); }
BENCHMARK(BM_Redact_Builtin)->Unit(benchmark::kMillisecond)->MinTime(2);

// Every detector on (credentials and personal data), as a strict policy would.
void BM_Redact_AllDetectors(benchmark::State& state) {
  Run(state,
      "[detectors]\nemail = \"hash\"\nphone = \"mask\"\ncard = \"mask\"\niban = \"mask\"\nus_ssn = \"mask\"\n"
      "ipv4 = \"mask\"\nipv6 = \"mask\"\n");
}
BENCHMARK(BM_Redact_AllDetectors)->Unit(benchmark::kMillisecond)->MinTime(2);

}  // namespace

BENCHMARK_MAIN();
