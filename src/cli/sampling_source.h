// SamplingSource: the tail-sampling policy in force for a running server
// (docs/sampling.md "Changing the policy while running"), re-read when its file
// changes, the way pricing.toml and redaction.toml are.
//
// The policy is DATA/sampling.toml ([sampling], the keys of sightline.toml's) while that
// file exists, else sightline.toml's [sampling] as read at start-up. A file that does
// not parse or validate is refused with an error naming it: at start-up Create fails
// (the server refuses to start), later the policy in force stays and the refusal is
// logged once per content. Removing the file goes back to sightline.toml's policy.
//
// Thread-safety: none; the server's main thread owns it (its tick calls MaybeReload).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/env.h"
#include "common/status.h"
#include "pipeline/live_file.h"
#include "store/sampling/sampling_policy.h"

namespace sightline::cli {

class SamplingSource {
 public:
  struct Options {
    Env* env = Env::Default();
    std::string file;                             // DATA/sampling.toml
    store::sampling::SamplingOptions base;        // sightline.toml's [sampling]
    int64_t reload_interval_ms = 2000;
    std::function<void(const std::string&)> logger;  // default: stderr
  };
  static Result<std::unique_ptr<SamplingSource>> Create(Options options);

  const store::sampling::SamplingOptions& policy() const { return current_; }
  // The file's path while it is in force, else "sightline.toml".
  std::string Describe() const { return file_in_force_ ? opts_.file : "sightline.toml"; }
  const Status& last_error() const { return outcome_.last_error(); }

  // Re-reads the file (at most every reload_interval_ms for MaybeReload). True when
  // the policy in force changed; a refused edit returns false and keeps it.
  bool MaybeReload();
  Result<bool> Reload();

 private:
  explicit SamplingSource(Options options) : opts_(std::move(options)), current_(opts_.base) {}
  void Log(const std::string& m) const;

  Options opts_;
  store::sampling::SamplingOptions current_;
  bool file_in_force_ = false;
  std::string text_;  // the file content in force (when file_in_force_)
  pipeline::ReloadOutcome outcome_;
  pipeline::ReloadThrottle throttle_;
};

}  // namespace sightline::cli
