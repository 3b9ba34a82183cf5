#include "store/segment/segment_writer.h"

#include <xxhash.h>

#include <cstdio>

#include "store/coding.h"
#include "store/segment/segment_format.h"

namespace sightline::store::segment {

std::string SegmentFileName(uint64_t number) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%06llu.seg", static_cast<unsigned long long>(number));
  return buf;
}

bool ParseSegmentFileName(std::string_view name, uint64_t* number) {
  constexpr std::string_view kSuffix = ".seg";
  if (name.size() <= kSuffix.size() || name.substr(name.size() - kSuffix.size()) != kSuffix) return false;
  std::string_view digits = name.substr(0, name.size() - kSuffix.size());
  if (digits.size() > 19) return false;
  uint64_t n = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  *number = n;
  return true;
}

Result<std::unique_ptr<SegmentBuilder>> SegmentBuilder::Create(Env* env, const std::string& dir, uint64_t number,
                                                               uint64_t covered_wal) {
  std::string tmp = JoinPath(dir, SegmentFileName(number) + ".tmp");
  SL_ASSIGN_OR_RETURN(auto f, env->NewWritableFile(tmp));
  std::unique_ptr<SegmentBuilder> b(new SegmentBuilder(env, dir, number, covered_wal, std::move(f)));
  b->buf_.append(kMagic, sizeof(kMagic));
  PutFixed32(&b->buf_, kFormatVersion);
  PutFixed32(&b->buf_, 0);
  b->offset_ = kHeaderSize;
  return b;
}

SegmentBuilder::SegmentBuilder(Env* env, std::string dir, uint64_t number, uint64_t covered_wal,
                               std::unique_ptr<WritableFile> f)
    : env_(env),
      dir_(std::move(dir)),
      path_(JoinPath(dir_, SegmentFileName(number))),
      tmp_path_(path_ + ".tmp"),
      number_(number),
      covered_wal_(covered_wal),
      file_(std::move(f)) {}

SegmentBuilder::~SegmentBuilder() {
  if (!finished_) Abandon();
}

Status SegmentBuilder::FlushBuffer() {
  if (buf_.empty()) return Status::OK();
  Status s = file_->Append(buf_);
  buf_.clear();
  return s;
}

Status SegmentBuilder::AddTrace(const TraceKey& id, const std::vector<std::string_view>& spans, std::string_view agg,
                                int64_t start_ns, int64_t end_ns) {
  size_t start = buf_.size();
  for (std::string_view s : spans) {
    buf_.push_back(0x0A);
    PutVarint64(&buf_, s.size());
    buf_.append(s);
  }
  std::string_view block(buf_.data() + start, buf_.size() - start);
  WrittenTrace w{id, offset_, static_cast<uint32_t>(block.size()), XXH3_64bits(block.data(), block.size())};
  offset_ += block.size();
  traces_.push_back(w);
  span_count_ += spans.size();
  std::string idb = id.ToBytes();
  table_.append(idb);
  PutVarint64(&table_, w.offset);
  PutVarint64(&table_, w.length);
  PutVarint64(&table_, spans.size());
  PutFixed64(&table_, w.checksum);
  PutLengthPrefixed(&table_, agg);
  if (start_ns < min_start_) min_start_ = start_ns;
  if (end_ns > max_end_) max_end_ = end_ns;
  if (buf_.size() >= (1 << 20)) return FlushBuffer();
  return Status::OK();
}

Status SegmentBuilder::Finish() {
  uint64_t table_offset = offset_;
  buf_.append(table_);
  std::string footer;
  PutFixed64(&footer, table_offset);
  PutFixed64(&footer, table_.size());
  PutFixed64(&footer, traces_.size());
  PutFixed64(&footer, covered_wal_);
  PutFixed64(&footer, static_cast<uint64_t>(traces_.empty() ? 0 : min_start_));
  PutFixed64(&footer, static_cast<uint64_t>(traces_.empty() ? 0 : max_end_));
  PutFixed64(&footer, XXH3_64bits(table_.data(), table_.size()));
  PutFixed32(&footer, kFormatVersion);
  PutFixed32(&footer, static_cast<uint32_t>(XXH3_64bits(footer.data(), footer.size())));
  footer.append(kMagic, sizeof(kMagic));
  buf_.append(footer);
  offset_ += table_.size() + footer.size();
  SL_RETURN_IF_ERROR(FlushBuffer().WithContext(tmp_path_));
  SL_RETURN_IF_ERROR(file_->Sync().WithContext("sync " + tmp_path_));
  SL_RETURN_IF_ERROR(file_->Close());
  SL_RETURN_IF_ERROR(env_->RenameFile(tmp_path_, path_));
  finished_ = true;  // the file is in place; a failed directory sync leaves it there
  return env_->SyncDir(dir_).WithContext("sync " + dir_);
}

void SegmentBuilder::Abandon() {
  if (finished_) return;
  finished_ = true;
  (void)file_->Close();
  (void)env_->RemoveFile(tmp_path_);
}

}  // namespace sightline::store::segment
