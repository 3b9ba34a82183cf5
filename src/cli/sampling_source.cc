#include "cli/sampling_source.h"

#include <cstdio>

#include "cli/config.h"

namespace sightline::cli {

Result<std::unique_ptr<SamplingSource>> SamplingSource::Create(Options options) {
  SL_RETURN_IF_ERROR(options.base.Validate());
  std::unique_ptr<SamplingSource> s(new SamplingSource(std::move(options)));
  SL_RETURN_IF_ERROR(s->Reload().status());
  return s;
}

void SamplingSource::Log(const std::string& m) const {
  if (opts_.logger) {
    opts_.logger(m);
  } else {
    std::fprintf(stderr, "sightline: %s\n", m.c_str());
  }
}

bool SamplingSource::MaybeReload() {
  if (!throttle_.Due(opts_.env->MonotonicNanos(), opts_.reload_interval_ms)) return false;
  auto r = Reload();
  return r.ok() && *r;
}

Result<bool> SamplingSource::Reload() {
  if (opts_.file.empty()) return false;
  const bool exists = opts_.env->FileExists(opts_.file);
  if (!exists) {
    if (!file_in_force_) return false;
    file_in_force_ = false;
    text_.clear();
    current_ = opts_.base;
    outcome_.Succeeded();
    Log("sampling: " + opts_.file + " was removed; the policy of sightline.toml applies again");
    return true;
  }
  auto text = ReadFileToString(opts_.env, opts_.file);
  if (!text.ok()) {
    // Unreadable for now (being replaced, permissions): keep the policy in force.
    if (outcome_.Failed(text.status(), std::string())) Log("sampling: cannot read " + opts_.file + ": " + text.status().ToString());
    return text.status();
  }
  if (file_in_force_ && *text == text_) return false;
  if (outcome_.AlreadyRefused(*text)) return outcome_.last_error();
  store::sampling::SamplingOptions next;
  Status s = ParseSamplingFile(*text, opts_.file, &next);
  if (!s.ok()) {
    if (outcome_.Failed(s, *text))
      Log("sampling: refused the edit of " + opts_.file + " (the policy in force stays): " + s.message());
    return s;
  }
  outcome_.Succeeded();
  file_in_force_ = true;
  text_ = std::move(text).value();
  current_ = std::move(next);
  Log("sampling: the policy of " + opts_.file + " is in force");
  return true;
}

}  // namespace sightline::cli
