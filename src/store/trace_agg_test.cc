#include "store/trace_agg.h"

#include <gtest/gtest.h>

#include "store/span_codec.h"
#include "store/store_test_util.h"

namespace sightline::store {
namespace {

using testing::MakeSpan;
using testing::SpanSpec;

// Facts of a parsed span, through the same path Append uses.
struct FactsHolder {
  EncodedBatch b;
  explicit FactsHolder(const model::Span& s) { EXPECT_TRUE(b.Encode({s}).ok()); }
  SpanFacts facts() const { return b.Facts(0); }
};

model::Span Span(SpanSpec spec, const std::string& agent = "", const std::string& session = "",
                 const std::string& model_name = "", int64_t in = 0, double cost = 0) {
  model::Span s = MakeSpan(spec);
  s.set_agent_name(agent);
  s.set_session_id(session);
  s.set_model(model_name);
  if (in) s.set_input_tokens(in);
  if (cost) s.set_cost_usd(cost);
  s.set_service("svc-" + spec.name);
  return s;
}

TEST(TraceAgg, ChildrenFirstRootLastSummaryRightAtEachStep) {
  StringPool pool;
  TraceAgg a;
  TraceKey key = TraceKey::FromBytes(testing::TraceId(1));
  // A tool call that failed, arriving first.
  a.AddSpan(FactsHolder(Span({.trace = 1, .span = 3, .parent = 2, .name = "search", .kind = model::v1::KIND_TOOL,
                              .status = model::v1::STATUS_ERROR, .start = 300, .end = 400}))
                .facts(),
            &pool);
  auto s = a.ToSummary(key, pool);
  EXPECT_EQ(s.status, model::v1::STATUS_ERROR);
  EXPECT_FALSE(s.has_root);
  EXPECT_EQ(s.root_name, "search");  // earliest span so far
  EXPECT_EQ(s.tool_calls, 1);
  EXPECT_EQ(s.error_count, 1);

  // An llm call that started earlier, with the session and tokens.
  a.AddSpan(FactsHolder(Span({.trace = 1, .span = 2, .parent = 1, .name = "chat", .kind = model::v1::KIND_LLM,
                              .status = model::v1::STATUS_OK, .start = 200, .end = 500},
                             "planner", "sess-1", "gpt-4o", 120, 0.5))
                .facts(),
            &pool);
  s = a.ToSummary(key, pool);
  EXPECT_EQ(s.root_name, "chat");
  EXPECT_EQ(s.service, "svc-chat");
  EXPECT_EQ(s.agent_name, "planner");
  EXPECT_EQ(s.session_id, "sess-1");
  EXPECT_EQ(s.status, model::v1::STATUS_ERROR);
  EXPECT_EQ(s.models, std::vector<std::string>{"gpt-4o"});
  EXPECT_EQ(s.input_tokens, 120);
  EXPECT_DOUBLE_EQ(s.cost_usd, 0.5);
  EXPECT_EQ(s.start_ns, 200);
  EXPECT_EQ(s.end_ns, 500);

  // The root arrives last with status ok: its status wins; its name and service too.
  a.AddSpan(FactsHolder(Span({.trace = 1, .span = 1, .name = "run", .kind = model::v1::KIND_AGENT,
                              .status = model::v1::STATUS_OK, .start = 100, .end = 900},
                             "", "sess-root"))
                .facts(),
            &pool);
  s = a.ToSummary(key, pool);
  EXPECT_TRUE(s.has_root);
  EXPECT_EQ(s.root_name, "run");
  EXPECT_EQ(s.service, "svc-run");
  EXPECT_EQ(s.agent_name, "planner");  // the root had none
  EXPECT_EQ(s.session_id, "sess-root");  // the root's is preferred
  EXPECT_EQ(s.status, model::v1::STATUS_OK);
  EXPECT_EQ(s.span_count, 3);
  EXPECT_EQ(s.llm_calls, 1);
  EXPECT_EQ(s.duration_ns, 800);
}

TEST(TraceAgg, StatusRules) {
  struct Case {
    std::vector<std::pair<bool, model::SpanStatus>> spans;  // (is_root, status)
    model::SpanStatus want;
  };
  using namespace model::v1;
  std::vector<Case> cases = {
      {{{false, STATUS_OK}}, STATUS_OK},
      {{{false, STATUS_UNSET}}, STATUS_OK},
      {{{false, STATUS_ERROR}, {false, STATUS_INTERRUPT}}, STATUS_INTERRUPT},
      {{{false, STATUS_ERROR}, {true, STATUS_UNSET}}, STATUS_ERROR},
      {{{false, STATUS_ERROR}, {true, STATUS_OK}}, STATUS_OK},
      {{{false, STATUS_OK}, {true, STATUS_INTERRUPT}}, STATUS_INTERRUPT},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    StringPool pool;
    TraceAgg a;
    uint64_t id = 2;
    for (auto [root, st] : cases[i].spans)
      a.AddSpan(FactsHolder(MakeSpan({.trace = 1, .span = id++, .parent = root ? 0u : 1u, .status = st})).facts(),
                &pool);
    EXPECT_EQ(a.Status(), cases[i].want) << "case " << i;
  }
}

TEST(TraceAgg, MergingPartialsEqualsAddingAllAndSurvivesEncoding) {
  std::vector<model::Span> spans;
  for (int i = 0; i < 20; ++i) {
    spans.push_back(Span({.trace = 1, .span = static_cast<uint64_t>(i + 1), .parent = i == 7 ? 0u : 8u,
                          .name = "n" + std::to_string(i % 5),
                          .kind = i % 3 == 0 ? model::v1::KIND_LLM : model::v1::KIND_TOOL,
                          .status = i == 4 ? model::v1::STATUS_ERROR : model::v1::STATUS_OK,
                          .start = 1000 - i * 10, .end = 2000 + i},
                         "agent" + std::to_string(i % 2), i > 3 ? "s" : "", "m" + std::to_string(i % 4), i, 0.25));
  }
  StringPool pool;
  TraceAgg whole, part1, part2, merged;
  for (size_t i = 0; i < spans.size(); ++i) {
    FactsHolder h(spans[i]);
    whole.AddSpan(h.facts(), &pool);
    (i < 9 ? part1 : part2).AddSpan(h.facts(), &pool);
  }
  // Partials go through a segment's encoding, into another pool.
  StringPool pool2;
  TraceAgg d1, d2;
  std::string e1, e2;
  part1.Encode(pool, &e1);
  part2.Encode(pool, &e2);
  ASSERT_TRUE(TraceAgg::Decode(e1, &pool2, &d1));
  ASSERT_TRUE(TraceAgg::Decode(e2, &pool2, &d2));
  merged.Merge(d1);
  merged.Merge(d2);
  TraceKey key = TraceKey::FromBytes(testing::TraceId(1));
  auto a = whole.ToSummary(key, pool), b = merged.ToSummary(key, pool2);
  EXPECT_EQ(a.root_name, b.root_name);
  EXPECT_EQ(a.service, b.service);
  EXPECT_EQ(a.agent_name, b.agent_name);
  EXPECT_EQ(a.session_id, b.session_id);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.span_count, b.span_count);
  EXPECT_EQ(a.error_count, b.error_count);
  EXPECT_EQ(a.llm_calls, b.llm_calls);
  EXPECT_EQ(a.tool_calls, b.tool_calls);
  EXPECT_EQ(a.input_tokens, b.input_tokens);
  EXPECT_DOUBLE_EQ(a.cost_usd, b.cost_usd);
  EXPECT_EQ(a.start_ns, b.start_ns);
  EXPECT_EQ(a.end_ns, b.end_ns);
  EXPECT_EQ(a.models, b.models);
  EXPECT_EQ(whole.kinds_mask, merged.kinds_mask);
  EXPECT_EQ(whole.names.size(), merged.names.size());

