// Decoding side of block_codec.h: every decoder checks counts, indexes and lengths and
// consumes its input exactly.
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "common/hex.h"
#include "store/coding.h"
#include "store/columnar/block_codec.h"
#include "store/columnar/block_fields.h"
#include "store/columnar/columnar_format.h"
#include "store/columnar/span_columns.h"

namespace sightline::store::columnar {
namespace {

using opentelemetry::proto::common::v1::AnyValue;

int64_t WrapAdd(int64_t a, int64_t b) { return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b)); }

bool Bit(std::string_view bm, size_t r) { return (static_cast<uint8_t>(bm[r / 8]) >> (r % 8)) & 1; }

// A bitmap of rows bits at the front of *in; *present gets one byte per row.
bool TakeBitmap(std::string_view* in, size_t rows, std::vector<uint8_t>* present, size_t* set) {
  size_t len = (rows + 7) / 8;
  if (in->size() < len) return false;
  std::string_view bm = in->substr(0, len);
  present->assign(rows, 0);
  *set = 0;
  for (size_t r = 0; r < rows; ++r) {
    if (Bit(bm, r)) {
      (*present)[r] = 1;
      ++*set;
    }
  }
  // Bits past the last row must be clear: anything else is damage.
  for (size_t r = rows; r < len * 8; ++r)
    if (Bit(bm, r)) return false;
  in->remove_prefix(len);
  return true;
}

}  // namespace

bool DecodeTraceIds(std::string_view in, size_t rows, std::vector<TraceKey>* out) {
  out->clear();
  uint64_t runs;
  if (!GetVarint64(&in, &runs) || runs > in.size() / 17) return false;
  out->reserve(rows);
  for (uint64_t i = 0; i < runs; ++i) {
    if (in.size() < 16) return false;
    TraceKey k = TraceKey::FromBytes(in.substr(0, 16));
    in.remove_prefix(16);
    uint64_t len;
    if (!GetVarint64(&in, &len) || len == 0 || len > rows - out->size()) return false;
    out->insert(out->end(), static_cast<size_t>(len), k);
  }
  return in.empty() && out->size() == rows;
}

bool DecodeSpanIds(std::string_view in, size_t rows, std::vector<uint64_t>* out) {
  if (in.size() != rows * 8) return false;
  out->resize(rows);
  for (size_t r = 0; r < rows; ++r) std::memcpy(&(*out)[r], in.data() + 8 * r, 8);
  return true;
}

bool DecodeParents(std::string_view in, size_t rows, std::vector<uint64_t>* out, std::vector<uint8_t>* present) {
  out->assign(rows, 0);
  if (in.empty()) {
    present->assign(rows, 0);
    return true;
  }
  size_t set;
  if (!TakeBitmap(&in, rows, present, &set) || in.size() != set * 8) return false;
  const char* p = in.data();
  for (size_t r = 0; r < rows; ++r) {
    if (!(*present)[r]) continue;
    std::memcpy(&(*out)[r], p, 8);
    p += 8;
  }
  return true;
}

bool DecodeStarts(std::string_view in, size_t rows, std::vector<int64_t>* out) {
  out->resize(rows);
  bool absent = in.empty();  // every start is 0
  int64_t prev = 0;
  for (size_t r = 0; r < rows; ++r) {
    int64_t d = 0;
    if (!absent && !GetSigned(&in, &d)) return false;
    prev = WrapAdd(prev, d);
    (*out)[r] = prev;
  }
  return in.empty();
}

bool DecodeOffsets(std::string_view in, const std::vector<int64_t>& base, std::vector<int64_t>* out) {
  out->resize(base.size());
  bool absent = in.empty();
  for (size_t r = 0; r < base.size(); ++r) {
    int64_t d = 0;
    if (!absent && !GetSigned(&in, &d)) return false;
    (*out)[r] = WrapAdd(base[r], d);
  }
  return in.empty();
}

bool DecodeBytes(std::string_view in, size_t rows, std::vector<uint8_t>* out) {
  if (in.empty()) {
    out->assign(rows, 0);
    return true;
  }
  if (in.size() != rows) return false;
  out->assign(in.begin(), in.end());
  return true;
}

