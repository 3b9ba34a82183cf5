// ColumnarReader: opens a version-2 (columnar) segment file (columnar_format.h,
// docs/segment_format.md) and serves trace reads and column scans.
//
// Open reads the header, the tail and the meta region (one read: block index, payload
// frame index, trace table, bloom filters) and never span data; each trace table entry
// goes to a callback so the store can merge the partial aggregates into its index.
// ReadTrace rebuilds a trace's spans from the block(s) holding its rows (one read per
// block) and the payload frames its rows name. Scan visits the blocks a BlockFilter
// cannot exclude and decodes only the columns asked for.
//
// Every read is verified: bad magic, version, tail, meta or chunk checksums, lengths or
// offsets outside the file, or chunks that do not decode give Corruption naming the
// file (and block, column or frame); nothing here asserts on file contents.
// Thread-safety: after Open the reader is immutable (but for salvage's one-block cache,
// under its mutex); every method may run concurrently (reads are preads through
// RandomAccessFile).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/env.h"
#include "store/columnar/columnar_format.h"
#include "store/columnar/payload_codec.h"
#include "store/columnar/span_columns.h"
#include "store/span_codec.h"
#include "store/trace_agg.h"

namespace sightline::store::columnar {

namespace internal {
struct DecodedBlock;   // columnar_reader_read.cc
struct SalvagedBlock;  // columnar_reader_read.cc
struct RefColumns;     // columnar_reader_internal.h
}

struct Row;  // block_codec.h

struct TraceEntry {
  TraceKey id;
  uint32_t first_row = 0, row_count = 0;
  std::string_view agg;  // encoded TraceAgg partial; valid during the callback only
  int64_t start_ns = 0, end_ns = 0;
};

// Which blocks a scan may skip. Every set condition must be possible for a block to be
// visited; rows inside a visited block are NOT filtered (the consumer filters rows).
struct BlockFilter {
  // Spans whose [start_ns, end_ns] overlaps [from_ns, to_ns].
  std::optional<int64_t> from_ns, to_ns;
  std::optional<TraceKey> trace_id;
  std::optional<std::string> session_id, user_id;
};

// What a trace search asks of each row (ColumnarReader::MatchRows). Attribute i
// (key = value, on the span's own attributes or its resource's, compared as
// store::SpanHasAttr compares them) sets bit i of a row's answer; text_lower, when not
// empty, sets kTextBit when input_json or output_json contains it ignoring ASCII case
// (store::ContainsIgnoreCase: other bytes compare exactly).
struct RowMatchSpec {
  static constexpr uint32_t kTextBit = 1u << 31;
  static constexpr size_t kMaxAttrs = 30;  // bits 0..29; bit 30 is left to callers
  std::vector<std::pair<std::string, std::string>> attrs;
  std::string text_lower;
};

class ColumnarReader;

// What a text search learned about one file's payload pieces, kept for one query across
// its MatchRows calls (work units, batches), so each payload frame is decompressed and
// its pieces searched once per query, not once per unit that names them
// (ColumnarReader::NewTextMemo). Holds per piece whether it contains the needle and,
// when a match could cross the joins of an array value (the needle holds '[', ']', ','
// or starts with a space: the only bytes a join adds), its edge bytes.
// Thread-safety: MatchRows calls on several threads may share one memo; a frame is
// claimed by one of them and the others wait for its answers.
class TextMemo {
 public:
  TextMemo(const TextMemo&) = delete;
  TextMemo& operator=(const TextMemo&) = delete;
  // Frames decompressed for this memo (tests, profiling).
  uint64_t frames_loaded() const { return frames_loaded_.load(); }

 private:
  friend class ColumnarReader;
  TextMemo(std::string needle_lower, size_t frames, size_t pieces);
  enum : uint8_t { kUnsearched = 0, kBusy = 1, kDone = 2, kUnreadable = 3 };
  CaseFoldFinder finder_;
  bool joins_;  // whether a match may cross a join (then edges_ are kept)
  std::unique_ptr<std::atomic<uint8_t>[]> frame_state_;
  std::vector<uint8_t> contains_;  // per piece; valid once its frame is kDone
  std::vector<std::string> edges_;  // per piece (joins_ only): whole, or first k then last k bytes
  std::atomic<uint64_t> frames_loaded_{0};
};

// Rows [first_row, first_row + row_count) of a file (one trace's rows, a v2 SegLoc).
struct RowRange {
  uint32_t first_row = 0, row_count = 0;
};

// Per-block statistics from the block index (tests, planners, compaction).
struct BlockStats {
  uint32_t first_row = 0, row_count = 0;
  int64_t min_start_ns = 0, max_start_ns = 0, min_end_ns = 0, max_end_ns = 0;
  TraceKey min_trace, max_trace;
  uint64_t stored_bytes = 0;  // bytes of the block's chunks
  // Null (empty / absent) count of a column id; rows when the column was not written.
  std::vector<uint32_t> null_counts;  // indexed by ColumnId, kColMax entries
};

class ColumnarReader {
 public:
  static Result<std::shared_ptr<ColumnarReader>> Open(Env* env, const std::string& path,
                                                      const std::function<Status(const TraceEntry&)>& on_entry);
  ~ColumnarReader();

