#include "pipeline/redaction_detectors.h"

#include <arpa/inet.h>

#include <array>
#include <cctype>
#include <cstdint>
#include <cstring>

namespace sightline::pipeline::redaction {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
char Lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

int CountDigits(std::string_view s) {
  int n = 0;
  for (char c : s) n += IsDigit(c) ? 1 : 0;
  return n;
}

// --- Validators ------------------------------------------------------------------

bool ValidCard(std::string_view text, size_t from, size_t to) { return LuhnValid(text.substr(from, to - from)); }

bool ValidIban(std::string_view text, size_t from, size_t to) { return IbanValid(text.substr(from, to - from)); }

// Area 001-899 except 666, group 01-99, serial 0001-9999 (SSA rules since 2011).
bool ValidSsn(std::string_view text, size_t from, size_t to) {
  std::string_view s = text.substr(from, to - from);  // ddd-dd-dddd
  if (s.size() != 11) return false;
  std::string_view area = s.substr(0, 3), group = s.substr(4, 2), serial = s.substr(7, 4);
  if (area == "000" || area == "666" || area[0] == '9') return false;
  return group != "00" && serial != "0000";
}

// Four octets of at most 255, and not part of a longer dotted run (1.2.3.4.5).
bool ValidIpv4(std::string_view text, size_t from, size_t to) {
  if (from >= 2 && text[from - 1] == '.' && IsDigit(text[from - 2])) return false;
  if (to + 1 < text.size() && text[to] == '.' && IsDigit(text[to + 1])) return false;
  int octet = 0, digits = 0;
  for (size_t i = from; i <= to; ++i) {
    if (i == to || text[i] == '.') {
      if (digits == 0 || octet > 255) return false;
      octet = 0;
      digits = 0;
      continue;
    }
    octet = octet * 10 + (text[i] - '0');
    ++digits;
  }
  return true;
}

// What inet_pton accepts, standing alone (not inside a longer word or colon run).
bool ValidIpv6(std::string_view text, size_t from, size_t to) {
  if (from > 0 && (IsAlnum(text[from - 1]) || text[from - 1] == ':')) return false;
  if (to < text.size() && (IsAlnum(text[to]) || text[to] == ':')) return false;
  if (to - from > 45) return false;
  char buf[48];
  std::memcpy(buf, text.data() + from, to - from);
  buf[to - from] = '\0';
  unsigned char addr[16];
  return inet_pton(AF_INET6, buf, addr) == 1;
}

// 8 to 15 digits (E.164 allows 15), not glued to more digits.
bool ValidPhone(std::string_view text, size_t from, size_t to) {
  if (from > 0 && IsDigit(text[from - 1])) return false;
  if (to < text.size() && IsDigit(text[to])) return false;
  int d = CountDigits(text.substr(from, to - from));
  return d >= 8 && d <= 15;
}

// An OpenAI-style key body has letters and digits; a long hyphenated slug
// ("sk-learn-compatible-estimator") has no digit and is not a key.
bool ValidOpenAiKey(std::string_view text, size_t from, size_t to) {
  bool digit = false, alpha = false;
  for (size_t i = from + 3; i < to; ++i) {
    digit |= IsDigit(text[i]);
    alpha |= std::isalpha(static_cast<unsigned char>(text[i])) != 0;
  }
  return digit && alpha;
}

// --- Where the secret starts -----------------------------------------------------

bool IsSeparator(char c) { return c == ' ' || c == '\t' || c == '"' || c == '\'' || c == '\\' || c == '=' || c == ':'; }

constexpr std::array<std::string_view, 7> kAuthSchemes = {"bearer", "basic",  "token",           "digest",
                                                          "apikey", "negotiate", "aws4-hmac-sha256"};

// `password = "value"`, `"password":"value"`, `\"password\": \"value\"`: the value.
size_t KeyedValueStart(std::string_view text, size_t from, size_t to) {
  size_t i = from;
  while (i < to && text[i] != '=' && text[i] != ':') ++i;
  while (i < to && IsSeparator(text[i])) ++i;
  return i;
}

// `Authorization: Bearer abc`, `authorization=Basic abc`, `bearer abc`: the
// credential, after the scheme.
size_t AuthorizationValueStart(std::string_view text, size_t from, size_t to) {
  size_t i = from;
  while (i < to && text[i] != '=' && text[i] != ':') ++i;
  if (i == to) i = from;  // the bare "bearer <token>" form
  while (i < to && IsSeparator(text[i])) ++i;
  for (std::string_view scheme : kAuthSchemes) {
    if (to - i <= scheme.size()) continue;
    bool same = true;
    for (size_t k = 0; k < scheme.size() && same; ++k) same = Lower(text[i + k]) == scheme[k];
    if (!same || (text[i + scheme.size()] != ' ' && text[i + scheme.size()] != '\t')) continue;
    i += scheme.size();
    while (i < to && (text[i] == ' ' || text[i] == '\t')) ++i;
    break;
  }
  return i;
}

// A match whose value is only the scheme ("Authorization: Bearer" with the token after
// it) is the shorter report of the same header; the longer one covers the token.
// Only the longest report of a header value counts (its shorter prefixes would start
// at the scheme and leave a piece of it behind).
bool ValidAuthorization(std::string_view text, size_t from, size_t to) {
  size_t i = from;
  while (i < to && text[i] != '=' && text[i] != ':') ++i;
  if (i == to) return true;  // the bare "bearer <token>" form
  if (to < text.size() && !std::isspace(static_cast<unsigned char>(text[to])) && text[to] != '"' &&
      text[to] != '\'' && text[to] != '\\' && text[to] != ',' && text[to] != ';')
    return false;
  while (i < to && IsSeparator(text[i])) ++i;
  for (std::string_view scheme : kAuthSchemes) {
    if (to - i != scheme.size()) continue;
    bool same = true;
    for (size_t k = 0; k < scheme.size() && same; ++k) same = Lower(text[i + k]) == scheme[k];
    if (same) return false;
  }
  return true;
}

// --- The table -------------------------------------------------------------------

constexpr DetectorPattern kPrivateKey[] = {
    // The body runs over base64, PEM headers (Proc-Type: 4,ENCRYPTED) and line breaks,
    // real or JSON-escaped, so a key with no END line is still covered.
    {R"(-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?:[A-Za-z0-9+/=,-]|: ?|\r|\n|\t|\\[nrt])*(?:-----END [A-Z0-9 ]*PRIVATE KEY-----)?)",
     false, R"(-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----)"}};
constexpr DetectorPattern kJwt[] = {{R"(\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*)", false,
                                    R"(\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.)"}};
constexpr DetectorPattern kOpenAi[] = {
    {R"(\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,})", false, R"(\bsk-[A-Za-z0-9_-]{20})"}};
constexpr DetectorPattern kAws[] = {{R"(\b(?:AKIA|ASIA)[0-9A-Z]{16}\b)", false}};
constexpr DetectorPattern kGithub[] = {{R"(\bgh[pousr]_[A-Za-z0-9]{36,})", false, R"(\bgh[pousr]_[A-Za-z0-9]{36})"},
                                       {R"(\bgithub_pat_[A-Za-z0-9_]{22,})", false, R"(\bgithub_pat_[A-Za-z0-9_]{22})"}};
constexpr DetectorPattern kSlack[] = {{R"(\bxox[abposr]-[A-Za-z0-9-]{10,})", false, R"(\bxox[abposr]-[A-Za-z0-9-]{10})"}};
constexpr DetectorPattern kPassword[] = {
    {R"(passw(?:or)?d(?:\\?["'])?[ \t]*[=:][ \t]*(?:"[^"\r\n]+|'[^'\r\n]+|\\"(?:[^"\\\r\n]|\\[^"])+|[^\s"'\\&,;]+))", true,
     R"(passw(?:or)?d(?:\\?["'])?[ \t]*[=:][ \t]*(?:\\?["']|[^\s"'\\&,;]))"}};