bool DecodeStrings(std::string_view in, size_t rows, std::vector<std::string_view>* out) {
  out->assign(rows, std::string_view());
  if (in.empty()) return true;
  uint64_t n;
  if (!GetVarint64(&in, &n) || n > in.size()) return false;
  std::vector<std::string_view> dict(static_cast<size_t>(n));
  for (auto& d : dict)
    if (!GetLengthPrefixed(&in, &d)) return false;
  for (size_t r = 0; r < rows; ++r) {
    uint64_t i;
    if (!GetVarint64(&in, &i) || i >= n) return false;
    (*out)[r] = dict[static_cast<size_t>(i)];
  }
  return in.empty();
}

bool DecodeNullableInts(std::string_view in, size_t rows, std::vector<int64_t>* out, std::vector<uint8_t>* present) {
  out->assign(rows, kNullInt);
  if (in.empty()) {
    present->assign(rows, 0);
    return true;
  }
  size_t set;
  if (!TakeBitmap(&in, rows, present, &set)) return false;
  for (size_t r = 0; r < rows; ++r) {
    if ((*present)[r] && !GetSigned(&in, &(*out)[r])) return false;
  }
  return in.empty();
}

bool DecodeNullableDoubles(std::string_view in, size_t rows, std::vector<double>* out,
                           std::vector<uint8_t>* present) {
  out->assign(rows, std::numeric_limits<double>::quiet_NaN());
  if (in.empty()) {
    present->assign(rows, 0);
    return true;
  }
  size_t set;
  if (!TakeBitmap(&in, rows, present, &set) || in.size() != set * 8) return false;
  for (size_t r = 0; r < rows; ++r) {
    if ((*present)[r] && !GetDouble(&in, &(*out)[r])) return false;
  }
  return in.empty();
}

bool DecodeComputedCostRef(std::string_view in, const std::vector<double>& cost, const std::vector<uint8_t>& cost_present,
                           std::vector<double>* out, std::vector<uint8_t>* present) {
  const size_t rows = cost.size();
  out->assign(rows, std::numeric_limits<double>::quiet_NaN());
  std::vector<uint8_t> differs;
  size_t set, own;
  if (!TakeBitmap(&in, rows, present, &set) || !TakeBitmap(&in, rows, &differs, &own) || in.size() != own * 8 ||
      cost_present.size() != rows)
    return false;
  for (size_t r = 0; r < rows; ++r) {
    if (differs[r]) {
      if (!(*present)[r] || !GetDouble(&in, &(*out)[r])) return false;
    } else if ((*present)[r]) {
      if (!cost_present[r]) return false;
      (*out)[r] = cost[r];
    }
  }
  return in.empty();
}

bool DecodeAttrKeys(std::string_view in, size_t rows, std::vector<uint32_t>* offsets,
                    std::vector<std::string_view>* keys) {
  offsets->assign(rows + 1, 0);
  keys->clear();
  if (in.empty()) return true;
  uint64_t n;
  if (!GetVarint64(&in, &n) || n > in.size()) return false;
  std::vector<std::string_view> dict(static_cast<size_t>(n));
  for (auto& d : dict)
    if (!GetLengthPrefixed(&in, &d)) return false;
  for (size_t r = 0; r < rows; ++r) {
    uint64_t count;
    if (!GetVarint64(&in, &count) || count > in.size()) return false;
    for (uint64_t i = 0; i < count; ++i) {
      uint64_t k;
      if (!GetVarint64(&in, &k) || k >= n) return false;
      keys->push_back(dict[static_cast<size_t>(k)]);
    }
    if (keys->size() > UINT32_MAX) return false;
    (*offsets)[r + 1] = static_cast<uint32_t>(keys->size());
  }
  return in.empty();
}

