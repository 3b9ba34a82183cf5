// Encoding side of block_codec.h: a span into a Row, a block of rows into column chunks.
#include <cstring>
#include <string_view>
#include <unordered_map>

#include "store/coding.h"
#include "store/columnar/block_codec.h"
#include "store/columnar/block_fields.h"
#include "store/columnar/columnar_format.h"
#include "store/span_codec.h"

namespace sightline::store::columnar {
namespace {

// SplitSpan leaves cleared strings their capacity for the next parse into the same
// message, up to this; a larger payload buffer is freed.
constexpr size_t kKeptPayloadCapacity = 64 << 10;

using opentelemetry::proto::common::v1::AnyValue;

// Subtraction without signed overflow (deltas of arbitrary int64 times wrap, and the
// decoder's wrapping addition undoes them exactly).
int64_t WrapSub(int64_t a, int64_t b) { return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b)); }

// The attribute's type byte and its text (AnyValueText); a value whose text does not
// give it back exactly is kAttrRaw.
uint8_t AttrTypeAndText(const AnyValue& v, std::string* text) {
  switch (v.value_case()) {
    case AnyValue::kStringValue: *text = v.string_value(); return kAttrString;
    case AnyValue::VALUE_NOT_SET: text->clear(); return kAttrUnset;
    case AnyValue::kBoolValue:
    case AnyValue::kIntValue:
    case AnyValue::kDoubleValue:
    case AnyValue::kBytesValue: {
      *text = AnyValueText(v);
      uint8_t type = v.value_case() == AnyValue::kBoolValue  ? kAttrBool
                     : v.value_case() == AnyValue::kIntValue ? kAttrInt
                     : v.value_case() == AnyValue::kDoubleValue ? kAttrDouble
                                                                 : kAttrBytes;
      AnyValue back;
      if (AnyValueFromText(type, *text, {}, &back) && back.SerializeAsString() == v.SerializeAsString()) return type;
      return kAttrRaw;
    }
    default: *text = AnyValueText(v); return kAttrRaw;
  }
}

// Dictionary encoding: varint n, n length-prefixed entries (first-seen order), varint
// index per row. Returns "" when every value is empty.
template <typename Get>
std::string EncodeDict(size_t n, Get&& get, uint32_t* empties) {
  std::unordered_map<std::string_view, uint32_t> ids;
  std::vector<std::string_view> dict;
  std::string idx;
  *empties = 0;
  for (size_t r = 0; r < n; ++r) {
    std::string_view v = get(r);
    if (v.empty()) ++*empties;
    auto [it, inserted] = ids.try_emplace(v, static_cast<uint32_t>(dict.size()));
    if (inserted) dict.push_back(v);
    PutVarint64(&idx, it->second);
  }
  if (*empties == n) return {};
  std::string out;
  PutVarint64(&out, dict.size());
  for (std::string_view d : dict) PutLengthPrefixed(&out, d);
  out.append(idx);
  return out;
}

void SetBit(std::string* bm, size_t r) { (*bm)[r / 8] = static_cast<char>(static_cast<uint8_t>((*bm)[r / 8]) | (1u << (r % 8))); }

}  // namespace

bool SplitWire(std::string_view serialized, WireParts* out) {
  out->scope.clear();
  out->input = out->output = {};
  out->buf.clear();
  bool taken = false;
  std::string_view in = serialized;
  while (!in.empty()) {
    const char* field_start = in.data();
    uint64_t tag = 0;
    if (!GetVarint64(&in, &tag) || (tag >> 3) == 0 || (tag >> 3) > 536870911) return false;
    const uint64_t number = tag >> 3;
    std::string_view value;  // length-delimited payload
    switch (tag & 7) {
      case 0: {
        uint64_t v = 0;
        if (!GetVarint64(&in, &v)) return false;
        break;
      }
      case 1:
        if (in.size() < 8) return false;
        in.remove_prefix(8);
        break;
      case 2: {
        uint64_t n = 0;
        if (!GetVarint64(&in, &n) || n > in.size()) return false;
        value = in.substr(0, n);
        in.remove_prefix(n);
        break;
      }
      case 5:
        if (in.size() < 4) return false;
        in.remove_prefix(4);
        break;
      default:
        return false;  // groups (no field of Span is one) and invalid wire types
    }
    const std::string_view field(field_start, static_cast<size_t>(in.data() - field_start));
    const bool scope = number == model::Span::kResourceFieldNumber || number == model::Span::kScopeNameFieldNumber ||
                       number == model::Span::kScopeVersionFieldNumber ||
                       number == model::Span::kScopeAttributesFieldNumber;
    const bool payload =
        number == model::Span::kInputJsonFieldNumber || number == model::Span::kOutputJsonFieldNumber;
    if ((scope || payload) && (tag & 7) != 2) return false;
    if (scope || payload) {
      if (!taken) out->buf.assign(serialized.data(), static_cast<size_t>(field_start - serialized.data()));
      taken = true;
      if (scope) out->scope.append(field);
      else if (number == model::Span::kInputJsonFieldNumber) out->input = value;
      else out->output = value;
    } else if (taken) {
      out->buf.append(field);
    }
  }
  out->others = taken ? std::string_view(out->buf) : serialized;
  return true;
}

