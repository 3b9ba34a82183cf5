// RapidJSON's reader has SSE2 paths for in-situ parsing: string bodies and whitespace
// are scanned 16 bytes at a time. They are switched on for this file's reader only, and
// the macro is undefined again before writer.h (whose SSE2 path specialises a member
// that other files instantiate). What the macro adds here is used only with
// InsituStringStream, which no other file of Sightline parses with; if one ever does,
// it may get either copy of SkipWhitespace<InsituStringStream>, and both are correct.
// The SIMD scans read whole aligned 16-byte blocks, so ParseJson pads its copy.
#if defined(__SSE2__) && !defined(RAPIDJSON_SSE2) && !defined(RAPIDJSON_SSE42)
#define RAPIDJSON_SSE2
#include <rapidjson/reader.h>
#undef RAPIDJSON_SSE2
#endif

#include "ingest/normalize/json_out.h"

#include <cmath>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <memory>
#include <vector>

#include "common/utf8.h"

namespace sightline::ingest::norm {
namespace {

// --- Per-thread scratch memory.

// The pool every ScratchDocument of a thread allocates from. The first 256 KiB (enough
// for the documents of a typical span) is a buffer kept for the thread's life; larger
// needs take extra chunks, freed when the last lease ends.
struct ScratchPool {
  static constexpr size_t kBufferBytes = 256u << 10;
  std::unique_ptr<char[]> buffer{new char[kBufferBytes]};
  rapidjson::MemoryPoolAllocator<> allocator{buffer.get(), kBufferBytes, kBufferBytes};
  int leases = 0;
};

ScratchPool& ThreadScratchPool() {
  thread_local ScratchPool pool;
  return pool;
}

// Free list of JsonOut buffers. JsonOuts nest (a message's tool arguments are written
// by a second JsonOut while the first is open), hence a list. A buffer that grew past
// kKeepBytes is shrunk before it is kept, and at most kKeep are kept.
struct BufferPool {
  static constexpr size_t kKeepBytes = 1u << 20;
  static constexpr size_t kKeep = 8;
  std::vector<std::unique_ptr<rapidjson::StringBuffer>> free;
};

BufferPool& ThreadBufferPool() {
  thread_local BufferPool pool;
  return pool;
}

rapidjson::StringBuffer* AcquireBuffer() {
  BufferPool& pool = ThreadBufferPool();
  if (pool.free.empty()) return new rapidjson::StringBuffer(nullptr, 4096);
  rapidjson::StringBuffer* b = pool.free.back().release();
  pool.free.pop_back();
  return b;
}

void ReleaseBuffer(rapidjson::StringBuffer* b) {
  BufferPool& pool = ThreadBufferPool();
  if (pool.free.size() >= BufferPool::kKeep) {
    delete b;
    return;
  }
  b->Clear();
  if (b->stack_.GetCapacity() > BufferPool::kKeepBytes) b->ShrinkToFit();
  pool.free.emplace_back(b);
}

// --- Parsing.

// Forwards SAX events to a document, refusing containers nested deeper than
// kMaxJsonDepth: the parse stops there, before anything deeper is built.
class DepthLimitedHandler {
 public:
  explicit DepthLimitedHandler(rapidjson::Document& doc) : doc_(doc) {}
  using SizeType = rapidjson::SizeType;
  bool Null() { return doc_.Null(); }
  bool Bool(bool b) { return doc_.Bool(b); }
  bool Int(int i) { return doc_.Int(i); }
  bool Uint(unsigned u) { return doc_.Uint(u); }
  bool Int64(int64_t i) { return doc_.Int64(i); }
  bool Uint64(uint64_t u) { return doc_.Uint64(u); }
  bool Double(double d) { return doc_.Double(d); }
  bool RawNumber(const char* s, SizeType n, bool copy) { return doc_.RawNumber(s, n, copy); }
  bool String(const char* s, SizeType n, bool copy) { return doc_.String(s, n, copy); }
  bool Key(const char* s, SizeType n, bool copy) { return doc_.Key(s, n, copy); }
  bool StartObject() { return ++depth_ <= kMaxJsonDepth && doc_.StartObject(); }
  bool EndObject(SizeType members) {
    --depth_;
    return doc_.EndObject(members);
  }
  bool StartArray() { return ++depth_ <= kMaxJsonDepth && doc_.StartArray(); }
  bool EndArray(SizeType elements) {
    --depth_;
    return doc_.EndArray(elements);
  }

