#include "store/segment/segment_reader.h"

#include <xxhash.h>

#include <cstring>

#include "store/coding.h"
#include "store/segment/segment_format.h"

namespace sightline::store::segment {

Result<std::unique_ptr<SegmentReader>> SegmentReader::Open(Env* env, const std::string& path,
                                                           const std::function<Status(const TableEntry&)>& on_entry) {
  SL_ASSIGN_OR_RETURN(auto f, env->NewRandomAccessFile(path));
  std::unique_ptr<SegmentReader> r(new SegmentReader(path, std::move(f)));
  auto bad = [&](const std::string& why) { return Status::Corruption(path + ": " + why); };
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
  uint64_t table_offset = DecodeFixed64(p);
  uint64_t table_len = DecodeFixed64(p + 8);
  r->trace_count_ = DecodeFixed64(p + 16);
  r->covered_wal_ = DecodeFixed64(p + 24);
  uint64_t table_checksum = DecodeFixed64(p + 48);
  if (DecodeFixed32(p + 56) != kFormatVersion) return bad("footer version mismatch");
  if (table_offset < kHeaderSize || table_offset > size - kFooterSize || table_len != size - kFooterSize - table_offset)
    return bad("table bounds outside the file");
  r->data_end_ = table_offset;
  std::string table;
  SL_RETURN_IF_ERROR(r->file_->Read(table_offset, static_cast<size_t>(table_len), &table));
  if (table.size() != table_len) return bad("short read of the trace table");
  if (XXH3_64bits(table.data(), table.size()) != table_checksum) return bad("bad trace table checksum");
  std::string_view in(table);
  for (uint64_t i = 0; i < r->trace_count_; ++i) {
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
    if (off < kHeaderSize || len > UINT32_MAX || off + len > table_offset || spans > UINT32_MAX)
      return bad("trace table entry " + std::to_string(i) + " points outside the data section");
    e.offset = off;
    e.length = static_cast<uint32_t>(len);
    e.span_count = static_cast<uint32_t>(spans);
    SL_RETURN_IF_ERROR(on_entry(e));
  }
  if (!in.empty()) return bad("trailing bytes after the trace table");
  return r;
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

}  // namespace sightline::store::segment
