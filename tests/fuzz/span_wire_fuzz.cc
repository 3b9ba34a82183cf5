// libFuzzer target: arbitrary bytes as a serialized span, as the flush and compaction
// hand them to the columnar builder (which walks them on the wire with SplitWire rather
// than parsing them). Must never crash or read out of bounds, and the walk must never
// accept an attribute protobuf refuses: when SplitWire takes the bytes, every list
// attribute it walked (kept raw) parses as an AnyValue and every key and string it
// walked is UTF-8, since the builder stores them on that promise (a list is parsed again
// without a check). The column fields it decodes are the ones protobuf's parse gives (an
// enum value no byte column holds stays in rest), and bytes protobuf refuses (their
// payloads UTF-8) are refused by the builder too. Then a span that parses is written to a
// segment and read back: what comes back parses and has the span's id and attribute
// count.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/stubs/logging.h>

#include "common/mem_env.h"
#include "common/utf8.h"
#include "model/span.h"
#include "store/columnar/block_codec.h"
#include "store/columnar/columnar_builder.h"
#include "store/columnar/columnar_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sightline;
  using namespace sightline::store::columnar;
  google::protobuf::LogSilencer quiet;  // the builder's parse of a bad span logs; it is refused anyway
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  WireParts wire;
  if (!SplitWire(bytes, &wire)) return 0;
  for (const WireAttr& a : wire.attrs) {
    if (!IsValidUtf8(a.key)) __builtin_trap();
    if (a.type == kAttrString && !IsValidUtf8(a.value)) __builtin_trap();
    if (a.type == kAttrRaw) {
      opentelemetry::proto::common::v1::AnyValue v;
      if (!v.ParseFromArray(a.value.data(), static_cast<int>(a.value.size()))) __builtin_trap();
    }
  }
  // Through a file and back. The fields SplitWire leaves to the builder's parse (the
  // rest) may not parse: the builder must then refuse the trace. It takes spans with a
  // 16-byte trace id and an 8-byte span id (the store writes others in a row file).
  model::Span span;
  const bool parses = span.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
  if (!parses) {
    // The payloads, and the heads and keys of the record form, are taken without a
    // UTF-8 check (the store's writers made them UTF-8).
    for (std::string_view taken : {wire.input, wire.output, wire.input_head, wire.input_key, wire.output_head,
                                   wire.output_key})
      if (!IsValidUtf8(taken)) return 0;
    if (wire.cols.trace_id().size() != 16 || wire.cols.span_id().size() != 8) return 0;
    MemEnv env;
    if (!env.CreateDir("/segments").ok()) return 0;
    auto b = ColumnarBuilder::Create(&env, "/segments", "000001.slseg");
    if (!b.ok()) return 0;
    const std::vector<std::string_view> spans = {bytes};
    const store::TraceKey id = store::TraceKey::FromBytes(wire.cols.trace_id());
    if ((*b)->AddTrace(id, spans, "", 0, 0).ok()) __builtin_trap();
    return 0;
  }
  // The columns as parsing gives them: the span without every field no column holds.
  model::Span want = span;
  want.clear_resource();
  want.clear_scope_name();
  want.clear_scope_version();
  want.clear_scope_attributes();
  want.clear_attributes();
  want.clear_input_json();
  want.clear_output_json();
  want.clear_input_head();  // the store's record form of a payload (store/shared_payload.h)
  want.clear_input_tail_key();
  want.clear_output_head();
  want.clear_output_tail_key();
  want.clear_events();
  want.clear_links();
  want.clear_trace_state();
  want.clear_dropped_attributes_count();
  want.clear_dropped_events_count();
  want.clear_dropped_links_count();
  want.DiscardUnknownFields();
  auto out_of_byte = [](int v) { return v < 0 || v > 255; };
  if (out_of_byte(want.kind())) want.clear_kind();
  if (out_of_byte(want.status())) want.clear_status();
  if (out_of_byte(want.otel_kind())) want.clear_otel_kind();
  if (out_of_byte(want.cost_source())) want.clear_cost_source();
  if (want.SerializeAsString() != wire.cols.SerializeAsString()) __builtin_trap();
  if (span.trace_id().size() != 16 || span.span_id().size() != 8) return 0;
  MemEnv env;
  if (!env.CreateDir("/segments").ok()) return 0;
  auto b = ColumnarBuilder::Create(&env, "/segments", "000001.slseg");
  if (!b.ok()) return 0;
  const std::vector<std::string_view> spans = {bytes};
  if (!(*b)->AddTrace(store::TraceKey::FromBytes(span.trace_id()), spans, "", span.start_ns(), span.end_ns()).ok())
    return 0;
  if (!(*b)->Finish().ok()) __builtin_trap();
  std::vector<TraceEntry> entries;
  auto r = ColumnarReader::Open(&env, "/segments/000001.slseg", [&](const TraceEntry& e) {
    entries.push_back(e);
    return Status::OK();
  });
  if (!r.ok() || entries.size() != 1) __builtin_trap();
  std::vector<std::string> got;
  if (!(*r)->ReadTrace(entries[0].first_row, entries[0].row_count, &got).ok() || got.size() != 1) __builtin_trap();
  model::Span back;
  if (!back.ParseFromString(got[0]) || back.span_id() != span.span_id() ||
      back.attributes_size() != span.attributes_size())
    __builtin_trap();
  return 0;
}
