// RedactionService: the redaction policy in force for a running server, re-read when
// its file changes, and the redaction counters on /metrics.
//
// The policy file (DATA_DIR/redaction.toml or --redaction-file) is optional; without
// it the built-in policy applies (credential detectors mask, personal-data detectors
// off; docs/redaction.md). A file that does not parse or compile is refused with an
// error naming its line: at start-up Create fails (the server refuses to start), later
// the previous policy stays in force and the refusal is logged once per content.
// Hashes use the file's key, else a random key kept in DATA_DIR/redaction.key (made
// on first start), with a distinct derived key per project.
//
// Metrics (when a registry is given): sightline_redactions_total{project,rule,action};
// project takes at most max_metric_projects distinct values (first come), then "other";
// rule is a built-in detector, a custom rule of the policy or "attribute" (key
// rules, and a string the scanner failed on); sightline_redaction_reload_errors_total and
// sightline_redaction_policy_ok (1 when the file's current content is in force).
//
// Thread-safety: every method may be called from any thread. Reload compiles
// Hyperscan databases (tens to hundreds of milliseconds): the server calls MaybeReload
// from its main thread's tick, never on the ingest path.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "common/env.h"
#include "common/metrics.h"
#include "common/status.h"
#include "pipeline/live_file.h"
#include "pipeline/redaction.h"

namespace sightline::pipeline {

class RedactionService {
 public:
  struct Options {
    Env* env = Env::Default();
    std::string policy_file;  // DATA_DIR/redaction.toml; empty: the built-in policy only
    std::string key_file;     // DATA_DIR/redaction.key; empty: an all-zero key (tests)
    int64_t reload_interval_ms = 2000;
    size_t max_metric_projects = 100;
    MetricsRegistry* metrics = nullptr;  // must outlive the service
    std::function<void(const std::string&)> logger = nullptr;
  };
  static Result<std::unique_ptr<RedactionService>> Create(Options options);

  // Redacts one ResourceSpans of `project` under the policy in force, and counts.
  // True when anything was changed or removed.
  bool Redact(std::string_view project, ::opentelemetry::proto::trace::v1::ResourceSpans* rs);

  Status Reload();
  void MaybeReload();
  std::shared_ptr<const redaction::Policy> policy() const;
  Status last_error() const;
  // "built-in" or the file's path, for the start-up line.
  std::string Describe() const;
  // Redactions counted so far (all projects, rules, actions).
  int64_t total() const { return total_.load(std::memory_order_relaxed); }

 private:
  explicit RedactionService(Options options) : opts_(std::move(options)) {}
  Status LoadKey();
  Status ReadPolicyFile(std::string* text, bool* exists) const;
  Status ReloadFailed(Status status, std::string text);
  void Record(std::string_view project, const redaction::ProjectPolicy& p, const redaction::Counts& counts);

  Options opts_;
  std::string base_key_;
  mutable std::mutex mu_;
  std::shared_ptr<const redaction::Policy> current_;  // guarded by mu_
  std::string text_;                                  // guarded by mu_: the file content in force
  bool file_in_force_ = false;                        // guarded by mu_
  ReloadOutcome outcome_;  // guarded by mu_
  bool started_ = false;                              // guarded by mu_
  std::mutex reload_mu_;
  ReloadThrottle throttle_;
  std::atomic<int64_t> total_{0};
  std::mutex metrics_mu_;
  std::set<std::string, std::less<>> metric_projects_;  // guarded by metrics_mu_
  Counter* reload_errors_metric_ = nullptr;
  Gauge* policy_ok_metric_ = nullptr;
};

}  // namespace sightline::pipeline
