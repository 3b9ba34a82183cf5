#include "ingest/json_parse.h"

#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <limits>
#include <string>

namespace sightline::ingest {
namespace {

namespace rj = rapidjson;

constexpr unsigned kParseFlags = rj::kParseIterativeFlag | rj::kParseFullPrecisionFlag | rj::kParseNanAndInfFlag;

// Forwards SAX events to a Document while counting nesting; refuses (stops the parse)
// past max_depth. RapidJSON's iterative parser keeps its own stack on the heap.
class DepthLimitedHandler {
 public:
  DepthLimitedHandler(rj::Document* doc, int max_depth) : doc_(doc), max_depth_(max_depth) {}
  bool too_deep() const { return too_deep_; }

  bool Null() { return doc_->Null(); }
  bool Bool(bool b) { return doc_->Bool(b); }
  bool Int(int i) { return doc_->Int(i); }
  bool Uint(unsigned u) { return doc_->Uint(u); }
  bool Int64(int64_t i) { return doc_->Int64(i); }
  bool Uint64(uint64_t u) { return doc_->Uint64(u); }
  bool Double(double d) { return doc_->Double(d); }
  bool RawNumber(const char* s, rj::SizeType n, bool copy) { return doc_->RawNumber(s, n, copy); }
  bool String(const char* s, rj::SizeType n, bool copy) { return doc_->String(s, n, copy); }
  bool Key(const char* s, rj::SizeType n, bool copy) { return doc_->Key(s, n, copy); }
  bool StartObject() { return Enter() && doc_->StartObject(); }
  bool EndObject(rj::SizeType n) { --depth_; return doc_->EndObject(n); }
  bool StartArray() { return Enter() && doc_->StartArray(); }
  bool EndArray(rj::SizeType n) { --depth_; return doc_->EndArray(n); }

 private:
  bool Enter() {
    if (++depth_ > max_depth_) too_deep_ = true;
    return !too_deep_;
  }
  rj::Document* doc_;
  int max_depth_;
  int depth_ = 0;
  bool too_deep_ = false;
};

// RapidJSON refuses lone surrogate escapes; the rewrite keeps the length, so error
// offsets stay true. Outside strings valid JSON has no backslashes, so escapes can be
// found without tracking string boundaries.
}  // namespace

std::string ReplaceLoneSurrogates(std::string_view body) {
  auto hex4 = [&](size_t at) -> int {
    if (at + 4 > body.size()) return -1;
    int v = 0;
    for (size_t i = at; i < at + 4; ++i) {
      char c = body[i];
      int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
      if (d < 0) return -1;
      v = v * 16 + d;
    }
    return v;
  };
  std::string out(body);
  for (size_t i = 0; i + 1 < body.size(); ++i) {
    if (body[i] != '\\') continue;
    if (body[i + 1] != 'u') { ++i; continue; }
    int cp = hex4(i + 2);
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      bool paired = i + 7 < body.size() && body[i + 6] == '\\' && body[i + 7] == 'u';
      int low = paired ? hex4(i + 8) : -1;
      if (low >= 0xDC00 && low <= 0xDFFF) { i += 11; continue; }
      out.replace(i, 6, "\\ufffd");
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
      out.replace(i, 6, "\\ufffd");
    }
    i += 5;
  }
  return out;
}

// RapidJSON 1.1 (Debian's), asked for NaN and Infinity with full precision, goes on to
// read a fraction or exponent after a bare NaN or Infinity ("NaNe62") and then reads
// before its own buffer (a heap overflow the fuzzer found). Such text is not a number
// in any JSON dialect: it is refused here, before RapidJSON sees it. Returns the offset
// of the first such token outside strings, or npos.
static size_t BareNanOrInfWithMore(std::string_view t) {
  bool in_string = false;
  for (size_t i = 0; i < t.size(); ++i) {
    const char c = t[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
      continue;
    }
    size_t len = 0;
    if (t.compare(i, 3, "NaN") == 0) {
      len = 3;
    } else if (t.compare(i, 8, "Infinity") == 0) {
      len = 8;
    } else if (t.compare(i, 3, "Inf") == 0) {
      len = 3;
    }
    if (len == 0) continue;
    const size_t next = i + len;
    if (next < t.size() && (t[next] == '.' || t[next] == 'e' || t[next] == 'E' || (t[next] >= '0' && t[next] <= '9')))
      return i;
    i = next - 1;
  }
  return std::string_view::npos;
}

Status ParseJsonBounded(std::string_view text, int max_depth, rj::Document* doc) {
  if (text.size() >= std::numeric_limits<rj::SizeType>::max()) return Status::TooLarge("JSON body over 4 GiB");
  if (size_t at = BareNanOrInfWithMore(text); at != std::string_view::npos)
    return Status::InvalidArgument("JSON: a bare NaN or Infinity followed by more of a number at byte " +
                                   std::to_string(at));
  std::string patched;
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::string_view input = attempt == 0 ? text : patched;
    rj::MemoryStream stream(input.data(), input.size());
    rj::Reader reader;
    DepthLimitedHandler handler(doc, max_depth);
    auto generate = [&](rj::Document&) { return static_cast<bool>(reader.Parse<kParseFlags>(stream, handler)); };
    doc->Populate(generate);
    if (!reader.HasParseError()) return Status::OK();
    if (handler.too_deep()) {
      return Status::InvalidArgument("JSON nested deeper than " + std::to_string(max_depth) + " at byte " +
                                     std::to_string(reader.GetErrorOffset()));
    }
    if (attempt == 0 && reader.GetParseErrorCode() == rj::kParseErrorStringUnicodeSurrogateInvalid) {
      patched = ReplaceLoneSurrogates(text);
      continue;
    }
    return Status::InvalidArgument(std::string("JSON: ") + rj::GetParseError_En(reader.GetParseErrorCode()) +
                                   " at byte " + std::to_string(reader.GetErrorOffset()));
  }
  return Status::Internal("unreachable");
}

}  // namespace sightline::ingest
