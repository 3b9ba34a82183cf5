#include "common/mem_env.h"

#include <algorithm>
#include <chrono>
#include <functional>

namespace sightline {

struct MemEnv::FileData {
  std::string data;
  size_t synced = 0;  // bytes of data that survive DropUnsyncedData
};

// One directory change not yet made durable by SyncDir, with what undoes it.
struct MemEnv::DirOp {
  enum Kind { kCreate, kRename, kRemove } kind;
  std::string path;                     // created / removed path, or rename target
  std::string from;                     // rename source
  std::shared_ptr<FileData> file;       // the file created, renamed or removed
  std::shared_ptr<FileData> displaced;  // what `path` held before (create over nothing: null)
};

namespace {

std::string ParentDir(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string Normalize(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

class MemWritableFile final : public WritableFile {
 public:
  MemWritableFile(std::shared_ptr<std::mutex> mu, std::shared_ptr<MemEnv::FileData> f)
      : mu_(std::move(mu)), f_(std::move(f)) {}
  Status Append(std::string_view data) override {
    if (closed_) return Status::IOError("append to a closed file");
    std::lock_guard<std::mutex> l(*mu_);
    f_->data.append(data);
    return Status::OK();
  }
  Status Sync() override {
    if (closed_) return Status::IOError("sync of a closed file");
    std::lock_guard<std::mutex> l(*mu_);
    f_->synced = f_->data.size();
    return Status::OK();
  }
  Status Close() override {
    closed_ = true;
    return Status::OK();
  }
  uint64_t Size() const override {
    std::lock_guard<std::mutex> l(*mu_);
    return f_->data.size();
  }

 private:
  std::shared_ptr<std::mutex> mu_;
  std::shared_ptr<MemEnv::FileData> f_;
  bool closed_ = false;
};

class MemSequentialFile final : public SequentialFile {
 public:
  MemSequentialFile(std::shared_ptr<std::mutex> mu, std::shared_ptr<MemEnv::FileData> f)
      : mu_(std::move(mu)), f_(std::move(f)) {}
  Status Read(size_t n, std::string* scratch, std::string_view* out) override {
    std::lock_guard<std::mutex> l(*mu_);
    size_t avail = pos_ < f_->data.size() ? f_->data.size() - pos_ : 0;
    n = std::min(n, avail);
    scratch->assign(f_->data, pos_, n);
    pos_ += n;
    *out = *scratch;
    return Status::OK();
  }
  Status Skip(uint64_t n) override {
    pos_ += n;
    return Status::OK();
  }

 private:
  std::shared_ptr<std::mutex> mu_;
  std::shared_ptr<MemEnv::FileData> f_;
  uint64_t pos_ = 0;
};

class MemRandomAccessFile final : public RandomAccessFile {
 public:
  MemRandomAccessFile(std::shared_ptr<std::mutex> mu, std::shared_ptr<MemEnv::FileData> f)
      : mu_(std::move(mu)), f_(std::move(f)) {}
  Status Read(uint64_t offset, size_t n, std::string* out) const override {
    std::lock_guard<std::mutex> l(*mu_);
    if (offset >= f_->data.size()) {
      out->clear();
      return Status::OK();
    }
    out->assign(f_->data, offset, std::min<uint64_t>(n, f_->data.size() - offset));
    return Status::OK();
  }
  uint64_t Size() const override {
    std::lock_guard<std::mutex> l(*mu_);
    return f_->data.size();
  }

 private:
  std::shared_ptr<std::mutex> mu_;
  std::shared_ptr<MemEnv::FileData> f_;
};

class MemFileLock final : public FileLock {
 public:
  MemFileLock(std::function<void()> release) : release_(std::move(release)) {}
  ~MemFileLock() override { release_(); }

 private:
  std::function<void()> release_;
};

}  // namespace

MemEnv::MemEnv() : mu_(std::make_shared<std::mutex>()) { dirs_.insert("/"); dirs_.insert("."); }
MemEnv::~MemEnv() = default;

void MemEnv::RecordDirOp(const std::string& path, DirOp op) { pending_[ParentDir(path)].push_back(std::move(op)); }

Result<std::unique_ptr<WritableFile>> MemEnv::NewWritableFile(const std::string& path) {
  std::lock_guard<std::mutex> l(*mu_);
  if (!dirs_.count(ParentDir(path))) return Status::NotFound(path + ": no such directory");
  auto it = files_.find(path);
  std::shared_ptr<FileData> f;
  if (it != files_.end()) {
    f = it->second;  // O_TRUNC truncates the same inode
    f->data.clear();
    f->synced = 0;
  } else {
    f = std::make_shared<FileData>();
    files_[path] = f;
    RecordDirOp(path, DirOp{DirOp::kCreate, path, "", f, nullptr});
  }
  return std::unique_ptr<WritableFile>(new MemWritableFile(mu_, f));
}

Result<std::unique_ptr<WritableFile>> MemEnv::NewAppendableFile(const std::string& path) {
  std::lock_guard<std::mutex> l(*mu_);
  if (!dirs_.count(ParentDir(path))) return Status::NotFound(path + ": no such directory");
  auto it = files_.find(path);
  std::shared_ptr<FileData> f;
  if (it != files_.end()) {
    f = it->second;
  } else {
    f = std::make_shared<FileData>();
    files_[path] = f;
    RecordDirOp(path, DirOp{DirOp::kCreate, path, "", f, nullptr});
  }
  return std::unique_ptr<WritableFile>(new MemWritableFile(mu_, f));
}

Result<std::unique_ptr<SequentialFile>> MemEnv::NewSequentialFile(const std::string& path) {
  std::lock_guard<std::mutex> l(*mu_);
  auto it = files_.find(path);
  if (it == files_.end()) return Status::NotFound(path + ": no such file");
  return std::unique_ptr<SequentialFile>(new MemSequentialFile(mu_, it->second));
}

Result<std::unique_ptr<RandomAccessFile>> MemEnv::NewRandomAccessFile(const std::string& path) {
  std::lock_guard<std::mutex> l(*mu_);
  auto it = files_.find(path);
  if (it == files_.end()) return Status::NotFound(path + ": no such file");
  return std::unique_ptr<RandomAccessFile>(new MemRandomAccessFile(mu_, it->second));
}

bool MemEnv::FileExists(const std::string& path) {
  std::lock_guard<std::mutex> l(*mu_);
  return files_.count(path) > 0 || dirs_.count(Normalize(path)) > 0;
}

Result<std::vector<std::string>> MemEnv::GetChildren(const std::string& dir_in) {
  std::string dir = Normalize(dir_in);
  std::lock_guard<std::mutex> l(*mu_);
  if (!dirs_.count(dir)) return Status::NotFound(dir + ": no such directory");
  std::vector<std::string> out;
  for (const auto& [p, f] : files_)
    if (ParentDir(p) == dir) out.push_back(p.substr(p.find_last_of('/') + 1));
  for (const auto& d : dirs_)
    if (d != dir && ParentDir(d) == dir) out.push_back(d.substr(d.find_last_of('/') + 1));
  return out;
}

Status MemEnv::RemoveFile(const std::string& path) {
  std::lock_guard<std::mutex> l(*mu_);
  auto it = files_.find(path);
  if (it == files_.end()) return Status::NotFound(path + ": no such file");
  RecordDirOp(path, DirOp{DirOp::kRemove, path, "", it->second, nullptr});
  files_.erase(it);
  return Status::OK();
}

Status MemEnv::RenameFile(const std::string& from, const std::string& to) {
  std::lock_guard<std::mutex> l(*mu_);
  auto it = files_.find(from);
  if (it == files_.end()) return Status::NotFound("rename " + from + ": no such file");
  if (!dirs_.count(ParentDir(to))) return Status::NotFound("rename to " + to + ": no such directory");
  std::shared_ptr<FileData> f = it->second;
  auto old = files_.find(to);
  std::shared_ptr<FileData> displaced = old == files_.end() ? nullptr : old->second;
  files_.erase(it);
  files_[to] = f;
  // Both directories must be synced for the rename to be durable; recording it in the
  // target's directory is enough for the store, which renames within one directory.
  RecordDirOp(to, DirOp{DirOp::kRename, to, from, f, displaced});
  return Status::OK();
}

Status MemEnv::CreateDir(const std::string& dir_in) {
  std::string dir = Normalize(dir_in);
  std::lock_guard<std::mutex> l(*mu_);
  for (std::string d = dir; !d.empty() && d != "." && d != "/"; d = ParentDir(d)) {
    if (files_.count(d)) return Status::IOError(d + ": exists and is not a directory");
    dirs_.insert(d);
  }
  return Status::OK();
}

Result<uint64_t> MemEnv::GetFileSize(const std::string& path) {
  std::lock_guard<std::mutex> l(*mu_);
  auto it = files_.find(path);
  if (it == files_.end()) return Status::NotFound(path + ": no such file");
  return static_cast<uint64_t>(it->second->data.size());
}

Status MemEnv::SyncDir(const std::string& dir) {
  std::lock_guard<std::mutex> l(*mu_);
  std::string d = Normalize(dir);
  if (!dirs_.count(d)) return Status::NotFound(d + ": no such directory");
  pending_.erase(d);
  return Status::OK();
}

Status MemEnv::Truncate(const std::string& path, uint64_t size) {
  std::lock_guard<std::mutex> l(*mu_);
  auto it = files_.find(path);
  if (it == files_.end()) return Status::NotFound(path + ": no such file");
  FileData& f = *it->second;
  f.data.resize(size);
  f.synced = std::min<size_t>(f.synced, size);
  return Status::OK();
}

Result<uint64_t> MemEnv::FreeSpace(const std::string& dir) {
  std::lock_guard<std::mutex> l(*mu_);
  return free_space_;
}

Result<std::unique_ptr<FileLock>> MemEnv::LockFile(const std::string& path) {
  std::lock_guard<std::mutex> l(*mu_);
  if (!locked_.insert(path).second) return Status::IOError(path + ": locked by another store instance");
  if (!files_.count(path)) {
    auto f = std::make_shared<FileData>();
    files_[path] = f;
  }
  return std::unique_ptr<FileLock>(new MemFileLock([this, path] { ReleaseLock(path); }));
}

void MemEnv::ReleaseLock(const std::string& path) {
  std::lock_guard<std::mutex> l(*mu_);
  locked_.erase(path);
}

int64_t MemEnv::NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t MemEnv::MonotonicNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void MemEnv::DropUnsyncedData() {
  std::lock_guard<std::mutex> l(*mu_);
  for (auto& [dir, ops] : pending_) {
    for (auto it = ops.rbegin(); it != ops.rend(); ++it) {
      switch (it->kind) {
        case DirOp::kCreate:
          files_.erase(it->path);
          break;
        case DirOp::kRemove:
          files_[it->path] = it->file;
          break;
        case DirOp::kRename:
          if (it->displaced) {
            files_[it->path] = it->displaced;
          } else {
            files_.erase(it->path);
          }
          files_[it->from] = it->file;
          break;
      }
    }
  }
  pending_.clear();
  for (auto& [p, f] : files_) f->data.resize(f->synced);
}

void MemEnv::PutFile(const std::string& path, std::string data) {
  std::lock_guard<std::mutex> l(*mu_);
  for (std::string d = ParentDir(path); !d.empty() && d != "." && d != "/"; d = ParentDir(d)) dirs_.insert(d);
  auto f = std::make_shared<FileData>();
  f->data = std::move(data);
  f->synced = f->data.size();
  files_[path] = f;
}

void MemEnv::SetFreeSpace(uint64_t bytes) {
  std::lock_guard<std::mutex> l(*mu_);
  free_space_ = bytes;
}

}  // namespace sightline
