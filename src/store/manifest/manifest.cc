#include "store/manifest/manifest.h"

#include <algorithm>
#include <cstdio>
#include <limits>

#include "store/coding.h"
#include "store/wal/wal_reader.h"
#include "store/wal/wal_writer.h"

namespace sightline::store::manifest {
namespace {

// Record tags: frozen (docs/architecture.md "Manifest").
enum Tag : uint64_t { kLogNumber = 1, kNextFileNumber = 2, kAddedFile = 3, kRemovedFile = 4 };

void EncodeFile(const FileMeta& f, std::string* out) {
  std::string b;
  PutVarint64(&b, f.number);
  PutSigned(&b, f.partition);
  PutSigned(&b, f.min_start_ns);
  PutSigned(&b, f.max_end_ns);
  PutVarint64(&b, f.spans);
  PutVarint64(&b, f.traces);
  PutVarint64(&b, f.bytes);
  PutVarint64(&b, f.format);
  PutVarint64(&b, f.covered_wal);
  PutLengthPrefixed(out, b);
}

bool DecodeFile(std::string_view in, FileMeta* f) {
  uint64_t format;
  if (!GetVarint64(&in, &f->number) || !GetSigned(&in, &f->partition) || !GetSigned(&in, &f->min_start_ns) ||
      !GetSigned(&in, &f->max_end_ns) || !GetVarint64(&in, &f->spans) || !GetVarint64(&in, &f->traces) ||
      !GetVarint64(&in, &f->bytes) || !GetVarint64(&in, &format) || !GetVarint64(&in, &f->covered_wal))
    return false;
  if (format == 0 || format > UINT32_MAX) return false;
  f->format = static_cast<uint32_t>(format);
  return true;  // fields appended by later versions are ignored
}

}  // namespace

void ManifestEdit::Encode(std::string* out) const {
  if (log_number) {
    PutVarint64(out, kLogNumber);
    PutVarint64(out, *log_number);
  }
  if (next_file_number) {
    PutVarint64(out, kNextFileNumber);
    PutVarint64(out, *next_file_number);
  }
  for (const FileMeta& f : added) {
    PutVarint64(out, kAddedFile);
    EncodeFile(f, out);
  }
  for (uint64_t n : removed) {
    PutVarint64(out, kRemovedFile);
    PutVarint64(out, n);
  }
}

Status ManifestEdit::Decode(std::string_view in, ManifestEdit* out) {
  *out = ManifestEdit();
  while (!in.empty()) {
    uint64_t tag, v;
    if (!GetVarint64(&in, &tag)) return Status::Corruption("manifest edit: truncated tag");
    switch (tag) {
      case kLogNumber:
        if (!GetVarint64(&in, &v)) return Status::Corruption("manifest edit: truncated log number");
        out->log_number = v;
        break;
      case kNextFileNumber:
        if (!GetVarint64(&in, &v)) return Status::Corruption("manifest edit: truncated next file number");
        out->next_file_number = v;
        break;
      case kAddedFile: {
        std::string_view b;
        FileMeta f;
        if (!GetLengthPrefixed(&in, &b) || !DecodeFile(b, &f))
          return Status::Corruption("manifest edit: malformed added file");
        out->added.push_back(f);
        break;
      }
      case kRemovedFile:
        if (!GetVarint64(&in, &v)) return Status::Corruption("manifest edit: truncated removed file");
        out->removed.push_back(v);
        break;
      default:
        return Status::Corruption("manifest edit: unknown tag " + std::to_string(tag));
    }
  }
  return Status::OK();
}

Status ManifestState::Apply(const ManifestEdit& edit) {
  for (uint64_t n : edit.removed)
    if (!files.count(n)) return Status::Corruption("manifest edit removes segment " + std::to_string(n) + ", not live");
  for (const FileMeta& f : edit.added) {
    // The next file number must stay above every live one, or a new segment would take
    // a live file's name.
    if (f.number == std::numeric_limits<uint64_t>::max())
      return Status::Corruption("manifest edit adds segment " + std::to_string(f.number) + ": no number follows it");
    if (files.count(f.number) && std::find(edit.removed.begin(), edit.removed.end(), f.number) == edit.removed.end())
      return Status::Corruption("manifest edit adds segment " + std::to_string(f.number) + " twice");
  }
  for (uint64_t n : edit.removed) files.erase(n);
  for (const FileMeta& f : edit.added) {
    files[f.number] = f;
    next_file_number = std::max(next_file_number, f.number + 1);
  }
  if (edit.log_number) log_number = std::max(log_number, *edit.log_number);
  if (edit.next_file_number) next_file_number = std::max(next_file_number, *edit.next_file_number);
  return Status::OK();
}

ManifestEdit ManifestState::Snapshot() const {
  ManifestEdit e;
  e.log_number = log_number;
  e.next_file_number = next_file_number;
  for (const auto& [n, f] : files) e.added.push_back(f);
  return e;
}

std::string ManifestFileName(uint64_t number) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "MANIFEST-%06llu", static_cast<unsigned long long>(number));
  return buf;
}

