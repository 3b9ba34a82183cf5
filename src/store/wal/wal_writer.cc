#include "store/wal/wal_writer.h"

#include <cstring>

#include "store/wal/wal_format.h"

namespace sightline::store::wal {
namespace {

void PutFixed32(std::string* out, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>(v >> (8 * i));
  out->append(b, 4);
}
void PutFixed64(std::string* out, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (8 * i));
  out->append(b, 8);
}

void AppendFragment(FragmentType type, std::string_view payload, std::string* out) {
  uint32_t crc = FragmentChecksum(type, payload);
  char h[kHeaderSize];
  for (int i = 0; i < 4; ++i) h[i] = static_cast<char>(crc >> (8 * i));
  h[4] = static_cast<char>(payload.size() & 0xff);
  h[5] = static_cast<char>(payload.size() >> 8);
  h[6] = static_cast<char>(type);
  out->append(h, kHeaderSize);
  out->append(payload);
}

}  // namespace

Result<std::unique_ptr<WalWriter>> WalWriter::Create(Env* env, const std::string& path, uint64_t file_number) {
  SL_ASSIGN_OR_RETURN(auto file, env->NewWritableFile(path));
  std::unique_ptr<WalWriter> w(new WalWriter(std::move(file), path, file_number));
  std::string payload(kMagic, sizeof(kMagic));
  PutFixed32(&payload, kFormatVersion);
  PutFixed64(&payload, file_number);
  PutFixed64(&payload, static_cast<uint64_t>(env->NowNanos()));
  std::string out;
  AppendFragment(FragmentType::kFileHeader, payload, &out);
  w->block_offset_ = out.size();
  w->encoded_size_ = out.size();
  SL_RETURN_IF_ERROR(w->Write(out));
  return w;
}

void WalWriter::EncodeRecord(std::string_view payload, std::string* out) {
  bool begin = true;
  do {
    size_t left_in_block = kBlockSize - block_offset_;
    if (left_in_block < kHeaderSize) {
      // Too small for a header: pad with zeros and start a new block.
      out->append(left_in_block, '\0');
      encoded_size_ += left_in_block;
      block_offset_ = 0;
      left_in_block = kBlockSize;
    }
    size_t avail = left_in_block - kHeaderSize;
    size_t n = payload.size() < avail ? payload.size() : avail;
    bool end = n == payload.size();
    FragmentType type = begin && end ? FragmentType::kFull
                        : begin      ? FragmentType::kFirst
                        : end        ? FragmentType::kLast
                                     : FragmentType::kMiddle;
    AppendFragment(type, payload.substr(0, n), out);
    payload.remove_prefix(n);
    block_offset_ += kHeaderSize + n;
    encoded_size_ += kHeaderSize + n;
    begin = false;
  } while (!payload.empty());
}

Status WalWriter::Write(std::string_view encoded) {
  SL_RETURN_IF_ERROR(file_->Append(encoded));
  written_size_ += encoded.size();
  return Status::OK();
}

Status WalWriter::AddRecord(std::string_view payload) {
  std::string out;
  EncodeRecord(payload, &out);
  return Write(out);
}

}  // namespace sightline::store::wal
