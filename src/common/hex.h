// Hex encoding of trace and span ids (OTLP JSON and Sightline's API carry ids as
// lowercase hex, not base64).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sightline {

std::string HexEncode(std::string_view bytes);
// Decodes hex (either case); nullopt when the text has odd length or a non-hex digit.
std::optional<std::string> HexDecode(std::string_view hex);

}  // namespace sightline
