// Orders the spans of one trace for display as a tree: parents before their children,
// siblings by start_ns then span_id. Spans whose parent has not arrived (yet) become
// extra roots after the real root(s), marked parent_missing so the API can say so.
//
// Untrusted input: ids may repeat and parent links may form cycles. Every span is
// emitted exactly once, in O(n log n), without recursion (a chain of 100,000 spans
// does not overflow the stack). A span whose parent is itself or lies on a cycle is
// shown as a parent_missing root where the cycle is broken.
//
// Thread-safety: pure function.
#pragma once

#include <cstddef>
#include <vector>

#include "model/span.h"

namespace sightline::query {

struct TreeEntry {
  size_t index = 0;            // into the input vector
  int depth = 0;               // 0 for roots
  bool parent_missing = false; // a root only because its parent is absent (or a cycle)
};

// Returns one entry per input span, in tree order.
std::vector<TreeEntry> OrderTraceTree(const std::vector<model::Span>& spans);

}  // namespace sightline::query