  // Appends the trace's spans (rows [first_row, first_row + row_count)), each a
  // serialized model::v1::Span, to *spans, in (start_ns, span_id) order.
  Status ReadTrace(uint32_t first_row, uint32_t row_count, std::vector<std::string>* spans) const;
  // Compaction's read by reference: as ReadTrace, but the payload values stay pieces of
  // this file. Each span's input_json and output_json are left unset and its large
  // attribute values are empty strings; their reference lists (this file's piece
  // indexes) are appended to *refs, one entry per span. No payload frame is read.
  // The spans are given parsed (compaction merges them as messages and hands them to
  // ColumnarBuilder::AddParsedTrace: none is serialized and parsed again), into
  // (*spans)[*used...], each cleared first so its allocations are reused (the vector
  // grows when needed); *used is advanced past them.
  Status ReadTraceRefs(uint32_t first_row, uint32_t row_count, std::vector<model::Span>* spans, size_t* used,
                       std::vector<SpanPayloadRefs>* refs) const;
  // Compaction's read of whole rows: as ReadTraceRefs, but each span is given as the
  // builder's Row (block_codec.h) straight from the decoded columns: its column fields,
  // attribute cells (a large one empty, its list in *refs), scope and rest bytes as
  // stored, with no message built; ColumnarBuilder::AddRowTrace takes them. Rows go into
  // (*rows)[*used...] (their allocations reused; the vector grows when needed).
  Status ReadTraceRows(uint32_t first_row, uint32_t row_count, std::vector<Row>* rows, size_t* used,
                       std::vector<SpanPayloadRefs>* refs) const;
  uint32_t piece_count() const { return static_cast<uint32_t>(piece_frame_.size()); }

  // Payload pieces by index, for a reader of the whole file (compaction): frames are
  // read and decompressed as needed and the last few kept (a file's pieces are numbered
  // in the order its traces first used them, and compaction reads traces in that order).
  // Not cached process-wide. One thread uses a fetcher.
  class PieceFetcher {
   public:
    explicit PieceFetcher(const ColumnarReader* reader) : reader_(reader) {}
    // Piece p's bytes, valid until the next Get. Corruption naming the file when p is
    // out of range or its frame does not read.
    Status Get(uint32_t p, std::string_view* out);

   private:
    struct Slot {
      uint32_t frame = UINT32_MAX;
      uint64_t used = 0;
      std::string raw;
    };
    const ColumnarReader* reader_;
    Slot slots_[4];
    uint64_t tick_ = 0;
  };

  // Salvage of a damaged file (compaction with MergeHooks::salvage): appends the spans of
  // trace `id` (rows [first_row, first_row + row_count)) that can be rebuilt, as
  // ReadTrace would, reading each column chunk and payload frame on its own so damage
  // costs only what it touches. A span is lost when its span id, parent id, start or
  // end time, or project does not read (the trace id comes from the trace table when its
  // column does not); any other damaged column or payload frame leaves the fields it
  // held unset, and the span carries the attribute kSalvageLostAttribute listing those
  // columns (comma-separated column names, as in docs/segment_format.md), so a rebuilt
  // span never passes for the one that was written. report->damage is the first damage
  // (Corruption naming the file, block and column or frame), OK when the trace read
  // whole. Non-OK only for errors that are not damage (I/O, a range outside the file).
  struct SalvageReport {
    Status damage;
    uint32_t spans_lost = 0;     // rows that could not be rebuilt
    uint32_t spans_partial = 0;  // rows rebuilt without some fields
  };
  static constexpr char kSalvageLostAttribute[] = "sightline.salvage.lost";
  Status SalvageTrace(const TraceKey& id, uint32_t first_row, uint32_t row_count, std::vector<std::string>* spans,
                      SalvageReport* report) const;

  // Calls fn once per block the filter cannot exclude, in row order, with the block's
  // rows decoded for the columns in column_mask (a Column bit set) and the block's
  // first row. fn's non-OK status stops the scan and is returned.
  // on_corrupt_block, when given, is told of each block that fails its checksums or
  // does not decode, and the scan goes on without that block's rows; without it such a
  // block stops the scan with Corruption naming the file and block.
  Status Scan(uint64_t column_mask, const BlockFilter& filter,
              const std::function<Status(const SpanColumns&, uint32_t first_row)>& fn,
              const std::function<void(const Status&)>& on_corrupt_block = nullptr) const;

