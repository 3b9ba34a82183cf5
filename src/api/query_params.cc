#include "api/query_params.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <set>

#include "api/base64.h"
#include "common/time_util.h"

namespace sightline::api {
namespace {

constexpr int kDefaultLimit = 50;
constexpr int kMaxLimit = 1000;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}


Result<int64_t> ParseTime(std::string_view name, std::string_view v) {
  auto t = ParseTimeParam(v);
  if (!t) return BadParameter(name, "expected an RFC 3339 time or Unix milliseconds, got \"" + std::string(v) + "\"");
  return *t;
}

Result<double> ParseNonNegative(std::string_view name, std::string_view v) {
  double d = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
  if (ec != std::errc() || p != v.data() + v.size() || !std::isfinite(d) || d < 0)
    return BadParameter(name, "expected a non-negative number, got \"" + std::string(v) + "\"");
  return d;
}

Result<int> ParseLimit(std::string_view v) {
  int n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size() || n < 1 || n > kMaxLimit)
    return BadParameter("limit", "expected an integer from 1 to " + std::to_string(kMaxLimit) + ", got \"" + std::string(v) + "\"");
  return n;
}

Result<int64_t> MsToNs(std::string_view name, std::string_view v) {
  SL_ASSIGN_OR_RETURN(double ms, ParseNonNegative(name, v));
  if (ms > 9.2e12) return BadParameter(name, "too large");
  return static_cast<int64_t>(std::llround(ms * 1e6));
}

// Walks params, rejecting unknown and repeated names; calls set(name, value) for each
// non-empty known value. Names starting "attr." are passed through when allow_attr.
template <typename F>
Status ForEachParam(const QueryParams& params, const std::set<std::string_view>& known, bool allow_attr, F&& set) {
  std::set<std::string_view> seen;
  for (const auto& [name, value] : params) {
    bool attr = allow_attr && name.rfind("attr.", 0) == 0;
    if (!attr && known.count(name) == 0) return Status::InvalidArgument("unknown parameter \"" + name + "\"");
    if (attr && name.size() == 5) return BadParameter(name, "attr.KEY needs a key");
    if (!attr && !seen.insert(name).second) return BadParameter(name, "given more than once");
    if (value.empty()) continue;
    SL_RETURN_IF_ERROR(set(name, value, attr));
  }
  return Status::OK();
}

Status CheckRange(const std::optional<int64_t>& from, const std::optional<int64_t>& to) {
  if (from && to && *from > *to) return Status::InvalidArgument("parameter from: later than to");
  return Status::OK();
}

}  // namespace

Result<std::string> PercentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      int hi = i + 2 < text.size() ? HexValue(text[i + 1]) : -1;
      int lo = i + 2 < text.size() ? HexValue(text[i + 2]) : -1;
      if (hi < 0 || lo < 0) return Status::InvalidArgument("malformed %-escape in \"" + std::string(text) + "\"");
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

Result<ParsedTarget> ParseTarget(std::string_view target) {
  ParsedTarget out;
  std::string_view path = target;
  std::string_view query;
  if (auto q = target.find('?'); q != std::string_view::npos) {
    path = target.substr(0, q);
    query = target.substr(q + 1);
  }
  if (auto h = query.find('#'); h != std::string_view::npos) query = query.substr(0, h);
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    size_t end = path.find('/');
    std::string_view seg = path.substr(0, end);
    SL_ASSIGN_OR_RETURN(std::string decoded, PercentDecode(seg, false));
    out.segments.push_back(std::move(decoded));
    if (end == std::string_view::npos) break;
    path.remove_prefix(end);
  }
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    SL_ASSIGN_OR_RETURN(std::string name, PercentDecode(pair.substr(0, eq), true));
    std::string value;
    if (eq != std::string_view::npos) {
      SL_ASSIGN_OR_RETURN(value, PercentDecode(pair.substr(eq + 1), true));
    }
    out.params.emplace_back(std::move(name), std::move(value));
  }
  return out;
}

std::string EncodeCursor(const store::Cursor& cursor) {
  std::string raw;
  raw.reserve(9 + cursor.id.size());
  raw += '\x01';
  uint64_t t = static_cast<uint64_t>(cursor.time_ns);
  for (int shift = 56; shift >= 0; shift -= 8) raw += static_cast<char>((t >> shift) & 0xff);
  raw += cursor.id;
  return Base64UrlEncode(raw);
}

Result<store::Cursor> DecodeCursor(std::string_view text) {
  auto raw = Base64UrlDecode(text);
  if (!raw || raw->size() < 9 || (*raw)[0] != '\x01')
    return BadParameter("cursor", "not a cursor this server issued (pass next_cursor back unchanged)");
  store::Cursor c;
  uint64_t t = 0;
  for (int i = 1; i <= 8; ++i) t = (t << 8) | static_cast<uint8_t>((*raw)[i]);
  c.time_ns = static_cast<int64_t>(t);
  c.id = raw->substr(9);
  return c;
}

