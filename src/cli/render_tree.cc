// `sightline trace`: the trace header and the span tree.
#include <algorithm>
#include <ctime>
#include <map>
#include <set>
#include <vector>

#include "cli/render.h"
#include "cli/terminal.h"
#include "common/time_util.h"

namespace sightline::cli {
namespace {

int64_t SpanDuration(const JsonValue& s) {
  if (auto d = OptInt(s, "duration_ns")) return *d;
  int64_t a = Int(s, "start_ns"), b = Int(s, "end_ns");
  return b > a ? b - a : 0;
}

// One rendered row before alignment.
struct Row {
  std::string left;  // guides + kind + name
  std::string duration, status, tokens, cost, detail, note;
  Color color = Color::kNone;
  std::vector<std::string> payload_lines;  // already prefixed with continuation guides
  std::string cont;                        // the guides for lines under this one
};

std::string PartText(const JsonValue& part) {
  std::string type = Str(part, "type");
  if (type == "text" || type == "reasoning" || (type.empty() && Member(part, "content") != nullptr)) {
    std::string t = Str(part, "content");
    if (t.empty()) t = Str(part, "text");
    return t;
  }
  if (type == "tool_call") {
    std::string args;
    if (const JsonValue* a = Member(part, "arguments")) args = a->IsString() ? a->GetString() : ToJson(*a);
    return "tool_call " + Str(part, "name") + "(" + args + ")";
  }
  if (type == "tool_result" || type == "tool_call_response") {
    std::string r;
    if (const JsonValue* a = Member(part, "result")) r = a->IsString() ? a->GetString() : ToJson(*a);
    if (const JsonValue* a = Member(part, "response"); r.empty() && a != nullptr)
      r = a->IsString() ? a->GetString() : ToJson(*a);
    return "tool_result " + r;
  }
  if (const JsonValue* c = Member(part, "content"); c != nullptr && c->IsString()) return c->GetString();
  return ToJson(part);
}

}  // namespace

std::string PayloadText(const JsonValue& payload) {
  if (payload.IsString()) return std::string(payload.GetString(), payload.GetStringLength());
  if (payload.IsArray()) {
    bool messages = !payload.Empty();
    for (const auto& m : payload.GetArray()) messages &= m.IsObject() && Member(m, "role") != nullptr;
    if (messages) {
      std::string out;
      for (const auto& m : payload.GetArray()) {
        if (!out.empty()) out += " | ";
        out += Str(m, "role") + ": ";
        const JsonValue* parts = Member(m, "parts");
        if (parts != nullptr && parts->IsArray()) {
          bool first = true;
          for (const auto& p : parts->GetArray()) {
            if (!first) out += " ";
            first = false;
            out += PartText(p);
          }
        } else if (const JsonValue* c = Member(m, "content")) {
          out += c->IsString() ? std::string(c->GetString()) : ToJson(*c);
        }
      }
      return out;
    }
  }
  return ToJson(payload);
}

std::string FormatClock(int64_t unix_ns, bool utc, bool with_date) {
  std::time_t secs = static_cast<std::time_t>(unix_ns / 1000000000);
  std::tm tm{};
  if (utc) {
    gmtime_r(&secs, &tm);
  } else {
    localtime_r(&secs, &tm);
  }
  char buf[32];
  std::strftime(buf, sizeof buf, with_date ? "%Y-%m-%d %H:%M:%S" : "%H:%M:%S", &tm);
  return buf;
}

std::string RenderTraceHeader(const JsonValue& t, const RenderOptions& o) {
  std::string root = Str(t, "root_name");
  if (root.empty()) root = "(root not received)";
  std::string out = Paint("trace " + Str(t, "trace_id"), Color::kBold, o.color) + "  " + OneLine(root);
  auto add = [&out](std::string_view label, const std::string& value) {
    if (!value.empty()) out += "  " + std::string(label) + value;
  };
  add("agent ", OneLine(Str(t, "agent_name")));
  add("session ", OneLine(Str(t, "session_id")));
  add("user ", OneLine(Str(t, "user_id")));
  out += "  " + FormatDuration(Int(t, "duration_ns"));
  int64_t spans = Int(t, "span_count"), errors = Int(t, "error_count");
  out += "  " + FormatCount(spans) + (spans == 1 ? " span" : " spans");
  out += "  " + FormatCount(errors) + (errors == 1 ? " error" : " errors");
  int64_t in = Int(t, "input_tokens"), outt = Int(t, "output_tokens");
  if (in > 0 || outt > 0) out += "  " + FormatTokens(in, outt) + " tok";
  if (auto c = OptDouble(t, "cost_usd"); c && *c > 0) out += "  " + FormatCost(*c);
  std::string status = Str(t, "status", "unset");
  out += "  " + Paint(status, StatusColor(status), o.color);
  return out;
}

std::string RenderTraceTree(const JsonValue& answer, const RenderOptions& o) {
  std::string out;
  if (const JsonValue* t = Member(answer, "trace")) out = RenderTraceHeader(*t, o) + "\n";
  const JsonValue* spans = Member(answer, "spans");
  if (spans == nullptr || !spans->IsArray() || spans->Empty()) return out + "(no spans)\n";

  // Rebuild the tree from parent ids, keeping the API's order among siblings.
  const auto& arr = spans->GetArray();
  size_t n = arr.Size();
  std::map<std::string, size_t> by_id;
  for (size_t i = 0; i < n; ++i) by_id.emplace(Str(arr[i], "span_id"), i);
  std::vector<std::vector<size_t>> children(n);
  std::vector<size_t> roots;
  std::vector<bool> missing_parent(n, false);
  for (size_t i = 0; i < n; ++i) {
    std::string parent = Str(arr[i], "parent_span_id");
    auto it = parent.empty() ? by_id.end() : by_id.find(parent);
    if (it == by_id.end() || it->second == i) {
      roots.push_back(i);
      missing_parent[i] = !parent.empty() || Bool(arr[i], "parent_missing");
    } else {
      children[it->second].push_back(i);
    }
  }

  std::vector<Row> rows;
  std::vector<bool> visited(n, false);
  // Iterative DFS; `guides` is the prefix for the children of the node being visited.
  struct Frame { size_t idx; int depth; std::string prefix; bool last; bool top; };
  std::vector<Frame> stack;
  auto push_roots = [&](const std::vector<size_t>& list) {
    for (size_t k = list.size(); k-- > 0;) stack.push_back({list[k], 0, "", k + 1 == list.size(), true});
  };
  push_roots(roots);
  auto walk = [&]() {
    while (!stack.empty()) {
      Frame f = stack.back();
      stack.pop_back();
      if (visited[f.idx]) continue;
      visited[f.idx] = true;
      const JsonValue& s = arr[f.idx];
      Row r;
      std::string guide = f.top ? "" : f.prefix + (f.last ? "└─ " : "├─ ");
      std::string child_prefix = f.top ? "" : f.prefix + (f.last ? "   " : "│  ");
      std::string kind = Str(s, "kind", "other");
      r.left = guide + Paint(kind, Color::kCyan, o.color) + " " + OneLine(Str(s, "name"));
      r.duration = FormatDuration(SpanDuration(s));
      std::string status = Str(s, "status", "unset");
      r.status = status;
      r.color = StatusColor(status);
      auto in = OptInt(s, "input_tokens"), outt = OptInt(s, "output_tokens");
      if (in || outt) {
        r.tokens = FormatTokens(in.value_or(0), outt.value_or(0));
        // Cached prompt tokens, when the terminal has room for them.
        if (auto cr = OptInt(s, "cache_read_tokens"); cr && *cr > 0 && (o.width == 0 || o.width >= 140))
          r.tokens += " (" + FormatCount(*cr) + " cached)";
      }
      if (auto c = OptDouble(s, "cost_usd")) r.cost = FormatCost(*c);
      std::string model = Str(s, "model"), tool = Str(s, "tool_name"), agent = Str(s, "agent_name");
      if (!model.empty()) {
        r.detail = OneLine(model);
      } else if (!tool.empty() && Str(s, "name").find(tool) == std::string::npos) {
        r.detail = "tool " + OneLine(tool);
      } else if (kind == "agent" && !agent.empty() && Str(s, "name").find(agent) == std::string::npos) {
        r.detail = "agent " + OneLine(agent);
      }
      if (missing_parent[f.idx]) r.note = "⚠ parent " + Str(s, "parent_span_id") + " missing";
      if (status == "error") {
        std::string et = Str(s, "error_type"), msg = Str(s, "status_message");
        std::string e = et.empty() ? msg : msg.empty() ? et : et + ": " + msg;
        if (!e.empty()) r.note += (r.note.empty() ? "" : "  ") + OneLine(e);
      } else if (status == "interrupt") {
        std::string reason = Str(s, "interrupt_reason");
        if (!reason.empty()) r.note += (r.note.empty() ? "" : "  ") + OneLine(reason);
      }
      bool has_children = !children[f.idx].empty() && (o.max_depth < 0 || f.depth < o.max_depth);
      r.cont = child_prefix + (has_children ? "│  " : "   ");
      if (o.payloads) {
        const std::string& cont = r.cont;
        int avail = o.width > 0 ? std::max(20, o.width - DisplayWidth(cont) - 5) : o.payload_chars;
        avail = std::min(avail, o.payload_chars);
        for (const char* field : {"input", "output"}) {
          const JsonValue* p = Member(s, field);
          if (p == nullptr) continue;
          std::string text = OneLine(PayloadText(*p));
          if (text.empty()) continue;
          r.payload_lines.push_back(cont + Paint(std::string(field == std::string_view("input") ? "in:  " : "out: ") +
                                                     Truncate(text, avail),
                                                 Color::kDim, o.color));
        }
      }
      rows.push_back(std::move(r));
      if (!has_children) {
        if (!children[f.idx].empty()) {
          // Depth limit: count what is hidden below.
          size_t hidden = 0;
          std::vector<size_t> q = children[f.idx];
          while (!q.empty()) {
            size_t c = q.back();
            q.pop_back();
            if (visited[c]) continue;
            visited[c] = true;
            ++hidden;
            q.insert(q.end(), children[c].begin(), children[c].end());
          }
          rows.back().note += (rows.back().note.empty() ? "" : "  ") + std::string("(+") + std::to_string(hidden) +
                              " below)";
        }
        continue;
      }
      const auto& ch = children[f.idx];
      for (size_t k = ch.size(); k-- > 0;) stack.push_back({ch[k], f.depth + 1, child_prefix, k + 1 == ch.size(), false});
    }
  };
  walk();
  // Spans on a parent cycle are reachable from no root: show them at the top level.
  for (size_t i = 0; i < n; ++i) {
    if (!visited[i]) {
      missing_parent[i] = true;
      push_roots({i});
      walk();
    }
  }

  int left_w = 0, dur_w = 0, status_w = 0, tok_w = 0, cost_w = 0;
  for (const Row& r : rows) {
    left_w = std::max(left_w, DisplayWidth(r.left));
    dur_w = std::max(dur_w, DisplayWidth(r.duration));
    status_w = std::max(status_w, DisplayWidth(r.status));
    tok_w = std::max(tok_w, DisplayWidth(r.tokens));
    cost_w = std::max(cost_w, DisplayWidth(r.cost));
  }
  if (o.width > 0) left_w = std::min(left_w, std::max(24, o.width - dur_w - status_w - tok_w - cost_w - 20));
  for (const Row& r : rows) {
    std::string line = PadRight(Truncate(r.left, left_w), left_w) + "  " + PadLeft(r.duration, dur_w) + "  " +
                       Paint(PadRight(r.status, status_w), r.color, o.color);
    if (tok_w > 0) line += "  " + PadLeft(r.tokens, tok_w);
    if (cost_w > 0) line += "  " + PadLeft(r.cost, cost_w);
    std::string note = r.note.empty() ? "" : Paint(r.note, r.color == Color::kNone ? Color::kYellow : r.color, o.color);
    // The error or interrupt reason goes before the model name; when the line is too
    // long for the terminal it gets a line of its own, so it is never cut away.
    std::string note_line;
    if (!note.empty()) {
      if (o.width > 0 && DisplayWidth(line + "  " + r.note) > o.width) {
        note_line = r.cont + "↳ " + note;
      } else {
        line += "  " + note;
      }
    }
    if (!r.detail.empty()) line += "  " + r.detail;
    while (!line.empty() && line.back() == ' ') line.pop_back();
    for (std::string* l : {&line, &note_line}) {
      if (o.width > 0 && DisplayWidth(*l) > o.width) {
        *l = Truncate(*l, o.width);
        if (o.color) *l += "\x1b[0m";
      }
    }
    out += line + "\n";
    if (!note_line.empty()) out += note_line + "\n";
    for (const std::string& p : r.payload_lines) out += p + "\n";
  }
  return out;
}

}  // namespace sightline::cli
