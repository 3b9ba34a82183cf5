// ColumnarReader: Open (header, tail, meta region) and the block index queries.
#include "store/columnar/columnar_reader.h"

#include <xxhash.h>

#include <atomic>
#include <cstring>

#include "store/coding.h"
#include "store/columnar/columnar_format.h"

namespace sightline::store::columnar {

ColumnarReader::ColumnarReader(std::string path, std::unique_ptr<RandomAccessFile> f)
    : path_(std::move(path)), file_(std::move(f)) {
  static std::atomic<uint64_t> next_cache_id{1};
  cache_id_ = next_cache_id.fetch_add(1);
}
ColumnarReader::~ColumnarReader() = default;

Status ColumnarReader::Corrupt(const std::string& what) const { return Status::Corruption(path_ + ": " + what); }

Result<std::shared_ptr<ColumnarReader>> ColumnarReader::Open(
    Env* env, const std::string& path, const std::function<Status(const TraceEntry&)>& on_entry) {
  SL_ASSIGN_OR_RETURN(auto f, env->NewRandomAccessFile(path));
  std::shared_ptr<ColumnarReader> r(new ColumnarReader(path, std::move(f)));
  uint64_t size = r->file_->Size();
  r->file_bytes_ = size;
  if (size < kHeaderSize + kTailSize)
    return r->Corrupt("file too short to be a segment (" + std::to_string(size) + " bytes)");
  std::string header, tail;
  SL_RETURN_IF_ERROR(r->file_->Read(0, kHeaderSize, &header).WithContext(path));
  SL_RETURN_IF_ERROR(r->file_->Read(size - kTailSize, kTailSize, &tail).WithContext(path));
  if (header.size() != kHeaderSize || tail.size() != kTailSize) return r->Corrupt("short read of header or tail");
  if (std::memcmp(header.data(), kMagic, sizeof(kMagic)) != 0)
    return r->Corrupt("not a Sightline segment (bad magic in header)");
  uint32_t version = DecodeFixed32(header.data() + 8);
  if (DecodeFixed32(header.data() + 12) != 0 && version == kFormatVersion)
    return r->Corrupt("reserved header bytes are not zero");
  if (version == 1)
    return r->Corrupt("is a version 1 segment: it is read by segment::SegmentReader, not the columnar reader");
  if (version != kFormatVersion)
    return r->Corrupt("unsupported segment format version " + std::to_string(version) + " (this build reads 1 and " +
                      std::to_string(kFormatVersion) + ")");
  const char* t = tail.data();
  if (std::memcmp(t + 40, kMagic, sizeof(kMagic)) != 0) return r->Corrupt("bad magic in tail (truncated file?)");
  if (DecodeFixed32(t + 36) != static_cast<uint32_t>(XXH3_64bits(t, 36))) return r->Corrupt("bad tail checksum");
  if (DecodeFixed32(t + 32) != kFormatVersion) return r->Corrupt("tail version does not match the header");
  uint64_t meta_off = DecodeFixed64(t), meta_len = DecodeFixed64(t + 8), raw_field = DecodeFixed64(t + 16);
  uint64_t meta_sum = DecodeFixed64(t + 24);
  uint8_t codec = (raw_field >> 63) ? kCodecRaw : kCodecZstd;
  uint64_t meta_raw_len = raw_field & ~(1ull << 63);
  if (meta_off < kHeaderSize || meta_off > size - kTailSize || meta_len != size - kTailSize - meta_off)
    return r->Corrupt("meta region bounds outside the file");
  std::string stored, meta, why;
  SL_RETURN_IF_ERROR(r->file_->Read(meta_off, static_cast<size_t>(meta_len), &stored).WithContext(path));
  if (stored.size() != meta_len) return r->Corrupt("short read of the meta region");
  if (XXH3_64bits(stored.data(), stored.size()) != meta_sum) return r->Corrupt("bad meta region checksum");
  if (!DecompressChunk(stored, codec, meta_raw_len, &meta, &why)) return r->Corrupt("meta region: " + why);
  stored.clear();
  r->meta_offset_ = meta_off;
  SL_RETURN_IF_ERROR(r->ParseMeta(meta, meta_off, on_entry));
  return r;
}

Status ColumnarReader::ParseMeta(std::string_view in, uint64_t data_end,
                                 const std::function<Status(const TraceEntry&)>& on_entry) {
  uint64_t rows, traces, blocks, frames, pieces;
  int64_t min_start, max_end;
  if (!GetVarint64(&in, &rows) || !GetVarint64(&in, &traces) || !GetVarint64(&in, &blocks) ||
      !GetVarint64(&in, &frames) || !GetVarint64(&in, &pieces) || !GetSigned(&in, &min_start) ||
      !GetSigned(&in, &max_end))
    return Corrupt("meta header malformed");
  // Every entry takes at least one byte, so counts above the meta size are damage.
  if (rows > UINT32_MAX || traces > in.size() || blocks > in.size() || frames > in.size() || pieces > in.size())
    return Corrupt("meta counts out of range");
  row_count_ = rows;
  trace_count_ = traces;
  min_start_ns_ = min_start;
  max_end_ns_ = max_end;

  blocks_.resize(static_cast<size_t>(blocks));
  uint64_t next_row = 0;
  for (uint64_t i = 0; i < blocks; ++i) {
    Block& b = blocks_[i];
    std::string bn = "block " + std::to_string(i);
    uint64_t n, off, nchunks;
    if (!GetVarint64(&in, &n) || !GetVarint64(&in, &off) || !GetSigned(&in, &b.min_start) ||
        !GetSigned(&in, &b.max_start) || !GetSigned(&in, &b.min_end) || !GetSigned(&in, &b.max_end) || in.size() < 32)
      return Corrupt(bn + ": index entry malformed");
    b.min_trace = TraceKey::FromBytes(in.substr(0, 16));
    b.max_trace = TraceKey::FromBytes(in.substr(16, 16));
    in.remove_prefix(32);
    std::string_view s[4];
    for (auto& v : s)
      if (!GetLengthPrefixed(&in, &v)) return Corrupt(bn + ": index entry malformed");
    b.min_session = s[0];
    b.max_session = s[1];
    b.min_user = s[2];
    b.max_user = s[3];
    if (n == 0 || n > rows - next_row || off < kHeaderSize || off > data_end) return Corrupt(bn + ": rows or offset out of range");
    b.first_row = static_cast<uint32_t>(next_row);
    b.row_count = static_cast<uint32_t>(n);
    next_row += n;
    if (!GetVarint64(&in, &nchunks) || nchunks >= kColMax) return Corrupt(bn + ": chunk directory malformed");
    std::fill(std::begin(b.chunk_of), std::end(b.chunk_of), static_cast<int16_t>(-1));
    int last_id = 0;
    for (uint64_t c = 0; c < nchunks; ++c) {
      Chunk ch;
      uint64_t rel, nulls;
      if (in.size() < 1) return Corrupt(bn + ": chunk directory malformed");
      ch.id = static_cast<uint8_t>(in[0]);
      in.remove_prefix(1);
      if (!GetVarint64(&in, &rel) || !GetVarint64(&in, &ch.stored_len) || !GetVarint64(&in, &ch.raw_len) ||
          in.size() < 9)
        return Corrupt(bn + ": chunk directory malformed");
      ch.codec = static_cast<uint8_t>(in[0]);
      ch.checksum = DecodeFixed64(in.data() + 1);
      in.remove_prefix(9);
      if (!GetVarint64(&in, &nulls) || nulls > n) return Corrupt(bn + ": chunk directory malformed");
      ch.null_count = static_cast<uint32_t>(nulls);
      if (ch.id <= last_id || ch.id >= kColMax)
        return Corrupt(bn + ": unknown or out-of-order column id " + std::to_string(ch.id));
      last_id = ch.id;
      if (rel > data_end - off || ch.stored_len > data_end - off - rel || ch.raw_len > kMaxRawBytes)
        return Corrupt(bn + " column '" + std::string(ColumnName(ch.id)) + "': chunk outside the data section");
      ch.offset = off + rel;
      b.chunk_of[ch.id] = static_cast<int16_t>(b.chunks.size());
      b.chunks.push_back(ch);
    }
    if (b.chunk_of[kColTraceId] < 0 || b.chunk_of[kColSpanId] < 0)
      return Corrupt(bn + ": trace_id or span_id column missing");
    std::string_view blooms[3];
    for (auto& v : blooms)
      if (!GetLengthPrefixed(&in, &v)) return Corrupt(bn + ": bloom filters malformed");
    b.bloom_trace = blooms[0];
    b.bloom_session = blooms[1];
    b.bloom_user = blooms[2];
  }
  if (next_row != rows) return Corrupt("block row counts do not add up to the segment's rows");

  frames_.resize(static_cast<size_t>(frames));
  for (uint64_t i = 0; i < frames; ++i) {
    Frame& fr = frames_[i];
    uint64_t npieces;
    if (!GetVarint64(&in, &fr.offset) || !GetVarint64(&in, &fr.stored_len) || !GetVarint64(&in, &fr.raw_len) ||
        in.size() < 9)
      return Corrupt("payload frame " + std::to_string(i) + ": index entry malformed");
    fr.codec = static_cast<uint8_t>(in[0]);
    fr.checksum = DecodeFixed64(in.data() + 1);
    in.remove_prefix(9);
    if (!GetVarint64(&in, &npieces) || npieces > in.size() || piece_frame_.size() + npieces > pieces)
      return Corrupt("payload frame " + std::to_string(i) + ": piece count out of range");
    if (fr.offset < kHeaderSize || fr.offset > data_end || fr.stored_len > data_end - fr.offset ||
        fr.raw_len > kMaxRawBytes)
      return Corrupt("payload frame " + std::to_string(i) + ": outside the data section");
    uint64_t pos = 0;
    for (uint64_t p = 0; p < npieces; ++p) {
      uint64_t len;
      if (!GetVarint64(&in, &len) || len > fr.raw_len - pos)
        return Corrupt("payload frame " + std::to_string(i) + ": piece lengths exceed the frame");
      piece_frame_.push_back(static_cast<uint32_t>(i));
      piece_offset_.push_back(pos);
      piece_len_.push_back(static_cast<uint32_t>(len));
      pos += len;
    }
    if (pos != fr.raw_len) return Corrupt("payload frame " + std::to_string(i) + ": piece lengths do not fill it");
  }
  if (piece_frame_.size() != pieces) return Corrupt("payload piece count does not match the frames");

  uint64_t trace_row = 0;
  TraceKey prev;
  for (uint64_t i = 0; i < traces; ++i) {
    TraceEntry e;
    uint64_t count;
    int64_t dur;
    if (in.size() < 16) return Corrupt("trace table entry " + std::to_string(i) + " truncated");
    e.id = TraceKey::FromBytes(in.substr(0, 16));
    in.remove_prefix(16);
    if (!GetVarint64(&in, &count) || !GetLengthPrefixed(&in, &e.agg) || !GetSigned(&in, &e.start_ns) ||
        !GetSigned(&in, &dur))
      return Corrupt("trace table entry " + std::to_string(i) + " malformed");
    if (i > 0 && !(prev < e.id)) return Corrupt("trace table entry " + std::to_string(i) + " out of order");
    if (count > rows - trace_row) return Corrupt("trace table entry " + std::to_string(i) + " rows out of range");
    prev = e.id;
    e.first_row = static_cast<uint32_t>(trace_row);
    e.row_count = static_cast<uint32_t>(count);
    e.end_ns = static_cast<int64_t>(static_cast<uint64_t>(e.start_ns) + static_cast<uint64_t>(dur));
    trace_row += count;
    SL_RETURN_IF_ERROR(on_entry(e));
  }
  if (trace_row != rows) return Corrupt("trace table rows do not add up to the segment's rows");
  std::string_view blooms[3];
  for (auto& v : blooms)
    if (!GetLengthPrefixed(&in, &v)) return Corrupt("segment bloom filters malformed");
  trace_bloom_ = blooms[0];
  session_bloom_ = blooms[1];
  user_bloom_ = blooms[2];
  if (!in.empty()) return Corrupt("trailing bytes after the meta region");
  return Status::OK();
}

bool ColumnarReader::MayContainTrace(const TraceKey& id) const {
  return BloomMayContain(trace_bloom_, BloomHash(id));
}
bool ColumnarReader::MayContainSession(std::string_view s) const {
  return s.empty() || BloomMayContain(session_bloom_, BloomHash(s));
}
bool ColumnarReader::MayContainUser(std::string_view u) const {
  return u.empty() || BloomMayContain(user_bloom_, BloomHash(u));
}

bool ColumnarReader::BlockMayMatch(const Block& b, const BlockFilter& f) const {
  if (f.from_ns && b.max_end < *f.from_ns) return false;
  if (f.to_ns && b.min_start > *f.to_ns) return false;
  if (f.trace_id) {
    if (*f.trace_id < b.min_trace || b.max_trace < *f.trace_id) return false;
    if (!BloomMayContain(b.bloom_trace, BloomHash(*f.trace_id))) return false;
  }
  auto string_may = [](const std::optional<std::string>& want, const std::string& lo, const std::string& hi,
                       const std::string& bloom) {
    if (!want || want->empty()) return true;
    if (lo.empty() || *want < lo || *want > hi) return false;
    return BloomMayContain(bloom, BloomHash(*want));
  };
  return string_may(f.session_id, b.min_session, b.max_session, b.bloom_session) &&
         string_may(f.user_id, b.min_user, b.max_user, b.bloom_user);
}

BlockStats ColumnarReader::block_stats(uint32_t i) const {
  BlockStats s;
  if (i >= blocks_.size()) return s;
  const Block& b = blocks_[i];
  s.first_row = b.first_row;
  s.row_count = b.row_count;
  s.min_start_ns = b.min_start;
  s.max_start_ns = b.max_start;
  s.min_end_ns = b.min_end;
  s.max_end_ns = b.max_end;
  s.min_trace = b.min_trace;
  s.max_trace = b.max_trace;
  s.null_counts.assign(kColMax, b.row_count);
  for (const Chunk& c : b.chunks) {
    s.null_counts[c.id] = c.null_count;
    s.stored_bytes += c.stored_len;
  }
  return s;
}

std::vector<ColumnarReader::Region> ColumnarReader::regions() const {
  std::vector<Region> out;
  out.push_back({"header", 0, kHeaderSize});
  for (size_t i = 0; i < blocks_.size(); ++i)
    for (const Chunk& c : blocks_[i].chunks)
      out.push_back({"block " + std::to_string(i) + " column '" + std::string(ColumnName(c.id)) + "'", c.offset,
                     c.stored_len});
  for (size_t i = 0; i < frames_.size(); ++i)
    out.push_back({"payload frame " + std::to_string(i), frames_[i].offset, frames_[i].stored_len});
  out.push_back({"meta", meta_offset_, file_bytes_ - kTailSize - meta_offset_});
  out.push_back({"tail", file_bytes_ - kTailSize, kTailSize});
  return out;
}

uint64_t ColumnarReader::payload_stored_bytes() const {
  uint64_t n = 0;
  for (const Frame& f : frames_) n += f.stored_len;
  return n;
}

}  // namespace sightline::store::columnar
