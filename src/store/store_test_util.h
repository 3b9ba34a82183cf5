// Helpers shared by the store's tests: span builders and a synchronous Append.
#pragma once

#include <condition_variable>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "model/span.h"
#include "store/span_store.h"

namespace sightline::store::testing {

inline std::string TraceId(uint64_t n) {
  std::string s(16, '\0');
  for (int i = 0; i < 8; ++i) s[15 - i] = static_cast<char>(n >> (8 * i));
  s[0] = 0x7a;
  return s;
}
inline std::string SpanId(uint64_t n) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[7 - i] = static_cast<char>(n >> (8 * i));
  s[0] |= 0x40;
  return s;
}

struct SpanSpec {
  uint64_t trace = 1, span = 1, parent = 0;  // parent 0: root
  std::string name = "step";
  model::SpanKind kind = model::v1::KIND_OTHER;
  model::SpanStatus status = model::v1::STATUS_UNSET;
  int64_t start = 1000, end = 2000;
  std::string project = "default";
};

inline model::Span MakeSpan(const SpanSpec& s) {
  model::Span sp;
  sp.set_trace_id(TraceId(s.trace));
  sp.set_span_id(SpanId(s.span));
  if (s.parent) sp.set_parent_span_id(SpanId(s.parent));
  sp.set_name(s.name);
  sp.set_kind(s.kind);
  sp.set_status(s.status);
  sp.set_start_ns(s.start);
  sp.set_end_ns(s.end);
  sp.set_project(s.project);
  return sp;
}

// Appends and waits for the callback; returns Append's status if it refused, else the
// callback's.
inline Status AppendSync(SpanStore* store, std::vector<model::Span> spans) {
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  Status result;
  Status s = store->Append(std::move(spans), [&](Status st) {
    std::lock_guard<std::mutex> l(m);
    result = std::move(st);
    done = true;
    cv.notify_all();
  });
  if (!s.ok()) return s;
  std::unique_lock<std::mutex> l(m);
  cv.wait(l, [&] { return done; });
  return result;
}

}  // namespace sightline::store::testing
