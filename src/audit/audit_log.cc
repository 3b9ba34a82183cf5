#include "audit/audit_log.h"

#include <algorithm>
#include <future>
#include <utility>

#include "audit/audit_reader.h"
#include "common/thread_name.h"

namespace sightline::audit {
namespace {

constexpr int64_t kNsPerDay = int64_t{86400} * 1000000000;

// The records of one file's bytes that parse, and where the first one that does not
// starts (data.size() when all do). *later_valid: a valid record follows a bad one.
struct FileScan {
  std::vector<AuditRecord> records;
  size_t good_bytes = 0;
  bool later_valid = false;
};

FileScan ScanFile(std::string_view data) {
  FileScan s;
  size_t pos = 0;
  bool bad_seen = false;
  while (pos < data.size()) {
    size_t nl = data.find('\n', pos);
    if (nl == std::string_view::npos) break;
    AuditRecord rec;
    if (ParseAuditLine(data.substr(pos, nl - pos), &rec).ok()) {
      if (bad_seen) {
        s.later_valid = true;
      } else {
        s.records.push_back(std::move(rec));
        s.good_bytes = nl + 1;
      }
    } else {
      bad_seen = true;
    }
    pos = nl + 1;
  }
  return s;
}

}  // namespace

Result<std::unique_ptr<AuditLog>> AuditLog::Open(AuditLogOptions options) {
  if (options.dir.empty()) return Status::InvalidArgument("audit: no directory");
  if (options.segment_bytes < 4096) options.segment_bytes = 4096;
  std::unique_ptr<AuditLog> log(new AuditLog(std::move(options)));
  Env* env = log->opts_.env;
  SL_RETURN_IF_ERROR(env->CreateDir(log->opts_.dir));
  SL_ASSIGN_OR_RETURN(log->lock_, env->LockFile(JoinPath(log->opts_.dir, "LOCK")));
  std::vector<AuditRecord> system_records;
  SL_RETURN_IF_ERROR(log->Recover(&system_records));
  log->head_written_seq_ = log->head_target_seq_ = log->durable_seq_;
  log->head_writer_ = std::thread([l = log.get()] { l->HeadLoop(); });
  NameThread(log->head_writer_, "sl-audit-head");
  log->writer_ = std::thread([l = log.get()] { l->WriterLoop(); });
  NameThread(log->writer_, "sl-audit");
  for (auto& r : system_records) SL_RETURN_IF_ERROR(log->Append(std::move(r)));
  return log;
}

Status AuditLog::Recover(std::vector<AuditRecord>* system_records) {
  Env* env = opts_.env;
  const std::string& dir = opts_.dir;
  next_seq_ = 1;
  prev_hash_ = std::string(kZeroHash);
  if (auto anchor = ReadChainPoint(env, JoinPath(dir, "ANCHOR")); anchor.ok()) {
    next_seq_ = anchor->seq + 1;
    prev_hash_ = anchor->hash;
  } else if (anchor.status().code() != StatusCode::kNotFound) {
    return anchor.status().WithContext("audit trail");
  }
  SL_ASSIGN_OR_RETURN(auto files, ListAuditFiles(env, dir));
  uint64_t dropped_bytes = 0;
  while (!files.empty()) {
    const std::string path = JoinPath(dir, files.back());
    SL_ASSIGN_OR_RETURN(std::string data, ReadFileToString(env, path));
    FileScan scan = ScanFile(data);
    if (scan.later_valid)
      return Status::Corruption("audit trail: " + files.back() +
                                " holds a damaged record before valid ones; run `sightline audit verify`");
    if (scan.good_bytes < data.size()) {
      // An unacknowledged batch cut short by a crash.
      dropped_bytes += data.size() - scan.good_bytes;
      SL_RETURN_IF_ERROR(env->Truncate(path, scan.good_bytes));
    }
    if (scan.records.empty()) {
      SL_RETURN_IF_ERROR(env->RemoveFile(path));
      SL_RETURN_IF_ERROR(env->SyncDir(dir));
      files.pop_back();
      continue;
    }
    next_seq_ = scan.records.back().seq + 1;
    prev_hash_ = scan.records.back().hash;
    SL_ASSIGN_OR_RETURN(file_, env->NewAppendableFile(path));
    if (dropped_bytes > 0) SL_RETURN_IF_ERROR(file_->Sync());
    file_name_ = files.back();
    file_synced_size_ = file_->Size();
    break;
  }
  uint64_t head_seq = 0;
  bool head_signed_by_us = false;
  if (auto head = ReadChainPoint(env, JoinPath(dir, "HEAD")); head.ok()) {
    if (head->seq >= next_seq_)
      return Status::Corruption("audit trail: records " + std::to_string(next_seq_) + ".." +
                                std::to_string(head->seq) +
                                " were made durable but are gone (HEAD); run `sightline audit verify`");
    head_seq = head->seq;
    head_signed_by_us = opts_.signer != nullptr &&
                        CheckSignatureLine(head->signature, HeadMessage(head->seq, head->hash),
                                           opts_.signer->public_raw())
                            .ok();
  }
  durable_seq_ = next_seq_ - 1;
  durable_hash_ = prev_hash_;
  if (durable_seq_ > head_seq) {
    // Records no HEAD covered: say so in the chain before HEAD (and its signature)
    // covers them.
    AuditRecord r;
    r.kind = Kind::kSystem;
    r.actor.principal = "system";
    r.action = "audit.head_behind";
    r.target = "audit";
    r.details_json = "{\"head_seq\":" + std::to_string(head_seq) + ",\"last_seq\":" + std::to_string(durable_seq_) +
                     ",\"signed\":" + (head_signed_by_us ? "true" : "false") + "}";
    system_records->push_back(std::move(r));
  } else if (opts_.signer != nullptr && !head_signed_by_us && durable_seq_ > 0) {
    SL_RETURN_IF_ERROR(WriteHead(durable_seq_, durable_hash_));  // first start with this key: sign the head as it is
  }
  if (opts_.signer != nullptr) {
    // ANCHOR written before a key was configured (or with another): sign it now.
    if (auto anchor = ReadChainPoint(env, JoinPath(dir, "ANCHOR")); anchor.ok()) {
      if (!CheckSignatureLine(anchor->signature, AnchorMessage(anchor->seq, anchor->hash, anchor->file),
                              opts_.signer->public_raw())
               .ok())
        SL_RETURN_IF_ERROR(WriteAnchor(*anchor));
    }
  }
  if (dropped_bytes > 0) {
    Log("audit: dropped " + std::to_string(dropped_bytes) + " bytes of an incomplete record at the end of the trail");
    AuditRecord r;
    r.kind = Kind::kSystem;
    r.actor.principal = "system";
    r.action = "audit.recovered";
    r.target = "audit";
    r.details_json = "{\"dropped_bytes\":" + std::to_string(dropped_bytes) + "}";
    system_records->push_back(std::move(r));
  }
  return Status::OK();
}

AuditLog::~AuditLog() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  {
    std::lock_guard<std::mutex> l(head_mu_);
    head_stop_ = true;
  }
  head_cv_.notify_all();
  if (head_writer_.joinable()) head_writer_.join();  // writes the last end first
  if (file_) (void)file_->Close();
}

