// Base64 (RFC 4648): the standard alphabet with padding for bytes values in JSON
// (as OTLP JSON does), and the URL-safe alphabet without padding for opaque cursors.
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sightline::api {

std::string Base64Encode(std::string_view bytes);
std::string Base64UrlEncode(std::string_view bytes);  // no padding
// Accepts the URL-safe alphabet, with or without padding; nullopt on anything else.
std::optional<std::string> Base64UrlDecode(std::string_view text);

}  // namespace sightline::api
