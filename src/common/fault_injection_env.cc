#include "common/fault_injection_env.h"

namespace sightline {
namespace {

using Op = FaultInjectionEnv::Op;

class FaultWritableFile final : public WritableFile {
 public:
  FaultWritableFile(FaultInjectionEnv* env, std::string path, std::unique_ptr<WritableFile> base)
      : env_(env), path_(std::move(path)), base_(std::move(base)) {}
  Status Append(std::string_view data) override {
    SL_RETURN_IF_ERROR(env_->Check(Op::kWrite, path_));
    return base_->Append(data);
  }
  Status Sync() override {
    env_->WaitWhileHeld();
    SL_RETURN_IF_ERROR(env_->Check(Op::kSync, path_));
    return base_->Sync();
  }
  Status Close() override { return base_->Close(); }
  uint64_t Size() const override { return base_->Size(); }

 private:
  FaultInjectionEnv* env_;
  std::string path_;
  std::unique_ptr<WritableFile> base_;
};

}  // namespace

FaultInjectionEnv::FaultInjectionEnv(Env* base) : base_(base) {}

void FaultInjectionEnv::FailNth(Op op, int64_t n, Status status, bool sticky) {
  Plan& p = plans_[static_cast<int>(op)];
  {
    std::lock_guard<std::mutex> l(status_mu_);
    fail_status_[static_cast<int>(op)] = std::move(status);
  }
  p.sticky = sticky;
  p.fail_at = p.count.load() + n;
}

void FaultInjectionEnv::HoldSyncs(bool hold) {
  std::lock_guard<std::mutex> l(hold_mu_);
  hold_syncs_ = hold;
  hold_cv_.notify_all();
}

void FaultInjectionEnv::WaitWhileHeld() {
  std::unique_lock<std::mutex> l(hold_mu_);
  hold_cv_.wait(l, [&] { return !hold_syncs_; });
}

void FaultInjectionEnv::SetDiskFull(bool full) { disk_full_ = full; }

void FaultInjectionEnv::OnlyPaths(std::string substring) {
  std::lock_guard<std::mutex> l(status_mu_);
  only_paths_ = std::move(substring);
}

void FaultInjectionEnv::Reset() {
  {
    std::lock_guard<std::mutex> l(status_mu_);
    only_paths_.clear();
  }
  for (auto& p : plans_) {
    p.fail_at = 0;
    p.count = 0;
    p.sticky = false;
  }
  disk_full_ = false;
  failures_ = 0;
}

int64_t FaultInjectionEnv::Count(Op op) const { return plans_[static_cast<int>(op)].count.load(); }

Status FaultInjectionEnv::Check(Op op, const std::string& what) {
  Plan& p = plans_[static_cast<int>(op)];
  int64_t n = ++p.count;
  {
    std::lock_guard<std::mutex> l(status_mu_);
    if (!only_paths_.empty() && what.find(only_paths_) == std::string::npos) return Status::OK();
  }
  if (disk_full_ && (op == Op::kWrite || op == Op::kSync || op == Op::kCreate)) {
    ++failures_;
    return Status::Unavailable("disk full: " + what + ": No space left on device (injected)");
  }
  int64_t at = p.fail_at.load();
  if (at > 0 && (n == at || (p.sticky && n > at))) {
    ++failures_;
    std::lock_guard<std::mutex> l(status_mu_);
    const Status& s = fail_status_[static_cast<int>(op)];
    return Status(s.code(), what + ": " + s.message());
  }
  return Status::OK();
}

Result<std::unique_ptr<WritableFile>> FaultInjectionEnv::NewWritableFile(const std::string& path) {
  SL_RETURN_IF_ERROR(Check(Op::kCreate, path));
  SL_ASSIGN_OR_RETURN(auto f, base_->NewWritableFile(path));
  return std::unique_ptr<WritableFile>(new FaultWritableFile(this, path, std::move(f)));
}

Result<std::unique_ptr<WritableFile>> FaultInjectionEnv::NewAppendableFile(const std::string& path) {
  SL_RETURN_IF_ERROR(Check(Op::kCreate, path));
  SL_ASSIGN_OR_RETURN(auto f, base_->NewAppendableFile(path));
  return std::unique_ptr<WritableFile>(new FaultWritableFile(this, path, std::move(f)));
}

Result<std::unique_ptr<SequentialFile>> FaultInjectionEnv::NewSequentialFile(const std::string& path) {
  return base_->NewSequentialFile(path);
}
Result<std::unique_ptr<RandomAccessFile>> FaultInjectionEnv::NewRandomAccessFile(const std::string& path) {
  return base_->NewRandomAccessFile(path);
}
bool FaultInjectionEnv::FileExists(const std::string& path) { return base_->FileExists(path); }
Result<std::vector<std::string>> FaultInjectionEnv::GetChildren(const std::string& dir) {
  return base_->GetChildren(dir);
}
Status FaultInjectionEnv::RemoveFile(const std::string& path) {
  SL_RETURN_IF_ERROR(Check(Op::kRemove, path));
  return base_->RemoveFile(path);
}
Status FaultInjectionEnv::RenameFile(const std::string& from, const std::string& to) {
  SL_RETURN_IF_ERROR(Check(Op::kRename, "rename " + from + " -> " + to));
  return base_->RenameFile(from, to);
}
Status FaultInjectionEnv::CreateDir(const std::string& dir) { return base_->CreateDir(dir); }
Result<uint64_t> FaultInjectionEnv::GetFileSize(const std::string& path) { return base_->GetFileSize(path); }
Status FaultInjectionEnv::SyncDir(const std::string& dir) {
  SL_RETURN_IF_ERROR(Check(Op::kSyncDir, dir));
  return base_->SyncDir(dir);
}
Status FaultInjectionEnv::Truncate(const std::string& path, uint64_t size) { return base_->Truncate(path, size); }
Result<uint64_t> FaultInjectionEnv::FreeSpace(const std::string& dir) {
  if (disk_full_) return uint64_t{0};
  return base_->FreeSpace(dir);
}
Result<std::unique_ptr<FileLock>> FaultInjectionEnv::LockFile(const std::string& path) {
  return base_->LockFile(path);
}
int64_t FaultInjectionEnv::NowNanos() { return base_->NowNanos(); }
int64_t FaultInjectionEnv::MonotonicNanos() { return base_->MonotonicNanos(); }

}  // namespace sightline
