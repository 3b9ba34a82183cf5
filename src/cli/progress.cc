#include "cli/progress.h"

#include <cstdio>

#include "cli/terminal.h"

namespace sightline::cli {
namespace {

std::string Mib(int64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return buf;
}

}  // namespace

Progress::Progress(std::string label, int64_t total_bytes, bool enabled, const char* total_unit)
    : label_(std::move(label)),
      total_(total_bytes),
      enabled_(enabled),
      total_unit_(total_unit),
      start_(std::chrono::steady_clock::now()) {}

Progress::~Progress() { Finish(); }

std::string Progress::Line(const std::string& label, int64_t done, int64_t total, int64_t items, double seconds,
                           const char* unit, int width, const char* total_unit) {
  std::string line = label + " ";
  if (total > 0) {
    if (done > total) done = total;
    const int bar = 24;
    int filled = static_cast<int>(static_cast<double>(done) / static_cast<double>(total) * bar);
    line += "[" + std::string(static_cast<size_t>(filled), '#') + std::string(static_cast<size_t>(bar - filled), ' ') +
            "] ";
    char pct[16];
    std::snprintf(pct, sizeof pct, "%3d%%", static_cast<int>(done * 100 / total));
    line += std::string(pct) + "  " +
            (total_unit ? FormatCount(done) + "/" + FormatCount(total) + " " + total_unit
                        : Mib(done) + "/" + Mib(total) + " MiB");
  } else if (done > 0) {
    line += total_unit ? FormatCount(done) + " " + total_unit : Mib(done) + " MiB";
  }
  line += "  " + FormatCount(items) + " " + unit;
  if (seconds > 0.05) line += "  " + FormatCount(static_cast<int64_t>(static_cast<double>(items) / seconds)) + " " +
                              unit + "/s";
  if (width > 0) line = Truncate(line, width - 1);
  return line;
}

void Progress::Update(int64_t done_bytes, int64_t items, const char* unit) {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  double secs = std::chrono::duration<double>(now - start_).count();
  std::string line = Line(label_, done_bytes, total_, items, secs, unit, TerminalWidth(stderr), total_unit_);
  std::fprintf(stderr, "\r\x1b[2K%s", line.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

void Progress::Finish() {
  if (enabled_ && drawn_) {
    std::fprintf(stderr, "\r\x1b[2K");
    std::fflush(stderr);
  }
  drawn_ = false;
}

}  // namespace sightline::cli