bool DecodeAttrText(std::string_view in, size_t attrs, std::vector<std::string_view>* text,
                    std::vector<uint8_t>* large) {
  text->assign(attrs, std::string_view());
  large->assign(attrs, 0);
  if (in.empty()) return attrs == 0;
  for (size_t i = 0; i < attrs; ++i) {
    uint64_t len;
    if (!GetVarint64(&in, &len)) return false;
    if (len == 0) {
      (*large)[i] = 1;
      continue;
    }
    if (len - 1 > in.size()) return false;
    (*text)[i] = in.substr(0, static_cast<size_t>(len - 1));
    in.remove_prefix(static_cast<size_t>(len - 1));
  }
  return in.empty();
}

bool DecodeAttrTextRef(std::string_view in, size_t attrs, std::vector<std::string_view>* text,
                       std::vector<uint8_t>* large, std::vector<uint8_t>* ref) {
  text->assign(attrs, std::string_view());
  large->assign(attrs, 0);
  ref->assign(attrs, 0);
  if (in.empty()) return attrs == 0;
  for (size_t i = 0; i < attrs; ++i) {
    uint64_t t;
    if (!GetVarint64(&in, &t)) return false;
    if (t == 0) {
      (*large)[i] = 1;
    } else if (t == 1) {
      if (in.empty() || !IsAttrRefColumn(static_cast<uint8_t>(in[0]))) return false;
      (*ref)[i] = static_cast<uint8_t>(in[0]);
      in.remove_prefix(1);
    } else {
      if (t - 2 > in.size()) return false;
      (*text)[i] = in.substr(0, static_cast<size_t>(t - 2));
      in.remove_prefix(static_cast<size_t>(t - 2));
    }
  }
  return in.empty();
}

bool DecodeAttrValues(std::string_view text_raw, std::string_view text_ref_raw, size_t attrs,
                      std::vector<std::string_view>* text, std::vector<uint8_t>* large, std::vector<uint8_t>* ref) {
  if (text_ref_raw.empty()) {
    ref->assign(attrs, 0);
    return DecodeAttrText(text_raw, attrs, text, large);
  }
  return text_raw.empty() && DecodeAttrTextRef(text_ref_raw, attrs, text, large, ref);
}

uint64_t AttrRefMask(const std::vector<uint8_t>& ref) {
  uint64_t m = 0;
  for (uint8_t id : ref) m |= uint64_t{1} << id;  // ids < 64 (IsAttrRefColumn)
  return m & ~uint64_t{1};
}

bool IsAttrRefColumn(uint8_t id) { return id >= kColProject && id <= kColReasoningTokens; }

bool AttrRefText(uint8_t id, size_t r, const AttrRefColumns& cols, std::string_view* out, std::deque<std::string>* arena) {
  if (id >= kColMax) return false;
  if (const auto* s = cols.strs[id]) {
    if (r >= s->size()) return false;
    *out = (*s)[r];
    return true;
  }
  const auto* v = cols.ints[id];
  const auto* p = cols.int_present[id];
  if (v == nullptr || p == nullptr || r >= v->size() || r >= p->size() || !(*p)[r]) return false;
  char buf[24];
  *out = arena->emplace_back(IntColumnText((*v)[r], buf));
  return true;
}

bool ResolveAttrRefs(const std::vector<uint32_t>& offsets, const std::vector<uint8_t>& ref, const AttrRefColumns& cols,
                     std::vector<std::string_view>* text, std::deque<std::string>* arena) {
  if (offsets.empty() || offsets.back() != ref.size() || text->size() != ref.size()) return false;
  for (size_t r = 0; r + 1 < offsets.size(); ++r)
    for (uint32_t i = offsets[r]; i < offsets[r + 1]; ++i)
      if (ref[i] != 0 && !AttrRefText(ref[i], r, cols, &(*text)[i], arena)) return false;
  return true;
}

bool DecodeAttrTypes(std::string_view in, size_t attrs, std::vector<uint8_t>* types,
                     std::vector<std::string_view>* raw_values) {
  types->assign(attrs, kAttrString);
  raw_values->assign(attrs, std::string_view());
  if (in.empty()) return true;
  for (size_t i = 0; i < attrs; ++i) {
    if (in.empty()) return false;
    uint8_t t = static_cast<uint8_t>(in[0]);
    in.remove_prefix(1);
    if (t > kAttrNoValue) return false;
    (*types)[i] = t;
    if (t == kAttrRaw && !GetLengthPrefixed(&in, &(*raw_values)[i])) return false;
  }
  return in.empty();
}

