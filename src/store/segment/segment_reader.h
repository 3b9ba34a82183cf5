// SegmentReader: opens a segment file (segment_format.h) and serves reads of trace
// blocks. Open reads only the footer and the trace table (fast start-up: span data is
// never scanned), handing each table entry to a callback so the store can merge the
// partial aggregates into its index.
//
// Every read is checked: a bad magic, version, footer or table checksum, or a table
// entry pointing outside the data section, fails Open with Corruption naming the file;
// a block whose checksum does not match fails ReadBlock with Corruption naming the
// file and offset.
// It is the v1 implementation of SegmentFile (segment_file.h), the interface the
// store, compaction and retention use.
// Thread-safety: ReadBlock, ReadTrace and ListTraces may be called concurrently
// (pread underneath).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/env.h"
#include "store/segment/segment_file.h"
#include "store/trace_agg.h"

namespace sightline::store::segment {

struct TableEntry {
  TraceKey id;
  uint64_t offset = 0;
  uint32_t length = 0;
  uint32_t span_count = 0;
  uint64_t checksum = 0;
  std::string_view agg;  // encoded TraceAgg, valid during the callback
};

class SegmentReader final : public SegmentFile {
 public:
  static Result<std::unique_ptr<SegmentReader>> Open(Env* env, const std::string& path,
                                                     const std::function<Status(const TableEntry&)>& on_entry);

  // Reads and verifies one trace block (a serialized SpanBatch).
  Status ReadBlock(uint64_t offset, uint32_t length, uint64_t checksum, std::string* out) const;

  // SegmentFile.
  const std::string& path() const override { return path_; }
  uint64_t number() const override { return number_; }
  uint32_t format_version() const override { return kVersion; }
  uint64_t covered_wal() const override { return covered_wal_; }
  uint64_t trace_count() const override { return trace_count_; }
  uint64_t file_bytes() const override { return file_->Size(); }
  int64_t min_start_ns() const override { return min_start_; }
  int64_t max_end_ns() const override { return max_end_; }
  Status ReadTrace(const SegLoc& loc, std::deque<std::string>* storage,
                   std::vector<std::string_view>* spans) const override;
  Status ListTraces(const std::function<Status(const SegmentTraceEntry&)>& fn) const override;

 private:
  SegmentReader(std::string path, std::unique_ptr<RandomAccessFile> f) : path_(std::move(path)), file_(std::move(f)) {}

  static constexpr uint32_t kVersion = 1;
  // Reads and checks the trace table, calling on_entry per entry.
  Status ParseTable(const std::function<Status(const TableEntry&)>& on_entry) const;

  std::string path_;
  std::unique_ptr<RandomAccessFile> file_;
  uint64_t number_ = 0;
  uint64_t covered_wal_ = 0;
  int64_t min_start_ = 0, max_end_ = 0;
  uint64_t table_offset_ = 0, table_len_ = 0, table_checksum_ = 0;
  uint64_t trace_count_ = 0;
  uint64_t data_end_ = 0;
};

}  // namespace sightline::store::segment
