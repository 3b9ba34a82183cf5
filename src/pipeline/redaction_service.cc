#include "pipeline/redaction_service.h"

#include <openssl/rand.h>

#include <filesystem>

namespace sightline::pipeline {
namespace {

constexpr char kRedactions[] = "sightline_redactions_total";
constexpr char kRedactionsHelp[] =
    "Values redacted at ingest, by project, rule (detector, custom rule or attribute key rule) and action.";

std::string ToHex(const unsigned char* p, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s += kHex[p[i] >> 4];
    s += kHex[p[i] & 15];
  }
  return s;
}

Status ReadWhole(Env* env, const std::string& path, size_t limit, std::string* text) {
  auto f = env->NewSequentialFile(path);
  if (!f.ok()) return f.status().WithContext(path);
  std::string scratch;
  for (;;) {
    std::string_view chunk;
    Status st = (*f)->Read(1 << 16, &scratch, &chunk);
    if (!st.ok()) return st.WithContext(path);
    if (chunk.empty()) return Status::OK();
    text->append(chunk);
    if (text->size() > limit) return Status::TooLarge(path + ": larger than " + std::to_string(limit) + " bytes");
  }
}

}  // namespace

Result<std::unique_ptr<RedactionService>> RedactionService::Create(Options options) {
  std::unique_ptr<RedactionService> s(new RedactionService(std::move(options)));
  SL_RETURN_IF_ERROR(s->LoadKey());
  if (s->opts_.metrics) {
    s->reload_errors_metric_ = s->opts_.metrics->GetCounter(
        "sightline_redaction_reload_errors_total", "Edits of the redaction policy file refused (the previous policy stayed).");
    s->policy_ok_metric_ = s->opts_.metrics->GetGauge(
        "sightline_redaction_policy_ok", "1 when the redaction policy file in its current content is in force, else 0.");
  }
  {
    SL_ASSIGN_OR_RETURN(auto builtin, redaction::Policy::Builtin(s->base_key_));
    std::lock_guard<std::mutex> l(s->mu_);
    s->current_ = std::move(builtin);
  }
  SL_RETURN_IF_ERROR(s->Reload());
  if (s->policy_ok_metric_) s->policy_ok_metric_->Set(1);
  std::lock_guard<std::mutex> l(s->mu_);
  s->started_ = true;
  return s;
}

// The base HMAC key: DATA_DIR/redaction.key, 64 hex characters, made once at random.
Status RedactionService::LoadKey() {
  if (opts_.key_file.empty()) {
    base_key_.assign(32, '\0');
    return Status::OK();
  }
  Env* env = opts_.env;
  if (!env->FileExists(opts_.key_file)) {
    unsigned char raw[32];
    if (RAND_bytes(raw, sizeof raw) != 1) return Status::Internal("redaction: no random bytes for the hash key");
    const std::string hex = ToHex(raw, sizeof raw) + "\n";
    const std::string dir = std::filesystem::path(opts_.key_file).parent_path().string();
    if (!dir.empty() && !env->FileExists(dir)) SL_RETURN_IF_ERROR(env->CreateDir(dir));
    const std::string tmp = opts_.key_file + ".tmp";
    SL_ASSIGN_OR_RETURN(auto f, env->NewWritableFile(tmp));
    SL_RETURN_IF_ERROR(f->Append(hex));
    SL_RETURN_IF_ERROR(f->Sync());
    SL_RETURN_IF_ERROR(f->Close());
    SL_RETURN_IF_ERROR(env->RenameFile(tmp, opts_.key_file));
    if (!dir.empty()) SL_RETURN_IF_ERROR(env->SyncDir(dir));
  }
  std::string text;
  SL_RETURN_IF_ERROR(ReadWhole(env, opts_.key_file, 4096, &text));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  if (text.size() < 32)
    return Status::InvalidArgument(opts_.key_file + ": the redaction hash key must be at least 32 characters");
  base_key_ = std::move(text);
  return Status::OK();
}

Status RedactionService::ReadPolicyFile(std::string* text, bool* exists) const {
  text->clear();
  *exists = !opts_.policy_file.empty() && opts_.env->FileExists(opts_.policy_file);
  if (!*exists) return Status::OK();
  return ReadWhole(opts_.env, opts_.policy_file, 16u << 20, text);
}