Result<store::TraceQuery> ParseTraceQuery(const QueryParams& params) {
  static const std::set<std::string_view> kKnown = {
      "from",  "to",   "project", "service", "agent",           "session_id",      "user_id",      "status", "kind",
      "name",  "model", "tool",   "q",       "min_duration_ms", "max_duration_ms", "min_cost_usd", "limit",  "cursor"};
  store::TraceQuery q;
  q.limit = kDefaultLimit;
  SL_RETURN_IF_ERROR(ForEachParam(params, kKnown, true, [&](const std::string& n, const std::string& v, bool attr) -> Status {
    if (attr) {
      q.attrs.emplace_back(n.substr(5), v);
    } else if (n == "from") {
      SL_ASSIGN_OR_RETURN(q.from_ns, ParseTime(n, v));
    } else if (n == "to") {
      SL_ASSIGN_OR_RETURN(q.to_ns, ParseTime(n, v));
    } else if (n == "project") {
      q.projects = {v};
    } else if (n == "service") {
      q.service = v;
    } else if (n == "agent") {
      q.agent = v;
    } else if (n == "session_id") {
      q.session_id = v;
    } else if (n == "user_id") {
      q.user_id = v;
    } else if (n == "status") {
      q.status = model::ParseStatus(v);
      if (!q.status) return BadParameter(n, "expected ok, error, interrupt or unset, got \"" + v + "\"");
    } else if (n == "kind") {
      q.kind = model::ParseKind(v);
      if (!q.kind)
        return BadParameter(n, "expected agent, llm, tool, retrieval, embedding, rerank, guardrail, evaluator, memory, "
                      "chain, human or other, got \"" + v + "\"");
    } else if (n == "name") {
      q.name = v;
    } else if (n == "model") {
      q.model = v;
    } else if (n == "tool") {
      q.tool = v;
    } else if (n == "q") {
      q.text = v;
    } else if (n == "min_duration_ms") {
      SL_ASSIGN_OR_RETURN(q.min_duration_ns, MsToNs(n, v));
    } else if (n == "max_duration_ms") {
      SL_ASSIGN_OR_RETURN(q.max_duration_ns, MsToNs(n, v));
    } else if (n == "min_cost_usd") {
      SL_ASSIGN_OR_RETURN(q.min_cost_usd, ParseNonNegative(n, v));
    } else if (n == "limit") {
      SL_ASSIGN_OR_RETURN(q.limit, ParseLimit(v));
    } else if (n == "cursor") {
      SL_ASSIGN_OR_RETURN(q.after, DecodeCursor(v));
    }
    return Status::OK();
  }));
  SL_RETURN_IF_ERROR(CheckRange(q.from_ns, q.to_ns));
  if (q.min_duration_ns && q.max_duration_ns && *q.min_duration_ns > *q.max_duration_ns)
    return Status::InvalidArgument("parameter min_duration_ms: greater than max_duration_ms");
  return q;
}

Result<store::SessionQuery> ParseSessionQuery(const QueryParams& params) {
  static const std::set<std::string_view> kKnown = {"from", "to", "project", "user_id", "status", "limit", "cursor"};
  store::SessionQuery q;
  q.limit = kDefaultLimit;
  SL_RETURN_IF_ERROR(ForEachParam(params, kKnown, false, [&](const std::string& n, const std::string& v, bool) -> Status {
    if (n == "from") {
      SL_ASSIGN_OR_RETURN(q.from_ns, ParseTime(n, v));
    } else if (n == "to") {
      SL_ASSIGN_OR_RETURN(q.to_ns, ParseTime(n, v));
    } else if (n == "project") {
      q.projects = {v};
    } else if (n == "user_id") {
      q.user_id = v;
    } else if (n == "status") {
      q.status = model::ParseStatus(v);
      if (!q.status) return BadParameter(n, "expected ok, error, interrupt or unset, got \"" + v + "\"");
    } else if (n == "limit") {
      SL_ASSIGN_OR_RETURN(q.limit, ParseLimit(v));
    } else if (n == "cursor") {
      SL_ASSIGN_OR_RETURN(q.after, DecodeCursor(v));
    }
    return Status::OK();
  }));
  SL_RETURN_IF_ERROR(CheckRange(q.from_ns, q.to_ns));
  return q;
}

Result<std::vector<std::string>> ParseProjectOnly(const QueryParams& params) {
  static const std::set<std::string_view> kKnown = {"project"};
  std::vector<std::string> projects;
  SL_RETURN_IF_ERROR(ForEachParam(params, kKnown, false, [&](const std::string&, const std::string& v, bool) -> Status {
    projects = {v};
    return Status::OK();
  }));
  return projects;
}

Result<TraceViewParams> ParseTraceViewParams(const QueryParams& params) {
  static const std::set<std::string_view> kKnown = {"project", "view"};
  TraceViewParams out;
  SL_RETURN_IF_ERROR(ForEachParam(params, kKnown, false, [&](const std::string& n, const std::string& v, bool) -> Status {
    if (n == "project") {
      out.projects = {v};
    } else if (v == "light") {
      out.light = true;
    } else if (v != "full") {
      return BadParameter(n, "expected full or light, got \"" + v + "\"");
    }
    return Status::OK();
  }));
  return out;
}

Status BadParameter(std::string_view name, std::string_view what) {
  return Status::InvalidArgument("parameter " + std::string(name) + ": " + std::string(what));
}

}  // namespace sightline::api
