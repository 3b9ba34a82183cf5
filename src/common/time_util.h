// Time parsing and formatting for the API and CLI: RFC 3339 and Unix milliseconds in,
// RFC 3339 and human durations out.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sightline {

// Parses "2026-03-23T17:42:11.420Z", "2026-03-23T17:42:11+02:00", or a Unix time in
// milliseconds ("1711215731420") into Unix nanoseconds.
std::optional<int64_t> ParseTimeParam(std::string_view text);
// "2026-03-23T17:42:11.420Z" (milliseconds, UTC).
std::string FormatRfc3339(int64_t unix_ns);
// "1.42s", "380ms", "12µs", "2m05s", "1h03m".
std::string FormatDuration(int64_t ns);
// The wall clock, in Unix nanoseconds.
int64_t UnixNowNs();

}  // namespace sightline