constexpr DetectorPattern kAuthorization[] = {
    {R"(authorization(?:\\?["'])?[ \t]*[=:][ \t]*(?:\\?["'])?(?:(?:bearer|basic|token|digest|apikey|negotiate|aws4-hmac-sha256)[ \t]+)?[^\s"'\\,;]+)",
     true, R"(authorization(?:\\?["'])?[ \t]*[=:][ \t]*(?:\\?["'])?[^\s"'\\,;])"},
    {R"(\bbearer[ \t]+[A-Za-z0-9._~+/-]{16,}=*)", true, R"(\bbearer[ \t]+[A-Za-z0-9._~+/-]{16})"}};
constexpr DetectorPattern kEmail[] = {
    {R"([A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})", false, R"([A-Za-z0-9._%+-]@[A-Za-z0-9-])"}};
constexpr DetectorPattern kPhone[] = {{R"(\+[1-9]\d{0,2}(?:[ .-]?\(?\d{1,5}\)?){2,5}\b)", false},
                                      {R"((?:\(\d{3}\) ?|\b\d{3}[.-])\d{3}[.-]\d{4}\b)", false}};
constexpr DetectorPattern kCard[] = {
    {R"(\b(?:\d{13,19}|\d{4}(?:[ -]\d{4}){2,3}[ -]\d{1,4}|\d{4}[ -]\d{6}[ -]\d{4,5})\b)", false}};
constexpr DetectorPattern kIban[] = {{R"(\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b)", false}};
constexpr DetectorPattern kSsn[] = {{R"(\b\d{3}-\d{2}-\d{4}\b)", false}};
constexpr DetectorPattern kIpv4[] = {{R"(\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b)", false}};
constexpr DetectorPattern kIpv6[] = {
    {R"((?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|(?:[0-9A-Fa-f]{1,4}:){0,6}(?:[0-9A-Fa-f]{1,4})?::(?:[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4}){0,6})?)",
     false, R"((?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]|::)"}};