void SplitSpan(model::Span* span, PayloadWriter* payloads, Row* row, model::Span* scratch, WireParts* wire) {
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
  c.mutable_attributes()->Swap(span->mutable_attributes());
  row->large_attrs.clear();
  for (int i = 0; i < c.attributes_size(); ++i) {
    if (!c.attributes(i).has_value()) continue;
    AnyValue* v = c.mutable_attributes(i)->mutable_value();
    if (v->value_case() == AnyValue::kStringValue && v->string_value().size() >= kLargeAttrBytes) {
      row->large_attrs.emplace_back(static_cast<uint32_t>(i), payloads->AddValue(v->string_value(), true));
      v->mutable_string_value()->clear();
    }
  }
  if (wire != nullptr) {
    row->input = payloads->AddValue(wire->input, true);
    row->output = payloads->AddValue(wire->output, true);
    row->scope.swap(wire->scope);
    row->rest.clear();
    (void)span->SerializeToString(&row->rest);
    row->raw_bytes = c.ByteSizeLong() + row->scope.size() + row->rest.size() + 8 * row->large_attrs.size() +
                     4 * (row->input.pieces.size() + row->output.pieces.size()) + 16;
    return;
  }
  row->input = payloads->AddValue(span->input_json(), true);
  row->output = payloads->AddValue(span->output_json(), true);
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
  row->raw_bytes = c.ByteSizeLong() + row->scope.size() + row->rest.size() + 8 * row->large_attrs.size() +
                   4 * (row->input.pieces.size() + row->output.pieces.size()) + 16;
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
  {
    std::string starts, ends, received;
    bool any_end = false, any_received = false;
    int64_t prev = 0;
    for (size_t r = 0; r < n; ++r) {
      const model::Span& c = rows[r].cols;
      PutSigned(&starts, WrapSub(c.start_ns(), prev));
      prev = c.start_ns();
      int64_t d = WrapSub(c.end_ns(), c.start_ns());
      any_end |= d != 0;
      PutSigned(&ends, d);
      int64_t rd = WrapSub(c.received_ns(), c.end_ns());
      any_received |= rd != 0;
      PutSigned(&received, rd);
    }
    emit(kColStart, std::move(starts), 0);
    emit(kColEnd, any_end ? std::move(ends) : std::string(), 0);
    // Byte columns (ids 6..9) come before received_ns (10) in id order.
    for (const auto& f : fields::kByteFields) {
      std::string raw(n, '\0');
      bool any = false;
      for (size_t r = 0; r < n; ++r) {
        raw[r] = static_cast<char>(f.get(rows[r].cols));
        any |= raw[r] != 0;
      }
      emit(f.id, any ? std::move(raw) : std::string(), 0);
    }
    emit(kColReceived, any_received ? std::move(received) : std::string(), 0);
  }
  for (const auto& f : fields::kStrFields) {
    uint32_t empties = 0;
    std::string raw = EncodeDict(n, [&](size_t r) -> std::string_view { return f.get(rows[r].cols); }, &empties);
    emit(f.id, std::move(raw), empties);
  }
  for (const auto& f : fields::kIntFields) {
    std::string bm(bm_len, '\0'), vals;
    uint32_t nulls = 0;
    for (size_t r = 0; r < n; ++r) {
      if (!f.has(rows[r].cols)) {
        ++nulls;
        continue;
      }
      SetBit(&bm, r);
      PutSigned(&vals, f.get(rows[r].cols));
    }
    emit(f.id, nulls == n ? std::string() : bm + vals, nulls);
  }
  for (const auto& f : fields::kDoubleFields) {
    std::string bm(bm_len, '\0'), vals;
    uint32_t nulls = 0;
    for (size_t r = 0; r < n; ++r) {
      if (!f.has(rows[r].cols)) {
        ++nulls;
        continue;
      }
      SetBit(&bm, r);
      PutDouble(&vals, f.get(rows[r].cols));
    }
    emit(f.id, nulls == n ? std::string() : bm + vals, nulls);
  }
  {  // attributes: keys, text, types, large values
    std::unordered_map<std::string_view, uint32_t> key_ids;
    std::vector<std::string_view> dict;
    std::string per_row, text, types, text_scratch;
    RefListEncoder large;
    bool any_attr = false, any_type = false, any_large = false;
    uint32_t bare_rows = 0;
    for (size_t r = 0; r < n; ++r) {
      const auto& attrs = rows[r].cols.attributes();
      PutVarint64(&per_row, static_cast<uint64_t>(attrs.size()));
      if (attrs.empty()) ++bare_rows;
      size_t next_large = 0;
      const auto& larges = rows[r].large_attrs;
      for (int i = 0; i < attrs.size(); ++i) {
        any_attr = true;
        const auto& kv = attrs[i];
        auto [it, inserted] = key_ids.try_emplace(kv.key(), static_cast<uint32_t>(dict.size()));
        if (inserted) dict.push_back(kv.key());
        PutVarint64(&per_row, it->second);
        if (next_large < larges.size() && larges[next_large].first == static_cast<uint32_t>(i)) {
          PutVarint64(&text, 0);
          types.push_back(static_cast<char>(kAttrString));
          large.Add(larges[next_large].second);
          any_large = true;
          ++next_large;
          continue;
        }
        uint8_t type = kv.has_value() ? AttrTypeAndText(kv.value(), &text_scratch) : uint8_t{kAttrNoValue};
        if (type == kAttrNoValue) text_scratch.clear();
        PutVarint64(&text, text_scratch.size() + 1);
        text.append(text_scratch);
        types.push_back(static_cast<char>(type));
        any_type |= type != kAttrString;
        if (type == kAttrRaw) PutLengthPrefixed(&types, kv.value().SerializeAsString());
      }
    }
    if (any_attr) {
      std::string keys;
      PutVarint64(&keys, dict.size());
      for (std::string_view k : dict) PutLengthPrefixed(&keys, k);
      keys.append(per_row);
      emit(kColAttrKeys, std::move(keys), bare_rows);
      emit(kColAttrText, std::move(text), 0);
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
    uint32_t empties = 0;
    std::string raw = EncodeDict(n, [&](size_t r) -> std::string_view { return rows[r].scope; }, &empties);
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
}

}  // namespace sightline::store::columnar
