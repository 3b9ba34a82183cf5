// Base64 for OTLP JSON `bytesValue` (proto3 JSON mapping: standard alphabet with
// padding on output; standard or URL-safe alphabet, padding optional, on input).
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sightline::ingest {

std::string Base64Encode(std::string_view bytes);
// nullopt when text holds a character outside both alphabets, or has an impossible
// length (one leftover symbol) or misplaced padding.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace sightline::ingest
