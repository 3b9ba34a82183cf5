// JSON reading and writing for canonical payloads (input_json / output_json).
//
// JsonOut wraps a RapidJSON writer and applies the attribute-size limit to every string
// it writes: a longer string is cut on a UTF-8 boundary and "…[truncated: N bytes]"
// appended (N = the original length), and the cut is counted. ParseJson never crashes
// on untrusted text: it parses iteratively and stops at the first container nested
// deeper than kMaxJsonDepth (so the recursive walks below stay bounded too).
//
// Speed: these run several times per span on multi-kilobyte payloads, so the scratch
// memory is per thread and reused (ScratchDocument's pool, JsonOut's buffers), parsing
// is in situ on one copy of the text, and strings are written a run at a time.
//
// Thread-safety: a JsonOut and a ScratchDocument are single-threaded and must stay on
// the thread that made them; the free functions are safe from any thread.
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

// The lease a ScratchDocument holds on its thread's pool (see below).
class ScratchPoolLease {
 public:
  ScratchPoolLease();
  ~ScratchPoolLease();
  ScratchPoolLease(const ScratchPoolLease&) = delete;
  ScratchPoolLease& operator=(const ScratchPoolLease&) = delete;
  rapidjson::MemoryPoolAllocator<>& allocator() { return *allocator_; }

 private:
  rapidjson::MemoryPoolAllocator<>* allocator_;
};

// A RapidJSON document whose values (and parsed strings) live in the calling thread's
// scratch pool instead of a fresh 64 KiB pool per document: normalisation parses
// several JSON payloads per span, and a malloc'd, page-faulted and freed chunk for each
// cost more than the parse. Use it exactly like rapidjson::Document.
//
// Invariants: every ScratchDocument alive on a thread shares that thread's pool; the
// pool is cleared (its user buffer kept, extra chunks freed) when the last lease on it
// (ScratchDocuments and JsonOuts) ends, so memory stays bounded by one payload's needs. Values
// must not be copied into a document of another allocator without a deep copy.
// Thread-safety: thread-confined; never hand one to another thread.
class ScratchDocument : private ScratchPoolLease, public rapidjson::Document {
 public:
  ScratchDocument() : ScratchPoolLease(), rapidjson::Document(&ScratchPoolLease::allocator()) {}
  ScratchDocument(const ScratchDocument&) = delete;
  ScratchDocument& operator=(const ScratchDocument&) = delete;
};

// Parses text as one JSON value. False (doc untouched) when the text is not JSON or
// nests deeper than kMaxJsonDepth. Strings of the parsed value point into a copy of
// text held by doc's allocator, so doc does not depend on text afterwards.
bool ParseJson(std::string_view text, rapidjson::Document* doc);
// True when text, after leading whitespace, starts like a JSON object or array: the
// cheap test before trying ParseJson on free text.
bool LooksLikeJsonContainer(std::string_view text);

// The position of the first byte of s at or after i that the canonical writer escapes
// (a control character, '"' or '\\'), or s.size().
size_t NextJsonEscape(std::string_view s, size_t i);

// "…[truncated: N bytes]"
std::string TruncationMarker(size_t original_bytes);
// Cuts *s to at most max bytes on a UTF-8 boundary and appends the marker. Returns
// false (and leaves *s alone) when it already fits.
bool TruncateWithMarker(std::string* s, size_t max);

class JsonOut {
 public:
  // rapidjson's Writer plus a string writer that copies unescaped runs whole instead of
  // byte by byte (payload text is long and rarely needs escaping). Its output is
  // byte-identical to Writer::String's.
  class Writer : public rapidjson::Writer<rapidjson::StringBuffer> {
   public:
    using rapidjson::Writer<rapidjson::StringBuffer>::Writer;
    void FastString(std::string_view s);
    void FastKey(std::string_view k);
    // Already-serialised JSON, copied at once (RawValue copies it byte by byte).
    void FastRaw(std::string_view json);

   private:
    void WriteEscaped(std::string_view s);
  };

  // max_string_bytes: longest string written whole; *truncated counts cuts.
  JsonOut(size_t max_string_bytes, int64_t* truncated);
  // The writer points at buf_: a JsonOut never moves (factories rely on guaranteed elision).
  JsonOut(const JsonOut&) = delete;
  JsonOut& operator=(const JsonOut&) = delete;
  ~JsonOut();

  void StartObject() { w_.StartObject(); }
  void EndObject() { w_.EndObject(); }
  void StartArray() { w_.StartArray(); }
  void EndArray() { w_.EndArray(); }
  void Key(std::string_view k) { w_.FastKey(k); }
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
  // Keeps the thread's JSON scratch pool from being cleared while this JsonOut lives:
  // message parts built for it may borrow text from documents parsed meanwhile
  // (messages.h PartText), even after those documents are gone.
  ScratchPoolLease lease_;
  size_t max_;
  int64_t* truncated_;
  // Borrowed from a per-thread free list for the JsonOut's lifetime (returned, emptied,
  // by the destructor), so its capacity is reused across payloads instead of regrown.
  rapidjson::StringBuffer* buf_;
  Writer w_;
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