  // Malformed encodings are refused, never crash.
  for (size_t cut = 0; cut < e1.size(); ++cut) {
    TraceAgg x;
    EXPECT_FALSE(TraceAgg::Decode(std::string_view(e1).substr(0, cut), &pool2, &x));
  }
}

TEST(SpanCodec, AttributeTextRendering) {
  model::Span s = MakeSpan({});
  auto add = [&](const char* k) {
    auto* kv = s.add_attributes();
    kv->set_key(k);
    return kv->mutable_value();
  };
  add("str")->set_string_value("hello");
  add("int")->set_int_value(42);
  add("bool")->set_bool_value(true);
  add("dbl")->set_double_value(0.5);
  auto* r = s.add_resource();
  r->set_key("service.name");
  r->mutable_value()->set_string_value("api");
  EXPECT_TRUE(SpanHasAttr(s, "str", "hello"));
  EXPECT_TRUE(SpanHasAttr(s, "int", "42"));
  EXPECT_TRUE(SpanHasAttr(s, "bool", "true"));
  EXPECT_TRUE(SpanHasAttr(s, "dbl", "0.5"));
  EXPECT_TRUE(SpanHasAttr(s, "service.name", "api"));
  EXPECT_FALSE(SpanHasAttr(s, "int", "43"));
  EXPECT_FALSE(SpanHasAttr(s, "missing", ""));
  EXPECT_TRUE(ContainsIgnoreCase("The Quick Fox", "quick f"));
  EXPECT_FALSE(ContainsIgnoreCase("The Quick Fox", "slow"));
}

// CaseFoldFinder (Horspool over case-folded text) gives ContainsIgnoreCase's answers:
// random haystacks over a small alphabet (both cases, brackets, commas, spaces, bytes
// above 127) and needles cut from them, altered, or made up, of every length.
TEST(SpanCodec, CaseFoldFinderAnswersAsContainsIgnoreCase) {
  const std::string alphabet = "abAB[], \xc3\xa9Zz";
  uint64_t x = 88172645463325252ull;
  auto next = [&] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  auto text = [&](size_t n) {
    std::string s;
    for (size_t i = 0; i < n; ++i) s.push_back(alphabet[next() % alphabet.size()]);
    return s;
  };
  size_t found = 0, total = 0;
  for (int round = 0; round < 4000; ++round) {
    const std::string hay = text(next() % 300);
    std::string needle;
    switch (next() % 3) {
      case 0:
        if (!hay.empty()) {
          const size_t at = next() % hay.size();
          needle = hay.substr(at, 1 + next() % 40);
        }
        break;
      case 1: needle = text(1 + next() % 8); break;
      default: needle = text(1 + next() % 300); break;
    }
    if (next() % 4 == 0 && !needle.empty()) needle[next() % needle.size()] ^= 0x20;  // other case, or another byte
    const std::string lower = AsciiLower(needle);
    CaseFoldFinder f(lower);
    const bool want = ContainsIgnoreCase(hay, lower);
    EXPECT_EQ(f.In(hay), want) << "haystack '" << hay << "' needle '" << lower << "'";
    found += want;
    ++total;
  }
  EXPECT_GT(found, total / 5);
  EXPECT_LT(found, total * 4 / 5);
  EXPECT_TRUE(CaseFoldFinder("quick f").In("The Quick Fox"));
  EXPECT_FALSE(CaseFoldFinder("quick fix").In("The Quick Fox"));
  EXPECT_TRUE(CaseFoldFinder("").In(""));
  const std::string long_needle(300, 'a');
  EXPECT_TRUE(CaseFoldFinder(long_needle).In(std::string(400, 'A')));
  EXPECT_FALSE(CaseFoldFinder(long_needle).In(std::string(299, 'a')));
}

TEST(SpanCodec, EncodedBatchIsASerializedSpanBatch) {
  std::vector<model::Span> spans = {MakeSpan({.span = 1}), MakeSpan({.span = 2, .parent = 1, .name = "x"})};
  EncodedBatch b;
  ASSERT_TRUE(b.Encode(spans).ok());
  model::SpanBatch parsed;
  ASSERT_TRUE(parsed.ParseFromString(b.payload));
  ASSERT_EQ(parsed.spans_size(), 2);
  EXPECT_EQ(parsed.spans(1).name(), "x");
  model::Span one;
  ASSERT_TRUE(one.ParseFromString(std::string(b.SpanBytes(1))));
  EXPECT_EQ(one.span_id(), spans[1].span_id());

  model::Span bad = MakeSpan({});
  bad.set_trace_id("short");
  EncodedBatch b2;
  Status s = b2.Encode({bad});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("trace_id"), std::string::npos);
}

}  // namespace
}  // namespace sightline::store
