// libFuzzer target: arbitrary bytes as a columnar (version 2) segment file, read through
// a MemEnv as the store reads its files: Open, every trace of the trace table (read;
// read as compaction reads it, as messages and as rows, which must agree; salvaged), a
// text search over them (with a memo, twice), and a scan of every column (with and
// without block filters). Must never crash, hang or read out of bounds; every failure
// must be Corruption (or InvalidArgument for a row range the damaged table names
// outside the file).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/mem_env.h"
#include "store/columnar/block_codec.h"
#include "store/columnar/columnar_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sightline;
  using namespace sightline::store::columnar;
  // Several traces of one block share its decoded copy; keep that cache small here.
  static const bool cache_sized = [] {
    ColumnarReader::SetBlockCacheBytes(size_t{16} << 20);
    return true;
  }();
  (void)cache_sized;
  MemEnv env;
  env.PutFile("/segments/000001.slseg", std::string(reinterpret_cast<const char*>(data), size));
  std::vector<TraceEntry> entries;
  auto r = ColumnarReader::Open(&env, "/segments/000001.slseg", [&](const TraceEntry& e) {
    if (entries.size() < 64) entries.push_back(TraceEntry{e.id, e.first_row, e.row_count, {}, e.start_ns, e.end_ns});
    return Status::OK();
  });
  if (!r.ok()) {
    if (r.status().code() != StatusCode::kCorruption) __builtin_trap();
    return 0;
  }
  auto ok_or_expected = [](const Status& s) {
    if (!s.ok() && s.code() != StatusCode::kCorruption && s.code() != StatusCode::kInvalidArgument) __builtin_trap();
  };
  for (const TraceEntry& e : entries) {
    std::vector<std::string> spans;
    ok_or_expected((*r)->ReadTrace(e.first_row, e.row_count, &spans));
    (void)(*r)->MayContainTrace(e.id);
    // Compaction's read: the spans without payloads, their reference lists, and every
    // piece those lists name.
    std::vector<sightline::model::Span> stripped;
    std::vector<SpanPayloadRefs> refs;
    ColumnarReader::PieceFetcher fetcher(r->get());
    size_t used = 0;
    Status st = (*r)->ReadTraceRefs(e.first_row, e.row_count, &stripped, &used, &refs);
    ok_or_expected(st);
    if (st.ok() && (refs.size() != used || used != e.row_count)) __builtin_trap();
    // Compaction's read as rows: the same checks, so the same answer, the same count
    // and the same reference lists as the read above.
    std::vector<Row> rows;
    std::vector<SpanPayloadRefs> row_refs;
    size_t row_used = 0;
    Status rst = (*r)->ReadTraceRows(e.first_row, e.row_count, &rows, &row_used, &row_refs);
    ok_or_expected(rst);
    if (rst.ok() != st.ok()) __builtin_trap();
    if (st.ok()) {
      if (row_used != used || row_refs.size() != refs.size()) __builtin_trap();
      for (size_t i = 0; i < refs.size(); ++i) {
        const SpanPayloadRefs &a = refs[i], &b = row_refs[i];
        if (a.input.pieces != b.input.pieces || a.output.pieces != b.output.pieces ||
            a.large.size() != b.large.size() || a.payload_bytes != b.payload_bytes ||
            rows[i].cols.span_id() != stripped[i].span_id() ||
            rows[i].attrs.size() != static_cast<size_t>(stripped[i].attributes_size()))
          __builtin_trap();
        for (size_t k = 0; k < a.large.size(); ++k)
          if (a.large[k].first != b.large[k].first || a.large[k].second.pieces != b.large[k].second.pieces)
            __builtin_trap();
      }
    }
    for (const SpanPayloadRefs& ref : refs) {
      std::vector<const RefList*> lists = {&ref.input, &ref.output};
      for (const auto& [attr, l] : ref.large) lists.push_back(&l);
      for (const RefList* l : lists)
        for (uint32_t p : l->pieces) {
          std::string_view bytes;
          ok_or_expected(fetcher.Get(p, &bytes));
        }
    }
  }
  std::vector<RowRange> ranges;
  for (const TraceEntry& e : entries) {
    std::vector<std::string> salvaged;
    ColumnarReader::SalvageReport report;
    ok_or_expected((*r)->SalvageTrace(e.id, e.first_row, e.row_count, &salvaged, &report));
    if (!report.damage.ok() && report.damage.code() != StatusCode::kCorruption) __builtin_trap();
    ranges.push_back(RowRange{e.first_row, e.row_count});
  }
  for (const char* needle : {"ticket", "\"},{\"role"}) {  // a needle inside pieces, one across joins
    RowMatchSpec spec;
    spec.text_lower = needle;
    auto memo = (*r)->NewTextMemo(spec.text_lower);
    for (int round = 0; round < 2; ++round) {
      std::vector<uint32_t> bits;
      std::vector<uint8_t> unreadable;
      ok_or_expected((*r)->MatchRows(spec, ranges, &bits, &unreadable, memo.get()));
    }
  }
  ok_or_expected((*r)->Scan(kAll, {}, [&](const SpanColumns& c, uint32_t) {
    if (c.trace_id.size() != c.rows || c.attr_offsets.size() != c.rows + 1) __builtin_trap();
    return Status::OK();
  }));
  BlockFilter f;
  f.from_ns = 0;
  f.session_id = "ticket-11";
  ok_or_expected((*r)->Scan(kName | kStart | kEnd, f, [](const SpanColumns&, uint32_t) { return Status::OK(); }));
  (void)(*r)->MayContainSession("ticket-11");
  (void)(*r)->MayContainUser("user-1");
  return 0;
}