bool ParseManifestFileName(std::string_view name, uint64_t* number) {
  constexpr std::string_view kPrefix = "MANIFEST-";
  if (name.size() <= kPrefix.size() || name.substr(0, kPrefix.size()) != kPrefix) return false;
  std::string_view digits = name.substr(kPrefix.size());
  if (digits.size() > 19) return false;
  uint64_t n = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  *number = n;
  return true;
}

Result<ManifestState> Manifest::Read(Env* env, const std::string& dir, uint64_t* manifest_number) {
  std::string current_path = JoinPath(dir, kCurrentFileName);
  if (!env->FileExists(current_path)) return Status::NotFound(current_path + ": no manifest");
  SL_ASSIGN_OR_RETURN(std::string current, ReadFileToString(env, current_path));
  while (!current.empty() && (current.back() == '\n' || current.back() == '\r')) current.pop_back();
  uint64_t number;
  if (!ParseManifestFileName(current, &number))
    return Status::Corruption(current_path + ": does not name a manifest (\"" + current.substr(0, 64) + "\")");
  std::string path = JoinPath(dir, current);
  if (!env->FileExists(path)) return Status::Corruption(current_path + " names " + current + ", which is missing");
  ManifestState state;
  Status apply;
  uint64_t records = 0;
  wal::WalReadReport report;
  Status s = wal::ReadWalFile(env, path, /*last_file=*/true, [&](std::string_view rec, uint64_t offset) {
    if (!apply.ok()) return;
    ManifestEdit e;
    apply = ManifestEdit::Decode(rec, &e);
    if (apply.ok()) apply = state.Apply(e);
    if (!apply.ok()) apply = apply.WithContext(path + ": record at offset " + std::to_string(offset));
    ++records;
  }, &report);
  SL_RETURN_IF_ERROR(s);
  SL_RETURN_IF_ERROR(apply);
  if (records == 0) return Status::Corruption(path + ": manifest holds no snapshot record");
  if (manifest_number) *manifest_number = number;
  return state;
}

Result<std::unique_ptr<Manifest>> Manifest::Create(Env* env, const std::string& dir, ManifestState state) {
  std::unique_ptr<Manifest> m(new Manifest(env, dir));
  SL_ASSIGN_OR_RETURN(auto names, env->GetChildren(dir));
  for (const auto& n : names) {
    uint64_t num;
    if (ParseManifestFileName(n, &num)) m->manifest_number_ = std::max(m->manifest_number_, num);
  }
  std::lock_guard<std::mutex> l(m->mu_);
  SL_RETURN_IF_ERROR(m->WriteSnapshotLocked(state));
  m->state_ = std::move(state);
  return m;
}

Manifest::Manifest(Env* env, std::string dir) : env_(env), dir_(std::move(dir)) {}

Manifest::~Manifest() {
  if (log_) (void)log_->Close();
}

Status Manifest::WriteSnapshotLocked(const ManifestState& state) {
  uint64_t number = manifest_number_ + 1;
  std::string name = ManifestFileName(number);
  std::string path = JoinPath(dir_, name);
  manifest_number_ = number;  // never reused, even when this attempt fails
  if (log_) {
    (void)log_->Close();
    log_.reset();
  }
  SL_ASSIGN_OR_RETURN(auto w, wal::WalWriter::Create(env_, path, number));
  std::string rec;
  state.Snapshot().Encode(&rec);
  Status s = w->AddRecord(rec);
  if (s.ok()) s = w->Sync();
  if (s.ok()) s = WriteFileAtomically(env_, JoinPath(dir_, kCurrentFileName), name + "\n");
  if (!s.ok()) {
    (void)w->Close();
    return s.WithContext("writing manifest " + path);
  }
  log_ = std::move(w);
  // CURRENT names the new file durably: every other manifest is obsolete.
  auto names = env_->GetChildren(dir_);
  if (names.ok()) {
    for (const auto& n : *names) {
      uint64_t num;
      if (ParseManifestFileName(n, &num) && num != number) (void)env_->RemoveFile(JoinPath(dir_, n));
    }
  }
  return Status::OK();
}

Status Manifest::LogAndApply(ManifestEdit edit) {
  std::lock_guard<std::mutex> l(mu_);
  ManifestState next = state_;
  SL_RETURN_IF_ERROR(next.Apply(edit).WithContext("manifest edit"));
  if (!log_ || log_->encoded_size() >= kRewriteBytes) {
    SL_RETURN_IF_ERROR(WriteSnapshotLocked(next));
  } else {
    edit.next_file_number = next.next_file_number;
    std::string rec;
    edit.Encode(&rec);
    Status s = log_->AddRecord(rec);
    if (s.ok()) s = log_->Sync();
    if (!s.ok()) {
      (void)log_->Close();
      log_.reset();  // unknown whether the record is on disk: the next edit starts afresh
      return s.WithContext("writing manifest " + JoinPath(dir_, ManifestFileName(manifest_number_)));
    }
  }
  state_ = std::move(next);
  return Status::OK();
}

uint64_t Manifest::NewFileNumber() {
  std::lock_guard<std::mutex> l(mu_);
  return state_.next_file_number++;
}

ManifestState Manifest::state() const {
  std::lock_guard<std::mutex> l(mu_);
  return state_;
}

uint64_t Manifest::manifest_number() const {
  std::lock_guard<std::mutex> l(mu_);
  return manifest_number_;
}

}  // namespace sightline::store::manifest
