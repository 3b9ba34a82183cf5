// Encoding side of block_codec.h: a span into a Row, a block of rows into column chunks.
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <iterator>
#include <string_view>
#include <unordered_map>

#include "common/hex.h"
#include "common/utf8.h"
#include "common/wire.h"
#include "store/coding.h"
#include "store/columnar/block_codec.h"
#include "store/columnar/block_fields.h"
#include "store/columnar/columnar_format.h"
#include "store/shared_payload.h"
#include "store/span_codec.h"
#include "store/string_ids.h"

namespace sightline::store::columnar {
namespace {

// SplitSpan leaves cleared strings their capacity for the next parse into the same
// message, up to this; a larger payload buffer is freed.
constexpr size_t kKeptPayloadCapacity = 64 << 10;

using opentelemetry::proto::common::v1::AnyValue;

// The attribute's type byte and its text (AnyValueText); a value whose text does not
// give it back exactly is kAttrRaw.
uint8_t AttrTypeAndText(const AnyValue& v, std::string* text) {
  switch (v.value_case()) {
    case AnyValue::kStringValue: *text = v.string_value(); return kAttrString;
    case AnyValue::VALUE_NOT_SET: text->clear(); return kAttrUnset;
    case AnyValue::kBoolValue: *text = v.bool_value() ? "true" : "false"; return kAttrBool;
    case AnyValue::kIntValue: *text = AnyValueText(v); return kAttrInt;  // decimal: read back exactly
    case AnyValue::kBytesValue: *text = AnyValueText(v); return kAttrBytes;  // hex: read back exactly
    case AnyValue::kDoubleValue: {
      // The shortest round-trip text reads back to the same double; only a NaN's
      // payload bits may not, so a NaN is checked like any other value.
      *text = AnyValueText(v);
      if (!std::isnan(v.double_value())) return kAttrDouble;
      AnyValue back;
      if (AnyValueFromText(kAttrDouble, *text, {}, &back) && back.SerializeAsString() == v.SerializeAsString())
        return kAttrDouble;
      return kAttrRaw;
    }
    default: *text = AnyValueText(v); return kAttrRaw;
  }
}

// Dictionary encoding: varint n, n length-prefixed entries (first-seen order), varint
// index per row; "" (Finish) when every value is empty.
//
// Most of a block's string columns are empty in every row, and the others repeat the
// row before's value in runs (a trace's project, service, agent): an all-empty column is
// found without hashing, and a row equal to the one before reuses its index.
//
// Fed one row at a time (rows 0, 1, ... in order), so that many columns are encoded in
// one pass over a block's rows. Leading empty values are only counted until a value
// arrives (a column empty in every row never touches its map).
class DictColumn {
 public:
  void Add(std::string_view v, size_t r) {
    if (!started_) {
      if (v.empty()) return;  // leading empties: counted at the first value (r of them)
      started_ = true;
      idx_.reserve(r + 64);
      if (r > 0) {
        Lookup(std::string_view());
        idx_.append(r, '\0');  // varint 0 per leading empty row
        empties_ = static_cast<uint32_t>(r);
        prev_ = std::string_view();
        prev_id_ = 0;
        have_prev_ = true;
      }
    }
    if (v.empty()) ++empties_;
    if (!have_prev_ || v.size() != prev_.size() || v != prev_) {
      prev_id_ = Lookup(v);
      prev_ = v;
      have_prev_ = true;
    }
    PutVarint64(&idx_, prev_id_);
  }
  // The column's raw chunk ("" when every one of the n rows was empty).
  std::string Finish(size_t n, uint32_t* empties) {
    if (!started_) {
      *empties = static_cast<uint32_t>(n);
      return {};
    }
    *empties = empties_;
    std::string out;
    PutVarint64(&out, dict_.size());
    for (std::string_view d : dict_.strings()) PutLengthPrefixed(&out, d);
    out.append(idx_);
    return out;
  }

 private:
  // v's id: its place in the dictionary, added at the end when new.
  uint32_t Lookup(std::string_view v) {
    return dict_.FindOrAdd(v, [](std::string_view kept) { return kept; });
  }

