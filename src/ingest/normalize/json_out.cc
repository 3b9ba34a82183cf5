#include "ingest/normalize/json_out.h"

#include <cmath>

#include "common/utf8.h"

namespace sightline::ingest::norm {
namespace {

// Depth of the deepest container in text, counting only brackets outside strings;
// stops early once past limit.
int MaxDepth(std::string_view text, int limit) {
  int depth = 0, max = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') {
      if (++depth > max && (max = depth) > limit) return max;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return max;
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

bool ParseJson(std::string_view text, rapidjson::Document* doc) {
  if (MaxDepth(text, kMaxJsonDepth) > kMaxJsonDepth) return false;
  // Without kParseStopWhenDoneFlag, anything but whitespace after the value is an error.
  doc->Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
  return !doc->HasParseError();
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

JsonOut::JsonOut(size_t max_string_bytes, int64_t* truncated)
    : max_(max_string_bytes), truncated_(truncated), w_(buf_) {}

void JsonOut::String(std::string_view s) {
  if (s.size() <= max_) {
    w_.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    return;
  }
  std::string cut(s.substr(0, CutPoint(s, max_)));
  cut.append(TruncationMarker(s.size()));
  if (truncated_ != nullptr) ++*truncated_;
  w_.String(cut.data(), static_cast<rapidjson::SizeType>(cut.size()));
}

void JsonOut::Double(double v) {
  if (std::isfinite(v)) w_.Double(v);
  else w_.Null();  // JSON has no NaN or infinity
}

void JsonOut::Raw(std::string_view json) {
  w_.RawValue(json.data(), json.size(), rapidjson::kObjectType);
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
      rapidjson::Document doc;
      if (ParseJson(text, &doc)) {
        Value(doc);
        return;
      }
    }
  }
  String(text);
}

std::string JsonOut::Take() {
  std::string out(buf_.GetString(), buf_.GetSize());
  buf_.Clear();
  w_.Reset(buf_);
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
