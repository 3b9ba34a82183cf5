// A one-line progress display on stderr for `import`, `export` and `reprice`, shown only
// when stderr is a terminal: "[#####     ]  45%  12.3/27.1 MiB  3,210 spans/s", or with a
// total_unit counted in those ("[#####     ]  45%  5/11 files  3,210 spans").
// Redraws at most ten times a second. Thread-safety: one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace sightline::cli {

class Progress {
 public:
  // total_bytes 0: unknown (no bar, counts only). enabled false: prints nothing.
  // total_unit: the done/total numbers count these (e.g. "files") instead of bytes.
  Progress(std::string label, int64_t total_bytes, bool enabled, const char* total_unit = nullptr);
  // A total learnt later (0: unknown).
  void SetTotal(int64_t total) { total_ = total; }
  ~Progress();

  void Update(int64_t done_bytes, int64_t items, const char* unit = "spans");
  // Clears the line.
  void Finish();

  // The line for these numbers (pure, for tests): bar, percent, sizes, rate.
  static std::string Line(const std::string& label, int64_t done_bytes, int64_t total_bytes, int64_t items,
                          double seconds, const char* unit, int width, const char* total_unit = nullptr);

 private:
  std::string label_;
  int64_t total_;
  bool enabled_;
  const char* total_unit_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace sightline::cli