 private:
  rapidjson::Document& doc_;
  int depth_ = 0;
};

// --- Writing.

// rapidjson's escape table (writer.h): 0 = copy as is; 'u' = \u00XX; else \<that char>.
constexpr char kEscape[256] = {
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'b', 't', 'n', 'u', 'f', 'r', 'u', 'u',
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
    0,   0,   '"', 0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   '\\', 0,  0,   0,
};

// The position of the first byte at or after i that needs escaping (a control
// character, '"' or '\\'), or n: 16 bytes at a time with SSE2, else 8 with SWAR.
size_t NextEscape(const char* p, size_t i, size_t n) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'), control = _mm_set1_epi8(0x1F);
  for (; i + 16 <= n; i += 16) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    const __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, backslash)),
                                     _mm_cmpeq_epi8(_mm_min_epu8(x, control), x));  // x <= 0x1F
    if (int mask = _mm_movemask_epi8(hit); mask != 0) return i + static_cast<size_t>(__builtin_ctz(mask));
  }
#else
  constexpr uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
  for (uint64_t w; i + 8 <= n; i += 8) {
    std::memcpy(&w, p + i, 8);
    uint64_t quote = w ^ (kOnes * '"'), backslash = w ^ (kOnes * '\\');
    uint64_t hit = ((w - kOnes * 0x20) & ~w) | ((quote - kOnes) & ~quote) | ((backslash - kOnes) & ~backslash);
    if ((hit & kHigh) != 0) break;  // one of these 8 may need escaping: find it below
  }
#endif
  while (i < n && kEscape[static_cast<unsigned char>(p[i])] == 0) ++i;
  return i;
}

void Base64(std::string_view in, std::string* out) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  out->reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  auto b = [&](size_t k) { return static_cast<unsigned char>(in[k]); };
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (b(i) << 16) | (b(i + 1) << 8) | b(i + 2);
    for (int s = 18; s >= 0; s -= 6) out->push_back(kAlphabet[(n >> s) & 63]);
  }
  if (i + 1 == in.size()) {
    uint32_t n = b(i) << 16;
    out->push_back(kAlphabet[(n >> 18) & 63]);
    out->push_back(kAlphabet[(n >> 12) & 63]);
    out->append("==");
  } else if (i + 2 == in.size()) {
    uint32_t n = (b(i) << 16) | (b(i + 1) << 8);
    out->push_back(kAlphabet[(n >> 18) & 63]);
    out->push_back(kAlphabet[(n >> 12) & 63]);
    out->push_back(kAlphabet[(n >> 6) & 63]);
    out->push_back('=');
  }
}

// Bytes to keep of s when cutting at max: back up to a UTF-8 lead byte.
size_t CutPoint(std::string_view s, size_t max) {
  size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return cut;
}

}  // namespace

bool LooksLikeJsonContainer(std::string_view text) {
  for (char c : text) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    return c == '{' || c == '[';
  }
  return false;
}

ScratchPoolLease::ScratchPoolLease() {
  ScratchPool& pool = ThreadScratchPool();
  ++pool.leases;
  allocator_ = &pool.allocator;
}

ScratchPoolLease::~ScratchPoolLease() {
  ScratchPool& pool = ThreadScratchPool();
  if (--pool.leases == 0) pool.allocator.Clear();
}

size_t NextJsonEscape(std::string_view s, size_t i) { return NextEscape(s.data(), i, s.size()); }

