// Column chunk encoders and decoders of one block of the columnar segment format
// (docs/segment_format.md "Column chunks"). The builder turns each span into a Row
// (SplitSpan: column fields moved out, payloads replaced by reference lists, the rest
// serialized), EncodeBlock writes a block's rows column by column, and the reader's
// decoders turn a chunk back into values. A column whose every row holds the default
// (empty string, null, 0, no attributes) is not written; decoders given an empty chunk
// produce the defaults.
//
// Decoders never read past their input and check every count, index and length: they
// return false on malformed bytes, and the reader turns that into Corruption naming the
// file, block and column.
// Thread-safety: pure functions over caller-owned values.
#pragma once

#include <charconv>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "model/span.h"
#include "store/columnar/columnar_format.h"
#include "store/columnar/payload_codec.h"
#include "store/trace_agg.h"

namespace sightline::store::columnar {

// One attribute as the attribute columns store it: the key, the value's type byte and
// text (kAttr*, columnar_format.h), and for kAttrRaw the serialized AnyValue. Offsets
// into Row::attr_buf, so that rows can be swapped and moved.
struct AttrCell {
  uint32_t key_off = 0, key_len = 0;
  uint32_t text_off = 0, text_len = 0;
  uint32_t raw_off = 0, raw_len = 0;
  uint8_t type = 0;
  bool large = false;  // the value went to the payloads (its list is in Row::large_attrs)
};

// One span on its way into a block.
struct Row {
  TraceKey trace;
  model::Span cols;  // the column fields (ids, times, enums, strings, numbers); no attributes
  std::string attr_buf;         // the attributes' keys, texts and raw values
  std::vector<AttrCell> attrs;  // the span's attributes in order
  std::string scope;  // serialized Span: resource, scope_name, scope_version, scope_attributes
  std::string rest;   // serialized Span: every field not held by a column (events, links, ...)
  RefList input, output;
  // Attribute index -> the reference list of its value (attributes of >= kLargeAttrBytes
  // bytes; their value in cols is cleared).
  std::vector<std::pair<uint32_t, RefList>> large_attrs;
  size_t raw_bytes = 0;  // an estimate of the row's encoded size, for block sizing
  size_t payload_bytes = 0;  // bytes of the payload values its reference lists name, for block sizing

