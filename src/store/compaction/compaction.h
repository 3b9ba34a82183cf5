// Compaction: choosing which segment files to merge (size-tiered, per time partition)
// and merging them into new files, trace by trace (docs/architecture.md "Compaction").
//
// Merge rules:
//   - inputs are ordered oldest first (covered_wal, then number); a trace's spans from
//     every input are written together, in one block of one output file;
//   - a span present in two inputs (same trace_id and span_id: a batch retried after
//     a flush) is kept once, the newest copy, and the copies dropped are reported so
//     the store can take their counts back from its merged trace aggregate;
//   - each output trace's partial aggregate is recomputed from the surviving spans
//     (merged with any summary-only parts);
//   - a retention hook may keep a trace whole, keep only its summary (no spans), or
//     drop it; a partition hook names the output partition of each trace, so outputs
//     never mix partitions; an output file is closed once it passes max_output_bytes
//     (at a trace boundary).
// Payloads travel by reference between columnar files (MergeHooks::by_reference): an
// input piece is read, hashed and stored in an output the first time a kept span of
// that output names it, and mapped to its output index after that.
// Memory: the input tables (ids, locations, encoded aggregates), one trace's spans at a
// time, and 4 bytes per input piece per output for the piece maps. CPU: one thread,
// throttled to max_bytes_per_sec of input.
// Crash safety: outputs are complete *.seg files not yet in the manifest; the caller
// installs them with one manifest edit, and until then they are orphans that Open
// deletes.
//
// Thread-safety: Merge runs on the caller's thread and touches only the input files
// (read-only, shared) and its outputs; the hooks are called from that thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/env.h"
#include "model/span.h"
#include "store/manifest/manifest.h"
#include "store/reprice/reprice.h"
#include "store/retention/retention_policy.h"
#include "store/segment/segment_file.h"
#include "store/segment_io.h"
#include "store/string_pool.h"
#include "store/trace_agg.h"

namespace sightline::store::compaction {

struct CompactionOptions {
  bool enabled = true;
  size_t min_merge = 4;               // merge when this many similar-size files share a partition
  size_t max_merge = 16;              // files per merge at most
  double size_ratio = 4.0;            // largest / smallest file of one merge at most
  uint64_t max_output_bytes = uint64_t{256} << 20;  // an output file is closed past this
  uint64_t max_bytes_per_sec = uint64_t{64} << 20;  // input read rate cap (0: unthrottled)
  int64_t interval_ms = 1000;         // how often the background thread looks for work
  int64_t retention_interval_ms = 600000;  // how often it applies retention
  bool lower_priority = true;         // run the compaction thread at nice +10
  // Write stall: while more segment files than this are live, a flush waits for
  // compaction (at most max_flush_stall_ms each time; 0: never waits). The memtable stays
  // full meanwhile, so senders hear 429/503 with Retry-After, and files, memory and query
  // cost stay bounded when ingest outruns compaction.
  size_t max_live_segments = 64;
  int64_t max_flush_stall_ms = 10000;
};

// Files to merge in one partition: a run of consecutive files (in covered_wal order)
// of similar size, min_merge..max_merge long, totalling at most max_output_bytes.
// Empty when nothing qualifies. Partitions are tried oldest first.
std::vector<uint64_t> PickSizeTiered(const std::vector<manifest::FileMeta>& files, const CompactionOptions& opts);

struct MergeHooks {
  Env* env = nullptr;
  std::string dir;  // where outputs are written
  std::function<uint64_t()> new_file_number;
  // The output partition of a trace, given its recomputed partial aggregate.
  std::function<int64_t(const TraceKey&, const TraceAgg&, const StringPool&)> partition_of;
  // Retention; empty: every trace is kept whole.
  std::function<retention::Fate(const TraceKey&, const TraceAgg&, const StringPool&)> fate;
  // Polled between traces; true aborts the merge (Unavailable).
  std::function<bool()> stop;
  uint64_t max_output_bytes = uint64_t{256} << 20;
  uint64_t max_bytes_per_sec = 0;
  // Salvage: a trace part that does not read whole (Corruption) keeps the spans that can
  // be rebuilt (SegmentFile::SalvageTrace: a v1 part none, a v2 part all but those whose
  // ids, times or project are damaged, some without the fields a damaged column or
  // payload frame held, marked so) and its aggregate from the file's table (the summary
  // as written) instead of failing the merge; used to copy the readable rest of a
  // damaged file before quarantining it.
  bool salvage = false;
  // The format outputs are written in (a span only v1 can hold makes it v1).
  SegmentFormat format = kDefaultSegmentFormat;
  // Repricing (store/reprice): called for every span kept; it may change the span's
  // cost fields only and returns true when it changed any, and the span is written
  // changed. Each change of cost_usd is reported in MergeResult::cost_changes.
  std::function<bool(model::Span*)> reprice;
  // Carry payloads by reference (v2 inputs and outputs, not salvage): a span's payload
  // values are read as reference lists (ColumnarReader::ReadTraceRefs) and each input
  // piece is stored in an output once, however many spans name it, instead of every
  // value being put together, split and looked up again. False: the values are read
  // whole (tests compare the two).
  bool by_reference = true;
  // By reference and not repricing: spans travel as the builder's rows, read straight
  // from the input's columns (ColumnarReader::ReadTraceRows) and written as they are
  // (SegmentOutput::AddRowTrace), with no message built or split. False: as messages
  // (tests compare the two).
  bool by_rows = true;
};

struct OutputFile {
  manifest::FileMeta meta;
  std::shared_ptr<SegmentFile> file;
};

struct TraceOutcome {
  TraceKey id;
  retention::Fate fate = retention::Fate::kFull;
  int output = -1;  // index into MergeResult::outputs; -1 when the trace was dropped
  SegLoc loc;       // in that output (segment field unset)
  std::vector<SpanCounts> removed;  // counts of the duplicate copies dropped
};

struct MergeResult {
  std::vector<OutputFile> outputs;
  std::vector<TraceOutcome> traces;  // every trace of the inputs, ascending id
  uint64_t bytes_read = 0, spans_in = 0, spans_out = 0, duplicates = 0;
  uint64_t damaged_parts = 0;            // salvage: trace parts that did not read whole
  uint64_t spans_lost = 0;               // salvage: spans of those parts that could not be rebuilt
  uint64_t spans_rebuilt = 0;            // salvage: spans of those parts kept (some without damaged fields)
  std::vector<std::string> damage;       // salvage: what each of them reported
  // Repricing: spans the hook changed, and the changes of cost_usd among them
  // (strings in change_pool), in trace order.
  uint64_t spans_repriced = 0;
  std::unique_ptr<StringPool> change_pool = std::make_unique<StringPool>();
  std::vector<CostChange> cost_changes;
};

// Merges inputs (any order; sorted here oldest first). On error every output written
// so far is removed and the inputs are untouched.
Result<MergeResult> Merge(std::vector<std::shared_ptr<SegmentFile>> inputs, const MergeHooks& hooks);

}  // namespace sightline::store::compaction