bool ParseJson(std::string_view text, rapidjson::Document* doc) {
  // The reader's aligned 16-byte loads may run up to 15 bytes past the terminator.
  constexpr size_t kSimdPadding = 16;
  // A raw NUL is never valid JSON, and the in-situ stream below ends at the first one.
  if (text.size() >= 0xFFFFFFF0u || std::memchr(text.data(), '\0', text.size()) != nullptr) return false;
  // One copy, parsed in place: strings without escapes are then used where they lie
  // instead of being copied again one by one.
  char* copy = static_cast<char*>(doc->GetAllocator().Malloc(text.size() + 1 + kSimdPadding));
  if (copy == nullptr) return false;
  std::memcpy(copy, text.data(), text.size());
  copy[text.size()] = '\0';
  rapidjson::InsituStringStream in(copy);
  bool ok = false;
  auto parse = [&](rapidjson::Document& d) {
    DepthLimitedHandler handler(d);
    rapidjson::Reader reader;
    // Without kParseStopWhenDoneFlag, anything but whitespace after the value is an error.
    ok = !reader.Parse<rapidjson::kParseInsituFlag | rapidjson::kParseIterativeFlag>(in, handler).IsError();
    return ok;
  };
  doc->Populate(parse);
  return ok;
}

std::string TruncationMarker(size_t original_bytes) {
  return "\xE2\x80\xA6[truncated: " + std::to_string(original_bytes) + " bytes]";
}

bool TruncateWithMarker(std::string* s, size_t max) {
  if (s->size() <= max) return false;
  size_t original = s->size();
  s->resize(CutPoint(*s, max));
  s->append(TruncationMarker(original));
  return true;
}

void JsonOut::Writer::WriteEscaped(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  rapidjson::StringBuffer& os = *os_;
  const char* p = s.data();
  const size_t n = s.size();
  *os.Push(1) = '"';
  size_t i = 0;
  while (i < n) {
    const size_t run = NextEscape(p, i, n);
    if (run > i) std::memcpy(os.Push(run - i), p + i, run - i);
    if (run == n) break;
    const auto c = static_cast<unsigned char>(p[run]);
    const char e = kEscape[c];
    if (e == 'u') {
      char* o = os.Push(6);
      o[0] = '\\', o[1] = 'u', o[2] = '0', o[3] = '0', o[4] = kHex[c >> 4], o[5] = kHex[c & 15];
    } else {
      char* o = os.Push(2);
      o[0] = '\\', o[1] = e;
    }
    i = run + 1;
  }
  *os.Push(1) = '"';
}

void JsonOut::Writer::FastString(std::string_view s) {
  Prefix(rapidjson::kStringType);
  WriteEscaped(s);
  EndValue(true);
}

void JsonOut::Writer::FastKey(std::string_view k) { FastString(k); }

void JsonOut::Writer::FastRaw(std::string_view json) {
  Prefix(rapidjson::kObjectType);
  if (!json.empty()) std::memcpy(os_->Push(json.size()), json.data(), json.size());
  EndValue(true);
}

JsonOut::JsonOut(size_t max_string_bytes, int64_t* truncated)
    : max_(max_string_bytes), truncated_(truncated), buf_(AcquireBuffer()), w_(*buf_) {}

JsonOut::~JsonOut() { ReleaseBuffer(buf_); }

void JsonOut::String(std::string_view s) {
  if (s.size() <= max_) {
    w_.FastString(s);
    return;
  }
  std::string cut(s.substr(0, CutPoint(s, max_)));
  cut.append(TruncationMarker(s.size()));
  if (truncated_ != nullptr) ++*truncated_;
  w_.FastString(cut);
}

void JsonOut::Double(double v) {
  if (std::isfinite(v)) w_.Double(v);
  else w_.Null();  // JSON has no NaN or infinity
}

void JsonOut::Raw(std::string_view json) {
  w_.FastRaw(json);
}