Status RedactionService::Reload() {
  std::lock_guard<std::mutex> reload(reload_mu_);
  std::string text;
  bool exists = false;
  Status read = ReadPolicyFile(&text, &exists);
  if (!read.ok()) return ReloadFailed(std::move(read), std::string());
  {
    std::lock_guard<std::mutex> l(mu_);
    if (exists == file_in_force_ && text == text_ && current_) {
      outcome_.Succeeded();
      if (policy_ok_metric_) policy_ok_metric_->Set(1);
      return Status::OK();
    }
    if (outcome_.AlreadyRefused(text)) return outcome_.last_error();
  }
  std::shared_ptr<const redaction::Policy> policy;
  if (exists) {
    const std::string origin = opts_.policy_file;
    auto spec = redaction::ParsePolicy(text, origin);
    if (!spec.ok()) return ReloadFailed(spec.status(), std::move(text));
    auto compiled = redaction::Policy::Compile(*spec, base_key_, origin);
    if (!compiled.ok()) return ReloadFailed(compiled.status(), std::move(text));
    policy = std::move(compiled).value();
  } else {
    auto compiled = redaction::Policy::Builtin(base_key_);
    if (!compiled.ok()) return ReloadFailed(compiled.status(), std::string());
    policy = std::move(compiled).value();
  }
  bool started;
  size_t sections = policy->project_sections();
  {
    std::lock_guard<std::mutex> l(mu_);
    current_ = std::move(policy);
    text_ = std::move(text);
    file_in_force_ = exists;
    outcome_.Succeeded();
    started = started_;
  }
  if (policy_ok_metric_) policy_ok_metric_->Set(1);
  if (started && opts_.logger) {
    opts_.logger(exists ? "redaction: " + opts_.policy_file + " reloaded (" + std::to_string(sections) +
                              " project sections)"
                        : "redaction: " + opts_.policy_file + " is gone: the built-in policy applies");
  }
  return Status::OK();
}

Status RedactionService::ReloadFailed(Status status, std::string text) {
  bool news, started;
  {
    std::lock_guard<std::mutex> l(mu_);
    news = outcome_.Failed(status, std::move(text));
    started = started_;
  }
  if (!started || !news) return status;
  if (reload_errors_metric_) reload_errors_metric_->Inc();
  if (policy_ok_metric_) policy_ok_metric_->Set(0);
  if (opts_.logger) opts_.logger("redaction: edit refused, the policy in force stays: " + status.message());
  return status;
}

void RedactionService::MaybeReload() {
  const int64_t now = opts_.env->MonotonicNanos();
  if (!throttle_.Due(now, opts_.reload_interval_ms)) return;
  (void)Reload();
}

std::shared_ptr<const redaction::Policy> RedactionService::policy() const {
  std::lock_guard<std::mutex> l(mu_);
  return current_;
}

Status RedactionService::last_error() const {
  std::lock_guard<std::mutex> l(mu_);
  return outcome_.last_error();
}

std::string RedactionService::Describe() const {
  std::lock_guard<std::mutex> l(mu_);
  return file_in_force_ ? opts_.policy_file : "built-in";
}

bool RedactionService::Redact(std::string_view project, ::opentelemetry::proto::trace::v1::ResourceSpans* rs) {
  std::shared_ptr<const redaction::Policy> p = policy();
  const redaction::ProjectPolicy& pp = p->For(project);
  redaction::Counts counts;
  const bool changed = redaction::RedactResourceSpans(pp, project, rs, &counts);
  if (!counts.empty()) Record(project, pp, counts);
  return changed;
}

void RedactionService::Record(std::string_view project, const redaction::ProjectPolicy& p,
                              const redaction::Counts& counts) {
  int64_t total = 0;
  counts.ForEach([&total](size_t, redaction::Action, int64_t n) { total += n; });
  total_.fetch_add(total, std::memory_order_relaxed);
  if (!opts_.metrics) return;
  std::string label;
  {
    std::lock_guard<std::mutex> l(metrics_mu_);
    if (metric_projects_.count(project) || metric_projects_.size() < opts_.max_metric_projects) {
      label = std::string(project);
      metric_projects_.insert(label);
    } else {
      label = "other";
    }
  }
  counts.ForEach([&](size_t rule, redaction::Action a, int64_t n) {
    const std::string& name = rule < p.rules().size() ? p.rules()[rule].name : "attribute";
    opts_.metrics
        ->GetCounter(kRedactions, kRedactionsHelp,
                     {{"project", label}, {"rule", name}, {"action", std::string(redaction::ActionName(a))}})
        ->Inc(static_cast<double>(n));
  });
}

}  // namespace sightline::pipeline