void AuditLog::PublishEnd(uint64_t seq, const std::string& hash, std::vector<Callback> after_head) {
  {
    std::lock_guard<std::mutex> l(head_mu_);
    head_target_seq_ = seq;
    head_target_hash_ = hash;
    for (auto& cb : after_head) head_waiters_.emplace_back(seq, std::move(cb));
  }
  head_cv_.notify_one();
}

void AuditLog::WhenHeadCovers(Callback done) {
  const uint64_t seq = last_seq();
  {
    std::lock_guard<std::mutex> l(head_mu_);
    if (head_written_seq_ < seq && !head_stop_) {
      head_waiters_.emplace_back(seq, std::move(done));
      return;
    }
  }
  done(Status::OK());
}

void AuditLog::HeadLoop() {
  std::unique_lock<std::mutex> l(head_mu_);
  for (;;) {
    head_cv_.wait(l, [this] { return head_stop_ || head_target_seq_ != head_written_seq_; });
    if (head_target_seq_ == head_written_seq_) {
      // Stopping with HEAD current; anyone still waiting hears OK (their records are
      // durable, and HEAD covers them).
      auto left = std::move(head_waiters_);
      head_waiters_.clear();
      l.unlock();
      for (auto& w : left) w.second(Status::OK());
      return;
    }
    const uint64_t seq = head_target_seq_;
    const std::string hash = head_target_hash_;
    l.unlock();
    Status st = WriteHead(seq, hash);
    if (!st.ok()) Log("audit: HEAD not updated: " + st.ToString());
    l.lock();
    head_written_seq_ = seq;
    // Waiters covered by this end: their records are durable whether or not HEAD could
    // be rewritten (a HEAD behind the trail is repaired at the next start).
    std::vector<Callback> ready;
    auto it = std::stable_partition(head_waiters_.begin(), head_waiters_.end(),
                                    [seq](const auto& w) { return w.first > seq; });
    for (auto i = it; i != head_waiters_.end(); ++i) ready.push_back(std::move(i->second));
    head_waiters_.erase(it, head_waiters_.end());
    l.unlock();
    for (auto& cb : ready) cb(Status::OK());
    l.lock();
  }
}