void JsonOut::AnyValue(const norm::AnyValue& v, int depth) {
  if (depth > kMaxJsonDepth) {
    Null();
    return;
  }
  switch (v.value_case()) {
    case norm::AnyValue::kStringValue: String(v.string_value()); break;
    case norm::AnyValue::kBoolValue: Bool(v.bool_value()); break;
    case norm::AnyValue::kIntValue: Int(v.int_value()); break;
    case norm::AnyValue::kDoubleValue: Double(v.double_value()); break;
    case norm::AnyValue::kBytesValue: {
      std::string b64;
      Base64(v.bytes_value(), &b64);
      String(b64);
      break;
    }
    case norm::AnyValue::kArrayValue:
      StartArray();
      for (const auto& e : v.array_value().values()) AnyValue(e, depth + 1);
      EndArray();
      break;
    case norm::AnyValue::kKvlistValue:
      StartObject();
      for (const auto& kv : v.kvlist_value().values()) {
        Key(kv.key());
        AnyValue(kv.value(), depth + 1);
      }
      EndObject();
      break;
    default: Null(); break;
  }
}

void JsonOut::Value(const rapidjson::Value& v, int depth) {
  if (depth > kMaxJsonDepth) {
    Null();
    return;
  }
  switch (v.GetType()) {
    case rapidjson::kNullType: Null(); break;
    case rapidjson::kFalseType: Bool(false); break;
    case rapidjson::kTrueType: Bool(true); break;
    case rapidjson::kStringType: String({v.GetString(), v.GetStringLength()}); break;
    case rapidjson::kNumberType:
      if (v.IsInt64()) Int(v.GetInt64());
      else if (v.IsUint64()) w_.Uint64(v.GetUint64());
      else Double(v.GetDouble());
      break;
    case rapidjson::kArrayType:
      StartArray();
      for (const auto& e : v.GetArray()) Value(e, depth + 1);
      EndArray();
      break;
    case rapidjson::kObjectType:
      StartObject();
      for (const auto& m : v.GetObject()) {
        Key({m.name.GetString(), m.name.GetStringLength()});
        Value(m.value, depth + 1);
      }
      EndObject();
      break;
  }
}

void JsonOut::JsonOrString(std::string_view text) {
  // Only containers and the JSON literals are parsed: a bare word stays text.
  std::string_view t = text;
  while (!t.empty() && (t.front() == ' ' || t.front() == '\n' || t.front() == '\t' || t.front() == '\r'))
    t.remove_prefix(1);
  if (!t.empty()) {
    char c = t.front();
    bool maybe = c == '{' || c == '[' || c == '"' || c == '-' || (c >= '0' && c <= '9') ||
                 t == "true" || t == "false" || t == "null";
    if (maybe) {
      ScratchDocument doc;
      if (ParseJson(text, &doc)) {
        Value(doc);
        return;
      }
    }
  }
  String(text);
}

std::string JsonOut::Take() {
  std::string out(buf_->GetString(), buf_->GetSize());
  buf_->Clear();
  w_.Reset(*buf_);
  return out;
}

std::string ValueToJson(const rapidjson::Value& v, size_t max, int64_t* truncated) {
  JsonOut out(max, truncated);
  out.Value(v);
  return out.Take();
}

std::string AnyValueToJson(const norm::AnyValue& v, size_t max, int64_t* truncated) {
  JsonOut out(max, truncated);
  out.AnyValue(v);
  return out.Take();
}

bool AnyValueToDocument(const norm::AnyValue& v, rapidjson::Document* doc) {
  // No limit here: the caller's JsonOut applies it when the value is written out.
  std::string json = AnyValueToJson(v, static_cast<size_t>(-1), nullptr);
  return ParseJson(json, doc);
}

const rapidjson::Value* Member(const rapidjson::Value& obj, const char* name) {
  if (!obj.IsObject()) return nullptr;
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || it->value.IsNull()) return nullptr;
  return &it->value;
}

std::string_view MemberString(const rapidjson::Value& obj, const char* name) {
  const rapidjson::Value* v = Member(obj, name);
  if (v == nullptr || !v->IsString()) return {};
  return {v->GetString(), v->GetStringLength()};
}

}  // namespace sightline::ingest::norm
