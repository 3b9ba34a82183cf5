#include "store/segment/segment_reader.h"

#include <xxhash.h>

#include <cstring>

#include "store/coding.h"
#include "store/segment/segment_format.h"
#include "store/span_codec.h"

namespace sightline::store {

SegmentFile::~SegmentFile() {
  if (obsolete_env_) (void)obsolete_env_->RemoveFile(obsolete_path_);
}

namespace segment {

Result<std::unique_ptr<SegmentReader>> SegmentReader::Open(Env* env, const std::string& path,
                                                           const std::function<Status(const TableEntry&)>& on_entry) {
  SL_ASSIGN_OR_RETURN(auto f, env->NewRandomAccessFile(path));
  std::unique_ptr<SegmentReader> r(new SegmentReader(path, std::move(f)));
  auto bad = [&](const std::string& why) { return Status::Corruption(path + ": " + why); };
  size_t slash = path.find_last_of('/');
  if (!ParseSegmentFileName(slash == std::string::npos ? path : path.substr(slash + 1), &r->number_))
    return Status::InvalidArgument(path + ": not a segment file name (NNNNNN.seg)");
  uint64_t size = r->file_->Size();
  if (size < kHeaderSize + kFooterSize) return bad("file too short to be a segment (" + std::to_string(size) + " bytes)");
  std::string header, footer;
  SL_RETURN_IF_ERROR(r->file_->Read(0, kHeaderSize, &header));
  SL_RETURN_IF_ERROR(r->file_->Read(size - kFooterSize, kFooterSize, &footer));
  if (header.size() != kHeaderSize || footer.size() != kFooterSize) return bad("short read");
  if (std::memcmp(header.data(), kMagic, sizeof(kMagic)) != 0 ||
      std::memcmp(footer.data() + kFooterSize - 8, kMagic, sizeof(kMagic)) != 0)
    return bad("not a Sightline segment (bad magic)");
  uint32_t version = DecodeFixed32(header.data() + 8);
  if (version != kFormatVersion)
    return bad("unsupported segment format version " + std::to_string(version) + " (this build reads version " +
               std::to_string(kFormatVersion) + ")");
  const char* p = footer.data();
  if (DecodeFixed32(p + 60) != static_cast<uint32_t>(XXH3_64bits(p, 60))) return bad("bad footer checksum");
  r->table_offset_ = DecodeFixed64(p);
  r->table_len_ = DecodeFixed64(p + 8);
  r->trace_count_ = DecodeFixed64(p + 16);
  r->covered_wal_ = DecodeFixed64(p + 24);
  r->min_start_ = static_cast<int64_t>(DecodeFixed64(p + 32));
  r->max_end_ = static_cast<int64_t>(DecodeFixed64(p + 40));
  r->table_checksum_ = DecodeFixed64(p + 48);
  if (DecodeFixed32(p + 56) != kFormatVersion) return bad("footer version mismatch");
  if (r->table_offset_ < kHeaderSize || r->table_offset_ > size - kFooterSize ||
      r->table_len_ != size - kFooterSize - r->table_offset_)
    return bad("table bounds outside the file");
  r->data_end_ = r->table_offset_;
  SL_RETURN_IF_ERROR(r->ParseTable(on_entry));
  return r;
}

Status SegmentReader::ParseTable(const std::function<Status(const TableEntry&)>& on_entry) const {
  auto bad = [&](const std::string& why) { return Status::Corruption(path_ + ": " + why); };
  std::string table;
  SL_RETURN_IF_ERROR(file_->Read(table_offset_, static_cast<size_t>(table_len_), &table));
  if (table.size() != table_len_) return bad("short read of the trace table");
  if (XXH3_64bits(table.data(), table.size()) != table_checksum_) return bad("bad trace table checksum");
  std::string_view in(table);
  for (uint64_t i = 0; i < trace_count_; ++i) {
    TableEntry e;
    uint64_t off, len, spans;
    if (in.size() < 16) return bad("trace table entry " + std::to_string(i) + " truncated");
    e.id = TraceKey::FromBytes(in.substr(0, 16));
    in.remove_prefix(16);
    if (!GetVarint64(&in, &off) || !GetVarint64(&in, &len) || !GetVarint64(&in, &spans) || in.size() < 8)
      return bad("trace table entry " + std::to_string(i) + " malformed");
    e.checksum = DecodeFixed64(in.data());
    in.remove_prefix(8);
    if (!GetLengthPrefixed(&in, &e.agg)) return bad("trace table entry " + std::to_string(i) + " malformed");
    if (off < kHeaderSize || len > UINT32_MAX || off + len > table_offset_ || spans > UINT32_MAX)
      return bad("trace table entry " + std::to_string(i) + " points outside the data section");
    e.offset = off;
    e.length = static_cast<uint32_t>(len);
    e.span_count = static_cast<uint32_t>(spans);
    SL_RETURN_IF_ERROR(on_entry(e));
  }
  if (!in.empty()) return bad("trailing bytes after the trace table");
  return Status::OK();
}

Status SegmentReader::ReadBlock(uint64_t offset, uint32_t length, uint64_t checksum, std::string* out) const {
  if (offset + length > data_end_) {
    return Status::Corruption(path_ + ": block at offset " + std::to_string(offset) + " outside the data section");
  }
  SL_RETURN_IF_ERROR(file_->Read(offset, length, out));
  if (out->size() != length || XXH3_64bits(out->data(), out->size()) != checksum)
    return Status::Corruption(path_ + ": bad block checksum at offset " + std::to_string(offset));
  return Status::OK();
}

Status SegmentReader::ReadTrace(const SegLoc& loc, std::deque<std::string>* storage,
                                std::vector<std::string_view>* spans) const {
  if (loc.length == 0) return Status::OK();  // summary only
  storage->emplace_back();
  SL_RETURN_IF_ERROR(ReadBlock(loc.offset, loc.length, loc.checksum, &storage->back()));
  std::vector<std::string_view> views;
  if (!SplitSpanBatch(storage->back(), &views))
    return Status::Corruption(path_ + ": block at offset " + std::to_string(loc.offset) + " is not a SpanBatch");
  spans->insert(spans->end(), views.begin(), views.end());
  return Status::OK();
}

Status SegmentReader::ListTraces(const std::function<Status(const SegmentTraceEntry&)>& fn) const {
  return ParseTable([&](const TableEntry& e) {
    SegmentTraceEntry t;
    t.id = e.id;
    t.loc = SegLoc{0, e.length, e.offset, e.checksum};
    t.span_count = e.span_count;
    t.agg = e.agg;
    return fn(t);
  });
}

}  // namespace segment
}  // namespace sightline::store
