// A SpanStore that only takes writes, for tests and benchmarks of the ingest path: a
// subclass implements Append (and AppendSpans / AppendReceived when it wants them);
// every read answers Internal("not a readable store"), Stats is empty and Close is OK.
//
// Thread-safety: whatever the subclass gives its write methods.
#pragma once

#include <string>
#include <vector>

#include "store/span_store.h"

namespace sightline::store {

class WriteOnlyStore : public SpanStore {
 public:
  Result<TracePage> SearchTraces(const TraceQuery&) override { return Unreadable(); }
  Result<TraceDetail> GetTrace(const std::string&, const std::vector<std::string>&) override { return Unreadable(); }
  Result<model::Span> GetSpan(const std::string&, const std::string&, const std::vector<std::string>&) override {
    return Unreadable();
  }
  Result<SessionPage> SearchSessions(const SessionQuery&) override { return Unreadable(); }
  Result<SessionDetail> GetSession(const std::string&, const std::vector<std::string>&) override {
    return Unreadable();
  }
  StoreStats Stats() override { return {}; }
  Status Close() override { return Status::OK(); }

 private:
  static Status Unreadable() { return Status::Internal("not a readable store"); }
};

}  // namespace sightline::store
