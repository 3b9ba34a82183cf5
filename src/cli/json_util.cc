#include "cli/json_util.h"

#include <charconv>
#include <cmath>

#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace sightline::cli {

const JsonValue* Member(const JsonValue& obj, std::string_view name) {
  if (!obj.IsObject()) return nullptr;
  auto it = obj.FindMember(rapidjson::Value(rapidjson::StringRef(name.data(), name.size())));
  if (it == obj.MemberEnd() || it->value.IsNull()) return nullptr;
  return &it->value;
}

std::string Str(const JsonValue& obj, std::string_view name, std::string_view def) {
  const JsonValue* v = Member(obj, name);
  if (v == nullptr) return std::string(def);
  if (v->IsString()) return std::string(v->GetString(), v->GetStringLength());
  if (v->IsBool()) return v->GetBool() ? "true" : "false";
  if (v->IsInt64()) return std::to_string(v->GetInt64());
  if (v->IsUint64()) return std::to_string(v->GetUint64());
  if (v->IsNumber()) return ToJson(*v);
  return std::string(def);
}

std::optional<int64_t> AsInt(const JsonValue& v) {
  if (v.IsInt64()) return v.GetInt64();
  if (v.IsUint64()) return static_cast<int64_t>(v.GetUint64());
  if (v.IsDouble()) {
    double d = v.GetDouble();
    if (std::isfinite(d) && std::fabs(d) < 9.2e18) return static_cast<int64_t>(d);
    return std::nullopt;
  }
  if (v.IsString()) {
    std::string_view s(v.GetString(), v.GetStringLength());
    int64_t out = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (ec == std::errc() && p == s.data() + s.size() && !s.empty()) return out;
  }
  return std::nullopt;
}

std::optional<int64_t> OptInt(const JsonValue& obj, std::string_view name) {
  const JsonValue* v = Member(obj, name);
  if (v == nullptr) return std::nullopt;
  return AsInt(*v);
}

int64_t Int(const JsonValue& obj, std::string_view name, int64_t def) { return OptInt(obj, name).value_or(def); }

std::optional<double> OptDouble(const JsonValue& obj, std::string_view name) {
  const JsonValue* v = Member(obj, name);
  if (v == nullptr) return std::nullopt;
  if (v->IsNumber()) return v->GetDouble();
  if (v->IsString()) {
    std::string s(v->GetString(), v->GetStringLength());
    char* end = nullptr;
    double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && end == s.c_str() + s.size()) return d;
  }
  return std::nullopt;
}

double Double(const JsonValue& obj, std::string_view name, double def) { return OptDouble(obj, name).value_or(def); }

bool Bool(const JsonValue& obj, std::string_view name, bool def) {
  const JsonValue* v = Member(obj, name);
  if (v == nullptr) return def;
  if (v->IsBool()) return v->GetBool();
  if (v->IsString()) return std::string_view(v->GetString()) == "true";
  return def;
}

std::string ToJson(const JsonValue& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

Status ParseJson(std::string_view text, rapidjson::Document* doc, std::string_view what) {
  doc->Parse(text.data(), text.size());
  if (doc->HasParseError()) {
    return Status::InvalidArgument(std::string(what) + ": not valid JSON at offset " +
                                   std::to_string(doc->GetErrorOffset()) + ": " +
                                   rapidjson::GetParseError_En(doc->GetParseError()));
  }
  return Status::OK();
}

}  // namespace sightline::cli
