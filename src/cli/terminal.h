// Terminal facts and text layout for the CLI's human output: whether a stream is a
// terminal, its width, whether to colour (never when NO_COLOR is set or TERM=dumb),
// and UTF-8-aware padding and truncation so tables stay aligned.
// Thread-safety: pure functions, except that the probes read the process's state.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace sightline::cli {

bool IsTerminal(std::FILE* f);
// Columns of the terminal on f; 0 when f is not a terminal (no limit), or $COLUMNS.
int TerminalWidth(std::FILE* f);
// Colour only on a terminal, and never with NO_COLOR set (any value) or TERM=dumb.
bool UseColor(std::FILE* f);

// Columns text takes: code points, ANSI escape sequences excluded, East Asian wide
// characters counted as two.
int DisplayWidth(std::string_view text);
// Cuts text to at most width columns, ending in "…" when it was cut.
std::string Truncate(std::string_view text, int width);
std::string PadRight(std::string_view text, int width);
std::string PadLeft(std::string_view text, int width);

enum class Color { kNone, kRed, kYellow, kGreen, kDim, kBold, kCyan };
// Wraps text in the ANSI sequence when enabled.
std::string Paint(std::string_view text, Color color, bool enabled);
// The colour of a trace's or span's status: red for "error", yellow for "interrupt".
Color StatusColor(std::string_view status);

// 1234567 -> "1,234,567".
std::string FormatCount(int64_t n);
// "$0.0123" (4 decimals below $100, 2 above).
std::string FormatCost(double usd);
// "1,204→310".
std::string FormatTokens(int64_t in, int64_t out);
// Replaces control characters (newlines, tabs, escapes) by spaces, so untrusted
// text from spans cannot break a line or drive the terminal.
std::string OneLine(std::string_view text);

}  // namespace sightline::cli