Status AuditLog::Append(AuditRecord record) {
  std::vector<AuditRecord> v;
  v.push_back(std::move(record));
  return AppendBatch(std::move(v));
}

Status AuditLog::AppendBatch(std::vector<AuditRecord> records) {
  std::promise<Status> p;
  auto f = p.get_future();
  AppendAsync(std::move(records), [&p](Status s) { p.set_value(std::move(s)); }, /*after_head=*/true);
  return f.get();
}

void AuditLog::AppendAsync(std::vector<AuditRecord> records, Callback done, bool after_head) {
  if (records.empty()) return done(Status::OK());
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stop_) return done(Status::Unavailable("audit trail is closed"));
    if (queued_records_ + records.size() > opts_.max_queued_records)
      return done(Status::ResourceExhausted("audit trail: too many records waiting for the disk"));
    queued_records_ += records.size();
    queue_.push_back(Pending{std::move(records), std::move(done), after_head});
  }
  cv_.notify_one();
}

void AuditLog::WriterLoop() {
  for (;;) {
    std::vector<Pending> group;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [this] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      while (!queue_.empty()) {
        queued_records_ -= queue_.front().records.size();
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    std::lock_guard<std::mutex> wl(write_mu_);
    Status st = WriteGroup(group);
    if (!st.ok()) Log("audit: write failed: " + st.ToString());
  }
}

Status AuditLog::RollIfNeeded() {
  if (file_ && file_->Size() < opts_.segment_bytes) return Status::OK();
  if (file_) {
    SL_RETURN_IF_ERROR(file_->Close());
    file_.reset();
  }
  std::string name = AuditFileName(next_seq_);
  SL_ASSIGN_OR_RETURN(file_, opts_.env->NewWritableFile(JoinPath(opts_.dir, name)));
  file_name_ = name;
  file_synced_size_ = 0;
  Status st = opts_.env->SyncDir(opts_.dir);
  if (!st.ok()) {
    file_.reset();
    return st;
  }
  return Status::OK();
}

Status AuditLog::WriteHead(uint64_t seq, const std::string& hash) {
  // A whole new file renamed over the old one: a crash leaves the old HEAD or the new
  // one, never a mix. The directory is synced only when HEAD is new: a rename lost to
  // a crash leaves an older HEAD, which Open notices and repairs (audit.head_behind).
  const std::string path = JoinPath(opts_.dir, "HEAD");
  const std::string tmp = path + ".tmp";
  const bool existed = opts_.env->FileExists(path);
  ChainPoint p;
  p.seq = seq;
  p.hash = hash;
  std::string text = FormatChainPoint(p);
  if (opts_.signer) text += opts_.signer->SignatureLine(HeadMessage(p.seq, p.hash)) + "\n";
  {
    SL_ASSIGN_OR_RETURN(auto f, opts_.env->NewWritableFile(tmp));
    SL_RETURN_IF_ERROR(f->Append(text));
    SL_RETURN_IF_ERROR(f->Sync());
    SL_RETURN_IF_ERROR(f->Close());
  }
  SL_RETURN_IF_ERROR(opts_.env->RenameFile(tmp, path));
  return existed ? Status::OK() : opts_.env->SyncDir(opts_.dir);
}

Status AuditLog::WriteAnchor(const ChainPoint& anchor) {
  std::string text = FormatChainPoint(anchor);
  if (opts_.signer) text += opts_.signer->SignatureLine(AnchorMessage(anchor.seq, anchor.hash, anchor.file)) + "\n";
  return WriteFileAtomically(opts_.env, JoinPath(opts_.dir, "ANCHOR"), text);
}

Status AuditLog::WriteGroup(std::vector<Pending>& group) {
  const uint64_t saved_seq = next_seq_;
  const std::string saved_prev = prev_hash_;
  auto fail_all = [&](const Status& st) {
    for (auto& p : group)
      if (p.done) p.done(st);
  };
  Status st = RollIfNeeded();
  if (!st.ok()) {
    fail_all(st);
    return st;
  }
  std::string buf;
  const int64_t now = opts_.env->NowNanos();
  for (auto& p : group) {
    std::string lines;
    uint64_t seq = next_seq_;
    std::string prev = prev_hash_;
    Status bad;
    for (auto& r : p.records) {
      r.seq = seq;
      r.prev = prev;
      if (r.time_ns == 0) r.time_ns = now;
      auto line = EncodeAuditLine(&r);
      if (!line.ok()) {
        bad = line.status();
        break;
      }
      lines += *line;
      prev = r.hash;
      ++seq;
    }
    if (!bad.ok()) {
      auto done = std::move(p.done);
      p.done = nullptr;
      done(bad);
      continue;
    }
    buf += lines;
    next_seq_ = seq;
    prev_hash_ = prev;
  }
  if (buf.empty()) return Status::OK();
  st = file_->Append(buf);
  if (st.ok()) st = file_->Sync();
  if (!st.ok()) {
    // Back to the last durable record: nothing of this group may stay in the file.
    next_seq_ = saved_seq;
    prev_hash_ = saved_prev;
    const std::string path = JoinPath(opts_.dir, file_name_);
    file_.reset();
    Status t = opts_.env->Truncate(path, file_synced_size_);
    if (t.ok()) {
      auto reopened = opts_.env->NewAppendableFile(path);
      if (reopened.ok()) file_ = std::move(reopened).value();
      else t = reopened.status();
    }
    if (!t.ok()) Log("audit: could not rewind " + path + ": " + t.ToString());
    fail_all(st);
    return st;
  }
  file_synced_size_ = file_->Size();
  {
    std::lock_guard<std::mutex> l(mu_);
    durable_seq_ = next_seq_ - 1;
    durable_hash_ = prev_hash_;
  }
  // The records are durable: callers that do not wait for HEAD hear so now (a trace
  // view is served one fsync sooner); a crash before HEAD below leaves HEAD behind the
  // records, which Open repairs and records (audit.head_behind).
  std::vector<Callback> after_head;
  for (auto& p : group) {
    if (!p.done) continue;
    if (p.after_head) after_head.push_back(std::move(p.done));
    else std::exchange(p.done, nullptr)(Status::OK());
    p.done = nullptr;
  }
  PublishEnd(next_seq_ - 1, prev_hash_, std::move(after_head));
  return Status::OK();
}

uint64_t AuditLog::last_seq() const {
  std::lock_guard<std::mutex> l(mu_);
  return durable_seq_;
}

std::string AuditLog::last_hash() const {
  std::lock_guard<std::mutex> l(mu_);
  return durable_hash_;
}

Status AuditLog::ApplyRetention() {
  if (opts_.retention_days <= 0) return Status::OK();
  Env* env = opts_.env;
  const int64_t cutoff = env->NowNanos() - opts_.retention_days * kNsPerDay;
  std::string current;
  {
    std::lock_guard<std::mutex> wl(write_mu_);
    current = file_name_;
  }
  SL_ASSIGN_OR_RETURN(auto files, ListAuditFiles(env, opts_.dir));
  std::vector<std::string> drop;
  ChainPoint anchor;
  for (size_t i = 0; i + 1 < files.size(); ++i) {
    if (files[i] == current) break;
    SL_ASSIGN_OR_RETURN(std::string data, ReadFileToString(env, JoinPath(opts_.dir, files[i])));
    FileScan scan = ScanFile(data);
    if (scan.records.empty() || scan.good_bytes != data.size()) {
      Log("audit: retention stops at " + files[i] + ", which does not read cleanly");
      break;
    }
    if (scan.records.back().time_ns >= cutoff) break;
    drop.push_back(files[i]);
    anchor.seq = scan.records.back().seq;
    anchor.hash = scan.records.back().hash;
    anchor.file = files[i];
  }
  if (drop.empty()) return Status::OK();
  // First in the chain itself, then the anchor file, then the files go.
  AuditRecord r;
  r.kind = Kind::kSystem;
  r.actor.principal = "system";
  r.action = "audit.retention";
  r.target = "audit";
  std::string list;
  for (const auto& f : drop) list += (list.empty() ? "\"" : ",\"") + f + "\"";
  r.details_json = "{\"dropped_files\":[" + list + "],\"anchor_seq\":" + std::to_string(anchor.seq) +
                   ",\"anchor_hash\":\"" + anchor.hash + "\",\"retention_days\":" +
                   std::to_string(opts_.retention_days) + "}";
  SL_RETURN_IF_ERROR(Append(std::move(r)));
  SL_RETURN_IF_ERROR(WriteAnchor(anchor));
  for (const auto& f : drop) SL_RETURN_IF_ERROR(env->RemoveFile(JoinPath(opts_.dir, f)));
  SL_RETURN_IF_ERROR(env->SyncDir(opts_.dir));
  Log("audit: retention dropped " + std::to_string(drop.size()) + " file(s) through seq " + std::to_string(anchor.seq));
  return Status::OK();
}

}  // namespace sightline::audit
