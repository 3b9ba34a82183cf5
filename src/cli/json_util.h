// Lenient readers for the API's JSON (RapidJSON values): a missing or mistyped field
// reads as the default, int64 fields may come as numbers or decimal strings (as the
// OTLP JSON mapping writes them). The CLI renders what it can rather than failing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

#include "common/status.h"

namespace sightline::cli {

using JsonValue = rapidjson::Value;

// The member `name` of obj, or nullptr when obj is not an object or lacks it (a JSON
// null member also reads as nullptr).
const JsonValue* Member(const JsonValue& obj, std::string_view name);
// A string member (numbers and bools are printed as text), or def.
std::string Str(const JsonValue& obj, std::string_view name, std::string_view def = "");
std::optional<int64_t> OptInt(const JsonValue& obj, std::string_view name);
int64_t Int(const JsonValue& obj, std::string_view name, int64_t def = 0);
std::optional<double> OptDouble(const JsonValue& obj, std::string_view name);
double Double(const JsonValue& obj, std::string_view name, double def = 0);
bool Bool(const JsonValue& obj, std::string_view name, bool def = false);
// Reads a value (not a member) as int64: number or decimal string.
std::optional<int64_t> AsInt(const JsonValue& v);

// Compact JSON text of v.
std::string ToJson(const JsonValue& v);

// Parses text; InvalidArgument naming `what` and the offset on malformed JSON.
Status ParseJson(std::string_view text, rapidjson::Document* doc, std::string_view what);

}  // namespace sightline::cli
