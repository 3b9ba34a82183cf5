// SegmentFile: the one small interface through which the store, the compactor and
// retention reach an immutable segment file, whatever its format (v1 row segments now,
// columnar v2 next). A file is opened once, listed in the manifest, shared by every
// query that reads it (shared_ptr), and deleted from disk only when it is obsolete
// (replaced by a compaction) and its last reader lets go.
//
// Invariants: the file never changes while open; SegLocs handed out by ListTraces
// stay valid for the life of the object.
// Thread-safety: every const method may be called concurrently; MarkObsolete once.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/env.h"
#include "store/trace_index.h"

namespace sightline::store {

// One trace of a segment file, as listed from its table. loc.segment is left 0 (the
// store assigns slots); a loc with length 0 is a summary-only entry (retention kept the
// aggregate and dropped the spans).
struct SegmentTraceEntry {
  TraceKey id;
  SegLoc loc;
  uint32_t span_count = 0;
  std::string_view agg;  // encoded partial TraceAgg, valid during the callback
};

class SegmentFile {
 public:
  virtual ~SegmentFile();

  virtual const std::string& path() const = 0;
  virtual uint64_t number() const = 0;          // from the file name
  virtual uint32_t format_version() const = 0;
  virtual uint64_t file_bytes() const = 0;
  virtual uint64_t trace_count() const = 0;
  // The newest WAL file whose records this file's data came from (ordering of copies:
  // the file with the higher value holds the newer copy of a span).
  virtual uint64_t covered_wal() const = 0;
  virtual int64_t min_start_ns() const = 0;
  virtual int64_t max_end_ns() const = 0;

  // Appends the serialized spans of the trace at loc to *spans, oldest first; the
  // bytes live in *storage (a deque: earlier strings never move). Corruption naming
  // the file when the bytes fail their checksum or do not parse.
  virtual Status ReadTrace(const SegLoc& loc, std::deque<std::string>* storage,
                           std::vector<std::string_view>* spans) const = 0;
  // Salvage of a damaged file (compaction::MergeHooks::salvage): appends the spans of
  // trace `id` at loc that can be rebuilt and sets *damage to what did not read
  // (Corruption naming the file; OK when the trace read whole). A v1 trace is one
  // checksummed block: damage loses its spans (this default). A v2 file loses only the
  // spans whose ids, times or project do not read, and rebuilds the others without the
  // fields a damaged column or payload frame held (ColumnarReader::SalvageTrace).
  // Non-OK only for errors that are not damage (I/O).
  virtual Status SalvageTrace(const SegLoc& loc, const TraceKey& id, std::deque<std::string>* storage,
                              std::vector<std::string_view>* spans, Status* damage) const {
    (void)id;
    const size_t before = spans->size();
    Status s = ReadTrace(loc, storage, spans);
    if (s.ok() || s.code() != StatusCode::kCorruption) return s;
    spans->resize(before);
    *damage = std::move(s);
    return Status::OK();
  }
  // Calls fn for every trace in ascending trace_id order (re-reads the table; used by
  // compaction and retention, never on the query path).
  virtual Status ListTraces(const std::function<Status(const SegmentTraceEntry&)>& fn) const = 0;

  // The file was replaced: remove it from disk when this object is destroyed (after
  // the last query holding it is done).
  void MarkObsolete(Env* env) {
    obsolete_env_ = env;
    obsolete_path_ = path();
  }

 private:
  Env* obsolete_env_ = nullptr;
  std::string obsolete_path_;
};

}  // namespace sightline::store
