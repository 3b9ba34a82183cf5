#include "ingest/normalize/attr_index.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

namespace sightline::ingest::norm {
namespace {

bool EntryLess(const AttrIndex::Entry& a, const AttrIndex::Entry& b) {
  int c = a.key.compare(b.key);
  return c != 0 ? c < 0 : a.pos < b.pos;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

void AttrIndex::Build(const KeyValues& attrs) {
  Clear();
  entries_.reserve(attrs.size());
  uint32_t pos = 0;
  for (const KeyValue& kv : attrs) {
    entries_.push_back({kv.key(), &kv.value(), pos++});
    size_t b = FilterBit(kv.key());
    filter_[b >> 6] |= uint64_t{1} << (b & 63);
  }
  // Senders mostly emit few attributes; insertion sort wins below ~16 and std::sort
  // above. Either way it runs once per span.
  if (entries_.size() <= 16) {
    for (size_t i = 1; i < entries_.size(); ++i) {
      Entry e = entries_[i];
      size_t j = i;
      while (j > 0 && EntryLess(e, entries_[j - 1])) {
        entries_[j] = entries_[j - 1];
        --j;
      }
      entries_[j] = e;
    }
  } else {
    std::sort(entries_.begin(), entries_.end(), EntryLess);
  }
}

const AnyValue* AttrIndex::Find(std::string_view key) const {
  if (!MayContain(key)) return nullptr;
  auto it = std::lower_bound(entries_.begin(), entries_.end(), key,
                             [](const Entry& e, std::string_view k) { return e.key < k; });
  if (it == entries_.end() || it->key != key) return nullptr;
  if (it->value->value_case() == AnyValue::VALUE_NOT_SET) return nullptr;
  return it->value;
}

std::span<const AttrIndex::Entry> AttrIndex::WithPrefix(std::string_view prefix) const {
  auto lo = std::lower_bound(entries_.begin(), entries_.end(), prefix,
                             [](const Entry& e, std::string_view k) { return e.key < k; });
  auto hi = lo;
  while (hi != entries_.end() && hi->key.starts_with(prefix)) ++hi;
  return {entries_.data() + (lo - entries_.begin()), static_cast<size_t>(hi - lo)};
}

std::optional<std::string_view> StringOf(const AnyValue* v) {
  if (v == nullptr || v->value_case() != AnyValue::kStringValue || v->string_value().empty())
    return std::nullopt;
  return std::string_view(v->string_value());
}

bool ScalarText(const AnyValue* v, std::string* out) {
  if (v == nullptr) return false;
  switch (v->value_case()) {
    case AnyValue::kStringValue:
      if (v->string_value().empty()) return false;
      *out = v->string_value();
      return true;
    case AnyValue::kIntValue:
      *out = std::to_string(v->int_value());
      return true;
    case AnyValue::kDoubleValue: {
      double d = v->double_value();
      if (!std::isfinite(d)) return false;
      if (d == std::floor(d) && std::fabs(d) < 9e15) {
        *out = std::to_string(static_cast<int64_t>(d));
      } else {
        char buf[32];
        auto r = std::to_chars(buf, buf + sizeof buf, d);
        out->assign(buf, r.ptr);
      }
      return true;
    }
    case AnyValue::kBoolValue:
      *out = v->bool_value() ? "true" : "false";
      return true;
    default:
      return false;
  }
}

std::optional<int64_t> ParseInt(std::string_view text) {
  text = Trim(text);
  if (text.empty()) return std::nullopt;
  int64_t n = 0;
  auto r = std::from_chars(text.data(), text.data() + text.size(), n);
  if (r.ec == std::errc() && r.ptr == text.data() + text.size()) return n;
  auto d = ParseDouble(text);
  if (d && *d == std::floor(*d) && std::fabs(*d) < 9.2e18) return static_cast<int64_t>(*d);
  return std::nullopt;
}

std::optional<double> ParseDouble(std::string_view text) {
  text = Trim(text);
  if (text.empty()) return std::nullopt;
  double d = 0;
  auto r = std::from_chars(text.data(), text.data() + text.size(), d);
  if (r.ec != std::errc() || r.ptr != text.data() + text.size() || !std::isfinite(d))
    return std::nullopt;
  return d;
}

std::optional<int64_t> IntOf(const AnyValue* v) {
  if (v == nullptr) return std::nullopt;
  switch (v->value_case()) {
    case AnyValue::kIntValue: return v->int_value();
    case AnyValue::kDoubleValue: {
      double d = v->double_value();
      if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.2e18)
        return static_cast<int64_t>(d);
      return std::nullopt;
    }
    case AnyValue::kStringValue: return ParseInt(v->string_value());
    default: return std::nullopt;
  }
}

std::optional<double> DoubleOf(const AnyValue* v) {
  if (v == nullptr) return std::nullopt;
  switch (v->value_case()) {
    case AnyValue::kDoubleValue:
      if (!std::isfinite(v->double_value())) return std::nullopt;
      return v->double_value();
    case AnyValue::kIntValue: return static_cast<double>(v->int_value());
    case AnyValue::kStringValue: return ParseDouble(v->string_value());
    default: return std::nullopt;
  }
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace sightline::ingest::norm
