#include "common/toml_guard.h"

#include <cctype>

namespace sightline {
namespace {

bool BareKeyChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
}

}  // namespace

Status CheckTomlText(std::string_view t, const std::string& origin) {
  int line = 1;
  auto bad = [&](const std::string& what) {
    return Status::InvalidArgument(origin + ":" + std::to_string(line) + ": not valid TOML: " + what);
  };
  for (unsigned char c : t) {
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
      return bad("control character " + std::to_string(c) + " (only tab and line breaks are allowed)");
    if (c == '\n') ++line;
  }
  line = 1;
  const auto byte = [&t](size_t i) { return static_cast<unsigned char>(t[i]); };
  // Skips a string body from *pos to just past `close`; false on a non-ASCII byte after
  // a line-ending backslash.
  auto skip_string = [&](size_t* pos, std::string_view close, bool escapes, bool one_line) {
    size_t i = *pos;
    while (i < t.size()) {
      if (escapes && t[i] == '\\') {
        size_t j = i + 1;
        bool ws = false;
        while (j < t.size() && (t[j] == ' ' || t[j] == '\t' || t[j] == '\r' || t[j] == '\n')) {
          if (t[j] == '\n') ++line;
          ws = true;
          ++j;
        }
        if (ws && j < t.size() && byte(j) >= 0x80) {
          *pos = j;
          return false;
        }
        i = ws ? j : i + 2;
        continue;
      }
      if (t.compare(i, close.size(), close) == 0) {
        *pos = i + close.size();
        return true;
      }
      if (t[i] == '\n') {
        if (one_line) break;
        ++line;
      }
      ++i;
    }
    *pos = i;
    return true;
  };
  const std::string_view kTripleQuote = "\"\"\"", kTripleApostrophe = "'''";
  int depth = 0;
  bool line_start = true, in_header = false;
  size_t i = 0;
  while (i < t.size()) {
    const char c = t[i];
    if (c == '\n') {
      ++line;
      line_start = true;
      in_header = false;
      ++i;
      continue;
    }
    if (line_start && (c == ' ' || c == '\t' || c == '\r')) {
      ++i;
      continue;
    }
    if (line_start && depth == 0 && c == '[') {
      size_t j = i + 1;
      if (j < t.size() && t[j] == '[') ++j;
      while (j < t.size() && (t[j] == ' ' || t[j] == '\t')) ++j;
      if (j < t.size() && !BareKeyChar(t[j]) && t[j] != '"' && t[j] != '\'' && t[j] != ']')
        return bad("a table header must start with a key");
      line_start = false;
      in_header = true;
      i = j;
      continue;
    }
    line_start = false;
    if (byte(i) >= 0x80) return bad("a non-ASCII character outside a string or comment");
    bool ok = true;
    if (c == '#') {
      while (i < t.size() && t[i] != '\n') ++i;
    } else if (t.compare(i, 3, kTripleQuote) == 0) {
      i += 3;
      ok = skip_string(&i, kTripleQuote, true, false);
    } else if (t.compare(i, 3, kTripleApostrophe) == 0) {
      i += 3;
      ok = skip_string(&i, kTripleApostrophe, false, false);
    } else if (c == '"') {
      ++i;
      ok = skip_string(&i, "\"", true, true);
    } else if (c == '\'') {
      ++i;
      ok = skip_string(&i, "'", false, true);
    } else {
      if (!in_header && c == '[') ++depth;
      if (!in_header && c == ']' && depth > 0) --depth;
      ++i;
    }
    if (!ok) return bad("a non-ASCII character after a line-ending backslash");
  }
  return Status::OK();
}


std::string UnquotedTomlError(std::string_view d) {
  std::string out;
  char quote = 0;
  for (char c : d) {
    if (quote != 0) {
      if (c == quote) {
        quote = 0;
        out += "...";
        out += c;
      }
      continue;
    }
    if (c == '\'' || c == '"' || c == '`') {
      quote = c;
      out += c;
      continue;
    }
    out += c;
  }
  if (quote != 0) out += "...";
  return out;
}

}  // namespace sightline
