#include "query/trace_tree.h"

#include <algorithm>
#include <numeric>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace sightline::query {

std::vector<TreeEntry> OrderTraceTree(const std::vector<model::Span>& spans) {
  const size_t n = spans.size();
  // Sibling order, used for every list below: start_ns, span_id, then input position
  // (so duplicates have a stable order).
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const auto& x = spans[a];
    const auto& y = spans[b];
    if (x.start_ns() != y.start_ns()) return x.start_ns() < y.start_ns();
    if (x.span_id() != y.span_id()) return x.span_id() < y.span_id();
    return a < b;
  });

  // A parent id resolves to the first span (in sibling order) holding that id.
  std::unordered_map<std::string_view, size_t> by_id;
  by_id.reserve(n);
  for (size_t i : order) by_id.emplace(spans[i].span_id(), i);

  std::vector<std::vector<size_t>> children(n);
  std::vector<size_t> roots;
  std::vector<size_t> orphans;
  for (size_t i : order) {  // in sibling order, so each child list is sorted
    const auto& parent = spans[i].parent_span_id();
    if (parent.empty()) {
      roots.push_back(i);
      continue;
    }
    auto it = by_id.find(parent);
    if (it == by_id.end() || it->second == i) {
      orphans.push_back(i);
    } else {
      children[it->second].push_back(i);
    }
  }

  std::vector<TreeEntry> out;
  out.reserve(n);
  std::vector<char> visited(n, 0);
  std::vector<std::pair<size_t, int>> stack;
  auto walk = [&](size_t root, bool parent_missing) {
    if (visited[root]) return;
    stack.clear();
    stack.emplace_back(root, 0);
    bool first = true;
    while (!stack.empty()) {
      auto [i, depth] = stack.back();
      stack.pop_back();
      if (visited[i]) continue;  // reachable twice only through a cycle
      visited[i] = 1;
      out.push_back(TreeEntry{i, depth, first && parent_missing});
      first = false;
      const auto& kids = children[i];
      for (auto it = kids.rbegin(); it != kids.rend(); ++it)
        if (!visited[*it]) stack.emplace_back(*it, depth + 1);
    }
  };
  for (size_t r : roots) walk(r, false);
  for (size_t r : orphans) walk(r, true);
  // Whatever is left sits on a parent cycle (a -> b -> a): break each at its earliest
  // span.
  for (size_t i : order)
    if (!visited[i]) walk(i, true);
  return out;
}

}  // namespace sightline::query
