#include "query/trace_tree.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace sightline::query {
namespace {

std::string Id(int n) { return std::string(7, '\0') + static_cast<char>(n); }

model::Span MakeSpan(int id, int parent, int64_t start) {
  model::Span s;
  s.set_trace_id(std::string(16, 'T'));
  s.set_span_id(Id(id));
  if (parent >= 0) s.set_parent_span_id(Id(parent));
  s.set_start_ns(start);
  s.set_name("s" + std::to_string(id));
  return s;
}

// Renders the order as "name:depth[!]" for compact expectations.
std::string Render(const std::vector<model::Span>& spans) {
  std::string out;
  for (const auto& e : OrderTraceTree(spans)) {
    if (!out.empty()) out += ' ';
    out += spans[e.index].name() + ":" + std::to_string(e.depth) + (e.parent_missing ? "!" : "");
  }
  return out;
}

TEST(TraceTreeTest, Cases) {
  struct Case {
    const char* what;
    std::vector<model::Span> spans;
    std::string want;
  };
  std::vector<Case> cases = {
      {"empty", {}, ""},
      {"parents before children, siblings by start",
       {MakeSpan(3, 1, 30), MakeSpan(2, 1, 20), MakeSpan(1, -1, 10), MakeSpan(4, 2, 25)},
       "s1:0 s2:1 s4:2 s3:1"},
      {"equal starts ordered by span id",
       {MakeSpan(9, 1, 20), MakeSpan(5, 1, 20), MakeSpan(1, -1, 10)},
       "s1:0 s5:1 s9:1"},
      {"missing parent becomes a marked root after the real root",
       {MakeSpan(7, 42, 5), MakeSpan(1, -1, 10), MakeSpan(8, 7, 6)},
       "s1:0 s7:0! s8:1"},
      {"self parent", {MakeSpan(1, 1, 10)}, "s1:0!"},
      {"two-span cycle is broken at the earliest span",
       {MakeSpan(2, 1, 20), MakeSpan(1, 2, 10), MakeSpan(3, -1, 30)},
       "s3:0 s1:0! s2:1"},
      {"two real roots", {MakeSpan(2, -1, 20), MakeSpan(1, -1, 10)}, "s1:0 s2:0"},
  };
  for (const auto& c : cases) EXPECT_EQ(Render(c.spans), c.want) << c.what;
}

TEST(TraceTreeTest, DuplicateIdsEachEmittedOnce) {
  std::vector<model::Span> spans = {MakeSpan(1, -1, 10), MakeSpan(2, 1, 20), MakeSpan(2, 1, 21), MakeSpan(3, 2, 30)};
  auto order = OrderTraceTree(spans);
  ASSERT_EQ(order.size(), spans.size());
  std::vector<int> seen(spans.size(), 0);
  for (const auto& e : order) seen[e.index]++;
  for (int s : seen) EXPECT_EQ(s, 1);
  // The child of the duplicated id hangs under the first holder of that id.
  EXPECT_EQ(Render(spans), "s1:0 s2:1 s3:2 s2:1");
}

TEST(TraceTreeTest, DeepChainDoesNotRecurse) {
  std::vector<model::Span> spans;
  const int n = 100000;
  for (int i = 0; i < n; ++i) {
    model::Span s;
    s.set_span_id(std::to_string(i + 1));
    if (i > 0) s.set_parent_span_id(std::to_string(i));
    s.set_start_ns(n - i);  // starts descending: order must still follow the tree
    spans.push_back(std::move(s));
  }
  auto order = OrderTraceTree(spans);
  ASSERT_EQ(order.size(), spans.size());
  for (int i = 0; i < n; ++i) {
    EXPECT_EQ(order[i].index, static_cast<size_t>(i));
    EXPECT_EQ(order[i].depth, i);
    if (order[i].index != static_cast<size_t>(i)) break;
  }
}

TEST(TraceTreeTest, LongCycleTerminates) {
  std::vector<model::Span> spans;
  for (int i = 0; i < 50; ++i) spans.push_back(MakeSpan(i, (i + 1) % 50, i));
  auto order = OrderTraceTree(spans);
  EXPECT_EQ(order.size(), 50u);
  EXPECT_TRUE(order[0].parent_missing);
  EXPECT_EQ(order[0].index, 0u);
}

}  // namespace
}  // namespace sightline::query
