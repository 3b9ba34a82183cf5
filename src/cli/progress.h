// A one-line progress display on stderr for `import` and `export`, shown only when
// stderr is a terminal: "[#####     ]  45%  12.3/27.1 MiB  3,210 spans/s".
// Redraws at most ten times a second. Thread-safety: one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace sightline::cli {

class Progress {
 public:
  // total_bytes 0: unknown (no bar, counts only). enabled false: prints nothing.
  Progress(std::string label, int64_t total_bytes, bool enabled);
  ~Progress();

  void Update(int64_t done_bytes, int64_t items, const char* unit = "spans");
  // Clears the line.
  void Finish();

  // The line for these numbers (pure, for tests): bar, percent, sizes, rate.
  static std::string Line(const std::string& label, int64_t done_bytes, int64_t total_bytes, int64_t items,
                          double seconds, const char* unit, int width);

 private:
  std::string label_;
  int64_t total_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace sightline::cli