bool DecodeRefLists(std::string_view in, size_t count, uint32_t piece_count, std::vector<RefList>* out) {
  RefColumn c;
  if (!c.Decode(in, count, piece_count)) return false;
  out->resize(count);
  for (size_t i = 0; i < count; ++i) c.Get(i, &(*out)[i]);
  return true;
}

bool DecodeLengthPrefixed(std::string_view in, size_t rows, std::vector<std::string_view>* out) {
  out->assign(rows, std::string_view());
  if (in.empty()) return true;
  for (size_t r = 0; r < rows; ++r)
    if (!GetLengthPrefixed(&in, &(*out)[r])) return false;
  return in.empty();
}

bool AnyValueFromText(uint8_t type, std::string_view text, std::string_view raw, AnyValue* out) {
  out->Clear();
  switch (type) {
    case kAttrString: out->set_string_value(std::string(text)); return true;
    case kAttrUnset:
    case kAttrNoValue: return text.empty();
    case kAttrBool:
      if (text == "true" || text == "false") {
        out->set_bool_value(text == "true");
        return true;
      }
      return false;
    case kAttrInt: {
      int64_t v;
      auto r = std::from_chars(text.data(), text.data() + text.size(), v);
      if (r.ec != std::errc() || r.ptr != text.data() + text.size()) return false;
      out->set_int_value(v);
      return true;
    }
    case kAttrDouble: {
      double v;
      auto r = std::from_chars(text.data(), text.data() + text.size(), v);
      if (r.ec != std::errc() || r.ptr != text.data() + text.size()) return false;
      out->set_double_value(v);
      return true;
    }
    case kAttrBytes: {
      auto b = HexDecode(text);
      if (!b) return false;
      out->set_bytes_value(std::move(*b));
      return true;
    }
    case kAttrRaw: return out->ParseFromArray(raw.data(), static_cast<int>(raw.size()));
    default: return false;
  }
}

void SetStringColumn(uint8_t id, std::string_view v, model::Span* s) {
  for (const auto& f : fields::kStrFields)
    if (f.id == id) f.mut(s)->assign(v);
}
void SetByteColumn(uint8_t id, uint8_t v, model::Span* s) {
  for (const auto& f : fields::kByteFields)
    if (f.id == id) f.set(s, v);
}
void SetIntColumn(uint8_t id, int64_t v, model::Span* s) {
  for (const auto& f : fields::kIntFields)
    if (f.id == id) f.set(s, v);
}
void SetDoubleColumn(uint8_t id, double v, model::Span* s) {
  for (const auto& f : fields::kDoubleFields)
    if (f.id == id) f.set(s, v);
}

const std::vector<uint8_t>& StringColumnIds() {
  static const std::vector<uint8_t> ids = [] {
    std::vector<uint8_t> v;
    for (const auto& f : fields::kStrFields) v.push_back(f.id);
    return v;
  }();
  return ids;
}
const std::vector<uint8_t>& ByteColumnIds() {
  static const std::vector<uint8_t> ids = [] {
    std::vector<uint8_t> v;
    for (const auto& f : fields::kByteFields) v.push_back(f.id);
    return v;
  }();
  return ids;
}
const std::vector<uint8_t>& IntColumnIds() {
  static const std::vector<uint8_t> ids = [] {
    std::vector<uint8_t> v;
    for (const auto& f : fields::kIntFields) v.push_back(f.id);
    return v;
  }();
  return ids;
}
const std::vector<uint8_t>& DoubleColumnIds() {
  static const std::vector<uint8_t> ids = [] {
    std::vector<uint8_t> v;
    for (const auto& f : fields::kDoubleFields) v.push_back(f.id);
    return v;
  }();
  return ids;
}

}  // namespace sightline::store::columnar
