// JSON reading and writing for canonical payloads (input_json / output_json).
//
// JsonOut wraps a RapidJSON writer and applies the attribute-size limit to every string
// it writes: a longer string is cut on a UTF-8 boundary and "…[truncated: N bytes]"
// appended (N = the original length), and the cut is counted. ParseJson never crashes
// on untrusted text: it refuses nesting deeper than kMaxJsonDepth before parsing (so the
// recursive walks below stay bounded too) and parses iteratively.
//
// Thread-safety: a JsonOut is single-threaded; the free functions are pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "ingest/normalize/attr_index.h"

namespace sightline::ingest::norm {

inline constexpr int kMaxJsonDepth = 64;

// Parses text as one JSON value. False (doc untouched or in error state) when the text
// is not JSON or nests deeper than kMaxJsonDepth.
bool ParseJson(std::string_view text, rapidjson::Document* doc);
// True when text, after leading whitespace, starts like a JSON object or array: the
// cheap test before trying ParseJson on free text.
bool LooksLikeJsonContainer(std::string_view text);

// "…[truncated: N bytes]"
std::string TruncationMarker(size_t original_bytes);
// Cuts *s to at most max bytes on a UTF-8 boundary and appends the marker. Returns
// false (and leaves *s alone) when it already fits.
bool TruncateWithMarker(std::string* s, size_t max);

class JsonOut {
 public:
  // max_string_bytes: longest string written whole; *truncated counts cuts.
  JsonOut(size_t max_string_bytes, int64_t* truncated);
  // The writer points at buf_: a JsonOut never moves (factories rely on guaranteed elision).
  JsonOut(const JsonOut&) = delete;
  JsonOut& operator=(const JsonOut&) = delete;

  void StartObject() { w_.StartObject(); }
  void EndObject() { w_.EndObject(); }
  void StartArray() { w_.StartArray(); }
  void EndArray() { w_.EndArray(); }
  void Key(std::string_view k) { w_.Key(k.data(), static_cast<rapidjson::SizeType>(k.size())); }
  void String(std::string_view s);
  void Int(int64_t v) { w_.Int64(v); }
  void Double(double v);
  void Bool(bool v) { w_.Bool(v); }
  void Null() { w_.Null(); }
  // Already-serialised JSON written verbatim (its strings were limited when written).
  void Raw(std::string_view json);

  // An OTLP AnyValue as JSON: kvlist -> object, array -> array, bytes -> base64 string.
  void AnyValue(const norm::AnyValue& v, int depth = 0);
  // A parsed JSON value, strings limited.
  void Value(const rapidjson::Value& v, int depth = 0);
  // The JSON value text holds when it is JSON, else text as a JSON string.
  void JsonOrString(std::string_view text);

  // The JSON written so far; the writer is reset for reuse.
  std::string Take();

  size_t max_string_bytes() const { return max_; }
  int64_t* truncated_counter() const { return truncated_; }

 private:
  size_t max_;
  int64_t* truncated_;
  rapidjson::StringBuffer buf_;
  rapidjson::Writer<rapidjson::StringBuffer> w_;
};

// Serialises a parsed JSON value / an AnyValue to JSON text with strings limited.
std::string ValueToJson(const rapidjson::Value& v, size_t max, int64_t* truncated);
std::string AnyValueToJson(const norm::AnyValue& v, size_t max, int64_t* truncated);
// An AnyValue as a parsed JSON document (for walking structured message attributes
// with the same code as JSON strings). False when the value is too deep.
bool AnyValueToDocument(const norm::AnyValue& v, rapidjson::Document* doc);

// Small accessors on parsed JSON objects: nullptr / empty when absent or mistyped.
const rapidjson::Value* Member(const rapidjson::Value& obj, const char* name);
std::string_view MemberString(const rapidjson::Value& obj, const char* name);

}  // namespace sightline::ingest::norm