  // Exchanges every field, allocations and all (std::swap would move through a
  // temporary Row, building and destroying a Span).
  void Swap(Row& o) noexcept {
    std::swap(trace, o.trace);
    cols.Swap(&o.cols);
    attr_buf.swap(o.attr_buf);
    attrs.swap(o.attrs);
    scope.swap(o.scope);
    rest.swap(o.rest);
    std::swap(input, o.input);
    std::swap(output, o.output);
    large_attrs.swap(o.large_attrs);
    std::swap(raw_bytes, o.raw_bytes);
    std::swap(payload_bytes, o.payload_bytes);
  }
};

// The fields of a serialized model::Span that the flush need not parse: the scope
// fields (resource, scope_name, scope_version, scope_attributes), whose wire bytes in
// order are themselves a serialized Span holding just them, and the payloads (views of
// the last input_json and output_json). others: every other field, to be parsed; a view
// of the input when nothing was taken out, else of buf.
//
// The attributes are taken too, walked down to their values (WireAttr): the flush never
// builds KeyValue messages for them.
struct WireAttr {
  std::string_view key;
  uint8_t type = 0;        // kAttrString, Bool, Int, Double, Bytes, Unset, NoValue; kAttrRaw: array/kvlist
  std::string_view value;  // string and bytes: the value; kAttrRaw: the serialized AnyValue
  uint64_t bits = 0;       // bool, int (two's complement), double (IEEE bits)
};
struct WireParts {
  model::Span cols;  // the column fields (ids, times, strings, enums, counts, costs)
  std::string scope;
  std::string_view input, output;
  // A payload in the store's record form (store/shared_payload.h): its head and the key
  // of the attribute it ends with (empty when the payload is whole).
  std::string_view input_head, input_key, output_head, output_key;
  std::vector<WireAttr> attrs;
  std::string rest;  // every other field, as on the wire (events, links, trace_state, ...)
  // Scratch of SplitWireSpan, kept for the next span.
  std::string joined;
  std::vector<std::string_view> elems;
};
// Fills *out from serialized (whose bytes must outlive it): the span's column fields
// decoded into cols, its scope fields' bytes, its payloads and attributes walked, and the
// fields left over copied as they are into rest (an enum value a byte column cannot hold
// stays there, as SplitSpan leaves it). A payload in the record form is taken as its
// head and its attribute's key. False when the bytes are not a sequence of
// well-formed fields (or hold a group, or a taken field of the wrong wire type, or a
// column or payload field twice, or a string column that is not UTF-8), or an attribute
// is not in the form Sightline writes it (each field at most once, no unknown fields,
// UTF-8 keys and strings): the caller then parses the whole span, which reports what is
// wrong or reads it as protobuf would. Neither scope nor rest is checked (the caller
// parses each when not empty), nor are the payloads' bytes UTF-8 (the store's writers
// made them so).
bool SplitWire(std::string_view serialized, WireParts* out);

// Moves *span's fields into *row (span is consumed: left cleared, holding row's old
// allocations for the next parse) and stores its payloads in *payloads. The span's ids
// must already be valid (16 / 8 / 0 or 8 bytes). scratch: an empty message used to
// serialize the scope fields, left empty again (kept by the caller to save allocations).
// pre: the span's payloads given by reference, already in payloads' pieces (compaction;
// taken): its input and output lists are used instead of the span's input_json and
// output_json, and each attribute pre->large names is stored as a large value with that
// list whatever the span holds for it (ReadTraceRefs leaves it empty).
void SplitSpan(model::Span* span, PayloadWriter* payloads, Row* row, model::Span* scratch,
               SpanPayloadRefs* pre = nullptr);
// The same for a span SplitWire took apart (*wire: its ids already checked, its rest
// parsed once to check it): the columns, scope and rest move into *row as they are (wire
// keeps row's old allocations for its next walk), the cells come from the walked
// attributes, the payloads are stored (or pre's lists taken, as above). A payload in
// the record form is stored whole: its list is the head's pieces followed by its
// attribute's list when that is the list of the whole payload, and SplitSpan resolves
// a parsed span's first, so the file is the one the whole payloads would give.
void SplitWireSpan(WireParts* wire, PayloadWriter* payloads, Row* row, SpanPayloadRefs* pre = nullptr);

// Appends an attribute cell to row (its key, text and raw value copied into attr_buf).
void AddCell(Row* row, std::string_view key, uint8_t type, std::string_view text, std::string_view raw, bool large);
// A row's encoded size as block sizing estimates it.
size_t RowRawBytes(const Row& row);
// Completes a row read whole from a columnar file (ColumnarReader::ReadTraceRows: its
// columns, cells, scope and rest set, its payload lists in *pre): takes pre's lists (the
// large ones by the cells marked large, in order) and sets the size estimates as
// SplitSpan does. Cells stay as stored (the file's writer made them as SplitSpan makes
// them). False when pre's large lists do not match the cells marked large.
bool TakeRowRefs(Row* row, SpanPayloadRefs* pre);

struct EncodedColumn {
  uint8_t id = 0;
  std::string raw;
  uint32_t null_count = 0;
};
// Encodes rows[0..n) column by column, in column-id order, leaving out all-default columns.
void EncodeBlock(const Row* rows, size_t n, std::vector<EncodedColumn>* out);

// ---- Decoders (raw = decompressed chunk bytes; empty = column absent) ----
bool DecodeTraceIds(std::string_view raw, size_t rows, std::vector<TraceKey>* out);
bool DecodeSpanIds(std::string_view raw, size_t rows, std::vector<uint64_t>* out);
// Parents: 0 for a root; present[r] says whether row r has one.
bool DecodeParents(std::string_view raw, size_t rows, std::vector<uint64_t>* out, std::vector<uint8_t>* present);
bool DecodeStarts(std::string_view raw, size_t rows, std::vector<int64_t>* out);
// end_ns from start_ns, received_ns from end_ns: out[r] = base[r] + delta[r].
bool DecodeOffsets(std::string_view raw, const std::vector<int64_t>& base, std::vector<int64_t>* out);
bool DecodeBytes(std::string_view raw, size_t rows, std::vector<uint8_t>* out);
bool DecodeStrings(std::string_view raw, size_t rows, std::vector<std::string_view>* out);
// Nulls become kNullInt / NaN; present[r] tells a real INT64_MIN or NaN from a null.
bool DecodeNullableInts(std::string_view raw, size_t rows, std::vector<int64_t>* out, std::vector<uint8_t>* present);
// kColComputedCostRef: the rows whose computed cost is not marked as differing take
// cost_usd's value (which they must have).
bool DecodeComputedCostRef(std::string_view raw, const std::vector<double>& cost, const std::vector<uint8_t>& cost_present,
                           std::vector<double>* out, std::vector<uint8_t>* present);
bool DecodeNullableDoubles(std::string_view raw, size_t rows, std::vector<double>* out,
                           std::vector<uint8_t>* present);
// Attribute keys: offsets has rows + 1 entries.
bool DecodeAttrKeys(std::string_view raw, size_t rows, std::vector<uint32_t>* offsets,
                    std::vector<std::string_view>* keys);
// large[i] = 1 when attribute i's value is in the attr_payload chunk.
bool DecodeAttrText(std::string_view raw, size_t attrs, std::vector<std::string_view>* text,
                    std::vector<uint8_t>* large);
// kColAttrTextRef (written instead of kColAttrText): as DecodeAttrText, and ref[i] = the
// column id whose value in the attribute's row is attribute i's text (a string column,
// or an integer column as decimal text; AttrRefText), 0 for a value of its own.
bool DecodeAttrTextRef(std::string_view raw, size_t attrs, std::vector<std::string_view>* text,
                       std::vector<uint8_t>* large, std::vector<uint8_t>* ref);
// Whichever of the two a block holds (both: false); ref all 0 for kColAttrText.
bool DecodeAttrValues(std::string_view text_raw, std::string_view text_ref_raw, size_t attrs,
                      std::vector<std::string_view>* text, std::vector<uint8_t>* large, std::vector<uint8_t>* ref);
// Bit id set for each column id that ref names.
uint64_t AttrRefMask(const std::vector<uint8_t>& ref);
bool IsAttrRefColumn(uint8_t id);  // a string (11..29) or integer (30..35) column

// The decimal text of an integer column's value, as an integer attribute's text reads.
inline std::string_view IntColumnText(int64_t v, char (&buf)[24]) {
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string_view(buf, static_cast<size_t>(r.ptr - buf));
}

// The decoded columns attribute references resolve against, by column id (null: not
// decoded, or damaged).
struct AttrRefColumns {
  const std::vector<std::string_view>* strs[kColMax] = {};
  const std::vector<int64_t>* ints[kColMax] = {};
  const std::vector<uint8_t>* int_present[kColMax] = {};
};
// *out = the text of a reference to column id in row r: the string column's value, or the
// integer column's decimal text (kept in *arena). False when the column is not in cols,
// r is outside it, or the row's integer is null.
bool AttrRefText(uint8_t id, size_t r, const AttrRefColumns& cols, std::string_view* out, std::deque<std::string>* arena);
// Sets text[i] of every referring attribute (ref[i] != 0; row r's attributes are
// [offsets[r], offsets[r + 1])) through AttrRefText; false when one does not resolve.
bool ResolveAttrRefs(const std::vector<uint32_t>& offsets, const std::vector<uint8_t>& ref, const AttrRefColumns& cols,
                     std::vector<std::string_view>* text, std::deque<std::string>* arena);
bool DecodeAttrTypes(std::string_view raw, size_t attrs, std::vector<uint8_t>* types,
                     std::vector<std::string_view>* raw_values);
bool DecodeRefLists(std::string_view raw, size_t count, uint32_t piece_count, std::vector<RefList>* out);
bool DecodeLengthPrefixed(std::string_view raw, size_t rows, std::vector<std::string_view>* out);

// Rebuilds an attribute value from its type and text (raw: the serialized AnyValue of
// kAttrRaw). False when they do not form a value.
bool AnyValueFromText(uint8_t type, std::string_view text, std::string_view raw,
                      opentelemetry::proto::common::v1::AnyValue* out);

// Setters of the column fields, by column id, for rebuilding a span.
void SetStringColumn(uint8_t id, std::string_view v, model::Span* s);
void SetByteColumn(uint8_t id, uint8_t v, model::Span* s);
void SetIntColumn(uint8_t id, int64_t v, model::Span* s);
void SetDoubleColumn(uint8_t id, double v, model::Span* s);

// Column ids by encoding, in id order.
const std::vector<uint8_t>& StringColumnIds();
const std::vector<uint8_t>& ByteColumnIds();
const std::vector<uint8_t>& IntColumnIds();
const std::vector<uint8_t>& DoubleColumnIds();

}  // namespace sightline::store::columnar
