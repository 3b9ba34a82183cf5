// Text renderings of OTLP values for the baselines (see otlp_text.h).
#include "baselines/otlp_text.h"

#include <cmath>
#include <cstdio>
#include <ctime>

namespace sightline::bench {

std::string HexId(std::string_view bytes) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

void AppendJsonEscaped(std::string_view s, std::string* out) {
  for (unsigned char c : s) {
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out->append(buf);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
}

namespace {

std::string Base64(std::string_view in) {
  static const char* kTable = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t n = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8) |
                       static_cast<uint8_t>(in[i + 2]);
    out.push_back(kTable[(n >> 18) & 63]);
    out.push_back(kTable[(n >> 12) & 63]);
    out.push_back(kTable[(n >> 6) & 63]);
    out.push_back(kTable[n & 63]);
  }
  if (i < in.size()) {
    uint32_t n = static_cast<uint8_t>(in[i]) << 16;
    if (i + 1 < in.size()) n |= static_cast<uint8_t>(in[i + 1]) << 8;
    out.push_back(kTable[(n >> 18) & 63]);
    out.push_back(kTable[(n >> 12) & 63]);
    out.push_back(i + 1 < in.size() ? kTable[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

void AppendDouble(double d, std::string* out) {
  if (!std::isfinite(d)) {  // JSON has no NaN/Infinity: the exporter's text, quoted
    out->append(std::isnan(d) ? "\"NaN\"" : (d > 0 ? "\"Infinity\"" : "\"-Infinity\""));
    return;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", d);
  out->append(buf);
}

}  // namespace

void AppendAnyValueJson(const AnyValue& v, std::string* out) {
  switch (v.value_case()) {
    case AnyValue::kStringValue:
      out->push_back('"');
      AppendJsonEscaped(v.string_value(), out);
      out->push_back('"');
      break;
    case AnyValue::kIntValue: out->append(std::to_string(v.int_value())); break;
    case AnyValue::kDoubleValue: AppendDouble(v.double_value(), out); break;
    case AnyValue::kBoolValue: out->append(v.bool_value() ? "true" : "false"); break;
    case AnyValue::kBytesValue:
      out->push_back('"');
      out->append(Base64(v.bytes_value()));
      out->push_back('"');
      break;
    case AnyValue::kArrayValue: {
      out->push_back('[');
      bool first = true;
      for (const auto& e : v.array_value().values()) {
        if (!first) out->push_back(',');
        first = false;
        AppendAnyValueJson(e, out);
      }
      out->push_back(']');
      break;
    }
    case AnyValue::kKvlistValue: {
      out->push_back('{');
      bool first = true;
      for (const auto& kv : v.kvlist_value().values()) {
        if (!first) out->push_back(',');
        first = false;
        out->push_back('"');
        AppendJsonEscaped(kv.key(), out);
        out->append("\":");
        AppendAnyValueJson(kv.value(), out);
      }
      out->push_back('}');
      break;
    }
    default: out->append("null");
  }
}

std::string AnyValueToString(const AnyValue& v) {
  switch (v.value_case()) {
    case AnyValue::kStringValue: return v.string_value();
    case AnyValue::kIntValue: return std::to_string(v.int_value());
    case AnyValue::kBoolValue: return v.bool_value() ? "true" : "false";
    case AnyValue::kBytesValue: return Base64(v.bytes_value());
    case AnyValue::VALUE_NOT_SET: return "";
    default: {
      std::string s;
      AppendAnyValueJson(v, &s);
      return s;
    }
  }
}

std::string SqliteTimestamp(uint64_t unix_ns) {
  const time_t secs = static_cast<time_t>(unix_ns / 1'000'000'000ULL);
  const unsigned micros = static_cast<unsigned>((unix_ns % 1'000'000'000ULL) / 1000);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%06u", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, micros);
  return buf;
}

}  // namespace sightline::bench