  // For each range (ascending first_row, none overlapping), ORs into (*bits)[i] the
  // RowMatchSpec bits of its rows (bits has ranges.size() entries). Reads only the blocks
  // holding the ranges, and of those only the attribute, scope and input/output columns
  // the spec needs; payload pieces are decompressed and searched once each, not once
  // per row that names them (columnar_reader_match.cc). A range any of whose blocks
  // cannot be read or decoded gets (*unreadable)[i] = 1 and its bits are not to be
  // trusted: the caller decides through another path (a trace read), which reports the
  // damage.
  // memo (from this reader's NewTextMemo(spec.text_lower)), when given, carries the
  // searched pieces from call to call; without it each call searches afresh.
  Status MatchRows(const RowMatchSpec& spec, const std::vector<RowRange>& ranges, std::vector<uint32_t>* bits,
                   std::vector<uint8_t>* unreadable, TextMemo* memo = nullptr) const;
  std::shared_ptr<TextMemo> NewTextMemo(const std::string& needle_lower) const;

  // For each range (ascending first_row, none overlapping), sets (*ids)[i] to its rows'
  // span ids (8 raw bytes memcpy'd into a uint64, as SpanColumns::span_id), reading only
  // the span_id column of the blocks holding them. Corruption naming the file and block
  // when one does not read.
  Status SpanIdsOf(const std::vector<RowRange>& ranges, std::vector<std::vector<uint64_t>>* ids) const;

  // Decoded blocks are kept in one process-wide LRU cache, so reading several traces of
  // one block (a search that tests candidate traces one by one, a user opening the
  // traces of one time range) decompresses and decodes the block once. The cache holds
  // at most `bytes` (estimated) of decoded blocks; 0 turns it off. Default 256 MiB.
  static void SetBlockCacheBytes(size_t bytes);
  // Decompressed payload frames share the cache and its limit (a trace read, and the
  // single-span read that usually follows it, decompress each frame once).
  struct BlockCacheStats {
    uint64_t hits = 0, misses = 0, bytes = 0, blocks = 0, capacity = 0;
    uint64_t frame_hits = 0, frame_misses = 0, frames = 0;
    uint64_t block_decodes = 0;  // whole blocks decoded by any reader, cached or not
  };
  static BlockCacheStats GetBlockCacheStats();
  // While one lives, reads on this thread use what the cache holds but add nothing to
  // it: compaction reads every block and frame of files it is about to replace, which
  // would push out what queries use.
  class NoCacheFill {
   public:
    NoCacheFill();
    ~NoCacheFill();
    NoCacheFill(const NoCacheFill&) = delete;
    NoCacheFill& operator=(const NoCacheFill&) = delete;

   private:
    bool before_;
  };

  // Segment-level membership (bloom filters: no false negatives, ~1% false positives).
  bool MayContainTrace(const TraceKey& id) const;
  bool MayContainSession(std::string_view session_id) const;
  bool MayContainUser(std::string_view user_id) const;

  int64_t min_start_ns() const { return min_start_ns_; }
  int64_t max_end_ns() const { return max_end_ns_; }
  uint64_t span_count() const { return row_count_; }
  uint64_t trace_count() const { return trace_count_; }
  uint64_t file_bytes() const { return file_bytes_; }
  const std::string& path() const { return path_; }
  uint32_t format_version() const { return kFormatVersion; }
  uint32_t block_count() const { return static_cast<uint32_t>(blocks_.size()); }
  // Statistics of block b (< block_count()).
  BlockStats block_stats(uint32_t b) const;
  uint32_t payload_piece_count() const { return static_cast<uint32_t>(piece_frame_.size()); }
  uint64_t payload_stored_bytes() const;
  // The file's regions ("header", "block 0 column 'name'", "payload frame 3", "meta",
  // "tail") with their byte ranges: for tests, fuzz seeds and size reports.
  struct Region {
    std::string what;
    uint64_t offset = 0, length = 0;
  };
  std::vector<Region> regions() const;

  // One chunk of the chunk directory; offsets are absolute and checked against the file.
  struct Chunk {
    uint8_t id = 0;
    uint8_t codec = 0;
    uint32_t null_count = 0;
    uint64_t offset = 0, stored_len = 0, raw_len = 0, checksum = 0;
  };
  struct Block {
    uint32_t first_row = 0, row_count = 0;
    int64_t min_start = 0, max_start = 0, min_end = 0, max_end = 0;
    TraceKey min_trace, max_trace;
    std::string min_session, max_session, min_user, max_user;
    std::vector<Chunk> chunks;  // ascending column id
    int16_t chunk_of[kColMax];  // column id -> index in chunks, or -1
    std::string bloom_trace, bloom_session, bloom_user;
  };
  struct Frame {
    uint64_t offset = 0, stored_len = 0, raw_len = 0, checksum = 0;
    uint8_t codec = 0;
  };
  // One block's chunks, read and decompressed (columnar_reader_read.cc).
  struct BlockView {
    std::string raw[kColMax];
    std::string_view col(uint8_t id) const { return raw[id]; }
  };
  struct PieceSource;