using C = DetectorClass;
const Detector kDetectors[] = {
    {"private_key", C::kCredential, kPrivateKey, nullptr, nullptr},
    {"jwt", C::kCredential, kJwt, nullptr, nullptr},
    {"openai_key", C::kCredential, kOpenAi, ValidOpenAiKey, nullptr},
    {"aws_access_key", C::kCredential, kAws, nullptr, nullptr},
    {"github_token", C::kCredential, kGithub, nullptr, nullptr},
    {"slack_token", C::kCredential, kSlack, nullptr, nullptr},
    {"password", C::kCredential, kPassword, nullptr, KeyedValueStart},
    {"authorization", C::kCredential, kAuthorization, ValidAuthorization, AuthorizationValueStart},
    {"card", C::kPersonal, kCard, ValidCard, nullptr},
    {"iban", C::kPersonal, kIban, ValidIban, nullptr},
    {"us_ssn", C::kPersonal, kSsn, ValidSsn, nullptr},
    {"email", C::kPersonal, kEmail, nullptr, nullptr},
    {"phone", C::kPersonal, kPhone, ValidPhone, nullptr},
    {"ipv4", C::kPersonal, kIpv4, ValidIpv4, nullptr},
    {"ipv6", C::kPersonal, kIpv6, ValidIpv6, nullptr},
};

}  // namespace

std::span<const Detector> BuiltinDetectors() { return kDetectors; }

const Detector* FindDetector(std::string_view name) {
  for (const Detector& d : kDetectors)
    if (name == d.name) return &d;
  return nullptr;
}

bool LuhnValid(std::string_view s) {
  int digits[19];
  int n = 0;
  for (char c : s) {
    if (c == ' ' || c == '-') continue;
    if (!IsDigit(c) || n == 19) return false;
    digits[n++] = c - '0';
  }
  if (n < 13) return false;
  bool all_same = true;
  for (int i = 1; i < n; ++i) all_same &= digits[i] == digits[0];
  if (all_same) return false;  // 0000 0000 0000 0000 passes the sum, but is no card
  int sum = 0;
  for (int i = n - 1, k = 0; i >= 0; --i, ++k) {
    int d = digits[i];
    if (k % 2 == 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 == 0;
}

bool IbanValid(std::string_view s) {
  char buf[34];
  size_t n = 0;
  for (char c : s) {
    if (c == ' ') continue;
    if (n == sizeof buf) return false;
    buf[n++] = c;
  }
  if (n < 15) return false;
  if (!std::isupper(static_cast<unsigned char>(buf[0])) || !std::isupper(static_cast<unsigned char>(buf[1])) ||
      !IsDigit(buf[2]) || !IsDigit(buf[3]))
    return false;
  // Move the first four characters to the end, letters become 10..35, mod 97 must be 1.
  uint32_t rem = 0;
  for (size_t k = 0; k < n; ++k) {
    char c = buf[(k + 4) % n];
    if (IsDigit(c)) {
      rem = (rem * 10 + static_cast<uint32_t>(c - '0')) % 97;
    } else if (c >= 'A' && c <= 'Z') {
      rem = (rem * 100 + static_cast<uint32_t>(c - 'A' + 10)) % 97;
    } else {
      return false;
    }
  }
  return rem == 1;
}

void AvoidSplittingEscapes(std::string_view text, size_t* from, size_t* to) {
  // The escape starting at backslash p (p preceded by an even run of backslashes)
  // covers [p, p + len).
  auto escape_len = [&](size_t p) -> size_t {
    if (p + 1 >= text.size()) return 1;
    return text[p + 1] == 'u' ? 6 : 2;
  };
  auto starts_escape = [&](size_t p) {
    if (text[p] != '\\') return false;
    size_t run = 0;
    while (p > run && text[p - run - 1] == '\\') ++run;
    return run % 2 == 0;
  };
  // Start: inside an escape that began up to 5 bytes earlier -> after it.
  for (size_t back = 1; back <= 5 && back <= *from; ++back) {
    size_t p = *from - back;
    if (starts_escape(p)) {
      size_t end = p + escape_len(p);
      if (end > *from) *from = std::min(end, *to);
      break;
    }
  }
  // End: inside an escape -> at its end.
  for (size_t back = 1; back <= 6 && back <= *to; ++back) {
    size_t p = *to - back;
    if (p < *from) break;
    if (starts_escape(p)) {
      size_t end = std::min(p + escape_len(p), text.size());
      if (end > *to) *to = end;
      break;
    }
  }
}

bool GlobMatch(std::string_view pat, std::string_view key) {
  size_t p = 0, k = 0, star = std::string_view::npos, mark = 0;
  while (k < key.size()) {
    if (p < pat.size() && (pat[p] == '?' || Lower(pat[p]) == Lower(key[k]))) {
      ++p;
      ++k;
    } else if (p < pat.size() && pat[p] == '*') {
      star = p++;
      mark = k;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      k = ++mark;
    } else {
      return false;
    }
  }
  while (p < pat.size() && pat[p] == '*') ++p;
  return p == pat.size();
}

}  // namespace sightline::pipeline::redaction
