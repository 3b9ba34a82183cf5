// Segment I/O independent of the file format: the store's flush, compaction and
// salvage write segments through SegmentOutput, and Open/recovery reads them through
// OpenSegmentFile, which picks the reader from the version in the file's header.
//
// Formats: v1 row segments (src/store/segment/, one checksummed SpanBatch per trace)
// and v2 columnar segments (src/store/columnar/, docs/segment_format.md). New files are
// v2; v1 files keep reading and are rewritten as v2 when compaction merges them. A v2
// SegLoc is {rows: length = row_count, offset = first_row, checksum unused}; a length of
// 0 is, as in v1, a summary-only trace.
//
// A v2 file cannot hold a span whose span id is not 8 bytes (or whose parent id is
// neither empty nor 8 bytes): AddTrace then fails with needs_v1() set, and the caller
// writes the same data again as v1 (flush and compaction do), so such data still lands.
//
// Thread-safety: a SegmentOutput is used by one thread; the SegmentFiles it opens are
// shared and safe to read concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/env.h"
#include "common/status.h"
#include "store/columnar/columnar_format.h"
#include "store/columnar/payload_codec.h"
#include "store/segment/segment_file.h"

namespace sightline::store {

namespace columnar {
class ColumnarReader;
class TextMemo;
struct Row;
}

enum class SegmentFormat : uint32_t { kV1Rows = 1, kV2Columnar = 2 };

// The format new segment files are written in.
inline constexpr SegmentFormat kDefaultSegmentFormat = SegmentFormat::kV2Columnar;

// Opens a segment file of either format; on_entry sees every trace of its table.
// covered_wal: the manifest's value for the file (v2 files do not record it; v1 files
// do, and their own value wins).
Result<std::shared_ptr<SegmentFile>> OpenSegmentFile(Env* env, const std::string& path, uint64_t covered_wal,
                                                     const std::function<Status(const SegmentTraceEntry&)>& on_entry);

// The columnar reader behind a v2 SegmentFile, for column scans; null for v1 files.
std::shared_ptr<const columnar::ColumnarReader> ColumnarOf(const std::shared_ptr<SegmentFile>& file);

class SegmentOutput {
 public:
  struct Written {
    TraceKey id;
    SegLoc loc;  // segment field unset
  };

  // Writes dir/SegmentFileName(number) (through a temporary file).
  static Result<std::unique_ptr<SegmentOutput>> Create(Env* env, const std::string& dir, uint64_t number,
                                                       uint64_t covered_wal,
                                                       SegmentFormat format = kDefaultSegmentFormat,
                                                       int zstd_level = columnar::kZstdLevel);
  ~SegmentOutput();

  // Traces in strictly ascending id order. spans: serialized model::v1::Span messages,
  // oldest first; when a span id repeats, the v2 file keeps only its newest copy.
  // refs (v2 only; compaction): the spans' payloads by reference, in this file's pieces
  // (AddPayloadPiece), one per span, as columnar::ColumnarBuilder::AddTrace takes them.
  Status AddTrace(const TraceKey& id, const std::vector<std::string_view>& spans, std::string_view agg,
                  int64_t start_ns, int64_t end_ns, std::vector<columnar::SpanPayloadRefs>* refs = nullptr);
  // As AddTrace, for spans whose ids the caller knows to be distinct (a memtable holds a
  // span id once): no pass over them looks for repeats.
  Status AddDistinctTrace(const TraceKey& id, const std::vector<std::string_view>& spans, std::string_view agg,
                          int64_t start_ns, int64_t end_ns) {
    return AddTraceImpl(id, spans, agg, start_ns, end_ns, nullptr, true);
  }
  // v2 only (compaction): as AddTrace for the n spans already parsed at spans[0..n),
  // each taken (ColumnarBuilder::AddParsedTrace). Their span ids must be distinct: the
  // caller has kept the newest copy of each (this does not deduplicate again).
  Status AddParsedTrace(const TraceKey& id, model::Span* spans, size_t n, std::string_view agg, int64_t start_ns,
                        int64_t end_ns, std::vector<columnar::SpanPayloadRefs>* refs = nullptr);
  // v2 only (compaction): as AddParsedTrace for n spans read as rows
  // (ColumnarReader::ReadTraceRows), each taken (ColumnarBuilder::AddRowTrace).
  Status AddRowTrace(const TraceKey& id, columnar::Row* rows, size_t n, std::string_view agg, int64_t start_ns,
                     int64_t end_ns, std::vector<columnar::SpanPayloadRefs>* refs);
  // v2 only: stores a payload piece and returns its index (ColumnarBuilder::AddPayloadPiece).
  uint32_t AddPayloadPiece(std::string_view piece);
  // Makes the file durable and visible, then opens it.
  Result<std::shared_ptr<SegmentFile>> Finish();
  void Abandon();

  const std::string& path() const { return path_; }
  uint64_t number() const { return number_; }
  uint32_t format_version() const;
  uint64_t file_bytes() const;
  uint64_t span_count() const { return span_count_; }
  int64_t min_start_ns() const;
  int64_t max_end_ns() const;
  const std::vector<Written>& traces() const { return traces_; }
  // True after AddTrace refused a span that only a v1 file can hold.
  bool needs_v1() const { return needs_v1_; }

 private:
  struct Impl;
  SegmentOutput(Env* env, std::string dir, uint64_t number, uint64_t covered_wal);
  Status AddTraceImpl(const TraceKey& id, const std::vector<std::string_view>& spans, std::string_view agg,
                      int64_t start_ns, int64_t end_ns, std::vector<columnar::SpanPayloadRefs>* refs, bool distinct);
  // Records a trace the v2 builder took (s: its answer; InvalidArgument marks needs_v1).
  Status Added(const TraceKey& id, size_t n, Status s);

  Env* env_;
  std::string dir_, path_;
  uint64_t number_, covered_wal_;
  std::unique_ptr<Impl> impl_;
  std::vector<Written> traces_;
  uint64_t span_count_ = 0;
  bool needs_v1_ = false;
  std::vector<std::string_view> dedup_;  // v2: the spans of one trace after dedup
  std::vector<columnar::SpanPayloadRefs> dedup_refs_;  // and their payload references
};

}  // namespace sightline::store
