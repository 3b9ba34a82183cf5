// AttrIndex: lookup by key over one span's attributes, built once per span so that the
// many per-field lookups of normalisation cost a binary search each, not a scan.
// Also answers prefix ranges ("llm.input_messages.", "tool.args.") in key order, which
// the flattened conventions need.
//
// Invariants: entries_ is sorted by key; on duplicate keys the first attribute as
// received sorts first and wins. filter_ has the bit FilterBit(key) set for every key
// in entries_ (most lookups are misses: each convention asks for its own names, and
// the filter answers those without a binary search of long common prefixes). The index points into the KeyValues it was built
// from: they must outlive it and stay unmodified while it is used. Build() reuses the
// vector's capacity, so one index serves every span of a request without allocating.
// Thread-safety: none; one index per thread.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "opentelemetry/proto/common/v1/common.pb.h"

namespace sightline::ingest::norm {

using AnyValue = ::opentelemetry::proto::common::v1::AnyValue;
using KeyValue = ::opentelemetry::proto::common::v1::KeyValue;
using KeyValues = ::google::protobuf::RepeatedPtrField<KeyValue>;

class AttrIndex {
 public:
  struct Entry {
    std::string_view key;
    const AnyValue* value;
    uint32_t pos;  // position as received: the tie-break for duplicate keys
  };

  void Build(const KeyValues& attrs);
  void Clear() {
    entries_.clear();
    filter_[0] = filter_[1] = filter_[2] = filter_[3] = 0;
  }
  bool empty() const { return entries_.empty(); }

  // The value of key, or nullptr when absent or when its AnyValue holds nothing.
  const AnyValue* Find(std::string_view key) const;
  // Every entry whose key starts with prefix, in key order.
  std::span<const Entry> WithPrefix(std::string_view prefix) const;
  bool HasPrefix(std::string_view prefix) const { return !WithPrefix(prefix).empty(); }

 private:
  static size_t FilterBit(std::string_view key) {
    return key.empty() ? 0 : (key.size() * 7 + static_cast<unsigned char>(key.back())) & 255;
  }
  bool MayContain(std::string_view key) const {
    size_t b = FilterBit(key);
    return (filter_[b >> 6] >> (b & 63)) & 1;
  }

  std::vector<Entry> entries_;
  uint64_t filter_[4] = {0, 0, 0, 0};
};

// --- Reading AnyValues the lenient way senders need: numbers arrive as ints, doubles
// or decimal strings depending on the SDK.

// The string value, when v holds a non-empty string.
std::optional<std::string_view> StringOf(const AnyValue* v);
// Text of a scalar (string as is, int and double in decimal, bool as true/false);
// false when v is absent, empty, or not a scalar.
bool ScalarText(const AnyValue* v, std::string* out);
// An integer from an int, an integral double, or a decimal string ("42", "42.0").
std::optional<int64_t> IntOf(const AnyValue* v);
// A number from a double, an int, or a decimal string.
std::optional<double> DoubleOf(const AnyValue* v);
// Parses decimal text as above.
std::optional<int64_t> ParseInt(std::string_view text);
std::optional<double> ParseDouble(std::string_view text);

// "abc" == "ABC" for ASCII.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace sightline::ingest::norm
