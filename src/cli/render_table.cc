// `sightline traces`, `session` and `tail`: tables and lines of trace summaries.
#include <algorithm>
#include <vector>

#include "cli/render.h"
#include "cli/terminal.h"
#include "common/time_util.h"

namespace sightline::cli {
namespace {

struct Column {
  Column(std::string t, bool r = false, int min = 0, int drop = 0)
      : title(std::move(t)), right(r), min_width(min), drop_rank(drop) {}
  std::string title;
  bool right = false;   // numbers align right
  int min_width = 0;    // > 0: may shrink to this when the table is too wide
  int drop_rank = 0;    // > 0: left out (lowest first) when shrinking is not enough
  std::vector<std::string> cells;
  std::vector<Color> colors;  // per cell, for the status column
  int width = 0;
};

// Lays out columns: natural widths, then shrinks flexible ones until the table fits
// max_width (0: no limit), then drops empty-titled padding. Returns the lines.
std::string Layout(std::vector<Column>& cols, int max_width, bool color) {
  const int sep = 2;
  for (auto& c : cols) {
    c.width = DisplayWidth(c.title);
    for (const auto& cell : c.cells) c.width = std::max(c.width, DisplayWidth(cell));
  }
  if (max_width > 0) {
    auto total = [&] {
      int t = 0;
      for (const auto& c : cols) t += c.width + sep;
      return t - sep;
    };
    // Shrink the widest flexible column one step at a time, fairly; then leave out
    // the least useful columns until the table fits.
    while (total() > max_width) {
      Column* widest = nullptr;
      for (auto& c : cols)
        if (c.min_width > 0 && c.width > c.min_width && (widest == nullptr || c.width > widest->width)) widest = &c;
      if (widest != nullptr) {
        --widest->width;
        continue;
      }
      auto drop = cols.end();
      for (auto it = cols.begin(); it != cols.end(); ++it)
        if (it->drop_rank > 0 && (drop == cols.end() || it->drop_rank < drop->drop_rank)) drop = it;
      if (drop == cols.end()) break;
      cols.erase(drop);
    }
  }
  std::string out;
  {
    std::string line;
    for (size_t i = 0; i < cols.size(); ++i) {
      const Column& c = cols[i];
      std::string text = Truncate(c.title, c.width);
      line += Paint(c.right ? PadLeft(text, c.width) : PadRight(text, c.width), Color::kBold, color);
      if (i + 1 < cols.size()) line += "  ";
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  size_t rows = cols.empty() ? 0 : cols[0].cells.size();
  for (size_t r = 0; r < rows; ++r) {
    std::string line;
    for (size_t i = 0; i < cols.size(); ++i) {
      const Column& c = cols[i];
      std::string text = Truncate(c.cells[r], c.width);
      std::string padded = c.right ? PadLeft(text, c.width) : PadRight(text, c.width);
      if (r < c.colors.size()) padded = Paint(padded, c.colors[r], color);
      line += padded;
      if (i + 1 < cols.size()) line += "  ";
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

std::string TokensCell(const JsonValue& t) {
  return FormatTokens(Int(t, "input_tokens"), Int(t, "output_tokens"));
}

std::string CostCell(const JsonValue& t) {
  auto c = OptDouble(t, "cost_usd");
  return c ? FormatCost(*c) : "-";
}

std::string RootName(const JsonValue& t) {
  std::string r = OneLine(Str(t, "root_name"));
  return r.empty() ? "(root pending)" : r;
}

}  // namespace

std::string RenderTracesTable(const JsonValue& traces, const RenderOptions& o) {
  if (!traces.IsArray() || traces.Empty()) return "no traces found\n";
  std::vector<Column> cols = {
      {"TIME"},           {"TRACE ID"},          {"ROOT", false, 10}, {"AGENT", false, 6, 2}, {"SESSION", false, 6, 4},
      {"STATUS"},         {"DURATION", true},    {"SPANS", true, 0, 3}, {"LLM/TOOL", true, 0, 1}, {"TOKENS", true, 0, 5},
      {"COST", true}};
  for (const auto& t : traces.GetArray()) {
    std::string status = Str(t, "status", "unset");
    cols[0].cells.push_back(FormatClock(Int(t, "start_ns"), o.utc, true));
    cols[1].cells.push_back(Str(t, "trace_id"));
    cols[2].cells.push_back(RootName(t));
    cols[3].cells.push_back(OneLine(Str(t, "agent_name", "-")));
    cols[4].cells.push_back(OneLine(Str(t, "session_id", "-")));
    cols[5].cells.push_back(status);
    cols[5].colors.resize(cols[5].cells.size() - 1);
    cols[5].colors.push_back(StatusColor(status));
    cols[6].cells.push_back(FormatDuration(Int(t, "duration_ns")));
    cols[7].cells.push_back(FormatCount(Int(t, "span_count")));
    cols[8].cells.push_back(FormatCount(Int(t, "llm_calls")) + "/" + FormatCount(Int(t, "tool_calls")));
    cols[9].cells.push_back(TokensCell(t));
    cols[10].cells.push_back(CostCell(t));
  }
  // Empty cells read better as "-" than as blanks.
  for (auto& c : cols)
    for (auto& cell : c.cells)
      if (cell.empty()) cell = "-";
  return Layout(cols, o.width, o.color);
}

std::string RenderSession(const JsonValue& answer, const RenderOptions& o) {
  std::string out;
  const JsonValue* s = Member(answer, "session");
  const JsonValue* traces = Member(answer, "traces");
  int64_t turns = traces != nullptr && traces->IsArray() ? traces->Size() : 0;
  if (s != nullptr) {
    out += Paint("session " + OneLine(Str(*s, "session_id")), Color::kBold, o.color);
    if (std::string u = Str(*s, "user_id"); !u.empty()) out += "  user " + OneLine(u);
    if (std::string p = Str(*s, "project"); !p.empty()) out += "  project " + OneLine(p);
    int64_t first = Int(*s, "first_start_ns"), last = Int(*s, "last_end_ns");
    if (first > 0) out += "  " + FormatClock(first, o.utc, true) + " → " + FormatClock(last, o.utc, false);
    std::string status = Str(*s, "status", "unset");
    out += "  " + Paint(status, StatusColor(status), o.color) + "\n";
  }
  if (turns == 0) return out + "no traces in this session\n";
  std::vector<Column> cols = {{"TURN", true},        {"TIME"},          {"ROOT", false, 10}, {"STATUS"},
                              {"DURATION", true},    {"TOKENS", true, 0, 1}, {"COST", true},   {"TRACE ID"}};
  int64_t in = 0, outt = 0, dur = 0, errors = 0, spans = 0;
  double cost = 0;
  bool any_cost = false;
  int turn = 0;
  for (const auto& t : traces->GetArray()) {
    std::string status = Str(t, "status", "unset");
    cols[0].cells.push_back(std::to_string(++turn));
    cols[1].cells.push_back(FormatClock(Int(t, "start_ns"), o.utc, true));
    cols[2].cells.push_back(RootName(t));
    cols[3].cells.push_back(status);
    cols[3].colors.resize(cols[3].cells.size() - 1);
    cols[3].colors.push_back(StatusColor(status));
    cols[4].cells.push_back(FormatDuration(Int(t, "duration_ns")));
    cols[5].cells.push_back(TokensCell(t));
    cols[6].cells.push_back(CostCell(t));
    cols[7].cells.push_back(Str(t, "trace_id"));
    in += Int(t, "input_tokens");
    outt += Int(t, "output_tokens");
    dur += Int(t, "duration_ns");
    spans += Int(t, "span_count");
    errors += status == "error" ? 1 : 0;
    if (auto c = OptDouble(t, "cost_usd")) {
      cost += *c;
      any_cost = true;
    }
  }
  out += Layout(cols, o.width, o.color);
  out += "total: " + std::to_string(turn) + (turn == 1 ? " turn" : " turns") + "  " + FormatCount(spans) +
         " spans  " + std::to_string(errors) + (errors == 1 ? " failed turn" : " failed turns") + "  " +
         FormatDuration(dur) + "  " + FormatTokens(in, outt) + " tok  " + (any_cost ? FormatCost(cost) : "-") + "\n";
  return out;
}

std::string RenderTailLine(const JsonValue& t, const RenderOptions& o) {
  std::string status = Str(t, "status", "unset");
  std::string line = FormatClock(Int(t, "start_ns"), o.utc, false) + "  " + Str(t, "trace_id") + "  " +
                     Paint(PadRight(status, 9), StatusColor(status), o.color) + "  " +
                     PadLeft(FormatDuration(Int(t, "duration_ns")), 7) + "  " + RootName(t);
  if (std::string a = OneLine(Str(t, "agent_name")); !a.empty()) line += "  agent " + a;
  if (std::string s = OneLine(Str(t, "session_id")); !s.empty()) line += "  session " + s;
  line += "  " + FormatCount(Int(t, "span_count")) + " spans  " + TokensCell(t) + " tok";
  if (auto c = OptDouble(t, "cost_usd")) line += "  " + FormatCost(*c);
  if (o.width > 0 && DisplayWidth(line) > o.width) {
    line = Truncate(line, o.width);
    if (o.color) line += "\x1b[0m";
  }
  return line;
}

}  // namespace sightline::cli
