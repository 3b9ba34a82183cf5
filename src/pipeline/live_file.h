// The bookkeeping shared by the files Sightline re-reads while it runs (pricing.toml,
// redaction.toml): how often a request thread may look at the file, and which edit
// was last refused, so that one bad edit is logged and counted once, not at every look.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "common/status.h"

namespace sightline::pipeline {

// Lets one caller per interval through; the others return at once (lock-free).
class ReloadThrottle {
 public:
  bool Due(int64_t now_ns, int64_t interval_ms) {
    int64_t next = next_ns_.load(std::memory_order_relaxed);
    if (now_ns < next) return false;
    return next_ns_.compare_exchange_strong(next, now_ns + interval_ms * 1000000);
  }

 private:
  std::atomic<int64_t> next_ns_{0};
};

// The last reload's outcome. Not thread-safe: the owner guards it with its lock.
class ReloadOutcome {
 public:
  const Status& last_error() const { return last_error_; }
  // True when `text` is the content already refused as invalid (nothing to re-parse).
  bool AlreadyRefused(const std::string& text) const {
    return last_error_.code() == StatusCode::kInvalidArgument && text == failed_text_;
  }
  void Succeeded() {
    last_error_ = Status::OK();
    failed_text_.clear();
  }
  // Records a refused edit; true when it is news (differs from the last one refused).
  bool Failed(const Status& status, std::string text) {
    bool news = last_error_.ok() || text != failed_text_ || status.message() != last_error_.message();
    last_error_ = status;
    failed_text_ = std::move(text);
    return news;
  }

 private:
  Status last_error_;
  std::string failed_text_;  // the content last refused
};

}  // namespace sightline::pipeline