  // Inspection (size reports such as bench/segment_sizes.cc, tests): the block and
  // payload frame index as read at Open, the decompressed chunks of a block (columns:
  // ids; absent ones stay empty), and every payload piece in index order.
  const std::vector<Block>& blocks() const { return blocks_; }
  const std::vector<Frame>& frames() const { return frames_; }
  Status LoadBlockColumns(uint32_t b, const std::vector<uint8_t>& columns, BlockView* view) const;
  Status ForEachPiece(const std::function<Status(uint32_t piece, uint32_t frame, std::string_view bytes)>& fn) const;

 private:
  ColumnarReader(std::string path, std::unique_ptr<RandomAccessFile> f);
  Status ParseMeta(std::string_view meta, uint64_t data_end,
                   const std::function<Status(const TraceEntry&)>& on_entry);
  bool BlockMayMatch(const Block& b, const BlockFilter& f) const;
  // Reads and verifies the chunks of block b named in columns (ids); absent ones stay empty.
  Status LoadBlock(uint32_t b, const std::vector<uint8_t>& columns, BlockView* view) const;
  // Loads (when view does not hold them yet) and decodes the string and integer columns
  // of block b whose bit is set in refs (AttrRefMask), for attributes that refer to them.
  Status LoadRefColumns(uint32_t b, uint64_t refs, BlockView* view, internal::RefColumns* out) const;
  // Loads and decodes block b column by column, damaged ones left as defaults (salvage).
  Status SalvageBlock(uint32_t b, std::shared_ptr<const internal::SalvagedBlock>* out) const;
  // ReadTrace (refs null: payloads put together, spans serialized into *spans) and
  // ReadTraceRefs (into *parsed).
  Status ReadTraceImpl(uint32_t first_row, uint32_t row_count, std::vector<std::string>* spans,
                       std::vector<model::Span>* parsed, size_t* used, std::vector<SpanPayloadRefs>* refs) const;
  // Block b decoded whole, from the block cache or decoded now (and cached).
  Status CachedBlock(uint32_t b, std::shared_ptr<const internal::DecodedBlock>* out) const;
  // The block holding row first_row of a trace's rows [first_row, first_row + row_count)
  // (InvalidArgument when they are not all in the file).
  Status FirstBlockOf(uint32_t first_row, uint32_t row_count, size_t* block) const;
  // The length of the value a reference list names (its pieces were checked against the file's).
  uint64_t ValueBytes(const RefList& l) const;
  // Loads and decodes every column of block b (ReadTrace; the block cache keeps it).
  Status DecodeWholeBlock(uint32_t b, internal::DecodedBlock* out) const;
  // Decompresses the frames holding `pieces`; piece(i) then gives piece i's bytes.
  // Loads the frames holding `pieces` into src; cache: look them up in, and add them
  // to, the process-wide cache (reads of whole files, such as compaction, pass false so
  // they do not push out what queries use).
  Status LoadPieces(const std::vector<uint32_t>& pieces, PieceSource* src, bool cache = true) const;
  // Reads, verifies and decompresses payload frame fi.
  Status LoadFrame(uint32_t fi, std::string* raw) const;
  // Makes sure the memo knows the pieces of every frame in `frames` (ascending, unique):
  // false when one of them does not read.
  bool SearchFrames(const std::vector<uint32_t>& frames, TextMemo* memo) const;
  Status Corrupt(const std::string& what) const;

  std::string path_;
  std::unique_ptr<RandomAccessFile> file_;
  uint64_t cache_id_ = 0;  // this reader's key in the decoded-block cache
  uint64_t file_bytes_ = 0;
  uint64_t row_count_ = 0, trace_count_ = 0;
  int64_t min_start_ns_ = 0, max_end_ns_ = 0;
  std::vector<Block> blocks_;
  std::vector<Frame> frames_;
  std::vector<uint32_t> piece_frame_;   // piece -> frame
  std::vector<uint64_t> piece_offset_;  // piece -> offset in its frame's raw bytes
  std::vector<uint32_t> piece_len_;
  std::string trace_bloom_, session_bloom_, user_bloom_;
  uint64_t meta_offset_ = 0;
  // SalvageBlock's last block (salvage reads a damaged block's traces one after another).
  mutable std::mutex salvage_mu_;
  mutable uint32_t salvage_block_ = 0;
  mutable std::shared_ptr<const internal::SalvagedBlock> salvage_cache_;
};

}  // namespace sightline::store::columnar
