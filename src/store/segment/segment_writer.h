// SegmentBuilder: writes one segment file (format: segment_format.h) trace by trace,
// then makes it durable and visible in one step: temporary file, fdatasync, rename to
// its final name, fsync of the directory. Until Finish returns OK no file named *.seg
// exists for it, so a crash leaves at most a *.tmp file, which Open deletes.
//
// Thread-safety: one thread uses a builder. It reads span bytes and encoded aggregates
// handed to it; it touches no store state.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/env.h"
#include "store/trace_agg.h"

namespace sightline::store::segment {

struct WrittenTrace {
  TraceKey id;
  uint64_t offset = 0;
  uint32_t length = 0;
  uint64_t checksum = 0;
};

class SegmentBuilder {
 public:
  // dir: the segments directory; number: the segment's file number (its name);
  // covered_wal: the newest WAL file its data came from (footer field; it orders copies
  // of a span between files, and adopts pre-manifest directories).
  static Result<std::unique_ptr<SegmentBuilder>> Create(Env* env, const std::string& dir, uint64_t number,
                                                        uint64_t covered_wal);
  // As above with covered_wal = number (the pre-manifest naming).
  static Result<std::unique_ptr<SegmentBuilder>> Create(Env* env, const std::string& dir, uint64_t number) {
    return Create(env, dir, number, number);
  }
  ~SegmentBuilder();

  // Traces must come in ascending trace_id order, each once. spans: the serialized
  // Span messages; agg: the TraceAgg encoding of their partial aggregate.
  Status AddTrace(const TraceKey& id, const std::vector<std::string_view>& spans, std::string_view agg,
                  int64_t start_ns, int64_t end_ns);
  // Writes table and footer, syncs, renames into place, syncs the directory.
  Status Finish();
  // Removes the temporary file after a failure (best effort).
  void Abandon();

  const std::vector<WrittenTrace>& traces() const { return traces_; }
  const std::string& path() const { return path_; }
  uint64_t number() const { return number_; }
  uint64_t file_bytes() const { return offset_; }
  uint64_t span_count() const { return span_count_; }
  int64_t min_start_ns() const { return traces_.empty() ? 0 : min_start_; }
  int64_t max_end_ns() const { return traces_.empty() ? 0 : max_end_; }

 private:
  SegmentBuilder(Env* env, std::string dir, uint64_t number, uint64_t covered_wal, std::unique_ptr<WritableFile> f);
  Status FlushBuffer();

  Env* env_;
  std::string dir_, path_, tmp_path_;
  uint64_t number_;
  uint64_t covered_wal_;
  uint64_t span_count_ = 0;
  std::unique_ptr<WritableFile> file_;
  std::string buf_;    // pending bytes of the data section
  std::string table_;  // the trace table, written by Finish
  uint64_t offset_ = 0;  // file offset of the next byte appended
  int64_t min_start_ = std::numeric_limits<int64_t>::max();
  int64_t max_end_ = std::numeric_limits<int64_t>::min();
  std::vector<WrittenTrace> traces_;
  bool finished_ = false;
};

}  // namespace sightline::store::segment