  StringIds dict_;  // views of the rows' values
  std::string idx_;
  std::string_view prev_;
  uint32_t prev_id_ = 0;
  uint32_t empties_ = 0;
  bool have_prev_ = false;
  bool started_ = false;
};

// The id of a column of the row that holds exactly the attribute's text (a string
// column its value, an integer column its decimal text), 0 when none does or the text is
// too short for a reference (2 bytes) to save anything. hint: the column to try first.
uint8_t ColumnHoldingText(const model::Span& c, uint8_t type, std::string_view text, uint8_t hint) {
  if (text.size() < 2) return 0;
  if (type == kAttrString) {
    if (hint != 0)
      for (const auto& f : fields::kStrFields)
        if (f.id == hint && f.get(c) == text) return hint;
    for (const auto& f : fields::kStrFields) {
      const std::string& v = f.get(c);
      if (v.size() == text.size() && v == text) return f.id;
    }
    return 0;
  }
  if (type != kAttrInt) return 0;
  for (const auto& f : fields::kIntFields) {
    if (!f.has(c)) continue;
    char num[24];
    if (IntColumnText(f.get(c), num) == text) return f.id;
  }
  return 0;
}

void SetBit(std::string* bm, size_t r) { (*bm)[r / 8] = static_cast<char>(static_cast<uint8_t>((*bm)[r / 8]) | (1u << (r % 8))); }

using wire::NextField;

// Nesting deeper than this is left to the parser (protobuf's limit is 100).
constexpr int kMaxWalkDepth = 32;

bool WalkKeyValueAt(std::string_view in, WireAttr* out, int depth);

// An AnyValue's bytes: at most one of its fields, each of its wire type, strings UTF-8.
// Arrays and lists are walked the same way down to their scalars (and stored raw): the
// lean workload's gen_ai.response.finish_reasons is an array on every model call, and
// parsing it was a few percent of the flush.
bool WalkAnyValueAt(std::string_view in, WireAttr* out, int depth) {
  out->type = kAttrUnset;
  const std::string_view whole = in;
  bool seen = false;
  while (!in.empty()) {
    uint32_t number = 0, wt = 0;
    uint64_t scalar = 0;
    std::string_view bytes;
    if (!NextField(&in, &number, &wt, &bytes, &scalar) || seen) return false;
    seen = true;
    if (number == AnyValue::kStringValueFieldNumber && wt == 2) {
      if (!IsValidUtf8(bytes)) return false;
      out->type = kAttrString;
      out->value = bytes;
    } else if (number == AnyValue::kBoolValueFieldNumber && wt == 0) {
      out->type = kAttrBool;
      out->bits = scalar != 0;
    } else if (number == AnyValue::kIntValueFieldNumber && wt == 0) {
      out->type = kAttrInt;
      out->bits = scalar;
    } else if (number == AnyValue::kDoubleValueFieldNumber && wt == 1) {
      out->type = kAttrDouble;
      out->bits = scalar;
    } else if (number == AnyValue::kBytesValueFieldNumber && wt == 2) {
      out->type = kAttrBytes;
      out->value = bytes;
    } else if ((number == AnyValue::kArrayValueFieldNumber || number == AnyValue::kKvlistValueFieldNumber) && wt == 2) {
      // ArrayValue { repeated AnyValue values = 1; }, KeyValueList { repeated KeyValue
      // values = 1; }: nothing else, each element walked as above.
      if (depth >= kMaxWalkDepth) return false;
      const bool array = number == AnyValue::kArrayValueFieldNumber;
      std::string_view list = bytes;
      while (!list.empty()) {
        uint32_t n = 0, w = 0;
        uint64_t v = 0;
        std::string_view element;
        if (!NextField(&list, &n, &w, &element, &v) || n != 1 || w != 2) return false;
        WireAttr inner;
        if (!(array ? WalkAnyValueAt(element, &inner, depth + 1) : WalkKeyValueAt(element, &inner, depth + 1)))
          return false;
      }
      out->type = kAttrRaw;
      out->value = whole;
    } else {
      return false;
    }
  }
  return true;
}

// A KeyValue's bytes: key and value each at most once, nothing else.
bool WalkKeyValueAt(std::string_view in, WireAttr* out, int depth) {
  *out = WireAttr{};
  out->type = kAttrNoValue;
  bool have_key = false, have_value = false;
  while (!in.empty()) {
    uint32_t number = 0, wt = 0;
    uint64_t scalar = 0;
    std::string_view bytes;
    if (!NextField(&in, &number, &wt, &bytes, &scalar) || wt != 2) return false;
    if (number == opentelemetry::proto::common::v1::KeyValue::kKeyFieldNumber && !have_key) {
      if (!IsValidUtf8(bytes)) return false;
      have_key = true;
      out->key = bytes;
    } else if (number == opentelemetry::proto::common::v1::KeyValue::kValueFieldNumber && !have_value) {
      have_value = true;
      if (!WalkAnyValueAt(bytes, out, depth)) return false;
    } else {
      return false;
    }
  }
  return true;
}

bool WalkKeyValue(std::string_view in, WireAttr* out) { return WalkKeyValueAt(in, out, 0); }

// The cells of attributes walked from the wire (same texts and types as
// AttrTypeAndText on the parsed values).
// The list given by reference for large attribute i (SplitSpan's `pre`), moved out; null
// when none. pre->large is ascending, so *next walks it once.
RefList* PreLarge(SpanPayloadRefs* pre, size_t* next, size_t i) {
  if (pre == nullptr || *next >= pre->large.size() || pre->large[*next].first != i) return nullptr;
  return &pre->large[(*next)++].second;
}

void CellsFromWire(const std::vector<WireAttr>& attrs, PayloadWriter* payloads, Row* row, SpanPayloadRefs* pre) {
  std::string text;
  size_t next_pre = 0;
  for (size_t i = 0; i < attrs.size(); ++i) {
    const WireAttr& a = attrs[i];
    char num[32];
    switch (a.type) {
      case kAttrString:
        if (RefList* l = PreLarge(pre, &next_pre, i)) {
          row->large_attrs.emplace_back(static_cast<uint32_t>(i), std::move(*l));
          AddCell(row, a.key, kAttrString, {}, {}, true);
        } else if (a.value.size() >= kLargeAttrBytes) {
          row->large_attrs.emplace_back(static_cast<uint32_t>(i), payloads->AddValue(a.value, true));
          row->payload_bytes += a.value.size();
          AddCell(row, a.key, kAttrString, {}, {}, true);
        } else {
          AddCell(row, a.key, kAttrString, a.value, {}, false);
        }
        break;
      case kAttrBool: AddCell(row, a.key, kAttrBool, a.bits ? "true" : "false", {}, false); break;
      case kAttrInt: {
        auto r = std::to_chars(num, num + sizeof(num), static_cast<int64_t>(a.bits));
        AddCell(row, a.key, kAttrInt, std::string_view(num, static_cast<size_t>(r.ptr - num)), {}, false);
        break;
      }
      case kAttrDouble: {
        double d;
        std::memcpy(&d, &a.bits, sizeof d);
        if (std::isnan(d)) {  // checked like any other value (AttrTypeAndText)
          AnyValue v;
          v.set_double_value(d);
          uint8_t type = AttrTypeAndText(v, &text);
          AddCell(row, a.key, type, text, type == kAttrRaw ? v.SerializeAsString() : std::string(), false);
          break;
        }
        auto r = std::to_chars(num, num + sizeof(num), d);
        AddCell(row, a.key, kAttrDouble, std::string_view(num, static_cast<size_t>(r.ptr - num)), {}, false);
        break;
      }
      case kAttrBytes: AddCell(row, a.key, kAttrBytes, HexEncode(a.value), {}, false); break;
      case kAttrUnset:
      case kAttrNoValue: AddCell(row, a.key, a.type, {}, {}, false); break;
      default: {  // kAttrRaw: arrays and lists (walked by WalkAnyValueAt)
        AnyValue v;
        (void)v.ParseFromArray(a.value.data(), static_cast<int>(a.value.size()));
        uint8_t type = AttrTypeAndText(v, &text);
        AddCell(row, a.key, type, text, type == kAttrRaw ? v.SerializeAsString() : std::string(), false);
        break;
      }
    }
  }
}

// The cells of parsed attributes (the path for spans SplitWire could not walk).
void CellsFromMessages(const google::protobuf::RepeatedPtrField<opentelemetry::proto::common::v1::KeyValue>& attrs,
                       PayloadWriter* payloads, Row* row, SpanPayloadRefs* pre) {
  std::string text;
  size_t next_pre = 0;
  for (int i = 0; i < attrs.size(); ++i) {
    const auto& kv = attrs[i];
    if (!kv.has_value()) {
      AddCell(row, kv.key(), kAttrNoValue, {}, {}, false);
      continue;
    }
    const AnyValue& v = kv.value();
    if (v.value_case() == AnyValue::kStringValue) {
      if (RefList* l = PreLarge(pre, &next_pre, static_cast<size_t>(i))) {
        row->large_attrs.emplace_back(static_cast<uint32_t>(i), std::move(*l));
        AddCell(row, kv.key(), kAttrString, {}, {}, true);
        continue;
      }
    }
    if (v.value_case() == AnyValue::kStringValue && v.string_value().size() >= kLargeAttrBytes) {
      row->large_attrs.emplace_back(static_cast<uint32_t>(i), payloads->AddValue(v.string_value(), true));
      row->payload_bytes += v.string_value().size();
      AddCell(row, kv.key(), kAttrString, {}, {}, true);
      continue;
    }
    uint8_t type = AttrTypeAndText(v, &text);
    AddCell(row, kv.key(), type, text, type == kAttrRaw ? v.SerializeAsString() : std::string(), false);
  }
}

// What SplitWire does with each field number of span.proto: the scope, payload and
// attribute fields it takes as parts, the column fields it decodes into WireParts::cols,
// and the rest (events, links, trace_state, dropped counts, fields added later, numbers
// past the table) it copies into the rest's bytes.
enum WireKind : uint8_t {
  kWireRest = 0,
  kWireScope,
  kWirePayload,
  kWireAttr,
  kWireBytes,   // trace_id, span_id, parent_span_id: bytes, 1/2/3
  kWireTime,    // start_ns, end_ns, received_ns: int64
  kWireString,  // fields::kStrFields[index]
  kWireEnum,    // fields::kByteFields[index]
  kWireInt,     // fields::kIntFields[index] (optional int64)
  kWireDouble,  // fields::kDoubleFields[index] (optional double)
  kWireShared,  // the record form's heads and keys: input_head, input_tail_key, output_head, output_tail_key
};
struct WireField {
  uint8_t kind = kWireRest;
  uint8_t index = 0;
};
constexpr size_t kWireTableSize = 64;  // span.proto's numbers are below this

const std::array<WireField, kWireTableSize>& WireTable() {
  static const std::array<WireField, kWireTableSize> table = [] {
    std::array<WireField, kWireTableSize> t{};
    const auto* d = model::Span::descriptor();
    auto set = [&](const char* name, uint8_t kind, uint8_t index) {
      const auto* f = d->FindFieldByName(name);
      if (f != nullptr && f->number() > 0 && static_cast<size_t>(f->number()) < kWireTableSize)
        t[static_cast<size_t>(f->number())] = WireField{kind, index};
    };
    for (const char* n : {"resource", "scope_name", "scope_version", "scope_attributes"}) set(n, kWireScope, 0);
    set("input_json", kWirePayload, 0);
    set("output_json", kWirePayload, 1);
    set("input_head", kWireShared, 0);
    set("input_tail_key", kWireShared, 1);
    set("output_head", kWireShared, 2);
    set("output_tail_key", kWireShared, 3);
    set("attributes", kWireAttr, 0);
    set("trace_id", kWireBytes, 0);
    set("span_id", kWireBytes, 1);
    set("parent_span_id", kWireBytes, 2);
    set("start_ns", kWireTime, 0);
    set("end_ns", kWireTime, 1);
    set("received_ns", kWireTime, 2);
    for (size_t i = 0; i < std::size(fields::kStrFields); ++i)
      set(fields::kStrFields[i].name, kWireString, static_cast<uint8_t>(i));
    for (size_t i = 0; i < std::size(fields::kByteFields); ++i)
      set(fields::kByteFields[i].name, kWireEnum, static_cast<uint8_t>(i));
    for (size_t i = 0; i < std::size(fields::kIntFields); ++i)
      set(fields::kIntFields[i].name, kWireInt, static_cast<uint8_t>(i));
    for (size_t i = 0; i < std::size(fields::kDoubleFields); ++i)
      set(fields::kDoubleFields[i].name, kWireDouble, static_cast<uint8_t>(i));
    return t;
  }();
  return table;
}

// Decodes one column field into *cols. False when its wire type is not the field's (the
// parser would keep it as an unknown field) or a string is not UTF-8 (the parser refuses
// it); *to_rest when an enum value is one the byte column cannot hold (it stays in rest,
// as SplitSpan leaves it).
bool DecodeColumnField(WireField f, uint32_t wt, uint64_t scalar, std::string_view bytes, model::Span* cols,
                       bool* to_rest) {
  switch (f.kind) {
    case kWireBytes: {
      if (wt != 2) return false;
      std::string* s = f.index == 0 ? cols->mutable_trace_id()
                       : f.index == 1 ? cols->mutable_span_id()
                                      : cols->mutable_parent_span_id();
      s->assign(bytes.data(), bytes.size());
      return true;
    }
    case kWireTime: {
      if (wt != 0) return false;
      const auto v = static_cast<int64_t>(scalar);
      if (f.index == 0) cols->set_start_ns(v);
      else if (f.index == 1) cols->set_end_ns(v);
      else cols->set_received_ns(v);
      return true;
    }
    case kWireString:
      if (wt != 2 || !IsValidUtf8(bytes)) return false;
      fields::kStrFields[f.index].mut(cols)->assign(bytes.data(), bytes.size());
      return true;
    case kWireEnum: {
      if (wt != 0) return false;
      const auto v = static_cast<int32_t>(scalar);  // protobuf reads an enum as int32
      if (v < 0 || v > 255) {
        *to_rest = true;
        return true;
      }
      fields::kByteFields[f.index].set(cols, v);
      return true;
    }
    case kWireInt:
      if (wt != 0) return false;
      fields::kIntFields[f.index].set(cols, static_cast<int64_t>(scalar));
      return true;
    case kWireDouble: {
      if (wt != 1) return false;
      double d;
      std::memcpy(&d, &scalar, sizeof d);
      fields::kDoubleFields[f.index].set(cols, d);
      return true;
    }
    default: return false;
  }
}

}  // namespace

bool SplitWire(std::string_view serialized, WireParts* out) {
  out->scope.clear();
  out->input = out->output = {};
  out->input_head = out->input_key = out->output_head = out->output_key = {};
  out->attrs.clear();
  out->rest.clear();
  out->cols.Clear();
  const auto& table = WireTable();
  uint64_t seen = 0;  // singular fields met so far, by number: a repeat is left to the parser
  std::string_view in = serialized;
  const char* run = serialized.data();  // start of the rest's fields not yet copied into rest
  while (!in.empty()) {
    const char* field_start = in.data();
    uint32_t number = 0, wt = 0;
    uint64_t scalar = 0;
    std::string_view value;  // length-delimited payload
    if (!NextField(&in, &number, &wt, &value, &scalar)) return false;
    const WireField f = number < kWireTableSize ? table[number] : WireField{};
    if (f.kind == kWireRest) continue;
    bool to_rest = false;
    if (f.kind != kWireScope && f.kind != kWireAttr) {  // singular fields
      const uint64_t bit = uint64_t{1} << number;
      if ((seen & bit) != 0) return false;
      seen |= bit;
    }
    if (f.kind == kWireScope || f.kind == kWirePayload || f.kind == kWireAttr || f.kind == kWireShared) {
      if (wt != 2) return false;
      if (f.kind == kWireShared) {
        std::string_view* to[] = {&out->input_head, &out->input_key, &out->output_head, &out->output_key};
        *to[f.index & 3] = value;
      } else if (f.kind == kWireScope) {
        out->scope.append(field_start, static_cast<size_t>(in.data() - field_start));
      } else if (f.kind == kWireAttr) {
        out->attrs.emplace_back();
        if (!WalkKeyValue(value, &out->attrs.back())) return false;
      } else if (f.index == 0) {
        out->input = value;
      } else {
        out->output = value;
      }
    } else {
      if (!DecodeColumnField(f, wt, scalar, value, &out->cols, &to_rest)) return false;
    }
    if (to_rest) continue;
    if (field_start != run) out->rest.append(run, static_cast<size_t>(field_start - run));
    run = in.data();
  }
  out->rest.append(run, static_cast<size_t>(serialized.data() + serialized.size() - run));
  return true;
}

void AddCell(Row* row, std::string_view key, uint8_t type, std::string_view text, std::string_view raw, bool large) {
  AttrCell c;
  c.type = type;
  c.large = large;
  std::string& b = row->attr_buf;
  c.key_off = static_cast<uint32_t>(b.size());
  c.key_len = static_cast<uint32_t>(key.size());
  b.append(key);
  c.text_off = static_cast<uint32_t>(b.size());
  c.text_len = static_cast<uint32_t>(text.size());
  b.append(text);
  c.raw_off = static_cast<uint32_t>(b.size());
  c.raw_len = static_cast<uint32_t>(raw.size());
  b.append(raw);
  row->attrs.push_back(c);
}

size_t RowRawBytes(const Row& row) {
  return row.cols.ByteSizeLong() + row.attr_buf.size() + 4 * row.attrs.size() + row.scope.size() + row.rest.size() +
         8 * row.large_attrs.size() + 4 * (row.input.pieces.size() + row.output.pieces.size()) + 16;
}

bool TakeRowRefs(Row* row, SpanPayloadRefs* pre) {
  row->large_attrs.clear();
  size_t next = 0;
  for (size_t i = 0; i < row->attrs.size(); ++i) {
    if (!row->attrs[i].large) continue;
    RefList* l = PreLarge(pre, &next, i);
    if (l == nullptr) return false;
    row->large_attrs.emplace_back(static_cast<uint32_t>(i), std::move(*l));
  }
  if (next != pre->large.size()) return false;
  row->input = std::move(pre->input);
  row->output = std::move(pre->output);
  row->payload_bytes = pre->payload_bytes;
  row->raw_bytes = RowRawBytes(*row);
  return true;
}

// A span's input or output is often one of its large attributes again, byte for byte:
// the canonical input made from gen_ai.input.messages, which the span keeps as it came.
// Its reference list is then that attribute's, without splitting and hashing the value
// a second time. It is the list AddValue would return: every piece of it was added
// with the attribute.
template <typename AttrValue>
RefList AddValueOnce(PayloadWriter* payloads, std::string_view value, const Row& row, const AttrValue& attr_value) {
  if (value.size() >= kLargeAttrBytes) {
    for (const auto& [i, refs] : row.large_attrs)
      if (attr_value(i) == value) return refs;
  }
  return payloads->AddValue(value, true);
}

bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// A walked span's input or output. In the record form it is head + value[1:] of the
// first attribute named key: its list is then the head's pieces followed by the
// attribute's when both split with "," and the attribute's elements begin at its second
// byte, which makes it the list AddValue would give the whole payload; otherwise the
// payload is put together and added. *bytes gets the whole payload's size.
RefList AddWirePayload(WireParts* wire, std::string_view payload, std::string_view head, std::string_view key,
                       PayloadWriter* payloads, const Row& row, uint64_t* bytes) {
  auto attr_value = [&](uint32_t i) { return wire->attrs[i].value; };
  if (key.empty() || !payload.empty()) {
    *bytes += payload.size();
    return AddValueOnce(payloads, payload, row, attr_value);
  }
  size_t i = 0;
  while (i < wire->attrs.size() && wire->attrs[i].key != key) ++i;
  if (i == wire->attrs.size() || wire->attrs[i].type != kAttrString || wire->attrs[i].value.empty())
    return RefList{};  // its attribute is missing: the payload reads empty, as ResolvePayloads leaves it
  const std::string_view value = wire->attrs[i].value;
  *bytes += head.size() + value.size() - 1;
  const RefList* refs = nullptr;
  for (const auto& [j, l] : row.large_attrs)
    if (j == i) refs = &l;
  if (refs != nullptr && head == "[") return *refs;  // the payload is the attribute's value
  if (refs != nullptr && refs->kind == kRefArray && head.size() >= 3 && head.front() == '[' && head.back() == ',' &&
      value.size() >= 2 && !IsJsonSpace(value[1])) {
    wire->joined.assign(head.substr(0, head.size() - 1));
    wire->joined.push_back(']');
    uint8_t kind = 0;
    if (SplitJsonArray(wire->joined, &wire->elems, &kind) && kind == kRefArray) {
      RefList r;
      r.kind = kRefArray;
      r.pieces.reserve(wire->elems.size() + refs->pieces.size());
      for (std::string_view e : wire->elems) r.pieces.push_back(payloads->AddPiece(e));
      r.pieces.insert(r.pieces.end(), refs->pieces.begin(), refs->pieces.end());
      return r;
    }
  }
  JoinShared(head, value, &wire->joined);
  return payloads->AddValue(wire->joined, true);
}

void SplitWireSpan(WireParts* wire, PayloadWriter* payloads, Row* row, SpanPayloadRefs* pre) {
  row->trace = TraceKey::FromBytes(wire->cols.trace_id());
  wire->cols.clear_trace_id();
  row->cols.Swap(&wire->cols);  // the row's old message goes to wire for its next walk
  row->large_attrs.clear();
  row->payload_bytes = 0;
  row->attrs.clear();
  row->attr_buf.clear();
  CellsFromWire(wire->attrs, payloads, row, pre);
  if (pre != nullptr) {
    row->input = std::move(pre->input);
    row->output = std::move(pre->output);
    row->payload_bytes += pre->payload_bytes;
  } else {
    row->input = AddWirePayload(wire, wire->input, wire->input_head, wire->input_key, payloads, *row, &row->payload_bytes);
    row->output =
        AddWirePayload(wire, wire->output, wire->output_head, wire->output_key, payloads, *row, &row->payload_bytes);
  }
  row->scope.swap(wire->scope);
  row->rest.swap(wire->rest);
  row->raw_bytes = RowRawBytes(*row);
}

void SplitSpan(model::Span* span, PayloadWriter* payloads, Row* row, model::Span* scratch, SpanPayloadRefs* pre) {
  (void)ResolvePayloads(span);  // a record's span: its payloads whole, the record fields cleared
  row->trace = TraceKey::FromBytes(span->trace_id());
  model::Span& c = row->cols;
  c.Clear();
  span->clear_trace_id();
  c.mutable_span_id()->swap(*span->mutable_span_id());
  c.mutable_parent_span_id()->swap(*span->mutable_parent_span_id());
  span->clear_span_id();
  span->clear_parent_span_id();
  c.set_start_ns(span->start_ns());
  c.set_end_ns(span->end_ns());
  c.set_received_ns(span->received_ns());
  span->clear_start_ns();
  span->clear_end_ns();
  span->clear_received_ns();
  for (const auto& f : fields::kStrFields) {
    f.mut(&c)->swap(*f.mut(span));
    f.mut(span)->clear();
  }
  for (const auto& f : fields::kByteFields) {
    int v = f.get(*span);
    if (v >= 0 && v <= 255) {  // an out-of-range enum value stays in rest
      f.set(&c, v);
      f.set(span, 0);
    }
  }
  for (const auto& f : fields::kIntFields) {
    if (f.has(*span)) f.set(&c, f.get(*span));
    f.clear(span);
  }
  for (const auto& f : fields::kDoubleFields) {
    if (f.has(*span)) f.set(&c, f.get(*span));
    f.clear(span);
  }
  row->large_attrs.clear();
  row->payload_bytes = 0;
  row->attrs.clear();
  row->attr_buf.clear();
  CellsFromMessages(span->attributes(), payloads, row, pre);
  if (pre != nullptr) {
    row->input = std::move(pre->input);
    row->output = std::move(pre->output);
    row->payload_bytes += pre->payload_bytes;
  } else {
    auto attr_value = [&](uint32_t i) -> std::string_view {
      return span->attributes(static_cast<int>(i)).value().string_value();
    };
    row->input = AddValueOnce(payloads, span->input_json(), *row, attr_value);
    row->output = AddValueOnce(payloads, span->output_json(), *row, attr_value);
    row->payload_bytes += span->input_json().size() + span->output_json().size();
  }
  span->mutable_attributes()->Clear();
  // Cleared values keep their capacity for the next parse into this span; a large
  // payload's buffer is given back instead.
  for (std::string* p : {span->mutable_input_json(), span->mutable_output_json()}) {
    if (p->capacity() > kKeptPayloadCapacity) std::string().swap(*p);
    p->clear();
  }
  span->clear_input_json();
  span->clear_output_json();

  // The scope fields go through scratch and back (after rest is serialized), so their
  // allocations stay with span for its next parse.
  model::Span& scope = *scratch;
  scope.mutable_resource()->Swap(span->mutable_resource());
  scope.mutable_scope_name()->swap(*span->mutable_scope_name());
  scope.mutable_scope_version()->swap(*span->mutable_scope_version());
  scope.mutable_scope_attributes()->Swap(span->mutable_scope_attributes());
  row->scope.clear();
  (void)scope.SerializeToString(&row->scope);
  row->rest.clear();
  (void)span->SerializeToString(&row->rest);
  span->mutable_resource()->Swap(scope.mutable_resource());
  span->mutable_scope_name()->swap(*scope.mutable_scope_name());
  span->mutable_scope_version()->swap(*scope.mutable_scope_version());
  span->mutable_scope_attributes()->Swap(scope.mutable_scope_attributes());
  scope.Clear();
  row->raw_bytes = RowRawBytes(*row);
}

void EncodeBlock(const Row* rows, size_t n, std::vector<EncodedColumn>* out) {
  out->clear();
  auto emit = [&](uint8_t id, std::string raw, uint32_t nulls) {
    if (!raw.empty()) out->push_back(EncodedColumn{id, std::move(raw), nulls});
  };
  const size_t bm_len = (n + 7) / 8;

  {  // trace ids, run-length
    std::string runs;
    size_t count = 0;
    for (size_t r = 0; r < n;) {
      size_t e = r;
      while (e < n && rows[e].trace == rows[r].trace) ++e;
      runs.append(rows[r].trace.ToBytes());
      PutVarint64(&runs, e - r);
      ++count;
      r = e;
    }
    std::string raw;
    PutVarint64(&raw, count);
    raw.append(runs);
    emit(kColTraceId, std::move(raw), 0);
  }
  {
    std::string raw;
    raw.reserve(8 * n);
    for (size_t r = 0; r < n; ++r) raw.append(rows[r].cols.span_id());
    emit(kColSpanId, std::move(raw), 0);
  }
  {
    std::string bm(bm_len, '\0'), ids;
    uint32_t roots = 0;
    for (size_t r = 0; r < n; ++r) {
      const std::string& p = rows[r].cols.parent_span_id();
      if (p.empty()) {
        ++roots;
        continue;
      }
      SetBit(&bm, r);
      ids.append(p);
    }
    emit(kColParentSpanId, roots == n ? std::string() : bm + ids, roots);
  }
  // Written after kColRest (ids ascending) when chosen: received_ns as running deltas,
  // computed_cost_usd by reference to cost_usd.
  std::string received_run, computed_ref, attr_text_ref;
  uint32_t computed_ref_nulls = 0;
  {
    std::string starts, ends, received;
    bool any_end = false, any_received = false;
    int64_t prev = 0, prev_received = 0;
    // The byte columns in the same pass.
    constexpr size_t kBytes = std::size(fields::kByteFields);
    std::string byte_raw[kBytes];
    bool byte_any[kBytes] = {};
    for (size_t k = 0; k < kBytes; ++k) byte_raw[k].assign(n, '\0');
    for (size_t r = 0; r < n; ++r) {
      const model::Span& c = rows[r].cols;
      for (size_t k = 0; k < kBytes; ++k) {
        const char b = static_cast<char>(fields::kByteFields[k].get(c));
        byte_raw[k][r] = b;
        byte_any[k] |= b != 0;
      }
      PutSigned(&starts, WrapSub(c.start_ns(), prev));
      prev = c.start_ns();
      int64_t d = WrapSub(c.end_ns(), c.start_ns());
      any_end |= d != 0;
      PutSigned(&ends, d);
      int64_t rd = WrapSub(c.received_ns(), c.end_ns());
      any_received |= rd != 0;
      PutSigned(&received, rd);
      PutSigned(&received_run, WrapSub(c.received_ns(), prev_received));
      prev_received = c.received_ns();
    }
    // The spans of one request share a receive time, and a block's rows (grouped by
    // trace) come mostly from a few requests: the running form is then mostly zeros,
    // where the offset from the end varies with every span. The smaller one is kept.
    if (!any_received || received.size() <= received_run.size()) received_run.clear();
    if (!received_run.empty()) received.clear();
    emit(kColStart, std::move(starts), 0);
    emit(kColEnd, any_end ? std::move(ends) : std::string(), 0);
    // Byte columns (ids 6..9) come before received_ns (10) in id order.
    for (size_t k = 0; k < kBytes; ++k)
      emit(fields::kByteFields[k].id, byte_any[k] ? std::move(byte_raw[k]) : std::string(), 0);
    emit(kColReceived, any_received ? std::move(received) : std::string(), 0);
  }
  {
    // The string columns in one pass over the rows, not one pass per column: each row's
    // span is read once (a block's rows are megabytes, and a pass per column read them
    // from memory again for each of the columns).
    constexpr size_t kStr = std::size(fields::kStrFields);
    DictColumn cols[kStr];
    for (size_t r = 0; r < n; ++r) {
      const model::Span& c = rows[r].cols;
      for (size_t k = 0; k < kStr; ++k) cols[k].Add(fields::kStrFields[k].get(c), r);
    }
    for (size_t k = 0; k < kStr; ++k) {
      uint32_t empties = 0;
      std::string raw = cols[k].Finish(n, &empties);
      emit(fields::kStrFields[k].id, std::move(raw), empties);
    }
  }
  // The integer and double columns in one pass over the rows.
  constexpr size_t kInts = std::size(fields::kIntFields), kDoubles = std::size(fields::kDoubleFields);
  std::string int_bm[kInts], int_vals[kInts], dbl_bm[kDoubles], dbl_vals[kDoubles];
  uint32_t int_nulls[kInts] = {}, dbl_nulls[kDoubles] = {};
  for (size_t k = 0; k < kInts; ++k) int_bm[k].assign(bm_len, '\0');
  for (size_t k = 0; k < kDoubles; ++k) dbl_bm[k].assign(bm_len, '\0');
  std::string computed_differs(bm_len, '\0'), computed_own;
  uint32_t computed_same = 0;
  for (size_t r = 0; r < n; ++r) {
    const model::Span& c = rows[r].cols;
    for (size_t k = 0; k < kInts; ++k) {
      const auto& f = fields::kIntFields[k];
      if (!f.has(c)) {
        ++int_nulls[k];
        continue;
      }
      SetBit(&int_bm[k], r);
      PutSigned(&int_vals[k], f.get(c));
    }
    for (size_t k = 0; k < kDoubles; ++k) {
      const auto& f = fields::kDoubleFields[k];
      if (!f.has(c)) {
        ++dbl_nulls[k];
        continue;
      }
      SetBit(&dbl_bm[k], r);
      PutDouble(&dbl_vals[k], f.get(c));
    }
    // A computed cost is usually the span's cost too (cost_source computed): those rows
    // refer to cost_usd (the same bits), the others keep their value.
    if (c.has_computed_cost_usd()) {
      const double v = c.computed_cost_usd(), cost = c.cost_usd();
      if (c.has_cost_usd() && std::memcmp(&v, &cost, sizeof v) == 0) {
        ++computed_same;
      } else {
        SetBit(&computed_differs, r);
        PutDouble(&computed_own, v);
      }
    }
  }
  for (size_t k = 0; k < kInts; ++k)
    emit(fields::kIntFields[k].id, int_nulls[k] == n ? std::string() : int_bm[k] + int_vals[k], int_nulls[k]);
  for (size_t k = 0; k < kDoubles; ++k) {
    const auto& f = fields::kDoubleFields[k];
    const std::string& bm = dbl_bm[k];
    const std::string& vals = dbl_vals[k];
    const uint32_t nulls = dbl_nulls[k];
    if (f.id == kColComputedCostUsd && nulls < n) {
      if (computed_same > 0) {
        computed_ref = bm + computed_differs + computed_own;
        computed_ref_nulls = nulls;
        continue;
      }
    }
    emit(f.id, nulls == n ? std::string() : bm + vals, nulls);
  }
  {  // attributes: keys, text, types, large values
    std::unordered_map<std::string_view, uint32_t> key_ids;
    std::vector<std::string_view> dict;
    std::vector<std::pair<std::string_view, uint32_t>> key_at;
    std::string per_row, text, text_ref, types;
    RefListEncoder large;
    bool any_attr = false, any_type = false, any_large = false, any_ref = false;
    uint32_t bare_rows = 0;
    std::vector<uint8_t> ref_at;  // per key position: the column the last reference there named
    for (size_t r = 0; r < n; ++r) {
      const Row& row = rows[r];
      const std::string_view buf = row.attr_buf;
      PutVarint64(&per_row, static_cast<uint64_t>(row.attrs.size()));
      if (row.attrs.empty()) ++bare_rows;
      size_t next_large = 0;
      for (size_t i = 0; i < row.attrs.size(); ++i) {
        any_attr = true;
        const AttrCell& cell = row.attrs[i];
        const std::string_view key = buf.substr(cell.key_off, cell.key_len);
        // Spans of one shape list the same keys in the same order: the key at this
        // position in an earlier row is tried before the hash map.
        if (i >= key_at.size()) {
          key_at.resize(i + 1, {{}, UINT32_MAX});
          ref_at.resize(i + 1, 0);
        }
        auto& [seen_key, seen_id] = key_at[i];
        if (seen_id == UINT32_MAX || seen_key != key) {
          auto [it, inserted] = key_ids.try_emplace(key, static_cast<uint32_t>(dict.size()));
          if (inserted) dict.push_back(key);
          seen_key = it->first;
          seen_id = it->second;
        }
        PutVarint64(&per_row, seen_id);
        if (cell.large) {
          PutVarint64(&text, 0);
          PutVarint64(&text_ref, 0);
          types.push_back(static_cast<char>(kAttrString));
          large.Add(row.large_attrs[next_large++].second);
          any_large = true;
          continue;
        }
        const std::string_view value = buf.substr(cell.text_off, cell.text_len);
        PutVarint64(&text, uint64_t{cell.text_len} + 1);
        text.append(value);
        // A value the row's canonical column holds byte for byte (session.id and
        // session_id, gen_ai.usage.input_tokens and input_tokens, ...) names the column.
        if (const uint8_t col = ColumnHoldingText(row.cols, cell.type, value, ref_at[i]); col != 0) {
          ref_at[i] = col;
          text_ref.push_back(1);
          text_ref.push_back(static_cast<char>(col));
          any_ref = true;
        } else {
          PutVarint64(&text_ref, uint64_t{cell.text_len} + 2);
          text_ref.append(value);
        }
        types.push_back(static_cast<char>(cell.type));
        any_type |= cell.type != kAttrString;
        if (cell.type == kAttrRaw) PutLengthPrefixed(&types, buf.substr(cell.raw_off, cell.raw_len));
      }
    }
    if (any_attr) {
      std::string keys;
      PutVarint64(&keys, dict.size());
      for (std::string_view k : dict) PutLengthPrefixed(&keys, k);
      keys.append(per_row);
      emit(kColAttrKeys, std::move(keys), bare_rows);
      if (any_ref) {
        attr_text_ref = std::move(text_ref);  // written last (id 49), instead of 40
      } else {
        emit(kColAttrText, std::move(text), 0);
      }
      if (any_type) emit(kColAttrTypes, std::move(types), 0);
      if (any_large) emit(kColAttrPayload, large.data(), 0);
    }
  }
  for (uint8_t id : {kColInput, kColOutput}) {
    RefListEncoder enc;
    uint32_t absent = 0;
    for (size_t r = 0; r < n; ++r) {
      const RefList& l = id == kColInput ? rows[r].input : rows[r].output;
      if (l.kind == kRefAbsent) ++absent;
      enc.Add(l);
    }
    emit(id, enc.all_absent() ? std::string() : enc.data(), absent);
  }
  {
    DictColumn scope;
    for (size_t r = 0; r < n; ++r) scope.Add(rows[r].scope, r);
    uint32_t empties = 0;
    std::string raw = scope.Finish(n, &empties);
    emit(kColScope, std::move(raw), empties);
  }
  {
    std::string raw;
    uint32_t empties = 0;
    for (size_t r = 0; r < n; ++r) {
      if (rows[r].rest.empty()) ++empties;
      PutLengthPrefixed(&raw, rows[r].rest);
    }
    emit(kColRest, empties == n ? std::string() : std::move(raw), empties);
  }
  emit(kColReceivedRun, std::move(received_run), 0);
  emit(kColComputedCostRef, std::move(computed_ref), computed_ref_nulls);
  emit(kColAttrTextRef, std::move(attr_text_ref), 0);
}

}  // namespace sightline::store::columnar
