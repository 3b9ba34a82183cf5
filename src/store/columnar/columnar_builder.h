// ColumnarBuilder: writes one version-2 (columnar) segment file (columnar_format.h,
// docs/segment_format.md) trace by trace: spans become rows sorted by (trace id, start),
// rows fill blocks of up to kBlockTargetRows (fewer when their bytes or the payloads they
// name pass kBlockTargetBytes or kBlockTargetPayloadBytes; a trace is never split across
// blocks unless it is bigger than one), each block is written as one compressed chunk per
// column, and payloads go, deduplicated, to the payload section as frames fill.
// Finish writes the meta region (block index, payload index, trace table, bloom
// filters) and the tail, then makes the file durable and visible in one step:
// temporary file, fdatasync, rename, fsync of the directory. Until Finish returns OK no
// file with the final name exists, so a crash leaves at most "<name>.tmp".
//
// Memory: the open block's rows (payloads already moved out), the open payload frame,
// the piece hash table (~80 B per distinct piece) and the meta region being built.
// After an I/O error the builder refuses further calls with that error; Abandon (or the
// destructor) removes the temporary file.
// Thread-safety: one thread uses a builder; it touches no store state.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "common/env.h"
#include "store/columnar/block_codec.h"
#include "store/columnar/payload_codec.h"
#include "store/trace_agg.h"

namespace sightline::store::columnar {

// Where a trace landed: its rows are [first_row, first_row + row_count).
struct WrittenTrace {
  TraceKey id;
  uint32_t first_row = 0;
  uint32_t row_count = 0;
};

class ColumnarBuilder {
 public:
  // Writes dir/file_name (through dir/file_name.tmp).
  static Result<std::unique_ptr<ColumnarBuilder>> Create(Env* env, const std::string& dir,
                                                         const std::string& file_name, int zstd_level = kZstdLevel);
  ~ColumnarBuilder();
  ColumnarBuilder(const ColumnarBuilder&) = delete;
  ColumnarBuilder& operator=(const ColumnarBuilder&) = delete;

  // Traces in strictly ascending TraceKey order. spans: serialized model::v1::Span
  // messages of this trace (trace_id equal to id, span_id 8 bytes, parent 0 or 8);
  // agg: the encoded TraceAgg partial, stored opaque. InvalidArgument naming the trace
  // and span when a span does not parse or its ids are wrong (nothing of the trace is
  // added then).
  // refs (compaction, one per span; taken): the spans' payloads by reference, in this
  // file's pieces (AddPayloadPiece); the spans then hold none of their own
  // (ReadTraceRefs). Null: each span's payloads are split and stored here.
  Status AddTrace(const TraceKey& id, const std::vector<std::string_view>& spans, std::string_view agg,
                  int64_t start_ns, int64_t end_ns, std::vector<SpanPayloadRefs>* refs = nullptr);
  // As AddTrace, for the n spans already parsed at spans[0..n) (compaction, which parsed
  // them to merge): each is taken, swapped for a spare message of the builder's (whose
  // allocations the caller can reuse), so no span is serialized and parsed again.
  Status AddParsedTrace(const TraceKey& id, model::Span* spans, size_t n, std::string_view agg, int64_t start_ns,
                        int64_t end_ns, std::vector<SpanPayloadRefs>* refs = nullptr);
  // As AddParsedTrace, for n spans read as rows (ColumnarReader::ReadTraceRows, their
  // payload lists in *refs, already in this file's pieces): each row is taken, swapped
  // for a spare row of the builder's, and goes into a block as it is (no span is split).
  Status AddRowTrace(const TraceKey& id, Row* rows, size_t n, std::string_view agg, int64_t start_ns, int64_t end_ns,
                     std::vector<SpanPayloadRefs>* refs);
  // Stores one payload piece (deduplicated against every piece of the file) and returns
  // its index, for reference lists passed to AddTrace. A piece stored for a trace that
  // AddTrace then refuses stays in the file unreferenced.
  uint32_t AddPayloadPiece(std::string_view piece) { return payloads_.AddPiece(piece); }
  Status Finish();
  // Removes the temporary file after a failure (best effort); idempotent.
  void Abandon();

  const std::vector<WrittenTrace>& traces() const { return traces_; }
  const std::string& path() const { return path_; }
  uint64_t file_bytes() const { return offset_; }
  uint64_t row_count() const { return rows_written_ + block_n_; }
  int64_t min_start_ns() const { return traces_.empty() ? 0 : min_start_; }
  int64_t max_end_ns() const { return traces_.empty() ? 0 : max_end_; }
  uint32_t payload_piece_count() const { return payloads_.piece_count(); }
  uint32_t block_count() const { return block_count_; }

 private:
  ColumnarBuilder(Env* env, std::string dir, std::string path, std::unique_ptr<WritableFile> f);
  Status Append(std::string_view data);
  Status FlushBuffer();
  Status FlushBlock();
  Status DrainFrames();
  Status CheckTrace(const TraceKey& id, size_t spans, const std::vector<SpanPayloadRefs>* refs) const;
  // The rest of AddTrace once the trace's `count` spans are parsed into parsed_ (with
  // wire_ok_ and wire_ set for the spans walked unparsed) and their ids checked.
  Status AddSplitTrace(const TraceKey& id, const std::string& id_bytes, size_t count, std::string_view agg,
                       int64_t start_ns, int64_t end_ns, std::vector<SpanPayloadRefs>* refs);
  // The rest of both once the trace's `count` rows are in trace_rows_: sorts them and
  // adds them to blocks and the trace table.
  Status PlaceTrace(const TraceKey& id, const std::string& id_bytes, size_t count, std::string_view agg,
                    int64_t start_ns, int64_t end_ns);

  Env* env_;
  std::string dir_, path_, tmp_path_;
  std::unique_ptr<WritableFile> file_;
  std::string buf_;       // pending bytes not yet handed to the file
  uint64_t offset_ = 0;   // file offset of the next byte appended
  Status error_;          // sticky: the first I/O error
  bool finished_ = false;

  PayloadWriter payloads_;
  int zstd_level_ = kZstdLevel;
  // The open block's rows are block_[0..block_n_); rows past block_n_ are spare, kept
  // with their allocations for reuse (as are parsed_ and trace_rows_, the current
  // trace's scratch, and order_).
  std::vector<Row> block_;
  size_t block_n_ = 0;
  std::vector<model::Span> parsed_;
  std::vector<Row> trace_rows_;
  std::vector<uint32_t> order_;
  model::Span scope_scratch_;
  std::vector<WireParts> wire_;  // the current trace's spans' unparsed parts
  std::vector<uint8_t> wire_ok_;
  std::string checked_scope_;  // the last walked scope bytes that parsed
  size_t block_bytes_ = 0;
  size_t block_payload_ = 0;  // payload bytes the open block's rows name
  uint64_t rows_written_ = 0;  // rows in closed blocks
  uint32_t block_count_ = 0;
  uint32_t frame_count_ = 0;

  // Meta region parts, encoded as they are produced (docs/segment_format.md "Meta").
  std::string blocks_meta_, frames_meta_, traces_meta_;
  std::vector<WrittenTrace> traces_;
  std::vector<uint64_t> trace_hashes_;
  std::unordered_set<std::string> sessions_, users_;
  int64_t min_start_ = std::numeric_limits<int64_t>::max();
  int64_t max_end_ = std::numeric_limits<int64_t>::min();
};

}  // namespace sightline::store::columnar
