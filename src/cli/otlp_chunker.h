// Re-chunks OTLP requests of any size into requests of at most max_spans spans and
// about max_bytes bytes, keeping each span under its own resource and scope, so a
// big file imports in requests a server accepts (default ≤ 1000 spans, ≤ 4 MiB).
// Thread-safety: none; one thread feeds a chunker.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include "common/status.h"
#include "ingest/otlp_decode.h"

namespace sightline::cli {

class OtlpChunker {
 public:
  // emit receives each full request; an error from it stops the chunker and is
  // returned by Add/Flush.
  using Emit = std::function<Status(ingest::ExportRequest&&)>;
  OtlpChunker(size_t max_spans, size_t max_bytes, Emit emit);

  // Moves the spans of request into chunks (request is consumed).
  Status Add(ingest::ExportRequest* request);
  // Emits the partial chunk, if any.
  Status Flush();

  int64_t spans_added() const { return spans_added_; }

 private:
  size_t max_spans_, max_bytes_;
  Emit emit_;
  ingest::ExportRequest current_;
  size_t current_spans_ = 0, current_bytes_ = 0;
  int64_t spans_added_ = 0;
};

}  // namespace sightline::cli
