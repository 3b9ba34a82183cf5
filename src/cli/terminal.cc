#include "cli/terminal.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>

namespace sightline::cli {
namespace {

// Decodes one UTF-8 code point at s[i]; advances i. Invalid bytes count as one.
uint32_t NextCodePoint(std::string_view s, size_t* i) {
  unsigned char c = static_cast<unsigned char>(s[*i]);
  int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
  if (*i + len > s.size()) len = 1;
  uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1f) : len == 3 ? (c & 0x0f) : (c & 0x07);
  for (int k = 1; k < len; ++k) {
    unsigned char cc = static_cast<unsigned char>(s[*i + k]);
    if ((cc & 0xc0) != 0x80) {
      len = 1;
      cp = c;
      break;
    }
    cp = (cp << 6) | (cc & 0x3f);
  }
  *i += len;
  return cp;
}

int CodePointWidth(uint32_t cp) {
  if (cp == 0 || (cp >= 0x300 && cp <= 0x36f) || cp == 0x200d || (cp >= 0xfe00 && cp <= 0xfe0f)) return 0;
  if ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) || (cp >= 0xac00 && cp <= 0xd7a3) ||
      (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
      (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1faff) || (cp >= 0x20000 && cp <= 0x3fffd))
    return 2;
  return 1;
}

// Skips an ANSI CSI sequence at s[i] ("\x1b[...m"); true when one was skipped.
bool SkipAnsi(std::string_view s, size_t* i) {
  if (s[*i] != '\x1b' || *i + 1 >= s.size() || s[*i + 1] != '[') return false;
  size_t j = *i + 2;
  while (j < s.size() && !(s[j] >= '@' && s[j] <= '~')) ++j;
  *i = j < s.size() ? j + 1 : j;
  return true;
}

}  // namespace

bool IsTerminal(std::FILE* f) { return f != nullptr && isatty(fileno(f)) == 1; }

int TerminalWidth(std::FILE* f) {
  if (!IsTerminal(f)) return 0;
  struct winsize ws {};
  if (ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  if (const char* c = std::getenv("COLUMNS"); c != nullptr) {
    int v = std::atoi(c);
    if (v > 0) return v;
  }
  return 100;
}

bool UseColor(std::FILE* f) {
  if (std::getenv("NO_COLOR") != nullptr) return false;
  const char* term = std::getenv("TERM");
  if (term != nullptr && std::string_view(term) == "dumb") return false;
  return IsTerminal(f);
}

int DisplayWidth(std::string_view text) {
  int w = 0;
  size_t i = 0;
  while (i < text.size()) {
    if (SkipAnsi(text, &i)) continue;
    w += CodePointWidth(NextCodePoint(text, &i));
  }
  return w;
}

std::string Truncate(std::string_view text, int width) {
  if (width <= 0) return "";
  if (DisplayWidth(text) <= width) return std::string(text);
  std::string out;
  int w = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    if (SkipAnsi(text, &i)) {
      out.append(text.substr(start, i - start));
      continue;
    }
    int cw = CodePointWidth(NextCodePoint(text, &i));
    if (w + cw > width - 1) break;
    out.append(text.substr(start, i - start));
    w += cw;
  }
  out += "…";
  return out;
}

std::string PadRight(std::string_view text, int width) {
  std::string out(text);
  int w = DisplayWidth(text);
  if (w < width) out.append(static_cast<size_t>(width - w), ' ');
  return out;
}

std::string PadLeft(std::string_view text, int width) {
  int w = DisplayWidth(text);
  std::string out;
  if (w < width) out.append(static_cast<size_t>(width - w), ' ');
  out.append(text);
  return out;
}

std::string Paint(std::string_view text, Color color, bool enabled) {
  if (!enabled || color == Color::kNone || text.empty()) return std::string(text);
  const char* code = color == Color::kRed      ? "31"
                     : color == Color::kYellow ? "33"
                     : color == Color::kGreen  ? "32"
                     : color == Color::kDim    ? "2"
                     : color == Color::kCyan   ? "36"
                                               : "1";
  return std::string("\x1b[") + code + "m" + std::string(text) + "\x1b[0m";
}

Color StatusColor(std::string_view status) {
  if (status == "error") return Color::kRed;
  if (status == "interrupt") return Color::kYellow;
  return Color::kNone;
}

std::string FormatCount(int64_t n) {
  bool neg = n < 0;
  uint64_t u = neg ? 0 - static_cast<uint64_t>(n) : static_cast<uint64_t>(n);
  std::string digits = std::to_string(u);
  std::string out;
  int k = 0;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it, ++k) {
    if (k > 0 && k % 3 == 0) out.push_back(',');
    out.push_back(*it);
  }
  if (neg) out.push_back('-');
  return std::string(out.rbegin(), out.rend());
}

std::string FormatCost(double usd) {
  char buf[64];
  std::snprintf(buf, sizeof buf, usd >= 100 ? "$%.2f" : "$%.4f", usd);
  return buf;
}

std::string FormatTokens(int64_t in, int64_t out) { return FormatCount(in) + "→" + FormatCount(out); }

std::string OneLine(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool last_space = false;
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      if (!last_space) out.push_back(' ');
      last_space = true;
      continue;
    }
    out.push_back(c);
    last_space = c == ' ';
  }
  return out;
}

}  // namespace sightline::cli
